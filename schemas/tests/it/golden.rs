//! Helpers shared by the golden-file tests (binary fixtures and JSON Schemas): where the files
//! live, whether this run may (re)write them, and how their names encode `(type, version)`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The environment variable that turns golden-file checks into golden-file writes.
pub(crate) const BLESS_VAR: &str = "ORDERFLOW_BLESS";

/// The command that regenerates the golden files.
pub(crate) const BLESS_HINT: &str = "ORDERFLOW_BLESS=1 cargo test -p orderflow-schemas";

/// Whether this run writes missing or changed golden files instead of failing.
pub(crate) fn bless() -> bool {
    std::env::var(BLESS_VAR).is_ok_and(|v| v == "1")
}

/// A directory of the schemas crate (`fixtures`, `json`).
pub(crate) fn crate_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(sub)
}

/// The file names in `dir`, sorted, hidden ones (such as a write in progress) left out; an
/// absent directory has none.
pub(crate) fn file_names(dir: &Path) -> Vec<String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => panic!("cannot list {}: {e}", dir.display()),
    };
    let mut names: Vec<String> = entries
        .map(|entry| {
            let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
            entry.file_name().into_string().unwrap_or_else(|n| panic!("file name {n:?} is not UTF-8"))
        })
        .filter(|name: &String| !name.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// `<name>.v<version>.<ext>` for one event type and version.
pub(crate) fn versioned_name(name: &str, version: u16, ext: &str) -> String {
    format!("{name}.v{version}.{ext}")
}

/// Splits `<name>.v<version>.<ext>` into `(name, version)`; `None` when the file is not so named.
pub(crate) fn parse_versioned_name<'a>(file: &'a str, ext: &str) -> Option<(&'a str, u16)> {
    let stem = file.strip_suffix(ext)?.strip_suffix('.')?;
    let (name, digits) = stem.rsplit_once(".v")?;
    let version: u16 = digits.parse().ok()?;
    // Canonical spelling only: "v1", not "v01" or "v+1".
    (!name.is_empty() && version.to_string() == digits).then_some((name, version))
}

/// Writes a golden file, creating its directory. Atomic (temporary file, then rename), so a test
/// running in parallel never reads half a file.
pub(crate) fn write(path: &Path, bytes: &[u8]) {
    let dir = path.parent().unwrap_or_else(|| panic!("{} has no directory", path.display()));
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let file =
        path.file_name().and_then(|n| n.to_str()).unwrap_or_else(|| panic!("bad path {}", path.display()));
    let tmp = dir.join(format!(".{file}.tmp"));
    fs::write(&tmp, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", tmp.display()));
    fs::rename(&tmp, path)
        .unwrap_or_else(|e| panic!("cannot rename {} to {}: {e}", tmp.display(), path.display()));
}

/// Reads a golden file; `None` when it does not exist.
pub(crate) fn read(path: &Path) -> Option<Vec<u8>> {
    match fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

/// Fails with every problem found, one per line, and how to regenerate.
pub(crate) fn assert_no_problems(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s):\n  {}\n(after checking that the change is intended, regenerate with `{BLESS_HINT}`)",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn versioned_names_parse_back() {
    assert_eq!(versioned_name("order_received", 1, "bin"), "order_received.v1.bin");
    assert_eq!(parse_versioned_name("order_received.v1.bin", "bin"), Some(("order_received", 1)));
    assert_eq!(parse_versioned_name("order_received.v12.json", "json"), Some(("order_received", 12)));
    for bad in
        ["order_received.bin", "order_received.v1.json", "order_received.v01.bin", ".v1.bin", "x.v.bin"]
    {
        assert_eq!(parse_versioned_name(bad, "bin"), None, "{bad}");
    }
}
