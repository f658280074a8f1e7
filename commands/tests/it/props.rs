//! Random command sequences — valid and invalid, any role, any order — checked after every step
//! against the invariants of the order and against a plain model of it.

use std::collections::{BTreeMap, BTreeSet};

use orderflow_commands::*;
use orderflow_schemas::{
    decode_event, encode_event, AccessKind, Actor, Channel, ComplaintCategory, Currency, Date, Department,
    EventBody, InspectionResult, LateEntry, LineQuantity, Role, Severity, ShipMode, Timestamp,
};
use proptest::prelude::*;

use crate::harness::{clerk, order_id, t0};

/// Free parameters of a random command; what they mean depends on the command.
#[derive(Clone, Debug)]
struct Params {
    n: u32,
    m: u16,
    days: i32,
    department: usize,
    flag: bool,
    text: u8,
}

#[derive(Clone, Debug)]
enum Op {
    /// The next step of a plausible workflow, by the right role (so sequences get deep).
    Advance(u8),
    /// Any command with random parameters, by the default role or any role.
    Issue { kind: usize, role: Option<usize>, p: Params },
}

fn params() -> impl Strategy<Value = Params> {
    (0u32..200, 0u16..5, -3i32..25, 0usize..4, any::<bool>(), 0u8..10)
        .prop_map(|(n, m, days, department, flag, text)| Params { n, m, days, department, flag, text })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<u8>().prop_map(Op::Advance),
        2 => (0usize..23, proptest::option::weighted(0.2, 0usize..10), params())
            .prop_map(|(kind, role, p)| Op::Issue { kind, role, p }),
    ]
}

fn text(p: &Params) -> String {
    match p.text {
        0 => String::new(),
        1 => "  ".into(),
        9 => "z".repeat(2_001),
        _ => "as agreed".into(),
    }
}

fn dept(i: usize) -> Department {
    Department::ALL[i % Department::ALL.len()]
}

/// A random command built from its kind and parameters.
fn random_command(kind: usize, p: &Params, today: Date) -> Command {
    let day = today.plus_days(p.days);
    let t = text(p);
    match kind {
        0 => ReceiveOrder {
            channel: Channel::Phone,
            customer: if p.text == 0 { String::new() } else { "Acme".into() },
            contact: "Li".into(),
            lines: (0..p.m % 4)
                .map(|i| NewLine {
                    sku: format!("S{i}"),
                    spec: String::new(),
                    quantity: (p.n + u32::from(i)) % 4,
                    unit: "pcs".into(),
                    unit_price_minor: i64::from(p.days) * 100,
                })
                .collect(),
            currency: Currency::parse("CNY").unwrap_or_else(|e| panic!("{e}")),
            requested_date: day,
            delivery_address: "Dock 1".into(),
            special_requirements: String::new(),
        }
        .into(),
        1 => ApproveReview { department: dept(p.department), revision: p.flag.then_some(p.n % 3), note: t }
            .into(),
        2 => RejectReview { department: dept(p.department), revision: None, reason: t }.into(),
        3 => ConfirmOrder { promised_date: day, note: String::new() }.into(),
        4 => {
            let edit = match p.n % 4 {
                0 => vec![LineEdit::Update(LineUpdate {
                    line_no: p.m,
                    quantity: Some(p.n % 3),
                    spec: p.flag.then(|| "v2".to_string()),
                    unit_price_minor: None,
                })],
                1 => vec![LineEdit::Add(NewLine {
                    sku: "ADD".into(),
                    spec: String::new(),
                    quantity: p.n % 5,
                    unit: "kg".into(),
                    unit_price_minor: 7,
                })],
                2 => vec![LineEdit::Remove { line_no: p.m }],
                _ => vec![],
            };
            ChangeOrder {
                reason: if p.text == 0 { String::new() } else { "customer asked".into() },
                lines: edit,
                requested_date: p.flag.then_some(day),
                delivery_address: (p.text == 2).then(|| "Dock 2".to_string()),
            }
            .into()
        }
        5 => CancelOrder { reason: t }.into(),
        6 => ScheduleProduction { planned_finish: day, note: String::new() }.into(),
        7 => InspectQuality {
            result: [InspectionResult::Pass, InspectionResult::Rework, InspectionResult::Scrap]
                [usize::try_from(p.n % 3).unwrap_or(0)],
            note: t,
        }
        .into(),
        8 => CompleteProduction { note: String::new() }.into(),
        9 => ShipOrder { carrier: "SF".into(), mode: ShipMode::Road, tracking_number: t, eta: day }.into(),
        10 => ReportDelay { new_eta: day, reason: t }.into(),
        11 => DeliverOrder { note: String::new() }.into(),
        12 => SignOrder {
            signed_by: "Zhang".into(),
            accepted: p.flag.then(|| vec![LineQuantity { line_no: p.m, quantity: p.n % 120 }]),
            note: String::new(),
        }
        .into(),
        13 => RefuseOrder { refused_by: "Zhang".into(), reason: t }.into(),
        14 => OpenComplaint { category: ComplaintCategory::Service, severity: Severity::Low, text: t }.into(),
        15 => ResolveComplaint { complaint_id: p.n % 3, resolution: t, customer_satisfied: p.flag }.into(),
        16 => ReopenComplaint { complaint_id: p.n % 3, reason: t }.into(),
        17 => RecordFeedback { score: u8::try_from(p.n % 7).unwrap_or(0), comment: String::new() }.into(),
        18 => CloseOrder {}.into(),
        19 => PlaceHold { reason: t }.into(),
        20 => ReleaseHold { note: String::new() }.into(),
        21 => RecordAccess { access: AccessKind::Export, detail: t }.into(),
        _ => RecordRefusedAccess { access: AccessKind::Replay, reason: t }.into(),
    }
}

/// The next step of a plausible workflow from where the order stands.
fn next_step(state: &OrderState, v: u8, today: Date) -> Command {
    let resolve_first = state.open_complaints().first().map(|id| {
        Command::from(ResolveComplaint {
            complaint_id: *id,
            resolution: "credited".into(),
            customer_satisfied: true,
        })
    });
    let complain = || -> Command {
        OpenComplaint {
            category: ComplaintCategory::Quality,
            severity: Severity::High,
            text: "dented".into(),
        }
        .into()
    };
    let feedback = || -> Command { RecordFeedback { score: v % 5 + 1, comment: String::new() }.into() };
    match coarse(state.exists(), state.status()) {
        None => crate::harness::receive(),
        Some(Status::InReview) => match (state.approvals_missing().first(), v % 9) {
            (Some(d), 1..) => crate::harness::approve(*d),
            _ => ChangeOrder {
                reason: "customer asked".into(),
                lines: vec![LineEdit::Add(NewLine {
                    sku: "EXTRA".into(),
                    spec: String::new(),
                    quantity: u32::from(v) + 1,
                    unit: "pcs".into(),
                    unit_price_minor: 99,
                })],
                requested_date: None,
                delivery_address: None,
            }
            .into(),
        },
        Some(Status::Approved) => match v % 4 {
            0 => ScheduleProduction { planned_finish: today.plus_days(3), note: String::new() }.into(),
            1 => {
                ConfirmOrder { promised_date: today.plus_days(i32::from(v % 9)), note: String::new() }.into()
            }
            _ => ShipOrder {
                carrier: "SF".into(),
                mode: ShipMode::Rail,
                tracking_number: "T1".into(),
                eta: today.plus_days(2),
            }
            .into(),
        },
        Some(Status::InProduction) => match state.production.as_ref().and_then(|p| p.last_inspection) {
            Some(InspectionResult::Pass) => CompleteProduction { note: String::new() }.into(),
            _ => InspectQuality {
                result: match v % 4 {
                    0 => InspectionResult::Rework,
                    _ => InspectionResult::Pass,
                },
                note: "checked".into(),
            }
            .into(),
        },
        Some(Status::ReadyToShip) => ShipOrder {
            carrier: "SF".into(),
            mode: ShipMode::Air,
            tracking_number: "T2".into(),
            eta: today.plus_days(1),
        }
        .into(),
        Some(Status::Shipped) if v % 4 < 1 => {
            ReportDelay { new_eta: today.plus_days(i32::from(v % 7) + 3), reason: "weather".into() }.into()
        }
        Some(Status::Shipped) => DeliverOrder { note: String::new() }.into(),
        Some(Status::Delivered) => match v % 5 {
            0 => RefuseOrder { refused_by: "Zhang".into(), reason: "late".into() }.into(),
            1 => complain(),
            2 => SignOrder {
                signed_by: "Zhang".into(),
                accepted: Some(vec![LineQuantity { line_no: 1, quantity: 0 }]),
                note: String::new(),
            }
            .into(),
            _ => SignOrder { signed_by: "Zhang".into(), accepted: None, note: String::new() }.into(),
        },
        Some(Status::Signed | Status::Refused | Status::Cancelled | Status::Rejected) => {
            match resolve_first {
                Some(c) if v % 2 < 1 => c,
                _ => match v % 5 {
                    0 if state.was_delivered() => complain(),
                    1 if state.was_delivered() => feedback(),
                    _ => CloseOrder {}.into(),
                },
            }
        }
        Some(Status::Received | Status::Confirmed | Status::Scheduled) => {
            unreachable!("coarse() maps these to InReview, Approved and InProduction")
        }
        Some(Status::Closed) => match (v % 6, resolve_first) {
            (0, Some(c)) => c,
            (0 | 1, _) => complain(),
            (2, _) => feedback(),
            (3, _) if state.hold.is_none() => PlaceHold { reason: "dispute".into() }.into(),
            (3, _) => ReleaseHold { note: String::new() }.into(),
            _ => RecordAccess { access: AccessKind::History, detail: String::new() }.into(),
        },
    }
}

/// A plain model of the order, updated from accepted commands only, with its own bookkeeping.
#[derive(Debug, Default)]
struct Model {
    received: bool,
    lines: Vec<(u16, u32, String, i64)>,
    last_line_no: u16,
    requested: Option<Date>,
    promise: Option<Date>,
    revision: u32,
    approvals: BTreeSet<Department>,
    rejected: bool,
    /// Events recorded late, and the reason of the last.
    late_entries: u32,
    last_late: Option<String>,
    /// The roles of the accepted commands other than archive access records.
    acted: BTreeSet<Role>,
    cancelled: bool,
    scheduled: bool,
    passed: bool,
    completed: bool,
    shipped: bool,
    delivered: bool,
    signed: bool,
    refused: bool,
    closed: bool,
    complaints: BTreeMap<u32, bool>,
    hold: bool,
}

impl Model {
    fn approved(&self) -> bool {
        self.approvals.len() == Department::ALL.len()
    }

    /// The model's status, as [`coarse`] classes it; `None` before receipt.
    fn status(&self) -> Option<Status> {
        Some(match () {
            _ if !self.received => return None,
            _ if self.closed => Status::Closed,
            _ if self.cancelled => Status::Cancelled,
            _ if self.rejected => Status::Rejected,
            _ if self.refused => Status::Refused,
            _ if self.signed => Status::Signed,
            _ if self.delivered => Status::Delivered,
            _ if self.shipped => Status::Shipped,
            _ if !self.approved() => Status::InReview,
            _ if self.completed => Status::ReadyToShip,
            _ if self.scheduled => Status::InProduction,
            _ => Status::Approved,
        })
    }

    fn total(&self) -> i128 {
        self.lines.iter().map(|(_, q, _, p)| i128::from(*q) * i128::from(*p)).sum()
    }

    /// Applies an accepted command.
    fn apply(&mut self, c: &Command) {
        match c {
            Command::ReceiveOrder(c) => {
                self.received = true;
                self.revision = 1;
                self.lines = (1u16..)
                    .zip(&c.lines)
                    .map(|(no, l)| (no, l.quantity, l.spec.clone(), l.unit_price_minor))
                    .collect();
                self.last_line_no = u16::try_from(c.lines.len()).unwrap_or(u16::MAX);
                self.requested = Some(c.requested_date);
            }
            Command::ApproveReview(c) => {
                self.approvals.insert(c.department);
            }
            Command::RejectReview(_) => self.rejected = true,
            Command::ConfirmOrder(c) => self.promise = Some(c.promised_date),
            Command::ChangeOrder(c) => {
                let mut lines = self.lines.clone();
                for edit in &c.lines {
                    match edit {
                        LineEdit::Update(u) => {
                            if let Some(l) = lines.iter_mut().find(|l| l.0 == u.line_no) {
                                l.1 = u.quantity.unwrap_or(l.1);
                                l.2 = u.spec.clone().unwrap_or(l.2.clone());
                                l.3 = u.unit_price_minor.unwrap_or(l.3);
                            }
                        }
                        LineEdit::Add(n) => {
                            self.last_line_no += 1;
                            lines.push((self.last_line_no, n.quantity, n.spec.clone(), n.unit_price_minor));
                        }
                        LineEdit::Remove { line_no } => lines.retain(|l| l.0 != *line_no),
                    }
                }
                let date_changed = c.requested_date.is_some_and(|d| Some(d) != self.requested);
                if lines != self.lines || date_changed {
                    self.revision += 1;
                    self.approvals.clear();
                }
                if date_changed && self.promise.is_some() {
                    self.promise = c.requested_date;
                }
                self.requested = c.requested_date.or(self.requested);
                self.lines = lines;
            }
            Command::CancelOrder(_) => self.cancelled = true,
            Command::ScheduleProduction(_) => self.scheduled = true,
            Command::InspectQuality(c) => self.passed = c.result == InspectionResult::Pass,
            Command::CompleteProduction(_) => self.completed = true,
            Command::ShipOrder(_) => self.shipped = true,
            Command::ReportDelay(_) => {}
            Command::DeliverOrder(_) => self.delivered = true,
            Command::SignOrder(_) => self.signed = true,
            Command::RefuseOrder(_) => self.refused = true,
            Command::OpenComplaint(_) => {
                let id = u32::try_from(self.complaints.len()).unwrap_or(u32::MAX) + 1;
                self.complaints.insert(id, true);
            }
            Command::ResolveComplaint(c) => {
                self.complaints.insert(c.complaint_id, false);
            }
            Command::ReopenComplaint(c) => {
                self.complaints.insert(c.complaint_id, true);
            }
            Command::RecordFeedback(_) => {}
            Command::CloseOrder(_) => self.closed = true,
            Command::PlaceHold(_) => self.hold = true,
            Command::ReleaseHold(_) => self.hold = false,
            Command::RecordAccess(_) | Command::RecordRefusedAccess(_) => {}
        }
    }

    /// What the model says must hold for a command that was accepted, judged before applying it.
    fn check_accepted(&self, c: &Command) -> Result<(), TestCaseError> {
        let status = self.status();
        match c {
            Command::ReceiveOrder(_) => prop_assert!(!self.received),
            Command::ShipOrder(_) => {
                prop_assert!(self.approved(), "shipped without every approval of revision {}", self.revision);
                prop_assert!(!self.scheduled || self.completed, "shipped before production completed");
                prop_assert!(status.is_some_and(Status::is_open));
            }
            Command::ChangeOrder(_) | Command::CancelOrder(_) | Command::ConfirmOrder(_) => {
                prop_assert!(status.is_some_and(Status::is_open), "{} accepted while {status:?}", c.name());
            }
            Command::CompleteProduction(_) => prop_assert!(self.scheduled && self.passed),
            Command::OpenComplaint(_) | Command::RecordFeedback(_) => {
                prop_assert!(self.delivered, "{} accepted before delivery", c.name());
            }
            Command::SignOrder(_) | Command::RefuseOrder(_) => {
                prop_assert_eq!(status, Some(Status::Delivered))
            }
            Command::CloseOrder(_) => {
                prop_assert!(self.complaints.values().all(|open| !open), "closed with an open complaint");
            }
            _ => {}
        }
        if self.closed {
            prop_assert!(c.allowed_after_close(), "{} accepted on a closed order", c.name());
        }
        Ok(())
    }

    fn check_state(&self, s: &OrderState) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.status(), coarse(s.exists(), s.status()));
        prop_assert_eq!(self.revision, s.revision);
        prop_assert_eq!(self.approved(), s.is_approved());
        prop_assert_eq!(i128::from(s.total_minor), self.total());
        let lines: Vec<_> =
            s.lines.iter().map(|l| (l.line_no, l.quantity, l.spec.clone(), l.unit_price_minor)).collect();
        prop_assert_eq!(&lines, &self.lines);
        prop_assert_eq!(self.promise, s.current_promise);
        prop_assert_eq!(self.requested, s.requested_date);
        let open: Vec<u32> = self.complaints.iter().filter(|(_, open)| **open).map(|(id, _)| *id).collect();
        prop_assert_eq!(open, s.open_complaints());
        prop_assert_eq!(self.hold, s.hold.is_some());
        prop_assert_eq!(self.late_entries, s.late_entries);
        prop_assert_eq!(&self.last_late, &s.last_late.as_ref().map(|l| l.reason.clone()));
        prop_assert_eq!(&self.acted, &s.acted_roles);
        Ok(())
    }
}

/// Invariants of any state `decide` and `evolve` can reach.
fn invariants(s: &OrderState) -> Result<(), TestCaseError> {
    if !s.exists() {
        prop_assert_eq!(s, &OrderState::new(order_id()));
        return Ok(());
    }
    prop_assert!(s.revision >= 1);
    prop_assert!(!s.lines.is_empty());
    prop_assert!(s.lines.windows(2).all(|w| w[0].line_no < w[1].line_no), "line numbers ascend");
    prop_assert!(s.lines.iter().all(|l| l.line_no >= 1 && l.line_no <= s.last_line_no));
    prop_assert!(s.lines.iter().all(|l| l.quantity > 0 && l.unit_price_minor >= 0));
    let sum = s.lines.iter().try_fold(0i64, |acc, l| l.amount_minor().and_then(|a| acc.checked_add(a)));
    prop_assert_eq!(sum, Some(s.total_minor), "total is the sum of the line amounts");
    // The approved flag (OrderApproved of the current revision) agrees with the decisions.
    prop_assert_eq!(s.is_approved(), s.approvals_missing().is_empty());
    if let Some(shipment) = &s.shipment {
        prop_assert!(s.is_approved(), "a shipped order has every approval of its current revision");
        prop_assert_eq!(shipment.lines.len(), s.lines.len());
        for shipped in &shipment.lines {
            let ordered = s.line(shipped.line_no).map(|l| l.quantity);
            prop_assert!(ordered.is_some_and(|o| shipped.quantity <= o), "shipped <= ordered");
        }
    }
    if let Some(sign_off) = &s.sign_off {
        let shipment = s.shipment.as_ref();
        prop_assert!(shipment.is_some());
        let mut full = true;
        for accepted in &sign_off.accepted {
            let shipped = shipment.map_or(0, |sh| sh.quantity(accepted.line_no));
            prop_assert!(accepted.quantity <= shipped, "accepted <= shipped");
            full &= accepted.quantity == shipped;
        }
        prop_assert_eq!(sign_off.full, full);
    }
    let ids: Vec<u32> = s.complaints.keys().copied().collect();
    prop_assert_eq!(ids, (1..=u32::try_from(s.complaints.len()).unwrap_or(0)).collect::<Vec<_>>());
    if let (Some(until), Some(at)) = (s.retention_until, s.received_at) {
        prop_assert!(until >= at.date());
    }
    Ok(())
}

fn run(ops: Vec<(Op, u8)>) -> Result<(), TestCaseError> {
    let mut state = OrderState::new(order_id());
    let mut model = Model::default();
    let mut log = Vec::new();
    let mut now: Timestamp = t0();
    for (op, hours) in ops {
        now = now.plus_hours(i64::from(hours));
        let today = now.date();
        let (command, actor) = match op {
            Op::Advance(v) => {
                let c = next_step(&state, v, today);
                let actor = clerk(c.default_role());
                (c, actor)
            }
            Op::Issue { kind, role, p } => {
                let c = random_command(kind, &p, today);
                let actor = match role {
                    None => clerk(c.default_role()),
                    // Sometimes the receiving sales clerk, in another role (self-approval).
                    Some(i) if p.flag => Actor::named("sales-clerk", Role::ALL[i % Role::ALL.len()]),
                    Some(i) => clerk(Role::ALL[i % Role::ALL.len()]),
                };
                (c, actor)
            }
        };
        // Now and then a late entry (the application checks who may make one).
        let late = (hours % 7 == 3).then(|| LateEntry { reason: format!("paper form {hours}") });
        let ctx = Context::new(actor, now).late(late);
        let before = state.clone();
        let result = decide(&state, &command, &ctx);
        prop_assert_eq!(&decide(&state, &command, &ctx), &result, "decide is deterministic");
        prop_assert_eq!(&state, &before);
        match result {
            Err(rejection) => {
                prop_assert!(!rejection.to_string().is_empty());
                if let Rejection::NotPermitted { role, .. } = rejection {
                    prop_assert!(!may_issue(role, &command));
                }
            }
            Ok(events) => {
                prop_assert!(!events.is_empty(), "an accepted command records something");
                prop_assert!(events.len() <= 2);
                prop_assert!(may_issue(ctx.actor.role, &command));
                model.check_accepted(&command)?;
                for e in &events {
                    prop_assert_eq!(&e.actor, &ctx.actor);
                    prop_assert_eq!(e.at, now);
                    prop_assert_eq!(&e.late, &ctx.late, "every event of a late command is late");
                    let (code, version, bytes) =
                        encode_event(e).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(&decode_event(code, version, &bytes), &Ok(e.clone()), "storable");
                    if matches!(e.body, EventBody::OrderShipped(_)) {
                        prop_assert!(before.approvals_missing().is_empty());
                    }
                    evolve(&mut state, e);
                }
                if let Some(late) = &ctx.late {
                    model.late_entries += u32::try_from(events.len()).unwrap_or(u32::MAX);
                    model.last_late = Some(late.reason.clone());
                }
                if !matches!(command, Command::RecordAccess(_) | Command::RecordRefusedAccess(_)) {
                    model.acted.insert(ctx.actor.role);
                }
                log.extend(events);
                model.apply(&command);
                if before.status() == Status::Closed {
                    prop_assert_eq!(state.status(), Status::Closed, "a closed order stays closed");
                }
            }
        }
        invariants(&state)?;
        model.check_state(&state)?;
        prop_assert_eq!(&replay(order_id(), &log), &state, "replay equals the folded state");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_command_sequences_keep_the_invariants(ops in prop::collection::vec((op(), 0u8..30), 1..80)) {
        run(ops)?;
    }
}

/// The sequences above do reach every status; if a change made the driver stop reaching deep
/// states, the property would silently test less. This checks the driver itself.
#[test]
fn the_workflow_driver_reaches_the_closed_state() {
    let mut state = OrderState::new(order_id());
    let mut now = t0();
    let mut seen = BTreeSet::new();
    for v in [2u8, 7, 7, 7, 7, 2, 3, 3, 3, 3, 8] {
        let c = next_step(&state, v, now.date());
        let ctx = Context::new(clerk(c.default_role()), now);
        let events = decide(&state, &c, &ctx).unwrap_or_else(|r| panic!("{}: {r}", c.name()));
        for e in &events {
            evolve(&mut state, e);
        }
        seen.insert(format!("{}", state.status()));
        now = now.plus_hours(5);
    }
    assert_eq!(state.status(), Status::Closed, "statuses seen: {seen:?}");
}

/// The status in the model's coarser classes: received and in review are both "in review",
/// confirmed is "approved", scheduled is "in production" (the finer steps are the status
/// board's fold, tested with the read models); `None` for an order not received.
fn coarse(exists: bool, status: Status) -> Option<Status> {
    exists.then_some(match status {
        Status::Received => Status::InReview,
        Status::Confirmed => Status::Approved,
        Status::Scheduled => Status::InProduction,
        other => other,
    })
}
