//! The event log handle: open and recover, append (through the writer), read, subscribe, close.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot, watch};
use tracing::{info, warn};
use uuid::Uuid;

use crate::dir::DataDir;
use crate::error::{AppendError, LogError};
use crate::limits::Limits;
pub use crate::record::StoredEvent;
use crate::record::{decode_record, log_hash, record_len, GENESIS_HASH};
use crate::writer::{Msg, Writer};

pub(crate) const META_DURABLE: &[u8] = b"durable";
pub(crate) const META_CLEAN: &[u8] = b"clean";
pub(crate) const META_FORMAT: &[u8] = b"format";

/// How to open the log.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// The data directory.
    pub path: PathBuf,
    /// sled's page cache (sled's default is 1 GiB; memory can reach several times it).
    pub cache_capacity_bytes: u64,
    /// The log's limits.
    pub limits: Limits,
    /// Create the data directory when it does not exist (false: refuse, for readers, so that a
    /// mistyped path is reported instead of silently becoming an empty store).
    pub create: bool,
}

impl LogConfig {
    /// Defaults for a data directory: 64 MiB of cache, default limits, created if missing.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            cache_capacity_bytes: 64 * 1024 * 1024,
            limits: Limits::default(),
            create: true,
        }
    }

    /// Like [`LogConfig::new`], but the directory must already hold a log.
    pub fn existing(path: impl Into<PathBuf>) -> Self {
        Self { create: false, ..Self::new(path) }
    }
}

/// The stream version an append expects to find.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExpectedVersion {
    /// Whatever it is.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be at exactly this version (0 = no stream).
    Exact(u64),
}

/// One event to append: type code, schema version and encoded payload.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NewEvent {
    /// The type's code.
    pub event_type: u16,
    /// The payload's schema version.
    pub schema_version: u16,
    /// The encoded event.
    pub payload: Vec<u8>,
}

/// A command's events for one stream, appended all or none.
#[derive(Clone, Debug)]
pub struct AppendRequest {
    /// The stream.
    pub stream: Uuid,
    /// What the stream's version must be.
    pub expected: ExpectedVersion,
    /// The idempotency key: the same command id on the same stream appends once.
    pub command_id: Uuid,
    /// The events (1 ..= `events_per_append_max`).
    pub events: Vec<NewEvent>,
}

/// Where an append's events landed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Commit {
    /// The stream.
    pub stream: Uuid,
    /// Global position of the first event.
    pub first_position: u64,
    /// Stream version of the first event.
    pub first_version: u64,
    /// How many events.
    pub count: u64,
}

impl Commit {
    /// Global position of the last event.
    pub fn last_position(&self) -> u64 {
        self.first_position + self.count - 1
    }
    /// Stream version after the append.
    pub fn last_version(&self) -> u64 {
        self.first_version + self.count - 1
    }
}

/// The outcome of an append that reached the writer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Appended {
    /// Written and flushed.
    Committed(Commit),
    /// The command id was already appended to this stream: the first result, nothing written.
    Duplicate(Commit),
    /// The stream is not at the expected version; nothing written. Reload and retry.
    Conflict {
        /// What the append expected.
        expected: ExpectedVersion,
        /// The stream's version.
        actual: u64,
    },
}

pub(crate) struct Trees {
    pub(crate) db: sled::Db,
    pub(crate) log: sled::Tree,
    pub(crate) index: sled::Tree,
    pub(crate) meta: sled::Tree,
}

struct Inner {
    trees: Arc<Trees>,
    limits: Limits,
    durable: watch::Receiver<u64>,
    sender: RwLock<Option<mpsc::Sender<Msg>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Why the writer stopped after a failed write, if it did.
    failed: Arc<OnceLock<String>>,
    path: PathBuf,
    _dir: DataDir,
}

/// The durable event log. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLog").field("path", &self.inner.path).field("head", &self.head()).finish()
    }
}

pub(crate) fn position_key(position: u64) -> [u8; 8] {
    position.to_be_bytes()
}

pub(crate) fn key_position(key: &[u8]) -> Result<u64, LogError> {
    let a: [u8; 8] = key.try_into().map_err(|_| LogError::Corrupted {
        position: 0,
        detail: format!("log key of {} bytes", key.len()),
    })?;
    Ok(u64::from_be_bytes(a))
}

pub(crate) fn index_key(stream: Uuid, first_version: u64) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..16].copy_from_slice(stream.as_bytes());
    k[16..].copy_from_slice(&first_version.to_be_bytes());
    k
}

/// An index entry: one append of one stream.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct IndexEntry {
    pub(crate) first_version: u64,
    pub(crate) position: u64,
    pub(crate) count: u16,
    pub(crate) command_id: Uuid,
}

impl IndexEntry {
    pub(crate) fn encode(&self) -> [u8; 26] {
        let mut v = [0u8; 26];
        v[..8].copy_from_slice(&self.position.to_be_bytes());
        v[8..10].copy_from_slice(&self.count.to_be_bytes());
        v[10..].copy_from_slice(self.command_id.as_bytes());
        v
    }

    pub(crate) fn decode(key: &[u8], value: &[u8]) -> Result<Self, LogError> {
        if key.len() != 24 || value.len() != 26 {
            return Err(LogError::Corrupted {
                position: 0,
                detail: format!("stream index entry of {}+{} bytes", key.len(), value.len()),
            });
        }
        let mut b8 = [0u8; 8];
        b8.copy_from_slice(&key[16..]);
        let first_version = u64::from_be_bytes(b8);
        b8.copy_from_slice(&value[..8]);
        let position = u64::from_be_bytes(b8);
        let count = u16::from_be_bytes([value[8], value[9]]);
        let mut id = [0u8; 16];
        id.copy_from_slice(&value[10..]);
        Ok(Self { first_version, position, count, command_id: Uuid::from_bytes(id) })
    }

    pub(crate) fn commit(&self, stream: Uuid) -> Commit {
        Commit {
            stream,
            first_position: self.position,
            first_version: self.first_version,
            count: u64::from(self.count),
        }
    }
}

impl EventLog {
    /// Opens (creating if needed) the log in `config.path`, recovers after a crash, and starts
    /// the writer.
    pub fn open(config: LogConfig) -> Result<Self, LogError> {
        let dir = DataDir::open(&config.path, config.create)?;
        let (trees, head, last_log_hash) = open_and_recover(&dir, &config)?;
        let (durable_tx, durable_rx) = watch::channel(head);
        let (tx, rx) = mpsc::channel(config.limits.queue_depth_max.max(1));
        let failed = Arc::new(OnceLock::new());
        let writer = Writer::new(
            Arc::clone(&trees),
            config.limits.clone(),
            head,
            last_log_hash,
            durable_tx,
            rx,
            Arc::clone(&failed),
        );
        let handle = std::thread::Builder::new()
            .name("orderflow-writer".into())
            .spawn(move || writer.run())
            .map_err(|e| LogError::Storage(format!("cannot start the writer thread: {e}")))?;
        info!(path = %config.path.display(), head, "Event log opened.");
        Ok(Self {
            inner: Arc::new(Inner {
                trees,
                limits: config.limits,
                durable: durable_rx,
                sender: RwLock::new(Some(tx)),
                writer: Mutex::new(Some(handle)),
                failed,
                path: config.path,
                _dir: dir,
            }),
        })
    }

    /// The data directory.
    pub fn path(&self) -> &std::path::Path {
        &self.inner.path
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The underlying sled database, for read models that keep their own trees beside the log.
    pub fn db(&self) -> &sled::Db {
        &self.inner.trees.db
    }

    /// Why the log stopped writing, if a write or flush failed (a full or read-only disk, an I/O
    /// error). Every later append is refused; reads may fail too, as sled keeps its first I/O
    /// error. Drop every handle on the data directory (also the read models' trees taken from
    /// [`Self::db`]) and open it again once the disk is writable: nothing acknowledged is lost.
    pub fn failure(&self) -> Option<String> {
        self.inner.failed.get().cloned()
    }

    /// The position of the last acknowledged (durable) event; 0 for an empty log.
    pub fn head(&self) -> u64 {
        *self.inner.durable.borrow()
    }

    /// A receiver that changes whenever the durable head moves: wait for new events without
    /// polling.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.durable.clone()
    }

    fn check_limits(&self, req: &AppendRequest) -> Result<(), AppendError> {
        let l = &self.inner.limits;
        if req.events.is_empty() {
            return Err(AppendError::Limit("an append needs at least one event".into()));
        }
        if req.events.len() > l.events_per_append_max {
            return Err(AppendError::Limit(format!(
                "{} events in one append (events_per_append_max = {})",
                req.events.len(),
                l.events_per_append_max
            )));
        }
        if let Some(e) = req.events.iter().find(|e| e.payload.len() > l.event_payload_bytes_max) {
            return Err(AppendError::Limit(format!(
                "an event of {} bytes (event_payload_bytes_max = {})",
                e.payload.len(),
                l.event_payload_bytes_max
            )));
        }
        Ok(())
    }

    fn sender(&self) -> Result<mpsc::Sender<Msg>, AppendError> {
        self.inner
            .sender
            .read()
            .map_err(|_| AppendError::Closed)?
            .as_ref()
            .cloned()
            .ok_or(AppendError::Closed)
    }

    /// Appends a command's events; resolves once they are flushed to disk (or refused).
    pub async fn append(&self, req: AppendRequest) -> Result<Appended, AppendError> {
        self.check_limits(&req)?;
        let (tx, rx) = oneshot::channel();
        self.sender()?.send(Msg::Append(req, tx)).await.map_err(|_| AppendError::Closed)?;
        rx.await.map_err(|_| AppendError::Closed)?
    }

    /// [`EventLog::append`] for threads outside an async runtime.
    pub fn append_blocking(&self, req: AppendRequest) -> Result<Appended, AppendError> {
        self.check_limits(&req)?;
        let (tx, rx) = oneshot::channel();
        self.sender()?.blocking_send(Msg::Append(req, tx)).map_err(|_| AppendError::Closed)?;
        rx.blocking_recv().map_err(|_| AppendError::Closed)?
    }

    /// Up to `max` events from position `from` (inclusive) up to the durable head, in order.
    /// Every record's checksum and position are checked; damage is reported with its position.
    pub fn read_from(&self, from: u64, max: usize) -> Result<Vec<StoredEvent>, LogError> {
        let head = self.head();
        let from = from.max(1);
        let max = max.min(self.inner.limits.read_batch_events_max);
        if from > head || max == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(max.min(usize::try_from(head - from + 1).unwrap_or(max)));
        let log = &self.inner.trees.log;
        // The record holding `from` starts at or before it.
        let start = match log.range(..=position_key(from)).next_back() {
            Some(kv) => key_position(&kv.map_err(read_error(from))?.0)?,
            None => from,
        };
        let mut expected: Option<u64> = None;
        for kv in log.range(position_key(start)..) {
            let (k, v) = kv.map_err(read_error(expected.unwrap_or(from)))?;
            let position = key_position(&k)?;
            if position > head || out.len() >= max {
                break;
            }
            if let Some(e) = expected {
                if position != e {
                    return Err(LogError::Corrupted {
                        position: e,
                        detail: format!("gap: next record starts at {position}"),
                    });
                }
            }
            let count = decode_record(position, &v, from, &mut out)
                .map_err(|detail| LogError::Corrupted { position, detail })?;
            expected = Some(position + count);
        }
        if out.len() > max {
            out.truncate(max);
        }
        Ok(out)
    }

    /// The events of one stream from version `from_version` (inclusive), in order.
    pub fn read_stream(&self, stream: Uuid, from_version: u64) -> Result<Vec<StoredEvent>, LogError> {
        let head = self.head();
        let mut out = Vec::new();
        let mut expected_version = 1u64;
        for kv in self.inner.trees.index.scan_prefix(stream.as_bytes()) {
            let (k, v) = kv.map_err(|e| index_error(stream, e))?;
            let entry = IndexEntry::decode(&k, &v)?;
            if entry.position > head {
                break;
            }
            if entry.first_version != expected_version {
                return Err(LogError::Corrupted {
                    position: entry.position,
                    detail: format!(
                        "stream {stream} jumps from version {} to {}",
                        expected_version - 1,
                        entry.first_version
                    ),
                });
            }
            expected_version = entry.first_version + u64::from(entry.count);
            if expected_version <= from_version {
                continue;
            }
            let bytes = self
                .inner
                .trees
                .log
                .get(position_key(entry.position))
                .map_err(read_error(entry.position))?
                .ok_or_else(|| LogError::Corrupted {
                    position: entry.position,
                    detail: format!("record of stream {stream} version {} is missing", entry.first_version),
                })?;
            let before = out.len();
            decode_record(entry.position, &bytes, 0, &mut out)
                .map_err(|detail| LogError::Corrupted { position: entry.position, detail })?;
            if out[before..].iter().any(|e| e.stream != stream) || out[before].version != entry.first_version
            {
                return Err(LogError::Corrupted {
                    position: entry.position,
                    detail: format!(
                        "record does not belong to stream {stream} at version {}",
                        entry.first_version
                    ),
                });
            }
            out.retain(|e| e.version >= from_version);
        }
        Ok(out)
    }

    /// The durable version of a stream (0 when it does not exist).
    pub fn stream_version(&self, stream: Uuid) -> Result<u64, LogError> {
        let head = self.head();
        for kv in self.inner.trees.index.scan_prefix(stream.as_bytes()).rev() {
            let (k, v) = kv?;
            let e = IndexEntry::decode(&k, &v)?;
            if e.position <= head {
                return Ok(e.first_version + u64::from(e.count) - 1);
            }
        }
        Ok(0)
    }

    /// The streams whose id, written as 32 lowercase hex digits, starts with `hex` (0 to 32 hex
    /// digits, either case; anything else matches nothing), in id order, at most `max` of them (ask for one more than you can
    /// show to learn that there are more). Only streams with a durable first event count.
    /// Cost: one index seek per stream returned, plus the entries of those streams' first key.
    pub fn streams_with_prefix(&self, hex: &str, max: usize) -> Result<Vec<Uuid>, LogError> {
        let mut digits = Vec::with_capacity(32);
        for c in hex.chars() {
            // No id is written with anything but hex digits: such a prefix matches nothing.
            let Some(d) = c.to_digit(16).and_then(|d| u8::try_from(d).ok()) else { return Ok(Vec::new()) };
            digits.push(d);
        }
        if digits.len() > 32 {
            return Ok(Vec::new());
        }
        let bound = |fill: u8| -> u128 {
            let mut v = 0u128;
            for i in 0..32 {
                v = (v << 4) | u128::from(digits.get(i).copied().unwrap_or(fill));
            }
            v
        };
        let (low, high) = (bound(0), bound(15));
        let head = self.head();
        let mut out = Vec::new();
        let mut next = Some(low);
        while let Some(from) = next {
            if out.len() >= max || from > high {
                break;
            }
            let start = index_key(Uuid::from_u128(from), 0);
            let Some(kv) = self.inner.trees.index.range(start..).next() else { break };
            let (k, v) = kv?;
            let entry = IndexEntry::decode(&k, &v)?;
            let mut id = [0u8; 16];
            id.copy_from_slice(&k[..16]);
            let stream = Uuid::from_bytes(id);
            if stream.as_u128() > high {
                break;
            }
            if entry.first_version == 1 && entry.position <= head {
                out.push(stream);
            }
            next = stream.as_u128().checked_add(1);
        }
        Ok(out)
    }

    /// Stops the writer after the appends already queued, marks a clean shutdown and flushes.
    pub fn close(&self) -> Result<(), LogError> {
        if let Ok(mut s) = self.inner.sender.write() {
            s.take();
        }
        let handle = self.inner.writer.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            if h.join().is_err() {
                warn!("The writer thread panicked.");
            }
        } else {
            return Ok(());
        }
        if let Some(reason) = self.inner.failed.get() {
            // Not marked clean: the next open checks what is on disk after the durable head.
            return Err(LogError::Storage(format!(
                "the log stopped writing after a disk error ({reason}); closed without marking it clean"
            )));
        }
        let t = &self.inner.trees;
        t.meta.insert(META_DURABLE, &self.head().to_be_bytes())?;
        t.meta.insert(META_CLEAN, &[1u8])?;
        t.db.flush()?;
        info!(path = %self.inner.path.display(), head = self.head(), "Event log closed.");
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(mut s) = self.sender.write() {
            s.take();
        }
        if let Some(h) = self.writer.lock().ok().and_then(|mut h| h.take()) {
            let _ = h.join();
            if self.failed.get().is_some() {
                return;
            }
            let head = *self.durable.borrow();
            let _ = self.trees.meta.insert(META_DURABLE, &head.to_be_bytes());
            let _ = self.trees.meta.insert(META_CLEAN, &[1u8]);
            let _ = self.trees.db.flush();
        }
    }
}

/// Opens sled, checks the stored format and recovers. Damage to sled's own files is reported as
/// [`LogError::Corrupted`] at position 0 (no event can be located): sled 0.34 reports some damage
/// as `Corruption`, some as `Unsupported` or an unexpected end of file, and some by panicking
/// in its recovery, so a panic here is caught and reported as corruption too.
fn open_and_recover(dir: &DataDir, config: &LogConfig) -> Result<(Arc<Trees>, u64, [u8; 32]), LogError> {
    let sled_path = dir.sled_path();
    dir.remove_sled_crash_leftovers()?;
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let db = open_sled(dir, config)?;
        let trees = Trees {
            log: db.open_tree("log").map_err(|e| open_error(&sled_path, e))?,
            index: db.open_tree("streams").map_err(|e| open_error(&sled_path, e))?,
            meta: db.open_tree("meta").map_err(|e| open_error(&sled_path, e))?,
            db,
        };
        match trees.meta.get(META_FORMAT)? {
            None => {
                trees.meta.insert(META_FORMAT, &crate::record::FORMAT_VERSION.to_be_bytes())?;
            }
            Some(v) if v.as_ref() == crate::record::FORMAT_VERSION.to_be_bytes() => {}
            Some(v) => {
                return Err(LogError::UnknownFormat {
                    path: config.path.clone(),
                    found: format!("meta format {v:?}"),
                    known: crate::record::FORMAT_VERSION,
                })
            }
        }
        let (head, last_log_hash) = recover(&trees)?;
        Ok((Arc::new(trees), head, last_log_hash))
    }));
    match opened {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            warn!(path = %sled_path.display(), %message, "sled panicked while opening the log.");
            Err(damaged(&sled_path, &format!("sled panicked while reading them: {message}")))
        }
    }
}

/// Damage to sled's own files: no event position can be named, so position 0.
fn damaged(sled_path: &std::path::Path, what: &str) -> LogError {
    LogError::Corrupted {
        position: 0,
        detail: format!(
            "the storage files under {} are damaged ({what}); no event can be read. Restore the data \
             directory from a backup",
            sled_path.display()
        ),
    }
}

/// A sled error while opening: damage (corruption, an unreadable config, a file cut short) is
/// corruption; anything else (permissions, a full or read-only disk) a storage failure.
fn open_error(sled_path: &std::path::Path, e: sled::Error) -> LogError {
    match e {
        sled::Error::Corruption { at: Some(at), .. } => {
            damaged(sled_path, &format!("sled: corruption at {at:?}"))
        }
        sled::Error::Corruption { at: None, .. } => damaged(sled_path, "sled: corruption"),
        sled::Error::Unsupported(m) | sled::Error::ReportableBug(m) => {
            damaged(sled_path, &format!("sled: {m}"))
        }
        sled::Error::Io(io) if crate::error::is_cut_short(&io) => damaged(sled_path, &format!("sled: {io}")),
        other => LogError::Storage(format!(
            "cannot open the log under {}: {}",
            sled_path.display(),
            crate::error::sled_message(&other)
        )),
    }
}

/// Opens sled inside the locked directory. We hold the directory's LOCK, so a sled lock held by
/// someone else can only be a previous instance in this process whose background threads have
/// not let go of the files yet: wait for it, within the same bound as the directory lock.
fn open_sled(dir: &DataDir, config: &LogConfig) -> Result<sled::Db, LogError> {
    let started = std::time::Instant::now();
    loop {
        let opened = sled::Config::new()
            .path(dir.sled_path())
            .cache_capacity(config.cache_capacity_bytes)
            .flush_every_ms(None)
            .open();
        match opened {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(io)) if io.to_string().contains("lock") => {
                if started.elapsed() >= crate::dir::LOCK_WAIT_MAX {
                    return Err(LogError::Locked { path: config.path.clone(), holder: String::new() });
                }
                std::thread::sleep(crate::dir::LOCK_RETRY_EVERY);
            }
            Err(other) => return Err(open_error(&dir.sled_path(), other)),
        }
    }
}

/// A sled error met while reading the stream index of `stream`: damage there is corruption at
/// position 0 (the index is keyed by stream, so no position is known), anything else a storage
/// failure.
pub(crate) fn index_error(stream: Uuid, e: sled::Error) -> LogError {
    match LogError::from(e) {
        LogError::Corrupted { detail, .. } => LogError::Corrupted {
            position: 0,
            detail: format!("the stream index of {stream} is damaged: {detail}"),
        },
        other => other,
    }
}

/// A sled error met while reading at `position`: damage there is corruption at that position,
/// anything else a storage failure.
pub(crate) fn read_error(position: u64) -> impl Fn(sled::Error) -> LogError {
    move |e| match LogError::from(e) {
        LogError::Corrupted { detail, .. } => LogError::Corrupted { position, detail },
        other => other,
    }
}

fn meta_u64(meta: &sled::Tree, key: &[u8]) -> Result<u64, LogError> {
    match meta.get(key)? {
        None => Ok(0),
        Some(v) => {
            let a: [u8; 8] = v.as_ref().try_into().map_err(|_| LogError::Corrupted {
                position: 0,
                detail: format!("meta {} of {} bytes", String::from_utf8_lossy(key), v.len()),
            })?;
            Ok(u64::from_be_bytes(a))
        }
    }
}

/// The last event's log hash of the record stored under `position`.
fn last_log_hash(trees: &Trees, position: u64) -> Result<[u8; 32], LogError> {
    if position == 0 {
        return Ok(GENESIS_HASH);
    }
    let start = match trees.log.range(..=position_key(position)).next_back() {
        Some(kv) => key_position(&kv.map_err(read_error(position))?.0)?,
        None => {
            return Err(LogError::Corrupted {
                position: 1,
                detail: format!("the log is empty but {position} events were acknowledged"),
            })
        }
    };
    let bytes = trees
        .log
        .get(position_key(start))
        .map_err(read_error(start))?
        .ok_or_else(|| LogError::Corrupted { position, detail: "record is missing".into() })?;
    let mut events = Vec::new();
    let count = decode_record(start, &bytes, position, &mut events)
        .map_err(|detail| LogError::Corrupted { position: start, detail })?;
    events.first().filter(|e| e.position == position).map(|e| e.log_hash).ok_or_else(|| {
        let end = start + count - 1;
        LogError::Corrupted {
            position: end + 1,
            detail: format!("the log ends at position {end} but {position} events were acknowledged"),
        }
    })
}

/// Brings the log to a consistent state after open: after an unclean shutdown, records beyond the
/// last known-durable position are checked and kept only as a contiguous, intact, chained prefix;
/// the stream index is repaired to match. Returns the head and its log hash.
fn recover(trees: &Trees) -> Result<(u64, [u8; 32]), LogError> {
    let clean = trees.meta.get(META_CLEAN)?.is_some_and(|v| v.as_ref() == [1u8]);
    let durable = meta_u64(&trees.meta, META_DURABLE)?;
    trees.meta.insert(META_CLEAN, &[0u8])?;
    let mut expected = durable + 1;
    let mut prev_hash = last_log_hash(trees, durable)?;
    if !clean {
        let mut truncate_from: Option<u64> = None;
        for kv in trees.log.range(position_key(durable + 1)..) {
            let (k, v) = kv.map_err(read_error(expected))?;
            let position = key_position(&k)?;
            let mut events = Vec::new();
            let ok = position == expected
                && decode_record(position, &v, 0, &mut events).is_ok()
                && events.first().is_some_and(|e| log_hash(&prev_hash, &e.stream_hash) == e.log_hash);
            if !ok {
                truncate_from = Some(position.min(expected));
                break;
            }
            let first = &events[0];
            let entry = IndexEntry {
                first_version: first.version,
                position,
                count: u16::try_from(events.len()).unwrap_or(u16::MAX),
                command_id: first.command_id,
            };
            trees.index.insert(index_key(first.stream, first.version), &entry.encode())?;
            expected = position + events.len() as u64;
            prev_hash = events.last().map(|e| e.log_hash).unwrap_or(prev_hash);
        }
        if let Some(from) = truncate_from {
            let doomed: Vec<sled::IVec> =
                trees.log.range(position_key(from)..).keys().collect::<Result<_, _>>()?;
            warn!(from, records = doomed.len(), "Dropping unacknowledged records after an unclean shutdown.");
            for k in doomed {
                trees.log.remove(k)?;
            }
        }
        // Index entries written for records that did not survive point past the head.
        let head = expected - 1;
        let mut stale = Vec::new();
        for kv in trees.index.iter() {
            let (k, v) = kv?;
            if IndexEntry::decode(&k, &v)?.position > head {
                stale.push(k);
            }
        }
        for k in stale {
            trees.index.remove(k)?;
        }
        if expected - 1 > durable {
            info!(durable, head, "Recovered records written before the crash.");
        }
    } else if let Some(kv) = trees.log.last()? {
        let (k, v) = kv;
        let position = key_position(&k)?;
        let (_, count) = record_len(&v).map_err(|detail| LogError::Corrupted { position, detail })?;
        expected = position + count;
        prev_hash = last_log_hash(trees, expected - 1)?;
    }
    let head = expected - 1;
    if head < durable {
        return Err(LogError::Corrupted {
            position: head + 1,
            detail: format!("the log ends at position {head} but {durable} events were acknowledged"),
        });
    }
    trees.meta.insert(META_DURABLE, &head.to_be_bytes())?;
    trees.db.flush()?;
    Ok((head, prev_hash))
}

impl EventLog {
    /// Where a command id was appended on a stream, if it was.
    pub fn find_command(&self, stream: Uuid, command_id: Uuid) -> Result<Option<Commit>, LogError> {
        let head = self.head();
        for kv in self.inner.trees.index.scan_prefix(stream.as_bytes()) {
            let (k, v) = kv?;
            let e = IndexEntry::decode(&k, &v)?;
            if e.command_id == command_id && e.position <= head {
                return Ok(Some(e.commit(stream)));
            }
        }
        Ok(None)
    }
}
