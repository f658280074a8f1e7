//! `--command-id`: the same id again returns the first result and writes nothing.

use serde_json::json;

use super::{due, Desk, Stage};

const COMMAND_ID: &str = "0b6f2a7e-4c1d-4e8a-9a55-3d2f1c0e9b71";

#[test]
fn a_repeated_command_id_writes_nothing_the_second_time() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    let approve = ["order", "approve", &id, "--dept", "finance", "--command-id", COMMAND_ID];
    let first = desk.ok(&approve);
    assert_eq!(first.stdout, format!("order {}: review_approved (version 2)\n", &id[..8]));
    let before = desk.snapshot(Some(&id));

    let again = desk.ok(&approve);
    assert_eq!(
        again.stdout,
        format!("order {}: already done by this command id (version 2); nothing written\n", &id[..8])
    );
    let mut json_args = approve.to_vec();
    json_args.push("--json");
    let j = desk.ok(&json_args).json();
    assert_eq!(j["duplicate"], true);
    assert_eq!(j["events"], json!([]));
    assert_eq!(j["version"], 2);
    assert_eq!(j["command_id"], COMMAND_ID);

    assert_eq!(desk.snapshot(Some(&id)), before, "a retried command wrote something");
    assert_eq!(desk.types(&id), ["order_received", "review_approved"]);

    // A new command id is a new command: finance has decided already.
    desk.refused(&id, &approve[..5], &["finance has already approved revision 1"]);
}

#[test]
fn a_retried_receive_gives_the_same_order() {
    let desk = Desk::new();
    let receive = [
        "order",
        "receive",
        "--customer",
        "Lotus Supermarkets",
        "--line",
        "MILK-5L:30:12.50:bag",
        "--due",
        due(),
        "--command-id",
        COMMAND_ID,
    ];
    let mut json_args = receive.to_vec();
    json_args.push("--json");
    let first = desk.ok(&json_args).json();
    assert_eq!(first["duplicate"], false);
    let id = first["order_id"].as_str().expect("order_id").to_string();

    let again = desk.ok(&json_args).json();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["order_id"], id.as_str());
    assert_eq!(again["events"], json!([]));
    assert_eq!(again["version"], 1);

    let text = desk.ok(&receive);
    assert_eq!(text.stdout, format!("{id}\n"), "the text retry prints the same id");
    assert_eq!(desk.types(&id), ["order_received"]);
    assert_eq!(desk.head(), desk.base() + 1, "one order, one event");
}

/// `confirm` may be repeated with a new date, so a retry is caught by the command id alone, not by
/// a rule refusing it.
#[test]
fn a_retry_the_rules_would_accept_is_still_written_once() {
    let desk = Desk::new();
    // Confirmation needs the approved order (version 6: received, four approvals, approved).
    let id = desk.order_at(Stage::Approved);
    let confirm = [
        "order",
        "confirm",
        &id,
        "--promised",
        due(),
        "--ship-date",
        due(),
        "--delivery",
        "pickup",
        "--via",
        "email",
        "--command-id",
        COMMAND_ID,
        "--json",
    ];
    assert_eq!(desk.ok(&confirm).json()["duplicate"], false);
    let again = desk.ok(&confirm).json();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["version"], 7);
    let types = desk.types(&id);
    assert_eq!(types.len(), 7);
    assert_eq!(types.iter().filter(|t| *t == "order_confirmed").count(), 1, "{types:?}");
    assert_eq!(types.last().map(String::as_str), Some("order_confirmed"));

    // The same command under another id is written: the rules do accept it again.
    let fresh = desk.ok(&confirm[..11]);
    assert!(fresh.stdout.contains("order_confirmed (version 8)"), "{fresh:?}");
}
