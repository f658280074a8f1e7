//! Every event of the order workflow, and the table that gives each its stable code and name.
//!
//! The table is append-only: a code, a name and a variant's position never change once released;
//! a new event type takes the next code at the end. A new version of an existing type keeps the
//! old struct (renamed `...V1`) for decoding and upcasts it in `codec.rs`.

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
    /// When the department reviews of revision 1 are due.
    pub review_due: Timestamp,
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
    /// Remarks (delivery mode agreed, read-back done).
    pub note: String,
}

/// A change request was recorded; lines, dates and address as they are after it.
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
    /// When the reviews of the new revision are due, when re-approval is required.
    pub review_due: Option<Timestamp>,
}

/// The order was cancelled.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderCancelled {
    /// Why.
    pub reason: String,
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
    ($($code:literal => $variant:ident, $name:literal, version $version:literal;)*) => {
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
