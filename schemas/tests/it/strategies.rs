//! proptest strategies for value types and for events of several types, with arbitrary text
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

fn body(range: Range) -> BoxedStrategy<EventBody> {
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
                })
            },
        );
    let review_approved = (select(Department::ALL), any::<u32>(), text())
        .prop_map(|(department, revision, note)| ReviewApproved { department, revision, note }.into());
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
        option::of(timestamp(range)),
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
                review_due,
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
                })
            },
        );
    let shipped = (text(), select(ShipMode::ALL), text(), date(range), vec(line_quantity(), 0..5)).prop_map(
        |(carrier, mode, tracking_number, eta, lines)| {
            OrderShipped { carrier, mode, tracking_number, eta, lines }.into()
        },
    );
    let signed = (text(), vec(line_quantity(), 0..5), any::<bool>(), text())
        .prop_map(|(signed_by, accepted, full, note)| OrderSigned { signed_by, accepted, full, note }.into());
    let complaint = (any::<u32>(), select(ComplaintCategory::ALL), select(Severity::ALL), text()).prop_map(
        |(complaint_id, category, severity, text)| {
            ComplaintOpened { complaint_id, category, severity, text }.into()
        },
    );
    let resolved =
        (any::<u32>(), text(), any::<bool>()).prop_map(|(complaint_id, resolution, customer_satisfied)| {
            ComplaintResolved { complaint_id, resolution, customer_satisfied }.into()
        });
    let feedback =
        (any::<u8>(), text()).prop_map(|(score, comment)| FeedbackRecorded { score, comment }.into());
    let closed = date(range).prop_map(|retention_until| OrderClosed { retention_until }.into());
    let accessed = (select(AccessKind::ALL), text())
        .prop_map(|(access, detail)| ArchiveAccessed { access, detail }.into());
    let grant = prop_oneof![
        select(Role::ALL).prop_map(Grant::Role),
        select(Role::OPERATIONAL).prop_map(Grant::DeptHead)
    ];
    let user_added = (any::<u128>(), text(), text(), vec(grant.clone(), 0..4)).prop_map(
        |(id, login, display_name, grants)| {
            UserAdded { user_id: uuid::Uuid::from_u128(id), login, display_name, grants }.into()
        },
    );
    let granted = (any::<u128>(), grant)
        .prop_map(|(id, grant)| RoleGranted { user_id: uuid::Uuid::from_u128(id), grant }.into());
    let refused = (select(AccessKind::ALL), text())
        .prop_map(|(access, reason)| ArchiveAccessRefused { access, reason }.into());
    prop_oneof![
        user_added,
        granted,
        refused,
        received,
        review_approved,
        changed,
        shipped,
        signed,
        complaint,
        resolved,
        feedback,
        closed,
        accessed
    ]
    .boxed()
}

/// Events of thirteen types with arbitrary actors, times and fields.
pub(crate) fn event(range: Range) -> impl Strategy<Value = Event> {
    (actor(), timestamp(range), proptest::option::of(text()), body(range)).prop_map(
        |(actor, at, late, body)| Event { actor, at, late: late.map(|reason| LateEntry { reason }), body },
    )
}
