//! `complain`, `resolve`, `reopen` and `feedback`: after-sales.

use orderflow_commands::*;
use orderflow_schemas::{
    ComplaintCategory, ComplaintOpened, ComplaintReopened, ComplaintResolved, FeedbackRecorded, Role,
    Severity,
};

use crate::harness::*;

#[test]
fn complaints_are_numbered_within_the_order() {
    let state = given(&signed()).when(complain()).then_events(&[ComplaintOpened {
        complaint_id: 1,
        category: ComplaintCategory::Quality,
        severity: Severity::High,
        text: "sour milk".into(),
        assignee: Some("customer_service-clerk".into()),
        respond_by: Some(ts("2026-03-03T09:00:00Z")),
    }
    .into()]);
    assert_eq!(state.open_complaints(), vec![1]);
    let (events, _) = given(&signed()).and(complain()).and(resolve(1)).when(complain()).then_ok();
    assert!(matches!(&events[0], orderflow_schemas::EventBody::ComplaintOpened(e) if e.complaint_id == 2));
}

#[test]
fn complaints_start_after_delivery() {
    given(&shipped()).when(complain()).then_message("order 7f3a12bc cannot open a complaint: it is shipped");
    given(&delivered()).when(complain()).then_ok();
    given(&delivered()).and(refuse()).when(complain()).then_ok();
}

#[test]
fn a_complaint_needs_its_text() {
    given(&signed())
        .when(OpenComplaint {
            category: ComplaintCategory::Delivery,
            severity: Severity::Low,
            text: String::new(),
            assignee: None,
        })
        .then_message("order 7f3a12bc: complaint text is required");
}

#[test]
fn complaints_have_a_limit() {
    given(&signed())
        .and(complain())
        .with_limits(Limits { complaints_per_order_max: 1, ..Limits::DEFAULT })
        .when(complain())
        .then_message("order 7f3a12bc: number of complaints (2) exceeds the limit of 1");
}

#[test]
fn an_open_complaint_is_resolved_once() {
    let state = given(&signed()).and(complain()).when(resolve(1)).then_events(&[ComplaintResolved {
        complaint_id: 1,
        resolution: "replaced 10 units".into(),
        customer_satisfied: true,
        remedy: Some(orderflow_schemas::Remedy::Replacement),
    }
    .into()]);
    assert_eq!(state.complaints[&1].status, ComplaintStatus::Resolved { customer_satisfied: true });
    given(&signed())
        .and(complain())
        .and(resolve(1))
        .when(resolve(1))
        .then_message("complaint 1 of order 7f3a12bc is already resolved");
}

#[test]
fn a_resolved_complaint_is_reopened_and_resolved_again() {
    let state = given(&signed())
        .and(complain())
        .and(resolve(1))
        .when(reopen(1))
        .then_events(&[ComplaintReopened { complaint_id: 1, reason: "replacement also sour".into() }.into()]);
    assert_eq!(state.complaints[&1].status, ComplaintStatus::Reopened);
    assert_eq!(state.open_complaints(), vec![1]);
    given(&signed()).and(complain()).and(resolve(1)).and(reopen(1)).when(resolve(1)).then_ok();
}

#[test]
fn an_open_complaint_cannot_be_reopened() {
    given(&signed()).and(complain()).when(reopen(1)).then_message(
        "complaint 1 of order 7f3a12bc is still open; only a resolved complaint can be reopened",
    );
}

#[test]
fn an_unknown_complaint_is_refused() {
    given(&signed()).when(resolve(3)).then_message("order 7f3a12bc has no complaint 3");
    given(&signed())
        .when(reopen(3))
        .then_rejected(|r| matches!(r, Rejection::ComplaintNotFound { complaint_id: 3, .. }));
}

#[test]
fn a_resolution_and_a_reopening_need_their_texts() {
    given(&signed())
        .and(complain())
        .when(ResolveComplaint {
            complaint_id: 1,
            resolution: String::new(),
            remedy: orderflow_schemas::Remedy::Refund,
            customer_satisfied: false,
        })
        .then_message("order 7f3a12bc: resolution is required");
    given(&signed())
        .and(complain())
        .and(resolve(1))
        .when(ReopenComplaint { complaint_id: 1, reason: String::new() })
        .then_message("order 7f3a12bc: reason is required");
}

#[test]
fn customer_service_resolves_and_reopens_sales_may_open() {
    given(&signed()).when_as(clerk(Role::Sales), complain()).then_ok();
    given(&signed())
        .and(complain())
        .when_as(clerk(Role::Sales), resolve(1))
        .then_message("order 7f3a12bc: role sales may not issue \"resolve\" (allowed: customer_service)");
}

#[test]
fn feedback_is_scored_one_to_five() {
    let state = given(&signed()).when(feedback(5)).then_events(&[FeedbackRecorded {
        score: 5,
        comment: "fast delivery".into(),
    }
    .into()]);
    assert_eq!(state.feedback_count, 1);
    given(&signed()).when(feedback(0)).then_message("order 7f3a12bc: score must be 1 to 5 (got 0)");
    given(&signed())
        .when(feedback(6))
        .then_rejected(|r| matches!(r, Rejection::InvalidInput { field, .. } if field == "score"));
    given(&signed()).when(feedback(1)).then_ok();
}

#[test]
fn feedback_comes_after_delivery() {
    given(&approved())
        .when(feedback(4))
        .then_message("order 7f3a12bc cannot record feedback: it is approved");
    given(&delivered()).when_as(clerk(Role::Sales), feedback(4)).then_ok();
}

#[test]
fn feedback_records_have_a_limit() {
    given(&signed())
        .and(feedback(4))
        .with_limits(Limits { feedback_per_order_max: 1, ..Limits::DEFAULT })
        .when(feedback(5))
        .then_rejected(|r| matches!(r, Rejection::LimitExceeded { count: 2, max: 1, .. }));
}
