//! The status board: one row per order with its derived state, money, dates, pending approvals,
//! shipment, complaints and hold; queries for the order desk; table and JSON rendering.
//!
//! The state is derived from the events, never stored by the commands:
//!
//! | event | state after |
//! | --- | --- |
//! | `order_received` | `received` |
//! | first department decision on revision 1 | `in_review` |
//! | `order_changed` needing re-approval | `in_review` (approvals of the old revision no longer count) |
//! | `order_approved` | `approved`, or `confirmed` when the customer already confirmed; after a re-approval, the state the change interrupted when that is further on |
//! | `order_rejected` | `rejected` |
//! | `order_confirmed` | `confirmed` when approved; otherwise unchanged (the promise is recorded) |
//! | `order_cancelled` | `cancelled` |
//! | `production_scheduled` | `scheduled` |
//! | `quality_inspected` | `in_production` |
//! | `production_completed` | `ready_to_ship` |
//! | `order_shipped` | `shipped` |
//! | `order_delivered` | `delivered` |
//! | `order_signed` | `signed` |
//! | `order_refused` | `refused` |
//! | `order_closed` | `closed` |
//!
//! Complaints, feedback, holds and shipment delays change flags, not the state.

use std::collections::HashMap;

use orderflow_engine::StoredEvent;
use orderflow_schemas::{
    Channel, ComplaintCategory, Currency, Date, Department, Event, EventBody, Money, OrderId, ShipMode,
    StatusFold, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::runner::{Projection, ProjectionError};
use crate::table::{left, render, right, TableWidth};

pub use orderflow_schemas::OrderStatus as OrderState;

/// The shipment of an order.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Shipment {
    /// The carrier.
    pub carrier: String,
    /// Transport mode.
    pub mode: ShipMode,
    /// Tracking number.
    pub tracking_number: String,
    /// When it left.
    pub shipped_at: Timestamp,
    /// The current expected arrival.
    pub eta: Date,
    /// Whether a delay was reported.
    pub delayed: bool,
    /// The last delay's reason.
    pub delay_reason: Option<String>,
}

/// An after-sales complaint of an order.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Complaint {
    /// Its number within the order.
    pub complaint_id: u32,
    /// What it is about.
    pub category: ComplaintCategory,
    /// Whether it is open (opened or reopened, not resolved since).
    pub open: bool,
}

/// One order on the status board.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OrderRow {
    /// The order.
    pub order_id: OrderId,
    /// The derived state.
    pub state: OrderState,
    /// The current revision (1, then one more per change needing re-approval).
    pub revision: u32,
    /// The customer.
    pub customer: String,
    /// How the order came in.
    pub channel: Channel,
    /// The order currency.
    pub currency: Currency,
    /// The current total, minor units.
    pub total_minor: i64,
    /// The customer's requested date (after changes).
    pub requested_date: Date,
    /// The first promised date confirmed to the customer.
    pub original_promise: Option<Date>,
    /// The current promise.
    pub current_promise: Option<Date>,
    /// Whether the department reviews of the current revision are open.
    pub reviewing: bool,
    /// When the reviews of the current revision are due.
    pub review_due: Option<Timestamp>,
    /// Departments that approved the current revision.
    pub approved_departments: Vec<Department>,
    /// Whether the customer confirmed.
    pub confirmed: bool,
    /// The state a re-approval interrupted, resumed when approved.
    pub resume_state: Option<OrderState>,
    /// The shipment, once shipped.
    pub shipment: Option<Shipment>,
    /// Delivery date (calendar date of `order_delivered`).
    pub delivered_on: Option<Date>,
    /// Complaints, in the order they were opened.
    pub complaints: Vec<Complaint>,
    /// The reason of the active archive hold, if any.
    pub hold: Option<String>,
    /// When it was received.
    pub received_at: Timestamp,
    /// The latest effective time of an event that changed the order (archive reads excluded).
    pub last_change: Timestamp,
    /// The order's stream version.
    pub version: u64,
}

/// A department whose review of the current revision is pending.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PendingApproval {
    /// The department.
    pub department: Department,
    /// When the review is due.
    pub due: Option<Timestamp>,
    /// Whether `now` is past the due time.
    pub overdue: bool,
}

/// A pending review past its due time.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OverdueApproval {
    /// The order.
    pub order_id: OrderId,
    /// The revision under review.
    pub revision: u32,
    /// The department.
    pub department: Department,
    /// When it was due.
    pub due: Timestamp,
    /// Whole hours past due at `now`.
    pub overdue_hours: i64,
}

/// Why an order is at risk of missing its promise.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskReason {
    /// Not shipped and the promise is at most N days away (negative: already past).
    DueSoonNotShipped {
        /// Days from today to the promise.
        days_left: i32,
    },
    /// Shipped, not delivered, and the ETA is after the promise.
    EtaAfterPromise {
        /// The current ETA.
        eta: Date,
    },
}

/// An order at risk.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct AtRisk<'a> {
    /// The order.
    pub row: &'a OrderRow,
    /// The promise it is measured against.
    pub promise: Date,
    /// Why it is at risk.
    pub reason: RiskReason,
}

/// An order past its promise and not delivered.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct LateOrder<'a> {
    /// The order.
    pub row: &'a OrderRow,
    /// The promise it missed.
    pub promise: Date,
    /// Days past it at `now`.
    pub days_late: i32,
}

fn invalid(detail: String) -> ProjectionError {
    ProjectionError::Invalid { detail }
}

impl OrderRow {
    /// A new row from an order's `order_received` event.
    pub fn received(order_id: OrderId, version: u64, event: &Event) -> Result<Self, ProjectionError> {
        let EventBody::OrderReceived(r) = &event.body else {
            return Err(ProjectionError::UnknownOrder { order: order_id });
        };
        Ok(Self {
            order_id,
            state: OrderState::Received,
            revision: 1,
            customer: r.customer.clone(),
            channel: r.channel,
            currency: r.currency,
            total_minor: r.total_minor,
            requested_date: r.requested_date,
            original_promise: None,
            current_promise: None,
            reviewing: true,
            review_due: Some(r.review_due),
            approved_departments: Vec::new(),
            confirmed: false,
            resume_state: None,
            shipment: None,
            delivered_on: None,
            complaints: Vec::new(),
            hold: None,
            received_at: event.at,
            last_change: event.at,
            version,
        })
    }

    /// Folds one later event of the order into the row. Checks first, then changes: an error
    /// leaves the row as it was.
    pub fn apply(&mut self, version: u64, event: &Event) -> Result<(), ProjectionError> {
        let order = self.order_id;
        let mut fold = StatusFold {
            status: self.state,
            resume: self.resume_state,
            confirmed: self.confirmed,
            revision: self.revision,
        };
        fold.apply(&event.body);
        (self.state, self.resume_state, self.confirmed) = (fold.status, fold.resume, fold.confirmed);
        match &event.body {
            EventBody::OrderReceived(_) => {
                return Err(invalid(format!("order {order} received a second time")));
            }
            EventBody::ReviewApproved(r) => {
                if r.revision == self.revision && !self.approved_departments.contains(&r.department) {
                    self.approved_departments.push(r.department);
                }
            }
            EventBody::ReviewRejected(_) => {}
            EventBody::OrderApproved(a) => {
                if a.revision == self.revision {
                    self.reviewing = false;
                }
            }
            EventBody::OrderRejected(_) => self.reviewing = false,
            EventBody::OrderConfirmed(c) => {
                self.original_promise = self.original_promise.or(Some(c.promised_date));
                self.current_promise = Some(c.promised_date);
            }
            EventBody::OrderChanged(c) => {
                self.revision = c.revision;
                self.total_minor = c.total_minor;
                self.requested_date = c.requested_date;
                self.current_promise = c.promised_date;
                self.original_promise = self.original_promise.or(c.promised_date);
                if c.reapproval_required {
                    self.approved_departments.clear();
                    self.reviewing = true;
                    self.review_due = c.review_due;
                }
            }
            EventBody::OrderCancelled(_) => self.reviewing = false,
            EventBody::ProductionScheduled(_)
            | EventBody::QualityInspected(_)
            | EventBody::ProductionCompleted(_) => {}
            EventBody::OrderShipped(s) => {
                self.shipment = Some(Shipment {
                    carrier: s.carrier.clone(),
                    mode: s.mode,
                    tracking_number: s.tracking_number.clone(),
                    shipped_at: event.at,
                    eta: s.eta,
                    delayed: false,
                    delay_reason: None,
                });
            }
            EventBody::ShipmentDelayed(d) => {
                let Some(s) = self.shipment.as_mut() else {
                    return Err(invalid(format!("shipment of order {order} delayed before it was shipped")));
                };
                s.eta = d.new_eta;
                s.delayed = true;
                s.delay_reason = Some(d.reason.clone());
            }
            EventBody::OrderDelivered(_) => {
                self.delivered_on = Some(event.at.date());
            }
            EventBody::OrderSigned(_) | EventBody::OrderRefused(_) => {}
            EventBody::ComplaintOpened(c) => {
                if self.complaints.iter().any(|x| x.complaint_id == c.complaint_id) {
                    return Err(invalid(format!(
                        "complaint {} of order {order} opened twice",
                        c.complaint_id
                    )));
                }
                self.complaints.push(Complaint {
                    complaint_id: c.complaint_id,
                    category: c.category,
                    open: true,
                });
            }
            EventBody::ComplaintResolved(c) => self.complaint(c.complaint_id)?.open = false,
            EventBody::ComplaintReopened(c) => self.complaint(c.complaint_id)?.open = true,
            EventBody::FeedbackRecorded(_) => {}
            EventBody::OrderClosed(_) => {}
            EventBody::ArchiveHoldPlaced(h) => self.hold = Some(h.reason.clone()),
            EventBody::ArchiveHoldReleased(_) => self.hold = None,
            EventBody::ArchiveAccessed(_) | EventBody::ArchiveAccessRefused(_) => {
                self.version = version;
                return Ok(());
            }
            EventBody::UserAdded(_)
            | EventBody::RoleGranted(_)
            | EventBody::RoleRevoked(_)
            | EventBody::UserDisabled(_)
            | EventBody::UserEnabled(_)
            | EventBody::CredentialChanged(_)
            | EventBody::ChangeRequested(_)
            | EventBody::ChangeApproved(_)
            | EventBody::ChangeDeclined(_)
            | EventBody::ChangeWithdrawn(_)
            | EventBody::ReviewOverdue(_)
            | EventBody::ComplaintUpdated(_)
            | EventBody::VisitRecorded(_) => {
                return Err(invalid(format!("a user directory event in the stream of order {order}")));
            }
        }
        self.version = version;
        self.last_change = self.last_change.max(event.at);
        Ok(())
    }

    fn complaint(&mut self, id: u32) -> Result<&mut Complaint, ProjectionError> {
        let order = self.order_id;
        self.complaints
            .iter_mut()
            .find(|c| c.complaint_id == id)
            .ok_or_else(|| invalid(format!("order {order} has no complaint {id}")))
    }

    /// The promise the order is measured against: the current promised date, or the requested
    /// date when the order was never confirmed.
    pub fn promise(&self) -> Date {
        self.current_promise.unwrap_or(self.requested_date)
    }

    /// The current total as money.
    pub fn total(&self) -> Money {
        Money { minor: self.total_minor, currency: self.currency }
    }

    /// Whether the order is still being worked on (not rejected, cancelled or closed).
    pub fn is_active(&self) -> bool {
        !matches!(self.state, OrderState::Rejected | OrderState::Cancelled | OrderState::Closed)
    }

    /// The departments whose review of the current revision is pending, with their due time and
    /// whether `now` is past it.
    pub fn pending_approvals(&self, now: Timestamp) -> Vec<PendingApproval> {
        if !self.reviewing {
            return Vec::new();
        }
        Department::ALL
            .iter()
            .filter(|d| !self.approved_departments.contains(d))
            .map(|&department| PendingApproval {
                department,
                due: self.review_due,
                overdue: self.review_due.is_some_and(|due| now > due),
            })
            .collect()
    }

    /// Open complaints.
    pub fn open_complaints(&self) -> usize {
        self.complaints.iter().filter(|c| c.open).count()
    }

    /// Whether the customer's name contains `part`, ignoring case and surrounding spaces.
    pub fn customer_matches(&self, part: &str) -> bool {
        self.customer.to_lowercase().contains(&part.trim().to_lowercase())
    }

    /// Why this order is at risk at `now`, if it is: active and not delivered, and either not
    /// shipped with the promise (the current promise, or the requested date when never
    /// confirmed) at most `within_days` days after today (or already past), or shipped with an
    /// ETA after the promise.
    pub fn risk(&self, now: Timestamp, within_days: i32) -> Option<RiskReason> {
        if !self.is_active() || self.delivered_on.is_some() {
            return None;
        }
        let days_left = now.date().days_until(self.promise());
        match &self.shipment {
            None if days_left <= within_days => Some(RiskReason::DueSoonNotShipped { days_left }),
            Some(s) if s.eta > self.promise() => Some(RiskReason::EtaAfterPromise { eta: s.eta }),
            _ => None,
        }
    }

    /// Days past the promise at `now` of an active order not delivered; `None` when not late.
    pub fn days_late(&self, now: Timestamp) -> Option<i32> {
        let late = self.promise().days_until(now.date());
        (self.is_active() && self.delivered_on.is_none() && late > 0).then_some(late)
    }

    /// What a manager should notice at `now`, in words: late, at risk and why (within
    /// `within_days`), an overdue review, open complaints, an archive hold.
    pub fn flags(&self, now: Timestamp, within_days: i32) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(days) = self.days_late(now) {
            out.push(format!("late {days} d"));
        }
        match self.risk(now, within_days) {
            Some(RiskReason::DueSoonNotShipped { days_left }) if days_left >= 0 => {
                out.push(format!("at risk: due in {days_left} d, not shipped"));
            }
            Some(RiskReason::EtaAfterPromise { eta }) => {
                out.push(format!("at risk: ETA {eta} after promise"));
            }
            _ => {}
        }
        if let Some(s) = self.shipment.as_ref().filter(|s| s.delayed && self.delivered_on.is_none()) {
            out.push(format!("delayed: {}", s.delay_reason.as_deref().unwrap_or("no reason given")));
        }
        if self.pending_approvals(now).iter().any(|p| p.overdue) {
            out.push("review overdue".into());
        }
        match self.open_complaints() {
            0 => {}
            1 => out.push("1 complaint open".into()),
            n => out.push(format!("{n} complaints open")),
        }
        if self.hold.is_some() {
            out.push("on hold".into());
        }
        out
    }
}

/// Days ahead within which an unshipped order counts as at risk unless told otherwise.
pub const AT_RISK_DAYS_DEFAULT: i32 = 7;

/// The status board view: every order's row.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct StatusBoard {
    rows: HashMap<OrderId, OrderRow>,
}

impl Projection for StatusBoard {
    const NAME: &'static str = "status";
    const VIEW_VERSION: u32 = 1;

    fn apply(&mut self, stored: &StoredEvent, event: &Event) -> Result<(), ProjectionError> {
        if event.body.is_directory() {
            return Ok(()); // the user directory's stream: not an order
        }
        let order = OrderId(stored.stream);
        match self.rows.get_mut(&order) {
            Some(row) => row.apply(stored.version, event),
            None => {
                let row = OrderRow::received(order, stored.version, event)?;
                self.rows.insert(order, row);
                Ok(())
            }
        }
    }
}

fn sorted(mut rows: Vec<&OrderRow>) -> Vec<&OrderRow> {
    rows.sort_by_key(|r| (r.received_at, r.order_id));
    rows
}

impl StatusBoard {
    /// Folds one order's events (in version order) into a fresh row; `None` for no events.
    pub fn fold_order<'a>(
        order: OrderId,
        events: impl IntoIterator<Item = (u64, &'a Event)>,
    ) -> Result<Option<OrderRow>, ProjectionError> {
        let mut row: Option<OrderRow> = None;
        for (version, event) in events {
            match row.as_mut() {
                Some(r) => r.apply(version, event)?,
                None => row = Some(OrderRow::received(order, version, event)?),
            }
        }
        Ok(row)
    }

    /// Number of orders.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no order.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// One order's row.
    pub fn get(&self, order: OrderId) -> Option<&OrderRow> {
        self.rows.get(&order)
    }

    /// Every row, by time of receipt.
    pub fn all(&self) -> Vec<&OrderRow> {
        sorted(self.rows.values().collect())
    }

    /// Rows in `state`, by time of receipt.
    pub fn by_state(&self, state: OrderState) -> Vec<&OrderRow> {
        sorted(self.rows.values().filter(|r| r.state == state).collect())
    }

    /// Rows of the customers whose name contains `customer`, ignoring case ("metro" finds
    /// "Metro Hotels"), by time of receipt.
    pub fn by_customer(&self, customer: &str) -> Vec<&OrderRow> {
        sorted(self.rows.values().filter(|r| r.customer_matches(customer)).collect())
    }

    /// Pending reviews past their due time at `now`, most overdue first.
    pub fn overdue_approvals(&self, now: Timestamp) -> Vec<OverdueApproval> {
        let mut out: Vec<OverdueApproval> = self
            .rows
            .values()
            .flat_map(|r| {
                r.pending_approvals(now).into_iter().filter(|p| p.overdue).filter_map(move |p| {
                    p.due.map(|due| OverdueApproval {
                        order_id: r.order_id,
                        revision: r.revision,
                        department: p.department,
                        due,
                        overdue_hours: (now.0 - due.0) / 3_600_000_000,
                    })
                })
            })
            .collect();
        out.sort_by_key(|o| (o.due, o.order_id, o.department));
        out
    }

    /// Active orders at risk at `now`: not shipped with the promise (current promise, or the
    /// requested date when never confirmed) at most `within_days` days after today (or already
    /// past), or shipped and not delivered with an ETA after the promise. Soonest promise first.
    pub fn at_risk(&self, now: Timestamp, within_days: i32) -> Vec<AtRisk<'_>> {
        let mut out: Vec<AtRisk<'_>> = self
            .rows
            .values()
            .filter_map(|row| {
                row.risk(now, within_days).map(|reason| AtRisk { row, promise: row.promise(), reason })
            })
            .collect();
        out.sort_by_key(|a| (a.promise, a.row.received_at, a.row.order_id));
        out
    }

    /// Active orders whose promise is before today (at `now`) and that are not delivered; most
    /// late first.
    pub fn late(&self, now: Timestamp) -> Vec<LateOrder<'_>> {
        let mut out: Vec<LateOrder<'_>> = self
            .rows
            .values()
            .filter_map(|row| {
                row.days_late(now).map(|days_late| LateOrder { row, promise: row.promise(), days_late })
            })
            .collect();
        out.sort_by_key(|l| (std::cmp::Reverse(l.days_late), l.row.received_at, l.row.order_id));
        out
    }

    /// The rows as a text table fitting `width` (see [`TableWidth`]); pending approvals are
    /// judged overdue, and rows late or at risk (within [`AT_RISK_DAYS_DEFAULT`]), at `now`.
    /// Ids are printed with as many digits as tell the rows shown apart. An empty selection
    /// says so.
    pub fn render_table(rows: &[&OrderRow], now: Timestamp, width: TableWidth) -> String {
        if rows.is_empty() {
            return "no orders match\n".into();
        }
        let columns = [
            left("ORDER").key(),
            left("STATE"),
            right("REV").optional(3),
            left("CUSTOMER").wrap(),
            left("CHANNEL").optional(1),
            right("TOTAL"),
            left("REQUESTED").optional(2),
            left("PROMISED"),
            left("WAITING FOR").wrap(),
            left("ETA"),
            left("FLAGS").wrap(),
            left("CARRIER").wrap().optional(4),
            left("TRACKING").optional(5),
            left("LAST CHANGE").optional(0),
        ];
        let digits = OrderId::distinct_digits(rows.iter().map(|r| &r.order_id));
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                let shipment = r.shipment.as_ref();
                vec![
                    r.order_id.prefix(digits),
                    r.state.as_str().to_string(),
                    r.revision.to_string(),
                    r.customer.clone(),
                    r.channel.to_string(),
                    r.total().to_string(),
                    r.requested_date.to_string(),
                    r.current_promise.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                    pending_cell(r, now),
                    shipment.map(|s| s.eta.to_string()).unwrap_or_default(),
                    r.flags(now, AT_RISK_DAYS_DEFAULT).join("; "),
                    shipment.map(|s| s.carrier.clone()).unwrap_or_default(),
                    shipment.map(|s| s.tracking_number.clone()).unwrap_or_default(),
                    r.last_change.to_datetime().format("%Y-%m-%d %H:%M").to_string(),
                ]
            })
            .collect();
        render(&columns, &cells, width)
    }

    /// The rows as JSON: each row's fields plus `promise`, `open_complaints` and
    /// `pending_approvals` judged at `now`.
    pub fn render_json(rows: &[&OrderRow], now: Timestamp) -> Value {
        Value::Array(
            rows.iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
                    if let Value::Object(m) = &mut v {
                        m.remove("resume_state");
                        m.insert("promise".into(), serde_json::json!(r.promise()));
                        m.insert("open_complaints".into(), serde_json::json!(r.open_complaints()));
                        m.insert("pending_approvals".into(), serde_json::json!(r.pending_approvals(now)));
                    }
                    v
                })
                .collect(),
        )
    }
}

fn department_abbrev(d: Department) -> &'static str {
    match d {
        Department::Production => "prod",
        Department::Procurement => "proc",
        Department::Finance => "fin",
        Department::Warehouse => "wh",
    }
}

fn pending_cell(r: &OrderRow, now: Timestamp) -> String {
    let pending = r.pending_approvals(now);
    if pending.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = pending.iter().map(|p| department_abbrev(p.department)).collect();
    let when = match pending[0].due {
        Some(_) if pending[0].overdue => "OVERDUE".to_string(),
        Some(due) => format!("by {}", due.to_datetime().format("%m-%d")),
        None => String::new(),
    };
    format!("{} {when}", names.join(",")).trim_end().to_string()
}
