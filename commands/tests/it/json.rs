//! The JSON form of commands (sent over NATS and accepted by the command line).

use orderflow_commands::*;
use serde_json::json;

use crate::harness::*;

#[test]
fn every_command_round_trips_through_json() {
    for c in every_command() {
        let text = serde_json::to_string(&c).expect("serialize");
        let back: Command = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(back, c, "{text}");
    }
}

#[test]
fn a_command_is_tagged_by_its_name() {
    let v = serde_json::to_value(ship()).expect("serialize");
    assert_eq!(
        v,
        json!({
            "command": "ship",
            "carrier": "SF Cold Chain",
            "mode": "cold_chain",
            "tracking_number": "SF123456789",
            "eta": "2026-03-05",
        })
    );
    for c in every_command() {
        let v = serde_json::to_value(&c).expect("serialize");
        assert_eq!(v["command"], c.name());
    }
}

#[test]
fn optional_fields_may_be_left_out() {
    let c: Command =
        serde_json::from_value(json!({"command": "approve", "department": "finance"})).expect("approve");
    assert_eq!(
        c,
        ApproveReview {
            department: orderflow_schemas::Department::Finance,
            revision: None,
            note: String::new()
        }
        .into()
    );
    let c: Command = serde_json::from_value(json!({"command": "close"})).expect("close");
    assert_eq!(c, close());
}

#[test]
fn line_edits_are_tagged_by_edit() {
    let c: Command = serde_json::from_value(json!({
        "command": "change",
        "initiated_by": "customer",
        "reason": "customer called",
        "lines": [
            {"edit": "update", "line_no": 2, "quantity": 60},
            {"edit": "remove", "line_no": 1},
            {"edit": "add", "sku": "X", "quantity": 1, "unit": "pcs", "unit_price_minor": 5},
        ],
    }))
    .expect("change");
    let Command::ChangeOrder(c) = c else { panic!("not a change") };
    assert_eq!(c.lines[0], set_quantity(2, 60));
    assert_eq!(c.lines[1], LineEdit::Remove { line_no: 1 });
    assert_eq!(c.lines[2], LineEdit::Add(new_line("X", "", 1, 5)));
}

#[test]
fn unknown_fields_and_commands_are_refused() {
    let typo = serde_json::from_value::<Command>(json!({"command": "cancel", "reasn": "x"}));
    assert!(typo.is_err());
    let unknown = serde_json::from_value::<Command>(json!({"command": "teleport"}));
    assert!(unknown.is_err());
    let confirm = |promised: &str| {
        serde_json::from_value::<Command>(json!({
            "command": "confirm",
            "promised_date": promised,
            "expected_ship_date": "2026-03-16",
            "delivery_mode": "carrier",
            "confirmed_via": "phone",
        }))
    };
    assert!(confirm("2026-03-18").is_ok());
    assert!(confirm("18.03.2026").is_err(), "a date in another format is refused");
}

#[test]
fn a_change_and_a_cancellation_say_who_initiated_them() {
    let missing = serde_json::from_value::<Command>(json!({"command": "change", "reason": "x"}));
    assert!(missing.is_err(), "initiated_by has no default");
    let missing = serde_json::from_value::<Command>(json!({"command": "cancel", "reason": "x"}));
    assert!(missing.is_err(), "initiated_by has no default");
    let c: Command = serde_json::from_value(json!({
        "command": "change",
        "initiated_by": "internal",
        "reason": "capacity",
        "impact": [{"role": "production", "note": "one more shift"}],
        "requested_date": "2026-03-25",
    }))
    .expect("change");
    let Command::ChangeOrder(c) = c else { panic!("not a change") };
    assert_eq!(c.initiated_by, orderflow_schemas::Initiator::Internal);
    assert_eq!(c.impact, vec![impact(orderflow_schemas::Role::Production, "one more shift")]);
}

#[test]
fn the_new_commands_read_their_optional_fields() {
    let c: Command = serde_json::from_value(json!({"command": "approve_change", "department": "logistics"}))
        .expect("approve_change");
    assert_eq!(
        c,
        ApproveChange {
            department: orderflow_schemas::Role::Logistics,
            request_id: None,
            note: String::new()
        }
        .into()
    );
    let c: Command = serde_json::from_value(json!({"command": "close", "override_reason": "customer gone"}))
        .expect("close");
    assert_eq!(c, close_overriding("customer gone"));
    let c: Command =
        serde_json::from_value(json!({"command": "mark_overdue", "revision": 2, "department": "finance"}))
            .expect("mark_overdue");
    assert_eq!(c, mark_overdue(2, None, orderflow_schemas::Role::Finance));
    let c: Command = serde_json::from_value(json!({"command": "visit", "method": "survey"})).expect("visit");
    assert_eq!(
        c,
        RecordVisit { method: orderflow_schemas::VisitMethod::Survey, score: None, comment: String::new() }
            .into()
    );
    let bad = serde_json::from_value::<Command>(json!({"command": "confirm", "promised_date": "2026-03-18"}));
    assert!(bad.is_err(), "a confirmation without its facts is refused");
}
