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
macro_rules! with_event_table {
    ($m:ident) => {
        $m! {
            1 => OrderReceived, "order_received", version 1;
            2 => ReviewApproved, "review_approved", version 1;
            3 => ReviewRejected, "review_rejected", version 1;
            4 => OrderApproved, "order_approved", version 1;
            5 => OrderRejected, "order_rejected", version 1;
            6 => OrderConfirmed, "order_confirmed", version 1;
            7 => OrderChanged, "order_changed", version 1;
            8 => OrderCancelled, "order_cancelled", version 1;
            9 => ProductionScheduled, "production_scheduled", version 1;
            10 => QualityInspected, "quality_inspected", version 1;
            11 => ProductionCompleted, "production_completed", version 1;
            12 => OrderShipped, "order_shipped", version 1;
            13 => ShipmentDelayed, "shipment_delayed", version 1;
            14 => OrderDelivered, "order_delivered", version 1;
            15 => OrderSigned, "order_signed", version 1;
            16 => OrderRefused, "order_refused", version 1;
            17 => ComplaintOpened, "complaint_opened", version 1;
            18 => ComplaintResolved, "complaint_resolved", version 1;
            19 => ComplaintReopened, "complaint_reopened", version 1;
            20 => FeedbackRecorded, "feedback_recorded", version 1;
            21 => OrderClosed, "order_closed", version 1;
            22 => ArchiveHoldPlaced, "archive_hold_placed", version 1;
            23 => ArchiveHoldReleased, "archive_hold_released", version 1;
            24 => ArchiveAccessed, "archive_accessed", version 1;
        }
    };
}

mod codec;
mod events;
mod json;
mod status;
mod values;

pub use codec::{decode_event, encode_event, DecodeError, EncodeError, PAYLOAD_BYTES_MAX};
pub use events::*;
pub use json::{
    event_from_json, event_to_json, event_to_json_vec, json_schema_for, json_schemas, JsonEnvelope,
};
pub use status::{OrderStatus, StatusFold};
pub use values::*;
