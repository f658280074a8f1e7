//! A full disk under the writer and a read-only disk between two opens (a small tmpfs; the test needs root to
//! mount it, as CI has). A failed write is rolled back and reported, the writer then refuses every
//! append without touching sled (which keeps its first I/O error), reads keep serving what was
//! acknowledged, and after reopening on a writable disk nothing acknowledged is missing and
//! positions are gap-free.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use orderflow_engine::{
    AppendError, AppendRequest, Appended, EventLog, ExpectedVersion, LogConfig, NewEvent,
};
use uuid::Uuid;

use crate::open;

/// A tmpfs over a temporary directory, unmounted (lazily) on drop.
struct Tmpfs(tempfile::TempDir);

/// Runs mount; a busy mount point (sled's threads may hold a file for a moment after a close) is
/// retried for up to 5 s.
fn mount(args: &[&str]) {
    let started = std::time::Instant::now();
    loop {
        let out = Command::new("mount").args(args).output().expect("run mount");
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            return;
        }
        assert!(
            err.contains("busy") && started.elapsed() < std::time::Duration::from_secs(5),
            "mount {args:?} failed: {}; the disk tests mount a small tmpfs and need root",
            err.trim()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

impl Tmpfs {
    fn new(kib: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        mount(&["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs", dir.path().to_str().unwrap()]);
        Self(dir)
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn remount(&self, options: &str) {
        mount(&["-o", &format!("remount,{options}"), self.path().to_str().unwrap()]);
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).output();
    }
}

fn req(stream: Uuid, command: Uuid, bytes: usize) -> AppendRequest {
    AppendRequest {
        stream,
        expected: ExpectedVersion::Any,
        command_id: command,
        events: vec![NewEvent { event_type: 3, schema_version: 1, payload: vec![0x5a; bytes] }],
    }
}

/// Appends from `tasks` tasks until the writer refuses; returns the acknowledged appends
/// (command -> first position) and the first refusal's message.
fn fill(log: &EventLog, tasks: u64, max_per_task: u64) -> (HashMap<Uuid, (Uuid, u64)>, Vec<String>) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let mut handles = Vec::new();
        for t in 0..tasks {
            let log = log.clone();
            handles.push(tokio::spawn(async move {
                let stream = Uuid::new_v4();
                let (mut acked, mut refused) = (Vec::new(), Vec::new());
                for i in 0..max_per_task {
                    let command = Uuid::new_v4();
                    match log.append(req(stream, command, 2_000 + usize::try_from(t * 37 + i).unwrap())).await
                    {
                        Ok(Appended::Committed(c)) => acked.push((command, (stream, c.first_position))),
                        Ok(other) => panic!("unexpected {other:?}"),
                        Err(AppendError::Storage(m)) => {
                            refused.push(m);
                            break;
                        }
                        Err(e) => panic!("unexpected error {e}"),
                    }
                }
                (acked, refused)
            }));
        }
        let (mut acked, mut refused) = (HashMap::new(), Vec::new());
        for h in handles {
            let (a, r) = h.await.unwrap();
            acked.extend(a);
            refused.extend(r);
        }
        (acked, refused)
    })
}

/// Reopens on a writable disk and checks that every acknowledged append is where it was
/// acknowledged, the log is gap-free, verify passes, and the log accepts appends again.
fn check_after_reopen(dir: &Path, acked: &HashMap<Uuid, (Uuid, u64)>) {
    let log = EventLog::open(LogConfig::new(dir)).expect("reopen on a writable disk");
    assert!(log.head() >= acked.len() as u64, "head {} below {} acknowledged", log.head(), acked.len());
    for (command, (stream, position)) in acked {
        let c = log.find_command(*stream, *command).unwrap().unwrap_or_else(|| panic!("lost {command}"));
        assert_eq!(c.first_position, *position, "append {command} moved");
    }
    let all = log.read_from(1, usize::MAX).unwrap();
    assert!(all.iter().enumerate().all(|(i, e)| e.position == i as u64 + 1), "gap");
    assert_eq!(log.verify(&mut |_| {}).unwrap().events, log.head());
    let head = log.head();
    let r = log.append_blocking(req(Uuid::new_v4(), Uuid::new_v4(), 10)).unwrap();
    assert!(matches!(r, Appended::Committed(c) if c.first_position == head + 1), "{r:?}");
    log.close().unwrap();
}

#[test]
fn a_full_disk_fails_the_batch_stops_the_writer_and_loses_nothing_acknowledged() {
    let fs = Tmpfs::new(1_536);
    let dir = fs.path().join("data");
    let log = open(&dir);
    let (acked, refused) = fill(&log, 8, 2_000);
    assert!(!acked.is_empty() && !refused.is_empty(), "the disk never filled up");
    assert!(
        refused.iter().any(|m| m.contains("No space left on device") && m.contains("not acknowledged")),
        "{refused:?}"
    );
    let failure = log.failure().expect("the log reports why it stopped");
    assert!(failure.contains("No space left on device"), "{failure}");
    let head = log.head();
    assert_eq!(head, acked.len() as u64, "the head counts exactly the acknowledged appends");

    // Later appends are refused at once, also once space is free again: sled keeps the error.
    fs.remount("size=16m");
    let err = log.append_blocking(req(Uuid::new_v4(), Uuid::new_v4(), 10)).unwrap_err();
    assert!(err.to_string().contains("stopped writing") && err.to_string().contains("reopened"), "{err}");
    // Reads serve what was acknowledged, or fail as a storage failure: sled may refuse them too
    // once it holds an I/O error (a read can need a write to restructure a page).
    match log.read_from(1, usize::MAX) {
        Ok(events) => assert_eq!(events.len() as u64, head),
        Err(e) => assert!(e.to_string().contains("No space left on device"), "{e}"),
    }
    let closed = log.close().unwrap_err();
    assert!(closed.to_string().contains("without marking it clean"), "{closed}");
    drop(log);

    check_after_reopen(&dir, &acked);
}

#[test]
fn a_read_only_disk_refuses_to_open_clearly_and_nothing_is_lost_once_writable() {
    // Linux refuses to remount a filesystem read-only while a file on it is open for writing
    // (the writer's), so the disk turns read-only between two opens, as between two commands.
    let fs = Tmpfs::new(16_384);
    let dir = fs.path().join("data");
    let log = open(&dir);
    let stream = Uuid::new_v4();
    let mut acked = HashMap::new();
    for _ in 0..20 {
        let command = Uuid::new_v4();
        let Appended::Committed(c) = log.append_blocking(req(stream, command, 500)).unwrap() else {
            panic!("not committed")
        };
        acked.insert(command, (stream, c.first_position));
    }
    log.close().unwrap();
    drop(log);
    fs.remount("ro");
    let refused = EventLog::open(LogConfig::new(&dir)).unwrap_err();
    assert!(refused.to_string().contains("Read-only file system"), "{refused}");
    fs.remount("rw");
    check_after_reopen(&dir, &acked);
}
