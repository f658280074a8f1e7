//! The reads of the application, one function each, called alike by the command line on a data
//! directory and by `orderflow serve` answering a query: the status selection, the KPI report,
//! and the audit archive reads. Archive reads (`order history`, `audit history`, `audit export`,
//! `audit replay`; over NATS `history`, `audit_history`, `audit_export`, `audit_replay`) are
//! permissions ([`may_read`], the one check) and are first recorded in the log as
//! `archive_accessed`, with who read and why ([`record_access`]); a read that cannot be recorded
//! does not happen. A read that is not permitted is refused ([`AppError::Forbidden`]) and recorded
//! as `archive_access_refused` with the reason. `order show`, `status`, `kpi`, `audit access`,
//! `audit retention` and `audit verify` need only a login.
//!
//! Each read returns a [`Printout`]: the JSON lines `--json` prints and the text printed
//! otherwise, so a local run and one through the service print the same.

use std::collections::HashSet;

use orderflow_commands::{Command, RecordAccess, RecordRefusedAccess, Rejection};
use orderflow_projections::{
    AsOf, AuditView, Group, KpiFacts, KpiQuery, KpiReport, OrderRow, OrderState, RetentionStatus,
    ReviewQuery, StatusBoard, TableWidth,
};
use orderflow_schemas::{AccessKind, Date, EventBody, Grant, OrderId, Role, Timestamp};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{App, AppError, Request};
use crate::auth::{Auth, Principal, User};

/// Days ahead `--at-risk` looks unless told.
pub const AT_RISK_WITHIN_DAYS_DEFAULT: i32 = 7;

/// What a read prints: with `--json` each of `json` on its own line, else `text` as it is.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Printout {
    /// The JSON lines (`--json`), one value per line.
    pub json: Vec<Value>,
    /// The text (without `--json`), newlines included.
    pub text: String,
}

impl Printout {
    /// Prints it to standard output.
    pub fn print(&self, json: bool) {
        if json {
            for v in &self.json {
                crate::outln!("{v}");
            }
        } else {
            crate::out!("{}", self.text);
        }
    }
}

/// Which orders of the status board to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusFilter {
    /// Only orders in this state (then closed ones count too).
    pub state: Option<OrderState>,
    /// Only customers whose name contains this, ignoring case.
    pub customer: Option<String>,
    /// Only orders at risk: promised within `within` days and not shipped, or shipped with an ETA
    /// after the promise.
    pub at_risk: bool,
    /// Days ahead for `at_risk` ([`AT_RISK_WITHIN_DAYS_DEFAULT`] when `None`).
    pub within: Option<i32>,
    /// Only orders with a department review past its due time.
    pub overdue: bool,
    /// Only orders past their promise and not delivered.
    pub late: bool,
    /// Closed, cancelled and rejected orders too.
    pub all: bool,
    /// The width the table is laid out for.
    pub width: TableWidth,
}

/// The board's rows that `filter` selects, at `now`.
pub fn select<'a>(board: &'a StatusBoard, filter: &StatusFilter, now: Timestamp) -> Vec<&'a OrderRow> {
    let mut rows = match filter.state {
        Some(s) => board.by_state(s),
        None => board.all(),
    };
    if let Some(c) = &filter.customer {
        rows.retain(|r| r.customer_matches(c));
    }
    if filter.at_risk {
        let within = filter.within.unwrap_or(AT_RISK_WITHIN_DAYS_DEFAULT);
        let risky: HashSet<OrderId> = board.at_risk(now, within).iter().map(|a| a.row.order_id).collect();
        rows.retain(|r| risky.contains(&r.order_id));
    }
    if filter.overdue {
        let overdue: HashSet<OrderId> = board.overdue_approvals(now).iter().map(|o| o.order_id).collect();
        rows.retain(|r| overdue.contains(&r.order_id));
    }
    if filter.late {
        let late: HashSet<OrderId> = board.late(now).iter().map(|l| l.row.order_id).collect();
        rows.retain(|r| late.contains(&r.order_id));
    }
    if !filter.all && filter.state.is_none() {
        rows.retain(|r| r.is_active());
    }
    rows
}

/// The status board's printout: one JSON line (the rows) or the table.
pub fn status(board: &StatusBoard, filter: &StatusFilter, now: Timestamp) -> Printout {
    let rows = select(board, filter, now);
    Printout {
        json: vec![StatusBoard::render_json(&rows, now)],
        text: StatusBoard::render_table(&rows, now, filter.width),
    }
}

/// How `kpi` breaks the figures down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KpiBy {
    /// Per month (the default).
    Month,
    /// Per customer.
    Customer,
    /// Per product (SKU).
    Product,
    /// Per channel.
    Channel,
}

/// Which KPIs to report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KpiSelection {
    /// Only this month (`YYYY-MM`).
    pub month: Option<String>,
    /// The breakdown.
    pub by: KpiBy,
    /// Leave out every order with a late entry (back-dated events).
    pub exclude_late: bool,
    /// The width the table is laid out for.
    pub width: TableWidth,
    /// The review-within-limit report instead (per department and month), its open reviews
    /// counted against this time.
    pub reviews_at: Option<Timestamp>,
}

/// Checks a month as `--month` takes it.
pub fn check_month(month: &str) -> Result<(), AppError> {
    let ok = month.len() == 7 && Date::parse(&format!("{month}-01")).is_ok();
    if ok {
        Ok(())
    } else {
        Err(AppError::Invalid(format!("'{month}' is not a month (expected YYYY-MM, e.g. 2026-11)")))
    }
}

/// The KPI report `selection` asks for (after checking its month).
pub fn kpi_report(facts: &KpiFacts, selection: &KpiSelection) -> Result<KpiReport, AppError> {
    if let Some(m) = &selection.month {
        check_month(m)?;
    }
    let group = match selection.by {
        KpiBy::Month => Group::Month,
        KpiBy::Customer => Group::Customer,
        KpiBy::Product => Group::Sku,
        KpiBy::Channel => Group::Channel,
    };
    Ok(facts.report(&KpiQuery {
        group,
        from_month: selection.month.clone(),
        to_month: selection.month.clone(),
        exclude_late: selection.exclude_late,
    }))
}

/// The KPIs' printout (or the review-within-limit report's, when the selection asks for it).
pub fn kpi(facts: &KpiFacts, selection: &KpiSelection) -> Result<Printout, AppError> {
    if let Some(now) = selection.reviews_at {
        if let Some(m) = &selection.month {
            check_month(m)?;
        }
        let report = facts.review_report(&ReviewQuery {
            from_month: selection.month.clone(),
            to_month: selection.month.clone(),
            exclude_late: selection.exclude_late,
            now: Some(now),
        });
        return Ok(Printout { json: vec![report.render_json()], text: report.render_table(selection.width) });
    }
    let report = kpi_report(facts, selection)?;
    Ok(Printout { json: vec![report.render_json()], text: report.render_table(selection.width) })
}

/// Who reads or administers the archive (authenticated), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    /// The person and the power they read with.
    pub principal: Principal,
    /// Why (recorded with the access).
    pub purpose: String,
}

/// A point of a replay: a time or an order version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayPoint {
    /// The events effective at or before this time.
    Time(Timestamp),
    /// The events up to and including this version.
    Version(u64),
}

impl ReplayPoint {
    fn as_of(self) -> AsOf {
        match self {
            ReplayPoint::Time(t) => AsOf::Time(t),
            ReplayPoint::Version(v) => AsOf::Version(v),
        }
    }
}

/// A time as a clerk writes it: `2026-11-05 14:00 UTC` (seconds when there are some).
pub fn clerk_time(t: Timestamp) -> String {
    let dt = t.to_datetime();
    if dt.timestamp_subsec_micros() == 0 && dt.format("%S").to_string() == "00" {
        dt.format("%Y-%m-%d %H:%M UTC").to_string()
    } else {
        dt.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }
}

impl std::fmt::Display for ReplayPoint {
    /// `as of 2026-11-05 14:00 UTC` or `version 8`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayPoint::Time(t) => write!(f, "as of {}", clerk_time(*t)),
            ReplayPoint::Version(v) => write!(f, "version {v}"),
        }
    }
}

/// A retention status as a clerk writes it: `open`, `until 2036-12-02`, `on hold`.
pub fn retention_words(status: &RetentionStatus) -> String {
    match status {
        RetentionStatus::Open => "open".into(),
        RetentionStatus::Until { date } => format!("until {date}"),
        RetentionStatus::Held => "on hold".into(),
    }
}

/// The order-not-found rejection.
fn not_found(order: OrderId) -> AppError {
    AppError::Rejected(Rejection::OrderNotFound { order })
}

fn audit_error(order: OrderId, e: orderflow_projections::AuditError) -> AppError {
    match e {
        orderflow_projections::AuditError::NotFound { .. } => not_found(order),
        orderflow_projections::AuditError::Log(l) => AppError::Storage(l),
        other => AppError::Failure(other.to_string()),
    }
}

/// The roles whose departments work on every order: sales takes it in, the four reviewing
/// departments decide every revision.
pub const ROLES_WORKING_EVERY_ORDER: [Role; 5] =
    [Role::Sales, Role::Production, Role::Procurement, Role::Finance, Role::Warehouse];

/// The roles whose departments work on an order once one of their people acted on it (an event
/// of the order carries the role; an archive read does not count): shipping, inspection,
/// after-sales.
pub const ROLES_WORKING_WHEN_ACTED: [Role; 3] = [Role::Logistics, Role::Quality, Role::CustomerService];

/// Whether `who` may read the archive of the order whose state is `state` (its events, its
/// timeline, an export, a replay): the one permission check of archive reads, for the command
/// line and the service alike. Permitted: the `auditor` and `archivist` roles, every department
/// head (`dept_head:ROLE`), and the roles of the departments that work on the order: sales and
/// the four reviewing departments always ([`ROLES_WORKING_EVERY_ORDER`]); logistics, quality
/// and customer service once someone in that role acted on the order
/// ([`ROLES_WORKING_WHEN_ACTED`], [`orderflow_commands::OrderState::acted_roles`]). Anyone else
/// (an admin, logistics on an order never shipped...) is refused; the error says who, in which
/// role, and why.
pub fn may_read(state: &orderflow_commands::OrderState, who: &Principal) -> Result<(), String> {
    let role = match who.grant() {
        Grant::Role(Role::Auditor | Role::Archivist) | Grant::DeptHead(_) => return Ok(()),
        Grant::Role(role) => role,
    };
    if ROLES_WORKING_EVERY_ORDER.contains(&role) {
        return Ok(());
    }
    let login = &who.user().login;
    let order = state.order_id.short();
    let why = if ROLES_WORKING_WHEN_ACTED.contains(&role) {
        if state.acted_roles.contains(&role) {
            return Ok(());
        }
        format!("nobody in {role} has worked on it yet")
    } else {
        format!("{role} does not work on orders")
    };
    Err(format!("{login} acting as {role} may not read the archive of order {order}: {why}"))
}

/// Who may read an archive, in the words of a refusal.
pub const READ_PERMISSION_RULE: &str = "archive reads are for auditors, archivists, department heads, sales \
    and the reviewing departments, and for logistics, quality and customer service once they have worked on \
    the order";

/// The person an archive read runs as when no role was asked for: the user's only grant; of
/// several, the first that [`may_read`] permits on this order, else the first (so that a refusal
/// names one). With `requested`, that grant ([`Auth::principal`]).
pub fn read_principal(
    app: &App,
    order: OrderId,
    user: &User,
    requested: Option<&str>,
) -> Result<Principal, AppError> {
    if requested.is_some() || user.grants.len() <= 1 {
        return Auth::principal(user, requested, None);
    }
    let (_, state) = app.order(order)?;
    let candidates = user
        .grants
        .iter()
        .map(|g| Auth::principal(user, Some(&g.to_string()), None))
        .collect::<Result<Vec<_>, _>>()?;
    let permitted = candidates.iter().position(|p| may_read(&state, p).is_ok()).unwrap_or(0);
    candidates
        .into_iter()
        .nth(permitted)
        .ok_or_else(|| AppError::Forbidden(format!("{} holds no role (an admin grants one)", user.login)))
}

/// Records an archive read before it happens, as `archive_accessed` by `who` with `detail` (and
/// the purpose, when given). A read that cannot be recorded does not happen. A read that
/// [`may_read`] does not permit is recorded as `archive_access_refused` with the reason and
/// refused ([`AppError::Forbidden`]); nothing else is written.
pub async fn record_access(
    app: &App,
    order: OrderId,
    who: &Reader,
    access: AccessKind,
    detail: String,
) -> Result<(), AppError> {
    let (_, state) = app.order(order)?;
    if !state.exists() {
        return Err(not_found(order));
    }
    let command = match may_read(&state, &who.principal) {
        Ok(()) => {
            let detail =
                if who.purpose.is_empty() { detail } else { format!("{detail}; purpose: {}", who.purpose) };
            Command::RecordAccess(RecordAccess { access, detail })
        }
        Err(reason) => {
            let recorded = app
                .execute(Request {
                    order_id: Some(order),
                    command_id: Uuid::new_v4(),
                    principal: who.principal.clone(),
                    at: None,
                    late_reason: None,
                    command: Command::RecordRefusedAccess(RecordRefusedAccess {
                        access,
                        reason: reason.clone(),
                    }),
                })
                .await;
            return Err(match recorded {
                Ok(_) => AppError::Forbidden(format!(
                    "{reason} ({READ_PERMISSION_RULE}); the refused read is recorded"
                )),
                Err(e) => AppError::Failure(format!("{reason}; recording the refused read failed: {e}")),
            });
        }
    };
    app.execute(Request {
        order_id: Some(order),
        command_id: Uuid::new_v4(),
        principal: who.principal.clone(),
        at: None,
        late_reason: None,
        command,
    })
    .await
    .map(|_| ())
}

/// The detail `order history` reads are recorded with.
pub const ORDER_HISTORY_DETAIL: &str = "order history";

/// Records one page of `order history` as served in pages (the service's `history`, from
/// `from_version`): the first page is recorded like any archive read; a later page is checked
/// ([`may_read`], a refusal recorded) and recorded again unless it continues a read this user
/// had recorded (an `archive_accessed` of the history by the same user at or after
/// `from_version`: the record of the first page comes after the events it served). So a read is
/// recorded once however many pages it takes, and no page is served unrecorded.
pub async fn record_history_page(
    app: &App,
    order: OrderId,
    who: &Reader,
    from_version: u64,
) -> Result<(), AppError> {
    if from_version <= 1 {
        return record_access(app, order, who, AccessKind::History, ORDER_HISTORY_DETAIL.into()).await;
    }
    let (_, state) = app.order(order)?;
    if !state.exists() {
        return Err(not_found(order));
    }
    if may_read(&state, &who.principal).is_ok() {
        let accessed = orderflow_schemas::event_type_by_name("archive_accessed").map(|t| t.code);
        let user = who.principal.user().id;
        for stored in app.log().read_stream(order.0, from_version)? {
            if Some(stored.event_type) != accessed {
                continue;
            }
            let (event, _) = super::decode_stored(&stored, order)?;
            if let EventBody::ArchiveAccessed(a) = &event.body {
                if a.access == AccessKind::History && event.actor.user_id == user {
                    return Ok(());
                }
            }
        }
    }
    let detail = format!("{ORDER_HISTORY_DETAIL} from version {from_version}");
    record_access(app, order, who, AccessKind::History, detail).await
}

/// When the latest late entry of an order was entered (the log's recording time), for `order
/// show`; `None` when the order has none.
pub fn last_late_entered(
    app: &App,
    state: &orderflow_commands::OrderState,
) -> Result<Option<Timestamp>, AppError> {
    if state.late_entries == 0 {
        return Ok(None);
    }
    let order = state.order_id;
    let mut entered = None;
    for stored in app.log().read_stream(order.0, 1)? {
        let (event, env) = super::decode_stored(&stored, order)?;
        if event.late.is_some() {
            entered = Some(env.recorded_at);
        }
    }
    Ok(entered)
}

/// `audit history`: recorded, then the readable timeline (JSON: one line per entry).
pub async fn audit_history(
    app: &App,
    order: OrderId,
    who: &Reader,
    width: TableWidth,
) -> Result<Printout, AppError> {
    record_access(app, order, who, AccessKind::History, "timeline".into()).await?;
    let entries = orderflow_projections::history(app.log(), order).map_err(|e| audit_error(order, e))?;
    let json = entries
        .iter()
        .map(|e| serde_json::to_value(e).map_err(|e| AppError::Failure(format!("timeline entry: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Printout { json, text: orderflow_projections::render_timeline(&entries, width) })
}

/// `audit export`: recorded (the detail names `file`, where the caller writes it), then the
/// self-contained export document, signed with the instance's key ([`crate::signing`]).
pub async fn audit_export(app: &App, order: OrderId, who: &Reader, file: &str) -> Result<Value, AppError> {
    let key = signing_key(app)?;
    record_access(app, order, who, AccessKind::Export, format!("file {file}")).await?;
    let mut doc = orderflow_projections::export(app.log(), order).map_err(|e| audit_error(order, e))?;
    crate::signing::sign_export(&key, &mut doc)
        .map_err(|e| AppError::Failure(format!("cannot sign the export: {e}")))?;
    Ok(doc)
}

/// The instance's signing key (made when the data directory has none yet).
fn signing_key(app: &App) -> Result<ed25519_dalek::SigningKey, AppError> {
    crate::signing::ensure_key(app.path()).map_err(|e| AppError::Failure(e.to_string()))
}

/// `audit public-key`: the instance's public key (hex), which verifies its exports and anchors.
pub fn audit_public_key(app: &App) -> Result<Printout, AppError> {
    let public = crate::signing::public_key_hex(&signing_key(app)?.verifying_key());
    Ok(Printout {
        json: vec![json!({ "algorithm": crate::signing::ALGORITHM, "public_key": public })],
        text: format!("{public}\n"),
    })
}

/// `audit anchor`: the log's head (position and log hash) signed with the instance's key, at
/// `at`. An empty log has nothing to anchor ([`AppError::Invalid`]).
pub fn audit_anchor(app: &App, at: chrono::DateTime<chrono::Utc>) -> Result<Value, AppError> {
    let key = signing_key(app)?;
    let head = app.log().head();
    if head == 0 {
        return Err(AppError::Invalid("the log is empty: nothing to anchor yet".into()));
    }
    let hash = log_hash_at(app, head)?.ok_or_else(|| {
        AppError::Storage(orderflow_engine::LogError::Corrupted {
            position: head,
            detail: "the head event cannot be read".into(),
        })
    })?;
    Ok(crate::signing::sign_anchor(&key, head, &hash, at))
}

/// The log hash of the event at `position`; `None` when the log does not reach it.
fn log_hash_at(app: &App, position: u64) -> Result<Option<[u8; 32]>, AppError> {
    Ok(app.log().read_from(position, 1)?.into_iter().find(|e| e.position == position).map(|e| e.log_hash))
}

/// Checks an anchor against the log (after [`audit_verify`] found the log intact): its signature
/// by `key` (else the instance's own key), and that the log at the anchor's position still has
/// the anchored log hash. Holds → the printout; else the [`AppError::Tampered`] naming the
/// position (or [`AppError::Invalid`] for a file that is no anchor).
pub fn audit_verify_anchor(
    app: &App,
    anchor: &Value,
    key: Option<&ed25519_dalek::VerifyingKey>,
) -> Result<Printout, AppError> {
    let own;
    let trusted = key.is_some();
    let (key, whose) = match key {
        Some(k) => (k, "the trusted key given"),
        None => {
            own = signing_key(app)?.verifying_key();
            (&own, "this instance's key (give --key PUBLIC to check it against a key kept elsewhere)")
        }
    };
    let a = crate::signing::verify_anchor(anchor, key).map_err(|e| match e {
        crate::signing::AnchorError::Malformed(_) => AppError::Invalid(format!("the anchor file is {e}")),
        crate::signing::AnchorError::BadSignature(_) => AppError::Tampered(format!("anchor refused: {e}")),
    })?;
    let head = app.log().head();
    let tampered = |detail: String| AppError::Tampered(format!("log rewritten: {detail}"));
    match log_hash_at(app, a.position)? {
        None => {
            return Err(tampered(format!(
                "the log ends at position {head}, before the anchored position {} (anchored {}): events \
                 were removed",
                a.position, a.at
            )))
        }
        Some(h) if h != a.log_hash => {
            return Err(tampered(format!(
                "at position {} the log hash is {}, not {} as anchored {}: the log was changed at or \
                 before position {}",
                a.position,
                crate::signing::hex(&h),
                crate::signing::hex(&a.log_hash),
                a.at,
                a.position
            )))
        }
        Some(_) => {}
    }
    let public = crate::signing::public_key_hex(&a.public_key);
    let json = json!({ "anchor": true, "position": a.position, "log_hash": crate::signing::hex(&a.log_hash),
                       "at": a.at, "public_key": public, "trusted_key": trusted,
                       "events_since": head - a.position });
    let text = format!(
        "anchor holds: position {} still has log hash {} (anchored {}; {} events since); signature by {whose}\n",
        a.position,
        crate::signing::hex(&a.log_hash),
        a.at,
        head - a.position
    );
    Ok(Printout { json: vec![json], text })
}

/// The events of an export document.
pub fn export_events(doc: &Value) -> usize {
    doc.get("events").and_then(|e| e.as_array()).map_or(0, Vec::len)
}

/// `audit replay`: recorded (the detail is the point, e.g. `as of 2026-11-05 14:00 UTC`), then
/// the order as it was.
pub async fn audit_replay(
    app: &App,
    order: OrderId,
    point: ReplayPoint,
    who: &Reader,
) -> Result<Printout, AppError> {
    record_access(app, order, who, AccessKind::Replay, point.to_string()).await?;
    let replay =
        orderflow_projections::replay(app.log(), order, point.as_of()).map_err(|e| audit_error(order, e))?;
    let now = super::now();
    let json = json!({ "order_id": order, "events": replay.events_json(),
                       "state": replay.row.as_ref().map(|r| StatusBoard::render_json(&[r], now)) });
    let mut text = format!("order {} {point}: {} events\n", order.short(), replay.events.len());
    if let Some(row) = &replay.row {
        text.push_str(&StatusBoard::render_table(&[row], now, TableWidth::DEFAULT));
    }
    Ok(Printout { json: vec![json], text })
}

/// `audit access`: who read which archive (one order's, or all), when; a refused read has its
/// reason in `refused` (`null` for a read that happened).
pub fn audit_access(view: &AuditView, order: Option<OrderId>, width: TableWidth) -> Printout {
    let reads = view.access(order);
    let json = reads
        .iter()
        .map(|a| {
            json!({ "order_id": a.order_id, "position": a.position, "at": a.at, "actor": a.actor,
                    "access": a.access, "detail": a.detail, "refused": a.refused })
        })
        .collect();
    Printout { json, text: orderflow_projections::render_access(&reads, width) }
}

/// `audit retention`: what applies to an order's archive.
pub fn audit_retention(view: &AuditView, order: OrderId) -> Result<Printout, AppError> {
    let r = view.retention(order).ok_or_else(|| not_found(order))?;
    let status = retention_words(&r.status);
    let json = json!({ "order_id": order, "closed_at": r.closed_at, "retention_until": r.retention_until,
                       "holds": r.active_holds.len(), "status": status });
    let text = format!(
        "order {}: {status}; retention until {}; {} active hold(s)\n",
        order.short(),
        r.retention_until.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
        r.active_holds.len()
    );
    Ok(Printout { json: vec![json], text })
}

/// `audit verify`: the whole log's checksums, hash chains and positions. Intact → the printout;
/// altered → the printout (its JSON line says where) and the [`AppError::Tampered`] to end with.
pub fn audit_verify(app: &App, progress: &mut dyn FnMut(u64)) -> (Printout, Option<AppError>) {
    match app.log().verify(progress) {
        Ok(r) => {
            let hash: String = r.head_log_hash.iter().map(|b| format!("{b:02x}")).collect();
            // The user directory is a stream of the log too (its events are verified alike).
            let directory =
                app.log().stream_version(orderflow_schemas::DIRECTORY_STREAM).map(|v| v > 0).unwrap_or(false);
            let orders = r.streams - u64::from(directory);
            let json = json!({ "intact": true, "events": r.events, "records": r.records, "orders": orders,
                               "user_directory": directory, "head_log_hash": hash });
            let also = if directory { " and the user directory" } else { "" };
            let text = format!(
                "log intact: {} events in {} appends over {orders} orders{also}\nhead hash {hash}\n",
                r.events, r.records
            );
            (Printout { json: vec![json], text }, None)
        }
        Err(f) => {
            let json = json!({ "intact": false, "position": f.position, "detail": f.detail });
            (Printout { json: vec![json], text: String::new() }, Some(AppError::Tampered(f.to_string())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_and_retention_read_as_a_clerk_writes_them() {
        let t = Timestamp::parse("2026-11-05T14:00:00Z").expect("time");
        assert_eq!(ReplayPoint::Time(t).to_string(), "as of 2026-11-05 14:00 UTC");
        let t = Timestamp::parse("2026-11-05T14:00:07Z").expect("time");
        assert_eq!(ReplayPoint::Time(t).to_string(), "as of 2026-11-05 14:00:07 UTC");
        assert_eq!(ReplayPoint::Version(8).to_string(), "version 8");
        let date = Date::parse("2036-12-02").expect("date");
        assert_eq!(retention_words(&RetentionStatus::Until { date }), "until 2036-12-02");
        assert_eq!(retention_words(&RetentionStatus::Open), "open");
        assert_eq!(retention_words(&RetentionStatus::Held), "on hold");
    }

    #[test]
    fn who_may_read_an_archive() {
        let order = OrderId(Uuid::from_u128(0x1a2b_3c4d << 96));
        let mut state = orderflow_commands::OrderState::new(order);
        state.acted_roles.insert(Role::Sales);
        let as_ = |grant: Grant| Principal::unchecked("pat", grant);
        let every = [Role::Auditor, Role::Archivist, Role::Sales, Role::Production, Role::Finance];
        for role in every.into_iter().chain(ROLES_WORKING_EVERY_ORDER) {
            assert_eq!(may_read(&state, &as_(Grant::Role(role))), Ok(()), "{role}");
        }
        for role in Role::OPERATIONAL {
            assert_eq!(may_read(&state, &as_(Grant::DeptHead(*role))), Ok(()), "head of {role}");
        }
        for role in ROLES_WORKING_WHEN_ACTED {
            let why = may_read(&state, &as_(Grant::Role(role))).expect_err("not yet worked on");
            assert!(
                why.starts_with(&format!(
                    "pat acting as {role} may not read the archive of order 1a2b3c4d: nobody in {role} has \
                     worked on it yet"
                )),
                "{why}"
            );
            let mut worked = state.clone();
            worked.acted_roles.insert(role);
            assert_eq!(may_read(&worked, &as_(Grant::Role(role))), Ok(()), "{role} once it acted");
        }
        let why = may_read(&state, &as_(Grant::Role(Role::Admin))).expect_err("admins manage users");
        assert!(
            why.contains("pat acting as admin may not read") && why.contains("admin does not work on orders")
        );
    }

    #[test]
    fn months_are_checked() {
        check_month("2026-11").expect("a month");
        for bad in ["2026-13", "2026-1", "November", "2026-11-01", ""] {
            let e = check_month(bad).expect_err(bad);
            assert!(matches!(e, AppError::Invalid(_)) && e.to_string().contains("not a month"), "{bad}: {e}");
        }
    }
}

/// A follow-up visit (回訪) that is due: a signed order, sign-off + `visit_after_days` passed,
/// no visit recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitDue {
    /// The order.
    pub order_id: OrderId,
    /// The customer.
    pub customer: String,
    /// When the customer signed.
    pub signed_at: Timestamp,
    /// When the visit fell due.
    pub due: Timestamp,
}

/// The follow-up visits due at `now`, oldest due first, at most `max` (and whether there are
/// more). Read from the order states (the status board does not carry visits yet); a closed
/// order's visit is still due (closing does not wait for it).
pub fn visits_due(app: &App, now: Timestamp, max: usize) -> Result<(Vec<VisitDue>, bool), AppError> {
    let after_days = app.settings().visit_after_days;
    let mut out = Vec::new();
    for id in app.order_ids()? {
        let (_, s) = app.order(id)?;
        let Some(sign) = &s.sign_off else { continue };
        if s.visits > 0 {
            continue;
        }
        let due = sign.signed_at.plus_hours(after_days.saturating_mul(24));
        if due <= now {
            out.push(VisitDue { order_id: id, customer: s.customer.clone(), signed_at: sign.signed_at, due });
        }
    }
    out.sort_by_key(|v| (v.due, v.order_id.0));
    let more = out.len() > max;
    out.truncate(max);
    Ok((out, more))
}

/// The printout of [`visits_due`].
pub fn visits_due_printout(due: &[VisitDue], more: bool, now: Timestamp, after_days: i64) -> Printout {
    let json = due
        .iter()
        .map(|v| {
            json!({
                "order_id": v.order_id, "customer": v.customer, "signed_at": v.signed_at, "due": v.due,
                "days_overdue": (now.0 - v.due.0) / (86_400 * 1_000_000),
            })
        })
        .collect();
    let mut text = if due.is_empty() {
        format!("No follow-up visits due (due {after_days} days after sign-off).\n")
    } else {
        format!("{} follow-up visit(s) due ({after_days} days after sign-off):\n", due.len())
    };
    if !due.is_empty() {
        text.push_str(&format!(
            "{:<10} {:<28} {:<10} {:<10} {:>5}\n",
            "ORDER", "CUSTOMER", "SIGNED", "DUE", "DAYS"
        ));
    }
    for v in due {
        // Cut and padded by display width (a CJK character takes two columns).
        let mut customer = String::new();
        for c in v.customer.chars() {
            let next = format!("{customer}{c}");
            if orderflow_projections::display_width(&next) > 28 {
                break;
            }
            customer = next;
        }
        let pad = 28usize.saturating_sub(orderflow_projections::display_width(&customer));
        customer.push_str(&" ".repeat(pad));
        text.push_str(&format!(
            "{:<10} {} {:<10} {:<10} {:>5}\n",
            v.order_id.short(),
            customer,
            v.signed_at.date(),
            v.due.date(),
            (now.0 - v.due.0) / (86_400 * 1_000_000)
        ));
    }
    if more {
        text.push_str("... and more (raise --limit)\n");
    }
    Printout { json, text }
}
