//! Command lines the parser refuses: exit 2, the problem on stderr, and no data directory made.
//! Help and version exit 0.

use super::{due, Desk};

const ORDER: &str = "5f0c3a9e-2b7d-4c61-8e4f-a1b2c3d4e5f6";

fn receive_with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["order", "receive", "--customer", "Metro Hotels"];
    args.extend_from_slice(extra);
    args
}

#[test]
fn an_unknown_subcommand_is_a_usage_error() {
    let desk = Desk::new();
    desk.usage(&["order", "frobnicate", ORDER], &["unrecognized subcommand 'frobnicate'"]);
    desk.usage(&["frobnicate"], &["unrecognized subcommand 'frobnicate'"]);
    desk.usage(&["order"], &["Usage: orderflow order"]);
}

#[test]
fn a_missing_required_option_is_a_usage_error() {
    let desk = Desk::new();
    desk.usage(&["order", "ship", ORDER, "--carrier", "SF Express"], &["required arguments", "--tracking"]);
    desk.usage(&receive_with(&["--line", "P7:1:1"]), &["required arguments", "--due"]);
    desk.usage(&["order", "approve", ORDER], &["required arguments", "--dept"]);
    desk.usage(&["order", "approve", "--dept", "finance"], &["required arguments", "<ORDER>"]);
    desk.usage(&["order", "cancel", ORDER], &["required arguments", "--initiated-by", "--reason"]);
    // Confirmation records its facts; a change and a cancellation say who asked; a resolution
    // says what was done, by kind.
    desk.usage(
        &["order", "confirm", ORDER, "--promised", "2099-01-31"],
        &["required arguments", "--ship-date", "--delivery", "--via"],
    );
    desk.usage(
        &["order", "change", ORDER, "--reason", "r", "--qty", "1:2"],
        &["required arguments", "--initiated-by"],
    );
    desk.usage(
        &["order", "resolve", ORDER, "--complaint", "1", "--resolution", "r", "--satisfied"],
        &["required arguments", "--remedy"],
    );
    desk.usage(
        &[
            "order",
            "confirm",
            ORDER,
            "--promised",
            "2099-01-31",
            "--ship-date",
            "2099-01-30",
            "--delivery",
            "drone",
            "--via",
            "phone",
        ],
        &["drone"],
    );
}

#[test]
fn a_malformed_line_is_a_usage_error() {
    let desk = Desk::new();
    for (line, words) in [
        ("P7:ten:12.50", "'ten' in line 'P7:ten:12.50' is not a quantity"),
        ("P7:-1:12.50", "'-1' in line 'P7:-1:12.50' is not a quantity"),
        ("P7:10", "'P7:10' is not a line: expected SKU:QTY:UNIT_PRICE"),
        ("P7:10:12.505", "'12.505' is not a price"),
        ("P7:10:1,50", "'1,50' is not a price"),
        ("P7:10:+5", "'+5' is not a price"),
    ] {
        desk.usage(&receive_with(&["--line", line, "--due", due()]), &["--line <LINES>", words]);
    }
}

#[test]
fn a_bad_word_value_is_a_usage_error() {
    let desk = Desk::new();
    desk.usage(
        &["order", "approve", ORDER, "--dept", "sales"],
        &[
            "invalid value 'sales' for '--dept <DEPT>'",
            "[possible values: production, procurement, finance, warehouse]",
        ],
    );
    desk.usage(
        &["order", "approve", ORDER, "--dept", "finance", "--role", "boss"],
        &["invalid value 'boss' for '--role <ROLE>'", "expected one of: sales, production", "dept_head:ROLE"],
    );
    desk.usage(
        &receive_with(&["--line", "P7:1:1", "--due", due(), "--channel", "fax"]),
        &["invalid value 'fax' for '--channel <CHANNEL>'", "possible values: phone"],
    );
    desk.usage(
        &["order", "complain", ORDER, "--category", "taste", "--text", "odd"],
        &["invalid value 'taste' for '--category <CATEGORY>'", "possible values: quality"],
    );
    desk.usage(&["order", "feedback", ORDER, "--score", "300"], &["--score <SCORE>"]);
}

#[test]
fn a_malformed_order_id_is_a_usage_error() {
    let desk = Desk::new();
    desk.usage(
        &["order", "approve", "12345", "--dept", "finance"],
        &["'12345' is too short for an order id", "at least 6"],
    );
    desk.usage(&["order", "show", "5f0c3a9g"], &["'5f0c3a9g' is not an order id: 'g' is not a hex digit"]);
    desk.usage(&["order", "history", "order-1"], &["'order-1' is not an order id"]);
    desk.usage(&["order", "show", &"a".repeat(33)], &["more than 32 hex digits"]);
}

#[test]
fn a_malformed_date_or_time_is_a_usage_error() {
    let desk = Desk::new();
    desk.usage(
        &receive_with(&["--line", "P7:1:1", "--due", "2025-13-01"]),
        &["'2025-13-01' is not a date (expected YYYY-MM-DD)"],
    );
    desk.usage(&receive_with(&["--line", "P7:1:1", "--due", "31.01.2099"]), &["'31.01.2099' is not a date"]);
    desk.usage(&["order", "confirm", ORDER, "--promised", "tomorrow"], &["'tomorrow' is not a date"]);
    desk.usage(
        &["order", "approve", ORDER, "--dept", "finance", "--at", "yesterday"],
        &["'yesterday' is not a time (expected RFC 3339"],
    );
    desk.usage(&["order", "approve", ORDER, "--dept", "finance", "--command-id", "42"], &["--command-id"]);
}

#[test]
fn help_and_version_exit_0() {
    let desk = Desk::empty();
    let help = desk.ok(&["--help"]);
    assert!(help.stdout.contains("Usage: orderflow") && help.stdout.contains("order"), "{help:?}");
    let order_help = desk.ok(&["order", "receive", "--help"]);
    assert!(order_help.stdout.contains("--line <LINES>"), "{order_help:?}");
    let version = desk.ok(&["--version"]);
    assert_eq!(version.stdout, format!("orderflow {}\n", env!("CARGO_PKG_VERSION")));
    assert!(!desk.data.exists(), "help made a data directory");
}
