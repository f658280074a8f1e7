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
//! `order_id` takes the whole id or a unique prefix of at least 6 hex digits; the server resolves
//! it (an ambiguous prefix is `invalid`, listing candidates).
//!
//! Queries: a request on `orderflow.query.<query>` (see [`crate::service::query`]), one request
//! and one reply type each: `show` ([`ShowRequest`] → [`ShowReply`]), `history`
//! ([`HistoryRequest`] → [`HistoryReply`]), `status` ([`StatusRequest`] → [`StatusReply`]), `kpi`
//! ([`KpiRequest`] → [`KpiReply`]), `audit_history` ([`AuditHistoryRequest`] → [`Printout`]),
//! `audit_export` ([`AuditExportRequest`] → [`AuditExportReply`]), `audit_replay`
//! ([`AuditReplayRequest`] → [`Printout`]), `audit_access` ([`AuditAccessRequest`] →
//! [`Printout`]), `audit_retention` ([`AuditRetentionRequest`] → [`Printout`]) and
//! `audit_verify` ([`AuditVerifyRequest`] → [`AuditVerifyReply`]). Every body refuses unknown
//! fields. Their JSON Schemas are [`json_schemas`], committed under `schemas/json/protocol/`.
//!
//! Every reply is one JSON object with `"ok"`: `true` and the result's fields, or `false` and an
//! [`ErrorReply`] (`error`, `message`, `exit_code`, the same distinctions as the CLI's exit codes).
//! An error reply also carries the micro-service headers `Nats-Service-Error` (the error kind) and
//! `Nats-Service-Error-Code` (an HTTP-like code, see [`ErrorReply::service_code`]).

use orderflow_commands::Command;
use orderflow_projections::{OrderState, TableWidth};
use orderflow_schemas::{OrderId, Timestamp};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub use crate::app::reads::Printout;
use crate::app::reads::{KpiBy, KpiSelection, Reader, ReplayPoint, StatusFilter};
pub use crate::app::CommandReply;
use crate::app::{AppError, ErrorKind, OrderRef, Request};
use crate::auth::Principal;

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

/// The body of a command request.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// The order: its whole id or a unique prefix of at least 6 hex digits (resolved by the
    /// server); absent or `null` for `receive`, whose order id is derived from `command_id`.
    #[serde(default)]
    pub order_id: Option<OrderRef>,
    /// The idempotency key: the same id again returns the first result and writes nothing.
    /// Required, so that a client can always retry a request whose reply it did not get.
    pub command_id: Uuid,
    /// Effective time (RFC 3339 or YYYY-MM-DD); absent or `null` for now. Never in the future;
    /// set back only by a department head or an admin, with `late_reason`. (Who sends the
    /// command is never in the body: the NATS server tells the service.)
    #[serde(default)]
    pub at: Option<Timestamp>,
    /// Why the entry is late; required with `at`.
    #[serde(default)]
    pub late_reason: Option<String>,
    /// The command, in its JSON form (`{"command": "<name>", ...}`); its name must be the
    /// subject's last token. Its schema has every command's fields, so a client can check a
    /// command completely before sending it.
    pub command: Command,
}

impl CommandRequest {
    /// The application request, after checking the body against the subject's command name;
    /// `resolve` turns the order reference into the order's id.
    pub fn into_app_request(
        self,
        subject_command: &str,
        principal: Principal,
        resolve: impl FnOnce(&OrderRef) -> Result<OrderId, AppError>,
    ) -> Result<Request, AppError> {
        let name = self.command.name();
        if name != subject_command {
            return Err(AppError::Invalid(format!(
                "the body's command is \"{name}\" but the subject names \"{subject_command}\" \
                 (send it to {})",
                command_subject(name)
            )));
        }
        let order_id = match (&self.command, &self.order_id) {
            (Command::ReceiveOrder(_), Some(_)) => {
                return Err(AppError::Invalid(
                    "receive takes no order_id: the order id is derived from command_id".into(),
                ))
            }
            (Command::ReceiveOrder(_), None) => None,
            (_, Some(r)) => Some(resolve(r)?),
            (_, None) => return Err(AppError::Invalid(format!("\"{name}\" needs an order_id"))),
        };
        Ok(Request {
            order_id,
            command_id: self.command_id,
            principal,
            at: self.at,
            late_reason: self.late_reason,
            command: self.command,
        })
    }
}

/// The body of a failed request's reply (beside `"ok": false`).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorReply {
    /// What kind of error; the CLI's exit code derives from it.
    pub error: ErrorKind,
    /// What went wrong, in words.
    pub message: String,
    /// The CLI's exit code for the kind: 3 invalid, rejected or limit; 4 conflict; 5 tampered;
    /// 1 failure.
    pub exit_code: u8,
}

impl ErrorReply {
    /// The reply for an application error.
    pub fn from_error(e: &AppError) -> Self {
        Self { error: e.kind(), message: e.to_string(), exit_code: e.exit_code() }
    }

    /// The application error a client raises for it, with the same kind and exit code.
    pub fn into_app_error(self) -> AppError {
        AppError::Remote { kind: self.error, message: self.message }
    }

    /// The `Nats-Service-Error-Code` of the kind (see [`ErrorKind::service_code`]).
    pub fn service_code(&self) -> u16 {
        self.error.service_code()
    }
}

/// Who reads the archive, in a request: all optional (an auditor desk by default).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReaderBody {
    /// Why (recorded with the access). Who reads is never in the body: the NATS server tells
    /// the service.
    #[serde(default)]
    pub purpose: String,
}

impl ReaderBody {
    /// The application's reader: `principal` (whom the NATS server vouched for) with the purpose.
    pub fn reader(&self, principal: Principal) -> Reader {
        Reader { principal, purpose: self.purpose.clone() }
    }
}

fn order_state_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    let names: Vec<&str> = OrderState::ALL.iter().map(|s| s.as_str()).collect();
    serde_json::from_value(serde_json::json!({
        "description": "An order state of the status board.",
        "type": ["string", "null"],
        "enum": names.iter().map(|n| Value::from(*n)).chain([Value::Null]).collect::<Vec<_>>(),
    }))
    .unwrap_or(schemars::schema::Schema::Bool(true))
}

/// The body of `show`: one order's current state.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowRequest {
    /// The order (whole id or unique prefix).
    pub order_id: OrderRef,
}

/// The reply of `show`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowReply {
    /// The order.
    pub order_id: OrderId,
    /// Its version.
    pub version: u64,
    /// What `orderflow order show --json` prints.
    pub state: Value,
    /// What `orderflow order show` prints.
    pub text: String,
}

/// The body of `history`: an order's events, in pages.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryRequest {
    /// The order (whole id or unique prefix).
    pub order_id: OrderRef,
    /// The first version of the page [default: 1].
    #[serde(default = "first_version")]
    #[schemars(range(min = 1))]
    pub from_version: u64,
}

fn first_version() -> u64 {
    1
}

/// The reply of `history`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryReply {
    /// The order.
    pub order_id: OrderId,
    /// The events from `from_version`, in their JSON form (see `schemas/json/<type>.v<n>.json`).
    pub events: Vec<Value>,
    /// Where the next page starts; `null` after the last.
    pub next_version: Option<u64>,
}

/// The body of `status`: which orders of the status board.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct StatusRequest {
    /// Only orders in this state (then finished ones count too).
    #[schemars(schema_with = "order_state_schema")]
    pub state: Option<OrderState>,
    /// Only customers whose name contains this, ignoring case.
    pub customer: Option<String>,
    /// Only orders at risk: promised within `within` days and not shipped, or shipped with an ETA
    /// after the promise.
    pub at_risk: bool,
    /// Days ahead for `at_risk` [default: 7].
    pub within: Option<i32>,
    /// Only orders with a department review past its due time.
    pub overdue: bool,
    /// Only orders past their promise and not delivered.
    pub late: bool,
    /// Closed, cancelled and rejected orders too.
    pub all: bool,
    /// Every column of the table.
    pub wide: bool,
}

impl StatusRequest {
    /// The application's filter.
    pub fn filter(&self) -> StatusFilter {
        StatusFilter {
            state: self.state,
            customer: self.customer.clone(),
            at_risk: self.at_risk,
            within: self.within,
            overdue: self.overdue,
            late: self.late,
            all: self.all,
            width: TableWidth::wide_if(self.wide),
        }
    }
}

/// The reply of `status`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusReply {
    /// What `orderflow status --json` prints.
    pub orders: Value,
    /// What `orderflow status` prints.
    pub text: String,
}

/// `by` of [`KpiRequest`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KpiByBody {
    /// Per customer.
    Customer,
    /// Per product (SKU).
    Product,
    /// Per channel.
    Channel,
}

/// The body of `kpi`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct KpiRequest {
    /// Only this month (`YYYY-MM`).
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}$"))]
    pub month: Option<String>,
    /// Break the figures down by this instead of by month.
    pub by: Option<KpiByBody>,
    /// Leave out every order with a late entry (an event back-dated with a reason).
    pub exclude_late: bool,
    /// Every column of the table.
    pub wide: bool,
    /// The review-within-limit report (per department and month) instead of the KPIs.
    #[serde(default)]
    pub reviews: bool,
}

impl KpiRequest {
    /// The application's selection.
    pub fn selection(&self) -> KpiSelection {
        let by = match self.by {
            None => KpiBy::Month,
            Some(KpiByBody::Customer) => KpiBy::Customer,
            Some(KpiByBody::Product) => KpiBy::Product,
            Some(KpiByBody::Channel) => KpiBy::Channel,
        };
        KpiSelection {
            month: self.month.clone(),
            by,
            exclude_late: self.exclude_late,
            width: TableWidth::wide_if(self.wide),
            reviews_at: self.reviews.then(crate::app::now),
        }
    }
}

/// The reply of `kpi`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KpiReply {
    /// What `orderflow kpi --json` prints.
    pub report: Value,
    /// What `orderflow kpi` prints.
    pub text: String,
}

/// The body of `audit_history`: an order's readable timeline (recorded as an archive access).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditHistoryRequest {
    /// The order (whole id or unique prefix).
    pub order_id: OrderRef,
    /// Who reads, and why.
    #[serde(default)]
    pub reader: ReaderBody,
    /// Every column of the timeline.
    #[serde(default)]
    pub wide: bool,
}

/// The body of `audit_export`: an order's export document (recorded as an archive access).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditExportRequest {
    /// The order (whole id or unique prefix).
    pub order_id: OrderRef,
    /// Who reads, and why.
    #[serde(default)]
    pub reader: ReaderBody,
    /// The file the client writes the document to (recorded in the access's detail).
    pub file: String,
}

/// The reply of `audit_export`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditExportReply {
    /// The order.
    pub order_id: OrderId,
    /// Its events in the document.
    pub events: usize,
    /// The self-contained export document, signed by the instance's key (its `signature`
    /// field), which the client writes to its file.
    pub document: Value,
}

/// The body of `audit_replay`: the order as it was at a time or version (recorded).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditReplayRequest {
    /// The order (whole id or unique prefix).
    pub order_id: OrderRef,
    /// The effective time (exactly one of `as_of` and `version`).
    #[serde(default)]
    pub as_of: Option<Timestamp>,
    /// The order version (exactly one of `as_of` and `version`).
    #[serde(default)]
    pub version: Option<u64>,
    /// Who reads, and why.
    #[serde(default)]
    pub reader: ReaderBody,
}

impl AuditReplayRequest {
    /// The replay point: exactly one of `as_of` and `version`.
    pub fn point(&self) -> Result<ReplayPoint, AppError> {
        match (self.as_of, self.version) {
            (None, Some(v)) => Ok(ReplayPoint::Version(v)),
            (Some(t), None) => Ok(ReplayPoint::Time(t)),
            (Some(_), Some(_)) => Err(AppError::Invalid("give as_of or version, not both".into())),
            (None, None) => Err(AppError::Invalid("give as_of (a time) or version (a number)".into())),
        }
    }
}

/// The body of `audit_access`: who read which archive, when.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AuditAccessRequest {
    /// Only this order's archive (whole id or unique prefix); absent for every order.
    pub order_id: Option<OrderRef>,
    /// Every column.
    pub wide: bool,
}

/// The body of `audit_retention`: what retention applies to an order's archive.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditRetentionRequest {
    /// The order (whole id or unique prefix).
    pub order_id: OrderRef,
}

/// The body of `audit_verify`: verify the whole log. No fields.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditVerifyRequest {}

/// The reply of `audit_verify`: intact or not (an altered log is an `ok` reply with
/// `intact: false`; the client exits 5 with `problem`).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditVerifyReply {
    /// Whether every checksum, hash chain and position is right.
    pub intact: bool,
    /// What to print.
    pub printout: Printout,
    /// Where and what is wrong, when not intact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
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

/// Reads a reply: the `ok` body (without `ok`), or the error it reports as the client's
/// [`AppError`] (with the kind the server gave, so the same exit code).
pub fn read_reply(payload: &[u8]) -> Result<Value, AppError> {
    let mut value: Value = serde_json::from_slice(payload)
        .map_err(|e| AppError::Failure(format!("the server's reply is not JSON: {e}")))?;
    let ok = value.as_object_mut().and_then(|m| m.remove("ok")).and_then(|v| v.as_bool());
    match ok {
        Some(true) => Ok(value),
        Some(false) => {
            let e: ErrorReply = serde_json::from_value(value)
                .map_err(|e| AppError::Failure(format!("the server's error reply is malformed: {e}")))?;
            Err(e.into_app_error())
        }
        None => Err(AppError::Failure("the server's reply has no \"ok\" field".into())),
    }
}

/// Reads an `ok` reply's body as `T`.
pub fn reply_as<T: DeserializeOwned>(body: Value) -> Result<T, AppError> {
    serde_json::from_value(body)
        .map_err(|e| AppError::Failure(format!("the server's reply is malformed: {e}")))
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

/// The `$id` prefix of the protocol's schemas.
pub const SCHEMA_ID_PREFIX: &str = "https://orderflow.example/schemas/protocol/";

/// Whether a body is a request, an `ok` reply (sent with `"ok": true`) or an error reply (`"ok":
/// false`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Request,
    Reply,
    Error,
}

/// Every command refuses unknown fields (`deny_unknown_fields`), but schemars 0.8 drops
/// `additionalProperties: false` when it merges the `command` tag into an internally tagged
/// variant: put it back on each variant of `Command`, so the schema refuses what the service
/// refuses.
fn close_command_variants(schema: &mut Value) {
    let variants = schema.pointer_mut("/definitions/Command/oneOf").and_then(Value::as_array_mut);
    for variant in variants.into_iter().flatten() {
        if let Some(obj) = variant.as_object_mut().filter(|o| o.contains_key("properties")) {
            obj.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
}

fn schema_of<T: JsonSchema>(file: &str, title: &str, part: Part) -> (String, String) {
    let generator = schemars::gen::SchemaSettings::draft2019_09().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut v = serde_json::to_value(&schema).unwrap_or(Value::Null);
    close_command_variants(&mut v);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("$id".into(), Value::from(format!("{SCHEMA_ID_PREFIX}{file}")));
        obj.insert("title".into(), Value::from(title));
        if part != Part::Request {
            let ok = part == Part::Reply;
            if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
                props.insert(
                    "ok".into(),
                    serde_json::json!({ "const": ok, "description": "Whether the request was done." }),
                );
            }
            if let Some(req) = obj.get_mut("required").and_then(Value::as_array_mut) {
                req.insert(0, Value::from("ok"));
            }
        }
    }
    let text = serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    (file.to_string(), text)
}

/// The JSON Schema (draft 2019-09) of every request and reply body, as `(file name, text)`;
/// committed as `schemas/json/protocol/<file>`. Request files are named after the subject's last
/// token (`<command or query>.request.json`; one for all commands), reply files likewise.
pub fn json_schemas() -> Vec<(String, String)> {
    vec![
        schema_of::<CommandRequest>("command.request.json", "orderflow.cmd.<command> request", Part::Request),
        schema_of::<CommandReply>("command.reply.json", "orderflow.cmd.<command> reply", Part::Reply),
        schema_of::<ErrorReply>("error.reply.json", "error reply of any request", Part::Error),
        schema_of::<ShowRequest>("show.request.json", "orderflow.query.show request", Part::Request),
        schema_of::<ShowReply>("show.reply.json", "orderflow.query.show reply", Part::Reply),
        schema_of::<HistoryRequest>("history.request.json", "orderflow.query.history request", Part::Request),
        schema_of::<HistoryReply>("history.reply.json", "orderflow.query.history reply", Part::Reply),
        schema_of::<StatusRequest>("status.request.json", "orderflow.query.status request", Part::Request),
        schema_of::<StatusReply>("status.reply.json", "orderflow.query.status reply", Part::Reply),
        schema_of::<KpiRequest>("kpi.request.json", "orderflow.query.kpi request", Part::Request),
        schema_of::<KpiReply>("kpi.reply.json", "orderflow.query.kpi reply", Part::Reply),
        schema_of::<AuditHistoryRequest>(
            "audit_history.request.json",
            "orderflow.query.audit_history request",
            Part::Request,
        ),
        schema_of::<Printout>("audit_history.reply.json", "orderflow.query.audit_history reply", Part::Reply),
        schema_of::<AuditExportRequest>(
            "audit_export.request.json",
            "orderflow.query.audit_export request",
            Part::Request,
        ),
        schema_of::<AuditExportReply>(
            "audit_export.reply.json",
            "orderflow.query.audit_export reply",
            Part::Reply,
        ),
        schema_of::<AuditReplayRequest>(
            "audit_replay.request.json",
            "orderflow.query.audit_replay request",
            Part::Request,
        ),
        schema_of::<Printout>("audit_replay.reply.json", "orderflow.query.audit_replay reply", Part::Reply),
        schema_of::<AuditAccessRequest>(
            "audit_access.request.json",
            "orderflow.query.audit_access request",
            Part::Request,
        ),
        schema_of::<Printout>("audit_access.reply.json", "orderflow.query.audit_access reply", Part::Reply),
        schema_of::<AuditRetentionRequest>(
            "audit_retention.request.json",
            "orderflow.query.audit_retention request",
            Part::Request,
        ),
        schema_of::<Printout>(
            "audit_retention.reply.json",
            "orderflow.query.audit_retention reply",
            Part::Reply,
        ),
        schema_of::<AuditVerifyRequest>(
            "audit_verify.request.json",
            "orderflow.query.audit_verify request",
            Part::Request,
        ),
        schema_of::<AuditVerifyReply>(
            "audit_verify.reply.json",
            "orderflow.query.audit_verify reply",
            Part::Reply,
        ),
    ]
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
        assert_eq!(e.kind(), ErrorKind::Invalid);
    }

    #[test]
    fn unknown_fields_and_commands_are_invalid() {
        let id = Uuid::from_u128(1);
        let good = format!(
            r#"{{"command_id": "{id}", "command": {{"command": "cancel", "initiated_by": "customer", "reason": "r"}}}}"#
        );
        parse_body::<CommandRequest>(good.as_bytes()).expect("valid");
        for bad in [
            format!(
                r#"{{"command_id": "{id}", "extra": 1, "command": {{"command": "cancel", "initiated_by": "customer", "reason": "r"}}}}"#
            ),
            format!(
                r#"{{"command_id": "{id}", "command": {{"command": "cancel", "initiated_by": "customer", "reason": "r", "x": 1}}}}"#
            ),
            format!(r#"{{"command_id": "{id}", "command": {{"command": "teleport"}}}}"#),
            r#"{"command_id": 5, "command": {"command": "cancel", "reason": "r"}}"#.to_string(),
            format!(
                r#"{{"command_id": "{id}", "actor": {{"name": "a"}}, "command": {{"command": "close"}}}}"#
            ),
        ] {
            let e = parse_body::<CommandRequest>(bad.as_bytes()).expect_err(&bad);
            assert_eq!(e.kind(), ErrorKind::Invalid, "{bad}");
        }
    }

    #[test]
    fn the_subject_must_name_the_body_command() {
        let req = CommandRequest {
            order_id: Some(OrderRef::of(OrderId(Uuid::from_u128(2)))),
            command_id: Uuid::from_u128(3),
            at: None,
            late_reason: None,
            command: Command::CloseOrder(orderflow_commands::CloseOrder::default()),
        };
        let resolve = |r: &OrderRef| r.digits().parse::<OrderId>().map_err(AppError::Invalid);
        let li =
            Principal::unchecked("li.na", orderflow_schemas::Grant::Role(orderflow_schemas::Role::Sales));
        let e = req.clone().into_app_request("ship", li.clone(), resolve).expect_err("mismatch");
        assert!(e.to_string().contains("orderflow.cmd.close"), "{e}");
        let ok = req.into_app_request("close", li.clone(), resolve).expect("match");
        assert_eq!(ok.order_id, Some(OrderId(Uuid::from_u128(2))));
        // The actor is whoever the server vouched for, never a field of the body.
        assert_eq!(ok.principal, li);
    }

    #[test]
    fn error_replies_round_trip_with_their_exit_codes() {
        for e in [
            AppError::Invalid("i".into()),
            AppError::Rejected(orderflow_commands::Rejection::OrderNotFound {
                order: OrderId(Uuid::from_u128(4)),
            }),
            AppError::Conflict("c".into()),
            AppError::Limit("l".into()),
            AppError::Storage(orderflow_engine::LogError::Closed),
            AppError::Failure("f".into()),
            AppError::Tampered("t".into()),
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
