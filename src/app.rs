//! The application: one data directory's event log and the order command handler, with the
//! settings and clock that the domain must not read itself.

use std::path::{Path, PathBuf};

use orderflow_commands::{Command, Context, OrderState, Rejection, Settings};
use orderflow_engine::{CommandError, CommandOutcome, EventLog, HandlerConfig, LogConfig, LogError};
use orderflow_schemas::{Date, Event, LateEntry, OrderId, Timestamp};

use uuid::Uuid;

use crate::aggregate::OrderHandler;
use crate::auth::{Auth, Principal};

pub mod reads;

/// The data directory used when none is given.
pub const DEFAULT_DATA_DIR: &str = "orderflow-data";

/// The kind of an [`AppError`]: what the CLI's exit code and the service's `error` field derive
/// from. The same kind locally and over NATS, so the exit code is the same.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad input caught before the domain; nothing written. Exit 3.
    Invalid,
    /// A business rule refused the command; nothing written. Exit 3.
    Rejected,
    /// The order kept changing; nothing written. Exit 4.
    Conflict,
    /// A limit of the log; nothing written. Exit 3.
    Limit,
    /// Storage or anything else. Exit 1.
    Failure,
    /// A verification found the log or an export altered. Exit 5.
    Tampered,
    /// Not allowed: a failed login, a disabled user, a role the caller does not hold, a read or
    /// a back-dating without the permission. Nothing written (but a refused archive read, which
    /// is recorded as refused). Exit 3.
    Forbidden,
}

impl ErrorKind {
    /// Every kind.
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Invalid,
        ErrorKind::Rejected,
        ErrorKind::Conflict,
        ErrorKind::Limit,
        ErrorKind::Failure,
        ErrorKind::Tampered,
        ErrorKind::Forbidden,
    ];

    /// The exit code: 3 rejected (also invalid input and limits: the user's mistake, nothing
    /// written), 4 conflict after retries, 5 a verification found tampering, 1 anything else.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Invalid | ErrorKind::Rejected | ErrorKind::Limit | ErrorKind::Forbidden => 3,
            ErrorKind::Conflict => 4,
            ErrorKind::Tampered => 5,
            ErrorKind::Failure => 1,
        }
    }

    /// The machine-readable name (`invalid`, `rejected`, ...), as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Limit => "limit",
            ErrorKind::Failure => "failure",
            ErrorKind::Tampered => "tampered",
            ErrorKind::Forbidden => "forbidden",
        }
    }

    /// The `Nats-Service-Error-Code` of the kind: 400 invalid, 409 conflict, 413 limit,
    /// 422 rejected and tampered, 403 forbidden, 500 failure.
    pub fn service_code(self) -> u16 {
        match self {
            ErrorKind::Invalid => 400,
            ErrorKind::Conflict => 409,
            ErrorKind::Limit => 413,
            ErrorKind::Rejected | ErrorKind::Tampered => 422,
            ErrorKind::Failure => 500,
            ErrorKind::Forbidden => 403,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a command or read did not go through. The exit code and the wire kind derive from the
/// variant ([`AppError::kind`]), never from the message.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input caught before the domain (a malformed value, an effective time in the future).
    #[error("{0}")]
    Invalid(String),
    /// A business rule refused the command.
    #[error("{0}")]
    Rejected(Rejection),
    /// The order kept changing; nothing written.
    #[error("{0}")]
    Conflict(String),
    /// A limit of the log (the engine's message, which names the limit).
    #[error("{0}")]
    Limit(String),
    /// The event log failed (opening, reading, writing).
    #[error("{0}")]
    Storage(LogError),
    /// Anything else that failed.
    #[error("{0}")]
    Failure(String),
    /// A verification found the log or an export altered (an edited, removed, inserted or
    /// reordered event); the message names where.
    #[error("{0}")]
    Tampered(String),
    /// Not allowed (see [`ErrorKind::Forbidden`]); the message says what and why.
    #[error("{0}")]
    Forbidden(String),
    /// An error a remote `orderflow serve` reported: its kind as it travelled, and its message.
    #[error("{message}")]
    Remote {
        /// The kind the server gave (so the exit code is the one a local run gives).
        kind: ErrorKind,
        /// The server's message.
        message: String,
    },
}

impl AppError {
    /// The kind, from the variant.
    pub fn kind(&self) -> ErrorKind {
        match self {
            AppError::Invalid(_) => ErrorKind::Invalid,
            AppError::Rejected(_) => ErrorKind::Rejected,
            AppError::Conflict(_) => ErrorKind::Conflict,
            AppError::Limit(_) => ErrorKind::Limit,
            AppError::Storage(_) | AppError::Failure(_) => ErrorKind::Failure,
            AppError::Tampered(_) => ErrorKind::Tampered,
            AppError::Forbidden(_) => ErrorKind::Forbidden,
            AppError::Remote { kind, .. } => *kind,
        }
    }

    /// The exit code of the kind (see [`ErrorKind::exit_code`]).
    pub fn exit_code(&self) -> u8 {
        self.kind().exit_code()
    }

    /// Whether the data directory is held by another process (a running `orderflow serve`).
    pub fn is_locked(&self) -> bool {
        matches!(self, AppError::Storage(LogError::Locked { .. }))
    }
}

impl From<LogError> for AppError {
    fn from(e: LogError) -> Self {
        AppError::Storage(e)
    }
}

impl From<CommandError<Rejection>> for AppError {
    fn from(e: CommandError<Rejection>) -> Self {
        match e {
            CommandError::Rejected(r) => AppError::Rejected(r),
            c @ CommandError::Conflict { .. } => AppError::Conflict(c.to_string()),
            l @ CommandError::Limit(_) => AppError::Limit(l.to_string()),
            CommandError::Storage(s) => AppError::Failure(s),
        }
    }
}

/// What a command did: the body of an `ok` command reply over NATS, and what the CLI prints
/// (locally and over NATS alike).
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
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
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The complaint number a command opened, if it opened one.
pub fn complaint_id(events: &[Event]) -> Option<u32> {
    events.iter().find_map(|e| match &e.body {
        orderflow_schemas::EventBody::ComplaintOpened(c) => Some(c.complaint_id),
        _ => None,
    })
}

/// Hex digits an order-id prefix needs at least: 16^6 ≈ 16.7 million, so a prefix this long
/// is unique among a year of a large plant's orders in all but rare cases (and refused, listing
/// the candidates, when it is not).
pub const ORDER_PREFIX_DIGITS_MIN: usize = 6;
/// Candidates an ambiguous prefix lists at most.
pub const AMBIGUOUS_CANDIDATES_MAX: usize = 10;

/// An order as a person types it back: its whole id (with or without dashes), or a prefix of
/// at least [`ORDER_PREFIX_DIGITS_MIN`] hex digits that [`App::resolve`] turns into the one
/// order it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRef {
    /// Lowercase hex digits, no dashes.
    digits: String,
}

impl OrderRef {
    /// The typed text's hex digits (lowercase, no dashes).
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The reference of a whole id.
    pub fn of(id: OrderId) -> Self {
        Self { digits: id.0.simple().to_string() }
    }
}

impl std::str::FromStr for OrderRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let typed = s.trim();
        let digits: String = typed.chars().filter(|c| *c != '-').collect::<String>().to_ascii_lowercase();
        if let Some(bad) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(format!(
                "'{typed}' is not an order id: '{bad}' is not a hex digit (an order id is 32 hex digits; \
                 any unique prefix of at least {ORDER_PREFIX_DIGITS_MIN} will do)"
            ));
        }
        if digits.len() < ORDER_PREFIX_DIGITS_MIN {
            return Err(format!(
                "'{typed}' is too short for an order id: type at least {ORDER_PREFIX_DIGITS_MIN} of its hex digits"
            ));
        }
        if digits.len() > 32 {
            return Err(format!("'{typed}' is not an order id: more than 32 hex digits"));
        }
        Ok(Self { digits })
    }
}

impl serde::Serialize for OrderRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.digits)
    }
}

impl<'de> serde::Deserialize<'de> for OrderRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for OrderRef {
    fn schema_name() -> String {
        "OrderRef".into()
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        let schema = serde_json::json!({
            "description": format!(
                "An order: its whole id (32 hex digits, dashes allowed) or a prefix of at least \
                 {ORDER_PREFIX_DIGITS_MIN} hex digits that exactly one order's id starts with."
            ),
            "type": "string",
            "pattern": format!("^-*([0-9a-fA-F]-*){{{ORDER_PREFIX_DIGITS_MIN},32}}$"),
        });
        serde_json::from_value(schema).unwrap_or(schemars::schema::Schema::Bool(true))
    }
}

impl std::fmt::Display for OrderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.digits)
    }
}

/// A stored event of `order`'s stream decoded, with the envelope its JSON form carries. An
/// undecodable event is a failure naming its position.
pub fn decode_stored(
    stored: &orderflow_engine::StoredEvent,
    order: OrderId,
) -> Result<(Event, orderflow_schemas::JsonEnvelope), AppError> {
    let event = orderflow_schemas::decode_event(stored.event_type, stored.schema_version, &stored.payload)
        .map_err(|e| AppError::Failure(format!("event at position {}: {e}", stored.position)))?;
    let env = orderflow_schemas::JsonEnvelope {
        event_id: stored.event_id,
        order_id: order,
        position: stored.position,
        version: stored.version,
        recorded_at: Timestamp(stored.recorded_at_us),
    };
    Ok((event, env))
}

/// A command to run, with who runs it and when it takes effect.
#[derive(Clone, Debug)]
pub struct Request {
    /// The order; `None` for `receive`, which derives the id from the command id.
    pub order_id: Option<OrderId>,
    /// The idempotency key.
    pub command_id: Uuid,
    /// Who: the authenticated user and the power exercised (every event's actor derives from it).
    pub principal: Principal,
    /// Effective time; `None` = now. Never in the future; set back only with the `late_entry`
    /// permission and a reason.
    pub at: Option<Timestamp>,
    /// Why the entry is late; required with `at`.
    pub late_reason: Option<String>,
    /// What.
    pub command: Command,
}

/// What a command did.
#[derive(Clone, Debug)]
pub struct Done {
    /// The order.
    pub order_id: OrderId,
    /// Whether the command id had been handled before (nothing written this time).
    pub duplicate: bool,
    /// The events appended (empty for a duplicate).
    pub events: Vec<Event>,
    /// Global position of the first event.
    pub first_position: u64,
    /// The order's version after the command.
    pub version: u64,
}

/// The wall clock, in the domain's time type.
pub fn now() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}

/// Limits of what the application accepts where a command enters (the command line, a request
/// over NATS), beside the domain's own [`orderflow_commands::Limits`]: the actor's name, how far
/// back an entry may be dated, how far ahead a date in a command may lie. Reaching one is
/// [`AppError::Invalid`] (exit 3); nothing is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryLimits {
    /// Bytes of a late entry's reason (the domain's limit for names... of texts).
    pub late_reason_bytes_max: usize,
    /// Days an effective time (`--at`) may lie before now: back-dated entry of late paperwork.
    pub backdate_days_max: i64,
    /// Days a date of a command (requested, promised, planned finish, ETA) may lie after the
    /// command's effective date.
    pub date_days_ahead_max: i32,
}

impl EntryLimits {
    /// The limits used unless configured otherwise.
    pub const DEFAULT: EntryLimits = EntryLimits {
        late_reason_bytes_max: orderflow_commands::Limits::DEFAULT.text_bytes_max,
        backdate_days_max: 366,
        date_days_ahead_max: 3_660,
    };

    /// Checks a request against these limits, given its effective time and the clock.
    pub fn check(
        &self,
        req: &Request,
        at: Timestamp,
        clock: Timestamp,
    ) -> Result<Option<LateEntry>, AppError> {
        // Who may back-date comes first: a clerk's --at is refused for what it is.
        let reason = match (&req.at, req.late_reason.as_deref().map(str::trim)) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(AppError::Invalid("--late-reason goes with --at (a late entry's time)".into()))
            }
            (Some(_), reason) => {
                if !req.principal.may_enter_late() {
                    return Err(AppError::Forbidden(format!(
                        "{} may not back-date: entering late paperwork (--at) needs the late_entry \
                         permission, held by department heads (dept_head:ROLE) and admins; {} acts as {}",
                        req.principal.user().login,
                        req.principal.user().login,
                        req.principal.grant()
                    )));
                }
                Some(reason.unwrap_or_default())
            }
        };
        if at > clock {
            return Err(AppError::Invalid(format!(
                "effective time {at} is in the future (now {clock}); back-dating is allowed, post-dating is not"
            )));
        }
        let earliest = clock.plus_hours(self.backdate_days_max.saturating_mul(-24));
        if at < earliest {
            return Err(AppError::Invalid(format!(
                "effective time {at} is more than {} days before now (backdate_days_max = {})",
                self.backdate_days_max, self.backdate_days_max
            )));
        }
        let late = match reason {
            None => None,
            Some("") => {
                return Err(AppError::Invalid(
                    "a late entry (--at) needs its reason (--late-reason TEXT)".into(),
                ))
            }
            Some(reason) if reason.len() > self.late_reason_bytes_max => {
                return Err(AppError::Invalid(format!(
                    "the late entry's reason has {} bytes (late_reason_bytes_max = {})",
                    reason.len(),
                    self.late_reason_bytes_max
                )))
            }
            Some(reason) => Some(LateEntry { reason: reason.to_string() }),
        };
        let latest = at.date().plus_days(self.date_days_ahead_max);
        if let Some((field, date)) = command_dates(&req.command).into_iter().find(|(_, d)| *d > latest) {
            return Err(AppError::Invalid(format!(
                "{field} {date} is more than {} days after {} (date_days_ahead_max = {})",
                self.date_days_ahead_max,
                at.date(),
                self.date_days_ahead_max
            )));
        }
        Ok(late)
    }
}

impl Default for EntryLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The dates a command carries, named as the domain names them. (A command that gains a date
/// must be added here.)
fn command_dates(command: &Command) -> Vec<(&'static str, Date)> {
    match command {
        Command::ReceiveOrder(c) => vec![("requested date", c.requested_date)],
        Command::ChangeOrder(c) => c.requested_date.map(|d| ("requested date", d)).into_iter().collect(),
        Command::ConfirmOrder(c) => vec![("promised date", c.promised_date)],
        Command::ScheduleProduction(c) => vec![("planned finish", c.planned_finish)],
        Command::ShipOrder(c) => vec![("ETA", c.eta)],
        Command::ReportDelay(c) => vec![("new ETA", c.new_eta)],
        _ => Vec::new(),
    }
}

/// An open data directory.
#[derive(Debug)]
pub struct App {
    handler: OrderHandler,
    auth: Auth,
    /// Boxed: an `App` is moved around by value (in `Via`), the settings rarely read.
    settings: Box<crate::settings::Loaded>,
    path: PathBuf,
}

impl App {
    /// Opens (creating if needed) the data directory.
    /// The settings (`orderflow.toml`, see [`crate::settings`]) are read first: a bad file is
    /// refused before anything is opened or written.
    pub fn open(path: &Path) -> Result<Self, AppError> {
        let settings = crate::settings::load(path)?;
        let log = EventLog::open(LogConfig::new(path))?;
        crate::signing::ensure_key(path).map_err(|e| AppError::Storage(LogError::Storage(e.to_string())))?;
        Self::with_log_and_settings(log, settings)
    }

    /// Opens a data directory that must already exist (for reads).
    pub fn open_existing(path: &Path) -> Result<Self, AppError> {
        let settings = crate::settings::load(path)?;
        let log = EventLog::open(LogConfig::existing(path))?;
        Self::with_log_and_settings(log, settings)
    }

    /// An app over an already open log, with the settings of its data directory.
    pub fn with_log(log: EventLog) -> Result<Self, AppError> {
        let settings = crate::settings::load(log.path())?;
        Self::with_log_and_settings(log, settings)
    }

    /// An app over an already open log, with these settings.
    pub fn with_log_and_settings(log: EventLog, settings: crate::settings::Loaded) -> Result<Self, AppError> {
        let path = log.path().to_path_buf();
        let auth = Auth::new(log.clone())?;
        Ok(Self {
            handler: OrderHandler::new(log, HandlerConfig::default()),
            auth,
            settings: Box::new(settings),
            path,
        })
    }

    /// The business settings in force.
    pub fn settings(&self) -> Settings {
        self.settings.settings
    }

    /// The settings in force and where they came from.
    pub fn loaded_settings(&self) -> &crate::settings::Loaded {
        &self.settings
    }

    /// The user directory and its secrets.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The event log.
    pub fn log(&self) -> &EventLog {
        self.handler.log()
    }

    /// How many times a command found its order changed by a concurrent one and was decided
    /// again (see [`orderflow_engine::CommandHandler::conflicts_total`]).
    pub fn conflicts_total(&self) -> u64 {
        self.handler.conflicts_total()
    }

    /// Runs one command through the aggregate and the log.
    pub async fn execute(&self, req: Request) -> Result<Done, AppError> {
        self.execute_with_clock(req, now()).await
    }

    /// Runs one command with `clock` as the present: the seeded demo's simulated past. Every
    /// other caller runs on the wall clock ([`App::execute`]).
    pub(crate) async fn execute_with_clock(&self, req: Request, clock: Timestamp) -> Result<Done, AppError> {
        let at = req.at.unwrap_or(clock);
        let late = EntryLimits::DEFAULT.check(&req, at, clock)?;
        let order_id = match (&req.command, req.order_id) {
            (Command::ReceiveOrder(_), None) => OrderId::for_receive(req.command_id),
            (_, Some(id)) if orderflow_schemas::is_reserved_stream(id.0) => {
                return Err(AppError::Invalid(format!(
                    "{id} is one of orderflow's own streams (users, customers, products), not an order"
                )))
            }
            (_, Some(id)) => id,
            (_, None) => return Err(AppError::Invalid("an order id is required".into())),
        };
        let ctx = Context::new(req.principal.actor(), at).with_settings(self.settings.settings).late(late);
        let outcome = self.handler.execute(order_id.0, req.command_id, &req.command, &ctx).await?;
        let commit = outcome.commit();
        Ok(match outcome {
            CommandOutcome::Committed { events, .. } => Done {
                order_id,
                duplicate: false,
                events,
                first_position: commit.first_position,
                version: commit.last_version(),
            },
            CommandOutcome::Duplicate { .. } => Done {
                order_id,
                duplicate: true,
                events: Vec::new(),
                first_position: commit.first_position,
                version: commit.last_version(),
            },
        })
    }

    /// Every order's id (the user directory's stream left out), in id order.
    pub fn order_ids(&self) -> Result<Vec<OrderId>, AppError> {
        let mut ids = self.log().streams_with_prefix("", usize::MAX)?;
        ids.retain(|s| !orderflow_schemas::is_reserved_stream(*s));
        Ok(ids.into_iter().map(OrderId).collect())
    }

    /// The current state of an order and its version.
    pub fn order(&self, order_id: OrderId) -> Result<(u64, OrderState), AppError> {
        Ok(self.handler.load(order_id.0)?)
    }

    /// The one order that `r` names: a whole id, or a prefix that exactly one order's id starts
    /// with. No order → [`Rejection::OrderNotFound`] for a whole id, [`AppError::Invalid`]
    /// naming a prefix; several → [`AppError::Invalid`]
    /// listing up to [`AMBIGUOUS_CANDIDATES_MAX`] of them. Nothing is written either way.
    ///
    /// A whole id is the order it names without looking: whether that order exists is for the
    /// command or read to say (as "order ... does not exist", a rejection).
    pub fn resolve(&self, r: &OrderRef) -> Result<OrderId, AppError> {
        if r.digits().len() == 32 {
            if let Ok(id) = r.digits().parse::<OrderId>() {
                return Ok(id);
            }
        }
        let mut found = self.log().streams_with_prefix(r.digits(), AMBIGUOUS_CANDIDATES_MAX + 2)?;
        found.retain(|s| !orderflow_schemas::is_reserved_stream(*s));
        found.truncate(AMBIGUOUS_CANDIDATES_MAX + 1);
        match found.as_slice() {
            [one] => Ok(OrderId(*one)),
            [] => match r.digits().parse::<Uuid>() {
                // A whole id: the rule's own words, as for any command on an unknown order.
                Ok(id) => Err(AppError::Rejected(Rejection::OrderNotFound { order: OrderId(id) })),
                Err(_) => Err(AppError::Invalid(format!("no order id starts with {r}"))),
            },
            many => {
                let listed: Vec<String> =
                    many.iter().take(AMBIGUOUS_CANDIDATES_MAX).map(|u| u.simple().to_string()).collect();
                let more = if many.len() > AMBIGUOUS_CANDIDATES_MAX { ", and more" } else { "" };
                Err(AppError::Invalid(format!(
                    "{r} is the start of more than one order id: {}{more}; type more of the id",
                    listed.join(", ")
                )))
            }
        }
    }

    /// Flushes and closes the log.
    pub fn close(&self) -> Result<(), LogError> {
        self.log().close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_and_wire_kinds_derive_from_the_variant() {
        let cases = [
            (AppError::Invalid("x".into()), ErrorKind::Invalid, 3),
            (
                AppError::Rejected(Rejection::OrderNotFound { order: OrderId(Uuid::nil()) }),
                ErrorKind::Rejected,
                3,
            ),
            (AppError::Conflict("x".into()), ErrorKind::Conflict, 4),
            (AppError::Limit("x".into()), ErrorKind::Limit, 3),
            (AppError::Storage(LogError::Closed), ErrorKind::Failure, 1),
            (AppError::Failure("x".into()), ErrorKind::Failure, 1),
            (AppError::Tampered("x".into()), ErrorKind::Tampered, 5),
            (AppError::Forbidden("x".into()), ErrorKind::Forbidden, 3),
        ];
        for (e, kind, code) in cases {
            assert_eq!((e.kind(), e.exit_code()), (kind, code), "{e}");
            // The same kind reported by a server gives the same exit code.
            let remote = AppError::Remote { kind: e.kind(), message: e.to_string() };
            assert_eq!(remote.exit_code(), code);
        }
        let locked = AppError::from(LogError::Locked { path: "d".into(), holder: " (pid 7)".into() });
        assert!(locked.is_locked());
        assert!(!AppError::Failure("in use by another process".into()).is_locked());
        let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, ["invalid", "rejected", "conflict", "limit", "failure", "tampered", "forbidden"]);
    }
}
