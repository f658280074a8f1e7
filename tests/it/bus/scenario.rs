//! A scenario builder: orders with realistic event sequences, appended to a real `EventLog` as
//! commands (each command one append of one or more encoded events), orders interleaved.

use orderflow_engine::{AppendRequest, Appended, EventLog, ExpectedVersion, NewEvent};
use orderflow_schemas::*;
use uuid::Uuid;

/// 2026-03-01T08:00:00Z in microseconds.
const T0_US: i64 = 1_772_352_000_000_000;

fn actor(name: &str, role: Role) -> Actor {
    Actor::named(name, role)
}

fn date(days_from_t0: i32) -> Date {
    Timestamp(T0_US).date().plus_days(days_from_t0)
}

fn lines(n: usize, quantity: u32) -> Vec<OrderLine> {
    (1..=n)
        .map(|i| OrderLine {
            line_no: u16::try_from(i).expect("few lines"),
            sku: format!("SKU-{:04}", 100 + i),
            spec: format!("grade A, carton of {}", 6 * i),
            quantity: quantity * u32::try_from(i).expect("few lines"),
            unit: "pcs".to_string(),
            unit_price_minor: 1250 * i64::try_from(i).expect("few lines"),
        })
        .collect()
}

fn total(lines: &[OrderLine]) -> i64 {
    lines.iter().map(|l| l.amount_minor().expect("small amounts")).sum()
}

/// Builds one order's commands; each command is the events of one append.
struct Story {
    order: usize,
    clock_us: i64,
    commands: Vec<Vec<Event>>,
}

impl Story {
    fn new(order: usize) -> Self {
        Self {
            order,
            clock_us: T0_US + i64::try_from(order).expect("few orders") * 60_000_000,
            commands: Vec::new(),
        }
    }

    /// One command of several events, one hour after the previous command.
    fn cmd(&mut self, who: Actor, bodies: Vec<EventBody>) -> &mut Self {
        self.clock_us += 3_600_000_000;
        let at = Timestamp(self.clock_us);
        self.commands.push(bodies.into_iter().map(|body| Event::new(who.clone(), at, body)).collect());
        self
    }

    fn one(&mut self, who: Actor, body: impl Into<EventBody>) -> &mut Self {
        self.cmd(who, vec![body.into()])
    }

    fn received(&mut self, n_lines: usize) -> &mut Self {
        let l = lines(n_lines, 10 + u32::try_from(self.order % 7).expect("small"));
        let body = OrderReceived {
            channel: Channel::ALL[self.order % Channel::ALL.len()],
            customer: format!("Customer {}", self.order),
            contact: format!("buyer{}@example.com", self.order),
            total_minor: total(&l),
            lines: l,
            currency: Currency::parse("CNY").expect("currency"),
            requested_date: date(30),
            delivery_address: format!("No. {} Harbour Road", self.order + 1),
            special_requirements: "keep dry".to_string(),
            review_due: Timestamp(self.clock_us).plus_hours(48),
            review_due_by: Department::ALL
                .iter()
                .map(|d| RoleDue { role: d.role(), due: Timestamp(self.clock_us).plus_hours(48) })
                .collect(),
        };
        self.one(actor("li.clerk", Role::Sales), body)
    }

    /// Every department approves `revision`; the last approval approves the order (one command).
    fn approved(&mut self, revision: u32) -> &mut Self {
        let depts = Department::ALL;
        for d in &depts[..depts.len() - 1] {
            self.one(
                actor(&format!("{d}.lead"), d.role()),
                ReviewApproved { department: *d, revision, note: "ok".to_string() },
            );
        }
        let last = depts[depts.len() - 1];
        self.cmd(
            actor(&format!("{last}.lead"), last.role()),
            vec![
                ReviewApproved { department: last, revision, note: "ok".to_string() }.into(),
                OrderApproved { revision }.into(),
            ],
        )
    }

    fn confirmed(&mut self) -> &mut Self {
        self.one(
            actor("li.clerk", Role::Sales),
            OrderConfirmed {
                promised_date: date(28),
                note: "read back by phone".to_string(),
                revision: Some(1),
                expected_ship_date: Some(date(25)),
                delivery_mode: Some(DeliveryMode::Carrier),
                confirmed_via: Some(ConfirmMethod::Phone),
            },
        )
    }

    fn produced(&mut self, reworks: usize) -> &mut Self {
        self.one(
            actor("wang.planner", Role::Production),
            ProductionScheduled { planned_finish: date(20), note: "line 2, day shift".to_string() },
        );
        for _ in 0..reworks {
            self.one(
                actor("zhao.qc", Role::Quality),
                QualityInspected { result: InspectionResult::Rework, note: "seal leaks".to_string() },
            );
        }
        self.one(
            actor("zhao.qc", Role::Quality),
            QualityInspected { result: InspectionResult::Pass, note: "batch ok".to_string() },
        )
        .one(actor("wang.planner", Role::Production), ProductionCompleted { note: "done".to_string() })
    }

    fn shipped(&mut self) -> &mut Self {
        self.one(
            actor("chen.logistics", Role::Logistics),
            OrderShipped {
                carrier: "SF Express".to_string(),
                mode: ShipMode::ALL[self.order % ShipMode::ALL.len()],
                tracking_number: format!("SF{:08}", self.order),
                eta: date(27),
                lines: vec![LineQuantity { line_no: 1, quantity: 10 }],
                revision: None,
                unconfirmed_reason: None,
            },
        )
    }

    fn delivered(&mut self) -> &mut Self {
        self.one(actor("chen.logistics", Role::Logistics), OrderDelivered { note: "POD 1".to_string() })
    }

    fn signed(&mut self) -> &mut Self {
        self.one(
            actor("chen.logistics", Role::Logistics),
            OrderSigned {
                signed_by: "Mr. Customer".to_string(),
                accepted: vec![LineQuantity { line_no: 1, quantity: 10 }],
                full: true,
                note: String::new(),
            },
        )
    }

    fn feedback(&mut self) -> &mut Self {
        self.one(
            actor("sun.service", Role::CustomerService),
            FeedbackRecorded { score: 4, comment: "fine".to_string() },
        )
        .one(
            actor("li.clerk", Role::Sales),
            OrderClosed { retention_until: date(3 * 365), override_reason: None },
        )
    }

    fn complaint_cycle(&mut self) -> &mut Self {
        let cs = || actor("sun.service", Role::CustomerService);
        self.one(
            cs(),
            ComplaintOpened {
                complaint_id: 1,
                category: ComplaintCategory::Quality,
                severity: Severity::Medium,
                text: "two cartons dented".to_string(),
                assignee: Some("sun.service".to_string()),
                respond_by: None,
            },
        )
        .one(
            cs(),
            ComplaintResolved {
                complaint_id: 1,
                resolution: "credit note".to_string(),
                customer_satisfied: false,
                remedy: Some(Remedy::Credit),
            },
        )
        .one(cs(), ComplaintReopened { complaint_id: 1, reason: "credit too small".to_string() })
        .one(
            cs(),
            ComplaintResolved {
                complaint_id: 1,
                resolution: "replacement".to_string(),
                customer_satisfied: true,
                remedy: Some(Remedy::Replacement),
            },
        )
    }

    fn changed(&mut self) -> &mut Self {
        let l = lines(2, 25);
        self.one(
            actor("li.clerk", Role::Sales),
            OrderChanged {
                revision: 2,
                reason: "customer needs more".to_string(),
                changes: vec![FieldChange {
                    field: "line 1 quantity".to_string(),
                    old: "10".to_string(),
                    new: "25".to_string(),
                }],
                total_minor: total(&l),
                lines: l,
                requested_date: date(35),
                promised_date: Some(date(33)),
                delivery_address: "No. 1 Harbour Road".to_string(),
                reapproval_required: true,
                review_due: Some(Timestamp(self.clock_us).plus_hours(48)),
                review_due_by: Department::ALL
                    .iter()
                    .map(|d| orderflow_schemas::RoleDue {
                        role: d.role(),
                        due: Timestamp(self.clock_us).plus_hours(48),
                    })
                    .collect(),
                request_id: None,
                initiated_by: Some(Initiator::Customer),
            },
        )
    }
}

/// The commands of order number `i`; five kinds of stories, chosen by `i % 5`.
fn story(i: usize) -> Vec<Vec<Event>> {
    let mut s = Story::new(i);
    match i % 5 {
        // Straight through.
        0 => {
            s.received(2).approved(1).confirmed().produced(0).shipped().delivered().signed().feedback();
        }
        // Changed after approval, re-approved, reworked, delayed, complaint reopened.
        1 => {
            s.received(1).approved(1).confirmed().changed().approved(2).produced(1).shipped();
            s.one(
                actor("chen.logistics", Role::Logistics),
                ShipmentDelayed { new_eta: date(31), reason: "storm".to_string() },
            );
            s.delivered().signed().complaint_cycle().feedback();
        }
        // Cancelled after approval.
        2 => {
            s.received(3).approved(1).confirmed();
            s.one(
                actor("li.clerk", Role::Sales),
                OrderCancelled {
                    reason: "customer withdrew".to_string(),
                    initiated_by: Some(Initiator::Customer),
                },
            );
        }
        // Refused at delivery.
        3 => {
            s.received(1).approved(1).confirmed().produced(0).shipped().delivered();
            s.one(
                actor("chen.logistics", Role::Logistics),
                OrderRefused { refused_by: "warehouse gate".to_string(), reason: "wrong labels".to_string() },
            );
        }
        // Rejected in review.
        _ => {
            s.received(1).cmd(
                actor("finance.lead", Role::Finance),
                vec![
                    ReviewRejected { department: Department::Finance, revision: 1, reason: "credit".into() }
                        .into(),
                    OrderRejected { revision: 1, department: Department::Finance, reason: "credit".into() }
                        .into(),
                ],
            );
        }
    }
    s.commands
}

/// The order id of order number `i` in a scenario with this seed.
pub(crate) fn order_id(seed: u64, i: usize) -> Uuid {
    Uuid::from_u128((u128::from(seed) << 64) | u128::try_from(i).expect("few orders"))
}

/// Appends orders `range` (story `i` for order `i`), interleaving their commands round-robin;
/// returns the number of events appended. Every append must commit.
pub(crate) async fn append_orders(log: &EventLog, seed: u64, range: std::ops::Range<usize>) -> u64 {
    let stories: Vec<(Uuid, Vec<Vec<Event>>)> = range.map(|i| (order_id(seed, i), story(i))).collect();
    let steps = stories.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
    let mut appended = 0;
    for step in 0..steps {
        for (order, commands) in &stories {
            let Some(command) = commands.get(step) else { continue };
            let events: Vec<NewEvent> = command
                .iter()
                .map(|e| {
                    let (event_type, schema_version, payload) = encode_event(e).expect("encode");
                    NewEvent { event_type, schema_version, payload }
                })
                .collect();
            let version = log.stream_version(*order).expect("stream version");
            let req = AppendRequest {
                stream: *order,
                expected: ExpectedVersion::Exact(version),
                command_id: Uuid::new_v4(),
                events,
            };
            match log.append(req).await.expect("append") {
                Appended::Committed(c) => appended += c.count,
                other => panic!("append of order {order} step {step} not committed: {other:?}"),
            }
        }
    }
    appended
}
