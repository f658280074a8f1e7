//! `receive`: taking in a new order.

use orderflow_commands::*;
use orderflow_schemas::{OrderLine, OrderReceived, Role, RoleDue};

use crate::harness::*;

fn line(line_no: u16, sku: &str, spec: &str, quantity: u32, unit_price_minor: i64) -> OrderLine {
    OrderLine { line_no, sku: sku.into(), spec: spec.into(), quantity, unit: "pcs".into(), unit_price_minor }
}

#[test]
fn receive_records_numbered_lines_a_computed_total_and_the_review_due() {
    let c = receive_order();
    let state = given(&[]).when(c.clone()).then_events(&[OrderReceived {
        channel: c.channel,
        customer: c.customer.clone(),
        contact: c.contact.clone(),
        lines: vec![line(1, "MILK-1L", "UHT 3.5%", 100, 120), line(2, "YOG-500", "plain", 50, 250)],
        currency: c.currency,
        total_minor: 24_500,
        requested_date: date("2026-03-20"),
        delivery_address: c.delivery_address.clone(),
        special_requirements: c.special_requirements.clone(),
        review_due: ts("2026-03-03T09:00:00Z"),
        review_due_by: [Role::Production, Role::Procurement, Role::Finance, Role::Warehouse]
            .iter()
            .map(|&role| RoleDue { role, due: ts("2026-03-03T09:00:00Z") })
            .collect(),
    }
    .into()]);
    assert_eq!(state.status(), Status::Received);
    assert_eq!(state.revision, 1);
    assert_eq!(state.received_by, "sales-clerk");
    assert_eq!(state.received_at, Some(t0()));
    assert_eq!(state.last_line_no, 2);
}

#[test]
fn receive_on_an_existing_order_is_refused() {
    given(&received())
        .when(receive())
        .then_message("order 7f3a12bc already exists; a new order needs a new id");
}

#[test]
fn an_order_needs_at_least_one_line() {
    let mut c = receive_order();
    c.lines.clear();
    given(&[]).when(c).then_message("order 7f3a12bc: lines are missing: an order needs at least one line");
}

#[test]
fn a_line_quantity_must_be_more_than_zero() {
    let mut c = receive_order();
    c.lines[1].quantity = 0;
    given(&[]).when(c).then_message("order 7f3a12bc: line 2 quantity must be more than 0");
}

#[test]
fn a_line_quantity_has_a_limit() {
    let mut c = receive_order();
    c.lines[0].quantity = Limits::DEFAULT.quantity_max + 1;
    given(&[])
        .when(c)
        .then_rejected(|r| matches!(r, Rejection::LimitExceeded { what, .. } if what == "line 1 quantity"));
}

#[test]
fn a_negative_unit_price_is_refused_and_a_free_line_is_fine() {
    let mut c = receive_order();
    c.lines[0].unit_price_minor = -1;
    given(&[]).when(c.clone()).then_message("order 7f3a12bc: line 1 unit price (-1) must not be negative");
    c.lines[0].unit_price_minor = 0;
    let (_, state) = given(&[]).when(c).then_ok();
    assert_eq!(state.total_minor, 12_500);
}

#[test]
fn a_unit_price_has_a_limit() {
    let mut c = receive_order();
    c.lines[1].unit_price_minor = Limits::DEFAULT.unit_price_minor_max + 1;
    given(&[]).when(c).then_rejected(
        |r| matches!(r, Rejection::LimitExceeded { what, .. } if what == "line 2 unit price in minor units"),
    );
}

#[test]
fn a_total_that_overflows_is_refused_not_wrapped() {
    let mut c = receive_order();
    c.lines = vec![new_line("GOLD", "", 10_000_000, 1_000_000_000_000)];
    given(&[]).when(c).then_message("order 7f3a12bc: the order total is too large to compute");
}

#[test]
fn a_total_that_overflows_across_lines_is_refused() {
    let mut c = receive_order();
    // Each line fits; their sum does not.
    c.lines = vec![
        new_line("A", "", 5_000_000, 1_000_000_000_000),
        new_line("B", "", 5_000_000, 1_000_000_000_000),
    ];
    given(&[]).when(c).then_rejected(|r| matches!(r, Rejection::Overflow { .. }));
}

#[test]
fn the_requested_date_may_not_be_before_the_receipt_date() {
    let mut c = receive_order();
    c.requested_date = date("2026-03-01");
    given(&[])
        .when(c.clone())
        .then_message("order 7f3a12bc: requested date 2026-03-01 is before today (2026-03-02)");
    c.requested_date = date("2026-03-02");
    given(&[]).when(c).then_ok();
}

#[test]
fn the_receipt_date_is_the_effective_date_not_a_clock() {
    let mut c = receive_order();
    c.requested_date = date("2026-03-01");
    // Back-dated receipt: the request is not in the past relative to it.
    given(&[]).at(ts("2026-02-27T16:00:00Z")).when(c).then_ok();
}

#[test]
fn the_number_of_lines_has_a_limit() {
    let mut c = receive_order();
    c.lines = (0..3).map(|i| new_line(&format!("SKU-{i}"), "", 1, 1)).collect();
    given(&[])
        .with_limits(Limits { lines_per_order_max: 2, ..Limits::DEFAULT })
        .when(c)
        .then_message("order 7f3a12bc: number of lines (3) exceeds the limit of 2");
}

#[test]
fn names_are_required_and_limited() {
    let mut c = receive_order();
    c.customer = "   ".into();
    given(&[]).when(c.clone()).then_message("order 7f3a12bc: customer is required");
    c.customer = "x".repeat(201);
    given(&[])
        .when(c)
        .then_message("order 7f3a12bc: customer length in bytes (201) exceeds the limit of 200");
}

#[test]
fn texts_are_limited_in_bytes_not_characters() {
    let mut c = receive_order();
    // 700 characters of three bytes each: 2100 bytes.
    c.special_requirements = "冷".repeat(700);
    given(&[]).when(c).then_rejected(
        |r| matches!(r, Rejection::LimitExceeded { what, count: 2100, max: 2000, .. } if what == "special requirements length in bytes"),
    );
}

#[test]
fn line_fields_are_checked_with_the_line_number() {
    let mut c = receive_order();
    c.lines[1].sku = String::new();
    given(&[]).when(c.clone()).then_message("order 7f3a12bc: line 2 SKU is required");
    c.lines[1].sku = "YOG".into();
    c.lines[1].unit = String::new();
    given(&[]).when(c).then_message("order 7f3a12bc: line 2 unit is required");
}

#[test]
fn the_delivery_address_is_required() {
    let mut c = receive_order();
    c.delivery_address = String::new();
    given(&[]).when(c).then_message("order 7f3a12bc: delivery address is required");
}

#[test]
fn the_review_is_due_after_the_configured_hours() {
    let (_, state) = given(&[])
        .with_settings(Settings { review_hours: ReviewHours::all(48), ..Settings::DEFAULT })
        .when(receive())
        .then_ok();
    assert_eq!(state.review_due, Some(ts("2026-03-04T09:00:00Z")));
}

#[test]
fn each_department_has_its_own_review_limit_and_the_order_is_due_by_the_latest() {
    let hours = ReviewHours { production: 8, procurement: 24, finance: 72, warehouse: 4, logistics: 1 };
    let (events, state) = given(&[])
        .with_settings(Settings { review_hours: hours, ..Settings::DEFAULT })
        .when(receive())
        .then_ok();
    let [orderflow_schemas::EventBody::OrderReceived(e)] = events.as_slice() else {
        panic!("expected one OrderReceived, got {events:?}")
    };
    let due = |role, at: &str| RoleDue { role, due: ts(at) };
    let expected = vec![
        due(Role::Production, "2026-03-02T17:00:00Z"),
        due(Role::Procurement, "2026-03-03T09:00:00Z"),
        due(Role::Finance, "2026-03-05T09:00:00Z"),
        due(Role::Warehouse, "2026-03-02T13:00:00Z"),
    ];
    assert_eq!(e.review_due_by, expected, "logistics does not review a new order");
    assert_eq!(e.review_due, ts("2026-03-05T09:00:00Z"));
    assert_eq!(state.review_due_by, expected);
}

#[test]
fn a_review_period_of_zero_hours_is_a_setting_mistake() {
    given(&[])
        .with_settings(Settings { review_hours: ReviewHours::all(0), ..Settings::DEFAULT })
        .when(receive())
        .then_message("setting review_hours.production must be more than 0 hours (got 0)");
    let hours = ReviewHours { finance: -2, ..ReviewHours::all(24) };
    given(&[])
        .with_settings(Settings { review_hours: hours, ..Settings::DEFAULT })
        .when(receive())
        .then_message("setting review_hours.finance must be more than 0 hours (got -2)");
}

#[test]
fn only_sales_receives_orders() {
    given(&[])
        .when_as(clerk(Role::CustomerService), receive())
        .then_message("order 7f3a12bc: role customer_service may not issue \"receive\" (allowed: sales)");
}

#[test]
fn commands_on_an_order_never_received_are_refused() {
    given(&[])
        .when(ship())
        .then_message("order 7f3a12bc does not exist: no order was received under this id");
    given(&[]).when(access()).then_rejected(|r| matches!(r, Rejection::OrderNotFound { .. }));
}
