//! The command service: the built binary run as `orderflow serve` (and `orderflow consume`, and
//! `orderflow --nats URL order ...`) against a real nats-server, driven by request-reply.

mod auth;
mod consume;
mod crash;
mod deadlines;
mod reads;
mod remote;
mod requests;
mod schemas;
mod shutdown;

use std::collections::HashSet;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::Context;
use bytes::Bytes;
use orderflow::bus::subjects::EventHeaders;
use orderflow_engine::EventLog;
use orderflow_schemas::{Grant, OrderId, Role};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::bus::all_events;
use crate::support::NatsServer;

/// The admin of every test site, and their password.
pub(crate) const ADMIN: (&str, &str) = ("root", "root-secret-1");

/// The login of the test person holding `grant` alone: the role's word (`customer_service`), or
/// `head-<role>` for a department head.
pub(crate) fn login_of(grant: Grant) -> String {
    match grant {
        Grant::Role(r) => r.as_str().to_string(),
        Grant::DeptHead(r) => format!("head-{}", r.as_str()),
    }
}

/// Their password.
pub(crate) fn password_of(login: &str) -> String {
    format!("pw-{login}-secret")
}

/// One site of the service, set up as an operator would (README, "Users and NATS, in order"):
/// a data directory bootstrapped by the binary with an admin and one person per grant
/// (`users add`), `nats-config`, then nats-server with that configuration. `serve` is started by
/// the test ([`Site::serve`]); clients connect as a grant's person ([`Site::client`]) or as the
/// engine ([`Site::engine`]).
pub(crate) struct Site {
    pub(crate) work: tempfile::TempDir,
    pub(crate) data: PathBuf,
    pub(crate) config: PathBuf,
    pub(crate) nats: NatsServer,
    engine_password: String,
    /// The log's head once the site is set up (the directory's events come first).
    pub(crate) base: u64,
}

/// Runs `orderflow ARGS` with `stdin` (and the admin logged in), asserting exit 0.
pub(crate) async fn run_admin(args: &[&str], stdin: &str) -> String {
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new(BIN)
        .args(args)
        .env("ORDERFLOW_USER", ADMIN.0)
        .env("ORDERFLOW_PASSWORD", ADMIN.1)
        .env_remove("ORDERFLOW_NATS_URL")
        .env_remove("ORDERFLOW_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.expect("write stdin");
    drop(input);
    let out = tokio::time::timeout(EXIT_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("orderflow {} took too long", args.join(" ")))
        .expect("run orderflow");
    assert!(
        out.status.success(),
        "orderflow {} exited with {}: {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Site {
    /// A site with a person for every grant ([`Grant::all`]).
    pub(crate) async fn new() -> Self {
        Self::with_grants(&Grant::all()).await
    }

    /// A site with a person for each of `grants`.
    pub(crate) async fn with_grants(grants: &[Grant]) -> Self {
        let work = tempfile::tempdir().expect("temp dir");
        let data = work.path().join("data");
        let d = data.to_str().expect("UTF-8 path").to_string();
        run_admin(&["--data-dir", &d, "users", "bootstrap", "--admin", ADMIN.0], &format!("{}\n", ADMIN.1))
            .await;
        for &g in grants {
            let login = login_of(g);
            let role = g.to_string();
            let name = format!("Test {login}");
            run_admin(
                &[
                    "--data-dir",
                    &d,
                    "users",
                    "add",
                    &login,
                    "--name",
                    &name,
                    "--role",
                    &role,
                    "--password-stdin",
                ],
                &format!("{}\n", password_of(&login)),
            )
            .await;
        }
        let config = work.path().join("nats.conf");
        let store = work.path().join("jetstream-store");
        run_admin(
            &[
                "--data-dir",
                &d,
                "nats-config",
                "--out",
                config.to_str().expect("UTF-8"),
                "--store-dir",
                store.to_str().expect("UTF-8"),
            ],
            "",
        )
        .await;
        // The engine's password, as serve reads it (the directory is not held yet).
        let (engine_password, base) = {
            let app = orderflow::app::App::open_existing(&data).expect("open the data directory");
            let p = app.auth().secrets().engine_nats_password().expect("engine password");
            let base = app.log().head();
            app.close().expect("close");
            (p, base)
        };
        let nats = NatsServer::start_with_config(&config);
        Self { work, data, config, nats, engine_password, base }
    }

    /// `nats://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        self.nats.url()
    }

    /// The engine's NATS password (from the data directory's secrets).
    pub(crate) fn engine_password(&self) -> &str {
        &self.engine_password
    }

    /// The NATS user of `grant`'s test person and its password.
    pub(crate) fn nats_user(&self, grant: Grant) -> (String, String) {
        let login = login_of(grant);
        (orderflow::auth::nats_user_of(&login, grant), password_of(&login))
    }

    /// The environment a CLI run needs to act as `grant`'s person over NATS.
    pub(crate) fn env(&self, grant: Grant) -> Vec<(&'static str, String)> {
        let (user, password) = self.nats_user(grant);
        vec![("ORDERFLOW_NATS_USER", user), ("ORDERFLOW_NATS_PASSWORD", password)]
    }

    /// Connection options for `user` with its private inbox, reconnecting quickly.
    fn options(user: &str, password: &str) -> async_nats::ConnectOptions {
        async_nats::ConnectOptions::new()
            .user_and_password(user.to_string(), password.to_string())
            .custom_inbox_prefix(orderflow::natsauth::inbox_prefix(user))
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis(50 * u64::try_from(attempts.min(10)).unwrap_or(10))
            })
            .connection_timeout(Duration::from_secs(2))
    }

    /// A client connected as `grant`'s person.
    pub(crate) async fn client(&self, grant: Grant) -> async_nats::Client {
        let (user, password) = self.nats_user(grant);
        Self::options(&user, &password)
            .connect(self.url())
            .await
            .unwrap_or_else(|e| panic!("connect as {user}: {e}"))
    }

    /// A client of the engine's own account (JetStream, `$SRV`): what `serve` connects as.
    pub(crate) async fn engine(&self) -> async_nats::Client {
        Self::options(orderflow::auth::ENGINE_NATS_USER, &self.engine_password)
            .connect(self.url())
            .await
            .expect("connect as the engine")
    }

    /// Clients of the roles a [`Load`] needs: sales and the four reviewers.
    pub(crate) async fn load_clients(&self) -> Clients {
        let mut out = Clients::default();
        for r in [Role::Sales, Role::Production, Role::Procurement, Role::Finance, Role::Warehouse] {
            out.0.insert(r.as_str().to_string(), self.client(Grant::Role(r)).await);
        }
        out
    }

    /// Starts `orderflow serve` on the site's data directory (it connects as the engine).
    pub(crate) async fn serve(&self, extra: &[&str]) -> Serve {
        Serve::start(&self.url(), &self.data, self.work.path(), extra).await
    }
}

/// Clients by role word: commands go out as the role that may issue them.
#[derive(Clone, Default)]
pub(crate) struct Clients(pub(crate) std::collections::BTreeMap<String, async_nats::Client>);

impl Clients {
    /// The client of `role`.
    pub(crate) fn of(&self, role: &str) -> &async_nats::Client {
        self.0.get(role).unwrap_or_else(|| panic!("no client of role {role}"))
    }

    /// The client that sends `subject` with `body`: approvals go as their department's role,
    /// everything else as sales.
    pub(crate) fn for_command(&self, subject: &str, body: &[u8]) -> &async_nats::Client {
        if subject.ends_with(".approve") || subject.ends_with(".reject") {
            let v: Value = serde_json::from_slice(body).expect("JSON body");
            return self.of(v["command"]["department"].as_str().expect("department"));
        }
        self.of("sales")
    }
}

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_orderflow");
/// Every service test finishes within this or fails.
pub(crate) const TEST_TIMEOUT: Duration = Duration::from_secs(180);
/// How long `serve` may take to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopped process may take to exit.
pub(crate) const EXIT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a test waits for one reply.
pub(crate) const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// Lines of a child's standard output kept unread at most.
const LINES_QUEUED_MAX: usize = 65_536;
/// How often a waiting test looks again.
const POLL_EVERY: Duration = Duration::from_millis(20);

/// A child process of the binary: standard output read line by line, standard error in a file.
pub(crate) struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr_path: PathBuf,
    what: String,
}

impl Proc {
    /// Starts `orderflow ARGS` with `ORDERFLOW_LOG=info`; `name` names its stderr file in `work`.
    pub(crate) fn spawn(args: &[&str], work: &Path, name: &str) -> Self {
        Self::spawn_env(args, &[], work, name)
    }

    /// [`Proc::spawn`] with more environment variables (NATS credentials).
    pub(crate) fn spawn_env(args: &[&str], env: &[(&str, String)], work: &Path, name: &str) -> Self {
        let stderr_path = work.join(format!("{name}.stderr"));
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut child = Command::new(BIN)
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("ORDERFLOW_LOG", "info")
            .env_remove("ORDERFLOW_NATS_URL")
            .env_remove("ORDERFLOW_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel(LINES_QUEUED_MAX);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.blocking_send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, lines, stderr_path, what: format!("orderflow {}", args.join(" ")) }
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its standard error so far.
    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// The next line of standard output, within `timeout`.
    pub(crate) async fn next_line(&mut self, timeout: Duration) -> Option<String> {
        tokio::time::timeout(timeout, self.lines.recv()).await.ok().flatten()
    }

    /// SIGKILL (std's `Child::kill`), then waits for it.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, through `kill -TERM <pid>` (no unsafe code in this workspace).
    pub(crate) fn terminate(&self) {
        let status =
            Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().expect("run kill -TERM");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// Waits for it to exit, at most `timeout`.
    pub(crate) async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                started.elapsed() < timeout,
                "{} did not exit within {timeout:?}; stderr:\n{}",
                self.what,
                self.stderr()
            );
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

/// Bytes of a child's standard error shown when a test fails.
const STDERR_SHOWN_MAX: usize = 8192;

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let text = self.stderr();
            let start = text.len().saturating_sub(STDERR_SHOWN_MAX);
            let start = (start..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
            eprintln!("--- {} (pid {}), end of stderr ---\n{}", self.what, self.pid(), &text[start..]);
        }
    }
}

/// `orderflow serve` on a data directory.
pub(crate) struct Serve {
    pub(crate) proc: Proc,
    /// Its first line.
    pub(crate) ready: String,
}

impl Serve {
    /// Starts `orderflow --nats URL --data-dir DATA serve EXTRA` and waits for its ready line.
    pub(crate) async fn start(url: &str, data: &Path, work: &Path, extra: &[&str]) -> Self {
        let data = data.to_str().expect("UTF-8 path");
        let mut args = vec!["--nats", url, "--data-dir", data, "serve"];
        args.extend_from_slice(extra);
        let n = std::fs::read_dir(work).map(|d| d.count()).unwrap_or(0);
        let mut proc = Proc::spawn(&args, work, &format!("serve-{n}"));
        let ready = proc.next_line(READY_TIMEOUT).await.unwrap_or_default();
        assert!(
            ready.starts_with("orderflow serve: ready on "),
            "serve did not get ready (first line {ready:?}); stderr:\n{}",
            proc.stderr()
        );
        Self { proc, ready }
    }

    /// SIGTERM, then the exit status and the rest of its output.
    pub(crate) async fn stop(mut self) -> (ExitStatus, Vec<String>) {
        self.proc.terminate();
        let status = self.proc.wait_exit(EXIT_TIMEOUT).await;
        let mut rest = Vec::new();
        while let Some(line) = self.proc.next_line(Duration::from_secs(1)).await {
            rest.push(line);
        }
        (status, rest)
    }
}

/// Sends a request and parses the JSON reply.
pub(crate) async fn request(client: &async_nats::Client, subject: &str, body: impl Into<Bytes>) -> Value {
    let reply = tokio::time::timeout(REPLY_TIMEOUT, client.request(subject.to_string(), body.into()))
        .await
        .unwrap_or_else(|_| panic!("no reply on {subject} in time"))
        .unwrap_or_else(|e| panic!("request on {subject}: {e}"));
    serde_json::from_slice(&reply.payload).unwrap_or_else(|e| panic!("reply on {subject} is not JSON: {e}"))
}

/// A command body.
pub(crate) fn body(order: Option<OrderId>, command_id: Uuid, command: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "order_id": order, "command_id": command_id, "command": command }))
        .expect("json")
}

/// The JSON of a `receive` command.
pub(crate) fn receive(customer: &str) -> Value {
    json!({
        "command": "receive", "channel": "phone", "customer": customer, "contact": "buyer@example.com",
        "lines": [{"sku": "MILK-1L", "quantity": 10, "unit": "pcs", "unit_price_minor": 1890}],
        "currency": "EUR", "requested_date": in_days(60), "delivery_address": "Dock 1",
    })
}

/// The JSON of an `approve` command.
pub(crate) fn approve(department: &str) -> Value {
    json!({ "command": "approve", "department": department })
}

/// The four reviewing departments.
pub(crate) const REVIEWERS: [&str; 4] = ["production", "procurement", "finance", "warehouse"];

/// A date `days` from today, as text.
pub(crate) fn in_days(days: i32) -> String {
    orderflow::app::now().date().plus_days(days).to_string()
}

/// Asserts an `ok` reply and returns it.
pub(crate) fn ok(reply: Value) -> Value {
    assert_eq!(reply["ok"], json!(true), "not ok: {reply}");
    reply
}

/// Asserts an error reply of `kind` with the CLI's exit code and returns its message.
pub(crate) fn error(reply: &Value, kind: &str) -> String {
    let code = match kind {
        "conflict" => 4,
        "failure" => 1,
        _ => 3,
    };
    assert_eq!(reply["ok"], json!(false), "not an error: {reply}");
    assert_eq!(reply["error"], json!(kind), "{reply}");
    assert_eq!(reply["exit_code"], json!(code), "{reply}");
    reply["message"].as_str().expect("message").to_string()
}

/// One command sent by [`Load`]: its subject and body, and its reply when one came.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub(crate) subject: String,
    pub(crate) body: Vec<u8>,
    pub(crate) order: OrderId,
    pub(crate) command_id: Uuid,
    pub(crate) reply: Option<Value>,
    /// Why there is no reply.
    pub(crate) error: Option<String>,
}

/// Clients streaming order lifecycles (receive, then the four approvals) at the service, until
/// stopped. A command without a reply (no responder, timeout) ends its client: so each client
/// leaves at most one command whose fate is unknown.
pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    sent: Arc<Mutex<Vec<Sent>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// How long a load client waits for a reply: long enough for a debug build on a machine busy with
/// the other tests; requests sent to a killed or stopped server fail at once (no responders).
const LOAD_REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// Orders one load client works through at most.
const LOAD_ORDERS_MAX: usize = 10_000;

impl Load {
    pub(crate) fn start(roles: &Clients, clients: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
        let tasks = (0..clients)
            .map(|c| {
                let (roles, stop, sent) = (roles.clone(), Arc::clone(&stop), Arc::clone(&sent));
                tokio::spawn(async move {
                    for n in 0..LOAD_ORDERS_MAX {
                        let receive_id = Uuid::new_v4();
                        let order = OrderId::for_receive(receive_id);
                        let mut steps =
                            vec![("receive", None, receive_id, receive(&format!("Load {c}/{n}")))];
                        for d in REVIEWERS {
                            steps.push(("approve", Some(order), Uuid::new_v4(), approve(d)));
                        }
                        for (name, order_id, command_id, command) in steps {
                            if stop.load(Ordering::Relaxed) {
                                return;
                            }
                            let subject = format!("orderflow.cmd.{name}");
                            let body = body(order_id, command_id, command);
                            let req = async_nats::Request::new()
                                .payload(body.clone().into())
                                .timeout(Some(LOAD_REPLY_TIMEOUT));
                            let client = roles.for_command(&subject, &body);
                            let (reply, error) = match client.send_request(subject.clone(), req).await {
                                Ok(m) => {
                                    let r: Value = serde_json::from_slice(&m.payload).expect("JSON reply");
                                    assert_eq!(r["ok"], json!(true), "{subject}: {r}");
                                    (Some(r), None)
                                }
                                Err(e) => (None, Some(e.to_string())),
                            };
                            let answered = reply.is_some();
                            sent.lock().expect("lock").push(Sent {
                                subject,
                                body,
                                order,
                                command_id,
                                reply,
                                error,
                            });
                            if !answered {
                                return;
                            }
                        }
                    }
                })
            })
            .collect();
        Self { stop, sent, tasks }
    }

    /// Commands acknowledged so far.
    pub(crate) fn acked(&self) -> usize {
        self.sent.lock().expect("lock").iter().filter(|s| s.reply.is_some()).count()
    }

    /// Waits until `n` commands are acknowledged.
    pub(crate) async fn wait_acked(&self, n: usize) {
        let waited = tokio::time::timeout(TEST_TIMEOUT / 3, async {
            while self.acked() < n {
                if self.tasks.iter().any(|t| t.is_finished()) {
                    let errors: Vec<String> =
                        self.sent.lock().expect("lock").iter().filter_map(|s| s.error.clone()).collect();
                    panic!("a load client stopped early: {errors:?}");
                }
                tokio::time::sleep(POLL_EVERY).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "only {} of {n} commands acknowledged in time", self.acked());
    }

    /// Stops the clients and returns every command they sent.
    pub(crate) async fn stop(self) -> Vec<Sent> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.expect("load client");
        }
        let sent = std::mem::take(&mut *self.sent.lock().expect("lock"));
        sent
    }
}

/// Every acknowledged command is in the log, with its reply's position and version.
pub(crate) fn check_acknowledged_in_log(log: &EventLog, sent: &[Sent]) {
    for s in sent {
        let Some(reply) = &s.reply else { continue };
        let commit = log
            .find_command(s.order.0, s.command_id)
            .expect("find command")
            .unwrap_or_else(|| panic!("acknowledged {} of order {} is not in the log", s.subject, s.order));
        assert_eq!(json!(commit.first_position), reply["first_position"], "{}", s.subject);
        assert_eq!(json!(commit.last_version()), reply["version"], "{}", s.subject);
    }
}

/// The stream holds exactly the log's events, once each, in log order: message count = last
/// sequence = log head, and message `n` is the log's event at position `n` (same event id).
pub(crate) async fn check_stream_is_log(js: &Context, log: &EventLog) {
    let stream = js.get_stream("ORDERFLOW").await.expect("stream");
    let info = stream.get_info().await.expect("stream info");
    let events = all_events(log);
    assert_eq!(info.state.messages, log.head(), "stream message count vs log head");
    assert_eq!(info.state.last_sequence, log.head(), "stream last sequence vs log head");
    let mut ids = HashSet::new();
    for e in &events {
        let m = stream.get_raw_message(e.position).await.expect("message");
        let h = EventHeaders::parse(&m.headers).expect("headers");
        assert_eq!((h.position, h.event_id), (e.position, e.event_id), "stream sequence {}", e.position);
        assert!(ids.insert(h.event_id), "event {} twice in the stream", h.event_id);
    }
}

/// A read's output with the traces of the archive reads recorded since removed: the
/// `archive_accessed` lines, and the order versions they moved on (`version N`, `"version":N`).
/// A history read is recorded before it is answered, so the same read run twice differs by them.
pub(crate) fn without_recorded_reads(out: &str) -> String {
    let mut text = String::new();
    for line in out.lines().filter(|l| !l.contains("archive_accessed")) {
        let mut rest = line;
        while let Some(i) = rest.find("version") {
            let (head, tail) = rest.split_at(i + "version".len());
            text.push_str(head);
            let digits_at = tail
                .find(|c: char| c.is_ascii_digit())
                .filter(|&d| tail[..d].chars().all(|c| c == ' ' || c == '"' || c == ':'));
            match digits_at {
                Some(d) => {
                    text.push_str(&tail[..d]);
                    text.push('N');
                    let after = &tail[d..];
                    rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
                }
                None => rest = tail,
            }
        }
        text.push_str(rest);
        text.push('\n');
    }
    text
}
