//! Randomised attempts at the permission rules, through the application's entry as the CLI
//! drives it (log in with a password → pick the grant the user asked for → run the command):
//! who, which password, which `--role`, which command, with or without `--at`. Each attempt is
//! refused exactly when the rules say (an oracle written here, independently of the code), and
//! a refused attempt writes nothing. A smaller sample runs the real binary with the same oracle.

use orderflow::app::{App, AppError, Request};
use orderflow::auth::Auth;
use orderflow_commands::*;
use orderflow_schemas::{Currency, Department, Grant, Initiator, Role, ShipMode};
use uuid::Uuid;

use orderflow::rng::Rng;

use super::{Desk, PASSWORD};

/// Attempts through the library entry.
const ATTEMPTS: u64 = 1_000;
/// Attempts through the binary (each a process with a password hash to check).
const BINARY_ATTEMPTS: u64 = 60;

/// The template's people and what they hold (see `template` in `cli.rs`).
fn people() -> Vec<(String, Vec<Grant>)> {
    let mut out = vec![("admin".to_string(), vec![Grant::Role(Role::Admin)])];
    // Nobody holds `system` (orderflow's own role: refused as a grant).
    for role in Role::ALL.iter().filter(|r| !matches!(r, Role::Admin | Role::System)) {
        out.push((format!("{role}.desk"), vec![Grant::Role(*role)]));
    }
    for role in Role::OPERATIONAL {
        out.push((format!("{role}.head"), vec![Grant::DeptHead(*role)]));
        out.push((format!("{role}.desk2"), vec![Grant::Role(*role)]));
    }
    out.push((
        "alice.wong".into(),
        vec![Grant::Role(Role::Sales), Grant::Role(Role::Production), Grant::Role(Role::Finance)],
    ));
    out
}

/// A command of each kind, with its name on the command line.
fn commands() -> Vec<(Command, Vec<String>)> {
    let today = orderflow::app::now().date();
    let mut out = Vec::new();
    for d in Department::ALL {
        out.push((
            Command::ApproveReview(ApproveReview { department: *d, revision: None, note: String::new() }),
            vec!["approve".into(), "--dept".into(), d.to_string()],
        ));
        out.push((
            Command::RejectReview(RejectReview { department: *d, revision: None, reason: "no".into() }),
            vec!["reject".into(), "--dept".into(), d.to_string(), "--reason".into(), "no".into()],
        ));
    }
    out.push((
        Command::CancelOrder(CancelOrder { initiated_by: Initiator::Customer, reason: "asked".into() }),
        vec!["cancel".into(), "--initiated-by".into(), "customer".into(), "--reason".into(), "asked".into()],
    ));
    out.push((Command::CloseOrder(CloseOrder { override_reason: None }), vec!["close".into()]));
    out.push((
        Command::ShipOrder(ShipOrder {
            carrier: "DHL".into(),
            mode: ShipMode::Road,
            tracking_number: "T1".into(),
            eta: today.plus_days(3),
            unconfirmed_reason: None,
        }),
        vec!["ship".into(), "--carrier".into(), "DHL".into(), "--tracking".into(), "T1".into()],
    ));
    out.push((Command::PlaceHold(PlaceHold { reason: "audit".into() }), vec![]));
    out
}

/// What the rules say of an attempt: refused before the domain (forbidden), refused by the
/// role table (not permitted), or up to the domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Forbidden,
    NotPermitted,
    Domain,
}

/// The oracle.
fn expect(
    holds: &[Grant],
    password_ok: bool,
    active: bool,
    role: Option<&str>,
    command: &Command,
    late: bool,
) -> Expect {
    if !password_ok || !active {
        return Expect::Forbidden;
    }
    let grant = match role {
        Some(word) => {
            let asked: Grant = word.parse().expect("the attempts ask for real grants");
            if holds.contains(&asked) {
                asked
            } else if let Grant::Role(r) = asked {
                if holds.contains(&Grant::DeptHead(r)) {
                    Grant::DeptHead(r)
                } else {
                    return Expect::Forbidden;
                }
            } else {
                return Expect::Forbidden;
            }
        }
        None if holds.len() == 1 => holds[0],
        None => {
            let fitting: Vec<&Grant> =
                holds.iter().filter(|g| allowed_roles(command).contains(&g.role())).collect();
            match fitting.as_slice() {
                [one] => **one,
                _ => return Expect::Forbidden,
            }
        }
    };
    if late && !(grant.is_head() || grant == Grant::Role(Role::Admin)) {
        return Expect::Forbidden;
    }
    if !allowed_roles(command).contains(&grant.role()) {
        return Expect::NotPermitted;
    }
    Expect::Domain
}

fn outcome(result: &Result<orderflow::app::Done, AppError>) -> Expect {
    match result {
        Err(AppError::Forbidden(_)) => Expect::Forbidden,
        Err(AppError::Rejected(Rejection::NotPermitted { .. })) => Expect::NotPermitted,
        _ => Expect::Domain,
    }
}

fn receive(today: orderflow_schemas::Date) -> Command {
    Command::ReceiveOrder(ReceiveOrder {
        channel: orderflow_schemas::Channel::Phone,
        customer: "Metro Hotels".into(),
        contact: "buyer@example.com".into(),
        lines: vec![NewLine {
            sku: "CHE-MOZ".into(),
            spec: String::new(),
            quantity: 4,
            unit: "kg".into(),
            unit_price_minor: 940,
        }],
        currency: Currency::parse("EUR").expect("EUR"),
        requested_date: today.plus_days(30),
        delivery_address: "Dock 4".into(),
        special_requirements: String::new(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_attempts_are_refused_exactly_when_the_rules_say_and_write_nothing() {
    let desk = Desk::new();
    desk.ensure();
    let app = App::open_existing(&desk.data).expect("open the desk's directory");
    let people = people();
    // One of the people is disabled.
    let admin = app.auth().login("admin", PASSWORD).await.expect("admin");
    let by = Auth::principal(&admin, Some("admin"), None).expect("admin principal");
    app.auth()
        .change(
            by.actor(),
            orderflow::auth::DirectoryCommand::Disable {
                login: "warehouse.desk2".into(),
                reason: "left".into(),
            },
        )
        .await
        .expect("disable");
    let sales = Auth::principal(&app.auth().login("sales.desk", PASSWORD).await.expect("sales"), None, None)
        .expect("p");
    let commands = commands();
    let grants: Vec<String> = Grant::all().iter().map(|g| g.to_string()).collect();
    let mut rng = Rng::new(0x0dd5_eed5_0000_0011);
    let today = orderflow::app::now().date();
    let mut tally = std::collections::BTreeMap::<String, u64>::new();
    for attempt in 0..ATTEMPTS {
        // A fresh order in review, received by sales.desk.
        let order = app
            .execute(Request {
                order_id: None,
                command_id: Uuid::new_v4(),
                principal: sales.clone(),
                at: None,
                late_reason: None,
                command: receive(today),
            })
            .await
            .expect("receive")
            .order_id;
        let (login, holds) = rng.pick(&people);
        let password_ok = rng.below(8) != 0;
        let active = login != "warehouse.desk2";
        let role = match rng.below(3) {
            0 => None,
            1 => Some(rng.pick(&holds).to_string()),
            _ => Some(rng.pick(&grants)),
        };
        let (command, _) = rng.pick(&commands);
        let late = rng.below(5) == 0;
        let expected = expect(&holds, password_ok, active, role.as_deref(), &command, late);

        let head = app.log().head();
        let password = if password_ok { PASSWORD.to_string() } else { format!("{PASSWORD}x") };
        let result = match app.auth().login(&login, &password).await {
            Err(e) => Err(e),
            Ok(user) => match Auth::principal(&user, role.as_deref(), Some(&command)) {
                Err(e) => Err(e),
                Ok(principal) => {
                    let at = late.then(|| orderflow::app::now().plus_hours(-1));
                    app.execute(Request {
                        order_id: Some(order),
                        command_id: Uuid::new_v4(),
                        principal,
                        at,
                        late_reason: late.then(|| "paper form".to_string()),
                        command: command.clone(),
                    })
                    .await
                }
            },
        };
        let got = outcome(&result);
        assert_eq!(
            got,
            expected,
            "attempt {attempt}: {login} (holds {holds:?}, password ok {password_ok}) --role {role:?} {} late {late}: {:?}",
            command.name(),
            result.as_ref().err().map(|e| e.to_string())
        );
        match &result {
            Err(_) => {
                assert_eq!(app.log().head(), head, "attempt {attempt}: a refused attempt wrote something")
            }
            Ok(done) => {
                for e in &done.events {
                    assert_eq!(e.actor.login, login, "attempt {attempt}: the actor is the one logged in");
                    assert_eq!(e.late.is_some(), late, "attempt {attempt}");
                }
            }
        }
        *tally.entry(format!("{got:?}")).or_default() += 1;
        if password_ok && active {
            continue;
        }
        // Forget the failed logins of this login, so that the bounded delay does not slow the
        // campaign (it is checked on its own).
        if active {
            app.auth().login(&login, PASSWORD).await.expect("the right password");
        }
    }
    app.close().expect("close");
    // Every kind of outcome happened often enough to mean something.
    for kind in ["Forbidden", "NotPermitted", "Domain"] {
        assert!(tally.get(kind).copied().unwrap_or(0) >= 50, "{kind}: {tally:?}");
    }
    eprintln!("permission attempts: {tally:?}");
}

#[test]
fn attempts_through_the_binary_follow_the_same_rules() {
    let desk = Desk::new();
    let people = people();
    let commands: Vec<(Command, Vec<String>)> =
        commands().into_iter().filter(|(_, a)| !a.is_empty()).collect();
    let grants: Vec<String> = Grant::all().iter().map(|g| g.to_string()).collect();
    let mut rng = Rng::new(0xb10a_5eed);
    let mut seen = std::collections::BTreeSet::new();
    for attempt in 0..BINARY_ATTEMPTS {
        let order = desk.receive(&[]);
        let (login, holds) = rng.pick(&people);
        let password_ok = rng.below(6) != 0;
        let role = match rng.below(3) {
            0 => None,
            1 => Some(rng.pick(&holds).to_string()),
            _ => Some(rng.pick(&grants)),
        };
        let (command, words) = rng.pick(&commands);
        let late = rng.below(5) == 0;
        let expected = expect(&holds, password_ok, true, role.as_deref(), &command, late);
        let at = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
        let mut args: Vec<String> = vec!["order".into(), words[0].clone(), order.clone()];
        args.extend(words[1..].iter().cloned());
        if let Some(r) = &role {
            args.extend(["--role".into(), r.clone()]);
        }
        if late {
            args.extend(["--at".into(), at, "--late-reason".into(), "paper form".into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let before = desk.snapshot(Some(&order));
        let mut cmd = super::orderflow(desk.root());
        let password = if password_ok { PASSWORD.to_string() } else { "wrong-password".to_string() };
        cmd.args(&args)
            .arg("--data-dir")
            .arg(&desk.data)
            .env("ORDERFLOW_USER", &login)
            .env("ORDERFLOW_PASSWORD", password);
        let out = super::exec(cmd);
        let got = if out.code == 3
            && (out.stderr.contains("login refused")
                || out.stderr.contains("does not hold")
                || out.stderr.contains("say which with --role")
                || out.stderr.contains("may not back-date"))
        {
            Expect::Forbidden
        } else if out.code == 3 && out.stderr.contains("may not issue") {
            Expect::NotPermitted
        } else {
            Expect::Domain
        };
        assert_eq!(got, expected, "attempt {attempt}: {login} {args:?}: {out:?}");
        if out.code != 0 {
            assert_eq!(
                desk.snapshot(Some(&order)),
                before,
                "attempt {attempt}: a refused attempt wrote something"
            );
        }
        seen.insert(format!("{got:?}"));
        if !password_ok {
            desk.run_as(&login, &["status"]).ok();
        }
    }
    assert_eq!(seen.len(), 3, "every kind of outcome: {seen:?}");
}
