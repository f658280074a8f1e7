//! The running command service: the engine, the publisher and the NATS endpoints of one data
//! directory, and their orderly stop.
//!
//! # Endpoints
//! Two endpoints of the NATS micro-service `orderflow` (so `$SRV.PING`, `$SRV.INFO` and
//! `$SRV.STATS` are answered by the library):
//! - `command` on `orderflow.cmd.*`, one endpoint for every command rather than one per command:
//!   NATS gives a message that matches two subscriptions of the same queue group to only one of
//!   them, so a catch-all beside per-command endpoints cannot work, and with one wildcard endpoint
//!   an unknown command gets an `invalid` reply naming the known ones instead of "no responders".
//!   The endpoint's metadata lists the commands.
//! - `query` on `orderflow.query.*`, answered by the [`Query`] list; its metadata lists them.
//!
//! # Start
//! [`Server::start`] returns once the service's own `$SRV.PING` came back through NATS: the
//! server handles one connection's messages in order, so it then holds the endpoints'
//! subscriptions, and a request sent by anybody afterwards is answered (a client `flush` only
//! means written to the socket; requests right after it could find "no responders").
//!
//! # Concurrency
//! Every request is handled in its own task; at most [`ServeConfig::requests_in_flight_max`] run
//! at once (a semaphore; the endpoint is not read while it is full, and the client queues at
//! most [`SUBSCRIPTION_CAPACITY`] requests behind it). Concurrent commands reach the log's writer together
//! and share its flushes (group commit).
//!
//! # Stop
//! [`Server::run`] returns after a stop is asked: it stops the service (the endpoints unsubscribe,
//! so new requests find no responder; requests already delivered to this process are still
//! answered), waits up to [`ServeConfig::in_flight_drain_timeout`] for the requests in flight,
//! then asks the publisher to publish what is pending (bounded by the publisher's
//! `shutdown_drain_timeout`), which saves its checkpoint, and flushes the replies. The caller
//! closes the log. Nothing of a command waits for NATS: a command is acknowledged once its
//! events are in the log; publishing them is the publisher's business, from the log (the outbox).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::service::{self, ServiceExt};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures::StreamExt;
use orderflow_commands::Command;
use serde_json::Value;
use thiserror::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tracing::{debug, info, info_span, warn, Instrument};

use crate::app::{App, AppError};
use crate::auth::{Auth, Principal};
use crate::bus::{
    shutdown_channel, Publisher, PublisherConfig, PublisherError, PublisherMetrics, PublisherReport,
    Shutdown, ShutdownTrigger,
};
use crate::service::protocol::{
    check_body, error_reply, ok_reply, parse_body, CommandReply, CommandRequest, ErrorReply,
    COMMAND_SUBJECT_PREFIX, QUERY_SUBJECT_PREFIX, SERVICE_NAME, SERVICE_VERSION,
};
use crate::service::query::{builtin_queries, Query};

/// Requests handled at once unless configured.
pub const REQUESTS_IN_FLIGHT_MAX_DEFAULT: usize = 256;
/// Messages the server's NATS client queues per subscription before dropping (NATS "slow
/// consumer"; a dropped request times out at its client, which retries with the same command
/// id): the requests waiting behind [`ServeConfig::requests_in_flight_max`], and the publisher's
/// acks (at least twice its `in_flight_max`). The async-nats default, set explicitly by
/// [`connect_options`].
pub const SUBSCRIPTION_CAPACITY: usize = 65_536;
/// How long a stop waits for the requests in flight unless configured.
pub const IN_FLIGHT_DRAIN_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// How long a start waits for its own `$SRV.PING` to come back (the proof that NATS holds the
/// endpoints' subscriptions).
pub const READY_ROUND_TRIP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stop waits for the replies to leave (a NATS flush).
pub const REPLY_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// The margin a stop gives the publisher beyond its own drain timeout before giving up on it.
pub const PUBLISHER_STOP_MARGIN: Duration = Duration::from_secs(5);

/// The NATS connection options of a server: its name and [`SUBSCRIPTION_CAPACITY`]. The client
/// reconnects by itself; subscriptions survive reconnections.
pub fn connect_options() -> async_nats::ConnectOptions {
    async_nats::ConnectOptions::new().name("orderflow serve").subscription_capacity(SUBSCRIPTION_CAPACITY)
}

/// How to serve. Every limit is named here.
#[derive(Clone)]
pub struct ServeConfig {
    /// Requests handled at once.
    pub requests_in_flight_max: usize,
    /// How long a stop waits for the requests in flight.
    pub in_flight_drain_timeout: Duration,
    /// The publisher's settings (its `shutdown_drain_timeout` bounds how long a stop publishes).
    pub publisher: PublisherConfig,
    /// The queries answered on `orderflow.query.<name>`.
    pub queries: Vec<Arc<dyn Query>>,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.queries.iter().map(|q| q.name()).collect();
        f.debug_struct("ServeConfig")
            .field("requests_in_flight_max", &self.requests_in_flight_max)
            .field("in_flight_drain_timeout", &self.in_flight_drain_timeout)
            .field("publisher", &self.publisher)
            .field("queries", &names)
            .finish()
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            requests_in_flight_max: REQUESTS_IN_FLIGHT_MAX_DEFAULT,
            in_flight_drain_timeout: IN_FLIGHT_DRAIN_TIMEOUT_DEFAULT,
            publisher: PublisherConfig::default(),
            queries: builtin_queries(),
        }
    }
}

/// Why the service could not start or stopped badly.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The configuration is unusable.
    #[error("invalid service configuration: {0}")]
    Config(String),
    /// The publisher refused to start or stopped with an error retrying cannot fix.
    #[error("publisher: {0}")]
    Publisher(#[from] PublisherError),
    /// NATS refused the service or an endpoint.
    #[error("cannot start the NATS service: {0}")]
    Nats(String),
}

/// Where a running server answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    /// The micro-service name (`orderflow`).
    pub name: String,
    /// This instance's id (as in `$SRV.PING` replies).
    pub id: String,
    /// The version.
    pub version: String,
    /// The command subjects (`orderflow.cmd.*`).
    pub command_subjects: String,
    /// The query subjects (`orderflow.query.*`).
    pub query_subjects: String,
}

/// How a run ended.
#[derive(Clone, Debug)]
pub struct ServeReport {
    /// Requests answered.
    pub requests_total: u64,
    /// Whether every request in flight finished within the drain timeout.
    pub requests_drained: bool,
    /// The publisher's report; `None` when it did not stop within its timeout and the margin.
    pub publisher: Option<PublisherReport>,
}

/// The two endpoints as one stream of requests, each tagged with its endpoint.
type Requests = futures::stream::BoxStream<'static, (Kind, service::Request)>;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Command,
    Query,
}

/// A started server: endpoints subscribed, publisher running.
pub struct Server {
    app: Arc<App>,
    config: ServeConfig,
    client: async_nats::Client,
    service: service::Service,
    requests: Requests,
    publisher: JoinHandle<Result<PublisherReport, PublisherError>>,
    publisher_stop: ShutdownTrigger,
    publisher_metrics: Arc<PublisherMetrics>,
    info: ServerInfo,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("info", &self.info).field("config", &self.config).finish()
    }
}

impl Server {
    /// Starts the publisher over the app's log and the service's endpoints; returns once NATS holds
    /// the endpoints' subscriptions (checked by a round trip: requests sent afterwards, by any
    /// client, are answered).
    pub async fn start(
        client: async_nats::Client,
        app: Arc<App>,
        config: ServeConfig,
    ) -> Result<Self, ServeError> {
        if config.requests_in_flight_max == 0 || config.requests_in_flight_max > Semaphore::MAX_PERMITS {
            return Err(ServeError::Config(format!(
                "requests_in_flight_max must be 1 to {}",
                Semaphore::MAX_PERMITS
            )));
        }
        if u32::try_from(config.requests_in_flight_max).is_err() {
            return Err(ServeError::Config("requests_in_flight_max above u32::MAX".into()));
        }
        let mut names = std::collections::BTreeSet::new();
        for q in &config.queries {
            let n = q.name();
            if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || !names.insert(n) {
                return Err(ServeError::Config(format!("query name '{n}' is empty, not a word or repeated")));
            }
        }

        let publisher = Publisher::new(client.clone(), app.log().clone(), config.publisher.clone())?;
        let publisher_metrics = publisher.metrics();
        let (publisher_stop, publisher_shutdown) = shutdown_channel();
        let publisher = tokio::spawn(publisher.run(publisher_shutdown));

        match Self::endpoints(&client, &config).await {
            Ok((service, requests, info)) => {
                info!(id = %info.id, commands = %info.command_subjects, queries = %info.query_subjects, "Serving.");
                Ok(Self {
                    app,
                    config,
                    client,
                    service,
                    requests,
                    publisher,
                    publisher_stop,
                    publisher_metrics,
                    info,
                })
            }
            Err(e) => {
                publisher_stop.trigger();
                let _ = publisher.await;
                Err(e)
            }
        }
    }

    async fn endpoints(
        client: &async_nats::Client,
        config: &ServeConfig,
    ) -> Result<(service::Service, Requests, ServerInfo), ServeError> {
        let nats = |e: async_nats::Error| ServeError::Nats(e.to_string());
        let service = client
            .service_builder()
            .description("orderflow commands and queries over request-reply")
            .start(SERVICE_NAME, SERVICE_VERSION)
            .await
            .map_err(nats)?;
        let command_subjects = format!("{COMMAND_SUBJECT_PREFIX}.*");
        let query_subjects = format!("{QUERY_SUBJECT_PREFIX}.*");
        let commands = service
            .endpoint_builder()
            .name("command")
            .metadata(HashMap::from([("commands".to_string(), Command::NAMES.join(","))]))
            .add(&command_subjects)
            .await
            .map_err(nats)?;
        let query_names: Vec<&str> = config.queries.iter().map(|q| q.name()).collect();
        let queries = service
            .endpoint_builder()
            .name("query")
            .metadata(HashMap::from([("queries".to_string(), query_names.join(","))]))
            .add(&query_subjects)
            .await
            .map_err(nats)?;
        let info = service.info().await;
        // A round trip through the server on this connection: the server handles a connection's
        // messages in order, so once our own PING is answered it holds the endpoints'
        // subscriptions and requests are answered (`flush` only means written to the socket).
        let ping = format!("$SRV.PING.{SERVICE_NAME}.{}", info.id);
        let answered =
            tokio::time::timeout(READY_ROUND_TRIP_TIMEOUT, client.request(ping, Bytes::new())).await;
        match answered {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(ServeError::Nats(format!("the service does not answer its own PING: {e}")))
            }
            Err(_) => {
                return Err(ServeError::Nats(format!(
                    "the service's own PING got no answer within {READY_ROUND_TRIP_TIMEOUT:?}"
                )))
            }
        }
        let requests =
            futures::stream::select(commands.map(|r| (Kind::Command, r)), queries.map(|r| (Kind::Query, r)))
                .boxed();
        let info = ServerInfo {
            name: info.name,
            id: info.id,
            version: info.version,
            command_subjects,
            query_subjects,
        };
        Ok((service, requests, info))
    }

    /// Where it answers.
    pub fn info(&self) -> &ServerInfo {
        &self.info
    }

    /// The publisher's live counters.
    pub fn publisher_metrics(&self) -> Arc<PublisherMetrics> {
        Arc::clone(&self.publisher_metrics)
    }

    /// Answers requests until `shutdown` is asked (or NATS closes the endpoints), then stops in
    /// order (see the module documentation). The caller closes the app's log afterwards.
    pub async fn run(self, shutdown: Shutdown) -> Result<ServeReport, ServeError> {
        let span = info_span!("serve", id = %self.info.id);
        self.run_inner(shutdown).instrument(span).await
    }

    async fn run_inner(self, mut shutdown: Shutdown) -> Result<ServeReport, ServeError> {
        let Server { app, config, client, service, mut requests, publisher, publisher_stop, .. } = self;
        let max = config.requests_in_flight_max;
        let permits = Arc::new(Semaphore::new(max));
        let queries: Arc<[Arc<dyn Query>]> = config.queries.clone().into();
        let mut requests_total = 0u64;
        let mut service = Some(service);

        loop {
            // A permit first: while `max` requests run, the endpoint is not read.
            let permit = tokio::select! {
                p = Arc::clone(&permits).acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
                () = shutdown.requested(), if service.is_some() => {
                    stop_service(&mut service).await;
                    continue;
                }
            };
            let next = tokio::select! {
                r = requests.next() => r,
                () = shutdown.requested(), if service.is_some() => {
                    stop_service(&mut service).await;
                    continue;
                }
            };
            let Some((kind, request)) = next else { break };
            requests_total += 1;
            let app = Arc::clone(&app);
            let queries = Arc::clone(&queries);
            tokio::spawn(handle(app, queries, kind, request, permit));
        }
        if service.is_some() {
            warn!("NATS closed the endpoints; stopping.");
            stop_service(&mut service).await;
        }

        let all = u32::try_from(max).unwrap_or(u32::MAX);
        let requests_drained =
            match tokio::time::timeout(config.in_flight_drain_timeout, permits.acquire_many(all)).await {
                Ok(_) => true,
                Err(_) => {
                    warn!(
                        in_flight = max - permits.available_permits(),
                        timeout_ms = config.in_flight_drain_timeout.as_millis(),
                        "Requests still in flight at the drain timeout."
                    );
                    false
                }
            };
        info!(requests_total, "Requests done; publishing what is pending.");

        publisher_stop.trigger();
        let wait = config.publisher.shutdown_drain_timeout + PUBLISHER_STOP_MARGIN;
        let publisher = match tokio::time::timeout(wait, publisher).await {
            Ok(Ok(Ok(report))) => Some(report),
            Ok(Ok(Err(e))) => return Err(e.into()),
            Ok(Err(join)) => {
                warn!(error = %join, "The publisher task failed.");
                None
            }
            Err(_) => {
                warn!(timeout_ms = wait.as_millis(), "The publisher did not stop in time.");
                None
            }
        };
        match tokio::time::timeout(REPLY_FLUSH_TIMEOUT, client.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "Cannot flush the last replies."),
            Err(_) => warn!("Flushing the last replies timed out."),
        }
        Ok(ServeReport { requests_total, requests_drained, publisher })
    }
}

/// Stops the micro-service: its endpoints unsubscribe when next read, and the requests NATS
/// already delivered are still read and answered.
async fn stop_service(service: &mut Option<service::Service>) {
    if let Some(s) = service.take() {
        info!("Stop asked; no new requests.");
        if let Err(e) = s.stop().await {
            warn!(error = %e, "Stopping the service failed.");
        }
    }
}

/// Handles one request and replies.
async fn handle(
    app: Arc<App>,
    queries: Arc<[Arc<dyn Query>]>,
    kind: Kind,
    request: service::Request,
    _permit: OwnedSemaphorePermit,
) {
    let subject = request.message.subject.to_string();
    if request.message.reply.is_none() {
        warn!(%subject, "A request without a reply subject; ignored, nothing written.");
        return;
    }
    let span = info_span!("request", %subject);
    let result = async {
        let (prefix, name) = subject.rsplit_once('.').unwrap_or(("", subject.as_str()));
        let body = &request.message.payload;
        let caller = caller(&app, &request.message)?;
        match kind {
            Kind::Command if prefix == COMMAND_SUBJECT_PREFIX => command(&app, &caller, name, body).await,
            Kind::Query if prefix == QUERY_SUBJECT_PREFIX => query(&app, &caller, &queries, name, body).await,
            _ => Err(AppError::Invalid(format!("subject {subject} is not served here"))),
        }
    }
    .instrument(span.clone())
    .await;
    let _entered = span.enter();
    let (reply, headers) = match result {
        Ok(body) => (ok_reply(body), HeaderMap::new()),
        Err(e) => {
            let error = ErrorReply::from_error(&e);
            debug!(error = %error.error, message = %error.message, "Request refused.");
            let mut headers = HeaderMap::new();
            headers.insert(service::NATS_SERVICE_ERROR, error.error.as_str());
            headers.insert(service::NATS_SERVICE_ERROR_CODE, error.service_code().to_string().as_str());
            (error_reply(&error), headers)
        }
    };
    let payload = match serde_json::to_vec(&reply) {
        Ok(p) => p,
        Err(e) => {
            warn!(error = %e, "Cannot encode the reply.");
            return;
        }
    };
    if let Err(e) = request.respond_with_headers(Ok(payload.into()), headers).await {
        warn!(error = %e, "Cannot send the reply.");
    }
}

/// The header in which nats-server 2.9 names the sender of a request that crossed a service
/// import from another account (set by the server; a client's own is removed and replaced).
pub const REQUEST_INFO_HEADER: &str = "Nats-Request-Info";

/// Who sent a request: the person and grant the NATS server vouches for in
/// [`REQUEST_INFO_HEADER`] (account → grant, user → person), checked against the directory. A
/// request without it (sent inside the engine's own account, or through an import without
/// `share: true`) is refused.
pub fn caller(app: &App, message: &async_nats::Message) -> Result<Principal, AppError> {
    #[derive(serde::Deserialize)]
    struct Info {
        acc: String,
        #[serde(default)]
        user: Option<String>,
    }
    let unknown = || {
        AppError::Forbidden(
            "the NATS server did not say who sent this request: connect as your own NATS user, \
             through your role's account of the generated configuration (orderflow nats-config)"
                .into(),
        )
    };
    let header = message.headers.as_ref().and_then(|h| h.get(REQUEST_INFO_HEADER)).ok_or_else(unknown)?;
    let info: Info = serde_json::from_str(header.as_str()).map_err(|_| unknown())?;
    let user = info.user.ok_or_else(unknown)?;
    Auth::nats_principal(&app.auth().directory()?, &info.acc, &user)
}

async fn command(app: &App, caller: &Principal, name: &str, body: &[u8]) -> Result<Value, AppError> {
    if !Command::NAMES.contains(&name) {
        return Err(AppError::Invalid(format!(
            "unknown command \"{name}\"; commands: {}",
            Command::NAMES.join(", ")
        )));
    }
    let request: CommandRequest = parse_body(body)?;
    let request = request.into_app_request(name, caller.clone(), |r| app.resolve(r))?;
    let command_id = request.command_id;
    let done = app.execute(request).await?;
    debug!(order_id = %done.order_id, duplicate = done.duplicate, version = done.version, "Command done.");
    Ok(CommandReply::from_done(&done, name, command_id).to_json())
}

async fn query(
    app: &App,
    caller: &Principal,
    queries: &[Arc<dyn Query>],
    name: &str,
    body: &[u8],
) -> Result<Value, AppError> {
    let Some(q) = queries.iter().find(|q| q.name() == name) else {
        let names: Vec<&str> = queries.iter().map(|q| q.name()).collect();
        return Err(AppError::Invalid(format!("unknown query \"{name}\"; queries: {}", names.join(", "))));
    };
    check_body(body)?;
    q.answer(app, caller, body).await
}
