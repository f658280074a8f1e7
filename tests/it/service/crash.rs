//! (b) `orderflow serve` is SIGKILLed while commands stream in, after publishing events and before
//! saving the publisher checkpoint; restarted, it publishes every event exactly once, every
//! acknowledged command is in the log, retries of the unanswered ones write nothing twice, and
//! the department consumers see every event they need once.

use orderflow::bus::{saved_checkpoint, RoutingTable};

use super::*;
use crate::bus::{check_department, jetstream, open_log, type_name};

/// Load clients streaming commands.
const CLIENTS: usize = 6;
/// Commands acknowledged before the kill.
const ACKED_BEFORE_KILL: usize = 150;
/// The publisher checkpoint interval of the first run: never within the test, so every event in
/// the stream at the kill is past the saved checkpoint.
const CHECKPOINT_NEVER_MS: &str = "3600000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_then_restart_publishes_everything_once() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::new().await;
        let data = site.data.clone();
        let client = site.engine().await;
        let js = jetstream(&client);
        let roles = site.load_clients().await;

        let mut serve = site.serve(&["--checkpoint-every-ms", CHECKPOINT_NEVER_MS]).await;
        let load = Load::start(&roles, CLIENTS);
        load.wait_acked(ACKED_BEFORE_KILL).await;
        serve.proc.kill();
        let sent = load.stop().await;
        let acked = sent.iter().filter(|s| s.reply.is_some()).count();
        let unknown: Vec<&Sent> = sent.iter().filter(|s| s.reply.is_none()).collect();
        assert!(acked >= ACKED_BEFORE_KILL);
        assert!(unknown.len() <= CLIENTS);

        // The kill came after publishing and before saving the checkpoint.
        let stream_position = {
            let stream = js.get_stream("ORDERFLOW").await.expect("stream");
            stream.get_info().await.expect("info").state.last_sequence
        };
        {
            let log = open_log(&data);
            let checkpoint = saved_checkpoint(&log).expect("checkpoint");
            assert_eq!(checkpoint, 0, "the checkpoint was saved before the kill");
            assert!(stream_position > checkpoint, "nothing was published before the kill");
            assert!(stream_position <= log.head());
            check_acknowledged_in_log(&log, &sent);
            log.close().expect("close");
        }

        // Restart; retry every unanswered command with its command id, then a few more orders.
        let serve = site.serve(&[]).await;
        for s in &unknown {
            let r = ok(request(roles.for_command(&s.subject, &s.body), &s.subject, s.body.clone()).await);
            assert_eq!(r["command_id"], json!(s.command_id));
        }
        let more = Load::start(&roles, 2);
        more.wait_acked(20).await;
        let sent_after = more.stop().await;
        let (status, _) = serve.stop().await;
        assert!(status.success(), "serve exited with {status}");

        let log = open_log(&data);
        check_acknowledged_in_log(&log, &sent);
        check_acknowledged_in_log(&log, &sent_after);
        for s in &unknown {
            assert!(
                log.find_command(s.order.0, s.command_id).expect("find").is_some(),
                "retried {} missing",
                s.subject
            );
        }
        assert_eq!(
            saved_checkpoint(&log).expect("checkpoint"),
            log.head(),
            "checkpoint after an orderly stop"
        );
        check_stream_is_log(&js, &log).await;
        // Every department that needs any of these events (receipts and approvals) gets each once.
        let routing = RoutingTable::default();
        let types: HashSet<&str> = all_events(&log).iter().map(type_name).collect();
        let departments: Vec<&str> = routing
            .departments()
            .filter(|d| routing.event_types(d).is_some_and(|t| t.iter().any(|t| types.contains(t))))
            .collect();
        assert!(departments.len() >= 5, "{departments:?}");
        for d in departments {
            check_department(&js, &log, &routing, d).await;
        }
        log.close().expect("close");
    })
    .await
    .expect("test timed out");
}
