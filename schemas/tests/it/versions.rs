//! The older forms of the eight event types whose body changed in schema version 3
//! (`events::v2::*`), written the way the previous releases wrote them: the bytes of version 2
//! (identity envelope `(Actor, at, Option<LateEntry>, v2 body)`) and of version 1 (`(ActorV1, at,
//! v2 body)`), and the JSON `data` of the old body. Independent of the crate's decoder, so the
//! tests can check the decoder against it.

use orderflow_schemas::*;
use serde_json::Value;

/// An event as an older release wrote it.
pub(crate) struct OldForm {
    /// The payload of schema version 2.
    pub(crate) v2_payload: Vec<u8>,
    /// The payload of schema version 1 (the actor's login as the typed name, no late entry).
    pub(crate) v1_payload: Vec<u8>,
    /// The JSON `data` of the old body.
    pub(crate) data: Value,
    /// Today's body read back from the old one: `From<v2::X>` of the downcast body.
    pub(crate) upcast: EventBody,
}

fn encode<T: serde::Serialize>(value: T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).expect("bincode")
}

/// The older form of an event whose type changed in version 3: its body downcast to the
/// `v2::*` struct (the fields added since dropped); `None` for every other type.
pub(crate) fn old_form(e: &Event) -> Option<OldForm> {
    macro_rules! arms {
        ($($variant:ident),*) => {
            match &e.body {
                $(EventBody::$variant(body) => {
                    let old = v2::$variant::from(body.clone());
                    let v1_actor = ActorV1 { name: e.actor.login.clone(), role: e.actor.role };
                    Some(OldForm {
                        v2_payload: encode((&e.actor, &e.at, &e.late, &old)),
                        v1_payload: encode((&v1_actor, &e.at, &old)),
                        data: serde_json::to_value(&old).expect("json"),
                        upcast: EventBody::from($variant::from(old)),
                    })
                })*
                _ => None,
            }
        };
    }
    arms!(
        OrderReceived,
        OrderConfirmed,
        OrderChanged,
        OrderCancelled,
        OrderShipped,
        ComplaintOpened,
        ComplaintResolved,
        OrderClosed
    )
}

/// The names of the eight types whose body changed in version 3.
pub(crate) const CHANGED_IN_V3: [&str; 8] = [
    "order_received",
    "order_confirmed",
    "order_changed",
    "order_cancelled",
    "order_shipped",
    "complaint_opened",
    "complaint_resolved",
    "order_closed",
];

/// The event as version 2 stored it, read back today: the body upcast from its downcast.
pub(crate) fn as_read_from_v2(e: &Event) -> Event {
    let mut e = e.clone();
    if let Some(old) = old_form(&e) {
        e.body = old.upcast;
    }
    e
}

/// The event as version 1 stored it, read back today: also the nil user id, the login as the
/// name, not as a head, no late entry.
pub(crate) fn as_read_from_v1(e: &Event) -> Event {
    let mut e = as_read_from_v2(e);
    e.actor = Actor { user_id: uuid::Uuid::nil(), head: false, ..e.actor };
    e.late = None;
    e
}

#[test]
fn the_changed_types_are_the_types_at_version_3() {
    let at_3: Vec<&str> = EVENT_TYPES.iter().filter(|t| t.version == 3).map(|t| t.name).collect();
    assert_eq!(at_3, CHANGED_IN_V3);
    assert!(EVENT_TYPES.iter().all(|t| t.version == 2 || t.version == 3));
}
