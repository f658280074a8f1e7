//! NATS figures for the benchmarks: the raw JetStream publish rate, the publisher draining a whole
//! log, and the end-to-end latency from a command's acknowledgement to a department consumer
//! holding its event.
//!
//! Every function works in scratch streams of its own (`ORDERFLOW_BENCH_...`), deleted
//! afterwards, and a scratch checkpoint tree, dropped afterwards: the real `ORDERFLOW` stream and
//! the real publisher checkpoint are never touched. The publisher's subjects are
//! `orderflow.events.>`, so [`publish_log`] and [`end_to_end`] refuse to run against a server
//! where another stream (a running `orderflow serve`'s `ORDERFLOW`) already takes them: run them
//! against a scratch `nats-server -js`.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::ContextBuilder, stream::StorageType};
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use orderflow_commands::{Command, NewLine, ReceiveOrder};
use orderflow_engine::EventLog;
use orderflow_schemas::{Channel, Currency, OrderId, Role};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::app::{self, App, Request};
use crate::bus::{
    consume, shutdown_channel, ConsumerOptions, DeptEvent, Publisher, PublisherConfig, PublisherMetrics,
    RoutingTable,
};

/// Publishes waiting for their acks at once in [`raw_publish`]: the publisher's default window.
pub const RAW_IN_FLIGHT_MAX: usize = crate::bus::publisher::IN_FLIGHT_MAX_DEFAULT;
/// How long one measurement may take before it is given up.
pub const BENCH_TIMEOUT: Duration = Duration::from_secs(600);
/// Commands waiting for the log at once in [`end_to_end`]; a rate the log cannot follow fills it
/// and the schedule slips (reported as a failure, not hidden in the figures).
pub const E2E_COMMANDS_IN_FLIGHT_MAX: usize = 1024;
/// The department whose consumer [`end_to_end`] times: it needs `order_received`.
pub const E2E_DEPARTMENT: &str = "finance";
/// How often the publisher's progress is looked at while waiting for it.
const POLL_EVERY: Duration = Duration::from_millis(2);

async fn connect(url: &str) -> Result<async_nats::Client, String> {
    async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(|e| format!("cannot connect to NATS at {url}: {e}"))
}

/// A unique suffix for scratch names: letters and digits.
fn scratch_suffix() -> String {
    Uuid::new_v4().simple().to_string()[..12].to_uppercase()
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// The `permille`/1000 quantile of sorted samples (nearest rank, integer arithmetic).
fn percentile(sorted: &[u64], permille: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (permille * (sorted.len() - 1) + 500) / 1000;
    sorted[rank.min(sorted.len() - 1)]
}

/// JetStream publish with up to [`RAW_IN_FLIGHT_MAX`] acks in flight, `messages` messages of
/// `payload_bytes` bytes without headers, into a scratch stream (file storage, like the
/// publisher's) deleted afterwards. Returns messages per second.
pub async fn raw_publish(url: &str, messages: u64, payload_bytes: usize) -> Result<f64, String> {
    if messages == 0 {
        return Err("raw_publish needs at least one message".into());
    }
    let client = connect(url).await?;
    let js = ContextBuilder::new()
        .max_ack_inflight(RAW_IN_FLIGHT_MAX)
        .backpressure_on_inflight(true)
        .build(client.clone());
    let suffix = scratch_suffix();
    let name = format!("ORDERFLOW_BENCH_RAW_{suffix}");
    let subject = format!("orderflow_bench.raw.{suffix}");
    js.create_stream(jetstream::stream::Config {
        name: name.clone(),
        subjects: vec![subject.clone()],
        storage: StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| format!("cannot create stream {name}: {e}"))?;
    let payload = bytes::Bytes::from(vec![b'x'; payload_bytes]);
    let run = async {
        let started = Instant::now();
        let mut acks = FuturesUnordered::new();
        for _ in 0..messages {
            let ack =
                js.publish(subject.clone(), payload.clone()).await.map_err(|e| format!("publish: {e}"))?;
            acks.push(ack.into_future());
            // Take the acks already in without waiting, so the set stays near the window.
            while acks.len() >= RAW_IN_FLIGHT_MAX {
                match acks.next().await {
                    Some(Ok(_)) | None => {}
                    Some(Err(e)) => return Err(format!("ack: {e}")),
                }
            }
        }
        while let Some(ack) = acks.next().await {
            ack.map_err(|e| format!("ack: {e}"))?;
        }
        Ok(per_second(messages, started.elapsed()))
    };
    let result = tokio::time::timeout(BENCH_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| Err(format!("raw publish took longer than {BENCH_TIMEOUT:?}")));
    let deleted = js.delete_stream(&name).await.map_err(|e| format!("cannot delete stream {name}: {e}"));
    let rate = result?;
    deleted?;
    Ok(rate)
}

/// A publisher of a log into a scratch stream with a scratch checkpoint tree.
struct ScratchPublisher {
    /// `None` once it was awaited.
    task: Option<tokio::task::JoinHandle<Result<crate::bus::PublisherReport, crate::bus::PublisherError>>>,
    stop: crate::bus::ShutdownTrigger,
    metrics: Arc<PublisherMetrics>,
    js: jetstream::Context,
    stream: String,
    tree: String,
    log: EventLog,
}

impl ScratchPublisher {
    fn start(client: async_nats::Client, log: &EventLog) -> Result<Self, String> {
        let suffix = scratch_suffix();
        let config = PublisherConfig {
            stream_name: format!("ORDERFLOW_BENCH_{suffix}"),
            checkpoint_tree: format!("publisher-bench-{suffix}"),
            ..PublisherConfig::default()
        };
        let (stream, tree) = (config.stream_name.clone(), config.checkpoint_tree.clone());
        let js = jetstream::new(client.clone());
        let publisher = Publisher::new(client, log.clone(), config).map_err(|e| e.to_string())?;
        let metrics = publisher.metrics();
        let (stop, shutdown) = shutdown_channel();
        let task = tokio::spawn(publisher.run(shutdown));
        Ok(Self { task: Some(task), stop, metrics, js, stream, tree, log: log.clone() })
    }

    /// Waits until everything up to `position` is in the stream.
    async fn wait_for(&mut self, position: u64) -> Result<(), String> {
        let started = Instant::now();
        while self.metrics.snapshot().acked_position < position {
            if let Some(task) = self.task.take_if(|t| t.is_finished()) {
                return Err(match task.await {
                    Ok(Err(e)) => format!(
                        "the publisher stopped: {e} (another stream on orderflow.events.> on this server? \
                         run the benchmark against a scratch nats-server)"
                    ),
                    other => format!("the publisher stopped: {other:?}"),
                });
            }
            if started.elapsed() > BENCH_TIMEOUT {
                return Err(format!("not published up to {position} within {BENCH_TIMEOUT:?}"));
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        Ok(())
    }

    /// Stops the publisher and removes the scratch stream and checkpoint.
    async fn remove(self) -> Result<(), String> {
        self.stop.trigger();
        if let Some(task) = self.task {
            let _ = tokio::time::timeout(BENCH_TIMEOUT, task).await;
        }
        let deleted = self.js.delete_stream(&self.stream).await;
        self.log.db().drop_tree(&self.tree).map_err(|e| format!("cannot drop tree {}: {e}", self.tree))?;
        match deleted {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("cannot delete stream {}: {e}", self.stream)),
        }
    }
}

/// Publishes the whole log with the real [`Publisher`], from checkpoint 0, into a fresh scratch
/// stream (deleted afterwards). Returns events per second, from start to the last ack.
pub async fn publish_log(url: &str, log: &EventLog) -> Result<f64, String> {
    let head = log.head();
    if head == 0 {
        return Err("the log is empty".into());
    }
    let client = connect(url).await?;
    let started = Instant::now();
    let mut publisher = ScratchPublisher::start(client, log)?;
    let waited = publisher.wait_for(head).await;
    let elapsed = started.elapsed();
    let removed = publisher.remove().await;
    waited?;
    removed?;
    Ok(per_second(head, elapsed))
}

/// The mean size in bytes of the log's events as published (their JSON form), for a raw publish
/// of the same payload size. Reads at most `sample_max` events from the start.
pub fn event_payload_bytes_mean(log: &EventLog, sample_max: usize) -> Result<usize, String> {
    let events = log.read_from(1, sample_max).map_err(|e| e.to_string())?;
    if events.is_empty() {
        return Err("the log is empty".into());
    }
    let mut total = 0usize;
    for s in &events {
        let event = orderflow_schemas::decode_event(s.event_type, s.schema_version, &s.payload)
            .map_err(|e| e.to_string())?;
        let env = orderflow_schemas::JsonEnvelope {
            event_id: s.event_id,
            order_id: OrderId(s.stream),
            position: s.position,
            version: s.version,
            recorded_at: orderflow_schemas::Timestamp(s.recorded_at_us),
        };
        total += orderflow_schemas::event_to_json(&event, &env).to_string().len();
    }
    Ok(total / events.len())
}

fn receive_command(i: u64, currency: Currency) -> Command {
    Command::ReceiveOrder(ReceiveOrder {
        channel: Channel::Phone,
        customer: format!("Latency customer {}", i % 100),
        contact: "buyer".into(),
        lines: vec![NewLine {
            sku: format!("P{}", i % 50),
            spec: String::new(),
            quantity: 10,
            unit: "pcs".into(),
            unit_price_minor: 1250,
        }],
        currency,
        requested_date: app::now().date().plus_days(30),
        delivery_address: "Dock 1".into(),
        special_requirements: String::new(),
    })
}

/// `commands` `receive` commands at a steady `rate_per_s` through `app`, its log published by the
/// real publisher into a scratch stream, and the [`E2E_DEPARTMENT`] department consumer on it.
/// Latency of a command = the consumer's receipt of its `order_received` − the command's
/// acknowledgement (its events durable). Returns (p50, p99) in microseconds.
pub async fn end_to_end(
    url: &str,
    app: Arc<App>,
    rate_per_s: u64,
    commands: u64,
) -> Result<(u64, u64), String> {
    if rate_per_s == 0 || commands == 0 {
        return Err("end_to_end needs a rate and at least one command".into());
    }
    let client = connect(url).await?;
    let log = app.log().clone();
    let mut publisher = ScratchPublisher::start(client.clone(), &log)?;
    let result = timed_commands(&client, &app, &mut publisher, rate_per_s, commands).await;
    let removed = publisher.remove().await;
    let figures = result?;
    removed?;
    Ok(figures)
}

async fn timed_commands(
    client: &async_nats::Client,
    app: &Arc<App>,
    publisher: &mut ScratchPublisher,
    rate_per_s: u64,
    commands: u64,
) -> Result<(u64, u64), String> {
    // What the log holds already is published first, and not timed.
    let start_head = app.log().head();
    publisher.wait_for(start_head).await?;

    let acked: Arc<Mutex<HashMap<OrderId, Instant>>> = Arc::default();
    let received: Arc<Mutex<HashMap<OrderId, Instant>>> = Arc::default();
    let expected = usize::try_from(commands).map_err(|_| "too many commands".to_string())?;

    // The department consumer, on the scratch stream.
    let js = jetstream::new(client.clone());
    let options = ConsumerOptions { stream_name: publisher.stream.clone(), ..ConsumerOptions::default() };
    let (stop_consumer, consumer_shutdown) = shutdown_channel();
    let stop_consumer = Arc::new(stop_consumer);
    let consumer = {
        let received = Arc::clone(&received);
        let stop = Arc::clone(&stop_consumer);
        tokio::spawn(async move {
            let handler = move |e: DeptEvent| {
                if e.envelope.position > start_head && e.event.body.event_type().name == "order_received" {
                    let mut r = received.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    r.insert(e.envelope.order_id, Instant::now());
                    if r.len() >= expected {
                        stop.trigger();
                    }
                }
                std::future::ready(Ok::<(), String>(()))
            };
            let routing = RoutingTable::default();
            consume(&js, E2E_DEPARTMENT, &routing, &options, consumer_shutdown, handler)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    };

    // The consumer first works through what the log held (not timed).
    let stream = jetstream::new(client.clone())
        .get_stream(&publisher.stream)
        .await
        .map_err(|e| format!("stream {}: {e}", publisher.stream))?;
    let durable = format!("{}{E2E_DEPARTMENT}", crate::bus::consumer::DURABLE_NAME_PREFIX);
    let warm_up = Instant::now();
    loop {
        if let Ok(info) = stream.consumer_info(&durable).await {
            if info.num_pending == 0 && info.num_ack_pending == 0 {
                break;
            }
        }
        if consumer.is_finished() || warm_up.elapsed() > BENCH_TIMEOUT {
            stop_consumer.trigger();
            return Err(format!("the {E2E_DEPARTMENT} consumer did not catch up with the log"));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }

    // The commands, at a steady rate.
    let currency = Currency::parse("EUR")?;
    let permits = Arc::new(Semaphore::new(E2E_COMMANDS_IN_FLIGHT_MAX));
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let period = Duration::from_nanos(1_000_000_000 / rate_per_s.max(1)).max(Duration::from_nanos(1));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    for i in 0..commands {
        ticks.tick().await;
        let permit = Arc::clone(&permits).try_acquire_owned().map_err(|_| {
            format!("{E2E_COMMANDS_IN_FLIGHT_MAX} commands in flight: the log cannot follow {rate_per_s} commands/s")
        })?;
        let (app, acked, failures) = (Arc::clone(app), Arc::clone(&acked), Arc::clone(&failures));
        tokio::spawn(async move {
            let request = Request {
                order_id: None,
                command_id: Uuid::new_v4(),
                principal: crate::auth::Principal::unchecked(
                    "bench.sales",
                    orderflow_schemas::Grant::Role(Role::Sales),
                ),
                at: None,
                late_reason: None,
                command: receive_command(i, currency),
            };
            match app.execute(request).await {
                Ok(done) => {
                    let at = Instant::now();
                    acked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(done.order_id, at);
                }
                Err(e) => {
                    failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(e.to_string())
                }
            }
            drop(permit);
        });
    }
    let all = u32::try_from(E2E_COMMANDS_IN_FLIGHT_MAX).unwrap_or(u32::MAX);
    let _all_done = tokio::time::timeout(BENCH_TIMEOUT, permits.acquire_many(all))
        .await
        .map_err(|_| "commands did not finish in time".to_string())?;
    let sent_s = started.elapsed().as_secs_f64();
    if let Some(f) = failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).first() {
        stop_consumer.trigger();
        return Err(format!("a command failed: {f}"));
    }
    let consumed = tokio::time::timeout(BENCH_TIMEOUT, consumer).await;
    stop_consumer.trigger();
    match consumed {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => return Err(format!("the consumer stopped: {e}")),
        Ok(Err(e)) => return Err(format!("the consumer task failed: {e}")),
        Err(_) => return Err(format!("the consumer did not see every event within {BENCH_TIMEOUT:?}")),
    }
    tracing::info!(commands, sent_s, "End-to-end commands sent.");

    let acked = acked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let received = received.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut latencies_us = Vec::with_capacity(acked.len());
    for (order, ack) in acked.iter() {
        let got =
            received.get(order).ok_or_else(|| format!("order {order} never reached {E2E_DEPARTMENT}"))?;
        let us = got.saturating_duration_since(*ack).as_micros();
        latencies_us.push(u64::try_from(us).unwrap_or(u64::MAX));
    }
    latencies_us.sort_unstable();
    Ok((percentile(&latencies_us, 500), percentile(&latencies_us, 990)))
}

/// A `nats-server -js` of its own for the benchmark examples: a free port on 127.0.0.1, the store
/// in the given directory, killed on drop. The binary comes from `NATS_SERVER_BIN`, `PATH` or
/// `/usr/sbin/nats-server`.
#[derive(Debug)]
pub struct ScratchServer {
    child: std::process::Child,
    url: String,
}

/// How long a scratch server may take to accept connections.
pub const SCRATCH_SERVER_START_MAX: std::time::Duration = std::time::Duration::from_secs(20);

impl ScratchServer {
    /// Starts the server and waits until it accepts connections.
    pub fn start(store: &std::path::Path) -> Result<Self, String> {
        let bin = std::env::var_os("NATS_SERVER_BIN")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("PATH").and_then(|p| {
                    std::env::split_paths(&p).map(|d| d.join("nats-server")).find(|p| p.is_file())
                })
            })
            .or_else(|| Some("/usr/sbin/nats-server".into()).filter(|p: &std::path::PathBuf| p.is_file()))
            .ok_or(
                "nats-server not found: apt-get install nats-server, or set NATS_SERVER_BIN or NATS_URL",
            )?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let child = std::process::Command::new(bin)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start nats-server: {e}"))?;
        let server = Self { child, url: format!("nats://127.0.0.1:{port}") };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > SCRATCH_SERVER_START_MAX {
                return Err("nats-server did not start".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Ok(server)
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
