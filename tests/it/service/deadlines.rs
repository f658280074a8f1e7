//! The deadline watcher of `orderflow serve` (issue 12, item 3): with a 1-hour review limit per
//! department (`orderflow.toml`), a review past its limit is recorded as `review_overdue`
//! exactly once per (revision, change request, department), escalated to the department's head,
//! as orderflow itself (`system`): at start for reviews already overdue, never again after a
//! SIGKILL and a restart, and once on start for a review that fell due while serve was down.
//!
//! Nothing waits a fixed time for serve: the test polls serve's log (stderr) for the watcher's
//! "sweep done" line, with a deadline. The one wait is for the wall clock to pass a due time.

use std::time::Instant;

use orderflow::app::{App, Request};
use orderflow::auth::Principal;
use orderflow::service::watcher::overdue_command_id;
use orderflow_commands::{ApproveReview, Command};
use orderflow_schemas::{Department, EventBody, Timestamp};

use super::*;

/// Every department one hour.
const ONE_HOUR_EACH: &str =
    "[review_hours]\nproduction = 1\nprocurement = 1\nfinance = 1\nwarehouse = 1\nlogistics = 1\n";
/// The watcher's interval in the test: never within it, so only the sweep at start runs.
const WATCH_NEVER_SECS: &str = "3600";
/// How far ahead the order received while serve runs falls due.
const DUE_IN_SECS: i64 = 20;
/// How long a sweep may take to be reported.
const SWEEP_TIMEOUT: Duration = Duration::from_secs(60);

/// The overdue records in the log, per order: (department, revision, request, escalated to, actor).
fn overdue_records(data: &Path, order: OrderId) -> Vec<(Role, u32, Option<u32>, Grant, Role, String)> {
    let log = EventLog::open(orderflow_engine::LogConfig::existing(data)).expect("open the log");
    let stored = log.read_stream(order.0, 1).expect("read the order");
    log.close().expect("close");
    stored
        .iter()
        .filter_map(|s| {
            let (event, _) = orderflow::app::decode_stored(s, order).expect("decode");
            match event.body {
                EventBody::ReviewOverdue(r) => Some((
                    r.role,
                    r.revision,
                    r.request_id,
                    r.escalated_to,
                    event.actor.role,
                    event.actor.login.clone(),
                )),
                _ => None,
            }
        })
        .collect()
}

/// The departments with an overdue record, sorted, each as often as recorded.
fn departments(data: &Path, order: OrderId) -> Vec<Role> {
    let mut roles: Vec<Role> = overdue_records(data, order).into_iter().map(|r| r.0).collect();
    roles.sort();
    roles
}

/// Waits for serve's `n`th "sweep done" line on stderr; returns its stderr.
async fn sweeps_done(serve: &Serve, n: usize) -> String {
    let started = Instant::now();
    loop {
        let text = serve.proc.stderr();
        if text.matches("Deadline watcher: sweep done.").count() >= n {
            return text;
        }
        assert!(started.elapsed() < SWEEP_TIMEOUT, "no sweep {n} reported in time; stderr:\n{text}");
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Lines of serve's stderr recording an escalation.
fn escalations(stderr: &str) -> usize {
    stderr.matches("Review overdue; escalated").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_reviews_are_escalated_once_across_restarts_and_downtime() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::new().await;
        std::fs::write(site.data.join("orderflow.toml"), ONE_HOUR_EACH).expect("write the settings");

        // Order A, received 3 hours ago on paper (entered late by the head of sales) and
        // approved by production since: three reviews overdue by two hours.
        let head_sales =
            Principal::unchecked(&login_of(Grant::DeptHead(Role::Sales)), Grant::DeptHead(Role::Sales));
        let head_prod = Principal::unchecked(
            &login_of(Grant::DeptHead(Role::Production)),
            Grant::DeptHead(Role::Production),
        );
        let now = orderflow::app::now();
        let order_a = {
            let app = App::open_existing(&site.data).expect("open");
            assert_eq!(app.settings().review_hours.finance, 1, "the settings file is read");
            let receive_id = Uuid::new_v4();
            let command = Command::ReceiveOrder(crate::faults::receive_order("Harbour Cafe"));
            let done = app
                .execute(Request {
                    order_id: None,
                    command_id: receive_id,
                    principal: head_sales.clone(),
                    at: Some(now.plus_hours(-3)),
                    late_reason: Some("paper order from the fair".into()),
                    command,
                })
                .await
                .expect("receive");
            app.execute(Request {
                order_id: Some(done.order_id),
                command_id: Uuid::new_v4(),
                principal: head_prod,
                at: Some(Timestamp(now.plus_hours(-3).0 + 10 * 60 * 1_000_000)),
                late_reason: Some("approved on paper".into()),
                command: Command::ApproveReview(ApproveReview {
                    department: Department::Production,
                    revision: None,
                    note: String::new(),
                }),
            })
            .await
            .expect("approve");
            app.close().expect("close");
            done.order_id
        };
        let undecided = vec![Role::Procurement, Role::Finance, Role::Warehouse];
        assert!(departments(&site.data, order_a).is_empty());

        // 1. serve starts: the three overdue reviews are recorded at once, each once.
        let mut serve = site.serve(&["--watch-every-secs", WATCH_NEVER_SECS]).await;
        let stderr = sweeps_done(&serve, 1).await;
        assert_eq!(escalations(&stderr), 3, "{stderr}");

        // Order B, received while serve runs, falls due DUE_IN_SECS from now.
        let b_at = Timestamp(orderflow::app::now().plus_hours(-1).0 + DUE_IN_SECS * 1_000_000);
        let client = site.client(Grant::DeptHead(Role::Sales)).await;
        let receive_b = Uuid::new_v4();
        let mut req: Value =
            serde_json::from_slice(&body(None, receive_b, receive("Lau Bakery"))).expect("json");
        req["at"] = serde_json::to_value(b_at).expect("time");
        req["late_reason"] = json!("phoned in an hour ago");
        let reply =
            ok(request(&client, "orderflow.cmd.receive", serde_json::to_vec(&req).expect("json")).await);
        let order_b: OrderId = serde_json::from_value(reply["order_id"].clone()).expect("order id");
        let b_due = b_at.plus_hours(1);

        // 2. SIGKILL before B falls due.
        serve.proc.kill();
        assert!(
            orderflow::app::now() < b_due,
            "the machine took more than {DUE_IN_SECS} s from receiving B to killing serve"
        );
        assert_eq!(departments(&site.data, order_a), undecided, "once each");
        assert!(departments(&site.data, order_b).is_empty(), "B was not due yet");
        for (role, revision, request, to, actor_role, login) in overdue_records(&site.data, order_a) {
            assert_eq!((revision, request), (1, None));
            assert_eq!(to, Grant::DeptHead(role), "escalated to the department's head");
            assert_eq!((actor_role, login.as_str()), (Role::System, Principal::SYSTEM_LOGIN));
        }
        {
            let log = EventLog::open(orderflow_engine::LogConfig::existing(&site.data)).expect("open");
            for role in &undecided {
                let id = overdue_command_id(order_a, 1, None, *role);
                assert!(log.find_command(order_a.0, id).expect("find").is_some(), "command id of {role}");
            }
            log.close().expect("close");
        }

        // B falls due while serve is down (waiting for the clock, not for a process).
        while orderflow::app::now() <= b_due {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        // 3. Restart: A is not escalated again; B's four reviews are, once each.
        let mut serve = site.serve(&["--watch-every-secs", WATCH_NEVER_SECS]).await;
        let stderr = sweeps_done(&serve, 1).await;
        assert_eq!(escalations(&stderr), 4, "only B's reviews: {stderr}");
        serve.proc.kill();
        assert_eq!(departments(&site.data, order_a), undecided, "A still once each");
        assert_eq!(
            departments(&site.data, order_b),
            vec![Role::Production, Role::Procurement, Role::Finance, Role::Warehouse],
            "B once each"
        );

        // 4. Once more, stopped in order this time: nothing new.
        let serve = site.serve(&["--watch-every-secs", WATCH_NEVER_SECS]).await;
        let stderr = sweeps_done(&serve, 1).await;
        assert_eq!(escalations(&stderr), 0, "{stderr}");
        let (status, _) = serve.stop().await;
        assert!(status.success(), "serve exited with {status}");
        assert_eq!(departments(&site.data, order_a).len(), 3);
        assert_eq!(departments(&site.data, order_b).len(), 4);
    })
    .await
    .expect("the test took too long");
}
