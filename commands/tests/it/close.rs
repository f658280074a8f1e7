//! `close`: closing and archiving, and what a closed order still allows.

use orderflow_commands::*;
use orderflow_schemas::{Department, OrderClosed, Role};

use crate::harness::*;

#[test]
fn a_signed_order_closes_with_its_retention_date() {
    let state = given(&signed()).when(close()).then_events(&[OrderClosed {
        retention_until: date("2036-03-02"),
        override_reason: None,
    }
    .into()]);
    assert_eq!(state.status(), Status::Closed);
}

#[test]
fn the_retention_period_is_a_setting() {
    given(&signed())
        .with_settings(Settings { retention_years: 7, ..Settings::DEFAULT })
        .when(close())
        .then_events(&[OrderClosed { retention_until: date("2033-03-02"), override_reason: None }.into()]);
}

#[test]
fn a_leap_day_closes_to_the_end_of_february() {
    given(&signed()).at(ts("2028-02-29T12:00:00Z")).when(close()).then_events(&[OrderClosed {
        retention_until: date("2038-02-28"),
        override_reason: None,
    }
    .into()]);
}

#[test]
fn a_negative_retention_period_is_a_setting_mistake() {
    given(&signed())
        .with_settings(Settings { retention_years: -1, ..Settings::DEFAULT })
        .when(close())
        .then_message("setting retention_years must be 0 or more years (got -1)");
}

#[test]
fn an_order_with_an_open_complaint_does_not_close() {
    given(&signed())
        .and(complain())
        .when(close())
        .then_message("order 7f3a12bc cannot be closed: complaint 1 is still open");
    given(&signed()).and(complain()).and(resolve(1)).when(close()).then_ok();
    given(&signed())
        .and(complain())
        .and(resolve(1))
        .and(reopen(1))
        .when(close())
        .then_rejected(|r| matches!(r, Rejection::OpenComplaints { open, .. } if open == &vec![1]));
}

#[test]
fn refused_cancelled_and_rejected_orders_close() {
    given(&delivered()).and(refuse()).when(close()).then_ok();
    given(&received()).and(cancel()).when(close()).then_ok();
    given(&received()).and(reject(Department::Finance)).when(close()).then_ok();
}

#[test]
fn an_unfinished_order_does_not_close() {
    given(&received()).when(close()).then_message("order 7f3a12bc cannot be closed: it is received");
    given(&delivered())
        .when(close())
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Delivered, .. }));
    given(&closed()).when(close()).then_message("order 7f3a12bc cannot be closed: it is closed");
}

#[test]
fn sales_or_customer_service_close() {
    given(&signed()).when_as(clerk(Role::CustomerService), close()).then_ok();
    given(&signed())
        .when_as(clerk(Role::Archivist), close())
        .then_rejected(|r| matches!(r, Rejection::NotPermitted { command: "close", .. }));
}

#[test]
fn a_closed_order_refuses_workflow_commands() {
    let workflow = [
        confirm("2026-03-18"),
        change(vec![set_quantity(2, 60)]).into(),
        cancel(),
        approve(Department::Finance),
        schedule("2026-03-10"),
        ship(),
        delay("2026-03-09"),
        deliver(),
        sign(),
        refuse(),
        approve_change(Role::Production),
        decline_change(Role::Finance, "no"),
        withdraw_change(),
        mark_overdue(1, None, Role::Finance),
    ];
    for c in workflow {
        let name = c.name();
        given(&closed()).when(c).then_rejected(|r| {
            matches!(
                r,
                Rejection::WrongState { status: Status::Closed, .. } | Rejection::AlreadyDecided { .. }
            ) || panic!("{name}: {r}")
        });
    }
}

#[test]
fn a_closed_order_still_takes_after_sales_and_archive_work() {
    given(&closed()).when(complain()).then_ok();
    given(&closed()).and(complain()).when(resolve(1)).then_ok();
    given(&closed()).and(complain()).and(resolve(1)).when(reopen(1)).then_ok();
    given(&closed()).when(feedback(3)).then_ok();
    given(&closed()).when(hold()).then_ok();
    given(&closed()).and(hold()).when(release()).then_ok();
    given(&closed()).when(access()).then_ok();
    let (_, state) = given(&closed()).when(complain()).then_ok();
    assert_eq!(state.status(), Status::Closed, "a complaint does not reopen the order");
}

#[test]
fn a_closed_order_that_was_never_delivered_takes_no_complaint_or_feedback() {
    let cancelled_and_closed = || given(&received()).and(cancel()).and(close());
    cancelled_and_closed()
        .when(complain())
        .then_message("order 7f3a12bc cannot open a complaint: it is closed");
    cancelled_and_closed()
        .when(feedback(2))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Closed, .. }));
    cancelled_and_closed().when(access()).then_ok();
    cancelled_and_closed().when(hold()).then_ok();
}

// ---- until the customer is satisfied (直到客戶滿意為止), or a head's recorded override ----------

#[test]
fn an_order_whose_last_resolution_left_the_customer_unsatisfied_does_not_close() {
    given(&signed()).and(complain()).and(resolve_with(1, false)).when(close()).then_message(
        "order 7f3a12bc cannot be closed: the customer is not satisfied with the resolution of complaint 1; \
         handle it until the customer is satisfied (or a department head closes it with a reason)",
    );
    given(&signed())
        .and(complain())
        .and(resolve(1))
        .and(complain())
        .and(resolve_with(2, false))
        .when_as(clerk(Role::CustomerService), close())
        .then_rejected(
            |r| matches!(r, Rejection::CustomerUnsatisfied { complaints, .. } if complaints == &vec![2]),
        );
}

#[test]
fn the_last_resolution_counts_not_an_earlier_one() {
    // Unsatisfied, reopened, resolved to satisfaction: the order closes.
    given(&signed())
        .and(complain())
        .and(resolve_with(1, false))
        .and(reopen(1))
        .and(resolve(1))
        .when(close())
        .then_ok();
    // Satisfied, reopened, resolved unsatisfied: it does not.
    given(&signed())
        .and(complain())
        .and(resolve(1))
        .and(reopen(1))
        .and(resolve_with(1, false))
        .when(close())
        .then_rejected(|r| matches!(r, Rejection::CustomerUnsatisfied { .. }));
    // Reopened after an unsatisfied resolution: open again, so that is the reason given.
    given(&signed())
        .and(complain())
        .and(resolve_with(1, false))
        .and(reopen(1))
        .when(close())
        .then_rejected(|r| matches!(r, Rejection::OpenComplaints { .. }));
}

#[test]
fn a_department_head_closes_over_an_unsatisfied_customer_with_a_recorded_reason() {
    let state = given(&signed())
        .and(complain())
        .and(resolve_with(1, false))
        .when_as(head(Role::Sales), close_overriding("customer unreachable since May; legal agrees"))
        .then_events(&[OrderClosed {
            retention_until: date("2036-03-02"),
            override_reason: Some("customer unreachable since May; legal agrees".into()),
        }
        .into()]);
    assert_eq!(state.status(), Status::Closed);
    assert_eq!(state.close_override.as_deref(), Some("customer unreachable since May; legal agrees"));
}

#[test]
fn a_department_head_closes_over_an_open_complaint_with_a_reason() {
    let (_, state) = given(&signed())
        .and(complain())
        .when_as(head(Role::CustomerService), close_overriding("duplicate of complaint on order 8b2"))
        .then_ok();
    assert_eq!(state.status(), Status::Closed);
    assert_eq!(state.open_complaints(), vec![1], "the complaint stays open after-sales work");
}

#[test]
fn a_clerk_may_not_override() {
    given(&signed())
        .and(complain())
        .and(resolve_with(1, false))
        .when(close_overriding("tired of it"))
        .then_message(
        "order 7f3a12bc cannot be closed: only a department head may give override reason (acting as sales)",
    );
    given(&signed())
        .and(complain())
        .when_as(clerk(Role::CustomerService), close_overriding("tired of it"))
        .then_rejected(|r| matches!(r, Rejection::OverrideRefused { .. }));
}

#[test]
fn an_override_needs_a_reason_and_is_refused_when_not_needed() {
    given(&signed())
        .and(complain())
        .when_as(head(Role::Sales), close_overriding(" "))
        .then_message("order 7f3a12bc: override reason is required");
    given(&signed()).when_as(head(Role::Sales), close_overriding("just in case")).then_message(
        "order 7f3a12bc: override reason is not needed: no complaint is open or left the customer unsatisfied",
    );
    given(&signed())
        .and(complain())
        .and(resolve(1))
        .when_as(head(Role::Sales), close_overriding("just in case"))
        .then_rejected(|r| matches!(r, Rejection::InvalidInput { field, .. } if field == "override reason"));
}

#[test]
fn an_override_does_not_close_an_unfinished_order() {
    given(&delivered())
        .and(complain())
        .when_as(head(Role::Sales), close_overriding("customer gone"))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Delivered, .. }));
}
