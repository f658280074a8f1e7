//! The data directory's file modes, the instance's signing key, signed exports and signed anchors
//! (issue 11, items 8 and 9): an export or a log rewritten the way an insider would (every hash
//! recomputed consistently) is caught by the signature or the anchor, with exit 5.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use orderflow_engine::{event_id_of, log_hash, stream_hash, HashInput, GENESIS_HASH};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{exec, orderflow, Desk, Stage};

const CUSTOMER: &str = "Bright Dairy Retail";
const FORGED: &str = "Blight Dairy Retail";

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).expect("stat").permissions().mode() & 0o7777
}

/// Every directory and file under `root` (itself included), with its mode.
fn walk(root: &Path) -> Vec<(std::path::PathBuf, bool, u32)> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(p) = pending.pop() {
        let meta = std::fs::symlink_metadata(&p).expect("stat");
        out.push((p.clone(), meta.is_dir(), mode(&p)));
        if meta.is_dir() {
            pending.extend(std::fs::read_dir(&p).expect("list").map(|e| e.expect("entry").path()));
        }
    }
    out
}

#[track_caller]
fn assert_private(root: &Path) {
    let entries = walk(root);
    assert!(entries.len() > 5, "the data directory holds the log, FORMAT, LOCK and the key: {entries:?}");
    for (path, is_dir, mode) in entries {
        let wanted = if is_dir { 0o700 } else { 0o600 };
        assert_eq!(mode, wanted, "{} has mode {mode:o}, not {wanted:o}", path.display());
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn hash(s: &str) -> [u8; 32] {
    unhex(s).try_into().expect("32 bytes")
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = haystack.windows(from.len()).position(|w| w == from).expect("the text is in the bytes");
    let mut out = haystack.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Exports `id` to `<root>/<name>` and returns the file and its document.
#[track_caller]
fn export(desk: &Desk, id: &str, name: &str) -> (std::path::PathBuf, Value) {
    let file = desk.root().join(name);
    desk.ok(&["audit", "export", id, "--out", path_str(&file)]);
    let doc = serde_json::from_str(&std::fs::read_to_string(&file).expect("read the export")).expect("JSON");
    (file, doc)
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).expect("JSON")).expect("write");
}

/// The export with the customer's name changed in the first event's payload and JSON form, and
/// every hash after it recomputed as someone hiding the change would: the export's own checks
/// pass; only the signature can tell.
fn forge(doc: &Value) -> Value {
    let mut doc = doc.clone();
    let order: Uuid = doc["order_id"].as_str().expect("order id").parse().expect("uuid");
    let mut prev_stream = GENESIS_HASH;
    let events = doc["events"].as_array_mut().expect("events");
    for (i, e) in events.iter_mut().enumerate() {
        let mut payload = unhex(e["payload_hex"].as_str().expect("payload"));
        if i == 0 {
            payload = replace(&payload, CUSTOMER.as_bytes(), FORGED.as_bytes());
            e["payload_hex"] = json!(hex(&payload));
            e["event"]["data"]["customer"] = json!(FORGED);
        }
        let input = HashInput {
            position: e["position"].as_u64().expect("position"),
            stream: order,
            version: e["version"].as_u64().expect("version"),
            command_id: e["command_id"].as_str().expect("command id").parse().expect("uuid"),
            recorded_at_us: e["recorded_at_us"].as_i64().expect("recorded at"),
            event_type: u16::try_from(e["type_code"].as_u64().expect("type")).expect("u16"),
            schema_version: u16::try_from(e["schema_version"].as_u64().expect("schema")).expect("u16"),
            payload: &payload,
        };
        let stream = stream_hash(&prev_stream, &input);
        let log = log_hash(&hash(e["prev_log_hash"].as_str().expect("prev")), &stream);
        e["stream_hash"] = json!(hex(&stream));
        e["log_hash"] = json!(hex(&log));
        e["event"]["event_id"] = json!(event_id_of(&stream).to_string());
        prev_stream = stream;
    }
    doc["last_stream_hash"] = json!(hex(&prev_stream));
    doc
}

/// Rewrites the log of `data` as an insider with write access would: the customer's name in the
/// first record changed, then every record's stream and log hashes and checksum recomputed, so
/// that `audit verify` finds nothing.
fn rewrite_log(data: &Path) {
    const HEADER: usize = 1 + 16 + 8 + 16 + 8;
    let db = sled::open(data.join("log")).expect("open sled");
    let tree = db.open_tree("log").expect("log tree");
    let mut streams: std::collections::HashMap<Uuid, [u8; 32]> = std::collections::HashMap::new();
    let mut prev_log = GENESIS_HASH;
    let mut forged = false;
    let records: Vec<(sled::IVec, sled::IVec)> = tree.iter().map(|kv| kv.expect("record")).collect();
    for (key, value) in records {
        let first_position = u64::from_be_bytes(key.as_ref().try_into().expect("8-byte key"));
        let mut v = value.to_vec();
        v.truncate(v.len() - 4);
        let stream = Uuid::from_slice(&v[1..17]).expect("stream");
        let first_version = u64::from_le_bytes(v[17..25].try_into().expect("u64"));
        let command_id = Uuid::from_slice(&v[25..41]).expect("command id");
        let recorded_at_us = i64::from_le_bytes(v[41..49].try_into().expect("i64"));
        let count = u16::from_le_bytes(v[HEADER..HEADER + 2].try_into().expect("u16"));
        let mut at = HEADER + 2;
        for i in 0..u64::from(count) {
            let event_type = u16::from_le_bytes(v[at..at + 2].try_into().expect("u16"));
            let schema_version = u16::from_le_bytes(v[at + 2..at + 4].try_into().expect("u16"));
            let len = u32::from_le_bytes(v[at + 4..at + 8].try_into().expect("u32")) as usize;
            let p = at + 8;
            // The first order's receipt (the records before it are the user directory's).
            let payload = &v[p..p + len];
            if !forged && payload.windows(CUSTOMER.len()).any(|w| w == CUSTOMER.as_bytes()) {
                let edited = replace(payload, CUSTOMER.as_bytes(), FORGED.as_bytes());
                v[p..p + len].copy_from_slice(&edited);
                forged = true;
            }
            let input = HashInput {
                position: first_position + i,
                stream,
                version: first_version + i,
                command_id,
                recorded_at_us,
                event_type,
                schema_version,
                payload: &v[p..p + len],
            };
            let sh = stream_hash(streams.get(&stream).unwrap_or(&GENESIS_HASH), &input);
            let lh = log_hash(&prev_log, &sh);
            v[p + len..p + len + 32].copy_from_slice(&sh);
            v[p + len + 32..p + len + 64].copy_from_slice(&lh);
            streams.insert(stream, sh);
            prev_log = lh;
            at = p + len + 64;
        }
        assert_eq!(at, v.len(), "the record layout is understood");
        let crc = crc32(&v);
        v.extend_from_slice(&crc.to_le_bytes());
        tree.insert(key, v).expect("rewrite the record");
    }
    db.flush().expect("flush");
}

/// CRC-32 (IEEE), as the records carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn public_key(desk: &Desk) -> String {
    let out = desk.ok(&["audit", "public-key"]);
    let key = out.stdout.trim().to_string();
    assert_eq!(key.len(), 64, "{out:?}");
    key
}

#[test]
fn the_data_directory_and_exports_are_private() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Shipped);
    desk.ok(&["status"]);
    let (file, _) = export(&desk, &id, "order.json");
    assert_private(&desk.data);
    assert_eq!(mode(&file), 0o600, "an export file is private");
    // An export overwriting a file that was readable by others leaves it private too.
    let open = desk.root().join("open.json");
    std::fs::write(&open, "old").expect("write");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    desk.ok(&["audit", "export", &id, "--out", path_str(&open), "--force"]);
    assert_eq!(mode(&open), 0o600);
    let anchor = desk.root().join("anchor.json");
    desk.ok(&["audit", "anchor", "--out", path_str(&anchor)]);
    assert_eq!(mode(&anchor), 0o600, "an anchor file is private");
    assert_private(&desk.data);
}

#[test]
fn a_directory_opened_up_is_made_private_again_by_the_next_command() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    for (path, is_dir, _) in walk(&desk.data) {
        let loose = if is_dir { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).expect("chmod");
    }
    desk.ok(&["order", "show", &id]);
    assert_private(&desk.data);
}

#[test]
fn the_public_key_is_printed_and_written_next_to_the_key() {
    let desk = Desk::new();
    desk.order_at(Stage::Received);
    let key = public_key(&desk);
    let v = desk.ok(&["audit", "public-key", "--json"]).json();
    assert_eq!(v, json!({ "algorithm": "ed25519", "public_key": key }));
    let file = std::fs::read_to_string(desk.data.join("signing.pub")).expect("signing.pub");
    assert_eq!(file, format!("{key}\n"));
    let seed = std::fs::read_to_string(desk.data.join("signing.key")).expect("signing.key");
    assert_eq!(seed.trim().len(), 64, "a 32-byte seed in hex");
    assert_ne!(seed.trim(), key);
    // The key is made once: another command keeps it.
    desk.order_at(Stage::Received);
    assert_eq!(public_key(&desk), key);
    // Another instance has another key.
    let other = Desk::new();
    other.order_at(Stage::Received);
    assert_ne!(public_key(&other), key);
}

#[test]
fn a_signed_export_verifies_against_the_instance_key() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Delivered);
    let key = public_key(&desk);
    let (file, doc) = export(&desk, &id, "order.json");
    assert_eq!(doc["signature"]["algorithm"], "ed25519");
    assert_eq!(doc["signature"]["public_key"], key.as_str());
    assert_eq!(doc["signature"]["signature"].as_str().map(str::len), Some(128));
    assert!(doc["signature"]["signed"]
        .as_str()
        .is_some_and(|s| s.starts_with("orderflow-export-signature-v1")));

    let v = desk.ok(&["audit", "verify-export", path_str(&file), "--key", &key, "--json"]).json();
    assert_eq!((v["intact"].clone(), v["signature"].clone()), (json!(true), json!("trusted")), "{v}");
    // --key also takes a file holding the key (a copy of signing.pub).
    let copy = desk.root().join("trusted.pub");
    std::fs::copy(desk.data.join("signing.pub"), &copy).expect("copy");
    let out = desk.ok(&["audit", "verify-export", path_str(&file), "--key", path_str(&copy)]);
    assert!(out.stdout.contains("export intact") && out.stdout.contains("by the trusted key"), "{out:?}");
    // Without --key: checked against the key the file names, and it says so.
    let out = desk.ok(&["audit", "verify-export", path_str(&file)]);
    assert!(out.stdout.contains("not checked against a trusted key"), "{out:?}");
    let v = desk.ok(&["audit", "verify-export", path_str(&file), "--json"]).json();
    assert_eq!(v["signature"], "embedded_key_only");
}

#[test]
fn an_export_edited_and_rehashed_fails_its_signature() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Shipped);
    let key = public_key(&desk);
    let (_, doc) = export(&desk, &id, "order.json");
    let forged = forge(&doc);
    // The forgery is consistent: without its signature the hash checks find nothing.
    let mut unsigned = forged.clone();
    unsigned.as_object_mut().expect("object").remove("signature");
    let bare = desk.root().join("unsigned.json");
    write_json(&bare, &unsigned);
    let out = desk.ok(&["audit", "verify-export", path_str(&bare)]);
    assert!(out.stdout.contains("not signed"), "{out:?}");

    let file = desk.root().join("forged.json");
    write_json(&file, &forged);
    for extra in [&[][..], &["--key", key.as_str()][..]] {
        let mut args = vec!["audit", "verify-export", path_str(&file)];
        args.extend_from_slice(extra);
        desk.run(&args).failed(5, &["signature", "changed after it was signed"]);
    }
    // A trusted key refuses an export without a signature...
    desk.run(&["audit", "verify-export", path_str(&bare), "--key", &key]).failed(5, &["no signature"]);
    // ...and one the forger signed with a key of their own.
    let forger = Desk::new();
    let forger_id = forger.order_at(Stage::Received);
    let (_, theirs) = export(&forger, &forger_id, "theirs.json");
    let mut resigned = forged.clone();
    resigned["signature"] = theirs["signature"].clone();
    resigned["signature"]["public_key"] = json!(public_key(&forger));
    let file = desk.root().join("resigned.json");
    write_json(&file, &resigned);
    desk.run(&["audit", "verify-export", path_str(&file), "--key", &key])
        .failed(5, &["not by the trusted key"]);
    // A malformed --key is the user's mistake.
    desk.run(&["audit", "verify-export", path_str(&file), "--key", "cafe"]).failed(3, &["--key cafe"]);
}

#[test]
fn an_anchor_holds_while_the_log_only_grows() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Confirmed);
    let key = public_key(&desk);
    let printed = desk.ok(&["audit", "anchor"]).json();
    let head = desk.head();
    assert_eq!(printed["position"], head);
    assert_eq!(printed["public_key"], key.as_str());
    assert_eq!(printed["format"], "orderflow-anchor");
    let anchor = desk.root().join("anchor.json");
    write_json(&anchor, &printed);
    desk.ok(&["order", "ship", &id, "--carrier", "ColdLine Logistics", "--tracking", "CL-4711"]);
    desk.order_at(Stage::Received);

    let v = desk.ok(&["audit", "verify", "--anchor", path_str(&anchor), "--json"]).json();
    assert_eq!(v["intact"], true);
    assert_eq!(v["anchor"]["position"], head);
    assert_eq!(v["anchor"]["events_since"], desk.head() - head);
    assert_eq!(v["anchor"]["trusted_key"], false);
    let out = desk.ok(&["audit", "verify", "--anchor", path_str(&anchor), "--key", &key]);
    assert!(out.stdout.contains("log intact") && out.stdout.contains("anchor holds"), "{out:?}");
    // --out refuses an existing file.
    desk.run(&["audit", "anchor", "--out", path_str(&anchor)]).failed(3, &["already exists"]);
}

#[test]
fn a_log_rewritten_before_the_anchor_fails_naming_the_position() {
    let desk = Desk::new();
    desk.order_at(Stage::Shipped);
    let anchor = desk.root().join("anchor.json");
    desk.ok(&["audit", "anchor", "--out", path_str(&anchor)]);
    let position = desk.head();
    desk.order_at(Stage::Received);
    rewrite_log(&desk.data);
    // The rewrite is consistent: the unkeyed hash chains find nothing...
    desk.ok(&["audit", "verify"]);
    // ...the anchor does.
    desk.run(&["audit", "verify", "--anchor", path_str(&anchor)])
        .failed(5, &["log rewritten", &format!("position {position}")]);
}

#[test]
fn an_altered_or_foreign_anchor_is_refused() {
    let desk = Desk::new();
    desk.order_at(Stage::Approved);
    let doc = desk.ok(&["audit", "anchor"]).json();
    let file = desk.root().join("anchor.json");
    let mut moved = doc.clone();
    moved["position"] = json!(doc["position"].as_u64().expect("position") - 1);
    write_json(&file, &moved);
    desk.run(&["audit", "verify", "--anchor", path_str(&file)]).failed(5, &["anchor", "altered"]);
    // A genuine anchor checked against another instance's key.
    write_json(&file, &doc);
    let other = Desk::new();
    other.order_at(Stage::Received);
    desk.run(&["audit", "verify", "--anchor", path_str(&file), "--key", &public_key(&other)])
        .failed(5, &["not by the key"]);
    // Another instance's anchor for this log.
    let theirs = desk.root().join("theirs.json");
    write_json(&theirs, &other.ok(&["audit", "anchor"]).json());
    desk.run(&["audit", "verify", "--anchor", path_str(&theirs)]).failed(5, &["not by the key"]);
    // Not an anchor at all.
    write_json(&file, &json!({ "format": "something else" }));
    desk.run(&["audit", "verify", "--anchor", path_str(&file)]).failed(3, &["not an orderflow anchor"]);
}

#[test]
fn the_key_can_live_outside_the_data_directory() {
    let desk = Desk::new();
    desk.ensure();
    let keys = desk.root().join("keys");
    std::fs::create_dir(&keys).expect("mkdir");
    let key_file = keys.join("orderflow.key");
    let with_key = |args: &[&str]| {
        let mut cmd = orderflow(desk.root());
        cmd.args(args).arg("--data-dir").arg(&desk.data).env("ORDERFLOW_SIGNING_KEY", &key_file);
        exec(cmd)
    };
    let id = with_key(&[
        "order",
        "receive",
        "--customer",
        CUSTOMER,
        "--channel",
        "phone",
        "--line",
        "MILK-1L:10:18.90:case",
        "--due",
        super::due(),
    ])
    .ok()
    .stdout
    .trim()
    .to_string();
    let printed = with_key(&["audit", "public-key"]).ok().stdout;
    assert!(!desk.data.join("signing.key").exists(), "the key is where ORDERFLOW_SIGNING_KEY says");
    assert_eq!(mode(&key_file), 0o600);
    let public = std::fs::read_to_string(keys.join("orderflow.pub")).expect("the public key beside it");
    assert_eq!(printed, public);
    let out = desk.root().join("order.json");
    with_key(&["audit", "export", &id, "--out", path_str(&out)]).ok();
    desk.ok(&["audit", "verify-export", path_str(&out), "--key", public.trim()]);
    // A key file others can read is refused, saying how to fix it.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    with_key(&["audit", "public-key"]).failed(1, &["can be read by other users", "chmod 600"]);
}

/// Runs the binary with `args` and `env` without blocking the runtime (the service's output is
/// read on it).
async fn run_async(cwd: &Path, args: &[&str], env: &[(&str, String)]) -> super::Out {
    let mut cmd = tokio::process::Command::from(orderflow(cwd));
    cmd.args(args).kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output())
        .await
        .expect("the CLI finished in time")
        .expect("run the orderflow binary");
    super::Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8(o.stdout).expect("UTF-8"),
        stderr: String::from_utf8(o.stderr).expect("UTF-8"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_through_the_service_is_signed_by_the_instance() {
    use orderflow_schemas::{Grant, Role};
    let site =
        crate::service::Site::with_grants(&[Grant::Role(Role::Sales), Grant::Role(Role::Auditor)]).await;
    let url = site.url();
    let serve = site.serve(&[]).await;
    let work = site.work.path();
    let d = path_str(&site.data).to_string();
    let remote = ["--nats", url.as_str()];
    fn with<'a>(pre: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
        pre.iter().chain(args).copied().collect()
    }
    let sales = site.env(Grant::Role(Role::Sales));
    let auditor = site.env(Grant::Role(Role::Auditor));
    let id = run_async(
        work,
        &with(
            &remote,
            &[
                "order",
                "receive",
                "--customer",
                CUSTOMER,
                "--line",
                "MILK-1L:10:18.90",
                "--due",
                super::due(),
            ],
        ),
        &sales,
    )
    .await
    .ok()
    .stdout
    .trim()
    .to_string();
    let file = work.join("order.json");
    run_async(work, &with(&remote, &["audit", "export", &id, "--out", path_str(&file)]), &auditor).await.ok();
    assert_eq!(mode(&file), 0o600, "an export written by a client of the service is private too");
    // The instance's key, as `signing.pub` holds it beside the data the service holds.
    let key = std::fs::read_to_string(site.data.join("signing.pub")).expect("signing.pub");
    let v = run_async(work, &["audit", "verify-export", path_str(&file), "--key", key.trim(), "--json"], &[])
        .await
        .ok()
        .json();
    assert_eq!(v["signature"], "trusted", "{v}");
    // Anchors are made where the key is, not through the service: said so, nothing written.
    run_async(work, &with(&remote, &["--data-dir", &d, "audit", "anchor"]), &auditor)
        .await
        .failed(3, &["audit anchor runs on the data directory itself"]);
    let (status, _) = serve.stop().await;
    assert!(status.success(), "serve exited with {status}");
}
