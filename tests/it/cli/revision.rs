//! Changes after approval: a change of lines opens the next revision, which every department must
//! approve again before the order ships; an address-only change keeps the approvals.

use serde_json::json;

use super::{Desk, Stage};

const SHIP: &[&str] = &["--carrier", "Maersk Road", "--tracking", "MR-77"];

fn ship(id: &str) -> Vec<&str> {
    let mut args = vec!["order", "ship", id];
    args.extend_from_slice(SHIP);
    args
}

#[test]
fn a_quantity_change_after_approval_needs_every_department_again() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Approved);
    let j = desk
        .ok(&["order", "change", &id, "--reason", "customer needs more", "--qty", "1:12", "--json"])
        .json();
    assert_eq!(j["events"], json!(["order_changed"]));
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(show["revision"], 2);
    assert_eq!(show["approved_revision"], 1);
    assert_eq!(show["status"], "in_review");
    assert_eq!(show["approvals_missing"], json!(["production", "procurement", "finance", "warehouse"]));
    assert_eq!(show["lines"][0]["quantity"], 12);
    let text = desk.ok(&["order", "show", &id]).stdout;
    assert!(
        text.contains("reviews      revision 2 waiting for production, procurement, finance, warehouse"),
        "{text}"
    );

    desk.refused(
        &id,
        &ship(&id),
        &["cannot ship", "production, procurement, finance, warehouse have not approved revision 2"],
    );
    for dept in ["production", "procurement", "finance"] {
        let j = desk.ok(&["order", "approve", &id, "--dept", dept, "--json"]).json();
        assert_eq!(j["events"], json!(["review_approved"]), "{dept}: revision 1's approval does not count");
    }
    desk.refused(&id, &ship(&id), &["cannot ship: warehouse has not approved revision 2"]);

    let j = desk.ok(&["order", "approve", &id, "--dept", "warehouse", "--json"]).json();
    assert_eq!(j["events"], json!(["review_approved", "order_approved"]));
    desk.ok(&ship(&id));
    let history = desk.history(&id);
    let approved = history.iter().filter(|e| e["type"] == "order_approved").collect::<Vec<_>>();
    assert_eq!(approved.len(), 2);
    assert_eq!(approved[1]["data"]["revision"], 2);
    let shipped = history.last().expect("events");
    assert_eq!(shipped["type"], "order_shipped");
    assert_eq!(
        shipped["data"]["lines"],
        json!([{ "line_no": 1, "quantity": 12 }, { "line_no": 2, "quantity": 4 }])
    );
}

#[test]
fn an_address_change_keeps_the_approvals() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Approved);
    desk.ok(&["order", "change", &id, "--reason", "new dock", "--address", "Dock 4, Harbour Road"]);
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(show["revision"], 1);
    assert_eq!(show["status"], "approved");
    assert_eq!(show["delivery_address"], "Dock 4, Harbour Road");
    desk.ok(&ship(&id));
}

#[test]
fn a_change_that_changes_nothing_is_refused() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    desk.refused(
        &id,
        &["order", "change", &id, "--reason", "read back", "--qty", "1:10"],
        &["the change request changes nothing"],
    );
}

#[test]
fn an_approval_of_an_old_revision_is_refused() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    desk.ok(&["order", "change", &id, "--reason", "more yoghurt", "--qty", "2:6"]);
    desk.refused(
        &id,
        &["order", "approve", &id, "--dept", "production", "--revision", "1"],
        &["the production decision is for revision 1, but the order is now at revision 2; review it again"],
    );
    desk.ok(&["order", "approve", &id, "--dept", "production", "--revision", "2"]);
}

#[test]
fn the_clerk_who_opened_a_revision_may_not_approve_it() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    desk.run_as(
        "alice.wong",
        &["order", "change", &id, "--reason", "more milk", "--qty", "1:20", "--role", "sales"],
    )
    .ok();
    let before = desk.snapshot(Some(&id));
    desk.run_as("alice.wong", &["order", "approve", &id, "--dept", "finance", "--role", "finance"])
        .failed(3, &["alice.wong opened revision 2 with a change and may not approve it for finance"]);
    assert_eq!(desk.snapshot(Some(&id)), before, "the refused approval wrote nothing");
}
