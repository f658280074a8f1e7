//! Review deadlines per department (seed 000 四.4 "明確權限和時限"): each department's limit from
//! the settings, `mark_overdue` recording an overdue review once, escalated to the department's
//! head, and `OrderState::overdue_reviews`, what the deadline watcher must record.

use orderflow_commands::*;
use orderflow_schemas::{Department, Grant, ReviewOverdue, Role};

use crate::harness::*;

/// Every department its own limit: production 8 h, procurement 24 h, finance 72 h, warehouse
/// 4 h, logistics 48 h.
fn hours() -> Settings {
    Settings {
        review_hours: ReviewHours {
            production: 8,
            procurement: 24,
            finance: 72,
            warehouse: 4,
            logistics: 48,
        },
        ..Settings::DEFAULT
    }
}

/// Received at t0 under [`hours`].
fn received_with_limits() -> Scenario {
    given(&[]).with_settings(hours()).and(receive())
}

fn overdue(revision: u32, request_id: Option<u32>, role: Role, due: &str) -> ReviewOverdue {
    ReviewOverdue { revision, request_id, role, due: ts(due), escalated_to: Grant::DeptHead(role) }
}

#[test]
fn an_overdue_review_is_recorded_and_escalated_to_the_department_head() {
    let state = received_with_limits()
        .at(ts("2026-03-02T13:00:00Z"))
        .when(mark_overdue(1, None, Role::Warehouse))
        .then_events(&[overdue(1, None, Role::Warehouse, "2026-03-02T13:00:00Z").into()]);
    assert!(state.escalated.contains(&(1, None, Role::Warehouse)));
    assert_eq!(state.status(), Status::Received, "an overdue review is not a decision");
}

#[test]
fn a_review_is_not_overdue_before_its_department_limit() {
    received_with_limits()
        .at(ts("2026-03-02T16:59:00Z"))
        .when(mark_overdue(1, None, Role::Production))
        .then_message("order 7f3a12bc: the production review is due only at 2026-03-02 17:00 UTC");
    // Warehouse (4 h) is overdue at the same moment.
    received_with_limits()
        .at(ts("2026-03-02T16:59:00Z"))
        .when(mark_overdue(1, None, Role::Warehouse))
        .then_ok();
    received_with_limits()
        .at(ts("2026-03-05T08:59:00Z"))
        .when(mark_overdue(1, None, Role::Finance))
        .then_rejected(|r| matches!(r, Rejection::NotYetDue { role: Role::Finance, .. }));
}

#[test]
fn an_overdue_review_is_escalated_once() {
    received_with_limits()
        .at(ts("2026-03-03T09:00:00Z"))
        .and(mark_overdue(1, None, Role::Procurement))
        .at(ts("2026-03-04T09:00:00Z"))
        .when(mark_overdue(1, None, Role::Procurement))
        .then_message("order 7f3a12bc: the overdue procurement review of revision 1 was already escalated");
}

#[test]
fn a_decided_review_is_not_overdue() {
    received_with_limits()
        .and(approve(Department::Warehouse))
        .at(ts("2026-03-03T09:00:00Z"))
        .when(mark_overdue(1, None, Role::Warehouse))
        .then_message("order 7f3a12bc: warehouse has no pending review of revision 1");
    // Decided after it fell due and was escalated: nothing more to record.
    received_with_limits()
        .at(ts("2026-03-03T09:00:00Z"))
        .and(mark_overdue(1, None, Role::Warehouse))
        .and(approve(Department::Warehouse))
        .when(mark_overdue(1, None, Role::Warehouse))
        .then_rejected(|r| matches!(r, Rejection::NoPendingReview { role: Role::Warehouse, .. }));
}

#[test]
fn only_a_pending_review_of_the_current_revision_is_overdue() {
    let late = || received_with_limits().at(ts("2026-03-09T09:00:00Z"));
    late()
        .when(mark_overdue(2, None, Role::Finance))
        .then_message("order 7f3a12bc: finance has no pending review of revision 2");
    late()
        .when(mark_overdue(1, None, Role::Logistics))
        .then_rejected(|r| matches!(r, Rejection::NoPendingReview { role: Role::Logistics, .. }));
    late()
        .when(mark_overdue(1, Some(1), Role::Finance))
        .then_message("order 7f3a12bc: finance has no pending review of change request 1");
    given(&approved())
        .at(ts("2026-03-09T09:00:00Z"))
        .when(mark_overdue(1, None, Role::Finance))
        .then_rejected(|r| matches!(r, Rejection::NoPendingReview { .. }));
    // A revision the order moved on from.
    late()
        .and(change(vec![set_quantity(2, 60)]))
        .when(mark_overdue(1, None, Role::Finance))
        .then_rejected(|r| matches!(r, Rejection::NoPendingReview { .. }));
}

#[test]
fn a_rejected_or_cancelled_order_has_no_overdue_review() {
    received_with_limits()
        .and(reject(Department::Finance))
        .at(ts("2026-03-09T09:00:00Z"))
        .when(mark_overdue(1, None, Role::Production))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Rejected, .. }));
    received_with_limits()
        .and(cancel())
        .at(ts("2026-03-09T09:00:00Z"))
        .when(mark_overdue(1, None, Role::Production))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Cancelled, .. }));
}

#[test]
fn an_overdue_review_still_takes_the_decision_and_is_never_auto_approved() {
    let (_, state) = received_with_limits()
        .at(ts("2026-03-03T09:00:00Z"))
        .and(mark_overdue(1, None, Role::Production))
        .when(approve(Department::Production))
        .then_ok();
    assert_eq!(state.decisions.get(&Department::Production), Some(&Decision::Approved));
    assert!(state.approvals_missing().contains(&Department::Finance));
}

#[test]
fn a_change_request_review_has_each_department_s_deadline() {
    let s = || {
        given(&confirmed())
            .with_settings(hours())
            .and(change(vec![set_quantity(2, 60)]))
            .and(approve_change(Role::Procurement))
    };
    s().at(ts("2026-03-02T17:00:00Z"))
        .when(mark_overdue(2, Some(1), Role::Production))
        .then_events(&[overdue(2, Some(1), Role::Production, "2026-03-02T17:00:00Z").into()]);
    s().at(ts("2026-03-04T08:00:00Z"))
        .when(mark_overdue(2, Some(1), Role::Logistics))
        .then_rejected(|r| matches!(r, Rejection::NotYetDue { role: Role::Logistics, .. }));
    s().at(ts("2026-03-09T09:00:00Z"))
        .when(mark_overdue(2, Some(1), Role::Procurement))
        .then_message("order 7f3a12bc: procurement has no pending review of change request 1");
    s().at(ts("2026-03-09T09:00:00Z"))
        .when(mark_overdue(1, Some(1), Role::Production))
        .then_rejected(|r| matches!(r, Rejection::NoPendingReview { .. }));
    s().at(ts("2026-03-09T09:00:00Z"))
        .and(mark_overdue(2, Some(1), Role::Production))
        .when(mark_overdue(2, Some(1), Role::Production))
        .then_message(
            "order 7f3a12bc: the overdue production review of change request 1 was already escalated",
        );
}

#[test]
fn an_ended_request_has_no_overdue_review() {
    let ended = [decline_change(Role::Finance, "no"), withdraw_change()];
    for end in ended {
        given(&confirmed())
            .and(change(vec![set_quantity(2, 60)]))
            .and(end)
            .at(ts("2026-03-09T09:00:00Z"))
            .when(mark_overdue(2, Some(1), Role::Production))
            .then_rejected(|r| matches!(r, Rejection::NoPendingReview { .. }));
    }
    // An address-only request goes to logistics alone.
    given(&confirmed())
        .and(ChangeOrder { delivery_address: Some("Gate 3".into()), ..change(vec![]) })
        .at(ts("2026-03-09T09:00:00Z"))
        .when(mark_overdue(1, Some(1), Role::Production))
        .then_rejected(|r| matches!(r, Rejection::NoPendingReview { .. }));
}

#[test]
fn escalation_is_once_per_revision_request_and_department() {
    // Revision 1's overdue finance review, then a change in the first review: revision 2's
    // finance review is a new review, escalated on its own.
    let (_, state) = received_with_limits()
        .at(ts("2026-03-06T09:00:00Z"))
        .and(mark_overdue(1, None, Role::Finance))
        .and(change(vec![set_quantity(2, 60)]))
        .at(ts("2026-03-09T09:00:00Z"))
        .when(mark_overdue(2, None, Role::Finance))
        .then_ok();
    assert!(state.escalated.contains(&(1, None, Role::Finance)));
    assert!(state.escalated.contains(&(2, None, Role::Finance)));
    // Two requests are two reviews for the same department.
    let (_, state) = given(&confirmed())
        .at(ts("2026-03-02T10:00:00Z"))
        .and(change(vec![set_quantity(2, 60)]))
        .at(ts("2026-03-04T09:00:00Z"))
        .and(mark_overdue(2, Some(1), Role::Finance))
        .and(withdraw_change())
        .and(change(vec![set_quantity(2, 70)]))
        .at(ts("2026-03-06T09:00:00Z"))
        .when(mark_overdue(2, Some(2), Role::Finance))
        .then_ok();
    assert!(state.escalated.contains(&(2, Some(1), Role::Finance)));
    assert!(state.escalated.contains(&(2, Some(2), Role::Finance)));
}

/// A change in the first review restarts every department's review, each due by its own limit
/// from the change (`order_changed.review_due_by`), as at receipt.
#[test]
fn after_a_change_in_the_first_review_each_department_is_due_by_its_own_limit() {
    let s = received_with_limits().at(ts("2026-03-02T10:00:00Z")).and(change(vec![set_quantity(2, 60)]));
    let dues: Vec<(Role, orderflow_schemas::Timestamp)> =
        s.state().review_due_by.iter().map(|d| (d.role, d.due)).collect();
    assert_eq!(
        dues,
        vec![
            (Role::Production, ts("2026-03-02T18:00:00Z")),
            (Role::Procurement, ts("2026-03-03T10:00:00Z")),
            (Role::Finance, ts("2026-03-05T10:00:00Z")),
            (Role::Warehouse, ts("2026-03-02T14:00:00Z")),
        ]
    );
    assert_eq!(s.state().review_due, Some(ts("2026-03-05T10:00:00Z")), "the latest of them");
    s.clone()
        .at(ts("2026-03-02T13:59:00Z"))
        .when(mark_overdue(2, None, Role::Warehouse))
        .then_rejected(|r| matches!(r, Rejection::NotYetDue { .. }));
    s.at(ts("2026-03-02T14:00:00Z")).when(mark_overdue(2, None, Role::Warehouse)).then_events(&[overdue(
        2,
        None,
        Role::Warehouse,
        "2026-03-02T14:00:00Z",
    )
    .into()]);
}

#[test]
fn the_watcher_list_names_each_overdue_undecided_review_once() {
    let s = received_with_limits().and(approve(Department::Procurement));
    let state = s.state();
    assert!(state.overdue_reviews(ts("2026-03-02T12:59:00Z")).is_empty());
    assert_eq!(
        state.overdue_reviews(ts("2026-03-02T13:00:00Z")),
        vec![(1, None, Role::Warehouse, ts("2026-03-02T13:00:00Z"))]
    );
    assert_eq!(
        state.overdue_reviews(ts("2026-03-09T00:00:00Z")),
        vec![
            (1, None, Role::Production, ts("2026-03-02T17:00:00Z")),
            (1, None, Role::Finance, ts("2026-03-05T09:00:00Z")),
            (1, None, Role::Warehouse, ts("2026-03-02T13:00:00Z")),
        ],
        "procurement decided"
    );
    let s = s.at(ts("2026-03-03T00:00:00Z")).and(mark_overdue(1, None, Role::Warehouse));
    assert_eq!(
        s.state().overdue_reviews(ts("2026-03-09T00:00:00Z")),
        vec![
            (1, None, Role::Production, ts("2026-03-02T17:00:00Z")),
            (1, None, Role::Finance, ts("2026-03-05T09:00:00Z")),
        ],
        "what was recorded is not listed again"
    );
}

#[test]
fn everything_the_watcher_lists_is_accepted_and_then_no_longer_listed() {
    let mut s = given(&confirmed())
        .with_settings(hours())
        .and(change(vec![set_quantity(2, 60)]))
        .and(approve_change(Role::Finance))
        .at(ts("2026-03-09T00:00:00Z"));
    let due = s.state().overdue_reviews(ts("2026-03-09T00:00:00Z"));
    let roles: Vec<Role> = due.iter().map(|d| d.2).collect();
    assert_eq!(roles, [Role::Production, Role::Procurement, Role::Warehouse, Role::Logistics]);
    for (revision, request_id, role, _) in due {
        s = s.and(mark_overdue(revision, request_id, role));
    }
    assert!(s.state().overdue_reviews(ts("2026-03-20T00:00:00Z")).is_empty());
}

#[test]
fn the_watcher_lists_nothing_for_a_finished_or_decided_order() {
    assert!(given(&approved()).state().overdue_reviews(ts("2026-04-01T00:00:00Z")).is_empty());
    let cancelled = given(&received()).and(cancel());
    assert!(cancelled.state().overdue_reviews(ts("2026-04-01T00:00:00Z")).is_empty());
    let pending_then_shipped =
        given(&confirmed()).and(change(vec![set_quantity(2, 60)])).and(withdraw_change()).and(ship());
    assert!(pending_then_shipped.state().overdue_reviews(ts("2026-04-01T00:00:00Z")).is_empty());
}

#[test]
fn a_zero_limit_for_a_department_is_a_setting_mistake_when_a_request_goes_to_it() {
    let bad =
        Settings { review_hours: ReviewHours { logistics: 0, ..ReviewHours::all(24) }, ..Settings::DEFAULT };
    // A new order does not go to logistics.
    given(&[]).with_settings(bad).when(receive()).then_ok();
    given(&confirmed())
        .with_settings(bad)
        .when(ChangeOrder { delivery_address: Some("Gate 3".into()), ..change(vec![]) })
        .then_message("setting review_hours.logistics must be more than 0 hours (got 0)");
}
