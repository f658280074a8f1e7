//! What a clerk sees, on the demo's data: every text output fits 120 columns (measured in
//! display width: a Chinese character counts 2) without a cut figure, amount, id, tracking
//! number or name; no Rust debug text anywhere; ids printed in tables can be typed back; the
//! status of an order reads the same in `order show` and on the board; empty results say so.

use orderflow_projections::display_width;
use serde_json::Value;

use super::Desk;

/// The width every text output must fit.
const COLUMNS: usize = 120;

/// Text that only Rust's debug formatting writes.
const DEBUG_MARKS: &[&str] = &["Version(", "Timestamp(", "Date(", "Some(", "OrderId(", "Until {", "Time("];

/// The demo's data, with every read a clerk has run on it: (command line, stdout).
struct Screens {
    desk: Desk,
    board: Vec<Value>,
}

impl Screens {
    fn new() -> Self {
        let desk = Desk::empty();
        let out = desk.ok(&["demo"]);
        desk.log_in_from_demo(&out, "audit.office");
        let board = desk.ok(&["status", "--all", "--json"]).json_array();
        assert!(board.len() >= 300, "the demo's 300 orders are on the board");
        Self { desk, board }
    }

    fn ids(&self) -> Vec<String> {
        self.board.iter().map(|r| r["order_id"].as_str().expect("an id").to_string()).collect()
    }
}

trait JsonArray {
    fn json_array(&self) -> Vec<Value>;
}

impl JsonArray for super::Out {
    fn json_array(&self) -> Vec<Value> {
        let v: Value =
            serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"));
        v.as_array().unwrap_or_else(|| panic!("not a JSON array: {self:?}")).clone()
    }
}

#[track_caller]
fn check_text(args: &[&str], text: &str) {
    assert!(!text.trim().is_empty(), "{args:?} printed nothing");
    for (n, line) in text.lines().enumerate() {
        let width = display_width(line);
        assert!(width <= COLUMNS, "{args:?} line {} is {width} columns wide:\n{line}\n\n{text}", n + 1);
    }
    assert!(!text.contains('~'), "{args:?} cut a cell (~):\n{text}");
    assert!(!text.contains("{ "), "{args:?} prints Rust debug text:\n{text}");
    check_no_debug(args, text);
}

#[track_caller]
fn check_no_debug(args: &[&str], text: &str) {
    for mark in DEBUG_MARKS {
        assert!(!text.contains(mark), "{args:?} prints Rust debug text {mark:?}:\n{text}");
    }
}

fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02} {currency}", minor.unsigned_abs() / 100, minor.unsigned_abs() % 100)
}

#[test]
fn every_text_output_of_the_demo_fits_120_columns_without_cuts_or_debug_text() {
    let s = Screens::new();
    let ids = s.ids();
    let reads: Vec<Vec<String>> = [
        vec!["status"],
        vec!["status", "--all"],
        vec!["status", "--at-risk"],
        vec!["status", "--late"],
        vec!["status", "--overdue"],
        vec!["status", "--state", "closed"],
        vec!["status", "--customer", "hotel"],
        vec!["kpi"],
        vec!["kpi", "--by", "customer"],
        vec!["kpi", "--by", "product"],
        vec!["kpi", "--by", "channel"],
        vec!["audit", "verify"],
    ]
    .into_iter()
    .map(|a| a.into_iter().map(String::from).collect())
    .chain(ids.iter().step_by(7).flat_map(|id| {
        [
            vec!["order".to_string(), "show".into(), id.clone()],
            vec!["order".to_string(), "history".into(), id.clone()],
            vec![
                "audit".to_string(),
                "history".into(),
                id.clone(),
                "--purpose".into(),
                "screens test".into(),
            ],
            vec!["audit".to_string(), "replay".into(), id.clone(), "--version".into(), "3".into()],
            vec!["audit".to_string(), "retention".into(), id.clone()],
        ]
    }))
    .chain([vec!["audit".to_string(), "access".into()]])
    .collect();
    let mut screens = 0;
    for args in &reads {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = s.desk.ok(&args);
        check_text(&args, &out.stdout);
        let mut json_args = args.clone();
        json_args.push("--json");
        let json = s.desk.ok(&json_args);
        check_no_debug(&json_args, &json.stdout);
        screens += 2;
    }
    assert!(screens > 200, "{screens} screens checked");

    // The whole board: every order's id prefix, amount, customer and tracking number whole,
    // wide characters included.
    let all = s.desk.ok(&["status", "--all"]).stdout;
    let wide = s.desk.ok(&["status", "--all", "--wide"]).stdout;
    check_text(&["status", "--all"], &all);
    assert!(all.contains("光明乳业") && all.contains("上海华联超市"), "the demo has Chinese customer names");
    for row in &s.board {
        let id = row["order_id"].as_str().expect("id").replace('-', "");
        let total =
            money(row["total_minor"].as_i64().expect("total"), row["currency"].as_str().expect("currency"));
        assert!(all.contains(&id[..8]), "{id} not on the board");
        assert!(all.contains(&total), "the amount {total} of {id} is not shown whole");
        if let Some(tracking) = row["shipment"]["tracking_number"].as_str() {
            assert!(wide.contains(tracking), "tracking number {tracking} is not shown whole with --wide");
        }
    }
    assert!(wide.lines().any(|l| display_width(l) > COLUMNS), "--wide shows every column, however wide");
}

#[test]
fn ids_printed_by_a_table_can_be_typed_back_and_the_board_and_order_show_agree() {
    let s = Screens::new();
    let ids = s.ids();
    let board = s.desk.ok(&["status", "--all"]).stdout;
    let printed: Vec<&str> = board
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.len() >= 8 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    assert_eq!(printed.len(), ids.len(), "one id per order on the board:\n{board}");
    for (prefix, row) in printed.iter().zip(&s.board) {
        let show = s.desk.ok(&["order", "show", prefix, "--json"]).json();
        let id = row["order_id"].as_str().expect("id");
        assert_eq!(show["order_id"].as_str(), Some(id), "{prefix} names its own order");
        assert!(id.replace('-', "").starts_with(prefix));
        assert_eq!(show["status"], row["state"], "order show and the board disagree on {id}");
    }
    // A prefix a few digits long matches several orders: refused, naming them.
    let short: String = ids[0].chars().take(6).collect();
    let sharing = ids.iter().filter(|i| i.starts_with(&short)).count();
    let out = s.desk.run(&["order", "show", &short]);
    if sharing == 1 {
        out.ok();
    } else {
        out.failed(3, &["more than one order"]);
    }
    s.desk.run(&["order", "show", "0123"]).failed(2, &["at least 6"]);
    s.desk.run(&["order", "show", "zzzzzz"]).failed(2, &["not a hex digit"]);
}

#[test]
fn a_prefix_shared_by_several_orders_is_refused_listing_them() {
    let s = Screens::new();
    let ids: Vec<String> = s.ids().iter().map(|i| i.replace('-', "")).collect();
    // Find the longest prefix at least 6 digits long that two orders share, if the demo has one;
    // else show that every 6-digit prefix names one order.
    let mut sorted = ids.clone();
    sorted.sort();
    let shared =
        sorted.windows(2).map(|w| w[0].chars().zip(w[1].chars()).take_while(|(a, b)| a == b).count()).max();
    let shared = shared.unwrap_or(0);
    if shared >= 6 {
        let pair = sorted.windows(2).find(|w| w[0][..shared] == w[1][..shared]).expect("the pair");
        let out = s.desk.run(&["order", "show", &pair[0][..shared]]).failed(3, &["more than one order"]);
        assert!(out.stderr.contains(&pair[0]) && out.stderr.contains(&pair[1]), "{out:?}");
    } else {
        for id in &ids {
            s.desk.ok(&["order", "show", &id[..6]]);
        }
    }
}

#[test]
fn filters_match_customers_by_part_of_the_name_in_any_case_and_empty_results_say_so() {
    let s = Screens::new();
    let exact = s.desk.ok(&["status", "--all", "--customer", "Metro Hotels", "--json"]).json_array();
    let lower = s.desk.ok(&["status", "--all", "--customer", "metro hotels", "--json"]).json_array();
    let part = s.desk.ok(&["status", "--all", "--customer", "METRO", "--json"]).json_array();
    let ids = |rows: &[Value]| rows.iter().map(|r| r["order_id"].to_string()).collect::<Vec<_>>();
    assert!(!exact.is_empty());
    assert_eq!(ids(&exact), ids(&lower), "ignoring case");
    assert_eq!(ids(&exact), ids(&part), "by part of the name");
    let none = s.desk.ok(&["status", "--customer", "nobody by that name"]);
    assert_eq!(none.stdout, "no orders match\n");
}
