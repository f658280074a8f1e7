//! Identity over NATS, against a real nats-server started with the configuration `orderflow
//! nats-config` generated: who may connect, what each role's account may send, that the server's
//! word about the sender cannot be forged, that refused requests write nothing, and that a
//! department reads its own consumer only.

use std::collections::{BTreeMap, BTreeSet};

use async_nats::jetstream::consumer::pull;
use async_nats::HeaderMap;
use futures::StreamExt as _;
use orderflow::natsauth::DEPARTMENT_JS_API_PREFIX;
use orderflow_commands::{allowed_roles, Command};
use orderflow_schemas::{Department, OrderId};
use tokio::sync::mpsc;

use super::remote::{as_env, cli, code, stderr};
use super::*;
use crate::bus::open_log;
use crate::support::NatsServer;

/// The header the server sets on a request that crossed an import.
const REQUEST_INFO: &str = "Nats-Request-Info";

/// A client and the permission violations the server reported to it.
struct Watched {
    client: async_nats::Client,
    violations: mpsc::UnboundedReceiver<String>,
}

/// What became of a request: a reply, or the server's refusal to carry it.
#[derive(Debug)]
enum Outcome {
    Reply(Value),
    Violation(String),
}

impl Site {
    /// A client of `grant`'s person that reports the server's permission violations.
    async fn watched(&self, grant: Grant) -> Watched {
        let (user, password) = self.nats_user(grant);
        self.watch(user, password).await
    }

    /// A client of `user` that reports the server's permission violations.
    async fn watch(&self, user: String, password: String) -> Watched {
        let (tx, violations) = mpsc::unbounded_channel();
        let client = async_nats::ConnectOptions::new()
            .user_and_password(user.clone(), password)
            .custom_inbox_prefix(orderflow::natsauth::inbox_prefix(&user))
            .event_callback(move |event| {
                let tx = tx.clone();
                async move {
                    if let async_nats::Event::ServerError(e) = event {
                        let _ = tx.send(e.to_string());
                    }
                }
            })
            .connect(self.url())
            .await
            .unwrap_or_else(|e| panic!("connect as {user}: {e}"));
        Watched { client, violations }
    }
}

impl Watched {
    /// Sends a request (with `headers`) and waits for its reply or the server's violation
    /// naming its subject, whichever comes.
    async fn send(&mut self, subject: &str, body: Vec<u8>, headers: Option<HeaderMap>) -> Outcome {
        let mut req = async_nats::Request::new().payload(body.into()).timeout(Some(REPLY_TIMEOUT));
        if let Some(h) = headers {
            req = req.headers(h);
        }
        let quoted = format!("\"{subject}\"");
        let violations = &mut self.violations;
        let refused = async {
            loop {
                let text = violations.recv().await.expect("the event channel stays open");
                if text.contains("Permissions Violation") && text.contains(&quoted) {
                    return text;
                }
            }
        };
        tokio::select! {
            r = self.client.send_request(subject.to_string(), req) => {
                let m = r.unwrap_or_else(|e| panic!("request on {subject}: {e}"));
                Outcome::Reply(serde_json::from_slice(&m.payload).expect("JSON reply"))
            }
            text = refused => Outcome::Violation(text),
            () = tokio::time::sleep(REPLY_TIMEOUT) => panic!("neither a reply nor a violation on {subject}"),
        }
    }

    /// Waits for the violation naming `subject` (after something was sent there).
    async fn violation(&mut self, subject: &str) -> String {
        let quoted = format!("\"{subject}\"");
        tokio::time::timeout(REPLY_TIMEOUT, async {
            loop {
                let text = self.violations.recv().await.expect("the event channel stays open");
                if text.contains("Permissions Violation") && text.contains(&quoted) {
                    return text;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no permissions violation for {subject}"))
    }
}

/// A body of every command that the domain could accept (fields complete); approvals and
/// rejections for `department`.
fn command_json(name: &str, department: Department) -> Value {
    match name {
        "receive" => receive("Auth Test"),
        "approve" => json!({"command": "approve", "department": department}),
        "reject" => json!({"command": "reject", "department": department, "reason": "r"}),
        "confirm" => {
            json!({"command": "confirm", "promised_date": in_days(30), "expected_ship_date": in_days(30), "delivery_mode": "carrier", "confirmed_via": "phone"})
        }
        "change" => json!({"command": "change", "initiated_by": "customer", "reason": "r"}),
        "cancel" => json!({"command": "cancel", "initiated_by": "customer", "reason": "r"}),
        "schedule" => json!({"command": "schedule", "planned_finish": in_days(10)}),
        "inspect" => json!({"command": "inspect", "result": "pass"}),
        "complete" => json!({"command": "complete"}),
        "ship" => {
            json!({"command": "ship", "carrier": "DHL", "mode": "road", "tracking_number": "1", "eta": in_days(5)})
        }
        "delay" => json!({"command": "delay", "new_eta": in_days(9), "reason": "r"}),
        "deliver" => json!({"command": "deliver"}),
        "sign" => json!({"command": "sign", "signed_by": "x"}),
        "refuse" => json!({"command": "refuse", "refused_by": "x", "reason": "r"}),
        "complain" => json!({"command": "complain", "category": "quality", "severity": "low", "text": "t"}),
        "resolve" => {
            json!({"command": "resolve", "complaint_id": 1, "resolution": "r", "remedy": "replacement", "customer_satisfied": true})
        }
        "reopen" => json!({"command": "reopen", "complaint_id": 1, "reason": "r"}),
        "feedback" => json!({"command": "feedback", "score": 5}),
        "close" => json!({"command": "close"}),
        "hold" => json!({"command": "hold", "reason": "r"}),
        "release" => json!({"command": "release"}),
        "access" => json!({"command": "access", "access": "history"}),
        "access_refused" => json!({"command": "access_refused", "access": "history", "reason": "r"}),
        "approve_change" => json!({"command": "approve_change", "department": department.role()}),
        "decline_change" => {
            json!({"command": "decline_change", "department": department.role(), "reason": "r"})
        }
        "withdraw_change" => json!({"command": "withdraw_change", "reason": "r"}),
        "update_complaint" => {
            json!({"command": "update_complaint", "complaint_id": 1, "note": "n", "next_step": "s"})
        }
        "visit" => json!({"command": "visit", "method": "phone", "score": 4}),
        "mark_overdue" => json!({"command": "mark_overdue", "revision": 1, "department": department.role()}),
        other => panic!("no sample body for command {other}; add one"),
    }
}

/// The roles that may issue `name` with some body, by the domain's role table
/// (`orderflow_commands::allowed_roles`), independently of the generator.
fn roles_of(name: &str) -> BTreeSet<Role> {
    let mut bodies: Vec<Value> = Department::ALL.iter().map(|d| command_json(name, *d)).collect();
    // Change requests are decided by logistics too (it is no reviewing department).
    if matches!(name, "approve_change" | "decline_change") {
        let mut b = command_json(name, Department::Production);
        b["department"] = json!(Role::Logistics);
        bodies.push(b);
    }
    bodies
        .into_iter()
        .flat_map(|b| {
            let c: Command = serde_json::from_value(b).expect("a command");
            allowed_roles(&c).to_vec()
        })
        .collect()
}

/// Every command name a grant's account may send, by the role table.
fn table() -> BTreeMap<Grant, BTreeSet<&'static str>> {
    Grant::all()
        .into_iter()
        .map(|g| (g, Command::NAMES.iter().copied().filter(|n| roles_of(n).contains(&g.role())).collect()))
        .collect()
}

fn forged_info(acc: &str, user: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(REQUEST_INFO, json!({"acc": acc, "user": user}).to_string().as_str());
    h
}

/// Receives an order as sales; returns it.
async fn received(sales: &mut Watched) -> OrderId {
    let id = Uuid::new_v4();
    match sales.send("orderflow.cmd.receive", body(None, id, receive("Auth Co")), None).await {
        Outcome::Reply(r) => {
            ok(r);
        }
        other => panic!("receive: {other:?}"),
    }
    OrderId::for_receive(id)
}

fn reply(o: Outcome) -> Value {
    match o {
        Outcome::Reply(v) => v,
        Outcome::Violation(v) => panic!("expected a reply, got a violation: {v}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_forgeries_and_the_engine_account() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::new().await;
        let serve = site.serve(&[]).await;
        let mut sales = site.watched(Grant::Role(Role::Sales)).await;
        let mut finance = site.watched(Grant::Role(Role::Finance)).await;
        let mut production = site.watched(Grant::Role(Role::Production)).await;
        let order = received(&mut sales).await;
        let show = |order: OrderId| serde_json::to_vec(&json!({"order_id": order})).expect("json");

        // Finance approving for production: rejected by the role rule, nothing written.
        let id = Uuid::new_v4();
        let r = reply(finance.send("orderflow.cmd.approve", body(Some(order), id, approve("production")), None).await);
        assert!(error(&r, "rejected").contains("role finance may not issue \"approve\""), "{r}");
        // The same, with a header claiming production: the server replaced it.
        let forged = forged_info("PRODUCTION", "production@production");
        let r = reply(
            finance
                .send("orderflow.cmd.approve", body(Some(order), Uuid::new_v4(), approve("production")), Some(forged))
                .await,
        );
        assert!(error(&r, "rejected").contains("role finance may not issue \"approve\""), "{r}");
        let r = ok(reply(sales.send("orderflow.query.show", show(order), None).await));
        assert_eq!(r["version"], json!(1), "a refused approval wrote something: {r}");

        // Production may not even publish a shipment: the server refuses the publish.
        let ship = body(Some(order), Uuid::new_v4(), command_json("ship", Department::Production));
        match production.send("orderflow.cmd.ship", ship.clone(), None).await {
            Outcome::Violation(text) => assert!(text.contains("Publish"), "{text}"),
            other => panic!("production shipped: {other:?}"),
        }
        // The CLI says so at once, and that nothing was sent.
        let env = site.env(Grant::Role(Role::Production));
        let url = site.url();
        let o = cli(&["--nats", &url, "order", "ship", &order.to_string(), "--carrier", "DHL", "--tracking", "1"], &as_env(&env)).await;
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        assert!(stderr(&o).contains("refused to let this user publish on orderflow.cmd.ship"), "{}", stderr(&o));

        // A forged header from sales, claiming an admin: overwritten; the event names sales.
        let forged = forged_info("ADMIN", "admin@admin");
        let r = reply(
            sales
                .send(
                    "orderflow.cmd.access",
                    body(Some(order), Uuid::new_v4(), command_json("access", Department::Production)),
                    Some(forged),
                )
                .await,
        );
        ok(r);
        let history = ok(reply(sales.send("orderflow.query.history", show(order), None).await));
        let last = history["events"].as_array().and_then(|e| e.last()).cloned().expect("events");
        assert_eq!(last["type"], json!("archive_accessed"), "{last}");
        assert_eq!(last["actor"]["login"], json!("sales"), "{last}");
        assert_eq!(last["actor"]["role"], json!("sales"), "{last}");
        // An actor or user in the body is refused as an unknown field, nothing written.
        for extra in [json!({"actor": {"login": "root", "role": "admin"}}), json!({"user": "root"})] {
            let mut b = json!({"order_id": order, "command_id": Uuid::new_v4(), "command": {"command": "cancel", "initiated_by": "customer", "reason": "r"}});
            if let (Value::Object(b), Value::Object(extra)) = (&mut b, extra) {
                b.extend(extra);
            }
            let r = reply(sales.send("orderflow.cmd.cancel", serde_json::to_vec(&b).expect("json"), None).await);
            assert!(error(&r, "invalid").contains("unknown field"), "{r}");
        }
        let r = ok(reply(sales.send("orderflow.query.show", show(order), None).await));
        // The access, and the history read's own record: nothing else.
        assert_eq!(r["version"], json!(3), "only the accesses were written: {r}");

        // The engine's own user may not send requests into its service (nobody is stamped there).
        let mut engine = site.watch(orderflow::auth::ENGINE_NATS_USER.into(), site.engine_password().into()).await;
        match engine.send("orderflow.cmd.receive", body(None, Uuid::new_v4(), receive("X")), None).await {
            Outcome::Violation(_) => {}
            other => panic!("the engine's account sent a command: {other:?}"),
        }
        match engine.send("orderflow.query.status", b"{}".to_vec(), None).await {
            Outcome::Violation(_) => {}
            other => panic!("the engine's account sent a query: {other:?}"),
        }

        // Without credentials, or with a wrong password: no connection.
        let e = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(2))
            .connect(site.url())
            .await
            .expect_err("connected without credentials");
        assert!(e.to_string().contains("authorization violation"), "{e}");
        let e = async_nats::ConnectOptions::new()
            .user_and_password("sales@sales".into(), "not-the-password".into())
            .connection_timeout(Duration::from_secs(2))
            .connect(site.url())
            .await
            .expect_err("connected with a wrong password");
        assert!(e.to_string().contains("authorization violation"), "{e}");
        // Sales's password, but as a user of another account: no such user.
        let e = async_nats::ConnectOptions::new()
            .user_and_password("sales@admin".into(), password_of("sales"))
            .connection_timeout(Duration::from_secs(2))
            .connect(site.url())
            .await
            .expect_err("connected as a user of another account");
        assert!(e.to_string().contains("authorization violation"), "{e}");

        let (status, _) = serve.stop().await;
        assert!(status.success());
    })
    .await
    .expect("test timed out");
}

/// Without a generated configuration (a plain nats-server, one account), a request carries no
/// server word about its sender: refused forbidden, nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_the_servers_word_is_refused() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let nats = NatsServer::start();
        let work = tempfile::tempdir().expect("temp dir");
        let data = work.path().join("data");
        let d = data.to_str().expect("UTF-8");
        run_admin(&["--data-dir", d, "users", "bootstrap", "--admin", ADMIN.0], &format!("{}\n", ADMIN.1))
            .await;
        let head = {
            let log = open_log(&data);
            let h = log.head();
            log.close().expect("close");
            h
        };
        let serve = Serve::start(&nats.url(), &data, work.path(), &[]).await;
        let client = crate::support::connect(&nats).await;
        let id = Uuid::new_v4();
        let r = request(&client, "orderflow.cmd.receive", body(None, id, receive("X"))).await;
        assert!(error(&r, "forbidden").contains("did not say who sent this request"), "{r}");
        // Inside one account nobody replaces a header, so the service holds what it names
        // against the directory: a person who does not exist is refused. (With the generated
        // configuration nobody but the engine is in that account, and the engine may not send.)
        let mut h = HeaderMap::new();
        h.insert(REQUEST_INFO, json!({"acc": "SALES", "user": "mallory@sales"}).to_string().as_str());
        let m = client
            .request_with_headers("orderflow.cmd.receive", h, body(None, Uuid::new_v4(), receive("X")).into())
            .await
            .expect("reply");
        let r: Value = serde_json::from_slice(&m.payload).expect("JSON");
        assert!(error(&r, "forbidden").contains("there is no user mallory"), "{r}");
        let r = request(&client, "orderflow.query.status", b"{}".to_vec()).await;
        error(&r, "forbidden");
        let (status, _) = serve.stop().await;
        assert!(status.success());
        let log = open_log(&data);
        assert_eq!(log.head(), head, "a refused request wrote something");
        assert!(log.find_command(OrderId::for_receive(id).0, id).expect("find").is_none());
        log.close().expect("close");
    })
    .await
    .expect("test timed out");
}

/// Every (role, command) pair the role table allows can be sent through the role's account, and
/// no other: tried on the server, one request per grant and command name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_account_sends_exactly_its_roles_commands() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::new().await;
        let serve = site.serve(&[]).await;
        let table = table();
        let mut allowed_pairs = 0;
        for (grant, names) in &table {
            let mut c = site.watched(*grant).await;
            for name in Command::NAMES {
                let subject = format!("orderflow.cmd.{name}");
                // An empty object: the service answers it invalid; nothing can be written.
                match c.send(&subject, b"{}".to_vec(), None).await {
                    Outcome::Reply(r) => {
                        assert!(names.contains(name), "{grant} may not send {name}, yet got a reply: {r}");
                        error(&r, "invalid");
                        allowed_pairs += 1;
                    }
                    Outcome::Violation(v) => {
                        assert!(!names.contains(name), "{grant} may send {name}, yet the server refused: {v}")
                    }
                }
            }
            // Queries: every account.
            let r = reply(c.send("orderflow.query.status", b"{}".to_vec(), None).await);
            ok(r);
            // Nothing else: not the engine's JetStream API, not another inbox.
            c.client.publish("$JS.API.STREAM.INFO.ORDERFLOW", Bytes::new()).await.expect("publish");
            c.violation("$JS.API.STREAM.INFO.ORDERFLOW").await;
        }
        assert!(allowed_pairs >= 40, "only {allowed_pairs} allowed pairs");
        // The generated file says the same: each account's imports are exactly its commands.
        let text = std::fs::read_to_string(&site.config).expect("config");
        for (grant, names) in &table {
            let account = orderflow::auth::account_of(*grant);
            let start =
                text.find(&format!("\n  {account} {{")).unwrap_or_else(|| panic!("account {account}"));
            let end = text[start + 1..].find("\n  }").map(|e| start + 1 + e).expect("end of account");
            let block = &text[start..end];
            let imported: BTreeSet<&str> = block
                .match_indices("subject: \"orderflow.cmd.")
                .map(|(i, m)| {
                    let rest = &block[i + m.len()..];
                    &rest[..rest.find('"').expect("closing quote")]
                })
                .collect();
            assert_eq!(&imported, names, "{account}");
            // JetStream: the own department's consumer only, or nothing.
            let durables: BTreeSet<&str> = block
                .match_indices("orderflow-")
                .map(|(i, _)| {
                    let rest = &block[i..];
                    &rest[..rest.find(['"', '.']).expect("end of the name")]
                })
                .collect();
            let own: BTreeSet<String> = orderflow::natsauth::department_of(*grant)
                .map(|d| format!("orderflow-{d}"))
                .into_iter()
                .collect();
            let own: BTreeSet<&str> = own.iter().map(String::as_str).collect();
            assert_eq!(durables, own, "{account}");
        }
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&site.config).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "config mode {mode:o}");
        }
        let (status, _) = serve.stop().await;
        assert!(status.success());
    })
    .await
    .expect("test timed out");
}

/// A department binds to its own durable consumer (made by serve) through the imported subjects,
/// fetches and acknowledges; another department's consumer, creating one and the plain JetStream
/// API are out of reach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_reads_its_own_consumer_only() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::new().await;
        let serve = site.serve(&[]).await;
        let roles = site.load_clients().await;
        let id = Uuid::new_v4();
        ok(request(roles.of("sales"), "orderflow.cmd.receive", body(None, id, receive("Dept Co"))).await);
        let order = OrderId::for_receive(id);
        for d in REVIEWERS {
            ok(request(roles.of(d), "orderflow.cmd.approve", body(Some(order), Uuid::new_v4(), approve(d)))
                .await);
        }
        let mut finance = site.watched(Grant::Role(Role::Finance)).await;
        let js = async_nats::jetstream::ContextBuilder::new()
            .api_prefix(DEPARTMENT_JS_API_PREFIX)
            .timeout(Duration::from_secs(3))
            .build(finance.client.clone());
        let consumer: async_nats::jetstream::consumer::PullConsumer = js
            .get_consumer_from_stream("orderflow-finance", "ORDERFLOW")
            .await
            .expect("bind the own consumer");
        assert_eq!(consumer.cached_info().config.durable_name.as_deref(), Some("orderflow-finance"));
        // finance needs order_received and order_approved of this order (the filter is every
        // event; the rest is skipped by the client).
        let mut types = Vec::new();
        let deadline = Instant::now() + REPLY_TIMEOUT * 3;
        while !types.contains(&"order_approved".to_string()) {
            assert!(Instant::now() < deadline, "finance saw only {types:?}");
            let mut batch = consumer
                .fetch()
                .max_messages(64)
                .expires(Duration::from_millis(500))
                .messages()
                .await
                .expect("fetch through the import");
            while let Some(m) = batch.next().await {
                let m = m.expect("message");
                if let Some((t, o)) = orderflow::bus::subjects::parse_event_subject(m.subject.as_str()) {
                    if o == order.to_string() {
                        types.push(t.to_string());
                    }
                }
                m.ack().await.expect("ack through the import");
            }
        }
        assert!(types.contains(&"order_received".to_string()), "{types:?}");
        // Acknowledged: the consumer has nothing pending for us once JetStream took the acks (it
        // takes them asynchronously, after a later INFO may be answered).
        let mut consumer = consumer;
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            let info = consumer.info().await.expect("consumer info");
            if info.num_ack_pending == 0 && info.ack_floor.stream_sequence == info.delivered.stream_sequence {
                break;
            }
            assert!(Instant::now() < deadline, "the acks did not reach the consumer: {info:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(finance.violations.try_recv().is_err(), "acknowledging through the import was refused");

        // Another department's consumer: not imported, the publish is refused.
        let other =
            js.get_consumer_from_stream::<pull::Config, _, _>("orderflow-production", "ORDERFLOW").await;
        assert!(other.is_err(), "finance bound production's consumer");
        finance
            .violation(&format!("{DEPARTMENT_JS_API_PREFIX}.CONSUMER.INFO.ORDERFLOW.orderflow-production"))
            .await;
        // Making or widening a consumer: not imported either.
        let stream_js = js.get_stream_no_info("ORDERFLOW").await.expect("a stream handle");
        let made = stream_js
            .create_consumer(pull::Config { durable_name: Some("finance-wide".into()), ..Default::default() })
            .await;
        assert!(made.is_err(), "finance made a consumer");
        // The plain JetStream API is the account's own, which has no JetStream.
        let plain = async_nats::jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(3))
            .build(finance.client.clone());
        let e = plain
            .get_consumer_from_stream::<pull::Config, _, _>("orderflow-finance", "ORDERFLOW")
            .await
            .expect_err("the plain API reached the engine's account");
        assert!(!e.to_string().is_empty());

        // `orderflow consume` as the finance user binds the same way.
        let url = site.url();
        let env = site.env(Grant::Role(Role::Finance));
        let args = ["--nats", url.as_str(), "--json", "consume", "--dept", "finance"];
        let mut consume = Proc::spawn_env(&args, &env, site.work.path(), "consume-finance");
        let id = Uuid::new_v4();
        ok(request(roles.of("sales"), "orderflow.cmd.receive", body(None, id, receive("Later Co"))).await);
        let line = consume
            .next_line(REPLY_TIMEOUT * 3)
            .await
            .unwrap_or_else(|| panic!("consume printed nothing; stderr:\n{}", consume.stderr()));
        assert!(line.contains(&OrderId::for_receive(id).to_string()), "{line}");
        consume.terminate();
        assert_eq!(consume.wait_exit(EXIT_TIMEOUT).await.code(), Some(0));
        // Another department's, as the finance user: refused at once, exit 3.
        let args = ["--nats", url.as_str(), "consume", "--dept", "production"];
        let mut wrong = Proc::spawn_env(&args, &env, site.work.path(), "consume-wrong");
        assert_eq!(wrong.wait_exit(EXIT_TIMEOUT).await.code(), Some(3), "{}", wrong.stderr());
        assert!(wrong.stderr().contains("reads the consumer of finance only"), "{}", wrong.stderr());

        let (status, _) = serve.stop().await;
        assert!(status.success());
    })
    .await
    .expect("test timed out");
}

/// A disabled user loses their NATS user when the configuration is generated again and the
/// server reloads it; `nats-config` refuses an existing file without --force and a non-admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regenerating_after_a_change_of_users_takes_effect_on_reload() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let mut site = Site::with_grants(&[Grant::Role(Role::Sales), Grant::Role(Role::Finance)]).await;
        let d = site.data.to_str().expect("UTF-8").to_string();
        let conf = site.config.to_str().expect("UTF-8").to_string();
        let connected = site.client(Grant::Role(Role::Sales)).await;
        let before = std::fs::read_to_string(&site.config).expect("config");
        assert!(before.contains("\"sales@sales\""), "{before}");

        // Refused: an existing file without --force; a non-admin.
        let o = cli(
            &["--data-dir", &d, "nats-config", "--out", &conf],
            &[("ORDERFLOW_USER", ADMIN.0), ("ORDERFLOW_PASSWORD", ADMIN.1)],
        )
        .await;
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        assert!(stderr(&o).contains("exists"), "{}", stderr(&o));
        let sales_login = super::remote::local_login(Grant::Role(Role::Sales));
        let other = site.work.path().join("other.conf");
        let o = cli(
            &["--data-dir", &d, "nats-config", "--out", other.to_str().expect("UTF-8")],
            &as_env(&sales_login),
        )
        .await;
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        assert!(stderr(&o).contains("admin"), "{}", stderr(&o));
        assert!(!other.exists());
        assert_eq!(std::fs::read_to_string(&site.config).expect("config"), before);

        run_admin(&["--data-dir", &d, "users", "disable", "sales", "--reason", "left"], "").await;
        let store = site.work.path().join("jetstream-store");
        let store = store.to_str().expect("UTF-8");
        run_admin(&["--data-dir", &d, "nats-config", "--out", &conf, "--force", "--store-dir", store], "")
            .await;
        let after = std::fs::read_to_string(&site.config).expect("config");
        assert!(!after.contains("sales@sales"), "a disabled user kept a NATS user:\n{after}");
        assert!(after.contains("\"finance@finance\""));
        site.nats.reload();
        // The connection made before is closed by the server and cannot come back.
        let deadline = Instant::now() + REPLY_TIMEOUT;
        while connected.connection_state() == async_nats::connection::State::Connected {
            assert!(Instant::now() < deadline, "a disabled user's connection survived the reload");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let e = async_nats::ConnectOptions::new()
            .user_and_password("sales@sales".into(), password_of("sales"))
            .connection_timeout(Duration::from_secs(2))
            .connect(site.url())
            .await
            .expect_err("a disabled user connected after the reload");
        assert!(e.to_string().contains("authorization violation"), "{e}");
        site.client(Grant::Role(Role::Finance)).await;
    })
    .await
    .expect("test timed out");
}

/// What a forger adds to a request.
#[derive(Clone, Copy, Debug)]
enum Forgery {
    None,
    BodyActor,
    BodyUser,
    CommandActor,
    HeaderAdmin,
    HeaderOtherRole,
    HeaderGarbage,
}

const FORGERIES: [Forgery; 7] = [
    Forgery::None,
    Forgery::BodyActor,
    Forgery::BodyUser,
    Forgery::CommandActor,
    Forgery::HeaderAdmin,
    Forgery::HeaderOtherRole,
    Forgery::HeaderGarbage,
];

/// What the rules say of one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// The server refuses the publish.
    Violation,
    /// `invalid`: a field that is not one.
    Invalid,
    /// `rejected`: the role may not issue this command (with this body).
    NotPermitted,
    /// `rejected`: the order does not exist (the role was fine).
    NotFound,
    /// Done: one event.
    Done,
}

/// Attempts of the randomised campaign.
const ATTEMPTS: usize = 1000;
/// Its seed.
const SEED: u64 = 0x0a11_ce5e_ed00_0011;

/// ~1000 randomised attempts through NATS (grant, command, forged body fields and headers): each
/// is refused exactly when the rules say, and a refused one writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn randomised_attempts_are_refused_exactly_by_the_rules() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::new().await;
        let serve = site.serve(&[]).await;
        let table = table();
        let grants = Grant::all();
        let mut clients = Vec::new();
        for g in &grants {
            clients.push(site.watched(*g).await);
        }
        let sales_at = grants.iter().position(|g| *g == Grant::Role(Role::Sales)).expect("sales");
        let order = received(&mut clients[sales_at]).await;
        let mut written = 1u64;
        let mut refused: Vec<(OrderId, Uuid)> = Vec::new();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut rng = orderflow::rng::Rng::new(SEED);
        for n in 0..ATTEMPTS {
            let gi = rng.below(grants.len());
            let grant = grants[gi];
            let names = &table[&grant];
            // Half from the role's own commands, so that the deeper rules get exercised.
            let name: &str = if rng.below(2) == 0 {
                names.iter().nth(rng.below(names.len())).copied().expect("a name")
            } else {
                Command::NAMES[rng.below(Command::NAMES.len())]
            };
            let department = Department::ALL[rng.below(Department::ALL.len())];
            let forgery = FORGERIES[rng.below(FORGERIES.len())];
            let command_id = Uuid::new_v4();
            let (target, order_id) = match name {
                "receive" => (OrderId::for_receive(command_id), None),
                "access" => (order, Some(order)),
                _ => {
                    let nobody = OrderId(Uuid::new_v4());
                    (nobody, Some(nobody))
                }
            };
            let mut command = command_json(name, department);
            let mut b = json!({"order_id": order_id, "command_id": command_id, "command": command.clone()});
            let mut headers = None;
            match forgery {
                Forgery::None => {}
                Forgery::BodyActor => b["actor"] = json!({"login": "root", "role": "admin"}),
                Forgery::BodyUser => b["user"] = json!("root"),
                Forgery::CommandActor => {
                    command["actor"] = json!("root");
                    b["command"] = command;
                }
                Forgery::HeaderAdmin => headers = Some(forged_info("ADMIN", "admin@admin")),
                Forgery::HeaderOtherRole => {
                    let other = grants[rng.below(grants.len())];
                    let (user, _) = site.nats_user(other);
                    headers = Some(forged_info(&orderflow::auth::account_of(other), &user));
                }
                Forgery::HeaderGarbage => {
                    let mut h = HeaderMap::new();
                    h.insert(REQUEST_INFO, "not json {");
                    headers = Some(h);
                }
            }
            let expect = if !names.contains(name) {
                Expect::Violation
            } else if matches!(forgery, Forgery::BodyActor | Forgery::BodyUser | Forgery::CommandActor) {
                Expect::Invalid
            } else if matches!(name, "receive" | "access") {
                Expect::Done
            } else if matches!(name, "approve" | "reject" | "approve_change" | "decline_change")
                && department.role() != grant.role()
            {
                Expect::NotPermitted
            } else {
                Expect::NotFound
            };
            let subject = format!("orderflow.cmd.{name}");
            let outcome = clients[gi].send(&subject, serde_json::to_vec(&b).expect("json"), headers).await;
            let what = format!("attempt {n}: {grant} {name} ({department}) {forgery:?}");
            let got = match &outcome {
                Outcome::Violation(_) => Expect::Violation,
                Outcome::Reply(r) if r["ok"] == json!(true) => Expect::Done,
                Outcome::Reply(r) => {
                    let kind = r["error"].as_str().unwrap_or_default();
                    let message = r["message"].as_str().unwrap_or_default();
                    match kind {
                        "invalid" if message.contains("unknown field") => Expect::Invalid,
                        "rejected" if message.contains("may not issue") => Expect::NotPermitted,
                        "rejected" if message.contains("does not exist") => Expect::NotFound,
                        _ => panic!("{what}: unexpected reply {r}"),
                    }
                }
            };
            assert_eq!(got, expect, "{what}: {outcome:?}");
            *seen.entry(format!("{expect:?}")).or_default() += 1;
            match (&outcome, expect) {
                (Outcome::Reply(r), Expect::Done) => {
                    written += r["events"].as_array().map_or(0, |e| e.len() as u64);
                }
                _ => refused.push((target, command_id)),
            }
        }
        for kind in ["Violation", "Invalid", "NotPermitted", "NotFound", "Done"] {
            assert!(seen.get(kind).copied().unwrap_or(0) >= 10, "too few {kind}: {seen:?}");
        }
        let (status, _) = serve.stop().await;
        assert!(status.success());
        let log = open_log(&site.data);
        assert_eq!(log.head(), site.base + written, "refused attempts wrote something ({seen:?})");
        for (target, command_id) in &refused {
            assert!(
                log.find_command(target.0, *command_id).expect("find").is_none(),
                "refused {command_id} is in the log"
            );
        }
        log.close().expect("close");
    })
    .await
    .expect("test timed out");
}
