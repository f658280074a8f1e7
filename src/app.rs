//! The application: one data directory's event log and the order command handler, with the
//! settings and clock that the domain must not read itself.

use std::path::{Path, PathBuf};

use orderflow_commands::{Command, Context, OrderState, Rejection, Settings};
use orderflow_engine::{CommandError, CommandOutcome, EventLog, HandlerConfig, LogConfig, LogError};
use orderflow_schemas::{Actor, Date, Event, OrderId, Role, Timestamp};
use uuid::Uuid;

use crate::aggregate::OrderHandler;

/// The data directory used when none is given.
pub const DEFAULT_DATA_DIR: &str = "orderflow-data";

/// Why a command did not go through, with the CLI's exit code for each kind.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input caught before the domain (a malformed value, an effective time in the future).
    #[error("{0}")]
    Invalid(String),
    /// A business rule refused the command.
    #[error("{0}")]
    Rejected(Rejection),
    /// A business rule refused the command, as reported by a remote `orderflow serve` (the
    /// rule's message; the [`Rejection`] itself does not travel).
    #[error("{0}")]
    RejectedRemotely(String),
    /// The order kept changing; nothing written.
    #[error("{0}")]
    Conflict(String),
    /// A limit of the log.
    #[error("{0}")]
    Limit(String),
    /// Storage or anything else.
    #[error("{0}")]
    Failure(String),
}

impl AppError {
    /// The exit code: 3 rejected (also invalid input and limits: the user's mistake, nothing
    /// written), 4 conflict after retries, 1 anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Invalid(_)
            | AppError::Rejected(_)
            | AppError::RejectedRemotely(_)
            | AppError::Limit(_) => 3,
            AppError::Conflict(_) => 4,
            AppError::Failure(_) => 1,
        }
    }

    /// A short machine-readable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "invalid",
            AppError::Rejected(_) | AppError::RejectedRemotely(_) => "rejected",
            AppError::Conflict(_) => "conflict",
            AppError::Limit(_) => "limit",
            AppError::Failure(_) => "failure",
        }
    }
}

impl From<LogError> for AppError {
    fn from(e: LogError) -> Self {
        AppError::Failure(e.to_string())
    }
}

impl From<CommandError<Rejection>> for AppError {
    fn from(e: CommandError<Rejection>) -> Self {
        match e {
            CommandError::Rejected(r) => AppError::Rejected(r),
            c @ CommandError::Conflict { .. } => AppError::Conflict(c.to_string()),
            CommandError::Limit(l) => AppError::Limit(format!("limit exceeded: {l}")),
            CommandError::Storage(s) => AppError::Failure(s),
        }
    }
}

/// A command to run, with who runs it and when it takes effect.
#[derive(Clone, Debug)]
pub struct Request {
    /// The order; `None` for `receive`, which derives the id from the command id.
    pub order_id: Option<OrderId>,
    /// The idempotency key.
    pub command_id: Uuid,
    /// Who.
    pub actor: Actor,
    /// Effective time; `None` = now. Never in the future.
    pub at: Option<Timestamp>,
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

/// The default actor name for a role when none is given: "<role> desk". Different roles get
/// different names, so the plain path (receive, then approve) is not refused as self-approval.
pub fn default_actor(role: Role) -> String {
    format!("{} desk", role.as_str().replace('_', " "))
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
    /// Bytes of the actor's name (the domain's limit for names).
    pub actor_name_bytes_max: usize,
    /// Days an effective time (`--at`) may lie before now: back-dated entry of late paperwork.
    pub backdate_days_max: i64,
    /// Days a date of a command (requested, promised, planned finish, ETA) may lie after the
    /// command's effective date.
    pub date_days_ahead_max: i32,
}

impl EntryLimits {
    /// The limits used unless configured otherwise.
    pub const DEFAULT: EntryLimits = EntryLimits {
        actor_name_bytes_max: orderflow_commands::Limits::DEFAULT.name_bytes_max,
        backdate_days_max: 366,
        date_days_ahead_max: 3_660,
    };

    /// Checks a request against these limits, given its effective time and the clock.
    pub fn check(&self, req: &Request, at: Timestamp, clock: Timestamp) -> Result<(), AppError> {
        let name = &req.actor.name;
        if name.trim().is_empty() {
            return Err(AppError::Invalid("the actor's name is required (--actor)".into()));
        }
        if name.len() > self.actor_name_bytes_max {
            return Err(AppError::Invalid(format!(
                "the actor's name has {} bytes (actor_name_bytes_max = {})",
                name.len(),
                self.actor_name_bytes_max
            )));
        }
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
        let latest = at.date().plus_days(self.date_days_ahead_max);
        if let Some((field, date)) = command_dates(&req.command).into_iter().find(|(_, d)| *d > latest) {
            return Err(AppError::Invalid(format!(
                "{field} {date} is more than {} days after {} (date_days_ahead_max = {})",
                self.date_days_ahead_max,
                at.date(),
                self.date_days_ahead_max
            )));
        }
        Ok(())
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
    settings: Settings,
    path: PathBuf,
}

impl App {
    /// Opens (creating if needed) the data directory.
    pub fn open(path: &Path) -> Result<Self, LogError> {
        let log = EventLog::open(LogConfig::new(path))?;
        Ok(Self::with_log(log))
    }

    /// Opens a data directory that must already exist (for reads).
    pub fn open_existing(path: &Path) -> Result<Self, LogError> {
        let log = EventLog::open(LogConfig::existing(path))?;
        Ok(Self::with_log(log))
    }

    /// An app over an already open log.
    pub fn with_log(log: EventLog) -> Self {
        let path = log.path().to_path_buf();
        Self { handler: OrderHandler::new(log, HandlerConfig::default()), settings: Settings::DEFAULT, path }
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
        let clock = now();
        let at = req.at.unwrap_or(clock);
        EntryLimits::DEFAULT.check(&req, at, clock)?;
        let order_id = match (&req.command, req.order_id) {
            (Command::ReceiveOrder(_), None) => OrderId::for_receive(req.command_id),
            (_, Some(id)) => id,
            (_, None) => return Err(AppError::Invalid("an order id is required".into())),
        };
        let ctx = Context::new(req.actor, at).with_settings(self.settings);
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

    /// The current state of an order and its version.
    pub fn order(&self, order_id: OrderId) -> Result<(u64, OrderState), AppError> {
        Ok(self.handler.load(order_id.0)?)
    }

    /// Flushes and closes the log.
    pub fn close(&self) -> Result<(), LogError> {
        self.log().close()
    }
}
