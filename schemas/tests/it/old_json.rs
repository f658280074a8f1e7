//! JSON documents written by the release before schema version 3 (`tests/data/v2-data.history.jsonl`,
//! every event at version 2) read with `event_from_json`, upcast, and render back at version 2
//! byte for byte: an export or a message of the previous release still verifies. Likewise the
//! documents of the release before identities (`v1-data.history.jsonl`, version 1).

use orderflow_schemas::*;
use serde_json::Value;

use crate::golden;
use crate::versions::{as_read_from_v2, CHANGED_IN_V3};

fn documents() -> Vec<(String, Value)> {
    read_lines("v2-data.history.jsonl")
}

fn read_lines(file: &str) -> Vec<(String, Value)> {
    let path = golden::crate_dir("tests/data").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|line| (line.to_string(), serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"))))
        .collect()
}

#[test]
fn version_2_documents_upcast_and_render_back_byte_for_byte() {
    let docs = documents();
    assert_eq!(docs.len(), 43);
    let mut changed_seen: Vec<&str> = Vec::new();
    for (line, doc) in &docs {
        let name = doc["type"].as_str().expect("type");
        assert_eq!(doc["schema_version"], 2, "{line}");
        let (event, env) = event_from_json(doc).unwrap_or_else(|e| panic!("{e}\n{line}"));
        let t = event.body.event_type();
        assert_eq!(t.name, name);
        if CHANGED_IN_V3.contains(&name) {
            if !changed_seen.contains(&name) {
                changed_seen.push(name);
            }
            // Read as the upcast image: every field added in version 3 unset.
            assert_eq!(as_read_from_v2(&event), event, "{name}: a field added in version 3 is set\n{line}");
            assert_eq!(event_to_json(&event, &env)["schema_version"], 3, "{name}");
        }
        let back = event_to_json_at_version(&event, &env, 2);
        assert_eq!(&back, doc, "{name}: rendered back at version 2 differs");
        assert_eq!(serde_json::to_string(&back).expect("json"), *line, "{name}: not byte for byte");
    }
    changed_seen.sort_unstable();
    let mut expected = CHANGED_IN_V3.to_vec();
    expected.sort_unstable();
    assert_eq!(changed_seen, expected, "a document of every type changed in version 3");
}

/// What the upcast makes of the real documents, spelled out for a few.
#[test]
fn version_2_documents_upcast_to_the_expected_values() {
    let docs = documents();
    let event = |name: &str| {
        let (_, doc) = docs.iter().find(|(_, d)| d["type"] == name).unwrap_or_else(|| panic!("no {name}"));
        event_from_json(doc).expect("reads").0.body
    };
    let EventBody::OrderReceived(e) = event("order_received") else { panic!("order_received") };
    assert_eq!(e.customer, "Harbour Cafe");
    assert_eq!(e.review_due, Timestamp::parse("2026-12-03T17:48:29.871611Z").expect("time"));
    let due: Vec<RoleDue> =
        Department::ALL.iter().map(|d| RoleDue { role: d.role(), due: e.review_due }).collect();
    assert_eq!(e.review_due_by, due);
    let EventBody::OrderConfirmed(e) = event("order_confirmed") else { panic!("order_confirmed") };
    assert_eq!(
        (e.revision, e.expected_ship_date, e.delivery_mode, e.confirmed_via),
        (None, None, None, None)
    );
    let EventBody::OrderChanged(e) = event("order_changed") else { panic!("order_changed") };
    assert_eq!((e.request_id, e.initiated_by), (None, None));
    let EventBody::OrderCancelled(e) = event("order_cancelled") else { panic!("order_cancelled") };
    assert_eq!(e.initiated_by, None);
    let EventBody::OrderShipped(e) = event("order_shipped") else { panic!("order_shipped") };
    assert_eq!((e.revision, e.unconfirmed_reason), (None, None));
    let EventBody::ComplaintOpened(e) = event("complaint_opened") else { panic!("complaint_opened") };
    assert_eq!((e.assignee, e.respond_by), (None, None));
    let EventBody::ComplaintResolved(e) = event("complaint_resolved") else { panic!("complaint_resolved") };
    assert_eq!(e.remedy, None);
    let EventBody::OrderClosed(e) = event("order_closed") else { panic!("order_closed") };
    assert_eq!(e.override_reason, None);
}

/// Every version 2 document validates against the frozen (or, for an unchanged type, current)
/// `<type>.v2.json`.
#[test]
fn version_2_documents_validate_against_the_v2_schemas() {
    for (line, doc) in documents() {
        let name = doc["type"].as_str().expect("type");
        let file = golden::versioned_name(name, 2, "json");
        let text =
            golden::read(&golden::crate_dir("json").join(&file)).unwrap_or_else(|| panic!("missing {file}"));
        let schema: Value = serde_json::from_slice(&text).expect("schema");
        let validator = jsonschema::options().should_validate_formats(true).build(&schema).expect("schema");
        let errors: Vec<String> =
            validator.iter_errors(&doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{file}: {}\n{line}", errors.join("\n"));
    }
}

/// The documents of the release before identities (`tests/data/v1-data.history.jsonl`, every
/// event at schema version 1, the actor a typed name) read, upcast through both steps, and render
/// back at version 1 byte for byte.
#[test]
fn version_1_documents_upcast_and_render_back_byte_for_byte() {
    let docs = read_lines("v1-data.history.jsonl");
    assert_eq!(docs.len(), 28);
    let mut changed_seen: Vec<&str> = Vec::new();
    for (line, doc) in &docs {
        let name = doc["type"].as_str().expect("type");
        assert_eq!(doc["schema_version"], 1, "{line}");
        let (event, env) = event_from_json(doc).unwrap_or_else(|e| panic!("{e}\n{line}"));
        assert_eq!(event.actor.user_id, uuid::Uuid::nil(), "{line}");
        assert_eq!(Some(event.actor.login.as_str()), doc["actor"]["name"].as_str(), "{line}");
        assert_eq!(event.late, None);
        if CHANGED_IN_V3.contains(&name) {
            if !changed_seen.contains(&name) {
                changed_seen.push(name);
            }
            assert_eq!(as_read_from_v2(&event), event, "{name}: a field added in version 3 is set\n{line}");
        }
        let back = event_to_json_at_version(&event, &env, 1);
        assert_eq!(&back, doc, "{name}: rendered back at version 1 differs");
        assert_eq!(serde_json::to_string(&back).expect("json"), *line, "{name}: not byte for byte");
    }
    changed_seen.sort_unstable();
    let mut expected = CHANGED_IN_V3.to_vec();
    expected.sort_unstable();
    assert_eq!(changed_seen, expected, "a document of every type changed in version 3");
}
