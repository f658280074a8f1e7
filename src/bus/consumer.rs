//! Department consumers: each department reads the events it needs from the stream, in order,
//! through its own durable JetStream pull consumer.
//!
//! # Filtering
//! The consumer of department `<dept>` is the durable pull consumer `orderflow-<dept>` with
//! explicit acks. nats-server 2.9 takes ONE `filter_subject` per consumer (`filter_subjects`, for
//! several, is silently ignored there and the consumer gets everything), so:
//! - a department that needs exactly one event type filters on `orderflow.events.<type>.>`;
//! - any other department filters on `orderflow.events.>` and filters on the client: events of
//!   types it does not need are acknowledged and skipped without being parsed.
//!
//! One consumer over every subject, rather than one consumer per event type, keeps the events of
//! an order in their log order across types (an order's `order_approved` always comes before its
//! `order_cancelled`), which per-type consumers could not promise.
//!
//! # Delivery guarantees
//! The stream holds every event exactly once (see [`crate::bus::publisher`]). A handler is called
//! once per event, in stream order, and the event is acknowledged after the handler returns `Ok`.
//! That is *at-least-once* towards the handler: after a crash between handling and ack, or an ack
//! lost in a disconnect, the event is delivered again. [`DeptEvent::envelope`]'s `event_id` (and
//! the order's `version`) make handlers idempotent; [`DeptEvent::delivered`] tells a redelivery.
//!
//! Only one `consume` per department may run at a time: a second one would share the durable
//! consumer's messages and the order of events would be lost.
//!
//! # Failures
//! - A handler error: the event and every later event of the same pull are negatively
//!   acknowledged (in order, so that they come back first and in order), and `consume` returns
//!   [`ConsumeError::Handler`].
//! - An event that cannot be read (payload not the JSON form, an unknown type or version, headers
//!   that contradict the payload, a subject outside the scheme) is reported with its stream
//!   sequence, never skipped silently. [`OnUndecodable::Stop`] (the default) negatively
//!   acknowledges it and the rest of the pull, and returns [`ConsumeError::Undecodable`]: the
//!   operator upgrades the build or repairs the stream. [`OnUndecodable::Terminate`] terminates
//!   the message (JetStream never delivers it again), logs it, records it in
//!   [`ConsumeStats::undecodable`] and goes on.
//! - After [`ConsumerOptions::max_deliver`] deliveries JetStream stops delivering a message and
//!   publishes a `MAX_DELIVERIES` advisory; the last attempt is logged as an error.
//! - Broker outages, and a stream that does not exist yet (the publisher creates it), are retried
//!   with a bounded backoff until a stop is asked.
//!
//! # Pulls
//! Events are pulled in batches of at most [`ConsumerOptions::batch_events_max`], taking what the
//! stream has without waiting; when it has nothing, one message is awaited (a long poll of at most
//! [`ConsumerOptions::fetch_expires`]). No pull request stays open while events are handled: a
//! negatively acknowledged event would otherwise be delivered again into it at once, out of
//! order. A stop is noticed between pulls and between events; the events already pulled are
//! still handled, so that none is redelivered behind newer ones.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::{self, AckKind, Context};
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use orderflow_schemas::{event_from_json, Event, JsonEnvelope};
use thiserror::Error;
use tracing::{debug, error, info, info_span, warn, Instrument};
use uuid::Uuid;

use crate::bus::backoff::Backoff;
use crate::bus::publisher::{BACKOFF_INITIAL_DEFAULT, BACKOFF_MAX_DEFAULT, STREAM_NAME_DEFAULT};
use crate::bus::routing::RoutingTable;
use crate::bus::shutdown::Shutdown;
use crate::bus::subjects::{self, EventHeaders, ALL_EVENTS_FILTER};

/// How long JetStream waits for an ack before delivering again, unless configured.
pub const ACK_WAIT_DEFAULT: Duration = Duration::from_secs(30);
/// Deliveries of one message at most, unless configured.
pub const MAX_DELIVER_DEFAULT: i64 = 20;
/// Messages delivered and not yet acknowledged at most, unless configured.
pub const MAX_ACK_PENDING_DEFAULT: i64 = 1024;
/// Messages in one pull, unless configured.
pub const BATCH_EVENTS_MAX_DEFAULT: usize = 256;
/// How long one pull waits for messages, unless configured.
pub const FETCH_EXPIRES_DEFAULT: Duration = Duration::from_secs(1);
/// Unreadable messages kept in [`ConsumeStats::undecodable`], unless configured.
pub const UNDECODABLE_KEPT_MAX_DEFAULT: usize = 64;
/// How long `consume` waits for its last acks to be flushed when it stops.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// The prefix of a department consumer's durable name: `orderflow-<department>`.
pub const DURABLE_NAME_PREFIX: &str = "orderflow-";

/// What to do with a message that cannot be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum OnUndecodable {
    /// Negatively acknowledge it and stop with [`ConsumeError::Undecodable`].
    #[default]
    Stop,
    /// Terminate it (never delivered again), report it, and go on.
    Terminate,
}

/// How a department consumer runs. Every limit is named here.
#[derive(Clone, Debug)]
pub struct ConsumerOptions {
    /// The stream to read.
    pub stream_name: String,
    /// How long JetStream waits for an ack before delivering again. Keep it well above
    /// `batch_events_max` × the handler's time.
    pub ack_wait: Duration,
    /// Deliveries of one message at most.
    pub max_deliver: i64,
    /// Messages delivered and not yet acknowledged at most (at least `batch_events_max`).
    pub max_ack_pending: i64,
    /// Messages in one pull.
    pub batch_events_max: usize,
    /// How long one pull waits for messages.
    pub fetch_expires: Duration,
    /// The first wait after a broker failure.
    pub backoff_initial: Duration,
    /// The longest wait between retries.
    pub backoff_max: Duration,
    /// What to do with a message that cannot be read.
    pub on_undecodable: OnUndecodable,
    /// Unreadable messages kept in [`ConsumeStats::undecodable`] (all are counted).
    pub undecodable_kept_max: usize,
    /// Whether `consume` creates the durable consumer when it is missing (a client of the
    /// stream's own account). `false`: it only binds to the consumer the engine made
    /// ([`create_department_consumers`]), through the subjects a department's account imports
    /// (consumer INFO, MSG.NEXT, ACK), waiting with the backoff until it exists.
    pub create: bool,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        Self {
            stream_name: STREAM_NAME_DEFAULT.to_string(),
            ack_wait: ACK_WAIT_DEFAULT,
            max_deliver: MAX_DELIVER_DEFAULT,
            max_ack_pending: MAX_ACK_PENDING_DEFAULT,
            batch_events_max: BATCH_EVENTS_MAX_DEFAULT,
            fetch_expires: FETCH_EXPIRES_DEFAULT,
            backoff_initial: BACKOFF_INITIAL_DEFAULT,
            backoff_max: BACKOFF_MAX_DEFAULT,
            on_undecodable: OnUndecodable::default(),
            undecodable_kept_max: UNDECODABLE_KEPT_MAX_DEFAULT,
            create: true,
        }
    }
}

impl ConsumerOptions {
    fn validate(&self) -> Result<(), String> {
        if self.batch_events_max == 0 {
            return Err("batch_events_max must be at least 1".into());
        }
        let batch = i64::try_from(self.batch_events_max).unwrap_or(i64::MAX);
        if self.max_ack_pending < batch {
            return Err(format!(
                "max_ack_pending ({}) below batch_events_max ({})",
                self.max_ack_pending, self.batch_events_max
            ));
        }
        if self.max_deliver < 1 {
            return Err("max_deliver must be at least 1".into());
        }
        if self.ack_wait.is_zero() || self.fetch_expires.is_zero() {
            return Err("ack_wait and fetch_expires must not be zero".into());
        }
        Ok(())
    }
}

/// One event as a department handler receives it.
#[derive(Clone, Debug)]
pub struct DeptEvent {
    /// The event.
    pub event: Event,
    /// Where it stands in the log: position, order id, order version, event id.
    pub envelope: JsonEnvelope,
    /// The message's subject.
    pub subject: String,
    /// The message's sequence in the stream.
    pub stream_sequence: u64,
    /// Which delivery this is (1 for the first; more is a redelivery).
    pub delivered: i64,
    /// The payload: the event's JSON form, as published.
    pub json: Bytes,
}

/// A message that could not be read.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Undecodable {
    /// Its sequence in the stream.
    pub stream_sequence: u64,
    /// Its subject.
    pub subject: String,
    /// What is wrong.
    pub detail: String,
}

/// What a `consume` call did.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ConsumeStats {
    /// Messages received.
    pub delivered_total: u64,
    /// Events the handler accepted.
    pub handled_total: u64,
    /// Messages of types the department does not need, acknowledged unread.
    pub skipped_total: u64,
    /// Messages received more than once.
    pub redelivered_total: u64,
    /// Messages that could not be read.
    pub undecodable_total: u64,
    /// The first unreadable messages (at most `undecodable_kept_max`), when terminated.
    pub undecodable: Vec<Undecodable>,
}

/// A department that is not in the routing table.
#[derive(Clone, PartialEq, Eq, Debug, Error)]
#[error("unknown department '{department}'; the routing table has: {known}")]
pub struct UnknownDepartment {
    /// The name asked for.
    pub department: String,
    /// The table's departments.
    pub known: String,
}

/// Why `consume` stopped with an error. Broker outages are not errors: they are retried.
#[derive(Debug, Error)]
pub enum ConsumeError<E: fmt::Debug + fmt::Display> {
    /// The department is not in the routing table.
    #[error(transparent)]
    UnknownDepartment(#[from] UnknownDepartment),
    /// The options are unusable.
    #[error("invalid consumer options: {0}")]
    Config(String),
    /// JetStream refused the consumer's configuration.
    #[error("JetStream refused consumer {consumer}: {detail}")]
    Refused {
        /// The durable name.
        consumer: String,
        /// JetStream's answer.
        detail: String,
    },
    /// A message could not be read ([`OnUndecodable::Stop`]).
    #[error("message {} on {} cannot be read: {}", .0.stream_sequence, .0.subject, .0.detail)]
    Undecodable(Undecodable),
    /// The handler failed; the event will be delivered again.
    #[error("the handler failed on event {event_id} (stream sequence {stream_sequence}): {error}")]
    Handler {
        /// The message's sequence in the stream.
        stream_sequence: u64,
        /// The event.
        event_id: Uuid,
        /// What the handler said.
        error: E,
    },
}

/// What a department's consumer reads: its durable name, filter and the types it keeps.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ConsumerPlan {
    /// The department.
    pub department: String,
    /// `orderflow-<department>`.
    pub durable_name: String,
    /// `orderflow.events.<type>.>` for a department of one type, else `orderflow.events.>`.
    pub filter_subject: String,
    /// The event types handed to the handler.
    pub event_types: BTreeSet<&'static str>,
}

impl ConsumerPlan {
    /// The plan of a department of the routing table.
    pub fn new(routing: &RoutingTable, department: &str) -> Result<Self, UnknownDepartment> {
        let event_types = routing.event_types(department).cloned().ok_or_else(|| UnknownDepartment {
            department: department.to_string(),
            known: routing.departments().collect::<Vec<_>>().join(", "),
        })?;
        let filter_subject = match (event_types.len(), event_types.first()) {
            (1, Some(only)) => subjects::event_type_filter(only),
            _ => ALL_EVENTS_FILTER.to_string(),
        };
        Ok(Self {
            department: department.to_string(),
            durable_name: format!("{DURABLE_NAME_PREFIX}{department}"),
            filter_subject,
            event_types,
        })
    }

    /// The durable pull consumer's configuration.
    pub fn consumer_config(&self, options: &ConsumerOptions) -> pull::Config {
        pull::Config {
            durable_name: Some(self.durable_name.clone()),
            description: Some(format!("orderflow department {}", self.department)),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: options.ack_wait,
            max_deliver: options.max_deliver,
            filter_subject: self.filter_subject.clone(),
            max_ack_pending: options.max_ack_pending,
            ..Default::default()
        }
    }
}

/// A failed attempt at the broker: retried, or refused for good.
enum Attempt {
    Retry(String),
    Refused(String),
}

/// Creates (or finds) the department's durable consumer and checks that the server kept its
/// filter.
async fn ensure_consumer(
    js: &Context,
    plan: &ConsumerPlan,
    options: &ConsumerOptions,
) -> Result<PullConsumer, Attempt> {
    use async_nats::jetstream::stream::ConsumerErrorKind as K;
    if !options.create {
        return bind_consumer(js, plan, options).await;
    }
    let stream = js
        .get_stream(&options.stream_name)
        .await
        .map_err(|e| Attempt::Retry(format!("stream {}: {e}", options.stream_name)))?;
    let consumer =
        stream.create_consumer(plan.consumer_config(options)).await.map_err(|e| match e.kind() {
            K::JetStream(err) => Attempt::Refused(err.to_string()),
            _ => Attempt::Retry(e.to_string()),
        })?;
    let kept = &consumer.cached_info().config.filter_subject;
    if *kept != plan.filter_subject {
        return Err(Attempt::Refused(format!(
            "the server keeps filter '{kept}' where '{}' was asked",
            plan.filter_subject
        )));
    }
    Ok(consumer)
}

/// Binds to the department's durable consumer made by the engine; never creates or changes it.
/// Its filter must give the department every event it needs: the plan's, or every event.
async fn bind_consumer(
    js: &Context,
    plan: &ConsumerPlan,
    options: &ConsumerOptions,
) -> Result<PullConsumer, Attempt> {
    let consumer: PullConsumer =
        js.get_consumer_from_stream(&plan.durable_name, &options.stream_name).await.map_err(|e| {
            Attempt::Retry(format!(
                "consumer {} of stream {}: {e} (orderflow serve creates it at start; a department's \
                 NATS user reaches only its own department's consumer)",
                plan.durable_name, options.stream_name
            ))
        })?;
    let kept = &consumer.cached_info().config.filter_subject;
    if *kept != plan.filter_subject && kept != ALL_EVENTS_FILTER {
        return Err(Attempt::Refused(format!(
            "the consumer made by the engine filters on '{kept}', which does not cover '{}' that this \
             routing needs",
            plan.filter_subject
        )));
    }
    Ok(consumer)
}

/// Creates (or finds) the durable consumer of every department of `routing` on the stream
/// (made with `stream` when missing): the engine's part, so that departments only bind. Returns
/// the durable names.
pub async fn create_department_consumers(
    js: &Context,
    stream: async_nats::jetstream::stream::Config,
    routing: &RoutingTable,
    options: &ConsumerOptions,
) -> Result<Vec<String>, String> {
    let stream_name = stream.name.clone();
    js.get_or_create_stream(stream).await.map_err(|e| format!("stream {stream_name}: {e}"))?;
    let options = ConsumerOptions { stream_name, create: true, ..options.clone() };
    let mut made = Vec::new();
    for department in routing.departments() {
        let plan = ConsumerPlan::new(routing, department).map_err(|e| e.to_string())?;
        match ensure_consumer(js, &plan, &options).await {
            Ok(_) => made.push(plan.durable_name),
            Err(Attempt::Retry(why) | Attempt::Refused(why)) => {
                return Err(format!("consumer {}: {why}", plan.durable_name))
            }
        }
    }
    Ok(made)
}

/// Reads a message as an event, checking headers, subject and payload against each other.
fn decode(message: &jetstream::Message, stream_sequence: u64, delivered: i64) -> Result<DeptEvent, String> {
    let subject = message.subject.as_str();
    let (subject_type, subject_order) = subjects::parse_event_subject(subject)
        .ok_or_else(|| "the subject is not orderflow.events.<event_type>.<order_id>".to_string())?;
    let headers = EventHeaders::parse(message.headers.as_ref().ok_or("the message has no headers")?)?;
    let value: serde_json::Value =
        serde_json::from_slice(&message.payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    let (event, envelope) = event_from_json(&value)?;
    let ty = event.body.event_type();
    let mut wrong = Vec::new();
    if ty.name != subject_type || ty.name != headers.event_type {
        wrong.push(format!("type {} (subject {subject_type}, header {})", ty.name, headers.event_type));
    }
    if ty.version != headers.schema_version {
        wrong.push(format!("schema version {} (header {})", ty.version, headers.schema_version));
    }
    if envelope.order_id.to_string() != subject_order || envelope.order_id != headers.order_id {
        wrong.push(format!(
            "order {} (subject {subject_order}, header {})",
            envelope.order_id, headers.order_id
        ));
    }
    if envelope.event_id != headers.event_id {
        wrong.push(format!("event id {} (header {})", envelope.event_id, headers.event_id));
    }
    if envelope.position != headers.position {
        wrong.push(format!("position {} (header {})", envelope.position, headers.position));
    }
    if envelope.version != headers.order_version {
        wrong.push(format!("order version {} (header {})", envelope.version, headers.order_version));
    }
    if !wrong.is_empty() {
        return Err(format!("the payload contradicts subject or headers: {}", wrong.join("; ")));
    }
    Ok(DeptEvent {
        event,
        envelope,
        subject: subject.to_string(),
        stream_sequence,
        delivered,
        json: message.payload.clone(),
    })
}

/// Sends an ack of some kind; a failure is logged (the message comes back after `ack_wait`).
async fn send_ack(message: &jetstream::Message, kind: AckKind, stream_sequence: u64) {
    if let Err(e) = message.ack_with(kind).await {
        warn!(stream_sequence, error = %e, ack = ?kind, "Cannot acknowledge; the message will be delivered again.");
    }
}

/// Runs the consumer of `department` until `shutdown` is asked or an error stops it, calling
/// `handler` once per event the department needs, in stream order. See the module documentation
/// for the guarantees and the failure policy.
pub async fn consume<F, Fut, E>(
    js: &Context,
    department: &str,
    routing: &RoutingTable,
    options: &ConsumerOptions,
    shutdown: Shutdown,
    handler: F,
) -> Result<ConsumeStats, ConsumeError<E>>
where
    F: FnMut(DeptEvent) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: fmt::Debug + fmt::Display,
{
    options.validate().map_err(ConsumeError::Config)?;
    let plan = ConsumerPlan::new(routing, department)?;
    let span =
        info_span!("consume", department, consumer = %plan.durable_name, filter = %plan.filter_subject);
    run(js, &plan, options, shutdown, handler).instrument(span).await
}

async fn run<F, Fut, E>(
    js: &Context,
    plan: &ConsumerPlan,
    options: &ConsumerOptions,
    shutdown: Shutdown,
    handler: F,
) -> Result<ConsumeStats, ConsumeError<E>>
where
    F: FnMut(DeptEvent) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: fmt::Debug + fmt::Display,
{
    let mut session = Session {
        plan,
        options,
        shutdown,
        handler,
        backoff: Backoff::new(options.backoff_initial, options.backoff_max),
        stats: ConsumeStats::default(),
    };
    let Some(consumer) = session.set_up(js).await? else {
        return Ok(session.stats);
    };
    session.backoff.reset();
    info!("Consuming.");
    let outcome = session.pull_until_stopped(&consumer).await;
    flush_acks(js).await;
    let stats = session.stats;
    info!(
        handled = stats.handled_total,
        skipped = stats.skipped_total,
        redelivered = stats.redelivered_total,
        undecodable = stats.undecodable_total,
        "Consumer stopped."
    );
    outcome.map(|()| stats)
}

/// Waits (bounded) for the last acks to reach the server; those that do not are delivered again.
async fn flush_acks(js: &Context) {
    match tokio::time::timeout(FLUSH_TIMEOUT, js.client().flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => warn!(error = %e, "Cannot flush the last acks; those events will be delivered again."),
        Err(_) => warn!("Flushing the last acks timed out; those events will be delivered again."),
    }
}

/// One `consume` call: what it was asked to do and what it did so far.
struct Session<'a, F> {
    plan: &'a ConsumerPlan,
    options: &'a ConsumerOptions,
    shutdown: Shutdown,
    handler: F,
    backoff: Backoff,
    stats: ConsumeStats,
}

/// How the messages of one pull ended.
enum PullEnd<E: fmt::Debug + fmt::Display> {
    /// All taken; `received` of them (none: the next pull waits for one).
    Done { received: usize },
    /// The pull broke off (after the backoff): pull again.
    BrokeOff,
    /// A failure: the rest of the pull was given back; stop consuming with it.
    Failed(ConsumeError<E>),
}

impl<F, Fut, E> Session<'_, F>
where
    F: FnMut(DeptEvent) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: fmt::Debug + fmt::Display,
{
    /// Creates (or finds) the durable consumer, retrying broker failures with the backoff;
    /// `None` when a stop is asked first.
    async fn set_up(&mut self, js: &Context) -> Result<Option<PullConsumer>, ConsumeError<E>> {
        loop {
            if self.shutdown.is_requested() {
                return Ok(None);
            }
            match ensure_consumer(js, self.plan, self.options).await {
                Ok(c) => return Ok(Some(c)),
                Err(Attempt::Refused(detail)) => {
                    return Err(ConsumeError::Refused { consumer: self.plan.durable_name.clone(), detail })
                }
                Err(Attempt::Retry(why)) => {
                    let wait = self.backoff.next_wait();
                    warn!(error = %why, wait_ms = wait.as_millis(), "Cannot set up the consumer; retrying.");
                    self.wait_or_stop(wait).await;
                }
            }
        }
    }

    /// Waits `wait`, or less when a stop is asked meanwhile.
    async fn wait_or_stop(&mut self, wait: Duration) {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = self.shutdown.requested() => {}
        }
    }

    /// Pulls and takes messages until a stop is asked (`Ok`) or a failure stops the consumer.
    async fn pull_until_stopped(&mut self, consumer: &PullConsumer) -> Result<(), ConsumeError<E>> {
        // Whether the last pull found nothing: then wait (long-poll) for one message, else take
        // what is there without waiting. Either way no pull request stays open on the server
        // while events are handled, so a negatively acknowledged event cannot be delivered again
        // into it, ahead of or behind the events that follow it.
        let mut idle = false;
        while !self.shutdown.is_requested() {
            let pull = if idle {
                consumer.batch().max_messages(1).expires(self.options.fetch_expires).messages().boxed()
            } else {
                consumer
                    .fetch()
                    .max_messages(self.options.batch_events_max)
                    .expires(self.options.fetch_expires)
                    .messages()
                    .boxed()
            };
            let mut batch = tokio::select! {
                b = pull => match b {
                    Ok(b) => b,
                    Err(e) => {
                        let wait = self.backoff.next_wait();
                        warn!(error = %e, wait_ms = wait.as_millis(), "Pull failed; retrying.");
                        self.wait_or_stop(wait).await;
                        continue;
                    }
                },
                () = self.shutdown.requested() => break,
            };
            match self.take_pull(&mut batch).await {
                PullEnd::Done { received } => {
                    idle = received == 0;
                    debug!(
                        handled = self.stats.handled_total,
                        skipped = self.stats.skipped_total,
                        "Pull done."
                    );
                }
                PullEnd::BrokeOff => {}
                PullEnd::Failed(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Takes every message of one pull, in order; after a failure the rest are given back.
    async fn take_pull(&mut self, batch: &mut pull::Batch) -> PullEnd<E> {
        let mut received = 0usize;
        // Once set, the rest of this pull is negatively acknowledged, in order.
        let mut failure: Option<ConsumeError<E>> = None;
        while let Some(item) = batch.next().await {
            let message = match item {
                Ok(m) => m,
                Err(e) => {
                    if let Some(failure) = failure {
                        warn!(error = %e, "Pull broke off while giving back its events; they come back after ack_wait.");
                        return PullEnd::Failed(failure);
                    }
                    let wait = self.backoff.next_wait();
                    warn!(error = %e, wait_ms = wait.as_millis(), "Pull broke off; retrying.");
                    tokio::time::sleep(wait).await;
                    return PullEnd::BrokeOff;
                }
            };
            received += 1;
            if let Some(f) = self.take(&message, failure.is_some()).await {
                failure = Some(f);
            }
        }
        match failure {
            Some(f) => PullEnd::Failed(f),
            None => PullEnd::Done { received },
        }
    }

    /// Takes one message: counts it; gives it back when the pull already failed; acknowledges a
    /// type the department does not need unread; else reads it and hands it to the handler.
    /// Returns the failure that stops the consumer, if this message caused one.
    async fn take(&mut self, message: &jetstream::Message, failed: bool) -> Option<ConsumeError<E>> {
        self.backoff.reset();
        self.stats.delivered_total += 1;
        let (stream_sequence, delivered) = match message.info() {
            Ok(i) => (i.stream_sequence, i.delivered),
            Err(_) => (0, 1),
        };
        if delivered > 1 {
            self.stats.redelivered_total += 1;
        }
        if failed {
            send_ack(message, AckKind::Nak(None), stream_sequence).await;
            return None;
        }
        let subject_type = subjects::parse_event_subject(message.subject.as_str()).map(|(t, _)| t);
        if subject_type.is_some_and(|t| !self.plan.event_types.contains(t)) {
            self.stats.skipped_total += 1;
            send_ack(message, AckKind::Ack, stream_sequence).await;
            return None;
        }
        match decode(message, stream_sequence, delivered) {
            Err(detail) => self.unreadable(message, stream_sequence, delivered, detail).await,
            Ok(event) => self.hand_over(message, event).await,
        }
    }

    /// A message that cannot be read: terminated and recorded, or given back to stop the
    /// consumer, as the policy says.
    async fn unreadable(
        &mut self,
        message: &jetstream::Message,
        stream_sequence: u64,
        delivered: i64,
        detail: String,
    ) -> Option<ConsumeError<E>> {
        let options = self.options;
        let last_try = delivered >= options.max_deliver;
        let bad = Undecodable { stream_sequence, subject: message.subject.to_string(), detail };
        self.stats.undecodable_total += 1;
        error!(stream_sequence, subject = %bad.subject, error = %bad.detail, policy = ?options.on_undecodable,
            last_try, "A message cannot be read.");
        match options.on_undecodable {
            OnUndecodable::Terminate => {
                send_ack(message, AckKind::Term, stream_sequence).await;
                if self.stats.undecodable.len() < options.undecodable_kept_max {
                    self.stats.undecodable.push(bad);
                }
                None
            }
            OnUndecodable::Stop => {
                send_ack(message, AckKind::Nak(None), stream_sequence).await;
                Some(ConsumeError::Undecodable(bad))
            }
        }
    }

    /// Calls the handler with an event: acknowledged when it succeeds, given back when it fails.
    async fn hand_over(&mut self, message: &jetstream::Message, event: DeptEvent) -> Option<ConsumeError<E>> {
        let (stream_sequence, delivered) = (event.stream_sequence, event.delivered);
        let event_id = event.envelope.event_id;
        match (self.handler)(event).await {
            Ok(()) => {
                self.stats.handled_total += 1;
                send_ack(message, AckKind::Ack, stream_sequence).await;
                None
            }
            Err(error) => {
                if delivered >= self.options.max_deliver {
                    error!(stream_sequence, %event_id, %error, "The handler failed on the last delivery.");
                } else {
                    warn!(stream_sequence, %event_id, %error, delivered, "The handler failed.");
                }
                send_ack(message, AckKind::Nak(None), stream_sequence).await;
                Some(ConsumeError::Handler { stream_sequence, event_id, error })
            }
        }
    }
}
