//! A data directory written by the release before identities (`tests/fixtures/v1-data`, every
//! event at schema version 1, no users) opens with today's build: the log verifies, every event
//! decodes — upcast — to what that release printed, the projections replay to the same board, an
//! export it made still verifies, and `users bootstrap` makes it usable with logins.

use std::path::{Path, PathBuf};

use orderflow_engine::{EventLog, LogConfig};
use orderflow_schemas::{OrderId, DIRECTORY_STREAM};
use serde_json::{json, Value};

use super::{copy_tree, exec, orderflow, Desk};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The fixture's events as that release printed them (`order history --json`).
fn printed() -> Vec<Value> {
    std::fs::read_to_string(fixture("v1-data.history.jsonl"))
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
        // The same fact, in today's form: version 2, the typed name as the login of no user.
        for key in ["type", "event_id", "order_id", "position", "version", "recorded_at", "at", "data"] {
            assert_eq!(now[key], old[key], "position {position}: {key}");
        }
        assert_eq!(now["schema_version"], 2);
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
    let board = super::users::run_with(&desk, &auditor, &["--json", "status", "--all"]).ok();
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
