//! Changes. Before the first approval a change applies at once and the review starts over;
//! once the order is approved, a change is a request the departments decide while the approved
//! revision stays in force: all five (production, procurement, finance, warehouse, logistics)
//! approve a change of lines or date, logistics alone an address-only change; the last approval
//! applies it as the next revision, already approved. One decline ends the request and the order
//! goes on unchanged. Nothing ships while a request is pending.

use serde_json::json;

use super::{Desk, Stage};

const SHIP: &[&str] = &["--carrier", "Maersk Road", "--tracking", "MR-77"];

fn ship(id: &str) -> Vec<&str> {
    let mut args = vec!["order", "ship", id];
    args.extend_from_slice(SHIP);
    args
}

#[test]
fn a_quantity_change_after_approval_is_a_request_every_department_decides() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Confirmed);
    let before = desk.ok(&["order", "show", &id, "--json"]).json();
    let j = desk
        .ok(&[
            "order",
            "change",
            &id,
            "--initiated-by",
            "customer",
            "--reason",
            "customer needs more",
            "--qty",
            "1:12",
            "--json",
        ])
        .json();
    assert_eq!(j["events"], json!(["change_requested"]));
    // The approved revision stays in force while the request is decided.
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(show["revision"], 1);
    assert_eq!(show["approved_revision"], 1);
    assert_eq!(show["status"], before["status"]);
    assert_eq!(show["lines"][0]["quantity"], 10);

    desk.refused(&id, &ship(&id), &["cannot ship", "change request 1 is pending"]);
    for dept in ["production", "procurement", "finance", "warehouse"] {
        let j = desk.ok(&["order", "approve-change", &id, "--dept", dept, "--json"]).json();
        assert_eq!(j["events"], json!(["change_approved"]), "{dept}");
    }
    desk.refused(&id, &ship(&id), &["cannot ship", "change request 1 is pending"]);

    // The last approval applies revision 2, approved: no review round after it.
    let j = desk.ok(&["order", "approve-change", &id, "--dept", "logistics", "--json"]).json();
    assert_eq!(j["events"], json!(["change_approved", "order_changed"]));
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(show["revision"], 2);
    assert_eq!(show["approved_revision"], 2);
    assert_eq!(show["approvals_missing"], json!([]));
    assert_eq!(show["lines"][0]["quantity"], 12);
    desk.ok(&ship(&id));
    let history = desk.history(&id);
    let approved = history.iter().filter(|e| e["type"] == "order_approved").collect::<Vec<_>>();
    assert_eq!(approved.len(), 1, "revision 2 needs no approval round of its own");
    let changed = history.iter().find(|e| e["type"] == "order_changed").expect("order_changed");
    assert_eq!(changed["data"]["revision"], 2);
    assert_eq!(changed["data"]["request_id"], 1);
    assert_eq!(changed["data"]["initiated_by"], "customer");
    let shipped = history.last().expect("events");
    assert_eq!(shipped["type"], "order_shipped");
    assert_eq!(shipped["data"]["revision"], 2);
    assert_eq!(
        shipped["data"]["lines"],
        json!([{ "line_no": 1, "quantity": 12 }, { "line_no": 2, "quantity": 4 }])
    );
}

#[test]
fn a_declined_change_leaves_the_order_on_its_approved_revision() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Confirmed);
    let before = desk.ok(&["order", "show", &id, "--json"]).json();
    let change = [
        "order",
        "change",
        &id,
        "--initiated-by",
        "customer",
        "--reason",
        "ten times the milk",
        "--qty",
        "1:100",
    ];
    desk.ok(&change);
    // At most one request is pending.
    desk.refused(&id, &change, &["cannot be changed", "change request 1 is pending"]);
    desk.ok(&["order", "approve-change", &id, "--dept", "finance"]);
    let j = desk
        .ok(&["order", "decline-change", &id, "--dept", "production", "--reason", "no capacity", "--json"])
        .json();
    assert_eq!(j["events"], json!(["change_declined"]));
    // The order goes on, unchanged: same revision, lines, status; it still ships.
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    for key in ["status", "revision", "approved_revision", "lines", "total_minor", "current_promise"] {
        assert_eq!(show[key], before[key], "{key}");
    }
    desk.refused(
        &id,
        &["order", "approve-change", &id, "--dept", "warehouse"],
        &["has no pending change request"],
    );
    // Sales may ask again, and withdraw a request of its own.
    desk.ok(&["order", "change", &id, "--initiated-by", "internal", "--reason", "round up", "--qty", "1:11"]);
    let j = desk.ok(&["order", "withdraw-change", &id, "--reason", "not needed after all", "--json"]).json();
    assert_eq!(j["events"], json!(["change_withdrawn"]));
    desk.ok(&ship(&id));
    let shipped = desk.history(&id).last().cloned().expect("events");
    assert_eq!(shipped["data"]["lines"][0], json!({ "line_no": 1, "quantity": 10 }));
}

#[test]
fn an_address_change_needs_logistics_alone_and_keeps_the_revision() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Confirmed);
    let before = desk.ok(&["order", "show", &id, "--json"]).json();
    let j = desk
        .ok(&[
            "order",
            "change",
            &id,
            "--initiated-by",
            "customer",
            "--reason",
            "new dock",
            "--address",
            "Dock 4, Harbour Road",
            "--json",
        ])
        .json();
    assert_eq!(j["events"], json!(["change_requested"]));
    desk.refused(
        &id,
        &["order", "approve-change", &id, "--dept", "finance"],
        &["finance does not decide change request 1", "logistics"],
    );
    let j = desk.ok(&["order", "approve-change", &id, "--dept", "logistics", "--json"]).json();
    assert_eq!(j["events"], json!(["change_approved", "order_changed"]));
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(show["revision"], 1);
    assert_eq!(show["status"], before["status"]);
    assert_eq!(show["delivery_address"], "Dock 4, Harbour Road");
    desk.ok(&ship(&id));
}

#[test]
fn a_change_that_changes_nothing_is_refused() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    desk.refused(
        &id,
        &["order", "change", &id, "--initiated-by", "customer", "--reason", "read back", "--qty", "1:10"],
        &["the change request changes nothing"],
    );
}

#[test]
fn an_approval_of_an_old_revision_is_refused() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    // Before the first approval the change applies at once and the review starts over.
    desk.ok(&[
        "order",
        "change",
        &id,
        "--initiated-by",
        "customer",
        "--reason",
        "more yoghurt",
        "--qty",
        "2:6",
    ]);
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
        &[
            "order",
            "change",
            &id,
            "--initiated-by",
            "customer",
            "--reason",
            "more milk",
            "--qty",
            "1:20",
            "--role",
            "sales",
        ],
    )
    .ok();
    let before = desk.snapshot(Some(&id));
    desk.run_as("alice.wong", &["order", "approve", &id, "--dept", "finance", "--role", "finance"])
        .failed(3, &["alice.wong opened revision 2 with a change and may not approve it for finance"]);
    assert_eq!(desk.snapshot(Some(&id)), before, "the refused approval wrote nothing");
}

#[test]
fn the_clerk_who_asked_for_a_change_may_not_approve_the_request() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Approved);
    desk.run_as(
        "alice.wong",
        &[
            "order",
            "change",
            &id,
            "--initiated-by",
            "customer",
            "--reason",
            "more milk",
            "--qty",
            "1:20",
            "--role",
            "sales",
        ],
    )
    .ok();
    let before = desk.snapshot(Some(&id));
    desk.run_as("alice.wong", &["order", "approve-change", &id, "--dept", "finance", "--role", "finance"])
        .failed(3, &["alice.wong asked for this change and may not approve it (change request 1)"]);
    assert_eq!(desk.snapshot(Some(&id)), before, "the refused approval wrote nothing");
}
