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
//! Complaints, feedback, holds and shipment delays change flags, not the state. So do change
//! requests (since version 3): `change_requested` shows the request on the row (who asked, the
//! deciding roles with their own deadlines, who approved) while the approved revision stays in
//! force; `order_changed` of that request applies it as the next revision without re-approval
//! (the row's revision, total and dates move, the request is cleared); `change_declined` and
//! `change_withdrawn` clear it and leave the order as it was. `review_overdue` marks that
//! review as escalated (to the department's head). Each department's review has its own due
//! time (`order_received.review_due_by`; a change before version 3 that needed re-approval
//! gave all four departments its one `review_due`).

use std::collections::{BTreeSet, HashMap};

use orderflow_engine::StoredEvent;
use orderflow_schemas::{
    Channel, ComplaintCategory, ConfirmMethod, Currency, Date, DeliveryMode, Department, Event, EventBody,
    Grant, Initiator, Money, OrderId, Role, RoleDue, ShipMode, StatusFold, Timestamp, VisitMethod,
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
    /// Set when a department head shipped the order unconfirmed: the reason given.
    pub unconfirmed_reason: Option<String>,
}

/// A complaint's last progress note.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ComplaintNote {
    /// When.
    pub at: Timestamp,
    /// What was done or learnt.
    pub note: String,
    /// The next step.
    pub next_step: String,
}

/// A pending change request of an order: the approved revision stays in force meanwhile.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ChangeRequest {
    /// The request's number within the order.
    pub request_id: u32,
    /// Who asked.
    pub initiated_by: Initiator,
    /// Why.
    pub reason: String,
    /// The revision the order takes when it is approved.
    pub revision: u32,
    /// When it was requested.
    pub requested_at: Timestamp,
    /// The deciding roles, each with its own due time.
    pub review_due_by: Vec<RoleDue>,
    /// The roles that approved it so far.
    pub approved_roles: Vec<Role>,
}

/// A recorded escalation of an overdue review (`review_overdue`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Escalation {
    /// The revision under review (for a change request: the revision it would make).
    pub revision: u32,
    /// The change request, for a change request's review.
    pub request_id: Option<u32>,
    /// The role that had not decided.
    pub role: Role,
    /// When its decision was due.
    pub due: Timestamp,
    /// Who it was escalated to.
    pub escalated_to: Grant,
    /// When the escalation was recorded.
    pub at: Timestamp,
}

/// A follow-up visit (回訪) of an order.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Visit {
    /// When.
    pub at: Timestamp,
    /// How the customer was reached.
    pub method: VisitMethod,
    /// The score, 1-5; `None` when the customer did not answer.
    pub score: Option<u8>,
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
    /// Who follows it up (a login), when assigned.
    pub assignee: Option<String>,
    /// When the first response to the customer is due.
    pub respond_by: Option<Timestamp>,
    /// Whether there was a response (a progress note or a resolution) since it was opened.
    pub responded: bool,
    /// The last progress note.
    pub last_note: Option<ComplaintNote>,
    /// Whether the customer was satisfied with its last resolution; `None` before one.
    pub customer_satisfied: Option<bool>,
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
    /// When the reviews of the current revision are due (the latest of `review_due_by`).
    pub review_due: Option<Timestamp>,
    /// When each department's review of the current revision is due.
    pub review_due_by: Vec<RoleDue>,
    /// The pending change request, if any.
    pub change_request: Option<ChangeRequest>,
    /// Overdue reviews escalated to a department head (`review_overdue`), in order.
    pub escalations: Vec<Escalation>,
    /// Departments that approved the current revision.
    pub approved_departments: Vec<Department>,
    /// Whether the customer confirmed.
    pub confirmed: bool,
    /// The revision the last confirmation confirmed (recorded since version 3).
    pub confirmed_revision: Option<u32>,
    /// When the goods are expected to leave, as last confirmed.
    pub expected_ship_date: Option<Date>,
    /// How the goods reach the customer, as last confirmed.
    pub delivery_mode: Option<DeliveryMode>,
    /// How the customer confirmed, the last time.
    pub confirmed_via: Option<ConfirmMethod>,
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
    /// When the customer signed for the goods.
    pub signed_at: Option<Timestamp>,
    /// Follow-up visits, in order.
    pub visits: Vec<Visit>,
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
    /// Set when the overdue review was escalated (`review_overdue`): to whom.
    pub escalated_to: Option<Grant>,
}

/// A role whose decision on the pending change request is outstanding.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PendingChangeReview {
    /// The change request.
    pub request_id: u32,
    /// The deciding role.
    pub role: Role,
    /// When its decision is due.
    pub due: Timestamp,
    /// Whether `now` is past the due time.
    pub overdue: bool,
    /// Set when the overdue review was escalated: to whom.
    pub escalated_to: Option<Grant>,
}

/// A change request's review past its due time.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OverdueChangeReview {
    /// The order.
    pub order_id: OrderId,
    /// The change request.
    pub request_id: u32,
    /// The revision it would make.
    pub revision: u32,
    /// The deciding role.
    pub role: Role,
    /// When it was due.
    pub due: Timestamp,
    /// Whole hours past due at `now`.
    pub overdue_hours: i64,
    /// Set when escalated: to whom.
    pub escalated_to: Option<Grant>,
}

/// A signed order whose follow-up visit is due and not recorded.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct VisitDue<'a> {
    /// The order.
    pub row: &'a OrderRow,
    /// The day of sign-off.
    pub signed_on: Date,
    /// The day the visit is due (sign-off + N days).
    pub due: Date,
    /// Days past the due day at `now` (0 on the day).
    pub days_overdue: i32,
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
    /// Set when escalated (`review_overdue`): to whom. Unset: not yet escalated.
    pub escalated_to: Option<Grant>,
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
            review_due_by: r.review_due_by.clone(),
            change_request: None,
            escalations: Vec::new(),
            approved_departments: Vec::new(),
            confirmed: false,
            confirmed_revision: None,
            expected_ship_date: None,
            delivery_mode: None,
            confirmed_via: None,
            resume_state: None,
            shipment: None,
            delivered_on: None,
            complaints: Vec::new(),
            hold: None,
            signed_at: None,
            visits: Vec::new(),
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
            EventBody::OrderConfirmed(c) => {
                self.original_promise = self.original_promise.or(Some(c.promised_date));
                self.current_promise = Some(c.promised_date);
                self.confirmed_revision = c.revision.or(self.confirmed_revision);
                self.expected_ship_date = c.expected_ship_date.or(self.expected_ship_date);
                self.delivery_mode = c.delivery_mode.or(self.delivery_mode);
                self.confirmed_via = c.confirmed_via.or(self.confirmed_via);
            }
            EventBody::OrderChanged(c) => {
                self.revision = c.revision;
                self.total_minor = c.total_minor;
                self.requested_date = c.requested_date;
                self.current_promise = c.promised_date;
                self.original_promise = self.original_promise.or(c.promised_date);
                if c.request_id.is_some()
                    && self.change_request.as_ref().map(|r| r.request_id) == c.request_id
                {
                    self.change_request = None;
                }
                if c.reapproval_required {
                    self.approved_departments.clear();
                    self.reviewing = true;
                    self.review_due = c.review_due;
                    self.review_due_by = c.review_due_by.clone();
                }
            }
            EventBody::OrderCancelled(_) | EventBody::OrderRejected(_) => {
                self.reviewing = false;
                self.change_request = None;
            }
            EventBody::ChangeRequested(c) => {
                self.change_request = Some(ChangeRequest {
                    request_id: c.request_id,
                    initiated_by: c.initiated_by,
                    reason: c.reason.clone(),
                    revision: c.revision,
                    requested_at: event.at,
                    review_due_by: c.review_due_by.clone(),
                    approved_roles: Vec::new(),
                });
            }
            EventBody::ChangeApproved(c) => {
                if let Some(r) = self.request(c.request_id)? {
                    if !r.approved_roles.contains(&c.role) {
                        r.approved_roles.push(c.role);
                    }
                }
            }
            EventBody::ChangeDeclined(c) => {
                self.request(c.request_id)?;
                self.change_request = None;
            }
            EventBody::ChangeWithdrawn(c) => {
                self.request(c.request_id)?;
                self.change_request = None;
            }
            EventBody::ReviewOverdue(r) => self.escalations.push(Escalation {
                revision: r.revision,
                request_id: r.request_id,
                role: r.role,
                due: r.due,
                escalated_to: r.escalated_to,
                at: event.at,
            }),
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
                    unconfirmed_reason: s.unconfirmed_reason.clone(),
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
            EventBody::OrderSigned(_) => self.signed_at = Some(event.at),
            EventBody::OrderRefused(_) => {}
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
                    assignee: c.assignee.clone(),
                    respond_by: c.respond_by,
                    responded: false,
                    last_note: None,
                    customer_satisfied: None,
                });
            }
            EventBody::ComplaintResolved(c) => {
                let x = self.complaint(c.complaint_id)?;
                x.open = false;
                x.responded = true;
                x.customer_satisfied = Some(c.customer_satisfied);
            }
            EventBody::ComplaintReopened(c) => self.complaint(c.complaint_id)?.open = true,
            EventBody::ComplaintUpdated(c) => {
                let x = self.complaint(c.complaint_id)?;
                x.responded = true;
                x.last_note = Some(ComplaintNote {
                    at: event.at,
                    note: c.note.clone(),
                    next_step: c.next_step.clone(),
                });
            }
            EventBody::FeedbackRecorded(_) => {}
            // Issue 14: the shipment helper keeps the shipments on the board.
            EventBody::ShipmentDispatched(_) => {}
            EventBody::VisitRecorded(v) => {
                self.visits.push(Visit { at: event.at, method: v.method, score: v.score });
            }
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
            | EventBody::CredentialChanged(_) => {
                return Err(invalid(format!("a user directory event in the stream of order {order}")));
            }
        }
        self.version = version;
        self.last_change = self.last_change.max(event.at);
        Ok(())
    }

    /// The pending change request `id`. A decision on a request of an order no longer active
    /// (cancelled, rejected or closed, which ended the request) changes nothing; on an active
    /// order, a request that is not pending is an error.
    fn request(&mut self, id: u32) -> Result<Option<&mut ChangeRequest>, ProjectionError> {
        let order = self.order_id;
        let active = self.is_active();
        match self.change_request.as_mut().filter(|r| r.request_id == id) {
            Some(r) => Ok(Some(r)),
            None if !active => Ok(None),
            None => Err(invalid(format!("order {order} has no pending change request {id}"))),
        }
    }

    /// The escalation recorded for `role`'s review of `revision` (or of change request
    /// `request`).
    pub fn escalation(&self, role: Role, revision: u32, request: Option<u32>) -> Option<&Escalation> {
        self.escalations.iter().rev().find(|e| {
            e.role == role && e.request_id == request && (request.is_some() || e.revision == revision)
        })
    }

    /// The roles whose decision on the pending change request is outstanding, with their due
    /// time, whether `now` is past it and whether it was escalated.
    pub fn pending_change_reviews(&self, now: Timestamp) -> Vec<PendingChangeReview> {
        let Some(r) = &self.change_request else { return Vec::new() };
        r.review_due_by
            .iter()
            .filter(|d| !r.approved_roles.contains(&d.role))
            .map(|d| PendingChangeReview {
                request_id: r.request_id,
                role: d.role,
                due: d.due,
                overdue: now > d.due,
                escalated_to: self.escalation(d.role, r.revision, Some(r.request_id)).map(|e| e.escalated_to),
            })
            .collect()
    }

    /// Whether a resolved complaint's last resolution left the customer unsatisfied.
    pub fn customer_unsatisfied(&self) -> bool {
        self.complaints.iter().any(|c| !c.open && c.customer_satisfied == Some(false))
    }

    /// The day the follow-up visit is due: sign-off day + `after_days`; `None` before sign-off.
    pub fn visit_due(&self, after_days: i32) -> Option<Date> {
        self.signed_at.map(|t| t.date().plus_days(after_days))
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
            .map(|&department| {
                let due = self
                    .review_due_by
                    .iter()
                    .find(|d| d.role == department.role())
                    .map(|d| d.due)
                    .or(if self.review_due_by.is_empty() { self.review_due } else { None });
                PendingApproval {
                    department,
                    due,
                    overdue: due.is_some_and(|due| now > due),
                    escalated_to: self
                        .escalation(department.role(), self.revision, None)
                        .map(|e| e.escalated_to),
                }
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
        let overdue: Vec<PendingApproval> =
            self.pending_approvals(now).into_iter().filter(|p| p.overdue).collect();
        if overdue.iter().any(|p| p.escalated_to.is_none()) {
            out.push("review overdue".into());
        } else if !overdue.is_empty() {
            out.push("review overdue, escalated".into());
        }
        if let Some(r) = &self.change_request {
            let pending = self.pending_change_reviews(now);
            let word = if pending.iter().any(|p| p.overdue) { "overdue" } else { "pending" };
            out.push(format!("change request {} {word}", r.request_id));
        }
        match self.open_complaints() {
            0 => {}
            1 => out.push("1 complaint open".into()),
            n => out.push(format!("{n} complaints open")),
        }
        for c in self.complaints.iter().filter(|c| c.open && !c.responded) {
            if c.respond_by.is_some_and(|t| now > t) {
                out.push(format!("complaint {} response overdue", c.complaint_id));
            }
        }
        if self.customer_unsatisfied() {
            out.push("customer unsatisfied".into());
        }
        if self.hold.is_some() {
            out.push("on hold".into());
        }
        out
    }
}

/// Days after sign-off a follow-up visit is due unless told otherwise (the configured
/// `visit_after_days`).
pub const VISIT_AFTER_DAYS_DEFAULT: i32 = 7;

/// Days ahead within which an unshipped order counts as at risk unless told otherwise.
pub const AT_RISK_DAYS_DEFAULT: i32 = 7;

/// The status board view: every order's row, and the active ones in order of receipt (the
/// board's default page reads that index instead of sorting every row).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct StatusBoard {
    rows: HashMap<OrderId, OrderRow>,
    /// The active rows ([`OrderRow::is_active`]) by (time of receipt in µs, id).
    active: BTreeSet<(i64, OrderId)>,
}

impl Projection for StatusBoard {
    const NAME: &'static str = "status";
    /// 2: per-department due times, change requests, escalations, confirmation facts,
    /// complaint follow-up, sign-off and visits.
    /// 3: the index of active rows.
    const VIEW_VERSION: u32 = 3;

    fn apply(&mut self, stored: &StoredEvent, event: &Event) -> Result<(), ProjectionError> {
        if !event.body.is_order() {
            return Ok(()); // the user directory's stream: not an order
        }
        let order = OrderId(stored.stream);
        match self.rows.get_mut(&order) {
            Some(row) => {
                let before = (row.is_active(), row.received_at.0);
                let applied = row.apply(stored.version, event);
                let after = (row.is_active(), row.received_at.0);
                if before != after {
                    if before.0 {
                        self.active.remove(&(before.1, order));
                    }
                    if after.0 {
                        self.active.insert((after.1, order));
                    }
                }
                applied
            }
            None => {
                let row = OrderRow::received(order, stored.version, event)?;
                if row.is_active() {
                    self.active.insert((row.received_at.0, order));
                }
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

    /// Number of active orders ([`OrderRow::is_active`]).
    pub fn active_len(&self) -> usize {
        self.active.len()
    }

    /// The active rows, newest first (by time of receipt), from the index: no sort, nothing
    /// read beyond what the caller takes.
    pub fn active_newest_first(&self) -> impl Iterator<Item = &OrderRow> + '_ {
        self.active.iter().rev().filter_map(|(_, id)| self.rows.get(id))
    }

    /// Whether the index of active rows holds exactly the active rows (a check for tests).
    pub fn active_index_is_consistent(&self) -> bool {
        let expected: BTreeSet<(i64, OrderId)> =
            self.rows.values().filter(|r| r.is_active()).map(|r| (r.received_at.0, r.order_id)).collect();
        expected == self.active
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
                        escalated_to: p.escalated_to,
                    })
                })
            })
            .collect();
        out.sort_by_key(|o| (o.due, o.order_id, o.department));
        out
    }

    /// Pending change-request reviews past their due time at `now`, most overdue first.
    pub fn overdue_change_reviews(&self, now: Timestamp) -> Vec<OverdueChangeReview> {
        let mut out: Vec<OverdueChangeReview> = self
            .rows
            .values()
            .flat_map(|r| {
                let revision = r.change_request.as_ref().map_or(r.revision, |c| c.revision);
                r.pending_change_reviews(now).into_iter().filter(|p| p.overdue).map(move |p| {
                    OverdueChangeReview {
                        order_id: r.order_id,
                        request_id: p.request_id,
                        revision,
                        role: p.role,
                        due: p.due,
                        overdue_hours: (now.0 - p.due.0) / 3_600_000_000,
                        escalated_to: p.escalated_to,
                    }
                })
            })
            .collect();
        out.sort_by_key(|o| (o.due, o.order_id, o.role));
        out
    }

    /// Signed orders whose follow-up visit (sign-off day + `after_days`) is due on or before
    /// today (at `now`) and not recorded yet; the longest overdue first.
    pub fn visits_due(&self, now: Timestamp, after_days: i32) -> Vec<VisitDue<'_>> {
        let today = now.date();
        let mut out: Vec<VisitDue<'_>> = self
            .rows
            .values()
            .filter(|row| row.visits.is_empty())
            .filter_map(|row| {
                let signed = row.signed_at?;
                let due = row.visit_due(after_days)?;
                (due <= today).then(|| VisitDue {
                    row,
                    signed_on: signed.date(),
                    due,
                    days_overdue: due.days_until(today),
                })
            })
            .collect();
        out.sort_by_key(|v| (v.due, v.row.received_at, v.row.order_id));
        out
    }

    /// The visits due as a text table fitting `width`. An empty list says so.
    pub fn render_visits_table(visits: &[VisitDue<'_>], width: TableWidth) -> String {
        if visits.is_empty() {
            return "no follow-up visit due\n".into();
        }
        let columns = [
            left("ORDER").key(),
            left("CUSTOMER").wrap(),
            left("SIGNED"),
            left("VISIT DUE"),
            right("DAYS OVER"),
            left("STATE").optional(0),
        ];
        let digits = OrderId::distinct_digits(visits.iter().map(|v| &v.row.order_id));
        let cells: Vec<Vec<String>> = visits
            .iter()
            .map(|v| {
                vec![
                    v.row.order_id.prefix(digits),
                    v.row.customer.clone(),
                    v.signed_on.to_string(),
                    v.due.to_string(),
                    v.days_overdue.to_string(),
                    v.row.state.as_str().to_string(),
                ]
            })
            .collect();
        render(&columns, &cells, width)
    }

    /// The visits due as JSON: one object per order (`order_id`, `customer`, `state`,
    /// `signed_on`, `visit_due`, `days_overdue`).
    pub fn render_visits_json(visits: &[VisitDue<'_>]) -> Value {
        Value::Array(
            visits
                .iter()
                .map(|v| {
                    serde_json::json!({
                        "order_id": v.row.order_id,
                        "customer": v.row.customer,
                        "state": v.row.state,
                        "signed_on": v.signed_on,
                        "visit_due": v.due,
                        "days_overdue": v.days_overdue,
                    })
                })
                .collect(),
        )
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
            left("SHIP BY").optional(0),
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
                    r.expected_ship_date.map(|d| d.to_string()).unwrap_or_default(),
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

    /// The rows as JSON: each row's fields plus `promise`, `open_complaints`,
    /// `pending_approvals` and `pending_change_reviews` judged at `now`,
    /// `customer_unsatisfied`, and `visit_due` after [`VISIT_AFTER_DAYS_DEFAULT`] days (see
    /// [`StatusBoard::render_json_at`] for the configured number).
    pub fn render_json(rows: &[&OrderRow], now: Timestamp) -> Value {
        Self::render_json_at(rows, now, VISIT_AFTER_DAYS_DEFAULT)
    }

    /// [`StatusBoard::render_json`] with the follow-up visit due `visit_after_days` after
    /// sign-off (the configured `visit_after_days`).
    pub fn render_json_at(rows: &[&OrderRow], now: Timestamp, visit_after_days: i32) -> Value {
        Value::Array(
            rows.iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
                    if let Value::Object(m) = &mut v {
                        m.remove("resume_state");
                        m.insert("promise".into(), serde_json::json!(r.promise()));
                        m.insert("open_complaints".into(), serde_json::json!(r.open_complaints()));
                        m.insert("pending_approvals".into(), serde_json::json!(r.pending_approvals(now)));
                        m.insert(
                            "pending_change_reviews".into(),
                            serde_json::json!(r.pending_change_reviews(now)),
                        );
                        m.insert("customer_unsatisfied".into(), serde_json::json!(r.customer_unsatisfied()));
                        m.insert("visit_due".into(), serde_json::json!(r.visit_due(visit_after_days)));
                    }
                    v
                })
                .collect(),
        )
    }
}

fn role_abbrev(r: Role) -> &'static str {
    match r {
        Role::Production => "prod",
        Role::Procurement => "proc",
        Role::Finance => "fin",
        Role::Warehouse => "wh",
        Role::Logistics => "log",
        other => other.as_str(),
    }
}

fn due_word(due: Option<Timestamp>, overdue: bool, escalated: bool) -> String {
    match due {
        Some(_) if overdue && escalated => "ESCALATED".to_string(),
        Some(_) if overdue => "OVERDUE".to_string(),
        Some(due) => format!("by {}", due.to_datetime().format("%m-%d")),
        None => String::new(),
    }
}

/// Names grouped by their due word, in order: "prod,proc by 03-04; fin OVERDUE".
fn grouped(items: impl IntoIterator<Item = (&'static str, String)>) -> String {
    let mut groups: Vec<(String, Vec<&'static str>)> = Vec::new();
    for (name, when) in items {
        match groups.iter_mut().find(|(w, _)| *w == when) {
            Some((_, names)) => names.push(name),
            None => groups.push((when, vec![name])),
        }
    }
    groups
        .iter()
        .map(|(when, names)| format!("{} {when}", names.join(",")).trim_end().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn pending_cell(r: &OrderRow, now: Timestamp) -> String {
    let mut parts = Vec::new();
    let pending = r.pending_approvals(now);
    if !pending.is_empty() {
        parts.push(grouped(pending.iter().map(|p| {
            (department_abbrev(p.department), due_word(p.due, p.overdue, p.escalated_to.is_some()))
        })));
    }
    if let Some(c) = &r.change_request {
        let reviews = r.pending_change_reviews(now);
        let who = grouped(
            reviews
                .iter()
                .map(|p| (role_abbrev(p.role), due_word(Some(p.due), p.overdue, p.escalated_to.is_some()))),
        );
        parts.push(format!("change {}: {who}", c.request_id).trim_end_matches(": ").to_string());
    }
    parts.join("; ")
}

fn department_abbrev(d: Department) -> &'static str {
    match d {
        Department::Production => "prod",
        Department::Procurement => "proc",
        Department::Finance => "fin",
        Department::Warehouse => "wh",
    }
}
