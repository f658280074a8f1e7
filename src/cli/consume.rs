//! `orderflow consume`: a department's durable consumer, printing its events as they come.

use std::io::Write as _;
use std::path::PathBuf;

use tracing::info;

use crate::app::AppError;
use crate::bus::{consume, shutdown_channel, ConsumeError, ConsumerOptions, DeptEvent, RoutingTable};
use crate::render;
use crate::service::client;

use super::signal::StopSignals;

/// Options of `orderflow consume`.
#[derive(clap::Args, Debug, Clone)]
pub struct ConsumeArgs {
    /// The department (sales, production, procurement, finance, warehouse, logistics, quality,
    /// customer_service); its durable consumer is `orderflow-<dept>`.
    #[arg(long)]
    pub dept: String,
    /// A routing file (JSON: {"departments": {"<dept>": ["<event type>", ...]}}) instead of the
    /// built-in table.
    #[arg(long)]
    pub routing: Option<PathBuf>,
}

/// Prints the department's events, one line each (the event's JSON form with `--json`), each
/// acknowledged after it is printed, until SIGINT or SIGTERM.
///
/// It binds to the department's durable consumer that `orderflow serve` made, never creates one:
/// with a department's NATS user (`--nats-user LOGIN@DEPT`) only that department's consumer is
/// reachable.
pub(super) async fn run(
    url: &str,
    credentials: &client::Credentials,
    args: ConsumeArgs,
    json: bool,
) -> Result<(), AppError> {
    let mut signals = StopSignals::register()?;
    let routing = match &args.routing {
        Some(path) => RoutingTable::load(path).map_err(|e| AppError::Invalid(e.to_string()))?,
        None => RoutingTable::default(),
    };
    if let (client::Credentials::User { user, .. }, Some(_)) = (credentials, routing.event_types(&args.dept))
    {
        own_department(user, &args.dept)?;
    }
    let nats = client::connect(url, credentials).await?;
    // A department's NATS user reaches its consumer under the imported API prefix; the engine's
    // own account (or a server without accounts) under the default one.
    let js = match credentials {
        client::Credentials::User { user, .. } if user != crate::auth::ENGINE_NATS_USER => {
            async_nats::jetstream::with_prefix(nats.clone(), crate::natsauth::DEPARTMENT_JS_API_PREFIX)
        }
        client::Credentials::Nkey { .. } => {
            async_nats::jetstream::with_prefix(nats.clone(), crate::natsauth::DEPARTMENT_JS_API_PREFIX)
        }
        _ => async_nats::jetstream::new(nats.clone()),
    };
    let (stop, shutdown) = shutdown_channel();
    let stopper = tokio::spawn(async move {
        let s = signals.recv().await;
        info!(signal = s, "Stopping.");
        stop.trigger();
    });
    let handler = |event: DeptEvent| {
        let line = if json {
            String::from_utf8_lossy(&event.json).into_owned()
        } else {
            render::feed_line(&event.envelope, &event.event)
        };
        let mut out = std::io::stdout().lock();
        let printed = writeln!(out, "{line}").and_then(|()| out.flush());
        std::future::ready(printed.map_err(|e| format!("cannot print: {e}")))
    };
    let options = ConsumerOptions { create: false, ..ConsumerOptions::default() };
    let result = consume(&js, &args.dept, &routing, &options, shutdown, handler).await;
    stopper.abort();
    match result {
        Ok(stats) => {
            info!(handled = stats.handled_total, skipped = stats.skipped_total, "Consumer stopped.");
            Ok(())
        }
        Err(e @ (ConsumeError::UnknownDepartment(_) | ConsumeError::Config(_))) => {
            Err(AppError::Invalid(e.to_string()))
        }
        Err(e) => Err(AppError::Failure(e.to_string())),
    }
}

/// A person's NATS user (`<login>@<account>`) reaches only its own account's department
/// consumer: say so at once instead of waiting on a subject the server will not carry.
fn own_department(nats_user: &str, dept: &str) -> Result<(), AppError> {
    let Some((_, account)) = nats_user.rsplit_once('@') else { return Ok(()) };
    let Some(grant) = crate::auth::grant_of_account(&account.to_uppercase()) else { return Ok(()) };
    match crate::natsauth::department_of(grant) {
        Some(own) if own == dept => Ok(()),
        Some(own) => Err(AppError::Forbidden(format!(
            "{nats_user} reads the consumer of {own} only, not of {dept} (connect as your user of {dept}'s \
             account)"
        ))),
        None => Err(AppError::Forbidden(format!(
            "{nats_user} is of account {account}, which reads no department's consumer"
        ))),
    }
}
