//! `--at`: back-dated entry records the effective time on the event; a time in the future is
//! refused and writes nothing.

use super::{due, Desk, Stage};

/// A day `days` before today (within the application's `backdate_days_max` of 366).
fn days_ago(days: i64) -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() - chrono::Days::new(u64::try_from(days).expect("positive"))
}

#[test]
fn a_back_dated_command_records_its_effective_time() {
    let desk = Desk::new();
    let day = days_ago(100);
    let next = day + chrono::Days::new(1);
    let id = desk.receive(&["--at", &format!("{day}T09:30:00Z"), "--late-reason", "paper form"]);
    desk.ok(&[
        "order",
        "approve",
        &id,
        "--dept",
        "finance",
        "--at",
        &format!("{day}T11:15:00+01:00"),
        "--late-reason",
        "paper form",
    ]);
    desk.ok(&[
        "order",
        "approve",
        &id,
        "--dept",
        "warehouse",
        "--at",
        &next.to_string(),
        "--late-reason",
        "paper form",
    ]);

    let history = desk.history(&id);
    let at: Vec<&str> = history.iter().map(|e| e["at"].as_str().expect("at")).collect();
    assert_eq!(
        at,
        [
            format!("{day}T09:30:00.000000Z"),
            format!("{day}T10:15:00.000000Z"),
            format!("{next}T00:00:00.000000Z")
        ]
    );
    let written_after = (day + chrono::Days::new(2)).to_string();
    for e in &history {
        let recorded = e["recorded_at"].as_str().expect("recorded_at");
        assert!(
            recorded > written_after.as_str(),
            "recorded_at is when it was written, not the effective time: {e}"
        );
    }
    // The review is due 24 hours after the (back-dated) receipt.
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(show["review_due"], format!("{next}T09:30:00.000000Z"));
}

#[test]
fn a_back_dated_receipt_checks_dates_against_its_own_day() {
    let desk = Desk::new();
    let day = days_ago(100);
    let at = format!("{day}T09:30:00Z");
    // Due before today but after the effective day: accepted.
    desk.receive(&[
        "--at",
        &at,
        "--late-reason",
        "paper form",
        "--due",
        &(day + chrono::Days::new(9)).to_string(),
    ]);
    // Due before the effective day: refused, naming that day as "today".
    let before = (day - chrono::Days::new(1)).to_string();
    desk.refused_anywhere(
        &[
            "order",
            "receive",
            "--customer",
            "Metro Hotels",
            "--line",
            "CRM-35:5:5.20",
            "--due",
            &before,
            "--at",
            &at,
            "--late-reason",
            "paper form",
        ],
        &[&format!("requested date {before} is before today ({day})")],
    );
}

#[test]
fn a_back_dated_entry_beyond_the_limit_is_refused() {
    let desk = Desk::new();
    desk.run(&[
        "order",
        "receive",
        "--customer",
        "Acme",
        "--line",
        "P7:1:1",
        "--due",
        due(),
        "--at",
        &days_ago(400).to_string(),
        "--late-reason",
        "paper form",
    ])
    .failed(3, &["backdate_days_max = 366"]);
    assert!(!desk.data.join("FORMAT").exists() || desk.head() == desk.base());
}

#[test]
fn an_effective_time_in_the_future_is_refused_and_writes_nothing() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    let before = desk.snapshot(Some(&id));
    desk.run(&[
        "order",
        "approve",
        &id,
        "--dept",
        "finance",
        "--at",
        "2099-01-01T00:00:00Z",
        "--late-reason",
        "paper form",
    ])
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
            due(),
            "--at",
            "2099-01-01",
            "--late-reason",
            "paper form",
        ],
        &["is in the future"],
    );
    assert_eq!(desk.head(), desk.base() + 1);
}
