//! Queries the service answers on `orderflow.query.<name>`: reads, never writes.
//!
//! Built in: `show` (an order's current state), `history` (an order's events, in pages),
//! `status` (the status board) and `kpi` (the KPIs). `status` and `kpi` are live read models:
//! each query holds its projection's runner, opened once from its snapshot and caught up with
//! the log before every answer (incrementally: only the events since the last answer).
//!
//! # Adding a query (the extension point)
//! Implement [`Query`] (a name and an `answer` from the request body to the reply's fields) and
//! hand it to the server in [`crate::service::ServeConfig::queries`]; the `serve` command builds
//! that list with [`builtin_queries`] plus its own. The service answers
//! `orderflow.query.<name>` for every query in the list, lists the names in the endpoint's
//! metadata (`$SRV.INFO`), checks the body's size and encoding before calling `answer`, and turns
//! an `Err` into an error reply.

use orderflow_commands::Rejection;
use orderflow_schemas::{decode_event, event_to_json, JsonEnvelope, OrderId, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};

use std::sync::Mutex;

use orderflow_projections::{KpiFacts, Projection, Runner, RunnerConfig, StatusBoard};

use crate::app::{App, AppError};
use crate::cli::read::{check_month, kpi_report, select, KpiArgs, StatusArgs};
use crate::render;
use crate::service::protocol::parse_body;

/// Events in one `history` reply at most.
pub const HISTORY_PAGE_EVENTS_MAX: usize = 512;
/// Bytes of the events of one `history` reply at most (the last event may cross it); half of
/// NATS's default `max_payload` (1 MiB), so a page always fits in one reply.
pub const HISTORY_PAGE_BYTES_MAX: usize = 512 * 1024;

/// A read the service answers on `orderflow.query.<name>`.
pub trait Query: Send + Sync + 'static {
    /// The subject's last token: letters, digits and `_`.
    fn name(&self) -> &'static str;

    /// Answers one request. `body` has been checked to be UTF-8 within
    /// [`crate::service::protocol::REQUEST_BODY_BYTES_MAX`]; parse it with
    /// [`parse_body`] into a struct with `deny_unknown_fields`. The returned object's fields
    /// become the reply's, beside `"ok": true`. Runs on the async runtime: it must not block for
    /// long.
    fn answer(&self, app: &App, body: &[u8]) -> Result<Value, AppError>;
}

/// The queries every server answers: `show`, `history`, `status` and `kpi`.
pub fn builtin_queries() -> Vec<std::sync::Arc<dyn Query>> {
    vec![
        std::sync::Arc::new(Show),
        std::sync::Arc::new(History),
        std::sync::Arc::new(Live::<StatusBoard>::default()),
        std::sync::Arc::new(Live::<KpiFacts>::default()),
    ]
}

/// A read model kept live for queries: opened on first use, caught up before every answer.
pub struct Live<P: Projection> {
    runner: Mutex<Option<Runner<P>>>,
}

impl<P: Projection> Default for Live<P> {
    fn default() -> Self {
        Self { runner: Mutex::new(None) }
    }
}

impl<P: Projection> std::fmt::Debug for Live<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("projection", &P::NAME).finish()
    }
}

impl<P: Projection> Live<P> {
    /// Runs `f` on the view caught up with the log.
    fn with_view<T>(&self, app: &App, f: impl FnOnce(&P) -> T) -> Result<T, AppError> {
        let failure = |e: orderflow_projections::RunnerError| AppError::Failure(e.to_string());
        let mut guard =
            self.runner.lock().map_err(|_| AppError::Failure(format!("{} view poisoned", P::NAME)))?;
        if guard.is_none() {
            *guard = Some(Runner::<P>::open(app.log(), RunnerConfig::default()).map_err(failure)?);
        }
        let runner = guard.as_mut().ok_or_else(|| AppError::Failure("no runner".into()))?;
        runner.catch_up(&mut |_| {}).map_err(failure)?;
        Ok(f(runner.view()))
    }
}

/// `status`: the body is `orderflow status`'s options as JSON (`{"state"?, "customer"?,
/// "at_risk"?, "within"?, "overdue"?, "late"?, "all"?}`) → `{"orders": [...], "text"}`.
impl Query for Live<StatusBoard> {
    fn name(&self) -> &'static str {
        "status"
    }

    fn answer(&self, app: &App, body: &[u8]) -> Result<Value, AppError> {
        let args: StatusArgs = parse_body(body)?;
        let now = crate::app::now();
        self.with_view(app, |board| {
            let rows = select(board, &args, now);
            json!({ "orders": StatusBoard::render_json(&rows, now), "text": StatusBoard::render_table(&rows, now, orderflow_projections::TableWidth::DEFAULT) })
        })
    }
}

/// `kpi`: `{"month"?: "YYYY-MM", "by"?: "customer"|"product"|"channel"}` → `{"report", "text"}`.
impl Query for Live<KpiFacts> {
    fn name(&self) -> &'static str {
        "kpi"
    }

    fn answer(&self, app: &App, body: &[u8]) -> Result<Value, AppError> {
        let args: KpiArgs = parse_body(body)?;
        check_month(&args)?;
        self.with_view(app, |facts| {
            let report = kpi_report(facts, &args);
            json!({ "report": report.render_json(), "text": report.render_table(orderflow_projections::TableWidth::DEFAULT) })
        })
    }
}

/// The body of `show`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShowRequest {
    order_id: OrderId,
}

/// `show`: `{"order_id"}` → `{"order_id", "version", "state": {...}, "text": "..."}`; `state` is
/// what `orderflow order show --json` prints, `text` what it prints without `--json`.
#[derive(Debug, Clone, Copy)]
pub struct Show;

impl Query for Show {
    fn name(&self) -> &'static str {
        "show"
    }

    fn answer(&self, app: &App, body: &[u8]) -> Result<Value, AppError> {
        let req: ShowRequest = parse_body(body)?;
        let (version, state) = app.order(req.order_id)?;
        if !state.exists() {
            return Err(AppError::Rejected(Rejection::OrderNotFound { order: req.order_id }));
        }
        Ok(json!({
            "order_id": req.order_id,
            "version": version,
            "state": render::state_json(&state, version),
            "text": render::state_text(&state, version),
        }))
    }
}

/// The body of `history`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryRequest {
    order_id: OrderId,
    #[serde(default = "first_version")]
    from_version: u64,
}

fn first_version() -> u64 {
    1
}

/// `history`: `{"order_id", "from_version"?}` → `{"order_id", "events": [...], "next_version"}`.
/// `events` are the order's events from `from_version` (default 1) in their JSON form, at most
/// [`HISTORY_PAGE_EVENTS_MAX`] and about [`HISTORY_PAGE_BYTES_MAX`]; `next_version` is where the
/// next page starts, `null` after the last.
#[derive(Debug, Clone, Copy)]
pub struct History;

impl Query for History {
    fn name(&self) -> &'static str {
        "history"
    }

    fn answer(&self, app: &App, body: &[u8]) -> Result<Value, AppError> {
        let req: HistoryRequest = parse_body(body)?;
        let order = req.order_id;
        if req.from_version == 0 {
            return Err(AppError::Invalid("from_version starts at 1".into()));
        }
        let stored = app.log().read_stream(order.0, req.from_version)?;
        if stored.is_empty() && app.log().stream_version(order.0)? == 0 {
            return Err(AppError::Rejected(Rejection::OrderNotFound { order }));
        }
        let mut events = Vec::new();
        let mut bytes = 0usize;
        let mut next_version = None;
        for s in stored {
            if events.len() >= HISTORY_PAGE_EVENTS_MAX || bytes >= HISTORY_PAGE_BYTES_MAX {
                next_version = Some(s.version);
                break;
            }
            let event = decode_event(s.event_type, s.schema_version, &s.payload)
                .map_err(|e| AppError::Failure(format!("event at position {}: {e}", s.position)))?;
            let env = JsonEnvelope {
                event_id: s.event_id,
                order_id: order,
                position: s.position,
                version: s.version,
                recorded_at: Timestamp(s.recorded_at_us),
            };
            let json = event_to_json(&event, &env);
            bytes += json.to_string().len();
            events.push(json);
        }
        Ok(json!({ "order_id": order, "events": events, "next_version": next_version }))
    }
}
