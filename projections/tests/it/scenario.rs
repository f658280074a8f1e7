//! A scenario builder: realistic order event sequences with fixed effective times, appended in
//! time order to a real event log in a temporary directory.
//!
//! The standard scenario (`now` = 2026-04-10 12:00 UTC):
//! - O1 Acme Dairy, phone, CNY 800.00: happy path, delivered early, signed in full, feedback 5,
//!   closed, a hold placed and released, read by an auditor.
//! - O2 Bright Foods, e-mail, CNY 1,000.00: rejected by finance.
//! - O3 Acme Dairy, online, CNY 1,480.00 → 1,680.00: a change with re-approval (revision 2, promise
//!   moved 03-24 → 03-27), rework at inspection, a shipment delay, late delivery, partial
//!   sign-off, a complaint resolved, reopened and resolved again, feedback 3.
//! - O4 Coastal Retail, sales rep, EUR 1,400.00: approved, confirmed, cancelled.
//! - O5 Bright Foods, phone, CNY 600.00: never confirmed (promise = requested date), on time,
//!   two complaints (one resolved), feedback 4, a hold placed and kept, closed, exported.
//! - O6 Delta Bakery, online, CNY 1,200.00: in review, three departments overdue.
//! - O7 Delta Bakery, phone, EUR 2,400.00: scrapped at first inspection, shipped, delayed past
//!   its promise (at risk).
//! - O8 Acme Dairy, e-mail, CNY 450.00: scheduled, past its promise (late).

use orderflow_engine::{AppendRequest, Appended, EventLog, ExpectedVersion, LogConfig, NewEvent};
use orderflow_schemas::*;
use tempfile::TempDir;
use uuid::Uuid;

/// The `now` of every query in the tests.
pub(crate) fn now() -> Timestamp {
    ts("2026-04-10T12:00")
}

pub(crate) fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn date(s: &str) -> Date {
    Date::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

/// Order `n` of the scenario; its short id reads `a000000n`.
pub(crate) fn order(n: u32) -> OrderId {
    OrderId(Uuid::from_u128((u128::from(0xa000_0000u32 + n) << 96) | 0x0000_4000_8000_0000_0000_0000))
}

fn actor(name: &str, role: Role) -> Actor {
    Actor::named(name, role)
}

fn clerk() -> Actor {
    actor("li.na", Role::Sales)
}

fn reviewer(d: Department) -> Actor {
    let name = match d {
        Department::Production => "wu.prod",
        Department::Procurement => "chen.proc",
        Department::Finance => "zhou.fin",
        Department::Warehouse => "sun.wh",
    };
    actor(name, d.role())
}

fn logistics() -> Actor {
    actor("ma.log", Role::Logistics)
}

fn quality() -> Actor {
    actor("he.qc", Role::Quality)
}

fn service() -> Actor {
    actor("lin.cs", Role::CustomerService)
}

fn archivist() -> Actor {
    actor("gao.arch", Role::Archivist)
}

fn auditor() -> Actor {
    actor("xu.audit", Role::Auditor)
}

pub(crate) fn lines(spec: &[(&str, u32, i64)]) -> Vec<OrderLine> {
    spec.iter()
        .enumerate()
        .map(|(i, &(sku, quantity, unit_price_minor))| OrderLine {
            line_no: u16::try_from(i + 1).unwrap_or(u16::MAX),
            sku: sku.into(),
            spec: "standard".into(),
            quantity,
            unit: "pcs".into(),
            unit_price_minor,
        })
        .collect()
}

fn full(lines: &[OrderLine]) -> Vec<LineQuantity> {
    lines.iter().map(|l| LineQuantity { line_no: l.line_no, quantity: l.quantity }).collect()
}

/// Events of several orders, appended in effective-time order (stable for equal times).
#[derive(Default)]
pub(crate) struct Builder {
    events: Vec<(OrderId, Event)>,
}

impl Builder {
    pub(crate) fn push(
        &mut self,
        o: OrderId,
        actor: Actor,
        at: &str,
        body: impl Into<EventBody>,
    ) -> &mut Self {
        self.events.push((o, Event::new(actor, ts(at), body)));
        self
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn received(
        &mut self,
        o: OrderId,
        at: &str,
        customer: &str,
        channel: Channel,
        currency: &str,
        spec: &[(&str, u32, i64)],
        requested: &str,
        review_due: &str,
    ) -> &mut Self {
        let lines = lines(spec);
        let total_minor = lines.iter().filter_map(OrderLine::amount_minor).sum();
        self.push(
            o,
            clerk(),
            at,
            OrderReceived {
                channel,
                customer: customer.into(),
                contact: format!(
                    "buyer@{}.example",
                    customer.split(' ').next().unwrap_or("x").to_lowercase()
                ),
                lines,
                currency: Currency::parse(currency).unwrap_or_else(|e| panic!("{e}")),
                total_minor,
                requested_date: date(requested),
                delivery_address: "1 Harbour Road".into(),
                special_requirements: "keep cold".into(),
                review_due: ts(review_due),
                review_due_by: Department::ALL
                    .iter()
                    .map(|d| RoleDue { role: d.role(), due: ts(review_due) })
                    .collect(),
            },
        )
    }

    /// Every department approves `revision` at the four times, then the order is approved at
    /// the last one.
    pub(crate) fn approve_all(&mut self, o: OrderId, revision: u32, times: [&str; 4]) -> &mut Self {
        for (d, at) in Department::ALL.iter().zip(times) {
            self.push(o, reviewer(*d), at, ReviewApproved { department: *d, revision, note: String::new() });
        }
        self.push(o, clerk(), times[3], OrderApproved { revision })
    }

    pub(crate) fn confirmed(&mut self, o: OrderId, at: &str, promised: &str) -> &mut Self {
        self.push(
            o,
            clerk(),
            at,
            OrderConfirmed {
                promised_date: date(promised),
                note: "read back".into(),
                revision: None,
                expected_ship_date: None,
                delivery_mode: None,
                confirmed_via: None,
            },
        )
    }

    pub(crate) fn produced(
        &mut self,
        o: OrderId,
        scheduled: &str,
        inspections: &[(&str, InspectionResult)],
    ) -> &mut Self {
        let finish = ts(scheduled).date().plus_days(7);
        self.push(
            o,
            actor("zhao.plan", Role::Production),
            scheduled,
            ProductionScheduled { planned_finish: finish, note: "line 2".into() },
        );
        for (at, result) in inspections {
            self.push(o, quality(), at, QualityInspected { result: *result, note: String::new() });
        }
        self
    }

    pub(crate) fn completed(&mut self, o: OrderId, at: &str) -> &mut Self {
        self.push(o, actor("zhao.plan", Role::Production), at, ProductionCompleted { note: String::new() })
    }

    pub(crate) fn shipped(
        &mut self,
        o: OrderId,
        at: &str,
        carrier: &str,
        tracking: &str,
        eta: &str,
        l: &[OrderLine],
    ) -> &mut Self {
        self.push(
            o,
            logistics(),
            at,
            OrderShipped {
                carrier: carrier.into(),
                mode: ShipMode::ColdChain,
                tracking_number: tracking.into(),
                eta: date(eta),
                lines: full(l),
                revision: None,
                unconfirmed_reason: None,
            },
        )
    }

    pub(crate) fn delivered(&mut self, o: OrderId, at: &str) -> &mut Self {
        self.push(o, logistics(), at, OrderDelivered { note: "POD signed".into() })
    }

    pub(crate) fn signed(
        &mut self,
        o: OrderId,
        at: &str,
        accepted: Vec<LineQuantity>,
        full: bool,
    ) -> &mut Self {
        self.push(
            o,
            service(),
            at,
            OrderSigned { signed_by: "receiving clerk".into(), accepted, full, note: String::new() },
        )
    }

    pub(crate) fn feedback(&mut self, o: OrderId, at: &str, score: u8) -> &mut Self {
        self.push(o, service(), at, FeedbackRecorded { score, comment: format!("score {score}") })
    }

    pub(crate) fn closed(&mut self, o: OrderId, at: &str, until: &str) -> &mut Self {
        self.push(o, archivist(), at, OrderClosed { retention_until: date(until), override_reason: None })
    }

    /// Marks the events of order `o` effective at `at` as entered late, with `reason`.
    pub(crate) fn late(&mut self, o: OrderId, at: &str, reason: &str) -> &mut Self {
        let at = ts(at);
        let mut marked = 0;
        for (_, e) in self.events.iter_mut().filter(|(x, e)| *x == o && e.at == at) {
            e.late = Some(LateEntry { reason: reason.into() });
            marked += 1;
        }
        assert!(marked > 0, "no event of {o} at {at} to mark late");
        self
    }

    /// Marks as entered late every event but the archive reads (which are recorded as they
    /// happen) whose index in the builder `pick` chooses; returns the orders they belong to.
    pub(crate) fn late_where(&mut self, mut pick: impl FnMut(usize) -> bool) -> (usize, Vec<OrderId>) {
        let mut orders = Vec::new();
        let mut marked = 0;
        for (i, (o, e)) in self.events.iter_mut().enumerate() {
            let read = matches!(e.body, EventBody::ArchiveAccessed(_) | EventBody::ArchiveAccessRefused(_));
            if !read && pick(i) {
                e.late = Some(LateEntry { reason: format!("late {i}") });
                marked += 1;
                if !orders.contains(o) {
                    orders.push(*o);
                }
            }
        }
        (marked, orders)
    }

    /// Leaves out every event effective after `at` (the log as it stood then).
    pub(crate) fn until(&mut self, at: &str) -> &mut Self {
        let at = ts(at);
        self.events.retain(|(_, e)| e.at <= at);
        self
    }

    /// Leaves out every event of these orders.
    pub(crate) fn without(&mut self, orders: &[OrderId]) -> &mut Self {
        self.events.retain(|(o, _)| !orders.contains(o));
        self
    }

    /// Appends every event, one append per event as the command handlers do, in time order.
    pub(crate) fn append_to(&mut self, log: &EventLog) {
        self.events.sort_by_key(|(_, e)| e.at);
        for (o, e) in self.events.drain(..) {
            append(log, o, &e);
        }
    }
}

static COMMAND_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Appends one event to an order's stream.
pub(crate) fn append(log: &EventLog, o: OrderId, e: &Event) -> u64 {
    let (event_type, schema_version, payload) = encode_event(e).unwrap_or_else(|e| panic!("{e}"));
    append_raw(log, o, NewEvent { event_type, schema_version, payload })
}

/// Appends an already encoded event; returns its position.
pub(crate) fn append_raw(log: &EventLog, o: OrderId, event: NewEvent) -> u64 {
    let n = COMMAND_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let req = AppendRequest {
        stream: o.0,
        expected: ExpectedVersion::Any,
        command_id: Uuid::from_u128(u128::from(n)),
        events: vec![event],
    };
    match log.append_blocking(req) {
        Ok(Appended::Committed(c)) => c.first_position,
        other => panic!("append failed: {other:?}"),
    }
}

/// A log in a temporary directory.
pub(crate) struct Scenario {
    pub(crate) log: EventLog,
    _dir: TempDir,
}

/// An empty log.
pub(crate) fn empty() -> Scenario {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let log = EventLog::open(LogConfig::new(dir.path())).unwrap_or_else(|e| panic!("{e}"));
    Scenario { log, _dir: dir }
}

/// The standard scenario (see the module documentation).
pub(crate) fn standard() -> Scenario {
    let s = empty();
    standard_events().append_to(&s.log);
    s
}

/// A hold placed by the archivist.
pub(crate) fn hold(reason: &str) -> (Actor, ArchiveHoldPlaced) {
    (archivist(), ArchiveHoldPlaced { reason: reason.into() })
}

/// An archive read by the auditor.
pub(crate) fn access(kind: AccessKind, detail: &str) -> (Actor, ArchiveAccessed) {
    (auditor(), ArchiveAccessed { access: kind, detail: detail.into() })
}

pub(crate) fn standard_events() -> Builder {
    use InspectionResult::*;
    let mut b = Builder::default();
    let (o1, o2, o3, o4, o5, o6, o7, o8) =
        (order(1), order(2), order(3), order(4), order(5), order(6), order(7), order(8));

    // O1: happy path.
    let l1 = lines(&[("MILK-1L", 100, 500), ("YOG-150", 200, 150)]);
    b.received(
        o1,
        "2026-03-02T09:00",
        "Acme Dairy",
        Channel::Phone,
        "CNY",
        &[("MILK-1L", 100, 500), ("YOG-150", 200, 150)],
        "2026-03-20",
        "2026-03-04T09:00",
    )
    .approve_all(o1, 1, ["2026-03-02T11:00", "2026-03-02T12:00", "2026-03-02T14:00", "2026-03-02T15:00"])
    .confirmed(o1, "2026-03-02T16:00", "2026-03-18")
    .produced(o1, "2026-03-03T08:00", &[("2026-03-10T10:00", Pass)])
    .completed(o1, "2026-03-10T12:00")
    .shipped(o1, "2026-03-11T08:00", "SF Express", "SF001", "2026-03-13", &l1)
    .delivered(o1, "2026-03-13T10:00")
    .signed(o1, "2026-03-13T11:00", full(&l1), true)
    .feedback(o1, "2026-03-20T10:00", 5)
    .closed(o1, "2026-03-31T10:00", "2036-03-31");
    let (who, h) = hold("audit sample");
    b.push(o1, who, "2026-04-03T09:00", h);
    b.push(o1, archivist(), "2026-04-04T09:00", ArchiveHoldReleased { note: "sample checked".into() });
    let (who, a) = access(AccessKind::History, "quarterly audit");
    b.push(o1, who, "2026-04-02T10:00", a);

    // O2: rejected by finance.
    b.received(
        o2,
        "2026-03-03T09:00",
        "Bright Foods",
        Channel::Email,
        "CNY",
        &[("CHEESE-200", 50, 2_000)],
        "2026-03-25",
        "2026-03-05T09:00",
    )
    .push(
        o2,
        reviewer(Department::Production),
        "2026-03-03T13:00",
        ReviewApproved { department: Department::Production, revision: 1, note: "capacity ok".into() },
    )
    .push(
        o2,
        reviewer(Department::Finance),
        "2026-03-04T10:00",
        ReviewRejected {
            department: Department::Finance,
            revision: 1,
            reason: "credit limit exceeded".into(),
        },
    )
    .push(
        o2,
        clerk(),
        "2026-03-04T10:00",
        OrderRejected {
            revision: 1,
            department: Department::Finance,
            reason: "credit limit exceeded".into(),
        },
    );

    // O3: change with re-approval, rework, delay, late partial sign-off, complaint reopened.
    let l3 = lines(&[("MILK-1L", 240, 500), ("BUTTER-250", 40, 1_200)]);
    b.received(
        o3,
        "2026-03-05T09:00",
        "Acme Dairy",
        Channel::Online,
        "CNY",
        &[("MILK-1L", 200, 500), ("BUTTER-250", 40, 1_200)],
        "2026-03-25",
        "2026-03-07T09:00",
    )
    .approve_all(o3, 1, ["2026-03-05T10:00", "2026-03-05T11:00", "2026-03-05T13:00", "2026-03-05T14:00"])
    .confirmed(o3, "2026-03-05T15:00", "2026-03-24")
    .push(
        o3,
        clerk(),
        "2026-03-09T10:00",
        OrderChanged {
            revision: 2,
            reason: "customer promotion needs more milk".into(),
            changes: vec![
                FieldChange { field: "line 1 quantity".into(), old: "200".into(), new: "240".into() },
                FieldChange {
                    field: "requested date".into(),
                    old: "2026-03-25".into(),
                    new: "2026-03-27".into(),
                },
                FieldChange {
                    field: "promised date".into(),
                    old: "2026-03-24".into(),
                    new: "2026-03-27".into(),
                },
            ],
            lines: l3.clone(),
            total_minor: 168_000,
            requested_date: date("2026-03-27"),
            promised_date: Some(date("2026-03-27")),
            delivery_address: "1 Harbour Road".into(),
            reapproval_required: true,
            review_due: Some(ts("2026-03-11T10:00")),
            review_due_by: orderflow_schemas::Department::ALL
                .iter()
                .map(|d| orderflow_schemas::RoleDue { role: d.role(), due: ts("2026-03-11T10:00") })
                .collect(),
            request_id: None,
            initiated_by: None,
        },
    )
    .approve_all(o3, 2, ["2026-03-09T14:00", "2026-03-09T14:30", "2026-03-09T15:00", "2026-03-09T16:00"])
    .produced(o3, "2026-03-10T08:00", &[("2026-03-18T10:00", Rework), ("2026-03-19T10:00", Pass)])
    .completed(o3, "2026-03-19T15:00")
    .shipped(o3, "2026-03-20T09:00", "DHL", "DHL123", "2026-03-24", &l3)
    .push(
        o3,
        logistics(),
        "2026-03-23T12:00",
        ShipmentDelayed { new_eta: date("2026-03-30"), reason: "truck breakdown".into() },
    )
    .delivered(o3, "2026-03-30T10:00")
    .signed(
        o3,
        "2026-03-30T16:00",
        vec![LineQuantity { line_no: 1, quantity: 230 }, LineQuantity { line_no: 2, quantity: 40 }],
        false,
    )
    .push(
        o3,
        service(),
        "2026-04-01T09:00",
        ComplaintOpened {
            complaint_id: 1,
            category: ComplaintCategory::Quantity,
            severity: Severity::Medium,
            text: "10 bottles damaged".into(),
            assignee: None,
            respond_by: None,
        },
    )
    .push(
        o3,
        service(),
        "2026-04-03T09:00",
        ComplaintResolved {
            complaint_id: 1,
            resolution: "credit note".into(),
            customer_satisfied: false,
            remedy: None,
        },
    )
    .push(
        o3,
        service(),
        "2026-04-06T09:00",
        ComplaintReopened { complaint_id: 1, reason: "credit note amount wrong".into() },
    )
    .push(
        o3,
        service(),
        "2026-04-08T09:00",
        ComplaintResolved {
            complaint_id: 1,
            resolution: "corrected credit note".into(),
            customer_satisfied: true,
            remedy: None,
        },
    )
    .feedback(o3, "2026-04-10T09:00", 3);

    // O4: cancelled after confirmation.
    b.received(
        o4,
        "2026-03-06T09:00",
        "Coastal Retail",
        Channel::SalesRep,
        "EUR",
        &[("YOG-150", 1_000, 140)],
        "2026-03-28",
        "2026-03-08T09:00",
    )
    .approve_all(o4, 1, ["2026-03-06T10:00", "2026-03-06T10:30", "2026-03-06T11:00", "2026-03-06T12:00"])
    .confirmed(o4, "2026-03-06T13:00", "2026-03-28")
    .push(
        o4,
        clerk(),
        "2026-03-12T09:00",
        OrderCancelled {
            reason: "customer lost its contract".into(),
            initiated_by: Some(Initiator::Customer),
        },
    );

    // O5: never confirmed, on time, two complaints, hold kept, closed, exported.
    let l5 = lines(&[("CHEESE-200", 30, 2_000)]);
    b.received(
        o5,
        "2026-03-09T09:00",
        "Bright Foods",
        Channel::Phone,
        "CNY",
        &[("CHEESE-200", 30, 2_000)],
        "2026-03-12",
        "2026-03-11T09:00",
    )
    .approve_all(o5, 1, ["2026-03-09T10:00", "2026-03-09T11:00", "2026-03-09T12:00", "2026-03-09T13:00"])
    .produced(o5, "2026-03-10T08:00", &[("2026-03-11T09:00", Pass)])
    .completed(o5, "2026-03-11T10:00")
    .shipped(o5, "2026-03-11T12:00", "SF Express", "SF005", "2026-03-12", &l5)
    .delivered(o5, "2026-03-12T09:00")
    .signed(o5, "2026-03-12T10:00", full(&l5), true)
    .push(
        o5,
        service(),
        "2026-03-14T09:00",
        ComplaintOpened {
            complaint_id: 1,
            category: ComplaintCategory::Quality,
            severity: Severity::High,
            text: "mould found".into(),
            assignee: None,
            respond_by: None,
        },
    )
    .push(
        o5,
        service(),
        "2026-03-16T09:00",
        ComplaintResolved {
            complaint_id: 1,
            resolution: "batch replaced".into(),
            customer_satisfied: true,
            remedy: None,
        },
    )
    .push(
        o5,
        service(),
        "2026-03-16T10:00",
        ComplaintOpened {
            complaint_id: 2,
            category: ComplaintCategory::Delivery,
            severity: Severity::Low,
            text: "driver late to dock".into(),
            assignee: None,
            respond_by: None,
        },
    )
    .feedback(o5, "2026-03-17T09:00", 4);
    let (who, h) = hold("dispute over complaint 1");
    b.push(o5, who, "2026-03-20T09:00", h);
    b.closed(o5, "2026-03-31T11:00", "2036-03-31");
    let (who, a) = access(AccessKind::Export, "o5-export.json for the insurer");
    b.push(o5, who, "2026-04-05T10:00", a);

    // O6: in review, overdue.
    b.received(
        o6,
        "2026-04-01T09:00",
        "Delta Bakery",
        Channel::Online,
        "CNY",
        &[("BUTTER-250", 100, 1_200)],
        "2026-04-20",
        "2026-04-03T09:00",
    )
    .push(
        o6,
        reviewer(Department::Production),
        "2026-04-01T12:00",
        ReviewApproved { department: Department::Production, revision: 1, note: String::new() },
    );

    // O7: scrapped at first inspection, shipped, delayed past the promise.
    let l7 = lines(&[("MILK-1L", 500, 480)]);
    b.received(
        o7,
        "2026-04-02T09:00",
        "Delta Bakery",
        Channel::Phone,
        "EUR",
        &[("MILK-1L", 500, 480)],
        "2026-04-14",
        "2026-04-04T09:00",
    )
    .approve_all(o7, 1, ["2026-04-02T11:00", "2026-04-02T13:00", "2026-04-02T15:00", "2026-04-02T17:00"])
    .confirmed(o7, "2026-04-02T18:00", "2026-04-12")
    .produced(o7, "2026-04-03T08:00", &[("2026-04-07T10:00", Scrap), ("2026-04-08T10:00", Pass)])
    .completed(o7, "2026-04-08T12:00")
    .shipped(o7, "2026-04-09T08:00", "COSCO", "CSL777", "2026-04-11", &l7)
    .push(
        o7,
        logistics(),
        "2026-04-10T08:00",
        ShipmentDelayed { new_eta: date("2026-04-14"), reason: "port congestion".into() },
    );

    // O8: scheduled, past its promise.
    b.received(
        o8,
        "2026-04-03T09:00",
        "Acme Dairy",
        Channel::Email,
        "CNY",
        &[("YOG-150", 300, 150)],
        "2026-04-08",
        "2026-04-05T09:00",
    )
    .approve_all(o8, 1, ["2026-04-03T10:00", "2026-04-03T11:00", "2026-04-03T13:00", "2026-04-03T15:00"])
    .confirmed(o8, "2026-04-03T16:00", "2026-04-08")
    .produced(o8, "2026-04-04T08:00", &[]);
    b
}
