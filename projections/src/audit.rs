//! The audit archive: retention, holds and the access log per order (a projection), and the
//! audit commands that read the log directly: the readable history, the self-contained export
//! and its offline verification, and point-in-time replay.

use std::collections::HashMap;
use std::fmt::Write as _;

use orderflow_engine::{
    event_id_of, log_hash, stream_hash, EventLog, HashInput, LogError, StoredEvent, GENESIS_HASH,
};
use orderflow_schemas::{
    decode_event, event_to_json, event_type_by_code, AccessKind, Actor, Date, DecodeError, Event, EventBody,
    EventType, Initiator, JsonEnvelope, Money, OrderId, Role, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use thiserror::Error;
use uuid::Uuid;

use crate::runner::{Projection, ProjectionError};
use crate::status::OrderRow;
use crate::table::{left, render, right, TableWidth};

/// The `format` field of an export file.
pub const EXPORT_FORMAT: &str = "orderflow-order-export";
/// The export layout version this build writes and verifies.
pub const EXPORT_FORMAT_VERSION: u64 = 1;

/// An archive hold.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Hold {
    /// Why (dispute, audit, claim).
    pub reason: String,
    /// Who placed it.
    pub placed_by: Actor,
    /// When (effective time).
    pub placed_at: Timestamp,
    /// The position of `archive_hold_placed`.
    pub position: u64,
}

/// One recorded read of an order's archive.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Access {
    /// The order read.
    pub order_id: OrderId,
    /// The position of `archive_accessed`.
    pub position: u64,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// What kind of read.
    pub access: AccessKind,
    /// What exactly (export file, replay point, purpose).
    pub detail: String,
    /// Set when the read was refused: why (the position is then that of
    /// `archive_access_refused`).
    #[serde(default)]
    pub refused: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
struct ArchiveRecord {
    closed_at: Option<Timestamp>,
    retention_until: Option<Date>,
    holds: Vec<Hold>,
    accesses: Vec<Access>,
}

/// Whether an order's archive may be disposed of.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum RetentionStatus {
    /// Not closed yet: kept.
    Open,
    /// Closed: kept until this date.
    Until {
        /// The retention date.
        date: Date,
    },
    /// A hold is active: kept indefinitely until every hold is released.
    Held,
}

/// The retention of one order's archive.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Retention {
    /// The order.
    pub order_id: OrderId,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// `order_closed`'s retention date.
    pub retention_until: Option<Date>,
    /// Active holds, oldest first.
    pub active_holds: Vec<Hold>,
    /// What applies now.
    pub status: RetentionStatus,
}

impl Retention {
    /// Whether the archive may be disposed of on `today`: closed, retention date passed, no hold.
    pub fn disposable_on(&self, today: Date) -> bool {
        matches!(self.status, RetentionStatus::Until { date } if date < today)
    }
}

/// The audit view: retention, holds and accesses per order.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct AuditView {
    orders: HashMap<OrderId, ArchiveRecord>,
}

impl Projection for AuditView {
    const NAME: &'static str = "audit";
    /// 2: accesses carry `refused`, and refused reads are folded.
    const VIEW_VERSION: u32 = 2;

    fn folds(t: EventType) -> bool {
        matches!(
            t.name,
            "order_received"
                | "order_closed"
                | "archive_hold_placed"
                | "archive_hold_released"
                | "archive_accessed"
                | "archive_access_refused"
        )
    }

    /// A release lifts the most recent active hold.
    fn apply(&mut self, stored: &StoredEvent, event: &Event) -> Result<(), ProjectionError> {
        if !event.body.is_order() {
            return Ok(()); // the user directory's stream: not an order
        }
        let order = OrderId(stored.stream);
        if let EventBody::OrderReceived(_) = &event.body {
            if self.orders.contains_key(&order) {
                return Err(ProjectionError::Invalid {
                    detail: format!("order {order} received a second time"),
                });
            }
            self.orders.insert(order, ArchiveRecord::default());
            return Ok(());
        }
        let rec = self.orders.get_mut(&order).ok_or(ProjectionError::UnknownOrder { order })?;
        match &event.body {
            EventBody::OrderClosed(c) => {
                rec.closed_at = Some(event.at);
                rec.retention_until = Some(c.retention_until);
            }
            EventBody::ArchiveHoldPlaced(h) => rec.holds.push(Hold {
                reason: h.reason.clone(),
                placed_by: event.actor.clone(),
                placed_at: event.at,
                position: stored.position,
            }),
            EventBody::ArchiveHoldReleased(_) if rec.holds.is_empty() => {
                return Err(ProjectionError::Invalid {
                    detail: format!("order {order} has no hold to release"),
                });
            }
            EventBody::ArchiveHoldReleased(_) => {
                rec.holds.pop();
            }
            EventBody::ArchiveAccessed(a) => rec.accesses.push(Access {
                order_id: order,
                position: stored.position,
                at: event.at,
                actor: event.actor.clone(),
                access: a.access,
                detail: a.detail.clone(),
                refused: None,
            }),
            EventBody::ArchiveAccessRefused(a) => rec.accesses.push(Access {
                order_id: order,
                position: stored.position,
                at: event.at,
                actor: event.actor.clone(),
                access: a.access,
                detail: String::new(),
                refused: Some(a.reason.clone()),
            }),
            _ => {}
        }
        Ok(())
    }
}

impl AuditView {
    /// Recorded archive reads of one order, or of every order; in log order.
    pub fn access(&self, order: Option<OrderId>) -> Vec<&Access> {
        let mut out: Vec<&Access> = match order {
            Some(o) => self.orders.get(&o).map(|r| r.accesses.iter().collect()).unwrap_or_default(),
            None => self.orders.values().flat_map(|r| r.accesses.iter()).collect(),
        };
        out.sort_by_key(|a| a.position);
        out
    }

    /// The retention of one order; `None` when the order is unknown.
    pub fn retention(&self, order: OrderId) -> Option<Retention> {
        let rec = self.orders.get(&order)?;
        let status = match (rec.holds.is_empty(), rec.retention_until) {
            (false, _) => RetentionStatus::Held,
            (true, Some(date)) if rec.closed_at.is_some() => RetentionStatus::Until { date },
            _ => RetentionStatus::Open,
        };
        Some(Retention {
            order_id: order,
            closed_at: rec.closed_at,
            retention_until: rec.retention_until,
            active_holds: rec.holds.clone(),
            status,
        })
    }

    /// Every active hold, in log order.
    pub fn holds(&self) -> Vec<(OrderId, &Hold)> {
        let mut out: Vec<(OrderId, &Hold)> =
            self.orders.iter().flat_map(|(o, r)| r.holds.iter().map(move |h| (*o, h))).collect();
        out.sort_by_key(|(_, h)| h.position);
        out
    }

    /// Orders whose archive may be disposed of on `today`, by retention date.
    pub fn disposable(&self, today: Date) -> Vec<Retention> {
        let mut out: Vec<Retention> = self
            .orders
            .keys()
            .filter_map(|o| self.retention(*o))
            .filter(|r| r.disposable_on(today))
            .collect();
        out.sort_by_key(|r| (r.retention_until, r.order_id));
        out
    }
}

/// Why an audit command failed.
#[derive(Debug, Error)]
pub enum AuditError {
    /// The order has no events.
    #[error("order {order} not found")]
    NotFound {
        /// The order.
        order: OrderId,
    },
    /// The log could not be read.
    #[error("cannot read the log: {0}")]
    Log(#[from] LogError),
    /// An event does not decode.
    #[error("event at position {position} does not decode: {source}")]
    Decode {
        /// Its position.
        position: u64,
        /// The decoder's error.
        source: DecodeError,
    },
    /// The status fold refused an event.
    #[error("event at position {position} cannot be folded: {source}")]
    Fold {
        /// Its position.
        position: u64,
        /// Why.
        source: ProjectionError,
    },
}

fn read_order(log: &EventLog, order: OrderId) -> Result<Vec<(StoredEvent, Event)>, AuditError> {
    let stored = log.read_stream(order.0, 1)?;
    if stored.is_empty() {
        return Err(AuditError::NotFound { order });
    }
    stored
        .into_iter()
        .map(|s| {
            let e = decode_event(s.event_type, s.schema_version, &s.payload)
                .map_err(|source| AuditError::Decode { position: s.position, source })?;
            Ok((s, e))
        })
        .collect()
}

/// One line of an order's readable history.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct TimelineEntry {
    /// Global position.
    pub position: u64,
    /// Order version after the event.
    pub version: u64,
    /// Effective time.
    pub at: Timestamp,
    /// When the log recorded it.
    pub recorded_at: Timestamp,
    /// Who.
    pub actor: String,
    /// In which role.
    pub role: Role,
    /// The order revision in force after the event.
    pub revision: u32,
    /// The event type's name.
    pub event_type: String,
    /// One line: what happened, with old → new values for changes.
    pub description: String,
    /// Set for a late entry (its effective time set back): the reason given.
    pub late: Option<String>,
}

fn with_text(mut base: String, text: &str) -> String {
    if !text.trim().is_empty() {
        base.push_str(": ");
        base.push_str(text.trim());
    }
    base
}

/// What the history remembers between events to describe old → new values.
#[derive(Default)]
struct Context {
    revision: u32,
    currency: Option<orderflow_schemas::Currency>,
    promise: Option<Date>,
    eta: Option<Date>,
}

/// A vocabulary word as a clerk reads it ("own_fleet" → "own fleet").
fn words(word: &str) -> String {
    word.replace('_', " ")
}

fn initiator_words(who: Initiator) -> &'static str {
    match who {
        Initiator::Customer => "customer",
        Initiator::Internal => "company",
    }
}

fn describe(ctx: &mut Context, event: &Event) -> String {
    let money = |minor: i64, ctx: &Context| match ctx.currency {
        Some(currency) => Money { minor, currency }.to_string(),
        None => minor.to_string(),
    };
    match &event.body {
        EventBody::OrderReceived(r) => {
            ctx.revision = 1;
            ctx.currency = Some(r.currency);
            // Each department's own due time, when they differ (version 3).
            let dues = if r.review_due_by.iter().any(|d| d.due != r.review_due) {
                let each: Vec<String> = r
                    .review_due_by
                    .iter()
                    .map(|d| format!("{} {}", d.role, d.due.to_datetime().format("%Y-%m-%d %H:%M")))
                    .collect();
                format!(" ({})", each.join(", "))
            } else {
                String::new()
            };
            format!(
                "received by {} from {} ({}): {} line(s), total {}, requested {}, reviews due {}",
                r.channel,
                r.customer,
                r.contact,
                r.lines.len(),
                money(r.total_minor, ctx),
                r.requested_date,
                r.review_due.to_datetime().format("%Y-%m-%d %H:%M")
            ) + &dues
        }
        EventBody::ReviewApproved(r) => {
            with_text(format!("{} approved revision {}", r.department, r.revision), &r.note)
        }
        EventBody::ReviewRejected(r) => {
            with_text(format!("{} rejected revision {}", r.department, r.revision), &r.reason)
        }
        EventBody::OrderApproved(a) => format!("revision {} approved by every department", a.revision),
        EventBody::OrderRejected(r) => {
            with_text(format!("revision {} rejected by {}", r.revision, r.department), &r.reason)
        }
        EventBody::OrderConfirmed(c) => {
            let was = match ctx.promise {
                Some(old) if old != c.promised_date => format!(" (was {old})"),
                _ => String::new(),
            };
            ctx.promise = Some(c.promised_date);
            let mut s = format!("confirmed with the customer, promised {}{was}", c.promised_date);
            if let Some(r) = c.revision {
                let _ = write!(s, ", revision {r}");
            }
            if let Some(d) = c.expected_ship_date {
                let _ = write!(s, ", expected to ship {d}");
            }
            if let Some(m) = c.delivery_mode {
                let _ = write!(s, ", delivery by {}", words(m.as_str()));
            }
            if let Some(v) = c.confirmed_via {
                let _ = write!(s, ", confirmed by {}", words(v.as_str()));
            }
            with_text(s, &c.note)
        }
        EventBody::OrderChanged(c) => {
            ctx.revision = c.revision;
            ctx.promise = c.promised_date.or(ctx.promise);
            let changes: Vec<String> =
                c.changes.iter().map(|f| format!("{}: {} → {}", f.field, f.old, f.new)).collect();
            let mut s = match c.request_id {
                Some(id) => {
                    format!("change request {id} applied as revision {}: {}", c.revision, changes.join("; "))
                }
                None => format!("changed to revision {}: {}", c.revision, changes.join("; ")),
            };
            if let Some(who) = c.initiated_by {
                let _ = write!(s, " (asked by the {})", initiator_words(who));
            }
            if c.reapproval_required {
                s.push_str(" (re-approval required)");
            }
            with_text(s, &format!("reason {}", c.reason.trim())).replacen(": reason ", "; reason: ", 1)
        }
        EventBody::OrderCancelled(c) => {
            let who =
                c.initiated_by.map(|w| format!(" (asked by the {})", initiator_words(w))).unwrap_or_default();
            with_text(format!("cancelled{who}"), &c.reason)
        }
        EventBody::ProductionScheduled(p) => {
            with_text(format!("production scheduled, planned finish {}", p.planned_finish), &p.note)
        }
        EventBody::QualityInspected(q) => with_text(format!("quality inspection: {}", q.result), &q.note),
        EventBody::ProductionCompleted(p) => with_text("production completed".into(), &p.note),
        EventBody::OrderShipped(s) => {
            ctx.eta = Some(s.eta);
            let units: u64 = s.lines.iter().map(|l| u64::from(l.quantity)).sum();
            let mut text = format!(
                "shipped {units} unit(s) by {} ({}), tracking {}, ETA {}",
                s.carrier, s.mode, s.tracking_number, s.eta
            );
            if let Some(r) = s.revision {
                let _ = write!(text, ", revision {r}");
            }
            if let Some(reason) = &s.unconfirmed_reason {
                let _ = write!(text, "; shipped unconfirmed by a department head: {}", reason.trim());
            }
            text
        }
        EventBody::ShipmentDelayed(d) => {
            let old = ctx.eta.map(|e| format!("{e} → ")).unwrap_or_default();
            ctx.eta = Some(d.new_eta);
            with_text(format!("shipment delayed, ETA {old}{}", d.new_eta), &d.reason)
        }
        EventBody::OrderDelivered(d) => with_text("delivered".into(), &d.note),
        EventBody::OrderSigned(s) => {
            let units: u64 = s.accepted.iter().map(|l| u64::from(l.quantity)).sum();
            let full = if s.full { "in full" } else { "partially" };
            with_text(format!("signed by {}, {units} unit(s) accepted {full}", s.signed_by), &s.note)
        }
        EventBody::OrderRefused(r) => with_text(format!("refused by {}", r.refused_by), &r.reason),
        EventBody::ComplaintOpened(c) => {
            let mut s = format!("complaint {} opened ({}, {})", c.complaint_id, c.category, c.severity);
            if let Some(a) = &c.assignee {
                let _ = write!(s, ", assigned to {a}");
            }
            if let Some(t) = c.respond_by {
                let _ = write!(s, ", first response due {}", t.to_datetime().format("%Y-%m-%d %H:%M"));
            }
            with_text(s, &c.text)
        }
        EventBody::ComplaintResolved(c) => {
            let sat = if c.customer_satisfied { "customer satisfied" } else { "customer not satisfied" };
            let remedy = c.remedy.map(|r| format!(", {}", words(r.as_str()))).unwrap_or_default();
            with_text(format!("complaint {} resolved ({sat}{remedy})", c.complaint_id), &c.resolution)
        }
        EventBody::ComplaintReopened(c) => {
            with_text(format!("complaint {} reopened", c.complaint_id), &c.reason)
        }
        EventBody::FeedbackRecorded(f) => with_text(format!("satisfaction {}/5", f.score), &f.comment),
        EventBody::OrderClosed(c) => {
            let s = format!("closed; archive kept until {}", c.retention_until);
            match &c.override_reason {
                Some(r) => format!(
                    "{s}; closed by a department head over an open or unsatisfied complaint: {}",
                    r.trim()
                ),
                None => s,
            }
        }
        EventBody::ChangeRequested(c) => {
            let changes: Vec<String> =
                c.changes.iter().map(|f| format!("{}: {} → {}", f.field, f.old, f.new)).collect();
            let deciders: Vec<String> = c
                .review_due_by
                .iter()
                .map(|d| format!("{} by {}", d.role, d.due.to_datetime().format("%Y-%m-%d %H:%M")))
                .collect();
            let s = format!(
                "change request {} (asked by the {}) for revision {}: {}; to decide: {}",
                c.request_id,
                initiator_words(c.initiated_by),
                c.revision,
                changes.join("; "),
                deciders.join(", ")
            );
            with_text(s, &format!("reason {}", c.reason.trim())).replacen(": reason ", "; reason: ", 1)
        }
        EventBody::ChangeApproved(c) => {
            with_text(format!("{} approved change request {}", c.role, c.request_id), &c.note)
        }
        EventBody::ChangeDeclined(c) => with_text(
            format!("{} declined change request {}; the order goes on unchanged", c.role, c.request_id),
            &c.reason,
        ),
        EventBody::ChangeWithdrawn(c) => {
            with_text(format!("change request {} withdrawn", c.request_id), &c.reason)
        }
        EventBody::ReviewOverdue(r) => {
            let what = match r.request_id {
                Some(id) => format!("change request {id}"),
                None => format!("revision {}", r.revision),
            };
            format!(
                "{} review of {what} overdue (due {}), escalated to {}",
                r.role,
                r.due.to_datetime().format("%Y-%m-%d %H:%M"),
                r.escalated_to
            )
        }
        EventBody::ComplaintUpdated(c) => {
            let mut s = with_text(format!("complaint {} progress", c.complaint_id), &c.note);
            if !c.next_step.trim().is_empty() {
                let _ = write!(s, "; next: {}", c.next_step.trim());
            }
            s
        }
        EventBody::VisitRecorded(v) => {
            let answer = match v.score {
                Some(score) => format!("satisfaction {score}/5"),
                None => "no answer".into(),
            };
            with_text(format!("follow-up visit by {}: {answer}", words(v.method.as_str())), &v.comment)
        }
        EventBody::ShipmentDispatched(s) => {
            format!("shipment {} dispatched by {} ({}), ETA {}", s.shipment_id, s.carrier, s.mode, s.eta)
        }
        EventBody::ArchiveHoldPlaced(h) => with_text("archive hold placed".into(), &h.reason),
        EventBody::ArchiveHoldReleased(h) => with_text("archive hold released".into(), &h.note),
        EventBody::ArchiveAccessed(a) => with_text(format!("archive read ({})", a.access), &a.detail),
        EventBody::ArchiveAccessRefused(a) => {
            with_text(format!("archive read ({}) refused", a.access), &a.reason)
        }
        EventBody::UserAdded(_)
        | EventBody::RoleGranted(_)
        | EventBody::RoleRevoked(_)
        | EventBody::UserDisabled(_)
        | EventBody::UserEnabled(_)
        | EventBody::CredentialChanged(_) => "a change of the user directory".into(),
    }
}

/// The readable history of an order: one entry per event, in version order.
pub fn history(log: &EventLog, order: OrderId) -> Result<Vec<TimelineEntry>, AuditError> {
    let mut ctx = Context::default();
    Ok(read_order(log, order)?
        .into_iter()
        .map(|(s, e)| {
            let description = describe(&mut ctx, &e);
            TimelineEntry {
                position: s.position,
                version: s.version,
                at: e.at,
                recorded_at: Timestamp(s.recorded_at_us),
                actor: e.actor.login.clone(),
                role: e.actor.role,
                revision: ctx.revision,
                event_type: e.body.event_type().name.to_string(),
                description,
                late: e.late.as_ref().map(|l| l.reason.clone()),
            }
        })
        .collect())
}

/// A history as a text table fitting `width` (effective times, UTC; recorded times are left
/// out but for late entries): the actor's name and role, the event and its description wrap,
/// never cut. A late entry's description starts with `LATE ENTRY, entered <recorded time>:
/// <reason>;`.
pub fn render_timeline(entries: &[TimelineEntry], width: TableWidth) -> String {
    if entries.is_empty() {
        return "no events\n".into();
    }
    let columns = [
        left("AT (UTC)").key(),
        right("V").key(),
        right("REV"),
        left("ACTOR (ROLE)").wrap(),
        left("EVENT"),
        left("DESCRIPTION").wrap(),
    ];
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.at.to_datetime().format("%Y-%m-%d %H:%M").to_string(),
                e.version.to_string(),
                e.revision.to_string(),
                format!("{} ({})", e.actor, e.role),
                e.event_type.clone(),
                match &e.late {
                    Some(reason) => format!(
                        "LATE ENTRY, entered {}: {reason}; {}",
                        e.recorded_at.to_datetime().format("%Y-%m-%d %H:%M"),
                        e.description
                    ),
                    None => e.description.clone(),
                },
            ]
        })
        .collect();
    render(&columns, &rows, width)
}

/// Archive reads as a text table fitting `width`, in the order given; a refused read's detail
/// is `REFUSED: <reason>`. An empty list says so.
pub fn render_access(entries: &[&Access], width: TableWidth) -> String {
    if entries.is_empty() {
        return "no archive reads recorded\n".into();
    }
    let columns = [
        left("AT (UTC)").key(),
        left("ORDER").key(),
        left("READ"),
        left("BY (ROLE)").wrap(),
        left("DETAIL").wrap(),
        right("POSITION").optional(0),
    ];
    let digits = OrderId::distinct_digits(entries.iter().map(|a| &a.order_id));
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|a| {
            vec![
                a.at.to_datetime().format("%Y-%m-%d %H:%M").to_string(),
                a.order_id.prefix(digits),
                a.access.to_string(),
                format!("{} ({})", a.actor.login, a.actor.role),
                match &a.refused {
                    Some(reason) => format!("REFUSED: {reason}"),
                    None => a.detail.clone(),
                },
                a.position.to_string(),
            ]
        })
        .collect();
    render(&columns, &rows, width)
}

fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

fn hash_from_hex(s: &str) -> Option<[u8; 32]> {
    from_hex(s).and_then(|v| <[u8; 32]>::try_from(v).ok())
}

/// The self-contained export of an order: every event's JSON form with its place in the log,
/// the raw payload and both hashes, so that [`verify_export`] can check it without the log.
///
/// Layout: `{format, format_version, order_id, genesis_stream_hash, events_total,
/// last_stream_hash, events: [{position, version, command_id, recorded_at_us, type_code,
/// schema_version, payload_hex, prev_log_hash, stream_hash, log_hash, event}]}`; hashes are
/// lower-case hex; `prev_log_hash` is the log hash of the event before it in the whole log.
/// The application adds a `signature` field over [`export_signed_message`] (the crate holds no
/// key); [`verify_export`] ignores it.
pub fn export(log: &EventLog, order: OrderId) -> Result<Value, AuditError> {
    let events = read_order(log, order)?;
    let mut out = Vec::with_capacity(events.len());
    for (s, e) in &events {
        let prev_log_hash = match s.position {
            0 | 1 => GENESIS_HASH,
            p => log.read_from(p - 1, 1)?.first().filter(|x| x.position == p - 1).map(|x| x.log_hash).ok_or(
                LogError::Corrupted { position: p - 1, detail: "event missing while exporting".into() },
            )?,
        };
        let env = JsonEnvelope {
            event_id: s.event_id,
            order_id: order,
            position: s.position,
            version: s.version,
            recorded_at: Timestamp(s.recorded_at_us),
        };
        out.push(json!({
            "position": s.position,
            "version": s.version,
            "command_id": s.command_id,
            "recorded_at_us": s.recorded_at_us,
            "type_code": s.event_type,
            "schema_version": s.schema_version,
            "payload_hex": to_hex(&s.payload),
            "prev_log_hash": to_hex(&prev_log_hash),
            "stream_hash": to_hex(&s.stream_hash),
            "log_hash": to_hex(&s.log_hash),
            "event": event_to_json(e, &env),
        }));
    }
    let last = events.last().map(|(s, _)| to_hex(&s.stream_hash)).unwrap_or_default();
    Ok(json!({
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "order_id": order,
        "genesis_stream_hash": to_hex(&GENESIS_HASH),
        "events_total": out.len(),
        "last_stream_hash": last,
        "events": out,
    }))
}

/// The first problem [`verify_export`] found: the event's index in `events` (none for the
/// header) and what is wrong.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{}: {detail}", match index { Some(i) => format!("event #{i}"), None => "export header".to_string() })]
pub struct ExportError {
    /// Index in the `events` array; `None` for a problem of the header.
    pub index: Option<usize>,
    /// What is wrong.
    pub detail: String,
}

/// What a verified export holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// The order.
    pub order_id: OrderId,
    /// Number of events.
    pub events: u64,
    /// Position of the first event.
    pub first_position: u64,
    /// Position of the last event.
    pub last_position: u64,
    /// Stream hash of the last event (compare it with the log to prove the export complete).
    pub last_stream_hash: String,
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, String> {
    v.get(name).ok_or_else(|| format!("missing field \"{name}\""))
}

fn u64_field(v: &Value, name: &str) -> Result<u64, String> {
    field(v, name)?.as_u64().ok_or_else(|| format!("field \"{name}\" is not an unsigned integer"))
}

fn str_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    field(v, name)?.as_str().ok_or_else(|| format!("field \"{name}\" is not a string"))
}

fn hash_field(v: &Value, name: &str) -> Result<[u8; 32], String> {
    hash_from_hex(str_field(v, name)?).ok_or_else(|| format!("field \"{name}\" is not a 32-byte hex hash"))
}

/// Names the first differing path between two JSON values.
fn first_difference(path: &str, a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => first_difference(&format!("{path}.{k}"), p, q),
                _ => Some(format!("{path}.{k}")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(&format!("{path}[{i}]"), p, q)),
        _ if a == b => None,
        _ => Some(path.to_string()),
    }
}

/// Verifies an export offline: recomputes every stream hash from the exported fields and
/// payload, checks the chain links (stream chain from the genesis, each log hash from its
/// `prev_log_hash`), versions contiguous from 1, positions increasing, the header's count and
/// last hash, and that each JSON form is exactly the decoded payload. Any edited, removed,
/// inserted or reordered event is reported with its index.
///
/// This proves the file consistent with itself, which whoever edits it can also achieve by
/// recomputing the hashes; that it is authentic is proven by its signature (over
/// [`export_signed_message`], checked by the application) or by comparing `last_stream_hash`
/// with the log's.
pub fn verify_export(export: &Value) -> Result<ExportSummary, ExportError> {
    let header = |detail: String| ExportError { index: None, detail };
    let format = str_field(export, "format").map_err(header)?;
    if format != EXPORT_FORMAT {
        return Err(header(format!("format \"{format}\" is not {EXPORT_FORMAT}")));
    }
    let version = u64_field(export, "format_version").map_err(header)?;
    if version != EXPORT_FORMAT_VERSION {
        return Err(header(format!("format version {version}, this build verifies {EXPORT_FORMAT_VERSION}")));
    }
    let order: OrderId =
        str_field(export, "order_id").map_err(header)?.parse().map_err(|e: String| header(e))?;
    let genesis = hash_field(export, "genesis_stream_hash").map_err(header)?;
    if genesis != GENESIS_HASH {
        return Err(header("genesis_stream_hash is not the chain genesis (32 zero bytes)".into()));
    }
    let events = field(export, "events")
        .map_err(header)?
        .as_array()
        .ok_or_else(|| header("\"events\" is not an array".into()))?;
    if events.is_empty() {
        return Err(header("no events".into()));
    }
    let mut prev_stream = GENESIS_HASH;
    let mut prev_position = 0u64;
    for (i, e) in events.iter().enumerate() {
        verify_event(order, i, e, &mut prev_stream, &mut prev_position)
            .map_err(|detail| ExportError { index: Some(i), detail })?;
    }
    let total = u64_field(export, "events_total").map_err(header)?;
    if total != events.len() as u64 {
        return Err(header(format!("events_total is {total} but {} events are present", events.len())));
    }
    let last = hash_field(export, "last_stream_hash").map_err(header)?;
    if last != prev_stream {
        return Err(header("last_stream_hash is not the last event's stream hash".into()));
    }
    Ok(ExportSummary {
        order_id: order,
        events: events.len() as u64,
        first_position: events.first().and_then(|e| e.get("position")).and_then(Value::as_u64).unwrap_or(0),
        last_position: prev_position,
        last_stream_hash: to_hex(&last),
    })
}

/// The `signed` field of an export's signature: the name of the byte string the signature
/// covers, [`export_signed_message`] (the first line of that string is the part before `:`).
pub const EXPORT_SIGNED: &str = "orderflow-export-signature-v1: the lines 'orderflow-export-signature-v1', \
     'format F', 'format_version V', 'order_id ID', 'events_total N', 'last_stream_hash H', then \
     'event POSITION VERSION STREAM_HASH LOG_HASH' per event in file order, each line ending in a newline";

/// The first line of [`export_signed_message`].
const EXPORT_SIGNED_TAG: &str = "orderflow-export-signature-v1";

/// The byte string an export's signature covers (`orderflow-export-signature-v1`): UTF-8 text,
/// one line per item, each ending in `\n` (no carriage return, no trailing space):
///
/// ```text
/// orderflow-export-signature-v1
/// format orderflow-order-export
/// format_version 1
/// order_id 0b6f…-…            (the order id, hyphenated lower-case)
/// events_total 7              (decimal)
/// last_stream_hash 9a3c…      (64 lower-case hex digits)
/// event 12 1 <stream_hash> <log_hash>   (position, version, both hashes; one line per event,
/// event 15 2 <stream_hash> <log_hash>    in the order of the `events` array)
/// ```
///
/// Every other byte of the export is bound through these: each stream hash covers its event's
/// fields and payload and the previous event's stream hash, each log hash its `prev_log_hash`,
/// and [`verify_export`] checks that the JSON forms are exactly the decoded payloads. So an
/// export whose signature verifies and which passes [`verify_export`] is the export as signed.
/// The `signature` field itself is not covered. A header or event field missing or malformed
/// is an [`ExportError`], as in [`verify_export`].
pub fn export_signed_message(export: &Value) -> Result<Vec<u8>, ExportError> {
    let header = |detail: String| ExportError { index: None, detail };
    let format = str_field(export, "format").map_err(header)?;
    if format.contains(['\n', ' ']) {
        return Err(header("format holds a space or a line break".into()));
    }
    let version = u64_field(export, "format_version").map_err(header)?;
    let order: OrderId =
        str_field(export, "order_id").map_err(header)?.parse().map_err(|e: String| header(e))?;
    let total = u64_field(export, "events_total").map_err(header)?;
    let last = hash_field(export, "last_stream_hash").map_err(header)?;
    let events = field(export, "events")
        .map_err(header)?
        .as_array()
        .ok_or_else(|| header("\"events\" is not an array".into()))?;
    let mut out = format!(
        "{EXPORT_SIGNED_TAG}\nformat {format}\nformat_version {version}\norder_id {}\nevents_total {total}\n\
         last_stream_hash {}\n",
        order.0.hyphenated(),
        to_hex(&last)
    );
    for (i, e) in events.iter().enumerate() {
        let at = |detail: String| ExportError { index: Some(i), detail };
        let position = u64_field(e, "position").map_err(at)?;
        let version = u64_field(e, "version").map_err(at)?;
        let stream = hash_field(e, "stream_hash").map_err(at)?;
        let log = hash_field(e, "log_hash").map_err(at)?;
        let _ = writeln!(out, "event {position} {version} {} {}", to_hex(&stream), to_hex(&log));
    }
    Ok(out.into_bytes())
}

fn verify_event(
    order: OrderId,
    i: usize,
    e: &Value,
    prev_stream: &mut [u8; 32],
    prev_position: &mut u64,
) -> Result<(), String> {
    let position = u64_field(e, "position")?;
    let version = u64_field(e, "version")?;
    let expected_version = i as u64 + 1;
    if version != expected_version {
        return Err(format!(
            "version {version} where version {expected_version} belongs (an event was removed, inserted or moved)"
        ));
    }
    if position <= *prev_position {
        return Err(format!("position {position} does not follow position {prev_position}"));
    }
    let command_id: Uuid =
        str_field(e, "command_id")?.parse().map_err(|_| "command_id is not a UUID".to_string())?;
    let recorded_at_us = field(e, "recorded_at_us")?.as_i64().ok_or("recorded_at_us is not an integer")?;
    let type_code = u16::try_from(u64_field(e, "type_code")?).map_err(|_| "type_code out of range")?;
    let schema_version =
        u16::try_from(u64_field(e, "schema_version")?).map_err(|_| "schema_version out of range")?;
    let payload = from_hex(str_field(e, "payload_hex")?).ok_or("payload_hex is not hex")?;
    let exported_stream = hash_field(e, "stream_hash")?;
    let prev_log = hash_field(e, "prev_log_hash")?;
    let exported_log = hash_field(e, "log_hash")?;
    let input = HashInput {
        position,
        stream: order.0,
        version,
        command_id,
        recorded_at_us,
        event_type: type_code,
        schema_version,
        payload: &payload,
    };
    let computed = stream_hash(prev_stream, &input);
    if computed != exported_stream {
        return Err(format!(
            "stream hash of version {version} (position {position}) does not match its fields, payload and \
             the previous event"
        ));
    }
    if log_hash(&prev_log, &computed) != exported_log {
        return Err(format!(
            "log hash of position {position} does not match prev_log_hash and the stream hash"
        ));
    }
    let decoded = decode_event(type_code, schema_version, &payload)
        .map_err(|err| format!("payload of position {position} does not decode: {err}"))?;
    let name = event_type_by_code(type_code).map(|t| t.name).unwrap_or("?");
    let env = JsonEnvelope {
        event_id: event_id_of(&computed),
        order_id: order,
        position,
        version,
        recorded_at: Timestamp(recorded_at_us),
    };
    // As its release wrote it: an export made before identities holds version 1 forms.
    let expected_json = orderflow_schemas::event_to_json_at_version(&decoded, &env, schema_version);
    let exported_json = field(e, "event")?;
    if let Some(path) = first_difference("event", &expected_json, exported_json) {
        return Err(format!("JSON form of {name} at position {position} differs from its payload at {path}"));
    }
    *prev_stream = computed;
    *prev_position = position;
    Ok(())
}

/// The point of a replay.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AsOf {
    /// The events effective at or before this time (`at` ≤ time), in version order; back-dated
    /// events count from their effective time.
    Time(Timestamp),
    /// The events the log had recorded at or before this time (`recorded_at` ≤ time).
    Recorded(Timestamp),
    /// The events up to and including this order version.
    Version(u64),
}

/// One event of a replay.
#[derive(Clone, PartialEq, Debug)]
pub struct ReplayedEvent {
    /// Global position.
    pub position: u64,
    /// Order version after it.
    pub version: u64,
    /// Event id.
    pub event_id: Uuid,
    /// When the log recorded it.
    pub recorded_at: Timestamp,
    /// The event.
    pub event: Event,
}

/// An order as it stood at a point: its events up to then and the status board row they fold to.
#[derive(Clone, PartialEq, Debug)]
pub struct Replay {
    /// The order.
    pub order_id: OrderId,
    /// The point.
    pub as_of: AsOf,
    /// The events up to then.
    pub events: Vec<ReplayedEvent>,
    /// The status board row they fold to; `None` when no event qualifies.
    pub row: Option<OrderRow>,
}

impl Replay {
    /// The events' JSON forms (as in export files and on the bus).
    pub fn events_json(&self) -> Vec<Value> {
        self.events
            .iter()
            .map(|r| {
                let env = JsonEnvelope {
                    event_id: r.event_id,
                    order_id: self.order_id,
                    position: r.position,
                    version: r.version,
                    recorded_at: r.recorded_at,
                };
                event_to_json(&r.event, &env)
            })
            .collect()
    }
}

/// Replays an order up to `as_of`: the qualifying events and the status row they fold to.
pub fn replay(log: &EventLog, order: OrderId, as_of: AsOf) -> Result<Replay, AuditError> {
    let events: Vec<ReplayedEvent> = read_order(log, order)?
        .into_iter()
        .filter(|(s, e)| match as_of {
            AsOf::Time(t) => e.at <= t,
            AsOf::Recorded(t) => s.recorded_at_us <= t.0,
            AsOf::Version(v) => s.version <= v,
        })
        .map(|(s, event)| ReplayedEvent {
            position: s.position,
            version: s.version,
            event_id: s.event_id,
            recorded_at: Timestamp(s.recorded_at_us),
            event,
        })
        .collect();
    let mut row: Option<OrderRow> = None;
    for r in &events {
        let folded = match row.as_mut() {
            Some(row) => row.apply(r.version, &r.event),
            None => OrderRow::received(order, r.version, &r.event).map(|new| row = Some(new)),
        };
        folded.map_err(|source| AuditError::Fold { position: r.position, source })?;
    }
    Ok(Replay { order_id: order, as_of, events, row })
}
