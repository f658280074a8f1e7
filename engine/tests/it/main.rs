//! Integration tests of the event log: behaviour, a model-based property test, a real crash test.

#![allow(clippy::cast_possible_truncation)] // test data sizes are small

mod basics;
mod corruption;
mod crash;
mod disk;
mod handler;
mod model;
mod modes;
mod tamper;

use orderflow_engine::{AppendRequest, EventLog, ExpectedVersion, LogConfig, NewEvent};
use uuid::Uuid;

/// Opens a log in `dir` with default settings.
pub(crate) fn open(dir: &std::path::Path) -> EventLog {
    EventLog::open(LogConfig::new(dir)).expect("open log")
}

/// An event whose payload says which command and index it belongs to.
pub(crate) fn event(command: Uuid, index: usize, total: usize) -> NewEvent {
    NewEvent {
        event_type: 7,
        schema_version: 1,
        payload: format!("{command}:{index}/{total}:{}", "x".repeat(index * 13 % 97)).into_bytes(),
    }
}

/// An append of `n` events.
pub(crate) fn append_req(stream: Uuid, expected: ExpectedVersion, command: Uuid, n: usize) -> AppendRequest {
    AppendRequest {
        stream,
        expected,
        command_id: command,
        events: (0..n).map(|i| event(command, i, n)).collect(),
    }
}

/// Ten single-event records over three streams, closed cleanly.
pub(crate) fn small_log() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    for i in 0..10u128 {
        log.append_blocking(append_req(
            Uuid::from_u128(i % 3 + 1),
            ExpectedVersion::Any,
            Uuid::from_u128(100 + i),
            1,
        ))
        .unwrap();
    }
    log.close().unwrap();
    dir
}
