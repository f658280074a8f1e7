//! Queries the service answers on `orderflow.query.<name>`: reads. Only the archive reads write,
//! as they do locally: `history`, `audit_history`, `audit_export` and `audit_replay` are checked
//! ([`crate::app::reads::may_read`]) and first record an `archive_accessed` event with who read
//! and why, or an `archive_access_refused` event with why not (the same application functions as
//! the CLI's, [`crate::app::reads`]).
//!
//! Built in: `show` (an order's current state), `history` (an order's events, in pages),
//! `status` (the status board), `kpi` (the KPIs), `audit_history`, `audit_export`,
//! `audit_replay`, `audit_access`, `audit_retention` and `audit_verify`. `status`, `kpi`,
//! `audit_access` and `audit_retention` are live read models: each holds its projection's runner,
//! opened once from its snapshot and caught up with the log before every answer (incrementally:
//! only the events since the last answer). Request and reply bodies are the types of
//! [`crate::service::protocol`]; every order field takes a whole id or a unique prefix.
//!
//! # Adding a query (the extension point)
//! Implement [`Query`] (a name and an `answer` from the request body to the reply's fields) and
//! hand it to the server in [`crate::service::ServeConfig::queries`]; the `serve` command builds
//! that list with [`builtin_queries`] plus its own. The service answers
//! `orderflow.query.<name>` for every query in the list, lists the names in the endpoint's
//! metadata (`$SRV.INFO`), checks the body's size and encoding before calling `answer`, and turns
//! an `Err` into an error reply. Give the request and reply types a `JsonSchema` and add them to
//! [`crate::service::protocol::json_schemas`].

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use orderflow_commands::Rejection;
use orderflow_projections::{AuditView, KpiFacts, Projection, Runner, RunnerConfig, StatusBoard, TableWidth};
use orderflow_schemas::event_to_json;
use serde::Serialize;
use serde_json::Value;

use crate::app::{reads, App, AppError};
use crate::auth::Principal;
use crate::render;
use crate::service::protocol::{
    parse_body, AuditAccessRequest, AuditExportReply, AuditExportRequest, AuditHistoryRequest,
    AuditReplayRequest, AuditRetentionRequest, AuditVerifyReply, AuditVerifyRequest, HistoryReply,
    HistoryRequest, KpiReply, KpiRequest, ShowReply, ShowRequest, StatusReply, StatusRequest,
};

/// Events in one `history` reply at most.
pub const HISTORY_PAGE_EVENTS_MAX: usize = 512;
/// Bytes of the events of one `history` reply at most (the last event may cross it); half of
/// NATS's default `max_payload` (1 MiB), so a page always fits in one reply.
pub const HISTORY_PAGE_BYTES_MAX: usize = 512 * 1024;

/// A read the service answers on `orderflow.query.<name>`.
pub trait Query: Send + Sync + 'static {
    /// The subject's last token: letters, digits and `_`.
    fn name(&self) -> &'static str;

    /// Answers one request of `caller` (the person the NATS server vouched for, checked against
    /// the directory). `body` has been checked to be UTF-8 within
    /// [`crate::service::protocol::REQUEST_BODY_BYTES_MAX`]; parse it with
    /// [`parse_body`] into a struct with `deny_unknown_fields`. The returned object's fields
    /// become the reply's, beside `"ok": true`. Runs on the async runtime: it must not block for
    /// long.
    fn answer<'a>(
        &'a self,
        app: &'a App,
        _caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>>;
}

/// The reply body of a typed reply.
fn to_value<T: Serialize>(reply: &T) -> Result<Value, AppError> {
    serde_json::to_value(reply).map_err(|e| AppError::Failure(format!("cannot encode the reply: {e}")))
}

/// The live read models of one serving process, shared by the NATS queries and the web pages
/// (one fold of each per process, not one per reader).
#[derive(Debug, Default, Clone)]
pub struct Views {
    /// The status board.
    pub board: Arc<Live<StatusBoard>>,
    /// The KPI facts.
    pub kpi: Arc<Live<KpiFacts>>,
    /// The audit view (archive accesses, retention).
    pub audit: Arc<Live<AuditView>>,
}

/// The queries every server answers (see the module documentation), on views of their own.
pub fn builtin_queries() -> Vec<Arc<dyn Query>> {
    builtin_queries_on(&Views::default())
}

/// The queries every server answers, on `views`.
pub fn builtin_queries_on(views: &Views) -> Vec<Arc<dyn Query>> {
    let audit = Arc::clone(&views.audit);
    vec![
        Arc::new(Show),
        Arc::new(History),
        Arc::new(SharedLive(Arc::clone(&views.board))),
        Arc::new(SharedLive(Arc::clone(&views.kpi))),
        Arc::new(AuditHistory),
        Arc::new(AuditExport),
        Arc::new(AuditReplay),
        Arc::new(AuditAccess(Arc::clone(&audit))),
        Arc::new(AuditRetention(audit)),
        Arc::new(AuditVerify),
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
    pub fn with_view<T>(&self, app: &App, f: impl FnOnce(&P) -> T) -> Result<T, AppError> {
        let failure = |e: orderflow_projections::RunnerError| AppError::Failure(e.to_string());
        let mut guard =
            self.runner.lock().map_err(|_| AppError::Failure(format!("{} view poisoned", P::NAME)))?;
        if guard.is_none() {
            let (runner, refold) =
                Runner::<P>::open_or_refold(app.log(), RunnerConfig::default()).map_err(failure)?;
            if let Some(why) = refold {
                tracing::warn!(projection = P::NAME, "{why}");
            }
            *guard = Some(runner);
        }
        let runner = guard.as_mut().ok_or_else(|| AppError::Failure("no runner".into()))?;
        runner.catch_up(&mut |_| {}).map_err(failure)?;
        Ok(f(runner.view()))
    }
}

/// A live view shared with other readers, answering as the view itself does.
struct SharedLive<P: Projection>(Arc<Live<P>>);

impl<P: Projection> Query for SharedLive<P>
where
    Live<P>: Query,
{
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn answer<'a>(
        &'a self,
        app: &'a App,
        caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>> {
        self.0.answer(app, caller, body)
    }
}

/// `status`: [`StatusRequest`] → [`StatusReply`].
impl Query for Live<StatusBoard> {
    fn name(&self) -> &'static str {
        "status"
    }

    fn answer<'a>(
        &'a self,
        app: &'a App,
        _caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>> {
        Box::pin(async move {
            let req: StatusRequest = parse_body(body)?;
            let now = crate::app::now();
            let out = self.with_view(app, |board| reads::status(board, &req.filter(), now))?;
            let orders = out.json.into_iter().next().unwrap_or(Value::Null);
            to_value(&StatusReply { orders, text: out.text })
        })
    }
}

/// `kpi`: [`KpiRequest`] → [`KpiReply`].
impl Query for Live<KpiFacts> {
    fn name(&self) -> &'static str {
        "kpi"
    }

    fn answer<'a>(
        &'a self,
        app: &'a App,
        _caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>> {
        Box::pin(async move {
            let req: KpiRequest = parse_body(body)?;
            let selection = req.selection();
            if let Some(m) = &selection.month {
                reads::check_month(m)?;
            }
            let out = self.with_view(app, |facts| reads::kpi(facts, &selection))??;
            let report = out.json.into_iter().next().unwrap_or(Value::Null);
            to_value(&KpiReply { report, text: out.text })
        })
    }
}

/// `show`: [`ShowRequest`] → [`ShowReply`]; `state` is what `orderflow order show --json`
/// prints, `text` what it prints without `--json`.
#[derive(Debug, Clone, Copy)]
pub struct Show;

impl Query for Show {
    fn name(&self) -> &'static str {
        "show"
    }

    fn answer<'a>(
        &'a self,
        app: &'a App,
        _caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>> {
        Box::pin(async move {
            let req: ShowRequest = parse_body(body)?;
            let order = app.resolve(&req.order_id)?;
            let (version, state) = app.order(order)?;
            if !state.exists() {
                return Err(AppError::Rejected(Rejection::OrderNotFound { order }));
            }
            let entered = reads::last_late_entered(app, &state)?;
            to_value(&ShowReply {
                order_id: order,
                version,
                state: render::state_json(&state, version, entered),
                text: render::state_text(&state, version, entered),
            })
        })
    }
}

/// `history`: [`HistoryRequest`] → [`HistoryReply`]. `events` are the order's events from
/// `from_version` (default 1) in their JSON form, at most [`HISTORY_PAGE_EVENTS_MAX`] and about
/// [`HISTORY_PAGE_BYTES_MAX`]; `next_version` is where the next page starts, `null` after the
/// last. An archive read: permitted ([`reads::may_read`]) and recorded once per read, on its
/// first page ([`reads::record_history_page`]); a refusal is recorded and answered `forbidden`.
#[derive(Debug, Clone, Copy)]
pub struct History;

impl Query for History {
    fn name(&self) -> &'static str {
        "history"
    }

    fn answer<'a>(
        &'a self,
        app: &'a App,
        caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>> {
        Box::pin(async move {
            let req: HistoryRequest = parse_body(body)?;
            if req.from_version == 0 {
                return Err(AppError::Invalid("from_version starts at 1".into()));
            }
            let order = app.resolve(&req.order_id)?;
            let who = reads::Reader { principal: caller.clone(), purpose: String::new() };
            reads::record_history_page(app, order, &who, req.from_version).await?;
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
                let (event, env) = crate::app::decode_stored(&s, order)?;
                let json = event_to_json(&event, &env);
                bytes += json.to_string().len();
                events.push(json);
            }
            to_value(&HistoryReply { order_id: order, events, next_version })
        })
    }
}

/// `audit_history`: [`AuditHistoryRequest`] → [`reads::Printout`] (recorded first).
#[derive(Debug, Clone, Copy)]
pub struct AuditHistory;

impl Query for AuditHistory {
    fn name(&self) -> &'static str {
        "audit_history"
    }

    fn answer<'a>(
        &'a self,
        app: &'a App,
        caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>> {
        Box::pin(async move {
            let req: AuditHistoryRequest = parse_body(body)?;
            let order = app.resolve(&req.order_id)?;
            to_value(
                &reads::audit_history(
                    app,
                    order,
                    &req.reader.reader(caller.clone()),
                    TableWidth::wide_if(req.wide),
                )
                .await?,
            )
        })
    }
}

/// `audit_export`: [`AuditExportRequest`] → [`AuditExportReply`] (recorded first); the client
/// writes the document to its file.
#[derive(Debug, Clone, Copy)]
pub struct AuditExport;

impl Query for AuditExport {
    fn name(&self) -> &'static str {
        "audit_export"
    }

    fn answer<'a>(
        &'a self,
        app: &'a App,
        caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>> {
        Box::pin(async move {
            let req: AuditExportRequest = parse_body(body)?;
            let order = app.resolve(&req.order_id)?;
            let document =
                reads::audit_export(app, order, &req.reader.reader(caller.clone()), &req.file).await?;
            to_value(&AuditExportReply { order_id: order, events: reads::export_events(&document), document })
        })
    }
}

/// `audit_replay`: [`AuditReplayRequest`] → [`reads::Printout`] (recorded first).
#[derive(Debug, Clone, Copy)]
pub struct AuditReplay;

impl Query for AuditReplay {
    fn name(&self) -> &'static str {
        "audit_replay"
    }

    fn answer<'a>(
        &'a self,
        app: &'a App,
        caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>> {
        Box::pin(async move {
            let req: AuditReplayRequest = parse_body(body)?;
            let point = req.point()?;
            let order = app.resolve(&req.order_id)?;
            to_value(&reads::audit_replay(app, order, point, &req.reader.reader(caller.clone())).await?)
        })
    }
}

/// `audit_access`: [`AuditAccessRequest`] → [`reads::Printout`].
#[derive(Debug)]
pub struct AuditAccess(Arc<Live<AuditView>>);

impl Query for AuditAccess {
    fn name(&self) -> &'static str {
        "audit_access"
    }

    fn answer<'a>(
        &'a self,
        app: &'a App,
        _caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>> {
        Box::pin(async move {
            let req: AuditAccessRequest = parse_body(body)?;
            let order = req.order_id.as_ref().map(|r| app.resolve(r)).transpose()?;
            to_value(
                &self
                    .0
                    .with_view(app, |view| reads::audit_access(view, order, TableWidth::wide_if(req.wide)))?,
            )
        })
    }
}

/// `audit_retention`: [`AuditRetentionRequest`] → [`reads::Printout`].
#[derive(Debug)]
pub struct AuditRetention(Arc<Live<AuditView>>);

impl Query for AuditRetention {
    fn name(&self) -> &'static str {
        "audit_retention"
    }

    fn answer<'a>(
        &'a self,
        app: &'a App,
        _caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>> {
        Box::pin(async move {
            let req: AuditRetentionRequest = parse_body(body)?;
            let order = app.resolve(&req.order_id)?;
            to_value(&self.0.with_view(app, |view| reads::audit_retention(view, order))??)
        })
    }
}

/// `audit_verify`: [`AuditVerifyRequest`] → [`AuditVerifyReply`]; an altered log is an `ok`
/// reply with `intact: false` and the problem.
#[derive(Debug, Clone, Copy)]
pub struct AuditVerify;

impl Query for AuditVerify {
    fn name(&self) -> &'static str {
        "audit_verify"
    }

    fn answer<'a>(
        &'a self,
        app: &'a App,
        _caller: &'a Principal,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<Value, AppError>> {
        Box::pin(async move {
            let _: AuditVerifyRequest = parse_body(body)?;
            let (printout, problem) = reads::audit_verify(app, &mut |_| {});
            to_value(&AuditVerifyReply {
                intact: problem.is_none(),
                printout,
                problem: problem.map(|p| p.to_string()),
            })
        })
    }
}
