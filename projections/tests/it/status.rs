use orderflow_projections::{OrderState, RiskReason, Runner, RunnerConfig, StatusBoard};
use orderflow_schemas::Department;

use crate::scenario::{date, now, order, standard, ts};

fn board(log: &orderflow_engine::EventLog) -> StatusBoard {
    let mut runner = Runner::<StatusBoard>::open(log, RunnerConfig::default()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.view().clone()
}

#[test]
fn status_table_of_the_scenario() {
    let s = standard();
    let b = board(&s.log);
    assert_eq!(b.len(), 8);
    insta::assert_snapshot!(
        "status_table",
        StatusBoard::render_table(&b.all(), now(), orderflow_projections::TableWidth::DEFAULT)
    );
}

#[test]
fn status_json_of_the_in_review_and_delayed_orders() {
    let s = standard();
    let b = board(&s.log);
    let rows = [b.get(order(6)).unwrap(), b.get(order(7)).unwrap()];
    let json = serde_json::to_string_pretty(&StatusBoard::render_json(&rows, now())).unwrap();
    insta::assert_snapshot!("status_json", json);
}

#[test]
fn states_are_derived_from_the_events() {
    let s = standard();
    let b = board(&s.log);
    let state = |n| b.get(order(n)).unwrap().state;
    assert_eq!(
        (1..=8).map(state).collect::<Vec<_>>(),
        vec![
            OrderState::Closed,
            OrderState::Rejected,
            OrderState::Signed,
            OrderState::Cancelled,
            OrderState::Closed,
            OrderState::InReview,
            OrderState::Shipped,
            OrderState::Scheduled,
        ]
    );
    let o3 = b.get(order(3)).unwrap();
    assert_eq!((o3.revision, o3.total_minor), (2, 168_000));
    assert_eq!(
        (o3.original_promise, o3.current_promise),
        (Some(date("2026-03-24")), Some(date("2026-03-27")))
    );
    assert_eq!(o3.open_complaints(), 0);
    assert!(o3.shipment.as_ref().unwrap().delayed);
    let o5 = b.get(order(5)).unwrap();
    assert_eq!(o5.current_promise, None);
    assert_eq!(o5.promise(), date("2026-03-12"));
    assert_eq!(o5.open_complaints(), 1);
    assert_eq!(o5.hold.as_deref(), Some("dispute over complaint 1"));
    assert_eq!(b.get(order(1)).unwrap().hold, None, "O1's hold was released");
}

#[test]
fn queries_by_state_and_customer() {
    let s = standard();
    let b = board(&s.log);
    let ids =
        |rows: Vec<&orderflow_projections::OrderRow>| rows.iter().map(|r| r.order_id).collect::<Vec<_>>();
    assert_eq!(ids(b.by_state(OrderState::Closed)), vec![order(1), order(5)]);
    assert_eq!(ids(b.by_customer("acme dairy")), vec![order(1), order(3), order(8)]);
    assert!(b.by_state(OrderState::Approved).is_empty());
}

#[test]
fn overdue_approvals_are_judged_at_now() {
    let s = standard();
    let b = board(&s.log);
    let overdue = b.overdue_approvals(now());
    // O6: due 2026-04-03 09:00, now 2026-04-10 12:00 = 7 days 3 hours = 171 hours.
    let got: Vec<_> = overdue.iter().map(|o| (o.order_id, o.department, o.overdue_hours)).collect();
    assert_eq!(
        got,
        vec![
            (order(6), Department::Procurement, 171),
            (order(6), Department::Finance, 171),
            (order(6), Department::Warehouse, 171),
        ]
    );
    // Before the due time nothing is overdue, but the approvals are still pending.
    assert!(b.overdue_approvals(ts("2026-04-03T08:59")).is_empty());
    assert_eq!(b.get(order(6)).unwrap().pending_approvals(ts("2026-04-03T08:59")).len(), 3);
}

#[test]
fn at_risk_and_late_orders() {
    let s = standard();
    let b = board(&s.log);
    let risk: Vec<_> = b.at_risk(now(), 3).iter().map(|a| (a.row.order_id, a.promise, a.reason)).collect();
    assert_eq!(
        risk,
        vec![
            (order(8), date("2026-04-08"), RiskReason::DueSoonNotShipped { days_left: -2 }),
            (order(7), date("2026-04-12"), RiskReason::EtaAfterPromise { eta: date("2026-04-14") }),
        ]
    );
    // With a 10-day window, O6 (requested 04-20, never confirmed) is due soon too.
    assert_eq!(b.at_risk(now(), 10).len(), 3);
    let late: Vec<_> = b.late(now()).iter().map(|l| (l.row.order_id, l.days_late)).collect();
    assert_eq!(late, vec![(order(8), 2)]);
}

#[test]
fn the_index_of_active_rows_follows_every_close_cancel_and_rejection() {
    let s = standard();
    let b = board(&s.log);
    assert!(b.active_index_is_consistent());
    let from_index: Vec<_> = b.active_newest_first().map(|r| r.order_id).collect();
    let mut sorted: Vec<_> = b.all().into_iter().filter(|r| r.is_active()).map(|r| r.order_id).collect();
    sorted.reverse();
    assert_eq!(from_index, sorted);
    assert_eq!(b.active_len(), sorted.len());
    // The scenario closes, cancels and rejects some orders: they left the index.
    assert!(b.active_len() < b.len(), "the scenario has inactive orders");
    assert!(b.active_len() > 0, "and active ones");
}
