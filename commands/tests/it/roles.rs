//! Who may issue what, and the command names.

use orderflow_commands::*;
use orderflow_schemas::{Actor, Department, Role};

use crate::harness::*;

use Role::*;

#[test]
fn every_command_has_a_name_and_an_example() {
    let names: Vec<&str> = every_command().iter().map(Command::name).collect();
    assert_eq!(names, Command::NAMES);
    assert_eq!(
        names,
        [
            "receive",
            "approve",
            "reject",
            "confirm",
            "change",
            "cancel",
            "schedule",
            "inspect",
            "complete",
            "ship",
            "delay",
            "deliver",
            "sign",
            "refuse",
            "complain",
            "resolve",
            "reopen",
            "feedback",
            "close",
            "hold",
            "release",
            "access",
            "access_refused",
            "approve_change",
            "decline_change",
            "withdraw_change",
            "update_complaint",
            "visit",
            "mark_overdue",
        ]
    );
}

#[test]
fn the_permission_table() {
    let expected: &[(&str, &[Role])] = &[
        ("receive", &[Sales]),
        ("approve", &[Finance]),
        ("reject", &[Warehouse]),
        ("confirm", &[Sales]),
        ("change", &[Sales]),
        ("cancel", &[Sales]),
        ("schedule", &[Production]),
        ("inspect", &[Quality]),
        ("complete", &[Production]),
        ("ship", &[Logistics]),
        ("delay", &[Logistics]),
        ("deliver", &[Logistics]),
        ("sign", &[Sales, Logistics]),
        ("refuse", &[Sales, Logistics]),
        ("complain", &[CustomerService, Sales]),
        ("resolve", &[CustomerService]),
        ("reopen", &[CustomerService]),
        ("feedback", &[CustomerService, Sales]),
        ("close", &[Sales, CustomerService]),
        ("hold", &[Archivist]),
        ("release", &[Archivist]),
        ("access", Role::ALL),
        ("access_refused", Role::ALL),
        ("approve_change", &[Production]),
        ("decline_change", &[Finance]),
        ("withdraw_change", &[Sales]),
        ("update_complaint", &[CustomerService]),
        ("visit", &[CustomerService, Sales]),
        ("mark_overdue", &[System]),
    ];
    let commands = every_command();
    assert_eq!(commands.len(), expected.len());
    for (c, (name, roles)) in commands.iter().zip(expected) {
        assert_eq!(c.name(), *name);
        assert_eq!(allowed_roles(c), *roles, "{name}");
        for role in Role::ALL {
            assert_eq!(may_issue(*role, c), roles.contains(role), "{name} by {role}");
        }
    }
}

#[test]
fn the_default_role_may_always_issue_the_command() {
    for c in every_command() {
        assert!(may_issue(c.default_role(), &c), "{}", c.name());
    }
    assert_eq!(
        Command::from(SignOrder { signed_by: "x".into(), accepted: None, note: String::new() })
            .default_role(),
        Sales
    );
    assert_eq!(access().default_role(), Auditor);
    assert_eq!(access_refused().default_role(), Auditor);
}

#[test]
fn a_department_decision_belongs_to_its_role() {
    for d in Department::ALL {
        assert_eq!(approve(*d).default_role(), d.role());
        assert_eq!(allowed_roles(&reject(*d)), &[d.role()]);
    }
}

#[test]
fn a_change_request_is_decided_by_each_deciding_department_only() {
    for &role in orderflow_schemas::CHANGE_REVIEWERS {
        assert_eq!(allowed_roles(&approve_change(role)), &[role]);
        assert_eq!(allowed_roles(&decline_change(role, "no")), &[role]);
        assert_eq!(approve_change(role).default_role(), role);
    }
    for role in [Sales, Quality, CustomerService, Archivist, Auditor, System] {
        assert!(allowed_roles(&approve_change(role)).is_empty(), "{role} decides no change request");
        given(&confirmed())
            .and(change(vec![set_quantity(2, 60)]))
            .when_as(clerk(role), approve_change(role))
            .then_rejected(|r| matches!(r, Rejection::NotPermitted { command: "approve_change", .. }));
    }
    // The actor's role must be the department named.
    given(&confirmed())
        .and(change(vec![set_quantity(2, 60)]))
        .when_as(clerk(Finance), approve_change(Production))
        .then_message("order 7f3a12bc: role finance may not issue \"approve_change\" (allowed: production)");
}

#[test]
fn only_the_system_records_an_overdue_review() {
    let s = || given(&received()).at(ts("2026-03-04T09:00:00Z"));
    for role in [Sales, Finance, Logistics, Archivist] {
        s().when_as(clerk(role), mark_overdue(1, None, Finance))
            .then_rejected(|r| matches!(r, Rejection::NotPermitted { command: "mark_overdue", .. }));
    }
    s().when_as(Actor { head: true, ..clerk(Finance) }, mark_overdue(1, None, Finance))
        .then_rejected(|r| matches!(r, Rejection::NotPermitted { .. }));
    s().when(mark_overdue(1, None, Finance)).then_ok();
}

#[test]
fn the_role_is_checked_before_anything_else() {
    // Even on an order that does not exist, a wrong role hears about its role first.
    given(&[]).when_as(clerk(Auditor), ship()).then_rejected(|r| matches!(r, Rejection::NotPermitted { .. }));
}

#[test]
fn after_close_only_after_sales_and_archive_commands_remain() {
    let remain: Vec<&str> =
        every_command().iter().filter(|c| c.allowed_after_close()).map(Command::name).collect();
    assert_eq!(
        remain,
        [
            "complain",
            "resolve",
            "reopen",
            "feedback",
            "hold",
            "release",
            "access",
            "access_refused",
            "update_complaint",
            "visit"
        ]
    );
}
