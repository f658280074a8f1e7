//! Global options: `--data-dir` and `--json` before or after the subcommand, `ORDERFLOW_DATA_DIR`,
//! the default data directory, errors as JSON, and a data directory that cannot be opened.

use super::{due, exec, orderflow, Desk, Stage};

const RECEIVE: &[&str] = &["order", "receive", "--customer", "Metro Hotels", "--line", "CHE-MOZ:40:9.40:kg"];

#[test]
fn global_options_go_before_or_after_the_subcommand() {
    let desk = Desk::new();
    desk.ensure();
    let data = desk.data.to_str().expect("a UTF-8 path");

    let mut before = orderflow(desk.root());
    before.args(["--data-dir", data, "--json"]).args(RECEIVE).args(["--due", due()]);
    let first = exec(before).ok().json();

    let mut after = orderflow(desk.root());
    after.args(RECEIVE).args(["--due", due(), "--data-dir", data, "--json"]);
    let second = exec(after).ok().json();

    let mut mixed = orderflow(desk.root());
    mixed
        .args(["--json", "order", "show"])
        .arg(second["order_id"].as_str().expect("id"))
        .args(["--data-dir", data]);
    let shown = exec(mixed).ok().json();
    assert_eq!(shown["status"], "received");

    for j in [&first, &second] {
        let id = j["order_id"].as_str().expect("order_id");
        assert_eq!(desk.types(id), ["order_received"], "both orders are in the one data directory");
    }
    assert_ne!(first["order_id"], second["order_id"]);
    assert_eq!(desk.head(), desk.base() + 2);
}

#[test]
fn the_data_dir_comes_from_orderflow_data_dir_unless_given() {
    let desk = Desk::new();
    desk.ensure();
    let mut cmd = orderflow(desk.root());
    cmd.env("ORDERFLOW_DATA_DIR", &desk.data).args(RECEIVE).args(["--due", due()]);
    let id = exec(cmd).ok().stdout.trim().to_string();
    assert_eq!(desk.types(&id), ["order_received"], "written where ORDERFLOW_DATA_DIR points");

    let other = desk.root().join("other");
    let mut show = orderflow(desk.root());
    show.env("ORDERFLOW_DATA_DIR", &other).args(["order", "show", &id, "--data-dir"]).arg(&desk.data);
    let out = exec(show).ok();
    assert!(out.stdout.contains("state        received"), "--data-dir wins over the environment: {out:?}");

    let mut elsewhere = orderflow(desk.root());
    elsewhere.env("ORDERFLOW_DATA_DIR", &other).args(["order", "show", &id]);
    exec(elsewhere).failed(1, &["no orderflow data directory"]);
    assert!(!other.exists(), "a read creates no data directory");
}

#[test]
fn without_a_data_dir_the_default_is_orderflow_data_in_the_working_directory() {
    let desk = Desk::new();
    let default = desk.root().join("orderflow-data");
    super::copy_tree(super::template(), &default);
    let mut cmd = orderflow(desk.root());
    cmd.args(RECEIVE).args(["--due", due()]);
    let id = exec(cmd).ok().stdout.trim().to_string();
    let out = super::run(&default, &["order", "history", &id, "--json"]).ok();
    // The receipt, and the read itself (recorded before it is answered).
    let types: Vec<String> =
        out.json_lines().iter().map(|e| e["type"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(types, ["order_received", "archive_accessed"]);
}

#[test]
fn with_json_a_refusal_is_one_json_object_on_stderr() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    let before = desk.snapshot(Some(&id));
    let out = desk.run(&["order", "ship", &id, "--carrier", "DB Schenker", "--tracking", "X1", "--json"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    let err: serde_json::Value = serde_json::from_str(&out.stderr).expect("stderr is JSON");
    assert_eq!(err["error"], "rejected");
    let message = err["message"].as_str().expect("a message");
    assert!(message.contains("cannot ship") && message.contains(&id[..8]), "{message}");
    assert_eq!(desk.snapshot(Some(&id)), before);

    let missing = desk.run(&["order", "show", "00000000-0000-4000-8000-000000000000", "--json"]);
    assert_eq!(missing.code, 3, "{missing:?}");
    let err: serde_json::Value = serde_json::from_str(&missing.stderr).expect("stderr is JSON");
    assert_eq!(err["error"], "rejected");
    assert!(err["message"].as_str().is_some_and(|m| m.contains("does not exist")), "{err}");
}

#[test]
fn a_data_dir_that_cannot_be_opened_fails_with_exit_1() {
    let desk = Desk::new();
    std::fs::write(&desk.data, "not a directory").expect("write a file");
    let mut args = RECEIVE.to_vec();
    args.extend(["--due", due()]);
    super::run(&desk.data, &args)
        .failed(1, &["no orderflow data directory", &desk.data.display().to_string()]);
    assert_eq!(std::fs::read_to_string(&desk.data).expect("still the file"), "not a directory");
}
