//! `confirm`: the promise to the customer, and the confirmation that scheduling and shipping wait
//! for (a logistics head may ship a stock order unconfirmed, with a reason).

use orderflow_commands::*;
use orderflow_schemas::{
    ConfirmMethod, DeliveryMode, Department, Event, EventBody, OrderConfirmed, ProductionScheduled, Role,
};

use crate::harness::*;

#[test]
fn the_first_confirmation_sets_the_original_and_current_promise() {
    let state = given(&approved()).when(confirm("2026-03-18")).then_events(&[OrderConfirmed {
        promised_date: date("2026-03-18"),
        note: "read back by phone".into(),
        revision: Some(1),
        expected_ship_date: Some(date("2026-03-03")),
        delivery_mode: Some(DeliveryMode::OwnFleet),
        confirmed_via: Some(ConfirmMethod::Phone),
    }
    .into()]);
    assert_eq!(state.original_promise, Some(date("2026-03-18")));
    assert_eq!(state.current_promise, Some(date("2026-03-18")));
    assert_eq!(state.status(), Status::Confirmed);
    assert!(state.is_confirmed());
}

#[test]
fn a_later_confirmation_moves_only_the_current_promise() {
    let (_, state) = given(&approved()).and(confirm("2026-03-18")).when(confirm("2026-03-25")).then_ok();
    assert_eq!(state.original_promise, Some(date("2026-03-18")));
    assert_eq!(state.current_promise, Some(date("2026-03-25")));
}

#[test]
fn a_promise_in_the_past_is_refused() {
    given(&approved())
        .when(confirm("2026-03-01"))
        .then_message("order 7f3a12bc: promised date 2026-03-01 is before today (2026-03-02)");
}

#[test]
fn no_confirmation_after_shipping() {
    given(&shipped())
        .when(confirm("2026-03-18"))
        .then_message("order 7f3a12bc cannot be confirmed: it is shipped");
}

#[test]
fn no_confirmation_of_a_rejected_or_cancelled_order() {
    given(&received())
        .and(reject(Department::Finance))
        .when(confirm("2026-03-18"))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Rejected, .. }));
    given(&received())
        .and(cancel())
        .when(confirm("2026-03-18"))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Cancelled, .. }));
}

#[test]
fn only_sales_confirms() {
    given(&approved())
        .when_as(clerk(Role::Logistics), confirm("2026-03-18"))
        .then_rejected(|r| matches!(r, Rejection::NotPermitted { command: "confirm", .. }));
}

// ---- confirmation before execution (seed 002 二.3) --------------------------------------------

#[test]
fn confirmation_needs_the_current_revision_approved() {
    given(&received())
        .when(confirm("2026-03-18"))
        .then_message("order 7f3a12bc cannot be confirmed: production, procurement, finance, warehouse have not approved revision 1");
    given(&received())
        .and(approve(Department::Finance))
        .and(approve(Department::Production))
        .and(approve(Department::Warehouse))
        .when(confirm("2026-03-18"))
        .then_rejected(|r| matches!(r, Rejection::MissingApproval { missing, .. } if missing == &[Department::Procurement]));
}

#[test]
fn the_confirmation_records_its_facts() {
    let c = ConfirmOrder {
        expected_ship_date: date("2026-03-16"),
        delivery_mode: DeliveryMode::Carrier,
        confirmed_via: ConfirmMethod::Email,
        ..confirm_order("2026-03-18")
    };
    let (_, state) = given(&approved()).at(ts("2026-03-02T11:30:00Z")).when(c).then_ok();
    assert_eq!(
        state.confirmation,
        Some(Confirmation {
            at: ts("2026-03-02T11:30:00Z"),
            revision: Some(1),
            promised_date: date("2026-03-18"),
            expected_ship_date: Some(date("2026-03-16")),
            delivery_mode: Some(DeliveryMode::Carrier),
            confirmed_via: Some(ConfirmMethod::Email),
        })
    );
}

#[test]
fn the_expected_ship_date_is_not_past_and_not_after_the_promise() {
    let c = ConfirmOrder { expected_ship_date: date("2026-03-19"), ..confirm_order("2026-03-18") };
    given(&approved()).when(c).then_message(
        "order 7f3a12bc: expected ship date 2026-03-19 is after the promised date (2026-03-18)",
    );
    let c = ConfirmOrder { expected_ship_date: date("2026-03-01"), ..confirm_order("2026-03-18") };
    given(&approved())
        .when(c)
        .then_message("order 7f3a12bc: expected ship date 2026-03-01 is before today (2026-03-02)");
    let c = ConfirmOrder { expected_ship_date: date("2026-03-18"), ..confirm_order("2026-03-18") };
    given(&approved()).when(c).then_ok();
    let c = ConfirmOrder { expected_ship_date: date("2026-03-02"), ..confirm_order("2026-03-02") };
    given(&approved()).when(c).then_ok();
}

#[test]
fn a_confirmation_after_an_approved_change_names_the_new_revision() {
    let s = given(&confirmed()).and(change(vec![set_quantity(2, 60)])).and_steps(approve_change_by_all());
    assert!(s.state().is_confirmed(), "the earlier confirmation stays until replaced");
    let (events, state) = s.when(confirm("2026-03-19")).then_ok();
    assert!(matches!(events.as_slice(), [EventBody::OrderConfirmed(e)] if e.revision == Some(2)));
    assert_eq!(state.confirmation.map(|c| c.revision), Some(Some(2)));
}

#[test]
fn an_unconfirmed_order_is_not_scheduled() {
    given(&approved()).when(schedule("2026-03-10")).then_message(
        "order 7f3a12bc cannot schedule production: it is not confirmed with the customer (confirm it first)",
    );
    given(&confirmed()).when(schedule("2026-03-10")).then_ok();
}

#[test]
fn an_unconfirmed_order_does_not_ship() {
    given(&approved())
        .when(ship())
        .then_message("order 7f3a12bc cannot ship: it is not confirmed with the customer (confirm it first)");
    given(&approved())
        .when_as(head(Role::Logistics), ship())
        .then_rejected(|r| matches!(r, Rejection::NotConfirmed { action: "ship", .. }));
}

fn ship_unconfirmed(reason: &str) -> ShipOrder {
    ShipOrder { unconfirmed_reason: Some(reason.into()), ..ship_order() }
}

#[test]
fn the_logistics_head_may_ship_a_stock_order_unconfirmed_with_a_reason() {
    let (events, state) = given(&approved())
        .when_as(head(Role::Logistics), ship_unconfirmed("customer unreachable, standing order"))
        .then_ok();
    let [EventBody::OrderShipped(e)] = events.as_slice() else { panic!("{events:?}") };
    assert_eq!(e.unconfirmed_reason.as_deref(), Some("customer unreachable, standing order"));
    assert_eq!(e.revision, Some(1));
    assert_eq!(state.shipped_unconfirmed.as_deref(), Some("customer unreachable, standing order"));
    assert_eq!(state.status(), Status::Shipped);
}

#[test]
fn shipping_unconfirmed_is_refused_to_a_clerk() {
    given(&approved()).when(ship_unconfirmed("urgent")).then_message(
        "order 7f3a12bc cannot ship: only a department head may give unconfirmed reason (acting as logistics)",
    );
}

#[test]
fn shipping_unconfirmed_needs_a_reason() {
    given(&approved())
        .when_as(head(Role::Logistics), ship_unconfirmed("  "))
        .then_message("order 7f3a12bc: unconfirmed reason is required");
}

#[test]
fn shipping_unconfirmed_is_only_for_a_stock_order() {
    // Production cannot be scheduled unconfirmed any more; an order scheduled under the old rules
    // (a recorded event) is not a stock order.
    let scheduled = Event::new(
        clerk(Role::Production),
        t0(),
        ProductionScheduled { planned_finish: date("2026-03-10"), note: String::new() },
    );
    given(&approved())
        .and_event(scheduled)
        .when_as(head(Role::Logistics), ship_unconfirmed("urgent"))
        .then_message(
        "order 7f3a12bc cannot ship: only a stock order (production never scheduled) may ship unconfirmed",
    );
}

#[test]
fn shipping_unconfirmed_is_refused_as_not_needed_when_confirmed() {
    given(&confirmed())
        .when_as(head(Role::Logistics), ship_unconfirmed("urgent"))
        .then_message("order 7f3a12bc: unconfirmed reason is not needed: the order is confirmed");
}

#[test]
fn no_head_ships_unconfirmed_while_a_change_request_is_pending() {
    given(&approved())
        .and(change(vec![set_quantity(2, 60)]))
        .when_as(head(Role::Logistics), ship_unconfirmed("urgent"))
        .then_rejected(|r| matches!(r, Rejection::ChangePending { .. }));
}

#[test]
fn a_shipment_carries_the_revision_shipped() {
    let (events, _) = given(&confirmed())
        .and(change(vec![set_quantity(2, 60)]))
        .and_steps(approve_change_by_all())
        .when(ship())
        .then_ok();
    assert!(
        matches!(events.as_slice(), [EventBody::OrderShipped(e)] if e.revision == Some(2) && e.unconfirmed_reason.is_none())
    );
}
