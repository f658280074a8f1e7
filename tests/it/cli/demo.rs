//! `orderflow demo`: drives seeded orders into a data directory and prints a summary.

use serde_json::Value;

use super::{Desk, Out};

/// The summary of `demo --json`: the first of its JSON lines (the status board and KPIs follow).
#[track_caller]
fn summary(out: &Out) -> Value {
    let lines = out.json_lines();
    let first = lines.first().unwrap_or_else(|| panic!("no JSON summary: {out:?}"));
    assert!(first.get("by_status").is_some(), "the first line is the summary: {out:?}");
    first.clone()
}

#[test]
fn the_demo_drives_orders_and_prints_a_summary() {
    let desk = Desk::empty();
    let out = desk.ok(&["demo", "--orders", "40"]);
    let first = out.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("orderflow demo: 40 orders driven in "), "{out:?}");
    assert!(out.stdout.contains("by status: "), "{out:?}");
    assert!(desk.head() > 40, "the demo wrote events");
}

#[test]
fn a_second_demo_on_the_same_dir_adds_orders() {
    let desk = Desk::empty();
    let first = summary(&desk.ok(&["demo", "--orders", "40", "--json"]));
    let head_after_first = desk.head();
    // A directory that holds events is refused, nothing written; --force-new adds to it.
    desk.run(&["demo", "--orders", "40"]).failed(3, &["already holds", "--force-new", "fresh directory"]);
    assert_eq!(desk.head(), head_after_first, "the refused demo wrote nothing");
    let second = summary(&desk.ok(&["--json", "demo", "--orders", "40", "--force-new"]));

    for s in [&first, &second] {
        assert_eq!(s["orders"], 40, "{s}");
        let by_status = s["by_status"].as_object().expect("by_status is an object");
        let total: u64 = by_status.values().map(|n| n.as_u64().expect("a count")).sum();
        assert_eq!(total, 40, "every order has one status: {s}");
        assert!(s["commands"].as_u64().is_some_and(|n| n >= 40), "{s}");
    }
    let events_first = first["events"].as_u64().expect("events");
    let events_second = second["events"].as_u64().expect("events");
    assert!(events_first > 40 && events_second > 40, "{first} {second}");
    assert_eq!(head_after_first, events_first, "the first demo's events are the whole log");
    assert_eq!(desk.head(), events_first + events_second, "the second demo added its events");
}
