//! proptest strategies for value types and for events of many types, with arbitrary text
//! (any Unicode) and numbers over their whole range.

use orderflow_schemas::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

/// Whole ranges: any `i64` microseconds, any `i32` day number. Fine for the binary form.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Range {
    /// Every representable value.
    Full,
    /// Years 0001 to 9999, the range that RFC 3339 and `YYYY-MM-DD` can write.
    Rfc3339,
}

/// Micros of 0001-01-01T00:00:00Z and of 9999-12-31T23:59:59.999999Z.
const MICROS_YEAR_1: i64 = -62_135_596_800_000_000;
const MICROS_YEAR_9999_END: i64 = 253_402_300_799_999_999;
/// Days from the common era of 0001-01-01 and 9999-12-31.
const DAYS_YEAR_1: i32 = 1;
const DAYS_YEAR_9999_END: i32 = 3_652_059;

fn text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![any::<String>(), "[A-Za-z0-9 ,.;:()/-]{0,24}"]
}

pub(crate) fn timestamp(range: Range) -> BoxedStrategy<Timestamp> {
    match range {
        Range::Full => any::<i64>().prop_map(Timestamp).boxed(),
        Range::Rfc3339 => (MICROS_YEAR_1..=MICROS_YEAR_9999_END).prop_map(Timestamp).boxed(),
    }
}

pub(crate) fn date(range: Range) -> BoxedStrategy<Date> {
    match range {
        Range::Full => any::<i32>().prop_map(Date).boxed(),
        Range::Rfc3339 => (DAYS_YEAR_1..=DAYS_YEAR_9999_END).prop_map(Date).boxed(),
    }
}

pub(crate) fn currency() -> impl Strategy<Value = Currency> {
    "[A-Z]{3}".prop_map(|s| Currency::parse(&s).expect("three letters"))
}

fn actor() -> impl Strategy<Value = Actor> {
    (any::<u128>(), text(), select(Role::ALL), any::<bool>()).prop_map(|(id, login, role, head)| Actor {
        user_id: uuid::Uuid::from_u128(id),
        login,
        role,
        head,
    })
}

fn order_line() -> impl Strategy<Value = OrderLine> {
    (any::<u16>(), text(), text(), any::<u32>(), text(), any::<i64>()).prop_map(
        |(line_no, sku, spec, quantity, unit, unit_price_minor)| OrderLine {
            line_no,
            sku,
            spec,
            quantity,
            unit,
            unit_price_minor,
        },
    )
}

fn line_quantity() -> impl Strategy<Value = LineQuantity> {
    (any::<u16>(), any::<u32>()).prop_map(|(line_no, quantity)| LineQuantity { line_no, quantity })
}

fn field_change() -> impl Strategy<Value = FieldChange> {
    (text(), text(), text()).prop_map(|(field, old, new)| FieldChange { field, old, new })
}

fn role_due(range: Range) -> impl Strategy<Value = RoleDue> {
    (select(Role::ALL), timestamp(range)).prop_map(|(role, due)| RoleDue { role, due })
}

fn impact_note() -> impl Strategy<Value = ImpactNote> {
    (select(Role::ALL), text()).prop_map(|(role, note)| ImpactNote { role, note })
}

fn grant() -> impl Strategy<Value = Grant> + Clone {
    prop_oneof![select(Role::ALL).prop_map(Grant::Role), select(Role::OPERATIONAL).prop_map(Grant::DeptHead)]
}

/// Bodies of the eight types changed in version 3, every field (the new ones too) arbitrary.
pub(crate) fn changed_body(range: Range) -> BoxedStrategy<EventBody> {
    let received = (
        select(Channel::ALL),
        text(),
        text(),
        vec(order_line(), 0..4),
        currency(),
        any::<i64>(),
        date(range),
        text(),
        text(),
        timestamp(range),
        vec(role_due(range), 0..6),
    )
        .prop_map(
            |(
                channel,
                customer,
                contact,
                lines,
                currency,
                total_minor,
                requested_date,
                delivery_address,
                special_requirements,
                review_due,
                review_due_by,
            )| {
                EventBody::from(OrderReceived {
                    channel,
                    customer,
                    contact,
                    lines,
                    currency,
                    total_minor,
                    requested_date,
                    delivery_address,
                    special_requirements,
                    review_due,
                    review_due_by,
                })
            },
        );
    let confirmed = (
        date(range),
        text(),
        option::of(any::<u32>()),
        option::of(date(range)),
        option::of(select(DeliveryMode::ALL)),
        option::of(select(ConfirmMethod::ALL)),
    )
        .prop_map(|(promised_date, note, revision, expected_ship_date, delivery_mode, confirmed_via)| {
            OrderConfirmed { promised_date, note, revision, expected_ship_date, delivery_mode, confirmed_via }
                .into()
        });
    let changed = (
        any::<u32>(),
        text(),
        vec(field_change(), 0..4),
        vec(order_line(), 0..4),
        any::<i64>(),
        date(range),
        option::of(date(range)),
        text(),
        any::<bool>(),
        (option::of(timestamp(range)), vec(role_due(range), 0..5)),
        option::of(any::<u32>()),
        option::of(select(Initiator::ALL)),
    )
        .prop_map(
            |(
                revision,
                reason,
                changes,
                lines,
                total_minor,
                requested_date,
                promised_date,
                delivery_address,
                reapproval_required,
                (review_due, review_due_by),
                request_id,
                initiated_by,
            )| {
                EventBody::from(OrderChanged {
                    revision,
                    reason,
                    changes,
                    lines,
                    total_minor,
                    requested_date,
                    promised_date,
                    delivery_address,
                    reapproval_required,
                    review_due,
                    review_due_by,
                    request_id,
                    initiated_by,
                })
            },
        );
    let cancelled = (text(), option::of(select(Initiator::ALL)))
        .prop_map(|(reason, initiated_by)| OrderCancelled { reason, initiated_by }.into());
    let shipped = (
        text(),
        select(ShipMode::ALL),
        text(),
        date(range),
        vec(line_quantity(), 0..5),
        option::of(any::<u32>()),
        option::of(text()),
    )
        .prop_map(|(carrier, mode, tracking_number, eta, lines, revision, unconfirmed_reason)| {
            OrderShipped { carrier, mode, tracking_number, eta, lines, revision, unconfirmed_reason }.into()
        });
    let complaint = (
        any::<u32>(),
        select(ComplaintCategory::ALL),
        select(Severity::ALL),
        text(),
        option::of(text()),
        option::of(timestamp(range)),
    )
        .prop_map(|(complaint_id, category, severity, text, assignee, respond_by)| {
            ComplaintOpened { complaint_id, category, severity, text, assignee, respond_by }.into()
        });
    let resolved = (any::<u32>(), text(), any::<bool>(), option::of(select(Remedy::ALL))).prop_map(
        |(complaint_id, resolution, customer_satisfied, remedy)| {
            ComplaintResolved { complaint_id, resolution, customer_satisfied, remedy }.into()
        },
    );
    let closed = (date(range), option::of(text())).prop_map(|(retention_until, override_reason)| {
        OrderClosed { retention_until, override_reason }.into()
    });
    prop_oneof![received, confirmed, changed, cancelled, shipped, complaint, resolved, closed].boxed()
}

/// Bodies of the seven types added in version 2 of issue 12 (codes 32 to 38).
fn new_body(range: Range) -> BoxedStrategy<EventBody> {
    let requested = (
        any::<u32>(),
        select(Initiator::ALL),
        text(),
        vec(field_change(), 0..4),
        vec(order_line(), 0..4),
        any::<i64>(),
        date(range),
        option::of(date(range)),
        text(),
        any::<u32>(),
        vec(role_due(range), 0..6),
        vec(impact_note(), 0..6),
    )
        .prop_map(
            |(
                request_id,
                initiated_by,
                reason,
                changes,
                lines,
                total_minor,
                requested_date,
                promised_date,
                delivery_address,
                revision,
                review_due_by,
                impact,
            )| {
                EventBody::from(ChangeRequested {
                    request_id,
                    initiated_by,
                    reason,
                    changes,
                    lines,
                    total_minor,
                    requested_date,
                    promised_date,
                    delivery_address,
                    revision,
                    review_due_by,
                    impact,
                })
            },
        );
    let approved = (any::<u32>(), select(Role::ALL), text())
        .prop_map(|(request_id, role, note)| ChangeApproved { request_id, role, note }.into());
    let declined = (any::<u32>(), select(Role::ALL), text())
        .prop_map(|(request_id, role, reason)| ChangeDeclined { request_id, role, reason }.into());
    let withdrawn =
        (any::<u32>(), text()).prop_map(|(request_id, reason)| ChangeWithdrawn { request_id, reason }.into());
    let overdue = (any::<u32>(), option::of(any::<u32>()), select(Role::ALL), timestamp(range), grant())
        .prop_map(|(revision, request_id, role, due, escalated_to)| {
            ReviewOverdue { revision, request_id, role, due, escalated_to }.into()
        });
    let updated = (any::<u32>(), text(), text()).prop_map(|(complaint_id, note, next_step)| {
        ComplaintUpdated { complaint_id, note, next_step }.into()
    });
    let visit = (select(VisitMethod::ALL), option::of(any::<u8>()), text())
        .prop_map(|(method, score, comment)| VisitRecorded { method, score, comment }.into());
    prop_oneof![requested, approved, declined, withdrawn, overdue, updated, visit].boxed()
}

/// Bodies of several types that did not change in version 3.
fn unchanged_body() -> BoxedStrategy<EventBody> {
    let review_approved = (select(Department::ALL), any::<u32>(), text())
        .prop_map(|(department, revision, note)| ReviewApproved { department, revision, note }.into());
    let signed = (text(), vec(line_quantity(), 0..5), any::<bool>(), text())
        .prop_map(|(signed_by, accepted, full, note)| OrderSigned { signed_by, accepted, full, note }.into());
    let feedback =
        (any::<u8>(), text()).prop_map(|(score, comment)| FeedbackRecorded { score, comment }.into());
    let accessed = (select(AccessKind::ALL), text())
        .prop_map(|(access, detail)| ArchiveAccessed { access, detail }.into());
    let user_added =
        (any::<u128>(), text(), text(), vec(grant(), 0..4)).prop_map(|(id, login, display_name, grants)| {
            UserAdded { user_id: uuid::Uuid::from_u128(id), login, display_name, grants }.into()
        });
    let granted = (any::<u128>(), grant())
        .prop_map(|(id, grant)| RoleGranted { user_id: uuid::Uuid::from_u128(id), grant }.into());
    let refused = (select(AccessKind::ALL), text())
        .prop_map(|(access, reason)| ArchiveAccessRefused { access, reason }.into());
    prop_oneof![user_added, granted, refused, review_approved, signed, feedback, accessed].boxed()
}

/// Bodies of the types added by issue 14 (master data, shipments, lots, stock, archive access).
fn issue14_body(range: Range) -> BoxedStrategy<EventBody> {
    let lot = (text(), any::<u32>()).prop_map(|(lot, quantity)| LotQuantity { lot, quantity });
    let shipped_line = (any::<u16>(), any::<u32>(), vec(lot, 0..3))
        .prop_map(|(line_no, quantity, lots)| ShippedLine { line_no, quantity, lots });
    let temp = (any::<i32>(), any::<i32>())
        .prop_map(|(min_decicelsius, max_decicelsius)| TempRange { min_decicelsius, max_decicelsius });
    let dispatched = (
        any::<u32>(),
        vec(shipped_line, 0..4),
        (text(), select(ShipMode::ALL), text(), date(range)),
        (text(), text(), text()),
        option::of(temp),
        any::<u32>(),
        option::of(text()),
    )
        .prop_map(
            |(
                shipment_id,
                lines,
                (carrier, mode, tracking_number, eta),
                (vehicle, handed_over_by, received_by),
                temperature,
                revision,
                unconfirmed_reason,
            )| {
                ShipmentDispatched {
                    shipment_id,
                    lines,
                    carrier,
                    mode,
                    tracking_number,
                    eta,
                    vehicle,
                    handed_over_by,
                    received_by,
                    temperature,
                    revision,
                    unconfirmed_reason,
                }
                .into()
            },
        );
    prop_oneof![dispatched].boxed()
}

fn body(range: Range) -> BoxedStrategy<EventBody> {
    prop_oneof![2 => changed_body(range), 2 => new_body(range), 1 => unchanged_body(), 2 => issue14_body(range)]
        .boxed()
}

/// An event with an arbitrary actor, time and late entry around a body of `body`.
pub(crate) fn event_with(range: Range, body: BoxedStrategy<EventBody>) -> impl Strategy<Value = Event> {
    (actor(), timestamp(range), proptest::option::of(text()), body).prop_map(|(actor, at, late, body)| {
        Event { actor, at, late: late.map(|reason| LateEntry { reason }), body }
    })
}

/// Events of twenty-two types (the eight changed in version 3, the seven added with it, seven
/// others) with arbitrary actors, times and fields.
pub(crate) fn event(range: Range) -> impl Strategy<Value = Event> {
    event_with(range, body(range))
}

/// Events of the eight types changed in version 3, every field arbitrary.
pub(crate) fn changed_event(range: Range) -> impl Strategy<Value = Event> {
    event_with(range, changed_body(range))
}
