//! `orderflow --nats URL order ...`: the order commands and reads sent to a running
//! `orderflow serve`, printed and exited exactly as when run on the data directory.

use orderflow_schemas::{event_from_json, OrderId};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::{self, AppError};
use crate::render;
use crate::service::{client, ActorBody, CommandRequest};

use super::order::Parsed;

/// `history` pages read at most: enough for the longest order the log allows
/// (`events_per_stream_max` = 100 000 events) in pages of at least 512 events.
const HISTORY_PAGES_MAX: usize = 256;

pub(super) async fn run_order(url: &str, parsed: Parsed, json: bool) -> Result<(), AppError> {
    let nats = client::connect(url).await?;
    match parsed {
        Parsed::Write { order, command, common } => {
            let role = common.role.unwrap_or_else(|| command.default_role());
            let actor =
                ActorBody { name: common.actor.clone().unwrap_or_else(|| app::default_actor(role)), role };
            let request = CommandRequest {
                order_id: order.map(|r| whole(&r)).transpose()?,
                command_id: common.command_id.unwrap_or_else(Uuid::new_v4),
                actor: Some(actor),
                at: common.at,
                command,
            };
            let reply = client::send_command(&nats, &request).await?;
            super::print_done(&reply, json);
        }
        Parsed::Show(order) => {
            let reply = client::query(&nats, "show", &json!({ "order_id": whole(&order)? })).await?;
            if json {
                crate::outln!("{}", field(&reply, "state")?);
            } else {
                crate::out!("{}", field(&reply, "text")?.as_str().unwrap_or_default());
            }
        }
        Parsed::History(order) => history(&nats, whole(&order)?, json).await?,
    }
    let _ = nats.flush().await;
    Ok(())
}

/// The whole id of a reference. (Prefixes are resolved by the server once its protocol takes
/// them.)
fn whole(r: &crate::app::OrderRef) -> Result<OrderId, AppError> {
    r.digits().parse().map_err(|_| {
        AppError::Invalid(format!("over NATS, give the whole order id ({r} is only the start of one)"))
    })
}

fn field<'a>(reply: &'a Value, name: &str) -> Result<&'a Value, AppError> {
    reply.get(name).ok_or_else(|| AppError::Failure(format!("the server's reply has no \"{name}\"")))
}

async fn history(nats: &async_nats::Client, order: OrderId, json: bool) -> Result<(), AppError> {
    let mut from_version = 1u64;
    for _ in 0..HISTORY_PAGES_MAX {
        let reply =
            client::query(nats, "history", &json!({ "order_id": order, "from_version": from_version }))
                .await?;
        let events = field(&reply, "events")?
            .as_array()
            .ok_or_else(|| AppError::Failure("the server's history has no event list".into()))?;
        for value in events {
            if json {
                crate::outln!("{value}");
            } else {
                let (event, env) = event_from_json(value)
                    .map_err(|e| AppError::Failure(format!("the server sent an unreadable event: {e}")))?;
                crate::outln!("{}", render::history_line(&env, &event));
            }
        }
        match field(&reply, "next_version")?.as_u64() {
            None => return Ok(()),
            Some(next) if next > from_version => from_version = next,
            Some(next) => {
                return Err(AppError::Failure(format!(
                    "the server's history does not advance (next_version {next} after {from_version})"
                )))
            }
        }
    }
    Err(AppError::Failure(format!("history of order {order} has more than {HISTORY_PAGES_MAX} pages")))
}
