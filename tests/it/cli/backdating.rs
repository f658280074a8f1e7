//! `--at`: back-dated entry records the effective time on the event; a time in the future is
//! refused and writes nothing.

use super::{Desk, Stage, DUE};

#[test]
fn a_back_dated_command_records_its_effective_time() {
    let desk = Desk::new();
    let id = desk.receive(&["--at", "2025-03-01T09:30:00Z"]);
    desk.ok(&["order", "approve", &id, "--dept", "finance", "--at", "2025-03-01T11:15:00+01:00"]);
    desk.ok(&["order", "approve", &id, "--dept", "warehouse", "--at", "2025-03-02"]);

    let history = desk.history(&id);
    let at: Vec<&str> = history.iter().map(|e| e["at"].as_str().expect("at")).collect();
    assert_eq!(
        at,
        ["2025-03-01T09:30:00.000000Z", "2025-03-01T10:15:00.000000Z", "2025-03-02T00:00:00.000000Z"]
    );
    for e in &history {
        let recorded = e["recorded_at"].as_str().expect("recorded_at");
        assert!(recorded > "2025-03-03", "recorded_at is when it was written, not the effective time: {e}");
    }
    // The review is due 24 hours after the (back-dated) receipt.
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(show["review_due"], "2025-03-02T09:30:00.000000Z");
}

#[test]
fn a_back_dated_receipt_checks_dates_against_its_own_day() {
    let desk = Desk::new();
    // Due before today but after the effective day: accepted.
    desk.receive(&["--at", "2025-03-01T09:30:00Z", "--due", "2025-03-10"]);
    // Due before the effective day: refused, naming that day as "today".
    desk.refused_anywhere(
        &[
            "order",
            "receive",
            "--customer",
            "Metro Hotels",
            "--line",
            "CRM-35:5:5.20",
            "--due",
            "2025-02-28",
            "--at",
            "2025-03-01T09:30:00Z",
        ],
        &["requested date 2025-02-28 is before today (2025-03-01)"],
    );
}

#[test]
fn an_effective_time_in_the_future_is_refused_and_writes_nothing() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    let before = desk.snapshot(Some(&id));
    desk.run(&["order", "approve", &id, "--dept", "finance", "--at", "2099-01-01T00:00:00Z"])
        .failed(3, &["effective time 2099-01-01T00:00:00.000000Z is in the future", "post-dating is not"]);
    assert_eq!(desk.snapshot(Some(&id)), before);

    desk.refused_anywhere(
        &[
            "order",
            "receive",
            "--customer",
            "Metro Hotels",
            "--line",
            "CRM-35:5:5.20",
            "--due",
            DUE,
            "--at",
            "2099-01-01",
        ],
        &["is in the future"],
    );
    assert_eq!(desk.head(), 1);
}
