//! The versioned binary codec: every failure is a typed error that names the type and version,
//! arbitrary input never panics, and arbitrary events round-trip.

use orderflow_schemas::*;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::samples::samples;
use crate::strategies::{self, Range};

#[test]
fn unknown_type_code_is_an_error_naming_the_code() {
    let payload = encode_event(&samples()[0]).expect("encode").2;
    for code in (0..=u16::MAX).filter(|c| event_type_by_code(*c).is_none()) {
        assert_eq!(decode_event(code, 1, &payload), Err(DecodeError::UnknownType { code }));
    }
    let err = decode_event(4242, 1, &payload).expect_err("unknown code");
    assert!(err.to_string().contains("4242"), "{err}");
}

#[test]
fn unknown_version_of_a_known_type_is_an_error_naming_both() {
    for event in samples() {
        let (code, known, payload) = encode_event(&event).expect("encode");
        let name = event.body.event_type().name;
        for version in [0, known + 1, 77, u16::MAX] {
            let err = decode_event(code, version, &payload).expect_err("unknown version");
            assert_eq!(err, DecodeError::UnknownVersion { name, version, known });
            let text = err.to_string();
            assert!(text.contains(name) && text.contains(&version.to_string()), "{text}");
        }
    }
}

/// Version 1 exists only for the types that existed before identities; a newer type has none.
#[test]
fn version_1_of_a_type_added_since_is_unknown() {
    for t in EVENT_TYPES.iter().filter(|t| t.code > LEGACY_CODE_MAX) {
        let err = decode_event(t.code, 1, &[]).expect_err("no version 1");
        assert_eq!(err, DecodeError::UnknownVersion { name: t.name, version: 1, known: t.version });
    }
}

/// The fields added in version 3 are appended: a version 3 payload stored under version 2 by
/// mistake is refused for its trailing bytes (the new fields), never read as the old body with
/// the new fields silently dropped.
#[test]
fn a_version_3_payload_labelled_version_2_has_trailing_bytes() {
    let mut checked = 0;
    for event in samples().into_iter().filter(|e| e.body.event_type().version == 3) {
        let (code, version, payload) = encode_event(&event).expect("encode");
        assert_eq!(version, 3);
        let name = event.body.event_type().name;
        match decode_event(code, 2, &payload) {
            Err(DecodeError::TrailingBytes { name: n, version: 2, extra }) if n == name && extra > 0 => {}
            other => panic!("{name}: {other:?}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn every_truncation_of_a_payload_is_malformed() {
    for event in samples() {
        let (code, version, payload) = encode_event(&event).expect("encode");
        let name = event.body.event_type().name;
        for len in 0..payload.len() {
            match decode_event(code, version, &payload[..len]) {
                Err(DecodeError::Malformed { name: n, version: v, detail }) => {
                    assert_eq!((n, v), (name, version));
                    assert!(!detail.is_empty());
                }
                other => panic!("{name} truncated to {len} of {} bytes: {other:?}", payload.len()),
            }
        }
    }
}

#[test]
fn trailing_bytes_are_an_error_counting_them() {
    for event in samples() {
        let (code, version, mut payload) = encode_event(&event).expect("encode");
        let name = event.body.event_type().name;
        payload.extend_from_slice(&[0, 0x2a, 0xff]);
        let err = decode_event(code, version, &payload).expect_err("trailing bytes");
        assert_eq!(err, DecodeError::TrailingBytes { name, version, extra: 3 });
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn the_payload_is_bincode_standard_of_actor_time_and_body() {
    let event = samples().into_iter().nth(3).expect("order_approved");
    let (code, version, payload) = encode_event(&event).expect("encode");
    assert_eq!((code, version), (4, 2));
    // Actor: user id (16 bytes, length-prefixed as serde bytes of a UUID), login (varint length,
    // UTF-8), role (varint variant index; Sales = 0), head (bool); at: zigzag varint i64 (0xfd =
    // 8-byte form); late: None (0); body: revision 3.
    let mut expected = vec![16];
    expected.extend_from_slice(event.actor.user_id.as_bytes());
    expected.push(9);
    expected.extend_from_slice(b"orderflow");
    expected.push(0);
    expected.push(0);
    expected.push(0xfd);
    expected.extend_from_slice(&(event.at.micros() << 1).to_le_bytes());
    expected.push(0);
    expected.push(3);
    assert_eq!(payload, expected);
}

/// A string length prefix claiming far more bytes than the payload holds is malformed input,
/// not an allocation: `u64::MAX` (once a "capacity overflow" panic) and 1 TiB (once an abort).
#[test]
fn a_huge_length_prefix_is_malformed_not_a_panic() {
    for len in [u64::MAX, 1 << 40, 1 << 33] {
        let mut payload = vec![0xfd];
        payload.extend_from_slice(&len.to_le_bytes());
        payload.extend_from_slice(b"short");
        for t in EVENT_TYPES {
            let result = decode_event(t.code, t.version, &payload);
            assert!(
                matches!(result, Err(DecodeError::Malformed { name, .. }) if name == t.name),
                "{}: {result:?}",
                t.name
            );
        }
    }
}

/// A payload of exactly `PAYLOAD_BYTES_MAX` bytes encodes and decodes; one byte more is refused on
/// both sides of the disk.
#[test]
fn payload_size_is_limited_on_both_sides() {
    let cancelled = |reason: String| {
        Event::new(
            Actor::named("Chen Jing", Role::Sales),
            Timestamp(1_772_357_400_000_000),
            OrderCancelled { reason, initiated_by: None },
        )
    };
    // The empty reason takes one length byte; a long one takes five (0xfc and a u32). (No
    // initiator: one byte either way.)
    let base = encode_event(&cancelled(String::new())).expect("encode").2.len() - 1;
    let fits = cancelled("x".repeat(PAYLOAD_BYTES_MAX - base - 5));
    let (code, version, payload) = encode_event(&fits).expect("a payload at the limit encodes");
    assert_eq!(payload.len(), PAYLOAD_BYTES_MAX);
    // (No assert_eq!: a failure would print 16 MiB.)
    let decoded = decode_event(code, version, &payload);
    assert!(decoded.as_ref() == Ok(&fits), "{:?}", decoded.err());

    let too_big = cancelled("x".repeat(PAYLOAD_BYTES_MAX - base - 4));
    let err = encode_event(&too_big).expect_err("over the limit");
    assert_eq!(err.name, "order_cancelled");
    assert!(err.to_string().contains(&PAYLOAD_BYTES_MAX.to_string()), "{err}");

    // Written by something without the check: refused when read.
    let EventBody::OrderCancelled(body) = &too_big.body else { unreachable!("built above") };
    let raw = bincode::serde::encode_to_vec(
        (&too_big.actor, &too_big.at, &too_big.late, body),
        bincode::config::standard(),
    )
    .expect("bincode");
    assert_eq!(raw.len(), PAYLOAD_BYTES_MAX + 1);
    match decode_event(code, version, &raw) {
        Err(DecodeError::Malformed { name, detail, .. }) => {
            assert_eq!(name, "order_cancelled");
            assert!(detail.contains(&PAYLOAD_BYTES_MAX.to_string()), "{detail}");
        }
        other => panic!("{:?}", other.map(|_| "decoded")),
    }
}

fn any_code() -> impl Strategy<Value = u16> {
    prop_oneof![3 => 1u16..=38, 1 => any::<u16>()]
}

fn any_version() -> impl Strategy<Value = u16> {
    prop_oneof![3 => 1u16..=3, 1 => any::<u16>()]
}

/// Random bytes, biased towards the varint prefixes (251..=253) that announce a long length.
fn any_payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..96),
        (vec(any::<u8>(), 0..16), 251u8..=253, vec(any::<u8>(), 0..24)).prop_map(
            |(mut head, prefix, tail)| {
                head.push(prefix);
                head.extend(tail);
                head
            }
        ),
    ]
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(code in any_code(), version in any_version(), payload in any_payload()) {
        // Any outcome but a panic (or an abort) is fine; a success must re-encode to the same type.
        if let Ok(event) = decode_event(code, version, &payload) {
            prop_assert_eq!(event.body.event_type().code, code);
        }
    }

    #[test]
    fn decoding_corrupted_samples_never_panics(
        index in 0..38usize,
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let event = &samples()[index];
        let (code, version, mut payload) = encode_event(event).expect("encode");
        for (at, byte) in edits {
            let i = at.index(payload.len());
            payload[i] = byte;
        }
        // A corruption that still decodes gives an event that itself round-trips (the bytes may
        // differ: bincode accepts non-minimal varints).
        if let Ok(decoded) = decode_event(code, version, &payload) {
            let (c, v, again) = encode_event(&decoded).expect("encode");
            prop_assert_eq!(decode_event(c, v, &again), Ok(decoded));
        }
    }

    #[test]
    fn arbitrary_events_round_trip_through_the_codec(event in strategies::event(Range::Full)) {
        let (code, version, payload) = encode_event(&event).expect("encode");
        let ty = event.body.event_type();
        prop_assert_eq!((code, version), (ty.code, ty.version));
        prop_assert_eq!(decode_event(code, version, &payload), Ok(event));
    }
}
