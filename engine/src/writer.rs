//! The single writer: drains queued appends into a batch, writes one record per append, flushes
//! once for the whole batch (group commit), then acknowledges. Nothing is acknowledged before
//! the flush. A failed write or flush rolls the batch back, reports it, and stops the writer:
//! sled 0.34 keeps the first I/O error and fails every later write of the same handle, and its
//! memory may still hold what the rollback could not remove, so the writer refuses every later
//! append (without touching sled) until the data directory is reopened.

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

    fn commit_batch(&mut self, batch: &mut Vec<(AppendRequest, Reply)>) {
        let span = info_span!("write_batch", appends = batch.len());
        let _enter = span.enter();
        let head_before = self.head;
        let hash_before = self.last_log_hash;
        let mut touched: HashMap<Uuid, StreamState> = HashMap::new();
        let mut written: Vec<([u8; 8], [u8; 24])> = Vec::new();
        let mut results: Vec<Result<Appended, AppendError>> = Vec::with_capacity(batch.len());
        let mut failure: Option<String> = None;
        let recorded_at_us = now_us();

        for (req, _) in batch.iter() {
            if failure.is_some() {
                results.push(Err(AppendError::Storage("an earlier append of the same batch failed".into())));
                continue;
            }
            let state = match touched.entry(req.stream) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let loaded = match self.streams.remove(&req.stream) {
                        Some(s) => Ok(s),
                        None => self.load_stream(req.stream),
                    };
                    match loaded {
                        Ok(s) => v.insert(s),
                        Err(e) => {
                            results.push(Err(AppendError::Storage(e.to_string())));
                            continue;
                        }
                    }
                }
            };
            if let Some(prev) = state.appends.find(req.command_id) {
                results.push(Ok(Appended::Duplicate(prev.commit(req.stream))));
                continue;
            }
            let matches = match req.expected {
                ExpectedVersion::Any => true,
                ExpectedVersion::NoStream => state.version == 0,
                ExpectedVersion::Exact(v) => state.version == v,
            };
            if !matches {
                results.push(Ok(Appended::Conflict { expected: req.expected, actual: state.version }));
                continue;
            }
            let count = req.events.len() as u64;
            if state.version + count > self.limits.events_per_stream_max {
                results.push(Err(AppendError::Limit(format!(
                    "stream {} would hold {} events (events_per_stream_max = {})",
                    req.stream,
                    state.version + count,
                    self.limits.events_per_stream_max
                ))));
                continue;
            }
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
            let res = self
                .trees
                .log
                .insert(lkey, bytes)
                .and_then(|_| self.trees.index.insert(ikey, &entry.encode()));
            if let Err(e) = res {
                failure = Some(sled_message(&e));
                results.push(Err(AppendError::Storage(sled_message(&e))));
                continue;
            }
            state.version += count;
            state.hash = chains.stream_hash;
            state.appends.push(entry);
            self.head += count;
            self.last_log_hash = chains.log_hash;
            results.push(Ok(Appended::Committed(Commit {
                stream: req.stream,
                first_position,
                first_version: entry.first_version,
                count,
            })));
        }

        if failure.is_none() && self.head > head_before {
            let flushed = self
                .trees
                .meta
                .insert(META_DURABLE, &self.durable.to_be_bytes())
                .and_then(|_| self.trees.db.flush());
            if let Err(e) = flushed {
                failure = Some(sled_message(&e));
            }
        }

        if let Some(reason) = failure {
            error!(error = %reason, appends = batch.len(), "Write batch failed; rolling back and stopping the writer.");
            let _ = self.failed.set(reason.clone());
            for (lkey, ikey) in &written {
                let _ = self.trees.log.remove(lkey);
                let _ = self.trees.index.remove(ikey);
            }
            self.head = head_before;
            self.last_log_hash = hash_before;
            // Stream states of this batch may hold rolled-back appends: forget them.
            touched.clear();
            for r in results.iter_mut() {
                if !matches!(r, Ok(Appended::Conflict { .. }) | Err(AppendError::Limit(_))) {
                    *r = Err(AppendError::Storage(format!(
                        "not acknowledged: the write failed and was rolled back ({reason}); retry with \
                         the same command id once the disk is writable again, to apply it exactly once"
                    )));
                }
            }
        } else {
            self.durable = self.head;
            if self.streams.len() + touched.len() > self.limits.stream_cache_streams_max {
                debug!(streams = self.streams.len(), "Stream cache full; emptying it.");
                self.streams.clear();
            }
            self.streams.extend(touched);
            self.durable_tx.send_replace(self.head);
        }

        for ((_, reply), result) in batch.drain(..).zip(results) {
            let _ = reply.send(result);
        }
    }
}
