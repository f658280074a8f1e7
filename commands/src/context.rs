//! What a decision needs from outside the order: who acts, the effective time, the settings and
//! the limits. Nothing inside the domain reads a clock; time arrives here.

use orderflow_schemas::{Actor, CustomerRecord, Date, LateEntry, ProductRecord, Role, Timestamp};

use crate::limits::Limits;

/// Hours each deciding department has for a review (of an order's revision, or of a change
/// request), from the moment the review opened (seed 000 四.4 "明確權限和時限").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReviewHours {
    /// Production: capacity and the delivery date.
    pub production: i64,
    /// Procurement: materials.
    pub procurement: i64,
    /// Finance: credit, cost and margin.
    pub finance: i64,
    /// Warehouse: stock.
    pub warehouse: i64,
    /// Logistics (change requests only): transport and the delivery address.
    pub logistics: i64,
}

impl ReviewHours {
    /// Every department the same limit.
    pub const fn all(hours: i64) -> Self {
        Self { production: hours, procurement: hours, finance: hours, warehouse: hours, logistics: hours }
    }

    /// The limit of `role`'s department; `None` for a role that reviews nothing.
    pub fn of(&self, role: Role) -> Option<i64> {
        match role {
            Role::Production => Some(self.production),
            Role::Procurement => Some(self.procurement),
            Role::Finance => Some(self.finance),
            Role::Warehouse => Some(self.warehouse),
            Role::Logistics => Some(self.logistics),
            _ => None,
        }
    }
}

/// Business settings of the order rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Hours each department has to decide a review. An overdue review is recorded once
    /// (`review_overdue`, escalated to the department's head); it is never auto-approved.
    pub review_hours: ReviewHours,
    /// Years a closed order's archive is kept.
    pub retention_years: i32,
    /// Hours within which a new complaint gets its first response.
    pub complaint_response_hours: i64,
    /// Days after sign-off that the follow-up visit (回訪) is due.
    pub visit_after_days: i64,
}

impl Settings {
    /// The settings used unless configured otherwise.
    pub const DEFAULT: Settings = Settings {
        review_hours: ReviewHours::all(24),
        retention_years: 10,
        complaint_response_hours: 24,
        visit_after_days: 7,
    };
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
    /// Master data the command needs, looked up by the application when the command enters
    /// (issue 14): the customer's record and the products its lines name, as they stand now.
    pub master: MasterFacts,
}

/// What the customer master and the catalogue say about one command's order, as the application
/// found them when the command entered. Empty when the command needs none (or the data directory
/// has no master data: orders of free-text customers, before issue 14).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MasterFacts {
    /// The order's customer record, when the order names a customer id.
    pub customer: Option<CustomerRecord>,
    /// The catalogue records of the SKUs the command's (or the order's) lines name.
    pub products: Vec<ProductRecord>,
    /// The customer's open exposure before this command, in the credit limit's currency minor
    /// units: the totals of their orders that are approved and not yet signed (credit read model).
    pub exposure_minor: Option<i64>,
}

impl MasterFacts {
    /// The catalogue record of `sku`, if the application found one.
    pub fn product(&self, sku: &str) -> Option<&ProductRecord> {
        self.products.iter().find(|p| p.sku == sku)
    }
}

impl Context {
    /// A context with the default settings and limits.
    pub fn new(actor: Actor, now: Timestamp) -> Self {
        Self {
            actor,
            now,
            late: None,
            settings: Settings::DEFAULT,
            limits: Limits::DEFAULT,
            master: MasterFacts::default(),
        }
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

    /// The same context with these master facts.
    pub fn with_master(mut self, master: MasterFacts) -> Self {
        self.master = master;
        self
    }

    /// The UTC calendar date of the effective time.
    pub fn today(&self) -> Date {
        self.now.date()
    }
}
