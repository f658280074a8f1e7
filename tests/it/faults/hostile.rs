//! Hostile input where it enters. At the binary: generated command lines for `order receive` and
//! the other subcommands with malformed, overflowing, out-of-range, enormous, non-UTF-8 and
//! unknown values; each must exit 2 (usage) or 3 (refused) with a message naming the problem,
//! write nothing (the log's head, read with the library after the process exited, is unchanged),
//! and leave the directory working for the next valid command. In the library: a 10 MB string
//! in every string field of every command, each sent in the state where the command would
//! otherwise succeed, is refused by a named limit and never reaches the log. And `Command` JSON
//! from random bytes, mutated commands, huge numbers and 100 000-deep nesting parses or fails
//! cleanly, without a panic or a stack overflow.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::time::Duration;

use orderflow::app::{App, AppError};
use orderflow_commands::*;
use orderflow_schemas::{
    AccessKind, ComplaintCategory, ConfirmMethod, DeliveryMode, Department, ImpactNote, Initiator,
    InspectionResult, OrderId, Remedy, Role, Severity, ShipMode,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::{code, head_of, receive, request, run_bin, stderr, stdout};

const RUN_TIMEOUT: Duration = Duration::from_secs(30);
/// Linux refuses a single argument above 128 KiB (MAX_ARG_STRLEN): enormous values reach the
/// binary up to just below that; 10 MB values are tried through the library below.
const ARG_BYTES_MAX: usize = 120_000;

/// A command line and the words, one of which the error message must contain.
#[derive(Clone, Debug)]
struct Case {
    args: Vec<OsString>,
    names: Vec<&'static str>,
}

fn os(args: &[String]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn due() -> String {
    orderflow::app::now().date().plus_days(30).to_string()
}

/// `order receive` with one argument replaced (`key` = the option, `value` = its new value).
fn receive_with(overrides: &[(&str, OsString)]) -> Vec<OsString> {
    let mut pairs: Vec<(String, OsString)> = vec![
        ("--customer".into(), "Acme Dairy".into()),
        ("--line".into(), "MILK-1L:10:18.90".into()),
        ("--due".into(), due().into()),
    ];
    for (k, v) in overrides {
        match pairs.iter_mut().find(|(pk, _)| pk == k) {
            Some(p) => p.1 = v.clone(),
            None => pairs.push(((*k).to_string(), v.clone())),
        }
    }
    let mut args: Vec<OsString> = vec!["order".into(), "receive".into()];
    for (k, v) in pairs {
        args.push(k.into());
        args.push(v);
    }
    args
}

/// A string of more than `over` bytes (up to `ARG_BYTES_MAX`), built from `unit`.
fn long_text(over: usize) -> impl Strategy<Value = String> {
    (prop::sample::select(vec!["x", "é", "中", "\u{202e}", "\t", "🦀", " a"]), over + 1..ARG_BYTES_MAX)
        .prop_map(|(unit, bytes)| unit.repeat(bytes / unit.len() + 1))
}

fn garbage_word() -> impl Strategy<Value = String> {
    "[a-zA-Z_]{1,12}"
}

/// Hostile `order receive` command lines.
fn receive_case() -> impl Strategy<Value = Case> {
    let quantity = prop_oneof![
        prop::sample::select(vec![
            "-1",
            "0",
            "4294967296",
            "99999999999999999999",
            "1e3",
            "",
            "１",
            "1.5",
            "+-1"
        ])
        .prop_map(str::to_string),
        (10_000_001u64..u64::MAX).prop_map(|q| q.to_string()),
        garbage_word(),
    ]
    .prop_map(|q| Case {
        args: receive_with(&[("--line", format!("MILK-1L:{q}:18.90").into())]),
        names: vec!["quantity"],
    });
    let price = prop_oneof![
        prop::sample::select(vec![
            "-0.001",
            "1.234",
            "-5",
            "99999999999999999999",
            "92233720368547758.08",
            "1e5",
            "NaN",
            "inf",
            "0x10",
            "--1",
            ".",
            "",
            "1,50",
        ])
        .prop_map(str::to_string),
        (10_000_000_001i64..i64::MAX / 100).prop_map(|p| p.to_string()),
        (1i64..i64::MAX).prop_map(|p| format!("-{p}")),
        garbage_word(),
    ]
    .prop_map(|p| Case {
        args: receive_with(&[("--line", format!("MILK-1L:10:{p}").into())]),
        names: vec!["price"],
    });
    let due_date = prop_oneof![
        prop::sample::select(vec![
            "0000-01-01",
            "1999-12-31",
            "+99999-01-01",
            "99999-01-01",
            "2030-02-30",
            "2031-02-29",
            "2030-13-01",
            "2030-00-10",
            "2030-01-32",
            "",
            "tomorrow",
            "9999-12-31",
        ])
        .prop_map(str::to_string),
        garbage_word(),
    ]
    .prop_map(|d| Case {
        args: receive_with(&[("--due", d.into())]),
        names: vec!["--due", "date", "requested date"],
    });
    let at = prop_oneof![
        prop::sample::select(vec![
            "0000-01-01",
            "1900-01-01",
            "2000-02-29T25:00",
            "9999-12-31",
            "+99999-01-01T00:00:00Z",
            "2030-02-30",
            "1970-01-01T00:00:00Z",
        ])
        .prop_map(str::to_string),
        garbage_word(),
    ]
    .prop_map(|t| Case { args: receive_with(&[("--at", t.into())]), names: vec!["--at", "effective time"] });
    let long = prop_oneof![
        long_text(200).prop_map(|s| ("--customer", s, "customer")),
        long_text(200).prop_map(|s| ("--contact", s, "contact")),
        long_text(2_000).prop_map(|s| ("--address", s, "delivery address")),
        long_text(2_000).prop_map(|s| ("--requirements", s, "special requirements")),
        long_text(200).prop_map(|s| ("--actor", s, "actor")),
        long_text(200).prop_map(|s| ("--line", format!("{}:1:1.00", s.replace(':', ".")), "SKU")),
        // (The command line trims a unit and a spec; blank ones mean the defaults.)
        long_text(200).prop_map(|s| ("--line", format!("P1:1:1.00:{}", s.replace([':', '\t'], ".")), "unit")),
        long_text(2_000).prop_map(|s| ("--line", format!("P1:1:1.00:pcs:{}", s.replace('\t', ".")), "spec")),
        Just(("--customer", "   ".to_string(), "customer")),
        Just(("--actor", String::new(), "actor")),
    ]
    .prop_map(|(k, v, name)| Case { args: receive_with(&[(k, v.into())]), names: vec![name] });
    let many_lines = (201usize..3_000).prop_map(|n| {
        let mut args = receive_with(&[]);
        for i in 0..n {
            args.push("--line".into());
            args.push(format!("P{i}:1:1.00").into());
        }
        Case { args, names: vec!["number of lines"] }
    });
    let unknown = prop::sample::select(vec![
        vec!["--bogus"],
        vec!["--linez", "P:1:1"],
        vec!["-x"],
        vec!["--customer", "Again"],
        vec!["--channel", "pigeon"],
        vec!["--currency", "EURO"],
        vec!["--role", "god"],
        vec!["--command-id", "not-a-uuid"],
        vec!["--", "stray"],
    ])
    .prop_map(|extra| {
        let mut args = receive_with(&[]);
        args.extend(extra.iter().map(OsString::from));
        Case {
            args,
            names: vec!["unexpected argument", "cannot be used multiple times", "invalid value", "--"],
        }
    });
    let missing = prop::sample::select(vec!["--customer", "--line", "--due"]).prop_map(|drop| {
        let mut args = receive_with(&[]);
        let at = args.iter().position(|a| a == drop).unwrap_or(2);
        args.drain(at..at + 2);
        Case { args, names: vec!["required"] }
    });
    let not_utf8 = (
        prop::sample::select(vec!["--customer", "--line", "--due", "--actor", "--address"]),
        prop::collection::vec(0x80u8..=0xff, 1..16),
    )
        .prop_map(|(k, bytes)| {
            // 0xff never occurs in UTF-8, so the value is invalid whatever follows.
            let mut v = b"P1:".to_vec();
            v.push(0xff);
            v.extend(bytes);
            Case { args: receive_with(&[(k, OsString::from_vec(v))]), names: vec!["UTF-8"] }
        });
    prop_oneof![quantity, price, due_date, at, long, many_lines, unknown, missing, not_utf8]
}

/// Hostile command lines for the other subcommands, on `order` (in review).
fn other_case(order: String) -> impl Strategy<Value = Case> {
    let o = order.clone();
    let approve = prop_oneof![
        garbage_word().prop_map(|d| (vec!["--dept".to_string(), d], vec!["--dept"])),
        prop::sample::select(vec!["-1", "4294967296", "abc", "7", "0"]).prop_map(|r| (
            vec!["--dept".into(), "production".into(), "--revision".into(), r.into()],
            vec!["revision", "unexpected argument"]
        )),
        long_text(2_000)
            .prop_map(|n| (vec!["--dept".into(), "finance".into(), "--note".into(), n], vec!["note"])),
        long_text(200)
            .prop_map(|a| (vec!["--dept".into(), "finance".into(), "--actor".into(), a], vec!["actor"])),
        Just((
            vec!["--dept".into(), "finance".into(), "--role".into(), "production".into()],
            vec!["role", "may"]
        )),
        Just((
            vec!["--dept".into(), "finance".into(), "--late-reason".into(), "forgot".into()],
            vec!["--late-reason goes with --at"]
        )),
    ]
    .prop_map(move |(rest, names)| {
        let mut args = vec!["order".to_string(), "approve".into(), o.clone()];
        args.extend(rest);
        Case { args: os(&args), names }
    });
    let o = order.clone();
    let state_bound = prop::sample::select(vec![
        (vec!["ship", "--carrier", "DHL", "--tracking", "T1"], vec!["approv"]),
        (vec!["ship", "--carrier", "DHL", "--tracking", "T1", "--mode", "warp"], vec!["--mode"]),
        (
            vec!["ship", "--carrier", "DHL", "--tracking", "T1", "--eta", "+99999-01-01"],
            vec!["ETA", "approv"],
        ),
        (vec!["feedback", "--score", "256"], vec!["--score"]),
        (vec!["feedback", "--score", "-1"], vec!["--score", "unexpected argument"]),
        (vec!["feedback", "--score", "0"], vec!["score", "feedback"]),
        (vec!["complain", "--category", "bogus", "--text", "t"], vec!["--category"]),
        (vec!["complain", "--category", "quality", "--text", "t"], vec!["complaint"]),
        (
            vec![
                "resolve",
                "--complaint",
                "4294967296",
                "--resolution",
                "r",
                "--remedy",
                "refund",
                "--satisfied",
            ],
            vec!["--complaint"],
        ),
        (
            vec!["resolve", "--complaint", "5", "--resolution", "r", "--remedy", "refund", "--satisfied"],
            vec!["complaint 5"],
        ),
        (
            vec!["resolve", "--complaint", "5", "--resolution", "r", "--remedy", "prayer", "--satisfied"],
            vec!["--remedy"],
        ),
        (vec!["change", "--initiated-by", "customer", "--reason", "r", "--qty", "1:abc"], vec!["quantity"]),
        (vec!["change", "--initiated-by", "customer", "--reason", "r", "--qty", "1:0"], vec!["quantity"]),
        (
            vec!["change", "--initiated-by", "customer", "--reason", "r", "--qty", "70000:1"],
            vec!["line number"],
        ),
        (vec!["change", "--initiated-by", "customer", "--reason", "r", "--qty", "9:1"], vec!["line 9"]),
        (vec!["change", "--initiated-by", "customer", "--reason", "r", "--price", "1:-5"], vec!["price"]),
        (vec!["change", "--initiated-by", "customer", "--reason", "r", "--price", "1:1.234"], vec!["price"]),
        (
            vec!["change", "--initiated-by", "customer", "--reason", "r", "--remove-line", "70000"],
            vec!["--remove-line"],
        ),
        (vec!["change", "--initiated-by", "customer", "--reason", "r", "--remove-line", "1"], vec!["lines"]),
        (
            vec!["change", "--initiated-by", "customer", "--reason", "r", "--due", "+99999-01-01"],
            vec!["requested date"],
        ),
        (vec!["change", "--initiated-by", "customer", "--reason", "r"], vec!["no change", "nothing"]),
        (vec!["change", "--initiated-by", "customer", "--reason", "", "--qty", "1:5"], vec!["reason"]),
        (
            vec![
                "confirm",
                "--promised",
                "2030-02-30",
                "--ship-date",
                "2030-02-01",
                "--delivery",
                "carrier",
                "--via",
                "phone",
            ],
            vec!["--promised"],
        ),
        (
            vec![
                "confirm",
                "--promised",
                "2030-03-01",
                "--ship-date",
                "2030-02-01",
                "--delivery",
                "drone",
                "--via",
                "phone",
            ],
            vec!["--delivery"],
        ),
        // The order is not approved: confirmation waits for the approvals, whatever the date.
        (
            vec![
                "confirm",
                "--promised",
                "1999-01-01",
                "--ship-date",
                "1999-01-01",
                "--delivery",
                "carrier",
                "--via",
                "phone",
            ],
            vec!["confirmed", "approv"],
        ),
        (vec!["sign", "--by", "x", "--accept", "1:abc"], vec!["--accept"]),
        (vec!["delay", "--eta", "2030-01-01", "--reason", "r"], vec!["delay"]),
        (vec!["close"], vec!["closed"]),
        (vec!["cancel", "--initiated-by", "customer", "--reason", "  "], vec!["reason"]),
        (vec!["cancel", "--initiated-by", "nobody", "--reason", "r"], vec!["--initiated-by"]),
        (vec!["schedule", "--finish", "2030-01-01"], vec!["approv"]),
        (vec!["inspect", "--result", "melted"], vec!["--result"]),
        (vec!["deliver"], vec!["deliver"]),
    ])
    .prop_map(move |(rest, names)| {
        let mut args = vec!["order".to_string(), rest[0].to_string(), o.clone()];
        args.extend(rest[1..].iter().map(|s| s.to_string()));
        Case { args: os(&args), names }
    });
    let bad_order = prop_oneof![
        garbage_word().prop_map(|id| (id, vec!["order id"])),
        Just(("00000000-0000-0000-0000-000000000000".to_string(), vec!["does not exist"])),
        any::<u128>().prop_map(|n| (uuid::Uuid::from_u128(n).to_string(), vec!["does not exist"])),
    ]
    .prop_flat_map(|(id, names)| {
        prop::sample::select(vec!["show", "history", "approve", "cancel"]).prop_map(move |cmd| {
            let mut args = vec!["order".to_string(), cmd.to_string(), id.clone()];
            match cmd {
                "approve" => args.extend(["--dept".to_string(), "finance".into()]),
                "cancel" => args.extend([
                    "--initiated-by".to_string(),
                    "customer".into(),
                    "--reason".into(),
                    "r".into(),
                ]),
                _ => {}
            }
            Case { args: os(&args), names: names.clone() }
        })
    });
    let unknown_sub = prop::sample::select(vec![
        vec!["order", "teleport", "x"],
        vec!["orders"],
        vec!["order"],
        vec!["--json", "--json", "order", "show"],
        vec!["bench", "--orders", "-5"],
        vec!["demo", "--orders", "18446744073709551616"],
        vec!["bench", "--clients", "1,x"],
    ])
    .prop_map(|args| Case {
        args: args.into_iter().map(OsString::from).collect(),
        names: vec!["unrecognized subcommand", "unexpected argument", "invalid value", "required", "Usage"],
    });
    prop_oneof![3 => approve, 4 => state_bound, 2 => bad_order, 1 => unknown_sub]
}

/// Runs generated cases against `dir`: each exits 2 or 3 naming its problem, the log's head stays
/// at `head`. Returns how many cases ran.
fn run_cases(dir: &Path, head: u64, cases: u32, strategy: impl Strategy<Value = Case>) -> u32 {
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let ran = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |case| {
            ran.set(ran.get() + 1);
            let out = run_bin(dir, &case.args, RUN_TIMEOUT);
            let err = stderr(&out);
            let code = code(&out);
            let shown: Vec<String> = case
                .args
                .iter()
                .map(|a| a.to_string_lossy().chars().take(60).collect::<String>())
                .take(12)
                .collect();
            prop_assert!(
                code == 2 || code == 3,
                "{shown:?} ({} args): exit {code}, stdout {:?}, stderr {err}",
                case.args.len(),
                stdout(&out)
            );
            let lower = err.to_lowercase();
            prop_assert!(
                case.names.iter().any(|n| lower.contains(&n.to_lowercase())),
                "{shown:?}: the message names none of {:?}: {err}",
                case.names
            );
            prop_assert!(!err.contains("panicked"), "{shown:?}: {err}");
            prop_assert_eq!(head_of(dir), head, "{:?} wrote to the log", shown);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    ran.get()
}

#[test]
fn hostile_command_lines_exit_2_or_3_naming_the_problem_and_write_nothing() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    // One order in review for the other subcommands.
    let out = run_bin(&dir, receive_with(&[]), RUN_TIMEOUT);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let order = stdout(&out).trim().to_string();
    let head = head_of(&dir);
    assert_eq!(head, super::template_head() + 1);

    let ran =
        run_cases(&dir, head, 96, receive_case()) + run_cases(&dir, head, 96, other_case(order.clone()));

    // The directory still works: a valid command is applied, exactly once.
    let out = run_bin(&dir, ["order", "approve", &order, "--dept", "production"], RUN_TIMEOUT);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = run_bin(&dir, receive_with(&[]), RUN_TIMEOUT);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(head_of(&dir), head + 2);
    let log = super::open_log(&dir);
    super::check_invariants(&super::audit(&log));
    log.close().unwrap();
    eprintln!("hostile command lines: {ran} cases, each refused with nothing written");
}

// ---- the library: 10 MB strings in every field --------------------------------------------

const HUGE: usize = 10 * 1024 * 1024;

fn huge() -> String {
    "x".repeat(HUGE)
}

fn today_plus(days: i32) -> orderflow_schemas::Date {
    orderflow::app::now().date().plus_days(days)
}

fn line() -> NewLine {
    NewLine { sku: "P1".into(), spec: String::new(), quantity: 1, unit: "pcs".into(), unit_price_minor: 100 }
}

/// Sends each hostile command (one 10 MB field each) and checks it is refused by a named limit
/// without writing; then applies `valid`, which must succeed, so the state was one where the
/// hostile commands would otherwise have gone through.
async fn step(app: &App, order: OrderId, hostile: Vec<(&str, Command)>, valid: Option<Command>) -> usize {
    let head = app.log().head();
    let n = hostile.len();
    for (field, command) in hostile {
        let name = command.name();
        let err = app.execute(request(Some(order), command)).await.expect_err("a 10 MB field was accepted");
        let message = err.to_string();
        assert!(
            matches!(err, AppError::Rejected(Rejection::LimitExceeded { .. }) | AppError::Invalid(_)),
            "{name} with a 10 MB {field}: not refused by a domain limit but {} ({})",
            err.kind(),
            message.chars().take(200).collect::<String>()
        );
        assert!(message.contains(field), "{name}: {message} does not name {field}");
        assert!(message.len() < 1_000, "{name}: the message repeats the value");
        assert_eq!(app.log().head(), head, "{name} with a 10 MB {field} wrote to the log");
    }
    if let Some(valid) = valid {
        let name = valid.name();
        app.execute(request(Some(order), valid)).await.unwrap_or_else(|e| panic!("valid {name}: {e}"));
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_megabyte_strings_in_every_field_never_reach_the_log() {
    let data = tempfile::tempdir().unwrap();
    let app = App::open(&data.path().join("data")).unwrap();
    let h = huge;
    let base = || super::receive_order("Acme");
    let mut tried = 0;

    // receive: every field of the order and of a line; and the actor.
    let receive_variants: Vec<(&str, ReceiveOrder)> = vec![
        ("customer", ReceiveOrder { customer: h(), ..base() }),
        ("contact", ReceiveOrder { contact: h(), ..base() }),
        ("delivery address", ReceiveOrder { delivery_address: h(), ..base() }),
        ("special requirements", ReceiveOrder { special_requirements: h(), ..base() }),
        ("SKU", ReceiveOrder { lines: vec![NewLine { sku: h(), ..line() }], ..base() }),
        ("spec", ReceiveOrder { lines: vec![NewLine { spec: h(), ..line() }], ..base() }),
        ("unit", ReceiveOrder { lines: vec![NewLine { unit: h(), ..line() }], ..base() }),
    ];
    let head = app.log().head();
    for (field, r) in receive_variants {
        let err = app.execute(request(None, Command::ReceiveOrder(r))).await.expect_err("accepted");
        assert!(matches!(err, AppError::Rejected(Rejection::LimitExceeded { .. })), "receive {field}: {err}");
        assert!(err.to_string().contains(field), "{err}");
        assert_eq!(app.log().head(), head);
        tried += 1;
    }
    let mut late = request(None, receive("Acme"));
    late.principal = orderflow::auth::Principal::unchecked(
        "production.head",
        orderflow_schemas::Grant::DeptHead(orderflow_schemas::Role::Sales),
    );
    late.at = Some(orderflow::app::now());
    late.late_reason = Some(h());
    let err = app.execute(late).await.expect_err("a 10 MB late reason was accepted");
    assert!(matches!(err, AppError::Invalid(_)) && err.to_string().contains("reason"), "{err}");
    assert_eq!(app.log().head(), head);
    tried += 1;

    let order = super::received(&app, "Acme").await;
    let change = |c: ChangeOrder| Command::ChangeOrder(c);
    let reason = || "customer asked".to_string();
    tried += step(
        &app,
        order,
        vec![
            (
                "note",
                Command::ApproveReview(ApproveReview {
                    department: Department::Production,
                    revision: None,
                    note: h(),
                }),
            ),
            (
                "reason",
                Command::RejectReview(RejectReview {
                    department: Department::Finance,
                    revision: None,
                    reason: h(),
                }),
            ),
            ("reason", Command::CancelOrder(CancelOrder { initiated_by: Initiator::Customer, reason: h() })),
            (
                "reason",
                change(ChangeOrder {
                    initiated_by: Initiator::Customer,
                    impact: Vec::new(),
                    reason: h(),
                    lines: Vec::new(),
                    requested_date: Some(today_plus(40)),
                    delivery_address: None,
                }),
            ),
            (
                "delivery address",
                change(ChangeOrder {
                    initiated_by: Initiator::Customer,
                    impact: Vec::new(),
                    reason: reason(),
                    lines: Vec::new(),
                    requested_date: None,
                    delivery_address: Some(h()),
                }),
            ),
            (
                "spec",
                change(ChangeOrder {
                    initiated_by: Initiator::Customer,
                    impact: Vec::new(),
                    reason: reason(),
                    lines: vec![LineEdit::Update(LineUpdate {
                        line_no: 1,
                        quantity: None,
                        spec: Some(h()),
                        unit_price_minor: None,
                    })],
                    requested_date: None,
                    delivery_address: None,
                }),
            ),
            (
                "SKU",
                change(ChangeOrder {
                    initiated_by: Initiator::Customer,
                    impact: Vec::new(),
                    reason: reason(),
                    lines: vec![LineEdit::Add(NewLine { sku: h(), ..line() })],
                    requested_date: None,
                    delivery_address: None,
                }),
            ),
            (
                "unit",
                change(ChangeOrder {
                    initiated_by: Initiator::Customer,
                    impact: Vec::new(),
                    reason: reason(),
                    lines: vec![LineEdit::Add(NewLine { unit: h(), ..line() })],
                    requested_date: None,
                    delivery_address: None,
                }),
            ),
            ("reason", Command::PlaceHold(PlaceHold { reason: h() })),
            ("detail", Command::RecordAccess(RecordAccess { access: AccessKind::History, detail: h() })),
            (
                "reason",
                Command::RecordRefusedAccess(RecordRefusedAccess { access: AccessKind::Export, reason: h() }),
            ),
        ],
        None,
    )
    .await;
    for d in Department::ALL {
        app.execute(request(Some(order), super::approve(*d))).await.expect("approve");
    }
    // Confirmation needs the approved order (and comes before scheduling).
    let confirm = |note: String| {
        Command::ConfirmOrder(ConfirmOrder {
            promised_date: today_plus(20),
            expected_ship_date: today_plus(15),
            delivery_mode: DeliveryMode::Carrier,
            confirmed_via: ConfirmMethod::Phone,
            note,
        })
    };
    tried += step(&app, order, vec![("note", confirm(h()))], Some(confirm(String::new()))).await;
    tried += step(
        &app,
        order,
        vec![(
            "note",
            Command::ScheduleProduction(ScheduleProduction { planned_finish: today_plus(10), note: h() }),
        )],
        Some(Command::ScheduleProduction(ScheduleProduction {
            planned_finish: today_plus(10),
            note: String::new(),
        })),
    )
    .await;
    tried += step(
        &app,
        order,
        vec![
            ("note", Command::InspectQuality(InspectQuality { result: InspectionResult::Pass, note: h() })),
            ("note", Command::InspectQuality(InspectQuality { result: InspectionResult::Rework, note: h() })),
        ],
        Some(Command::InspectQuality(InspectQuality { result: InspectionResult::Pass, note: String::new() })),
    )
    .await;
    tried += step(
        &app,
        order,
        vec![("note", Command::CompleteProduction(CompleteProduction { note: h() }))],
        Some(Command::CompleteProduction(CompleteProduction { note: String::new() })),
    )
    .await;
    let ship = |carrier: String, tracking_number: String| {
        Command::ShipOrder(ShipOrder {
            carrier,
            mode: ShipMode::Road,
            tracking_number,
            eta: today_plus(3),
            unconfirmed_reason: None,
        })
    };
    tried += step(
        &app,
        order,
        vec![("carrier", ship(h(), "T1".into())), ("tracking number", ship("DHL".into(), h()))],
        Some(ship("DHL".into(), "T1".into())),
    )
    .await;
    tried += step(
        &app,
        order,
        vec![
            ("reason", Command::ReportDelay(ReportDelay { new_eta: today_plus(5), reason: h() })),
            ("note", Command::DeliverOrder(DeliverOrder { note: h() })),
        ],
        Some(Command::DeliverOrder(DeliverOrder { note: String::new() })),
    )
    .await;
    let sign =
        |signed_by: String, note: String| Command::SignOrder(SignOrder { signed_by, accepted: None, note });
    tried += step(
        &app,
        order,
        vec![
            ("signed by", sign(h(), String::new())),
            ("note", sign("receiver".into(), h())),
            ("refused by", Command::RefuseOrder(RefuseOrder { refused_by: h(), reason: reason() })),
            ("reason", Command::RefuseOrder(RefuseOrder { refused_by: "receiver".into(), reason: h() })),
        ],
        Some(sign("receiver".into(), String::new())),
    )
    .await;
    let complain = |text: String| {
        Command::OpenComplaint(OpenComplaint {
            category: ComplaintCategory::Quality,
            severity: Severity::Low,
            text,
            assignee: None,
        })
    };
    tried += step(
        &app,
        order,
        vec![
            ("complaint text", complain(h())),
            ("comment", Command::RecordFeedback(RecordFeedback { score: 4, comment: h() })),
        ],
        Some(complain("sour".into())),
    )
    .await;
    let resolve = |resolution: String| {
        Command::ResolveComplaint(ResolveComplaint {
            complaint_id: 1,
            resolution,
            remedy: Remedy::Replacement,
            customer_satisfied: true,
        })
    };
    tried += step(&app, order, vec![("resolution", resolve(h()))], Some(resolve("replaced".into()))).await;
    tried += step(
        &app,
        order,
        vec![("reason", Command::ReopenComplaint(ReopenComplaint { complaint_id: 1, reason: h() }))],
        Some(Command::PlaceHold(PlaceHold { reason: "dispute".into() })),
    )
    .await;
    tried += step(
        &app,
        order,
        vec![("note", Command::ReleaseHold(ReleaseHold { note: h() }))],
        Some(Command::CloseOrder(CloseOrder { override_reason: None })),
    )
    .await;
    let events = super::audit(app.log());
    super::check_invariants(&events);
    assert!(events.iter().all(|(s, _)| s.payload.len() < 4_096), "an oversized event reached the log");
    app.close().unwrap();
    eprintln!("10 MB fields: {tried} commands refused by a named limit, nothing written");
}

// ---- Command JSON --------------------------------------------------------------------------

fn parse(bytes: &[u8]) -> Result<Command, serde_json::Error> {
    serde_json::from_slice::<Command>(bytes)
}

/// One valid command of every kind, as JSON.
fn samples() -> Vec<Vec<u8>> {
    let today = today_plus(0);
    let commands = vec![
        receive("Acme"),
        super::approve(Department::Finance),
        Command::RejectReview(RejectReview {
            department: Department::Warehouse,
            revision: Some(2),
            reason: "no stock".into(),
        }),
        Command::ConfirmOrder(ConfirmOrder {
            promised_date: today,
            expected_ship_date: today,
            delivery_mode: DeliveryMode::OwnFleet,
            confirmed_via: ConfirmMethod::Email,
            note: "n".into(),
        }),
        Command::ChangeOrder(ChangeOrder {
            initiated_by: Initiator::Internal,
            impact: vec![ImpactNote { role: Role::Production, note: "line 2 is full".into() }],
            reason: "r".into(),
            lines: vec![
                LineEdit::Update(LineUpdate {
                    line_no: 1,
                    quantity: Some(5),
                    spec: None,
                    unit_price_minor: Some(9),
                }),
                LineEdit::Add(line()),
                LineEdit::Remove { line_no: 2 },
            ],
            requested_date: Some(today),
            delivery_address: Some("a".into()),
        }),
        Command::ShipOrder(ShipOrder {
            carrier: "c".into(),
            mode: ShipMode::Air,
            tracking_number: "t".into(),
            eta: today,
            unconfirmed_reason: Some("stock order".into()),
        }),
        Command::ApproveChange(ApproveChange {
            department: Role::Logistics,
            request_id: Some(1),
            note: "ok".into(),
        }),
        Command::DeclineChange(DeclineChange {
            department: Role::Finance,
            request_id: None,
            reason: "credit".into(),
        }),
        Command::WithdrawChange(WithdrawChange { reason: "customer changed mind".into() }),
        Command::SignOrder(SignOrder {
            signed_by: "s".into(),
            accepted: Some(vec![orderflow_schemas::LineQuantity { line_no: 1, quantity: 2 }]),
            note: String::new(),
        }),
        Command::ResolveComplaint(ResolveComplaint {
            complaint_id: 3,
            resolution: "r".into(),
            remedy: Remedy::Credit,
            customer_satisfied: false,
        }),
        Command::RecordFeedback(RecordFeedback { score: 5, comment: "c".into() }),
        Command::CloseOrder(CloseOrder { override_reason: None }),
    ];
    commands.iter().map(|c| serde_json::to_vec(c).unwrap()).collect()
}

/// Parsing runs on a thread with a 1 MiB stack: deep input must be refused by serde_json's
/// recursion limit, not by overflowing the stack (which would abort the whole test binary).
fn parse_on_small_stack(bytes: Vec<u8>) -> Result<Command, String> {
    std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || parse(&bytes).map_err(|e| e.to_string()))
        .unwrap()
        .join()
        .expect("parsing panicked")
}

#[test]
fn command_json_from_random_and_mutated_bytes_parses_or_fails_cleanly() {
    let samples = samples();
    for s in &samples {
        let c = parse(s).unwrap();
        assert_eq!(serde_json::to_vec(&c).unwrap(), *s, "samples round-trip");
    }
    let mut runner = TestRunner::new(Config { cases: 2_000, failure_persistence: None, ..Config::default() });
    let random = prop::collection::vec(any::<u8>(), 0..512);
    runner
        .run(&random, |bytes| {
            if let Ok(c) = parse(&bytes) {
                prop_assert_eq!(parse(&serde_json::to_vec(&c).unwrap()).unwrap(), c);
            }
            Ok(())
        })
        .unwrap();
    let n = samples.len();
    let mutated = (0..n, prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6));
    let accepted = std::cell::Cell::new(0u32);
    runner
        .run(&mutated, |(i, edits)| {
            let mut b = samples[i].clone();
            for (at, byte, how) in edits {
                if b.is_empty() {
                    break;
                }
                let at = at.index(b.len());
                match how {
                    0 => b[at] = byte,
                    1 => b.truncate(at),
                    2 => b.insert(at, byte),
                    _ => {
                        b.remove(at);
                    }
                }
            }
            if let Ok(c) = parse(&b) {
                accepted.set(accepted.get() + 1);
                // Whatever parses is a well-formed command that survives a round trip.
                prop_assert_eq!(parse(&serde_json::to_vec(&c).unwrap()).unwrap(), c);
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "command JSON: 2000 random and 2000 mutated bodies, {} mutated ones still valid",
        accepted.get()
    );
}

#[test]
fn command_json_nested_100k_deep_or_with_huge_numbers_is_an_error_not_a_crash() {
    let deep = |open: &str, prefix: &str| {
        let mut v = prefix.as_bytes().to_vec();
        for _ in 0..100_000 {
            v.extend_from_slice(open.as_bytes());
        }
        v
    };
    let cases = [
        deep("[", ""),
        deep("{\"a\":", ""),
        deep("[", "{\"command\":\"receive\",\"lines\":"),
        deep("{\"edit\":", "{\"command\":\"change\",\"reason\":\"r\",\"lines\":["),
        deep("[", "{\"command\":\"sign\",\"signed_by\":\"s\",\"accepted\":"),
    ];
    for c in cases {
        let err = parse_on_small_stack(c).expect_err("100 000-deep nesting parsed");
        assert!(err.contains("recursion limit") || err.contains("invalid type"), "{err}");
    }
    let receive = |field: &str, value: &str| {
        format!(
            r#"{{"command":"receive","channel":"phone","customer":"c","contact":"c","lines":[{{"sku":"s","quantity":{q},"unit":"u","unit_price_minor":{p}}}],"currency":"EUR","requested_date":"2030-01-01","delivery_address":"a"}}"#,
            q = if field == "quantity" { value } else { "1" },
            p = if field == "price" { value } else { "1" },
        )
    };
    for (field, value) in [
        ("quantity", "1e400"),
        ("quantity", "18446744073709551616"),
        ("quantity", "4294967296"),
        ("quantity", "-1"),
        ("quantity", "1.5"),
        ("quantity", "\"7\""),
        ("price", "9223372036854775808"),
        ("price", "-9223372036854775809"),
        ("price", "1e19"),
        ("price", "NaN"),
        ("price", "12.50"),
    ] {
        let err = parse(receive(field, value).as_bytes()).expect_err("an out-of-range number parsed");
        assert!(err.is_data() || err.is_syntax(), "{field}={value}: {err}");
    }
    assert!(parse(receive("quantity", "1").as_bytes()).is_ok(), "the template is valid");
    let bad = [
        r#"{"command":"close","extra":1}"#,
        r#"{"command":"teleport"}"#,
        r#"{"command":"cancel","reason":"a","reason":"b"}"#,
        r#"{"command":"cancel","reason":"\ud800"}"#,
        r#"{"command":"confirm","promised_date":"2030-02-30"}"#,
        r#"{"command":"confirm","promised_date":"+99999-01-01","extra":[]}"#,
        r#"{"command":"feedback","score":256}"#,
        r#"{"command":"approve","department":"finance","revision":-1}"#,
        r#"[]"#,
        r#"null"#,
        "",
    ];
    for b in bad {
        assert!(parse(b.as_bytes()).is_err(), "{b} parsed");
    }
    // Invalid UTF-8 inside a string.
    let mut b = br#"{"command":"cancel","reason":""#.to_vec();
    b.extend_from_slice(&[0xff, 0xfe]);
    b.extend_from_slice(br#""}"#);
    assert!(parse(&b).is_err());
    // A 10 MB string parses: the body size must be bounded before parsing (by the NATS service),
    // and the domain refuses the value (see the test above).
    let big = format!(r#"{{"command":"cancel","initiated_by":"customer","reason":"{}"}}"#, "x".repeat(HUGE));
    assert!(parse(big.as_bytes()).is_ok());
}
