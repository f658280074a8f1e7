//! Damaged files under a closed data directory: bytes flipped at random offsets and truncations
//! of sled's own files (`log/db`, `log/conf`, `log/snap.*`, `log/blobs/*`), a garbage or missing
//! FORMAT file, a damaged meta tree. Opening must refuse with "corrupted at position N" (or a
//! format error) or recover to the last intact record; it never panics, never hangs, and never
//! serves an event that differs from what was written; `verify` names the first bad position.
//!
//! Each damaged copy is opened, read, verified and appended to in a child process (this test
//! binary, started with `ORDERFLOW_ENGINE_CORRUPTION_CHILD=<dir>`), so a panic or a hang inside
//! sled is caught and reported together with the damage that caused it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use orderflow_engine::{
    AppendRequest, EventLog, ExpectedVersion, LogConfig, LogError, NewEvent, StoredEvent,
};
use uuid::Uuid;

use crate::{append_req, open, small_log};

const CHILD_ENV: &str = "ORDERFLOW_ENGINE_CORRUPTION_CHILD";
const EXPECTED_ENV: &str = "ORDERFLOW_ENGINE_CORRUPTION_EXPECTED";
/// A child that takes longer than this is hung.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30);
/// Trials with flipped bytes and with truncations (fixed seeds: a failure names its trial);
/// `ORDERFLOW_CORRUPTION_TRIALS=N` runs N of each instead.
const FLIP_TRIALS: u64 = 32;
const TRUNCATE_TRIALS: u64 = 16;

fn trials(default: u64) -> u64 {
    std::env::var("ORDERFLOW_CORRUPTION_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// SplitMix64: reproducible damage.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One event as written, in a line of the expected file.
fn expected_line(e: &StoredEvent) -> String {
    format!(
        "{} {} {} {} {} {}",
        e.position,
        e.stream,
        e.version,
        e.command_id,
        hex(&e.log_hash),
        hex(&e.payload)
    )
}

/// A pristine data directory (a few hundred records over a dozen streams, some of them large
/// enough for sled to keep as blobs, written over two sessions so that sled also has a snapshot)
/// and the events it holds.
struct Pristine {
    root: tempfile::TempDir,
    events: Vec<StoredEvent>,
}

impl Pristine {
    fn dir(&self) -> PathBuf {
        self.root.path().join("data")
    }
    fn expected_file(&self) -> PathBuf {
        self.root.path().join("expected")
    }
}

fn big_append(stream: Uuid, command: Uuid) -> AppendRequest {
    AppendRequest {
        stream,
        expected: ExpectedVersion::Any,
        command_id: command,
        events: (0..3u8)
            .map(|i| NewEvent { event_type: 9, schema_version: 1, payload: vec![b'a' + i; 50_000] })
            .collect(),
    }
}

fn pristine() -> Pristine {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let streams: Vec<Uuid> = (0..12u128).map(|i| Uuid::from_u128(0x5000 + i)).collect();
    let mut command = 0u128;
    for session in 0..2u64 {
        let log = open(&dir);
        let appends = if session == 0 { 1500 } else { 200 };
        for i in 0..appends {
            command += 1;
            let stream = streams[usize::try_from((i * 7 + session) % 12).unwrap()];
            let req = if i % 97 == 50 {
                big_append(stream, Uuid::from_u128(command))
            } else {
                append_req(stream, ExpectedVersion::Any, Uuid::from_u128(command), 1 + (i % 3) as usize)
            };
            log.append_blocking(req).unwrap();
        }
        log.close().unwrap();
    }
    // One more open and close: sled writes a snapshot when it finds the log ahead of it.
    let log = open(&dir);
    let events = log.read_from(1, usize::MAX).unwrap();
    assert_eq!(events.len() as u64, log.head());
    log.verify(&mut |_| {}).unwrap();
    log.close().unwrap();
    drop(log);
    let p = Pristine { root, events };
    let text: String = p.events.iter().map(|e| expected_line(e) + "\n").collect();
    std::fs::write(p.expected_file(), text).unwrap();
    let files = sled_files(&p.dir());
    let names: Vec<String> = files.iter().map(|(f, _)| f.display().to_string()).collect();
    assert!(names.iter().any(|n| n.ends_with("/log/db")), "{names:?}");
    assert!(names.iter().any(|n| n.contains("/log/snap.")), "no sled snapshot: {names:?}");
    assert!(names.iter().any(|n| n.contains("/log/blobs/")), "no sled blob: {names:?}");
    p
}

/// Every file sled keeps under `<dir>/log`, with its length.
fn sled_files(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.join("log")];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                todo.push(entry.path());
            } else {
                out.push((entry.path(), meta.len()));
            }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.metadata().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// What a child saw.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Outcome {
    /// Open refused with a corruption or format error.
    Refused,
    /// Opened, every event intact, verify passed.
    Intact,
    /// Opened with fewer events than written (recovered to the last intact record), verify passed.
    Shortened,
    /// Opened, but reads or verify report damage at a named position.
    DamageFound,
}

/// What a child saw, and how many of its reads hit the damage: an open refused as corrupted, or a
/// read (`read_from`, `read_stream`, `verify`) that failed with a corruption naming a position.
/// A trial whose damage landed where nothing is read (free space, a stale segment) has none.
#[derive(Debug, Clone, Copy)]
struct Seen {
    outcome: Outcome,
    hits: u64,
}

/// Copies the pristine directory, applies `damage`, and runs the child on it; returns what the
/// child saw. Panics with the child's output if it panicked, hung or served a wrong event.
fn trial(p: &Pristine, name: &str, test: &str, damage: impl FnOnce(&Path) -> String) -> Seen {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("data");
    copy_dir(&p.dir(), &dir);
    let what = damage(&dir);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &dir)
        .env(EXPECTED_ENV, p.expected_file())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > CHILD_TIMEOUT {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{name} ({what}): the child hung for {CHILD_TIMEOUT:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find_map(|l| l.split_once("OUTCOME ").map(|(_, o)| o)).map(str::to_string);
    assert!(
        out.status.success() && line.is_some(),
        "{name} ({what}): the child failed ({})\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = line.unwrap_or_default();
    let mut words = line.split_whitespace();
    let outcome = match words.next() {
        Some("refused") => Outcome::Refused,
        Some("intact") => Outcome::Intact,
        Some("shortened") => Outcome::Shortened,
        Some("damage-found") => Outcome::DamageFound,
        _ => panic!("{name} ({what}): unknown outcome {line}"),
    };
    let hits = words
        .next()
        .and_then(|w| w.strip_prefix("hits="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name} ({what}): no hits=N after the outcome in {line}"));
    eprintln!("{name}: {what} -> {line}");
    Seen { outcome, hits }
}

/// The child: opens the damaged directory and checks everything it is served.
fn run_child(dir: &Path, expected: &Path) {
    let text = std::fs::read_to_string(expected).unwrap();
    let expected: Vec<String> = text.lines().map(str::to_string).collect();
    let streams: BTreeSet<Uuid> =
        expected.iter().map(|l| l.split(' ').nth(1).unwrap().parse().unwrap()).collect();
    let served_ok = |e: &StoredEvent, how: &str| {
        let want =
            usize::try_from(e.position).ok().and_then(|p| p.checked_sub(1)).and_then(|i| expected.get(i));
        assert_eq!(
            Some(&expected_line(e)),
            want,
            "{how} served an event that was never written at position {}",
            e.position
        );
    };
    let log = match EventLog::open(LogConfig::new(dir)) {
        Ok(log) => log,
        Err(e) => {
            let message = e.to_string();
            // An open refused as corrupted is a read that hit the damage; a format refusal is not
            // counted (it names no position).
            let hits = match &e {
                LogError::Corrupted { .. } => {
                    assert!(message.contains("corrupted at position"), "{message}");
                    1
                }
                LogError::UnknownFormat { .. } => 0,
                other => panic!("open failed with something other than corruption: {other}"),
            };
            println!("OUTCOME refused hits={hits} {message}");
            return;
        }
    };
    let head = log.head();
    assert!(head <= expected.len() as u64, "head {head} beyond the {} events written", expected.len());
    let mut damage: Option<String> = None;
    // Reads that failed with a corruption naming a position (1 or more).
    let mut hits = 0u64;
    let mut note = |what: &str, e: &LogError| {
        assert!(matches!(e, LogError::Corrupted { .. }), "{what} failed with {e}, not as corruption");
        assert!(e.to_string().contains("corrupted at position"), "{e}");
        if matches!(e, LogError::Corrupted { position, .. } if *position >= 1) {
            hits += 1;
        }
        damage.get_or_insert_with(|| format!("{what}: {e}"));
    };
    match log.read_from(1, usize::MAX) {
        Ok(events) => {
            assert_eq!(events.len() as u64, head, "read_from served a gap");
            events.iter().for_each(|e| served_ok(e, "read_from"));
        }
        Err(e) => note("read_from", &e),
    }
    for stream in &streams {
        match log.read_stream(*stream, 1) {
            Ok(events) => events.iter().for_each(|e| served_ok(e, "read_stream")),
            Err(e) => note("read_stream", &e),
        }
    }
    let verified = log.verify(&mut |_| {});
    match &verified {
        Ok(report) => {
            assert_eq!(report.events, head);
            assert!(damage.is_none(), "verify passed although reads failed: {damage:?}");
        }
        Err(f) => {
            assert!(f.position >= 1, "verify names no position: {f}");
            hits += 1;
            damage.get_or_insert_with(|| f.to_string());
        }
    }
    // Writing after open must not panic either: it commits or fails with an error.
    let append =
        log.append_blocking(append_req(Uuid::from_u128(0xfeed), ExpectedVersion::Any, Uuid::new_v4(), 1));
    let closed = log.close();
    let outcome = match damage {
        Some(d) => format!("damage-found hits={hits} {d}"),
        None if head < expected.len() as u64 => {
            format!("shortened hits={hits} head {head} of {}", expected.len())
        }
        None => format!("intact hits={hits}"),
    };
    println!("OUTCOME {outcome} (append: {}, close: {})", short(&append), short(&closed));
}

fn short<T, E: std::fmt::Display>(r: &Result<T, E>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string().chars().take(80).collect(),
    }
}

fn child_mode() -> Option<(PathBuf, PathBuf)> {
    let dir = std::env::var_os(CHILD_ENV)?;
    let expected = std::env::var_os(EXPECTED_ENV)?;
    Some((dir.into(), expected.into()))
}

/// Picks one of sled's files: the data file most often, then snapshots, blobs and the config.
fn pick_file(files: &[(PathBuf, u64)], rng: &mut Rng) -> (PathBuf, u64) {
    let of = |pred: &dyn Fn(&str) -> bool| -> Vec<(PathBuf, u64)> {
        files.iter().filter(|(f, _)| pred(&f.display().to_string())).cloned().collect()
    };
    let groups = [
        of(&|n| n.ends_with("/log/db")),
        of(&|n| n.contains("/snap.")),
        of(&|n| n.contains("/blobs/")),
        of(&|n| n.ends_with("/conf")),
    ];
    let roll = rng.below(10);
    let group = match roll {
        0..=5 => &groups[0],
        6..=7 => &groups[1],
        8 => &groups[2],
        _ => &groups[3],
    };
    let group = if group.is_empty() { &groups[0] } else { group };
    group[usize::try_from(rng.below(group.len() as u64)).unwrap()].clone()
}

/// Prints what the trials saw and checks that some of them exercised a damaged read: trials
/// whose damage nothing reads prove only that undamaged data is served, so a run where no read
/// hit the damage tests nothing and fails.
fn summary(name: &str, seen: &[Seen]) {
    let count = |o: Outcome| seen.iter().filter(|x| x.outcome == o).count();
    let hits: u64 = seen.iter().map(|x| x.hits).sum();
    let trials_hit = seen.iter().filter(|x| x.hits > 0).count();
    eprintln!(
        "{name}: {} trials: refused {}, recovered intact {}, recovered shortened {}, opened with damage found {}; \
         {hits} reads hit the damage in {trials_hit} trials",
        seen.len(),
        count(Outcome::Refused),
        count(Outcome::Intact),
        count(Outcome::Shortened),
        count(Outcome::DamageFound)
    );
    assert!(
        hits > 0,
        "{name}: no read hit the damage in {} trials (no corruption error naming a position, no open \
         refused as corrupted): the damage was never exercised",
        seen.len()
    );
}

#[test]
fn flipped_bytes_in_sled_files_never_panic_or_serve_a_wrong_event() {
    const TEST: &str = "corruption::flipped_bytes_in_sled_files_never_panic_or_serve_a_wrong_event";
    if let Some((dir, expected)) = child_mode() {
        run_child(&dir, &expected);
        return;
    }
    let p = pristine();
    let files = sled_files(&p.dir());
    let mut seen = Vec::new();
    for t in 0..trials(FLIP_TRIALS) {
        let mut rng = Rng(0xf11b ^ (t << 32));
        let (file, len) = pick_file(&files, &mut rng);
        let flips = 1 + rng.below(4);
        let offsets: Vec<u64> = (0..flips).map(|_| rng.below(len)).collect();
        let masks: Vec<u8> = (0..flips).map(|_| u8::try_from(1 + rng.below(255)).unwrap()).collect();
        let rel = file.strip_prefix(p.dir()).unwrap().to_path_buf();
        seen.push(trial(&p, &format!("flip trial {t}"), TEST, |dir| {
            let path = dir.join(&rel);
            let mut bytes = std::fs::read(&path).unwrap();
            for (o, m) in offsets.iter().zip(&masks) {
                bytes[usize::try_from(*o).unwrap()] ^= m;
            }
            std::fs::write(&path, bytes).unwrap();
            format!("{} of {len} bytes, flipped at {offsets:?}", rel.display())
        }));
    }
    summary("flipped bytes", &seen);
}

#[test]
fn truncated_sled_files_never_panic_or_serve_a_wrong_event() {
    const TEST: &str = "corruption::truncated_sled_files_never_panic_or_serve_a_wrong_event";
    if let Some((dir, expected)) = child_mode() {
        run_child(&dir, &expected);
        return;
    }
    let p = pristine();
    let files = sled_files(&p.dir());
    let mut seen = Vec::new();
    for t in 0..trials(TRUNCATE_TRIALS) {
        let mut rng = Rng(0x7a11 ^ (t << 32));
        let (file, len) = pick_file(&files, &mut rng);
        let keep = rng.below(len);
        let rel = file.strip_prefix(p.dir()).unwrap().to_path_buf();
        seen.push(trial(&p, &format!("truncation trial {t}"), TEST, |dir| {
            let f = std::fs::OpenOptions::new().write(true).open(dir.join(&rel)).unwrap();
            f.set_len(keep).unwrap();
            format!("{} truncated from {len} to {keep} bytes", rel.display())
        }));
    }
    summary("truncations", &seen);
}

fn open_err(dir: &Path) -> LogError {
    EventLog::open(LogConfig::new(dir)).expect_err("open must refuse")
}

#[test]
fn a_garbage_missing_empty_or_newer_format_file_beside_a_log_refuses_to_open() {
    let cases: [(&str, Option<&[u8]>, &str); 5] = [
        ("garbage text", Some(b"hello world\n"), "has format 'hello world'"),
        ("bytes that are not text", Some(&[0xff, 0xfe, 0x00, 0x9c, 0x80]), "refusing to open"),
        ("empty", Some(b""), "an empty FORMAT file"),
        (
            "a newer format",
            Some(b"orderflow-log 2\n"),
            "has format 'orderflow-log 2', this build reads format 1",
        ),
        ("missing", None, "no FORMAT file beside an existing log"),
    ];
    for (what, content, message) in cases {
        let dir = small_log();
        let format = dir.path().join("FORMAT");
        match content {
            Some(bytes) => std::fs::write(&format, bytes).unwrap(),
            None => std::fs::remove_file(&format).unwrap(),
        }
        let err = open_err(dir.path());
        assert!(matches!(err, LogError::UnknownFormat { .. }), "{what}: {err}");
        assert!(err.to_string().contains(message), "{what}: {err}");
        // Nothing was changed: with the FORMAT file back, the log opens whole.
        std::fs::write(&format, format!("orderflow-log {}\n", orderflow_engine::FORMAT_VERSION)).unwrap();
        let log = open(dir.path());
        assert_eq!(log.verify(&mut |_| {}).unwrap().events, 10, "{what}");
        log.close().unwrap();
    }
}

/// Edits the meta tree of a closed log with sled directly.
fn with_meta(dir: &Path, f: impl FnOnce(&sled::Db, &sled::Tree)) {
    let db = sled::open(dir.join("log")).unwrap();
    let meta = db.open_tree("meta").unwrap();
    f(&db, &meta);
    db.flush().unwrap();
}

#[test]
fn a_damaged_meta_tree_refuses_with_a_position_or_recovers_every_intact_record() {
    // The acknowledged head is garbled: refused, nothing guessed.
    let dir = small_log();
    with_meta(dir.path(), |_, m| {
        m.insert("durable", &[1u8, 2, 3][..]).unwrap();
    });
    let err = open_err(dir.path());
    assert!(matches!(err, LogError::Corrupted { .. }), "{err}");
    assert!(err.to_string().contains("meta durable of 3 bytes"), "{err}");

    // More acknowledged than the log holds: refused, naming the first missing position.
    let dir = small_log();
    with_meta(dir.path(), |_, m| {
        m.insert("durable", &1000u64.to_be_bytes()[..]).unwrap();
    });
    let err = open_err(dir.path());
    assert!(matches!(err, LogError::Corrupted { position: 11, .. }), "{err}");
    assert!(err.to_string().contains("ends at position 10 but 1000 events were acknowledged"), "{err}");

    // An unknown stored format: refused.
    let dir = small_log();
    with_meta(dir.path(), |_, m| {
        m.insert("format", &9u32.to_be_bytes()[..]).unwrap();
    });
    let err = open_err(dir.path());
    assert!(matches!(err, LogError::UnknownFormat { .. }), "{err}");

    // A garbled clean-shutdown flag, or the whole meta tree gone: the log is treated as after a
    // crash, every intact chained record is kept and the index is checked against it.
    for damage in ["clean flag", "meta tree dropped"] {
        let dir = small_log();
        with_meta(dir.path(), |db, m| {
            if damage == "clean flag" {
                m.insert("clean", &[7u8][..]).unwrap();
            } else {
                db.drop_tree("meta").unwrap();
            }
        });
        let log = open(dir.path());
        assert_eq!(log.head(), 10, "{damage}");
        assert_eq!(log.verify(&mut |_| {}).unwrap().events, 10, "{damage}");
        log.close().unwrap();
    }
}

/// The first snapshot file sled keeps in a log directory.
fn snapshot_file(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir.join("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("snap.")))
        .expect("a snapshot")
}

#[test]
fn files_left_by_a_crash_inside_sled_do_not_brick_the_directory() {
    // A snapshot interrupted while sled wrote it (the crash campaign killed a command there):
    // sled 0.34.7 would read it as the newest snapshot and refuse the directory for good.
    let dir = small_log();
    let log = open(dir.path());
    log.close().unwrap();
    drop(log);
    let snap = snapshot_file(dir.path());
    let bytes = std::fs::read(&snap).unwrap();
    let torn = dir.path().join("log").join("snap.FFFFFFFFFFFFFFFF.generating");
    std::fs::write(&torn, &bytes[..bytes.len() / 2]).unwrap();
    let log = open(dir.path());
    assert_eq!(log.verify(&mut |_| {}).unwrap().events, 10);
    log.close().unwrap();
    assert!(!torn.exists());

    // A config cut between sled's two writes of it, during the very first open.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("FORMAT"),
        format!("orderflow-log {}\n", orderflow_engine::FORMAT_VERSION),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("log")).unwrap();
    std::fs::write(dir.path().join("log/conf"), "segment_size: 524288\nuse_compression: false\nversion: 0.")
        .unwrap();
    let log = open(dir.path());
    assert_eq!(log.head(), 0);
    log.append_blocking(append_req(Uuid::from_u128(1), ExpectedVersion::Any, Uuid::from_u128(2), 1)).unwrap();
    log.close().unwrap();
}
