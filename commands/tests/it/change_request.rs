//! Change requests (seed 002 三.4): once the order has an approved revision, `change` opens a
//! request the departments decide while the approved revision stays in force.

use orderflow_commands::*;
use orderflow_schemas::{
    ChangeApproved, ChangeDeclined, ChangeRequested, ChangeWithdrawn, Department, EventBody, FieldChange,
    Initiator, OrderChanged, OrderLine, Role, RoleDue, CHANGE_REVIEWERS,
};

use crate::harness::*;

fn fc(field: &str, old: &str, new: &str) -> FieldChange {
    FieldChange { field: field.into(), old: old.into(), new: new.into() }
}

/// Every department its own limit, so that each deadline is told apart.
fn hours() -> ReviewHours {
    ReviewHours { production: 8, procurement: 24, finance: 72, warehouse: 4, logistics: 48 }
}

fn requested(s: Scenario, c: ChangeOrder) -> (ChangeRequested, OrderState) {
    let (events, state) = s.when(c).then_ok();
    match events.as_slice() {
        [EventBody::ChangeRequested(e)] => (e.clone(), state),
        other => panic!("expected one ChangeRequested, got {other:?}"),
    }
}

/// What a pending, declined or withdrawn request must leave as it was.
fn in_force(s: &OrderState) -> impl PartialEq + std::fmt::Debug {
    (
        s.revision,
        s.approved_revision,
        s.lines.clone(),
        s.total_minor,
        s.requested_date,
        s.delivery_address.clone(),
        s.current_promise,
        s.original_promise,
        s.status(),
        s.is_approved(),
        s.confirmation.clone(),
    )
}

fn quantity_change() -> ChangeOrder {
    change(vec![set_quantity(2, 60)])
}

fn date_change(initiated_by: Initiator) -> ChangeOrder {
    ChangeOrder { initiated_by, requested_date: Some(date("2026-03-25")), ..change(vec![]) }
}

fn address_change() -> ChangeOrder {
    ChangeOrder { delivery_address: Some("Gate 3, 90 Harbour Road".into()), ..change(vec![]) }
}

/// The seed's order: 500 units of line 1, approved and confirmed.
fn confirmed_500() -> Scenario {
    let mut c = receive_order();
    c.lines[0].quantity = 500;
    let mut s = given(&[]).and(c);
    for d in Department::ALL {
        s = s.and(approve(*d));
    }
    s.and(confirm("2026-03-18"))
}

#[test]
fn a_change_after_approval_opens_a_request_and_the_approved_revision_stays_in_force() {
    let s = given(&confirmed()).with_settings(Settings { review_hours: hours(), ..Settings::DEFAULT });
    let before = s.state().clone();
    let mut lines: Vec<OrderLine> = before.lines.clone();
    lines[1].quantity = 60;
    let c = ChangeOrder {
        impact: vec![
            impact(Role::Finance, "credit line covers it"),
            impact(Role::Production, "half a shift more"),
        ],
        ..quantity_change()
    };
    let due = |role, at: &str| RoleDue { role, due: ts(at) };
    let state = s.when(c).then_events(&[ChangeRequested {
        request_id: 1,
        initiated_by: Initiator::Customer,
        reason: "customer called".into(),
        changes: vec![fc("line 2 quantity", "50", "60")],
        lines,
        total_minor: 100 * 120 + 60 * 250,
        requested_date: date("2026-03-20"),
        promised_date: Some(date("2026-03-18")),
        delivery_address: before.delivery_address.clone(),
        revision: 2,
        review_due_by: vec![
            due(Role::Production, "2026-03-02T17:00:00Z"),
            due(Role::Procurement, "2026-03-03T09:00:00Z"),
            due(Role::Finance, "2026-03-05T09:00:00Z"),
            due(Role::Warehouse, "2026-03-02T13:00:00Z"),
            due(Role::Logistics, "2026-03-04T09:00:00Z"),
        ],
        // In the deciding departments' order, whatever order they were given in.
        impact: vec![
            impact(Role::Production, "half a shift more"),
            impact(Role::Finance, "credit line covers it"),
        ],
    }
    .into()]);
    assert_eq!(in_force(&state), in_force(&before));
    assert_eq!(state.lines[1].quantity, 50);
    assert_eq!(state.total_minor, 24_500);
    assert_eq!(state.status(), Status::Confirmed);
    let request = state.change_request.as_ref().expect("pending");
    assert_eq!(request.proposal.request_id, 1);
    assert_eq!(request.requested_by, clerk(Role::Sales));
    assert_eq!(request.undecided().len(), CHANGE_REVIEWERS.len());
}

#[test]
fn a_change_of_an_approved_but_unconfirmed_order_is_a_request_too() {
    let (e, state) = requested(given(&approved()), quantity_change());
    assert_eq!(e.revision, 2);
    assert_eq!(e.promised_date, None);
    assert_eq!(state.revision, 1);
    assert_eq!(state.status(), Status::Approved);
}

#[test]
fn an_address_only_change_goes_to_logistics_alone_and_keeps_the_revision() {
    let (e, state) = requested(given(&confirmed()), address_change());
    assert_eq!(e.revision, 1);
    assert_eq!(e.review_due_by, vec![RoleDue { role: Role::Logistics, due: ts("2026-03-03T09:00:00Z") }]);
    assert_eq!(
        e.changes,
        vec![fc("delivery address", "88 Harbour Road, Shanghai", "Gate 3, 90 Harbour Road")]
    );
    assert_eq!(state.delivery_address, "88 Harbour Road, Shanghai", "not before logistics approves");
    let state =
        given(&confirmed()).and(address_change()).when(approve_change(Role::Logistics)).then_events(&[
            ChangeApproved { request_id: 1, role: Role::Logistics, note: "fine".into() }.into(),
            OrderChanged {
                revision: 1,
                reason: "customer called".into(),
                changes: e.changes.clone(),
                lines: e.lines.clone(),
                total_minor: 24_500,
                requested_date: date("2026-03-20"),
                promised_date: Some(date("2026-03-18")),
                delivery_address: "Gate 3, 90 Harbour Road".into(),
                reapproval_required: false,
                review_due: None,
                review_due_by: Vec::new(),
                request_id: Some(1),
                initiated_by: Some(Initiator::Customer),
            }
            .into(),
        ]);
    assert_eq!(state.delivery_address, "Gate 3, 90 Harbour Road");
    assert_eq!(state.revision, 1);
    assert!(state.is_approved());
    assert_eq!(state.status(), Status::Confirmed);
}

#[test]
fn a_date_change_goes_to_every_deciding_department() {
    let (e, _) = requested(given(&confirmed()), date_change(Initiator::Internal));
    let roles: Vec<Role> = e.review_due_by.iter().map(|d| d.role).collect();
    assert_eq!(roles, CHANGE_REVIEWERS);
    assert_eq!(e.revision, 2);
}

#[test]
fn each_approval_is_recorded_and_the_last_applies_the_revision_approved() {
    let s = given(&confirmed()).and(schedule("2026-03-10")).and(quantity_change());
    let state = s.state().clone();
    assert_eq!(state.status(), Status::Scheduled);
    let s = s.and(approve_change(Role::Production)).and(approve_change(Role::Procurement));
    let request = s.state().change_request.as_ref().expect("pending");
    assert_eq!(request.decisions.len(), 2);
    assert!(request.decisions[&Role::Production].approved);
    assert_eq!(
        request.undecided().iter().map(|d| d.role).collect::<Vec<_>>(),
        [Role::Finance, Role::Warehouse, Role::Logistics]
    );
    assert_eq!(in_force(s.state()), in_force(&state), "nothing applies before the last approval");
    let s = s.and(approve_change(Role::Finance)).and(approve_change(Role::Logistics));
    let (events, after) = s.when(approve_change(Role::Warehouse)).then_ok();
    let [EventBody::ChangeApproved(a), EventBody::OrderChanged(e)] = events.as_slice() else {
        panic!("expected the approval and the change, got {events:?}")
    };
    assert_eq!(a, &ChangeApproved { request_id: 1, role: Role::Warehouse, note: "fine".into() });
    assert_eq!(e.request_id, Some(1));
    assert_eq!(e.initiated_by, Some(Initiator::Customer));
    assert!(!e.reapproval_required);
    assert_eq!(e.review_due, None);
    assert_eq!(e.revision, 2);
    assert_eq!(after.revision, 2);
    assert_eq!(after.approved_revision, Some(2));
    assert!(after.is_approved());
    assert!(after.approvals_missing().is_empty());
    assert_eq!(after.lines[1].quantity, 60);
    assert_eq!(after.total_minor, 27_000);
    assert_eq!(after.status(), Status::Scheduled, "the order stays where it stood");
    assert!(after.change_request.is_none());
    assert_eq!(after.request_outcomes.get(&1), Some(&RequestOutcome::Applied));
}

#[test]
fn an_approved_request_lets_the_order_go_on_without_a_new_review() {
    let (_, state) = given(&confirmed())
        .and(quantity_change())
        .and_steps(approve_change_by_all())
        .when(schedule("2026-03-10"))
        .then_ok();
    assert_eq!(state.status(), Status::Scheduled);
}

#[test]
fn a_decline_ends_the_request_and_the_order_goes_on_unchanged() {
    let s = given(&confirmed()).and(schedule("2026-03-10"));
    let before = s.state().clone();
    let s = s.and(quantity_change()).and(approve_change(Role::Production));
    let state =
        s.when(decline_change(Role::Finance, "over the credit limit")).then_events(&[ChangeDeclined {
            request_id: 1,
            role: Role::Finance,
            reason: "over the credit limit".into(),
        }
        .into()]);
    assert_eq!(in_force(&state), in_force(&before));
    assert_eq!(state.status(), Status::Scheduled);
    assert!(state.change_request.is_none());
    assert_eq!(state.request_outcomes.get(&1), Some(&RequestOutcome::Declined(Role::Finance)));
    assert!(state.rejection.is_none(), "a declined change never rejects the order");
}

/// The seed's case: a confirmed 500-unit order changed to 5,000; production has no capacity.
#[test]
fn a_declined_change_to_5000_leaves_the_confirmed_500_unit_order_and_a_later_change_is_a_new_request() {
    let s = confirmed_500();
    let before = s.state().clone();
    assert_eq!(before.lines[0].quantity, 500);
    let s = s.and(change(vec![set_quantity(1, 5_000)]));
    assert_eq!(s.state().change_request.as_ref().map(|r| r.proposal.lines[0].quantity), Some(5_000));
    let (_, state) = s.when(decline_change(Role::Production, "no capacity for 5000")).then_ok();
    assert_eq!(state.status(), Status::Confirmed);
    assert_eq!(state.lines[0].quantity, 500);
    assert_eq!(state.revision, 1);
    assert_eq!(state.approved_revision, Some(1));
    assert_eq!(in_force(&state), in_force(&before));

    let s = confirmed_500()
        .and(change(vec![set_quantity(1, 5_000)]))
        .and(decline_change(Role::Production, "no capacity for 5000"));
    let (e, state) = requested(s, change(vec![set_quantity(1, 600)]));
    assert_eq!(e.request_id, 2);
    assert_eq!(e.revision, 2);
    assert_eq!(e.changes, vec![fc("line 1 quantity", "500", "600")]);
    assert_eq!(state.lines[0].quantity, 500);
    assert_eq!(state.status(), Status::Confirmed);
}

#[test]
fn sales_withdraws_a_pending_request_and_the_order_goes_on_unchanged() {
    let s = given(&confirmed());
    let before = s.state().clone();
    let s = s.and(quantity_change()).and(approve_change(Role::Production));
    let state = s.when(withdraw_change()).then_events(&[ChangeWithdrawn {
        request_id: 1,
        reason: "customer changed their mind".into(),
    }
    .into()]);
    assert_eq!(in_force(&state), in_force(&before));
    assert!(state.change_request.is_none());
    assert_eq!(state.request_outcomes.get(&1), Some(&RequestOutcome::Withdrawn));
    given(&confirmed()).and(quantity_change()).and(withdraw_change()).when(ship()).then_ok();
}

#[test]
fn only_sales_withdraws_and_a_withdrawal_needs_a_reason() {
    given(&confirmed())
        .and(quantity_change())
        .when_as(clerk(Role::Production), withdraw_change())
        .then_rejected(|r| matches!(r, Rejection::NotPermitted { command: "withdraw_change", .. }));
    given(&confirmed())
        .and(quantity_change())
        .when(WithdrawChange { reason: " ".into() })
        .then_message("order 7f3a12bc: reason is required");
}

#[test]
fn a_decline_needs_a_reason() {
    given(&confirmed())
        .and(quantity_change())
        .when(DeclineChange { department: Role::Finance, request_id: None, reason: String::new() })
        .then_message("order 7f3a12bc: reason is required");
}

#[test]
fn at_most_one_request_is_pending() {
    given(&confirmed()).and(quantity_change()).when(address_change()).then_message(
        "order 7f3a12bc cannot be changed: change request 1 is pending; the departments decide it or sales withdraws it first",
    );
    given(&confirmed())
        .and(quantity_change())
        .and(approve_change(Role::Production))
        .when(change(vec![set_quantity(1, 10)]))
        .then_rejected(|r| matches!(r, Rejection::ChangePending { request_id: 1, .. }));
}

#[test]
fn requests_are_numbered_one_two_three() {
    let s = given(&confirmed())
        .and(quantity_change())
        .and(withdraw_change())
        .and(date_change(Initiator::Customer))
        .and(decline_change(Role::Warehouse, "no space"));
    let (e, _) = requested(s, address_change());
    assert_eq!(e.request_id, 3);
}

#[test]
fn a_request_after_an_applied_one_opens_the_revision_after() {
    let s = given(&confirmed()).and(quantity_change()).and_steps(approve_change_by_all());
    let (e, state) = requested(s, change(vec![set_quantity(1, 80)]));
    assert_eq!((e.request_id, e.revision), (2, 3));
    assert_eq!(e.changes, vec![fc("line 1 quantity", "100", "80")]);
    assert_eq!(state.revision, 2);
}

#[test]
fn change_requests_have_a_limit() {
    given(&confirmed())
        .and(quantity_change())
        .and(withdraw_change())
        .with_limits(Limits { change_requests_per_order_max: 1, ..Limits::DEFAULT })
        .when(quantity_change())
        .then_message("order 7f3a12bc: number of change requests (2) exceeds the limit of 1");
}

#[test]
fn deciding_or_withdrawing_needs_a_pending_request() {
    let none = "order 7f3a12bc has no pending change request";
    given(&confirmed()).when(approve_change(Role::Finance)).then_message(none);
    given(&confirmed()).when(decline_change(Role::Finance, "no")).then_message(none);
    given(&confirmed()).when(withdraw_change()).then_message(none);
    given(&confirmed())
        .and(quantity_change())
        .and(decline_change(Role::Finance, "no"))
        .when(approve_change(Role::Production))
        .then_rejected(|r| matches!(r, Rejection::NoChangePending { .. }));
    given(&confirmed())
        .and(quantity_change())
        .and(withdraw_change())
        .when(withdraw_change())
        .then_rejected(|r| matches!(r, Rejection::NoChangePending { .. }));
    // A change in the first review applied at once: there is nothing to decide.
    given(&received())
        .and(quantity_change())
        .when(approve_change(Role::Production))
        .then_rejected(|r| matches!(r, Rejection::NoChangePending { .. }));
}

#[test]
fn a_decision_naming_another_request_is_stale() {
    let s = || given(&confirmed()).and(quantity_change()).and(withdraw_change()).and(address_change());
    s().when(ApproveChange { department: Role::Logistics, request_id: Some(1), note: String::new() })
        .then_message("order 7f3a12bc: the decision is for change request 1, but the pending request is 2");
    s().when(DeclineChange { department: Role::Logistics, request_id: Some(1), reason: "no".into() })
        .then_rejected(|r| matches!(r, Rejection::StaleRequest { given: 1, current: 2, .. }));
    s().when(ApproveChange { department: Role::Logistics, request_id: Some(2), note: String::new() })
        .then_ok();
}

#[test]
fn a_department_that_does_not_decide_the_request_is_refused() {
    let s = || given(&confirmed()).and(address_change());
    s().when(approve_change(Role::Production))
        .then_message("order 7f3a12bc: production does not decide change request 1 (it goes to logistics)");
    s().when(decline_change(Role::Finance, "no"))
        .then_rejected(|r| matches!(r, Rejection::NotAReviewer { role: Role::Finance, request_id: 1, .. }));
}

#[test]
fn a_department_decides_a_request_once() {
    given(&confirmed())
        .and(quantity_change())
        .and(approve_change(Role::Production))
        .when(approve_change(Role::Production))
        .then_message("order 7f3a12bc: production has already decided change request 1");
    given(&confirmed())
        .and(quantity_change())
        .and(approve_change(Role::Production))
        .when(decline_change(Role::Production, "changed my mind"))
        .then_rejected(|r| matches!(r, Rejection::ChangeAlreadyDecided { role: Role::Production, .. }));
}

#[test]
fn the_requester_may_not_approve_the_change_but_may_decline_it() {
    let s = || given(&confirmed()).and(quantity_change());
    s().when_as(person("sales-clerk", Role::Finance), approve_change(Role::Finance)).then_message(
        "order 7f3a12bc: sales-clerk asked for this change and may not approve it (change request 1)",
    );
    s().when_as(person(" Sales-Clerk ", Role::Finance), approve_change(Role::Finance))
        .then_rejected(|r| matches!(r, Rejection::ChangeSeparation { request_id: 1, .. }));
    s().when_as(person("sales-clerk", Role::Finance), decline_change(Role::Finance, "too risky")).then_ok();
}

#[test]
fn one_person_decides_a_request_for_one_department() {
    let wang = person("wang.fang", Role::Production);
    let s =
        || given(&confirmed()).and(quantity_change()).and_as(wang.clone(), approve_change(Role::Production));
    s().when_as(person("wang.fang", Role::Procurement), approve_change(Role::Procurement)).then_message(
        "order 7f3a12bc: wang.fang already decided it for production; one person decides for one department (change request 1)",
    );
    s().when_as(person("wang.fang", Role::Warehouse), decline_change(Role::Warehouse, "no"))
        .then_rejected(|r| matches!(r, Rejection::ChangeSeparation { .. }));
    s().when_as(person("li.na", Role::Procurement), approve_change(Role::Procurement)).then_ok();
}

#[test]
fn an_approved_customer_change_of_date_moves_the_current_promise_only() {
    let (e, state) = requested(given(&confirmed()), date_change(Initiator::Customer));
    assert_eq!(
        e.changes,
        vec![
            fc("requested date", "2026-03-20", "2026-03-25"),
            fc("promised date", "2026-03-18", "2026-03-25")
        ]
    );
    assert_eq!(e.promised_date, Some(date("2026-03-25")));
    assert_eq!(state.current_promise, Some(date("2026-03-18")), "not before the departments approve");
    let s = given(&confirmed()).and(date_change(Initiator::Customer)).and_steps(approve_change_by_all());
    let state = s.state();
    assert_eq!(state.current_promise, Some(date("2026-03-25")));
    assert_eq!(state.original_promise, Some(date("2026-03-18")));
    assert_eq!(state.requested_date, Some(date("2026-03-25")));
}

#[test]
fn an_internal_change_of_date_never_moves_the_promise() {
    let (e, _) = requested(given(&confirmed()), date_change(Initiator::Internal));
    assert_eq!(e.changes, vec![fc("requested date", "2026-03-20", "2026-03-25")]);
    assert_eq!(e.promised_date, Some(date("2026-03-18")));
    let s = given(&confirmed()).and(date_change(Initiator::Internal)).and_steps(approve_change_by_all());
    assert_eq!(s.state().current_promise, Some(date("2026-03-18")));
    assert_eq!(s.state().requested_date, Some(date("2026-03-25")));
    assert_eq!(s.state().revision, 2);
}

#[test]
fn a_declined_customer_change_of_date_keeps_the_promise() {
    let s = given(&confirmed()).and(date_change(Initiator::Customer)).and(approve_change(Role::Finance));
    let (_, state) = s.when(decline_change(Role::Production, "line booked")).then_ok();
    assert_eq!(state.current_promise, Some(date("2026-03-18")));
    assert_eq!(state.requested_date, Some(date("2026-03-20")));
}

#[test]
fn a_line_change_keeps_the_promise() {
    let (e, _) = requested(given(&confirmed()), quantity_change());
    assert_eq!(e.promised_date, Some(date("2026-03-18")));
    let s = given(&confirmed()).and(quantity_change()).and_steps(approve_change_by_all());
    assert_eq!(s.state().current_promise, Some(date("2026-03-18")));
}

/// A confirmation while a request waits (sales agrees another date with the customer) is what
/// the order promises; approving an unrelated request must not bring back the older promise.
#[test]
fn approving_a_request_keeps_a_promise_confirmed_while_it_was_pending() {
    let s = given(&confirmed())
        .and(quantity_change())
        .and(confirm("2026-03-19"))
        .and_steps(approve_change_by_all());
    assert_eq!(s.state().current_promise, Some(date("2026-03-19")));
    assert_eq!(s.state().lines[1].quantity, 60);
}

#[test]
fn impact_notes_are_for_deciding_departments_once_each() {
    let c = ChangeOrder { impact: vec![impact(Role::Production, "fine")], ..address_change() };
    given(&confirmed()).when(c).then_message(
        "order 7f3a12bc: impact note for production names a department that does not decide this change",
    );
    let c = ChangeOrder {
        impact: vec![impact(Role::Finance, "ok"), impact(Role::Finance, "really ok")],
        ..quantity_change()
    };
    given(&confirmed()).when(c).then_message("order 7f3a12bc: impact note for finance is given twice");
    let c = ChangeOrder { impact: vec![impact(Role::Sales, "we want it")], ..quantity_change() };
    given(&confirmed()).when(c).then_rejected(|r| matches!(r, Rejection::InvalidInput { .. }));
    let c = ChangeOrder { impact: vec![impact(Role::Logistics, " ")], ..address_change() };
    given(&confirmed()).when(c).then_rejected(|r| matches!(r, Rejection::InvalidInput { .. }));
}

#[test]
fn a_rejection_in_the_first_review_still_rejects_the_order_and_it_stays_rejected() {
    let s = || given(&received()).and(approve(Department::Production)).and(reject(Department::Finance));
    assert_eq!(s().state().status(), Status::Rejected);
    s().when(quantity_change()).then_message("order 7f3a12bc cannot be changed: it is rejected");
    s().when(approve_change(Role::Production))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Rejected, .. }));
    s().when(withdraw_change())
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Rejected, .. }));
    s().when(approve(Department::Warehouse))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Rejected, .. }));
}

#[test]
fn reject_is_for_the_first_review_not_for_change_requests() {
    // Once approved, a department that wants to stop a change declines the request; `reject`
    // finds the department's decision on the approved revision and never rejects the order.
    let s = || given(&confirmed()).and(quantity_change());
    s().when(reject(Department::Production)).then_rejected(|r| {
        matches!(r, Rejection::AlreadyDecided { department: Department::Production, revision: 1, .. })
    });
    assert_eq!(s().state().status(), Status::Confirmed);
}

#[test]
fn a_cancelled_order_takes_no_decision_on_its_request() {
    given(&confirmed())
        .and(quantity_change())
        .and(cancel())
        .when(approve_change(Role::Production))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Cancelled, .. }));
}

/// An order changed under the old rules after its approval (recorded `order_changed` with
/// re-approval and no request) is back in review: its re-approval is decided first, then
/// changes are requests again.
#[test]
fn a_reapproval_under_the_old_rules_is_decided_before_a_new_request() {
    let old_change = orderflow_schemas::Event::new(
        clerk(Role::Sales),
        t0(),
        OrderChanged {
            revision: 2,
            reason: "customer called".into(),
            changes: vec![fc("line 2 quantity", "50", "60")],
            lines: given(&approved())
                .state()
                .lines
                .iter()
                .cloned()
                .map(|mut l| {
                    if l.line_no == 2 {
                        l.quantity = 60;
                    }
                    l
                })
                .collect(),
            total_minor: 27_000,
            requested_date: date("2026-03-20"),
            promised_date: None,
            delivery_address: "88 Harbour Road, Shanghai".into(),
            reapproval_required: true,
            review_due: Some(ts("2026-03-03T09:00:00Z")),
            review_due_by: Department::ALL
                .iter()
                .map(|d| orderflow_schemas::RoleDue { role: d.role(), due: ts("2026-03-03T09:00:00Z") })
                .collect(),
            request_id: None,
            initiated_by: None,
        },
    );
    let s = || given(&approved()).and_event(old_change.clone());
    assert_eq!(s().state().status(), Status::InReview);
    s().when(change(vec![set_quantity(1, 90)])).then_message(
        "order 7f3a12bc cannot be changed: production, procurement, finance, warehouse have not approved revision 2",
    );
    s().at(ts("2026-03-03T09:00:00Z")).when(mark_overdue(2, None, Role::Finance)).then_ok();
    let mut re = s();
    for d in Department::ALL {
        re = re.and(approve(*d));
    }
    let (e, state) = requested(re, change(vec![set_quantity(1, 90)]));
    assert_eq!((e.request_id, e.revision), (1, 3));
    assert_eq!(state.lines[1].quantity, 60);
}
