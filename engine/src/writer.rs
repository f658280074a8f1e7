//! The single writer: drains queued appends into a batch, writes one record per append, flushes
//! once for the whole batch (group commit), then acknowledges. Nothing is acknowledged before
//! the flush. A failed write or flush rolls the batch back, reports it, and stops the writer:
//! sled 0.34 keeps the first I/O error and fails every later write of the same handle, and its
//! memory may still hold what the rollback could not remove, so the writer refuses every later
//! append (without touching sled) until the data directory is reopened.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, error, info_span};
use uuid::Uuid;

use crate::error::{sled_message, AppendError, LogError};
use crate::limits::Limits;
use crate::log::{
    index_key, position_key, AppendRequest, Appended, Commit, ExpectedVersion, IndexEntry, Trees,
    META_DURABLE,
};
use crate::record::{decode_record, encode_record, Chains, EncodeEvent, RecordHeader, GENESIS_HASH};

pub(crate) type Reply = oneshot::Sender<Result<Appended, AppendError>>;

pub(crate) enum Msg {
    Append(AppendRequest, Reply),
}

/// Appends of one stream by command id: a short list for the usual short streams, a map once
/// a stream has many appends (so idempotency checks stay O(1)).
#[derive(Clone, Debug)]
enum Appends {
    Few(Vec<IndexEntry>),
    Many(HashMap<Uuid, IndexEntry>),
}

/// Streams with more appends than this keep them in a map.
const FEW_APPENDS_MAX: usize = 32;

impl Appends {
    fn find(&self, command_id: Uuid) -> Option<&IndexEntry> {
        match self {
            Appends::Few(v) => v.iter().find(|a| a.command_id == command_id),
            Appends::Many(m) => m.get(&command_id),
        }
    }

    fn push(&mut self, entry: IndexEntry) {
        match self {
            Appends::Few(v) if v.len() < FEW_APPENDS_MAX => v.push(entry),
            Appends::Few(v) => {
                let mut m: HashMap<Uuid, IndexEntry> = v.drain(..).map(|e| (e.command_id, e)).collect();
                m.insert(entry.command_id, entry);
                *self = Appends::Many(m);
            }
            Appends::Many(m) => {
                m.insert(entry.command_id, entry);
            }
        }
    }
}

/// What the writer knows of one stream.
#[derive(Clone, Debug)]
struct StreamState {
    version: u64,
    hash: [u8; 32],
    /// Every append of the stream, for idempotency (bounded by `events_per_stream_max`).
    appends: Appends,
}

pub(crate) struct Writer {
    trees: Arc<Trees>,
    limits: Limits,
    head: u64,
    last_log_hash: [u8; 32],
    /// End of the last batch known flushed.
    durable: u64,
    streams: HashMap<Uuid, StreamState>,
    durable_tx: watch::Sender<u64>,
    rx: mpsc::Receiver<Msg>,
    /// Why the writer stopped, once a write or flush failed.
    failed: Arc<OnceLock<String>>,
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Writer {
    pub(crate) fn new(
        trees: Arc<Trees>,
        limits: Limits,
        head: u64,
        last_log_hash: [u8; 32],
        durable_tx: watch::Sender<u64>,
        rx: mpsc::Receiver<Msg>,
        failed: Arc<OnceLock<String>>,
    ) -> Self {
        Self {
            trees,
            limits,
            head,
            last_log_hash,
            durable: head,
            streams: HashMap::new(),
            durable_tx,
            rx,
            failed,
        }
    }

    pub(crate) fn run(mut self) {
        let mut batch: Vec<(AppendRequest, Reply)> = Vec::with_capacity(self.limits.batch_appends_max);
        while let Some(Msg::Append(req, reply)) = self.rx.blocking_recv() {
            batch.push((req, reply));
            while batch.len() < self.limits.batch_appends_max {
                match self.rx.try_recv() {
                    Ok(Msg::Append(req, reply)) => batch.push((req, reply)),
                    Err(_) => break,
                }
            }
            if let Some(reason) = self.failed.get() {
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(AppendError::Storage(format!(
                        "the log stopped writing after a disk error ({reason}); nothing is written \
                         until the data directory is reopened"
                    ))));
                }
                continue;
            }
            self.commit_batch(&mut batch);
        }
    }

    /// Loads a stream's state from the index and its last record.
    fn load_stream(&self, stream: Uuid) -> Result<StreamState, LogError> {
        let mut appends = Appends::Few(Vec::new());
        let mut last = None;
        for kv in self.trees.index.scan_prefix(stream.as_bytes()) {
            let (k, v) = kv?;
            let entry = IndexEntry::decode(&k, &v)?;
            appends.push(entry);
            last = Some(entry);
        }
        let Some(last) = last else {
            return Ok(StreamState { version: 0, hash: GENESIS_HASH, appends });
        };
        let bytes = self.trees.log.get(position_key(last.position))?.ok_or_else(|| LogError::Corrupted {
            position: last.position,
            detail: format!("record of stream {stream} is missing"),
        })?;
        let mut events = Vec::new();
        decode_record(last.position, &bytes, 0, &mut events)
            .map_err(|detail| LogError::Corrupted { position: last.position, detail })?;
        let tail = events.last().filter(|e| e.stream == stream).ok_or_else(|| LogError::Corrupted {
            position: last.position,
            detail: format!("record does not belong to stream {stream}"),
        })?;
        Ok(StreamState { version: tail.version, hash: tail.stream_hash, appends })
    }

    /// Writes a batch of appends as one group commit and answers each of them: every append is
    /// checked and written in order, the batch is flushed once, then either all its writes are
    /// acknowledged or, after a failure, all are rolled back and the writer stops.
    fn commit_batch(&mut self, batch: &mut Vec<(AppendRequest, Reply)>) {
        let span = info_span!("write_batch", appends = batch.len());
        let _enter = span.enter();
        let mut work = BatchWork {
            head_before: self.head,
            hash_before: self.last_log_hash,
            touched: HashMap::new(),
            written: Vec::new(),
            results: Vec::with_capacity(batch.len()),
            failure: None,
        };
        let recorded_at_us = now_us();
        for (req, _) in batch.iter() {
            let result = self.append_one(&mut work, req, recorded_at_us);
            work.results.push(result);
        }
        self.flush_batch(&mut work);
        match work.failure.take() {
            Some(reason) => self.roll_back(&mut work, &reason),
            None => self.settle(std::mem::take(&mut work.touched)),
        }
        for ((_, reply), result) in batch.drain(..).zip(work.results) {
            let _ = reply.send(result);
        }
    }

    /// Checks one append of the batch against its stream and writes it (not yet flushed). After
    /// a write failure in the batch, every later append fails without being tried.
    fn append_one(
        &mut self,
        work: &mut BatchWork,
        req: &AppendRequest,
        recorded_at_us: i64,
    ) -> Result<Appended, AppendError> {
        if work.failure.is_some() {
            return Err(AppendError::Storage("an earlier append of the same batch failed".into()));
        }
        let state = self
            .stream_state(&mut work.touched, req.stream)
            .map_err(|e| AppendError::Storage(e.to_string()))?;
        if let Some(outcome) = self.outcome_without_writing(state, req) {
            return outcome;
        }
        self.write_record(state, req, recorded_at_us, &mut work.written).map_err(|reason| {
            work.failure = Some(reason.clone());
            AppendError::Storage(reason)
        })
    }

    /// The state of a stream for this batch: taken over from an earlier append of the batch, from
    /// the cache, or loaded from disk.
    fn stream_state<'t>(
        &mut self,
        touched: &'t mut HashMap<Uuid, StreamState>,
        stream: Uuid,
    ) -> Result<&'t mut StreamState, LogError> {
        match touched.entry(stream) {
            Entry::Occupied(o) => Ok(o.into_mut()),
            Entry::Vacant(v) => {
                let loaded = match self.streams.remove(&stream) {
                    Some(s) => s,
                    None => self.load_stream(stream)?,
                };
                Ok(v.insert(loaded))
            }
        }
    }

    /// The outcome of an append that writes nothing: a duplicate command, a version conflict, or
    /// a stream that would exceed its limit. `None` when the append is to be written.
    fn outcome_without_writing(
        &self,
        state: &StreamState,
        req: &AppendRequest,
    ) -> Option<Result<Appended, AppendError>> {
        if let Some(prev) = state.appends.find(req.command_id) {
            return Some(Ok(Appended::Duplicate(prev.commit(req.stream))));
        }
        let matches = match req.expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => state.version == 0,
            ExpectedVersion::Exact(v) => state.version == v,
        };
        if !matches {
            return Some(Ok(Appended::Conflict { expected: req.expected, actual: state.version }));
        }
        let count = req.events.len() as u64;
        if state.version + count > self.limits.events_per_stream_max {
            return Some(Err(AppendError::Limit(format!(
                "stream {} would hold {} events (events_per_stream_max = {})",
                req.stream,
                state.version + count,
                self.limits.events_per_stream_max
            ))));
        }
        None
    }

    /// Encodes the append as one record after the head, inserts it and its index entry, and
    /// moves the head and the stream's state past it. The keys go to `written` (for a rollback)
    /// before the inserts; an insert failure is returned in words.
    fn write_record(
        &mut self,
        state: &mut StreamState,
        req: &AppendRequest,
        recorded_at_us: i64,
        written: &mut Vec<([u8; 8], [u8; 24])>,
    ) -> Result<Appended, String> {
        let count = req.events.len() as u64;
        let first_position = self.head + 1;
        let header = RecordHeader {
            stream: req.stream,
            first_version: state.version + 1,
            command_id: req.command_id,
            recorded_at_us,
        };
        let events: Vec<EncodeEvent<'_>> = req
            .events
            .iter()
            .map(|e| EncodeEvent {
                event_type: e.event_type,
                schema_version: e.schema_version,
                payload: &e.payload,
            })
            .collect();
        let prev = Chains { stream_hash: state.hash, log_hash: self.last_log_hash };
        let (bytes, chains) = encode_record(first_position, &header, &events, &prev);
        let entry = IndexEntry {
            first_version: header.first_version,
            position: first_position,
            count: u16::try_from(count).unwrap_or(u16::MAX),
            command_id: req.command_id,
        };
        let lkey = position_key(first_position);
        let ikey = index_key(req.stream, header.first_version);
        written.push((lkey, ikey));
        self.trees
            .log
            .insert(lkey, bytes)
            .and_then(|_| self.trees.index.insert(ikey, &entry.encode()))
            .map_err(|e| sled_message(&e))?;
        state.version += count;
        state.hash = chains.stream_hash;
        state.appends.push(entry);
        self.head += count;
        self.last_log_hash = chains.log_hash;
        Ok(Appended::Committed(Commit {
            stream: req.stream,
            first_position,
            first_version: entry.first_version,
            count,
        }))
    }

    /// Records the previous durable end and flushes once for the whole batch, when it wrote
    /// anything and nothing failed; a flush failure becomes the batch's failure.
    fn flush_batch(&self, work: &mut BatchWork) {
        if work.failure.is_some() || self.head == work.head_before {
            return;
        }
        let flushed = self
            .trees
            .meta
            .insert(META_DURABLE, &self.durable.to_be_bytes())
            .and_then(|_| self.trees.db.flush());
        if let Err(e) = flushed {
            work.failure = Some(sled_message(&e));
        }
    }

    /// After a failed write or flush: stops the writer, removes what the batch wrote, puts head
    /// and hash back, forgets the batch's stream states, and turns every result that would have
    /// written into a storage error (conflicts and limits stand: they wrote nothing).
    fn roll_back(&mut self, work: &mut BatchWork, reason: &str) {
        error!(error = %reason, appends = work.results.len(), "Write batch failed; rolling back and stopping the writer.");
        let _ = self.failed.set(reason.to_string());
        for (lkey, ikey) in &work.written {
            let _ = self.trees.log.remove(lkey);
            let _ = self.trees.index.remove(ikey);
        }
        self.head = work.head_before;
        self.last_log_hash = work.hash_before;
        // Stream states of this batch may hold rolled-back appends: forget them.
        work.touched.clear();
        for r in work.results.iter_mut() {
            if !matches!(r, Ok(Appended::Conflict { .. }) | Err(AppendError::Limit(_))) {
                *r = Err(AppendError::Storage(format!(
                    "not acknowledged: the write failed and was rolled back ({reason}); retry with \
                     the same command id once the disk is writable again, to apply it exactly once"
                )));
            }
        }
    }

    /// After a flushed batch: the head is durable, the batch's stream states go (back) into the
    /// cache, and readers are told the new head.
    fn settle(&mut self, touched: HashMap<Uuid, StreamState>) {
        self.durable = self.head;
        if self.streams.len() + touched.len() > self.limits.stream_cache_streams_max {
            debug!(streams = self.streams.len(), "Stream cache full; emptying it.");
            self.streams.clear();
        }
        self.streams.extend(touched);
        self.durable_tx.send_replace(self.head);
    }
}

/// What a batch has done so far: what its acknowledgements or its rollback need.
struct BatchWork {
    /// The head and the last log hash before the batch.
    head_before: u64,
    hash_before: [u8; 32],
    /// The states of the streams the batch touched, taken out of the cache.
    touched: HashMap<Uuid, StreamState>,
    /// The keys of every record and index entry written, for a rollback.
    written: Vec<([u8; 8], [u8; 24])>,
    /// One result per append so far, in order.
    results: Vec<Result<Appended, AppendError>>,
    /// The first write or flush failure.
    failure: Option<String>,
}
