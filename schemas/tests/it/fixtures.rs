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

use orderflow_schemas::{decode_event, encode_event, Event};

use orderflow_schemas::{Actor, LEGACY_CODE_MAX};

use crate::golden::{self, BLESS_HINT};
use crate::samples::samples;

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

/// Every `(type, version)` with a fixture. Today every type has only its current version. When a
/// type gets version N+1, its `.vN.bin` stays and an entry `current: false` with the upcast event
/// is added here.
///
/// Version 1 (before identities) of the first 24 types: its fixtures were written from the same
/// samples with a typed name as the actor; they decode to the sample with the nil user id, the
/// name as the login, not as a head and no late entry.
fn golden_events() -> Vec<Golden> {
    let mut all = Vec::new();
    for event in samples() {
        let t = event.body.event_type();
        if t.code <= LEGACY_CODE_MAX {
            let mut upcast = event.clone();
            upcast.actor = Actor { user_id: uuid::Uuid::nil(), head: false, ..upcast.actor };
            upcast.late = None;
            all.push(Golden { name: t.name, code: t.code, version: 1, current: false, event: upcast });
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
