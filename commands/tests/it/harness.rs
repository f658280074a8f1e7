//! Given / when / then for the Order aggregate, and the fixtures the tests share.

use orderflow_commands::*;
use orderflow_schemas::{
    AccessKind, Actor, Channel, ComplaintCategory, ConfirmMethod, Currency, Date, DeliveryMode, Department,
    Event, EventBody, ImpactNote, Initiator, InspectionResult, OrderId, Remedy, Role, Severity, ShipMode,
    Timestamp, VisitMethod,
};
use uuid::Uuid;

/// The order every test works on; its short id is `7f3a12bc`.
pub(crate) fn order_id() -> OrderId {
    OrderId(Uuid::from_u128(0x7f3a_12bc_9d4e_4f00_8a11_0000_0000_0001))
}

/// A time, from RFC 3339 or `YYYY-MM-DD`.
pub(crate) fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).expect("test time")
}

/// A date, `YYYY-MM-DD`.
pub(crate) fn date(s: &str) -> Date {
    Date::parse(s).expect("test date")
}

/// The clock every scenario starts at: Monday 2 March 2026, 09:00 UTC.
pub(crate) fn t0() -> Timestamp {
    ts("2026-03-02T09:00:00Z")
}

/// The clerk who acts in `role` unless a test names another: "sales-clerk", "finance-clerk"...
pub(crate) fn clerk(role: Role) -> Actor {
    Actor::named(&format!("{role}-clerk"), role)
}

/// A named person acting in a role.
pub(crate) fn person(name: &str, role: Role) -> Actor {
    Actor::named(name, role)
}

/// The head of `role`'s department: "{role}-head", acting as head.
pub(crate) fn head(role: Role) -> Actor {
    Actor { head: true, ..Actor::named(&format!("{role}-head"), role) }
}

// ---- command fixtures -------------------------------------------------------------------------

pub(crate) fn new_line(sku: &str, spec: &str, quantity: u32, unit_price_minor: i64) -> NewLine {
    NewLine { sku: sku.into(), spec: spec.into(), quantity, unit: "pcs".into(), unit_price_minor }
}

/// Two lines: 100 × 1.20 EUR and 50 × 2.50 EUR = 245.00 EUR; requested for 2026-03-20.
pub(crate) fn receive_order() -> ReceiveOrder {
    ReceiveOrder {
        channel: Channel::Email,
        customer: "Acme Dairy".into(),
        contact: "Li Wei, +86 21 5555 0101".into(),
        lines: vec![new_line("MILK-1L", "UHT 3.5%", 100, 120), new_line("YOG-500", "plain", 50, 250)],
        currency: Currency::parse("EUR").expect("currency"),
        requested_date: date("2026-03-20"),
        delivery_address: "88 Harbour Road, Shanghai".into(),
        special_requirements: "keep at 2-6 °C".into(),
    }
}

pub(crate) fn receive() -> Command {
    receive_order().into()
}

pub(crate) fn approve(department: Department) -> Command {
    ApproveReview { department, revision: None, note: "ok".into() }.into()
}

pub(crate) fn reject(department: Department) -> Command {
    RejectReview { department, revision: None, reason: "credit limit exceeded".into() }.into()
}

/// Confirms `promised`, expected to ship on 2026-03-03 (or on the promised date, when earlier),
/// by our own fleet, confirmed by phone.
pub(crate) fn confirm_order(promised: &str) -> ConfirmOrder {
    let promised_date = date(promised);
    ConfirmOrder {
        promised_date,
        expected_ship_date: promised_date.min(date("2026-03-03")),
        delivery_mode: DeliveryMode::OwnFleet,
        confirmed_via: ConfirmMethod::Phone,
        note: "read back by phone".into(),
    }
}

pub(crate) fn confirm(promised: &str) -> Command {
    confirm_order(promised).into()
}

/// A change the customer asked for, with these line edits and no impact notes.
pub(crate) fn change(edits: Vec<LineEdit>) -> ChangeOrder {
    ChangeOrder {
        initiated_by: Initiator::Customer,
        reason: "customer called".into(),
        impact: Vec::new(),
        lines: edits,
        requested_date: None,
        delivery_address: None,
    }
}

/// An impact note for a deciding department.
pub(crate) fn impact(role: Role, note: &str) -> ImpactNote {
    ImpactNote { role, note: note.into() }
}

/// The department (by its role) approves the pending change request.
pub(crate) fn approve_change(department: Role) -> Command {
    ApproveChange { department, request_id: None, note: "fine".into() }.into()
}

/// The department (by its role) declines the pending change request.
pub(crate) fn decline_change(department: Role, reason: &str) -> Command {
    DeclineChange { department, request_id: None, reason: reason.into() }.into()
}

pub(crate) fn withdraw_change() -> Command {
    WithdrawChange { reason: "customer changed their mind".into() }.into()
}

/// Every department deciding change requests approves the pending one, in order.
pub(crate) fn approve_change_by_all() -> Vec<Step> {
    orderflow_schemas::CHANGE_REVIEWERS.iter().map(|r| Step::from(approve_change(*r))).collect()
}

pub(crate) fn set_quantity(line_no: u16, quantity: u32) -> LineEdit {
    LineEdit::Update(LineUpdate { line_no, quantity: Some(quantity), spec: None, unit_price_minor: None })
}

pub(crate) fn cancel() -> Command {
    CancelOrder { initiated_by: Initiator::Customer, reason: "customer withdrew".into() }.into()
}

pub(crate) fn schedule(finish: &str) -> Command {
    ScheduleProduction { planned_finish: date(finish), note: "line 3, day shift".into() }.into()
}

pub(crate) fn inspect(result: InspectionResult) -> Command {
    InspectQuality { result, note: "fat content out of range".into() }.into()
}

pub(crate) fn complete() -> Command {
    CompleteProduction { note: String::new() }.into()
}

pub(crate) fn ship_order() -> ShipOrder {
    ShipOrder {
        carrier: "SF Cold Chain".into(),
        mode: ShipMode::ColdChain,
        tracking_number: "SF123456789".into(),
        eta: date("2026-03-05"),
        unconfirmed_reason: None,
    }
}

pub(crate) fn ship() -> Command {
    ship_order().into()
}

pub(crate) fn delay(new_eta: &str) -> Command {
    ReportDelay { new_eta: date(new_eta), reason: "road closed by snow".into() }.into()
}

pub(crate) fn deliver() -> Command {
    DeliverOrder { note: "POD 4711".into() }.into()
}

pub(crate) fn sign() -> Command {
    SignOrder { signed_by: "Zhang Min".into(), accepted: None, note: String::new() }.into()
}

pub(crate) fn refuse() -> Command {
    RefuseOrder { refused_by: "Zhang Min".into(), reason: "cold chain broken".into() }.into()
}

pub(crate) fn complain() -> Command {
    OpenComplaint {
        category: ComplaintCategory::Quality,
        severity: Severity::High,
        text: "sour milk".into(),
        assignee: None,
    }
    .into()
}

/// Resolves the complaint by replacement, to the customer's satisfaction.
pub(crate) fn resolve(complaint_id: u32) -> Command {
    resolve_with(complaint_id, true)
}

pub(crate) fn resolve_with(complaint_id: u32, customer_satisfied: bool) -> Command {
    ResolveComplaint {
        complaint_id,
        resolution: "replaced 10 units".into(),
        remedy: Remedy::Replacement,
        customer_satisfied,
    }
    .into()
}

pub(crate) fn update_complaint(complaint_id: u32) -> Command {
    UpdateComplaint {
        complaint_id,
        note: "samples sent to the lab".into(),
        next_step: "quality reports by Friday".into(),
    }
    .into()
}

pub(crate) fn visit(score: Option<u8>) -> Command {
    RecordVisit { method: VisitMethod::Phone, score, comment: "happy with the cold chain".into() }.into()
}

pub(crate) fn mark_overdue(revision: u32, request_id: Option<u32>, department: Role) -> Command {
    MarkOverdue { revision, request_id, department }.into()
}

pub(crate) fn reopen(complaint_id: u32) -> Command {
    ReopenComplaint { complaint_id, reason: "replacement also sour".into() }.into()
}

pub(crate) fn feedback(score: u8) -> Command {
    RecordFeedback { score, comment: "fast delivery".into() }.into()
}

pub(crate) fn close() -> Command {
    CloseOrder::default().into()
}

pub(crate) fn close_overriding(reason: &str) -> Command {
    CloseOrder { override_reason: Some(reason.into()) }.into()
}

pub(crate) fn hold() -> Command {
    PlaceHold { reason: "payment dispute".into() }.into()
}

pub(crate) fn release() -> Command {
    ReleaseHold { note: "dispute settled".into() }.into()
}

pub(crate) fn access() -> Command {
    RecordAccess { access: AccessKind::History, detail: "annual audit".into() }.into()
}

pub(crate) fn access_refused() -> Command {
    RecordRefusedAccess {
        access: AccessKind::Export,
        reason: "pat (logistics) has not worked on this order".into(),
    }
    .into()
}

// ---- paths to common states -------------------------------------------------------------------

pub(crate) fn received() -> Vec<Step> {
    vec![receive().into()]
}

pub(crate) fn approved() -> Vec<Step> {
    let mut steps = received();
    steps.extend(Department::ALL.iter().map(|d| Step::from(approve(*d))));
    steps
}

/// Approved and confirmed for 2026-03-18.
pub(crate) fn confirmed() -> Vec<Step> {
    let mut steps = approved();
    steps.push(confirm("2026-03-18").into());
    steps
}

pub(crate) fn shipped() -> Vec<Step> {
    let mut steps = confirmed();
    steps.push(ship().into());
    steps
}

pub(crate) fn delivered() -> Vec<Step> {
    let mut steps = shipped();
    steps.push(deliver().into());
    steps
}

pub(crate) fn signed() -> Vec<Step> {
    let mut steps = delivered();
    steps.push(sign().into());
    steps
}

pub(crate) fn closed() -> Vec<Step> {
    let mut steps = signed();
    steps.push(close().into());
    steps
}

// ---- given / when / then ----------------------------------------------------------------------

/// One thing that already happened to the order.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// A command that must succeed, issued by the clerk of its default role.
    Do(Command),
    /// A command that must succeed, issued by this actor.
    DoAs(Actor, Command),
    /// A recorded event.
    Happened(Event),
}

impl From<Command> for Step {
    fn from(c: Command) -> Self {
        Step::Do(c)
    }
}

impl From<Event> for Step {
    fn from(e: Event) -> Self {
        Step::Happened(e)
    }
}

/// The order after the given steps, and the clock.
#[derive(Clone)]
pub(crate) struct Scenario {
    state: OrderState,
    now: Timestamp,
    settings: Settings,
    limits: Limits,
    history: Vec<Event>,
}

/// Starts a scenario at [`t0`] from the given steps.
pub(crate) fn given(steps: &[Step]) -> Scenario {
    let mut s = Scenario {
        state: OrderState::new(order_id()),
        now: t0(),
        settings: Settings::default(),
        limits: Limits::default(),
        history: Vec::new(),
    };
    for step in steps {
        s.apply(step.clone());
    }
    s
}

impl Scenario {
    fn ctx(&self, actor: Actor) -> Context {
        Context::new(actor, self.now).with_settings(self.settings).with_limits(self.limits)
    }

    fn apply(&mut self, step: Step) {
        let events = match step {
            Step::Happened(e) => vec![e],
            Step::Do(c) => {
                let actor = clerk(c.default_role());
                self.decide_ok(actor, &c)
            }
            Step::DoAs(actor, c) => self.decide_ok(actor, &c),
        };
        for e in &events {
            evolve(&mut self.state, e);
        }
        self.history.extend(events);
    }

    fn decide_ok(&self, actor: Actor, c: &Command) -> Vec<Event> {
        decide(&self.state, c, &self.ctx(actor))
            .unwrap_or_else(|r| panic!("given step {} was rejected: {r}", c.name()))
    }

    /// One more given command, issued by the clerk of its default role.
    pub(crate) fn and(mut self, c: impl Into<Command>) -> Self {
        self.apply(Step::Do(c.into()));
        self
    }

    /// More given steps.
    pub(crate) fn and_steps(mut self, steps: Vec<Step>) -> Self {
        for step in steps {
            self.apply(step);
        }
        self
    }

    /// One more recorded event.
    pub(crate) fn and_event(mut self, e: Event) -> Self {
        self.apply(Step::Happened(e));
        self
    }

    /// One more given command, issued by `actor`.
    pub(crate) fn and_as(mut self, actor: Actor, c: Command) -> Self {
        self.apply(Step::DoAs(actor, c));
        self
    }

    /// Moves the clock.
    pub(crate) fn at(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// Uses these settings from now on.
    pub(crate) fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Uses these limits from now on.
    pub(crate) fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The state so far.
    pub(crate) fn state(&self) -> &OrderState {
        &self.state
    }

    /// The command, issued by the clerk of its default role.
    pub(crate) fn when(self, c: impl Into<Command>) -> Outcome {
        let c = c.into();
        let actor = clerk(c.default_role());
        self.when_as(actor, c)
    }

    /// The command, issued by `actor`.
    pub(crate) fn when_as(self, actor: Actor, c: impl Into<Command>) -> Outcome {
        let c = c.into();
        let ctx = self.ctx(actor);
        let before = self.state.clone();
        let result = decide(&self.state, &c, &ctx);
        assert_eq!(self.state, before, "decide must not change the state");
        // Replaying the history must give the state the scenario folded step by step.
        assert_eq!(replay(order_id(), &self.history), self.state);
        Outcome { state: self.state, ctx, command: c, result }
    }
}

/// What `decide` said.
pub(crate) struct Outcome {
    state: OrderState,
    ctx: Context,
    command: Command,
    result: Result<Vec<Event>, Rejection>,
}

impl Outcome {
    fn events(self) -> (Vec<Event>, OrderState, Context) {
        match self.result {
            Ok(events) => (events, self.state, self.ctx),
            Err(r) => panic!("{} was rejected: {r}\n{r:?}", self.command.name()),
        }
    }

    /// Asserts the command was accepted with exactly these event bodies, each carrying the
    /// context's actor and time; returns the state after them.
    pub(crate) fn then_events(self, expected: &[EventBody]) -> OrderState {
        let (events, mut state, ctx) = self.events();
        let bodies: Vec<EventBody> = events.iter().map(|e| e.body.clone()).collect();
        assert_eq!(bodies, expected);
        for e in &events {
            assert_eq!(e.actor, ctx.actor);
            assert_eq!(e.at, ctx.now);
            evolve(&mut state, e);
        }
        state
    }

    /// Asserts the command was accepted, whatever its events; returns them and the state after.
    pub(crate) fn then_ok(self) -> (Vec<EventBody>, OrderState) {
        let (events, mut state, _) = self.events();
        assert!(!events.is_empty(), "an accepted command records at least one event");
        for e in &events {
            evolve(&mut state, e);
        }
        (events.into_iter().map(|e| e.body).collect(), state)
    }

    /// Asserts the command was rejected with a rejection that `expected` accepts; returns it.
    pub(crate) fn then_rejected(self, expected: impl Fn(&Rejection) -> bool) -> Rejection {
        match self.result {
            Ok(events) => panic!("{} was accepted: {events:?}", self.command.name()),
            Err(r) => {
                assert!(expected(&r), "unexpected rejection: {r}\n{r:?}");
                r
            }
        }
    }

    /// Asserts the command was rejected with this message.
    pub(crate) fn then_message(self, message: &str) -> Rejection {
        let r = self.then_rejected(|_| true);
        assert_eq!(r.to_string(), message);
        r
    }
}

/// One example of every command, in declaration order.
pub(crate) fn every_command() -> Vec<Command> {
    vec![
        receive(),
        approve(Department::Finance),
        reject(Department::Warehouse),
        confirm("2026-03-18"),
        ChangeOrder {
            initiated_by: Initiator::Internal,
            impact: vec![impact(Role::Production, "one more shift")],
            delivery_address: Some("Gate 3".into()),
            requested_date: Some(date("2026-03-25")),
            ..change(vec![
                set_quantity(2, 60),
                LineEdit::Add(new_line("BUTTER-250", "salted", 20, 300)),
                LineEdit::Remove { line_no: 1 },
            ])
        }
        .into(),
        cancel(),
        schedule("2026-03-10"),
        inspect(InspectionResult::Rework),
        complete(),
        ship(),
        delay("2026-03-07"),
        deliver(),
        SignOrder {
            signed_by: "Zhang Min".into(),
            accepted: Some(vec![orderflow_schemas::LineQuantity { line_no: 2, quantity: 48 }]),
            note: String::new(),
        }
        .into(),
        refuse(),
        complain(),
        resolve(1),
        reopen(1),
        feedback(4),
        close(),
        hold(),
        release(),
        access(),
        access_refused(),
        ApproveChange { department: Role::Production, request_id: Some(1), note: "capacity ok".into() }
            .into(),
        DeclineChange {
            department: Role::Finance,
            request_id: Some(1),
            reason: "over the credit limit".into(),
        }
        .into(),
        withdraw_change(),
        update_complaint(1),
        visit(Some(4)),
        mark_overdue(1, None, Role::Finance),
    ]
}
