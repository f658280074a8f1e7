//! The procedure of issue 12 as a clerk sees it on the command line: `order show` tells the
//! pending change request (who initiated it, what it proposes, who decided, who is due), the
//! confirmation's facts and the follow-up visits in plain words within 80 columns; `visits due`
//! lists the signed orders whose follow-up visit is due; and `system`, orderflow's own role, is
//! never granted to a person.

use super::*;

/// The effective time `hours` before now, as `--at` takes it.
fn hours_ago(hours: i64) -> String {
    let t = orderflow::app::now().plus_hours(-hours);
    t.to_datetime().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Runs `args` back-dated to `at` (with a reason), as the head of the command's role.
#[track_caller]
fn late(desk: &Desk, args: &[&str], at: &str) -> Out {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--at", at, "--late-reason", "paper form entered late"]);
    desk.ok(&all)
}

/// The lines of `text` that the procedure added to `order show` (by their labels).
fn procedure_lines(text: &str) -> Vec<&str> {
    const LABELS: [&str; 10] = [
        "change",
        "  proposes",
        "  impact",
        "  decided",
        "  waiting",
        "confirmed",
        "override",
        "overdue",
        "visits",
        "due by",
    ];
    text.lines().filter(|l| LABELS.iter().any(|p| l.starts_with(p))).collect()
}

#[test]
fn system_is_never_granted_to_a_person() {
    let desk = Desk::new();
    desk.run(&["users", "grant", "sales.desk", "system"])
        .failed(3, &["system cannot be granted", "orderflow's own role"]);
    // A headship of system is no grant at all (a usage error).
    let out = desk.run(&["users", "grant", "sales.desk", "dept_head:system"]);
    assert_eq!(out.code, 2, "{out:?}");
    let users = desk.ok(&["users", "list"]).stdout;
    assert!(!users.contains("system"), "{users}");
}

#[test]
fn order_show_tells_the_pending_change_request_and_the_confirmation() {
    let desk = Desk::new();
    let id = desk.receive(&[]);
    desk.approve_all(&id);
    let ship_date = orderflow::app::now().date().plus_days(5).to_string();
    desk.ok(&[
        "order",
        "confirm",
        &id,
        "--promised",
        due(),
        "--ship-date",
        &ship_date,
        "--delivery",
        "carrier",
        "--via",
        "email",
    ]);
    desk.ok(&[
        "order",
        "change",
        &id,
        "--initiated-by",
        "customer",
        "--reason",
        "the customer needs twice as much",
        "--qty",
        "1:20",
        "--impact",
        "production=one more shift on line 2",
    ]);
    desk.run_as("production.desk", &["order", "approve-change", &id, "--dept", "production"]).ok();

    let text = desk.ok(&["order", "show", &id]).stdout;
    for words in [
        "request 1 (to revision 2), customer-initiated",
        "the customer needs twice as much",
        "production: one more shift on line 2",
        "production approved by production.desk",
        "finance (due ",
        "logistics (due ",
        "confirmed",
        "promised ",
        "carrier, confirmed by email",
    ] {
        assert!(text.contains(words), "order show does not say {words:?}:\n{text}");
    }
    assert!(text.contains("  proposes   line 1 quantity: 10 -> 20"), "{text}");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&format!("ships {ship_date}, carrier")), "{text}");
    for line in procedure_lines(&text) {
        assert!(line.chars().count() <= 80, "wider than 80 columns: {line:?}\n{text}");
    }
    for debug in ["Some(", "None", "{ ", "RoleDue", "Initiator"] {
        assert!(!text.contains(debug), "debug output {debug:?} in:\n{text}");
    }
    let json = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(json["change_request"]["request_id"], 1, "{json}");
    assert_eq!(json["change_request"]["initiated_by"], "customer");
    assert_eq!(json["change_request"]["decisions"][0]["by"], "production.desk");
    assert_eq!(json["confirmation"]["confirmed_via"], "email");

    // Finance declines: the request ends, the order goes on, confirmed, on revision 1.
    desk.run_as(
        "finance.desk",
        &["order", "decline-change", &id, "--dept", "finance", "--reason", "credit limit reached"],
    )
    .ok();
    let json = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(json["change_request"], serde_json::Value::Null, "{json}");
    assert_eq!(json["revision"], 1);
    assert_eq!(json["status"], "confirmed");
    let text = desk.ok(&["order", "show", &id]).stdout;
    assert!(!text.contains("request 1"), "a declined request is not pending:\n{text}");
}

#[test]
fn visits_due_lists_signed_orders_past_the_visit_day_until_one_is_recorded() {
    let desk = Desk::new();
    desk.ensure();
    std::fs::write(desk.data.join("orderflow.toml"), "[after_sales]\nvisit_after_days = 2\n").expect("write");
    let received_at = hours_ago(120);
    let id = late(
        &desk,
        &[
            "order",
            "receive",
            "--customer",
            "Harbour Cafe",
            "--line",
            "MILK-1L:10:18.90:case",
            "--due",
            due(),
        ],
        &received_at,
    )
    .stdout
    .trim()
    .to_string();
    for dept in ["production", "procurement", "finance", "warehouse"] {
        late(&desk, &["order", "approve", &id, "--dept", dept], &hours_ago(119));
    }
    let ship_date = orderflow::app::now().date().plus_days(-4).to_string();
    late(
        &desk,
        &[
            "order",
            "confirm",
            &id,
            "--promised",
            due(),
            "--ship-date",
            &ship_date,
            "--delivery",
            "own_fleet",
            "--via",
            "phone",
        ],
        &hours_ago(118),
    );
    late(&desk, &["order", "ship", &id, "--carrier", "own fleet", "--tracking", "T-1"], &hours_ago(100));
    late(&desk, &["order", "deliver", &id], &hours_ago(80));
    late(&desk, &["order", "sign", &id, "--by", "Mr Lau"], &hours_ago(72));
    // A second order signed just now: not due yet.
    let fresh = desk.order_at(Stage::Approved);
    desk.ok(&[
        "order",
        "confirm",
        &fresh,
        "--promised",
        due(),
        "--ship-date",
        due(),
        "--delivery",
        "pickup",
        "--via",
        "system",
    ]);
    desk.ok(&["order", "ship", &fresh, "--carrier", "ColdLine", "--tracking", "CL-1"]);
    desk.ok(&["order", "deliver", &fresh]);
    desk.ok(&["order", "sign", &fresh, "--by", "Mrs Chen"]);

    let due_now = desk.ok(&["visits", "due", "--json"]).json_lines();
    assert_eq!(due_now.len(), 1, "{due_now:?}");
    assert_eq!(due_now[0]["order_id"], id.as_str());
    assert_eq!(due_now[0]["days_overdue"], 1, "signed 3 days ago, due after 2");
    let text = desk.ok(&["visits", "due"]).stdout;
    assert!(text.contains("1 follow-up visit(s) due (2 days after sign-off)"), "{text}");
    assert!(text.contains("Harbour Cafe") && text.contains(&id[..8]), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let show = desk.ok(&["order", "show", &id]).stdout;
    assert!(show.contains("none recorded yet"), "{show}");

    // A visit without an answer is a visit: no longer due.
    desk.ok(&["order", "visit", &id, "--method", "phone", "--comment", "no answer"]);
    assert!(desk.ok(&["visits", "due"]).stdout.contains("No follow-up visits due"));
    assert!(desk.ok(&["order", "show", &id]).stdout.contains("1 recorded"));
}
