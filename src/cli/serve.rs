//! `orderflow serve`: the command service over NATS, until SIGINT or SIGTERM.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::app::{App, AppError};
use crate::bus::{shutdown_channel, PublisherConfig};
use crate::service::{builtin_queries, ServeConfig, Server};

use super::signal::StopSignals;

/// How long `serve` waits to connect to NATS at start.
const SERVE_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of `orderflow serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
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
}

/// Runs the service on `data_dir` with the broker at `url` until a stop signal; exit 0 after an
/// orderly stop.
pub(super) async fn run(data_dir: &Path, url: &str, args: ServeArgs, json: bool) -> Result<(), AppError> {
    // First, so that a signal during start-up stops in order instead of killing the process.
    let mut signals = StopSignals::register()?;
    let app = Arc::new(App::open(data_dir)?);
    let result = serve(&app, url, args, json, &mut signals).await;
    let closed = app.close();
    result?;
    closed?;
    Ok(())
}

async fn serve(
    app: &Arc<App>,
    url: &str,
    args: ServeArgs,
    json: bool,
    signals: &mut StopSignals,
) -> Result<(), AppError> {
    let connect =
        crate::service::server::connect_options().connection_timeout(SERVE_CONNECT_TIMEOUT).connect(url);
    let client = tokio::select! {
        c = connect => c.map_err(|e| AppError::Failure(format!("cannot connect to NATS at {url}: {e}")))?,
        s = signals.recv() => {
            info!(signal = s, "Stopped before connecting.");
            return Ok(());
        }
    };
    let config = ServeConfig {
        requests_in_flight_max: args.requests_in_flight_max,
        publisher: PublisherConfig {
            checkpoint_every: Duration::from_millis(args.checkpoint_every_ms),
            shutdown_drain_timeout: Duration::from_millis(args.publish_drain_timeout_ms),
            ..PublisherConfig::default()
        },
        queries: builtin_queries(),
        ..ServeConfig::default()
    };
    let server =
        Server::start(client, Arc::clone(app), config).await.map_err(|e| AppError::Failure(e.to_string()))?;
    let info = server.info().clone();
    let ready = format!(
        "orderflow serve: ready on {url}; commands {}, queries {}; service {} {} id {}; data {}",
        info.command_subjects,
        info.query_subjects,
        info.name,
        info.version,
        info.id,
        app.path().display()
    );
    if json {
        crate::outln!(
            "{}",
            serde_json::json!({
                "ready": true, "nats": url, "service": info.name, "version": info.version, "id": info.id,
                "commands": info.command_subjects, "queries": info.query_subjects,
                "data_dir": app.path().display().to_string(),
            })
        );
    } else {
        crate::outln!("{ready}");
    }

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
