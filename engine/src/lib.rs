//! orderflow's event log: a durable, gap-free, hash-chained log of events on sled.
//!
//! The engine knows nothing about orders: it stores opaque event payloads with a type code and
//! schema version in streams identified by a UUID. Invariants it keeps:
//! - a command's events are appended all or none, as one record;
//! - global positions are 1, 2, 3... in commit order with no gap, also after crashes;
//! - stream versions are 1, 2, 3... per stream; a stale expected version is a conflict;
//! - an append is acknowledged only after it was flushed to disk (group commit);
//! - a repeated command id on a stream returns the first result and writes nothing;
//! - every record carries a CRC32 and every event two BLAKE3 hashes (stream and log chains), checked
//!   on read and by `verify`;
//! - readers only ever see what was acknowledged (positions up to the durable head).

mod dir;
mod error;
mod handler;
mod limits;
mod log;
mod record;
mod verify;
mod writer;

pub use error::{AppendError, LogError};
pub use handler::{Aggregate, CommandError, CommandHandler, CommandOutcome, HandlerConfig};
pub use limits::Limits;
pub use log::{AppendRequest, Appended, Commit, EventLog, ExpectedVersion, LogConfig, NewEvent, StoredEvent};
pub use record::FORMAT_VERSION;
pub use record::{event_id_of, log_hash, stream_hash, HashInput, GENESIS_HASH};
pub use verify::{VerifyFailure, VerifyReport};
