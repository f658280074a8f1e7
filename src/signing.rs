//! The instance's Ed25519 signing key, signed exports and signed anchors: tamper evidence that
//! holds against whoever can rewrite the data directory, which unkeyed hash chains cannot give
//! (such a person recomputes them).
//!
//! **The key.** A 32-byte Ed25519 seed, written as 64 lower-case hex digits and a newline, in a
//! file of mode 0600 kept outside the log: `<data-dir>/signing.key` unless the environment
//! variable `ORDERFLOW_SIGNING_KEY` names another file (a key kept where the people who run the
//! data directory cannot read it is the stronger choice: whoever can read the key can sign). The
//! public key is written next to it, `signing.pub` (the key file's name with `.pub`), 64 hex
//! digits and a newline. [`ensure_key`] creates both when the key is missing; `App::open` calls it.
//!
//! **Signed exports.** `audit export` adds to the export (see
//! `orderflow_projections::export`) the field
//! `"signature": {"algorithm": "ed25519", "public_key": HEX, "signature": HEX, "signed": TEXT}`,
//! where `signature` is the Ed25519 signature (RFC 8032, 64 bytes, hex) of the byte string
//! `orderflow_projections::export_signed_message` defines and `signed` is
//! [`orderflow_projections::EXPORT_SIGNED`], which names it:
//!
//! ```text
//! orderflow-export-signature-v1
//! format orderflow-order-export
//! format_version 1
//! order_id <order id, hyphenated lower-case>
//! events_total <N>
//! last_stream_hash <64 hex>
//! event <position> <version> <stream_hash, 64 hex> <log_hash, 64 hex>     (one line per event, file order)
//! ```
//!
//! each line ending in `\n`. The hashes bind everything else in the file (the export's own hash
//! checks recompute them from the fields and payloads), so editing an event and recomputing every
//! hash, as someone hiding a change would, changes the string and breaks the signature.
//!
//! **Anchors.** `audit anchor` signs the log's head: `{"format": "orderflow-anchor",
//! "position": N, "log_hash": HEX, "at": RFC3339, "algorithm": "ed25519", "public_key": HEX,
//! "signature": HEX, "signed": ANCHOR_SIGNED}`; the signature covers
//!
//! ```text
//! orderflow-anchor-v1
//! position <N>
//! log_hash <64 hex>
//! at <the "at" field exactly as in the file>
//! ```
//!
//! each line ending in `\n`. Kept by an auditor elsewhere, it proves later that the log still
//! holds, at position N, the log hash it had then: `audit verify --anchor FILE` checks it, so a
//! log rewritten at or before N is found even with both hash chains recomputed.
//!
//! Verification uses `verify_strict` (no small-order keys, no malleable signatures).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{json, Value};

/// The environment variable naming the signing key's file instead of `<data-dir>/signing.key`.
pub const KEY_ENV: &str = "ORDERFLOW_SIGNING_KEY";
/// The key's file name in the data directory.
pub const KEY_FILE: &str = "signing.key";
/// The signature algorithm, as the files name it.
pub const ALGORITHM: &str = "ed25519";
/// The `format` field of an anchor.
pub const ANCHOR_FORMAT: &str = "orderflow-anchor";
/// The first line of the byte string an anchor's signature covers.
const ANCHOR_SIGNED_TAG: &str = "orderflow-anchor-v1";
/// The `signed` field of an anchor: what its signature covers.
pub const ANCHOR_SIGNED: &str = "orderflow-anchor-v1: the lines 'orderflow-anchor-v1', 'position N', \
     'log_hash H', 'at T' (T as in the file), each ending in a newline";

/// Why the signing key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing a key file failed.
    #[error("cannot {action} the signing key {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `create`, ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key file does not hold a key.
    #[error(
        "the signing key {} is not 64 hex digits (an Ed25519 seed); restore it from a backup or \
         move it away to make a new key (exports signed with the old one then verify only against it)",
        path.display()
    )]
    Malformed {
        /// The file.
        path: PathBuf,
    },
    /// The key file can be read by others.
    #[error(
        "the signing key {} can be read by other users (mode {mode:o}); make it private: chmod 600 {}",
        path.display(),
        path.display()
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its mode.
        mode: u32,
    },
    /// The operating system gave no random bytes.
    #[error("cannot make a signing key: no random bytes from the operating system ({0})")]
    Random(String),
}

/// Where the signing key of `data_dir` is: `$ORDERFLOW_SIGNING_KEY`, else `<data_dir>/signing.key`.
pub fn key_path(data_dir: &Path) -> PathBuf {
    match std::env::var_os(KEY_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => data_dir.join(KEY_FILE),
    }
}

/// Where the public key of the key at `key_path` is written: the same name with `.pub`.
pub fn public_path(key_path: &Path) -> PathBuf {
    key_path.with_extension("pub")
}

/// The signing key of `data_dir` (see [`key_path`]), created when missing (from the operating
/// system's random source; file mode 0600, written whole or not at all). The public key file is
/// (re)written when missing or not matching the key. A key file that others can read, or that
/// holds no key, is refused.
pub fn ensure_key(data_dir: &Path) -> Result<SigningKey, KeyError> {
    let path = key_path(data_dir);
    let key = match std::fs::read_to_string(&path) {
        Ok(text) => {
            check_private(&path)?;
            parse_seed(&text).ok_or_else(|| KeyError::Malformed { path: path.clone() })?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key(&path)?,
        Err(source) => return Err(KeyError::Io { action: "read", path, source }),
    };
    let public = public_path(&path);
    let public_text = format!("{}\n", public_key_hex(&key.verifying_key()));
    if std::fs::read_to_string(&public).ok().as_deref() != Some(public_text.as_str()) {
        write_new(&public, public_text.as_bytes(), false).map_err(|source| KeyError::Io {
            action: "write the public key of",
            path: path.clone(),
            source,
        })?;
    }
    Ok(key)
}

fn create_key(path: &Path) -> Result<SigningKey, KeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    let text = format!("{}\n", hex(key.as_bytes()));
    match write_new(path, text.as_bytes(), true) {
        Ok(()) => {
            tracing::info!(path = %path.display(), "Signing key created.");
            Ok(key)
        }
        // Another process made it first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            })?;
            parse_seed(&text).ok_or_else(|| KeyError::Malformed { path: path.to_path_buf() })
        }
        Err(source) => Err(KeyError::Io { action: "create", path: path.to_path_buf(), source }),
    }
}

/// Writes `bytes` to `path` whole or not at all (a temporary file of mode 0600, synced, then
/// linked in place): with `exclusive`, an existing `path` is kept and `AlreadyExists` returned;
/// else it is replaced.
fn write_new(path: &Path, bytes: &[u8], exclusive: bool) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = private_create(&tmp, true)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if exclusive {
            std::fs::hard_link(&tmp, path)
        } else {
            std::fs::rename(&tmp, path)
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    written?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Opens `path` for writing, created with mode 0600 (truncated when `truncate`, else it must not
/// exist); an existing file is set to 0600 too.
pub fn private_create(path: &Path, truncate: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if truncate {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|source| KeyError::Io { action: "inspect", path: path.to_path_buf(), source })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Exposed { path: path.to_path_buf(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), KeyError> {
    Ok(())
}

fn parse_seed(text: &str) -> Option<SigningKey> {
    let bytes: [u8; 32] = from_hex(text.trim())?.try_into().ok()?;
    Some(SigningKey::from_bytes(&bytes))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

/// A public key as the files write it: 64 lower-case hex digits.
pub fn public_key_hex(key: &VerifyingKey) -> String {
    hex(key.as_bytes())
}

/// A public key from its 64 hex digits.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = from_hex(text.trim())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| "not 64 hex digits".to_string())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid Ed25519 public key".to_string())
}

/// A trusted public key as `--key` gives it: the 64 hex digits, or a file holding them (such as
/// a copy of `signing.pub`).
pub fn trusted_key(arg: &str) -> Result<VerifyingKey, String> {
    let looks_hex = arg.len() == 64 && arg.bytes().all(|b| b.is_ascii_hexdigit());
    if looks_hex {
        return parse_public_key(arg).map_err(|e| format!("--key {arg}: {e}"));
    }
    let text = std::fs::read_to_string(arg).map_err(|e| {
        format!("--key {arg}: neither 64 hex digits (a public key) nor a file that can be read ({e})")
    })?;
    parse_public_key(&text).map_err(|e| format!("--key {arg}: the file's content is {e}"))
}

fn signature_from_hex(text: &str) -> Option<Signature> {
    let bytes: [u8; 64] = from_hex(text)?.try_into().ok()?;
    Some(Signature::from_bytes(&bytes))
}

/// Adds the `signature` field to an export document made by `orderflow_projections::export`
/// (replacing one already there).
pub fn sign_export(key: &SigningKey, doc: &mut Value) -> Result<(), String> {
    let message = orderflow_projections::export_signed_message(doc).map_err(|e| e.to_string())?;
    let signature = key.sign(&message);
    let block = json!({
        "algorithm": ALGORITHM,
        "public_key": public_key_hex(&key.verifying_key()),
        "signature": hex(&signature.to_bytes()),
        "signed": orderflow_projections::EXPORT_SIGNED,
    });
    doc.as_object_mut().ok_or("the export is not a JSON object")?.insert("signature".into(), block);
    Ok(())
}

/// What the signature check of an export found (when the export is not refused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Valid, by the trusted key given.
    Trusted {
        /// The key, hex.
        public_key: String,
    },
    /// Valid for the key the file itself names; no trusted key was given to compare it with.
    EmbeddedKeyOnly {
        /// The key the file names, hex.
        public_key: String,
    },
    /// The export carries no signature and no trusted key was required.
    Unsigned,
}

impl SignatureCheck {
    /// `trusted`, `embedded_key_only` or `unsigned`, as `--json` prints it.
    pub fn as_str(&self) -> &'static str {
        match self {
            SignatureCheck::Trusted { .. } => "trusted",
            SignatureCheck::EmbeddedKeyOnly { .. } => "embedded_key_only",
            SignatureCheck::Unsigned => "unsigned",
        }
    }

    /// The key the signature was checked against, if any.
    pub fn public_key(&self) -> Option<&str> {
        match self {
            SignatureCheck::Trusted { public_key } | SignatureCheck::EmbeddedKeyOnly { public_key } => {
                Some(public_key)
            }
            SignatureCheck::Unsigned => None,
        }
    }

    /// A sentence for people.
    pub fn words(&self) -> String {
        match self {
            SignatureCheck::Trusted { public_key } => {
                format!("signature valid, by the trusted key {public_key}")
            }
            SignatureCheck::EmbeddedKeyOnly { public_key } => format!(
                "signature valid for the key the file names ({public_key}), not checked against a trusted \
                 key: give --key PUBLIC (`orderflow audit public-key` on the instance)"
            ),
            SignatureCheck::Unsigned => {
                "not signed: only the file's own hashes were checked, which whoever edits it can recompute"
                    .into()
            }
        }
    }
}

/// Checks an export's signature (its hashes are for `orderflow_projections::verify_export`):
/// against `trusted` when given (then a missing signature, or one by another key, is refused),
/// else against the key the file names. `Err` says why the export is to be taken as altered.
pub fn verify_export_signature(
    doc: &Value,
    trusted: Option<&VerifyingKey>,
) -> Result<SignatureCheck, String> {
    let Some(block) = doc.get("signature") else {
        return match trusted {
            Some(_) => {
                Err("the export carries no signature, so it cannot be checked against the key given".into())
            }
            None => Ok(SignatureCheck::Unsigned),
        };
    };
    let text = |name: &str| {
        block.get(name).and_then(Value::as_str).ok_or_else(|| format!("the signature has no \"{name}\" text"))
    };
    let algorithm = text("algorithm")?;
    if algorithm != ALGORITHM {
        return Err(format!("the signature's algorithm is \"{algorithm}\", not {ALGORITHM}"));
    }
    if text("signed")? != orderflow_projections::EXPORT_SIGNED {
        return Err("the signature's \"signed\" field names another byte string than this build signs".into());
    }
    let named =
        parse_public_key(text("public_key")?).map_err(|e| format!("the signature's public_key is {e}"))?;
    let signature =
        signature_from_hex(text("signature")?).ok_or("the signature is not 128 hex digits (64 bytes)")?;
    let key = match trusted {
        Some(t) if *t != named => {
            return Err(format!(
                "the export is signed by the key {}, not by the trusted key {}",
                public_key_hex(&named),
                public_key_hex(t)
            ))
        }
        Some(t) => *t,
        None => named,
    };
    let message = orderflow_projections::export_signed_message(doc).map_err(|e| e.to_string())?;
    key.verify_strict(&message, &signature).map_err(|_| {
        "the signature does not match the export's content: it was changed after it was signed (its \
         hashes may have been recomputed to hide that)"
            .to_string()
    })?;
    Ok(match trusted {
        Some(_) => SignatureCheck::Trusted { public_key: public_key_hex(&key) },
        None => SignatureCheck::EmbeddedKeyOnly { public_key: public_key_hex(&key) },
    })
}

/// A signed head of the log, as `audit anchor` writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// The position signed.
    pub position: u64,
    /// The log hash at that position.
    pub log_hash: [u8; 32],
    /// When it was made (RFC 3339, as in the file).
    pub at: String,
    /// The key that signed it.
    pub public_key: VerifyingKey,
}

fn anchor_message(position: u64, log_hash: &[u8; 32], at: &str) -> Vec<u8> {
    format!("{ANCHOR_SIGNED_TAG}\nposition {position}\nlog_hash {}\nat {at}\n", hex(log_hash)).into_bytes()
}

/// The signed anchor of `position` with `log_hash`, made at `at`.
pub fn sign_anchor(
    key: &SigningKey,
    position: u64,
    log_hash: &[u8; 32],
    at: chrono::DateTime<chrono::Utc>,
) -> Value {
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let signature = key.sign(&anchor_message(position, log_hash, &at));
    json!({
        "format": ANCHOR_FORMAT,
        "position": position,
        "log_hash": hex(log_hash),
        "at": at,
        "algorithm": ALGORITHM,
        "public_key": public_key_hex(&key.verifying_key()),
        "signature": hex(&signature.to_bytes()),
        "signed": ANCHOR_SIGNED,
    })
}

/// Why an anchor was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    /// The file is not an anchor (a missing or malformed field).
    #[error("not an orderflow anchor: {0}")]
    Malformed(String),
    /// The signature does not hold: the anchor was altered or made with another key.
    #[error("{0}")]
    BadSignature(String),
}

/// Checks an anchor's signature against `key` and returns what it states.
pub fn verify_anchor(doc: &Value, key: &VerifyingKey) -> Result<Anchor, AnchorError> {
    let malformed = |s: String| AnchorError::Malformed(s);
    let text = |name: &str| {
        doc.get(name).and_then(Value::as_str).ok_or_else(|| malformed(format!("no \"{name}\" text")))
    };
    if text("format")? != ANCHOR_FORMAT {
        return Err(malformed(format!("\"format\" is not {ANCHOR_FORMAT}")));
    }
    if text("algorithm")? != ALGORITHM {
        return Err(malformed(format!("\"algorithm\" is not {ALGORITHM}")));
    }
    let position = doc
        .get("position")
        .and_then(Value::as_u64)
        .ok_or_else(|| malformed("no \"position\" (an unsigned integer)".into()))?;
    let log_hash: [u8; 32] = from_hex(text("log_hash")?)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed("\"log_hash\" is not 64 hex digits".into()))?;
    let at = text("at")?.to_string();
    if chrono::DateTime::parse_from_rfc3339(&at).is_err() {
        return Err(malformed(format!("\"at\" ({at}) is not an RFC 3339 time")));
    }
    let named =
        parse_public_key(text("public_key")?).map_err(|e| malformed(format!("\"public_key\" is {e}")))?;
    let signature = signature_from_hex(text("signature")?)
        .ok_or_else(|| malformed("\"signature\" is not 128 hex digits".into()))?;
    if named != *key {
        return Err(AnchorError::BadSignature(format!(
            "the anchor is signed by the key {}, not by the key {} it is checked against",
            public_key_hex(&named),
            public_key_hex(key)
        )));
    }
    key.verify_strict(&anchor_message(position, &log_hash, &at), &signature).map_err(|_| {
        AnchorError::BadSignature(format!(
            "the anchor's signature does not match its content (position {position}): the anchor was altered"
        ))
    })?;
    Ok(Anchor { position, log_hash, at, public_key: named })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    #[test]
    fn an_anchor_verifies_and_any_edit_breaks_it() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-05T14:00:07Z").expect("time").to_utc();
        let doc = sign_anchor(&key(), 42, &[9u8; 32], at);
        let a = verify_anchor(&doc, &key().verifying_key()).expect("valid");
        assert_eq!((a.position, a.log_hash, a.at.as_str()), (42, [9u8; 32], "2026-11-05T14:00:07Z"));
        for (field, value) in [("position", json!(41)), ("at", json!("2026-11-05T14:00:08Z"))] {
            let mut edited = doc.clone();
            edited[field] = value;
            let e = verify_anchor(&edited, &key().verifying_key()).expect_err(field);
            assert!(matches!(e, AnchorError::BadSignature(_)), "{field}: {e}");
        }
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        let e = verify_anchor(&doc, &other).expect_err("another key");
        assert!(e.to_string().contains("not by the key"), "{e}");
        let e = verify_anchor(&json!({"format": "x"}), &other).expect_err("not an anchor");
        assert!(matches!(e, AnchorError::Malformed(_)), "{e}");
    }

    #[test]
    fn trusted_keys_are_hex_or_a_file() {
        let hex_key = public_key_hex(&key().verifying_key());
        assert_eq!(trusted_key(&hex_key).expect("hex"), key().verifying_key());
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("k.pub");
        std::fs::write(&file, format!("{hex_key}\n")).expect("write");
        assert_eq!(trusted_key(file.to_str().expect("UTF-8")).expect("file"), key().verifying_key());
        let e = trusted_key("nope").expect_err("neither");
        assert!(e.contains("neither 64 hex digits"), "{e}");
    }

    #[test]
    fn a_key_is_made_once_and_kept_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let made = ensure_key(dir.path()).expect("made");
        let again = ensure_key(dir.path()).expect("loaded");
        assert_eq!(made.to_bytes(), again.to_bytes());
        let public = std::fs::read_to_string(dir.path().join("signing.pub")).expect("public key file");
        assert_eq!(public.trim(), public_key_hex(&made.verifying_key()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join(KEY_FILE);
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let e = ensure_key(dir.path()).expect_err("exposed");
            assert!(e.to_string().contains("chmod 600"), "{e}");
        }
    }
}
