//! A data directory written by the release before identities (`tests/fixtures/v1-data`, every
//! event at schema version 1, no users) opens with today's build: the log verifies, every event
//! decodes — upcast — to what that release printed, the projections replay to the same board, an
//! export it made still verifies, and `users bootstrap` makes it usable with logins.
//!
//! And one written by the release with identities (`tests/fixtures/v2-data`, every event at
//! schema version 2, a user directory of 11 logins), the last before schema version 3 (issue 12:
//! eight event types gained fields): it opens and verifies, every event decodes — upcast — to
//! today's form of what that release printed and renders back at version 2 to exactly that
//! document, the board is the same, its signed export still verifies, and its users log in.

use std::path::{Path, PathBuf};

use orderflow_engine::{EventLog, LogConfig};
use orderflow_schemas::{Department, OrderId, DIRECTORY_STREAM};
use serde_json::{json, Value};

use super::{copy_tree, exec, orderflow, Desk};

/// The first read of an old directory's status board: success, and on stderr only the note that
/// the board saved by the older release (an older view layout) is folded again from the log.
#[track_caller]
fn refolded(out: super::Out) -> super::Out {
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("folded again from the log"), "the refold is told: {out:?}");
    for line in out.stderr.lines() {
        assert!(
            line.contains("folded again") || line.contains("view version"),
            "only the refold note: {out:?}"
        );
    }
    out
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The event types whose body changed in schema version 3 (issue 12), each with the fields it
/// gained; every other type is still at version 2.
const CHANGED_IN_V3: [(&str, &[&str]); 8] = [
    ("order_received", &["review_due_by"]),
    ("order_confirmed", &["revision", "expected_ship_date", "delivery_mode", "confirmed_via"]),
    ("order_changed", &["review_due_by", "request_id", "initiated_by"]),
    ("order_cancelled", &["initiated_by"]),
    ("order_shipped", &["revision", "unconfirmed_reason"]),
    ("complaint_opened", &["assignee", "respond_by"]),
    ("complaint_resolved", &["remedy"]),
    ("order_closed", &["override_reason"]),
];

/// The fields `ty` gained in version 3 (none for a type that did not change).
fn added_in_v3(ty: &str) -> &'static [&'static str] {
    CHANGED_IN_V3.iter().find(|(t, _)| *t == ty).map(|(_, f)| *f).unwrap_or(&[])
}

/// Today's `data` of an upcast event against the `data` an older release printed: every old
/// field the same, and the fields added in version 3 what the upcast gives an event recorded
/// before them (null; `review_due_by`: every department due at the old `review_due`, none when
/// it had none).
#[track_caller]
fn assert_upcast_data(now: &Value, old: &Value, ty: &str, position: u64) {
    let (now_data, old_data) = (now.as_object().expect("data"), old.as_object().expect("old data"));
    for (key, value) in old_data {
        assert_eq!(now_data.get(key), Some(value), "position {position} ({ty}): data.{key}");
    }
    let added = added_in_v3(ty);
    for (key, value) in now_data.iter().filter(|(k, _)| !old_data.contains_key(*k)) {
        assert!(added.contains(&key.as_str()), "position {position} ({ty}): data.{key} is new: {value}");
        let expected = if key == "review_due_by" {
            let due = &old_data["review_due"];
            let every = || Department::ALL.iter().map(|d| json!({ "role": d.role(), "due": due })).collect();
            Value::Array(if due.is_null() { Vec::new() } else { every() })
        } else {
            Value::Null
        };
        assert_eq!(*value, expected, "position {position} ({ty}): data.{key}");
    }
    for key in added {
        assert!(now_data.contains_key(*key), "position {position} ({ty}): data.{key} missing");
    }
}

/// Today's schema version of `ty`: 3 for the eight types changed by issue 12, else 2.
fn version_now(ty: &str) -> u64 {
    if CHANGED_IN_V3.iter().any(|(t, _)| *t == ty) {
        3
    } else {
        2
    }
}

/// The fixture's events as that release printed them (`order history --json`).
fn printed() -> Vec<Value> {
    printed_from("v1-data.history.jsonl")
}

fn printed_from(name: &str) -> Vec<Value> {
    std::fs::read_to_string(fixture(name))
        .expect("read the printed history")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn a_directory_written_before_identities_verifies_and_decodes_to_what_its_release_printed() {
    let desk = Desk::empty();
    copy_tree(&fixture("v1-data"), &desk.data);
    let log = EventLog::open(LogConfig::existing(&desk.data)).expect("today's build opens it");
    let report = log.verify(&mut |_| {}).expect("the log verifies");
    assert_eq!((report.events, report.streams), (29, 3));
    let printed = printed();
    assert_eq!(printed.len(), 28);
    for old in &printed {
        let position = old["position"].as_u64().expect("position");
        let order: OrderId = old["order_id"].as_str().expect("order id").parse().expect("an id");
        let stored = log.read_from(position, 1).expect("read").into_iter().next().expect("the event");
        assert_eq!(stored.schema_version, 1, "written at version 1");
        let (event, env) = orderflow::app::decode_stored(&stored, order).expect("decodes, upcast");
        let now = orderflow_schemas::event_to_json(&event, &env);
        // The same fact, in today's form: version 2 (3 for the types changed since, with their
        // new fields as the upcast leaves them), the typed name as the login of no user.
        for key in ["type", "event_id", "order_id", "position", "version", "recorded_at", "at"] {
            assert_eq!(now[key], old[key], "position {position}: {key}");
        }
        let ty = old["type"].as_str().expect("type");
        assert_upcast_data(&now["data"], &old["data"], ty, position);
        assert_eq!(now["schema_version"], version_now(ty), "position {position} ({ty})");
        assert_eq!(
            now["actor"],
            json!({ "user_id": "00000000-0000-0000-0000-000000000000", "login": old["actor"]["name"],
                    "role": old["actor"]["role"], "head": false }),
            "position {position}"
        );
        // And rendered as that release wrote it, byte for byte the same document.
        assert_eq!(orderflow_schemas::event_to_json_at_version(&event, &env, 1), *old, "position {position}");
    }
    log.close().expect("close");
}

#[test]
fn an_export_made_before_identities_still_verifies_offline() {
    let desk = Desk::empty();
    std::fs::create_dir_all(desk.root()).expect("root");
    let mut cmd = orderflow(desk.root());
    cmd.args(["audit", "verify-export"]).arg(fixture("v1-data.export.json"));
    let out = exec(cmd).ok();
    assert!(out.stdout.contains("export intact") && out.stdout.contains("24 events"), "{out:?}");
    assert!(out.stdout.contains("not signed"), "an old export carries no signature, and is told so: {out:?}");
}

#[test]
fn users_bootstrap_makes_an_old_directory_usable_and_the_board_is_the_same() {
    let desk = Desk::empty();
    copy_tree(&fixture("v1-data"), &desk.data);
    // Before a bootstrap nothing is done on it.
    desk.run(&["status"]).failed(3, &["has no users yet", "users bootstrap"]);
    super::users::bootstrap(&desk, "wu.admin", "wu-password-1");
    let admin = ("wu.admin".to_string(), "wu-password-1".to_string());
    super::users::run_with(&desk, &admin, &["users", "list"]).ok();
    let auditor = super::users::add(&desk, "wu.admin", "wu-password-1", "qian.audit", "auditor");
    let board = refolded(super::users::run_with(&desk, &auditor, &["--json", "status", "--all"]));
    let now: Vec<Value> = serde_json::from_str(&board.stdout).expect("the board as JSON");
    let then: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("v1-data.status.json")).expect("read"))
            .expect("JSON");
    let states = |rows: &[Value]| -> Vec<(String, String)> {
        rows.iter()
            .map(|r| {
                (
                    r["order_id"].as_str().unwrap_or("").to_string(),
                    r["state"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    assert_eq!(states(&now), states(&then), "the same orders in the same states");
    // The whole log verifies: the old orders and the new user directory.
    let verify = super::users::run_with(&desk, &auditor, &["audit", "verify"]).ok();
    assert!(verify.stdout.contains("over 3 orders and the user directory"), "{verify:?}");
    let log = EventLog::open(LogConfig::existing(&desk.data)).expect("open");
    assert!(log.stream_version(DIRECTORY_STREAM).expect("version") >= 2, "the bootstrap and the auditor");
    log.close().expect("close");
}

// ---- v2-data: the release with identities, before schema version 3 -------------------------

/// The fixture's logins: login, password, role.
fn v2_users() -> Vec<(String, String, String)> {
    std::fs::read_to_string(fixture("v2-data.users.txt"))
        .expect("read the logins")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(w.len(), 3, "LOGIN PASSWORD ROLE: {l:?}");
            (w[0].to_string(), w[1].to_string(), w[2].to_string())
        })
        .collect()
}

/// A desk holding a copy of `v2-data` (the fixture itself is never opened).
fn v2_desk() -> Desk {
    let desk = Desk::empty();
    copy_tree(&fixture("v2-data"), &desk.data);
    desk
}

/// `args` on the desk's copy as `login` of the fixture.
fn v2_run(desk: &Desk, login: &str, args: &[&str]) -> super::Out {
    let (_, password, _) =
        v2_users().into_iter().find(|(l, _, _)| l == login).unwrap_or_else(|| panic!("no login {login}"));
    super::users::run_with(desk, &(login.to_string(), password), args)
}

#[test]
fn a_directory_written_before_schema_version_3_verifies_and_decodes_to_what_its_release_printed() {
    let desk = v2_desk();
    let log = EventLog::open(LogConfig::existing(&desk.data)).expect("today's build opens it");
    let report = log.verify(&mut |_| {}).expect("the log verifies");
    assert_eq!(report.events, 54, "54 events");
    assert_eq!(log.head(), 54);
    let printed = printed_from("v2-data.history.jsonl");
    assert_eq!(printed.len(), 43, "the three orders' events as printed");
    let mut upcast = std::collections::BTreeSet::new();
    for old in &printed {
        let position = old["position"].as_u64().expect("position");
        let order: OrderId = old["order_id"].as_str().expect("order id").parse().expect("an id");
        let stored = log.read_from(position, 1).expect("read").into_iter().next().expect("the event");
        assert_eq!(stored.schema_version, 2, "position {position}: written at version 2");
        assert_eq!(old["schema_version"], 2, "position {position}: printed at version 2");
        let (event, env) = orderflow::app::decode_stored(&stored, order).expect("decodes, upcast");
        let now = orderflow_schemas::event_to_json(&event, &env);
        // The same fact in today's form: the same envelope and actor (a user of the directory),
        // version 3 for the eight changed types with their new fields as the upcast leaves them.
        for key in ["type", "event_id", "order_id", "position", "version", "recorded_at", "actor", "at"] {
            assert_eq!(now[key], old[key], "position {position}: {key}");
        }
        assert_eq!(now.get("late"), old.get("late"), "position {position}: no late entry then or now");
        let ty = old["type"].as_str().expect("type");
        assert_eq!(now["schema_version"], version_now(ty), "position {position} ({ty})");
        assert_upcast_data(&now["data"], &old["data"], ty, position);
        if version_now(ty) == 3 {
            upcast.insert(ty.to_string());
        }
        // And rendered as that release wrote it: exactly the printed document.
        assert_eq!(orderflow_schemas::event_to_json_at_version(&event, &env, 2), *old, "position {position}");
    }
    // The fixture holds every one of the eight changed types, so each upcast was exercised.
    let changed: std::collections::BTreeSet<String> =
        CHANGED_IN_V3.iter().map(|(t, _)| t.to_string()).collect();
    assert_eq!(upcast, changed, "every type changed in version 3 is in the fixture");
    // The events not printed (the user directory's) decode too.
    let printed_positions: std::collections::BTreeSet<u64> =
        printed.iter().map(|e| e["position"].as_u64().expect("position")).collect();
    let all = log.read_from(1, usize::MAX).expect("read the whole log");
    assert_eq!(all.len(), 54);
    for stored in all.iter().filter(|s| !printed_positions.contains(&s.position)) {
        assert_eq!(
            stored.stream, DIRECTORY_STREAM,
            "position {}: only the directory is not printed",
            stored.position
        );
        orderflow_schemas::decode_event(stored.event_type, stored.schema_version, &stored.payload)
            .unwrap_or_else(|e| {
                panic!("directory event at position {} does not decode: {e}", stored.position)
            });
    }
    log.close().expect("close");
}

#[test]
fn audit_verify_passes_on_a_directory_written_before_schema_version_3() {
    let desk = v2_desk();
    let out = v2_run(&desk, "lin.audit", &["audit", "verify"]).ok();
    assert!(
        out.stdout.contains("log intact: 54 events in 50 appends over 3 orders and the user directory"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("0f0f2a39c16942ee29eb467772665767558ead82408750e43d6cf2989416a9ff"),
        "the head hash that release reported: {out:?}"
    );
}

#[test]
fn the_board_of_a_directory_written_before_schema_version_3_is_the_same() {
    let desk = v2_desk();
    let board = refolded(v2_run(&desk, "lin.audit", &["--json", "status", "--all"]));
    let now: Vec<Value> = serde_json::from_str(&board.stdout).expect("the board as JSON");
    let then: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("v2-data.status.json")).expect("read"))
            .expect("JSON");
    assert_eq!(then.len(), 3);
    assert_eq!(now.len(), then.len(), "the same orders: {now:?}");
    for old in &then {
        let id = &old["order_id"];
        let row = now.iter().find(|r| r["order_id"] == *id).unwrap_or_else(|| panic!("order {id} missing"));
        // Every field the board had then, the same, also inside nested objects (fields added
        // since are not compared).
        for (key, value) in old.as_object().expect("a row") {
            let got = row.get(key).unwrap_or_else(|| panic!("order {id}: {key} missing"));
            assert!(holds(got, value), "order {id}: {key}: now {got}, then {value}");
        }
    }
}

/// Whether `now` holds everything `then` had: the same scalars, arrays of the same length whose
/// items hold the old ones, objects with every old key holding its old value.
fn holds(now: &Value, then: &Value) -> bool {
    match (now, then) {
        (Value::Object(n), Value::Object(t)) => t.iter().all(|(k, v)| n.get(k).is_some_and(|x| holds(x, v))),
        (Value::Array(n), Value::Array(t)) => n.len() == t.len() && n.iter().zip(t).all(|(x, v)| holds(x, v)),
        _ => now == then,
    }
}

#[test]
fn an_export_made_before_schema_version_3_still_verifies_offline() {
    let desk = Desk::empty();
    std::fs::create_dir_all(desk.root()).expect("root");
    let export = fixture("v2-data.export.json");
    let mut cmd = orderflow(desk.root());
    cmd.args(["audit", "verify-export"]).arg(&export);
    let out = exec(cmd).ok();
    assert!(out.stdout.contains("export intact") && out.stdout.contains("29 events"), "{out:?}");
    assert!(out.stdout.contains("positions 12..51"), "{out:?}");
    // Signed by the instance that wrote it; checked against that key as the trusted one.
    let key = "65a2c5abfb9eb155d59462934d9afe857b51960e4c508e8bc6f6fdb25588294c";
    let mut cmd = orderflow(desk.root());
    cmd.args(["audit", "verify-export"]).arg(&export).args(["--key", key, "--json"]);
    let v: Value = serde_json::from_str(&exec(cmd).ok().stdout).expect("JSON");
    assert_eq!((v["intact"].clone(), v["signature"].clone()), (json!(true), json!("trusted")), "{v}");
}

#[test]
fn the_users_of_a_directory_written_before_schema_version_3_still_log_in() {
    let desk = v2_desk();
    let users = v2_users();
    assert_eq!(users.len(), 11);
    for (login, password, role) in &users {
        let who = (login.clone(), password.clone());
        let out = super::users::run_with(&desk, &who, &["--json", "status", "--all"]);
        assert!(!out.stderr.contains("login refused"), "{login} ({role}) no longer logs in: {out:?}");
        assert_eq!(out.code, 0, "{login} ({role}): {out:?}");
    }
    // The list of users is the one that release made, each with the role it gave.
    let list = v2_run(&desk, "admin", &["users", "list"]).ok();
    for (login, _, role) in &users {
        let line = list
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(login.as_str()))
            .unwrap_or_else(|| panic!("{login} not listed: {list:?}"));
        assert!(line.contains(role.as_str()), "{login} holds {role}: {line}");
    }
    // A wrong password is still refused.
    let out = super::users::run_with(&desk, &("li.na".into(), "fixture-password-1".into()), &["status"]);
    out.failed(3, &["login refused"]);
}
