//! One realistic sample of every event type: the source of the golden fixtures and of the JSON
//! round trips. Values are deliberately not defaults (non-empty lists, `Some`, `true`, non-ASCII
//! text, negative and large numbers) so that a field dropped or reordered by the codec shows.

use std::collections::BTreeMap;

use orderflow_schemas::*;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).expect("sample timestamp")
}

fn date(s: &str) -> Date {
    Date::parse(s).expect("sample date")
}

fn by(name: &str, role: Role) -> Actor {
    Actor::named(name, role)
}

fn ev(actor: Actor, at: &str, body: impl Into<EventBody>) -> Event {
    Event::new(actor, ts(at), body)
}

/// A late entry by a department head.
fn late(mut e: Event, reason: &str) -> Event {
    e.actor.head = true;
    e.late = Some(LateEntry { reason: reason.into() });
    e
}

fn user(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 + n)
}

fn lines() -> Vec<OrderLine> {
    vec![
        OrderLine {
            line_no: 1,
            sku: "PET-BTL-500".into(),
            spec: "500 ml PET bottle, clear, 28 mm PCO neck".into(),
            quantity: 120_000,
            unit: "pcs".into(),
            unit_price_minor: 38,
        },
        OrderLine {
            line_no: 2,
            sku: "CAP-28-BLU".into(),
            spec: "28 mm screw cap, blue, tamper-evident band".into(),
            quantity: 120_500,
            unit: "pcs".into(),
            unit_price_minor: 9,
        },
        OrderLine {
            line_no: 3,
            sku: "RESIN-PP-H".into(),
            spec: "polypropylene homopolymer granulate, 25 kg bags".into(),
            quantity: 750,
            unit: "kg".into(),
            unit_price_minor: 1_185,
        },
    ]
}

fn total(lines: &[OrderLine]) -> i64 {
    lines.iter().map(|l| l.amount_minor().expect("sample amount")).sum()
}

/// One sample per event type, in code order.
pub(crate) fn samples() -> Vec<Event> {
    let sales = by("Chen Jing (陈静)", Role::Sales);
    let lines_v1 = lines();
    let mut lines_v2 = lines();
    lines_v2[0].quantity = 150_000;
    lines_v2[2].unit_price_minor = 1_210;
    let mut lines_v3 = lines_v2.clone();
    lines_v3[2].quantity = 500;

    vec![
        ev(
            sales.clone(),
            "2026-03-02T09:15:30.250117Z",
            OrderReceived {
                channel: Channel::Email,
                customer: "Zhejiang Hengda Beverages Co., Ltd. (浙江恒达饮料)".into(),
                contact: "Ms. Wang Li, +86 571 8888 1234, wang.li@hengda.example".into(),
                total_minor: total(&lines_v1),
                lines: lines_v1,
                currency: Currency::parse("CNY").expect("currency"),
                requested_date: date("2026-04-15"),
                delivery_address: "No. 18 Binjiang Road, Xiaoshan District, Hangzhou 311200".into(),
                special_requirements:
                    "Pallets max. 1.8 m high; label every carton with the PO number \"HD-2026-0317\".".into(),
                review_due: ts("2026-03-04T17:00:00Z"),
                review_due_by: vec![
                    RoleDue { role: Role::Production, due: ts("2026-03-04T17:00:00Z") },
                    RoleDue { role: Role::Procurement, due: ts("2026-03-03T12:00:00Z") },
                    RoleDue { role: Role::Finance, due: ts("2026-03-02T21:15:30.250117Z") },
                    RoleDue { role: Role::Warehouse, due: ts("2026-03-03T09:15:30.250117Z") },
                ],
            },
        ),
        ev(
            by("Gao Feng", Role::Finance),
            "2026-03-02T14:02:11Z",
            ReviewApproved {
                department: Department::Finance,
                revision: 1,
                note: "Credit line OK; 30 % prepayment agreed.".into(),
            },
        ),
        ev(
            by("Zhou Min", Role::Procurement),
            "2026-03-03T08:47:00Z",
            ReviewRejected {
                department: Department::Procurement,
                revision: 2,
                reason: "PP resin lead time is 6 weeks; cannot meet 2026-04-15.".into(),
            },
        ),
        ev(by("orderflow", Role::Sales), "2026-03-05T10:00:00.000001Z", OrderApproved { revision: 3 }),
        ev(
            by("orderflow", Role::Sales),
            "2026-03-03T08:47:00.5Z",
            OrderRejected {
                revision: 2,
                department: Department::Warehouse,
                reason: "No free bay for 40 pallets before May.".into(),
            },
        ),
        ev(
            sales.clone(),
            "2026-03-05T11:30:00Z",
            OrderConfirmed {
                promised_date: date("2026-04-22"),
                note: "Confirmed by phone, read back to Ms. Wang; delivery by road.".into(),
                revision: Some(3),
                expected_ship_date: Some(date("2026-04-20")),
                delivery_mode: Some(DeliveryMode::Carrier),
                confirmed_via: Some(ConfirmMethod::Phone),
            },
        ),
        ev(
            sales.clone(),
            "2026-03-02T16:45:00Z",
            OrderChanged {
                revision: 2,
                reason: "Customer raised the bottle quantity for a promotion.".into(),
                changes: vec![
                    FieldChange {
                        field: "line 1 quantity".into(),
                        old: "120000".into(),
                        new: "150000".into(),
                    },
                    FieldChange {
                        field: "line 3 unit price".into(),
                        old: "11.85".into(),
                        new: "12.10".into(),
                    },
                    FieldChange {
                        field: "requested date".into(),
                        old: "2026-04-15".into(),
                        new: "2026-04-29".into(),
                    },
                ],
                total_minor: total(&lines_v2),
                lines: lines_v2,
                requested_date: date("2026-04-29"),
                promised_date: Some(date("2026-05-06")),
                delivery_address: "Gate 3, No. 18 Binjiang Road, Xiaoshan District, Hangzhou 311200".into(),
                reapproval_required: true,
                review_due: Some(ts("2026-03-04T17:00:00Z")),
                review_due_by: vec![
                    RoleDue { role: Role::Production, due: ts("2026-03-03T16:45:00Z") },
                    RoleDue { role: Role::Procurement, due: ts("2026-03-04T16:45:00Z") },
                    RoleDue { role: Role::Finance, due: ts("2026-03-04T17:00:00Z") },
                    RoleDue { role: Role::Warehouse, due: ts("2026-03-03T04:45:00Z") },
                ],
                request_id: Some(1),
                initiated_by: Some(Initiator::Customer),
            },
        ),
        ev(
            sales.clone(),
            "2026-03-06T09:00:00Z",
            OrderCancelled {
                reason: "Customer's promotion was cancelled by the retailer.".into(),
                initiated_by: Some(Initiator::Customer),
            },
        ),
        ev(
            by("Liu Yang", Role::Production),
            "2026-03-06T13:20:00Z",
            ProductionScheduled {
                planned_finish: date("2026-04-17"),
                note: "Line 4 (blow moulding), night shift; foreman Sun.".into(),
            },
        ),
        ev(
            by("He Rui", Role::Quality),
            "2026-04-16T15:05:42Z",
            QualityInspected {
                result: InspectionResult::Rework,
                note: "Neck finish out of tolerance on 3 of 80 samples (AQL 1.0); regrind mould cavity 7."
                    .into(),
            },
        ),
        ev(
            by("Liu Yang", Role::Production),
            "2026-04-18T22:10:00Z",
            ProductionCompleted { note: "Batch 2604-B7, 150 240 bottles incl. 0.16 % overrun.".into() },
        ),
        ev(
            by("Ma Tao", Role::Logistics),
            "2026-04-20T07:30:00Z",
            OrderShipped {
                carrier: "Deppon Logistics".into(),
                mode: ShipMode::ColdChain,
                tracking_number: "DPK-7731-0042-9918".into(),
                eta: date("2026-04-21"),
                lines: vec![
                    LineQuantity { line_no: 1, quantity: 150_000 },
                    LineQuantity { line_no: 2, quantity: 120_500 },
                    LineQuantity { line_no: 3, quantity: 750 },
                ],
                revision: Some(2),
                unconfirmed_reason: Some(
                    "Stock order; the customer's buyer is on leave until 22 April.".into(),
                ),
            },
        ),
        ev(
            by("Ma Tao", Role::Logistics),
            "2026-04-21T06:12:00Z",
            ShipmentDelayed {
                new_eta: date("2026-04-23"),
                reason: "G60 motorway closed after a snowstorm near Jinhua.".into(),
            },
        ),
        ev(
            by("Ma Tao", Role::Logistics),
            "2026-04-23T11:48:00Z",
            OrderDelivered { note: "POD 2026-0423-117, unloaded at gate 3.".into() },
        ),
        ev(
            by("Ma Tao", Role::Logistics),
            "2026-04-23T12:30:00Z",
            OrderSigned {
                signed_by: "Xu Hong, warehouse supervisor".into(),
                accepted: vec![
                    LineQuantity { line_no: 1, quantity: 150_000 },
                    LineQuantity { line_no: 2, quantity: 120_500 },
                    LineQuantity { line_no: 3, quantity: 750 },
                ],
                full: true,
                note: "Two cartons with dented corners, contents fine.".into(),
            },
        ),
        ev(
            by("Ma Tao", Role::Logistics),
            "2026-04-23T12:31:00Z",
            OrderRefused {
                refused_by: "Xu Hong, warehouse supervisor".into(),
                reason: "Pallets wrapped without corner boards; stack collapsed.".into(),
            },
        ),
        ev(
            by("Tang Yu", Role::CustomerService),
            "2026-05-02T10:05:00Z",
            ComplaintOpened {
                complaint_id: 2,
                category: ComplaintCategory::Quantity,
                severity: Severity::High,
                text: "Line 2: 4 cartons short (2 000 caps); bottling line stopped for 3 hours.".into(),
                assignee: Some("tang.yu".into()),
                respond_by: Some(ts("2026-05-03T10:05:00Z")),
            },
        ),
        ev(
            by("Tang Yu", Role::CustomerService),
            "2026-05-04T16:40:00Z",
            ComplaintResolved {
                complaint_id: 2,
                resolution: "Shortfall sent by express; credit note CN-2026-0091 for downtime.".into(),
                customer_satisfied: true,
                remedy: Some(Remedy::Credit),
            },
        ),
        ev(
            by("Tang Yu", Role::CustomerService),
            "2026-05-11T09:00:00Z",
            ComplaintReopened {
                complaint_id: 2,
                reason: "Credit note amount disputed by the customer's finance.".into(),
            },
        ),
        ev(
            by("Tang Yu", Role::CustomerService),
            "2026-06-01T14:00:00Z",
            FeedbackRecorded { score: 4, comment: "Good quality, but tell us earlier about delays.".into() },
        ),
        ev(
            by("orderflow", Role::Sales),
            "2026-06-30T23:59:59.999999Z",
            OrderClosed {
                retention_until: date("2036-12-31"),
                override_reason: Some("Customer satisfied by phone; the survey is still open (李娜).".into()),
            },
        ),
        ev(
            by("Zhao Lan", Role::Archivist),
            "2026-07-15T08:00:00Z",
            ArchiveHoldPlaced { reason: "Tax audit 2026/Q2, case ZJ-TAX-5512.".into() },
        ),
        ev(
            by("Zhao Lan", Role::Archivist),
            "2027-01-20T08:00:00Z",
            ArchiveHoldReleased { note: "Audit closed without findings.".into() },
        ),
        ev(
            by("Qian Bo", Role::Auditor),
            "2027-02-03T10:25:00Z",
            ArchiveAccessed {
                access: AccessKind::Replay,
                detail: "State as of 2026-04-20T00:00:00Z, for the annual audit.".into(),
            },
        ),
        ev(
            by("admin.wu", Role::Admin),
            "2026-01-05T09:00:00Z",
            UserAdded {
                user_id: user(7),
                login: "li.na".into(),
                display_name: "李娜 (Li Na)".into(),
                grants: vec![Grant::Role(Role::Sales), Grant::DeptHead(Role::CustomerService)],
            },
        ),
        ev(
            by("admin.wu", Role::Admin),
            "2026-01-06T09:00:00Z",
            RoleGranted { user_id: user(7), grant: Grant::Role(Role::Finance) },
        ),
        ev(
            by("admin.wu", Role::Admin),
            "2026-03-01T09:00:00Z",
            RoleRevoked { user_id: user(7), grant: Grant::DeptHead(Role::CustomerService) },
        ),
        ev(
            by("admin.wu", Role::Admin),
            "2026-09-30T17:00:00Z",
            UserDisabled { user_id: user(7), reason: "Left the company on 30 September.".into() },
        ),
        ev(by("admin.wu", Role::Admin), "2026-10-02T08:00:00Z", UserEnabled { user_id: user(7) }),
        ev(
            by("li.na", Role::Sales),
            "2026-10-02T08:05:00Z",
            CredentialChanged { user_id: user(7), credential: CredentialKind::Token },
        ),
        late(
            ev(
                by("Qian Bo", Role::Production),
                "2027-02-03T10:30:00Z",
                ArchiveAccessRefused {
                    access: AccessKind::Export,
                    reason: "role production works no department of this order".into(),
                },
            ),
            "Paper log of the night shift entered the next morning.",
        ),
        ev(
            sales.clone(),
            "2026-03-07T10:20:00Z",
            ChangeRequested {
                request_id: 2,
                initiated_by: Initiator::Internal,
                reason: "Resin supplier short; split line 3 into two deliveries.".into(),
                changes: vec![
                    FieldChange { field: "line 3 quantity".into(), old: "750".into(), new: "500".into() },
                    FieldChange {
                        field: "delivery address".into(),
                        old: "No. 18 Binjiang Road".into(),
                        new: "Gate 3, No. 18 Binjiang Road".into(),
                    },
                ],
                total_minor: total(&lines_v3),
                lines: lines_v3,
                requested_date: date("2026-04-29"),
                promised_date: Some(date("2026-05-06")),
                delivery_address: "Gate 3, No. 18 Binjiang Road, Xiaoshan District, Hangzhou 311200".into(),
                revision: 4,
                review_due_by: vec![
                    RoleDue { role: Role::Production, due: ts("2026-03-08T10:20:00Z") },
                    RoleDue { role: Role::Logistics, due: ts("2026-03-07T22:20:00.000001Z") },
                ],
                impact: vec![
                    ImpactNote { role: Role::Production, note: "Frees 6 h on line 4.".into() },
                    ImpactNote { role: Role::Finance, note: "Total −2 962.50 CNY (负).".into() },
                ],
            },
        ),
        ev(
            by("Liu Yang", Role::Production),
            "2026-03-07T15:00:00Z",
            ChangeApproved {
                request_id: 2,
                role: Role::Production,
                note: "Capacity fine either way.".into(),
            },
        ),
        ev(
            by("Ma Tao", Role::Logistics),
            "2026-03-07T16:30:00Z",
            ChangeDeclined {
                request_id: 2,
                role: Role::Logistics,
                reason: "Gate 3 cannot take 13.6 m trailers.".into(),
            },
        ),
        ev(
            sales.clone(),
            "2026-03-08T08:00:00Z",
            ChangeWithdrawn {
                request_id: 3,
                reason: "Customer found the resin elsewhere (客户自行解决).".into(),
            },
        ),
        ev(
            by("orderflow", Role::System),
            "2026-03-04T17:00:00.000001Z",
            ReviewOverdue {
                revision: 4,
                request_id: Some(2),
                role: Role::Warehouse,
                due: ts("2026-03-04T17:00:00Z"),
                escalated_to: Grant::DeptHead(Role::Warehouse),
            },
        ),
        ev(
            by("Tang Yu", Role::CustomerService),
            "2026-05-03T09:30:00Z",
            ComplaintUpdated {
                complaint_id: 2,
                note: "Warehouse found the 4 cartons on the wrong pallet.".into(),
                next_step: "Express delivery tomorrow morning; Tang Yu calls Ms. Wang at 14:00.".into(),
            },
        ),
        ev(
            by("Tang Yu", Role::CustomerService),
            "2026-06-15T10:00:00Z",
            VisitRecorded {
                method: VisitMethod::OnSite,
                score: Some(5),
                comment: "Very happy with the follow-up (非常满意).".into(),
            },
        ),
        ev(
            by("Zhou Min", Role::Logistics),
            "2026-04-02T07:30:00Z",
            ShipmentDispatched {
                shipment_id: 2,
                lines: vec![ShippedLine {
                    line_no: 1,
                    quantity: 120,
                    lots: vec![
                        LotQuantity { lot: "L20260401-A".into(), quantity: 80 },
                        LotQuantity { lot: "L20260401-B".into(), quantity: 40 },
                    ],
                }],
                carrier: "SF Cold Chain".into(),
                mode: ShipMode::ColdChain,
                tracking_number: "SF1234567890".into(),
                eta: date("2026-04-03"),
                vehicle: "沪A·12345".into(),
                handed_over_by: "Li Wei".into(),
                received_by: "Chen Gang (driver)".into(),
                temperature: Some(TempRange { min_decicelsius: 20, max_decicelsius: 60 }),
                revision: 2,
                unconfirmed_reason: None,
            },
        ),
    ]
}

#[test]
fn samples_cover_every_event_type_exactly_once() {
    let mut seen: BTreeMap<u16, usize> = BTreeMap::new();
    for e in samples() {
        *seen.entry(e.body.event_type().code).or_default() += 1;
    }
    let expected: BTreeMap<u16, usize> = EVENT_TYPES.iter().map(|t| (t.code, 1)).collect();
    assert_eq!(seen, expected, "samples() must hold exactly one event of every type in EVENT_TYPES");
}

#[test]
fn samples_are_in_code_order() {
    let codes: Vec<u16> = samples().iter().map(|e| e.body.event_type().code).collect();
    let table: Vec<u16> = EVENT_TYPES.iter().map(|t| t.code).collect();
    assert_eq!(codes, table);
}
