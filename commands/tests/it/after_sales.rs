//! `complain`, `update_complaint`, `resolve`, `reopen`, `feedback` and `visit`: after-sales until
//! the customer is satisfied (closing is in `close.rs`).

use orderflow_commands::*;
use orderflow_schemas::{
    ComplaintCategory, ComplaintOpened, ComplaintReopened, ComplaintResolved, ComplaintUpdated, EventBody,
    FeedbackRecorded, Remedy, Role, Severity, VisitMethod, VisitRecorded,
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

// ---- assignee, first-response limit, progress and remedy (seed 002 六) ------------------------

#[test]
fn a_complaint_is_assigned_to_the_login_named_and_due_for_a_first_response() {
    let c = OpenComplaint {
        category: ComplaintCategory::Delivery,
        severity: Severity::Medium,
        text: "two cartons missing".into(),
        assignee: Some("  mei.chen ".into()),
    };
    let (events, state) = given(&signed())
        .with_settings(Settings { complaint_response_hours: 4, ..Settings::DEFAULT })
        .at(ts("2026-03-06T10:00:00Z"))
        .when(c)
        .then_ok();
    let [EventBody::ComplaintOpened(e)] = events.as_slice() else { panic!("{events:?}") };
    assert_eq!(e.assignee.as_deref(), Some("mei.chen"));
    assert_eq!(e.respond_by, Some(ts("2026-03-06T14:00:00Z")));
    assert_eq!(state.complaints[&1].assignee.as_deref(), Some("mei.chen"));
    assert_eq!(state.complaints[&1].respond_by, Some(ts("2026-03-06T14:00:00Z")));
}

#[test]
fn a_complaint_without_an_assignee_goes_to_whoever_opened_it() {
    let (_, state) = given(&signed()).when_as(person("li.wei", Role::Sales), complain()).then_ok();
    assert_eq!(state.complaints[&1].assignee.as_deref(), Some("li.wei"));
}

#[test]
fn a_blank_assignee_and_a_zero_response_limit_are_refused() {
    let c = OpenComplaint {
        category: ComplaintCategory::Quality,
        severity: Severity::Low,
        text: "sour".into(),
        assignee: Some(" ".into()),
    };
    given(&signed()).when(c).then_message("order 7f3a12bc: assignee is required");
    given(&signed())
        .with_settings(Settings { complaint_response_hours: 0, ..Settings::DEFAULT })
        .when(complain())
        .then_message("setting complaint_response_hours must be more than 0 hours (got 0)");
}

#[test]
fn progress_is_recorded_on_an_open_complaint() {
    let state = given(&signed()).and(complain()).when(update_complaint(1)).then_events(&[ComplaintUpdated {
        complaint_id: 1,
        note: "samples sent to the lab".into(),
        next_step: "quality reports by Friday".into(),
    }
    .into()]);
    assert_eq!(state.complaints[&1].updates, 1);
    assert_eq!(state.complaints[&1].status, ComplaintStatus::Open, "progress does not resolve it");
    let (_, state) =
        given(&signed()).and(complain()).and(update_complaint(1)).when(update_complaint(1)).then_ok();
    assert_eq!(state.complaints[&1].updates, 2);
    given(&signed()).and(complain()).and(resolve(1)).and(reopen(1)).when(update_complaint(1)).then_ok();
    given(&closed()).and(complain()).when(update_complaint(1)).then_ok();
}

#[test]
fn progress_is_refused_on_a_resolved_or_unknown_complaint() {
    given(&signed())
        .and(complain())
        .and(resolve(1))
        .when(update_complaint(1))
        .then_message("complaint 1 of order 7f3a12bc is already resolved");
    given(&signed())
        .and(complain())
        .when(update_complaint(2))
        .then_rejected(|r| matches!(r, Rejection::ComplaintNotFound { complaint_id: 2, .. }));
}

#[test]
fn progress_names_what_was_done_and_the_next_step() {
    given(&signed())
        .and(complain())
        .when(UpdateComplaint { complaint_id: 1, note: " ".into(), next_step: "call back".into() })
        .then_message("order 7f3a12bc: note is required");
    given(&signed())
        .and(complain())
        .when(UpdateComplaint { complaint_id: 1, note: "called".into(), next_step: String::new() })
        .then_message("order 7f3a12bc: next step is required");
}

#[test]
fn progress_updates_have_a_limit_and_belong_to_customer_service() {
    given(&signed())
        .and(complain())
        .and(update_complaint(1))
        .with_limits(Limits { complaint_updates_max: 1, ..Limits::DEFAULT })
        .when(update_complaint(1))
        .then_message("order 7f3a12bc: number of progress updates (2) exceeds the limit of 1");
    given(&signed())
        .and(complain())
        .when_as(clerk(Role::Sales), update_complaint(1))
        .then_rejected(|r| matches!(r, Rejection::NotPermitted { command: "update_complaint", .. }));
}

#[test]
fn a_resolution_records_its_remedy_and_whether_the_customer_is_satisfied() {
    let c = ResolveComplaint {
        complaint_id: 1,
        resolution: "credit note 77".into(),
        remedy: Remedy::Credit,
        customer_satisfied: false,
    };
    let state = given(&signed()).and(complain()).when(c).then_events(&[ComplaintResolved {
        complaint_id: 1,
        resolution: "credit note 77".into(),
        customer_satisfied: false,
        remedy: Some(Remedy::Credit),
    }
    .into()]);
    assert_eq!(state.complaints[&1].status, ComplaintStatus::Resolved { customer_satisfied: false });
    assert_eq!(state.unsatisfied_complaints(), vec![1]);
    assert!(state.open_complaints().is_empty());
}

// ---- follow-up visits (回訪) ------------------------------------------------------------------

#[test]
fn a_visit_is_recorded_after_sign_off() {
    let state = given(&signed()).when(visit(Some(5))).then_events(&[VisitRecorded {
        method: VisitMethod::Phone,
        score: Some(5),
        comment: "happy with the cold chain".into(),
    }
    .into()]);
    assert_eq!(state.visits, 1);
    let (_, state) = given(&signed()).when(visit(None)).then_ok();
    assert_eq!(state.visits, 1, "an unanswered visit counts as a visit");
    given(&closed()).when_as(clerk(Role::Sales), visit(Some(3))).then_ok();
}

#[test]
fn no_visit_before_sign_off() {
    given(&delivered())
        .when(visit(Some(4)))
        .then_message("order 7f3a12bc cannot record a follow-up visit: it is delivered");
    given(&delivered())
        .and(refuse())
        .when(visit(Some(4)))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Refused, .. }));
    given(&received())
        .and(cancel())
        .and(close())
        .when(visit(None))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Closed, .. }));
}

#[test]
fn a_visit_score_is_one_to_five() {
    given(&signed()).when(visit(Some(0))).then_message("order 7f3a12bc: score must be 1 to 5 (got 0)");
    given(&signed())
        .when(visit(Some(6)))
        .then_rejected(|r| matches!(r, Rejection::InvalidInput { field, .. } if field == "score"));
    given(&signed()).when(visit(Some(1))).then_ok();
}

#[test]
fn visits_have_a_limit_and_belong_to_customer_service_or_sales() {
    given(&signed())
        .and(visit(Some(4)))
        .with_limits(Limits { visits_per_order_max: 1, ..Limits::DEFAULT })
        .when(visit(Some(5)))
        .then_message("order 7f3a12bc: number of visits (2) exceeds the limit of 1");
    given(&signed())
        .when_as(clerk(Role::Logistics), visit(Some(4)))
        .then_rejected(|r| matches!(r, Rejection::NotPermitted { command: "visit", .. }));
}
