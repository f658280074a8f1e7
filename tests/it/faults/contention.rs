//! Conflicting commands racing on the same orders through `App::execute`: four departments
//! approving while a change opens a new revision, ship racing cancel and another change, and
//! the same command id sent from many tasks at once. Every command is applied, refused by a
//! rule or reported as a conflict, nothing else; every applied command's events are in the log
//! where it was told; a command id lands once; and replaying each order never shows it shipped
//! without every approval of its current revision, nor both shipped and cancelled.

use std::collections::HashMap;
use std::sync::Arc;

use orderflow::app::{App, AppError, Done, Request};
use orderflow_commands::{
    ApproveChange, CancelOrder, ChangeOrder, Command, ConfirmOrder, LineEdit, LineUpdate, ShipOrder, Status,
};
use orderflow_schemas::{ConfirmMethod, DeliveryMode, Department, Initiator, OrderId, Role, ShipMode};
use uuid::Uuid;

use super::{approve, audit, check_invariants, received, request};

const ORDERS: usize = 16;
/// Tasks sending one command id at once.
const SAME_ID_TASKS: usize = 8;
/// The departments that decide a change request of lines or date.
const CHANGE_DEPTS: [Role; 5] =
    [Role::Production, Role::Procurement, Role::Finance, Role::Warehouse, Role::Logistics];

/// One command sent by one task, and what came of it.
struct Sent {
    what: &'static str,
    order: OrderId,
    command_id: Uuid,
    result: Result<Done, AppError>,
}

fn change_quantity(quantity: u32) -> Command {
    Command::ChangeOrder(ChangeOrder {
        initiated_by: Initiator::Customer,
        impact: Vec::new(),
        reason: "customer asked".into(),
        lines: vec![LineEdit::Update(LineUpdate {
            line_no: 1,
            quantity: Some(quantity),
            spec: None,
            unit_price_minor: None,
        })],
        requested_date: None,
        delivery_address: None,
    })
}

fn confirm() -> Command {
    let today = orderflow::app::now().date();
    Command::ConfirmOrder(ConfirmOrder {
        promised_date: today.plus_days(20),
        expected_ship_date: today.plus_days(1),
        delivery_mode: DeliveryMode::Carrier,
        confirmed_via: ConfirmMethod::Phone,
        note: String::new(),
    })
}

fn approve_change(role: Role) -> Command {
    Command::ApproveChange(ApproveChange { department: role, request_id: None, note: String::new() })
}

fn ship(carrier: &str) -> Command {
    let eta = orderflow::app::now().date().plus_days(3);
    Command::ShipOrder(ShipOrder {
        carrier: carrier.into(),
        mode: ShipMode::Road,
        tracking_number: "T".into(),
        eta,
        unconfirmed_reason: None,
    })
}

/// Starts every request at once and collects the outcomes.
async fn race(app: &Arc<App>, requests: Vec<(&'static str, Request)>) -> Vec<Sent> {
    let start = Arc::new(tokio::sync::Barrier::new(requests.len()));
    let mut tasks = Vec::new();
    for (what, req) in requests {
        let (app, start) = (app.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            let (order, command_id) = (req.order_id.expect("an order"), req.command_id);
            start.wait().await;
            Sent { what, order, command_id, result: app.execute(req).await }
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

/// The requests of one round for every order.
fn round(
    orders: &[OrderId],
    per_order: impl Fn(OrderId) -> Vec<(&'static str, Request)>,
) -> Vec<(&'static str, Request)> {
    orders.iter().flat_map(|o| per_order(*o)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_commands_keep_every_rule_and_lose_nothing() {
    let data = tempfile::tempdir().unwrap();
    let app = Arc::new(App::open(&data.path().join("data")).unwrap());
    let mut orders = Vec::new();
    for i in 0..ORDERS {
        orders.push(received(&app, &format!("Customer {i}")).await);
    }
    let at = |o: OrderId, c: Command| request(Some(o), c);
    let mut sent: Vec<Sent> = Vec::new();

    // Round 1: the four departments approve (each twice, with different ids) while a change
    // opens revision 2 (at once before the first approval, as a change request after it), and
    // one confirmation is sent by many tasks under one command id (refused unless the order is
    // approved by then).
    sent.extend(
        race(
            &app,
            round(&orders, |o| {
                let mut r: Vec<(&'static str, Request)> = Vec::new();
                for d in Department::ALL {
                    r.push(("approve", at(o, approve(*d))));
                    r.push(("approve", at(o, approve(*d))));
                }
                r.push(("change", at(o, change_quantity(11))));
                let confirm = at(o, confirm());
                for _ in 0..SAME_ID_TASKS {
                    r.push(("confirm (one id)", confirm.clone()));
                }
                r
            }),
        )
        .await,
    );
    // Round 2: whatever revision each order is at now, every department approves it, and the
    // five deciding departments approve a change request if one is pending.
    sent.extend(
        race(
            &app,
            round(&orders, |o| {
                let mut r: Vec<(&'static str, Request)> =
                    Department::ALL.iter().map(|d| ("approve", at(o, approve(*d)))).collect();
                for role in CHANGE_DEPTS {
                    r.push(("approve-change", at(o, approve_change(role))));
                }
                r
            }),
        )
        .await,
    );
    // Round 2b: the approved orders are confirmed with the customer (many tasks, one id).
    sent.extend(
        race(
            &app,
            round(&orders, |o| {
                let confirm = at(o, confirm());
                (0..SAME_ID_TASKS).map(|_| ("confirm (one id)", confirm.clone())).collect()
            }),
        )
        .await,
    );
    // Round 3: ship races cancel, another change (a change request: shipping is refused while
    // it is pending) and fresh approvals; a cancellation is also sent by many tasks under one
    // command id.
    sent.extend(
        race(
            &app,
            round(&orders, |o| {
                let mut r: Vec<(&'static str, Request)> = vec![
                    ("ship", at(o, ship("DHL"))),
                    ("ship", at(o, ship("UPS"))),
                    (
                        "cancel",
                        at(
                            o,
                            Command::CancelOrder(CancelOrder {
                                initiated_by: Initiator::Customer,
                                reason: "changed mind".into(),
                            }),
                        ),
                    ),
                    ("change", at(o, change_quantity(12))),
                ];
                for d in Department::ALL {
                    r.push(("approve", at(o, approve(*d))));
                }
                let cancel = at(
                    o,
                    Command::CancelOrder(CancelOrder {
                        initiated_by: Initiator::Customer,
                        reason: "duplicate order".into(),
                    }),
                );
                for _ in 0..SAME_ID_TASKS {
                    r.push(("cancel (one id)", cancel.clone()));
                }
                r
            }),
        )
        .await,
    );

    // Every outcome is one of the three kinds.
    let mut tally: HashMap<(&str, &str), usize> = HashMap::new();
    for s in &sent {
        let kind = match &s.result {
            Ok(d) if d.duplicate => "duplicate of an applied one",
            Ok(_) => "applied",
            Err(AppError::Rejected(_)) => "refused by a rule",
            Err(AppError::Conflict(_)) => "conflict",
            Err(other) => {
                panic!("{} on order {}: neither applied, refused nor a conflict: {other}", s.what, s.order)
            }
        };
        *tally.entry((s.what, kind)).or_default() += 1;
    }

    // Nothing applied is lost: its events are in the log, where it was told, under its id.
    let events = audit(app.log());
    let by_position: HashMap<u64, &orderflow_engine::StoredEvent> =
        events.iter().map(|(s, _)| (s.position, s)).collect();
    for s in &sent {
        if let Ok(done) = &s.result {
            let e = by_position.get(&done.first_position).unwrap_or_else(|| panic!("{} lost", s.what));
            assert_eq!(
                (e.stream, e.command_id),
                (s.order.0, s.command_id),
                "{} at {}",
                s.what,
                done.first_position
            );
            assert!(done.version >= e.version);
        }
    }
    // A command id lands once however many tasks sent it.
    let mut records_per_id: HashMap<Uuid, std::collections::BTreeSet<u64>> = HashMap::new();
    for (stored, _) in &events {
        records_per_id.entry(stored.command_id).or_default().insert(stored.version);
    }
    for s in sent.iter().filter(|s| s.what.ends_with("(one id)")) {
        let versions = records_per_id.get(&s.command_id).cloned().unwrap_or_default();
        // A cancel and a confirm each produce exactly one event.
        assert!(versions.len() <= 1, "{} landed {} times", s.what, versions.len());
        if s.result.is_ok() {
            assert_eq!(versions.len(), 1, "{} reported applied but is not in the log", s.what);
        }
    }

    // Replay: the workflow's invariants hold on every prefix of every order.
    let states = check_invariants(&events);
    let shipped = states.iter().filter(|s| s.status() == Status::Shipped).count();
    let cancelled = states.iter().filter(|s| s.status() == Status::Cancelled).count();
    assert_eq!(states.len(), ORDERS);
    // Round 3 ends every order one way or the other, unless every cancel of it ran out of retries.
    for state in states.iter().filter(|s| !matches!(s.status(), Status::Shipped | Status::Cancelled)) {
        assert!(
            sent.iter().any(|s| s.order == state.order_id
                && s.what.starts_with("cancel")
                && matches!(s.result, Err(AppError::Conflict(_)))),
            "order {} is {} after ship raced cancel",
            state.order_id,
            state.status()
        );
    }
    for state in &states {
        let (_, loaded) = app.order(state.order_id).unwrap();
        assert_eq!(
            loaded.status(),
            state.status(),
            "the handler's cache and a replay disagree on {}",
            state.order_id
        );
    }

    let conflicts_retried = app.conflicts_total();
    let conflicts_reported =
        tally.iter().filter(|((_, k), _)| *k == "conflict").map(|(_, n)| n).sum::<usize>();
    let mut lines: Vec<String> = tally.iter().map(|((w, k), n)| format!("  {w}: {k} {n}")).collect();
    lines.sort();
    eprintln!(
        "contention: {} commands on {ORDERS} orders; {conflicts_retried} conflicts raced and retried, \
         {conflicts_reported} reported after retries; {shipped} shipped, {cancelled} cancelled\n{}",
        sent.len(),
        lines.join("\n")
    );
    assert!(conflicts_retried > 0, "nothing raced: the test exercised no conflict");
    app.close().unwrap();
}
