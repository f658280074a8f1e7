//! `orderflow consume --dept D`: a department's durable consumer prints its events as they come,
//! one line each, stops on SIGTERM with exit 0, and resumes after the last event it printed.

use orderflow_schemas::{event_from_json, OrderId};

use super::*;

/// How long a consumer may take to print an event that is in the log.
const LINE_TIMEOUT: Duration = Duration::from_secs(30);

/// Receives an order and has it approved; returns its id.
async fn approved_order(roles: &Clients, customer: &str) -> OrderId {
    let id = Uuid::new_v4();
    ok(request(roles.of("sales"), "orderflow.cmd.receive", body(None, id, receive(customer))).await);
    let order = OrderId::for_receive(id);
    for d in REVIEWERS {
        ok(request(roles.of(d), "orderflow.cmd.approve", body(Some(order), Uuid::new_v4(), approve(d)))
            .await);
    }
    order
}

async fn lines(proc: &mut Proc, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        match proc.next_line(LINE_TIMEOUT).await {
            Some(l) => out.push(l),
            None => panic!("got {} of {n} lines: {out:?}; stderr:\n{}", out.len(), proc.stderr()),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_consumer_prints_its_events_once() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::new().await;
        let url = site.url();
        let work = &site.work;
        let serve = site.serve(&[]).await;
        let client = site.load_clients().await;
        let finance_env = site.env(Grant::Role(Role::Finance));

        let first = [approved_order(&client, "A").await, approved_order(&client, "B").await];
        // finance needs order_received and order_approved: two events per order.
        let args = ["--nats", url.as_str(), "--json", "consume", "--dept", "finance"];
        let mut finance = Proc::spawn_env(&args, &finance_env, work.path(), "finance-1");
        let got = lines(&mut finance, 4).await;
        let mut positions = Vec::new();
        for (line, (order, ty)) in got.iter().zip([
            (first[0], "order_received"),
            (first[0], "order_approved"),
            (first[1], "order_received"),
            (first[1], "order_approved"),
        ]) {
            let value: Value = serde_json::from_str(line).expect("a JSON line");
            let (event, env) = event_from_json(&value).expect("the event's JSON form");
            assert_eq!((env.order_id, event.body.event_type().name), (order, ty), "{line}");
            positions.push(env.position);
        }
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        // Events come as they are committed, while the consumer runs.
        let third = approved_order(&client, "C").await;
        let got = lines(&mut finance, 2).await;
        assert!(got.iter().all(|l| l.contains(&third.to_string())), "{got:?}");
        finance.terminate();
        assert_eq!(finance.wait_exit(EXIT_TIMEOUT).await.code(), Some(0), "{}", finance.stderr());
        assert_eq!(finance.next_line(Duration::from_millis(200)).await, None, "printed more than its events");

        // Restarted, it goes on after the last event it printed: nothing again.
        let fourth = approved_order(&client, "D").await;
        let mut finance = Proc::spawn_env(&args, &finance_env, work.path(), "finance-2");
        let got = lines(&mut finance, 2).await;
        assert!(got.iter().all(|l| l.contains(&fourth.to_string())), "{got:?}");
        assert_eq!(finance.next_line(Duration::from_secs(2)).await, None, "an event came twice");
        finance.terminate();
        assert_eq!(finance.wait_exit(EXIT_TIMEOUT).await.code(), Some(0));

        // Text lines; an unknown department is refused (exit 3).
        let production_env = site.env(Grant::Role(Role::Production));
        let mut production = Proc::spawn_env(
            &["--nats", &url, "consume", "--dept", "production"],
            &production_env,
            work.path(),
            "production",
        );
        let got = lines(&mut production, 4).await;
        for (line, order) in got.iter().zip([first[0], first[1], third, fourth]) {
            assert!(
                line.contains(&format!("order {}", order.short())) && line.contains("order_approved"),
                "{line}"
            );
        }
        production.terminate();
        assert_eq!(production.wait_exit(EXIT_TIMEOUT).await.code(), Some(0));
        let mut nobody = Proc::spawn_env(
            &["--nats", &url, "consume", "--dept", "marketing"],
            &finance_env,
            work.path(),
            "marketing",
        );
        assert_eq!(nobody.wait_exit(EXIT_TIMEOUT).await.code(), Some(3));
        assert!(nobody.stderr().contains("unknown department 'marketing'"), "{}", nobody.stderr());

        let (status, _) = serve.stop().await;
        assert!(status.success());
    })
    .await
    .expect("test timed out");
}
