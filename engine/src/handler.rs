//! Command handling, generic over an aggregate: load the state (cached), decide, append with the
//! expected version, retry on conflict, deduplicate by command id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use thiserror::Error;
use tracing::debug;
use uuid::Uuid;

use crate::error::{AppendError, LogError};
use crate::log::{AppendRequest, Appended, Commit, EventLog, ExpectedVersion, NewEvent, StoredEvent};

/// A domain model the handler can drive: pure decide and evolve plus the event codec.
pub trait Aggregate: Send + Sync + 'static {
    /// The folded state of one stream.
    type State: Clone + Send + Sync + 'static;
    /// A request to change a stream.
    type Command: Send + Sync;
    /// A recorded fact.
    type Event: Send + Sync;
    /// Time, actor and settings injected into `decide`.
    type Context: Send + Sync;
    /// Why a command was refused.
    type Rejection: std::error::Error + Send + Sync + 'static;

    /// The state of a stream with no events.
    fn initial(stream: Uuid) -> Self::State;
    /// All business rules: the events a command produces, or why it is refused.
    fn decide(
        state: &Self::State,
        command: &Self::Command,
        ctx: &Self::Context,
    ) -> Result<Vec<Self::Event>, Self::Rejection>;
    /// Applies an event; no rules, cannot fail.
    fn evolve(state: &mut Self::State, event: &Self::Event);
    /// Encodes an event for the log.
    fn encode(event: &Self::Event) -> Result<NewEvent, String>;
    /// Decodes a stored event.
    fn decode(stored: &StoredEvent) -> Result<Self::Event, String>;
}

/// Handler settings.
#[derive(Clone, Debug)]
pub struct HandlerConfig {
    /// Attempts after a concurrency conflict before giving up.
    pub conflict_retries_max: u32,
    /// Stream states kept in memory; beyond it the cache is emptied.
    pub state_cache_streams_max: usize,
}

impl Default for HandlerConfig {
    fn default() -> Self {
        Self { conflict_retries_max: 8, state_cache_streams_max: 20_000 }
    }
}

/// What a handled command did.
#[derive(Clone, Debug)]
pub enum CommandOutcome<E> {
    /// Its events were appended and flushed.
    Committed {
        /// Where.
        commit: Commit,
        /// The events.
        events: Vec<E>,
    },
    /// The command id was handled before: the first result, nothing written.
    Duplicate {
        /// Where the first one landed.
        commit: Commit,
    },
}

impl<E> CommandOutcome<E> {
    /// The commit, new or earlier.
    pub fn commit(&self) -> Commit {
        match self {
            CommandOutcome::Committed { commit, .. } | CommandOutcome::Duplicate { commit } => *commit,
        }
    }
}

/// Why a command was not applied. Each variant is a different kind of outcome for the caller.
#[derive(Debug, Error)]
pub enum CommandError<R: std::error::Error + 'static> {
    /// A business rule refused it; nothing was written.
    #[error("{0}")]
    Rejected(R),
    /// Other writers kept changing the stream; nothing was written. Retrying later is safe.
    #[error("conflict: the order kept changing during {attempts} attempts; nothing was written")]
    Conflict {
        /// Attempts made.
        attempts: u32,
    },
    /// A named limit was exceeded; nothing was written.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// Storage failed or stored data is damaged.
    #[error("{0}")]
    Storage(String),
}

impl<R: std::error::Error + 'static> From<LogError> for CommandError<R> {
    fn from(e: LogError) -> Self {
        CommandError::Storage(e.to_string())
    }
}

/// Executes commands for aggregate `A` against an event log.
pub struct CommandHandler<A: Aggregate> {
    log: EventLog,
    config: HandlerConfig,
    cache: Mutex<HashMap<Uuid, (u64, A::State)>>,
    /// Appends that found their stream moved on (each was retried or, after the last attempt,
    /// reported as [`CommandError::Conflict`]).
    conflicts: AtomicU64,
}

impl<A: Aggregate> std::fmt::Debug for CommandHandler<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandHandler").field("log", &self.log).finish()
    }
}

impl<A: Aggregate> CommandHandler<A> {
    /// A handler over `log`.
    pub fn new(log: EventLog, config: HandlerConfig) -> Self {
        Self { log, config, cache: Mutex::new(HashMap::new()), conflicts: AtomicU64::new(0) }
    }

    /// How many appends found their stream changed by another writer since this handler started.
    pub fn conflicts_total(&self) -> u64 {
        self.conflicts.load(Ordering::Relaxed)
    }

    /// The log.
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// The current state and version of a stream (from the cache, caught up from the log).
    pub fn load(&self, stream: Uuid) -> Result<(u64, A::State), LogError> {
        let cached = self.cache.lock().ok().and_then(|c| c.get(&stream).cloned());
        let (mut version, mut state) = cached.unwrap_or_else(|| (0, A::initial(stream)));
        for stored in self.log.read_stream(stream, version + 1)? {
            let event = A::decode(&stored)
                .map_err(|detail| LogError::Corrupted { position: stored.position, detail })?;
            A::evolve(&mut state, &event);
            version = stored.version;
        }
        Ok((version, state))
    }

    fn remember(&self, stream: Uuid, version: u64, state: A::State) {
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= self.config.state_cache_streams_max && !c.contains_key(&stream) {
                c.clear();
            }
            match c.get(&stream) {
                Some((v, _)) if *v >= version => {}
                _ => {
                    c.insert(stream, (version, state));
                }
            }
        }
    }

    fn forget(&self, stream: Uuid) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(&stream);
        }
    }

    /// Handles one command: decide against the current state, append with the expected version,
    /// retry on conflict. A command id seen before on this stream returns the first result.
    pub async fn execute(
        &self,
        stream: Uuid,
        command_id: Uuid,
        command: &A::Command,
        ctx: &A::Context,
    ) -> Result<CommandOutcome<A::Event>, CommandError<A::Rejection>> {
        let attempts = self.config.conflict_retries_max.max(1);
        for attempt in 1..=attempts {
            let (version, mut state) = self.load(stream)?;
            let events = match A::decide(&state, command, ctx) {
                Ok(events) => events,
                Err(rejection) => {
                    // A retried command may be refused only because it already happened.
                    if let Some(commit) = self.log.find_command(stream, command_id)? {
                        return Ok(CommandOutcome::Duplicate { commit });
                    }
                    return Err(CommandError::Rejected(rejection));
                }
            };
            let encoded =
                events.iter().map(A::encode).collect::<Result<Vec<_>, _>>().map_err(CommandError::Storage)?;
            let req = AppendRequest {
                stream,
                expected: if version == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exact(version)
                },
                command_id,
                events: encoded,
            };
            match self.log.append(req).await {
                Ok(Appended::Committed(commit)) => {
                    for e in &events {
                        A::evolve(&mut state, e);
                    }
                    self.remember(stream, commit.last_version(), state);
                    return Ok(CommandOutcome::Committed { commit, events });
                }
                Ok(Appended::Duplicate(commit)) => return Ok(CommandOutcome::Duplicate { commit }),
                Ok(Appended::Conflict { actual, .. }) => {
                    self.conflicts.fetch_add(1, Ordering::Relaxed);
                    debug!(%stream, attempt, expected = version, actual, "Conflict; retrying.");
                    self.forget(stream);
                }
                Err(AppendError::Limit(l)) => return Err(CommandError::Limit(l)),
                Err(e) => return Err(CommandError::Storage(e.to_string())),
            }
        }
        Err(CommandError::Conflict { attempts })
    }
}
