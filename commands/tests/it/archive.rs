//! `hold`, `release` and `access`: the archive.

use orderflow_commands::*;
use orderflow_schemas::{AccessKind, ArchiveAccessed, ArchiveHoldPlaced, ArchiveHoldReleased, Role};

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
