//! `orderflow demo`: drives a few hundred seeded orders through realistic lives over the last six
//! simulated months, then prints a summary. The procedure of issue 12: approvals (some late:
//! recorded overdue and escalated as the deadline watcher of `serve` records them, by orderflow
//! itself), some rejections, confirmation with the customer before scheduling and shipping
//! (a few stock orders shipped unconfirmed by the head of logistics, with a reason), change
//! requests initiated by the customer or internally and decided by the departments (applied,
//! declined while the order goes on, or withdrawn), cancellations by either side, rework, delays,
//! partial sign-offs, refusals, complaints with an assignee and progress updates (some resolved
//! with the customer unsatisfied: reopened, or closed by a head with a reason), feedback,
//! follow-up visits (some unanswered), closing.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use orderflow_commands::*;
use orderflow_schemas::{
    Channel, ComplaintCategory, ConfirmMethod, Currency, DeliveryMode, Department, Grant, Initiator,
    InspectionResult, OrderId, Remedy, Role, Severity, ShipMode, Timestamp, VisitMethod,
};
use serde_json::json;

use crate::app::{App, AppError, Request};
use crate::auth::{Auth, Principal};
use crate::rng::Rng;

/// Options of `orderflow demo`.
#[derive(clap::Args, Debug, Clone)]
pub struct DemoArgs {
    /// How many orders.
    #[arg(long, default_value_t = 300)]
    pub orders: u64,
    /// The seed of the generator (runs with the same seed on an empty directory write the same data).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Orders driven at the same time.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Add the demo's made-up orders even though the data directory already holds events.
    /// They can never be removed again: use this only on a directory meant for trying things.
    #[arg(long)]
    pub force_new: bool,
}

const CUSTOMERS: &[&str] = &[
    "Bright Dairy Retail",
    "Northfield Foods",
    "Lotus Supermarkets",
    "Huaxin Bakery Group",
    "Alpine Coffee Co",
    "Metro Hotels",
    "GreenLeaf Catering",
    "Sunrise School District",
    "Harbor Distribution",
    "Jade Garden Restaurants",
    "Pioneer Ice Cream",
    "City Hospital Kitchens",
    "光明乳业",
    "上海华联超市",
];
const PRODUCTS: &[(&str, &str, &str, i64)] = &[
    ("MILK-1L", "UHT whole milk 1 l, 12 per case", "case", 1_890),
    ("MILK-5L", "fresh milk 5 l bag", "bag", 1_250),
    ("YOG-150", "plain yoghurt 150 g, 24 per tray", "tray", 2_160),
    ("CRM-35", "cream 35% 1 l", "l", 520),
    ("BUT-25", "butter block 25 kg", "block", 21_500),
    ("CHE-MOZ", "mozzarella 2.5 kg", "kg", 940),
    ("PWD-SKM", "skimmed milk powder 25 kg bag", "bag", 8_900),
    ("WHY-80", "whey protein 80% 20 kg", "bag", 15_600),
];
const CARRIERS: &[&str] = &["ColdLine Logistics", "SF Express", "DB Schenker", "Maersk Road"];

/// What the demo did.
#[derive(Default)]
struct Tally {
    commands: AtomicU64,
    refused_as_expected: AtomicU64,
    /// Overdue reviews recorded (as the watcher records them).
    escalations: AtomicU64,
    /// Change requests opened after approval, and how they ended.
    requests: AtomicU64,
    requests_applied: AtomicU64,
    requests_declined: AtomicU64,
    requests_withdrawn: AtomicU64,
    /// Changes and cancellations initiated by the customer / internally.
    customer_initiated: AtomicU64,
    internal_initiated: AtomicU64,
    /// Stock orders shipped unconfirmed by the head of logistics.
    shipped_unconfirmed: AtomicU64,
    /// Complaint progress updates.
    progress_updates: AtomicU64,
    /// Resolutions that left the customer unsatisfied.
    unsatisfied: AtomicU64,
    /// Orders closed by a head despite an unsatisfied customer.
    close_overrides: AtomicU64,
    /// Follow-up visits recorded, and those the customer did not answer.
    visits: AtomicU64,
    visits_unanswered: AtomicU64,
}

impl Tally {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The `k`-th item, cycling.
fn nth<T: Copy>(items: &[T], k: u64) -> T {
    items[usize::try_from(k % items.len() as u64).unwrap_or(0)]
}

/// The demo's people: logins and names per role (each person holds one role; an admin and two
/// department heads besides).
const PEOPLE: &[(Role, &[(&str, &str)])] = &[
    (Role::Sales, &[("li.na", "李娜 Li Na"), ("tom.becker", "Tom Becker"), ("wang.fang", "王芳 Wang Fang")]),
    (Role::Production, &[("zhao.lei", "赵磊 Zhao Lei"), ("anna.roth", "Anna Roth")]),
    (Role::Procurement, &[("chen.jie", "陈杰 Chen Jie"), ("mark.lee", "Mark Lee")]),
    (Role::Finance, &[("sun.mei", "孙梅 Sun Mei"), ("olga.stein", "Olga Stein")]),
    (Role::Warehouse, &[("liu.yang", "刘洋 Liu Yang"), ("pedro.alves", "Pedro Alves")]),
    (Role::Logistics, &[("gao.wei", "高伟 Gao Wei"), ("sara.kim", "Sara Kim")]),
    (Role::Quality, &[("huang.min", "黄敏 Huang Min"), ("ivo.novak", "Ivo Novak")]),
    (Role::CustomerService, &[("xu.ling", "徐玲 Xu Ling"), ("emma.brown", "Emma Brown")]),
    (Role::Auditor, &[("audit.office", "审计室 Audit Office")]),
    (Role::Archivist, &[("records.office", "档案室 Records Office")]),
];
/// The demo's department heads: (login, name, the role they head).
const HEADS: &[(&str, &str, Role)] = &[
    ("zhou.jun", "周军 Zhou Jun (head of production)", Role::Production),
    ("helen.park", "Helen Park (head of sales)", Role::Sales),
    ("he.ping", "何平 He Ping (head of logistics)", Role::Logistics),
];
/// The demo's admin.
const DEMO_ADMIN: &str = "admin";

/// The people acting in each role; `heads`: the head of a role, acting as head.
#[derive(Default)]
struct People {
    by_role: BTreeMap<Role, Vec<Principal>>,
    heads: BTreeMap<Role, Principal>,
}

/// The demo's users: created on a fresh directory (their logins and passwords returned, to be
/// printed), completed on the demo's own directory (a run killed half-way), or added by `admin`
/// (a logged-in admin) on a directory the demo did not make.
async fn demo_users(
    app: &App,
    rng: &mut Rng,
    admin: Option<&Principal>,
) -> Result<(People, Vec<(String, String, String)>), AppError> {
    let auth = app.auth();
    let mut created = Vec::new();
    let password = |rng: &mut Rng| format!("demo-{:012x}", rng.next_u64() & 0xffff_ffff_ffff);
    let by = if auth.directory()?.is_empty() {
        auth.secrets().mark_demo()?;
        let pw = password(rng);
        let admin = auth.bootstrap(DEMO_ADMIN, "系统管理员 Administrator", &pw).await?;
        created.push((admin.login.clone(), "admin".to_string(), pw));
        Auth::principal(&admin, Some("admin"), None)?
    } else if let Some(by) = admin {
        by.clone()
    } else if auth.secrets().is_demo()? {
        let dir = auth.directory()?;
        let admin = dir
            .by_login(DEMO_ADMIN)
            .ok_or_else(|| AppError::Failure("the demo's directory lost its admin".into()))?;
        Auth::principal(admin, Some("admin"), None)?
    } else {
        return Err(AppError::Forbidden(
            "this data directory has users of its own: the demo adds its people only for a logged-in \
             admin (--user LOGIN of an admin)"
                .into(),
        ));
    };
    let dir = auth.directory()?;
    let wanted = PEOPLE
        .iter()
        .flat_map(|(role, people)| {
            people.iter().map(move |(login, name)| (*login, *name, Grant::Role(*role)))
        })
        .chain(HEADS.iter().map(|(login, name, role)| (*login, *name, Grant::DeptHead(*role))));
    for (login, name, grant) in wanted {
        if dir.by_login(login).is_none() {
            let pw = password(rng);
            auth.add_user(&by, login, name, vec![grant], &pw).await?;
            created.push((login.to_string(), grant.to_string(), pw));
        }
    }
    let dir = auth.directory()?;
    let mut people = People::default();
    for (role, logins) in PEOPLE {
        for (login, _) in *logins {
            let user = dir
                .by_login(login)
                .ok_or_else(|| AppError::Failure(format!("the demo's user {login} is missing")))?;
            people.by_role.entry(*role).or_default().push(Auth::principal(user, Some(role.as_str()), None)?);
        }
    }
    for (login, _, role) in HEADS {
        let user = dir
            .by_login(login)
            .ok_or_else(|| AppError::Failure(format!("the demo's head {login} is missing")))?;
        let grant = Grant::DeptHead(*role).to_string();
        people.heads.insert(*role, Auth::principal(user, Some(&grant), None)?);
    }
    Ok((people, created))
}

struct Life<'a> {
    app: &'a App,
    people: &'a People,
    rng: Rng,
    order: Option<OrderId>,
    at: Timestamp,
    now: Timestamp,
    tally: &'a Tally,
}

impl Life<'_> {
    /// Moves the clock on by `lo..=hi` hours; false when that is past the real now (the order is
    /// still in flight today).
    fn wait_hours(&mut self, lo: u64, hi: u64) -> bool {
        let hours = self.rng.range(lo, hi);
        let next = self.at.plus_hours(i64::try_from(hours).unwrap_or(0));
        if next > self.now {
            return false;
        }
        self.at = next;
        true
    }

    async fn run(&mut self, role: Role, command: Command) -> Result<bool, AppError> {
        let who = self.rng.next_u64();
        let people = self.people.by_role.get(&role).map(Vec::as_slice).unwrap_or_default();
        let Some(principal) = people.get(usize::try_from(who % people.len().max(1) as u64).unwrap_or(0))
        else {
            return Err(AppError::Failure(format!("demo: nobody acts as {role}")));
        };
        let principal = principal.clone();
        self.run_as(principal, command).await
    }

    /// The head of `role` acting (an override).
    async fn must_as_head(&mut self, role: Role, command: Command) -> Result<(), AppError> {
        let name = command.name();
        let head = self
            .people
            .heads
            .get(&role)
            .cloned()
            .ok_or_else(|| AppError::Failure(format!("demo: no head of {role}")))?;
        if self.run_as(head, command).await? {
            Ok(())
        } else {
            let order = self.order.map(|o| o.short()).unwrap_or_default();
            Err(AppError::Failure(format!(
                "demo: '{name}' by the head of {role} on order {order} was refused"
            )))
        }
    }

    /// Records the reviews past their limit at the simulated now, as the deadline watcher of
    /// `serve` does: by orderflow itself, under the watcher's command id.
    async fn escalate_overdue(&mut self) -> Result<(), AppError> {
        let Some(order) = self.order else { return Ok(()) };
        let (_, state) = self.app.order(order)?;
        for (revision, request_id, department, _due) in state.overdue_reviews(self.at) {
            let req = Request {
                order_id: Some(order),
                command_id: crate::service::watcher::overdue_command_id(
                    order, revision, request_id, department,
                ),
                principal: Principal::system(),
                at: None,
                late_reason: None,
                command: Command::MarkOverdue(MarkOverdue { revision, request_id, department }),
            };
            self.tally.commands.fetch_add(1, Ordering::Relaxed);
            self.app.execute_with_clock(req, self.at).await?;
            Tally::add(&self.tally.escalations);
        }
        Ok(())
    }

    async fn run_as(&mut self, principal: Principal, command: Command) -> Result<bool, AppError> {
        let req = Request {
            order_id: self.order,
            command_id: self.rng.uuid(),
            principal,
            at: None,
            late_reason: None,
            command,
        };
        self.tally.commands.fetch_add(1, Ordering::Relaxed);
        // The demo lives through a simulated past: its clock is the simulated time, so nothing
        // it enters is a late entry.
        match self.app.execute_with_clock(req, self.at).await {
            Ok(done) => {
                self.order = Some(done.order_id);
                Ok(true)
            }
            Err(AppError::Rejected(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A command the rules must refuse (counted; an acceptance is a demo failure).
    async fn expect_refusal(&mut self, role: Role, command: Command) -> Result<(), AppError> {
        let name = command.name();
        if self.run(role, command).await? {
            return Err(AppError::Failure(format!(
                "demo: '{name}' was accepted but the rules should refuse it"
            )));
        }
        self.tally.refused_as_expected.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn must(&mut self, role: Role, command: Command) -> Result<(), AppError> {
        let name = command.name();
        if self.run(role, command).await? {
            Ok(())
        } else {
            let order = self.order.map(|o| o.short()).unwrap_or_default();
            Err(AppError::Failure(format!("demo: '{name}' on order {order} was refused unexpectedly")))
        }
    }

    async fn approvals(&mut self) -> Result<bool, AppError> {
        for dept in Department::ALL {
            // Most reviews within the 24 h limit, some late: recorded overdue and escalated to the
            // department's head before the late decision (never auto-approved).
            let (fastest, slowest) = if self.rng.chance(3) { (22, 36) } else { (1, 5) };
            if !self.wait_hours(fastest, slowest) {
                self.at = self.now;
                self.escalate_overdue().await?;
                return Ok(false);
            }
            self.escalate_overdue().await?;
            self.must(
                dept.role(),
                Command::ApproveReview(ApproveReview {
                    department: *dept,
                    revision: None,
                    note: String::new(),
                }),
            )
            .await?;
        }
        Ok(true)
    }

    /// Who initiates a change or a cancellation: mostly the customer (counted).
    fn initiator(&mut self) -> Initiator {
        if self.rng.chance(60) {
            Tally::add(&self.tally.customer_initiated);
            Initiator::Customer
        } else {
            Tally::add(&self.tally.internal_initiated);
            Initiator::Internal
        }
    }

    /// A change request on the approved order, decided by its departments (reviews past their
    /// limit escalated first): applied, declined by one department (the order goes on, as it
    /// was), or withdrawn by sales. False when the simulated time ran out.
    async fn change_request(&mut self) -> Result<bool, AppError> {
        let initiated_by = self.initiator();
        let address_only = self.rng.chance(25);
        let (reason, lines, delivery_address, impact) = if address_only {
            let reason = match initiated_by {
                Initiator::Customer => "customer moved the goods-in dock",
                Initiator::Internal => "the warehouse at Dock 1 is being rebuilt",
            };
            (reason, Vec::new(), Some("Dock 12, Industrial Park 2".to_string()), Vec::new())
        } else {
            let reason = match initiated_by {
                Initiator::Customer => "customer asked for more",
                Initiator::Internal => "pallet quantity rounded up by planning",
            };
            let edit = LineEdit::Update(LineUpdate {
                line_no: 1,
                quantity: Some(u32::try_from(self.rng.range(401, 600)).unwrap_or(450)),
                spec: None,
                unit_price_minor: None,
            });
            let impact = vec![orderflow_schemas::ImpactNote {
                role: Role::Production,
                note: "one more shift on line 2".into(),
            }];
            (reason, vec![edit], None, impact)
        };
        self.must(
            Role::Sales,
            Command::ChangeOrder(ChangeOrder {
                initiated_by,
                reason: reason.into(),
                impact,
                lines,
                requested_date: None,
                delivery_address,
            }),
        )
        .await?;
        Tally::add(&self.tally.requests);
        let reviewers: Vec<Role> = if address_only {
            vec![Role::Logistics]
        } else {
            vec![Role::Production, Role::Procurement, Role::Finance, Role::Warehouse, Role::Logistics]
        };
        let roll = self.rng.range(0, 99);
        let withdraw_after =
            if roll < 15 { Some(self.rng.range(0, reviewers.len() as u64 - 1)) } else { None };
        let decline_at =
            if (15..40).contains(&roll) { Some(self.rng.range(0, reviewers.len() as u64 - 1)) } else { None };
        for (i, role) in reviewers.iter().enumerate() {
            let i = i as u64;
            let (fastest, slowest) = if self.rng.chance(5) { (22, 36) } else { (1, 5) };
            if !self.wait_hours(fastest, slowest) {
                self.at = self.now;
                self.escalate_overdue().await?;
                return Ok(false);
            }
            self.escalate_overdue().await?;
            if withdraw_after == Some(i) {
                self.must(
                    Role::Sales,
                    Command::WithdrawChange(WithdrawChange {
                        reason: "the customer keeps the order as it was".into(),
                    }),
                )
                .await?;
                Tally::add(&self.tally.requests_withdrawn);
                return Ok(true);
            }
            if decline_at == Some(i) {
                let reason = match role {
                    Role::Production => "no capacity for the extra quantity this month",
                    Role::Finance => "the customer's credit limit does not cover it",
                    Role::Logistics => "no slot at that dock before the delivery date",
                    _ => "materials cannot be had in time",
                };
                self.must(
                    *role,
                    Command::DeclineChange(DeclineChange {
                        department: *role,
                        request_id: None,
                        reason: reason.into(),
                    }),
                )
                .await?;
                Tally::add(&self.tally.requests_declined);
                return Ok(true);
            }
            self.must(
                *role,
                Command::ApproveChange(ApproveChange {
                    department: *role,
                    request_id: None,
                    note: String::new(),
                }),
            )
            .await?;
        }
        Tally::add(&self.tally.requests_applied);
        Ok(true)
    }

    async fn live(&mut self, k: u64) -> Result<(), AppError> {
        let r = &mut self.rng;
        let n_lines = r.range(1, 3);
        let mut lines = Vec::new();
        for i in 0..n_lines {
            let (sku, spec, unit, price) = nth(PRODUCTS, k * 3 + i * 5 + r.range(0, 7));
            lines.push(NewLine {
                sku: sku.into(),
                spec: spec.into(),
                quantity: u32::try_from(r.range(5, 400)).unwrap_or(5),
                unit: unit.into(),
                unit_price_minor: price,
            });
        }
        let channel = [Channel::Phone, Channel::Email, Channel::Online, Channel::SalesRep][(k % 4) as usize];
        let requested = self.at.date().plus_days(i32::try_from(self.rng.range(10, 35)).unwrap_or(14));
        let receive = ReceiveOrder {
            channel,
            customer: nth(CUSTOMERS, k).into(),
            contact: format!("buyer{}@example.com", k % 7),
            lines,
            currency: Currency::parse(if k.is_multiple_of(5) { "CNY" } else { "EUR" })
                .map_err(AppError::Invalid)?,
            requested_date: requested,
            delivery_address: format!("Dock {}, Industrial Park {}", k % 9 + 1, k % 4 + 1),
            special_requirements: if self.rng.chance(30) { "keep at 2-6 °C".into() } else { String::new() },
        };
        self.must(Role::Sales, Command::ReceiveOrder(receive)).await?;

        // Shipping before approval is refused: show it now and then.
        if self.rng.chance(5) {
            let eta = self.at.date().plus_days(3);
            let ship = ShipOrder {
                carrier: CARRIERS[0].into(),
                mode: ShipMode::Road,
                tracking_number: "X".into(),
                eta,
                unconfirmed_reason: None,
            };
            self.expect_refusal(Role::Logistics, Command::ShipOrder(ship)).await?;
        }
        if self.rng.chance(7) {
            if !self.wait_hours(2, 20) {
                return Ok(());
            }
            let dept = Department::ALL[(self.rng.next_u64() % 4) as usize];
            let reject = RejectReview {
                department: dept,
                revision: None,
                reason: "insufficient capacity / credit".into(),
            };
            self.must(dept.role(), Command::RejectReview(reject)).await?;
            if self.wait_hours(24, 72) {
                self.must(Role::Sales, Command::CloseOrder(CloseOrder { override_reason: None })).await?;
            }
            return Ok(());
        }
        if !self.approvals().await? {
            return Ok(());
        }
        if !self.wait_hours(1, 8) {
            return Ok(());
        }
        let promised = requested.plus_days(i32::try_from(self.rng.range(0, 3)).unwrap_or(0));
        // Every order is confirmed with the customer before it is scheduled or shipped, except a
        // few stock orders the head of logistics ships unconfirmed, with a reason.
        let unconfirmed_stock = self.rng.chance(4);
        if !unconfirmed_stock {
            let promised_date = promised.max(self.at.date());
            let lead = i32::try_from(self.rng.range(1, 4)).unwrap_or(2);
            let expected_ship_date = promised_date.plus_days(-lead).max(self.at.date());
            let delivery_mode = [DeliveryMode::Carrier, DeliveryMode::OwnFleet, DeliveryMode::Pickup]
                [(self.rng.next_u64() % 3) as usize];
            let confirmed_via = [ConfirmMethod::Phone, ConfirmMethod::Email, ConfirmMethod::System]
                [(self.rng.next_u64() % 3) as usize];
            self.must(
                Role::Sales,
                Command::ConfirmOrder(ConfirmOrder {
                    promised_date,
                    expected_ship_date,
                    delivery_mode,
                    confirmed_via,
                    note: "read back to the customer".into(),
                }),
            )
            .await?;
            // Scheduling before confirmation is refused: the confirmation above came first.
        } else if self.rng.chance(50) {
            let finish = self.at.date().plus_days(3);
            self.expect_refusal(
                Role::Production,
                Command::ScheduleProduction(ScheduleProduction {
                    planned_finish: finish,
                    note: String::new(),
                }),
            )
            .await?;
        }
        if !unconfirmed_stock && self.rng.chance(14) {
            if !self.wait_hours(4, 48) {
                return Ok(());
            }
            if !self.change_request().await? {
                return Ok(());
            }
        }
        if self.rng.chance(4) {
            if self.wait_hours(2, 48) {
                let initiated_by = self.initiator();
                let reason = match initiated_by {
                    Initiator::Customer => "customer cancelled",
                    Initiator::Internal => "cannot be supplied: line 3 out of service",
                };
                self.must(
                    Role::Sales,
                    Command::CancelOrder(CancelOrder { initiated_by, reason: reason.into() }),
                )
                .await?;
                if self.wait_hours(24, 48) {
                    self.must(Role::Sales, Command::CloseOrder(CloseOrder { override_reason: None })).await?;
                }
            }
            return Ok(());
        }
        if !unconfirmed_stock && self.rng.chance(75) {
            if !self.wait_hours(2, 24) {
                return Ok(());
            }
            let finish = self.at.date().plus_days(i32::try_from(self.rng.range(2, 10)).unwrap_or(3));
            self.must(
                Role::Production,
                Command::ScheduleProduction(ScheduleProduction {
                    planned_finish: finish,
                    note: "line 2, day shift".into(),
                }),
            )
            .await?;
            loop {
                if !self.wait_hours(24, 96) {
                    return Ok(());
                }
                let roll = self.rng.range(0, 99);
                let result = if roll < 85 {
                    InspectionResult::Pass
                } else if roll < 95 {
                    InspectionResult::Rework
                } else {
                    InspectionResult::Scrap
                };
                let note = if result == InspectionResult::Pass {
                    String::new()
                } else {
                    "fat content out of range".into()
                };
                self.must(Role::Quality, Command::InspectQuality(InspectQuality { result, note })).await?;
                if result == InspectionResult::Pass {
                    break;
                }
            }
            if !self.wait_hours(1, 12) {
                return Ok(());
            }
            self.must(
                Role::Production,
                Command::CompleteProduction(CompleteProduction { note: String::new() }),
            )
            .await?;
        }
        // Aim at the promise: most orders ship in time, some late.
        let late = self.rng.chance(15);
        let target = promised.plus_days(if late { 2 } else { -3 });
        let gap_days = i64::from(self.at.date().days_until(target)).max(0);
        self.at = self.at.plus_hours(gap_days * 24).min(self.now);
        if !self.wait_hours(1, 8) {
            return Ok(());
        }
        let eta = self.at.date().plus_days(i32::try_from(self.rng.range(1, 3)).unwrap_or(2));
        let carrier = nth(CARRIERS, self.rng.next_u64());
        let mode = if self.rng.chance(40) { ShipMode::ColdChain } else { ShipMode::Road };
        let tracking_number = format!("TRK{:010}", self.rng.range(0, 9_999_999_999));
        if unconfirmed_stock {
            self.must_as_head(
                Role::Logistics,
                Command::ShipOrder(ShipOrder {
                    carrier: carrier.into(),
                    mode,
                    tracking_number,
                    eta,
                    unconfirmed_reason: Some(
                        "stock order; the customer is unreachable and the standing agreement covers it"
                            .into(),
                    ),
                }),
            )
            .await?;
            Tally::add(&self.tally.shipped_unconfirmed);
        } else {
            self.must(
                Role::Logistics,
                Command::ShipOrder(ShipOrder {
                    carrier: carrier.into(),
                    mode,
                    tracking_number,
                    eta,
                    unconfirmed_reason: None,
                }),
            )
            .await?;
        }
        if self.rng.chance(12) {
            if !self.wait_hours(6, 30) {
                return Ok(());
            }
            let new_eta = eta.plus_days(2).max(self.at.date());
            self.must(
                Role::Logistics,
                Command::ReportDelay(ReportDelay { new_eta, reason: "road closure".into() }),
            )
            .await?;
            self.at = self.at.plus_hours(48).min(self.now);
        }
        if !self.wait_hours(20, 60) {
            return Ok(());
        }
        self.must(
            Role::Logistics,
            Command::DeliverOrder(DeliverOrder { note: "POD signed at the dock".into() }),
        )
        .await?;
        if !self.wait_hours(1, 6) {
            return Ok(());
        }
        let refused = self.rng.chance(6);
        if refused {
            self.must(
                Role::Logistics,
                Command::RefuseOrder(RefuseOrder {
                    refused_by: "receiving clerk".into(),
                    reason: "cold chain broken".into(),
                }),
            )
            .await?;
        } else {
            let accepted = if self.rng.chance(15) {
                Some(vec![orderflow_schemas::LineQuantity { line_no: 1, quantity: 1 }])
            } else {
                None
            };
            self.must(
                Role::Sales,
                Command::SignOrder(SignOrder {
                    signed_by: "store manager".into(),
                    accepted,
                    note: String::new(),
                }),
            )
            .await?;
        }
        let signed = self.at;
        let mut open_complaint = false;
        let mut unsatisfied = false;
        if self.rng.chance(12) && self.wait_hours(24, 200) {
            let category = [
                ComplaintCategory::Quality,
                ComplaintCategory::Quantity,
                ComplaintCategory::Delivery,
                ComplaintCategory::Service,
            ][(self.rng.next_u64() % 4) as usize];
            let assignee = PEOPLE
                .iter()
                .find(|(r, _)| *r == Role::CustomerService)
                .map(|(_, p)| nth(p, self.rng.next_u64()).0.to_string());
            self.must(
                Role::CustomerService,
                Command::OpenComplaint(OpenComplaint {
                    category,
                    severity: Severity::Medium,
                    text: "see the attached photos".into(),
                    assignee,
                }),
            )
            .await?;
            open_complaint = true;
            // Progress updates until it is resolved.
            for (note, next_step) in [
                ("called the customer, photos received", "quality checks the retained sample"),
                ("retained sample checked: fat content low", "replacement from the next batch"),
            ] {
                if !self.rng.chance(70) || !self.wait_hours(4, 36) {
                    break;
                }
                self.must(
                    Role::CustomerService,
                    Command::UpdateComplaint(UpdateComplaint {
                        complaint_id: 1,
                        note: note.into(),
                        next_step: next_step.into(),
                    }),
                )
                .await?;
                Tally::add(&self.tally.progress_updates);
            }
            if self.wait_hours(24, 120) {
                let satisfied = !self.rng.chance(25);
                self.must(
                    Role::CustomerService,
                    Command::ResolveComplaint(ResolveComplaint {
                        complaint_id: 1,
                        resolution: "replacement sent".into(),
                        remedy: Remedy::Replacement,
                        customer_satisfied: satisfied,
                    }),
                )
                .await?;
                open_complaint = false;
                if !satisfied {
                    Tally::add(&self.tally.unsatisfied);
                    unsatisfied = true;
                    // Handling goes on until the customer is satisfied: mostly reopened; some
                    // closed by the head of sales with a reason (below).
                    if self.rng.chance(65) && self.wait_hours(24, 72) {
                        self.must(
                            Role::CustomerService,
                            Command::ReopenComplaint(ReopenComplaint {
                                complaint_id: 1,
                                reason: "replacement also damaged".into(),
                            }),
                        )
                        .await?;
                        open_complaint = true;
                        unsatisfied = false;
                        if self.wait_hours(24, 72) {
                            self.must(
                                Role::CustomerService,
                                Command::ResolveComplaint(ResolveComplaint {
                                    complaint_id: 1,
                                    resolution: "credit note issued".into(),
                                    remedy: Remedy::Credit,
                                    customer_satisfied: true,
                                }),
                            )
                            .await?;
                            open_complaint = false;
                        }
                    }
                }
            }
        }
        if self.rng.chance(30) && self.wait_hours(48, 240) {
            let score =
                u8::try_from(if self.rng.chance(15) { self.rng.range(1, 3) } else { self.rng.range(4, 5) })
                    .unwrap_or(4);
            self.must(
                Role::CustomerService,
                Command::RecordFeedback(RecordFeedback { score, comment: "survey by e-mail".into() }),
            )
            .await?;
        }
        // The follow-up visit (回訪), due visit_after_days after sign-off; some customers do not
        // answer.
        let visit_due = signed.plus_hours(self.app.settings().visit_after_days.saturating_mul(24));
        if !refused && self.rng.chance(65) && visit_due <= self.now {
            self.at = self.at.max(visit_due);
            if self.wait_hours(1, 48) {
                let answered = !self.rng.chance(20);
                let method = [VisitMethod::Phone, VisitMethod::Email, VisitMethod::Survey]
                    [(self.rng.next_u64() % 3) as usize];
                let score = if answered {
                    Some(
                        u8::try_from(if self.rng.chance(15) {
                            self.rng.range(1, 3)
                        } else {
                            self.rng.range(4, 5)
                        })
                        .unwrap_or(4),
                    )
                } else {
                    None
                };
                let comment = if answered { "satisfied with the delivery" } else { "no answer" };
                self.must(
                    Role::CustomerService,
                    Command::RecordVisit(RecordVisit { method, score, comment: comment.into() }),
                )
                .await?;
                Tally::add(&self.tally.visits);
                if !answered {
                    Tally::add(&self.tally.visits_unanswered);
                }
            }
        }
        if open_complaint {
            self.expect_refusal(Role::Sales, Command::CloseOrder(CloseOrder { override_reason: None }))
                .await?;
            return Ok(());
        }
        if unsatisfied {
            // Closing waits for a satisfied customer: refused, then the head of sales closes it
            // with a reason.
            self.expect_refusal(Role::Sales, Command::CloseOrder(CloseOrder { override_reason: None }))
                .await?;
            if self.wait_hours(24, 120) {
                self.must_as_head(
                    Role::Sales,
                    Command::CloseOrder(CloseOrder {
                        override_reason: Some(
                            "goodwill credit agreed with the customer's buyer; no further claim".into(),
                        ),
                    }),
                )
                .await?;
                Tally::add(&self.tally.close_overrides);
            }
            return Ok(());
        }
        if self.rng.chance(70) && self.wait_hours(24, 120) {
            self.must(Role::Sales, Command::CloseOrder(CloseOrder { override_reason: None })).await?;
            if self.rng.chance(5) && self.wait_hours(24, 200) {
                self.must(
                    Role::Archivist,
                    Command::PlaceHold(PlaceHold { reason: "dispute over invoice".into() }),
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// Runs the demo on `data_dir`.
///
/// On a data directory with users the demo did not make, `login` must be an admin's.
pub async fn run(
    data_dir: &Path,
    args: DemoArgs,
    login: &crate::cli::LoginArgs,
    json: bool,
) -> Result<(), AppError> {
    let started = Instant::now();
    let app = Arc::new(App::open(data_dir)?);
    let head_before = app.log().head();
    if head_before > 0 && !args.force_new {
        app.close()?;
        return Err(AppError::Invalid(format!(
            "{} already holds {head_before} events; the demo writes made-up orders that can never be \
             removed: give it a fresh directory (--data-dir), or --force-new to add them anyway",
            data_dir.display()
        )));
    }
    // A second demo on the same directory adds new orders rather than repeating the first.
    let seed = args.seed ^ head_before.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let now = crate::app::now();
    let start = now.plus_hours(-24 * 180);
    let spacing_hours = (24 * 178 / args.orders.max(1)).max(1);
    let tally = Arc::new(Tally::default());
    let mut user_rng = Rng::new(seed ^ 0x005e_ed0f_0fde_0005);
    let admin = if app.auth().directory()?.is_empty() || app.auth().secrets().is_demo()? {
        None
    } else {
        let me = match login.authenticate(&app).await {
            Ok(me) => me,
            Err(e) => {
                app.close()?;
                return Err(e);
            }
        };
        Some(Auth::principal(&me, Some("admin"), None)?)
    };
    let (people, created) = match demo_users(&app, &mut user_rng, admin.as_ref()).await {
        Ok(p) => p,
        Err(e) => {
            app.close()?;
            return Err(e);
        }
    };
    let people = Arc::new(people);
    let bar = if json { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(args.orders) };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} orders {pos}/{len} {wide_bar} {per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let results: Vec<Result<(), AppError>> = futures::stream::iter(0..args.orders)
        .map(|k| {
            let (app, tally, bar, people) = (app.clone(), tally.clone(), bar.clone(), people.clone());
            async move {
                let mut life = Life {
                    app: &app,
                    people: &people,
                    rng: Rng::new(seed.wrapping_add(k.wrapping_mul(0x2545_f491_4f6c_dd1d))),
                    order: None,
                    at: start.plus_hours(i64::try_from(k * spacing_hours).unwrap_or(0)),
                    now,
                    tally: &tally,
                };
                let r = life.live(k).await;
                bar.inc(1);
                r
            }
        })
        .buffer_unordered(args.concurrency.clamp(1, 256))
        .collect()
        .await;
    bar.finish_and_clear();
    results.into_iter().collect::<Result<Vec<()>, AppError>>()?;

    // Summary: orders by status, read back from the log.
    let mut by_status: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut position = head_before + 1;
    let mut orders = std::collections::BTreeSet::new();
    loop {
        let batch = app.log().read_from(position, 16_384)?;
        let Some(last) = batch.last() else { break };
        position = last.position + 1;
        orders.extend(batch.iter().map(|e| e.stream).filter(|s| !orderflow_schemas::is_reserved_stream(*s)));
    }
    for o in &orders {
        let (_, state) = app.order(OrderId(*o))?;
        *by_status.entry(state.status().as_str()).or_default() += 1;
    }
    let events = app.log().head() - head_before;
    let commands = tally.commands.load(Ordering::Relaxed);
    let refused = tally.refused_as_expected.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let t = &tally;
    let procedure = json!({
        "escalations": count(&t.escalations),
        "change_requests": count(&t.requests), "requests_applied": count(&t.requests_applied),
        "requests_declined": count(&t.requests_declined), "requests_withdrawn": count(&t.requests_withdrawn),
        "customer_initiated": count(&t.customer_initiated), "internal_initiated": count(&t.internal_initiated),
        "shipped_unconfirmed": count(&t.shipped_unconfirmed), "progress_updates": count(&t.progress_updates),
        "unsatisfied_resolutions": count(&t.unsatisfied), "close_overrides": count(&t.close_overrides),
        "visits": count(&t.visits), "visits_unanswered": count(&t.visits_unanswered),
    });
    let logins: Vec<serde_json::Value> =
        created.iter().map(|(l, r, p)| json!({ "login": l, "role": r, "password": p })).collect();
    if json {
        crate::outln!(
            "{}",
            json!({ "data_dir": data_dir, "orders": orders.len(), "commands": commands, "refused_as_expected": refused,
                    "events": events, "seconds": secs, "by_status": by_status, "procedure": procedure,
                    "users": logins })
        );
    } else {
        crate::outln!(
            "orderflow demo: {} orders driven in {:.1} s into {}",
            orders.len(),
            secs,
            data_dir.display()
        );
        crate::outln!(
            "  commands {commands} (of which {refused} refused by the rules, as intended), events {events}"
        );
        let parts: Vec<String> = by_status.iter().map(|(s, n)| format!("{s} {n}")).collect();
        crate::outln!("  by status: {}", parts.join(", "));
        crate::outln!(
            "  change requests {} (applied {}, declined {}, withdrawn {}, the rest pending); changes and \
             cancellations initiated by the customer {}, internally {}",
            count(&t.requests),
            count(&t.requests_applied),
            count(&t.requests_declined),
            count(&t.requests_withdrawn),
            count(&t.customer_initiated),
            count(&t.internal_initiated)
        );
        crate::outln!(
            "  reviews escalated overdue {}; stock orders shipped unconfirmed by the head of logistics {}",
            count(&t.escalations),
            count(&t.shipped_unconfirmed)
        );
        crate::outln!(
            "  complaint progress updates {}; resolutions leaving the customer unsatisfied {} (closed by a \
             head with a reason {}); follow-up visits {} ({} unanswered)",
            count(&t.progress_updates),
            count(&t.unsatisfied),
            count(&t.close_overrides),
            count(&t.visits),
            count(&t.visits_unanswered)
        );
        if !created.is_empty() {
            crate::outln!("  demo users (login, role, password; change them with `orderflow users passwd`):");
            for (login, role, password) in &created {
                crate::outln!("    {login:<16} {role:<22} {password}");
            }
        }
        crate::outln!(
            "  try: ORDERFLOW_USER=audit.office orderflow --data-dir {} audit history <ORDER_ID>   (asks for the password)",
            data_dir.display()
        );
    }
    let shown = crate::cli::read::board_and_kpis(&app, json);
    app.close()?;
    shown
}
