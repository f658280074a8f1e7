//! What a decision needs from outside the order: who acts, the effective time, the settings and
//! the limits. Nothing inside the domain reads a clock; time arrives here.

use orderflow_schemas::{Actor, Date, LateEntry, Timestamp};

use crate::limits::Limits;

/// Business settings of the order rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Hours the departments have to review a revision (the review is due that long after it
    /// opened). Overdue reviews are flagged by the read model; they are never auto-approved.
    pub review_hours: i64,
    /// Years a closed order's archive is kept.
    pub retention_years: i32,
}

impl Settings {
    /// The settings used unless configured otherwise.
    pub const DEFAULT: Settings = Settings { review_hours: 24, retention_years: 10 };
}

impl Default for Settings {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The inputs of one decision besides the state and the command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// Who issues the command; every event it produces carries this actor.
    pub actor: Actor,
    /// The effective time of the command (may be back-dated by a clerk); every event it produces
    /// carries it, and "today" for date rules is its UTC calendar date.
    pub now: Timestamp,
    /// Set when the effective time was set back by someone allowed to (the application checks
    /// the `late_entry` permission): every event the command produces carries it.
    pub late: Option<LateEntry>,
    /// Business settings.
    pub settings: Settings,
    /// Domain limits.
    pub limits: Limits,
}

impl Context {
    /// A context with the default settings and limits.
    pub fn new(actor: Actor, now: Timestamp) -> Self {
        Self { actor, now, late: None, settings: Settings::DEFAULT, limits: Limits::DEFAULT }
    }

    /// The same context for a late entry, with its reason.
    pub fn late(mut self, late: Option<LateEntry>) -> Self {
        self.late = late;
        self
    }

    /// The same context with other settings.
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// The same context with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The UTC calendar date of the effective time.
    pub fn today(&self) -> Date {
        self.now.date()
    }
}
