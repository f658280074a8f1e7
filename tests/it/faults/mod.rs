//! Faults and hostile input (issue 7): damaged data directories, hostile command lines and JSON,
//! conflicting commands racing on the same orders, a full and a read-only disk, and a crash
//! campaign that SIGKILLs the built binary. Each test checks afterwards, with the library, that
//! nothing acknowledged was lost and that the log is intact.

mod contention;
mod corruption;
mod crash;
mod disk;
mod hostile;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use orderflow::app::{App, Request};
use orderflow::auth::Principal;
use orderflow_commands::{replay, ApproveReview, Command as Cmd, NewLine, OrderState, ReceiveOrder, Status};
use orderflow_engine::{EventLog, LogConfig, StoredEvent};
use orderflow_schemas::{decode_event, Channel, Currency, Department, Event, EventBody, Grant, OrderId};
use uuid::Uuid;

/// The built `orderflow` binary.
pub(crate) fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_orderflow"))
}

/// Runs the binary on `dir` with `args` and waits at most `timeout` (killed beyond it).
/// Starts the built binary on `dir` with piped output and none of the environment it reads.
///
/// Logged in as the test user of the command's role (`crate::cli::grant_for`); a data directory
/// that does not exist yet starts as a copy of the CLI tests' template (its users), except for
/// `demo`, which makes its own.
pub(crate) fn spawn_bin<I, S>(dir: &Path, args: I) -> std::process::Child
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    spawn_bin_as(dir, args, None)
}

/// [`spawn_bin`] logged in as `login` (login, password) when given.
pub(crate) fn spawn_bin_as<I, S>(dir: &Path, args: I, login: Option<(&str, &str)>) -> std::process::Child
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_os_string()).collect();
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    if !dir.exists() && words.first() != Some(&"demo") {
        crate::cli::copy_tree(crate::cli::template(), dir);
    }
    let default = crate::cli::login_of(crate::cli::grant_for(&words));
    let (login, password) = login.unwrap_or((&default, crate::cli::PASSWORD));
    Command::new(bin())
        .arg("--data-dir")
        .arg(dir)
        .args(&args)
        .env_remove("ORDERFLOW_DATA_DIR")
        .env_remove("ORDERFLOW_ACTOR")
        .env("ORDERFLOW_USER", login)
        .env("ORDERFLOW_PASSWORD", password)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the orderflow binary")
}

pub(crate) fn run_bin<I, S>(dir: &Path, args: I, timeout: Duration) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run_bin_as(dir, args, timeout, None)
}

/// [`run_bin`] logged in as `login` (login, password) when given.
pub(crate) fn run_bin_as<I, S>(dir: &Path, args: I, timeout: Duration, login: Option<(&str, &str)>) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut child = spawn_bin_as(dir, args, login);
    let started = Instant::now();
    while child.try_wait().expect("wait for orderflow").is_none() {
        if started.elapsed() > timeout {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect orderflow output");
            panic!(
                "orderflow did not finish within {timeout:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.wait_with_output().expect("collect orderflow output")
}

/// The head of a fresh copy of the template (the user directory's events).
pub(crate) fn template_head() -> u64 {
    crate::cli::template_head()
}

/// The password the demo printed (`--json`) for `login`.
pub(crate) fn demo_password(demo_stdout: &str, login: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(demo_stdout.lines().next().unwrap_or("{}")).expect("demo JSON");
    v["users"]
        .as_array()
        .and_then(|users| users.iter().find(|u| u["login"] == login))
        .and_then(|u| u["password"].as_str())
        .unwrap_or_else(|| panic!("the demo printed no password for {login}: {demo_stdout}"))
        .to_string()
}

/// The exit code, or a panic naming the signal that ended the process.
pub(crate) fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or_else(|| panic!("orderflow was killed by a signal: {}", out.status))
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A principal of the role a command belongs to (no directory: these tests drive the library).
pub(crate) fn principal_for(command: &Cmd) -> Principal {
    let role = command.default_role();
    Principal::unchecked(&format!("{role}.desk"), Grant::Role(role))
}

/// A request for `command` on `order` with a fresh command id.
pub(crate) fn request(order: Option<OrderId>, command: Cmd) -> Request {
    Request {
        order_id: order,
        command_id: Uuid::new_v4(),
        principal: principal_for(&command),
        at: None,
        late_reason: None,
        command,
    }
}

/// A valid `receive`, due in 30 days.
pub(crate) fn receive(customer: &str) -> Cmd {
    Cmd::ReceiveOrder(receive_order(customer))
}

/// The body of a valid `receive`, due in 30 days.
pub(crate) fn receive_order(customer: &str) -> ReceiveOrder {
    let today = orderflow::app::now().date();
    ReceiveOrder {
        channel: Channel::Phone,
        customer: customer.into(),
        contact: "buyer".into(),
        lines: vec![NewLine {
            sku: "MILK-1L".into(),
            spec: String::new(),
            quantity: 10,
            unit: "case".into(),
            unit_price_minor: 1_890,
        }],
        currency: Currency::parse("EUR").expect("currency"),
        requested_date: today.plus_days(30),
        delivery_address: "Dock 1".into(),
        special_requirements: String::new(),
    }
}

pub(crate) fn approve(department: Department) -> Cmd {
    Cmd::ApproveReview(ApproveReview { department, revision: None, note: String::new() })
}

/// Receives an order through the app; returns its id.
pub(crate) async fn received(app: &App, customer: &str) -> OrderId {
    app.execute(request(None, receive(customer))).await.expect("receive").order_id
}

/// Opens a data directory with the library (after the binary exited).
pub(crate) fn open_log(dir: &Path) -> EventLog {
    EventLog::open(LogConfig::new(dir)).expect("open the data directory with the library")
}

/// The log's head of a data directory, opened and closed with the library (0 when the directory
/// holds no log yet).
pub(crate) fn head_of(dir: &Path) -> u64 {
    if !dir.join("log").exists() {
        return 0;
    }
    let log = open_log(dir);
    let head = log.head();
    log.close().expect("close");
    head
}

/// Every event of every stream, decoded: panics on a gap, a decode error or a failed verify.
pub(crate) fn audit(log: &EventLog) -> Vec<(StoredEvent, Event)> {
    let report = log.verify(&mut |_| {}).unwrap_or_else(|f| panic!("verify failed: {f}"));
    assert_eq!(report.events, log.head(), "verify saw another head");
    let stored = log.read_from(1, usize::MAX).expect("read the whole log");
    assert_eq!(stored.len() as u64, log.head(), "the log has a gap");
    stored
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            assert_eq!(s.position, i as u64 + 1, "positions are not gap-free");
            let e = decode_event(s.event_type, s.schema_version, &s.payload)
                .unwrap_or_else(|err| panic!("event at position {} does not decode: {err}", s.position));
            (s, e)
        })
        .collect()
}

/// Replays every order of an audited log and checks the workflow's invariants on every prefix:
/// versions contiguous from 1; never shipped without every department's approval of the
/// revision current at the time, without confirmation (or a recorded override) or while a
/// change request is pending; never both cancelled and shipped. Returns the final states.
pub(crate) fn check_invariants(events: &[(StoredEvent, Event)]) -> Vec<OrderState> {
    let mut by_order: std::collections::BTreeMap<Uuid, Vec<&(StoredEvent, Event)>> = Default::default();
    for e in events {
        by_order.entry(e.0.stream).or_default().push(e);
    }
    let mut out = Vec::new();
    for (order, evs) in by_order {
        let mut state = OrderState::new(OrderId(order));
        let (mut shipped, mut cancelled) = (false, false);
        for (i, (stored, event)) in evs.iter().enumerate() {
            assert_eq!(stored.version, i as u64 + 1, "order {order}: versions are not contiguous");
            match &event.body {
                EventBody::OrderShipped(e) => {
                    assert!(
                        state.approvals_missing().is_empty(),
                        "order {order} shipped at position {} with approvals missing for revision {}: {:?}",
                        stored.position,
                        state.revision,
                        state.approvals_missing()
                    );
                    assert!(
                        state.is_confirmed() || e.unconfirmed_reason.is_some(),
                        "order {order} shipped at position {} without confirmation (or a recorded override)",
                        stored.position
                    );
                    assert!(
                        state.change_request.is_none(),
                        "order {order} shipped at position {} while a change request was pending",
                        stored.position
                    );
                    shipped = true;
                }
                EventBody::OrderCancelled(_) => cancelled = true,
                _ => {}
            }
            assert!(!(shipped && cancelled), "order {order} is both shipped and cancelled");
            orderflow_commands::evolve(&mut state, event);
        }
        let events: Vec<Event> = evs.iter().map(|(_, e)| e.clone()).collect();
        let replayed = replay(OrderId(order), &events);
        assert_eq!(replayed.status(), state.status(), "order {order}: replay differs");
        if shipped {
            assert_ne!(state.status(), Status::Cancelled);
        }
        out.push(state);
    }
    out
}

/// A tmpfs mounted over a fresh temporary directory; unmounted on drop.
pub(crate) struct Tmpfs {
    dir: tempfile::TempDir,
}

/// Runs mount; a busy mount point (a process that just exited, or sled's threads after a close,
/// may hold a file for a moment) is retried for up to 5 s.
fn mount(args: &[&str]) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let out = Command::new("mount").args(args).output().map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if !err.contains("busy") || started.elapsed() > Duration::from_secs(5) {
            return Err(format!("mount {args:?} failed: {err}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Tmpfs {
    /// Mounts a tmpfs of `kib` KiB. These tests need root (CI runs as root); without it they fail
    /// with this message rather than pass without testing anything.
    pub(crate) fn mount(kib: u64) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().to_str().expect("utf-8 temp path").to_string();
        mount(&["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs", &path])
            .unwrap_or_else(|e| panic!("{e}; the disk tests mount a small tmpfs and need root"));
        Self { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `mount -o remount,<options>`.
    pub(crate) fn remount(&self, options: &str) {
        let path = self.dir.path().to_str().expect("utf-8 temp path");
        mount(&["-o", &format!("remount,{options}"), path]).unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let path = self.dir.path().to_path_buf();
        // Lazy: a process that still has a file open there must not make the unmount fail.
        let _ = Command::new("umount").arg("-l").arg(&path).output();
    }
}
