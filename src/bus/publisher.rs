//! The publisher: the event log is the outbox; every event is published to JetStream exactly once,
//! in log order.
//!
//! # How exactly-once is kept
//! - Every message carries `Nats-Msg-Id` = the event id, so a re-publish inside the stream's
//!   duplicate window is acknowledged as a duplicate and stored once.
//! - Every message also carries `Nats-Expected-Last-Sequence`: event `p` may only be stored right
//!   after event `p - 1`. The stream therefore always holds a gap-free, in-order run of the log,
//!   and stream sequence − position is a constant. A message that would land out of order (its
//!   predecessor was lost in a disconnect while it waited in the client's buffer) is refused by
//!   the server instead of breaking per-order order.
//! - On start and after every failure the publisher *synchronises*: it reads the stream's last
//!   message, takes its `Orderflow-Position` header `P`, checks that `Nats-Msg-Id` is the id of the
//!   log's event at `P`, and continues at `P + 1`. So nothing below `P` is re-published, even after
//!   a restart longer than the duplicate window or with a checkpoint that is behind. The
//!   checkpoint (sled tree `publisher`, key `checkpoint`, in the log's database) is only the
//!   fallback for a stream whose last message is gone (expired by `max_age`, purged) or empty.
//!
//! The stream is owned by the publisher: a message published to `orderflow.events.>` by anybody
//! else breaks the chain and stops the publisher with [`PublisherError::StreamMismatch`].
//!
//! # Flow
//! Up to [`PublisherConfig::in_flight_max`] publishes wait for their acks at once. The contiguous
//! acknowledged prefix is the publisher's progress; the checkpoint is saved every
//! [`PublisherConfig::checkpoint_every`] and on stop. A failed or timed-out publish drops every
//! publish in flight, waits a bounded exponential backoff, synchronises, and re-publishes from the
//! first event the stream does not hold, with the same message ids; the publisher keeps doing
//! this through broker outages (the NATS client reconnects by itself). New events are awaited
//! with [`EventLog::subscribe`]; there is no polling.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::{ContextBuilder, PublishError};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::stream::{self, StorageType};
use async_nats::jetstream::Context;
use futures::stream::FuturesOrdered;
use futures::{FutureExt, StreamExt};
use orderflow_engine::{EventLog, LogError, StoredEvent};
use orderflow_schemas::{decode_event, event_to_json_vec, JsonEnvelope, OrderId, Timestamp};
use thiserror::Error;
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};
use tracing::{debug, info, info_span, warn, Instrument};

use crate::bus::backoff::Backoff;
use crate::bus::shutdown::Shutdown;
use crate::bus::subjects::{self, EventHeaders, ALL_EVENTS_FILTER};

/// The stream's name unless configured.
pub const STREAM_NAME_DEFAULT: &str = "ORDERFLOW";
/// Stream replicas unless configured.
pub const STREAM_REPLICAS_DEFAULT: usize = 1;
/// How long the stream keeps a message unless configured: 30 days.
pub const STREAM_MAX_AGE_DEFAULT: Duration = Duration::from_secs(30 * 24 * 3600);
/// The stream's duplicate window unless configured: 10 minutes.
pub const DUPLICATE_WINDOW_DEFAULT: Duration = Duration::from_secs(10 * 60);
/// Publishes waiting for their acks at once unless configured.
pub const IN_FLIGHT_MAX_DEFAULT: usize = 8192;
/// Events read from the log in one go unless configured.
pub const READ_BATCH_EVENTS_MAX_DEFAULT: usize = 1024;
/// How long a publish waits for its ack unless configured.
pub const ACK_TIMEOUT_DEFAULT: Duration = Duration::from_secs(5);
/// The first wait after a failure unless configured.
pub const BACKOFF_INITIAL_DEFAULT: Duration = Duration::from_millis(100);
/// The longest wait between retries unless configured.
pub const BACKOFF_MAX_DEFAULT: Duration = Duration::from_secs(5);
/// How often the checkpoint is saved unless configured.
pub const CHECKPOINT_EVERY_DEFAULT: Duration = Duration::from_secs(1);
/// How long a stop may take to publish what is pending unless configured.
pub const SHUTDOWN_DRAIN_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);

/// The sled tree (in the log's database) that holds the publisher's checkpoint, unless configured.
pub const CHECKPOINT_TREE: &str = "publisher";
/// The checkpoint's key: the last position known to be in the stream, u64 big-endian.
pub const CHECKPOINT_KEY: &[u8] = b"checkpoint";

/// How to publish. Every limit is named here.
#[derive(Clone, Debug)]
pub struct PublisherConfig {
    /// The JetStream stream (created or updated on start).
    pub stream_name: String,
    /// The stream's replicas.
    pub stream_replicas: usize,
    /// How long the stream keeps a message (zero: forever).
    pub stream_max_age: Duration,
    /// The stream's duplicate window (at most `stream_max_age` when that is not zero).
    pub duplicate_window: Duration,
    /// Publishes waiting for their acks at once.
    pub in_flight_max: usize,
    /// Events read from the log in one go (at most `in_flight_max`).
    pub read_batch_events_max: usize,
    /// How long a publish waits for its ack (and a JetStream API request for its answer).
    pub ack_timeout: Duration,
    /// The first wait after a failure.
    pub backoff_initial: Duration,
    /// The longest wait between retries.
    pub backoff_max: Duration,
    /// How often the checkpoint is saved.
    pub checkpoint_every: Duration,
    /// How long a stop may take to publish what is pending.
    pub shutdown_drain_timeout: Duration,
    /// The sled tree (in the log's database) of the checkpoint. Only a publisher into a scratch
    /// stream (a benchmark) needs another than [`CHECKPOINT_TREE`], so as to leave the real
    /// publisher's checkpoint alone.
    pub checkpoint_tree: String,
}

impl Default for PublisherConfig {
    fn default() -> Self {
        Self {
            stream_name: STREAM_NAME_DEFAULT.to_string(),
            stream_replicas: STREAM_REPLICAS_DEFAULT,
            stream_max_age: STREAM_MAX_AGE_DEFAULT,
            duplicate_window: DUPLICATE_WINDOW_DEFAULT,
            in_flight_max: IN_FLIGHT_MAX_DEFAULT,
            read_batch_events_max: READ_BATCH_EVENTS_MAX_DEFAULT,
            ack_timeout: ACK_TIMEOUT_DEFAULT,
            backoff_initial: BACKOFF_INITIAL_DEFAULT,
            backoff_max: BACKOFF_MAX_DEFAULT,
            checkpoint_every: CHECKPOINT_EVERY_DEFAULT,
            shutdown_drain_timeout: SHUTDOWN_DRAIN_TIMEOUT_DEFAULT,
            checkpoint_tree: CHECKPOINT_TREE.to_string(),
        }
    }
}

impl PublisherConfig {
    fn validate(&self) -> Result<(), PublisherError> {
        let bad = |m: String| Err(PublisherError::Config(m));
        if self.stream_name.is_empty()
            || !self.stream_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return bad(format!("stream name '{}' (letters, digits, '_' and '-' only)", self.stream_name));
        }
        if self.in_flight_max == 0 || self.read_batch_events_max == 0 {
            return bad("in_flight_max and read_batch_events_max must be at least 1".into());
        }
        if self.read_batch_events_max > self.in_flight_max {
            return bad(format!(
                "read_batch_events_max ({}) above in_flight_max ({})",
                self.read_batch_events_max, self.in_flight_max
            ));
        }
        if self.stream_replicas == 0 {
            return bad("stream_replicas must be at least 1".into());
        }
        if self.duplicate_window.is_zero() {
            return bad("duplicate_window must not be zero".into());
        }
        if !self.stream_max_age.is_zero() && self.duplicate_window > self.stream_max_age {
            return bad("duplicate_window longer than stream_max_age".into());
        }
        if self.checkpoint_tree.is_empty() {
            return bad("checkpoint_tree must not be empty".into());
        }
        if self.ack_timeout.is_zero() || self.checkpoint_every.is_zero() {
            return bad("ack_timeout and checkpoint_every must not be zero".into());
        }
        Ok(())
    }

    /// The JetStream stream configuration the publisher creates or updates.
    pub fn stream_config(&self) -> stream::Config {
        stream::Config {
            name: self.stream_name.clone(),
            subjects: vec![ALL_EVENTS_FILTER.to_string()],
            storage: StorageType::File,
            num_replicas: self.stream_replicas,
            max_age: self.stream_max_age,
            duplicate_window: self.duplicate_window,
            description: Some("orderflow events, published from the event log".to_string()),
            ..Default::default()
        }
    }
}

/// Why the publisher stopped with an error. Broker outages are not errors: they are retried.
#[derive(Debug, Error)]
pub enum PublisherError {
    /// The configuration is unusable.
    #[error("invalid publisher configuration: {0}")]
    Config(String),
    /// The log could not be read.
    #[error("reading the event log: {0}")]
    Log(#[from] LogError),
    /// An event of the log cannot be turned into its message; it is never skipped.
    #[error("event at position {position} cannot be published: {detail}")]
    Unpublishable {
        /// Its position.
        position: u64,
        /// What is wrong.
        detail: String,
    },
    /// JetStream refused to create or update the stream.
    #[error("JetStream refused stream {stream}: {detail}")]
    StreamRefused {
        /// The stream.
        stream: String,
        /// JetStream's answer.
        detail: String,
    },
    /// The stream holds messages that are not this log's events in order.
    #[error("stream {stream} does not continue this log: {detail}")]
    StreamMismatch {
        /// The stream.
        stream: String,
        /// What does not match.
        detail: String,
    },
}

/// Live counters of a running publisher.
#[derive(Debug, Default)]
pub struct PublisherMetrics {
    published_total: AtomicU64,
    duplicates_total: AtomicU64,
    retries_total: AtomicU64,
    acked_position: AtomicU64,
    checkpoint_saved: AtomicU64,
    in_flight: AtomicU64,
}

/// A snapshot of [`PublisherMetrics`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PublisherStats {
    /// Messages this run stored in the stream: acks that were not duplicates, plus messages whose
    /// acks were lost but that a synchronisation found stored.
    pub published_total: u64,
    /// Acks that said "duplicate" (a re-publish of a stored message), since start.
    pub duplicates_total: u64,
    /// Failures that were retried (timeouts, disconnects, refused sequence), since start.
    pub retries_total: u64,
    /// Every position up to this one is in the stream.
    pub acked_position: u64,
    /// The checkpoint last saved.
    pub checkpoint_saved: u64,
    /// Publishes waiting for their acks.
    pub in_flight: u64,
}

impl PublisherMetrics {
    /// The counters now.
    pub fn snapshot(&self) -> PublisherStats {
        PublisherStats {
            published_total: self.published_total.load(Ordering::Relaxed),
            duplicates_total: self.duplicates_total.load(Ordering::Relaxed),
            retries_total: self.retries_total.load(Ordering::Relaxed),
            acked_position: self.acked_position.load(Ordering::Relaxed),
            checkpoint_saved: self.checkpoint_saved.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PublisherReport {
    /// The counters at the end.
    pub stats: PublisherStats,
    /// What the run had to publish: the log's head when the stop was asked.
    pub target_position: u64,
    /// Whether everything up to `target_position` was published before the drain timeout.
    pub drained: bool,
}

/// The checkpoint saved in a log's database by a publisher of the default configuration (0 when
/// none).
pub fn saved_checkpoint(log: &EventLog) -> Result<u64, PublisherError> {
    let tree = log.db().open_tree(CHECKPOINT_TREE).map_err(LogError::from)?;
    read_checkpoint(&tree)
}

fn read_checkpoint(tree: &sled::Tree) -> Result<u64, PublisherError> {
    match tree.get(CHECKPOINT_KEY).map_err(LogError::from)? {
        None => Ok(0),
        Some(v) => {
            let bytes: [u8; 8] = v.as_ref().try_into().map_err(|_| {
                PublisherError::Log(LogError::Corrupted {
                    position: 0,
                    detail: format!("publisher checkpoint of {} bytes", v.len()),
                })
            })?;
            Ok(u64::from_be_bytes(bytes))
        }
    }
}

/// Publishes the log to JetStream. See the module documentation.
#[derive(Debug)]
pub struct Publisher {
    log: EventLog,
    js: Context,
    config: PublisherConfig,
    metrics: Arc<PublisherMetrics>,
}

/// A failure while talking to the broker: retried, or fatal.
enum Failure {
    Retry(String),
    Fatal(PublisherError),
}

impl From<PublisherError> for Failure {
    fn from(e: PublisherError) -> Self {
        Failure::Fatal(e)
    }
}

impl From<LogError> for Failure {
    fn from(e: LogError) -> Self {
        Failure::Fatal(e.into())
    }
}

type AckFuture = Pin<Box<dyn Future<Output = (u64, Result<PublishAck, PublishError>)> + Send>>;

/// Where the stream stands relative to the log: the event at `position` has stream sequence
/// `sequence` (or, with `sequence` the stream's last sequence and nothing of ours known in it,
/// `position + 1` comes next).
#[derive(Clone, Copy, Debug)]
struct Anchor {
    position: u64,
    sequence: u64,
}

impl Anchor {
    /// The stream sequence the event at `position` is stored under.
    fn sequence_of(self, position: u64) -> u64 {
        self.sequence + (position - self.position)
    }
}

/// Why the main loop ended.
enum Stop {
    Drained,
    TimedOut,
}

impl Publisher {
    /// A publisher of `log` over `client`, which should reconnect by itself (the default). It
    /// builds its own JetStream context so that acks in flight and timeouts follow `config`.
    pub fn new(
        client: async_nats::Client,
        log: EventLog,
        config: PublisherConfig,
    ) -> Result<Self, PublisherError> {
        config.validate()?;
        // Twice the window: permits of publishes dropped after a failure are held by the client's
        // acker until their ack times out; the re-publish must not wait for them.
        let js = ContextBuilder::new()
            .timeout(config.ack_timeout)
            .ack_timeout(config.ack_timeout)
            .max_ack_inflight(config.in_flight_max.saturating_mul(2))
            .backpressure_on_inflight(true)
            .build(client);
        Ok(Self { log, js, config, metrics: Arc::new(PublisherMetrics::default()) })
    }

    /// The live counters (keep the `Arc` to read them while [`Publisher::run`] runs).
    pub fn metrics(&self) -> Arc<PublisherMetrics> {
        Arc::clone(&self.metrics)
    }

    /// Publishes until `shutdown` is asked (or the log closes), then publishes what is pending
    /// within the drain timeout, saves the checkpoint and reports. Returns an error only for what
    /// retrying cannot fix.
    pub async fn run(self, shutdown: Shutdown) -> Result<PublisherReport, PublisherError> {
        let span = info_span!("publisher", stream = %self.config.stream_name);
        self.run_inner(shutdown).instrument(span).await
    }

    async fn run_inner(self, shutdown: Shutdown) -> Result<PublisherReport, PublisherError> {
        let mut state = self.start(shutdown)?;
        let stop = loop {
            if let Some(stop) = state.tend().await {
                break stop;
            }
            match state.phase {
                Phase::BackOff(kind) => state.back_off(kind).await,
                Phase::Sync(_) => {
                    if let Err(e) = state.sync().await {
                        state.failed(e, "Cannot reach the stream").await?;
                    }
                }
                Phase::Publishing => state.publish_step().await?,
            }
        };
        Ok(state.finish(stop).await)
    }

    /// The state of a new run: from the saved checkpoint, with the stream still to set up.
    fn start(&self, shutdown: Shutdown) -> Result<State<'_>, PublisherError> {
        let tree = self.log.db().open_tree(&self.config.checkpoint_tree).map_err(LogError::from)?;
        let saved = read_checkpoint(&tree)?;
        self.metrics.acked_position.store(saved, Ordering::Relaxed);
        self.metrics.checkpoint_saved.store(saved, Ordering::Relaxed);
        info!(checkpoint = saved, head = self.log.head(), "Publisher starting.");
        Ok(State {
            publisher: self,
            tree,
            acked: saved,
            saved,
            anchor: Anchor { position: saved, sequence: 0 },
            phase: Phase::Sync(SyncKind::Setup),
            backoff: Backoff::new(self.config.backoff_initial, self.config.backoff_max),
            in_flight: FuturesOrdered::new(),
            next: saved + 1,
            head_rx: self.log.subscribe(),
            drain: None,
            checkpoint_at: Instant::now() + self.config.checkpoint_every,
            shutdown,
        })
    }

    fn drain_target(&self) -> (u64, Instant) {
        (self.log.head(), Instant::now() + self.config.shutdown_drain_timeout)
    }
}

/// The subject and message (payload and headers, without the sequence expectation) of an event.
pub(crate) fn message_of(event: &StoredEvent) -> Result<(String, PublishMessage), PublisherError> {
    let unpublishable = |detail: String| PublisherError::Unpublishable { position: event.position, detail };
    let decoded = decode_event(event.event_type, event.schema_version, &event.payload)
        .map_err(|e| unpublishable(e.to_string()))?;
    let ty = decoded.body.event_type();
    let envelope = JsonEnvelope {
        event_id: event.event_id,
        order_id: OrderId(event.stream),
        position: event.position,
        version: event.version,
        recorded_at: Timestamp(event.recorded_at_us),
    };
    let payload = event_to_json_vec(&decoded, &envelope).map_err(|e| unpublishable(e.to_string()))?;
    let subject = subjects::event_subject(ty.name, envelope.order_id);
    let message =
        PublishMessage::build().payload(payload.into()).headers(subjects::event_headers(ty, &envelope));
    Ok((subject, message))
}

/// Where a run stands with the stream: the publisher's state machine. A run starts in
/// `Sync(Setup)`; its transitions:
/// - `Sync(Setup)` → `Sync(First)` once the stream is created or updated;
/// - `Sync(kind)` → `Publishing` when the synchronisation succeeds;
/// - `Publishing` → `BackOff(Again)`, and `Sync(kind)` → `BackOff(kind)`, on a retryable failure;
/// - `BackOff(kind)` → `Sync(kind)` after the wait.
///
/// A fatal failure ends the run from any phase.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Wait a backoff, then synchronise (after a retryable failure).
    BackOff(SyncKind),
    /// Find where the stream stands before publishing.
    Sync(SyncKind),
    /// `acked`, `anchor` and `next` agree with the stream: publish and take acks.
    Publishing,
}

/// What a synchronisation has to do besides finding the stream's last message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SyncKind {
    /// The stream has not been set up in this run: create or update it first.
    Setup,
    /// The stream is set up, but no synchronisation has succeeded in this run yet.
    First,
    /// The run was in sync before: what the stream holds beyond `acked` was stored by this run
    /// (its acks were lost) and counts as published.
    Again,
}

impl Phase {
    /// The synchronisation that a retryable failure in this phase leads to.
    fn after_failure(self) -> SyncKind {
        match self {
            Phase::Publishing => SyncKind::Again,
            Phase::BackOff(kind) | Phase::Sync(kind) => kind,
        }
    }
}

/// The mutable part of a run.
struct State<'a> {
    publisher: &'a Publisher,
    tree: sled::Tree,
    /// Every position up to this one is in the stream.
    acked: u64,
    saved: u64,
    anchor: Anchor,
    /// Where the run stands with the stream.
    phase: Phase,
    backoff: Backoff,
    /// Publishes waiting for their acks, in position order.
    in_flight: FuturesOrdered<AckFuture>,
    /// The next position to publish.
    next: u64,
    /// The log's durable head, announced as it moves.
    head_rx: watch::Receiver<u64>,
    /// Set when a stop was asked: (everything up to this position, by this instant).
    drain: Option<(u64, Instant)>,
    /// When the checkpoint is saved next.
    checkpoint_at: Instant,
    /// The stop request.
    shutdown: Shutdown,
}

impl State<'_> {
    /// The start of every turn: notices a stop request, saves the checkpoint when it is due, and
    /// ends the run once a drain is done or its deadline has passed.
    async fn tend(&mut self) -> Option<Stop> {
        let p = self.publisher;
        if self.drain.is_none() && self.shutdown.is_requested() {
            self.drain = Some(p.drain_target());
            info!(
                target = p.log.head(),
                in_flight = self.in_flight.len(),
                "Stop asked; publishing what is pending."
            );
        }
        if Instant::now() >= self.checkpoint_at {
            self.save_checkpoint().await;
            self.checkpoint_at = Instant::now() + p.config.checkpoint_every;
        }
        let (target, deadline) = self.drain?;
        if self.acked >= target {
            return Some(Stop::Drained);
        }
        if Instant::now() >= deadline {
            return Some(Stop::TimedOut);
        }
        None
    }

    /// Waits the next backoff (cut short by a stop request or the drain deadline), then
    /// synchronises.
    async fn back_off(&mut self, kind: SyncKind) {
        self.phase = Phase::Sync(kind);
        let wait = self.backoff.next_wait();
        debug!(wait_ms = wait.as_millis(), "Waiting before retrying.");
        let until = Instant::now() + wait;
        let until = self.drain.map_or(until, |(_, deadline)| until.min(deadline));
        let draining = self.drain.is_some();
        tokio::select! {
            () = sleep_until(until) => {}
            () = self.shutdown.requested(), if !draining => {}
        }
    }

    /// One turn in sync: takes the acks that are in, then publishes more while the window has
    /// room, or else waits for something to happen.
    async fn publish_step(&mut self) -> Result<(), PublisherError> {
        self.take_ready_acks().await?;
        if self.phase != Phase::Publishing {
            return Ok(());
        }
        let p = self.publisher;
        let limit = self.drain.map_or_else(|| *self.head_rx.borrow_and_update(), |(target, _)| target);
        let room = p.config.in_flight_max - self.in_flight.len();
        if self.next <= limit && (self.in_flight.is_empty() || room >= p.config.read_batch_events_max) {
            if let Err(e) = self.fill(limit).await {
                self.failed(e, "Publish failed").await?;
            }
        } else {
            self.wait_for_progress(limit).await?;
        }
        p.metrics.in_flight.store(self.in_flight.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Takes the acks that have already arrived, without waiting; stops at the first failure.
    async fn take_ready_acks(&mut self) -> Result<(), PublisherError> {
        while let Some(Some((position, result))) = self.in_flight.next().now_or_never() {
            if let Err(e) = self.acknowledged(position, result) {
                self.failed(e, "Publish failed").await?;
                break;
            }
        }
        Ok(())
    }

    /// Waits for the next thing to do: an ack, new events in the log (when everything up to
    /// `limit` is published), a stop request, the checkpoint's or the drain's deadline.
    async fn wait_for_progress(&mut self, limit: u64) -> Result<(), PublisherError> {
        let p = self.publisher;
        let caught_up = self.next > limit;
        let draining = self.drain.is_some();
        let drain_deadline = self.drain.map_or_else(Instant::now, |(_, deadline)| deadline);
        tokio::select! {
            () = self.shutdown.requested(), if !draining => {}
            Some((position, result)) = self.in_flight.next(), if !self.in_flight.is_empty() => {
                if let Err(e) = self.acknowledged(position, result) {
                    self.failed(e, "Publish failed").await?;
                }
            }
            changed = self.head_rx.changed(), if !draining && caught_up => {
                if changed.is_err() {
                    info!(target = p.log.head(), "The log closed; publishing what is pending.");
                    self.drain = Some(p.drain_target());
                }
            }
            () = sleep_until(self.checkpoint_at) => {}
            () = sleep_until(drain_deadline), if draining => {}
        }
        Ok(())
    }

    /// Ends the run: saves the checkpoint and reports.
    async fn finish(mut self, stop: Stop) -> PublisherReport {
        self.save_checkpoint().await;
        let stats = self.publisher.metrics.snapshot();
        let target_position = self.drain.map_or(self.acked, |(target, _)| target);
        let drained = matches!(stop, Stop::Drained);
        if drained {
            info!(acked = stats.acked_position, published = stats.published_total, "Publisher stopped.");
        } else {
            warn!(
                acked = stats.acked_position,
                target = target_position,
                "Publisher stopped before publishing everything pending."
            );
        }
        PublisherReport { stats, target_position, drained }
    }

    /// Reads up to one batch from `next` (not beyond `limit`) and publishes it.
    async fn fill(&mut self, limit: u64) -> Result<(), Failure> {
        let p = self.publisher;
        let room = p.config.in_flight_max - self.in_flight.len();
        let want = room.min(p.config.read_batch_events_max);
        let events = p.log.read_from(self.next, want)?;
        for event in events.into_iter().take_while(|e| e.position <= limit) {
            if event.position != self.next {
                return Err(LogError::Corrupted {
                    position: self.next,
                    detail: format!("read_from returned position {} instead", event.position),
                }
                .into());
            }
            let (subject, message) = message_of(&event)?;
            let message = message.expected_last_sequence(self.anchor.sequence_of(event.position) - 1);
            let ack = p.js.send_publish(subject, message).await.map_err(|e| Failure::Retry(e.to_string()))?;
            let position = event.position;
            self.in_flight.push_back(Box::pin(async move { (position, ack.await) }));
            self.next += 1;
        }
        Ok(())
    }

    /// After a failure: a fatal one saves the checkpoint and is returned; a retryable one drops
    /// every publish in flight and asks for a backoff and a new synchronisation.
    async fn failed(&mut self, failure: Failure, what: &str) -> Result<(), PublisherError> {
        match failure {
            Failure::Fatal(e) => {
                self.save_checkpoint().await;
                Err(e)
            }
            Failure::Retry(why) => {
                let p = self.publisher;
                p.metrics.retries_total.fetch_add(1, Ordering::Relaxed);
                warn!(acked = self.acked, in_flight = self.in_flight.len(), error = %why, "{what}; retrying.");
                self.in_flight = FuturesOrdered::new();
                p.metrics.in_flight.store(0, Ordering::Relaxed);
                self.phase = Phase::BackOff(self.phase.after_failure());
                Ok(())
            }
        }
    }

    /// The stream: created or updated on the first synchronisation of a run (a refusal is
    /// fatal), found or re-created on later ones (it may have been deleted meanwhile; any error
    /// is retried).
    async fn stream(&mut self) -> Result<stream::Stream, Failure> {
        let p = self.publisher;
        let name = &p.config.stream_name;
        let config = p.config.stream_config();
        if self.phase != Phase::Sync(SyncKind::Setup) {
            return p.js.get_or_create_stream(config).await.map_err(|e| Failure::Retry(e.to_string()));
        }
        use async_nats::jetstream::context::CreateStreamErrorKind as K;
        p.js.create_or_update_stream(config).await.map_err(|e| match e.kind() {
            K::JetStream(err) => Failure::Fatal(PublisherError::StreamRefused {
                stream: name.clone(),
                detail: err.to_string(),
            }),
            _ => Failure::Retry(format!("creating or updating the stream: {e}")),
        })?;
        self.phase = Phase::Sync(SyncKind::First);
        p.js.get_stream(name).await.map_err(|e| Failure::Retry(e.to_string()))
    }

    /// Makes sure the stream exists (created or updated on the first call) and finds where it
    /// stands: `acked` and `anchor` afterwards describe the stream's last message.
    async fn sync(&mut self) -> Result<(), Failure> {
        let p = self.publisher;
        let name = &p.config.stream_name;
        let mismatch = |detail: String| PublisherError::StreamMismatch { stream: name.clone(), detail };
        let stream = self.stream().await?;
        let info = stream.get_info().await.map_err(|e| Failure::Retry(e.to_string()))?;
        let last_sequence = info.state.last_sequence;
        if last_sequence == 0 {
            // A new (or re-created) stream: continue from the checkpoint.
            self.anchor = Anchor { position: self.acked, sequence: 0 };
            info!(acked = self.acked, "Stream is empty; continuing from the checkpoint.");
            self.synced_at(self.acked);
            return Ok(());
        }
        use async_nats::jetstream::stream::RawMessageErrorKind as R;
        let last = match stream.get_raw_message(last_sequence).await {
            Ok(m) => m,
            Err(e) if e.kind() == R::NoMessageFound => {
                // Expired or purged: only the checkpoint is left to go by.
                warn!(
                    last_sequence,
                    acked = self.acked,
                    "The stream's last message is gone; continuing from the checkpoint."
                );
                self.anchor = Anchor { position: self.acked, sequence: last_sequence };
                self.synced_at(self.acked);
                return Ok(());
            }
            Err(e) => return Err(Failure::Retry(e.to_string())),
        };
        let headers = EventHeaders::parse(&last.headers)
            .map_err(|e| mismatch(format!("message {last_sequence} is not an orderflow event: {e}")))?;
        let head = p.log.head();
        if headers.position > head {
            return Err(mismatch(format!(
                "message {last_sequence} holds position {} but the log ends at {head}",
                headers.position
            ))
            .into());
        }
        let ours = p.log.read_from(headers.position, 1)?;
        let ours = ours
            .first()
            .filter(|e| e.position == headers.position)
            .ok_or_else(|| mismatch(format!("the log has no event at position {}", headers.position)))?;
        if ours.event_id != headers.event_id {
            return Err(mismatch(format!(
                "message {last_sequence} is event {} at position {}, the log has event {} there",
                headers.event_id, headers.position, ours.event_id
            ))
            .into());
        }
        if headers.position < self.acked {
            warn!(
                stream_position = headers.position,
                acked = self.acked,
                "The stream holds less than was acknowledged; re-publishing the rest."
            );
        }
        self.anchor = Anchor { position: headers.position, sequence: last_sequence };
        self.synced_at(headers.position);
        debug!(position = self.acked, sequence = last_sequence, "Continuing after the stream's last event.");
        Ok(())
    }

    /// The stream holds everything up to `acked` and nothing beyond: publish from `acked + 1`.
    fn synced_at(&mut self, acked: u64) {
        if self.phase == Phase::Sync(SyncKind::Again) && acked > self.acked {
            // Stored by this run although their acks were lost.
            self.publisher.metrics.published_total.fetch_add(acked - self.acked, Ordering::Relaxed);
        }
        self.acked = acked;
        self.next = acked + 1;
        self.phase = Phase::Publishing;
        self.publisher.metrics.acked_position.store(acked, Ordering::Relaxed);
    }

    /// Takes one ack, in position order.
    fn acknowledged(
        &mut self,
        position: u64,
        result: Result<PublishAck, PublishError>,
    ) -> Result<(), Failure> {
        let p = self.publisher;
        let ack = result.map_err(|e| Failure::Retry(e.to_string()))?;
        if ack.stream != p.config.stream_name {
            return Err(PublisherError::StreamMismatch {
                stream: p.config.stream_name.clone(),
                detail: format!("position {position} was stored in stream {}", ack.stream),
            }
            .into());
        }
        let expected = self.anchor.sequence_of(position);
        if ack.sequence != expected || position != self.acked + 1 {
            return Err(Failure::Retry(format!(
                "position {position} acknowledged as sequence {} (duplicate: {}), expected {expected} after {}",
                ack.sequence, ack.duplicate, self.acked
            )));
        }
        self.acked = position;
        self.backoff.reset();
        let counter = if ack.duplicate { &p.metrics.duplicates_total } else { &p.metrics.published_total };
        counter.fetch_add(1, Ordering::Relaxed);
        p.metrics.acked_position.store(position, Ordering::Relaxed);
        Ok(())
    }

    /// Saves the acknowledged prefix as the checkpoint, when it moved. A failure is logged: the
    /// checkpoint is only a fallback (see the module documentation).
    async fn save_checkpoint(&mut self) {
        if self.acked == self.saved {
            return;
        }
        let result = match self.tree.insert(CHECKPOINT_KEY, &self.acked.to_be_bytes()) {
            Ok(_) => self.tree.flush_async().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                self.saved = self.acked;
                self.publisher.metrics.checkpoint_saved.store(self.acked, Ordering::Relaxed);
                debug!(checkpoint = self.acked, "Checkpoint saved.");
            }
            Err(e) => warn!(error = %e, checkpoint = self.acked, "Cannot save the publisher checkpoint."),
        }
    }
}
