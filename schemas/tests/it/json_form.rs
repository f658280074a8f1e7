//! The JSON form of events: it round-trips every sample with its envelope, and every document
//! validates against the committed JSON Schema of its type (checked with the `jsonschema` crate,
//! formats such as `date-time` included).

use std::collections::BTreeMap;

use orderflow_schemas::*;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::golden::{self, BLESS_HINT};
use crate::samples::samples;
use crate::strategies::{self, Range};

fn envelope(i: usize) -> JsonEnvelope {
    let n = u64::try_from(i).expect("small index");
    JsonEnvelope {
        event_id: Uuid::from_u128(0x0195_8f3a_7c10_7000_8000_0000_0000_0000 + u128::from(n)),
        order_id: OrderId::for_receive(Uuid::from_u128(0x5d0c_1d1e_6a4b_4c8e_9f00_1234_5678_9abc)),
        position: 1_000_000_007 + n,
        version: 3 + n,
        recorded_at: Timestamp::parse("2026-03-02T09:15:31.004821Z")
            .expect("time")
            .plus_hours(24 * i64::try_from(n).expect("small index")),
    }
}

/// The committed JSON Schema of one event type, compiled. When blessing, the generated one: it is
/// what the drift test (running in parallel) is committing.
fn committed_validator(ty: EventType) -> jsonschema::Validator {
    let file = golden::versioned_name(ty.name, ty.version, "json");
    let text = if golden::bless() {
        json_schema_for(ty).expect("every event type has a schema").into_bytes()
    } else {
        golden::read(&golden::crate_dir("json").join(&file))
            .unwrap_or_else(|| panic!("missing committed JSON Schema {file}: create it with `{BLESS_HINT}`"))
    };
    let schema: Value = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{file} is not a valid JSON Schema: {e}"))
}

fn violations(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[test]
fn the_direct_serializer_writes_the_same_document() {
    for (i, event) in samples().into_iter().enumerate() {
        let env = envelope(i);
        let bytes = event_to_json_vec(&event, &env).expect("serialize");
        let parsed: Value = serde_json::from_slice(&bytes).expect("parse");
        assert_eq!(parsed, event_to_json(&event, &env), "{}", event.body.event_type().name);
    }
}

#[test]
fn every_sample_round_trips_through_json() {
    for (i, event) in samples().into_iter().enumerate() {
        let env = envelope(i);
        let doc = event_to_json(&event, &env);
        let name = event.body.event_type().name;

        // Through text too, as an export file or a NATS payload carries it.
        let text = serde_json::to_string(&doc).expect("serialize");
        let reparsed: Value = serde_json::from_str(&text).expect("parse");
        assert_eq!(reparsed, doc, "{name}");

        let (back, back_env) = event_from_json(&reparsed).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, event, "{name}");
        assert_eq!(back_env, env, "{name}");
    }
}

#[test]
fn json_form_has_the_documented_shape() {
    let event = samples().into_iter().next().expect("a sample");
    let env = envelope(0);
    let doc = event_to_json(&event, &env);
    let mut keys: Vec<&str> = doc.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "actor",
            "at",
            "data",
            "event_id",
            "order_id",
            "position",
            "recorded_at",
            "schema_version",
            "type",
            "version"
        ]
    );
    assert_eq!(doc["type"], "order_received");
    assert_eq!(doc["schema_version"], 3);
    assert_eq!(doc["at"], "2026-03-02T09:15:30.250117Z");
    assert_eq!(doc["recorded_at"], "2026-03-02T09:15:31.004821Z");
    assert_eq!(doc["order_id"], env.order_id.to_string());
    let user = Actor::named("Chen Jing (陈静)", Role::Sales).user_id;
    assert_eq!(
        doc["actor"],
        json!({ "user_id": user, "login": "Chen Jing (陈静)", "role": "sales", "head": false })
    );
    assert!(doc.get("late").is_none(), "no late entry, no field");
    // An event of schema version 1 (an export made before identities) reads back, upcast.
    let mut v1 = doc.clone();
    v1["schema_version"] = json!(1);
    v1["actor"] = json!({ "name": "Chen Jing (陈静)", "role": "sales" });
    v1["data"].as_object_mut().expect("object").remove("review_due_by");
    assert_eq!(v1, event_to_json_at_version(&event, &env, 1));
    let (old, _) = event_from_json(&v1).expect("a v1 document reads");
    assert_eq!(
        old.actor,
        Actor {
            user_id: uuid::Uuid::nil(),
            login: "Chen Jing (陈静)".into(),
            role: Role::Sales,
            head: false
        }
    );
    assert_eq!(doc["data"]["channel"], "email");
    assert_eq!(doc["data"]["currency"], "CNY");
    assert_eq!(doc["data"]["requested_date"], "2026-04-15");
    assert_eq!(doc["data"]["total_minor"], 120_000 * 38 + 120_500 * 9 + 750 * 1_185);
    assert_eq!(doc["data"]["lines"][2]["unit_price_minor"], 1_185);
}

#[test]
fn every_sample_validates_against_its_committed_schema() {
    for (i, event) in samples().into_iter().enumerate() {
        let ty = event.body.event_type();
        let validator = committed_validator(ty);
        let doc = event_to_json(&event, &envelope(i));
        let errors = violations(&validator, &doc);
        assert!(errors.is_empty(), "{} does not validate:\n  {}\n{doc:#}", ty.name, errors.join("\n  "));
    }
}

#[test]
fn committed_schemas_reject_wrong_documents() {
    let event = samples().into_iter().next().expect("a sample");
    let ty = event.body.event_type();
    let validator = committed_validator(ty);
    let good = event_to_json(&event, &envelope(0));
    assert!(validator.is_valid(&good));

    type Mutation = (&'static str, fn(&mut Value));
    let mutations: [Mutation; 9] = [
        ("another type's name", |d| d["type"] = json!("order_shipped")),
        ("another schema version", |d| d["schema_version"] = json!(1)),
        ("no data", |d| {
            d.as_object_mut().expect("object").remove("data");
        }),
        ("no customer", |d| {
            d["data"].as_object_mut().expect("object").remove("customer");
        }),
        ("a lower-case currency", |d| d["data"]["currency"] = json!("cny")),
        ("an unknown channel", |d| d["data"]["channel"] = json!("fax")),
        ("a time that is not RFC 3339", |d| d["at"] = json!("yesterday")),
        ("a date that is not a date", |d| d["data"]["requested_date"] = json!("2026-02-30")),
        ("a negative quantity", |d| d["data"]["lines"][0]["quantity"] = json!(-1)),
    ];
    for (what, mutate) in mutations {
        let mut doc = good.clone();
        mutate(&mut doc);
        assert!(!validator.is_valid(&doc), "the schema accepts {what}");
    }
}

#[test]
fn event_from_json_names_what_is_wrong() {
    let event = samples().into_iter().next().expect("a sample");
    let good = event_to_json(&event, &envelope(0));

    let mut unknown = good.clone();
    unknown["type"] = json!("order_teleported");
    let err = event_from_json(&unknown).expect_err("unknown type");
    assert!(err.contains("order_teleported"), "{err}");

    let mut newer = good.clone();
    newer["schema_version"] = json!(9);
    let err = event_from_json(&newer).expect_err("unknown version");
    assert!(err.contains('9') && err.contains("order_received"), "{err}");

    let mut no_type = good.clone();
    no_type.as_object_mut().expect("object").remove("type");
    assert!(event_from_json(&no_type).expect_err("no type").contains("type"));

    let mut bad_data = good;
    bad_data["data"]["currency"] = json!("EURO");
    let err = event_from_json(&bad_data).expect_err("bad currency");
    assert!(err.contains("order_received") && err.contains("EURO"), "{err}");
}

/// Times and dates limited to years 0001..=9999: RFC 3339 and `YYYY-MM-DD` cannot write others
/// (the binary form can; see `codec.rs`).
#[test]
fn arbitrary_events_round_trip_through_json_and_validate() {
    // Compiled once, outside the runner, so that a missing schema fails once, not once per case.
    let validators: BTreeMap<u16, jsonschema::Validator> =
        EVENT_TYPES.iter().map(|t| (t.code, committed_validator(*t))).collect();
    let mut runner = TestRunner::new(ProptestConfig::default());
    let result = runner.run(&(strategies::event(Range::Rfc3339), 0..1000usize), |(event, i)| {
        let env = envelope(i);
        let doc = event_to_json(&event, &env);
        let errors = violations(&validators[&event.body.event_type().code], &doc);
        prop_assert!(errors.is_empty(), "{}\n{doc:#}", errors.join("\n"));
        prop_assert_eq!(event_from_json(&doc), Ok((event, env)));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
