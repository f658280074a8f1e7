//! Reads are permissions (issue 11, item 7): the archive reads (`order history`, `audit history`,
//! `audit export`, `audit replay`; over NATS `history`, `audit_history`, `audit_export`,
//! `audit_replay`) are permitted to auditors, archivists, department heads, sales and the four
//! reviewing departments, and to logistics, quality and customer service once someone in that
//! role acted on the order. Every read is recorded first; a refused read is refused (exit 3,
//! forbidden), recorded as `archive_access_refused`, and nothing else is written.
//!
//! Driven through the library (`App`, `Auth`, `app::reads`, the service's `Query` answers) and,
//! for `order history`, the built binary logged in as a user of the directory.

use std::path::{Path, PathBuf};
use std::process::Output;

use orderflow::app::reads::{self, Reader, ReplayPoint};
use orderflow::app::{App, AppError, Done, Request};
use orderflow::auth::{Auth, Principal};
use orderflow::service::query::{AuditExport, AuditHistory, AuditReplay, History};
use orderflow::service::Query;
use orderflow_commands::{ApproveReview, Command as Cmd, ConfirmOrder, DeliverOrder, ShipOrder};
use orderflow_projections::{AuditView, Runner, RunnerConfig, TableWidth};
use orderflow_schemas::{AccessKind, Department, Event, EventBody, Grant, OrderId, Role, ShipMode};
use serde_json::Value;
use tempfile::TempDir;
use uuid::Uuid;

/// Every user's password in these tests.
pub(super) const PASSWORD: &str = "correct horse battery";

/// A data directory with an admin and users added by them.
pub(super) struct Office {
    pub(super) dir: TempDir,
    pub(super) app: App,
    admin: Principal,
}

impl Office {
    pub(super) async fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let app = App::open(&dir.path().join("data")).expect("open the data directory");
        let root = app.auth().bootstrap("root", "Root", PASSWORD).await.expect("bootstrap");
        let admin = Auth::principal(&root, None, None).expect("the admin");
        Self { dir, app, admin }
    }

    pub(super) fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A new user holding `grant`, acting under it.
    pub(super) async fn user(&self, login: &str, grant: Grant) -> Principal {
        let user = self
            .app
            .auth()
            .add_user(&self.admin, login, login, vec![grant], PASSWORD)
            .await
            .expect("add user");
        Auth::principal(&user, None, None).expect("the user's only grant")
    }

    /// A new user holding every one of `grants`.
    pub(super) async fn user_holding(&self, login: &str, grants: Vec<Grant>) -> orderflow::auth::User {
        self.app.auth().add_user(&self.admin, login, login, grants, PASSWORD).await.expect("add user")
    }

    /// Runs `command` as `who`, now.
    pub(super) async fn run(&self, who: &Principal, order: Option<OrderId>, command: Cmd) -> Done {
        self.app.execute(request(who, order, command)).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// The decoded events of an order.
    pub(super) fn events(&self, order: OrderId) -> Vec<Event> {
        self.app
            .log()
            .read_stream(order.0, 1)
            .expect("read the order")
            .iter()
            .map(|s| orderflow::app::decode_stored(s, order).expect("decode").0)
            .collect()
    }
}

pub(super) fn request(who: &Principal, order: Option<OrderId>, command: Cmd) -> Request {
    Request {
        order_id: order,
        command_id: Uuid::new_v4(),
        principal: who.clone(),
        at: None,
        late_reason: None,
        command,
    }
}

pub(super) fn approve(department: Department) -> Cmd {
    ApproveReview { department, revision: None, note: String::new() }.into()
}

/// An order received by sales and approved by the four departments (nobody in logistics,
/// quality or customer service has acted on it).
async fn approved_order(office: &Office) -> OrderId {
    let sales = office.user("li.sales", Grant::Role(Role::Sales)).await;
    let order = office.run(&sales, None, crate::faults::receive("Metro Hotels")).await.order_id;
    for d in Department::ALL {
        let who = office.user(&format!("{d}.desk"), Grant::Role(d.role())).await;
        office.run(&who, Some(order), approve(*d)).await;
    }
    order
}

fn reader(principal: &Principal) -> Reader {
    Reader { principal: principal.clone(), purpose: "claim 17".into() }
}

/// Runs one archive read of `kind` as `who`.
async fn read(office: &Office, order: OrderId, who: &Principal, kind: AccessKind) -> Result<(), AppError> {
    let r = reader(who);
    match kind {
        AccessKind::History => {
            reads::audit_history(&office.app, order, &r, TableWidth::DEFAULT).await.map(|_| ())
        }
        AccessKind::Export => reads::audit_export(&office.app, order, &r, "claim.json").await.map(|_| ()),
        AccessKind::Replay => {
            reads::audit_replay(&office.app, order, ReplayPoint::Version(1), &r).await.map(|_| ())
        }
    }
}

/// Checks a refusal: forbidden (exit 3), the message names who, the role and why, and exactly one
/// event was written: the `archive_access_refused` of `who` with that reason.
fn assert_refused(
    office: &Office,
    order: OrderId,
    head: u64,
    e: &AppError,
    who: &Principal,
    kind: AccessKind,
    why: &str,
) {
    assert!(matches!(e, AppError::Forbidden(_)), "{e}");
    assert_eq!(e.exit_code(), 3);
    let login = &who.user().login;
    let role = who.role();
    let message = e.to_string();
    let expected =
        format!("{login} acting as {role} may not read the archive of order {}: {why}", order.short());
    assert!(message.starts_with(&expected), "{message}\nexpected it to start with: {expected}");
    assert!(message.ends_with("the refused read is recorded"), "{message}");
    assert_eq!(office.app.log().head(), head + 1, "one event written: the refusal");
    let last = office.events(order).pop().expect("an event");
    let EventBody::ArchiveAccessRefused(refused) = &last.body else { panic!("not a refusal: {last:?}") };
    assert_eq!(refused.access, kind);
    assert_eq!(
        message,
        format!("{} ({}); the refused read is recorded", refused.reason, reads::READ_PERMISSION_RULE),
        "the reason recorded is the one told, then the rule"
    );
    assert_eq!(refused.reason, expected, "the reason recorded names who, the role and why");
    assert_eq!((last.actor.user_id, last.actor.role), (who.user().id, role));
    assert!(last.late.is_none());
}

/// Checks an allowed read: exactly one event written, the `archive_accessed` of `who`.
fn assert_recorded(office: &Office, order: OrderId, head: u64, who: &Principal, kind: AccessKind) -> String {
    assert_eq!(office.app.log().head(), head + 1, "one event written: the access record");
    let last = office.events(order).pop().expect("an event");
    let EventBody::ArchiveAccessed(a) = &last.body else { panic!("not an access record: {last:?}") };
    assert_eq!((a.access, last.actor.user_id, last.actor.role), (kind, who.user().id, who.role()));
    a.detail.clone()
}

const KINDS: [AccessKind; 3] = [AccessKind::History, AccessKind::Export, AccessKind::Replay];

#[tokio::test]
async fn roles_that_never_worked_on_the_order_are_refused_and_the_refusal_recorded() {
    let office = Office::new().await;
    let order = approved_order(&office).await;
    for (login, role) in
        [("pat.log", Role::Logistics), ("he.qc", Role::Quality), ("lin.cs", Role::CustomerService)]
    {
        let who = office.user(login, Grant::Role(role)).await;
        for kind in KINDS {
            let head = office.app.log().head();
            let e = read(&office, order, &who, kind).await.expect_err("refused");
            let why = format!("nobody in {role} has worked on it yet");
            assert_refused(&office, order, head, &e, &who, kind, &why);
        }
    }
}

#[tokio::test]
async fn an_admin_is_refused_too() {
    let office = Office::new().await;
    let order = approved_order(&office).await;
    let admin = office.admin.clone();
    let head = office.app.log().head();
    let e = read(&office, order, &admin, AccessKind::Export).await.expect_err("refused");
    assert_refused(&office, order, head, &e, &admin, AccessKind::Export, "admin does not work on orders");
    // `audit access` (a login suffices) lists the refusal with its reason.
    let mut runner = Runner::<AuditView>::open(office.app.log(), RunnerConfig::default()).expect("open");
    runner.catch_up(&mut |_| {}).expect("catch up");
    let out = reads::audit_access(runner.view(), Some(order), TableWidth::Wide);
    assert_eq!(out.json.len(), 1);
    assert_eq!(out.json[0]["access"], "export");
    assert!(
        e.to_string().starts_with(out.json[0]["refused"].as_str().expect("the reason")),
        "{:?}",
        out.json
    );
    assert!(out.text.contains("REFUSED: root acting as admin may not read"), "{}", out.text);
}

#[tokio::test]
async fn auditors_archivists_heads_sales_and_reviewers_read_and_each_read_is_recorded() {
    let office = Office::new().await;
    let order = approved_order(&office).await;
    let readers = [
        ("xu.audit", Grant::Role(Role::Auditor)),
        ("gao.arch", Grant::Role(Role::Archivist)),
        ("boss.log", Grant::DeptHead(Role::Logistics)),
        ("boss.cs", Grant::DeptHead(Role::CustomerService)),
        ("mo.sales", Grant::Role(Role::Sales)),
        ("fi.nance", Grant::Role(Role::Finance)),
        ("wu.prod", Grant::Role(Role::Production)),
        ("sun.wh", Grant::Role(Role::Warehouse)),
        ("chen.proc", Grant::Role(Role::Procurement)),
    ];
    for (login, grant) in readers {
        let who = office.user(login, grant).await;
        for kind in KINDS {
            let head = office.app.log().head();
            read(&office, order, &who, kind).await.unwrap_or_else(|e| panic!("{login} {kind}: {e}"));
            let detail = assert_recorded(&office, order, head, &who, kind);
            assert!(detail.ends_with("; purpose: claim 17"), "{detail}");
        }
    }
}

#[tokio::test]
async fn logistics_reads_once_it_worked_on_the_order_and_a_read_is_not_work() {
    let office = Office::new().await;
    let order = approved_order(&office).await;
    let pat = office.user("pat.log", Grant::Role(Role::Logistics)).await;
    let ma = office.user("ma.log", Grant::Role(Role::Logistics)).await;
    let auditor = office.user("xu.audit", Grant::Role(Role::Auditor)).await;
    // Another role's read and logistics' own refused read do not make logistics work on it.
    read(&office, order, &auditor, AccessKind::History).await.expect("the auditor reads");
    read(&office, order, &pat, AccessKind::History).await.expect_err("refused");
    let head = office.app.log().head();
    read(&office, order, &pat, AccessKind::History).await.expect_err("still refused");
    assert_eq!(office.app.log().head(), head + 1);
    // Once ma ships it, logistics works on the order: pat may read it now.
    let today = orderflow::app::now().date();
    // Confirmed with the customer first: an unconfirmed order does not ship.
    let sales = office.user("mo.sales", Grant::Role(Role::Sales)).await;
    let confirm = ConfirmOrder {
        promised_date: today.plus_days(20),
        expected_ship_date: today,
        delivery_mode: orderflow_schemas::DeliveryMode::Carrier,
        confirmed_via: orderflow_schemas::ConfirmMethod::Phone,
        note: String::new(),
    };
    office.run(&sales, Some(order), confirm.into()).await;
    let eta = today.plus_days(3);
    let ship = ShipOrder {
        carrier: "SF".into(),
        mode: ShipMode::Road,
        tracking_number: "SF1".into(),
        eta,
        unconfirmed_reason: None,
    };
    office.run(&ma, Some(order), ship.into()).await;
    for kind in KINDS {
        let head = office.app.log().head();
        read(&office, order, &pat, kind).await.unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_recorded(&office, order, head, &pat, kind);
    }
    // Quality still has not worked on it.
    let qc = office.user("he.qc", Grant::Role(Role::Quality)).await;
    office.run(&ma, Some(order), DeliverOrder { note: String::new() }.into()).await;
    read(&office, order, &qc, AccessKind::Replay).await.expect_err("quality never acted");
}

#[tokio::test]
async fn an_unknown_order_is_not_found_and_nothing_is_written() {
    let office = Office::new().await;
    let auditor = office.user("xu.audit", Grant::Role(Role::Auditor)).await;
    let pat = office.user("pat.log", Grant::Role(Role::Logistics)).await;
    let nowhere = OrderId(Uuid::from_u128(0x0bad));
    for who in [&auditor, &pat] {
        let head = office.app.log().head();
        let e = read(&office, nowhere, who, AccessKind::History).await.expect_err("no such order");
        assert!(matches!(e, AppError::Rejected(_)) && e.to_string().contains("does not exist"), "{e}");
        assert_eq!(office.app.log().head(), head, "nothing written");
    }
}

fn body(v: Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

#[tokio::test]
async fn the_service_checks_and_records_the_same_and_a_paged_history_once() {
    let office = Office::new().await;
    let order = approved_order(&office).await;
    let pat = office.user("pat.log", Grant::Role(Role::Logistics)).await;
    let auditor = office.user("xu.audit", Grant::Role(Role::Auditor)).await;
    let archivist = office.user("gao.arch", Grant::Role(Role::Archivist)).await;
    let id = order.0.simple().to_string();

    // Every archive query: refused for logistics, recorded as refused, nothing else written.
    let queries: [(&dyn Query, Value, AccessKind); 4] = [
        (&History, serde_json::json!({ "order_id": id }), AccessKind::History),
        (&AuditHistory, serde_json::json!({ "order_id": id }), AccessKind::History),
        (&AuditExport, serde_json::json!({ "order_id": id, "file": "x.json" }), AccessKind::Export),
        (&AuditReplay, serde_json::json!({ "order_id": id, "version": 1 }), AccessKind::Replay),
    ];
    for (query, request, kind) in &queries {
        let head = office.app.log().head();
        let e = query.answer(&office.app, &pat, &body(request.clone())).await.expect_err("refused");
        let why = "nobody in logistics has worked on it yet".to_string();
        assert_refused(&office, order, head, &e, &pat, *kind, &why);
        // The same queries for the auditor: answered, and recorded.
        let head = office.app.log().head();
        query.answer(&office.app, &auditor, &body(request.clone())).await.expect("the auditor reads");
        assert_recorded(&office, order, head, &auditor, *kind);
    }

    // A paged history is recorded once: on its first page, not on the pages that continue it.
    let head = office.app.log().head();
    let first = History
        .answer(&office.app, &auditor, &body(serde_json::json!({ "order_id": id })))
        .await
        .expect("read");
    let detail = assert_recorded(&office, order, head, &auditor, AccessKind::History);
    assert_eq!(detail, "order history");
    let served = first["events"].as_array().expect("events").len() as u64;
    assert_eq!(
        served,
        office.app.log().stream_version(order.0).expect("version"),
        "the record is on the page"
    );
    let head = office.app.log().head();
    let next = body(serde_json::json!({ "order_id": id, "from_version": 3 }));
    History.answer(&office.app, &auditor, &next).await.expect("a later page");
    assert_eq!(office.app.log().head(), head, "a continuing page is not recorded again");

    // A read that starts on a later page is recorded (it continues no read of that user).
    History.answer(&office.app, &archivist, &next).await.expect("the archivist reads");
    let detail = assert_recorded(&office, order, head, &archivist, AccessKind::History);
    assert_eq!(detail, "order history from version 3");

    // A later page is checked too.
    let head = office.app.log().head();
    let e = History.answer(&office.app, &pat, &next).await.expect_err("refused");
    let why = "nobody in logistics has worked on it yet".to_string();
    assert_refused(&office, order, head, &e, &pat, AccessKind::History, &why);
}

/// The built binary on `data`, logged in as `login`.
pub(super) fn orderflow_as(data: &Path, login: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("ORDERFLOW_DATA_DIR")
        .env_remove("ORDERFLOW_TOKEN_FILE")
        .env_remove("ORDERFLOW_NATS_URL")
        .env("ORDERFLOW_USER", login)
        .env("ORDERFLOW_PASSWORD", PASSWORD)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the orderflow binary")
}

#[tokio::test]
async fn order_history_on_the_command_line_is_checked_and_recorded() {
    let office = Office::new().await;
    let order = approved_order(&office).await;
    office.user("pat.log", Grant::Role(Role::Logistics)).await;
    office.user("xu.audit", Grant::Role(Role::Auditor)).await;
    let data = office.data();
    let Office { dir, app, .. } = office;
    app.close().expect("close");
    drop(app);
    let id = order.0.simple().to_string();

    let refused = orderflow_as(&data, "pat.log", &["order", "history", &id]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: pat.log acting as logistics may not read the archive of order {}: nobody in logistics",
            order.short()
        )) && stderr.contains("the refused read is recorded"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty(), "nothing is printed");

    let allowed = orderflow_as(&data, "xu.audit", &["order", "history", &id, "--json"]);
    assert_eq!(allowed.status.code(), Some(0), "{}", String::from_utf8_lossy(&allowed.stderr));
    let lines: Vec<Value> = String::from_utf8_lossy(&allowed.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let types: Vec<&str> = lines.iter().map(|v| v["type"].as_str().unwrap_or("")).collect();
    assert_eq!(&types[types.len() - 2..], ["archive_access_refused", "archive_accessed"], "{types:?}");

    // Reopened with the library: the log holds exactly these two records after the approvals.
    let app = App::open(&data).expect("reopen");
    let events: Vec<Event> = app
        .log()
        .read_stream(order.0, 1)
        .expect("read")
        .iter()
        .map(|s| orderflow::app::decode_stored(s, order).expect("decode").0)
        .collect();
    assert_eq!(events.len(), 1 + 4 + 1 + 2, "received, four approvals, approved, the refusal, the read");
    let EventBody::ArchiveAccessed(a) = &events[events.len() - 1].body else { panic!("not a read") };
    assert_eq!(
        (a.access, a.detail.as_str(), events[events.len() - 1].actor.login.as_str()),
        (AccessKind::History, "order history", "xu.audit")
    );
    app.close().expect("close");
    drop(dir);
}

#[tokio::test]
async fn a_user_of_several_grants_reads_under_the_first_that_may_read_the_order() {
    let office = Office::new().await;
    let order = approved_order(&office).await;
    let both =
        office.user_holding("kim", vec![Grant::Role(Role::Logistics), Grant::Role(Role::Auditor)]).await;
    let chosen = reads::read_principal(&office.app, order, &both, None).expect("a principal");
    assert_eq!(chosen.grant(), Grant::Role(Role::Auditor), "logistics may not read it yet; auditor may");
    let asked = reads::read_principal(&office.app, order, &both, Some("logistics")).expect("asked for");
    assert_eq!(asked.grant(), Grant::Role(Role::Logistics), "a role asked for is the one used");
    // Neither may read: the refusal names the first of them.
    let neither =
        office.user_holding("lee", vec![Grant::Role(Role::Quality), Grant::Role(Role::Logistics)]).await;
    let first = reads::read_principal(&office.app, order, &neither, None).expect("a principal");
    assert_eq!(first.grant(), Grant::Role(Role::Logistics));
    let head = office.app.log().head();
    let e = read(&office, order, &first, AccessKind::History).await.expect_err("refused");
    let why = "nobody in logistics has worked on it yet".to_string();
    assert_refused(&office, order, head, &e, &first, AccessKind::History, &why);
}
