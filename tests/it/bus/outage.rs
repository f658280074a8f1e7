//! (b) The broker dies while the log keeps taking appends and the publisher runs; after it comes
//! back every event is in the stream once and every department gets each of its events once.

use std::time::{Duration, Instant};

use orderflow::bus::RoutingTable;

use super::scenario::append_orders;
use super::*;
use crate::support::{connect, NatsServer};

/// How long appends may take while the broker is down (they do not depend on it).
const APPENDS_DURING_OUTAGE_MAX: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_outage_loses_and_duplicates_nothing() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let mut server = NatsServer::start();
        let dir = tempfile::tempdir().expect("temp dir");
        let log = open_log(dir.path());
        let client = connect(&server).await;
        let js = jetstream(&client);
        let publisher = RunningPublisher::spawn(client.clone(), &log, test_publisher_config());

        append_orders(&log, 2, 0..15).await;
        publisher.wait_published(&log).await;

        // Appends race the publisher; the broker dies in the middle of publishing them: once the
        // publisher has stored some of them.
        let published_before = log.head();
        let racing = {
            let log = log.clone();
            tokio::spawn(async move { append_orders(&log, 2, 15..45).await })
        };
        publisher
            .wait_for("some of the racing appends published", |s| s.acked_position > published_before)
            .await;
        server.kill();
        let racing_appended = racing.await.expect("appends");
        assert!(racing_appended > 0);

        // While the broker is down: appends succeed, in bounded time.
        let started = Instant::now();
        let during = append_orders(&log, 2, 45..60).await;
        assert!(during > 0);
        assert!(started.elapsed() < APPENDS_DURING_OUTAGE_MAX, "appends slowed down by the outage");
        // The publisher notices: a publish fails or its ack times out, and it retries.
        publisher.wait_for("the publisher noticed the outage", |s| s.retries_total > 0).await;
        let before_restart = publisher.metrics.snapshot();
        assert!(before_restart.acked_position < log.head(), "everything was published before the outage");
        assert!(before_restart.retries_total > 0, "the publisher did not notice the outage");

        server.restart();
        append_orders(&log, 2, 60..70).await;
        publisher.wait_published(&log).await;
        let report = publisher.stop().await;
        assert!(report.drained);
        assert_eq!(report.stats.acked_position, log.head());
        // Every position was counted once: stored, or acknowledged as a duplicate of a message
        // stored by a publish whose ack was lost.
        assert_eq!(report.stats.published_total + report.stats.duplicates_total, log.head());

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
