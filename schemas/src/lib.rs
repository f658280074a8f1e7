//! orderflow's wire and storage vocabulary: value types, every event of the order workflow,
//! the versioned binary codec that the log stores, and the JSON form that consumers read.
//!
//! Invariants:
//! - an event type's numeric code and its variant order never change; new types are appended;
//! - a stored payload is decoded by `(type code, schema version)`; an unknown pair is an error
//!   that names it, never a guess;
//! - money is integer minor units plus a currency, quantities are integers.

/// The event table, written once: `code => Variant, "name", version N, before Old;` per event
/// type. Append-only. Expands `$m! { ... }` with every row.
///
/// Versions: version 1 is the envelope before identities (`(ActorV1, at, body)`), read for the
/// types that existed then (codes up to [`codec::LEGACY_CODE_MAX`]) and upcast; version 2 is the
/// identity envelope (`(Actor, at, Option<LateEntry>, body)`). Types added since start at 2.
/// Version 3 changed the bodies of eight types (issue 12: who initiated, the revision, the
/// confirmation's facts, overrides): `Old` is the body of every earlier version of the type
/// (`events::v2::*`), upcast with `From<Old>`; for a type whose body never changed, `Old` is the
/// type itself.
macro_rules! with_event_table {
    ($m:ident) => {
        $m! {
            1 => OrderReceived, "order_received", version 3, before v2::OrderReceived;
            2 => ReviewApproved, "review_approved", version 2, before ReviewApproved;
            3 => ReviewRejected, "review_rejected", version 2, before ReviewRejected;
            4 => OrderApproved, "order_approved", version 2, before OrderApproved;
            5 => OrderRejected, "order_rejected", version 2, before OrderRejected;
            6 => OrderConfirmed, "order_confirmed", version 3, before v2::OrderConfirmed;
            7 => OrderChanged, "order_changed", version 3, before v2::OrderChanged;
            8 => OrderCancelled, "order_cancelled", version 3, before v2::OrderCancelled;
            9 => ProductionScheduled, "production_scheduled", version 2, before ProductionScheduled;
            10 => QualityInspected, "quality_inspected", version 2, before QualityInspected;
            11 => ProductionCompleted, "production_completed", version 2, before ProductionCompleted;
            12 => OrderShipped, "order_shipped", version 3, before v2::OrderShipped;
            13 => ShipmentDelayed, "shipment_delayed", version 2, before ShipmentDelayed;
            14 => OrderDelivered, "order_delivered", version 2, before OrderDelivered;
            15 => OrderSigned, "order_signed", version 2, before OrderSigned;
            16 => OrderRefused, "order_refused", version 2, before OrderRefused;
            17 => ComplaintOpened, "complaint_opened", version 3, before v2::ComplaintOpened;
            18 => ComplaintResolved, "complaint_resolved", version 3, before v2::ComplaintResolved;
            19 => ComplaintReopened, "complaint_reopened", version 2, before ComplaintReopened;
            20 => FeedbackRecorded, "feedback_recorded", version 2, before FeedbackRecorded;
            21 => OrderClosed, "order_closed", version 3, before v2::OrderClosed;
            22 => ArchiveHoldPlaced, "archive_hold_placed", version 2, before ArchiveHoldPlaced;
            23 => ArchiveHoldReleased, "archive_hold_released", version 2, before ArchiveHoldReleased;
            24 => ArchiveAccessed, "archive_accessed", version 2, before ArchiveAccessed;
            25 => UserAdded, "user_added", version 2, before UserAdded;
            26 => RoleGranted, "role_granted", version 2, before RoleGranted;
            27 => RoleRevoked, "role_revoked", version 2, before RoleRevoked;
            28 => UserDisabled, "user_disabled", version 2, before UserDisabled;
            29 => UserEnabled, "user_enabled", version 2, before UserEnabled;
            30 => CredentialChanged, "credential_changed", version 2, before CredentialChanged;
            31 => ArchiveAccessRefused, "archive_access_refused", version 2, before ArchiveAccessRefused;
            32 => ChangeRequested, "change_requested", version 2, before ChangeRequested;
            33 => ChangeApproved, "change_approved", version 2, before ChangeApproved;
            34 => ChangeDeclined, "change_declined", version 2, before ChangeDeclined;
            35 => ChangeWithdrawn, "change_withdrawn", version 2, before ChangeWithdrawn;
            36 => ReviewOverdue, "review_overdue", version 2, before ReviewOverdue;
            37 => ComplaintUpdated, "complaint_updated", version 2, before ComplaintUpdated;
            38 => VisitRecorded, "visit_recorded", version 2, before VisitRecorded;
            49 => ShipmentDispatched, "shipment_dispatched", version 2, before ShipmentDispatched;
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
