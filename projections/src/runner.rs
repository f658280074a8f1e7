//! The projection runner: feeds the log to a read model from its checkpoint, and persists the
//! view together with that checkpoint as one snapshot, so a crash never applies an event twice
//! or skips one.
//!
//! Snapshot layout in the log's sled database:
//! - tree `proj.<name>.<generation>`: the bincode (standard config) encoding of the view, cut
//!   into chunks of at most `snapshot_chunk_bytes`, keyed by the chunk index (u64 big-endian);
//! - tree `projections`, key `<name>`: the pointer `{generation, checkpoint, chunks, bytes,
//!   checksum}` (BLAKE3 of the encoded view), itself checksummed.
//!
//! A save writes a new generation's chunks, flushes, then switches the pointer with one insert
//! and flushes again; only then is the previous generation dropped. A crash before the pointer
//! insert leaves an unreferenced generation that the next open drops; a crash after it leaves
//! the new snapshot in force. Either way the view on disk is exactly the fold of positions
//! `1..=checkpoint`.
//!
//! Catching up reads the log from `checkpoint + 1` to the head as it was when the catch-up
//! started, in batches of `batch_events_max`; a read-ahead thread reads up to
//! `read_ahead_batches_max` batches in advance while the calling thread decodes and applies.
//! Only event types the projection folds ([`Projection::folds`]) are decoded. The first event
//! that does not decode or apply stops the runner at its position; it saves nothing after that.
//! Rebuilding folds a second view from position 0 beside the current one, which readers keep
//! using until the rebuilt view is saved and swapped in.

use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::{Duration, Instant};

use bincode::config;
use orderflow_engine::{EventLog, LogError, StoredEvent};
use orderflow_schemas::{decode_event, Event, EventType, OrderId, Timestamp, EVENT_TYPES};
use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;
use tracing::{debug, info, info_span, warn};

/// The sled tree holding every projection's snapshot pointer.
const POINTERS_TREE: &str = "projections";
/// Layout tag of a pointer record.
const POINTER_MAGIC: &[u8; 4] = b"OFP1";
const POINTER_BODY_BYTES: usize = 4 + 4 + 8 + 8 + 8 + 8 + 8 + 32;
const POINTER_BYTES: usize = POINTER_BODY_BYTES + 8;
/// Longest projection name.
const NAME_BYTES_MAX: usize = 32;

/// A read model: a plain in-memory struct folded from the events of the log.
///
/// `apply` must not mutate the view when it returns an error (check, then change): the runner
/// stops at a failing event and never saves a view after a failure, but the in-memory view is
/// still readable.
pub trait Projection: Default + Serialize + DeserializeOwned + Send + 'static {
    /// Stable name: 1 to 32 characters of `[a-z0-9_]`. Names the snapshot trees.
    const NAME: &'static str;
    /// The layout version of the view. Bump it when the struct changes: snapshots of another
    /// version are refused (and the operator rebuilds).
    const VIEW_VERSION: u32;

    /// The projection's name.
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// Whether the projection folds events of this type. Events of other (known) types are
    /// not decoded: the checkpoint passes over them. An event of an unknown type or schema
    /// version always stops the runner. Default: every type.
    fn folds(event_type: EventType) -> bool {
        let _ = event_type;
        true
    }

    /// Folds one event into the view. `stored` gives its place in the log (the order is
    /// `OrderId(stored.stream)`), `event` its decoded content.
    fn apply(&mut self, stored: &StoredEvent, event: &Event) -> Result<(), ProjectionError>;
}

/// Why a projection could not apply an event.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ProjectionError {
    /// The event belongs to an order whose `order_received` the projection never saw.
    #[error("order {order} has no order_received before this event")]
    UnknownOrder {
        /// The order.
        order: OrderId,
    },
    /// The event contradicts what the projection knows.
    #[error("{detail}")]
    Invalid {
        /// What is wrong.
        detail: String,
    },
}

/// A failure of the runner. Each names the projection.
#[derive(Debug, Error)]
pub enum RunnerError {
    /// The projection could not apply an event; it stopped before it.
    #[error("projection {projection} stopped at position {position} ({event_type}): {source}")]
    Apply {
        /// The projection.
        projection: &'static str,
        /// The failing event's position; the checkpoint stays at `position - 1`.
        position: u64,
        /// The event type's name.
        event_type: String,
        /// What the projection said.
        source: ProjectionError,
    },
    /// An event of the log does not decode.
    #[error("projection {projection} stopped at position {position}: {source}")]
    Decode {
        /// The projection.
        projection: &'static str,
        /// The position.
        position: u64,
        /// The decoder's error.
        source: orderflow_schemas::DecodeError,
    },
    /// The log could not be read.
    #[error("projection {projection}: cannot read the log: {source}")]
    Log {
        /// The projection.
        projection: &'static str,
        /// The log's error.
        source: LogError,
    },
    /// The runner stopped at an earlier failure; it must be reopened (from its snapshot).
    #[error("projection {projection} stopped at position {position} after a failure ({detail}); reopen it")]
    Stopped {
        /// The projection.
        projection: &'static str,
        /// The failing position.
        position: u64,
        /// The original failure.
        detail: String,
    },
    /// The stored snapshot is damaged; rebuild the projection.
    #[error(
        "snapshot of projection {projection} (generation {generation}) is damaged: {detail}; rebuild the \
         projection"
    )]
    SnapshotDamaged {
        /// The projection.
        projection: &'static str,
        /// The snapshot generation (0 when the pointer itself is damaged).
        generation: u64,
        /// What is wrong.
        detail: String,
    },
    /// The snapshot was written for another layout of the view; rebuild the projection.
    #[error(
        "snapshot of projection {projection} has view version {found}, this build reads version {known}; \
         rebuild the projection"
    )]
    ViewVersion {
        /// The projection.
        projection: &'static str,
        /// The snapshot's view version.
        found: u32,
        /// The version this build reads.
        known: u32,
    },
    /// The snapshot reflects more events than the log holds (another log's snapshot?).
    #[error("snapshot of projection {projection} is at position {checkpoint} but the log ends at {head}")]
    AheadOfLog {
        /// The projection.
        projection: &'static str,
        /// The snapshot's checkpoint.
        checkpoint: u64,
        /// The log head.
        head: u64,
    },
    /// A named limit was reached.
    #[error("projection {projection}: limit exceeded: {detail}")]
    Limit {
        /// The projection.
        projection: &'static str,
        /// Which limit.
        detail: String,
    },
    /// The projection's name is not `[a-z0-9_]{1,32}`.
    #[error("invalid projection name {0:?}: expected 1 to 32 characters of [a-z0-9_]")]
    InvalidName(&'static str),
    /// sled failed.
    #[error("projection {projection}: storage failure: {detail}")]
    Storage {
        /// The projection.
        projection: &'static str,
        /// sled's error.
        detail: String,
    },
}

/// The runner's limits and snapshot policy.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// Events read from the log and applied per batch (the engine caps it at its own
    /// `read_batch_events_max`). Small batches stay in the CPU caches: 512 reads and decodes
    /// about twice as fast as 16,384.
    pub batch_events_max: usize,
    /// Decoded batches the read-ahead thread may hold ready for the fold (channel capacity);
    /// 0 reads on the calling thread, without a read-ahead thread.
    pub read_ahead_batches_max: usize,
    /// After a catch-up, save when at least this many events were applied since the last save.
    pub snapshot_after_events: u64,
    /// After a catch-up, save when at least this much time passed since the last save (and
    /// something was applied).
    pub snapshot_after_ms: u64,
    /// Size of one snapshot chunk (a sled value).
    pub snapshot_chunk_bytes: usize,
    /// Largest encoded view a snapshot may hold; a larger one is a [`RunnerError::Limit`].
    pub snapshot_bytes_max: u64,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            batch_events_max: 512,
            read_ahead_batches_max: 8,
            snapshot_after_events: 100_000,
            snapshot_after_ms: 60_000,
            snapshot_chunk_bytes: 256 * 1024,
            snapshot_bytes_max: 1 << 30,
        }
    }
}

/// Where a catch-up or rebuild stands: `position` of `head` events applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The last applied position.
    pub position: u64,
    /// The position being caught up to.
    pub head: u64,
}

/// What a catch-up did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatchUp {
    /// Events applied.
    pub applied: u64,
    /// The checkpoint after it.
    pub checkpoint: u64,
    /// Whether a snapshot was saved afterwards.
    pub saved: bool,
}

/// A stored snapshot, as its pointer describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The projection.
    pub projection: String,
    /// The view layout version.
    pub view_version: u32,
    /// The generation (sled tree `proj.<name>.<generation>`).
    pub generation: u64,
    /// The last position folded into the view.
    pub checkpoint: u64,
    /// Number of chunks.
    pub chunks: u64,
    /// Encoded size of the view.
    pub bytes: u64,
    /// When it was saved (writer's clock).
    pub saved_at: Timestamp,
    /// BLAKE3 of the encoded view.
    pub checksum: [u8; 32],
}

impl SnapshotInfo {
    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(POINTER_BYTES);
        b.extend_from_slice(POINTER_MAGIC);
        b.extend_from_slice(&self.view_version.to_le_bytes());
        b.extend_from_slice(&self.generation.to_le_bytes());
        b.extend_from_slice(&self.checkpoint.to_le_bytes());
        b.extend_from_slice(&self.chunks.to_le_bytes());
        b.extend_from_slice(&self.bytes.to_le_bytes());
        b.extend_from_slice(&self.saved_at.0.to_le_bytes());
        b.extend_from_slice(&self.checksum);
        let check = blake3::hash(&b);
        b.extend_from_slice(&check.as_bytes()[..8]);
        b
    }

    fn decode(projection: &str, b: &[u8]) -> Result<Self, String> {
        if b.len() != POINTER_BYTES {
            return Err(format!("pointer record of {} bytes, expected {POINTER_BYTES}", b.len()));
        }
        let (body, check) = b.split_at(POINTER_BODY_BYTES);
        if blake3::hash(body).as_bytes()[..8] != *check {
            return Err("pointer record checksum mismatch".into());
        }
        if &body[..4] != POINTER_MAGIC {
            return Err(format!("unknown pointer layout {:?}", String::from_utf8_lossy(&body[..4])));
        }
        let u64_at = |at: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&body[at..at + 8]);
            a
        };
        let mut v = [0u8; 4];
        v.copy_from_slice(&body[4..8]);
        let mut checksum = [0u8; 32];
        checksum.copy_from_slice(&body[48..80]);
        Ok(Self {
            projection: projection.to_string(),
            view_version: u32::from_le_bytes(v),
            generation: u64::from_le_bytes(u64_at(8)),
            checkpoint: u64::from_le_bytes(u64_at(16)),
            chunks: u64::from_le_bytes(u64_at(24)),
            bytes: u64::from_le_bytes(u64_at(32)),
            saved_at: Timestamp(i64::from_le_bytes(u64_at(40))),
            checksum,
        })
    }
}

fn storage(projection: &'static str) -> impl Fn(sled::Error) -> RunnerError {
    move |e| RunnerError::Storage { projection, detail: e.to_string() }
}

fn tree_prefix(name: &str) -> String {
    format!("proj.{name}.")
}

fn tree_name(name: &str, generation: u64) -> String {
    format!("proj.{name}.{generation}")
}

fn check_name(name: &'static str) -> Result<(), RunnerError> {
    let ok = !name.is_empty()
        && name.len() <= NAME_BYTES_MAX
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(RunnerError::InvalidName(name))
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The pointer of projection `name`'s snapshot, if one was saved.
pub fn snapshot_info(db: &sled::Db, name: &'static str) -> Result<Option<SnapshotInfo>, RunnerError> {
    let pointers = db.open_tree(POINTERS_TREE).map_err(storage(name))?;
    match pointers.get(name.as_bytes()).map_err(storage(name))? {
        None => Ok(None),
        Some(bytes) => SnapshotInfo::decode(name, &bytes)
            .map(Some)
            .map_err(|detail| RunnerError::SnapshotDamaged { projection: name, generation: 0, detail }),
    }
}

/// A batch read by the read-ahead thread, or the failure that ends the reading (with its
/// position).
type ReadBatch = Result<Vec<StoredEvent>, (u64, RunnerError)>;

/// Reads positions `next..=until` in batches of `batch` and hands them to `send` in order;
/// stops at the first failure or when `send` returns false. Batches sent back on `spent` are
/// freed here.
fn read_ahead(
    log: &EventLog,
    projection: &'static str,
    mut next: u64,
    until: u64,
    batch: usize,
    send: &mut dyn FnMut(ReadBatch) -> bool,
    spent: Option<&Receiver<Vec<StoredEvent>>>,
) {
    while next <= until {
        // Applied batches come back to be freed where they were allocated: freeing them on the
        // applying thread costs the allocator more.
        if let Some(spent) = spent {
            while spent.try_recv().is_ok() {}
        }
        let room = usize::try_from(until - next + 1).unwrap_or(usize::MAX);
        let stored = match log.read_from(next, batch.min(room)) {
            Ok(v) if !v.is_empty() => v,
            Ok(_) => {
                let detail = format!("no event to read below the head {until}");
                let source = LogError::Corrupted { position: next, detail };
                send(Err((next, RunnerError::Log { projection, source })));
                return;
            }
            Err(source) => {
                send(Err((next, RunnerError::Log { projection, source })));
                return;
            }
        };
        next = stored.last().map_or(next, |s| s.position + 1);
        if !send(Ok(stored)) {
            return;
        }
    }
}

/// Per event type code: `None` unknown, `Some((version, folded))` the schema version this build
/// reads and whether projection `P` folds the type.
fn fold_table<P: Projection>() -> Vec<Option<(u16, bool)>> {
    let len = EVENT_TYPES.iter().map(|t| usize::from(t.code) + 1).max().unwrap_or(0);
    let mut table = vec![None; len];
    for t in EVENT_TYPES {
        table[usize::from(t.code)] = Some((t.version, P::folds(*t)));
    }
    table
}

/// A view being folded: the view, the last applied position, and the failure that stopped it.
struct Fold<P> {
    view: P,
    checkpoint: u64,
    failure: Option<(u64, String)>,
    table: Vec<Option<(u16, bool)>>,
}

impl<P: Projection> Fold<P> {
    fn new(view: P, checkpoint: u64) -> Self {
        Self { view, checkpoint, failure: None, table: fold_table::<P>() }
    }

    fn check_running(&self) -> Result<(), RunnerError> {
        match &self.failure {
            Some((position, detail)) => {
                Err(RunnerError::Stopped { projection: P::NAME, position: *position, detail: detail.clone() })
            }
            None => Ok(()),
        }
    }

    /// Folds one stored event, which must be the one right after the checkpoint: decodes and
    /// applies it when the projection folds its type, else only checks the type is known.
    fn fold_one(&mut self, stored: &StoredEvent) -> Result<(), RunnerError> {
        let projection = P::NAME;
        let position = stored.position;
        let expected = self.checkpoint + 1;
        if position != expected {
            let detail = format!("expected position {expected}, read {position}");
            let source = LogError::Corrupted { position: expected, detail };
            return Err(self.fail(expected, RunnerError::Log { projection, source }));
        }
        let known = self.table.get(usize::from(stored.event_type)).copied().flatten();
        let folded = match known {
            Some((version, folded)) if version == stored.schema_version => folded,
            // Unknown type or version: decoding names the problem.
            _ => true,
        };
        if folded {
            let event = match decode_event(stored.event_type, stored.schema_version, &stored.payload) {
                Ok(e) => e,
                Err(source) => {
                    return Err(self.fail(position, RunnerError::Decode { projection, position, source }))
                }
            };
            if let Err(source) = self.view.apply(stored, &event) {
                let event_type = event.body.event_type().name.to_string();
                return Err(
                    self.fail(position, RunnerError::Apply { projection, position, event_type, source })
                );
            }
        }
        self.checkpoint = position;
        Ok(())
    }

    /// Applies at most `max` events after the checkpoint, not beyond `until`, reading them on
    /// this thread (one bounded read). Returns how many.
    fn step(&mut self, log: &EventLog, until: u64, max: usize) -> Result<u64, RunnerError> {
        self.check_running()?;
        if self.checkpoint >= until || max == 0 {
            return Ok(0);
        }
        let last = until.min(self.checkpoint.saturating_add(u64::try_from(max).unwrap_or(u64::MAX)));
        // Bounded by `max` events: the engine returns up to `read_batch_events_max` per read.
        let mut read = Vec::new();
        read_ahead(
            log,
            P::NAME,
            self.checkpoint + 1,
            last,
            max,
            &mut |b| {
                read.push(b);
                true
            },
            None,
        );
        self.drain(read, None, until, &mut |_| {})
    }

    /// Applies every event up to `until` in batches of `batch`. With `ahead` > 0 a read-ahead
    /// thread reads up to `ahead` batches in advance while this thread decodes and applies;
    /// with 0 everything happens on this thread.
    fn run_to(
        &mut self,
        log: &EventLog,
        until: u64,
        batch: usize,
        ahead: usize,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64, RunnerError> {
        self.check_running()?;
        let before = self.checkpoint;
        if before >= until {
            return Ok(0);
        }
        let batch = batch.max(1);
        if ahead == 0 {
            while self.checkpoint < until {
                self.step(log, until, batch)?;
                progress(Progress { position: self.checkpoint, head: until });
            }
            return Ok(self.checkpoint - before);
        }
        std::thread::scope(|scope| {
            let (tx, rx) = sync_channel::<ReadBatch>(ahead);
            let (spent_tx, spent_rx) = sync_channel(ahead);
            let reader = log.clone();
            scope.spawn(move || {
                let mut send = |b| tx.send(b).is_ok();
                read_ahead(&reader, P::NAME, before + 1, until, batch, &mut send, Some(&spent_rx));
            });
            // Returning drops the receiver, which stops the reader.
            self.drain(rx, Some(&spent_tx), until, progress)
        })
    }

    /// Folds the batches received until the sender is done.
    fn drain(
        &mut self,
        rx: impl IntoIterator<Item = ReadBatch>,
        spent: Option<&SyncSender<Vec<StoredEvent>>>,
        until: u64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64, RunnerError> {
        let mut applied = 0u64;
        for message in rx {
            let batch = match message {
                Ok(batch) => batch,
                Err((position, e)) => return Err(self.fail(position, e)),
            };
            let span = info_span!(
                "projection_batch",
                projection = P::NAME,
                from = self.checkpoint + 1,
                events = batch.len()
            );
            let _enter = span.enter();
            for stored in &batch {
                self.fold_one(stored)?;
                applied += 1;
            }
            progress(Progress { position: self.checkpoint, head: until });
            if let Some(spent) = spent {
                // When the reader is behind on freeing, this thread frees the batch itself.
                let _ = spent.try_send(batch);
            }
        }
        Ok(applied)
    }

    fn fail(&mut self, position: u64, e: RunnerError) -> RunnerError {
        warn!(projection = P::NAME, position, error = %e, "Projection stopped.");
        self.failure = Some((position, e.to_string()));
        e
    }
}

/// Runs one projection: loads its snapshot, catches up from the log, saves snapshots.
///
/// One runner per projection and data directory at a time (the log's directory lock keeps other
/// processes out; within a process, the caller keeps one).
pub struct Runner<P: Projection> {
    log: EventLog,
    config: RunnerConfig,
    fold: Fold<P>,
    /// The snapshot in force, if any.
    snapshot: Option<SnapshotInfo>,
    applied_since_save: u64,
    last_save: Instant,
}

impl<P: Projection> std::fmt::Debug for Runner<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("projection", &P::NAME)
            .field("checkpoint", &self.fold.checkpoint)
            .field("snapshot", &self.snapshot)
            .finish()
    }
}

impl<P: Projection> Runner<P> {
    /// Opens the projection: loads its snapshot (checking its chunks and checksum) or starts
    /// empty at position 0, and drops snapshot generations that no pointer references (left by
    /// a crash during a save). Call [`Runner::catch_up`] next.
    pub fn open(log: &EventLog, config: RunnerConfig) -> Result<Self, RunnerError> {
        check_name(P::NAME)?;
        let loaded = load_snapshot::<P>(log, &config)?;
        let keep = loaded.as_ref().map(|(_, info)| info.generation);
        drop_generations(log.db(), P::NAME, keep)?;
        let (view, snapshot) = match loaded {
            Some((view, info)) => (view, Some(info)),
            None => (P::default(), None),
        };
        let checkpoint = snapshot.as_ref().map_or(0, |s| s.checkpoint);
        info!(projection = P::NAME, checkpoint, head = log.head(), "Projection opened.");
        Ok(Self::with(log, config, Fold::new(view, checkpoint), snapshot))
    }

    /// Opens the projection like [`Runner::open`]; a snapshot written for another layout of the
    /// view ([`RunnerError::ViewVersion`]: this build changed the view) is set aside instead of
    /// refused: the view starts empty at position 0, the next catch-up folds it from the log,
    /// and the next save replaces the old snapshot. Returns the runner and, when that happened,
    /// the reason (for a warning). A damaged snapshot is still refused (see
    /// [`RunnerError::SnapshotDamaged`]): damage is reported, not papered over.
    pub fn open_or_refold(
        log: &EventLog,
        config: RunnerConfig,
    ) -> Result<(Self, Option<String>), RunnerError> {
        match Self::open(log, config.clone()) {
            Err(RunnerError::ViewVersion { projection, found, known }) => {
                let why = format!(
                    "the saved {projection} view has the layout of view version {found}, this build reads \
                     version {known}: it is folded again from the log"
                );
                warn!(projection, found, known, "Snapshot of another view version: folding the view again.");
                Ok((Self::open_empty(log, config)?, Some(why)))
            }
            other => other.map(|r| (r, None)),
        }
    }

    /// Opens the projection empty at position 0 without reading its snapshot (for instance a
    /// damaged one). The next save replaces the stored snapshot.
    pub fn open_empty(log: &EventLog, config: RunnerConfig) -> Result<Self, RunnerError> {
        check_name(P::NAME)?;
        let snapshot = match snapshot_info(log.db(), P::NAME) {
            Ok(s) => s,
            Err(RunnerError::SnapshotDamaged { .. }) => None,
            Err(e) => return Err(e),
        };
        Ok(Self::with(log, config, Fold::new(P::default(), 0), snapshot))
    }

    fn with(log: &EventLog, config: RunnerConfig, fold: Fold<P>, snapshot: Option<SnapshotInfo>) -> Self {
        Self { log: log.clone(), config, fold, snapshot, applied_since_save: 0, last_save: Instant::now() }
    }

    /// Deletes the projection's stored snapshot (pointer and every generation).
    pub fn remove_snapshot(log: &EventLog) -> Result<(), RunnerError> {
        check_name(P::NAME)?;
        let db = log.db();
        let pointers = db.open_tree(POINTERS_TREE).map_err(storage(P::NAME))?;
        pointers.remove(P::NAME.as_bytes()).map_err(storage(P::NAME))?;
        db.flush().map_err(storage(P::NAME))?;
        drop_generations(db, P::NAME, None)
    }

    /// The view as of [`Runner::checkpoint`].
    pub fn view(&self) -> &P {
        &self.fold.view
    }

    /// The last position folded into the view.
    pub fn checkpoint(&self) -> u64 {
        self.fold.checkpoint
    }

    /// The snapshot in force, if one was saved or loaded.
    pub fn snapshot(&self) -> Option<&SnapshotInfo> {
        self.snapshot.as_ref()
    }

    /// The failure that stopped the runner, as `(position, message)`.
    pub fn failure(&self) -> Option<(u64, &str)> {
        self.fold.failure.as_ref().map(|(p, d)| (*p, d.as_str()))
    }

    /// Applies at most `max_events` events after the checkpoint (one bounded read). Returns how
    /// many were applied; 0 when caught up. Never saves.
    pub fn step(&mut self, max_events: usize) -> Result<u64, RunnerError> {
        let n = self.fold.step(&self.log, self.log.head(), max_events.min(self.config.batch_events_max))?;
        self.applied_since_save += n;
        Ok(n)
    }

    /// Applies every event up to the log head as it is when called, in batches of
    /// `batch_events_max` read and decoded ahead on a thread of their own, calling `progress`
    /// after each batch; then saves a snapshot when the
    /// policy says so (`snapshot_after_events` or `snapshot_after_ms`).
    pub fn catch_up(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<CatchUp, RunnerError> {
        let head = self.log.head();
        let before = self.fold.checkpoint;
        let result = self.fold.run_to(
            &self.log,
            head,
            self.config.batch_events_max,
            self.config.read_ahead_batches_max,
            progress,
        );
        let applied = self.fold.checkpoint - before;
        self.applied_since_save += applied;
        result?;
        let due = self.applied_since_save > 0
            && (self.applied_since_save >= self.config.snapshot_after_events
                || self.last_save.elapsed() >= Duration::from_millis(self.config.snapshot_after_ms));
        if due {
            self.save()?;
        }
        debug!(projection = P::NAME, applied, checkpoint = self.fold.checkpoint, saved = due, "Caught up.");
        Ok(CatchUp { applied, checkpoint: self.fold.checkpoint, saved: due })
    }

    /// Saves the view and its checkpoint as a new snapshot generation. Refused after a failure
    /// (the in-memory view may hold part of the failing event).
    pub fn save(&mut self) -> Result<(), RunnerError> {
        if let Some((position, detail)) = &self.fold.failure {
            return Err(RunnerError::Stopped {
                projection: P::NAME,
                position: *position,
                detail: detail.clone(),
            });
        }
        let old = self.snapshot.as_ref().map(|s| s.generation);
        let info = write_snapshot(&self.log, &self.config, &self.fold.view, self.fold.checkpoint, old)?;
        self.snapshot = Some(info);
        self.applied_since_save = 0;
        self.last_save = Instant::now();
        Ok(())
    }

    /// Saves when anything was applied since the last save, and closes.
    pub fn close(mut self) -> Result<(), RunnerError> {
        if self.applied_since_save > 0 && self.fold.failure.is_none() {
            self.save()?;
        }
        Ok(())
    }

    /// Starts a rebuild from position 0 beside the current view, which stays readable through
    /// [`Runner::view`] until [`Runner::finish_rebuild`] swaps the new one in.
    pub fn start_rebuild(&self) -> Rebuild<P> {
        Rebuild {
            log: self.log.clone(),
            fold: Fold::new(P::default(), 0),
            batch_events_max: self.config.batch_events_max,
        }
    }

    /// Catches `rebuild` up to the log head, saves it as a new snapshot generation and swaps it
    /// in: from then on [`Runner::view`] is the rebuilt view.
    pub fn finish_rebuild(
        &mut self,
        mut rebuild: Rebuild<P>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), RunnerError> {
        let head = self.log.head();
        rebuild.fold.run_to(
            &self.log,
            head,
            self.config.batch_events_max,
            self.config.read_ahead_batches_max,
            progress,
        )?;
        let old = self.snapshot.as_ref().map(|s| s.generation);
        let info = write_snapshot(&self.log, &self.config, &rebuild.fold.view, rebuild.fold.checkpoint, old)?;
        info!(projection = P::NAME, checkpoint = info.checkpoint, generation = info.generation, "Rebuilt.");
        self.fold = rebuild.fold;
        self.snapshot = Some(info);
        self.applied_since_save = 0;
        self.last_save = Instant::now();
        Ok(())
    }

    /// Rebuilds from position 0 and swaps the result in ([`Runner::start_rebuild`] then
    /// [`Runner::finish_rebuild`]).
    pub fn rebuild(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<(), RunnerError> {
        let rebuild = self.start_rebuild();
        self.finish_rebuild(rebuild, progress)
    }
}

/// A view being rebuilt from position 0 beside a runner's current view.
pub struct Rebuild<P: Projection> {
    log: EventLog,
    fold: Fold<P>,
    batch_events_max: usize,
}

impl<P: Projection> std::fmt::Debug for Rebuild<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rebuild")
            .field("projection", &P::NAME)
            .field("checkpoint", &self.fold.checkpoint)
            .finish()
    }
}

impl<P: Projection> Rebuild<P> {
    /// Applies at most `max_events` events (one bounded read). Returns how many.
    pub fn step(&mut self, max_events: usize) -> Result<u64, RunnerError> {
        self.fold.step(&self.log, self.log.head(), max_events.min(self.batch_events_max))
    }

    /// The view being built.
    pub fn view(&self) -> &P {
        &self.fold.view
    }

    /// The last position folded into it.
    pub fn checkpoint(&self) -> u64 {
        self.fold.checkpoint
    }
}

/// Streams the encoded view into chunks of a generation tree, hashing as it goes.
struct ChunkWriter<'a> {
    tree: &'a sled::Tree,
    chunk: Vec<u8>,
    chunk_bytes: usize,
    chunks: u64,
    bytes: u64,
    bytes_max: u64,
    hasher: blake3::Hasher,
    error: Option<RunnerError>,
    projection: &'static str,
}

impl ChunkWriter<'_> {
    fn flush_chunk(&mut self) -> std::io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        self.hasher.update(&self.chunk);
        let value = std::mem::replace(&mut self.chunk, Vec::with_capacity(self.chunk_bytes));
        if let Err(e) = self.tree.insert(self.chunks.to_be_bytes(), value) {
            self.error = Some(storage(self.projection)(e));
            return Err(std::io::Error::other("sled insert failed"));
        }
        self.chunks += 1;
        Ok(())
    }
}

impl Write for ChunkWriter<'_> {
    fn write(&mut self, mut buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len();
        self.bytes += n as u64;
        if self.bytes > self.bytes_max {
            self.error = Some(RunnerError::Limit {
                projection: self.projection,
                detail: format!("the encoded view exceeds snapshot_bytes_max = {}", self.bytes_max),
            });
            return Err(std::io::Error::other("snapshot too large"));
        }
        while !buf.is_empty() {
            let room = self.chunk_bytes - self.chunk.len();
            let take = room.min(buf.len());
            self.chunk.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.chunk.len() == self.chunk_bytes {
                self.flush_chunk()?;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes `view` at `checkpoint` as a new generation, switches the pointer to it, and drops
/// `old` (and any other stray generation).
fn write_snapshot<P: Projection>(
    log: &EventLog,
    config: &RunnerConfig,
    view: &P,
    checkpoint: u64,
    old: Option<u64>,
) -> Result<SnapshotInfo, RunnerError> {
    let name = P::NAME;
    let db = log.db();
    let span = info_span!("projection_save", projection = name, checkpoint);
    let _enter = span.enter();
    let generation = db.generate_id().map_err(storage(name))?;
    let tree = db.open_tree(tree_name(name, generation)).map_err(storage(name))?;
    tree.clear().map_err(storage(name))?;
    let chunk_bytes = config.snapshot_chunk_bytes.max(1);
    let mut w = ChunkWriter {
        tree: &tree,
        chunk: Vec::with_capacity(chunk_bytes),
        chunk_bytes,
        chunks: 0,
        bytes: 0,
        bytes_max: config.snapshot_bytes_max,
        hasher: blake3::Hasher::new(),
        error: None,
        projection: name,
    };
    let encoded = bincode::serde::encode_into_std_write(view, &mut w, config::standard());
    let flushed = encoded.is_ok() && w.flush_chunk().is_ok();
    if !flushed {
        let err = w.error.take().unwrap_or_else(|| RunnerError::Storage {
            projection: name,
            detail: match encoded {
                Err(e) => format!("cannot encode the view: {e}"),
                Ok(_) => "cannot write the snapshot".into(),
            },
        });
        drop(tree);
        let _ = db.drop_tree(tree_name(name, generation));
        return Err(err);
    }
    let info = SnapshotInfo {
        projection: name.to_string(),
        view_version: P::VIEW_VERSION,
        generation,
        checkpoint,
        chunks: w.chunks,
        bytes: w.bytes,
        saved_at: Timestamp(now_us()),
        checksum: *w.hasher.finalize().as_bytes(),
    };
    // The chunks are durable before the pointer names them.
    db.flush().map_err(storage(name))?;
    let pointers = db.open_tree(POINTERS_TREE).map_err(storage(name))?;
    pointers.insert(name.as_bytes(), info.encode()).map_err(storage(name))?;
    db.flush().map_err(storage(name))?;
    if let Some(old) = old.filter(|g| *g != generation) {
        db.drop_tree(tree_name(name, old)).map_err(storage(name))?;
    }
    info!(
        projection = name,
        checkpoint,
        generation,
        bytes = info.bytes,
        chunks = info.chunks,
        "Snapshot saved."
    );
    Ok(info)
}

/// Drops every generation tree of `name` except `keep`.
fn drop_generations(db: &sled::Db, name: &'static str, keep: Option<u64>) -> Result<(), RunnerError> {
    let prefix = tree_prefix(name);
    for t in db.tree_names() {
        let Some(rest) = t.strip_prefix(prefix.as_bytes()) else { continue };
        let generation = std::str::from_utf8(rest).ok().and_then(|s| s.parse::<u64>().ok());
        if generation.is_some() && generation == keep {
            continue;
        }
        warn!(projection = name, tree = %String::from_utf8_lossy(&t), "Dropping an unreferenced snapshot generation.");
        db.drop_tree(&t).map_err(storage(name))?;
    }
    Ok(())
}

/// Reads, checks and decodes the snapshot of `P`, if one was saved.
fn load_snapshot<P: Projection>(
    log: &EventLog,
    config: &RunnerConfig,
) -> Result<Option<(P, SnapshotInfo)>, RunnerError> {
    let name = P::NAME;
    let Some(info) = snapshot_info(log.db(), name)? else { return Ok(None) };
    let generation = info.generation;
    let damaged = |detail: String| RunnerError::SnapshotDamaged { projection: name, generation, detail };
    if info.view_version != P::VIEW_VERSION {
        return Err(RunnerError::ViewVersion {
            projection: name,
            found: info.view_version,
            known: P::VIEW_VERSION,
        });
    }
    if info.bytes > config.snapshot_bytes_max {
        return Err(damaged(format!(
            "the pointer claims {} bytes (snapshot_bytes_max = {})",
            info.bytes, config.snapshot_bytes_max
        )));
    }
    let tree_label = tree_name(name, generation);
    if !log.db().tree_names().iter().any(|t| t.as_ref() == tree_label.as_bytes()) {
        return Err(damaged(format!("tree {tree_label} is missing")));
    }
    let tree = log.db().open_tree(&tree_label).map_err(storage(name))?;
    let capacity = usize::try_from(info.bytes).map_err(|_| damaged("size does not fit in memory".into()))?;
    let mut blob = Vec::with_capacity(capacity);
    let mut hasher = blake3::Hasher::new();
    let mut expected = 0u64;
    for kv in tree.iter() {
        let (k, v) = kv.map_err(storage(name))?;
        let index = <[u8; 8]>::try_from(k.as_ref()).map(u64::from_be_bytes).ok();
        if index != Some(expected) {
            return Err(damaged(format!("chunk {expected} is missing (found key {:?})", k.as_ref())));
        }
        if blob.len() + v.len() > capacity {
            return Err(damaged(format!("chunks hold more than the {} bytes recorded", info.bytes)));
        }
        hasher.update(&v);
        blob.extend_from_slice(&v);
        expected += 1;
    }
    if expected != info.chunks {
        return Err(damaged(format!("{expected} chunks found, {} recorded", info.chunks)));
    }
    if blob.len() as u64 != info.bytes {
        return Err(damaged(format!("{} bytes found, {} recorded", blob.len(), info.bytes)));
    }
    if *hasher.finalize().as_bytes() != info.checksum {
        return Err(damaged("checksum mismatch".into()));
    }
    let (view, used) = bincode::serde::decode_from_slice::<P, _>(&blob, config::standard())
        .map_err(|e| damaged(format!("the view does not decode: {e}")))?;
    if used != blob.len() {
        return Err(damaged(format!("{} bytes left after the view", blob.len() - used)));
    }
    let head = log.head();
    if info.checkpoint > head {
        return Err(RunnerError::AheadOfLog { projection: name, checkpoint: info.checkpoint, head });
    }
    Ok(Some((view, info)))
}
