//! The `orderflow` binary end to end: every workflow command, the global options, idempotency,
//! back-dating, the rules a clerk can run into, usage errors and the demo.
//!
//! Each test runs the built binary on its own temporary data directory and checks the exit code
//! (0 done; 2 usage; 3 rejected by a rule or invalid input; 4 conflict; 1 anything else), stdout
//! and stderr. "Nothing written" is checked twice: the order's `history --json` is unchanged and
//! the log's head position (read with the engine after the binary exited) did not move.

mod backdating;
mod demo;
mod idempotency;
mod kpi_reviews;
mod late;
mod lifecycle;
mod options;
mod permissions;
mod procedure;
mod reads_permission;
mod regressions;
mod rejections;
mod revision;
mod screens;
mod settings;
mod signing;
mod upgrade;
mod usage;
mod users;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use orderflow_engine::{EventLog, LogConfig};
use orderflow_schemas::{Grant, Role};
use serde_json::Value;
use tempfile::TempDir;

/// A test date moved into the year after next: never in the past, and always within the
/// application's `date_days_ahead_max` (dates of commands may lie at most ~10 years ahead).
/// `date` is written as `2099-MM-DD`; only its month and day are kept.
fn future(date: &str) -> &'static str {
    use chrono::Datelike;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static MOVED: OnceLock<Mutex<HashMap<String, &'static str>>> = OnceLock::new();
    let year = chrono::Utc::now().year() + 2;
    let mut moved = MOVED.get_or_init(|| Mutex::new(HashMap::new())).lock().expect("lock");
    moved
        .entry(date.to_string())
        .or_insert_with(|| Box::leak(format!("{year}{}", &date[4..]).into_boxed_str()))
}

/// The requested delivery date of the standard order: far enough ahead never to be in the past.
fn due() -> &'static str {
    future("2099-01-31")
}

/// The built binary with the environment it reads removed, running in `cwd` (so that a run
/// without `--data-dir` can only ever write below `cwd`).
fn orderflow(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orderflow"));
    cmd.current_dir(cwd)
        .env_remove("ORDERFLOW_DATA_DIR")
        .env_remove("ORDERFLOW_ACTOR")
        .env_remove("ORDERFLOW_TOKEN_FILE")
        .env_remove("ORDERFLOW_LOG")
        .env("ORDERFLOW_USER", "sales.desk")
        .env("ORDERFLOW_PASSWORD", PASSWORD)
        .env("NO_COLOR", "1");
    cmd
}

/// The password of every user of the test directories.
pub(crate) const PASSWORD: &str = "test-password-1";
/// The admin of the test directories.
const ADMIN: &str = "admin";

/// The login of the test user holding `grant` alone: `sales.desk`, `production.head`, `admin`.
pub(crate) fn login_of(grant: Grant) -> String {
    match grant {
        Grant::Role(Role::Admin) => ADMIN.to_string(),
        Grant::Role(r) => format!("{r}.desk"),
        Grant::DeptHead(r) => format!("{r}.head"),
    }
}

/// A data directory set up once per test process, through the library: an admin, one user per
/// role and one head per operational role, all with [`PASSWORD`]. Each [`Desk`] copies it.
pub(crate) fn template() -> &'static Path {
    &template_and_head().1
}

/// The log's head of the template (its user directory's events). Never opens the template
/// again once made: a desk may be copying it.
pub(crate) fn template_head() -> u64 {
    template_and_head().2
}

fn template_and_head() -> &'static (TempDir, PathBuf, u64) {
    use std::sync::OnceLock;
    static TEMPLATE: OnceLock<(TempDir, PathBuf, u64)> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("make a temporary directory");
        let path = tmp.path().join("data");
        // On a thread of its own: the first caller may be inside an async test's runtime.
        let made = path.clone();
        let rt_head = std::thread::spawn(move || {
            let path = made;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let rt_head = rt.block_on(async {
                let app = orderflow::app::App::open(&path).expect("make the template data directory");
                let admin = app.auth().bootstrap(ADMIN, "Test Admin", PASSWORD).await.expect("bootstrap");
                let by = orderflow::auth::Auth::principal(&admin, Some("admin"), None).expect("admin");
                for grant in Grant::all().into_iter().filter(|g| *g != Grant::Role(Role::Admin)) {
                    let login = login_of(grant);
                    app.auth()
                        .add_user(&by, &login, &login, vec![grant], PASSWORD)
                        .await
                        .expect("add a user");
                }
                // Alice Wong holds three roles, for the rules of one person acting in several.
                let alice =
                    vec![Grant::Role(Role::Sales), Grant::Role(Role::Production), Grant::Role(Role::Finance)];
                app.auth().add_user(&by, "alice.wong", "Alice Wong", alice, PASSWORD).await.expect("add");
                // A second person in every role (`finance.desk2`), for the rules between people.
                for role in Role::OPERATIONAL {
                    let login = format!("{role}.desk2");
                    app.auth()
                        .add_user(&by, &login, &login, vec![Grant::Role(*role)], PASSWORD)
                        .await
                        .expect("add");
                }
                let head = app.log().head();
                app.close().expect("close the template");
                head
            });
            rt_head
        })
        .join()
        .expect("make the template");
        let head = rt_head;
        (tmp, path, head)
    })
}

/// Copies a directory tree.
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("make the copy");
    for entry in std::fs::read_dir(from).expect("read the template") {
        let entry = entry.expect("a template entry");
        let target = to.join(entry.file_name());
        // Every desk is its own instance, with its own signing key (made on first use).
        if entry.file_name() == "signing.key" || entry.file_name() == "signing.pub" {
            continue;
        }
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a template file");
        }
    }
}

/// The grant a command line runs under in the tests: `--role` when given, else the role the
/// command belongs to (`order approve --dept finance` → finance; `audit hold` → archivist; other
/// reads → auditor; `users` → admin). `--at` asks for the head of that role.
pub(crate) fn grant_for(args: &[&str]) -> Grant {
    let value = |flag: &str| args.iter().position(|a| *a == flag).and_then(|i| args.get(i + 1)).copied();
    let role = if let Some(grant) = value("--role").and_then(|r| r.parse::<Grant>().ok()) {
        return grant;
    } else {
        match (args.first().copied(), args.get(1).copied()) {
            (Some("order"), Some("approve" | "reject" | "approve-change" | "decline-change")) => {
                value("--dept").and_then(|d| d.parse::<Role>().ok()).unwrap_or(Role::Production)
            }
            (Some("order"), Some("schedule" | "complete")) => Role::Production,
            (Some("order"), Some("inspect")) => Role::Quality,
            (Some("order"), Some("ship" | "delay" | "deliver")) => Role::Logistics,
            (
                Some("order"),
                Some("complain" | "feedback" | "resolve" | "reopen" | "update-complaint" | "visit"),
            ) => Role::CustomerService,
            (Some("order"), Some("history")) => Role::Auditor,
            (Some("order"), _) => Role::Sales,
            (Some("audit"), Some("hold" | "release")) => Role::Archivist,
            (Some("users"), _) => Role::Admin,
            _ => Role::Auditor,
        }
    };
    if args.contains(&"--at") && role.has_head() {
        Grant::DeptHead(role)
    } else {
        Grant::Role(role)
    }
}

/// What one run of the binary did.
struct Out {
    /// The exit code; -1 when a signal ended the process.
    code: i32,
    stdout: String,
    stderr: String,
}

impl fmt::Debug for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit code {}\n--- stdout\n{}--- stderr\n{}---", self.code, self.stdout, self.stderr)
    }
}

/// Runs a prepared command to the end.
fn exec(mut cmd: Command) -> Out {
    let o = cmd.output().expect("run the orderflow binary");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
    }
}

/// `orderflow ARGS... --data-dir DATA`, in DATA's parent directory, logged in as the test user
/// of the command's role ([`grant_for`]).
fn run(data: &Path, args: &[&str]) -> Out {
    run_as(data, &login_of(grant_for(args)), args)
}

/// `orderflow ARGS... --data-dir DATA` logged in as `login` (with [`PASSWORD`]).
fn run_as(data: &Path, login: &str, args: &[&str]) -> Out {
    let mut cmd = orderflow(data.parent().expect("the data dir has a parent"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(data)
        .env("ORDERFLOW_USER", login)
        .env("ORDERFLOW_PASSWORD", PASSWORD);
    exec(cmd)
}

impl Out {
    /// Asserts success with nothing on stderr.
    #[track_caller]
    fn ok(self) -> Out {
        assert!(self.code == 0 && self.stderr.is_empty(), "expected success, got {self:?}");
        self
    }

    /// Asserts failure with `code`: nothing on stdout, one `error: ...` message on stderr that
    /// contains every one of `words`.
    #[track_caller]
    fn failed(self, code: i32, words: &[&str]) -> Out {
        assert_eq!(self.code, code, "wrong exit code: {self:?}");
        assert!(self.stdout.is_empty(), "a failure prints nothing on stdout: {self:?}");
        assert!(self.stderr.starts_with("error: "), "the message starts with 'error: ': {self:?}");
        for word in words {
            assert!(self.stderr.contains(word), "stderr does not mention {word:?}: {self:?}");
        }
        self
    }

    /// Stdout as one JSON object.
    #[track_caller]
    fn json(&self) -> Value {
        let v: Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {self:?}"));
        assert!(v.is_object(), "stdout is not a JSON object: {self:?}");
        v
    }

    /// Stdout as JSON lines, one object per line.
    #[track_caller]
    fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| {
                let v: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("line {line:?} is not JSON ({e}): {self:?}"));
                assert!(v.is_object(), "line {line:?} is not a JSON object");
                v
            })
            .collect()
    }
}

/// What the data directory holds, as far as "nothing written" is concerned.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    /// `order history ID --json`: exit code and stdout.
    history: Option<(i32, String)>,
    /// The log's head position.
    head: u64,
}

/// How far the standard order has come; each stage includes the ones before. Production is never
/// scheduled, so it ships from stock right after approval and confirmation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Received,
    Approved,
    Confirmed,
    Shipped,
    Delivered,
    Signed,
}

/// One temporary data directory (`<tempdir>/data`): a copy of the [`template`], made on the
/// first command (so that a usage error can be seen to create nothing).
struct Desk {
    tmp: TempDir,
    data: PathBuf,
    /// Whether the data directory starts as a copy of the template (else the test makes it).
    templated: bool,
    /// When set, every command runs as this login with this password (a directory the test
    /// made itself, such as the demo's).
    login: std::cell::RefCell<Option<(String, String)>>,
}

impl Desk {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("make a temporary directory");
        let data = tmp.path().join("data");
        Self { tmp, data, templated: true, login: std::cell::RefCell::new(None) }
    }

    /// A desk whose data directory the test makes itself (the demo, `users bootstrap`).
    fn empty() -> Self {
        Self { templated: false, ..Self::new() }
    }

    /// Makes the data directory (a copy of the template) if it is not there yet.
    fn ensure(&self) {
        if self.templated && !self.data.exists() {
            copy_tree(template(), &self.data);
        }
    }

    /// The log's head of a fresh copy of the template (the user directory's events).
    fn base(&self) -> u64 {
        template_head()
    }

    /// Runs `args` logged in as `login`.
    fn run_as(&self, login: &str, args: &[&str]) -> Out {
        self.ensure();
        run_as(&self.data, login, args)
    }

    /// The temporary directory the data directory lives in.
    fn root(&self) -> &Path {
        self.tmp.path()
    }

    fn run(&self, args: &[&str]) -> Out {
        self.ensure();
        if let Some((login, password)) = self.login.borrow().clone() {
            let mut cmd = orderflow(self.data.parent().expect("the data dir has a parent"));
            cmd.args(args)
                .arg("--data-dir")
                .arg(&self.data)
                .env("ORDERFLOW_USER", login)
                .env("ORDERFLOW_PASSWORD", password);
            return exec(cmd);
        }
        run(&self.data, args)
    }

    /// From now on, runs every command as `login`, whose password the demo printed in `out`.
    #[track_caller]
    fn log_in_from_demo(&self, out: &Out, login: &str) {
        let line = out
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(login))
            .unwrap_or_else(|| panic!("the demo printed no password for {login}: {out:?}"));
        let password = line.split_whitespace().last().expect("a password").to_string();
        *self.login.borrow_mut() = Some((login.to_string(), password));
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> Out {
        self.run(args).ok()
    }

    /// Receives the standard order (line 1: 10 cases of MILK-1L at 18.90; line 2: 4 trays of
    /// YOG-150 at 21.60), due on [`due()`] unless `extra` says otherwise, by "sales desk", plus
    /// `extra` options; returns its id.
    #[track_caller]
    fn receive(&self, extra: &[&str]) -> String {
        let mut args = vec![
            "order",
            "receive",
            "--customer",
            "Bright Dairy Retail",
            "--channel",
            "phone",
            "--line",
            "MILK-1L:10:18.90:case",
            "--line",
            "YOG-150:4:21.60:tray",
        ];
        if !extra.contains(&"--due") {
            args.extend(["--due", due()]);
        }
        args.extend_from_slice(extra);
        let out = self.ok(&args);
        let id = out.stdout.trim().to_string();
        uuid::Uuid::parse_str(&id).unwrap_or_else(|e| panic!("receive printed no order id ({e}): {out:?}"));
        id
    }

    /// [`Desk::receive`] as `login` (with `--role sales`).
    #[track_caller]
    fn receive_as(&self, login: &str) -> String {
        let args = [
            "order",
            "receive",
            "--customer",
            "Bright Dairy Retail",
            "--line",
            "MILK-1L:10:18.90:case",
            "--due",
            due(),
            "--role",
            "sales",
        ];
        let out = self.run_as(login, &args).ok();
        out.stdout.trim().to_string()
    }

    /// Every department approves the current revision, each by its own desk.
    #[track_caller]
    fn approve_all(&self, id: &str) {
        for dept in ["production", "procurement", "finance", "warehouse"] {
            self.ok(&["order", "approve", id, "--dept", dept]);
        }
    }

    /// Sales confirms the approved order with the customer: promised for the 28th (of the
    /// standard order's month), leaving on the 20th, by carrier, confirmed by phone.
    #[track_caller]
    fn confirm(&self, id: &str) -> Out {
        self.ok(&[
            "order",
            "confirm",
            id,
            "--promised",
            future("2099-01-28"),
            "--ship-date",
            future("2099-01-20"),
            "--delivery",
            "carrier",
            "--via",
            "phone",
        ])
    }

    /// A new standard order brought to `stage`.
    #[track_caller]
    fn order_at(&self, stage: Stage) -> String {
        let id = self.receive(&[]);
        if stage >= Stage::Approved {
            self.approve_all(&id);
        }
        if stage >= Stage::Confirmed {
            self.confirm(&id);
        }
        if stage >= Stage::Shipped {
            self.ok(&["order", "ship", &id, "--carrier", "ColdLine Logistics", "--tracking", "CL-4711"]);
        }
        if stage >= Stage::Delivered {
            self.ok(&["order", "deliver", &id]);
        }
        if stage >= Stage::Signed {
            self.ok(&["order", "sign", &id, "--by", "Mrs Chen"]);
        }
        id
    }

    /// The order's events in their JSON form (as `history --json` prints them), read from the
    /// log by the test itself: `order history` is an archive read, which is recorded (written).
    #[track_caller]
    fn history(&self, id: &str) -> Vec<Value> {
        self.ensure();
        let order: orderflow_schemas::OrderId = id.parse().expect("a whole order id");
        let log = EventLog::open(LogConfig::existing(&self.data)).expect("open the log");
        let events = log.read_stream(order.0, 1).expect("read the order");
        log.close().expect("close the log");
        drop(log);
        events
            .iter()
            .map(|stored| {
                let (event, env) = orderflow::app::decode_stored(stored, order).expect("decode");
                orderflow_schemas::event_to_json(&event, &env)
            })
            .collect()
    }

    /// The event types of the order, in order.
    #[track_caller]
    fn types(&self, id: &str) -> Vec<String> {
        self.history(id).iter().map(|e| e["type"].as_str().expect("a type").to_string()).collect()
    }

    /// The log's head position, read with the engine (0 when nothing was ever written).
    #[track_caller]
    fn head(&self) -> u64 {
        self.ensure();
        if !self.data.exists() {
            return 0;
        }
        let log = EventLog::open(LogConfig::new(&self.data)).expect("open the log");
        let head = log.head();
        log.close().expect("close the log");
        head
    }

    #[track_caller]
    fn snapshot(&self, order: Option<&str>) -> Snapshot {
        let history = order.map(|id| {
            let lines: Vec<String> = self.history(id).iter().map(|v| v.to_string()).collect();
            (0, lines.join("\n"))
        });
        Snapshot { history, head: self.head() }
    }

    /// Runs a command that must be refused: exit 3, the rule in clerk's words (every one of
    /// `words`, and the order's short id) on stderr, and nothing written.
    #[track_caller]
    fn refused(&self, id: &str, args: &[&str], words: &[&str]) -> Out {
        let before = self.snapshot(Some(id));
        let out = self.run(args).failed(3, words);
        assert!(out.stderr.contains(&id[..8]), "the message names the order {}: {out:?}", &id[..8]);
        assert_eq!(self.snapshot(Some(id)), before, "a refused command wrote something: {args:?}");
        out
    }

    /// Runs a command that must be refused before any order exists: exit 3, `words` on stderr,
    /// the log head unchanged.
    #[track_caller]
    fn refused_anywhere(&self, args: &[&str], words: &[&str]) -> Out {
        let before = self.head();
        let out = self.run(args).failed(3, words);
        assert_eq!(self.head(), before, "a refused command wrote something: {args:?}");
        out
    }

    /// Runs a command line clap must refuse: exit 2, `words` on stderr, and the data directory
    /// not even created.
    #[track_caller]
    fn usage(&self, args: &[&str], words: &[&str]) -> Out {
        let out = run(&self.data, args).failed(2, words);
        assert!(!self.data.exists(), "a usage error created the data directory: {args:?}");
        out
    }
}

/// `order <cmd> <id> <rest...>`.
fn order_args<'a>(cmd: &'a str, id: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["order", cmd, id];
    args.extend_from_slice(rest);
    args
}
