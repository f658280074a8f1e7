//! The JSON form of an event (export files, NATS payloads) and its JSON Schemas.
//!
//! Shape: `{"type", "schema_version", "event_id", "order_id", "position", "version",
//! "recorded_at", "actor", "at", "data"}`; `data` is the event type's own struct.

use schemars::gen::SchemaSettings;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::events::*;
use crate::values::{Actor, OrderId, Timestamp};

/// Where an event stands in the log: the fields the JSON form adds around the event itself.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct JsonEnvelope {
    /// Unique id of the event; the NATS `Nats-Msg-Id`.
    pub event_id: Uuid,
    /// The order (event stream).
    pub order_id: OrderId,
    /// Global position in the log (1, 2, 3...).
    pub position: u64,
    /// Version of the order after this event (1, 2, 3...).
    pub version: u64,
    /// When the log recorded it (wall clock of the writer).
    pub recorded_at: Timestamp,
}

/// The JSON document of one event, as a typed struct (used for the JSON Schema).
#[derive(Serialize, Deserialize, JsonSchema)]
struct JsonEvent<T> {
    /// The event type's name.
    #[serde(rename = "type")]
    event_type: String,
    /// The schema version of `data`.
    schema_version: u16,
    /// Unique id of the event.
    event_id: Uuid,
    /// The order.
    order_id: OrderId,
    /// Global position in the log.
    position: u64,
    /// Version of the order after this event.
    version: u64,
    /// When the log recorded it.
    recorded_at: Timestamp,
    /// Who issued the command.
    actor: Actor,
    /// Effective time.
    at: Timestamp,
    /// The event's own fields.
    data: T,
}

/// The JSON form of an event at a place in the log.
pub fn event_to_json(event: &Event, env: &JsonEnvelope) -> Value {
    let ty = event.body.event_type();
    let data = match serde_json::to_value(&event.body) {
        // Externally tagged: {"Variant": {...}}; keep the inner object.
        Ok(Value::Object(mut m)) => m.values_mut().next().map(Value::take).unwrap_or(Value::Null),
        Ok(other) => other,
        Err(e) => json!({ "error": e.to_string() }),
    };
    json!({
        "type": ty.name,
        "schema_version": ty.version,
        "event_id": env.event_id,
        "order_id": env.order_id,
        "position": env.position,
        "version": env.version,
        "recorded_at": env.recorded_at,
        "actor": event.actor,
        "at": event.at,
        "data": data,
    })
}

/// The JSON form of an event, serialized straight to bytes without building a `Value` tree
/// (the publisher's hot path). Parses to exactly the value [`event_to_json`] returns.
pub fn event_to_json_vec(event: &Event, env: &JsonEnvelope) -> Result<Vec<u8>, serde_json::Error> {
    #[derive(Serialize)]
    struct Doc<'a, T: Serialize> {
        #[serde(rename = "type")]
        event_type: &'static str,
        schema_version: u16,
        event_id: Uuid,
        order_id: OrderId,
        position: u64,
        version: u64,
        recorded_at: Timestamp,
        actor: &'a Actor,
        at: Timestamp,
        data: &'a T,
    }
    let ty = event.body.event_type();
    macro_rules! arm {
        ($($code:literal => $variant:ident, $name:literal, version $version:literal;)*) => {
            match &event.body {
                $(EventBody::$variant(data) => serde_json::to_vec(&Doc {
                    event_type: ty.name,
                    schema_version: ty.version,
                    event_id: env.event_id,
                    order_id: env.order_id,
                    position: env.position,
                    version: env.version,
                    recorded_at: env.recorded_at,
                    actor: &event.actor,
                    at: event.at,
                    data,
                }),)*
            }
        };
    }
    with_event_table!(arm)
}

/// Parses the JSON form back into an event and its envelope.
pub fn event_from_json(value: &Value) -> Result<(Event, JsonEnvelope), String> {
    let name = value.get("type").and_then(Value::as_str).ok_or("missing \"type\"")?;
    let ty = event_type_by_name(name).ok_or_else(|| format!("unknown event type \"{name}\""))?;
    let version = value.get("schema_version").and_then(Value::as_u64).ok_or("missing \"schema_version\"")?;
    if version != u64::from(ty.version) {
        return Err(format!("unknown schema version {version} of event type {name}"));
    }
    macro_rules! arm {
        ($($code:literal => $variant:ident, $name:literal, version $version:literal;)*) => {$(
            if name == $name {
                let e: JsonEvent<$variant> =
                    serde_json::from_value(value.clone()).map_err(|e| format!("{name}: {e}"))?;
                let env = JsonEnvelope {
                    event_id: e.event_id,
                    order_id: e.order_id,
                    position: e.position,
                    version: e.version,
                    recorded_at: e.recorded_at,
                };
                return Ok((Event { actor: e.actor, at: e.at, body: EventBody::$variant(e.data) }, env));
            }
        )*};
    }
    with_event_table!(arm);
    Err(format!("unknown event type \"{name}\""))
}

/// The JSON Schema (draft 2020-12) of one event type's JSON form, as pretty JSON text.
pub fn json_schema_for(ty: EventType) -> Option<String> {
    let settings = SchemaSettings::draft2019_09();
    macro_rules! arm {
        ($($code:literal => $variant:ident, $name:literal, version $version:literal;)*) => {$(
            if ty.code == $code {
                let generator = settings.clone().into_generator();
                let schema = generator.into_root_schema_for::<JsonEvent<$variant>>();
                let mut v = serde_json::to_value(&schema).ok()?;
                let obj = v.as_object_mut()?;
                obj.insert("$id".into(), json!(format!("https://orderflow.example/schemas/{}.v{}.json", $name, $version)));
                obj.insert("title".into(), json!($name));
                let props = obj.get_mut("properties")?.as_object_mut()?;
                props.insert("type".into(), json!({ "const": $name, "description": "The event type's name." }));
                props.insert("schema_version".into(), json!({ "const": $version, "description": "The schema version of `data`." }));
                return serde_json::to_string_pretty(&v).ok().map(|s| s + "\n");
            }
        )*};
    }
    with_event_table!(arm);
    None
}

/// Every event type's JSON Schema as `(file name, text)`, e.g. `("order_received.v1.json", ...)`.
pub fn json_schemas() -> Vec<(String, String)> {
    EVENT_TYPES
        .iter()
        .filter_map(|t| json_schema_for(*t).map(|s| (format!("{}.v{}.json", t.name, t.version), s)))
        .collect()
}
