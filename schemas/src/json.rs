//! The JSON form of an event (export files, NATS payloads) and its JSON Schemas.
//!
//! Shape: `{"type", "schema_version", "event_id", "order_id", "position", "version",
//! "recorded_at", "actor", "at", "data"}`; `data` is the event type's own struct.

use schemars::gen::SchemaSettings;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::codec::LEGACY_CODE_MAX;
use crate::events::*;
use crate::values::{Actor, ActorV1, LateEntry, OrderId, Timestamp};

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
    /// Who issued the command: the authenticated user and the role exercised.
    actor: Actor,
    /// Effective time.
    at: Timestamp,
    /// Present when the effective time was set back (a late entry), with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    late: Option<LateEntry>,
    /// The event's own fields.
    data: T,
}

/// The JSON document of an event of schema version 1 (before identities): read back from old
/// exports and upcast.
#[derive(Deserialize)]
struct JsonEventV1<T> {
    event_id: Uuid,
    order_id: OrderId,
    position: u64,
    version: u64,
    recorded_at: Timestamp,
    actor: ActorV1,
    at: Timestamp,
    data: T,
}

impl<T> JsonEvent<T> {
    /// The same document with `data` converted (an older version's body upcast).
    fn map<U>(self, f: impl FnOnce(T) -> U) -> JsonEvent<U> {
        JsonEvent {
            event_type: self.event_type,
            schema_version: self.schema_version,
            event_id: self.event_id,
            order_id: self.order_id,
            position: self.position,
            version: self.version,
            recorded_at: self.recorded_at,
            actor: self.actor,
            at: self.at,
            late: self.late,
            data: f(self.data),
        }
    }
}

impl<T> JsonEventV1<T> {
    /// Today's document of the same event: the typed name as the login of no user, no late entry.
    fn upcast(self, name: &str) -> JsonEvent<T> {
        JsonEvent {
            event_type: name.to_string(),
            schema_version: 1,
            event_id: self.event_id,
            order_id: self.order_id,
            position: self.position,
            version: self.version,
            recorded_at: self.recorded_at,
            actor: self.actor.into(),
            at: self.at,
            late: None,
            data: self.data,
        }
    }
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
    let mut doc = json!({
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
    });
    if let (Some(late), Some(obj)) = (&event.late, doc.as_object_mut()) {
        obj.insert("late".into(), json!(late));
    }
    doc
}

/// The JSON form an event had when it was written at `schema_version`: today's form
/// ([`event_to_json`]); for an older version of a type whose body changed since, `data` in that
/// version's form (the fields added since left out, `"schema_version"` the old one); and for
/// version 1 (before identities) also the actor as `{"name", "role"}` (the login of the upcast
/// event) and no `late`. What an export made by an older release holds, so that it still
/// verifies.
pub fn event_to_json_at_version(event: &Event, env: &JsonEnvelope, schema_version: u16) -> Value {
    let mut doc = event_to_json(event, env);
    let ty = event.body.event_type();
    let Some(obj) = doc.as_object_mut() else { return doc };
    if schema_version < ty.version {
        macro_rules! arm {
            ($($code:literal => $variant:ident, $name:literal, version $version:literal, before $old:path;)*) => {
                match &event.body {
                    $(EventBody::$variant(body) => serde_json::to_value(<$old>::from(body.clone())),)*
                }
            };
        }
        if let Ok(data) = with_event_table!(arm) {
            obj.insert("data".into(), data);
            obj.insert("schema_version".into(), json!(schema_version));
        }
    }
    if schema_version == 1 && ty.code <= LEGACY_CODE_MAX {
        obj.insert("schema_version".into(), json!(1));
        obj.insert("actor".into(), json!({ "name": event.actor.login, "role": event.actor.role }));
        obj.remove("late");
    }
    doc
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
        #[serde(skip_serializing_if = "Option::is_none")]
        late: &'a Option<LateEntry>,
        data: &'a T,
    }
    let ty = event.body.event_type();
    macro_rules! arm {
        ($($code:literal => $variant:ident, $name:literal, version $version:literal, before $old:path;)*) => {
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
                    late: &event.late,
                    data,
                }),)*
            }
        };
    }
    with_event_table!(arm)
}

/// Parses the JSON form back into an event and its envelope. A document of an older schema
/// version is read in that version's form and upcast, as the binary codec does.
pub fn event_from_json(value: &Value) -> Result<(Event, JsonEnvelope), String> {
    let name = value.get("type").and_then(Value::as_str).ok_or("missing \"type\"")?;
    let ty = event_type_by_name(name).ok_or_else(|| format!("unknown event type \"{name}\""))?;
    let version = value.get("schema_version").and_then(Value::as_u64).ok_or("missing \"schema_version\"")?;
    let legacy = version == 1 && ty.code <= LEGACY_CODE_MAX;
    let older = version == 2 && ty.version > 2;
    if version != u64::from(ty.version) && !legacy && !older {
        return Err(format!("unknown schema version {version} of event type {name}"));
    }
    macro_rules! arm {
        ($($code:literal => $variant:ident, $name:literal, version $version:literal, before $old:path;)*) => {$(
            if name == $name {
                let parse = |e: serde_json::Error| format!("{name}: {e}");
                let e: JsonEvent<$variant> = if legacy {
                    serde_json::from_value::<JsonEventV1<$old>>(value.clone()).map_err(parse)?.upcast(name).map(Into::into)
                } else if older {
                    serde_json::from_value::<JsonEvent<$old>>(value.clone()).map_err(parse)?.map(Into::into)
                } else {
                    serde_json::from_value(value.clone()).map_err(parse)?
                };
                let env = JsonEnvelope {
                    event_id: e.event_id,
                    order_id: e.order_id,
                    position: e.position,
                    version: e.version,
                    recorded_at: e.recorded_at,
                };
                return Ok((Event { actor: e.actor, at: e.at, late: e.late, body: EventBody::$variant(e.data) }, env));
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
        ($($code:literal => $variant:ident, $name:literal, version $version:literal, before $old:path;)*) => {$(
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
