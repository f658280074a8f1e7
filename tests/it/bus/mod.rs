//! The NATS bus against a real nats-server: publishing, department consumers, outages, restarts,
//! routing configuration.

mod failures;
mod outage;
mod publish;
mod restart;
mod routing;
mod scenario;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, Context};
use orderflow::bus::{
    consume, shutdown_channel, ConsumeStats, ConsumerOptions, DeptEvent, Publisher, PublisherConfig,
    PublisherError, PublisherMetrics, PublisherReport, PublisherStats, RoutingTable, ShutdownTrigger,
};
use orderflow_engine::{EventLog, LogConfig, StoredEvent};
use orderflow_schemas::{decode_event, event_type_by_code};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Every bus test finishes within this or fails.
pub(crate) const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a wait for the publisher or a consumer may take.
pub(crate) const WAIT_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a wait checks its condition.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Checks `condition` every [`POLL_INTERVAL`] until it holds, for at most `timeout`. The
/// condition answers `Err` with what it saw while it does not hold; the last of those is returned
/// when the time is up.
pub(crate) async fn poll_until(
    timeout: Duration,
    mut condition: impl AsyncFnMut() -> Result<(), String>,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let seen = match condition().await {
            Ok(()) => return Ok(()),
            Err(seen) => seen,
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("not within {timeout:?}; last seen: {seen}"));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// [`poll_until`], failing the test with `what` when the condition does not come to hold.
pub(crate) async fn wait_until(
    what: &str,
    timeout: Duration,
    condition: impl AsyncFnMut() -> Result<(), String>,
) {
    if let Err(e) = poll_until(timeout, condition).await {
        panic!("{what}: {e}");
    }
}

pub(crate) fn open_log(dir: &std::path::Path) -> EventLog {
    EventLog::open(LogConfig::new(dir)).expect("open log")
}

/// Publisher settings for tests: short timeouts, quick retries.
pub(crate) fn test_publisher_config() -> PublisherConfig {
    PublisherConfig {
        ack_timeout: Duration::from_secs(1),
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        checkpoint_every: Duration::from_millis(200),
        ..PublisherConfig::default()
    }
}

/// Consumer settings for tests: short pulls.
pub(crate) fn test_consumer_options() -> ConsumerOptions {
    ConsumerOptions {
        fetch_expires: Duration::from_millis(300),
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        ..ConsumerOptions::default()
    }
}

/// A publisher running in its own task.
pub(crate) struct RunningPublisher {
    pub(crate) task: JoinHandle<Result<PublisherReport, PublisherError>>,
    pub(crate) stop: ShutdownTrigger,
    pub(crate) metrics: Arc<PublisherMetrics>,
}

impl RunningPublisher {
    pub(crate) fn spawn(client: async_nats::Client, log: &EventLog, config: PublisherConfig) -> Self {
        let publisher = Publisher::new(client, log.clone(), config).expect("publisher");
        let metrics = publisher.metrics();
        let (stop, shutdown) = shutdown_channel();
        let task = tokio::spawn(publisher.run(shutdown));
        Self { task, stop, metrics }
    }

    /// Waits until everything up to the log's head is in the stream.
    pub(crate) async fn wait_published(&self, log: &EventLog) {
        let head = log.head();
        self.wait_for(&format!("published up to {head}"), |s| s.acked_position >= head).await;
    }

    /// Waits until the publisher's counters satisfy `holds`; fails the test if the publisher
    /// stops meanwhile or the counters do not get there within [`WAIT_TIMEOUT`].
    pub(crate) async fn wait_for(&self, what: &str, holds: impl Fn(&PublisherStats) -> bool) {
        wait_until(what, WAIT_TIMEOUT, async || {
            let stats = self.metrics.snapshot();
            assert!(!self.task.is_finished(), "{what}: the publisher stopped early at {stats:?}");
            if holds(&stats) {
                Ok(())
            } else {
                Err(format!("{stats:?}"))
            }
        })
        .await;
    }

    /// Asks it to stop and returns its report.
    pub(crate) async fn stop(self) -> PublisherReport {
        self.stop.trigger();
        self.task.await.expect("publisher task").expect("publisher run")
    }
}

pub(crate) fn all_events(log: &EventLog) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    loop {
        let batch = log.read_from(out.len() as u64 + 1, 4096).expect("read log");
        if batch.is_empty() {
            return out;
        }
        out.extend(batch);
    }
}

/// The type name of a stored event.
pub(crate) fn type_name(e: &StoredEvent) -> &'static str {
    event_type_by_code(e.event_type).expect("known type").name
}

/// Runs a department's consumer until it has handled `expected` events (or the wait times out),
/// and returns what the handler saw.
pub(crate) async fn collect_department(
    js: &Context,
    department: &str,
    routing: &RoutingTable,
    options: &ConsumerOptions,
    expected: usize,
) -> (Vec<DeptEvent>, ConsumeStats) {
    let seen: Arc<Mutex<Vec<DeptEvent>>> = Arc::default();
    let (stop, shutdown) = shutdown_channel();
    let stop = Arc::new(stop);
    if expected == 0 {
        stop.trigger();
    }
    let handler = {
        let seen = Arc::clone(&seen);
        let stop = Arc::clone(&stop);
        move |event: DeptEvent| {
            let mut s = seen.lock().expect("lock");
            s.push(event);
            if s.len() >= expected {
                stop.trigger();
            }
            std::future::ready(Ok::<(), String>(()))
        }
    };
    let result =
        tokio::time::timeout(WAIT_TIMEOUT, consume(js, department, routing, options, shutdown, handler))
            .await;
    let seen = std::mem::take(&mut *seen.lock().expect("lock"));
    let stats = match result {
        Ok(r) => r.unwrap_or_else(|e| panic!("consume {department}: {e}")),
        Err(_) => panic!("department {department} got {} of {expected} events in time", seen.len()),
    };
    (seen, stats)
}

/// The department consumer got exactly the events of its types, each once, in log order, with
/// payloads equal to the log's events; nothing is left pending on its durable consumer.
pub(crate) async fn check_department(js: &Context, log: &EventLog, routing: &RoutingTable, department: &str) {
    let events = all_events(log);
    let wanted = routing.event_types(department).expect("department");
    let expected: Vec<&StoredEvent> = events.iter().filter(|e| wanted.contains(type_name(e))).collect();
    let (seen, stats) =
        collect_department(js, department, routing, &test_consumer_options(), expected.len()).await;

    let ids: Vec<Uuid> = seen.iter().map(|e| e.envelope.event_id).collect();
    let unique: HashSet<Uuid> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{department} saw a duplicate");
    assert_eq!(seen.len(), expected.len(), "{department}: wrong number of events");
    // Same events in the same (log) order, hence per-order order.
    for (got, want) in seen.iter().zip(&expected) {
        assert_eq!(got.envelope.event_id, want.event_id, "{department}: event at position {}", want.position);
        assert_eq!(got.envelope.position, want.position);
        assert_eq!(got.envelope.order_id.0, want.stream);
        assert_eq!(got.envelope.version, want.version);
        let decoded = decode_event(want.event_type, want.schema_version, &want.payload).expect("decode");
        assert_eq!(got.event, decoded, "{department}: payload of position {}", want.position);
        let reparsed: serde_json::Value = serde_json::from_slice(&got.json).expect("raw JSON");
        let (again, env) = orderflow_schemas::event_from_json(&reparsed).expect("event_from_json");
        assert_eq!((again, env), (got.event.clone(), got.envelope.clone()));
    }
    let mut last_version: BTreeMap<Uuid, u64> = BTreeMap::new();
    for e in &seen {
        let before = last_version.insert(e.envelope.order_id.0, e.envelope.version).unwrap_or(0);
        assert!(e.envelope.version > before, "{department}: order {} out of order", e.envelope.order_id);
    }
    assert_eq!(stats.handled_total, expected.len() as u64);
    assert_eq!(stats.redelivered_total, 0, "{department}: redeliveries");
    assert_eq!(stats.undecodable_total, 0);

    let extra = consume_rest(js, department, routing).await;
    assert!(
        extra.is_empty(),
        "{department} got more: {:?}",
        extra.iter().map(|e| e.envelope.position).collect::<Vec<_>>()
    );
}

/// Runs the department's consumer until the server has nothing left for it (every message
/// delivered and acknowledged) and returns the events the handler got meanwhile.
pub(crate) async fn consume_rest(js: &Context, department: &str, routing: &RoutingTable) -> Vec<DeptEvent> {
    let seen: Arc<Mutex<Vec<DeptEvent>>> = Arc::default();
    let (stop, shutdown) = shutdown_channel();
    let stream = js.get_stream("ORDERFLOW").await.expect("stream");
    let durable = format!("orderflow-{department}");
    // Beside the consumer: stops it once the server has nothing left for it, or when the wait
    // gives up (the result then fails the test below, after the consumer stopped).
    let watcher = async {
        let drained = poll_until(WAIT_TIMEOUT, async || {
            let info = stream.consumer_info(&durable).await.map_err(|e| format!("consumer info: {e}"))?;
            match (info.num_pending, info.num_ack_pending) {
                (0, 0) => Ok(()),
                (pending, ack_pending) => Err(format!("{pending} pending, {ack_pending} awaiting ack")),
            }
        })
        .await;
        stop.trigger();
        drained
    };
    let handler = {
        let seen = Arc::clone(&seen);
        move |event: DeptEvent| {
            seen.lock().expect("lock").push(event);
            std::future::ready(Ok::<(), String>(()))
        }
    };
    let options = test_consumer_options();
    let run =
        tokio::time::timeout(WAIT_TIMEOUT, consume(js, department, routing, &options, shutdown, handler));
    let (ran, drained) = tokio::join!(run, watcher);
    ran.unwrap_or_else(|_| panic!("{department}: the consumer never caught up"))
        .unwrap_or_else(|e| panic!("consume {department}: {e}"));
    if let Err(e) = drained {
        panic!("{department}: the server kept messages for the consumer: {e}");
    }
    let seen = std::mem::take(&mut *seen.lock().expect("lock"));
    seen
}

/// The stream holds exactly the log, once each, in order.
pub(crate) async fn check_stream_count(js: &Context, log: &EventLog) {
    let stream = js.get_stream("ORDERFLOW").await.expect("stream");
    let info = stream.get_info().await.expect("stream info");
    assert_eq!(info.state.messages, log.head(), "stream message count vs log head");
    assert_eq!(info.state.last_sequence, log.head(), "stream last sequence vs log head");
    assert_eq!(info.state.first_sequence, 1);
}

pub(crate) fn jetstream(client: &async_nats::Client) -> Context {
    jetstream::new(client.clone())
}
