//! The user directory from the command line: bootstrap, add, grant, revoke, disable, list,
//! passwords and tokens; logging in and every way a login is refused (exit 3, nothing written).

use std::os::unix::fs::PermissionsExt as _;
use std::process::Stdio;

use super::{exec, orderflow, Desk, Out, Stage, PASSWORD};

/// Runs `args` on the desk's data directory with `stdin` as standard input, logged in as `login`
/// with `password` (none when `login` is empty).
fn with_stdin(desk: &Desk, login: &str, password: &str, args: &[&str], stdin: &str) -> Out {
    use std::io::Write as _;
    desk.ensure();
    let mut cmd = orderflow(desk.root());
    cmd.args(args)
        .arg("--data-dir")
        .arg(&desk.data)
        .env_remove("ORDERFLOW_USER")
        .env_remove("ORDERFLOW_PASSWORD");
    if !login.is_empty() {
        cmd.env("ORDERFLOW_USER", login).env("ORDERFLOW_PASSWORD", password);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run the orderflow binary");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    let o = child.wait_with_output().expect("wait for the binary");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8(o.stdout).expect("UTF-8"),
        stderr: String::from_utf8(o.stderr).expect("UTF-8"),
    }
}

#[test]
fn a_fresh_directory_is_set_up_by_bootstrap_and_nothing_is_done_without_a_login() {
    let desk = Desk::empty();
    // Before the bootstrap there is no directory to act on.
    desk.run(&["status"]).failed(1, &["no orderflow data directory", "users bootstrap"]);
    // A bad admin login or a short password is refused, and nothing is made.
    with_stdin(&desk, "", "", &["users", "bootstrap", "--admin", "wu admin"], "long-enough-1\n")
        .failed(3, &["'wu admin' is not a usable login", "' ' is not allowed"]);
    with_stdin(&desk, "", "", &["users", "bootstrap", "--admin", "wu.admin"], "short\n")
        .failed(3, &["at least 8"]);
    assert!(!desk.data.exists(), "a refused bootstrap made the data directory");

    let out = with_stdin(
        &desk,
        "",
        "",
        &["users", "bootstrap", "--admin", "wu.admin", "--name", "Wu Admin"],
        "wu-password-1\n",
    )
    .ok();
    assert!(out.stdout.contains("wu.admin (Wu Admin): admin"), "{out:?}");
    // Once is enough.
    with_stdin(&desk, "", "", &["users", "bootstrap", "--admin", "other"], "other-password-1\n")
        .failed(3, &["has users already"]);

    // Without a login nothing is done.
    let mut cmd = orderflow(desk.root());
    cmd.args(["status", "--data-dir"])
        .arg(&desk.data)
        .env_remove("ORDERFLOW_USER")
        .env_remove("ORDERFLOW_PASSWORD");
    exec(cmd).failed(3, &["who are you?", "--user LOGIN"]);
    with_stdin(&desk, "wu.admin", "wu-password-1", &["users", "list"], "").ok();
}

#[test]
fn an_admin_adds_users_who_then_act_under_their_own_name() {
    let desk = Desk::new();
    let out = with_stdin(
        &desk,
        "admin",
        PASSWORD,
        &[
            "users",
            "add",
            "li.na",
            "--name",
            "李娜 Li Na",
            "--role",
            "sales",
            "--role",
            "dept_head:customer_service",
            "--password-stdin",
        ],
        "li-na-password\n",
    )
    .ok();
    assert!(out.stdout.contains("added li.na (李娜 Li Na): sales, dept_head:customer_service"), "{out:?}");
    let id = with_stdin(
        &desk,
        "li.na",
        "li-na-password",
        &[
            "order",
            "receive",
            "--customer",
            "Metro Hotels",
            "--line",
            "CHE-MOZ:40:9.40:kg",
            "--due",
            super::due(),
            "--role",
            "sales",
        ],
        "",
    )
    .ok()
    .stdout
    .trim()
    .to_string();
    let history = desk.history(&id);
    assert_eq!(history[0]["actor"]["login"], "li.na");
    assert_eq!(history[0]["actor"]["role"], "sales");
    assert_eq!(history[0]["actor"]["head"], false);

    // The directory lists her; a second user under her login is refused.
    let list = desk.run_as("admin", &["users", "list"]).ok();
    assert!(list.stdout.contains("li.na") && list.stdout.contains("dept_head:customer_service"), "{list:?}");
    with_stdin(
        &desk,
        "admin",
        PASSWORD,
        &["users", "add", "LI.NA", "--name", "x", "--role", "sales", "--password-stdin"],
        "another-pw-1\n",
    )
    .failed(3, &["the login li.na is taken"]);
    // Only an admin adds users.
    with_stdin(
        &desk,
        "sales.desk",
        PASSWORD,
        &["users", "add", "eve", "--name", "Eve", "--role", "admin", "--password-stdin"],
        "eve-password-1\n",
    )
    .failed(3, &["sales.desk does not hold admin"]);
    assert!(!desk.run_as("admin", &["users", "list"]).ok().stdout.contains("eve"), "eve was added");
}

#[test]
fn a_wrong_password_a_disabled_user_and_an_unknown_login_are_refused_writing_nothing() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    let before = desk.snapshot(Some(&id));
    let approve = ["order", "approve", id.as_str(), "--dept", "finance"];
    with_stdin(&desk, "finance.desk", "not-the-password", &approve, "")
        .failed(3, &["login refused", "finance.desk"]);
    with_stdin(&desk, "nobody", PASSWORD, &approve, "").failed(3, &["login refused"]);
    assert_eq!(desk.snapshot(Some(&id)), before, "a refused login wrote something");

    desk.run_as("admin", &["users", "disable", "finance.desk", "--reason", "left the company"]).ok();
    let before = desk.snapshot(Some(&id));
    with_stdin(&desk, "finance.desk", PASSWORD, &approve, "")
        .failed(3, &["the user finance.desk is disabled"]);
    assert_eq!(desk.snapshot(Some(&id)), before, "a disabled user wrote something");
    // Enabled again, the same person works as before (and the failures were forgotten).
    desk.run_as("admin", &["users", "enable", "finance.desk"]).ok();
    with_stdin(&desk, "finance.desk", PASSWORD, &approve, "").ok();
}

#[test]
fn roles_granted_and_revoked_take_effect_and_are_recorded_in_the_log() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Received);
    // The warehouse clerk may not act for finance...
    desk.run_as("warehouse.desk", &["order", "approve", &id, "--dept", "finance", "--role", "finance"])
        .failed(3, &["warehouse.desk does not hold finance"]);
    // ...until an admin grants it (and then must say which role, holding two).
    desk.run_as("admin", &["users", "grant", "warehouse.desk", "finance"]).ok();
    desk.run_as("warehouse.desk", &["order", "approve", &id, "--dept", "finance", "--role", "finance"]).ok();
    desk.run_as("admin", &["users", "revoke", "warehouse.desk", "finance"]).ok();
    desk.run_as("admin", &["users", "revoke", "warehouse.desk", "finance"])
        .failed(3, &["warehouse.desk does not hold finance"]);
    // The last admin cannot be disabled or lose admin.
    desk.run_as("admin", &["users", "disable", "admin"]).failed(3, &["last active admin"]);
    desk.run_as("admin", &["users", "revoke", "admin", "admin"]).failed(3, &["last active admin"]);

    // Who gave whom which power, and when: events of the log, by the admin.
    let log =
        orderflow_engine::EventLog::open(orderflow_engine::LogConfig::existing(&desk.data)).expect("open");
    let events = log.read_stream(orderflow_schemas::DIRECTORY_STREAM, 1).expect("the directory's events");
    log.close().expect("close");
    drop(log);
    let decoded: Vec<orderflow_schemas::Event> = events
        .iter()
        .map(|s| orderflow_schemas::decode_event(s.event_type, s.schema_version, &s.payload).expect("decode"))
        .collect();
    let names: Vec<&str> = decoded.iter().map(|e| e.body.event_type().name).collect();
    assert_eq!(names.iter().filter(|n| **n == "role_granted").count(), 1, "{names:?}");
    assert_eq!(names.iter().filter(|n| **n == "role_revoked").count(), 1, "{names:?}");
    assert!(decoded
        .iter()
        .filter(|e| e.body.event_type().name.starts_with("role_"))
        .all(|e| e.actor.login == "admin"));
}

#[test]
fn passwords_and_tokens_never_enter_the_log_or_an_export() {
    let desk = Desk::new();
    let secret = "sesame-street-42";
    with_stdin(
        &desk,
        "admin",
        PASSWORD,
        &["users", "passwd", "sales.desk", "--password-stdin"],
        &format!("{secret}\n"),
    )
    .ok();
    // The old password no longer works, the new one does.
    with_stdin(&desk, "sales.desk", PASSWORD, &["status"], "").failed(3, &["login refused"]);
    let id = with_stdin(
        &desk,
        "sales.desk",
        secret,
        &[
            "order",
            "receive",
            "--customer",
            "Metro Hotels",
            "--line",
            "CHE-MOZ:40:9.40:kg",
            "--due",
            super::due(),
        ],
        "",
    )
    .ok()
    .stdout
    .trim()
    .to_string();
    // A token logs in too; its file is private.
    let token = desk.root().join("sales.token");
    desk.run_as("admin", &["users", "token", "sales.desk", "--out", token.to_str().expect("utf-8")]).ok();
    assert_eq!(std::fs::metadata(&token).expect("token file").permissions().mode() & 0o777, 0o600);
    let token_text = std::fs::read_to_string(&token).expect("read the token");
    let mut cmd = orderflow(desk.root());
    cmd.args(["order", "show", &id, "--data-dir"]).arg(&desk.data).arg("--token-file").arg(&token);
    cmd.env_remove("ORDERFLOW_USER").env_remove("ORDERFLOW_PASSWORD");
    exec(cmd).ok();
    let mut forged = orderflow(desk.root());
    let bad = desk.root().join("bad.token");
    std::fs::write(&bad, token_text.replace(&token_text[token_text.len() - 4..], "0000")).expect("write");
    forged.args(["status", "--data-dir"]).arg(&desk.data).arg("--token-file").arg(&bad);
    forged.env_remove("ORDERFLOW_USER").env_remove("ORDERFLOW_PASSWORD");
    exec(forged).failed(3, &["login refused"]);

    // Neither the password nor the token is in any event, nor in an export.
    let log =
        orderflow_engine::EventLog::open(orderflow_engine::LogConfig::existing(&desk.data)).expect("open");
    let all = log.read_from(1, 100_000).expect("read the log");
    log.close().expect("close");
    drop(log);
    for e in &all {
        for needle in [secret.as_bytes(), token_text.trim().as_bytes(), b"$argon2id$", b"$2b$"] {
            assert!(
                !e.payload.windows(needle.len()).any(|w| w == needle),
                "a secret in the event at {}",
                e.position
            );
        }
    }
    let export = desk.root().join("export.json");
    desk.ok(&["audit", "export", &id, "--out", export.to_str().expect("utf-8")]);
    let text = std::fs::read_to_string(&export).expect("read the export");
    assert!(!text.contains(secret) && !text.contains("$argon2") && !text.contains(token_text.trim()));
}

#[test]
fn back_dating_needs_the_late_entry_permission_and_a_reason() {
    let desk = Desk::new();
    let received = (chrono::Utc::now() - chrono::Duration::hours(5)).to_rfc3339();
    let id = desk.receive(&["--at", &received, "--late-reason", "phoned in before the system was up"]);
    let at = (chrono::Utc::now() - chrono::Duration::hours(3)).to_rfc3339();
    let before = desk.snapshot(Some(&id));
    // A clerk may not back-date...
    desk.run_as(
        "finance.desk",
        &["order", "approve", &id, "--dept", "finance", "--at", &at, "--late-reason", "paper"],
    )
    .failed(3, &["finance.desk may not back-date", "late_entry", "dept_head"]);
    // ...a head may, with a reason.
    desk.run_as("finance.head", &["order", "approve", &id, "--dept", "finance", "--at", &at])
        .failed(3, &["a late entry (--at) needs its reason"]);
    desk.run_as("finance.head", &["order", "approve", &id, "--dept", "finance", "--late-reason", "paper"])
        .failed(3, &["--late-reason goes with --at"]);
    assert_eq!(desk.snapshot(Some(&id)), before, "a refused back-dating wrote something");
    desk.run_as(
        "finance.head",
        &[
            "order",
            "approve",
            &id,
            "--dept",
            "finance",
            "--at",
            &at,
            "--late-reason",
            "paper form of the night shift",
        ],
    )
    .ok();
    let history = desk.history(&id);
    let last = history.last().expect("an event");
    assert_eq!(last["late"]["reason"], "paper form of the night shift");
    assert_eq!(last["actor"]["login"], "finance.head");
    assert_eq!(last["actor"]["head"], true);
    let text = desk.ok(&["order", "history", &id]).stdout;
    assert!(text.contains("LATE ENTRY") && text.contains("paper form of the night shift"), "{text}");
}

/// `users bootstrap --admin LOGIN` on the desk's data directory, the password on stdin.
pub(super) fn bootstrap(desk: &Desk, login: &str, password: &str) {
    with_stdin(desk, "", "", &["users", "bootstrap", "--admin", login], &format!("{password}\n")).ok();
}

/// Adds `login` holding `role` as the admin `admin`; returns its login and password.
pub(super) fn add(
    desk: &Desk,
    admin: &str,
    admin_password: &str,
    login: &str,
    role: &str,
) -> (String, String) {
    let password = format!("{login}-password");
    with_stdin(
        desk,
        admin,
        admin_password,
        &["users", "add", login, "--name", login, "--role", role, "--password-stdin"],
        &format!("{password}\n"),
    )
    .ok();
    (login.to_string(), password)
}

/// Runs `args` logged in as `who` (login, password).
pub(super) fn run_with(desk: &Desk, who: &(String, String), args: &[&str]) -> Out {
    with_stdin(desk, &who.0, &who.1, args, "")
}
