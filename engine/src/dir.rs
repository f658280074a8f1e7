//! The data directory: its FORMAT file, its lock, where sled lives inside it, and its file
//! modes: the directory and every directory below it 0700, every file in it 0600 (Unix).
//!
//! Modes are set where we create things (the directory, `log/`, `FORMAT`, `LOCK`) and, for what
//! sled creates with the process umask (`conf`, `db`, `blobs/`, `snap.*`), by restricting the
//! whole tree when the directory is opened (before sled looks) and again when it is let go
//! (after sled wrote its last snapshot). Between the two, a file sled creates may carry the
//! umask's mode, but it lies below `log/`, which is 0700 from the start, so no other user can
//! reach it.

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

/// The mode of the data directory and of every directory in it.
pub(crate) const DIR_MODE: u32 = 0o700;
/// The mode of every file in the data directory.
pub(crate) const FILE_MODE: u32 = 0o600;

/// An opened, locked data directory. The lock is held until this is dropped; dropping it
/// restricts the modes of the tree once more (see the module doc).
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
        create_private_dir(path).map_err(|e| {
            LogError::Storage(format!("cannot create data directory {}: {e}", path.display()))
        })?;
        let lock = lock(path)?;
        check_format(path)?;
        let sled = path.join(SLED_DIR);
        create_private_dir(&sled)
            .map_err(|e| LogError::Storage(format!("cannot create {}: {e}", sled.display())))?;
        restrict_modes(path)?;
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

impl Drop for DataDir {
    /// Restricts the tree again once sled let go of it (its last snapshot is written when the
    /// database is dropped, before this). The lock is still held here. A failure is logged: the
    /// next open restricts the tree again and refuses the directory if it cannot.
    fn drop(&mut self) {
        if let Err(e) = restrict_modes(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "Cannot restrict the data directory's modes.");
        }
    }
}

/// Creates `path` with mode [`DIR_MODE`] (missing parents with the usual mode: they are not
/// ours); an existing directory is left to [`restrict_modes`].
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    match builder.create(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        other => other,
    }
}

/// Options that create a file with mode [`FILE_MODE`].
fn private_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options
}

/// Sets every directory of the tree at `root` (itself included) to [`DIR_MODE`] and every file
/// to [`FILE_MODE`], touching only those whose mode differs (a directory on a read-only disk
/// whose modes are right is not written to). Symbolic links are neither followed nor changed.
/// Without Unix modes, nothing to do.
pub(crate) fn restrict_modes(root: &Path) -> Result<(), LogError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut pending = vec![root.to_path_buf()];
        while let Some(path) = pending.pop() {
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                // Removed meanwhile (sled removes old snapshots): nothing to restrict.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(LogError::Storage(format!("cannot inspect {}: {e}", path.display()))),
            };
            let wanted = if meta.is_dir() {
                DIR_MODE
            } else if meta.is_file() {
                FILE_MODE
            } else {
                continue;
            };
            if meta.permissions().mode() & 0o7777 != wanted {
                match fs::set_permissions(&path, fs::Permissions::from_mode(wanted)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        return Err(LogError::Storage(format!(
                            "cannot restrict {} to mode {wanted:o}: {e}",
                            path.display()
                        )))
                    }
                }
            }
            if meta.is_dir() {
                let entries = fs::read_dir(&path)
                    .map_err(|e| LogError::Storage(format!("cannot list {}: {e}", path.display())))?;
                for entry in entries {
                    let entry = entry
                        .map_err(|e| LogError::Storage(format!("cannot list {}: {e}", path.display())))?;
                    pending.push(entry.path());
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = root;
    Ok(())
}

fn lock(path: &Path) -> Result<File, LogError> {
    let lock_path = path.join(LOCK_FILE);
    let mut file = private_file()
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
            let mut f = private_file().write(true).create(true).truncate(true).open(&tmp)?;
            writeln!(f, "{FORMAT_PREFIX}{FORMAT_VERSION}")?;
            f.sync_all()?;
            fs::rename(&tmp, &format_path)?;
            File::open(path)?.sync_all()?;
            Ok(())
        }
        Err(e) => Err(LogError::Storage(format!("cannot read {}: {e}", format_path.display()))),
    }
}
