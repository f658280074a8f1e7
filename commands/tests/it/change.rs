//! `change` before any approval: it applies at once and the first review starts over (the change
//! requests of an approved order are in `change_request.rs`); the validation of every change.

use orderflow_commands::*;
use orderflow_schemas::{Department, FieldChange, Initiator, OrderChanged, OrderLine, Role};

use crate::harness::*;

fn fc(field: &str, old: &str, new: &str) -> FieldChange {
    FieldChange { field: field.into(), old: old.into(), new: new.into() }
}

fn changed(s: Scenario, c: ChangeOrder) -> (OrderChanged, OrderState) {
    let (events, state) = s.when(c).then_ok();
    match events.as_slice() {
        [orderflow_schemas::EventBody::OrderChanged(e)] => (e.clone(), state),
        other => panic!("expected one OrderChanged, got {other:?}"),
    }
}

#[test]
fn a_quantity_change_in_the_first_review_opens_the_next_revision_at_once() {
    let s = given(&received()).and(approve(Department::Finance));
    let before = s.state().clone();
    let mut lines: Vec<OrderLine> = before.lines.clone();
    lines[1].quantity = 60;
    let state = s.when(change(vec![set_quantity(2, 60)])).then_events(&[OrderChanged {
        revision: 2,
        reason: "customer called".into(),
        changes: vec![fc("line 2 quantity", "50", "60")],
        lines,
        total_minor: 100 * 120 + 60 * 250,
        requested_date: date("2026-03-20"),
        promised_date: None,
        delivery_address: before.delivery_address.clone(),
        reapproval_required: true,
        review_due: Some(ts("2026-03-03T09:00:00Z")),
        review_due_by: Department::ALL
            .iter()
            .map(|d| orderflow_schemas::RoleDue { role: d.role(), due: ts("2026-03-03T09:00:00Z") })
            .collect(),
        request_id: None,
        initiated_by: Some(Initiator::Customer),
    }
    .into()]);
    assert_eq!(state.revision, 2);
    assert_eq!(state.status(), Status::InReview);
    assert_eq!(state.total_minor, 27_000);
    assert!(state.decisions.is_empty(), "the review starts over");
    assert!(state.change_request.is_none(), "no request: the change applied at once");
    assert_eq!(state.approved_revision, None);
}

#[test]
fn a_change_of_a_received_order_applies_at_once() {
    let (e, state) = changed(given(&received()), change(vec![set_quantity(1, 90)]));
    assert_eq!(e.request_id, None);
    assert!(e.reapproval_required);
    assert_eq!(state.lines[0].quantity, 90);
    assert_eq!(state.status(), Status::InReview);
}

#[test]
fn a_change_in_the_first_review_takes_no_impact_notes() {
    let c =
        ChangeOrder { impact: vec![impact(Role::Production, "fine")], ..change(vec![set_quantity(1, 90)]) };
    given(&received())
        .when(c)
        .then_rejected(|r| matches!(r, Rejection::InvalidInput { field, .. } if field == "impact"));
}

#[test]
fn an_address_only_change_in_review_keeps_the_decisions_made() {
    let c = ChangeOrder { delivery_address: Some("Gate 3".into()), ..change(vec![]) };
    let (e, state) = changed(given(&received()).and(approve(Department::Finance)), c);
    assert!(!e.reapproval_required);
    assert_eq!(e.revision, 1);
    assert_eq!(e.review_due, None);
    assert_eq!(e.changes, vec![fc("delivery address", "88 Harbour Road, Shanghai", "Gate 3")]);
    assert_eq!(state.decisions.get(&Department::Finance), Some(&Decision::Approved));
    assert_eq!(state.delivery_address, "Gate 3");
}

#[test]
fn a_change_while_in_review_also_opens_the_next_revision() {
    let s = given(&received()).and(approve(Department::Finance)).and(approve(Department::Warehouse));
    let (e, state) = changed(s, change(vec![set_quantity(1, 90)]));
    assert!(e.reapproval_required);
    assert_eq!(e.revision, 2);
    assert!(state.decisions.is_empty());
}

#[test]
fn a_change_that_changes_nothing_is_refused() {
    given(&approved())
        .when(change(vec![set_quantity(2, 50)]))
        .then_message("order 7f3a12bc: the change request changes nothing");
    let same_address =
        ChangeOrder { delivery_address: Some("88 Harbour Road, Shanghai".into()), ..change(vec![]) };
    given(&approved()).when(same_address).then_rejected(|r| matches!(r, Rejection::NoChange { .. }));
}

#[test]
fn a_change_needs_a_reason() {
    let c = ChangeOrder { reason: String::new(), ..change(vec![set_quantity(2, 60)]) };
    given(&approved()).when(c).then_message("order 7f3a12bc: reason is required");
}

#[test]
fn a_date_change_in_the_first_review_promises_nothing() {
    let c = ChangeOrder { requested_date: Some(date("2026-03-25")), ..change(vec![]) };
    let (e, state) = changed(given(&received()), c);
    assert_eq!(e.changes, vec![fc("requested date", "2026-03-20", "2026-03-25")]);
    assert!(e.reapproval_required, "the date is substance: the review starts over");
    assert_eq!(e.revision, 2);
    assert_eq!(e.promised_date, None);
    assert_eq!(state.current_promise, None);
    assert_eq!(state.requested_date, Some(date("2026-03-25")));
}

#[test]
fn a_requested_date_in_the_past_is_refused() {
    let c = ChangeOrder { requested_date: Some(date("2026-02-28")), ..change(vec![]) };
    given(&approved())
        .when(c)
        .then_message("order 7f3a12bc: requested date 2026-02-28 is before today (2026-03-02)");
}

#[test]
fn an_added_line_takes_the_next_number_and_numbers_are_never_reused() {
    let s = given(&received()).and(change(vec![LineEdit::Remove { line_no: 2 }]));
    assert_eq!(s.state().lines.len(), 1);
    let (e, state) = changed(s, change(vec![LineEdit::Add(new_line("BUTTER-250", "salted", 20, 300))]));
    assert_eq!(e.changes, vec![fc("line 3", "", "BUTTER-250 (salted), 20 pcs at 3.00 EUR")]);
    assert_eq!(state.lines.iter().map(|l| l.line_no).collect::<Vec<_>>(), vec![1, 3]);
    assert_eq!(state.total_minor, 100 * 120 + 20 * 300);
    assert_eq!(state.revision, 3);
}

#[test]
fn a_removed_line_is_recorded_with_its_old_content() {
    let (e, state) = changed(given(&received()), change(vec![LineEdit::Remove { line_no: 1 }]));
    assert_eq!(e.changes, vec![fc("line 1", "MILK-1L (UHT 3.5%), 100 pcs at 1.20 EUR", "")]);
    assert_eq!(state.total_minor, 50 * 250);
}

#[test]
fn spec_and_price_changes_carry_old_and_new_values() {
    let edit = LineEdit::Update(LineUpdate {
        line_no: 1,
        quantity: None,
        spec: Some("UHT 1.5%".into()),
        unit_price_minor: Some(110),
    });
    let (e, _) = changed(given(&received()), change(vec![edit]));
    assert_eq!(
        e.changes,
        vec![fc("line 1 spec", "UHT 3.5%", "UHT 1.5%"), fc("line 1 unit price", "1.20 EUR", "1.10 EUR")]
    );
    assert!(e.reapproval_required);
}

#[test]
fn edits_apply_in_order_and_the_record_is_the_net_difference() {
    let (e, _) = changed(given(&received()), change(vec![set_quantity(2, 70), set_quantity(2, 60)]));
    assert_eq!(e.changes, vec![fc("line 2 quantity", "50", "60")]);
}

#[test]
fn an_order_keeps_at_least_one_line() {
    given(&approved())
        .when(change(vec![LineEdit::Remove { line_no: 1 }, LineEdit::Remove { line_no: 2 }]))
        .then_message("order 7f3a12bc: lines would all be removed: an order needs at least one line");
}

#[test]
fn an_edit_of_a_line_that_does_not_exist_is_refused() {
    given(&approved())
        .when(change(vec![set_quantity(9, 1)]))
        .then_message("order 7f3a12bc: line 9 does not exist");
    given(&approved())
        .when(change(vec![LineEdit::Remove { line_no: 9 }]))
        .then_rejected(|r| matches!(r, Rejection::InvalidInput { field, .. } if field == "line 9"));
}

#[test]
fn a_changed_quantity_is_checked_like_a_new_one() {
    given(&approved())
        .when(change(vec![set_quantity(2, 0)]))
        .then_message("order 7f3a12bc: line 2 quantity must be more than 0");
}

#[test]
fn a_change_cannot_grow_past_the_line_limit() {
    given(&approved())
        .with_limits(Limits { lines_per_order_max: 2, ..Limits::DEFAULT })
        .when(change(vec![LineEdit::Add(new_line("X", "", 1, 1))]))
        .then_rejected(|r| matches!(r, Rejection::LimitExceeded { count: 3, max: 2, .. }));
}

#[test]
fn a_change_whose_total_overflows_is_refused() {
    let big = LineUpdate {
        line_no: 1,
        quantity: Some(10_000_000),
        spec: None,
        unit_price_minor: Some(1_000_000_000_000),
    };
    given(&approved())
        .when(change(vec![LineEdit::Update(big)]))
        .then_rejected(|r| matches!(r, Rejection::Overflow { .. }));
}

#[test]
fn revisions_have_a_limit() {
    given(&approved())
        .with_limits(Limits { revisions_per_order_max: 1, ..Limits::DEFAULT })
        .when(change(vec![set_quantity(2, 60)]))
        .then_message("order 7f3a12bc: number of revisions (2) exceeds the limit of 1");
}

#[test]
fn a_shipped_order_cannot_change() {
    given(&shipped())
        .when(change(vec![set_quantity(2, 60)]))
        .then_message("order 7f3a12bc cannot be changed: it is shipped");
}

#[test]
fn a_cancelled_or_rejected_order_cannot_change() {
    given(&received())
        .and(cancel())
        .when(change(vec![set_quantity(2, 60)]))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Cancelled, .. }));
    given(&received())
        .and(reject(Department::Procurement))
        .when(change(vec![set_quantity(2, 60)]))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Rejected, .. }));
}

#[test]
fn only_sales_records_changes() {
    given(&approved())
        .when_as(clerk(Role::Production), change(vec![set_quantity(2, 60)]))
        .then_rejected(|r| matches!(r, Rejection::NotPermitted { command: "change", .. }));
}
