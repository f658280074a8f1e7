//! File modes of the data directory (Unix): the directory and every directory in it 0700, every
//! file 0600, sled's own files included, for a new directory and for one whose modes were opened
//! up; the parent of a new data directory keeps its mode.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use orderflow_engine::ExpectedVersion;
use uuid::Uuid;

use crate::{append_req, open};

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn tree(root: &Path) -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(p) = pending.pop() {
        let is_dir = std::fs::symlink_metadata(&p).unwrap().is_dir();
        if is_dir {
            pending.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
        out.push((p, is_dir));
    }
    out
}

#[track_caller]
fn assert_private(root: &Path) {
    let entries = tree(root);
    let names: Vec<String> =
        entries.iter().map(|(p, _)| p.strip_prefix(root).unwrap().display().to_string()).collect();
    for expected in ["FORMAT", "LOCK", "log", "log/db", "log/conf"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing in {names:?}");
    }
    for (path, is_dir) in entries {
        let wanted = if is_dir { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), wanted, "{} has mode {:o}", path.display(), mode(&path));
    }
}

fn write_some(dir: &Path, from: u128) {
    let log = open(dir);
    for i in from..from + 5 {
        log.append_blocking(append_req(
            Uuid::from_u128(i % 2 + 1),
            ExpectedVersion::Any,
            Uuid::from_u128(i),
            2,
        ))
        .unwrap();
    }
    log.close().unwrap();
}

#[test]
fn a_new_data_directory_is_private_and_its_parent_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("parent");
    std::fs::create_dir(&parent).unwrap();
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = parent.join("new").join("data");
    write_some(&data, 0);
    // Reopened and closed: sled writes a snapshot when it lets go of its files.
    write_some(&data, 100);
    assert!(tree(&data).iter().any(|(p, _)| p.file_name().unwrap().to_string_lossy().starts_with("snap.")));
    assert_private(&data);
    assert_eq!(mode(&parent), 0o755, "the parent is not the log's to change");
}

#[test]
fn an_opened_up_data_directory_is_restricted_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write_some(&data, 0);
    std::fs::write(data.join("notes.txt"), "left here").unwrap();
    for (path, is_dir) in tree(&data) {
        let loose = if is_dir { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).unwrap();
    }
    let log = open(&data);
    // Restricted before sled reads anything, not only when the log is let go.
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("log").join("db")), 0o600);
    assert_eq!(mode(&data.join("notes.txt")), 0o600);
    log.close().unwrap();
    drop(log);
    assert_private(&data);
}
