//! Edits, deletions, insertions and reorderings of stored records are found, with their position.

use orderflow_engine::{EventLog, LogConfig, LogError};

use crate::small_log;

const PAYLOAD_OFFSET: usize = 1 + 16 + 8 + 16 + 8 + 2 + 2 + 2 + 4;

fn with_raw_log(dir: &std::path::Path, f: impl FnOnce(&sled::Tree)) {
    let db = sled::open(dir.join("log")).unwrap();
    let tree = db.open_tree("log").unwrap();
    f(&tree);
    db.flush().unwrap();
}

fn key(p: u64) -> [u8; 8] {
    p.to_be_bytes()
}

fn reseal(mut v: Vec<u8>) -> Vec<u8> {
    let n = v.len() - 4;
    let crc = crc32fast::hash(&v[..n]);
    v[n..].copy_from_slice(&crc.to_le_bytes());
    v
}

fn verify_fails_at(dir: &std::path::Path) -> (u64, String) {
    let log = EventLog::open(LogConfig::new(dir)).unwrap();
    let f = log.verify(&mut |_| {}).unwrap_err();
    (f.position, f.detail)
}

#[test]
fn a_flipped_byte_is_a_checksum_error_on_read_and_in_verify() {
    let dir = small_log();
    with_raw_log(dir.path(), |t| {
        let mut v = t.get(key(4)).unwrap().unwrap().to_vec();
        v[PAYLOAD_OFFSET] ^= 1;
        t.insert(key(4), v).unwrap();
    });
    let log = EventLog::open(LogConfig::new(dir.path())).unwrap();
    let err = log.read_from(1, 100).unwrap_err();
    assert!(matches!(err, LogError::Corrupted { position: 4, .. }), "{err}");
    assert!(err.to_string().contains("checksum"), "{err}");
    let f = log.verify(&mut |_| {}).unwrap_err();
    assert_eq!(f.position, 4, "{f}");
}

#[test]
fn an_edit_with_a_recomputed_checksum_breaks_the_hash_chain() {
    let dir = small_log();
    with_raw_log(dir.path(), |t| {
        let mut v = t.get(key(6)).unwrap().unwrap().to_vec();
        v[PAYLOAD_OFFSET + 2] ^= 0x20;
        t.insert(key(6), reseal(v)).unwrap();
    });
    let (position, detail) = verify_fails_at(dir.path());
    assert_eq!(position, 6);
    assert!(detail.contains("stream hash"), "{detail}");
}

#[test]
fn a_deleted_record_is_a_missing_position() {
    let dir = small_log();
    with_raw_log(dir.path(), |t| {
        t.remove(key(5)).unwrap();
    });
    let (position, detail) = verify_fails_at(dir.path());
    assert_eq!(position, 5);
    assert!(detail.contains("missing"), "{detail}");
}

#[test]
fn swapped_records_are_found() {
    let dir = small_log();
    with_raw_log(dir.path(), |t| {
        let a = t.get(key(3)).unwrap().unwrap();
        let b = t.get(key(7)).unwrap().unwrap();
        t.insert(key(3), b).unwrap();
        t.insert(key(7), a).unwrap();
    });
    let (position, _) = verify_fails_at(dir.path());
    assert_eq!(position, 3);
}

#[test]
fn an_inserted_record_is_found() {
    let dir = small_log();
    with_raw_log(dir.path(), |t| {
        // Shift records 6..=10 up by one and put a copy of record 2 at 6.
        for p in (6..=10).rev() {
            let v = t.get(key(p)).unwrap().unwrap();
            t.insert(key(p + 1), v).unwrap();
        }
        let copy = t.get(key(2)).unwrap().unwrap();
        t.insert(key(6), copy).unwrap();
    });
    let (position, _) = verify_fails_at(dir.path());
    assert_eq!(position, 6);
}

#[test]
fn a_removed_tail_refuses_to_open() {
    let dir = small_log();
    with_raw_log(dir.path(), |t| {
        t.remove(key(10)).unwrap();
    });
    let err = EventLog::open(LogConfig::new(dir.path())).unwrap_err();
    assert!(matches!(err, LogError::Corrupted { position: 10, .. }), "{err}");
}
