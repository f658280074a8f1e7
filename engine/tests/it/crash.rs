//! A real crash: a child process appends from many tasks and is killed with SIGKILL at a random
//! moment, five times over the same data directory. After each kill the log is reopened and every
//! append the child acknowledged must be present whole, nothing half-present, positions gap-free,
//! and verify must pass.
//!
//! The child is this same test binary, started with `ORDERFLOW_ENGINE_CRASH_CHILD=<dir>`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use orderflow_engine::{Appended, EventLog, ExpectedVersion, StoredEvent};
use uuid::Uuid;

use crate::{append_req, event, open};

const CHILD_ENV: &str = "ORDERFLOW_ENGINE_CRASH_CHILD";
const TEST_NAME: &str = "crash::sigkill_during_appends_loses_nothing_acknowledged";
const ROUNDS: u64 = 5;
/// The child stops by itself after this, should the parent fail to kill it.
const CHILD_LIFETIME: Duration = Duration::from_secs(60);

fn run_child(dir: &str) {
    let log = open(std::path::Path::new(dir));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let started = Instant::now();
    rt.block_on(async move {
        let mut tasks = Vec::new();
        for t in 0..16u64 {
            let (log, out) = (log.clone(), out.clone());
            tasks.push(tokio::spawn(async move {
                let mut stream = Uuid::new_v4();
                let mut version = 0u64;
                let mut i = 0u64;
                while started.elapsed() < CHILD_LIFETIME {
                    i += 1;
                    if i.is_multiple_of(7) {
                        stream = Uuid::new_v4();
                        version = 0;
                    }
                    let cmd = Uuid::new_v4();
                    let n = 1 + ((i + t) % 4) as usize;
                    let r = log.append(append_req(stream, ExpectedVersion::Exact(version), cmd, n)).await;
                    if let Ok(Appended::Committed(c)) = r {
                        version = c.last_version();
                        let mut o = out.lock().unwrap();
                        writeln!(o, "ACK {stream} {cmd} {} {}", c.first_position, c.count).unwrap();
                        o.flush().unwrap();
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
}

/// Events read per call; well under the log's batch limit, so several calls are needed.
const READ_BATCH: usize = 10_000;

/// The whole log, up to the head, read in batches: one `read_from` returns at most the log's
/// read batch limit (65,536 by default), which a release-build child easily exceeds.
fn read_all(log: &EventLog) -> Vec<StoredEvent> {
    let head = log.head();
    let mut all = Vec::new();
    // Every batch but the last is full, so this many calls are enough to reach the head.
    let calls_max = head / READ_BATCH as u64 + 2;
    for _ in 0..calls_max {
        let next = all.len() as u64 + 1;
        if next > head {
            break;
        }
        let batch = log.read_from(next, READ_BATCH).unwrap();
        assert!(!batch.is_empty(), "read_from({next}) returned nothing below the head {head}");
        assert!(batch.len() <= READ_BATCH, "read_from returned more than asked for");
        assert_eq!(batch[0].position, next, "a batch read from {next} starts elsewhere");
        all.extend(batch);
    }
    assert_eq!(all.len() as u64, head, "the batched read did not reach the head in {calls_max} calls");
    all
}

#[test]
fn sigkill_during_appends_loses_nothing_acknowledged() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        run_child(&dir);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut acked: HashMap<Uuid, (Uuid, u64, u64)> = HashMap::new();
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("ACK ") && tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait for the first acknowledgement, then kill at a pseudo-random moment.
        let first = rx.recv_timeout(Duration::from_secs(60)).expect("the child acknowledged nothing");
        let mut lines = vec![first];
        let wait_ms = 50 + (round * 7919 + u64::from(std::process::id())) % 400;
        std::thread::sleep(Duration::from_millis(wait_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        for line in &lines {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (stream, cmd) = (f[1].parse().unwrap(), f[2].parse().unwrap());
            acked.insert(cmd, (stream, f[3].parse().unwrap(), f[4].parse().unwrap()));
        }

        let log = open(dir.path());
        // Every acknowledged append is there, whole, where it was acknowledged.
        for (cmd, (stream, first_position, count)) in &acked {
            let c = log.find_command(*stream, *cmd).unwrap().unwrap_or_else(|| panic!("lost append {cmd}"));
            assert_eq!((c.first_position, c.count), (*first_position, *count), "append {cmd} moved");
            let events = log.read_from(*first_position, *count as usize).unwrap();
            for (i, e) in events.iter().enumerate() {
                assert_eq!(e.command_id, *cmd);
                assert_eq!(e.payload, event(*cmd, i, *count as usize).payload);
            }
        }
        // Gap-free, and no append half-present.
        let all = read_all(&log);
        assert_eq!(all.len() as u64, log.head());
        let mut per_command: HashMap<Uuid, usize> = HashMap::new();
        for (i, e) in all.iter().enumerate() {
            assert_eq!(e.position, i as u64 + 1);
            *per_command.entry(e.command_id).or_default() += 1;
        }
        for e in &all {
            let text = String::from_utf8(e.payload.clone()).unwrap();
            let total: usize = text.split(':').nth(1).unwrap().split('/').nth(1).unwrap().parse().unwrap();
            assert_eq!(per_command[&e.command_id], total, "append {} is half-present", e.command_id);
        }
        let report = log.verify(&mut |_| {}).unwrap();
        assert_eq!(report.events, log.head());
        eprintln!(
            "round {round}: killed after {wait_ms} ms, {} acknowledged so far, head {}",
            acked.len(),
            log.head()
        );
        log.close().unwrap();
    }
    assert!(acked.len() as u64 >= ROUNDS);
}
