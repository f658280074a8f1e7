//! Every rule a clerk can run into from the command line, one test per rule: exit 3, the rule in
//! clerk's words on stderr naming the order, and nothing written. (Changes and re-approval are in
//! `revision`; back-dating in `backdating`.)

use super::{due, future, order_args, Desk, Stage};

const UNKNOWN_ORDER: &str = "5f0c3a9e-2b7d-4c61-8e4f-a1b2c3d4e5f6";

/// `order receive` with the given lines and extra options (due on [`due()`] unless given).
fn receive_args<'a>(lines: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["order", "receive", "--customer", "Harbor Distribution"];
    for line in lines {
        args.extend(["--line", line]);
    }
    if !extra.contains(&"--due") {
        args.extend(["--due", due()]);
    }
    args.extend_from_slice(extra);
    args
}

const SHIP: &[&str] = &["--carrier", "SF Express", "--tracking", "SF-1"];

/// The confirmation's facts after `--promised`: leaving on the 20th, by carrier, by phone.
fn confirm_facts() -> [&'static str; 6] {
    ["--ship-date", future("2099-01-20"), "--delivery", "carrier", "--via", "phone"]
}

// Roles.

#[test]
fn approval_by_another_departments_role_is_refused() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    desk.refused(
        &id,
        &["order", "approve", &id, "--dept", "production", "--role", "sales"],
        &["role sales may not issue \"approve\"", "allowed: production"],
    );
    desk.refused(
        &id,
        &["order", "approve", &id, "--dept", "finance", "--role", "production"],
        &["role production may not issue \"approve\"", "allowed: finance"],
    );
}

#[test]
fn an_auditor_issues_no_business_command() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    desk.refused(
        &id,
        &[&["order", "confirm", &id, "--promised", due()][..], &confirm_facts(), &["--role", "auditor"]]
            .concat(),
        &["role auditor may not issue \"confirm\"", "allowed: sales"],
    );
    desk.refused(
        &id,
        &["order", "cancel", &id, "--initiated-by", "internal", "--reason", "audit", "--role", "auditor"],
        &["role auditor may not issue \"cancel\""],
    );
}

#[test]
fn the_clerk_who_received_an_order_may_not_approve_it() {
    let desk = Desk::new();
    let id = desk.receive_as("alice.wong");
    let before = desk.snapshot(Some(&id));
    desk.run_as("alice.wong", &["order", "approve", &id, "--dept", "production", "--role", "production"])
        .failed(3, &["alice.wong received this order and may not approve it for production"]);
    assert_eq!(desk.snapshot(Some(&id)), before, "the refused approval wrote nothing");
    // Someone else in the same role may.
    desk.ok(&["order", "approve", &id, "--dept", "production"]);
}

#[test]
fn one_person_decides_for_one_department_per_revision() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    desk.run_as("alice.wong", &["order", "approve", &id, "--dept", "production", "--role", "production"])
        .ok();
    let before = desk.snapshot(Some(&id));
    desk.run_as("alice.wong", &["order", "approve", &id, "--dept", "finance", "--role", "finance"]).failed(
        3,
        &["alice.wong already decided revision 1 for production", "one person decides for one department"],
    );
    assert_eq!(desk.snapshot(Some(&id)), before, "the refused approval wrote nothing");
}

#[test]
fn a_role_the_user_does_not_hold_is_refused() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    let before = desk.snapshot(Some(&id));
    desk.run_as("alice.wong", &["order", "approve", &id, "--dept", "warehouse", "--role", "warehouse"])
        .failed(3, &["alice.wong does not hold warehouse", "sales, production, finance"]);
    // Several of her roles could act: she must say which.
    desk.run_as("alice.wong", &["audit", "history", &id]).failed(3, &["say which with --role"]);
    assert_eq!(desk.snapshot(Some(&id)), before, "nothing written");
}

// Reviews.

#[test]
fn a_department_decides_a_revision_once() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    desk.ok(&["order", "approve", &id, "--dept", "procurement"]);
    let before = desk.snapshot(Some(&id));
    desk.run_as("procurement.desk2", &["order", "approve", &id, "--dept", "procurement"])
        .failed(3, &["procurement has already approved revision 1"]);
    assert_eq!(desk.snapshot(Some(&id)), before);
    desk.refused(
        &id,
        &["order", "reject", &id, "--dept", "procurement", "--reason", "second thoughts"],
        &["procurement has already approved revision 1"],
    );
}

#[test]
fn a_rejected_order_takes_no_more_decisions() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    let j =
        desk.ok(&["order", "reject", &id, "--dept", "finance", "--reason", "credit limit", "--json"]).json();
    assert_eq!(j["events"], serde_json::json!(["review_rejected", "order_rejected"]));
    desk.refused(
        &id,
        &["order", "approve", &id, "--dept", "production"],
        &["cannot be approved: it is rejected"],
    );
    desk.refused(&id, &order_args("ship", &id, SHIP), &["cannot ship: it is rejected"]);
}

#[test]
fn shipping_needs_every_departments_approval() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    desk.refused(
        &id,
        &order_args("ship", &id, SHIP),
        &["cannot ship", "production, procurement, finance, warehouse have not approved revision 1"],
    );
    desk.ok(&["order", "approve", &id, "--dept", "finance"]);
    desk.refused(
        &id,
        &["order", "schedule", &id, "--finish", due()],
        &["cannot schedule production", "production, procurement, warehouse have not approved revision 1"],
    );
}

#[test]
fn confirmation_needs_the_approved_order_and_comes_before_scheduling_and_shipping() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    let confirm = [&["order", "confirm", &id, "--promised", due()][..], &confirm_facts()].concat();
    desk.refused(&id, &confirm, &["cannot be confirmed", "have not approved revision 1"]);
    desk.approve_all(&id);
    desk.refused(
        &id,
        &["order", "schedule", &id, "--finish", due()],
        &["cannot schedule production: it is not confirmed with the customer (confirm it first)"],
    );
    desk.refused(
        &id,
        &order_args("ship", &id, SHIP),
        &["cannot ship: it is not confirmed with the customer"],
    );
    // The expected ship date is not after the promise.
    desk.refused(
        &id,
        &[
            "order",
            "confirm",
            &id,
            "--promised",
            future("2099-01-20"),
            "--ship-date",
            future("2099-01-25"),
            "--delivery",
            "own_fleet",
            "--via",
            "email",
        ],
        &["expected ship date", "is after the promised date"],
    );
    desk.ok(&confirm);
    desk.ok(&["order", "schedule", &id, "--finish", future("2099-01-15")]);
}

// Production.

#[test]
fn production_cannot_complete_before_the_batch_passed_inspection() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Confirmed);
    desk.ok(&["order", "schedule", &id, "--finish", due()]);
    desk.refused(
        &id,
        &["order", "complete", &id],
        &["cannot complete production", "the batch has not been inspected", "must pass inspection first"],
    );
    desk.ok(&["order", "inspect", &id, "--result", "rework", "--note", "seal leaks"]);
    desk.refused(
        &id,
        &["order", "complete", &id],
        &["cannot complete production", "the latest inspection result is rework"],
    );
}

#[test]
fn a_failed_inspection_needs_its_cause() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Confirmed);
    desk.ok(&["order", "schedule", &id, "--finish", due()]);
    desk.refused(
        &id,
        &["order", "inspect", &id, "--result", "scrap"],
        &["note is required for scrap: record the cause"],
    );
}

#[test]
fn production_work_needs_production_scheduled() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Confirmed);
    desk.refused(
        &id,
        &["order", "inspect", &id, "--result", "pass"],
        &["cannot record an inspection: production is not scheduled"],
    );
    desk.refused(
        &id,
        &["order", "complete", &id],
        &["cannot complete production: production is not scheduled"],
    );
}

#[test]
fn completed_production_is_not_scheduled_again() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Confirmed);
    desk.ok(&["order", "schedule", &id, "--finish", due()]);
    desk.ok(&["order", "inspect", &id, "--result", "pass"]);
    desk.ok(&["order", "complete", &id]);
    desk.refused(
        &id,
        &["order", "schedule", &id, "--finish", due()],
        &["cannot schedule production: production is already completed"],
    );
}

#[test]
fn scheduled_production_must_complete_before_shipping() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Confirmed);
    desk.ok(&["order", "schedule", &id, "--finish", due()]);
    desk.refused(
        &id,
        &order_args("ship", &id, SHIP),
        &["cannot ship: production was scheduled and is not completed"],
    );
}

// Shipping and delivery.

#[test]
fn the_eta_is_not_before_the_ship_date() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Confirmed);
    let mut args = order_args("ship", &id, SHIP);
    args.extend(["--eta", "2020-01-01"]);
    desk.refused(&id, &args, &["ETA 2020-01-01 is before the ship date"]);
}

#[test]
fn a_shipped_order_is_not_changed() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Shipped);
    desk.refused(
        &id,
        &["order", "change", &id, "--initiated-by", "customer", "--reason", "more milk", "--qty", "1:12"],
        &["cannot be changed: it is shipped"],
    );
}

#[test]
fn a_shipped_order_is_not_cancelled() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Shipped);
    desk.refused(
        &id,
        &["order", "cancel", &id, "--initiated-by", "customer", "--reason", "customer changed their mind"],
        &["cannot be cancelled: it is shipped"],
    );
}

#[test]
fn a_delay_names_a_new_eta() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Confirmed);
    let mut ship = order_args("ship", &id, SHIP);
    ship.extend(["--eta", future("2099-03-01")]);
    desk.ok(&ship);
    desk.refused(
        &id,
        &["order", "delay", &id, "--eta", future("2099-03-01"), "--reason", "strike"],
        &[&format!("new ETA {} is the current ETA already", future("2099-03-01"))],
    );
}

#[test]
fn an_order_is_not_signed_before_delivery() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Shipped);
    desk.refused(&id, &["order", "sign", &id, "--by", "Mrs Chen"], &["cannot be signed: it is shipped"]);
}

#[test]
fn a_sign_off_accepts_no_more_than_shipped() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Delivered);
    desk.refused(
        &id,
        &["order", "sign", &id, "--by", "Mrs Chen", "--accept", "1:11"],
        &["line 1 accepted quantity (11) is more than shipped (10)"],
    );
    // Fewer is a partial sign-off.
    let j = desk.ok(&["order", "sign", &id, "--by", "Mrs Chen", "--accept", "1:9", "--json"]).json();
    assert_eq!(j["events"], serde_json::json!(["order_signed"]));
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(show["signed"]["full"], false);
}

#[test]
fn a_signed_order_is_not_refused() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Signed);
    desk.refused(
        &id,
        &["order", "refuse", &id, "--by", "Mrs Chen", "--reason", "too warm"],
        &["cannot be refused: it is signed"],
    );
}

// After sales.

#[test]
fn no_complaint_before_delivery() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Shipped);
    desk.refused(
        &id,
        &["order", "complain", &id, "--category", "delivery", "--text", "where is it"],
        &["cannot open a complaint: it is shipped"],
    );
}

#[test]
fn an_unknown_complaint_is_not_resolved() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Delivered);
    desk.refused(
        &id,
        &[
            "order",
            "resolve",
            &id,
            "--complaint",
            "7",
            "--resolution",
            "refund",
            "--remedy",
            "refund",
            "--satisfied",
        ],
        &["has no complaint 7"],
    );
}

#[test]
fn a_resolved_complaint_is_not_resolved_again() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Delivered);
    desk.ok(&["order", "complain", &id, "--category", "quantity", "--text", "one case short"]);
    desk.ok(&[
        "order",
        "resolve",
        &id,
        "--complaint",
        "1",
        "--resolution",
        "sent one case",
        "--remedy",
        "replacement",
        "--satisfied",
    ]);
    desk.refused(
        &id,
        &[
            "order",
            "resolve",
            &id,
            "--complaint",
            "1",
            "--resolution",
            "sent another",
            "--remedy",
            "replacement",
            "--satisfied",
        ],
        &["complaint 1 of order", "is already resolved"],
    );
}

#[test]
fn only_a_resolved_complaint_is_reopened() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Delivered);
    desk.ok(&["order", "complain", &id, "--category", "quality", "--text", "sour"]);
    desk.refused(
        &id,
        &["order", "reopen", &id, "--complaint", "1", "--reason", "still sour"],
        &["complaint 1 of order", "is still open; only a resolved complaint can be reopened"],
    );
}

#[test]
fn feedback_scores_are_1_to_5() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Delivered);
    desk.refused(&id, &["order", "feedback", &id, "--score", "6"], &["score must be 1 to 5 (got 6)"]);
    desk.refused(&id, &["order", "feedback", &id, "--score", "0"], &["score must be 1 to 5 (got 0)"]);
    desk.ok(&["order", "feedback", &id, "--score", "5"]);
}

#[test]
fn an_order_with_an_open_complaint_is_not_closed() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Signed);
    desk.ok(&["order", "complain", &id, "--category", "service", "--text", "rude driver"]);
    desk.refused(&id, &["order", "close", &id], &["cannot be closed: complaint 1 is still open"]);
}

#[test]
fn an_order_whose_customer_is_unsatisfied_is_not_closed_unless_a_head_overrides() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Signed);
    desk.ok(&["order", "complain", &id, "--category", "quality", "--text", "two trays sour"]);
    let resolve = ["order", "resolve", &id, "--complaint", "1", "--resolution", "credit note offered"];
    desk.ok(&[&resolve[..], &["--remedy", "credit", "--unsatisfied"]].concat());
    desk.refused(
        &id,
        &["order", "close", &id],
        &["cannot be closed: the customer is not satisfied with the resolution of complaint 1"],
    );
    // A clerk may not override; a department head may, with a reason, and it is recorded.
    let over = ["order", "close", &id, "--override-reason", "customer stopped answering; credit booked"];
    desk.refused(&id, &over, &["cannot be closed", "only a department head may give override reason"]);
    desk.run_as("sales.head", &over).ok();
    let closed = desk.history(&id).last().cloned().expect("events");
    assert_eq!(closed["type"], "order_closed");
    assert_eq!(closed["data"]["override_reason"], "customer stopped answering; credit booked");
}

#[test]
fn a_closed_order_takes_only_after_sales_work() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Signed);
    desk.ok(&["order", "close", &id]);
    let refused: &[(&[&str], &str)] = &[
        (&["close"], "cannot be closed: it is closed"),
        (&["cancel", "--initiated-by", "customer", "--reason", "late"], "cannot be cancelled: it is closed"),
        (
            &["change", "--initiated-by", "customer", "--reason", "more", "--qty", "1:12"],
            "cannot be changed: it is closed",
        ),
        (
            &["confirm", "--promised", due(), "--ship-date", due(), "--delivery", "pickup", "--via", "email"],
            "cannot be confirmed: it is closed",
        ),
        (&["approve", "--dept", "finance"], "cannot be approved: it is closed"),
        (&["ship", "--carrier", "SF Express", "--tracking", "SF-2"], "cannot ship: it is closed"),
        (&["deliver"], "cannot be delivered: it is closed"),
        (&["sign", "--by", "Mrs Chen"], "cannot be signed: it is closed"),
        (&["refuse", "--by", "Mrs Chen", "--reason", "late"], "cannot be refused: it is closed"),
    ];
    for (args, words) in refused {
        desk.refused(&id, &order_args(args[0], &id, &args[1..]), &[*words]);
    }
    desk.ok(&["order", "complain", &id, "--category", "quality", "--text", "found mould"]);
    desk.ok(&[
        "order",
        "resolve",
        &id,
        "--complaint",
        "1",
        "--resolution",
        "replaced",
        "--remedy",
        "replacement",
        "--satisfied",
    ]);
    desk.ok(&["order", "feedback", &id, "--score", "3"]);
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(show["status"], "closed");
    assert_eq!(show["feedback_count"], 1);
}

// Archive.

#[test]
fn an_archive_hold_is_placed_once_and_released_once() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    desk.refused(
        &id,
        &["audit", "hold", &id, "--reason", "invoice dispute", "--role", "sales"],
        &["role sales may not issue \"hold\"", "allowed: archivist"],
    );
    desk.ok(&["audit", "hold", &id, "--reason", "invoice dispute"]);
    desk.refused(&id, &["audit", "hold", &id, "--reason", "again"], &["already has an archive hold"]);
    desk.ok(&["audit", "release", &id]);
    desk.refused(&id, &["audit", "release", &id], &["has no archive hold to release"]);
}

// Receipt.

#[test]
fn a_line_quantity_of_0_is_refused() {
    let desk = Desk::new();
    desk.refused_anywhere(
        &receive_args(&["MILK-1L:10:18.90", "YOG-150:0:21.60"], &[]),
        &["line 2 quantity must be more than 0"],
    );
}

#[test]
fn a_negative_price_is_refused() {
    let desk = Desk::new();
    desk.refused_anywhere(
        &receive_args(&["MILK-1L:1:-5"], &[]),
        &["line 1 unit price (-500) must not be negative"],
    );
}

#[test]
fn a_blank_sku_is_refused() {
    let desk = Desk::new();
    desk.refused_anywhere(&receive_args(&[" :1:5"], &[]), &["line 1 SKU is required"]);
}

#[test]
fn a_due_date_before_receipt_is_refused() {
    let desk = Desk::new();
    desk.refused_anywhere(
        &receive_args(&["MILK-1L:1:5"], &["--due", "2020-01-01"]),
        &["requested date 2020-01-01 is before today"],
    );
}

#[test]
fn a_name_longer_than_its_limit_is_refused() {
    let desk = Desk::new();
    let long = "x".repeat(201);
    let mut args = receive_args(&["MILK-1L:1:5"], &[]);
    args[3] = &long;
    desk.refused_anywhere(&args, &["customer length in bytes (201) exceeds the limit of 200"]);
}

#[test]
fn a_total_too_large_to_compute_is_refused() {
    let desk = Desk::new();
    desk.refused_anywhere(
        &receive_args(&["PWD-SKM:10000000:10000000000"], &[]),
        &["the order total is too large to compute"],
    );
}

#[test]
fn receive_without_a_line_is_a_usage_error() {
    // `--line` is required by the parser, so this never reaches the rule (exit 2, not 3).
    let desk = Desk::new();
    desk.usage(&receive_args(&[], &[]), &["required arguments were not provided", "--line"]);
}

// Unknown orders.

#[test]
fn commands_on_an_unknown_order_are_refused() {
    let desk = Desk::new();
    desk.order_at(Stage::Received);
    desk.refused(
        UNKNOWN_ORDER,
        &["order", "approve", UNKNOWN_ORDER, "--dept", "production"],
        &["order 5f0c3a9e does not exist: no order was received under this id"],
    );
    desk.refused(UNKNOWN_ORDER, &["order", "show", UNKNOWN_ORDER], &["does not exist"]);
    desk.refused(UNKNOWN_ORDER, &["order", "history", UNKNOWN_ORDER], &["does not exist"]);
}
