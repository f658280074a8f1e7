//! `confirm`: the promise to the customer.

use orderflow_commands::*;
use orderflow_schemas::{ConfirmMethod, DeliveryMode, Department, OrderConfirmed, Role};

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
