use orderflow_projections::{
    export, history, render_timeline, replay, verify_export, AsOf, AuditError, AuditView, OrderState,
    RetentionStatus, Runner, RunnerConfig,
};
use orderflow_schemas::{AccessKind, OrderId};
use serde_json::Value;

use crate::scenario::{date, order, standard, ts};

fn view(log: &orderflow_engine::EventLog) -> AuditView {
    let mut runner = Runner::<AuditView>::open(log, RunnerConfig::default()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.view().clone()
}

#[test]
fn timeline_of_the_changed_order() {
    let s = standard();
    let entries = history(&s.log, order(3)).unwrap();
    assert_eq!(
        entries.iter().map(|e| e.version).collect::<Vec<_>>(),
        (1..=entries.len() as u64).collect::<Vec<_>>()
    );
    insta::assert_snapshot!(
        "timeline_o3",
        render_timeline(&entries, orderflow_projections::TableWidth::DEFAULT)
    );
}

#[test]
fn history_of_an_unknown_order_is_not_found() {
    let s = standard();
    let err = history(&s.log, OrderId(uuid::Uuid::from_u128(42))).unwrap_err();
    assert!(matches!(err, AuditError::NotFound { .. }), "{err}");
}

#[test]
fn retention_holds_and_accesses() {
    let s = standard();
    let v = view(&s.log);
    let r1 = v.retention(order(1)).unwrap();
    assert_eq!(r1.status, RetentionStatus::Until { date: date("2036-03-31") }, "O1's hold was released");
    let r5 = v.retention(order(5)).unwrap();
    assert_eq!(r5.status, RetentionStatus::Held);
    assert_eq!(
        r5.active_holds.iter().map(|h| h.reason.as_str()).collect::<Vec<_>>(),
        vec!["dispute over complaint 1"]
    );
    assert!(!r5.disposable_on(date("2040-01-01")), "a held archive is kept indefinitely");
    assert!(r1.disposable_on(date("2036-04-01")) && !r1.disposable_on(date("2036-03-31")));
    assert_eq!(v.retention(order(6)).unwrap().status, RetentionStatus::Open);
    assert_eq!(v.holds().iter().map(|(o, _)| *o).collect::<Vec<_>>(), vec![order(5)]);
    assert_eq!(
        v.disposable(date("2036-04-01")).iter().map(|r| r.order_id).collect::<Vec<_>>(),
        vec![order(1)]
    );

    let all: Vec<_> =
        v.access(None).iter().map(|a| (a.order_id, a.access, a.actor.login.clone(), a.at)).collect();
    assert_eq!(
        all,
        vec![
            (order(1), AccessKind::History, "xu.audit".to_string(), ts("2026-04-02T10:00")),
            (order(5), AccessKind::Export, "xu.audit".to_string(), ts("2026-04-05T10:00")),
        ]
    );
    assert_eq!(v.access(Some(order(5))).len(), 1);
    assert!(v.access(Some(order(2))).is_empty());
}

#[test]
fn replay_by_version_and_time() {
    let s = standard();
    // O3 as of 2026-03-09 12:00: received, approved, confirmed, changed at 10:00 → revision 2 in review.
    let r = replay(&s.log, order(3), AsOf::Time(ts("2026-03-09T12:00"))).unwrap();
    let row = r.row.as_ref().unwrap();
    assert_eq!(r.events.len(), 8);
    assert_eq!(
        (row.state, row.revision, row.pending_approvals(ts("2026-03-09T12:00")).len()),
        (OrderState::InReview, 2, 4)
    );
    assert_eq!(r.events_json().len(), 8);
    let by_version = replay(&s.log, order(3), AsOf::Version(7)).unwrap();
    assert_eq!(by_version.row.as_ref().map(|r| (r.state, r.revision)), Some((OrderState::Confirmed, 1)));
    let before = replay(&s.log, order(3), AsOf::Time(ts("2026-03-01T00:00"))).unwrap();
    assert!(before.events.is_empty() && before.row.is_none());
    let far = replay(&s.log, order(3), AsOf::Recorded(orderflow_schemas::Timestamp(i64::MAX))).unwrap();
    assert_eq!(far.row.as_ref().map(|r| r.state), Some(OrderState::Signed));
}

fn events_mut(v: &mut Value) -> &mut Vec<Value> {
    v.get_mut("events").and_then(Value::as_array_mut).unwrap()
}

fn exported() -> (crate::scenario::Scenario, Value) {
    let s = standard();
    let v = export(&s.log, order(3)).unwrap();
    (s, v)
}

#[test]
fn a_faithful_export_verifies_and_matches_the_log() {
    let (s, v) = exported();
    let summary = verify_export(&v).unwrap();
    let stream = s.log.read_stream(order(3).0, 1).unwrap();
    assert_eq!(summary.events, stream.len() as u64);
    assert_eq!(summary.last_position, stream.last().unwrap().position);
    let hex: String = stream.last().unwrap().stream_hash.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(summary.last_stream_hash, hex);
    // The JSON text round-trips.
    let text = serde_json::to_string(&v).unwrap();
    verify_export(&serde_json::from_str(&text).unwrap()).unwrap();
}

#[test]
fn verify_export_detects_an_edited_event() {
    let (_s, mut v) = exported();
    let e = &mut events_mut(&mut v)[7];
    e["event"]["data"]["reason"] = Value::String("customer asked politely".into());
    let err = verify_export(&v).unwrap_err();
    assert_eq!(err.index, Some(7), "{err}");
    assert!(err.detail.contains("event.data.reason"), "{err}");

    let (_s, mut v) = exported();
    let e = &mut events_mut(&mut v)[4];
    let payload = e["payload_hex"].as_str().unwrap().to_string();
    let flipped =
        format!("{}{}", &payload[..payload.len() - 1], if payload.ends_with('0') { '1' } else { '0' });
    e["payload_hex"] = Value::String(flipped);
    let err = verify_export(&v).unwrap_err();
    assert_eq!(err.index, Some(4), "{err}");
    assert!(err.detail.contains("stream hash"), "{err}");

    let (_s, mut v) = exported();
    let e = &mut events_mut(&mut v)[2];
    e["recorded_at_us"] = Value::from(e["recorded_at_us"].as_i64().unwrap() + 1);
    assert_eq!(verify_export(&v).unwrap_err().index, Some(2));
}

#[test]
fn verify_export_detects_a_removed_event() {
    let (_s, mut v) = exported();
    events_mut(&mut v).remove(5);
    let err = verify_export(&v).unwrap_err();
    assert_eq!(err.index, Some(5), "{err}");
    assert!(err.detail.contains("version 7 where version 6 belongs"), "{err}");

    let (_s, mut v) = exported();
    events_mut(&mut v).pop();
    let err = verify_export(&v).unwrap_err();
    assert_eq!(err.index, None, "a dropped last event is caught by the header: {err}");
}

#[test]
fn verify_export_detects_an_inserted_event() {
    let (_s, mut v) = exported();
    let copy = events_mut(&mut v)[3].clone();
    events_mut(&mut v).insert(4, copy);
    assert_eq!(verify_export(&v).unwrap_err().index, Some(4));

    // A forged event with the right version still breaks the chain.
    let (_s, mut v) = exported();
    let events = events_mut(&mut v);
    let mut forged = events[3].clone();
    forged["version"] = Value::from(5);
    forged["event"]["version"] = Value::from(5);
    events.insert(4, forged);
    let err = verify_export(&v).unwrap_err();
    assert_eq!(err.index, Some(4), "{err}");
}

#[test]
fn verify_export_detects_swapped_events() {
    let (_s, mut v) = exported();
    events_mut(&mut v).swap(6, 7);
    let err = verify_export(&v).unwrap_err();
    assert_eq!(err.index, Some(6), "{err}");
}
