//! Text and JSON renderings of command results, order state, history and feed lines: shared by
//! the command line and the command service, so that a command run locally and one sent to a
//! server print the same.

use std::fmt::Write as _;

use orderflow_commands::OrderState;
use orderflow_schemas::{Event, JsonEnvelope, Money};
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

/// The order's state as JSON.
pub(crate) fn state_json(s: &OrderState, version: u64) -> Value {
    json!({
        "order_id": s.order_id,
        "version": version,
        "status": s.status().as_str(),
        "revision": s.revision,
        "customer": s.customer,
        "contact": s.contact,
        "channel": s.channel,
        "currency": s.currency,
        "total_minor": s.total_minor,
        "lines": s.lines,
        "requested_date": s.requested_date,
        "original_promise": s.original_promise,
        "current_promise": s.current_promise,
        "delivery_address": s.delivery_address,
        "review_due": s.review_due,
        "approved_revision": s.approved_revision,
        "approvals_missing": s.approvals_missing(),
        "shipment": s.shipment.as_ref().map(|sh| json!({
            "carrier": sh.carrier, "mode": sh.mode, "tracking_number": sh.tracking_number,
            "eta": sh.eta, "first_eta": sh.first_eta, "delays": sh.delays,
        })),
        "delivered_at": s.delivered_at,
        "signed": s.sign_off.as_ref().map(|so| json!({ "by": so.signed_by, "full": so.full, "accepted": so.accepted })),
        "refused": s.refusal.as_ref().map(|r| json!({ "by": r.refused_by, "reason": r.reason })),
        "open_complaints": s.open_complaints(),
        "feedback_count": s.feedback_count,
        "retention_until": s.retention_until,
        "hold": s.hold,
    })
}

/// The order's state as readable text.
pub(crate) fn state_text(s: &OrderState, version: u64) -> String {
    let mut o = String::new();
    let opt = |d: Option<orderflow_schemas::Date>| d.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    let _ = writeln!(o, "order      {} ({})", s.order_id, s.status().as_str());
    let _ = writeln!(
        o,
        "customer   {} {}",
        s.customer,
        if s.contact.is_empty() { String::new() } else { format!("<{}>", s.contact) }
    );
    let _ = writeln!(o, "revision   {} (version {version})", s.revision);
    for l in &s.lines {
        let _ = writeln!(
            o,
            "line {:<4}  {:<10} {:>8} {:<4} x {:>14}  {}",
            l.line_no,
            l.sku,
            l.quantity,
            l.unit,
            money(l.unit_price_minor, s),
            l.spec
        );
    }
    let _ = writeln!(o, "total      {}", money(s.total_minor, s));
    let _ = writeln!(
        o,
        "dates      requested {}, promised {} (originally {})",
        opt(s.requested_date),
        opt(s.current_promise),
        opt(s.original_promise)
    );
    let missing = s.approvals_missing();
    if s.is_approved() {
        let _ = writeln!(o, "approval   revision {} approved", s.revision);
    } else if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|d| d.as_str()).collect();
        let due = s.review_due.map(|t| t.to_string()).unwrap_or_default();
        let _ = writeln!(o, "approval   waiting for {} (due {due})", names.join(", "));
    }
    if let Some(sh) = &s.shipment {
        let _ = writeln!(
            o,
            "shipment   {} {} tracking {} eta {}{}",
            sh.carrier,
            sh.mode,
            sh.tracking_number,
            sh.eta,
            if sh.delays > 0 { format!(" (delayed {}x)", sh.delays) } else { String::new() }
        );
    }
    if let Some(so) = &s.sign_off {
        let _ = writeln!(o, "signed     by {} ({})", so.signed_by, if so.full { "full" } else { "partial" });
    }
    if let Some(r) = &s.refusal {
        let _ = writeln!(o, "refused    by {}: {}", r.refused_by, r.reason);
    }
    let open = s.open_complaints();
    if !s.complaints.is_empty() {
        let _ = writeln!(o, "complaints {} ({} open)", s.complaints.len(), open.len());
    }
    if let Some(r) = s.retention_until {
        let _ = writeln!(
            o,
            "archive    kept until {r}{}",
            s.hold.as_ref().map(|h| format!(", on hold: {h}")).unwrap_or_default()
        );
    }
    o
}

/// One history line: position, version, time, actor, event.
pub(crate) fn history_line(env: &JsonEnvelope, event: &Event) -> String {
    format!(
        "{:>8}  v{:<3} {}  {:<24} {} ({})",
        env.position,
        env.version,
        event.at,
        event.body.event_type().name,
        event.actor.name,
        event.actor.role,
    ) + &format!("  recorded {}", env.recorded_at)
}

/// One line of a department's feed: a history line with the order's short id.
pub(crate) fn feed_line(env: &JsonEnvelope, event: &Event) -> String {
    format!(
        "{:>8}  order {}  v{:<3} {}  {:<24} {} ({})",
        env.position,
        env.order_id.short(),
        env.version,
        event.at,
        event.body.event_type().name,
        event.actor.name,
        event.actor.role,
    )
}
