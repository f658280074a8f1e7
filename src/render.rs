//! Text and JSON renderings of command results, order state, history and feed lines: shared by
//! the command line and the command service, so that a command run locally and one sent to a
//! server print the same.

use std::fmt::Write as _;

use orderflow_commands::{ComplaintStatus, OrderState};
use orderflow_projections::{display_width, TableWidth};
use orderflow_schemas::{Event, JsonEnvelope, Money, OrderStatus, Timestamp};
use serde_json::{json, Value};

use crate::app::CommandReply;

/// One line saying what a command did.
pub(crate) fn done_line(done: &CommandReply) -> String {
    if done.duplicate {
        return format!(
            "order {}: already done by this command id (version {}); nothing written",
            done.order_id.short(),
            done.version
        );
    }
    let mut line =
        format!("order {}: {} (version {})", done.order_id.short(), done.events.join(", "), done.version);
    if let Some(id) = done.complaint_id {
        let _ = write!(line, "; complaint {id}");
    }
    line
}

fn money(minor: i64, state: &OrderState) -> String {
    match state.currency {
        Some(currency) => Money { minor, currency }.to_string(),
        None => minor.to_string(),
    }
}

fn reviews_json(s: &OrderState) -> Value {
    Value::Array(
        s.reviews
            .iter()
            .map(|r| {
                json!({ "revision": r.revision, "department": r.department, "decision": r.decision.to_string(),
                        "by": r.by, "at": r.at, "note": r.note })
            })
            .collect(),
    )
}

/// The late entries of an order as JSON: how many, and the latest (reason, effective time, who,
/// and `entered`, when the log recorded it).
fn late_json(s: &OrderState, entered: Option<Timestamp>) -> Value {
    json!({
        "count": s.late_entries,
        "latest": s.last_late.as_ref().map(|l| json!({
            "reason": l.reason, "at": l.at, "by": l.actor.login, "entered": entered,
        })),
    })
}

/// The order's state as JSON: everything the order holds; `status` is the order-state word of
/// the status board (`orderflow status --state`); `late_entries` counts the events entered late
/// (`late_entered`: when the latest was recorded, see [`crate::app::reads::last_late_entered`]).
pub(crate) fn state_json(s: &OrderState, version: u64, late_entered: Option<Timestamp>) -> Value {
    let mut v = base_json(s, version, late_entered);
    if let (Some(map), Value::Object(more)) = (v.as_object_mut(), procedure_json(s)) {
        map.extend(more);
    }
    v
}

/// The facts of the procedure (issue 12): review dues per department, the pending change
/// request, the confirmation, overdue records, visits and overrides.
fn procedure_json(s: &OrderState) -> Value {
    json!({
        "review_due_by": s.review_due_by,
        "approved_revision": s.approved_revision,
        "change_request": s.change_request.as_ref().map(|r| json!({
            "request_id": r.proposal.request_id, "initiated_by": r.proposal.initiated_by,
            "requested_by": r.requested_by.login, "requested_at": r.requested_at, "reason": r.proposal.reason,
            "changes": r.proposal.changes, "revision": r.proposal.revision,
            "review_due_by": r.proposal.review_due_by, "impact": r.proposal.impact,
            "decisions": r.decisions.iter().map(|(role, d)| json!({
                "department": role, "approved": d.approved, "by": d.actor.login, "at": d.at,
            })).collect::<Vec<_>>(),
            "undecided": r.undecided(),
        })),
        "last_request_id": s.last_request_id,
        "confirmation": s.confirmation.as_ref().map(|c| json!({
            "at": c.at, "revision": c.revision, "promised_date": c.promised_date,
            "expected_ship_date": c.expected_ship_date, "delivery_mode": c.delivery_mode,
            "confirmed_via": c.confirmed_via,
        })),
        "escalated": s.escalated.iter().map(|(rev, req, role)| json!({
            "revision": rev, "request_id": req, "department": role, "escalated_to": format!("dept_head:{}", role.as_str()),
        })).collect::<Vec<_>>(),
        "overdue_reviews_open": s.overdue_reviews(crate::app::now()).iter().map(|(rev, req, role, due)| json!({
            "revision": rev, "request_id": req, "department": role, "due": due,
        })).collect::<Vec<_>>(),
        "visits": s.visits,
        "shipped_unconfirmed": s.shipped_unconfirmed,
        "close_override": s.close_override,
    })
}

fn base_json(s: &OrderState, version: u64, late_entered: Option<Timestamp>) -> Value {
    json!({
        "order_id": s.order_id,
        "version": version,
        "status": s.status().as_str(),
        "revision": s.revision,
        "customer": s.customer,
        "contact": s.contact,
        "channel": s.channel,
        "received_at": s.received_at,
        "received_by": s.received_by,
        "currency": s.currency,
        "total_minor": s.total_minor,
        "lines": s.lines,
        "requested_date": s.requested_date,
        "original_promise": s.original_promise,
        "current_promise": s.current_promise,
        "delivery_address": s.delivery_address,
        "special_requirements": s.special_requirements,
        "review_due": s.review_due,
        "approvals_missing": if awaiting_review(s) { s.approvals_missing() } else { Vec::new() },
        "reviews": reviews_json(s),
        "rejection": s.rejection.as_ref().map(|r| json!({ "department": r.department, "revision": r.revision, "reason": r.reason })),
        "cancellation": s.cancellation,
        "production": s.production.as_ref().map(|p| json!({
            "planned_finish": p.planned_finish, "inspections": p.inspections,
            "last_inspection": p.last_inspection, "completed": p.completed,
        })),
        "shipment": s.shipment.as_ref().map(|sh| json!({
            "shipped_at": sh.shipped_at, "carrier": sh.carrier, "mode": sh.mode, "tracking_number": sh.tracking_number,
            "eta": sh.eta, "first_eta": sh.first_eta, "delays": sh.delays, "lines": sh.lines,
        })),
        "delivered_at": s.delivered_at,
        "signed": s.sign_off.as_ref().map(|so| json!({ "at": so.signed_at, "by": so.signed_by, "full": so.full, "accepted": so.accepted })),
        "refused": s.refusal.as_ref().map(|r| json!({ "at": r.refused_at, "by": r.refused_by, "reason": r.reason })),
        "complaints": s.complaints.iter().map(|(id, c)| json!({
            "complaint_id": id, "category": c.category, "severity": c.severity, "status": complaint_status(c.status),
            "assignee": c.assignee, "respond_by": c.respond_by, "updates": c.updates,
        })).collect::<Vec<_>>(),
        "open_complaints": s.open_complaints(),
        "feedback_count": s.feedback_count,
        "retention_until": s.retention_until,
        "hold": s.hold,
        "late_entries": late_json(s, late_entered),
    })
}

/// Whether the departments are still to decide on the current revision (a rejected or
/// cancelled order waits for nobody).
fn awaiting_review(s: &OrderState) -> bool {
    matches!(s.status(), OrderStatus::Received | OrderStatus::InReview)
}

fn complaint_status(c: ComplaintStatus) -> &'static str {
    match c {
        ComplaintStatus::Open => "open",
        ComplaintStatus::Resolved { customer_satisfied: true } => "resolved, customer satisfied",
        ComplaintStatus::Resolved { customer_satisfied: false } => "resolved, customer not satisfied",
        ComplaintStatus::Reopened => "reopened",
    }
}

/// The column where the text of a fact of `order show` starts.
const FACT_INDENT: usize = 13;

/// A labelled line of `order show`: the label in a column of its own, the text after it,
/// wrapped at spaces to fit [`TableWidth::TERMINAL_COLUMNS`] (a word longer than the line is
/// kept whole).
fn fact(o: &mut String, label: &str, text: impl std::fmt::Display) {
    fact_within(o, label, text, TableWidth::TERMINAL_COLUMNS);
}

/// The columns the facts of the procedure (change requests, confirmation, escalations,
/// complaints' follow-up, visits, overrides) fit in: an 80-column terminal.
const PROCEDURE_COLUMNS: usize = 80;

/// [`fact`] wrapped to [`PROCEDURE_COLUMNS`].
fn pfact(o: &mut String, label: &str, text: impl std::fmt::Display) {
    fact_within(o, label, text, PROCEDURE_COLUMNS);
}

/// [`fact`] wrapped to `columns`.
fn fact_within(o: &mut String, label: &str, text: impl std::fmt::Display, columns: usize) {
    let room = columns - FACT_INDENT;
    let text = text.to_string();
    let mut line = String::new();
    let mut first = true;
    let mut flush = |line: &mut String, first: &mut bool| {
        let head = if *first { label } else { "" };
        let _ = writeln!(o, "{head:<FACT_INDENT$}{line}");
        line.clear();
        *first = false;
    };
    for word in text.split(' ') {
        if !line.is_empty() && display_width(&line) + 1 + display_width(word) > room {
            flush(&mut line, &mut first);
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    flush(&mut line, &mut first);
}

/// The order's state as readable text: every fact the order holds, lines and reviews as
/// tables, within 120 columns. Late entries are a fact of their own, right after the state:
/// `late entries N (latest: REASON, for <effective time> by LOGIN, entered <recorded time>)`.
pub(crate) fn state_text(s: &OrderState, version: u64, late_entered: Option<Timestamp>) -> String {
    let mut o = String::new();
    let date = |d: Option<orderflow_schemas::Date>| d.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    let or_dash = |t: &str| if t.trim().is_empty() { "-".to_string() } else { t.to_string() };
    fact(&mut o, "order", s.order_id);
    fact(&mut o, "state", format!("{} (revision {}, version {version})", s.status().as_str(), s.revision));
    if let Some(l) = &s.last_late {
        let entered = late_entered.map(|t| format!(", entered {}", t.to_minute())).unwrap_or_default();
        fact(
            &mut o,
            "late entries",
            format!(
                "{} (latest: {}, for {} by {}{entered})",
                s.late_entries,
                l.reason,
                l.at.to_minute(),
                l.actor.login
            ),
        );
    }
    fact(&mut o, "customer", &s.customer);
    fact(&mut o, "contact", or_dash(&s.contact));
    fact(&mut o, "channel", s.channel.map(|c| c.to_string()).unwrap_or_else(|| "-".into()));
    fact(&mut o, "address", or_dash(&s.delivery_address));
    fact(&mut o, "requirements", or_dash(&s.special_requirements));
    if let Some(at) = s.received_at {
        fact(&mut o, "received", format!("{} by {}", at.to_minute(), s.received_by));
    }
    fact(
        &mut o,
        "dates",
        format!(
            "requested {}, promised {} (originally {})",
            date(s.requested_date),
            date(s.current_promise),
            date(s.original_promise)
        ),
    );
    o.push('\n');
    o.push_str(&lines_table(s));
    fact(&mut o, "total", money(s.total_minor, s));
    o.push('\n');
    reviews_text(s, &mut o);
    progress_text(s, &mut o);
    o
}

fn lines_table(s: &OrderState) -> String {
    use orderflow_projections::table::{left, render, right};
    let columns = [
        right("LINE").key(),
        left("SKU").key(),
        left("SPEC").wrap(),
        right("ORDERED"),
        right("SHIPPED"),
        right("ACCEPTED"),
        left("UNIT"),
        right("UNIT PRICE"),
        right("AMOUNT"),
    ];
    let shipped = |line_no: u16| s.shipment.as_ref().map(|sh| sh.quantity(line_no).to_string());
    let accepted = |line_no: u16| {
        s.sign_off
            .as_ref()
            .map(|so| so.accepted.iter().find(|a| a.line_no == line_no).map_or(0, |a| a.quantity).to_string())
    };
    let rows: Vec<Vec<String>> = s
        .lines
        .iter()
        .map(|l| {
            vec![
                l.line_no.to_string(),
                l.sku.clone(),
                l.spec.clone(),
                l.quantity.to_string(),
                shipped(l.line_no).unwrap_or_else(|| "-".into()),
                accepted(l.line_no).unwrap_or_else(|| "-".into()),
                l.unit.clone(),
                money(l.unit_price_minor, s),
                l.amount_minor().map(|m| money(m, s)).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    render(&columns, &rows, TableWidth::DEFAULT)
}

fn reviews_text(s: &OrderState, o: &mut String) {
    use orderflow_projections::table::{left, render, right};
    if awaiting_review(s) {
        let names: Vec<&str> = s.approvals_missing().iter().map(|d| d.as_str()).collect();
        let due = s.review_due.map(|t| format!(" (due {})", t.to_minute())).unwrap_or_default();
        fact(o, "reviews", format!("revision {} waiting for {}{due}", s.revision, names.join(", ")));
        let dues: Vec<String> = s
            .review_due_by
            .iter()
            .filter(|d| s.approvals_missing().iter().any(|m| m.role() == d.role))
            .map(|d| format!("{} {}", d.role.as_str(), d.due.to_minute()))
            .collect();
        if !dues.is_empty() {
            pfact(o, "due by", dues.join("; "));
        }
    } else if s.is_approved() {
        fact(o, "reviews", format!("revision {} approved by every department", s.revision));
    }
    if let Some(r) = &s.rejection {
        fact(o, "rejected", format!("by {} on revision {}: {}", r.department, r.revision, r.reason));
    }
    change_request_text(s, o);
    for (rev, req, role) in &s.escalated {
        let what = req.map_or_else(|| format!("revision {rev}"), |r| format!("change request {r}"));
        pfact(
            o,
            "overdue",
            format!("{} review of {what}, escalated to dept_head:{}", role.as_str(), role.as_str()),
        );
    }
    if s.reviews.is_empty() {
        return;
    }
    let columns = [
        right("REV").key(),
        left("DEPARTMENT").key(),
        left("DECISION"),
        left("BY").wrap(),
        left("AT (UTC)"),
        left("NOTE").wrap(),
    ];
    let rows: Vec<Vec<String>> = s
        .reviews
        .iter()
        .map(|r| {
            vec![
                r.revision.to_string(),
                r.department.to_string(),
                r.decision.to_string(),
                r.by.clone(),
                r.at.to_datetime().format("%Y-%m-%d %H:%M").to_string(),
                r.note.clone(),
            ]
        })
        .collect();
    o.push_str(&render(&columns, &rows, TableWidth::DEFAULT));
    o.push('\n');
}

/// The pending change request: number, who initiated it and who recorded it, the reason, the
/// proposed edits, who decided so far and who is due when.
fn change_request_text(s: &OrderState, o: &mut String) {
    let Some(r) = &s.change_request else { return };
    let p = &r.proposal;
    pfact(
        o,
        "change",
        format!(
            "request {} (to revision {}), {}-initiated, recorded {} by {}: {}",
            p.request_id,
            p.revision,
            p.initiated_by,
            r.requested_at.to_minute(),
            r.requested_by.login,
            p.reason
        ),
    );
    for c in &p.changes {
        pfact(o, "  proposes", format!("{}: {} -> {}", c.field, c.old, c.new));
    }
    for n in &p.impact {
        pfact(o, "  impact", format!("{}: {}", n.role.as_str(), n.note));
    }
    for (role, d) in &r.decisions {
        let word = if d.approved { "approved" } else { "declined" };
        pfact(
            o,
            "  decided",
            format!("{} {word} by {} at {}", role.as_str(), d.actor.login, d.at.to_minute()),
        );
    }
    for d in r.undecided() {
        pfact(o, "  waiting", format!("{} (due {})", d.role.as_str(), d.due.to_minute()));
    }
}

fn progress_text(s: &OrderState, o: &mut String) {
    if let Some(reason) = &s.cancellation {
        let by = s.cancelled_by.map(|i| format!(" ({i}-initiated)")).unwrap_or_default();
        fact(o, "cancelled", format!("{reason}{by}"));
    }
    if let Some(c) = &s.confirmation {
        let rev = c.revision.map(|r| format!("revision {r}, ")).unwrap_or_default();
        let ship = c.expected_ship_date.map(|d| format!(", ships {d}")).unwrap_or_default();
        let mode = c.delivery_mode.map(|m| format!(", {m}")).unwrap_or_default();
        let via = c.confirmed_via.map(|m| format!(", confirmed by {m}")).unwrap_or_default();
        pfact(
            o,
            "confirmed",
            format!("{} ({rev}promised {}{ship}{mode}{via})", c.at.to_minute(), c.promised_date),
        );
    } else if !matches!(s.status(), OrderStatus::Received | OrderStatus::InReview) && s.exists() {
        pfact(o, "confirmed", "not confirmed with the customer");
    }
    if let Some(reason) = &s.shipped_unconfirmed {
        pfact(o, "override", format!("shipped unconfirmed by a head: {reason}"));
    }
    if let Some(reason) = &s.close_override {
        pfact(o, "override", format!("closed by a head despite complaints: {reason}"));
    }
    if let Some(p) = &s.production {
        let inspections = match (p.inspections, p.last_inspection) {
            (0, _) | (_, None) => "no inspection yet".to_string(),
            (n, Some(last)) => format!("{n} inspection(s), last {last}"),
        };
        let done = if p.completed { "; completed" } else { "" };
        fact(o, "production", format!("planned finish {}; {inspections}{done}", p.planned_finish));
    }
    if let Some(sh) = &s.shipment {
        let delays = match sh.delays {
            0 => String::new(),
            n => format!(" (first ETA {}, delayed {n} time(s))", sh.first_eta),
        };
        fact(
            o,
            "shipment",
            format!(
                "{} by {} ({}), tracking {}, ETA {}{delays}",
                sh.shipped_at.to_minute(),
                sh.carrier,
                sh.mode,
                sh.tracking_number,
                sh.eta
            ),
        );
    }
    if let Some(at) = s.delivered_at {
        fact(o, "delivered", at.to_minute());
    }
    if let Some(so) = &s.sign_off {
        let extent = if so.full { "in full" } else { "partially: see ACCEPTED" };
        fact(o, "signed", format!("{} by {}, {extent}", so.signed_at.to_minute(), so.signed_by));
    }
    if let Some(r) = &s.refusal {
        fact(o, "refused", format!("{} by {}: {}", r.refused_at.to_minute(), r.refused_by, r.reason));
    }
    for (id, c) in &s.complaints {
        fact(
            o,
            &format!("complaint {id}"),
            format!("{}, {}: {}", c.category, c.severity, complaint_status(c.status)),
        );
        let assignee = c.assignee.as_deref().unwrap_or("-");
        let respond = c.respond_by.map(|t| format!(", respond by {}", t.to_minute())).unwrap_or_default();
        pfact(o, "", format!("assignee {assignee}{respond}; {} progress update(s)", c.updates));
    }
    if s.feedback_count > 0 {
        fact(o, "feedback", format!("{} record(s)", s.feedback_count));
    }
    if s.sign_off.is_some() || s.visits > 0 {
        let visits = match s.visits {
            0 => "none recorded yet".to_string(),
            n => format!("{n} recorded"),
        };
        pfact(o, "visits", visits);
    }
    if let Some(r) = s.retention_until {
        let hold = s.hold.as_ref().map(|h| format!("; on hold: {h}")).unwrap_or_default();
        fact(o, "archive", format!("kept until {r}{hold}"));
    } else if let Some(h) = &s.hold {
        fact(o, "archive", format!("on hold: {h}"));
    }
}

/// One history line: position, version, effective time, event, actor (role); for an entry
/// recorded more than a minute after its effective time (back-dated), when it was entered.
pub(crate) fn history_line(env: &JsonEnvelope, event: &Event) -> String {
    let mut line = format!(
        "{:>8}  v{:<3} {}  {:<22} {} ({})",
        env.position,
        env.version,
        event.at.to_minute(),
        event.body.event_type().name,
        event.actor.login,
        event.actor.grant(),
    );
    if let Some(late) = &event.late {
        let _ = write!(line, "  LATE ENTRY, entered {}: {}", env.recorded_at.to_minute(), late.reason);
    } else if env.recorded_at.0 - event.at.0 > 60_000_000 {
        let _ = write!(line, "  entered {}", env.recorded_at.to_minute());
    }
    line
}

/// One line of a department's feed: a history line with the order's short id.
pub(crate) fn feed_line(env: &JsonEnvelope, event: &Event) -> String {
    format!(
        "{:>8}  order {}  v{:<3} {}  {:<22} {} ({})",
        env.position,
        env.order_id.short(),
        env.version,
        event.at.to_minute(),
        event.body.event_type().name,
        event.actor.login,
        event.actor.grant(),
    )
}
