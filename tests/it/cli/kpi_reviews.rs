//! `kpi --reviews`: the reviews decided within their department's limit, per department and
//! month (issue 12, item 3). One order received three days ago on paper: production decided
//! within its 24 h (entered late), procurement decided now (past its due), finance and warehouse
//! not at all (past due, undecided).

use serde_json::Value;

use super::Desk;

fn days_ago(days: u64) -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() - chrono::Days::new(days)
}

/// The report's rows of `role`, summed over the months: (decided, within limit, past due
/// undecided).
fn figures(report: &Value, role: &str) -> (u64, u64, u64) {
    let rows = report["rows"].as_array().expect("rows");
    let mut sum = (0, 0, 0);
    for row in rows.iter().filter(|r| r["role"] == role) {
        sum.0 += row["decided"].as_u64().expect("decided");
        sum.1 += row["decided_within_limit"].as_u64().expect("within");
        sum.2 += row["undecided_past_due"].as_u64().expect("past due");
    }
    sum
}

#[test]
fn the_review_report_counts_decisions_within_and_past_the_limit_and_undecided_reviews_past_due() {
    let desk = Desk::new();
    let day = days_ago(3);
    let id = desk.receive(&["--at", &format!("{day}T09:00:00Z"), "--late-reason", "paper form"]);
    desk.ok(&[
        "order",
        "approve",
        &id,
        "--dept",
        "production",
        "--at",
        &format!("{day}T15:00:00Z"),
        "--late-reason",
        "paper form",
    ]);
    desk.ok(&["order", "approve", &id, "--dept", "procurement"]);

    let report = desk.ok(&["kpi", "--reviews", "--json"]).json();
    assert_eq!(figures(&report, "production"), (1, 1, 0), "{report}");
    assert_eq!(figures(&report, "procurement"), (1, 0, 0), "{report}");
    assert_eq!(figures(&report, "finance"), (0, 0, 1), "{report}");
    assert_eq!(figures(&report, "warehouse"), (0, 0, 1), "{report}");
    assert!(!report["now"].is_null(), "the open reviews are judged at the time of the run: {report}");

    let text = desk.ok(&["kpi", "--reviews"]).stdout;
    assert!(text.contains("production") && text.contains("finance"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 120), "fits the table width: {text}");
    // A month with nothing in it: no rows.
    let empty = desk.ok(&["kpi", "--reviews", "--month", "2001-01", "--json"]).json();
    assert_eq!(empty["rows"].as_array().map(Vec::len), Some(0), "{empty}");
}

#[test]
fn the_review_report_refuses_a_bad_month_and_a_breakdown() {
    let desk = Desk::new();
    desk.run(&["kpi", "--reviews", "--month", "2026-13"]).failed(3, &["2026-13", "not a month"]);
    desk.run(&["kpi", "--reviews", "--by", "customer"]).failed(2, &["--reviews", "--by"]);
}
