//! Damaged data directories seen through the binary: bytes flipped and files cut short inside
//! sled's files of a directory the demo wrote. `order history` either prints exactly what it
//! printed before the damage (or, recovered to the last intact record, a prefix of it), or exits
//! 1 with "log corrupted at position N"; never another exit code, a signal or a hang. A write
//! on the damaged directory is applied or refused the same way. (The engine's own corruption
//! tests cover many more offsets; see engine/tests/it/corruption.rs.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use uuid::Uuid;

use super::{code, open_log, run_bin, stderr, stdout};

const RUN_TIMEOUT: Duration = Duration::from_secs(30);
const TRIALS: u64 = 24;
const ORDERS_READ: usize = 3;

/// SplitMix64: reproducible damage.
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

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.metadata().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// sled's data file and snapshots (where nearly all the bytes are).
fn sled_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_file()
                && p.file_name().is_some_and(|n| n == "db" || n.to_string_lossy().starts_with("snap."))
        })
        .collect();
    files.sort();
    files
}

/// What `order history --json` printed, or the corruption it reported.
/// The password the demo gave its auditor (`audit.office`), who reads the histories.
static AUDITOR_PASSWORD: std::sync::OnceLock<String> = std::sync::OnceLock::new();
/// The password of one of the demo's sales clerks (`li.na`), who writes on damaged copies.
static SALES_PASSWORD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn history(dir: &Path, order: &str, what: &str) -> Result<Vec<String>, String> {
    let password = AUDITOR_PASSWORD.get().expect("the demo ran").as_str();
    let out = super::run_bin_as(
        dir,
        ["order", "history", order, "--json"],
        RUN_TIMEOUT,
        Some(("audit.office", password)),
    );
    let err = stderr(&out);
    match code(&out) {
        // Without the reads' own records (a history read records itself first).
        0 => Ok(stdout(&out)
            .lines()
            .filter(|l| !l.contains("\"archive_accessed\""))
            .map(str::to_string)
            .collect()),
        1 => {
            let last = err.lines().last().unwrap_or_default().to_string();
            assert!(
                last.contains("log corrupted at position"),
                "{what}: exit 1 without naming corruption: {err}"
            );
            // A panic inside sled is caught and reported as corruption; none may come from elsewhere.
            if err.contains("panicked at") {
                assert!(err.contains("/sled-") && last.contains("sled panicked"), "{what}: {err}");
            }
            Err(last)
        }
        other => panic!("{what}: exit {other}: {err}"),
    }
}

#[test]
fn damaged_sled_files_make_the_binary_refuse_or_serve_only_what_was_written() {
    let data = tempfile::tempdir().unwrap();
    let pristine = data.path().join("pristine");
    let out = run_bin(&pristine, ["demo", "--orders", "60", "--json"], Duration::from_secs(120));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let _ = AUDITOR_PASSWORD.set(super::demo_password(&stdout(&out), "audit.office"));
    let _ = SALES_PASSWORD.set(super::demo_password(&stdout(&out), "li.na"));
    let orders: Vec<String> = {
        let log = open_log(&pristine);
        let mut streams: Vec<Uuid> = Vec::new();
        for e in log.read_from(1, usize::MAX).unwrap() {
            if e.stream != orderflow_schemas::DIRECTORY_STREAM && !streams.contains(&e.stream) {
                streams.push(e.stream);
            }
        }
        log.close().unwrap();
        // The first, one in the middle and the last order: spread over the data file.
        let picks = [0, streams.len() / 2, streams.len() - 1];
        picks.iter().take(ORDERS_READ).map(|i| streams[*i].to_string()).collect()
    };
    let before: Vec<Vec<String>> = orders
        .iter()
        .map(|o| history(&pristine, o, "pristine").expect("the pristine directory reads"))
        .collect();
    let files = sled_files(&pristine);
    assert!(files.iter().any(|f| f.ends_with("db")), "{files:?}");

    let (mut refused, mut served) = (0, 0);
    for t in 0..TRIALS {
        let mut rng = Rng(0xb1_0000 + t);
        let file = &files[usize::try_from(rng.below(files.len() as u64)).unwrap()];
        let len = std::fs::metadata(file).unwrap().len();
        let rel = file.strip_prefix(&pristine).unwrap().to_path_buf();
        let dir = data.path().join(format!("trial-{t}"));
        copy_dir(&pristine, &dir);
        let what = if t % 3 == 2 {
            let keep = rng.below(len);
            std::fs::OpenOptions::new().write(true).open(dir.join(&rel)).unwrap().set_len(keep).unwrap();
            format!("trial {t}: {} cut from {len} to {keep} bytes", rel.display())
        } else {
            let mut bytes = std::fs::read(dir.join(&rel)).unwrap();
            let offsets: Vec<usize> =
                (0..1 + rng.below(3)).map(|_| usize::try_from(rng.below(len)).unwrap()).collect();
            for o in &offsets {
                bytes[*o] ^= 0x5a;
            }
            std::fs::write(dir.join(&rel), bytes).unwrap();
            format!("trial {t}: {} flipped at {offsets:?}", rel.display())
        };
        for (order, lines) in orders.iter().zip(&before) {
            match history(&dir, order, &what) {
                Ok(now) => {
                    assert!(
                        now.len() <= lines.len() && lines[..now.len()] == now[..],
                        "{what}: order {order} changed"
                    );
                    served += 1;
                }
                Err(_) => refused += 1,
            }
        }
        // A write on the damaged directory: applied, or refused as corruption / storage failure.
        let due = orderflow::app::now().date().plus_days(30).to_string();
        let clerk = SALES_PASSWORD.get().expect("the demo ran").as_str();
        let out = super::run_bin_as(
            &dir,
            ["order", "receive", "--customer", "After", "--line", "P:1:1", "--due", &due],
            RUN_TIMEOUT,
            Some(("li.na", clerk)),
        );
        let err = stderr(&out);
        match code(&out) {
            0 => {}
            1 => assert!(err.contains("corrupted") || err.contains("storage failure"), "{what}: {err}"),
            other => panic!("{what}: receive exited {other}: {err}"),
        }
        eprintln!("{what}");
    }
    eprintln!(
        "binary on damaged directories: {TRIALS} trials, {served} histories served intact, {refused} refused as corruption"
    );
}
