//! The read models on events of schema version 3: change requests (applied, declined,
//! withdrawn, internal), per-department review deadlines and their escalation, confirmation
//! facts, who cancelled, complaint follow-up and visits. Every figure is computed by hand below.
//!
//! The June scenario (CNY; unit prices in minor units, so 10_000 is 100.00):
//! - P1: A 10 × 100.00 = 1,000.00, requested 06-20. Dues: production 06-01 17:00,
//!   procurement 06-02 09:00, finance 06-02 09:00, warehouse 06-01 12:00. Decisions:
//!   production 06-01 15:00 (in time), finance 06-01 16:00 (in time), warehouse 06-01 13:00
//!   (late), procurement 06-02 10:00 (late); approved 06-02 10:00; confirmed 06-02 11:00,
//!   promised 06-18 (expected to ship 06-16, own fleet, by phone). Change request 1 (customer)
//!   06-03 09:00: 20 units (2,000.00), promised 06-24, revision 2, the five reviewers due 06-04
//!   09:00; production, procurement, finance, warehouse approve 06-03 12:00 (in time), logistics
//!   06-04 10:00 (late); applied 06-04 10:00. Re-confirmed 06-04 11:00 promising 06-28
//!   (expected to ship 06-26, carrier, by e-mail). Delivered 06-23 10:00, signed in full 06-23
//!   11:00. Visit 06-30 by phone, score 5.
//! - P2: B 5 × 200.00 = 1,000.00, requested 06-15, all due 06-02 10:00, all approve 06-01 12:00;
//!   confirmed 06-01 13:00 promised 06-14. Request 1 (customer) 06-05 09:00: 50 units, promised
//!   06-30, deciders production, finance, logistics due 06-06 09:00; finance approves 06-05
//!   10:00 (in time); production declines 06-06 12:00 (late) — logistics never decided, past its
//!   due when the request ended. Request 2 (internal) 06-07 09:00: a new address, logistics due
//!   06-08 09:00, approved 06-07 15:00; applied 06-07 15:00 with a promised date of 06-12 in the
//!   event (an internal change: ignored). Delivered 06-14 09:00, signed in full 06-14 10:00.
//!   Visit 06-25 by e-mail, no answer. Complaint 1 opened 07-10 09:00 (26 days after delivery),
//!   assigned to lin.cs, first response due 07-11 09:00; progress 07-11 08:00; resolved 07-16
//!   09:00, customer not satisfied.
//! - P3: C 1 × 500.00, requested 06-30, all due 06-03 09:00, all approve 06-02 12:00; confirmed
//!   06-02 13:00 promised 06-28. Request 1 (customer) 06-04 09:00, production due 06-05 09:00,
//!   withdrawn 06-04 12:00 (before its due). Cancelled by the customer 06-10 09:00.
//! - P4: D 2 × 100.00, requested 06-20, all due 06-03 10:00, all approve 06-02 11:00; confirmed
//!   06-02 12:00 promised 06-19. Cancelled 06-12 09:00 with no `initiated_by` (before version
//!   3: internal).
//! - P5: E 1 × 100.00, requested 06-25. Dues: production and procurement 06-04 09:00, finance
//!   and warehouse 06-05 09:00. Production approves 06-03 12:00 (in time); the others stay open.
//!   Procurement's review is escalated 06-04 09:05 to dept_head:procurement.
//! - P6: F 4 × 100.00, requested 06-20, all due 06-04 10:00, all approve 06-03 11:00; confirmed
//!   06-03 12:00 promised 06-19. A change of before version 3 (no request, no initiator) 06-05
//!   09:00: 6 units (600.00), promised 06-21, re-approval due 06-06 09:00; procurement, finance,
//!   warehouse approve 06-05 12:00 (in time), production 06-06 10:00 (late); approved 06-06
//!   10:00. Delivered 06-20 10:00, refused 06-20 11:00. Feedback 06-21: 2.

use orderflow_projections::{
    Group, KpiFacts, KpiQuery, Ratio, ReviewQuery, ReviewRow, Runner, RunnerConfig, StatusBoard, TableWidth,
};
use orderflow_schemas::*;

use crate::scenario::{date, empty, lines, order, ts, Builder, Scenario};

fn p(n: u32) -> OrderId {
    order(30 + n)
}

fn who(login: &str, role: Role) -> Actor {
    Actor::named(login, role)
}

fn sales() -> Actor {
    who("li.na", Role::Sales)
}

fn due(role: Role, at: &str) -> RoleDue {
    RoleDue { role, due: ts(at) }
}

fn all_due(at: &str) -> Vec<RoleDue> {
    Department::ALL.iter().map(|d| due(d.role(), at)).collect()
}

fn reviewer(d: Department) -> Actor {
    who(&format!("{d}.reviewer"), d.role())
}

fn full(l: &[OrderLine]) -> Vec<LineQuantity> {
    l.iter().map(|l| LineQuantity { line_no: l.line_no, quantity: l.quantity }).collect()
}

fn received(
    b: &mut Builder,
    o: OrderId,
    at: &str,
    sku: (&str, u32, i64),
    requested: &str,
    dues: Vec<RoleDue>,
) {
    let l = lines(&[sku]);
    let total_minor = l.iter().filter_map(OrderLine::amount_minor).sum();
    let review_due = dues.iter().map(|d| d.due).max().unwrap_or_default();
    b.push(
        o,
        sales(),
        at,
        OrderReceived {
            channel: Channel::Phone,
            customer: format!("Customer {}", o.short()),
            contact: "buyer@example.com".into(),
            lines: l,
            currency: Currency::parse("CNY").unwrap(),
            total_minor,
            requested_date: date(requested),
            delivery_address: "1 Harbour Road".into(),
            special_requirements: String::new(),
            review_due,
            review_due_by: dues,
        },
    );
}

fn review(b: &mut Builder, o: OrderId, d: Department, revision: u32, at: &str) {
    b.push(o, reviewer(d), at, ReviewApproved { department: d, revision, note: String::new() });
}

fn approve_all(b: &mut Builder, o: OrderId, revision: u32, at: &str) {
    for d in Department::ALL {
        review(b, o, *d, revision, at);
    }
    b.push(o, sales(), at, OrderApproved { revision });
}

fn confirm(
    b: &mut Builder,
    o: OrderId,
    at: &str,
    promised: &str,
    facts: Option<(&str, DeliveryMode, ConfirmMethod)>,
) {
    b.push(
        o,
        sales(),
        at,
        OrderConfirmed {
            promised_date: date(promised),
            note: String::new(),
            revision: facts.map(|_| 1),
            expected_ship_date: facts.map(|(d, _, _)| date(d)),
            delivery_mode: facts.map(|(_, m, _)| m),
            confirmed_via: facts.map(|(_, _, v)| v),
        },
    );
}

#[allow(clippy::too_many_arguments)]
fn change_requested(
    b: &mut Builder,
    o: OrderId,
    at: &str,
    request_id: u32,
    initiated_by: Initiator,
    sku: (&str, u32, i64),
    promised: &str,
    dues: Vec<RoleDue>,
) {
    let l = lines(&[sku]);
    let total_minor = l.iter().filter_map(OrderLine::amount_minor).sum();
    b.push(
        o,
        sales(),
        at,
        ChangeRequested {
            request_id,
            initiated_by,
            reason: "asked".into(),
            changes: vec![FieldChange { field: "line 1 quantity".into(), old: "a".into(), new: "b".into() }],
            lines: l,
            total_minor,
            requested_date: date("2026-06-30"),
            promised_date: Some(date(promised)),
            delivery_address: "1 Harbour Road".into(),
            revision: 2,
            review_due_by: dues,
            impact: Vec::new(),
        },
    );
}

fn change_approved(b: &mut Builder, o: OrderId, request_id: u32, role: Role, at: &str) {
    b.push(
        o,
        who(&format!("{role}.reviewer"), role),
        at,
        ChangeApproved { request_id, role, note: String::new() },
    );
}

#[allow(clippy::too_many_arguments)]
fn applied(
    b: &mut Builder,
    o: OrderId,
    at: &str,
    request_id: Option<u32>,
    initiated_by: Option<Initiator>,
    sku: (&str, u32, i64),
    promised: &str,
    reapproval_due: Option<&str>,
) {
    let l = lines(&[sku]);
    let total_minor = l.iter().filter_map(OrderLine::amount_minor).sum();
    b.push(
        o,
        sales(),
        at,
        OrderChanged {
            revision: 2,
            reason: "asked".into(),
            changes: vec![FieldChange { field: "line 1 quantity".into(), old: "a".into(), new: "b".into() }],
            lines: l,
            total_minor,
            requested_date: date("2026-06-30"),
            promised_date: Some(date(promised)),
            delivery_address: "1 Harbour Road".into(),
            reapproval_required: reapproval_due.is_some(),
            review_due: reapproval_due.map(ts),
            review_due_by: reapproval_due
                .map(ts)
                .map(|due| {
                    orderflow_schemas::Department::ALL
                        .iter()
                        .map(|d| orderflow_schemas::RoleDue { role: d.role(), due })
                        .collect()
                })
                .unwrap_or_default(),
            request_id,
            initiated_by,
        },
    );
}

fn deliver_and_sign(b: &mut Builder, o: OrderId, delivered: &str, signed: &str, l: &[OrderLine]) {
    let logistics = who("ma.log", Role::Logistics);
    b.push(o, logistics.clone(), delivered, OrderDelivered { note: String::new() });
    b.push(
        o,
        who("lin.cs", Role::CustomerService),
        signed,
        OrderSigned { signed_by: "clerk".into(), accepted: full(l), full: true, note: String::new() },
    );
}

fn cancelled(b: &mut Builder, o: OrderId, at: &str, initiated_by: Option<Initiator>) {
    b.push(o, sales(), at, OrderCancelled { reason: "no longer needed".into(), initiated_by });
}

fn visit(b: &mut Builder, o: OrderId, at: &str, method: VisitMethod, score: Option<u8>) {
    b.push(
        o,
        who("lin.cs", Role::CustomerService),
        at,
        VisitRecorded { method, score, comment: String::new() },
    );
}

/// The June scenario (see the module documentation).
fn june() -> Builder {
    use Department::*;
    let mut b = Builder::default();
    let cs = || who("lin.cs", Role::CustomerService);

    // P1.
    received(
        &mut b,
        p(1),
        "2026-06-01T09:00",
        ("A", 10, 10_000),
        "2026-06-20",
        vec![
            due(Role::Production, "2026-06-01T17:00"),
            due(Role::Procurement, "2026-06-02T09:00"),
            due(Role::Finance, "2026-06-02T09:00"),
            due(Role::Warehouse, "2026-06-01T12:00"),
        ],
    );
    review(&mut b, p(1), Production, 1, "2026-06-01T15:00");
    review(&mut b, p(1), Finance, 1, "2026-06-01T16:00");
    review(&mut b, p(1), Warehouse, 1, "2026-06-01T13:00");
    review(&mut b, p(1), Procurement, 1, "2026-06-02T10:00");
    b.push(p(1), sales(), "2026-06-02T10:00", OrderApproved { revision: 1 });
    confirm(
        &mut b,
        p(1),
        "2026-06-02T11:00",
        "2026-06-18",
        Some(("2026-06-16", DeliveryMode::OwnFleet, ConfirmMethod::Phone)),
    );
    let five: Vec<RoleDue> = CHANGE_REVIEWERS.iter().map(|r| due(*r, "2026-06-04T09:00")).collect();
    change_requested(
        &mut b,
        p(1),
        "2026-06-03T09:00",
        1,
        Initiator::Customer,
        ("A", 20, 10_000),
        "2026-06-24",
        five,
    );
    for role in [Role::Production, Role::Procurement, Role::Finance, Role::Warehouse] {
        change_approved(&mut b, p(1), 1, role, "2026-06-03T12:00");
    }
    change_approved(&mut b, p(1), 1, Role::Logistics, "2026-06-04T10:00");
    applied(
        &mut b,
        p(1),
        "2026-06-04T10:00",
        Some(1),
        Some(Initiator::Customer),
        ("A", 20, 10_000),
        "2026-06-24",
        None,
    );
    confirm(
        &mut b,
        p(1),
        "2026-06-04T11:00",
        "2026-06-28",
        Some(("2026-06-26", DeliveryMode::Carrier, ConfirmMethod::Email)),
    );
    deliver_and_sign(&mut b, p(1), "2026-06-23T10:00", "2026-06-23T11:00", &lines(&[("A", 20, 10_000)]));
    visit(&mut b, p(1), "2026-06-30T10:00", VisitMethod::Phone, Some(5));

    // P2.
    received(&mut b, p(2), "2026-06-01T10:00", ("B", 5, 20_000), "2026-06-15", all_due("2026-06-02T10:00"));
    approve_all(&mut b, p(2), 1, "2026-06-01T12:00");
    confirm(&mut b, p(2), "2026-06-01T13:00", "2026-06-14", None);
    change_requested(
        &mut b,
        p(2),
        "2026-06-05T09:00",
        1,
        Initiator::Customer,
        ("B", 50, 20_000),
        "2026-06-30",
        vec![
            due(Role::Production, "2026-06-06T09:00"),
            due(Role::Finance, "2026-06-06T09:00"),
            due(Role::Logistics, "2026-06-06T09:00"),
        ],
    );
    change_approved(&mut b, p(2), 1, Role::Finance, "2026-06-05T10:00");
    b.push(
        p(2),
        reviewer(Production),
        "2026-06-06T12:00",
        ChangeDeclined { request_id: 1, role: Role::Production, reason: "no capacity for 50".into() },
    );
    change_requested(
        &mut b,
        p(2),
        "2026-06-07T09:00",
        2,
        Initiator::Internal,
        ("B", 5, 20_000),
        "2026-06-14",
        vec![due(Role::Logistics, "2026-06-08T09:00")],
    );
    change_approved(&mut b, p(2), 2, Role::Logistics, "2026-06-07T15:00");
    applied(
        &mut b,
        p(2),
        "2026-06-07T15:00",
        Some(2),
        Some(Initiator::Internal),
        ("B", 5, 20_000),
        "2026-06-12",
        None,
    );
    deliver_and_sign(&mut b, p(2), "2026-06-14T09:00", "2026-06-14T10:00", &lines(&[("B", 5, 20_000)]));
    visit(&mut b, p(2), "2026-06-25T10:00", VisitMethod::Email, None);
    b.push(
        p(2),
        cs(),
        "2026-07-10T09:00",
        ComplaintOpened {
            complaint_id: 1,
            category: ComplaintCategory::Quality,
            severity: Severity::Medium,
            text: "labels peeling".into(),
            assignee: Some("lin.cs".into()),
            respond_by: Some(ts("2026-07-11T09:00")),
        },
    );
    b.push(
        p(2),
        cs(),
        "2026-07-11T08:00",
        ComplaintUpdated {
            complaint_id: 1,
            note: "sample collected".into(),
            next_step: "lab test by 07-15".into(),
        },
    );
    b.push(
        p(2),
        cs(),
        "2026-07-16T09:00",
        ComplaintResolved {
            complaint_id: 1,
            resolution: "credit note".into(),
            customer_satisfied: false,
            remedy: Some(Remedy::Credit),
        },
    );

    // P3.
    received(&mut b, p(3), "2026-06-02T09:00", ("C", 1, 50_000), "2026-06-30", all_due("2026-06-03T09:00"));
    approve_all(&mut b, p(3), 1, "2026-06-02T12:00");
    confirm(&mut b, p(3), "2026-06-02T13:00", "2026-06-28", None);
    change_requested(
        &mut b,
        p(3),
        "2026-06-04T09:00",
        1,
        Initiator::Customer,
        ("C", 3, 50_000),
        "2026-06-29",
        vec![due(Role::Production, "2026-06-05T09:00")],
    );
    b.push(
        p(3),
        sales(),
        "2026-06-04T12:00",
        ChangeWithdrawn { request_id: 1, reason: "customer changed mind".into() },
    );
    cancelled(&mut b, p(3), "2026-06-10T09:00", Some(Initiator::Customer));

    // P4.
    received(&mut b, p(4), "2026-06-02T10:00", ("D", 2, 10_000), "2026-06-20", all_due("2026-06-03T10:00"));
    approve_all(&mut b, p(4), 1, "2026-06-02T11:00");
    confirm(&mut b, p(4), "2026-06-02T12:00", "2026-06-19", None);
    cancelled(&mut b, p(4), "2026-06-12T09:00", None);

    // P5.
    received(
        &mut b,
        p(5),
        "2026-06-03T09:00",
        ("E", 1, 10_000),
        "2026-06-25",
        vec![
            due(Role::Production, "2026-06-04T09:00"),
            due(Role::Procurement, "2026-06-04T09:00"),
            due(Role::Finance, "2026-06-05T09:00"),
            due(Role::Warehouse, "2026-06-05T09:00"),
        ],
    );
    review(&mut b, p(5), Production, 1, "2026-06-03T12:00");
    b.push(
        p(5),
        who("orderflow", Role::System),
        "2026-06-04T09:05",
        ReviewOverdue {
            revision: 1,
            request_id: None,
            role: Role::Procurement,
            due: ts("2026-06-04T09:00"),
            escalated_to: Grant::DeptHead(Role::Procurement),
        },
    );

    // P6.
    received(&mut b, p(6), "2026-06-03T10:00", ("F", 4, 10_000), "2026-06-20", all_due("2026-06-04T10:00"));
    approve_all(&mut b, p(6), 1, "2026-06-03T11:00");
    confirm(&mut b, p(6), "2026-06-03T12:00", "2026-06-19", None);
    applied(
        &mut b,
        p(6),
        "2026-06-05T09:00",
        None,
        None,
        ("F", 6, 10_000),
        "2026-06-21",
        Some("2026-06-06T09:00"),
    );
    for d in [Procurement, Finance, Warehouse] {
        review(&mut b, p(6), d, 2, "2026-06-05T12:00");
    }
    review(&mut b, p(6), Production, 2, "2026-06-06T10:00");
    b.push(p(6), sales(), "2026-06-06T10:00", OrderApproved { revision: 2 });
    b.push(p(6), who("ma.log", Role::Logistics), "2026-06-20T10:00", OrderDelivered { note: String::new() });
    b.push(
        p(6),
        who("lin.cs", Role::CustomerService),
        "2026-06-20T11:00",
        OrderRefused { refused_by: "clerk".into(), reason: "wrong pallets".into() },
    );
    b.push(
        p(6),
        who("lin.cs", Role::CustomerService),
        "2026-06-21T09:00",
        FeedbackRecorded { score: 2, comment: String::new() },
    );
    b
}

fn log_of(mut b: Builder) -> Scenario {
    let s = empty();
    b.append_to(&s.log);
    s
}

fn kpi(s: &Scenario) -> KpiFacts {
    let mut runner = Runner::<KpiFacts>::open(&s.log, RunnerConfig::default()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.view().clone()
}

fn board(s: &Scenario) -> StatusBoard {
    let mut runner = Runner::<StatusBoard>::open(&s.log, RunnerConfig::default()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.view().clone()
}

fn ratio(num: u64, den: u64) -> Ratio {
    Ratio { num, den }
}

/// June by hand (see the module documentation):
/// - received 6; changed (a request of any outcome, or a change of before version 3): P1, P2,
///   P3, P6 → 4/6; cancelled P3, P4 → 2/6.
/// - sales (booked in June, neither rejected nor cancelled, at the approved revision): P1
///   2,000.00 (its applied request made revision 2 the approved one) + P2 1,000.00 (the declined
///   request changed nothing; the internal one kept the total) + P6 600.00 (re-approved) =
///   3,600.00; P5 not booked; P3 and P4 cancelled.
/// - OTD current: delivered P1 06-23 ≤ 06-24 (the customer's applied change; the re-confirmation
///   promising 06-28 does not move it) yes; P2 06-14 ≤ 06-14 (the internal change's 06-12 is
///   ignored) yes; P6 06-20 ≤ 06-21 (a change of before version 3 is the customer's) yes; P4
///   cancelled internally after booking: no; P3 cancelled by the customer: not counted → 3/4.
///   OTD original: P1 06-23 ≤ 06-18 no, P2 yes, P6 06-20 ≤ 06-19 no, P4 no → 1/4.
/// - OTIF (delivered, acceptance known): P1 yes, P2 yes, P6 refused no → 2/3.
/// - perfect (acceptance known in June): P1 yes; P2 has a complaint on 07-10, within 30 days of
///   06-14 (up to 07-14): no; P6 refused: no → 1/3.
/// - complaint rate (delivered in June): P2's one complaint over P1, P2, P6 → 1/3.
/// - CSAT: P1's visit 5 and P6's feedback 2 (P2's visit has no score): mean 3.5, 4–5 share 1/2.
///   Visit response: P1 answered, P2 did not → 1/2.
#[test]
fn june_figures_match_the_hand_computation() {
    let s = log_of(june());
    let f = kpi(&s);
    let r =
        f.report(&KpiQuery { group: Group::Month, from_month: None, to_month: None, exclude_late: false });
    let m = r.rows.iter().find(|x| x.month == "2026-06").expect("a June row");
    assert_eq!(m.orders_received, 6);
    assert_eq!(m.change_rate, ratio(4, 6));
    assert_eq!(m.cancellation_rate, ratio(2, 6));
    assert_eq!(m.sales_minor.get(&Currency::parse("CNY").unwrap()).copied(), Some(360_000));
    assert_eq!(m.otd_current, ratio(3, 4));
    assert_eq!(m.otd_original, ratio(1, 4));
    assert_eq!(m.otif, ratio(2, 3));
    assert_eq!(m.perfect_order, ratio(1, 3));
    assert_eq!(m.complaint_rate, ratio(1, 3));
    assert_eq!(m.satisfaction.responses, 2);
    assert_eq!(m.satisfaction.mean_score, Some(3.5));
    assert_eq!(m.satisfaction.share_4_5, ratio(1, 2));
    assert_eq!(m.visit_response_rate, ratio(1, 2));
}

/// Before the complaint (the log as of 07-01), P2 was a perfect order: 2/3. A pending change
/// request moves nothing: P1 as of 06-03 12:00 (request 1 pending, four of five approved)
/// still counts 1,000.00 at revision 1.
#[test]
fn perfect_orders_and_pending_requests_as_of_earlier_times() {
    let mut b = june();
    b.until("2026-07-01T00:00");
    let f = kpi(&log_of(b));
    let r =
        f.report(&KpiQuery { group: Group::Month, from_month: None, to_month: None, exclude_late: false });
    let m = r.rows.iter().find(|x| x.month == "2026-06").expect("a June row");
    assert_eq!(m.perfect_order, ratio(2, 3));

    let mut b = june();
    b.until("2026-06-03T12:00").without(&[p(2), p(3), p(4), p(5), p(6)]);
    let f = kpi(&log_of(b));
    let r =
        f.report(&KpiQuery { group: Group::Month, from_month: None, to_month: None, exclude_late: false });
    assert_eq!(r.rows[0].sales_minor.get(&Currency::parse("CNY").unwrap()).copied(), Some(100_000));
    assert_eq!(r.rows[0].change_rate, ratio(1, 1));
    assert_eq!(f.get(p(1)).unwrap().promise_current(), date("2026-06-18"));
}

fn review_row(rows: &[ReviewRow], role: Role) -> &ReviewRow {
    rows.iter()
        .find(|r| r.month == "2026-06" && r.role == role)
        .unwrap_or_else(|| panic!("no June row for {role}"))
}

/// Reviews in June by hand (in time = decided at or before the due time):
/// - production: P1 rev 1 in time, P1 request 1 in time, P2 rev 1 in time, P2 request 1
///   declined late, P3 rev 1, P4 rev 1, P5 rev 1, P6 rev 1 in time, P6 rev 2 late; P3's request
///   was withdrawn before its due: not counted → 9 decided, 7 in time → 7/9.
/// - procurement: P1 rev 1 late; P1 request, P2, P3, P4, P6 rev 1 and rev 2 in time → 7
///   decided, 6 in time → 6/7. P5's review is open, due 06-04 09:00: counted only when judged
///   at a time after it (06-04 18:00) → 6/8 with 1 undecided past due.
/// - finance: P1, P1 request, P2, P2 request, P3, P4, P6 rev 1 and 2, all in time → 8/8 (P5's
///   is due 06-05 09:00: not past due at 06-04 18:00).
/// - warehouse: P1 rev 1 late; P1 request, P2, P3, P4, P6 rev 1 and 2 in time → 6/7.
/// - logistics: P1 request 1 late (06-04 10:00 > 09:00), P2 request 2 in time; P2 request 1
///   ended by production's decline 06-06 12:00 after logistics' due 06-06 09:00: undecided past
///   due → 1/3.
#[test]
fn review_within_limit_by_department_matches_the_hand_computation() {
    let s = log_of(june());
    let f = kpi(&s);
    let without_clock = f.review_report(&ReviewQuery::default());
    let rows = &without_clock.rows;
    let got = |role| {
        let r = review_row(rows, role);
        (r.decided, r.decided_within_limit, r.undecided_past_due, r.within_limit)
    };
    assert_eq!(got(Role::Production), (9, 7, 0, ratio(7, 9)));
    assert_eq!(got(Role::Procurement), (7, 6, 0, ratio(6, 7)));
    assert_eq!(got(Role::Finance), (8, 8, 0, ratio(8, 8)));
    assert_eq!(got(Role::Warehouse), (7, 6, 0, ratio(6, 7)));
    assert_eq!(got(Role::Logistics), (2, 1, 1, ratio(1, 3)));
    assert_eq!(rows.len(), 5, "June only, five roles");

    let at = f.review_report(&ReviewQuery { now: Some(ts("2026-06-04T18:00")), ..ReviewQuery::default() });
    let proc_ = review_row(&at.rows, Role::Procurement);
    assert_eq!((proc_.undecided_past_due, proc_.within_limit), (1, ratio(6, 8)));
    assert_eq!(review_row(&at.rows, Role::Finance).within_limit, ratio(8, 8));
    let later = f.review_report(&ReviewQuery { now: Some(ts("2026-06-05T10:00")), ..ReviewQuery::default() });
    assert_eq!(review_row(&later.rows, Role::Finance).within_limit, ratio(8, 9));

    let text = without_clock.render_table(TableWidth::Fit(80));
    assert!(text.lines().all(|l| orderflow_projections::display_width(l) <= 80), "{text}");
    assert!(text.contains("logistics") && text.contains("33.3% 1/3"), "{text}");
    assert!(text.ends_with("open reviews not counted (no time given)\n"), "{text}");
    assert!(!text.contains("Some("), "no debug output: {text}");
    let json = at.render_json();
    let first = &json["rows"][0];
    assert_eq!(first["month"], "2026-06");
    assert!(first["within_limit"]["den"].as_u64().is_some());
    assert_eq!(json["now"], "2026-06-04T18:00:00.000000Z");
    let none = f.review_report(&ReviewQuery { from_month: Some("2026-07".into()), ..ReviewQuery::default() });
    assert!(none.render_table(TableWidth::DEFAULT).starts_with("no review figures for this selection\n"));
}

/// Each department its own due time; an escalated review is told from one not yet escalated.
/// P5 at 06-04 18:00: procurement (due 06-04 09:00) overdue and escalated to its head; finance
/// and warehouse due 06-05 09:00. At 06-05 10:00 those two are overdue too, 1 hour, not yet
/// escalated.
#[test]
fn per_department_dues_and_escalations_on_the_board() {
    let s = log_of(june());
    let b = board(&s);
    let row = b.get(p(5)).unwrap();
    let pending: Vec<_> = row
        .pending_approvals(ts("2026-06-04T18:00"))
        .iter()
        .map(|a| (a.department, a.due, a.overdue, a.escalated_to))
        .collect();
    assert_eq!(
        pending,
        vec![
            (
                Department::Procurement,
                Some(ts("2026-06-04T09:00")),
                true,
                Some(Grant::DeptHead(Role::Procurement))
            ),
            (Department::Finance, Some(ts("2026-06-05T09:00")), false, None),
            (Department::Warehouse, Some(ts("2026-06-05T09:00")), false, None),
        ]
    );
    let overdue: Vec<_> = b
        .overdue_approvals(ts("2026-06-05T10:00"))
        .iter()
        .map(|o| (o.order_id, o.department, o.overdue_hours, o.escalated_to))
        .collect();
    assert_eq!(
        overdue,
        vec![
            (p(5), Department::Procurement, 25, Some(Grant::DeptHead(Role::Procurement))),
            (p(5), Department::Finance, 1, None),
            (p(5), Department::Warehouse, 1, None),
        ]
    );
    assert!(row.flags(ts("2026-06-04T18:00"), 7).contains(&"review overdue, escalated".to_string()));
    assert!(row.flags(ts("2026-06-05T10:00"), 7).contains(&"review overdue".to_string()));
    let wide = StatusBoard::render_table(&[row], ts("2026-06-04T18:00"), TableWidth::Wide);
    assert!(wide.contains("proc ESCALATED; fin,wh by 06-05"), "{wide}");
    let text = StatusBoard::render_table(&[row], ts("2026-06-04T18:00"), TableWidth::Fit(80));
    assert!(text.lines().all(|l| orderflow_projections::display_width(l) <= 80), "{text}");
}

/// A pending change request is on the row (who asked, who decided, its own dues, overdue) and
/// the approved revision stays in force; applied, declined or withdrawn, it is gone.
#[test]
fn change_requests_on_the_board() {
    // P2 as of 06-06 10:00: request 1 pending, finance approved, production and logistics due
    // 06-06 09:00 and overdue.
    let mut events = june();
    events.until("2026-06-06T10:00");
    let s = log_of(events);
    let b = board(&s);
    let row = b.get(p(2)).unwrap();
    let r = row.change_request.as_ref().expect("a pending request");
    assert_eq!(
        (r.request_id, r.initiated_by, r.approved_roles.clone()),
        (1, Initiator::Customer, vec![Role::Finance])
    );
    assert_eq!((row.revision, row.total_minor), (1, 100_000), "the approved revision stays in force");
    let now = ts("2026-06-06T10:00");
    let pending: Vec<_> = row.pending_change_reviews(now).iter().map(|c| (c.role, c.overdue)).collect();
    assert_eq!(pending, vec![(Role::Production, true), (Role::Logistics, true)]);
    let overdue: Vec<_> = b
        .overdue_change_reviews(now)
        .iter()
        .map(|o| (o.order_id, o.request_id, o.role, o.overdue_hours))
        .collect();
    assert_eq!(overdue, vec![(p(2), 1, Role::Production, 1), (p(2), 1, Role::Logistics, 1)]);
    assert!(row.flags(now, 7).contains(&"change request 1 overdue".to_string()));
    let wide = StatusBoard::render_table(&[row], now, TableWidth::Wide);
    assert!(wide.contains("change 1: prod,log OVERDUE"), "{wide}");
    let text = StatusBoard::render_table(&[row], now, TableWidth::Fit(80));
    assert!(text.lines().all(|l| orderflow_projections::display_width(l) <= 80), "{text}");
    let json = StatusBoard::render_json(&[row], now);
    assert_eq!(json[0]["change_request"]["initiated_by"], "customer");
    assert_eq!(json[0]["pending_change_reviews"][0]["role"], "production");

    // At the end: P1's request applied (revision 2, 2,000.00), P2's declined and its internal one
    // applied, P3's withdrawn: no request pending anywhere.
    let s = log_of(june());
    let b = board(&s);
    assert!(b.all().iter().all(|r| r.change_request.is_none()));
    let p1 = b.get(p(1)).unwrap();
    assert_eq!((p1.revision, p1.total_minor, p1.reviewing), (2, 200_000, false));
    assert!(b.overdue_change_reviews(ts("2026-07-01T00:00")).is_empty());
}

/// Confirmation facts (the last confirmation's), complaint follow-up, and the visits due.
#[test]
fn confirmation_complaints_and_visits_on_the_board() {
    let s = log_of(june());
    let b = board(&s);
    let p1 = b.get(p(1)).unwrap();
    assert_eq!(
        (p1.confirmed, p1.expected_ship_date, p1.delivery_mode, p1.confirmed_via),
        (true, Some(date("2026-06-26")), Some(DeliveryMode::Carrier), Some(ConfirmMethod::Email))
    );
    let wide = StatusBoard::render_table(&[p1], ts("2026-07-01T00:00"), TableWidth::Wide);
    assert!(wide.contains("SHIP BY") && wide.contains("2026-06-26"), "{wide}");
    let json = StatusBoard::render_json_at(&[p1], ts("2026-07-01T00:00"), 7);
    assert_eq!(json[0]["delivery_mode"], "carrier");
    assert_eq!(json[0]["expected_ship_date"], "2026-06-26");
    assert_eq!(json[0]["visit_due"], "2026-06-30");

    let p2 = b.get(p(2)).unwrap();
    let c = &p2.complaints[0];
    assert_eq!((c.assignee.as_deref(), c.respond_by), (Some("lin.cs"), Some(ts("2026-07-11T09:00"))));
    assert_eq!(c.last_note.as_ref().map(|n| n.next_step.as_str()), Some("lab test by 07-15"));
    assert!(p2.customer_unsatisfied());
    assert!(p2.flags(ts("2026-07-17T00:00"), 7).contains(&"customer unsatisfied".to_string()));

    // Before the first response (07-11 08:00) and after it was due: flagged.
    let mut events = june();
    events.until("2026-07-10T12:00");
    let early = board(&log_of(events));
    let p2 = early.get(p(2)).unwrap();
    assert!(p2.flags(ts("2026-07-11T10:00"), 7).contains(&"complaint 1 response overdue".to_string()));
    assert!(!p2.customer_unsatisfied());

    // Visits as of 06-24: P2 signed 06-14, due 06-21 after 7 days, not visited yet (3 days
    // over); P1 signed 06-23 is due 06-30. After 14 days nothing is due yet (P2: 06-28).
    let mut events = june();
    events.until("2026-06-24T12:00");
    let mid = board(&log_of(events));
    let due: Vec<_> = mid
        .visits_due(ts("2026-06-24T12:00"), 7)
        .iter()
        .map(|v| (v.row.order_id, v.due, v.days_overdue))
        .collect();
    assert_eq!(due, vec![(p(2), date("2026-06-21"), 3)]);
    assert!(mid.visits_due(ts("2026-06-24T12:00"), 14).is_empty());
    let listed = mid.visits_due(ts("2026-06-24T12:00"), 7);
    let text = StatusBoard::render_visits_table(&listed, TableWidth::Fit(80));
    assert!(
        text.contains("2026-06-21") && text.lines().all(|l| orderflow_projections::display_width(l) <= 80),
        "{text}"
    );
    assert_eq!(StatusBoard::render_visits_json(&listed)[0]["days_overdue"], 3);
    // Once recorded (even unanswered) a visit is no longer due.
    assert!(b.visits_due(ts("2026-07-30T00:00"), 7).is_empty());
    assert_eq!(StatusBoard::render_visits_table(&[], TableWidth::DEFAULT), "no follow-up visit due\n");
}

/// The timeline describes the new events in words.
#[test]
fn timeline_describes_the_new_events() {
    let s = log_of(june());
    let text: Vec<String> =
        orderflow_projections::history(&s.log, p(2)).unwrap().into_iter().map(|e| e.description).collect();
    let has = |part: &str| assert!(text.iter().any(|d| d.contains(part)), "no '{part}' in {text:#?}");
    has("change request 1 (asked by the customer) for revision 2");
    has("finance approved change request 1");
    has("production declined change request 1; the order goes on unchanged: no capacity for 50");
    has("change request 2 applied as revision 2");
    has("(asked by the company)");
    has("complaint 1 opened (quality, medium), assigned to lin.cs, first response due 2026-07-11 09:00");
    has("complaint 1 progress: sample collected; next: lab test by 07-15");
    has("complaint 1 resolved (customer not satisfied, credit)");
    has("follow-up visit by email: no answer");
    let p5: Vec<String> =
        orderflow_projections::history(&s.log, p(5)).unwrap().into_iter().map(|e| e.description).collect();
    assert!(
        p5.iter().any(|d| d == "procurement review of revision 1 overdue (due 2026-06-04 09:00), escalated to dept_head:procurement"),
        "{p5:#?}"
    );
    let p1: Vec<String> =
        orderflow_projections::history(&s.log, p(1)).unwrap().into_iter().map(|e| e.description).collect();
    assert!(
        p1.iter().any(|d| d.contains("promised 2026-06-18, revision 1, expected to ship 2026-06-16, delivery by own fleet, confirmed by phone")),
        "{p1:#?}"
    );
    assert!(
        p1.iter().any(|d| d.ends_with(
            "reviews due 2026-06-02 09:00 (production 2026-06-01 17:00, procurement 2026-06-02 09:00, \
             finance 2026-06-02 09:00, warehouse 2026-06-01 12:00)"
        )),
        "{p1:#?}"
    );
    let p3: Vec<String> =
        orderflow_projections::history(&s.log, p(3)).unwrap().into_iter().map(|e| e.description).collect();
    assert!(p3.iter().any(|d| d == "change request 1 withdrawn: customer changed mind"), "{p3:#?}");
    assert!(p3.iter().any(|d| d == "cancelled (asked by the customer): no longer needed"), "{p3:#?}");
}

/// A cancellation ends a pending request: it leaves the row, and a later word on it changes
/// nothing; on an active order a decision on a request that is not pending stops the fold.
#[test]
fn a_cancellation_ends_the_pending_request() {
    let mut b = Builder::default();
    received(&mut b, p(7), "2026-06-01T09:00", ("G", 1, 10_000), "2026-06-20", all_due("2026-06-02T09:00"));
    approve_all(&mut b, p(7), 1, "2026-06-01T10:00");
    change_requested(
        &mut b,
        p(7),
        "2026-06-02T09:00",
        1,
        Initiator::Customer,
        ("G", 2, 10_000),
        "2026-06-22",
        vec![due(Role::Production, "2026-06-03T09:00")],
    );
    cancelled(&mut b, p(7), "2026-06-02T10:00", Some(Initiator::Customer));
    b.push(
        p(7),
        sales(),
        "2026-06-02T11:00",
        ChangeWithdrawn { request_id: 1, reason: "order cancelled".into() },
    );
    let s = log_of(b);
    let board = board(&s);
    let row = board.get(p(7)).unwrap();
    assert!(row.change_request.is_none());
    assert!(board.overdue_change_reviews(ts("2026-06-10T00:00")).is_empty());

    let mut b = Builder::default();
    received(&mut b, p(8), "2026-06-01T09:00", ("G", 1, 10_000), "2026-06-20", all_due("2026-06-02T09:00"));
    approve_all(&mut b, p(8), 1, "2026-06-01T10:00");
    change_approved(&mut b, p(8), 9, Role::Finance, "2026-06-02T09:00");
    let s = log_of(b);
    let mut runner = Runner::<StatusBoard>::open(&s.log, RunnerConfig::default()).unwrap();
    let err = runner.catch_up(&mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("no pending change request 9"), "{err}");
}
