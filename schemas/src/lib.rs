//! orderflow's wire and storage vocabulary: value types, every event of the order workflow,
//! the versioned binary codec that the log stores, and the JSON form that consumers read.
//!
//! Invariants:
//! - an event type's numeric code and its variant order never change; new types are appended;
//! - a stored payload is decoded by `(type code, schema version)`; an unknown pair is an error
//!   that names it, never a guess;
//! - money is integer minor units plus a currency, quantities are integers.

/// The event table, written once: `code => Variant, "name", version N;` per event type.
/// Append-only. Expands `$m! { ... }` with every row.
///
/// Versions: version 1 is the envelope before identities (`(ActorV1, at, body)`), read for the
/// types that existed then (codes up to [`codec::LEGACY_CODE_MAX`]) and upcast; version 2 is the
/// identity envelope (`(Actor, at, Option<LateEntry>, body)`). Types added since start at 2.
macro_rules! with_event_table {
    ($m:ident) => {
        $m! {
            1 => OrderReceived, "order_received", version 2;
            2 => ReviewApproved, "review_approved", version 2;
            3 => ReviewRejected, "review_rejected", version 2;
            4 => OrderApproved, "order_approved", version 2;
            5 => OrderRejected, "order_rejected", version 2;
            6 => OrderConfirmed, "order_confirmed", version 2;
            7 => OrderChanged, "order_changed", version 2;
            8 => OrderCancelled, "order_cancelled", version 2;
            9 => ProductionScheduled, "production_scheduled", version 2;
            10 => QualityInspected, "quality_inspected", version 2;
            11 => ProductionCompleted, "production_completed", version 2;
            12 => OrderShipped, "order_shipped", version 2;
            13 => ShipmentDelayed, "shipment_delayed", version 2;
            14 => OrderDelivered, "order_delivered", version 2;
            15 => OrderSigned, "order_signed", version 2;
            16 => OrderRefused, "order_refused", version 2;
            17 => ComplaintOpened, "complaint_opened", version 2;
            18 => ComplaintResolved, "complaint_resolved", version 2;
            19 => ComplaintReopened, "complaint_reopened", version 2;
            20 => FeedbackRecorded, "feedback_recorded", version 2;
            21 => OrderClosed, "order_closed", version 2;
            22 => ArchiveHoldPlaced, "archive_hold_placed", version 2;
            23 => ArchiveHoldReleased, "archive_hold_released", version 2;
            24 => ArchiveAccessed, "archive_accessed", version 2;
            25 => UserAdded, "user_added", version 2;
            26 => RoleGranted, "role_granted", version 2;
            27 => RoleRevoked, "role_revoked", version 2;
            28 => UserDisabled, "user_disabled", version 2;
            29 => UserEnabled, "user_enabled", version 2;
            30 => CredentialChanged, "credential_changed", version 2;
            31 => ArchiveAccessRefused, "archive_access_refused", version 2;
        }
    };
}

mod codec;
mod events;
mod json;
mod status;
mod values;

pub use codec::{decode_event, encode_event, DecodeError, EncodeError, LEGACY_CODE_MAX, PAYLOAD_BYTES_MAX};
pub use events::*;
pub use json::{
    event_from_json, event_to_json, event_to_json_at_version, event_to_json_vec, json_schema_for,
    json_schemas, JsonEnvelope,
};
pub use status::{OrderStatus, StatusFold};
pub use values::*;
