//! `cancel`.

use orderflow_commands::*;
use orderflow_schemas::{Department, Initiator, InspectionResult, OrderCancelled, Role};

use crate::harness::*;

#[test]
fn an_order_in_review_can_be_cancelled() {
    let state = given(&received()).when(cancel()).then_events(&[OrderCancelled {
        reason: "customer withdrew".into(),
        initiated_by: Some(Initiator::Customer),
    }
    .into()]);
    assert_eq!(state.status(), Status::Cancelled);
    assert_eq!(state.cancelled_by, Some(Initiator::Customer));
}

#[test]
fn a_cancellation_records_who_asked_for_it() {
    let (events, state) = given(&confirmed())
        .when(CancelOrder { initiated_by: Initiator::Internal, reason: "plant closed for repairs".into() })
        .then_ok();
    assert!(matches!(
        events.as_slice(),
        [orderflow_schemas::EventBody::OrderCancelled(e)] if e.initiated_by == Some(Initiator::Internal)
    ));
    assert_eq!(state.cancelled_by, Some(Initiator::Internal));
    assert_eq!(state.status(), Status::Cancelled);
}

#[test]
fn an_order_in_production_can_be_cancelled() {
    given(&confirmed())
        .and(schedule("2026-03-10"))
        .and(inspect(InspectionResult::Pass))
        .when(cancel())
        .then_ok();
}

#[test]
fn a_shipped_order_cannot_be_cancelled() {
    given(&shipped()).when(cancel()).then_message("order 7f3a12bc cannot be cancelled: it is shipped");
}

#[test]
fn cancelling_twice_or_a_rejected_order_is_refused() {
    given(&received())
        .and(cancel())
        .when(cancel())
        .then_message("order 7f3a12bc cannot be cancelled: it is cancelled");
    given(&received())
        .and(reject(Department::Warehouse))
        .when(cancel())
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Rejected, .. }));
}

#[test]
fn a_cancellation_needs_a_reason() {
    given(&received())
        .when(CancelOrder { initiated_by: Initiator::Customer, reason: String::new() })
        .then_message("order 7f3a12bc: reason is required");
}

#[test]
fn only_sales_cancels() {
    given(&received())
        .when_as(clerk(Role::CustomerService), cancel())
        .then_rejected(|r| matches!(r, Rejection::NotPermitted { command: "cancel", .. }));
}
