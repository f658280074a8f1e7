//! (c) SIGTERM while commands stream in: `orderflow serve` stops taking requests, answers those in
//! flight, publishes what is pending, saves its checkpoint and exits 0 in time; everything it
//! acknowledged is in the log and in the stream.

use orderflow::bus::saved_checkpoint;

use super::*;
use crate::bus::{jetstream, open_log};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_in_order_and_exits_zero() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::new().await;
        let data = site.data.clone();
        let client = site.engine().await;
        let roles = site.load_clients().await;

        let mut serve = site.serve(&[]).await;
        let load = Load::start(&roles, 6);
        load.wait_acked(100).await;
        let asked = Instant::now();
        serve.proc.terminate();
        let status = serve.proc.wait_exit(EXIT_TIMEOUT).await;
        let took = asked.elapsed();
        let sent = load.stop().await;
        assert_eq!(status.code(), Some(0), "serve exited with {status}; stderr:\n{}", serve.proc.stderr());
        let stopped = serve.proc.next_line(Duration::from_secs(5)).await.unwrap_or_default();
        assert!(stopped.starts_with("orderflow serve: stopped;"), "{stopped:?}");
        assert!(!stopped.contains("the rest is published at the next start"), "{stopped}");
        assert!(serve.proc.stderr().contains("Stop asked; no new requests."));

        let acked = sent.iter().filter(|s| s.reply.is_some()).count();
        assert!(acked >= 100);
        let log = open_log(&data);
        check_acknowledged_in_log(&log, &sent);
        assert_eq!(saved_checkpoint(&log).expect("checkpoint"), log.head(), "checkpoint saved on stop");
        check_stream_is_log(&jetstream(&client), &log).await;
        assert!(
            stopped.contains(&format!("published up to position {} of {}", log.head(), log.head())),
            "{stopped}"
        );
        log.close().expect("close");
        assert!(took < EXIT_TIMEOUT, "stopping took {took:?}");
    })
    .await
    .expect("test timed out");
}
