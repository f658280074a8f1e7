//! The NATS server configuration that carries the user directory to nats-server 2.9
//! (`orderflow nats-config`): who may connect, to which account, and which subjects each may
//! publish.
//!
//! # Trust model
//! nats-server 2.9 stamps nothing on a message inside one account, but a request that crosses a
//! service import from another account gets the header `Nats-Request-Info` set by the server (a
//! client's own header of that name is removed and replaced). So:
//! - the engine (`orderflow serve`) lives alone in the account [`ENGINE_ACCOUNT`] (with JetStream)
//!   as the NATS user [`ENGINE_NATS_USER`], and exports the command and query subjects and the
//!   department consumers' JetStream subjects;
//! - every grant ([`Grant::all`]) is an account ([`account_of`]: `SALES`, `HEAD_PRODUCTION`, ...)
//!   holding one NATS user per active person holding it ([`nats_user_of`]: `li@sales`), with the
//!   bcrypt hash of their password ([`Secrets::nats_hash`]): passwords never travel;
//! - an account imports, with `share: true` (so the header names the user), exactly the command
//!   subjects its role may issue ([`commands_of`]), the query subjects, and the JetStream
//!   subjects of its own department's consumer (INFO, MSG.NEXT, ACK), nothing else; its users may
//!   publish on exactly those imports and subscribe to their private inbox
//!   ([`inbox_prefix`]);
//! - inside [`ENGINE_ACCOUNT`] nothing is stamped, so a header there would be believed: the
//!   account holds the engine alone, and even the engine's user may not publish on the command
//!   and query subjects (a `deny` in its permissions);
//! - the service maps the header's account to the grant and its user to the person, checks them
//!   against the directory, and still runs the domain's role check (an approval names its
//!   department in the body, which only the engine can hold against the caller's role).
//!
//! A change of users needs a new configuration and `nats-server --signal reload`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use orderflow_commands::{
    allowed_roles, ApproveChange, ApproveReview, CancelOrder, ChangeOrder, CloseOrder, Command,
    CompleteProduction, ConfirmOrder, DeclineChange, DeliverOrder, InspectQuality, MarkOverdue, NewLine,
    OpenComplaint, PlaceHold, ReceiveOrder, RecordAccess, RecordFeedback, RecordRefusedAccess, RecordVisit,
    RefuseOrder, RejectReview, ReleaseHold, ReopenComplaint, ReportDelay, ResolveComplaint,
    ScheduleProduction, ShipOrder, SignOrder, UpdateComplaint, WithdrawChange,
};
use orderflow_schemas::{
    AccessKind, Channel, ComplaintCategory, ConfirmMethod, Currency, Date, DeliveryMode, Department, Grant,
    Initiator, InspectionResult, Remedy, Role, Severity, ShipMode, VisitMethod, CHANGE_REVIEWERS,
};
use uuid::Uuid;

use crate::app::AppError;
use crate::auth::{account_of, nats_user_of, Directory, ENGINE_NATS_USER, NATS_BCRYPT_COST};
use crate::bus::consumer::DURABLE_NAME_PREFIX;
use crate::bus::publisher::STREAM_NAME_DEFAULT;
use crate::bus::DEPARTMENTS;
pub use crate::service::client::inbox_prefix;
use crate::service::{COMMAND_SUBJECT_PREFIX, QUERY_SUBJECT_PREFIX};

/// The account of the engine; JetStream and the stream live here.
pub const ENGINE_ACCOUNT: &str = "ORDERFLOW";
/// The JetStream API prefix of a department's NATS user: the consumer INFO and MSG.NEXT subjects
/// are imported under it (`ORDERFLOW.JS.API.CONSUMER.INFO.ORDERFLOW.orderflow-finance`), because
/// in an account without JetStream nats-server 2.9 answers `$JS.API.>` itself ("JetStream not
/// enabled for account", found with async-nats), ahead of an import of the same subject.
pub const DEPARTMENT_JS_API_PREFIX: &str = "ORDERFLOW.JS.API";

/// The file in the data directory that records that a configuration was generated (so `serve`
/// connects as [`ENGINE_NATS_USER`] by default).
pub const GENERATED_FILE: &str = "nats-config.json";

/// One sample of every command, approvals and rejections once per department: what the role
/// table ([`allowed_roles`]) is asked about. Every name of [`Command::NAMES`] is here.
pub fn sample_commands() -> Vec<Command> {
    // Any date: the role table does not look at it.
    let date = Date(740_000);
    let mut out: Vec<Command> = Vec::new();
    // The test `the_samples_cover_every_command_name` notices a missing receive.
    if let Ok(currency) = Currency::parse("EUR") {
        out.push(
            ReceiveOrder {
                channel: Channel::Phone,
                customer: "c".into(),
                contact: "c".into(),
                lines: vec![NewLine {
                    sku: "s".into(),
                    spec: String::new(),
                    quantity: 1,
                    unit: "pcs".into(),
                    unit_price_minor: 1,
                }],
                currency,
                requested_date: date,
                delivery_address: "a".into(),
                special_requirements: String::new(),
            }
            .into(),
        );
    }
    out.extend::<Vec<Command>>(vec![
        ConfirmOrder {
            promised_date: date,
            expected_ship_date: date,
            delivery_mode: DeliveryMode::Carrier,
            confirmed_via: ConfirmMethod::Phone,
            note: String::new(),
        }
        .into(),
        ChangeOrder {
            initiated_by: Initiator::Customer,
            reason: "r".into(),
            impact: Vec::new(),
            lines: Vec::new(),
            requested_date: None,
            delivery_address: None,
        }
        .into(),
        WithdrawChange { reason: "r".into() }.into(),
        CancelOrder { initiated_by: Initiator::Customer, reason: "r".into() }.into(),
        ScheduleProduction { planned_finish: date, note: String::new() }.into(),
        InspectQuality { result: InspectionResult::Pass, note: String::new() }.into(),
        CompleteProduction { note: String::new() }.into(),
        ShipOrder {
            carrier: "c".into(),
            mode: ShipMode::Road,
            tracking_number: "t".into(),
            eta: date,
            unconfirmed_reason: None,
        }
        .into(),
        ReportDelay { new_eta: date, reason: "r".into() }.into(),
        DeliverOrder { note: String::new() }.into(),
        SignOrder { signed_by: "s".into(), accepted: None, note: String::new() }.into(),
        RefuseOrder { refused_by: "r".into(), reason: "r".into() }.into(),
        OpenComplaint {
            category: ComplaintCategory::Quality,
            severity: Severity::Low,
            text: "t".into(),
            assignee: None,
        }
        .into(),
        UpdateComplaint { complaint_id: 1, note: "n".into(), next_step: "s".into() }.into(),
        ResolveComplaint {
            complaint_id: 1,
            resolution: "r".into(),
            remedy: Remedy::Other,
            customer_satisfied: true,
        }
        .into(),
        ReopenComplaint { complaint_id: 1, reason: "r".into() }.into(),
        RecordFeedback { score: 5, comment: String::new() }.into(),
        RecordVisit { method: VisitMethod::Phone, score: None, comment: String::new() }.into(),
        CloseOrder { override_reason: None }.into(),
        PlaceHold { reason: "r".into() }.into(),
        ReleaseHold { note: String::new() }.into(),
        RecordAccess { access: AccessKind::History, detail: String::new() }.into(),
        RecordRefusedAccess { access: AccessKind::History, reason: "r".into() }.into(),
    ]);
    for &department in Department::ALL {
        out.push(ApproveReview { department, revision: None, note: String::new() }.into());
        out.push(RejectReview { department, revision: None, reason: "r".into() }.into());
    }
    for &department in CHANGE_REVIEWERS {
        out.push(ApproveChange { department, request_id: None, note: String::new() }.into());
        out.push(DeclineChange { department, request_id: None, reason: "r".into() }.into());
    }
    out.push(MarkOverdue { revision: 1, request_id: None, department: Role::Production }.into());
    out
}

/// The command names a person acting in `role` may issue (for some body of the command).
pub fn commands_of(role: Role) -> BTreeSet<&'static str> {
    sample_commands().iter().filter(|c| allowed_roles(c).contains(&role)).map(|c| c.name()).collect()
}

/// The department consumer a grant's account may read: its role's, when the role is a department.
pub fn department_of(grant: Grant) -> Option<&'static str> {
    let word = grant.role().as_str();
    DEPARTMENTS.iter().copied().find(|d| *d == word)
}

/// `$JS.API.CONSUMER.INFO.<stream>.<durable>`.
pub fn consumer_info_subject(stream: &str, durable: &str) -> String {
    format!("$JS.API.CONSUMER.INFO.{stream}.{durable}")
}

/// `$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>`.
pub fn consumer_next_subject(stream: &str, durable: &str) -> String {
    format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}")
}

/// `$JS.ACK.<stream>.<durable>.>`.
pub fn consumer_ack_subject(stream: &str, durable: &str) -> String {
    format!("$JS.ACK.{stream}.{durable}.>")
}

/// A service import of an account from [`ENGINE_ACCOUNT`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// The subject (as exported).
    pub subject: String,
    /// The subject in the importing account, when it differs (`to:`).
    pub to: Option<String>,
    /// Whether the server tells the engine the user (`share: true`), not only the account.
    pub share: bool,
}

/// A NATS user of a grant's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatsUser {
    /// `<login>@<account in lowercase>`.
    pub name: String,
    /// The bcrypt hash of the person's password.
    pub password_hash: String,
}

/// One grant's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Its name ([`account_of`]).
    pub name: String,
    /// The grant.
    pub grant: Grant,
    /// Its users: the active people holding the grant with a NATS hash.
    pub users: Vec<NatsUser>,
    /// What it imports; its users may publish on exactly these subjects.
    pub imports: Vec<Import>,
}

/// The whole configuration, before it is written out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The bcrypt hash of the engine's password.
    pub engine_hash: String,
    /// One account per grant, in [`Grant::all`] order.
    pub accounts: Vec<Account>,
    /// People left out, and why (no NATS hash: set their password again).
    pub skipped: Vec<String>,
}

/// The imports of a grant's account: its commands (shared), the queries (shared), and its
/// department's consumer (INFO, MSG.NEXT, ACK).
pub fn imports_of(grant: Grant) -> Vec<Import> {
    let mut out: Vec<Import> = commands_of(grant.role())
        .into_iter()
        .map(|name| Import { subject: format!("{COMMAND_SUBJECT_PREFIX}.{name}"), to: None, share: true })
        .collect();
    out.push(Import { subject: format!("{QUERY_SUBJECT_PREFIX}.*"), to: None, share: true });
    if let Some(dept) = department_of(grant) {
        let durable = format!("{DURABLE_NAME_PREFIX}{dept}");
        let api = |subject: String| {
            let to = subject.replacen("$JS.API", DEPARTMENT_JS_API_PREFIX, 1);
            Import { subject, to: Some(to), share: false }
        };
        out.push(api(consumer_info_subject(STREAM_NAME_DEFAULT, &durable)));
        out.push(api(consumer_next_subject(STREAM_NAME_DEFAULT, &durable)));
        out.push(Import {
            subject: consumer_ack_subject(STREAM_NAME_DEFAULT, &durable),
            to: None,
            share: false,
        });
    }
    out
}

impl Import {
    /// The subject the importing account's users publish on.
    pub fn local_subject(&self) -> &str {
        self.to.as_deref().unwrap_or(&self.subject)
    }
}

/// The plan for a directory: `hash_of` gives a user's NATS hash (from the secrets);
/// `engine_password` is the engine's.
pub fn plan(
    directory: &Directory,
    hash_of: impl Fn(Uuid) -> Result<Option<String>, AppError>,
    engine_password: &str,
) -> Result<Plan, AppError> {
    let engine_hash = bcrypt::hash(engine_password, NATS_BCRYPT_COST)
        .map_err(|e| AppError::Failure(format!("cannot hash the engine's NATS password: {e}")))?;
    let mut skipped = Vec::new();
    let mut hashes = std::collections::BTreeMap::new();
    for u in directory.users().filter(|u| u.active) {
        match hash_of(u.id)? {
            Some(h) => {
                hashes.insert(u.id, h);
            }
            None => skipped.push(format!(
                "{} has no NATS password hash yet (set the password again: orderflow users passwd {}); left out",
                u.login, u.login
            )),
        }
    }
    let accounts = Grant::all()
        .into_iter()
        .map(|grant| Account {
            name: account_of(grant),
            grant,
            users: directory
                .users()
                .filter(|u| u.active && u.holds(grant))
                .filter_map(|u| {
                    hashes
                        .get(&u.id)
                        .map(|h| NatsUser { name: nats_user_of(&u.login, grant), password_hash: h.clone() })
                })
                .collect(),
            imports: imports_of(grant),
        })
        .collect();
    Ok(Plan { engine_hash, accounts, skipped })
}

/// A quoted string of the NATS configuration format (JSON's escapes are the format's).
fn q(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The configuration text for `nats-server -c FILE` (2.9); the port comes from its command line
/// (`-p`). The JetStream store directory is `store_dir` when given: nats-server 2.9.10 refuses
/// to reload a configuration whose store directory came from `-sd` ("config reload not supported
/// for jetstream storage dir"), and a reload is how a change of users takes effect. Without it the
/// store is nats-server's default (or `-sd`, which then forbids reloads).
pub fn render(plan: &Plan, store_dir: Option<&str>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# nats-server 2.9 configuration generated by `orderflow nats-config`; do not edit:");
    let _ = writeln!(o, "# regenerate it after a change of users, then `nats-server --signal reload`.");
    match store_dir {
        Some(dir) => {
            let _ = writeln!(o, "# Port: give it on the command line (-p).");
            let _ = writeln!(o, "jetstream {{store_dir: {}}}", q(dir));
        }
        None => {
            let _ =
                writeln!(o, "# Port and JetStream store directory: on the command line (-p, -sd); with -sd");
            let _ = writeln!(
                o,
                "# nats-server 2.9 cannot reload this file (generate it with --store-dir instead)."
            );
            let _ = writeln!(o, "jetstream {{}}");
        }
    }
    let _ = writeln!(o, "accounts {{");
    let _ = writeln!(o, "  {ENGINE_ACCOUNT} {{");
    let _ = writeln!(o, "    jetstream: enabled");
    let _ = writeln!(o, "    users: [");
    // The engine answers commands and queries; it never sends one: inside its own account no
    // server stamps the sender, so nobody there may send one (see the module documentation).
    let _ = writeln!(
        o,
        "      {{user: {}, password: {}, permissions: {{publish: {{deny: [{}, {}]}}}}}}",
        q(ENGINE_NATS_USER),
        q(&plan.engine_hash),
        q(&format!("{COMMAND_SUBJECT_PREFIX}.>")),
        q(&format!("{QUERY_SUBJECT_PREFIX}.>"))
    );
    let _ = writeln!(o, "    ]");
    let _ = writeln!(o, "    exports: [");
    let stream = STREAM_NAME_DEFAULT;
    let _ = writeln!(o, "      {{service: {}}}", q(&format!("{COMMAND_SUBJECT_PREFIX}.*")));
    let _ = writeln!(o, "      {{service: {}}}", q(&format!("{QUERY_SUBJECT_PREFIX}.*")));
    let _ = writeln!(o, "      {{service: {}}}", q(&consumer_info_subject(stream, "*")));
    let _ = writeln!(o, "      {{service: {}, response: stream}}", q(&consumer_next_subject(stream, "*")));
    let _ = writeln!(o, "      {{service: {}}}", q(&format!("$JS.ACK.{stream}.>")));
    let _ = writeln!(o, "    ]");
    let _ = writeln!(o, "  }}");
    for a in &plan.accounts {
        let _ = writeln!(o, "  # {}", a.grant);
        let _ = writeln!(o, "  {} {{", a.name);
        let publish: Vec<String> = a.imports.iter().map(|i| q(i.local_subject())).collect();
        if a.users.is_empty() {
            let _ = writeln!(o, "    users: []");
        } else {
            let _ = writeln!(o, "    users: [");
            for u in &a.users {
                let _ = writeln!(
                    o,
                    "      {{user: {}, password: {}, permissions: {{publish: {{allow: [{}]}}, subscribe: {{allow: [{}]}}}}}}",
                    q(&u.name),
                    q(&u.password_hash),
                    publish.join(", "),
                    q(&format!("{}.>", inbox_prefix(&u.name)))
                );
            }
            let _ = writeln!(o, "    ]");
        }
        let _ = writeln!(o, "    imports: [");
        for i in &a.imports {
            let share = if i.share { ", share: true" } else { "" };
            let to = i.to.as_deref().map(|t| format!(", to: {}", q(t))).unwrap_or_default();
            let _ = writeln!(
                o,
                "      {{service: {{account: {ENGINE_ACCOUNT}, subject: {}}}{to}{share}}}",
                q(&i.subject)
            );
        }
        let _ = writeln!(o, "    ]");
        let _ = writeln!(o, "  }}");
    }
    let _ = writeln!(o, "}}");
    o
}

/// What [`GENERATED_FILE`] records.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Generated {
    /// Where the configuration was written.
    pub file: String,
    /// When.
    pub at: String,
    /// The engine's NATS user.
    pub engine_user: String,
}

impl Generated {
    /// The record of `data_dir`, if a configuration was generated for it.
    pub fn read(data_dir: &Path) -> Option<Generated> {
        serde_json::from_slice(&std::fs::read(data_dir.join(GENERATED_FILE)).ok()?).ok()
    }

    /// Records it (0600), replacing an older record.
    pub fn write(&self, data_dir: &Path) -> Result<(), AppError> {
        let body = serde_json::to_vec_pretty(self).map_err(|e| AppError::Failure(e.to_string()))?;
        write_file(&data_dir.join(GENERATED_FILE), &body, true)
    }
}

/// Writes a file readable by its owner only (0600); an existing one is refused unless `replace`.
pub fn write_file(path: &Path, bytes: &[u8], replace: bool) -> Result<(), AppError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let failed = |e: std::io::Error| AppError::Failure(format!("cannot write {}: {e}", path.display()));
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    if !replace && path.exists() {
        return Err(AppError::Invalid(format!(
            "{} exists; nothing written (--force replaces it)",
            path.display()
        )));
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| AppError::Invalid(format!("cannot write {}: {e}", tmp.display())))?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    let placed = written.and_then(|()| {
        if replace {
            std::fs::rename(&tmp, path)
        } else {
            // No replacing: a file that appeared meanwhile is kept.
            std::fs::hard_link(&tmp, path).and_then(|()| std::fs::remove_file(&tmp))
        }
    });
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&tmp);
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(AppError::Invalid(format!(
                "{} exists; nothing written (--force replaces it)",
                path.display()
            )));
        }
        return Err(failed(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_samples_cover_every_command_name() {
        let names: BTreeSet<&str> = sample_commands().iter().map(|c| c.name()).collect();
        assert_eq!(names, Command::NAMES.iter().copied().collect::<BTreeSet<_>>());
    }

    #[test]
    fn each_role_gets_the_commands_the_role_table_allows() {
        assert_eq!(commands_of(Role::Auditor), BTreeSet::from(["access", "access_refused"]));
        assert_eq!(commands_of(Role::Admin), BTreeSet::from(["access", "access_refused"]));
        let production = commands_of(Role::Production);
        for c in ["approve", "reject", "schedule", "complete", "access"] {
            assert!(production.contains(c), "{c}");
        }
        assert!(!production.contains("ship") && !production.contains("receive"), "{production:?}");
        let sales = commands_of(Role::Sales);
        assert!(sales.contains("receive") && !sales.contains("approve"), "{sales:?}");
        // Every command is somebody's.
        let all: BTreeSet<&str> = Role::ALL.iter().flat_map(|r| commands_of(*r)).collect();
        assert_eq!(all, Command::NAMES.iter().copied().collect::<BTreeSet<_>>());
    }

    #[test]
    fn a_head_account_gets_its_roles_commands_and_consumer() {
        let head = imports_of(Grant::DeptHead(Role::Production));
        assert_eq!(head, imports_of(Grant::Role(Role::Production)));
        assert!(head.iter().any(|i| i.subject == "$JS.API.CONSUMER.MSG.NEXT.ORDERFLOW.orderflow-production"
            && i.local_subject() == "ORDERFLOW.JS.API.CONSUMER.MSG.NEXT.ORDERFLOW.orderflow-production"));
        assert!(imports_of(Grant::Role(Role::Auditor)).iter().all(|i| !i.subject.starts_with("$JS")));
    }

    #[test]
    fn strings_are_quoted_for_the_config_format() {
        assert_eq!(q("$2a$10$x"), "\"$2a$10$x\"");
        assert_eq!(q("a\"b"), "\"a\\\"b\"");
    }
}
