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
use std::fmt;
use std::str::FromStr;

use orderflow_engine::StoredEvent;
use orderflow_schemas::{
    Channel, ComplaintCategory, Currency, Date, Department, Event, EventBody, Money, OrderId, ShipMode,
    Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::runner::{Projection, ProjectionError};
use crate::table::{left, render, right};

/// The derived state of an order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Recorded; no department has decided on it yet.
    Received,
    /// Department reviews of the current revision are under way.
    InReview,
    /// Every department approved the current revision.
    Approved,
    /// A department rejected it (final).
    Rejected,
    /// Approved and confirmed with the customer, with a promised date.
    Confirmed,
    /// Production is scheduled.
    Scheduled,
    /// Produced and being inspected (rework or scrap keep it here).
    InProduction,
    /// Production completed after a passed inspection.
    ReadyToShip,
    /// The goods left.
    Shipped,
    /// The goods arrived.
    Delivered,
    /// The customer signed for them.
    Signed,
    /// The customer refused them.
    Refused,
    /// Cancelled (final).
    Cancelled,
    /// Closed and archived.
    Closed,
}

impl OrderState {
    /// Every state, in workflow order.
    pub const ALL: &'static [OrderState] = &[
        OrderState::Received,
        OrderState::InReview,
        OrderState::Approved,
        OrderState::Rejected,
        OrderState::Confirmed,
        OrderState::Scheduled,
        OrderState::InProduction,
        OrderState::ReadyToShip,
        OrderState::Shipped,
        OrderState::Delivered,
        OrderState::Signed,
        OrderState::Refused,
        OrderState::Cancelled,
        OrderState::Closed,
    ];

    /// The word used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Received => "received",
            OrderState::InReview => "in_review",
            OrderState::Approved => "approved",
            OrderState::Rejected => "rejected",
            OrderState::Confirmed => "confirmed",
            OrderState::Scheduled => "scheduled",
            OrderState::InProduction => "in_production",
            OrderState::ReadyToShip => "ready_to_ship",
            OrderState::Shipped => "shipped",
            OrderState::Delivered => "delivered",
            OrderState::Signed => "signed",
            OrderState::Refused => "refused",
            OrderState::Cancelled => "cancelled",
            OrderState::Closed => "closed",
        }
    }

    /// Rank along the happy path, for "further on" comparisons.
    fn rank(self) -> u8 {
        match self {
            OrderState::Received => 0,
            OrderState::InReview => 1,
            OrderState::Approved | OrderState::Rejected => 2,
            OrderState::Confirmed => 3,
            OrderState::Scheduled => 4,
            OrderState::InProduction => 5,
            OrderState::ReadyToShip => 6,
            OrderState::Shipped => 7,
            OrderState::Delivered => 8,
            OrderState::Signed | OrderState::Refused | OrderState::Cancelled => 9,
            OrderState::Closed => 10,
        }
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase().replace('-', "_");
        OrderState::ALL.iter().copied().find(|st| st.as_str() == t).ok_or_else(|| {
            let all: Vec<&str> = OrderState::ALL.iter().map(|s| s.as_str()).collect();
            format!("'{s}' is not an order state; expected one of: {}", all.join(", "))
        })
    }
}

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
        match &event.body {
            EventBody::OrderReceived(_) => {
                return Err(invalid(format!("order {order} received a second time")));
            }
            EventBody::ReviewApproved(r) => {
                if r.revision == self.revision && !self.approved_departments.contains(&r.department) {
                    self.approved_departments.push(r.department);
                }
                self.start_review();
            }
            EventBody::ReviewRejected(_) => self.start_review(),
            EventBody::OrderApproved(a) => {
                if a.revision == self.revision {
                    self.reviewing = false;
                    let base = if self.confirmed { OrderState::Confirmed } else { OrderState::Approved };
                    self.state = match self.resume_state.take() {
                        Some(s) if s.rank() > base.rank() => s,
                        _ => base,
                    };
                }
            }
            EventBody::OrderRejected(_) => {
                self.reviewing = false;
                self.state = OrderState::Rejected;
            }
            EventBody::OrderConfirmed(c) => {
                self.confirmed = true;
                self.original_promise = self.original_promise.or(Some(c.promised_date));
                self.current_promise = Some(c.promised_date);
                if self.state == OrderState::Approved {
                    self.state = OrderState::Confirmed;
                }
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
                    if self.state.rank() > OrderState::InReview.rank() {
                        self.resume_state = Some(self.resume_state.unwrap_or(self.state));
                    }
                    self.state = OrderState::InReview;
                }
            }
            EventBody::OrderCancelled(_) => {
                self.reviewing = false;
                self.state = OrderState::Cancelled;
            }
            EventBody::ProductionScheduled(_) => self.state = OrderState::Scheduled,
            EventBody::QualityInspected(_) => self.state = OrderState::InProduction,
            EventBody::ProductionCompleted(_) => self.state = OrderState::ReadyToShip,
            EventBody::OrderShipped(s) => {
                self.state = OrderState::Shipped;
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
                self.state = OrderState::Delivered;
                self.delivered_on = Some(event.at.date());
            }
            EventBody::OrderSigned(_) => self.state = OrderState::Signed,
            EventBody::OrderRefused(_) => self.state = OrderState::Refused,
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
            EventBody::OrderClosed(_) => self.state = OrderState::Closed,
            EventBody::ArchiveHoldPlaced(h) => self.hold = Some(h.reason.clone()),
            EventBody::ArchiveHoldReleased(_) => self.hold = None,
            EventBody::ArchiveAccessed(_) => {
                self.version = version;
                return Ok(());
            }
        }
        self.version = version;
        self.last_change = self.last_change.max(event.at);
        Ok(())
    }

    fn start_review(&mut self) {
        if self.state == OrderState::Received {
            self.state = OrderState::InReview;
        }
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
}

/// The status board view: every order's row.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct StatusBoard {
    rows: HashMap<OrderId, OrderRow>,
}

impl Projection for StatusBoard {
    const NAME: &'static str = "status";
    const VIEW_VERSION: u32 = 1;

    fn apply(&mut self, stored: &StoredEvent, event: &Event) -> Result<(), ProjectionError> {
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

    /// Rows of a customer (exact name, ignoring case), by time of receipt.
    pub fn by_customer(&self, customer: &str) -> Vec<&OrderRow> {
        sorted(self.rows.values().filter(|r| r.customer.eq_ignore_ascii_case(customer)).collect())
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
        let today = now.date();
        let mut out: Vec<AtRisk<'_>> = self
            .rows
            .values()
            .filter(|r| r.is_active() && r.delivered_on.is_none())
            .filter_map(|row| {
                let promise = row.promise();
                let reason = match &row.shipment {
                    None if today.days_until(promise) <= within_days => {
                        RiskReason::DueSoonNotShipped { days_left: today.days_until(promise) }
                    }
                    Some(s) if s.eta > promise => RiskReason::EtaAfterPromise { eta: s.eta },
                    _ => return None,
                };
                Some(AtRisk { row, promise, reason })
            })
            .collect();
        out.sort_by_key(|a| (a.promise, a.row.received_at, a.row.order_id));
        out
    }

    /// Active orders whose promise is before today (at `now`) and that are not delivered; most
    /// late first.
    pub fn late(&self, now: Timestamp) -> Vec<LateOrder<'_>> {
        let today = now.date();
        let mut out: Vec<LateOrder<'_>> = self
            .rows
            .values()
            .filter(|r| r.is_active() && r.delivered_on.is_none() && r.promise() < today)
            .map(|row| LateOrder { row, promise: row.promise(), days_late: row.promise().days_until(today) })
            .collect();
        out.sort_by_key(|l| (std::cmp::Reverse(l.days_late), l.row.received_at, l.row.order_id));
        out
    }

    /// The rows as a fixed-width table; pending approvals are judged overdue at `now`.
    pub fn render_table(rows: &[&OrderRow], now: Timestamp) -> String {
        let columns = [
            left("ORDER", 8),
            left("STATE", 13),
            right("REV", 3),
            left("CUSTOMER", 16),
            left("CHANNEL", 9),
            right("TOTAL", 16),
            left("REQUESTED", 10),
            left("PROMISED", 10),
            left("PENDING", 24),
            left("SHIPMENT", 30),
            right("COMPL", 5),
            left("HOLD", 4),
            left("LAST CHANGE", 16),
        ];
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.order_id.short(),
                    r.state.to_string(),
                    r.revision.to_string(),
                    r.customer.clone(),
                    r.channel.to_string(),
                    r.total().to_string(),
                    r.requested_date.to_string(),
                    r.current_promise.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                    pending_cell(r, now),
                    shipment_cell(r),
                    r.open_complaints().to_string(),
                    if r.hold.is_some() { "HOLD".into() } else { String::new() },
                    r.last_change.to_datetime().format("%Y-%m-%d %H:%M").to_string(),
                ]
            })
            .collect();
        render(&columns, &cells)
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

fn shipment_cell(r: &OrderRow) -> String {
    match &r.shipment {
        None => String::new(),
        Some(s) => {
            let delayed = if s.delayed { " DELAYED" } else { "" };
            format!("{} {} eta {}{delayed}", s.carrier, s.tracking_number, s.eta.to_naive().format("%m-%d"))
        }
    }
}
