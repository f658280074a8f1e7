//! The site's settings (issue 12, item 3; seed 000 四.4 "明確權限和時限"): `orderflow.toml` in the
//! data directory (or `--config FILE`) sets the review limit of each department, and the limits
//! in force are what a received order's reviews are due by; `orderflow settings` shows them and
//! where they come from; a bad file is refused naming the key and the file, and nothing is
//! written.

use orderflow_schemas::Timestamp;
use serde_json::Value;

use super::*;

/// The settings file of the tests: production 48 h, finance 6 h, the rest default.
const LIMITS: &str = "# review limits of the plant\n[review_hours]\nproduction = 48\nfinance = 6\n\n\
                      [after_sales]\nvisit_after_days = 3\n";

fn time(v: &Value) -> Timestamp {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v} is not a time: {e}"))
}

/// The due time of `role`'s review in `order show --json`.
fn due_of(show: &Value, role: &str) -> Timestamp {
    let due = show["review_due_by"]
        .as_array()
        .expect("review_due_by")
        .iter()
        .find(|d| d["role"] == role)
        .unwrap_or_else(|| panic!("no due for {role}: {show}"));
    time(&due["due"])
}

#[test]
fn per_department_limits_from_orderflow_toml_set_the_review_dues() {
    let desk = Desk::new();
    desk.ensure();
    std::fs::write(desk.data.join("orderflow.toml"), LIMITS).expect("write the settings");

    let shown = desk.ok(&["settings", "--json"]).json();
    assert_eq!(shown["review_hours"]["production"], 48);
    assert_eq!(shown["review_hours"]["finance"], 6);
    assert_eq!(shown["review_hours"]["warehouse"], 24, "a key left out keeps its default");
    assert_eq!(shown["after_sales"]["visit_after_days"], 3);
    assert!(shown["source"].as_str().expect("a source").ends_with("orderflow.toml"), "{shown}");
    let text = desk.ok(&["settings"]).stdout;
    assert!(text.contains("orderflow.toml"), "{text}");
    assert!(text.lines().any(|l| l.contains("review_hours.production") && l.contains("48 hours")), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");

    let id = desk.receive(&[]);
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    let received = time(&show["received_at"]);
    assert_eq!(due_of(&show, "production"), received.plus_hours(48), "{show}");
    assert_eq!(due_of(&show, "finance"), received.plus_hours(6), "{show}");
    assert_eq!(due_of(&show, "procurement"), received.plus_hours(24), "{show}");
    // The event carries them too.
    let history = desk.history(&id);
    let received_event = history.iter().find(|e| e["type"] == "order_received").expect("order_received");
    assert!(
        received_event.to_string().contains(&show["review_due_by"][0]["due"].to_string()),
        "{received_event}"
    );

    // Without the file, the defaults (24 h each) and the words say so.
    std::fs::remove_file(desk.data.join("orderflow.toml")).expect("remove");
    let shown = desk.ok(&["settings", "--json"]).json();
    assert_eq!(shown["source"], Value::Null);
    assert_eq!(shown["review_hours"]["production"], 24);
    assert!(desk.ok(&["settings"]).stdout.contains("defaults"));
    let id = desk.receive(&[]);
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(due_of(&show, "production"), time(&show["received_at"]).plus_hours(24));
}

#[test]
fn config_names_another_settings_file() {
    let desk = Desk::new();
    desk.ensure();
    let file = desk.tmp.path().join("plant.toml");
    std::fs::write(&file, "[review_hours]\nwarehouse = 2\n").expect("write");
    let config = file.to_str().expect("UTF-8");
    let id = desk.receive(&[]);
    let show = desk.ok(&["order", "show", &id, "--json"]).json();
    assert_eq!(
        due_of(&show, "warehouse"),
        time(&show["received_at"]).plus_hours(24),
        "defaults without --config"
    );
    let id2 = desk.receive(&["--config", config]);
    let show2 = desk.ok(&["order", "show", &id2, "--json"]).json();
    assert_eq!(due_of(&show2, "warehouse"), time(&show2["received_at"]).plus_hours(2), "{show2}");
    assert_eq!(due_of(&show2, "finance"), time(&show2["received_at"]).plus_hours(24), "{show2}");
    let shown = desk.ok(&["settings", "--json", "--config", config]).json();
    assert_eq!(shown["source"], config);
    assert_eq!(shown["review_hours"]["warehouse"], 2);

    let missing = desk.tmp.path().join("nowhere.toml");
    desk.run(&["settings", "--config", missing.to_str().expect("UTF-8")])
        .failed(3, &["cannot read the settings file", "nowhere.toml"]);
}

#[test]
fn a_bad_settings_file_is_refused_naming_the_key_and_the_file_and_nothing_is_written() {
    let desk = Desk::new();
    desk.ensure();
    let id = desk.receive(&[]);
    let cases: [(&str, &[&str]); 5] = [
        ("[review_hours]\nfinance = 0\n", &["review_hours.finance = 0", "line 2", "1 to 720 hours"]),
        ("[review_hours]\nfinance = \"six\"\n", &["review_hours.finance", "whole number"]),
        ("[review_hours]\nquality = 5\n", &["unknown key review_hours.quality", "production"]),
        ("[review]\nfinance = 5\n", &["unknown key review", "[review_hours]"]),
        (
            "[after_sales]\nvisit_after_days = 9999\n",
            &["after_sales.visit_after_days = 9999", "1 to 365 days"],
        ),
    ];
    for (text, words) in cases {
        std::fs::write(desk.data.join("orderflow.toml"), text).expect("write the settings");
        let head = desk.snapshot(Some(&id));
        let mut all: Vec<&str> = words.to_vec();
        all.push("orderflow.toml");
        desk.run(&["order", "receive", "--customer", "X", "--line", "A:1:1.00", "--due", due()])
            .failed(3, &all);
        desk.run(&["order", "approve", &id, "--dept", "finance"]).failed(3, &all);
        desk.run(&["settings"]).failed(3, &all);
        assert_eq!(desk.snapshot(Some(&id)), head, "nothing written with {text:?}");
    }
}
