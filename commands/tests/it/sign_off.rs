//! `sign` and `refuse`: the customer's inspection at delivery.

use orderflow_commands::*;
use orderflow_schemas::{LineQuantity, OrderRefused, OrderSigned, Role};

use crate::harness::*;

fn lq(line_no: u16, quantity: u32) -> LineQuantity {
    LineQuantity { line_no, quantity }
}

fn sign_accepting(accepted: Vec<LineQuantity>) -> SignOrder {
    SignOrder { signed_by: "Zhang Min".into(), accepted: Some(accepted), note: "2 cartons dented".into() }
}

#[test]
fn a_sign_off_accepts_everything_by_default() {
    let state = given(&delivered()).when(sign()).then_events(&[OrderSigned {
        signed_by: "Zhang Min".into(),
        accepted: vec![lq(1, 100), lq(2, 50)],
        full: true,
        note: String::new(),
    }
    .into()]);
    assert_eq!(state.status(), Status::Signed);
}

#[test]
fn a_partial_sign_off_names_the_short_lines_only() {
    given(&delivered()).when(sign_accepting(vec![lq(2, 48)])).then_events(&[OrderSigned {
        signed_by: "Zhang Min".into(),
        accepted: vec![lq(1, 100), lq(2, 48)],
        full: false,
        note: "2 cartons dented".into(),
    }
    .into()]);
}

#[test]
fn naming_every_line_in_full_is_a_full_sign_off() {
    let (events, _) = given(&delivered()).when(sign_accepting(vec![lq(1, 100), lq(2, 50)])).then_ok();
    assert!(matches!(&events[0], orderflow_schemas::EventBody::OrderSigned(e) if e.full));
}

#[test]
fn more_than_shipped_cannot_be_accepted() {
    given(&delivered())
        .when(sign_accepting(vec![lq(2, 51)]))
        .then_message("order 7f3a12bc: line 2 accepted quantity (51) is more than shipped (50)");
}

#[test]
fn accepted_lines_must_be_shipped_lines_listed_once() {
    given(&delivered())
        .when(sign_accepting(vec![lq(7, 1)]))
        .then_message("order 7f3a12bc: line 7 was not shipped");
    given(&delivered())
        .when(sign_accepting(vec![lq(1, 10), lq(1, 20)]))
        .then_message("order 7f3a12bc: line 1 is listed twice");
}

#[test]
fn a_sign_off_names_the_signer() {
    given(&delivered())
        .when(SignOrder { signed_by: String::new(), accepted: None, note: String::new() })
        .then_message("order 7f3a12bc: signed by is required");
}

#[test]
fn signing_needs_a_delivery_and_happens_once() {
    given(&shipped()).when(sign()).then_message("order 7f3a12bc cannot be signed: it is shipped");
    given(&signed()).when(sign()).then_message("order 7f3a12bc cannot be signed: it is signed");
}

#[test]
fn a_refusal_is_recorded_on_a_delivered_order() {
    let state = given(&delivered()).when(refuse()).then_events(&[OrderRefused {
        refused_by: "Zhang Min".into(),
        reason: "cold chain broken".into(),
    }
    .into()]);
    assert_eq!(state.status(), Status::Refused);
}

#[test]
fn a_signed_order_cannot_be_refused_nor_a_refused_one_signed() {
    given(&signed()).when(refuse()).then_message("order 7f3a12bc cannot be refused: it is signed");
    given(&delivered())
        .and(refuse())
        .when(sign())
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Refused, .. }));
}

#[test]
fn a_refusal_needs_a_reason() {
    given(&delivered())
        .when(RefuseOrder { refused_by: "Zhang Min".into(), reason: String::new() })
        .then_message("order 7f3a12bc: reason is required");
}

#[test]
fn sales_or_logistics_record_the_sign_off() {
    given(&delivered()).when_as(clerk(Role::Logistics), sign()).then_ok();
    given(&delivered()).when_as(clerk(Role::Logistics), refuse()).then_ok();
    given(&delivered()).when_as(clerk(Role::CustomerService), sign()).then_message(
        "order 7f3a12bc: role customer_service may not issue \"sign\" (allowed: sales, logistics)",
    );
}
