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
    #[error("no orderflow data directory at {path} (check --data-dir; `orderflow users bootstrap --admin LOGIN` or `orderflow demo` makes one)")]
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
    /// Damage sled finds in its files (a bad checksum, a file cut short) is corruption, at
    /// position 0 until the caller names the position it was reading; anything else is a storage
    /// failure.
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { at: Some(at), .. } => {
                LogError::Corrupted { position: 0, detail: format!("sled finds its files damaged at {at:?}") }
            }
            sled::Error::Corruption { at: None, .. } => {
                LogError::Corrupted { position: 0, detail: "sled finds its files damaged".into() }
            }
            sled::Error::Io(io) if is_cut_short(&io) => LogError::Corrupted {
                position: 0,
                detail: format!("sled cannot read its files, they are cut short or garbled ({io})"),
            },
            other => LogError::Storage(sled_message(&other)),
        }
    }
}

/// An I/O error that means a file holds less or other than what was written.
pub(crate) fn is_cut_short(io: &std::io::Error) -> bool {
    matches!(io.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData)
}

/// A sled error in words: I/O errors as the operating system says them ("No space left on
/// device (os error 28)", "Read-only file system (os error 30)").
pub(crate) fn sled_message(e: &sled::Error) -> String {
    match e {
        sled::Error::Io(io) => format!("I/O error: {io}"),
        other => other.to_string(),
    }
}

impl From<std::io::Error> for LogError {
    fn from(e: std::io::Error) -> Self {
        LogError::Storage(format!("I/O error: {e}"))
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
