//! The data directory: its FORMAT file, its lock, and where sled lives inside it.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::LogError;
use crate::record::FORMAT_VERSION;

const FORMAT_FILE: &str = "FORMAT";
const LOCK_FILE: &str = "LOCK";
const SLED_DIR: &str = "log";
const FORMAT_PREFIX: &str = "orderflow-log ";
/// How long to wait for a lock held by someone else before reporting it: covers a previous
/// process that is still exiting, and a child process briefly holding an inherited descriptor
/// while it starts.
pub(crate) const LOCK_WAIT_MAX: std::time::Duration = std::time::Duration::from_millis(1500);
pub(crate) const LOCK_RETRY_EVERY: std::time::Duration = std::time::Duration::from_millis(20);

/// An opened, locked data directory. The lock is held until this is dropped.
#[derive(Debug)]
pub(crate) struct DataDir {
    pub(crate) path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Creates or opens `path`, takes its lock and checks its format.
    pub(crate) fn open(path: &Path, create: bool) -> Result<Self, LogError> {
        if !create && !path.join(FORMAT_FILE).is_file() {
            return Err(LogError::Missing { path: path.to_path_buf() });
        }
        fs::create_dir_all(path).map_err(|e| {
            LogError::Storage(format!("cannot create data directory {}: {e}", path.display()))
        })?;
        let lock = lock(path)?;
        check_format(path)?;
        Ok(Self { path: path.to_path_buf(), _lock: lock })
    }

    /// Where sled keeps its files.
    pub(crate) fn sled_path(&self) -> PathBuf {
        self.path.join(SLED_DIR)
    }

    /// Removes what a crash inside sled 0.34.7 can leave behind that would make sled refuse the
    /// directory for good, although nothing acknowledged depends on it (found by the crash
    /// campaign; see ARCHITECTURE.md, "Failure behaviour"):
    /// - `snap.<lsn>.generating`: sled writes a snapshot there and renames it once complete, but
    ///   on open it reads the lexicographically last `snap.*` file, so an interrupted one (which
    ///   sorts after the snapshot it was replacing) fails its checksum on every later open;
    /// - `conf` without `db`: sled writes its config with two unsynced writes before it creates
    ///   the data file, and cannot parse a config cut between them. Without `db` nothing was ever
    ///   written, so sled just writes the config again.
    ///
    /// Runs with the directory's LOCK held: no sled of another process is writing here.
    pub(crate) fn remove_sled_crash_leftovers(&self) -> Result<(), LogError> {
        let sled = self.sled_path();
        let entries = match fs::read_dir(&sled) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(LogError::Storage(format!("cannot list {}: {e}", sled.display()))),
        };
        let mut leftovers = Vec::new();
        for entry in entries {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("snap.") && name.ends_with(".generating") {
                leftovers.push(sled.join(&*name));
            }
        }
        if !sled.join("db").exists() && sled.join("conf").exists() {
            leftovers.push(sled.join("conf"));
        }
        for path in leftovers {
            tracing::warn!(path = %path.display(), "Removing a file left by a crash inside sled.");
            fs::remove_file(&path)
                .map_err(|e| LogError::Storage(format!("cannot remove {}: {e}", path.display())))?;
        }
        Ok(())
    }
}

fn lock(path: &Path) -> Result<File, LogError> {
    let lock_path = path.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| LogError::Storage(format!("cannot open {}: {e}", lock_path.display())))?;
    let started = std::time::Instant::now();
    let mut attempt = file.try_lock();
    while matches!(attempt, Err(std::fs::TryLockError::WouldBlock)) && started.elapsed() < LOCK_WAIT_MAX {
        std::thread::sleep(LOCK_RETRY_EVERY);
        attempt = file.try_lock();
    }
    match attempt {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() { String::new() } else { format!(" (pid {holder})") };
            return Err(LogError::Locked { path: path.to_path_buf(), holder });
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(LogError::Storage(format!("cannot lock {}: {e}", lock_path.display())));
        }
    }
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    write!(file, "{}", std::process::id())?;
    Ok(file)
}

fn check_format(path: &Path) -> Result<(), LogError> {
    let format_path = path.join(FORMAT_FILE);
    match fs::read(&format_path) {
        Ok(bytes) => {
            // A damaged FORMAT file may hold anything, also bytes that are not text.
            let text = String::from_utf8_lossy(&bytes);
            let text = text.trim();
            let known = text.strip_prefix(FORMAT_PREFIX).and_then(|v| v.parse::<u32>().ok());
            if known == Some(FORMAT_VERSION) {
                Ok(())
            } else {
                Err(LogError::UnknownFormat {
                    path: path.to_path_buf(),
                    found: if text.is_empty() {
                        "an empty FORMAT file".into()
                    } else {
                        text.chars().take(64).collect()
                    },
                    known: FORMAT_VERSION,
                })
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if path.join(SLED_DIR).exists() {
                return Err(LogError::UnknownFormat {
                    path: path.to_path_buf(),
                    found: "no FORMAT file beside an existing log".into(),
                    known: FORMAT_VERSION,
                });
            }
            let tmp = path.join("FORMAT.tmp");
            let mut f = File::create(&tmp)?;
            writeln!(f, "{FORMAT_PREFIX}{FORMAT_VERSION}")?;
            f.sync_all()?;
            fs::rename(&tmp, &format_path)?;
            File::open(path)?.sync_all()?;
            Ok(())
        }
        Err(e) => Err(LogError::Storage(format!("cannot read {}: {e}", format_path.display()))),
    }
}
