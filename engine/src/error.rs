//! Errors of the log. A conflict is not an error: it is an [`crate::Appended::Conflict`] outcome,
//! so `?` cannot carry it off by accident.

use std::path::PathBuf;

use thiserror::Error;

/// A failure to open, read or verify the log.
#[derive(Debug, Error)]
pub enum LogError {
    /// Another process holds the data directory.
    #[error("data directory {path} is in use by another process{holder}; stop it or use another --data-dir")]
    Locked {
        /// The directory.
        path: PathBuf,
        /// " (pid N)" when known.
        holder: String,
    },
    /// A reader was pointed at a directory that holds no log.
    #[error("no orderflow data directory at {path} (check --data-dir; commands such as `order receive` or `demo` create one)")]
    Missing {
        /// The directory.
        path: PathBuf,
    },
    /// The directory was written by a format this build does not know.
    #[error(
        "data directory {path} has format '{found}', this build reads format {known}; refusing to open it"
    )]
    UnknownFormat {
        /// The directory.
        path: PathBuf,
        /// What the FORMAT file says.
        found: String,
        /// The format this build writes.
        known: u32,
    },
    /// A stored record is damaged.
    #[error("log corrupted at position {position}: {detail}")]
    Corrupted {
        /// The first position affected.
        position: u64,
        /// What is wrong.
        detail: String,
    },
    /// The disk or sled failed.
    #[error("storage failure: {0}")]
    Storage(String),
    /// The log was closed.
    #[error("the log is closed")]
    Closed,
}

impl From<sled::Error> for LogError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { at, .. } => {
                LogError::Corrupted { position: 0, detail: format!("sled reports corruption at {at:?}") }
            }
            other => LogError::Storage(other.to_string()),
        }
    }
}

impl From<std::io::Error> for LogError {
    fn from(e: std::io::Error) -> Self {
        LogError::Storage(e.to_string())
    }
}

/// Why an append was not committed (a conflict is an `Ok` outcome, not this).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AppendError {
    /// The append exceeds a named limit; nothing was written.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// The disk failed; nothing of this append is acknowledged. Retrying with the same command id
    /// is safe.
    #[error("storage failure: {0}")]
    Storage(String),
    /// The log is closed.
    #[error("the log is closed")]
    Closed,
}
