//! The happy path: one order from receipt to closing through every workflow command, and what
//! `receive`, `show` and `history` print.

use serde_json::json;

use super::{due, future, order_args, Desk};

#[test]
fn receive_prints_the_order_id_alone() {
    let desk = Desk::new();
    let out = desk.ok(&[
        "order",
        "receive",
        "--customer",
        "Northfield Foods",
        "--channel",
        "email",
        "--line",
        "BUT-25:3:215:block",
        "--due",
        due(),
    ]);
    let id = out.stdout.trim_end();
    assert_eq!(out.stdout, format!("{id}\n"), "one line, the id only: {out:?}");
    let uuid = uuid::Uuid::parse_str(id).expect("the id is a UUID");
    assert_eq!(id, uuid.hyphenated().to_string(), "hyphenated lower-case form");
    assert_eq!(desk.types(id), ["order_received"]);
}

#[test]
fn receive_with_json_prints_an_object_with_the_order_id() {
    let desk = Desk::new();
    let j = desk
        .ok(&[
            "order",
            "receive",
            "--customer",
            "Northfield Foods",
            "--line",
            "BUT-25:3:215",
            "--line",
            "CRM-35:12:5.20:l:35% fat",
            "--due",
            due(),
            "--json",
        ])
        .json();
    let id = j["order_id"].as_str().expect("order_id is a string");
    uuid::Uuid::parse_str(id).expect("order_id is a UUID");
    assert_eq!(j["command"], "receive");
    assert_eq!(j["duplicate"], false);
    assert_eq!(j["events"], json!(["order_received"]));
    assert_eq!(j["version"], 1);
    assert_eq!(j["first_position"], desk.base() + 1);
    uuid::Uuid::parse_str(j["command_id"].as_str().expect("command_id")).expect("command_id is a UUID");

    let show = desk.ok(&["order", "show", id, "--json"]).json();
    assert_eq!(show["customer"], "Northfield Foods");
    assert_eq!(show["total_minor"], 3 * 21_500 + 12 * 520);
    assert_eq!(show["lines"][1]["unit"], "l");
    assert_eq!(show["lines"][1]["spec"], "35% fat");
}

/// Every workflow command once (resolve twice), each printing the events it recorded and the new
/// version; then `show` (text and JSON) and `history` (text and JSON) of the closed order.
#[test]
fn an_order_lives_from_receipt_to_closing() {
    let desk = Desk::new();
    let id = desk.receive(&[]);
    let short = &id[..8];

    for (n, dept) in ["production", "procurement", "finance"].into_iter().enumerate() {
        let j = desk.ok(&["order", "approve", &id, "--dept", dept, "--json"]).json();
        assert_eq!(j["events"], json!(["review_approved"]), "{dept}");
        assert_eq!(j["version"], n + 2, "{dept}");
    }
    let fourth = desk.ok(&["order", "approve", &id, "--dept", "warehouse"]);
    assert_eq!(fourth.stdout, format!("order {short}: review_approved, order_approved (version 6)\n"));

    let steps: &[(&str, &[&str], &[&str])] = &[
        (
            "confirm",
            &[
                "--promised",
                due(),
                "--ship-date",
                future("2099-01-22"),
                "--delivery",
                "carrier",
                "--via",
                "phone",
            ],
            &["order_confirmed"],
        ),
        ("schedule", &["--finish", future("2099-01-20")], &["production_scheduled"]),
        ("inspect", &["--result", "pass"], &["quality_inspected"]),
        ("complete", &[], &["production_completed"]),
        ("ship", &["--carrier", "ColdLine Logistics", "--tracking", "CL-4711"], &["order_shipped"]),
        ("delay", &["--eta", future("2099-02-03"), "--reason", "snow on the pass"], &["shipment_delayed"]),
        ("deliver", &[], &["order_delivered"]),
        ("sign", &["--by", "Mrs Chen"], &["order_signed"]),
        ("complain", &["--category", "quality", "--text", "two trays dented"], &["complaint_opened"]),
        (
            "resolve",
            &["--complaint", "1", "--resolution", "credit note", "--remedy", "credit", "--satisfied"],
            &["complaint_resolved"],
        ),
        ("reopen", &["--complaint", "1", "--reason", "no credit note came"], &["complaint_reopened"]),
        (
            "resolve",
            &["--complaint", "1", "--resolution", "credit note sent", "--remedy", "credit", "--satisfied"],
            &["complaint_resolved"],
        ),
        ("feedback", &["--score", "4", "--comment", "good"], &["feedback_recorded"]),
        ("close", &[], &["order_closed"]),
    ];
    let mut version = 6;
    for (cmd, rest, events) in steps {
        let mut args = order_args(cmd, &id, rest);
        args.push("--json");
        let j = desk.ok(&args).json();
        version += events.len();
        assert_eq!(j["events"], json!(events), "{args:?}");
        assert_eq!(j["command"], *cmd, "{args:?}");
        assert_eq!(j["order_id"], id.as_str(), "{args:?}");
        assert_eq!(j["duplicate"], false, "{args:?}");
        assert_eq!(j["version"], version, "{args:?}");
        if *cmd == "complain" {
            assert_eq!(j["complaint_id"], 1, "complain names the complaint: {j}");
        } else {
            assert!(j.get("complaint_id").is_none(), "only complain names a complaint: {j}");
        }
    }
    assert_eq!(version, 20);

    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(show["order_id"], id.as_str());
    assert_eq!(show["status"], "closed");
    assert_eq!(show["version"], 20);
    assert_eq!(show["revision"], 1);
    assert_eq!(show["total_minor"], 10 * 1_890 + 4 * 2_160);
    assert_eq!(show["current_promise"], due());
    assert_eq!(show["shipment"]["carrier"], "ColdLine Logistics");
    assert_eq!(show["shipment"]["eta"], future("2099-02-03"));
    assert_eq!(show["shipment"]["delays"], 1);
    assert_eq!(show["signed"]["by"], "Mrs Chen");
    assert_eq!(show["signed"]["full"], true);
    assert_eq!(show["open_complaints"], json!([]));
    assert_eq!(show["feedback_count"], 1);
    assert!(show["retention_until"].is_string(), "a closed order has a retention date: {show}");

    let text = desk.ok(&["order", "show", &id]).stdout;
    assert!(
        text.starts_with(&format!("order        {id}\nstate        closed (revision 1, version 20)\n")),
        "{text}"
    );
    for part in [
        "customer     Bright Dairy Retail",
        "contact      on file",
        "channel      phone",
        "total        275.40 EUR",
        "   1  MILK-1L       10       10        10  case   18.90 EUR  189.00 EUR",
        "reviews      revision 1 approved by every department",
        "  1  production   approved  production.desk",
        &format!("by ColdLine Logistics (road), tracking CL-4711, ETA {} (first ETA", future("2099-02-03")),
        "delayed 1 time(s))",
        "by Mrs Chen, in full",
        "complaint 1  quality, medium: resolved, customer satisfied",
        "feedback     1 record(s)",
        "archive      kept until",
    ] {
        assert!(text.contains(part), "show does not say {part:?}:\n{text}");
    }

    let history = desk.history(&id);
    let types: Vec<&str> = history.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(
        types,
        [
            "order_received",
            "review_approved",
            "review_approved",
            "review_approved",
            "review_approved",
            "order_approved",
            "order_confirmed",
            "production_scheduled",
            "quality_inspected",
            "production_completed",
            "order_shipped",
            "shipment_delayed",
            "order_delivered",
            "order_signed",
            "complaint_opened",
            "complaint_resolved",
            "complaint_reopened",
            "complaint_resolved",
            "feedback_recorded",
            "order_closed",
        ]
    );
    let mut last_position = 0;
    for (n, e) in history.iter().enumerate() {
        assert_eq!(e["version"], n + 1, "versions run 1..n: {e}");
        let position = e["position"].as_u64().expect("position is a number");
        assert!(position > last_position, "positions increase: {e}");
        last_position = position;
        assert!(e["recorded_at"].as_str().is_some_and(|t| t.ends_with('Z')), "recorded_at: {e}");
        assert!(e["at"].is_string(), "at: {e}");
        assert_eq!(e["order_id"], id.as_str());
    }
    // Every event carries the logged-in user: id and login, and the role exercised.
    assert_eq!(history[0]["actor"]["login"], "sales.desk");
    assert_eq!(history[0]["actor"]["role"], "sales");
    assert_eq!(history[4]["actor"]["login"], "warehouse.desk");
    let ids: std::collections::BTreeSet<&str> =
        history.iter().filter_map(|e| e["actor"]["user_id"].as_str()).collect();
    assert!(ids.len() >= 5 && !ids.contains("00000000-0000-0000-0000-000000000000"), "user ids: {ids:?}");
    assert_eq!(history[14]["data"]["text"], "two trays dented");

    let lines: Vec<String> = desk.ok(&["order", "history", &id]).stdout.lines().map(String::from).collect();
    // One text line per event; the last is this read itself, recorded before it is answered.
    assert_eq!(lines.len(), 21, "one text line per event: {lines:#?}");
    assert!(lines[0].contains("order_received") && lines[0].contains("sales.desk (sales)"), "{}", lines[0]);
    assert!(lines[19].contains("order_closed"), "{}", lines[19]);
    assert!(
        lines[20].contains("archive_accessed") && lines[20].contains("auditor.desk (auditor)"),
        "{}",
        lines[20]
    );
}
