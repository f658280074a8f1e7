//! `orderflow serve`: the command service over NATS, until SIGINT or SIGTERM.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::app::{App, AppError};
use crate::bus::{shutdown_channel, PublisherConfig};
use crate::service::client::Credentials;
use crate::service::{ServeConfig, Server};

use super::natscfg::NatsLoginArgs;

use super::signal::StopSignals;

/// How long `serve` waits to connect to NATS at start.
const SERVE_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of `orderflow serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Serve the web pages on this address (default 127.0.0.1:8080 when given without a value);
    /// port 0 picks a free port (the ready line says which).
    #[arg(long, num_args = 0..=1, default_missing_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
    /// A web session ends after this many seconds without a request.
    #[arg(long, default_value_t = 8 * 3600, value_parser = clap::value_parser!(u64).range(1..=7 * 86_400))]
    pub http_session_idle_secs: u64,
    /// Live web pages (event streams) open at once at most.
    #[arg(long, default_value_t = 1_024, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=65_536))]
    pub http_streams_max: usize,
    /// How often the publisher saves its checkpoint, in milliseconds (it also saves on stop).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_every_ms: u64,
    /// How long a stop may take to publish what is pending, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub publish_drain_timeout_ms: u64,
    /// Requests handled at once.
    #[arg(long, default_value_t = crate::service::server::REQUESTS_IN_FLIGHT_MAX_DEFAULT,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=65_536))]
    pub requests_in_flight_max: usize,
    /// How often the deadline watcher looks for reviews past their limit, in seconds (it also
    /// looks at start).
    #[arg(long, default_value_t = crate::service::watcher::WATCH_EVERY_DEFAULT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub watch_every_secs: u64,
    /// Orders the deadline watcher loads per tick at most (a longer sweep goes on at once).
    #[arg(long, default_value_t = crate::service::watcher::ORDERS_PER_TICK_DEFAULT,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub watch_orders_per_tick: usize,
}

/// The file in the data directory that says where its running `serve` listens.
pub(super) const SERVE_FILE: &str = "serve.json";

/// `serve.json`: written (mode 0600) once the service is ready, removed on an orderly stop. A
/// command that finds the data directory locked reads it and goes through the service. After a
/// crash it stays behind: the next `serve` overwrites it, and a CLI that cannot reach the URL
/// says so.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct ServeFile {
    /// The NATS server the service answers on; empty when it serves only the web pages.
    pub(super) nats: String,
    /// Where the web pages are served, when they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) http: Option<String>,
    /// The process id of `serve`.
    pub(super) pid: u32,
}

impl ServeFile {
    /// Writes `serve.json` in `data_dir` atomically, readable by the owner only; returns its path.
    fn write(
        data_dir: &Path,
        url: &str,
        http: Option<std::net::SocketAddr>,
    ) -> std::io::Result<std::path::PathBuf> {
        use std::io::Write as _;
        let path = data_dir.join(SERVE_FILE);
        let tmp = data_dir.join(format!(".{SERVE_FILE}.tmp"));
        let body = serde_json::to_vec(&ServeFile {
            nats: url.to_string(),
            http: http.map(|a| a.to_string()),
            pid: std::process::id(),
        })
        .map_err(std::io::Error::other)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(&body)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }

    /// Reads `serve.json` of `data_dir`, if there is a readable one.
    pub(super) fn read(data_dir: &Path) -> Option<ServeFile> {
        let text = std::fs::read(data_dir.join(SERVE_FILE)).ok()?;
        serde_json::from_slice(&text).ok()
    }
}

/// Runs the service on `data_dir` (the web pages with `--http`, the NATS service with the broker
/// at `url`) until a stop signal; exit 0 after an orderly stop.
pub(super) async fn run(
    data_dir: &Path,
    url: Option<&str>,
    nats_login: &NatsLoginArgs,
    args: ServeArgs,
    json: bool,
) -> Result<(), AppError> {
    // First, so that a signal during start-up stops in order instead of killing the process.
    let mut signals = StopSignals::register()?;
    let credentials = nats_login.credentials()?;
    let app = Arc::new(App::open(data_dir)?);
    let result = match (url, engine_credentials(&app, credentials)) {
        (Some(url), Ok(credentials)) => serve(&app, url, &credentials, args, json, &mut signals).await,
        (None, _) => serve_web_only(&app, args, json, &mut signals).await,
        (_, Err(e)) => Err(e),
    };
    let closed = app.close();
    result?;
    closed?;
    Ok(())
}

/// Who `serve` is on NATS: the credentials given; else, once `orderflow nats-config` was run on
/// the data directory, the engine's user with its password from the secrets; else nobody (a
/// NATS server without users).
fn engine_credentials(app: &App, given: Credentials) -> Result<Credentials, AppError> {
    if given != Credentials::None {
        return Ok(given);
    }
    if crate::natsauth::Generated::read(app.path()).is_none() {
        return Ok(Credentials::None);
    }
    Ok(Credentials::User {
        user: crate::auth::ENGINE_NATS_USER.to_string(),
        password: app.auth().secrets().engine_nats_password()?,
    })
}

/// How long `serve` waits at start for the department consumers before it says it is ready
/// anyway (they are then made in the background).
const CONSUMERS_READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Makes the durable department consumers (retrying with a bounded backoff until done).
async fn department_consumers(client: async_nats::Client, stream: async_nats::jetstream::stream::Config) {
    let js = async_nats::jetstream::new(client);
    let routing = crate::bus::RoutingTable::default();
    let options = crate::bus::ConsumerOptions::default();
    let mut wait = Duration::from_millis(100);
    loop {
        match crate::bus::create_department_consumers(&js, stream.clone(), &routing, &options).await {
            Ok(made) => {
                info!(consumers = %made.join(","), "Department consumers ready.");
                return;
            }
            Err(e) => {
                warn!(error = %e, wait_ms = wait.as_millis(), "Cannot make the department consumers; retrying.");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// The web server's settings from the options, when `--http` was given.
fn web_config(args: &ServeArgs) -> Option<crate::web::WebConfig> {
    let addr = args.http?;
    let mut config = crate::web::WebConfig::new(addr);
    config.sessions.idle = Duration::from_secs(args.http_session_idle_secs);
    config.sessions.lifetime = config.sessions.lifetime.max(config.sessions.idle);
    config.streams_max = args.http_streams_max;
    Some(config)
}

/// Starts the deadline watcher: overdue reviews recorded once, escalated (seed 000 四.4).
fn start_watcher(
    app: &Arc<App>,
    args: &ServeArgs,
) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop_watcher, watcher_stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = crate::service::watcher::Watcher::new(crate::service::watcher::WatchConfig {
        every: Duration::from_secs(args.watch_every_secs),
        orders_per_tick: args.watch_orders_per_tick,
    });
    info!(
        every_secs = args.watch_every_secs,
        orders_per_tick = args.watch_orders_per_tick,
        "Deadline watcher started."
    );
    let watching = tokio::spawn(watcher.run(Arc::clone(app), async move {
        let _ = watcher_stopped.await;
    }));
    (stop_watcher, watching)
}

/// `serve --http` without NATS: the web pages and the deadline watcher on the data directory.
async fn serve_web_only(
    app: &Arc<App>,
    args: ServeArgs,
    json: bool,
    signals: &mut StopSignals,
) -> Result<(), AppError> {
    let Some(config) = web_config(&args) else {
        return Err(AppError::Invalid("serve needs --http [ADDR] or --nats URL".into()));
    };
    let web = crate::web::start(Arc::clone(app), crate::service::Views::default(), config).await?;
    let http = web.addr;
    let serve_file = match ServeFile::write(app.path(), "", Some(http)) {
        Ok(path) => Some(path),
        Err(e) => {
            warn!(error = %e, "Cannot record where this service listens.");
            None
        }
    };
    if json {
        crate::outln!(
            "{}",
            serde_json::json!({
                "ready": true, "http": http.to_string(), "nats": null,
                "data_dir": app.path().display().to_string(),
            })
        );
    } else {
        crate::outln!(
            "orderflow serve: ready; web pages on http://{http}/ (no NATS); data {}",
            app.path().display()
        );
    }
    let (stop_watcher, watching) = start_watcher(app, &args);
    let signal = signals.recv().await;
    info!(signal, "Stopping.");
    let stopped = web.stop().await;
    let _ = stop_watcher.send(());
    let _ = watching.await;
    if let Some(path) = &serve_file {
        let _ = std::fs::remove_file(path);
    }
    stopped?;
    if json {
        crate::outln!("{}", serde_json::json!({"stopped": true, "log_head": app.log().head()}));
    } else {
        crate::outln!("orderflow serve: stopped; log head {}", app.log().head());
    }
    Ok(())
}

async fn serve(
    app: &Arc<App>,
    url: &str,
    credentials: &Credentials,
    args: ServeArgs,
    json: bool,
    signals: &mut StopSignals,
) -> Result<(), AppError> {
    let connect = credentials
        .apply(crate::service::server::connect_options().connection_timeout(SERVE_CONNECT_TIMEOUT))
        .connect(url);
    let client = tokio::select! {
        c = connect => c.map_err(|e| crate::service::client::connect_failed(url, credentials, &e))?,
        s = signals.recv() => {
            info!(signal = s, "Stopped before connecting.");
            return Ok(());
        }
    };
    let views = crate::service::Views::default();
    let config = ServeConfig {
        requests_in_flight_max: args.requests_in_flight_max,
        publisher: PublisherConfig {
            checkpoint_every: Duration::from_millis(args.checkpoint_every_ms),
            shutdown_drain_timeout: Duration::from_millis(args.publish_drain_timeout_ms),
            ..PublisherConfig::default()
        },
        queries: crate::service::builtin_queries_on(&views),
        ..ServeConfig::default()
    };
    info!(url, who = %credentials.who(), "Connected to NATS.");
    let stream = config.publisher.stream_config();
    let server = Server::start(client.clone(), Arc::clone(app), config)
        .await
        .map_err(|e| AppError::Failure(e.to_string()))?;
    // The engine makes the department consumers; departments only bind to them.
    let mut consumers = tokio::spawn(department_consumers(client, stream));
    if tokio::time::timeout(CONSUMERS_READY_TIMEOUT, &mut consumers).await.is_err() {
        warn!("The department consumers are not made yet; they are made in the background.");
    }
    let web = match web_config(&args) {
        Some(config) => Some(crate::web::start(Arc::clone(app), views, config).await?),
        None => None,
    };
    let http = web.as_ref().map(|w| w.addr);
    let info = server.info().clone();
    let ready = format!(
        "orderflow serve: ready on {url}{}; commands {}, queries {}; service {} {} id {}; data {}",
        http.map(|h| format!(", web pages on http://{h}/")).unwrap_or_default(),
        info.command_subjects,
        info.query_subjects,
        info.name,
        info.version,
        info.id,
        app.path().display()
    );
    // Where the CLI finds this service while it holds the data directory.
    let serve_file = match ServeFile::write(app.path(), url, http) {
        Ok(path) => Some(path),
        Err(e) => {
            warn!(error = %e, "Cannot record where this service listens; the CLI needs --nats to reach it.");
            None
        }
    };
    if json {
        crate::outln!(
            "{}",
            serde_json::json!({
                "ready": true, "nats": url, "http": http.map(|h| h.to_string()), "service": info.name, "version": info.version, "id": info.id,
                "commands": info.command_subjects, "queries": info.query_subjects,
                "data_dir": app.path().display().to_string(),
            })
        );
    } else {
        crate::outln!("{ready}");
    }

    let (stop_watcher, watching) = start_watcher(app, &args);

    let (stop, shutdown) = shutdown_channel();
    let mut running = tokio::spawn(server.run(shutdown));
    let (result, asked) = tokio::select! {
        s = signals.recv() => {
            info!(signal = s, "Stopping.");
            stop.trigger();
            (running.await, true)
        }
        r = &mut running => (r, false),
    };
    consumers.abort();
    if let Some(web) = web {
        if let Err(e) = web.stop().await {
            warn!(error = %e, "The web server did not stop in order.");
        }
    }
    let _ = stop_watcher.send(());
    let _ = watching.await;
    if let Some(path) = &serve_file {
        if let Err(e) = std::fs::remove_file(path) {
            warn!(error = %e, file = %path.display(), "Cannot remove the service's serve.json.");
        }
    }
    let report = result
        .map_err(|e| AppError::Failure(format!("the service task failed: {e}")))?
        .map_err(|e| AppError::Failure(e.to_string()))?;
    let (published, drained) = report.publisher.map_or((0, false), |p| (p.stats.acked_position, p.drained));
    if !drained {
        warn!(
            published,
            head = app.log().head(),
            "Stopped before publishing everything; the rest is published at the next start."
        );
    }
    info!(requests = report.requests_total, published, head = app.log().head(), "Stopped.");
    if json {
        crate::outln!(
            "{}",
            serde_json::json!({
                "stopped": true, "requests": report.requests_total, "requests_drained": report.requests_drained,
                "published_position": published, "log_head": app.log().head(), "publish_drained": drained,
            })
        );
    } else {
        crate::outln!(
            "orderflow serve: stopped; {} requests; published up to position {published} of {}{}",
            report.requests_total,
            app.log().head(),
            if drained { "" } else { " (the rest is published at the next start)" }
        );
    }
    if asked {
        Ok(())
    } else {
        Err(AppError::Failure("NATS closed the service's endpoints; stopped".into()))
    }
}
