//! `ship`, `delay` and `deliver`.

use orderflow_commands::*;
use orderflow_schemas::{
    Department, InspectionResult, LineQuantity, OrderDelivered, OrderShipped, Role, ShipMode, ShipmentDelayed,
};

use crate::harness::*;

fn all_lines_in_full() -> Vec<LineQuantity> {
    vec![LineQuantity { line_no: 1, quantity: 100 }, LineQuantity { line_no: 2, quantity: 50 }]
}

#[test]
fn an_order_served_from_stock_ships_in_full_right_after_approval() {
    let state = given(&confirmed()).when(ship()).then_events(&[OrderShipped {
        carrier: "SF Cold Chain".into(),
        mode: ShipMode::ColdChain,
        tracking_number: "SF123456789".into(),
        eta: date("2026-03-05"),
        lines: all_lines_in_full(),
        revision: Some(1),
        unconfirmed_reason: None,
    }
    .into()]);
    assert_eq!(state.status(), Status::Shipped);
    assert_eq!(state.shipment.as_ref().map(|s| s.shipped_at), Some(t0()));
}

#[test]
fn an_order_never_ships_without_every_approval_of_the_current_revision() {
    given(&received())
        .and(approve(Department::Production))
        .and(approve(Department::Procurement))
        .and(approve(Department::Warehouse))
        .when(ship())
        .then_message("order 7f3a12bc cannot ship: finance has not approved revision 1");
}

#[test]
fn a_pending_change_request_blocks_shipping_until_decided() {
    given(&confirmed()).and(change(vec![set_quantity(2, 60)])).when(ship()).then_message(
        "order 7f3a12bc cannot ship: change request 1 is pending; the departments decide it or sales withdraws it first",
    );
    given(&confirmed())
        .and(change(vec![set_quantity(2, 60)]))
        .and(approve_change(Role::Production))
        .and(approve_change(Role::Procurement))
        .and(approve_change(Role::Finance))
        .and(approve_change(Role::Warehouse))
        .when(ship())
        .then_rejected(|r| matches!(r, Rejection::ChangePending { request_id: 1, .. }));
    let (events, _) = given(&confirmed())
        .and(change(vec![set_quantity(2, 60)]))
        .and_steps(approve_change_by_all())
        .when(ship())
        .then_ok();
    match events.as_slice() {
        [orderflow_schemas::EventBody::OrderShipped(e)] => {
            assert_eq!(e.lines[1], LineQuantity { line_no: 2, quantity: 60 });
        }
        other => panic!("expected one OrderShipped, got {other:?}"),
    }
}

#[test]
fn scheduled_production_must_complete_before_shipping() {
    given(&confirmed())
        .and(schedule("2026-03-10"))
        .and(inspect(InspectionResult::Pass))
        .when(ship())
        .then_message("order 7f3a12bc cannot ship: production was scheduled and is not completed");
    given(&confirmed())
        .and(schedule("2026-03-10"))
        .and(inspect(InspectionResult::Pass))
        .and(complete())
        .when(ship())
        .then_ok();
}

#[test]
fn an_order_ships_once() {
    given(&shipped()).when(ship()).then_message("order 7f3a12bc cannot ship: it is shipped");
    given(&delivered())
        .when(ship())
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Delivered, .. }));
}

#[test]
fn a_cancelled_order_does_not_ship() {
    given(&confirmed())
        .and(cancel())
        .when(ship())
        .then_message("order 7f3a12bc cannot ship: it is cancelled");
}

#[test]
fn the_eta_is_not_before_the_ship_date() {
    let c = ShipOrder { eta: date("2026-03-01"), ..ship_order() };
    given(&confirmed())
        .when(c)
        .then_message("order 7f3a12bc: ETA 2026-03-01 is before the ship date (2026-03-02)");
    let same_day = ShipOrder { eta: date("2026-03-02"), ..ship_order() };
    given(&confirmed()).when(same_day).then_ok();
}

#[test]
fn a_shipment_names_carrier_and_tracking_number() {
    let c = ShipOrder { tracking_number: String::new(), ..ship_order() };
    given(&confirmed()).when(c).then_message("order 7f3a12bc: tracking number is required");
    let c = ShipOrder { carrier: String::new(), ..ship_order() };
    given(&confirmed()).when(c).then_message("order 7f3a12bc: carrier is required");
}

#[test]
fn only_logistics_ships() {
    given(&confirmed())
        .when_as(clerk(Role::Sales), ship())
        .then_message("order 7f3a12bc: role sales may not issue \"ship\" (allowed: logistics)");
}

#[test]
fn a_delay_moves_the_eta() {
    let state = given(&shipped()).when(delay("2026-03-07")).then_events(&[ShipmentDelayed {
        new_eta: date("2026-03-07"),
        reason: "road closed by snow".into(),
    }
    .into()]);
    let shipment = state.shipment.expect("shipped");
    assert_eq!(shipment.eta, date("2026-03-07"));
    assert_eq!(shipment.first_eta, date("2026-03-05"));
    assert_eq!(shipment.delays, 1);
}

#[test]
fn a_delay_is_reported_only_between_shipping_and_delivery() {
    given(&confirmed())
        .when(delay("2026-03-07"))
        .then_message("order 7f3a12bc cannot report a delay: it is confirmed");
    given(&delivered())
        .when(delay("2026-03-07"))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Delivered, .. }));
}

#[test]
fn a_delay_gives_a_new_eta_with_a_reason() {
    given(&shipped())
        .when(delay("2026-03-05"))
        .then_message("order 7f3a12bc: new ETA 2026-03-05 is the current ETA already");
    given(&shipped())
        .when(ReportDelay { new_eta: date("2026-03-09"), reason: String::new() })
        .then_message("order 7f3a12bc: reason is required");
    given(&shipped())
        .when(delay("2026-03-01"))
        .then_rejected(|r| matches!(r, Rejection::InvalidInput { field, .. } if field == "new ETA"));
}

#[test]
fn delay_reports_have_a_limit() {
    given(&shipped())
        .and(delay("2026-03-07"))
        .with_limits(Limits { delays_per_shipment_max: 1, ..Limits::DEFAULT })
        .when(delay("2026-03-09"))
        .then_message("order 7f3a12bc: number of delay reports (2) exceeds the limit of 1");
}

#[test]
fn delivery_is_recorded_once_after_shipping() {
    let later = ts("2026-03-05T14:30:00Z");
    let state = given(&shipped())
        .at(later)
        .when(deliver())
        .then_events(&[OrderDelivered { note: "POD 4711".into() }.into()]);
    assert_eq!(state.status(), Status::Delivered);
    assert_eq!(state.delivered_at, Some(later));
    given(&delivered()).when(deliver()).then_message("order 7f3a12bc cannot be delivered: it is delivered");
    given(&confirmed())
        .when(deliver())
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Confirmed, .. }));
}
