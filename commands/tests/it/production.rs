//! `schedule`, `inspect` and `complete`: production and quality inspection.

use orderflow_commands::*;
use orderflow_schemas::{
    Department, InspectionResult, ProductionCompleted, ProductionScheduled, QualityInspected, Role,
};

use crate::harness::*;

use InspectionResult::{Pass, Rework, Scrap};

fn in_production() -> Scenario {
    given(&confirmed()).and(schedule("2026-03-10"))
}

#[test]
fn production_is_scheduled_after_approval() {
    let state = given(&confirmed()).when(schedule("2026-03-10")).then_events(&[ProductionScheduled {
        planned_finish: date("2026-03-10"),
        note: "line 3, day shift".into(),
    }
    .into()]);
    assert_eq!(state.status(), Status::Scheduled);
}

#[test]
fn production_is_not_scheduled_before_every_approval() {
    given(&received())
        .and(approve(Department::Production))
        .and(approve(Department::Finance))
        .when(schedule("2026-03-10"))
        .then_message(
            "order 7f3a12bc cannot schedule production: procurement, warehouse have not approved revision 1",
        );
}

#[test]
fn production_may_be_replanned_until_completed() {
    let (_, state) = in_production().when(schedule("2026-03-12")).then_ok();
    assert_eq!(state.production.map(|p| p.planned_finish), Some(date("2026-03-12")));
}

#[test]
fn the_planned_finish_is_not_in_the_past() {
    given(&confirmed())
        .when(schedule("2026-02-01"))
        .then_message("order 7f3a12bc: planned finish 2026-02-01 is before today (2026-03-02)");
}

#[test]
fn an_inspection_needs_scheduled_production() {
    given(&confirmed())
        .when(inspect(Pass))
        .then_message("order 7f3a12bc cannot record an inspection: production is not scheduled");
}

#[test]
fn a_passed_inspection_lets_production_complete() {
    let state = in_production().when(inspect(Pass)).then_events(&[QualityInspected {
        result: Pass,
        note: "fat content out of range".into(),
    }
    .into()]);
    assert_eq!(state.production.as_ref().and_then(|p| p.last_inspection), Some(Pass));
    let state = in_production()
        .and(inspect(Pass))
        .when(complete())
        .then_events(&[ProductionCompleted { note: String::new() }.into()]);
    assert_eq!(state.status(), Status::ReadyToShip);
}

#[test]
fn production_does_not_complete_uninspected() {
    in_production().when(complete()).then_message(
        "order 7f3a12bc cannot complete production: the batch has not been inspected; the batch must pass inspection first",
    );
}

#[test]
fn a_reworked_batch_is_inspected_again_before_completion() {
    in_production().and(inspect(Rework)).when(complete()).then_message(
        "order 7f3a12bc cannot complete production: the latest inspection result is rework; the batch must pass inspection first",
    );
    let (_, state) = in_production().and(inspect(Rework)).and(inspect(Pass)).when(complete()).then_ok();
    assert_eq!(state.production.map(|p| p.inspections), Some(2));
}

#[test]
fn a_scrapped_batch_is_made_again_and_inspected_again() {
    in_production()
        .and(inspect(Scrap))
        .when(complete())
        .then_rejected(|r| matches!(r, Rejection::InspectionNotPassed { latest: Some(Scrap), .. }));
    in_production().and(inspect(Scrap)).and(inspect(Pass)).when(complete()).then_ok();
}

#[test]
fn a_pass_followed_by_a_failure_blocks_completion() {
    in_production()
        .and(inspect(Pass))
        .and(inspect(Rework))
        .when(complete())
        .then_rejected(|r| matches!(r, Rejection::InspectionNotPassed { latest: Some(Rework), .. }));
}

#[test]
fn a_failed_inspection_records_its_cause() {
    in_production()
        .when(InspectQuality { result: Scrap, note: " ".into() })
        .then_message("order 7f3a12bc: note is required for scrap: record the cause");
    in_production().when(InspectQuality { result: Pass, note: String::new() }).then_ok();
}

#[test]
fn completed_production_is_not_inspected_completed_or_replanned_again() {
    let done = || in_production().and(inspect(Pass)).and(complete());
    done()
        .when(complete())
        .then_message("order 7f3a12bc cannot complete production: production is already completed");
    done().when(inspect(Pass)).then_rejected(|r| matches!(r, Rejection::ProductionAlreadyCompleted { .. }));
    done()
        .when(schedule("2026-03-12"))
        .then_rejected(|r| matches!(r, Rejection::ProductionAlreadyCompleted { .. }));
}

#[test]
fn inspection_is_for_quality_and_production_for_production() {
    in_production()
        .when_as(clerk(Role::Production), inspect(Pass))
        .then_message("order 7f3a12bc: role production may not issue \"inspect\" (allowed: quality)");
    in_production()
        .and(inspect(Pass))
        .when_as(clerk(Role::Quality), complete())
        .then_rejected(|r| matches!(r, Rejection::NotPermitted { command: "complete", .. }));
}

#[test]
fn no_production_on_a_cancelled_order() {
    in_production()
        .and(cancel())
        .when(inspect(Pass))
        .then_rejected(|r| matches!(r, Rejection::WrongState { status: Status::Cancelled, .. }));
}
