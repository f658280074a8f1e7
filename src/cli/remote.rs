//! `orderflow --nats URL order ...`: the order commands and reads sent to a running
//! `orderflow serve`, printed and exited exactly as when run on the data directory. Orders are
//! sent as typed (a whole id or a prefix); the server resolves them.

use orderflow_schemas::event_from_json;
use uuid::Uuid;

use crate::app::{AppError, OrderRef};
use crate::render;
use crate::service::protocol::{HistoryReply, HistoryRequest, ShowReply, ShowRequest};
use crate::service::{client, CommandRequest};

use super::order::Parsed;

/// `history` pages read at most: enough for the longest order the log allows
/// (`events_per_stream_max` = 100 000 events) in pages of at least 512 events.
const HISTORY_PAGES_MAX: usize = 256;

pub(super) async fn run_order(nats: &async_nats::Client, parsed: Parsed, json: bool) -> Result<(), AppError> {
    match parsed {
        Parsed::Write { order, command, common } => {
            if let Some(role) = common.role {
                return Err(AppError::Invalid(format!(
                    "--role {role} does not travel over NATS: the role is the account of your NATS user \
                     (connect as your user of that role's account, --nats-user LOGIN@ACCOUNT; or log in \
                     with --user and let --role pick the account)"
                )));
            }
            let request = CommandRequest {
                order_id: order,
                command_id: common.command_id.unwrap_or_else(Uuid::new_v4),
                at: common.at,
                late_reason: common.late_reason.clone(),
                command,
            };
            let reply = client::send_command(nats, &request).await?;
            super::print_done(&reply, json);
        }
        Parsed::Show(order) => {
            let reply: ShowReply = client::query(nats, "show", &ShowRequest { order_id: order }).await?;
            if json {
                crate::outln!("{}", reply.state);
            } else {
                crate::out!("{}", reply.text);
            }
        }
        Parsed::History(order) => history(nats, order, json).await?,
    }
    Ok(())
}

async fn history(nats: &async_nats::Client, order: OrderRef, json: bool) -> Result<(), AppError> {
    let mut from_version = 1u64;
    for _ in 0..HISTORY_PAGES_MAX {
        let request = HistoryRequest { order_id: order.clone(), from_version };
        let reply: HistoryReply = client::query(nats, "history", &request).await?;
        for value in &reply.events {
            if json {
                crate::outln!("{value}");
            } else {
                let (event, env) = event_from_json(value)
                    .map_err(|e| AppError::Failure(format!("the server sent an unreadable event: {e}")))?;
                crate::outln!("{}", render::history_line(&env, &event));
            }
        }
        match reply.next_version {
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
