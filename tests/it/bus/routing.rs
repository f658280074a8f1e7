//! (d) The routing table: the default, configuration files and their errors, consumer plans.

use std::collections::BTreeSet;

use orderflow::bus::routing::{RoutingError, DEPARTMENTS};
use orderflow::bus::{ConsumerPlan, RoutingTable};

fn types(routing: &RoutingTable, d: &str) -> Vec<&'static str> {
    routing.event_types(d).unwrap_or_else(|| panic!("{d} missing")).iter().copied().collect()
}

fn sorted(v: &[&'static str]) -> Vec<&'static str> {
    v.iter().copied().collect::<BTreeSet<_>>().into_iter().collect()
}

#[test]
fn default_table_is_the_documented_one() {
    let r = RoutingTable::default();
    let expected: &[(&str, &[&str])] = &[
        (
            "customer_service",
            &[
                "order_signed",
                "order_refused",
                "complaint_opened",
                "complaint_resolved",
                "complaint_reopened",
                "feedback_recorded",
            ],
        ),
        (
            "finance",
            &["order_received", "order_approved", "order_signed", "order_cancelled", "order_refused"],
        ),
        (
            "logistics",
            &[
                "order_approved",
                "production_completed",
                "order_shipped",
                "shipment_delayed",
                "order_delivered",
                "order_cancelled",
            ],
        ),
        ("procurement", &["order_approved", "order_changed", "order_cancelled"]),
        (
            "production",
            &[
                "order_approved",
                "order_changed",
                "order_cancelled",
                "production_scheduled",
                "quality_inspected",
            ],
        ),
        ("quality", &["quality_inspected", "complaint_opened", "complaint_resolved", "complaint_reopened"]),
        ("warehouse", &["order_approved", "order_changed", "order_cancelled", "order_shipped"]),
    ];
    assert_eq!(r.departments().collect::<Vec<_>>(), expected.iter().map(|(d, _)| *d).collect::<Vec<_>>());
    for (d, t) in expected {
        assert_eq!(types(&r, d), sorted(t), "{d}");
    }
    assert!(r.wants("finance", "order_received"));
    assert!(!r.wants("finance", "order_shipped"));
    assert!(!r.wants("sales", "order_received"), "sales is not routed by default");
    // Every default department needs several types: one consumer over every subject each.
    for d in r.departments() {
        assert_eq!(ConsumerPlan::new(&r, d).expect("plan").filter_subject, "orderflow.events.>");
    }
}

#[test]
fn a_file_replaces_the_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("routing.json");
    std::fs::write(
        &path,
        r#"{"departments": {"sales": ["order_received", "order_confirmed"], "quality": ["quality_inspected"]}}"#,
    )
    .expect("write");
    let r = RoutingTable::load(&path).expect("load");
    assert_eq!(r.departments().collect::<Vec<_>>(), ["quality", "sales"]);
    assert_eq!(types(&r, "sales"), ["order_confirmed", "order_received"]);
    let quality = ConsumerPlan::new(&r, "quality").expect("plan");
    assert_eq!(quality.filter_subject, "orderflow.events.quality_inspected.>");
    assert_eq!(quality.durable_name, "orderflow-quality");
    let sales = ConsumerPlan::new(&r, "sales").expect("plan");
    assert_eq!(sales.filter_subject, "orderflow.events.>");
    let err = ConsumerPlan::new(&r, "finance").expect_err("not in this table");
    assert_eq!(err.department, "finance");
    assert!(err.to_string().contains("quality, sales"), "{err}");
}

#[test]
fn unknown_event_types_are_named() {
    let text = r#"{"departments": {"production": ["order_approved", "order_shiped"], "finance": ["bogus"]}}"#;
    let err = RoutingTable::from_json_str(text, "routing.json").expect_err("unknown types");
    match &err {
        RoutingError::UnknownEventTypes { unknown, .. } => assert_eq!(
            unknown,
            &[
                ("finance".to_string(), "bogus".to_string()),
                ("production".to_string(), "order_shiped".to_string())
            ]
        ),
        other => panic!("wrong error: {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("'order_shiped' (production)") && msg.contains("'bogus' (finance)"), "{msg}");
    assert!(msg.contains("routing.json"), "{msg}");
}

#[test]
fn unknown_departments_are_named() {
    let text = r#"{"departments": {"finanse": ["order_received"], "marketing": ["order_received"]}}"#;
    let err = RoutingTable::from_json_str(text, "x").expect_err("unknown departments");
    assert!(
        matches!(&err, RoutingError::UnknownDepartments { unknown, .. } if unknown == &["finanse", "marketing"])
    );
    let msg = err.to_string();
    assert!(msg.contains("finanse, marketing") && msg.contains(&DEPARTMENTS.join(", ")), "{msg}");
}

#[test]
fn malformed_files_are_refused() {
    for (text, what) in [
        ("{\"departments\": {\"finance\": [\"order_received\"]", "truncated"),
        ("{\"routes\": {}}", "unknown field"),
        ("{\"departments\": {\"finance\": \"order_received\"}}", "not a list"),
        ("[]", "not an object"),
    ] {
        let err = RoutingTable::from_json_str(text, "bad.json").expect_err(what);
        assert!(matches!(err, RoutingError::Syntax { .. }), "{what}: {err:?}");
        assert!(err.to_string().contains("bad.json"), "{what}: {err}");
    }
    assert!(matches!(
        RoutingTable::from_json_str(r#"{"departments": {}}"#, "x"),
        Err(RoutingError::NoDepartment { .. })
    ));
    let err =
        RoutingTable::from_json_str(r#"{"departments": {"quality": [], "finance": ["order_signed"]}}"#, "x")
            .expect_err("empty list");
    assert!(
        matches!(&err, RoutingError::EmptyDepartments { departments, .. } if departments == &["quality"])
    );
    let missing = std::path::Path::new("/nonexistent/routing.json");
    let err = RoutingTable::load(missing).expect_err("missing file");
    assert!(matches!(err, RoutingError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/routing.json"), "{err}");
}
