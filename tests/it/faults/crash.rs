//! The crash campaign: the built binary is SIGKILLed at random moments, over and over. Each round
//! runs, at once, the lifecycle load (`orderflow demo` on one directory that grows from round to
//! round for ten rounds, or `orderflow bench --clients 8` on a fresh one) and four workers issuing single
//! commands (`order receive`, `order approve`, `order ship`, each with its own `--command-id`) as
//! separate processes on a second directory; then it kills the load and every command in flight.
//! After each kill the library checks both directories: they open, positions are gap-free, verify
//! passes, every order replays without a decode error and keeps the workflow's invariants, and
//! every single command that exited 0 before the kill is in the log exactly once.
//!
//! 20 kills by default; `ORDERFLOW_CRASH_KILLS=200 cargo test -p orderflow --test it
//! faults::crash -- --nocapture` runs the long campaign.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{audit, check_invariants};

const KILLS_DEFAULT: u64 = 20;
/// Single commands a worker issues in one round at most (the round normally ends sooner).
const WORKER_COMMANDS_MAX: u64 = 400;
const WORKERS: u64 = 4;
/// A process still running this long after the kill is a hang.
const WAIT_MAX: Duration = Duration::from_secs(30);

fn kills() -> u64 {
    std::env::var("ORDERFLOW_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(KILLS_DEFAULT)
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n.max(1)
    }
}

/// How a single command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum End {
    /// Exit 0: acknowledged; it must be in the log.
    Acknowledged,
    /// Exit 3: refused by a rule.
    Refused,
    /// Exit 1 because another command held the directory longer than the lock wait.
    Busy,
    /// SIGKILLed in flight: it may or may not be in the log, but at most once.
    Killed,
}

fn spawn(args: &[String], dir: &Path) -> Child {
    super::spawn_bin(dir, args)
}

/// Waits for `child`, killing it (SIGKILL) as soon as `stop` is set. `None` when it was killed.
fn wait_or_kill(mut child: Child, stop: &AtomicBool) -> Option<std::process::Output> {
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return Some(child.wait_with_output().expect("output"));
        }
        if stop.load(Ordering::SeqCst) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        assert!(started.elapsed() < WAIT_MAX, "a single command hung");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What the workers learned across rounds.
#[derive(Default)]
struct Ledger {
    orders: Vec<String>,
    ends: HashMap<Uuid, End>,
}

/// One worker: single commands, one process each, until `stop`.
fn worker(dir: PathBuf, seed: u64, stop: Arc<AtomicBool>, ledger: Arc<Mutex<Ledger>>) {
    let mut rng = Rng(seed);
    let due = orderflow::app::now().date().plus_days(30).to_string();
    for _ in 0..WORKER_COMMANDS_MAX {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let id = Uuid::new_v4();
        let known = ledger.lock().unwrap().orders.clone();
        let mut args: Vec<String> = match (known.is_empty(), rng.below(10)) {
            (true, _) | (_, 0..=2) => {
                let customer = format!("Walk-in {}", rng.below(1_000));
                ["order", "receive", "--customer", &customer, "--line", "P1:3:4.50", "--due", &due]
                    .map(str::to_string)
                    .to_vec()
            }
            (false, 3..=8) => {
                let order = &known[usize::try_from(rng.below(known.len() as u64)).unwrap()];
                let dept = ["production", "procurement", "finance", "warehouse"]
                    [usize::try_from(rng.below(4)).unwrap()];
                ["order", "approve", order, "--dept", dept].map(str::to_string).to_vec()
            }
            (false, _) => {
                let order = &known[usize::try_from(rng.below(known.len() as u64)).unwrap()];
                ["order", "ship", order, "--carrier", "DHL", "--tracking", "T"].map(str::to_string).to_vec()
            }
        };
        args.extend(["--command-id".to_string(), id.to_string()]);
        let end = match wait_or_kill(spawn(&args, &dir), &stop) {
            None => End::Killed,
            Some(out) => {
                let err = String::from_utf8_lossy(&out.stderr).to_string();
                match out.status.code() {
                    Some(0) => {
                        if args[1] == "receive" {
                            let order = String::from_utf8_lossy(&out.stdout).trim().to_string();
                            ledger.lock().unwrap().orders.push(order);
                        }
                        End::Acknowledged
                    }
                    Some(3) => End::Refused,
                    Some(1) if err.contains("in use by another process") => End::Busy,
                    other => panic!("{args:?} ended with {other:?} after a crash: {err}"),
                }
            }
        };
        ledger.lock().unwrap().ends.insert(id, end);
    }
}

/// Opens `dir` with the library and checks it: it opens, verify passes, positions are gap-free,
/// every event decodes, every order keeps the invariants. Returns (head, command ids in the log
/// with their event counts).
fn check_dir(dir: &Path, what: &str) -> (u64, HashMap<Uuid, usize>) {
    let log = orderflow_engine::EventLog::open(orderflow_engine::LogConfig::new(dir))
        .unwrap_or_else(|e| panic!("{what}: the directory does not open after a kill: {e}"));
    let events = audit(&log);
    check_invariants(&events);
    let mut ids: HashMap<Uuid, usize> = HashMap::new();
    let mut previous: Option<(Uuid, Uuid)> = None;
    for (stored, _) in &events {
        // A record's events sit at consecutive positions with one stream and command id.
        if previous != Some((stored.stream, stored.command_id)) {
            *ids.entry(stored.command_id).or_default() += 1;
        }
        previous = Some((stored.stream, stored.command_id));
    }
    let head = log.head();
    log.close().unwrap();
    (head, ids)
}

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged_and_keeps_every_invariant() {
    let root = tempfile::tempdir().unwrap();
    let single_dir = root.path().join("single");
    // Made before the workers start, who would otherwise race to make it.
    crate::cli::copy_tree(crate::cli::template(), &single_dir);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let kills = kills();
    let started = Instant::now();
    let mut rng = Rng(0xc4a5_0000 ^ u64::from(std::process::id()));
    let (mut killed_loads, mut killed_singles, mut finished_loads) = (0u64, 0u64, 0u64);
    for round in 0..kills {
        let bench = round % 4 == 3;
        // The demo's directory grows from round to round; a fresh one every ten rounds keeps the
        // checks of a long campaign quick.
        let demo_dir = root.path().join(format!("demo-{}", round / 10));
        let bench_root = root.path().join(format!("bench-{round}"));
        let load_args: Vec<String> = if bench {
            ["bench", "--orders", "300", "--clients", "8", "--bench-dir"]
                .map(str::to_string)
                .into_iter()
                .chain([bench_root.display().to_string()])
                .collect()
        } else {
            ["demo", "--orders", "300", "--json", "--force-new"].map(str::to_string).to_vec()
        };
        let load = spawn(&load_args, &demo_dir);
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (dir, stop, ledger) = (single_dir.clone(), stop.clone(), ledger.clone());
                let seed = rng.below(u64::MAX) ^ w;
                std::thread::spawn(move || worker(dir, seed, stop, ledger))
            })
            .collect();
        let wait_ms = 30 + rng.below(1_200);
        std::thread::sleep(Duration::from_millis(wait_ms));
        stop.store(true, Ordering::SeqCst);
        match wait_or_kill(load, &stop) {
            None => killed_loads += 1,
            Some(out) => {
                assert!(
                    out.status.success(),
                    "round {round}: the load failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                finished_loads += 1;
            }
        }
        for w in workers {
            w.join().expect("worker");
        }

        let (head, _) = check_dir(&demo_dir, &format!("round {round} (demo directory)"));
        if bench && bench_root.join("lifecycle-8").exists() {
            check_dir(&bench_root.join("lifecycle-8"), &format!("round {round} (bench directory)"));
        }
        let ledger = ledger.lock().unwrap();
        let (single_head, ids) = if single_dir.join("log").exists() {
            check_dir(&single_dir, &format!("round {round} (single commands)"))
        } else {
            (0, HashMap::new())
        };
        for (id, end) in &ledger.ends {
            let landed = ids.get(id).copied().unwrap_or(0);
            match end {
                End::Acknowledged => {
                    assert_eq!(landed, 1, "round {round}: acknowledged command {id} is not in the log")
                }
                End::Refused | End::Busy => {
                    assert_eq!(landed, 0, "round {round}: refused command {id} wrote")
                }
                End::Killed => assert!(landed <= 1, "round {round}: killed command {id} landed twice"),
            }
        }
        killed_singles = ledger.ends.values().filter(|e| **e == End::Killed).count() as u64;
        eprintln!(
            "round {round}: {} killed after {wait_ms} ms; demo head {head}, single-command head {single_head}",
            if bench { "bench" } else { "demo" }
        );
    }
    let ledger = ledger.lock().unwrap();
    let mut ends: HashMap<End, usize> = HashMap::new();
    for e in ledger.ends.values() {
        *ends.entry(*e).or_default() += 1;
    }
    let mut ends: Vec<_> = ends.into_iter().collect();
    ends.sort();
    eprintln!(
        "crash campaign: {kills} rounds in {:.1} s; loads killed {killed_loads}, finished {finished_loads}; \
         single commands killed in flight {killed_singles}; outcomes {ends:?}; nothing acknowledged lost",
        started.elapsed().as_secs_f64()
    );
    assert!(killed_loads > 0 || kills == 0, "no load was ever killed");
    assert!(ledger.ends.values().any(|e| *e == End::Acknowledged), "no single command was acknowledged");
}
