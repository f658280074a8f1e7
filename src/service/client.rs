//! Talking to a running `orderflow serve`: commands and queries by request-reply, errors mapped
//! to the same [`AppError`]s (and so the same exit codes) as running them locally.

use std::time::Duration;

use async_nats::{Client, RequestErrorKind};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::app::AppError;
use crate::service::protocol::{
    command_subject, query_subject, read_reply, reply_as, CommandReply, CommandRequest,
};

/// How long a client waits for a reply. A command may wait for its order's other commands and
/// a group commit; a reply later than this is reported, with the advice to retry with the same
/// command id.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client waits to connect to NATS.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to NATS for a command-line client (no retries: a client fails fast).
pub async fn connect(url: &str) -> Result<Client, AppError> {
    async_nats::ConnectOptions::new()
        .connection_timeout(CONNECT_TIMEOUT)
        .connect(url)
        .await
        .map_err(|e| AppError::Failure(format!("cannot connect to NATS at {url}: {e}")))
}

/// Sends a request. The outer `Err` is a transport failure (no responder, no reply in time,
/// NATS down) in words; the inner result is the server's answer: the `ok` body, or the error it
/// reported.
async fn send(client: &Client, subject: &str, body: Vec<u8>) -> Result<Result<Value, AppError>, String> {
    let req = async_nats::Request::new().payload(body.into()).timeout(Some(REQUEST_TIMEOUT));
    match client.send_request(subject.to_string(), req).await {
        Ok(message) => Ok(read_reply(&message.payload)),
        Err(e) => Err(match e.kind() {
            RequestErrorKind::NoResponders => {
                format!("no orderflow server answers on {subject} (is `orderflow serve` running?)")
            }
            RequestErrorKind::TimedOut => {
                format!("no reply on {subject} within {} s", REQUEST_TIMEOUT.as_secs())
            }
            _ => format!("request on {subject} failed: {e}"),
        }),
    }
}

/// Sends a command to the server and returns what it did.
pub async fn send_command(client: &Client, request: &CommandRequest) -> Result<CommandReply, AppError> {
    let subject = command_subject(request.command.name());
    let body = serde_json::to_vec(request).map_err(|e| AppError::Failure(e.to_string()))?;
    let answer = send(client, &subject, body).await.map_err(|transport| {
        // Whether a command without a reply was executed is unknown; the same id makes a retry safe.
        AppError::Failure(format!(
            "{transport}; the command may or may not have been executed: retry with --command-id {}",
            request.command_id
        ))
    })?;
    reply_as(answer?)
}

/// Asks a query (`show`, `history`, ...) with its request body and returns its reply body.
pub async fn query<Req: Serialize, Rep: DeserializeOwned>(
    client: &Client,
    name: &str,
    request: &Req,
) -> Result<Rep, AppError> {
    let body = serde_json::to_vec(request).map_err(|e| AppError::Failure(e.to_string()))?;
    let reply = send(client, &query_subject(name), body).await.map_err(AppError::Failure)??;
    reply_as(reply)
}
