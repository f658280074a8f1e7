//! `hold`, `release` and `access`: the archive.

use orderflow_commands::*;
use orderflow_schemas::{
    AccessKind, Actor, ArchiveAccessRefused, ArchiveAccessed, ArchiveHoldPlaced, ArchiveHoldReleased, Event,
    LateEntry, Role,
};

use crate::harness::*;

#[test]
fn an_archivist_places_and_releases_a_hold() {
    let state = given(&closed())
        .when(hold())
        .then_events(&[ArchiveHoldPlaced { reason: "payment dispute".into() }.into()]);
    assert_eq!(state.hold.as_deref(), Some("payment dispute"));
    let state = given(&closed())
        .and(hold())
        .when(release())
        .then_events(&[ArchiveHoldReleased { note: "dispute settled".into() }.into()]);
    assert_eq!(state.hold, None);
}

#[test]
fn a_hold_may_be_placed_on_an_open_order() {
    given(&received()).when(hold()).then_ok();
}

#[test]
fn one_hold_at_a_time_and_release_only_a_hold() {
    given(&closed()).and(hold()).when(hold()).then_message("order 7f3a12bc already has an archive hold");
    given(&closed()).when(release()).then_message("order 7f3a12bc has no archive hold to release");
    given(&closed()).and(hold()).and(release()).when(hold()).then_ok();
}

#[test]
fn a_hold_needs_a_reason() {
    given(&closed())
        .when(PlaceHold { reason: String::new() })
        .then_message("order 7f3a12bc: reason is required");
}

#[test]
fn only_archivists_hold_and_release() {
    given(&closed())
        .when_as(clerk(Role::Auditor), hold())
        .then_message("order 7f3a12bc: role auditor may not issue \"hold\" (allowed: archivist)");
    given(&closed())
        .and(hold())
        .when_as(clerk(Role::Sales), release())
        .then_rejected(|r| matches!(r, Rejection::NotPermitted { command: "release", .. }));
}

#[test]
fn every_archive_read_is_recorded_whoever_reads() {
    let state = given(&closed()).when(access()).then_events(&[ArchiveAccessed {
        access: AccessKind::History,
        detail: "annual audit".into(),
    }
    .into()]);
    assert_eq!(&state, given(&closed()).state(), "an access record changes no business fact");
    for role in Role::ALL {
        given(&received()).when_as(clerk(*role), access()).then_ok();
    }
}

#[test]
fn auditors_issue_no_business_command() {
    let business = [
        receive(),
        approve(orderflow_schemas::Department::Finance),
        confirm("2026-03-18"),
        cancel(),
        ship(),
        deliver(),
        sign(),
        complain(),
        feedback(5),
        close(),
        hold(),
    ];
    for c in business {
        given(&signed())
            .when_as(clerk(Role::Auditor), c)
            .then_rejected(|r| matches!(r, Rejection::NotPermitted { role: Role::Auditor, .. }));
    }
}

#[test]
fn a_refused_read_is_recorded_with_its_reason_whoever_asked() {
    let state = given(&closed()).when(access_refused()).then_events(&[ArchiveAccessRefused {
        access: AccessKind::Export,
        reason: "pat (logistics) has not worked on this order".into(),
    }
    .into()]);
    assert_eq!(&state, given(&closed()).state(), "a refusal record changes no business fact");
    for role in Role::ALL {
        given(&received()).when_as(clerk(*role), access_refused()).then_ok();
    }
}

#[test]
fn a_refusal_needs_its_reason_and_an_order() {
    given(&closed())
        .when(RecordRefusedAccess { access: AccessKind::History, reason: " ".into() })
        .then_message("order 7f3a12bc: reason is required");
    given(&[]).when(access_refused()).then_rejected(|r| matches!(r, Rejection::OrderNotFound { .. }));
}

#[test]
fn reads_do_not_count_as_work_on_the_order() {
    let state = given(&received())
        .and_as(clerk(Role::Logistics), access())
        .and_as(clerk(Role::Quality), access_refused())
        .state()
        .clone();
    assert_eq!(state.acted_roles.iter().copied().collect::<Vec<_>>(), [Role::Sales]);
    let state = given(&shipped()).state().clone();
    assert!(state.acted_roles.contains(&Role::Logistics), "{:?}", state.acted_roles);
    assert!(!state.acted_roles.contains(&Role::CustomerService), "{:?}", state.acted_roles);
}

#[test]
fn late_entries_are_counted_with_the_last_reason() {
    let at = ts("2026-03-01T10:00:00Z");
    let late = |reason: &str, actor: Actor| Event {
        actor,
        at,
        late: Some(LateEntry { reason: reason.into() }),
        body: ArchiveHoldPlaced { reason: "x".into() }.into(),
    };
    let head = Actor { head: true, ..clerk(Role::Archivist) };
    let state = given(&received())
        .and_event(late("paper form found", head.clone()))
        .and_event(late("system down", head.clone()))
        .state()
        .clone();
    assert_eq!(state.late_entries, 2);
    let last = state.last_late.as_ref().expect("a late entry");
    assert_eq!((last.reason.as_str(), last.at, &last.actor), ("system down", at, &head));
    assert_eq!(given(&closed()).state().late_entries, 0);
}
