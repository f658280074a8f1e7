//! The verify pass: reads every record and proves the log intact — checksums, gap-free
//! positions, contiguous stream versions, both hash chains, and the stream index (every record's
//! entry looked up as the record is read, so damage there is named by the record's position).

use std::collections::HashMap;

use uuid::Uuid;

use crate::log::{index_key, key_position, EventLog, IndexEntry};
use crate::record::{decode_record, log_hash, stream_hash, HashInput, GENESIS_HASH};

/// What a successful verify saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records (appends) read.
    pub records: u64,
    /// Events read; also the last position.
    pub events: u64,
    /// Distinct streams.
    pub streams: u64,
    /// The log hash of the last event (zero for an empty log): a fingerprint of the whole log.
    pub head_log_hash: [u8; 32],
}

/// The first problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("log damaged at position {position}: {detail}")]
pub struct VerifyFailure {
    /// The first bad position.
    pub position: u64,
    /// What is wrong.
    pub detail: String,
}

impl EventLog {
    /// Verifies the whole log. `progress` is called with the position reached, every few thousand
    /// events.
    pub fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, VerifyFailure> {
        let fail = |position: u64, detail: String| VerifyFailure { position, detail };
        let mut streams: HashMap<Uuid, (u64, [u8; 32])> = HashMap::new();
        let mut prev_log = GENESIS_HASH;
        let mut expected = 1u64;
        let mut records = 0u64;
        let mut events = Vec::new();
        let index = self.db().open_tree("streams").map_err(|e| fail(0, e.to_string()))?;
        for kv in self.db().open_tree("log").map_err(|e| fail(expected, e.to_string()))?.iter() {
            let (k, v) = kv.map_err(|e| fail(expected, format!("cannot read: {e}")))?;
            let position = key_position(&k).map_err(|e| fail(expected, e.to_string()))?;
            if position != expected {
                let what = if position > expected { "missing" } else { "out of order" };
                return Err(fail(expected, format!("record {what}: next record starts at {position}")));
            }
            events.clear();
            decode_record(position, &v, 0, &mut events).map_err(|d| fail(position, d))?;
            for e in &events {
                let (version, prev_stream) = streams.get(&e.stream).copied().unwrap_or((0, GENESIS_HASH));
                if e.version != version + 1 {
                    return Err(fail(
                        e.position,
                        format!("stream {} goes from version {version} to {}", e.stream, e.version),
                    ));
                }
                let input = HashInput {
                    position: e.position,
                    stream: e.stream,
                    version: e.version,
                    command_id: e.command_id,
                    recorded_at_us: e.recorded_at_us,
                    event_type: e.event_type,
                    schema_version: e.schema_version,
                    payload: &e.payload,
                };
                if stream_hash(&prev_stream, &input) != e.stream_hash {
                    return Err(fail(
                        e.position,
                        format!("stream hash of {} v{} does not match", e.stream, e.version),
                    ));
                }
                if log_hash(&prev_log, &e.stream_hash) != e.log_hash {
                    return Err(fail(e.position, "log hash chain broken".into()));
                }
                prev_log = e.log_hash;
                streams.insert(e.stream, (e.version, e.stream_hash));
                if e.position % 65_536 == 0 {
                    progress(e.position);
                }
            }
            check_index_entry(&index, position, &events)?;
            expected = position + events.len() as u64;
            records += 1;
        }
        let head = expected - 1;
        if head < self.head() {
            return Err(fail(
                head + 1,
                format!("log ends at {head} but {} events were acknowledged", self.head()),
            ));
        }
        // Every record has its entry; now no entry may be left over. Damage found only here lies in
        // entries no record owns: it is named after the last record.
        let after = head + 1;
        let mut index_entries = 0u64;
        for kv in index.iter() {
            let (k, v) = kv.map_err(|e| fail(after, format!("cannot read the stream index: {e}")))?;
            let entry = IndexEntry::decode(&k, &v).map_err(|e| fail(after, e.to_string()))?;
            if entry.position > head {
                return Err(fail(entry.position, "stream index points past the end of the log".into()));
            }
            index_entries += 1;
        }
        if index_entries != records {
            return Err(fail(
                head,
                format!("stream index has {index_entries} entries for {records} records"),
            ));
        }
        progress(head);
        Ok(VerifyReport { records, events: head, streams: streams.len() as u64, head_log_hash: prev_log })
    }
}

/// The stream index must hold exactly this record's entry under its stream and first version.
fn check_index_entry(
    index: &sled::Tree,
    position: u64,
    events: &[crate::record::StoredEvent],
) -> Result<(), VerifyFailure> {
    let fail = |detail: String| VerifyFailure { position, detail };
    let Some(first) = events.first() else {
        return Err(fail("record holds no event".into()));
    };
    let key = index_key(first.stream, first.version);
    let want = IndexEntry {
        first_version: first.version,
        position,
        count: u16::try_from(events.len()).unwrap_or(u16::MAX),
        command_id: first.command_id,
    };
    let stored = index
        .get(key)
        .map_err(|e| {
            fail(format!("cannot read the stream index entry of {} v{}: {e}", first.stream, first.version))
        })?
        .ok_or_else(|| fail(format!("stream index has no entry for {} v{}", first.stream, first.version)))?;
    let got = IndexEntry::decode(&key, &stored).map_err(|e| fail(e.to_string()))?;
    if got != want {
        return Err(fail(format!(
            "stream index entry of {} v{} says position {} ({} events, command {}), the record is at {position} \
             ({} events, command {})",
            first.stream, first.version, got.position, got.count, got.command_id, want.count, want.command_id
        )));
    }
    Ok(())
}
