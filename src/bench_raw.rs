//! `orderflow bench --raw`: the raw limits of the parts on this machine, measured in the same run
//! as the workload so that every figure can be given as a ratio: sled plain inserts of
//! record-sized values with one shared flush per 64 inserts (what group commit at 64 clients
//! could reach at best) and a full sled scan.

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use crate::app::AppError;
use crate::bench::{peak_rss_mib, reset_peak_rss};

/// Bytes of one raw record: about one lifecycle event's record.
const RECORD_BYTES: usize = 330;
/// Inserts sharing one flush.
const SHARED_FLUSH_EVERY: u64 = 64;

fn sled_err(e: sled::Error) -> AppError {
    AppError::Failure(e.to_string())
}

/// Measures and prints one JSON line per raw limit.
pub(crate) fn run(root: &Path, records: u64) -> Result<(), AppError> {
    reset_peak_rss();
    let db = sled::Config::new()
        .path(root.join("raw-sled"))
        .cache_capacity(64 * 1024 * 1024)
        .flush_every_ms(None)
        .open()
        .map_err(sled_err)?;
    let tree = db.open_tree("raw").map_err(sled_err)?;
    let value = vec![0x5a_u8; RECORD_BYTES];
    let started = Instant::now();
    for i in 1..=records {
        tree.insert(i.to_be_bytes(), value.as_slice()).map_err(sled_err)?;
        if i % SHARED_FLUSH_EVERY == 0 {
            db.flush().map_err(sled_err)?;
        }
    }
    db.flush().map_err(sled_err)?;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    crate::outln!(
        "{}",
        json!({ "raw": "sled_insert_shared_flush", "records": records, "record_bytes": RECORD_BYTES,
                "inserts_per_flush": SHARED_FLUSH_EVERY, "per_s": (records as f64 / secs).round(),
                "peak_rss_mib": peak_rss_mib() })
    );
    reset_peak_rss();
    let started = Instant::now();
    let mut n = 0u64;
    for kv in tree.iter() {
        let (_, v) = kv.map_err(sled_err)?;
        n += u64::from(!v.is_empty());
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    crate::outln!(
        "{}",
        json!({ "raw": "sled_scan", "records": n, "per_s": (n as f64 / secs).round(), "peak_rss_mib": peak_rss_mib() })
    );
    Ok(())
}
