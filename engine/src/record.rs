//! The on-disk record: one per append (command), keyed by the global position of its first event.
//!
//! Layout (little-endian), version 1:
//! ```text
//! u8 magic (0xA1) | [16] stream | u64 first_version | [16] command_id | i64 recorded_at_us | u16 count
//! count × ( u16 event_type | u16 schema_version | u32 payload_len | payload
//!           | [32] stream_hash | [32] log_hash )
//! u32 crc32 of everything before it
//! ```
//! `stream_hash` chains the events of one stream, `log_hash` chains every event of the log:
//! `stream_hash = BLAKE3(prev_stream_hash ‖ position ‖ stream ‖ version ‖ command_id ‖
//! recorded_at_us ‖ event_type ‖ schema_version ‖ payload_len ‖ payload)`,
//! `log_hash = BLAKE3(prev_log_hash ‖ stream_hash)`. The first hash of a chain uses 32 zero bytes.

use uuid::Uuid;

/// The data-directory format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const RECORD_MAGIC: u8 = 0xA1;
const HEADER_BYTES: usize = 1 + 16 + 8 + 16 + 8 + 2;
const EVENT_FIXED_BYTES: usize = 2 + 2 + 4 + 32 + 32;

/// The zero hash that starts every chain.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// An event as stored, with its place in the log and its hashes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StoredEvent {
    /// Global position (1, 2, 3...).
    pub position: u64,
    /// The stream (order) it belongs to.
    pub stream: Uuid,
    /// Version of the stream after this event (1, 2, 3...).
    pub version: u64,
    /// A unique id derived from the event's stream hash.
    pub event_id: Uuid,
    /// The command that appended it.
    pub command_id: Uuid,
    /// Writer's wall clock when it was appended, microseconds since the epoch.
    pub recorded_at_us: i64,
    /// The event type's code (meaning given by the schemas crate).
    pub event_type: u16,
    /// The payload's schema version.
    pub schema_version: u16,
    /// The encoded event.
    pub payload: Vec<u8>,
    /// Hash of the stream chain up to and including this event.
    pub stream_hash: [u8; 32],
    /// Hash of the log chain up to and including this event.
    pub log_hash: [u8; 32],
}

/// The fields of an event that its stream hash covers.
#[derive(Clone, Copy, Debug)]
pub struct HashInput<'a> {
    /// Global position.
    pub position: u64,
    /// Stream.
    pub stream: Uuid,
    /// Stream version.
    pub version: u64,
    /// Command id.
    pub command_id: Uuid,
    /// Recorded at.
    pub recorded_at_us: i64,
    /// Type code.
    pub event_type: u16,
    /// Schema version.
    pub schema_version: u16,
    /// Payload.
    pub payload: &'a [u8],
}

/// The stream-chain hash of an event given the previous one of its stream.
pub fn stream_hash(prev_stream_hash: &[u8; 32], e: &HashInput<'_>) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(prev_stream_hash);
    h.update(&e.position.to_le_bytes());
    h.update(e.stream.as_bytes());
    h.update(&e.version.to_le_bytes());
    h.update(e.command_id.as_bytes());
    h.update(&e.recorded_at_us.to_le_bytes());
    h.update(&e.event_type.to_le_bytes());
    h.update(&e.schema_version.to_le_bytes());
    h.update(&(e.payload.len() as u64).to_le_bytes());
    h.update(e.payload);
    *h.finalize().as_bytes()
}

/// The log-chain hash of an event given the previous one of the log.
pub fn log_hash(prev_log_hash: &[u8; 32], stream_hash: &[u8; 32]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(prev_log_hash);
    h.update(stream_hash);
    *h.finalize().as_bytes()
}

/// The event id derived from a stream hash: its first 16 bytes as a version-8 UUID.
pub fn event_id_of(stream_hash: &[u8; 32]) -> Uuid {
    let mut b = [0u8; 16];
    b.copy_from_slice(&stream_hash[..16]);
    uuid::Builder::from_custom_bytes(b).into_uuid()
}

/// The header shared by every event of a record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordHeader {
    pub(crate) stream: Uuid,
    pub(crate) first_version: u64,
    pub(crate) command_id: Uuid,
    pub(crate) recorded_at_us: i64,
}

/// One event to be encoded into a record.
pub(crate) struct EncodeEvent<'a> {
    pub(crate) event_type: u16,
    pub(crate) schema_version: u16,
    pub(crate) payload: &'a [u8],
}

/// The chain state after a record: last stream hash and last log hash.
pub(crate) struct Chains {
    pub(crate) stream_hash: [u8; 32],
    pub(crate) log_hash: [u8; 32],
}

/// Encodes a record whose first event sits at `first_position`, chaining from `prev`.
pub(crate) fn encode_record(
    first_position: u64,
    header: &RecordHeader,
    events: &[EncodeEvent<'_>],
    prev: &Chains,
) -> (Vec<u8>, Chains) {
    let size = HEADER_BYTES + events.iter().map(|e| EVENT_FIXED_BYTES + e.payload.len()).sum::<usize>() + 4;
    let mut out = Vec::with_capacity(size);
    out.push(RECORD_MAGIC);
    out.extend_from_slice(header.stream.as_bytes());
    out.extend_from_slice(&header.first_version.to_le_bytes());
    out.extend_from_slice(header.command_id.as_bytes());
    out.extend_from_slice(&header.recorded_at_us.to_le_bytes());
    out.extend_from_slice(&u16::try_from(events.len()).unwrap_or(u16::MAX).to_le_bytes());
    let mut chains = Chains { stream_hash: prev.stream_hash, log_hash: prev.log_hash };
    for (i, e) in events.iter().enumerate() {
        let input = HashInput {
            position: first_position + i as u64,
            stream: header.stream,
            version: header.first_version + i as u64,
            command_id: header.command_id,
            recorded_at_us: header.recorded_at_us,
            event_type: e.event_type,
            schema_version: e.schema_version,
            payload: e.payload,
        };
        chains.stream_hash = stream_hash(&chains.stream_hash, &input);
        chains.log_hash = log_hash(&chains.log_hash, &chains.stream_hash);
        out.extend_from_slice(&e.event_type.to_le_bytes());
        out.extend_from_slice(&e.schema_version.to_le_bytes());
        out.extend_from_slice(&u32::try_from(e.payload.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(e.payload);
        out.extend_from_slice(&chains.stream_hash);
        out.extend_from_slice(&chains.log_hash);
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    (out, chains)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len()).ok_or_else(|| {
            format!("record truncated: needs {n} bytes at offset {}, has {}", self.at, self.bytes.len())
        })?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
}

/// Checks the CRC and layout of a record and returns the number of events in it, without
/// copying payloads.
pub(crate) fn record_len(bytes: &[u8]) -> Result<(RecordHeader, u64), String> {
    let body = check_crc(bytes)?;
    let mut r = Reader { bytes: body, at: 0 };
    let header = read_header(&mut r)?;
    let count = u16::from_le_bytes(r.array()?);
    Ok((header, u64::from(count)))
}

fn check_crc(bytes: &[u8]) -> Result<&[u8], String> {
    if bytes.len() < HEADER_BYTES + 4 {
        return Err(format!("record too short ({} bytes)", bytes.len()));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    let actual = crc32fast::hash(body);
    if stored != actual {
        return Err(format!("checksum mismatch (stored {stored:08x}, computed {actual:08x})"));
    }
    Ok(body)
}

fn read_header(r: &mut Reader<'_>) -> Result<RecordHeader, String> {
    let magic = r.take(1)?[0];
    if magic != RECORD_MAGIC {
        return Err(format!("unknown record layout 0x{magic:02x}"));
    }
    Ok(RecordHeader {
        stream: Uuid::from_bytes(r.array()?),
        first_version: u64::from_le_bytes(r.array()?),
        command_id: Uuid::from_bytes(r.array()?),
        recorded_at_us: i64::from_le_bytes(r.array()?),
    })
}

/// Decodes a record stored under `first_position`, checking its CRC and layout, and appends
/// its events with position ≥ `from` to `out`. Returns the number of events in the record.
pub(crate) fn decode_record(
    first_position: u64,
    bytes: &[u8],
    from: u64,
    out: &mut Vec<StoredEvent>,
) -> Result<u64, String> {
    let body = check_crc(bytes)?;
    let mut r = Reader { bytes: body, at: 0 };
    let h = read_header(&mut r)?;
    let count = u16::from_le_bytes(r.array()?);
    if count == 0 {
        return Err("record holds no event".into());
    }
    for i in 0..u64::from(count) {
        let event_type = u16::from_le_bytes(r.array()?);
        let schema_version = u16::from_le_bytes(r.array()?);
        let len = u32::from_le_bytes(r.array()?) as usize;
        let payload = r.take(len)?;
        let stream_hash: [u8; 32] = r.array()?;
        let log_hash: [u8; 32] = r.array()?;
        let position = first_position + i;
        if position < from {
            continue;
        }
        out.push(StoredEvent {
            position,
            stream: h.stream,
            version: h.first_version + i,
            event_id: event_id_of(&stream_hash),
            command_id: h.command_id,
            recorded_at_us: h.recorded_at_us,
            event_type,
            schema_version,
            payload: payload.to_vec(),
            stream_hash,
            log_hash,
        });
    }
    if r.at != body.len() {
        return Err(format!("record has {} bytes after its last event", body.len() - r.at));
    }
    Ok(u64::from(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<u8>, Chains) {
        let header = RecordHeader {
            stream: Uuid::from_u128(7),
            first_version: 3,
            command_id: Uuid::from_u128(9),
            recorded_at_us: 1_700_000_000_000_000,
        };
        let events = [
            EncodeEvent { event_type: 1, schema_version: 1, payload: b"hello" },
            EncodeEvent { event_type: 2, schema_version: 1, payload: b"" },
        ];
        let prev = Chains { stream_hash: GENESIS_HASH, log_hash: GENESIS_HASH };
        encode_record(10, &header, &events, &prev)
    }

    #[test]
    fn round_trip_keeps_every_field_and_chains_hashes() {
        let (bytes, chains) = sample();
        let mut out = Vec::new();
        decode_record(10, &bytes, 0, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].position, 10);
        assert_eq!(out[1].version, 4);
        assert_eq!(out[0].payload, b"hello");
        assert_eq!(out[1].stream_hash, chains.stream_hash);
        assert_eq!(out[1].log_hash, chains.log_hash);
        let h0 = stream_hash(
            &GENESIS_HASH,
            &HashInput {
                position: 10,
                stream: Uuid::from_u128(7),
                version: 3,
                command_id: Uuid::from_u128(9),
                recorded_at_us: 1_700_000_000_000_000,
                event_type: 1,
                schema_version: 1,
                payload: b"hello",
            },
        );
        assert_eq!(out[0].stream_hash, h0);
        assert_eq!(out[0].event_id, event_id_of(&h0));
        assert_ne!(out[0].event_id, out[1].event_id);
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        let (bytes, _) = sample();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x40;
            let mut out = Vec::new();
            assert!(decode_record(10, &bad, 0, &mut out).is_err(), "flip at byte {i} went unnoticed");
        }
    }

    #[test]
    fn every_truncation_is_detected() {
        let (bytes, _) = sample();
        for n in 0..bytes.len() {
            let mut out = Vec::new();
            assert!(decode_record(10, &bytes[..n], 0, &mut out).is_err(), "truncation to {n} unnoticed");
        }
    }

    #[test]
    fn from_skips_earlier_events_of_the_record() {
        let (bytes, _) = sample();
        let mut out = Vec::new();
        decode_record(10, &bytes, 11, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].position, 11);
    }
}
