//! (a) Commands and queries by request-reply against the built `orderflow serve`: the happy path,
//! duplicates, rejections naming the rule, every kind of bad body (answered `invalid`, nothing
//! written, the server keeps answering), queries, concurrency, and the micro-service verbs.

use orderflow_schemas::OrderId;
use serde_json::{json, Value};
use uuid::Uuid;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_queries_and_bad_bodies() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::new().await;
        let serve = site.serve(&[]).await;
        let roles = site.load_clients().await;
        let client = roles.of("sales").clone();
        let logistics = site.client(Grant::Role(Role::Logistics)).await;
        let engine = site.engine().await;
        // The directory's events come first in the log.
        let base = site.base;

        // Happy path: receive (order id derived from the command id), then the four approvals.
        let receive_id = Uuid::new_v4();
        let order = OrderId::for_receive(receive_id);
        let receive_body = body(None, receive_id, receive("Acme Dairy"));
        let r = ok(request(&client, "orderflow.cmd.receive", receive_body.clone()).await);
        assert_eq!(r["order_id"], json!(order));
        assert_eq!(r["command"], json!("receive"));
        assert_eq!(r["command_id"], json!(receive_id));
        assert_eq!(r["events"], json!(["order_received"]));
        assert_eq!((r["first_position"].clone(), r["version"].clone()), (json!(base + 1), json!(1)));
        assert_eq!(r["duplicate"], json!(false));

        // The same command id again: the first result, nothing written.
        let r = ok(request(&client, "orderflow.cmd.receive", receive_body).await);
        assert_eq!((r["duplicate"].clone(), r["events"].clone()), (json!(true), json!([])));
        assert_eq!((r["first_position"].clone(), r["version"].clone()), (json!(base + 1), json!(1)));

        // Rejections name the rule and write nothing.
        let r = request(
            &logistics,
            "orderflow.cmd.ship",
            body(
                Some(order),
                Uuid::new_v4(),
                json!({"command": "ship", "carrier": "DHL", "mode": "road", "tracking_number": "1", "eta": in_days(5)}),
            ),
        )
        .await;
        let m = error(&r, "rejected");
        assert!(m.contains("cannot ship") && m.contains("have not approved"), "{m}");
        // Finance approving for production: the role comes from the NATS account, and the rule
        // holds it against the department in the body.
        let r = request(roles.of("finance"), "orderflow.cmd.approve", body(Some(order), Uuid::new_v4(), approve("production"))).await;
        let m = error(&r, "rejected");
        assert!(m.contains("role finance may not issue \"approve\""), "{m}");
        // An actor in the body is no longer a field at all.
        let forged = json!({
            "order_id": order, "command_id": Uuid::new_v4(), "actor": {"name": "li.clerk", "role": "production"},
            "command": approve("production"),
        });
        let r = request(roles.of("production"), "orderflow.cmd.approve", serde_json::to_vec(&forged).expect("json")).await;
        assert!(error(&r, "invalid").contains("unknown field `actor`"), "{r}");

        let mut version = 1;
        for (i, d) in REVIEWERS.iter().enumerate() {
            let r = ok(request(roles.of(d), "orderflow.cmd.approve", body(Some(order), Uuid::new_v4(), approve(d))).await);
            assert_eq!(r["first_position"], json!(base + version + 1), "{d}: nothing written by the rejections");
            let expected: Value =
                if i == 3 { json!(["review_approved", "order_approved"]) } else { json!(["review_approved"]) };
            assert_eq!(r["events"], expected);
            version = r["version"].as_u64().expect("version");
        }
        assert_eq!(version, 6);

        // Bad bodies: each answered `invalid`, nothing written, the server keeps answering.
        let cancel = |extra: Value| {
            let mut b = json!({"order_id": order, "command_id": Uuid::new_v4(), "command": {"command": "cancel", "initiated_by": "customer", "reason": "r"}});
            if let (Value::Object(b), Value::Object(extra)) = (&mut b, extra) {
                b.extend(extra);
            }
            serde_json::to_vec(&b).expect("json")
        };
        let oversized = cancel(json!({"command": {"command": "cancel", "initiated_by": "customer", "reason": "x".repeat(300 * 1024)}}));
        let bad: Vec<(&str, &str, Vec<u8>, &str)> = vec![
            ("malformed JSON", "orderflow.cmd.cancel", b"{\"order_id\": ".to_vec(), "not a valid request"),
            ("empty body", "orderflow.cmd.cancel", Vec::new(), "not a valid request"),
            ("not an object", "orderflow.cmd.cancel", b"[1, 2]".to_vec(), "not a valid request"),
            ("wrong type", "orderflow.cmd.cancel", cancel(json!({"command_id": 5})), "invalid type"),
            ("wrong order id", "orderflow.cmd.cancel", cancel(json!({"order_id": "not-a-uuid"})), "not a valid request"),
            ("unknown field", "orderflow.cmd.cancel", cancel(json!({"priority": "high"})), "unknown field `priority`"),
            (
                "unknown command field",
                "orderflow.cmd.cancel",
                cancel(json!({"command": {"command": "cancel", "initiated_by": "customer", "reason": "r", "urgent": true}})),
                "unknown field `urgent`",
            ),
            (
                "an actor in the body",
                "orderflow.cmd.cancel",
                cancel(json!({"actor": {"name": "a", "role": "sales", "desk": 3}})),
                "unknown field `actor`",
            ),
            ("a user in the body", "orderflow.cmd.cancel", cancel(json!({"user": "admin"})), "unknown field `user`"),
            (
                "unknown command in the body",
                "orderflow.cmd.cancel",
                cancel(json!({"command": {"command": "teleport"}})),
                "unknown variant `teleport`",
            ),
            ("subject and body disagree", "orderflow.cmd.close", cancel(json!({})), "the subject names \"close\""),
            ("no order id", "orderflow.cmd.cancel", cancel(json!({"order_id": null})), "needs an order_id"),
            ("no command id", "orderflow.cmd.cancel", cancel(json!({"command_id": null})), "invalid type: null"),
            ("receive with order id", "orderflow.cmd.receive", body(Some(order), Uuid::new_v4(), receive("X")), "receive takes no order_id"),
            ("bad effective time", "orderflow.cmd.cancel", cancel(json!({"at": "yesterday"})), "not a valid request"),
            (
                "invalid UTF-8",
                "orderflow.cmd.cancel",
                [b"{\"order_id\": \"".as_slice(), &[0xff, 0xfe], b"\"}"].concat(),
                "not UTF-8",
            ),
            ("over the size limit", "orderflow.cmd.cancel", oversized, "request_body_bytes_max = 262144"),
            ("unknown query", "orderflow.query.teleport", b"{}".to_vec(), "unknown query \"teleport\""),
            ("query with an unknown field", "orderflow.query.show", serde_json::to_vec(&json!({"order_id": order, "x": 1})).expect("json"), "unknown field `x`"),
            ("query with invalid UTF-8", "orderflow.query.history", vec![b'"', 0xc3, b'"'], "not UTF-8"),
        ];
        for (what, subject, payload, needle) in bad {
            let r = request(&client, subject, payload).await;
            let m = error(&r, "invalid");
            assert!(m.contains(needle), "{what}: message {m:?} does not contain {needle:?}");
        }
        // An effective time: a clerk may not back-date at all (forbidden); a head may, but not
        // into the future (invalid).
        let r = request(&client, "orderflow.cmd.cancel", cancel(json!({"at": "2999-01-01T00:00:00Z"}))).await;
        assert!(error(&r, "forbidden").contains("may not back-date"), "{r}");
        let head = site.client(Grant::DeptHead(Role::Sales)).await;
        let late = cancel(json!({"at": "2999-01-01T00:00:00Z", "late_reason": "paper form"}));
        let r = request(&head, "orderflow.cmd.cancel", late).await;
        assert!(error(&r, "invalid").contains("in the future"), "{r}");

        // The micro-service error headers come with the JSON body.
        let reply = client.request("orderflow.cmd.cancel", "{".into()).await.expect("reply");
        let headers = reply.headers.expect("error headers");
        assert_eq!(headers.get("Nats-Service-Error").map(|v| v.as_str()), Some("invalid"));
        assert_eq!(headers.get("Nats-Service-Error-Code").map(|v| v.as_str()), Some("400"));

        // Nothing was written by any of them: the next command lands right after the approvals.
        let r = ok(request(
            &client,
            "orderflow.cmd.confirm",
            body(Some(order), Uuid::new_v4(), json!({"command": "confirm", "promised_date": in_days(55), "expected_ship_date": in_days(55), "delivery_mode": "carrier", "confirmed_via": "phone"})),
        )
        .await);
        assert_eq!((r["first_position"].clone(), r["version"].clone()), (json!(base + 7), json!(7)));


        // Queries.
        let show = ok(request(&client, "orderflow.query.show", serde_json::to_vec(&json!({"order_id": order})).expect("json")).await);
        assert_eq!(show["version"], json!(7));
        assert_eq!(show["state"]["status"], json!("confirmed"));
        assert_eq!(show["state"]["current_promise"], json!(in_days(55)));
        assert_eq!(show["state"]["customer"], json!("Acme Dairy"));
        assert!(show["text"].as_str().expect("text").contains("customer     Acme Dairy"), "{show}");
        let history = ok(request(&client, "orderflow.query.history", serde_json::to_vec(&json!({"order_id": order})).expect("json")).await);
        let events = history["events"].as_array().expect("events");
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().expect("type")).collect();
        // The read itself comes last: recorded before it is answered.
        assert_eq!(
            types,
            ["order_received", "review_approved", "review_approved", "review_approved", "review_approved", "order_approved", "order_confirmed", "archive_accessed"]
        );
        for (i, e) in events.iter().enumerate() {
            let (event, env) = orderflow_schemas::event_from_json(e).expect("event JSON form");
            assert_eq!((env.position, env.version, env.order_id), (base + i as u64 + 1, i as u64 + 1, order));
            assert_eq!(event.body.event_type().name, types[i]);
        }
        assert_eq!(history["next_version"], Value::Null);
        let page = ok(request(&client, "orderflow.query.history", serde_json::to_vec(&json!({"order_id": order, "from_version": 6})).expect("json")).await);
        // Versions 6 and 7, and 8: the first read's own record (this page continues that read).
        assert_eq!(page["events"].as_array().expect("events").len(), 3);
        let nobody = OrderId(Uuid::new_v4());
        for q in ["show", "history"] {
            let r = request(&client, &format!("orderflow.query.{q}"), serde_json::to_vec(&json!({"order_id": nobody})).expect("json")).await;
            assert!(error(&r, "rejected").contains("does not exist"), "{q}: {r}");
        }

        // Live read models: the status board and the KPIs see the order just written.
        let status = ok(request(&client, "orderflow.query.status", b"{}".to_vec()).await);
        let rows = status["orders"].as_array().expect("orders");
        assert_eq!(rows.len(), 1, "{status}");
        assert_eq!(rows[0]["order_id"], json!(order));
        assert!(status["text"].as_str().expect("text").contains("Acme Dairy"), "{status}");
        let by_customer =
            ok(request(&client, "orderflow.query.status", serde_json::to_vec(&json!({"customer": "Nobody"})).expect("json")).await);
        assert_eq!(by_customer["orders"].as_array().expect("orders").len(), 0);
        let kpi = ok(request(&client, "orderflow.query.kpi", serde_json::to_vec(&json!({"by": "channel"})).expect("json")).await);
        assert!(kpi["text"].as_str().expect("text").contains("phone"), "{kpi}");
        let r = request(&client, "orderflow.query.kpi", serde_json::to_vec(&json!({"month": "2026-13"})).expect("json")).await;
        assert!(error(&r, "invalid").contains("not a month"), "{r}");
        let r = request(&client, "orderflow.query.status", serde_json::to_vec(&json!({"colour": "red"})).expect("json")).await;
        assert!(error(&r, "invalid").contains("unknown field"), "{r}");

        // Concurrent requests: all answered, each command once, positions without gaps (after the
        // order's 7 events and the history read's record).
        let before = base + 8;
        let replies = futures::future::join_all((0..64).map(|i| {
            let client = client.clone();
            async move { request(&client, "orderflow.cmd.receive", body(None, Uuid::new_v4(), receive(&format!("C{i}")))).await }
        }))
        .await;
        let mut positions: Vec<u64> = replies.into_iter().map(|r| ok(r)["first_position"].as_u64().expect("position")).collect();
        positions.sort_unstable();
        assert_eq!(positions, (before + 1..=before + 64).collect::<Vec<_>>());

        // The micro-service verbs, answered by the library.
        let ping = request(&engine, "$SRV.PING.orderflow", Bytes::new()).await;
        assert_eq!(ping["type"], json!("io.nats.micro.v1.ping_response"));
        assert_eq!(ping["name"], json!("orderflow"));
        assert!(serve.ready.contains(ping["id"].as_str().expect("id")), "{}", serve.ready);
        let info = request(&engine, "$SRV.INFO.orderflow", Bytes::new()).await;
        let endpoints = info["endpoints"].as_array().expect("endpoints");
        let subjects: HashSet<&str> = endpoints.iter().map(|e| e["subject"].as_str().expect("subject")).collect();
        assert_eq!(subjects, HashSet::from(["orderflow.cmd.*", "orderflow.query.*"]));
        let command_endpoint = endpoints.iter().find(|e| e["name"] == json!("command")).expect("command endpoint");
        let commands = command_endpoint["metadata"]["commands"].as_str().expect("commands");
        assert!(commands.split(',').any(|c| c == "approve") && commands.split(',').any(|c| c == "receive"), "{commands}");
        let stats = request(&engine, "$SRV.STATS.orderflow", Bytes::new()).await;
        let requests: u64 = stats["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .map(|e| e["num_requests"].as_u64().expect("num_requests"))
            .sum();
        assert!(requests >= 100, "STATS counts {requests} requests: {stats}");

        let (status, rest) = serve.stop().await;
        assert!(status.success(), "serve exited with {status}");
        let head = base + 72; // the order's 7 events, one recorded history read, 64 receipts
        assert!(rest.iter().any(|l| l.contains(&format!("published up to position {head} of {head}"))), "{rest:?}");
    })
    .await
    .expect("test timed out");
}
