//! Upcasting of the eight types changed in schema version 3, over arbitrary values: the bytes
//! and JSON an older release wrote (`versions.rs`, independent of the decoder) read back as the
//! value's upcast image, and downcasting that image gives the old value back.

use orderflow_schemas::*;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::json;
use uuid::Uuid;

use crate::golden;
use crate::strategies::{self, Range};
use crate::versions::{self, as_read_from_v1, as_read_from_v2, old_form};

/// `downcast(upcast(v)) == v` for the old body `v` of a changed type, and the upcast sets every
/// field added in version 3 to `None` (`order_received`: every department due at `review_due`).
fn check_downcast_of_upcast(body: &EventBody) -> Result<(), TestCaseError> {
    macro_rules! arms {
        ($($variant:ident { $($new:ident),* }),*) => {
            match body {
                $(EventBody::$variant(b) => {
                    let old = v2::$variant::from(b.clone());
                    let up = $variant::from(old.clone());
                    $(prop_assert_eq!(&up.$new, &None, "{}", stringify!($new));)*
                    prop_assert_eq!(v2::$variant::from(up), old);
                })*
                EventBody::OrderReceived(b) => {
                    let old = v2::OrderReceived::from(b.clone());
                    let up = OrderReceived::from(old.clone());
                    let due: Vec<RoleDue> =
                        Department::ALL.iter().map(|d| RoleDue { role: d.role(), due: old.review_due }).collect();
                    prop_assert_eq!(&up.review_due_by, &due);
                    prop_assert_eq!(v2::OrderReceived::from(up), old);
                }
                EventBody::OrderChanged(b) => {
                    let old = v2::OrderChanged::from(b.clone());
                    let up = OrderChanged::from(old.clone());
                    prop_assert_eq!(&up.request_id, &None);
                    prop_assert_eq!(&up.initiated_by, &None);
                    let due: Vec<RoleDue> = old
                        .review_due
                        .map(|due| Department::ALL.iter().map(|d| RoleDue { role: d.role(), due }).collect())
                        .unwrap_or_default();
                    prop_assert_eq!(&up.review_due_by, &due);
                    prop_assert_eq!(v2::OrderChanged::from(up), old);
                }
                other => prop_assert!(false, "not a type changed in version 3: {other:?}"),
            }
        };
    }
    arms!(
        OrderConfirmed { revision, expected_ship_date, delivery_mode, confirmed_via },
        OrderCancelled { initiated_by },
        OrderShipped { revision, unconfirmed_reason },
        ComplaintOpened { assignee, respond_by },
        ComplaintResolved { remedy },
        OrderClosed { override_reason }
    );
    Ok(())
}

fn envelope(n: u64) -> JsonEnvelope {
    JsonEnvelope {
        event_id: Uuid::from_u128(0x0195_8f3a_7c10_7000_8000_0000_0000_0000 + u128::from(n)),
        order_id: OrderId(Uuid::from_u128(0x484d_a997_0a3c_5720_ba13_e381_673b_7a26)),
        position: 48 + n,
        version: 1 + n,
        recorded_at: Timestamp(1_796_233_709_871_772 + i64::try_from(n).expect("small")),
    }
}

proptest! {
    /// For every value whose new fields are unset (the upcast image of a version 2 value), the
    /// bytes version 2 wrote (bincode of the v2 body in the identity envelope) decode to it, and
    /// the bytes version 1 wrote decode to it with the actor upcast.
    #[test]
    fn old_bytes_of_an_upcast_image_decode_to_it(event in strategies::changed_event(Range::Full)) {
        let image = as_read_from_v2(&event);
        let t = image.body.event_type();
        prop_assert_eq!(t.version, 3);
        let old = old_form(&image).expect("a changed type");
        prop_assert_eq!(decode_event(t.code, 2, &old.v2_payload), Ok(image.clone()));
        prop_assert_eq!(decode_event(t.code, 1, &old.v1_payload), Ok(as_read_from_v1(&image)));
        // The image is a fixed point: reading it back from version 2 again changes nothing.
        prop_assert_eq!(as_read_from_v2(&image), image.clone());
        // Today's encoding of the image is version 3 and round-trips too.
        let (code, version, payload) = encode_event(&image).expect("encode");
        prop_assert_eq!(decode_event(code, version, &payload), Ok(image));
    }

    /// For any version 2 value (the downcast of an arbitrary value), `downcast(upcast(v)) == v`.
    #[test]
    fn downcast_of_upcast_is_the_old_value(event in strategies::changed_event(Range::Full)) {
        check_downcast_of_upcast(&event.body)?;
    }

    /// Old bytes of every length short of complete are malformed, named with their version.
    #[test]
    fn truncated_old_bytes_are_malformed(event in strategies::changed_event(Range::Full), cut in any::<prop::sample::Index>()) {
        let old = old_form(&event).expect("a changed type");
        let t = event.body.event_type();
        for (version, payload) in [(2u16, &old.v2_payload), (1, &old.v1_payload)] {
            let len = cut.index(payload.len());
            let malformed = matches!(
                decode_event(t.code, version, &payload[..len]),
                Err(DecodeError::Malformed { name, version: v, .. }) if name == t.name && v == version
            );
            prop_assert!(malformed, "{} v{} cut to {} bytes", t.name, version, len);
        }
    }
}

/// The JSON of the older versions: `event_to_json_at_version(e, env, 2)` is the document version
/// 2 wrote (the old body as `data`, `schema_version` 2), validates against the frozen
/// `<type>.v2.json`, and `event_from_json` reads it back as the upcast image; version 1 likewise
/// (the actor as a typed name) against `<type>.v1.json`.
#[test]
fn old_json_documents_read_back_as_the_upcast_image_and_validate() {
    let validator = |name: &str, version: u16| {
        let file = golden::versioned_name(name, version, "json");
        let text =
            golden::read(&golden::crate_dir("json").join(&file)).unwrap_or_else(|| panic!("missing {file}"));
        let schema: serde_json::Value = serde_json::from_slice(&text).expect("schema");
        jsonschema::options().should_validate_formats(true).build(&schema).expect("a valid schema")
    };
    let validators: Vec<(&str, [jsonschema::Validator; 2])> =
        versions::CHANGED_IN_V3.iter().map(|n| (*n, [validator(n, 1), validator(n, 2)])).collect();
    let mut runner = TestRunner::new(ProptestConfig::default());
    let result = runner.run(&(strategies::changed_event(Range::Rfc3339), 0..1000u64), |(mut event, n)| {
        // Older releases had no `system` role, and version 1 no `admin`: their schemas do not
        // know them.
        if matches!(event.actor.role, Role::System | Role::Admin) {
            event.actor.role = Role::Sales;
        }
        let env = envelope(n);
        let t = event.body.event_type();
        let old = old_form(&event).expect("a changed type");
        let [v1_schema, v2_schema] =
            &validators.iter().find(|(name, _)| *name == t.name).expect("validators").1;

        let v2_doc = event_to_json_at_version(&event, &env, 2);
        prop_assert_eq!(&v2_doc["schema_version"], &json!(2));
        prop_assert_eq!(&v2_doc["data"], &old.data);
        let errors: Vec<String> =
            v2_schema.iter_errors(&v2_doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
        prop_assert!(errors.is_empty(), "{}\n{v2_doc:#}", errors.join("\n"));
        prop_assert_eq!(event_from_json(&v2_doc), Ok((as_read_from_v2(&event), env.clone())));

        let v1_doc = event_to_json_at_version(&event, &env, 1);
        prop_assert_eq!(&v1_doc["schema_version"], &json!(1));
        prop_assert_eq!(&v1_doc["data"], &old.data);
        let errors: Vec<String> =
            v1_schema.iter_errors(&v1_doc).map(|e| format!("{e} at {}", e.instance_path())).collect();
        prop_assert!(errors.is_empty(), "{}\n{v1_doc:#}", errors.join("\n"));
        prop_assert_eq!(event_from_json(&v1_doc), Ok((as_read_from_v1(&event), env.clone())));

        // The upcast image renders back to the same old documents.
        let image = as_read_from_v2(&event);
        prop_assert_eq!(event_to_json_at_version(&image, &env, 2), v2_doc);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
