//! Golden binary fixtures: `schemas/fixtures/<name>.v<version>.bin` is the encoded payload of the
//! sample (see `samples.rs`) of that event type at that schema version. Every committed fixture
//! must keep decoding to its expected event for as long as the version can be read: this is how
//! an accidental change to a stored format is caught before it ships.
//!
//! Blessing: with `ORDERFLOW_BLESS=1` in the environment
//! (`ORDERFLOW_BLESS=1 cargo test -p orderflow-schemas`) a missing fixture of a current version is
//! written, and one whose bytes differ from the sample's encoding is rewritten, instead of failing.
//! Rewriting an existing fixture means the stored form of a released version changed, which is
//! almost always a mistake: give the type a new version instead, keep the old fixture, and list it
//! in `golden_events` with the event its upcast must produce. Fixtures of old versions are never
//! written, and a stale fixture is never deleted by blessing.

use orderflow_schemas::{decode_event, encode_event, Department, Event, EventBody, RoleDue, Timestamp};

use orderflow_schemas::LEGACY_CODE_MAX;

use crate::golden::{self, BLESS_HINT};
use crate::samples::samples;
use crate::versions;

/// A committed fixture and the event it must decode to.
struct Golden {
    name: &'static str,
    code: u16,
    version: u16,
    /// The newest version of its type: the fixture is the sample's encoding and can be blessed.
    current: bool,
    event: Event,
}

impl Golden {
    fn file(&self) -> String {
        golden::versioned_name(self.name, self.version, "bin")
    }
}

/// Every `(type, version)` with a fixture. When a type gets version N+1, its `.vN.bin` stays and
/// an entry `current: false` with the upcast event is added here.
///
/// Version 1 (before identities) of the first 24 types: its fixtures were written from the same
/// samples with a typed name as the actor; they decode to the sample with the nil user id, the
/// name as the login, not as a head and no late entry.
///
/// Version 2 of the eight types changed in version 3: written from the samples' bodies as they
/// were then (today's sample downcast to `v2::*`); they decode to the upcast body, the fields
/// added in version 3 `None` (and `order_received`'s `review_due_by` every department at
/// `review_due`). Their version 1 fixtures decode through the same upcast.
fn golden_events() -> Vec<Golden> {
    let mut all = Vec::new();
    for event in samples() {
        let t = event.body.event_type();
        if t.code <= LEGACY_CODE_MAX {
            let upcast = versions::as_read_from_v1(&event);
            all.push(Golden { name: t.name, code: t.code, version: 1, current: false, event: upcast });
        }
        if t.version > 2 {
            let upcast = versions::as_read_from_v2(&event);
            all.push(Golden { name: t.name, code: t.code, version: 2, current: false, event: upcast });
        }
        all.push(Golden { name: t.name, code: t.code, version: t.version, current: true, event });
    }
    all
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()))
}

#[test]
fn fixtures_decode_to_samples_and_samples_encode_to_fixtures() {
    let dir = golden::crate_dir("fixtures");
    let goldens = golden_events();
    let mut problems = Vec::new();

    // Each sample encodes to exactly its committed fixture (written here when blessing).
    for g in goldens.iter().filter(|g| g.current) {
        let (code, version, bytes) = encode_event(&g.event).expect("a sample encodes");
        assert_eq!((code, version), (g.code, g.version), "{}", g.name);
        let path = dir.join(g.file());
        match golden::read(&path) {
            Some(committed) if committed == bytes => {}
            _ if golden::bless() => golden::write(&path, &bytes),
            None => problems.push(format!("missing fixture {}: create it with `{BLESS_HINT}`", g.file())),
            Some(committed) => problems.push(format!(
                "{}: the sample encodes to {} bytes, the committed fixture has {} (first difference at \
                 byte {}); the stored form of a released version must not change",
                g.file(),
                bytes.len(),
                committed.len(),
                first_difference(&bytes, &committed)
            )),
        }
    }

    // Every fixture on disk, of every version, decodes to its expected event.
    let mut decoded = 0;
    for file in golden::file_names(&dir) {
        let Some((name, version)) = golden::parse_versioned_name(&file, "bin") else { continue };
        let Some(g) = goldens.iter().find(|g| g.name == name && g.version == version) else { continue };
        let bytes = golden::read(&dir.join(&file)).expect("listed fixture exists");
        match decode_event(g.code, g.version, &bytes) {
            Ok(e) if e == g.event => decoded += 1,
            Ok(e) => problems.push(format!("{file} decodes to\n    {e:?}\n  expected\n    {:?}", g.event)),
            Err(e) => problems.push(format!("{file} does not decode: {e}")),
        }
    }
    golden::assert_no_problems("binary fixtures", &problems);
    assert_eq!(decoded, goldens.len(), "every golden event has its fixture, decoded");
}

#[test]
fn every_fixture_on_disk_is_a_known_type_and_version() {
    let dir = golden::crate_dir("fixtures");
    let goldens = golden_events();
    let stale: Vec<String> = golden::file_names(&dir)
        .into_iter()
        .filter(|file| {
            !golden::parse_versioned_name(file, "bin")
                .is_some_and(|(name, version)| goldens.iter().any(|g| g.name == name && g.version == version))
        })
        .map(|file| {
            format!(
                "{file} is not the fixture of a known (event type, version): a fixture is kept (and \
                 listed in golden_events) as long as its version can be read"
            )
        })
        .collect();
    assert!(stale.is_empty(), "stale files in {}:\n  {}", dir.display(), stale.join("\n  "));
}

/// The frozen fixtures of the eight types changed in version 3 are exactly what the previous
/// releases wrote: the old body (today's sample downcast) in the envelope of its version. So the
/// samples still describe the events those fixtures hold, and the upcast expected above is the
/// upcast of the original event.
#[test]
fn old_fixtures_of_changed_types_are_the_old_bodies_of_the_samples() {
    let dir = golden::crate_dir("fixtures");
    let mut checked = 0;
    for event in samples() {
        let t = event.body.event_type();
        let Some(old) = versions::old_form(&event) else { continue };
        for (version, expected) in [(1, &old.v1_payload), (2, &old.v2_payload)] {
            let file = golden::versioned_name(t.name, version, "bin");
            let committed = golden::read(&dir.join(&file)).unwrap_or_else(|| panic!("missing {file}"));
            assert!(
                committed == *expected,
                "{file}: the old body of the sample encodes to {} bytes, the fixture has {} (first \
                 difference at byte {})",
                expected.len(),
                committed.len(),
                first_difference(expected, &committed)
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * versions::CHANGED_IN_V3.len());
}

/// What the version 2 fixtures decode to, spelled out: every field added in version 3 is `None`,
/// and `order_received` has every reviewing department due at `review_due`.
#[test]
fn version_2_fixtures_upcast_with_the_new_fields_unset() {
    let dir = golden::crate_dir("fixtures");
    let read = |name: &str, version: u16| {
        let t = orderflow_schemas::event_type_by_name(name).expect("known type");
        let file = golden::versioned_name(name, version, "bin");
        let bytes = golden::read(&dir.join(&file)).unwrap_or_else(|| panic!("missing {file}"));
        decode_event(t.code, version, &bytes).unwrap_or_else(|e| panic!("{file}: {e}")).body
    };
    for version in [1, 2] {
        let EventBody::OrderReceived(e) = read("order_received", version) else { panic!("order_received") };
        let due: Vec<RoleDue> =
            Department::ALL.iter().map(|d| RoleDue { role: d.role(), due: e.review_due }).collect();
        assert_eq!(e.review_due_by, due);
        assert_eq!(e.review_due, Timestamp::parse("2026-03-04T17:00:00Z").expect("time"));
        let EventBody::OrderConfirmed(e) = read("order_confirmed", version) else {
            panic!("order_confirmed")
        };
        assert_eq!(
            (e.revision, e.expected_ship_date, e.delivery_mode, e.confirmed_via),
            (None, None, None, None)
        );
        let EventBody::OrderChanged(e) = read("order_changed", version) else { panic!("order_changed") };
        assert_eq!((e.request_id, e.initiated_by), (None, None));
        assert_eq!(e.revision, 2);
        let EventBody::OrderCancelled(e) = read("order_cancelled", version) else {
            panic!("order_cancelled")
        };
        assert_eq!(e.initiated_by, None);
        let EventBody::OrderShipped(e) = read("order_shipped", version) else { panic!("order_shipped") };
        assert_eq!((e.revision, e.unconfirmed_reason), (None, None));
        let EventBody::ComplaintOpened(e) = read("complaint_opened", version) else {
            panic!("complaint_opened")
        };
        assert_eq!((e.assignee, e.respond_by), (None, None));
        let EventBody::ComplaintResolved(e) = read("complaint_resolved", version) else {
            panic!("complaint_resolved")
        };
        assert_eq!(e.remedy, None);
        assert!(e.customer_satisfied);
        let EventBody::OrderClosed(e) = read("order_closed", version) else { panic!("order_closed") };
        assert_eq!(e.override_reason, None);
    }
}
