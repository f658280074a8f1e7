//! (c) The publisher dies after publishing but before saving its checkpoint, and restarts from the
//! old checkpoint after the duplicate window has passed: nothing is published twice, nothing is
//! missing.

use std::time::Duration;

use orderflow::bus::{saved_checkpoint, RoutingTable};

use super::scenario::append_orders;
use super::*;
use crate::support::{connect, NatsServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_abort_publishes_nothing_twice() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = NatsServer::start();
        let dir = tempfile::tempdir().expect("temp dir");
        let log = open_log(dir.path());
        let client = connect(&server).await;
        let js = jetstream(&client);
        // The checkpoint is never saved while running, and JetStream forgets message ids after
        // one second: only the publisher's own reading of the stream can prevent duplicates.
        let duplicate_window = Duration::from_secs(1);
        let config = PublisherConfig {
            checkpoint_every: Duration::from_secs(3600),
            duplicate_window,
            ..test_publisher_config()
        };

        let first = append_orders(&log, 3, 0..25).await;
        let publisher = RunningPublisher::spawn(client.clone(), &log, config.clone());
        publisher.wait_published(&log).await;
        publisher.task.abort();
        assert!(publisher.task.await.expect_err("aborted").is_cancelled());
        assert_eq!(saved_checkpoint(&log).expect("checkpoint"), 0, "the checkpoint was saved after all");
        check_stream_count(&js, &log).await;

        // A wait, not a condition: what is under test is a time window. JetStream gives no sign
        // when it forgets a message id, so the only way past the (configured, one-second)
        // duplicate window is to let it pass; a re-publish of the first run's events would then be
        // stored again instead of acknowledged as a duplicate.
        tokio::time::sleep(duplicate_window + Duration::from_millis(500)).await;
        let second = append_orders(&log, 3, 25..40).await;
        let publisher = RunningPublisher::spawn(client.clone(), &log, config);
        publisher.wait_published(&log).await;
        let report = publisher.stop().await;
        assert!(report.drained);
        assert_eq!(report.stats.published_total, second, "re-published events of the first run");
        assert_eq!(report.stats.duplicates_total, 0);
        assert_eq!(report.stats.checkpoint_saved, first + second);

        check_stream_count(&js, &log).await;
        let routing = RoutingTable::default();
        for d in routing.departments().collect::<Vec<_>>() {
            check_department(&js, &log, &routing, d).await;
        }
        log.close().expect("close");
    })
    .await
    .expect("test timed out");
}
