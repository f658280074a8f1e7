//! A full disk and a read-only disk (a small tmpfs; mounting needs root, as CI has). Commands
//! fail with exit 1 and a message that says so and names the command id to retry with; nothing
//! acknowledged is lost; once the disk is writable again the same commands, retried with their
//! ids, are applied exactly once, by the binary and, after reopening, in the same process.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use orderflow::app::{App, AppError};
use orderflow_commands::{Command, ReceiveOrder};
use uuid::Uuid;

use super::{audit, check_invariants, code, open_log, receive_order, run_bin, stderr, stdout, Tmpfs};

const RUN_TIMEOUT: Duration = Duration::from_secs(30);
/// Commands tried before the disk must have filled up.
const COMMANDS_MAX: usize = 2_000;

fn receive_args(command_id: Uuid, i: usize) -> Vec<String> {
    let due = orderflow::app::now().date().plus_days(30).to_string();
    [
        "order",
        "receive",
        "--customer",
        &format!("Customer {i}"),
        "--line",
        "MILK-1L:10:18.90",
        "--due",
        &due,
        "--requirements",
        &"keep cold, ".repeat(170),
        "--command-id",
        &command_id.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Checks with the library: the log verifies, every order replays, and each command id in
/// `applied` has exactly one event in the log.
fn check_applied_once(dir: &Path, applied: &[Uuid]) -> u64 {
    let log = open_log(dir);
    let events = audit(&log);
    check_invariants(&events);
    let mut per_id: HashMap<Uuid, usize> = HashMap::new();
    for (stored, _) in &events {
        *per_id.entry(stored.command_id).or_default() += 1;
    }
    for id in applied {
        assert_eq!(per_id.get(id).copied().unwrap_or(0), 1, "command {id} is not in the log exactly once");
    }
    let head = log.head();
    log.close().unwrap();
    head
}

#[test]
fn a_full_disk_fails_commands_with_exit_1_loses_nothing_and_recovers_once_space_is_free() {
    let fs = Tmpfs::mount(1_024);
    let dir = fs.path().join("data");
    let (mut acked, mut failed) = (Vec::new(), Vec::new());
    for i in 0..COMMANDS_MAX {
        let id = Uuid::new_v4();
        let out = run_bin(&dir, receive_args(id, i), RUN_TIMEOUT);
        match code(&out) {
            0 => acked.push(id),
            1 => {
                let err = stderr(&out);
                assert!(err.contains("No space left on device"), "{err}");
                assert!(!err.contains("panicked"), "{err}");
                failed.push(id);
                // A failure inside the command names its id for the retry.
                if err.contains("not acknowledged") || err.contains("stopped writing") {
                    assert!(err.contains(&format!("--command-id {id}")), "{err}");
                }
                if failed.len() == 4 {
                    break;
                }
            }
            other => panic!("exit {other}: {}", stderr(&out)),
        }
    }
    assert!(failed.len() == 4 && acked.len() > 10, "the disk never filled up ({} acknowledged)", acked.len());

    fs.remount("size=16m");
    // The failed commands, retried with their ids, are applied once (or found applied).
    for (i, id) in failed.iter().enumerate() {
        let out = run_bin(&dir, receive_args(*id, 10_000 + i), RUN_TIMEOUT);
        assert_eq!(code(&out), 0, "retry of {id}: {}", stderr(&out));
    }
    let fresh = Uuid::new_v4();
    let out = run_bin(&dir, receive_args(fresh, 20_000), RUN_TIMEOUT);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let all: Vec<Uuid> = acked.iter().chain(&failed).chain([&fresh]).copied().collect();
    let head = check_applied_once(&dir, &all);
    assert_eq!(head, super::template_head() + all.len() as u64, "one event per receive, nothing else");
    eprintln!(
        "full disk: {} commands acknowledged before the disk filled, {} failed with exit 1 and were \
         applied once when retried with their ids",
        acked.len(),
        failed.len()
    );
}

#[test]
fn a_read_only_disk_fails_commands_with_exit_1_and_they_apply_once_it_is_writable() {
    let fs = Tmpfs::mount(16_384);
    let dir = fs.path().join("data");
    let mut acked = Vec::new();
    for i in 0..5 {
        let id = Uuid::new_v4();
        let out = run_bin(&dir, receive_args(id, i), RUN_TIMEOUT);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        acked.push(id);
    }
    let order = {
        let out = run_bin(&dir, receive_args(Uuid::new_v4(), 5), RUN_TIMEOUT);
        assert_eq!(code(&out), 0);
        stdout(&out).trim().to_string()
    };
    let head = check_applied_once(&dir, &acked);

    // No process has the log open now, so the filesystem may go read-only (Linux refuses while a
    // file on it is open for writing).
    fs.remount("ro");
    let retry = Uuid::new_v4();
    for args in [receive_args(retry, 6), vec!["order".into(), "show".into(), order.clone()]] {
        let out = run_bin(&dir, &args, RUN_TIMEOUT);
        assert_eq!(code(&out), 1, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("Read-only file system"), "{}", stderr(&out));
    }
    fs.remount("rw");
    let out = run_bin(&dir, receive_args(retry, 6), RUN_TIMEOUT);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    acked.push(retry);
    assert_eq!(check_applied_once(&dir, &acked), head + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_one_process_a_full_disk_stops_writing_and_reopening_recovers_without_loss() {
    let fs = Tmpfs::mount(1_024);
    let dir = fs.path().join("data");
    let app = Arc::new(App::open(&dir).unwrap());
    let mut tasks = Vec::new();
    for t in 0..8usize {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let (mut acked, mut failed) = (Vec::new(), Vec::new());
            for i in 0..COMMANDS_MAX / 8 {
                let body = ReceiveOrder {
                    special_requirements: "keep cold, ".repeat(170),
                    ..receive_order(&format!("C{t}-{i}"))
                };
                let req = super::request(None, Command::ReceiveOrder(body));
                let id = req.command_id;
                match app.execute(req.clone()).await {
                    Ok(done) => acked.push((id, done.first_position)),
                    Err(AppError::Failure(m)) => {
                        failed.push((req, m));
                        break;
                    }
                    Err(other) => panic!("neither applied nor a storage failure: {other}"),
                }
            }
            (acked, failed)
        }));
    }
    let (mut acked, mut failed) = (Vec::new(), Vec::new());
    for t in tasks {
        let (a, f) = t.await.unwrap();
        acked.extend(a);
        failed.extend(f);
    }
    assert!(!failed.is_empty() && !acked.is_empty(), "the disk never filled up");
    for (_, m) in &failed {
        assert!(m.contains("No space left on device"), "{m}");
    }
    let reason = app.log().failure().expect("the log says why it stopped");
    assert!(reason.contains("No space left on device"), "{reason}");

    // Space is free again, but this handle stays stopped: sled keeps its first I/O error.
    fs.remount("size=16m");
    let (req, _) = failed[0].clone();
    let err = app.execute(req).await.expect_err("a stopped log wrote");
    // Refused by the stopped writer, or already by a read of the order that sled fails too.
    let m = err.to_string();
    assert!(matches!(err, AppError::Failure(_)), "{m}");
    assert!(m.contains("stopped writing") || m.contains("No space left on device"), "{m}");
    assert!(app.close().is_err(), "a stopped log must not be marked clean");
    drop(app);

    // Reopened in the same process: nothing acknowledged is missing, retries apply once.
    let app = App::open(&dir).expect("reopen after the disk has space again");
    let events = audit(app.log());
    for (id, position) in &acked {
        let e = events.iter().find(|(s, _)| s.position == *position).expect("acknowledged position");
        assert_eq!(e.0.command_id, *id, "acknowledged command {id} is not at {position}");
    }
    for (req, _) in &failed {
        app.execute(req.clone()).await.unwrap_or_else(|e| panic!("retry after reopening: {e}"));
    }
    let events = audit(app.log());
    check_invariants(&events);
    let retried: Vec<Uuid> = failed.iter().map(|(r, _)| r.command_id).collect();
    for id in acked.iter().map(|(id, _)| id).chain(&retried) {
        assert_eq!(events.iter().filter(|(s, _)| s.command_id == *id).count(), 1, "{id} not exactly once");
    }
    assert_eq!(events.len(), acked.len() + failed.len());
    app.close().unwrap();
    eprintln!(
        "full disk in one process: {} acknowledged, {} failed and applied once after reopening",
        acked.len(),
        failed.len()
    );
}
