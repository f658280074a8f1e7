//! The wire protocol of the command service: subjects, request and reply bodies, and their limits.
//!
//! Commands: a request on `orderflow.cmd.<command>` (`<command>` is [`Command::name`], e.g.
//! `orderflow.cmd.ship`) whose body is a [`CommandRequest`]:
//!
//! ```json
//! { "order_id": "0b9c4d2e-...", "command_id": "5f0e...", "actor": {"name": "li.clerk", "role": "sales"},
//!   "at": "2026-03-01T08:00:00Z", "command": {"command": "ship", "carrier": "DHL", ...} }
//! ```
//!
//! Queries: a request on `orderflow.query.<query>` (see [`crate::service::query`]).
//!
//! Every reply is one JSON object with `"ok"`: `true` and the result's fields, or `false` and an
//! [`ErrorReply`] (`error`, `message`, `exit_code`, the same distinctions as the CLI's exit codes).
//! An error reply also carries the micro-service headers `Nats-Service-Error` (the error kind) and
//! `Nats-Service-Error-Code` (an HTTP-like code, see [`ErrorReply::service_code`]).

use orderflow_commands::Command;
use orderflow_schemas::{Actor, Event, EventBody, OrderId, Role, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::app::{self, AppError, Done, Request};

/// The service's name in the NATS micro-service protocol (`$SRV.PING.orderflow`).
pub const SERVICE_NAME: &str = "orderflow";
/// The service's version: the package's.
pub const SERVICE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The first two tokens of every command subject.
pub const COMMAND_SUBJECT_PREFIX: &str = "orderflow.cmd";
/// The first two tokens of every query subject.
pub const QUERY_SUBJECT_PREFIX: &str = "orderflow.query";
/// Bytes of a request body at most. Four times the log's largest event payload (64 KiB), so any
/// command whose events could be stored fits; below NATS's default `max_payload` (1 MiB), so a
/// body over it still reaches the service and is answered `invalid` instead of being refused by
/// the client library with a less helpful error.
pub const REQUEST_BODY_BYTES_MAX: usize = 256 * 1024;

/// The subject of a command: `orderflow.cmd.<name>`.
pub fn command_subject(name: &str) -> String {
    format!("{COMMAND_SUBJECT_PREFIX}.{name}")
}

/// The subject of a query: `orderflow.query.<name>`.
pub fn query_subject(name: &str) -> String {
    format!("{QUERY_SUBJECT_PREFIX}.{name}")
}

/// Who issues a command, as the request names them.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorBody {
    /// The person or system.
    pub name: String,
    /// The role they act in.
    pub role: Role,
}

/// The body of a command request.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// The order; absent or `null` for `receive`, whose order id is derived from `command_id`.
    #[serde(default)]
    pub order_id: Option<OrderId>,
    /// The idempotency key: the same id again returns the first result and writes nothing.
    /// Required, so that a client can always retry a request whose reply it did not get.
    pub command_id: Uuid,
    /// Who; absent or `null` for the role the command belongs to, named "<role> desk".
    #[serde(default)]
    pub actor: Option<ActorBody>,
    /// Effective time (RFC 3339 or YYYY-MM-DD); absent or `null` for now. Never in the future.
    #[serde(default)]
    pub at: Option<Timestamp>,
    /// The command, in its JSON form (`{"command": "<name>", ...}`); its name must be the
    /// subject's last token.
    pub command: Command,
}

impl CommandRequest {
    /// The application request, after checking the body against the subject's command name.
    pub fn into_app_request(self, subject_command: &str) -> Result<Request, AppError> {
        let name = self.command.name();
        if name != subject_command {
            return Err(AppError::Invalid(format!(
                "the body's command is \"{name}\" but the subject names \"{subject_command}\" \
                 (send it to {})",
                command_subject(name)
            )));
        }
        match (&self.command, self.order_id) {
            (Command::ReceiveOrder(_), Some(_)) => {
                return Err(AppError::Invalid(
                    "receive takes no order_id: the order id is derived from command_id".into(),
                ))
            }
            (Command::ReceiveOrder(_), None) | (_, Some(_)) => {}
            (_, None) => return Err(AppError::Invalid(format!("\"{name}\" needs an order_id"))),
        }
        let actor = match self.actor {
            Some(a) => Actor { name: a.name, role: a.role },
            None => {
                let role = self.command.default_role();
                Actor { name: app::default_actor(role), role }
            }
        };
        Ok(Request {
            order_id: self.order_id,
            command_id: self.command_id,
            actor,
            at: self.at,
            command: self.command,
        })
    }
}

/// What a command did: the body of an `ok` command reply, and what the CLI prints (locally and
/// over NATS alike).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct CommandReply {
    /// The order.
    pub order_id: OrderId,
    /// The command's name.
    pub command: String,
    /// The command id.
    pub command_id: Uuid,
    /// Whether the command id had been handled before (nothing written this time).
    pub duplicate: bool,
    /// The type names of the events appended (empty for a duplicate).
    pub events: Vec<String>,
    /// Global position of the first event.
    pub first_position: u64,
    /// The order's version after the command.
    pub version: u64,
    /// The complaint number the command opened, if it opened one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaint_id: Option<u32>,
}

impl CommandReply {
    /// The reply for a command the application handled.
    pub fn from_done(done: &Done, command: &str, command_id: Uuid) -> Self {
        Self {
            order_id: done.order_id,
            command: command.to_string(),
            command_id,
            duplicate: done.duplicate,
            events: done.events.iter().map(|e| e.body.event_type().name.to_string()).collect(),
            first_position: done.first_position,
            version: done.version,
            complaint_id: complaint_id(&done.events),
        }
    }

    /// Its JSON object (without `ok`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The complaint number a command opened, if it opened one.
pub fn complaint_id(events: &[Event]) -> Option<u32> {
    events.iter().find_map(|e| match &e.body {
        EventBody::ComplaintOpened(c) => Some(c.complaint_id),
        _ => None,
    })
}

/// The body of a failed request's reply.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ErrorReply {
    /// `invalid`, `rejected`, `conflict`, `limit` or `failure`.
    pub error: String,
    /// What went wrong, in words.
    pub message: String,
    /// The CLI's exit code for it: 3 invalid, rejected or limit; 4 conflict; 1 failure.
    pub exit_code: u8,
}

impl ErrorReply {
    /// The reply for an application error.
    pub fn from_error(e: &AppError) -> Self {
        Self { error: e.kind().to_string(), message: e.to_string(), exit_code: e.exit_code() }
    }

    /// The application error a client raises for it, with the same kind and exit code.
    pub fn into_app_error(self) -> AppError {
        match self.error.as_str() {
            "invalid" => AppError::Invalid(self.message),
            "rejected" => AppError::RejectedRemotely(self.message),
            "conflict" => AppError::Conflict(self.message),
            "limit" => AppError::Limit(self.message),
            "failure" => AppError::Failure(self.message),
            other => AppError::Failure(format!("the server answered error \"{other}\": {}", self.message)),
        }
    }

    /// The `Nats-Service-Error-Code` of the kind: 400 invalid, 409 conflict, 413 limit,
    /// 422 rejected, 500 failure.
    pub fn service_code(&self) -> u16 {
        match self.error.as_str() {
            "invalid" => 400,
            "conflict" => 409,
            "limit" => 413,
            "rejected" => 422,
            _ => 500,
        }
    }
}

/// An `ok` reply: `{"ok": true, ...fields of body}`.
pub fn ok_reply(body: Value) -> Value {
    let mut map = match body {
        Value::Object(m) => m,
        other => {
            let mut m = serde_json::Map::new();
            m.insert("result".into(), other);
            m
        }
    };
    map.insert("ok".into(), Value::Bool(true));
    Value::Object(map)
}

/// An error reply: `{"ok": false, "error", "message", "exit_code"}`.
pub fn error_reply(e: &ErrorReply) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("ok".into(), Value::Bool(false));
    }
    v
}

/// Reads a reply: the `ok` body, or the error it reports as the client's [`AppError`].
pub fn read_reply(payload: &[u8]) -> Result<Value, AppError> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| AppError::Failure(format!("the server's reply is not JSON: {e}")))?;
    match value.get("ok").and_then(Value::as_bool) {
        Some(true) => Ok(value),
        Some(false) => {
            let e: ErrorReply = serde_json::from_value(value)
                .map_err(|e| AppError::Failure(format!("the server's error reply is malformed: {e}")))?;
            Err(e.into_app_error())
        }
        None => Err(AppError::Failure("the server's reply has no \"ok\" field".into())),
    }
}

/// Checks a request body's size and encoding and parses it as `T`. Every failure is
/// [`AppError::Invalid`] naming what is wrong.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    check_body(body)?;
    serde_json::from_slice(body)
        .map_err(|e| AppError::Invalid(format!("the body is not a valid request: {e}")))
}

/// Checks a request body's size and that it is UTF-8.
pub fn check_body(body: &[u8]) -> Result<(), AppError> {
    if body.len() > REQUEST_BODY_BYTES_MAX {
        return Err(AppError::Invalid(format!(
            "the body has {} bytes (request_body_bytes_max = {REQUEST_BODY_BYTES_MAX})",
            body.len()
        )));
    }
    if let Err(e) = std::str::from_utf8(body) {
        return Err(AppError::Invalid(format!(
            "the body is not UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_before_parsing() {
        let big = vec![b' '; REQUEST_BODY_BYTES_MAX + 1];
        let e = parse_body::<CommandRequest>(&big).expect_err("too big");
        assert!(e.to_string().contains("request_body_bytes_max"), "{e}");
        let e = parse_body::<CommandRequest>(b"{\"command_id\": \"\xff\"}").expect_err("not UTF-8");
        assert!(e.to_string().contains("not UTF-8"), "{e}");
        let e = parse_body::<CommandRequest>(b"{").expect_err("malformed");
        assert_eq!(e.kind(), "invalid");
    }

    #[test]
    fn unknown_fields_and_commands_are_invalid() {
        let id = Uuid::from_u128(1);
        let good = format!(r#"{{"command_id": "{id}", "command": {{"command": "cancel", "reason": "r"}}}}"#);
        parse_body::<CommandRequest>(good.as_bytes()).expect("valid");
        for bad in [
            format!(
                r#"{{"command_id": "{id}", "extra": 1, "command": {{"command": "cancel", "reason": "r"}}}}"#
            ),
            format!(r#"{{"command_id": "{id}", "command": {{"command": "cancel", "reason": "r", "x": 1}}}}"#),
            format!(r#"{{"command_id": "{id}", "command": {{"command": "teleport"}}}}"#),
            r#"{"command_id": 5, "command": {"command": "cancel", "reason": "r"}}"#.to_string(),
            format!(
                r#"{{"command_id": "{id}", "actor": {{"name": "a"}}, "command": {{"command": "close"}}}}"#
            ),
        ] {
            let e = parse_body::<CommandRequest>(bad.as_bytes()).expect_err(&bad);
            assert_eq!(e.kind(), "invalid", "{bad}");
        }
    }

    #[test]
    fn the_subject_must_name_the_body_command() {
        let req = CommandRequest {
            order_id: Some(OrderId(Uuid::from_u128(2))),
            command_id: Uuid::from_u128(3),
            actor: None,
            at: None,
            command: Command::CloseOrder(orderflow_commands::CloseOrder {}),
        };
        let e = req.clone().into_app_request("ship").expect_err("mismatch");
        assert!(e.to_string().contains("orderflow.cmd.close"), "{e}");
        let ok = req.into_app_request("close").expect("match");
        assert_eq!(ok.actor.role, Role::Sales);
        assert_eq!(ok.actor.name, "sales desk");
    }

    #[test]
    fn error_replies_round_trip_with_their_exit_codes() {
        for e in [
            AppError::Invalid("i".into()),
            AppError::RejectedRemotely("r".into()),
            AppError::Conflict("c".into()),
            AppError::Limit("l".into()),
            AppError::Failure("f".into()),
        ] {
            let reply = error_reply(&ErrorReply::from_error(&e));
            let bytes = serde_json::to_vec(&reply).expect("json");
            let back = read_reply(&bytes).expect_err("error reply");
            assert_eq!(
                (back.kind(), back.exit_code(), back.to_string()),
                (e.kind(), e.exit_code(), e.to_string())
            );
        }
    }
}
