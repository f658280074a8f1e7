//! `approve` and `reject`: the department reviews, bound to a revision.

use orderflow_commands::*;
use orderflow_schemas::{
    Actor, Department, Event, OrderApproved, OrderRejected, ReviewApproved, ReviewRejected, Role,
};

use crate::harness::*;

fn approved_by(department: Department, revision: u32) -> ReviewApproved {
    ReviewApproved { department, revision, note: "ok".into() }
}

#[test]
fn one_approval_records_the_department_decision_only() {
    let state = given(&received()).when(approve(Department::Finance)).then_events(&[approved_by(
        Department::Finance,
        1,
    )
    .into()]);
    assert_eq!(state.status(), Status::InReview);
    assert_eq!(state.decisions.get(&Department::Finance), Some(&Decision::Approved));
    assert_eq!(
        state.approvals_missing(),
        vec![Department::Production, Department::Procurement, Department::Warehouse]
    );
}

#[test]
fn the_fourth_approval_approves_the_order() {
    let state = given(&received())
        .and(approve(Department::Warehouse))
        .and(approve(Department::Finance))
        .and(approve(Department::Production))
        .when(approve(Department::Procurement))
        .then_events(&[approved_by(Department::Procurement, 1).into(), OrderApproved { revision: 1 }.into()]);
    assert_eq!(state.status(), Status::Approved);
    assert!(state.is_approved());
}

#[test]
fn only_the_department_role_decides_for_it() {
    given(&received())
        .when_as(clerk(Role::Sales), approve(Department::Finance))
        .then_message("order 7f3a12bc: role sales may not issue \"approve\" (allowed: finance)");
    given(&received()).when_as(clerk(Role::Production), reject(Department::Finance)).then_rejected(|r| {
        matches!(r, Rejection::NotPermitted { role: Role::Production, command: "reject", .. })
    });
}

#[test]
fn a_department_decides_once_per_revision() {
    given(&received())
        .and(approve(Department::Finance))
        .when(approve(Department::Finance))
        .then_message("order 7f3a12bc: finance has already approved revision 1");
    given(&received())
        .and(approve(Department::Finance))
        .when(reject(Department::Finance))
        .then_rejected(|r| matches!(r, Rejection::AlreadyDecided { decision: Decision::Approved, .. }));
}

#[test]
fn the_clerk_who_received_the_order_may_not_approve_it() {
    given(&received())
        .when_as(person("sales-clerk", Role::Finance), approve(Department::Finance))
        .then_message("order 7f3a12bc: sales-clerk received this order and may not approve it for finance");
}

/// Separation of duties is by person (user id), not by spelling: the same user under another
/// spelling of the login is the same person; another user with a similar login is not.
#[test]
fn self_approval_is_by_user_id_not_spelling() {
    let li = uuid::Uuid::from_u128(7);
    given(&[])
        .and_as(Actor::new(li, "li.clerk", Role::Sales), receive())
        .when_as(Actor::new(li, "li clerk", Role::Finance), approve(Department::Finance))
        .then_rejected(|r| matches!(r, Rejection::SelfApproval { received: true, .. }));
    given(&[])
        .and_as(Actor::new(li, "li.clerk", Role::Sales), receive())
        .when_as(
            Actor::new(uuid::Uuid::from_u128(8), "li.clerk2", Role::Finance),
            approve(Department::Finance),
        )
        .then_ok();
}

#[test]
fn one_person_decides_for_one_department_per_revision() {
    let wang = Actor::new(uuid::Uuid::from_u128(9), "wang.fang", Role::Production);
    let wang_procurement = Actor { role: Role::Procurement, ..wang.clone() };
    given(&received())
        .and_as(wang.clone(), approve(Department::Production))
        .when_as(wang_procurement.clone(), approve(Department::Procurement))
        .then_message(
            "order 7f3a12bc: wang.fang already decided revision 1 for production; one person decides \
             for one department (ask a colleague of procurement)",
        );
    given(&received())
        .and_as(wang.clone(), approve(Department::Production))
        .when_as(wang_procurement, reject(Department::Procurement))
        .then_rejected(|r| {
            matches!(
                r,
                Rejection::SecondDepartment {
                    decided: Department::Production,
                    department: Department::Procurement,
                    ..
                }
            )
        });
}

#[test]
fn self_approval_ignores_case_and_blanks() {
    given(&received())
        .when_as(person(" Sales-Clerk ", Role::Warehouse), approve(Department::Warehouse))
        .then_rejected(|r| matches!(r, Rejection::SelfApproval { received: true, .. }));
}

#[test]
fn the_receiver_may_still_reject() {
    given(&received()).when_as(person("sales-clerk", Role::Finance), reject(Department::Finance)).then_ok();
}

#[test]
fn the_clerk_who_opened_a_revision_may_not_approve_it() {
    let ann = person("ann", Role::Sales);
    given(&received())
        .and_as(ann, change(vec![set_quantity(2, 60)]).into())
        .when_as(person("ann", Role::Finance), approve(Department::Finance))
        .then_message(
            "order 7f3a12bc: ann opened revision 2 with a change and may not approve it for finance",
        );
}

#[test]
fn a_decision_naming_an_old_revision_is_refused() {
    given(&received())
        .and(change(vec![set_quantity(1, 90)]))
        .when(ApproveReview { department: Department::Finance, revision: Some(1), note: String::new() })
        .then_message(
            "order 7f3a12bc: the finance decision is for revision 1, but the order is now at revision 2; review it again",
        );
}

#[test]
fn a_decision_naming_the_current_revision_is_accepted() {
    given(&received())
        .when(ApproveReview { department: Department::Finance, revision: Some(1), note: String::new() })
        .then_ok();
}

#[test]
fn a_rejection_rejects_the_order() {
    let state = given(&received())
        .and(approve(Department::Production))
        .when(reject(Department::Finance))
        .then_events(&[
            ReviewRejected {
                department: Department::Finance,
                revision: 1,
                reason: "credit limit exceeded".into(),
            }
            .into(),
            OrderRejected {
                revision: 1,
                department: Department::Finance,
                reason: "credit limit exceeded".into(),
            }
            .into(),
        ]);
    assert_eq!(state.status(), Status::Rejected);
}

#[test]
fn a_rejection_needs_a_reason() {
    given(&received())
        .when(RejectReview { department: Department::Finance, revision: None, reason: " ".into() })
        .then_message("order 7f3a12bc: reason is required");
}

#[test]
fn no_decision_on_a_rejected_order() {
    given(&received())
        .and(reject(Department::Finance))
        .when(approve(Department::Warehouse))
        .then_message("order 7f3a12bc cannot be approved: it is rejected");
}

#[test]
fn no_decision_on_a_cancelled_order() {
    given(&received())
        .and(cancel())
        .when(approve(Department::Warehouse))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Cancelled, .. }));
}

#[test]
fn an_overdue_review_is_not_auto_approved_and_still_accepts_decisions() {
    let late = given(&received()).at(ts("2026-03-05T09:00:00Z"));
    assert!(late.state().review_due < Some(ts("2026-03-05T09:00:00Z")));
    assert_eq!(late.state().status(), Status::Received);
    late.when(approve(Department::Finance)).then_events(&[approved_by(Department::Finance, 1).into()]);
}

#[test]
fn approvals_of_an_old_revision_do_not_count_after_a_change_in_review() {
    let s = given(&received())
        .and(approve(Department::Finance))
        .and(approve(Department::Production))
        .and(change(vec![set_quantity(2, 60)]));
    assert_eq!(s.state().revision, 2);
    assert_eq!(s.state().status(), Status::InReview);
    assert!(!s.state().is_approved());
    assert_eq!(s.state().approvals_missing(), Department::ALL.to_vec());
    s.when(approve(Department::Finance)).then_events(&[approved_by(Department::Finance, 2).into()]);
}

#[test]
fn the_new_revision_is_approved_by_four_fresh_approvals() {
    let mut s = given(&received())
        .and(approve(Department::Finance))
        .and(approve(Department::Warehouse))
        .and(change(vec![set_quantity(2, 60)]));
    for d in &Department::ALL[..3] {
        s = s.and(approve(*d));
    }
    s.when(approve(Department::Warehouse))
        .then_events(&[approved_by(Department::Warehouse, 2).into(), OrderApproved { revision: 2 }.into()]);
}

#[test]
fn a_recorded_decision_of_an_old_revision_does_not_count() {
    // An approval event of revision 1 recorded after revision 2 opened (e.g. by a stale writer).
    let stale = Event::new(clerk(Role::Finance), t0(), approved_by(Department::Finance, 1));
    let s = given(&received()).and(change(vec![set_quantity(1, 90)])).and_event(stale);
    assert!(s.state().decisions.is_empty());
    s.when(approve(Department::Finance)).then_ok();
}

#[test]
fn a_command_back_dated_before_the_receipt_is_refused() {
    let early = ts("2000-01-01T00:00:00Z");
    let rejection = given(&received())
        .at(early)
        .when(approve(Department::Finance))
        .then_rejected(|r| matches!(r, Rejection::BeforeReceipt { .. }));
    let text = rejection.to_string();
    assert!(text.contains("was received only at"), "{text}");
}
