//! Every event of the order workflow, and the table that gives each its stable code and name.
//!
//! The table is append-only: a code, a name and a variant's position never change once released;
//! a new event type takes the next code at the end. A new version of an existing type's body keeps
//! the old struct (in `v2`, named as the type) for decoding, upcast with `From` in `codec.rs`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::values::*;

/// A recorded fact about one order (or, for the `user_*` events, about the user directory): who,
/// when (effective time), and what.
#[derive(Clone, PartialEq, Debug)]
pub struct Event {
    /// Who issued the command that produced this event: the authenticated user and the role.
    pub actor: Actor,
    /// The effective time (may be back-dated, with the `late_entry` permission; never in the
    /// future).
    pub at: Timestamp,
    /// Set when the effective time was set back: the reason given. Unset for events entered at
    /// the time they happened.
    pub late: Option<LateEntry>,
    /// What happened.
    pub body: EventBody,
}

impl Event {
    /// An event entered at the time it happened.
    pub fn new(actor: Actor, at: Timestamp, body: impl Into<EventBody>) -> Self {
        Self { actor, at, late: None, body: body.into() }
    }
}

/// The order was taken in and recorded.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderReceived {
    /// How the order came in.
    pub channel: Channel,
    /// The customer.
    pub customer: String,
    /// Contact person, phone or e-mail.
    pub contact: String,
    /// The order lines.
    pub lines: Vec<OrderLine>,
    /// Currency of every price and total.
    pub currency: Currency,
    /// Sum of quantity × unit price over the lines, computed, never taken from input.
    pub total_minor: i64,
    /// The delivery date the customer asked for.
    pub requested_date: Date,
    /// Where to deliver.
    pub delivery_address: String,
    /// Packaging, labelling, temperature and other special requirements.
    pub special_requirements: String,
    /// When the department reviews of revision 1 are due: the latest of `review_due_by`.
    pub review_due: Timestamp,
    /// When each department's review is due (each department has its own limit). Version 3;
    /// an older event is upcast with every department due at `review_due`.
    pub review_due_by: Vec<RoleDue>,
}

/// A department approved a revision.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReviewApproved {
    /// The department.
    pub department: Department,
    /// The revision approved.
    pub revision: u32,
    /// Remarks.
    pub note: String,
}

/// A department rejected a revision.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReviewRejected {
    /// The department.
    pub department: Department,
    /// The revision rejected.
    pub revision: u32,
    /// Why.
    pub reason: String,
}

/// Every department approved the current revision.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderApproved {
    /// The revision approved.
    pub revision: u32,
}

/// A department's rejection rejected the order.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderRejected {
    /// The revision rejected.
    pub revision: u32,
    /// The department that rejected it.
    pub department: Department,
    /// Why.
    pub reason: String,
}

/// The order was confirmed with the customer, with a promised date.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderConfirmed {
    /// The date promised to the customer.
    pub promised_date: Date,
    /// Remarks (read-back done, who confirmed at the customer).
    pub note: String,
    /// The revision confirmed. Version 3; `None` in an event recorded before.
    pub revision: Option<u32>,
    /// When the goods are expected to leave. Version 3; `None` before.
    pub expected_ship_date: Option<Date>,
    /// How the goods reach the customer. Version 3; `None` before.
    pub delivery_mode: Option<DeliveryMode>,
    /// How the customer confirmed. Version 3; `None` before.
    pub confirmed_via: Option<ConfirmMethod>,
}

/// A change took effect; lines, dates and address as they are after it. Since version 3 this
/// is recorded when every department decided a change request (`request_id`) and approved it;
/// events of older versions applied the change at once, and a change of lines or date then
/// sent the new revision back to review (`reapproval_required`).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderChanged {
    /// The revision after the change (a new one when re-approval is required).
    pub revision: u32,
    /// Why the customer asked.
    pub reason: String,
    /// Every changed field with its old and new value.
    pub changes: Vec<FieldChange>,
    /// The lines after the change.
    pub lines: Vec<OrderLine>,
    /// The total after the change, computed.
    pub total_minor: i64,
    /// The requested date after the change.
    pub requested_date: Date,
    /// The current promise after the change, if the order has one.
    pub promised_date: Option<Date>,
    /// The delivery address after the change.
    pub delivery_address: String,
    /// Whether every department must approve the new revision again.
    pub reapproval_required: bool,
    /// When the reviews of the new revision are due, when re-approval is required (the latest
    /// department's due).
    pub review_due: Option<Timestamp>,
    /// When each department's review of the new revision is due, when re-approval is required
    /// (each department has its own limit). Version 3; an older event is upcast with every
    /// department due at `review_due`.
    pub review_due_by: Vec<RoleDue>,
    /// The change request that was approved. Version 3; `None` for a change recorded before,
    /// which took effect without one.
    pub request_id: Option<u32>,
    /// Who asked for the change. Version 3; `None` before (changes were then recorded as the
    /// customer's requests).
    pub initiated_by: Option<Initiator>,
}

/// The order was cancelled.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderCancelled {
    /// Why.
    pub reason: String,
    /// Who asked for the cancellation. Version 3; `None` before.
    pub initiated_by: Option<Initiator>,
}

/// Production was scheduled.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ProductionScheduled {
    /// The planned finish date.
    pub planned_finish: Date,
    /// Who is responsible, line or shift.
    pub note: String,
}

/// Quality inspection of the produced batch.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct QualityInspected {
    /// Pass, rework or scrap.
    pub result: InspectionResult,
    /// Findings and cause.
    pub note: String,
}

/// Production finished (after a passed inspection).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ProductionCompleted {
    /// Remarks.
    pub note: String,
}

/// The goods left; the customer was notified.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderShipped {
    /// The carrier.
    pub carrier: String,
    /// Transport mode.
    pub mode: ShipMode,
    /// Tracking number.
    pub tracking_number: String,
    /// Expected arrival.
    pub eta: Date,
    /// Quantity shipped per line.
    pub lines: Vec<LineQuantity>,
    /// The revision shipped. Version 3; `None` before.
    pub revision: Option<u32>,
    /// Set when a department head shipped a stock order not confirmed with the customer: the
    /// reason given. Version 3.
    pub unconfirmed_reason: Option<String>,
}

/// The shipment is late; a new ETA was given.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ShipmentDelayed {
    /// The new expected arrival.
    pub new_eta: Date,
    /// Why.
    pub reason: String,
}

/// The goods arrived at the customer.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderDelivered {
    /// Remarks (proof of delivery reference).
    pub note: String,
}

/// The customer inspected and signed for the goods.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderSigned {
    /// Who signed at the customer.
    pub signed_by: String,
    /// Quantity accepted per line.
    pub accepted: Vec<LineQuantity>,
    /// Whether every shipped unit was accepted.
    pub full: bool,
    /// Remarks.
    pub note: String,
}

/// The customer refused the delivery.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderRefused {
    /// Who refused at the customer.
    pub refused_by: String,
    /// Why.
    pub reason: String,
}

/// An after-sales complaint was opened.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintOpened {
    /// The complaint's number within the order (1, 2, ...).
    pub complaint_id: u32,
    /// What it is about.
    pub category: ComplaintCategory,
    /// How serious.
    pub severity: Severity,
    /// The customer's words.
    pub text: String,
    /// Who follows the complaint up (a login). Version 3; `None` before or when unassigned.
    pub assignee: Option<String>,
    /// When the first response to the customer is due. Version 3; `None` before.
    pub respond_by: Option<Timestamp>,
}

/// A complaint was resolved.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintResolved {
    /// The complaint.
    pub complaint_id: u32,
    /// What was done.
    pub resolution: String,
    /// Whether the customer is satisfied.
    pub customer_satisfied: bool,
    /// What was done, by kind. Version 3; `None` before.
    pub remedy: Option<Remedy>,
}

/// A resolved complaint was reopened.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintReopened {
    /// The complaint.
    pub complaint_id: u32,
    /// Why.
    pub reason: String,
}

/// A follow-up visit or survey recorded the customer's satisfaction.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct FeedbackRecorded {
    /// Satisfaction score, 1 (poor) to 5 (excellent).
    pub score: u8,
    /// The customer's comment.
    pub comment: String,
}

/// The order was closed and archived until its retention date.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderClosed {
    /// The archive is kept at least until this date.
    pub retention_until: Date,
    /// Set when a department head closed the order while a complaint was open or its last
    /// resolution left the customer unsatisfied: the reason given. Version 3.
    pub override_reason: Option<String>,
}

/// A legal or dispute hold: the archive is kept until released.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ArchiveHoldPlaced {
    /// Why (dispute, audit, claim).
    pub reason: String,
}

/// A hold was released; the retention date applies again.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ArchiveHoldReleased {
    /// Remarks.
    pub note: String,
}

/// Somebody read the order's archive.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ArchiveAccessed {
    /// What was read.
    pub access: AccessKind,
    /// Details (export file, replay point, purpose).
    pub detail: String,
}

/// A user was added to the directory (stream [`DIRECTORY_STREAM`]). No secret is ever part
/// of an event: password and token hashes are kept outside the log.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct UserAdded {
    /// The user's id (stable; logins are unique among users).
    pub user_id: uuid::Uuid,
    /// What the user types to log in.
    pub login: String,
    /// The name shown to people.
    pub display_name: String,
    /// The powers given with the user.
    pub grants: Vec<Grant>,
}

/// A user was given a power.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RoleGranted {
    /// The user.
    pub user_id: uuid::Uuid,
    /// The power given.
    pub grant: Grant,
}

/// A power was taken from a user.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RoleRevoked {
    /// The user.
    pub user_id: uuid::Uuid,
    /// The power taken.
    pub grant: Grant,
}

/// A user was disabled: nothing more is done under that login.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct UserDisabled {
    /// The user.
    pub user_id: uuid::Uuid,
    /// Why.
    pub reason: String,
}

/// A disabled user was enabled again.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct UserEnabled {
    /// The user.
    pub user_id: uuid::Uuid,
}

/// A user's credential was set or changed (the fact only: the secret stays outside the log).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct CredentialChanged {
    /// The user.
    pub user_id: uuid::Uuid,
    /// Which credential: a password or a token.
    pub credential: CredentialKind,
}

/// A read of the order's archive was refused (and recorded as refused).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ArchiveAccessRefused {
    /// What was asked for.
    pub access: AccessKind,
    /// Why it was refused.
    pub reason: String,
}

/// A change request (seed 002 三.4): the proposed edits, who asked and why, what each
/// department says it would cost. The approved revision stays in force until every reviewer
/// approved; then `order_changed` applies the request as the next revision.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ChangeRequested {
    /// The request's number within the order (1, 2, ...).
    pub request_id: u32,
    /// Who asked.
    pub initiated_by: Initiator,
    /// Why.
    pub reason: String,
    /// Every field the request would change, with its old and new value.
    pub changes: Vec<FieldChange>,
    /// The lines the request proposes.
    pub lines: Vec<OrderLine>,
    /// The total it proposes, computed.
    pub total_minor: i64,
    /// The requested date it proposes.
    pub requested_date: Date,
    /// The promise after the request, if approved (moved only by a customer's change of date).
    pub promised_date: Option<Date>,
    /// The delivery address it proposes.
    pub delivery_address: String,
    /// The revision the order takes when the request is approved.
    pub revision: u32,
    /// The departments (roles) that decide it, each by its own deadline.
    pub review_due_by: Vec<RoleDue>,
    /// What the change would mean for each department, as the requester noted it.
    pub impact: Vec<ImpactNote>,
}

/// A department approved a change request.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ChangeApproved {
    /// The request.
    pub request_id: u32,
    /// The department (its role).
    pub role: Role,
    /// Remarks.
    pub note: String,
}

/// A department declined a change request: the request is declined and the order goes on,
/// unchanged, on its approved revision.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ChangeDeclined {
    /// The request.
    pub request_id: u32,
    /// The department (its role).
    pub role: Role,
    /// Why.
    pub reason: String,
}

/// Sales withdrew a pending change request.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ChangeWithdrawn {
    /// The request.
    pub request_id: u32,
    /// Why.
    pub reason: String,
}

/// A review passed its time limit undecided and was escalated to the department's head.
/// Recorded once per review by the deadline watcher of `serve`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReviewOverdue {
    /// The revision under review (for a change request: the revision it would make).
    pub revision: u32,
    /// The change request, when the overdue review is a change request's.
    pub request_id: Option<u32>,
    /// The department (its role) that has not decided.
    pub role: Role,
    /// When the decision was due.
    pub due: Timestamp,
    /// Who it is escalated to: that department's head.
    pub escalated_to: Grant,
}

/// Progress on a complaint: what was done, and what happens next.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ComplaintUpdated {
    /// The complaint.
    pub complaint_id: u32,
    /// What was done or learnt.
    pub note: String,
    /// The next step, and by whom.
    pub next_step: String,
}

/// A follow-up visit (回訪) after sign-off.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct VisitRecorded {
    /// How the customer was reached.
    pub method: VisitMethod,
    /// Satisfaction score, 1 (poor) to 5 (excellent); `None` when the customer did not answer.
    pub score: Option<u8>,
    /// The customer's words.
    pub comment: String,
}

/// A quantity of one lot (batch) of a line (seed 002 三.3: traceability of production).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct LotQuantity {
    /// The lot number, as production recorded it.
    pub lot: String,
    /// How many units of the line come from that lot.
    pub quantity: u32,
}

/// One line of a shipment: how much of it, from which lots.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ShippedLine {
    /// The order line.
    pub line_no: u16,
    /// How many units leave in this shipment (more than 0; never more than ordered minus shipped).
    pub quantity: u32,
    /// The lots those units come from (their quantities add up to `quantity`); empty when the
    /// order has no lots recorded (orders from before lots, stock goods without lot numbers).
    pub lots: Vec<LotQuantity>,
}

/// One shipment of an order left (seed 002 四.1/四.2): an order ships in one or more shipments,
/// each with its lines and quantities. (An `order_shipped` of an earlier release is read as
/// shipment 1 carrying the lines it names.)
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ShipmentDispatched {
    /// The shipment's number within the order (1, 2, ...).
    pub shipment_id: u32,
    /// What it carries.
    pub lines: Vec<ShippedLine>,
    /// The carrier.
    pub carrier: String,
    /// Transport mode.
    pub mode: ShipMode,
    /// Tracking number.
    pub tracking_number: String,
    /// Expected arrival.
    pub eta: Date,
    /// The vehicle (plate, container).
    pub vehicle: String,
    /// Who handed the goods over at the warehouse.
    pub handed_over_by: String,
    /// Who received them for the carrier (the driver).
    pub received_by: String,
    /// The allowed temperature range in transit, for a cold-chain shipment.
    pub temperature: Option<TempRange>,
    /// The revision shipped.
    pub revision: u32,
    /// Set when a department head shipped a stock order not confirmed with the customer: the
    /// reason given.
    pub unconfirmed_reason: Option<String>,
}

/// Static facts about one event type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EventType {
    /// The stable numeric code stored in the log.
    pub code: u16,
    /// The stable name used in JSON, NATS subjects and headers.
    pub name: &'static str,
    /// The schema version new events of this type are written with.
    pub version: u16,
}

macro_rules! event_table {
    ($($code:literal => $variant:ident, $name:literal, version $version:literal, before $old:path;)*) => {
        /// What happened: one variant per event type. Append-only.
        #[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
        pub enum EventBody {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant($variant),
            )*
        }

        /// Every event type, in code order.
        pub const EVENT_TYPES: &[EventType] = &[
            $(EventType { code: $code, name: $name, version: $version },)*
        ];

        impl EventBody {
            /// Whether the event belongs to the user directory (stream [`DIRECTORY_STREAM`])
            /// rather than to an order.
            pub fn is_directory(&self) -> bool {
                matches!(
                    self,
                    EventBody::UserAdded(_)
                        | EventBody::RoleGranted(_)
                        | EventBody::RoleRevoked(_)
                        | EventBody::UserDisabled(_)
                        | EventBody::UserEnabled(_)
                        | EventBody::CredentialChanged(_)
                )
            }

            /// Whether the event belongs to the customer master ([`CUSTOMERS_STREAM`]) or the
            /// product catalogue ([`CATALOGUE_STREAM`]) rather than to an order.
            pub fn is_master(&self) -> bool {
                // Issue 14: the customer_* and product_* events are listed here.
                false
            }

            /// Whether the event belongs to an order's stream (not to the user directory, the
            /// customer master or the catalogue). Every read model of orders skips the others.
            pub fn is_order(&self) -> bool {
                !self.is_directory() && !self.is_master()
            }

            /// The event type's static facts.
            pub fn event_type(&self) -> EventType {
                match self {
                    $(EventBody::$variant(_) => EventType { code: $code, name: $name, version: $version },)*
                }
            }
        }

        $(
            impl From<$variant> for EventBody {
                fn from(v: $variant) -> Self {
                    EventBody::$variant(v)
                }
            }
        )*

    };
}

with_event_table!(event_table);

/// Looks up an event type by its code.
pub fn event_type_by_code(code: u16) -> Option<EventType> {
    EVENT_TYPES.iter().copied().find(|t| t.code == code)
}

/// Looks up an event type by its name.
pub fn event_type_by_name(name: &str) -> Option<EventType> {
    EVENT_TYPES.iter().copied().find(|t| t.name == name)
}

/// Earlier versions of the types changed in version 3: decoded from old bytes and old JSON,
/// upcast with `From`, and rendered back (`From<&Current>`) when an old document is shown in its
/// own form (an export made by an older release still verifies).
pub mod v2 {
    use super::*;

    /// `order_received` versions 1 and 2.
    #[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
    pub struct OrderReceived {
        /// How the order came in.
        pub channel: Channel,
        /// The customer.
        pub customer: String,
        /// Contact person, phone or e-mail.
        pub contact: String,
        /// The order lines.
        pub lines: Vec<OrderLine>,
        /// Currency of every price and total.
        pub currency: Currency,
        /// Sum of quantity × unit price over the lines.
        pub total_minor: i64,
        /// The delivery date the customer asked for.
        pub requested_date: Date,
        /// Where to deliver.
        pub delivery_address: String,
        /// Special requirements.
        pub special_requirements: String,
        /// When the department reviews of revision 1 are due.
        pub review_due: Timestamp,
    }

    /// `order_confirmed` versions 1 and 2.
    #[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
    pub struct OrderConfirmed {
        /// The date promised to the customer.
        pub promised_date: Date,
        /// Remarks.
        pub note: String,
    }

    /// `order_changed` versions 1 and 2.
    #[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
    pub struct OrderChanged {
        /// The revision after the change.
        pub revision: u32,
        /// Why the customer asked.
        pub reason: String,
        /// Every changed field.
        pub changes: Vec<FieldChange>,
        /// The lines after the change.
        pub lines: Vec<OrderLine>,
        /// The total after the change.
        pub total_minor: i64,
        /// The requested date after the change.
        pub requested_date: Date,
        /// The current promise after the change.
        pub promised_date: Option<Date>,
        /// The delivery address after the change.
        pub delivery_address: String,
        /// Whether every department must approve the new revision again.
        pub reapproval_required: bool,
        /// When the reviews of the new revision are due.
        pub review_due: Option<Timestamp>,
    }

    /// `order_cancelled` versions 1 and 2.
    #[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
    pub struct OrderCancelled {
        /// Why.
        pub reason: String,
    }

    /// `order_shipped` versions 1 and 2.
    #[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
    pub struct OrderShipped {
        /// The carrier.
        pub carrier: String,
        /// Transport mode.
        pub mode: ShipMode,
        /// Tracking number.
        pub tracking_number: String,
        /// Expected arrival.
        pub eta: Date,
        /// Quantity shipped per line.
        pub lines: Vec<LineQuantity>,
    }

    /// `complaint_opened` versions 1 and 2.
    #[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
    pub struct ComplaintOpened {
        /// The complaint's number within the order.
        pub complaint_id: u32,
        /// What it is about.
        pub category: ComplaintCategory,
        /// How serious.
        pub severity: Severity,
        /// The customer's words.
        pub text: String,
    }

    /// `complaint_resolved` versions 1 and 2.
    #[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
    pub struct ComplaintResolved {
        /// The complaint.
        pub complaint_id: u32,
        /// What was done.
        pub resolution: String,
        /// Whether the customer is satisfied.
        pub customer_satisfied: bool,
    }

    /// `order_closed` versions 1 and 2.
    #[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
    pub struct OrderClosed {
        /// The archive is kept at least until this date.
        pub retention_until: Date,
    }

    impl From<OrderReceived> for super::OrderReceived {
        fn from(e: OrderReceived) -> Self {
            let review_due_by = RoleDue::every_department(e.review_due);
            super::OrderReceived {
                channel: e.channel,
                customer: e.customer,
                contact: e.contact,
                lines: e.lines,
                currency: e.currency,
                total_minor: e.total_minor,
                requested_date: e.requested_date,
                delivery_address: e.delivery_address,
                special_requirements: e.special_requirements,
                review_due: e.review_due,
                review_due_by,
            }
        }
    }
    impl From<super::OrderReceived> for OrderReceived {
        fn from(e: super::OrderReceived) -> Self {
            OrderReceived {
                channel: e.channel,
                customer: e.customer,
                contact: e.contact,
                lines: e.lines,
                currency: e.currency,
                total_minor: e.total_minor,
                requested_date: e.requested_date,
                delivery_address: e.delivery_address,
                special_requirements: e.special_requirements,
                review_due: e.review_due,
            }
        }
    }

    impl From<OrderConfirmed> for super::OrderConfirmed {
        fn from(e: OrderConfirmed) -> Self {
            super::OrderConfirmed {
                promised_date: e.promised_date,
                note: e.note,
                revision: None,
                expected_ship_date: None,
                delivery_mode: None,
                confirmed_via: None,
            }
        }
    }
    impl From<super::OrderConfirmed> for OrderConfirmed {
        fn from(e: super::OrderConfirmed) -> Self {
            OrderConfirmed { promised_date: e.promised_date, note: e.note }
        }
    }

    impl From<OrderChanged> for super::OrderChanged {
        fn from(e: OrderChanged) -> Self {
            super::OrderChanged {
                revision: e.revision,
                reason: e.reason,
                changes: e.changes,
                lines: e.lines,
                total_minor: e.total_minor,
                requested_date: e.requested_date,
                promised_date: e.promised_date,
                delivery_address: e.delivery_address,
                reapproval_required: e.reapproval_required,
                review_due: e.review_due,
                review_due_by: e.review_due.map(RoleDue::every_department).unwrap_or_default(),
                request_id: None,
                initiated_by: None,
            }
        }
    }
    impl From<super::OrderChanged> for OrderChanged {
        fn from(e: super::OrderChanged) -> Self {
            OrderChanged {
                revision: e.revision,
                reason: e.reason,
                changes: e.changes,
                lines: e.lines,
                total_minor: e.total_minor,
                requested_date: e.requested_date,
                promised_date: e.promised_date,
                delivery_address: e.delivery_address,
                reapproval_required: e.reapproval_required,
                review_due: e.review_due,
            }
        }
    }

    impl From<OrderCancelled> for super::OrderCancelled {
        fn from(e: OrderCancelled) -> Self {
            super::OrderCancelled { reason: e.reason, initiated_by: None }
        }
    }
    impl From<super::OrderCancelled> for OrderCancelled {
        fn from(e: super::OrderCancelled) -> Self {
            OrderCancelled { reason: e.reason }
        }
    }

    impl From<OrderShipped> for super::OrderShipped {
        fn from(e: OrderShipped) -> Self {
            super::OrderShipped {
                carrier: e.carrier,
                mode: e.mode,
                tracking_number: e.tracking_number,
                eta: e.eta,
                lines: e.lines,
                revision: None,
                unconfirmed_reason: None,
            }
        }
    }
    impl From<super::OrderShipped> for OrderShipped {
        fn from(e: super::OrderShipped) -> Self {
            OrderShipped {
                carrier: e.carrier,
                mode: e.mode,
                tracking_number: e.tracking_number,
                eta: e.eta,
                lines: e.lines,
            }
        }
    }

    impl From<ComplaintOpened> for super::ComplaintOpened {
        fn from(e: ComplaintOpened) -> Self {
            super::ComplaintOpened {
                complaint_id: e.complaint_id,
                category: e.category,
                severity: e.severity,
                text: e.text,
                assignee: None,
                respond_by: None,
            }
        }
    }
    impl From<super::ComplaintOpened> for ComplaintOpened {
        fn from(e: super::ComplaintOpened) -> Self {
            ComplaintOpened {
                complaint_id: e.complaint_id,
                category: e.category,
                severity: e.severity,
                text: e.text,
            }
        }
    }

    impl From<ComplaintResolved> for super::ComplaintResolved {
        fn from(e: ComplaintResolved) -> Self {
            super::ComplaintResolved {
                complaint_id: e.complaint_id,
                resolution: e.resolution,
                customer_satisfied: e.customer_satisfied,
                remedy: None,
            }
        }
    }
    impl From<super::ComplaintResolved> for ComplaintResolved {
        fn from(e: super::ComplaintResolved) -> Self {
            ComplaintResolved {
                complaint_id: e.complaint_id,
                resolution: e.resolution,
                customer_satisfied: e.customer_satisfied,
            }
        }
    }

    impl From<OrderClosed> for super::OrderClosed {
        fn from(e: OrderClosed) -> Self {
            super::OrderClosed { retention_until: e.retention_until, override_reason: None }
        }
    }
    impl From<super::OrderClosed> for OrderClosed {
        fn from(e: super::OrderClosed) -> Self {
            OrderClosed { retention_until: e.retention_until }
        }
    }
}
