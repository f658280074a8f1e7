//! The bus's naming scheme: NATS subjects and message headers of orderflow events.
//!
//! Every event of the log is one JetStream message:
//! - subject `orderflow.events.<event_type>.<order_id>`, e.g.
//!   `orderflow.events.order_shipped.0b9c4d2e-...`; `<event_type>` is the stable name from the event
//!   table, `<order_id>` the order's UUID (hyphenated);
//! - payload: the event's JSON form (`orderflow_schemas::event_to_json`);
//! - headers: `Nats-Msg-Id` (the event id, used by JetStream's duplicate window),
//!   `Orderflow-Event-Type`, `Orderflow-Schema-Version`, `Orderflow-Position` (global position in
//!   the log), `Orderflow-Order-Version` (the order's version after the event) and
//!   `Orderflow-Order-Id`. Headers repeat the envelope so that a consumer can route, filter and
//!   deduplicate without parsing the payload; consumers check both against each other.

use async_nats::HeaderMap;
use orderflow_schemas::{EventType, JsonEnvelope, OrderId};
use uuid::Uuid;

/// The first two tokens of every event subject.
pub const SUBJECT_PREFIX: &str = "orderflow.events";
/// The filter that matches every event subject.
pub const ALL_EVENTS_FILTER: &str = "orderflow.events.>";

/// `Nats-Msg-Id`: the event id; JetStream drops a second message with the same id inside the
/// stream's duplicate window.
pub const HEADER_MSG_ID: &str = "Nats-Msg-Id";
/// The event type's name, as in the subject.
pub const HEADER_EVENT_TYPE: &str = "Orderflow-Event-Type";
/// The schema version of the payload's `data`.
pub const HEADER_SCHEMA_VERSION: &str = "Orderflow-Schema-Version";
/// The event's global position in the log (1, 2, 3...).
pub const HEADER_POSITION: &str = "Orderflow-Position";
/// The order's version after the event (1, 2, 3...).
pub const HEADER_ORDER_VERSION: &str = "Orderflow-Order-Version";
/// The order id, as in the subject.
pub const HEADER_ORDER_ID: &str = "Orderflow-Order-Id";

/// The subject of one event: `orderflow.events.<event_type>.<order_id>`.
pub fn event_subject(event_type: &str, order_id: OrderId) -> String {
    format!("{SUBJECT_PREFIX}.{event_type}.{order_id}")
}

/// The filter that matches every event of one type: `orderflow.events.<event_type>.>`.
pub fn event_type_filter(event_type: &str) -> String {
    format!("{SUBJECT_PREFIX}.{event_type}.>")
}

/// Splits an event subject into `(event_type, order_id)` text; `None` when the subject does not
/// follow the scheme.
pub fn parse_event_subject(subject: &str) -> Option<(&str, &str)> {
    let rest = subject.strip_prefix(SUBJECT_PREFIX)?.strip_prefix('.')?;
    let (event_type, order_id) = rest.split_once('.')?;
    if event_type.is_empty() || order_id.is_empty() || order_id.contains('.') {
        return None;
    }
    Some((event_type, order_id))
}

/// The headers of one event's message.
pub fn event_headers(event_type: EventType, envelope: &JsonEnvelope) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(HEADER_MSG_ID, envelope.event_id.to_string());
    h.insert(HEADER_EVENT_TYPE, event_type.name);
    h.insert(HEADER_SCHEMA_VERSION, event_type.version.to_string());
    h.insert(HEADER_POSITION, envelope.position.to_string());
    h.insert(HEADER_ORDER_VERSION, envelope.version.to_string());
    h.insert(HEADER_ORDER_ID, envelope.order_id.to_string());
    h
}

/// The orderflow headers of a message, parsed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EventHeaders {
    /// `Nats-Msg-Id`.
    pub event_id: Uuid,
    /// `Orderflow-Event-Type`.
    pub event_type: String,
    /// `Orderflow-Schema-Version`.
    pub schema_version: u16,
    /// `Orderflow-Position`.
    pub position: u64,
    /// `Orderflow-Order-Version`.
    pub order_version: u64,
    /// `Orderflow-Order-Id`.
    pub order_id: OrderId,
}

impl EventHeaders {
    /// Parses every orderflow header; the error names the missing or malformed one.
    pub fn parse(headers: &HeaderMap) -> Result<Self, String> {
        fn get<'a>(h: &'a HeaderMap, name: &str) -> Result<&'a str, String> {
            h.get(name).map(|v| v.as_str()).ok_or_else(|| format!("header {name} is missing"))
        }
        fn number<T: std::str::FromStr>(h: &HeaderMap, name: &str) -> Result<T, String> {
            let text = get(h, name)?;
            text.parse().map_err(|_| format!("header {name} is not a number: '{text}'"))
        }
        let id = get(headers, HEADER_MSG_ID)?;
        let order = get(headers, HEADER_ORDER_ID)?;
        Ok(Self {
            event_id: Uuid::parse_str(id).map_err(|e| format!("header {HEADER_MSG_ID} '{id}': {e}"))?,
            event_type: get(headers, HEADER_EVENT_TYPE)?.to_string(),
            schema_version: number(headers, HEADER_SCHEMA_VERSION)?,
            position: number(headers, HEADER_POSITION)?,
            order_version: number(headers, HEADER_ORDER_VERSION)?,
            order_id: order.parse().map_err(|e| format!("header {HEADER_ORDER_ID}: {e}"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_round_trip() {
        let id = OrderId(Uuid::from_u128(0x1234));
        let s = event_subject("order_shipped", id);
        assert_eq!(s, format!("orderflow.events.order_shipped.{id}"));
        assert_eq!(parse_event_subject(&s), Some(("order_shipped", id.to_string().as_str())));
        assert_eq!(parse_event_subject("orderflow.events.order_shipped"), None);
        assert_eq!(parse_event_subject("orderflow.event.order_shipped.x"), None);
        assert_eq!(parse_event_subject("orderflow.events.a.b.c"), None);
        assert_eq!(event_type_filter("order_shipped"), "orderflow.events.order_shipped.>");
    }
}
