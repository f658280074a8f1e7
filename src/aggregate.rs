//! The Order aggregate as the engine sees it: decide, evolve and the event codec behind the
//! engine's generic `Aggregate` trait, so the engine's command handler can drive orders without
//! knowing what an order is, and the domain crate (`orderflow-commands`) without knowing the
//! engine.

use orderflow_commands::{decide, evolve, Command, Context, OrderState, Rejection};
use orderflow_engine::{Aggregate, CommandHandler, NewEvent, StoredEvent};
use orderflow_schemas::{decode_event, encode_event, Event, OrderId};
use uuid::Uuid;

/// The Order aggregate.
#[derive(Debug)]
pub struct Order;

/// The engine's command handler, for orders.
pub type OrderHandler = CommandHandler<Order>;

impl Aggregate for Order {
    type State = OrderState;
    type Command = Command;
    type Event = Event;
    type Context = Context;
    type Rejection = Rejection;

    fn initial(stream: Uuid) -> OrderState {
        OrderState::new(OrderId(stream))
    }

    fn decide(state: &OrderState, command: &Command, ctx: &Context) -> Result<Vec<Event>, Rejection> {
        decide(state, command, ctx)
    }

    fn evolve(state: &mut OrderState, event: &Event) {
        evolve(state, event);
    }

    fn encode(event: &Event) -> Result<NewEvent, String> {
        encode_for_log(event)
    }

    fn decode(stored: &StoredEvent) -> Result<Event, String> {
        decode_from_log(stored)
    }
}

/// An event as the log stores it (the codec of `orderflow-schemas`): for every aggregate of the
/// log, the orders and the user directory.
pub(crate) fn encode_for_log(event: &Event) -> Result<NewEvent, String> {
    let (event_type, schema_version, payload) = encode_event(event).map_err(|e| e.to_string())?;
    Ok(NewEvent { event_type, schema_version, payload })
}

/// A stored event decoded.
pub(crate) fn decode_from_log(stored: &StoredEvent) -> Result<Event, String> {
    decode_event(stored.event_type, stored.schema_version, &stored.payload).map_err(|e| e.to_string())
}
