//! Monthly KPIs by customer, product (SKU) and channel. The view keeps compact per-order facts;
//! every figure is computed at query time from them.
//!
//! Definitions (the README quotes these). "Month" is the calendar month (UTC) of an event's
//! effective time, written `YYYY-MM`. An order belongs to its customer and channel; to every
//! SKU on its current lines (order-level figures count once for each SKU the order holds).
//!
//! - **Who initiated.** A change or cancellation says who asked (`initiated_by`, since version
//!   3). A change recorded before (no `initiated_by`) counts as the customer's: changes were then
//!   recorded as the customer's requests. A cancellation recorded before counts as internal
//!   (the company's): nothing recorded says the customer asked.
//! - **Promise.** The *original promise* is the promised date of the first `order_confirmed`.
//!   The *current promise* starts there and moves only with an approved change the customer
//!   initiated (an `order_changed` initiated by the customer, or recorded before version 3,
//!   carrying a promised date): never with an internal change, and never with the promised date
//!   of a later re-confirmation. A change request that is pending, declined or withdrawn moves
//!   nothing. An order that was never confirmed is measured against its requested date: the
//!   requested date as the customer's changes left it for the current promise, the requested
//!   date at receipt for the original promise.
//! - **Delivery date.** The calendar date of `order_delivered` (proof of delivery); when the
//!   order was signed without a recorded delivery, the calendar date of `order_signed`.
//! - **Orders received**: orders whose `order_received` falls in the month.
//! - **Sales amount**: per currency, exact integer minor units: the total of the revision last
//!   approved of orders *booked* in the month and neither rejected nor cancelled. An order is booked at its first `order_approved`
//!   or `order_confirmed`, whichever comes first. Net of cancellations and rejections: such an
//!   order counts nothing, also in the month it was booked (past months change when an order
//!   booked in them is cancelled or rejected later). By SKU: the amount of that SKU's lines in
//!   the approved revision. Sums saturate at the `i64` limit instead of wrapping. The approved
//!   revision: the one of the last `order_approved`; an applied change request (`order_changed`
//!   with a `request_id`, version 3) makes its new revision the approved one at once (every
//!   deciding department approved the request); a pending, declined or withdrawn request never
//!   changes it. A change recorded before version 3 that needed re-approval does not count until
//!   the `order_approved` of its revision; one that did not need it applies at once.
//! - **On-time delivery (current / original)**: the orders delivered in the month (month of the
//!   delivery date), on time when the delivery date ≤ the current (resp. original) promise;
//!   plus, as never on time, the orders *booked* (see sales) that the company cancelled
//!   (internal cancellation, or one recorded before version 3), in the month of the
//!   cancellation: a promise the company gave up. Orders the customer cancelled are not in it,
//!   nor are orders cancelled before they were booked. Orders not delivered yet are not in it
//!   (see the status board's late list).
//! - **OTIF**: of the orders delivered in the month, those whose acceptance is known (signed
//!   or refused); OTIF when on time against the current promise, signed, and the accepted
//!   quantity equals the ordered quantity (after changes) on every line (tolerance 0). A refused
//!   order is not OTIF.
//! - **Perfect-order rate**: of the orders whose acceptance became known in the month (signed or
//!   refused; month of the sign-off or refusal), those delivered on time against the current
//!   promise, in full (as OTIF), not refused, and with no complaint opened on or before the 30th
//!   day after the delivery date. A month's figure can still fall for 30 days after its last
//!   sign-off, as complaints come in.
//! - **Order cycle time**: `order_signed` minus `order_received`, for orders signed in the month
//!   (month of sign-off). Mean and p90 (nearest rank: the ⌈0.9·n⌉-th smallest), in hours.
//! - **Approval lead time**: first `order_approved` minus `order_received`, for orders approved
//!   in the month; per department: that department's `review_approved` of revision 1 minus
//!   `order_received`, in the month of that approval. Re-approvals after changes are not in it.
//! - **Change rate**: orders received in the month with at least one change ÷ orders received in
//!   the month. A change is a change *request* (`change_requested`, whatever became of it) or a
//!   change recorded before version 3 (`order_changed` without a `request_id`); the
//!   `order_changed` that applies an approved request is the same change, not another.
//! - **Cancellation rate**: orders received in the month that were cancelled ÷ orders received in
//!   the month.
//! - **First-pass yield**: orders whose first `quality_inspected` passed ÷ orders first inspected,
//!   in the month of the first inspection.
//! - **Complaint rate**: complaints opened (reopenings not counted) on the orders delivered in
//!   the month ÷ orders delivered in the month (the delivered orders of on-time delivery,
//!   without the cancelled ones); can exceed 100 %. Complaints on orders never delivered are not in it.
//! - **Time to resolve complaints**: from `complaint_opened` to the resolution in force (the last
//!   `complaint_resolved`, when the complaint was not reopened since), for complaints resolved in
//!   the month; mean and p90 in hours. Reopened complaints count again once resolved again.
//! - **Satisfaction (CSAT)**: every score given in the month — `feedback_recorded`, and the
//!   follow-up visits (`visit_recorded`) that have a score: mean score (1–5) and the share of
//!   scores 4 or 5.
//! - **Visit response rate**: follow-up visits with a score ÷ follow-up visits recorded, in the
//!   month of the visit (a visit without a score: the customer did not answer).
//! - **Review within limit** (a report of its own, [`KpiFacts::review_report`]; per department,
//!   that is per deciding role, and month): reviews decided at or before their due time ÷
//!   reviews decided, in the month of the decision; plus, in the month of their due time and as
//!   not within the limit, the reviews past due undecided. A review is one role's decision on
//!   one revision (`review_approved` / `review_rejected`, due as the revision's
//!   `order_received.review_due_by` says, or for a revision sent to re-approval by a change
//!   recorded before version 3 that change's `review_due`, the same for the four departments)
//!   or on one change request (`change_approved` / `change_declined`, due as the request's
//!   `change_requested.review_due_by` says). Only a role's first decision counts. Past due
//!   undecided: a review that ended without the role's decision after its due time (another
//!   department rejected or declined, the order was cancelled, the request was withdrawn, a
//!   newer revision replaced it); and, when the query gives a time ([`ReviewQuery::now`]), a
//!   review still open and due before it. Without a time, open reviews are not counted and the
//!   report says so. A review that ended undecided before its due time is not counted.
//!   `review_overdue` (the escalation) does not change the figure.
//! - **Late entries**: events entered late (back-dated with `--at` and a reason), counted in the
//!   month of their *effective* time, like every other figure: the month whose figures were
//!   completed after the fact. (The month they were typed in is in the timeline.)
//!
//! With `exclude_late` ([`KpiQuery::exclude_late`], `orderflow kpi --exclude-late`) every order
//! holding at least one late entry is left out of every figure; the report says how many orders
//! that left out of the selection ([`KpiReport::late_orders_excluded`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use orderflow_engine::StoredEvent;
use orderflow_schemas::{
    Channel, Currency, Date, Department, Event, EventBody, EventType, Initiator, InspectionResult, Money,
    OrderId, Role, Timestamp,
};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::runner::{Projection, ProjectionError};
use crate::table::{left, render, right, TableWidth};

const MICROS_PER_HOUR: f64 = 3_600_000_000.0;

/// The facts of one order line.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LineFacts {
    /// Line number.
    pub line_no: u16,
    /// Product code.
    pub sku: String,
    /// Ordered quantity after changes.
    pub ordered: u32,
    /// quantity × unit price, minor units.
    pub amount_minor: i64,
    /// Quantity accepted at sign-off (0 for a line the sign-off does not list); `None` before it.
    pub accepted: Option<u32>,
}

/// The facts of one complaint.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ComplaintFacts {
    /// Number within the order.
    pub complaint_id: u32,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// The resolution in force (cleared by a reopening).
    pub resolved_at: Option<Timestamp>,
    /// How often it was reopened.
    pub reopened: u32,
}

/// One department's review (of a revision, or of a change request) and its deadline.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ReviewFacts {
    /// The deciding role (a department's, or logistics for a change request).
    pub role: Role,
    /// The revision reviewed (for a change request: the revision it would make).
    pub revision: u32,
    /// The change request, when it is a change request's review.
    pub request_id: Option<u32>,
    /// When the decision was due.
    pub due: Timestamp,
    /// When the role decided (approved, rejected or declined).
    pub decided_at: Option<Timestamp>,
    /// When the review ended without this role's decision (another role rejected or declined,
    /// the order was cancelled, the request was withdrawn, a newer revision replaced it).
    pub closed_at: Option<Timestamp>,
}

impl ReviewFacts {
    fn is_open(&self) -> bool {
        self.decided_at.is_none() && self.closed_at.is_none()
    }
}

/// What the KPIs need to know of one order.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OrderFacts {
    /// The customer.
    pub customer: String,
    /// How it came in.
    pub channel: Channel,
    /// Its currency.
    pub currency: Currency,
    /// When it was received.
    pub received_at: Timestamp,
    /// Current lines.
    pub lines: Vec<LineFacts>,
    /// Current total, minor units.
    pub total_minor: i64,
    /// The lines and total of the revision last approved (what sales counts): `None` before an
    /// approval. A change that needs re-approval does not move them until it is approved.
    pub approved: Option<(Vec<LineFacts>, i64)>,
    /// When a department's rejection rejected the order.
    pub rejected_at: Option<Timestamp>,
    /// Requested date at receipt.
    pub requested_at_receipt: Date,
    /// Current requested date, as the customer's changes left it.
    pub requested_date: Date,
    /// The promised date of the first `order_confirmed`.
    pub original_promise: Option<Date>,
    /// The current promise: the first confirmation's, moved only by the customer's changes.
    pub current_promise: Option<Date>,
    /// First `order_approved` or `order_confirmed`.
    pub booked_at: Option<Timestamp>,
    /// First `order_approved`.
    pub approved_at: Option<Timestamp>,
    /// Each department's approval of revision 1.
    pub department_approved_at: Vec<(Department, Timestamp)>,
    /// Number of changes: change requests, and `order_changed` recorded before version 3.
    pub changes: u32,
    /// When it was cancelled.
    pub cancelled_at: Option<Timestamp>,
    /// The first inspection.
    pub first_inspection: Option<(Timestamp, InspectionResult)>,
    /// `order_delivered`.
    pub delivered_at: Option<Timestamp>,
    /// `order_signed`.
    pub signed_at: Option<Timestamp>,
    /// `order_refused`.
    pub refused_at: Option<Timestamp>,
    /// Complaints.
    pub complaints: Vec<ComplaintFacts>,
    /// Satisfaction scores with their time.
    pub feedback: Vec<(Timestamp, u8)>,
    /// Follow-up visits with their time and score (`None`: the customer did not answer).
    pub visits: Vec<(Timestamp, Option<u8>)>,
    /// Whether the cancellation was the customer's (`initiated_by` customer); a cancellation
    /// recorded before version 3 (no `initiated_by`) counts as internal.
    pub cancelled_by_customer: bool,
    /// Every department review of a revision or of a change request, with its due time.
    pub reviews: Vec<ReviewFacts>,
    /// The effective times of the events entered late.
    pub late_entries: Vec<Timestamp>,
}

fn invalid(detail: String) -> ProjectionError {
    ProjectionError::Invalid { detail }
}

impl OrderFacts {
    fn received(order: OrderId, event: &Event) -> Result<Self, ProjectionError> {
        let EventBody::OrderReceived(r) = &event.body else {
            return Err(ProjectionError::UnknownOrder { order });
        };
        Ok(Self {
            customer: r.customer.clone(),
            channel: r.channel,
            currency: r.currency,
            received_at: event.at,
            lines: lines_of(&r.lines),
            total_minor: r.total_minor,
            approved: None,
            rejected_at: None,
            requested_at_receipt: r.requested_date,
            requested_date: r.requested_date,
            original_promise: None,
            current_promise: None,
            booked_at: None,
            approved_at: None,
            department_approved_at: Vec::new(),
            changes: 0,
            cancelled_at: None,
            first_inspection: None,
            delivered_at: None,
            signed_at: None,
            refused_at: None,
            complaints: Vec::new(),
            feedback: Vec::new(),
            visits: Vec::new(),
            cancelled_by_customer: false,
            reviews: r
                .review_due_by
                .iter()
                .map(|d| ReviewFacts {
                    role: d.role,
                    revision: 1,
                    request_id: None,
                    due: d.due,
                    decided_at: None,
                    closed_at: None,
                })
                .collect(),
            late_entries: event.late.iter().map(|_| event.at).collect(),
        })
    }

    fn apply(&mut self, order: OrderId, event: &Event) -> Result<(), ProjectionError> {
        let at = event.at;
        let late = event.late.is_some();
        self.apply_body(order, event)?;
        if late {
            self.late_entries.push(at);
        }
        Ok(())
    }

    /// The lines sales counts: those of the approved revision (the current ones for an order
    /// booked by its confirmation alone).
    pub fn sales_lines(&self) -> &[LineFacts] {
        self.approved.as_ref().map_or(&self.lines, |(lines, _)| lines)
    }

    /// The total sales counts: that of the approved revision.
    pub fn sales_total(&self) -> i64 {
        self.approved.as_ref().map_or(self.total_minor, |(_, total)| *total)
    }

    /// Whether any event of the order was entered late.
    pub fn has_late_entries(&self) -> bool {
        !self.late_entries.is_empty()
    }

    fn apply_body(&mut self, order: OrderId, event: &Event) -> Result<(), ProjectionError> {
        let at = event.at;
        match &event.body {
            EventBody::OrderReceived(_) => {
                return Err(invalid(format!("order {order} received a second time")))
            }
            EventBody::ReviewApproved(r) => {
                if r.revision == 1 && !self.department_approved_at.iter().any(|(d, _)| *d == r.department) {
                    self.department_approved_at.push((r.department, at));
                }
                self.decide(r.department.role(), r.revision, None, at);
            }
            EventBody::ReviewRejected(r) => self.decide(r.department.role(), r.revision, None, at),
            EventBody::OrderApproved(_) => {
                self.approved_at = self.approved_at.or(Some(at));
                self.booked_at = self.booked_at.or(Some(at));
                self.approved = Some((self.lines.clone(), self.total_minor));
            }
            EventBody::OrderRejected(_) => {
                self.rejected_at = self.rejected_at.or(Some(at));
                self.close_reviews(at, |_| true);
            }
            EventBody::OrderConfirmed(c) => {
                // The promise is the first confirmation's; a re-confirmation does not move it.
                if self.original_promise.is_none() {
                    self.original_promise = Some(c.promised_date);
                    self.current_promise = Some(c.promised_date);
                }
                self.booked_at = self.booked_at.or(Some(at));
            }
            EventBody::OrderChanged(c) => {
                self.lines = lines_of(&c.lines);
                self.total_minor = c.total_minor;
                match c.request_id {
                    // An approved change request: the new revision is the approved one at once
                    // (its request was counted as a change when it was made).
                    Some(id) => {
                        self.approved = Some((self.lines.clone(), self.total_minor));
                        self.close_reviews(at, |r| r.request_id == Some(id));
                    }
                    // A change of before version 3: counted here; it took effect at once and,
                    // when re-approval was required, sent the new revision to review.
                    None => {
                        self.changes += 1;
                        if !c.reapproval_required && self.approved.is_some() {
                            self.approved = Some((self.lines.clone(), self.total_minor));
                        }
                        if c.reapproval_required {
                            self.close_reviews(at, |r| r.request_id.is_none());
                            self.reviews.extend(c.review_due_by.iter().map(|d| ReviewFacts {
                                role: d.role,
                                revision: c.revision,
                                request_id: None,
                                due: d.due,
                                decided_at: None,
                                closed_at: None,
                            }));
                        }
                    }
                }
                // Only the customer's changes move the promise (and the requested date it falls
                // back on); a change recorded before version 3 was the customer's.
                if c.initiated_by != Some(Initiator::Internal) {
                    self.requested_date = c.requested_date;
                    if c.promised_date.is_some() {
                        self.current_promise = c.promised_date;
                    }
                }
            }
            EventBody::OrderCancelled(c) => {
                if self.cancelled_at.is_none() {
                    self.cancelled_at = Some(at);
                    self.cancelled_by_customer = c.initiated_by == Some(Initiator::Customer);
                }
                self.close_reviews(at, |_| true);
            }
            EventBody::ChangeRequested(c) => {
                self.changes += 1;
                self.reviews.extend(c.review_due_by.iter().map(|d| ReviewFacts {
                    role: d.role,
                    revision: c.revision,
                    request_id: Some(c.request_id),
                    due: d.due,
                    decided_at: None,
                    closed_at: None,
                }));
            }
            EventBody::ChangeApproved(c) => self.decide(c.role, 0, Some(c.request_id), at),
            EventBody::ChangeDeclined(c) => {
                self.decide(c.role, 0, Some(c.request_id), at);
                self.close_reviews(at, |r| r.request_id == Some(c.request_id));
            }
            EventBody::ChangeWithdrawn(c) => self.close_reviews(at, |r| r.request_id == Some(c.request_id)),
            EventBody::VisitRecorded(v) => {
                if v.score.is_some_and(|s| !(1..=5).contains(&s)) {
                    return Err(invalid(format!(
                        "visit score {} of order {order} is not 1-5",
                        v.score.unwrap_or_default()
                    )));
                }
                self.visits.push((at, v.score));
            }
            // Issue 14: the shipment helper counts shipments (fill rate at the first one).
            EventBody::ShipmentDispatched(_) => {}
            EventBody::QualityInspected(q) => {
                self.first_inspection = self.first_inspection.or(Some((at, q.result)))
            }
            EventBody::OrderDelivered(_) => self.delivered_at = self.delivered_at.or(Some(at)),
            EventBody::OrderSigned(s) => {
                self.signed_at = Some(at);
                for line in &mut self.lines {
                    line.accepted = Some(
                        s.accepted.iter().filter(|q| q.line_no == line.line_no).map(|q| q.quantity).sum(),
                    );
                }
            }
            EventBody::OrderRefused(_) => self.refused_at = Some(at),
            EventBody::ComplaintOpened(c) => {
                if self.complaints.iter().any(|x| x.complaint_id == c.complaint_id) {
                    return Err(invalid(format!(
                        "complaint {} of order {order} opened twice",
                        c.complaint_id
                    )));
                }
                self.complaints.push(ComplaintFacts {
                    complaint_id: c.complaint_id,
                    opened_at: at,
                    resolved_at: None,
                    reopened: 0,
                });
            }
            EventBody::ComplaintResolved(c) => self.complaint(order, c.complaint_id)?.resolved_at = Some(at),
            EventBody::ComplaintReopened(c) => {
                let x = self.complaint(order, c.complaint_id)?;
                x.resolved_at = None;
                x.reopened += 1;
            }
            EventBody::FeedbackRecorded(f) => {
                if !(1..=5).contains(&f.score) {
                    return Err(invalid(format!(
                        "satisfaction score {} of order {order} is not 1-5",
                        f.score
                    )));
                }
                self.feedback.push((at, f.score));
            }
            EventBody::ProductionScheduled(_)
            | EventBody::ReviewOverdue(_)
            | EventBody::ComplaintUpdated(_)
            | EventBody::ProductionCompleted(_)
            | EventBody::OrderShipped(_)
            | EventBody::ShipmentDelayed(_)
            | EventBody::OrderClosed(_)
            | EventBody::ArchiveHoldPlaced(_)
            | EventBody::ArchiveHoldReleased(_)
            | EventBody::ArchiveAccessed(_)
            | EventBody::ArchiveAccessRefused(_) => {}
            EventBody::UserAdded(_)
            | EventBody::RoleGranted(_)
            | EventBody::RoleRevoked(_)
            | EventBody::UserDisabled(_)
            | EventBody::UserEnabled(_)
            | EventBody::CredentialChanged(_) => {
                return Err(invalid(format!("a user directory event in the stream of order {order}")))
            }
        }
        Ok(())
    }

    /// Records `role`'s decision on its open review of `revision` (or of change request
    /// `request`, whatever its revision); a second decision, or one without a review, is not a
    /// new review.
    fn decide(&mut self, role: Role, revision: u32, request: Option<u32>, at: Timestamp) {
        if let Some(r) = self.reviews.iter_mut().find(|r| {
            r.is_open()
                && r.role == role
                && r.request_id == request
                && (request.is_some() || r.revision == revision)
        }) {
            r.decided_at = Some(at);
        }
    }

    /// Ends the open reviews that `which` picks without a decision.
    fn close_reviews(&mut self, at: Timestamp, which: impl Fn(&ReviewFacts) -> bool) {
        for r in self.reviews.iter_mut().filter(|r| r.is_open() && which(r)) {
            r.closed_at = Some(at);
        }
    }

    /// Whether a complaint was opened on or before the 30th day after the delivery date.
    pub fn complaint_within_30_days(&self) -> bool {
        let Some(delivered) = self.delivery_date() else { return false };
        self.complaints.iter().any(|c| c.opened_at.date() <= delivered.plus_days(30))
    }

    fn complaint(&mut self, order: OrderId, id: u32) -> Result<&mut ComplaintFacts, ProjectionError> {
        self.complaints
            .iter_mut()
            .find(|c| c.complaint_id == id)
            .ok_or_else(|| invalid(format!("order {order} has no complaint {id}")))
    }

    /// The delivery date: `order_delivered`'s calendar date, else `order_signed`'s.
    pub fn delivery_date(&self) -> Option<Date> {
        self.delivered_at.or(self.signed_at).map(Timestamp::date)
    }

    /// The current promise, or the current requested date when never confirmed.
    pub fn promise_current(&self) -> Date {
        self.current_promise.unwrap_or(self.requested_date)
    }

    /// The original promise, or the requested date at receipt when never confirmed.
    pub fn promise_original(&self) -> Date {
        self.original_promise.unwrap_or(self.requested_at_receipt)
    }

    /// Signed with every line's accepted quantity equal to its ordered quantity.
    pub fn in_full(&self) -> bool {
        self.signed_at.is_some() && self.lines.iter().all(|l| l.accepted == Some(l.ordered))
    }
}

fn lines_of(lines: &[orderflow_schemas::OrderLine]) -> Vec<LineFacts> {
    lines
        .iter()
        .map(|l| LineFacts {
            line_no: l.line_no,
            sku: l.sku.clone(),
            ordered: l.quantity,
            amount_minor: l.amount_minor().unwrap_or(i64::MAX),
            accepted: None,
        })
        .collect()
}

/// The KPI view: per-order facts.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct KpiFacts {
    orders: HashMap<OrderId, OrderFacts>,
}

impl Projection for KpiFacts {
    const NAME: &'static str = "kpi";
    /// 2: the late entries of each order; 3: the approved revision and the rejection; 4: the
    /// reviews with their deadlines, visits, who cancelled, the promise moved by customer
    /// changes only, change requests counted as changes.
    const VIEW_VERSION: u32 = 4;

    /// Every type: any event may be a late entry. (Archive reads are recorded at the time they
    /// happen and cannot be late.)
    fn folds(t: EventType) -> bool {
        !matches!(t.name, "archive_accessed" | "archive_access_refused")
    }

    fn apply(&mut self, stored: &StoredEvent, event: &Event) -> Result<(), ProjectionError> {
        if !event.body.is_order() {
            return Ok(()); // the user directory's stream: not an order
        }
        let order = OrderId(stored.stream);
        match self.orders.get_mut(&order) {
            Some(f) => f.apply(order, event),
            None => {
                let f = OrderFacts::received(order, event)?;
                self.orders.insert(order, f);
                Ok(())
            }
        }
    }
}

/// What the rows of a report are grouped by, besides the month.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// One row per month (key `*`).
    Month,
    /// Per month and customer.
    Customer,
    /// Per month and SKU.
    Sku,
    /// Per month and channel.
    Channel,
}

impl Group {
    /// The header of the key column.
    fn key_header(self) -> &'static str {
        match self {
            Group::Month => "MONTH",
            Group::Customer => "CUSTOMER",
            Group::Sku => "SKU",
            Group::Channel => "CHANNEL",
        }
    }
}

impl std::str::FromStr for Group {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "month" => Ok(Group::Month),
            "customer" => Ok(Group::Customer),
            "sku" | "product" => Ok(Group::Sku),
            "channel" => Ok(Group::Channel),
            _ => Err(format!("'{s}' is not a grouping; expected one of: month, customer, sku, channel")),
        }
    }
}

/// Which KPIs to compute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KpiQuery {
    /// The grouping.
    pub group: Group,
    /// First month (`YYYY-MM`, inclusive).
    pub from_month: Option<String>,
    /// Last month (`YYYY-MM`, inclusive).
    pub to_month: Option<String>,
    /// Leave out every order with a late entry.
    pub exclude_late: bool,
}

/// A count out of a population.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Ratio {
    /// How many meet the condition.
    pub num: u64,
    /// The population.
    pub den: u64,
}

impl Ratio {
    /// `num / den`, `None` for an empty population.
    pub fn rate(&self) -> Option<f64> {
        (self.den > 0).then(|| self.num as f64 / self.den as f64)
    }

    fn count(&mut self, hit: bool) {
        self.den += 1;
        self.num += u64::from(hit);
    }

    fn cell(&self) -> String {
        match self.rate() {
            None => "-".into(),
            Some(r) => format!("{:.1}% {}/{}", r * 100.0, self.num, self.den),
        }
    }
}

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Ratio", 3)?;
        st.serialize_field("num", &self.num)?;
        st.serialize_field("den", &self.den)?;
        st.serialize_field("pct", &self.rate().map(|r| round2(r * 100.0)))?;
        st.end()
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Count, mean and p90 of durations.
#[derive(Clone, Copy, PartialEq, Debug, Default, Serialize)]
pub struct DurationStats {
    /// How many.
    pub n: u64,
    /// Mean, microseconds (rounded).
    pub mean_us: Option<i64>,
    /// p90 by nearest rank, microseconds.
    pub p90_us: Option<i64>,
    /// Mean in hours (2 decimals).
    pub mean_hours: Option<f64>,
    /// p90 in hours (2 decimals).
    pub p90_hours: Option<f64>,
}

impl DurationStats {
    fn of(mut v: Vec<i64>) -> Self {
        if v.is_empty() {
            return Self::default();
        }
        v.sort_unstable();
        let n = v.len();
        let sum: i128 = v.iter().map(|&x| i128::from(x)).sum();
        let n128 = i128::try_from(n).unwrap_or(i128::MAX);
        let mean = i64::try_from((sum + n128 / 2).div_euclid(n128)).unwrap_or(i64::MAX);
        let rank = (9 * n).div_ceil(10).max(1);
        let p90 = v[rank - 1];
        Self {
            n: n as u64,
            mean_us: Some(mean),
            p90_us: Some(p90),
            mean_hours: Some(round2(mean as f64 / MICROS_PER_HOUR)),
            p90_hours: Some(round2(p90 as f64 / MICROS_PER_HOUR)),
        }
    }

    fn cell(&self) -> String {
        match (self.mean_us, self.p90_us) {
            (Some(m), Some(p)) => {
                format!("{:.1}/{:.1} n{}", m as f64 / MICROS_PER_HOUR, p as f64 / MICROS_PER_HOUR, self.n)
            }
            _ => "-".into(),
        }
    }
}

/// Satisfaction figures.
#[derive(Clone, Copy, PartialEq, Debug, Default, Serialize)]
pub struct Satisfaction {
    /// Responses.
    pub responses: u64,
    /// Sum of scores.
    pub score_sum: u64,
    /// Mean score (2 decimals).
    pub mean_score: Option<f64>,
    /// Scores 4 or 5 out of the responses.
    pub share_4_5: Ratio,
}

impl Satisfaction {
    fn add(&mut self, score: u8) {
        self.responses += 1;
        self.score_sum += u64::from(score);
        self.share_4_5.count(score >= 4);
        self.mean_score = Some(round2(self.score_sum as f64 / self.responses as f64));
    }

    fn cell(&self) -> String {
        match self.mean_score {
            None => "-".into(),
            Some(m) => format!("{m:.2} {}", self.share_4_5.cell()),
        }
    }
}

/// The KPIs of one month and key.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct KpiRow {
    /// `YYYY-MM`.
    pub month: String,
    /// The customer, SKU or channel; `*` when grouped by month only.
    pub key: String,
    /// Orders received.
    pub orders_received: u64,
    /// Sales amount per currency, minor units.
    pub sales_minor: BTreeMap<Currency, i64>,
    /// On-time delivery against the current promise.
    pub otd_current: Ratio,
    /// On-time delivery against the original promise.
    pub otd_original: Ratio,
    /// On time in full.
    pub otif: Ratio,
    /// Perfect orders: on time, in full, not refused, no complaint within 30 days of delivery.
    pub perfect_order: Ratio,
    /// Order cycle time (received → signed).
    pub cycle_time: DurationStats,
    /// Approval lead time (received → approved).
    pub approval_lead_time: DurationStats,
    /// Approval lead time per department (received → its approval of revision 1).
    pub approval_lead_time_by_department: BTreeMap<Department, DurationStats>,
    /// Change rate.
    pub change_rate: Ratio,
    /// Cancellation rate.
    pub cancellation_rate: Ratio,
    /// First-pass quality yield.
    pub first_pass_yield: Ratio,
    /// Complaints ÷ delivered orders.
    pub complaint_rate: Ratio,
    /// Time to resolve complaints.
    pub resolve_time: DurationStats,
    /// Customer satisfaction (feedback and visit scores).
    pub satisfaction: Satisfaction,
    /// Follow-up visits with a score ÷ visits recorded.
    pub visit_response_rate: Ratio,
    /// Events entered late, effective in the month.
    pub late_entries: u64,
}

#[derive(Default)]
struct Acc {
    orders_received: u64,
    sales: BTreeMap<Currency, i64>,
    otd_current: Ratio,
    otd_original: Ratio,
    otif: Ratio,
    perfect: Ratio,
    cycle: Vec<i64>,
    approval: Vec<i64>,
    approval_by_department: BTreeMap<Department, Vec<i64>>,
    change_rate: Ratio,
    cancellation_rate: Ratio,
    fpy: Ratio,
    complaint_rate: Ratio,
    resolve: Vec<i64>,
    satisfaction: Satisfaction,
    visit_response: Ratio,
    late_entries: u64,
}

/// A computed KPI report.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct KpiReport {
    /// The grouping.
    pub group: Group,
    /// Rows by month, then key.
    pub rows: Vec<KpiRow>,
    /// Whether orders with late entries were left out ([`KpiQuery::exclude_late`]).
    pub exclude_late: bool,
    /// How many such orders were left out that had a figure in the selected months.
    pub late_orders_excluded: u64,
}

impl KpiFacts {
    /// Number of orders.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// Whether there is no order.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// One order's facts.
    pub fn get(&self, order: OrderId) -> Option<&OrderFacts> {
        self.orders.get(&order)
    }

    /// Computes the report (see the module documentation for each definition).
    pub fn report(&self, query: &KpiQuery) -> KpiReport {
        let mut buckets: BTreeMap<(String, String), Acc> = BTreeMap::new();
        let in_range = |m: &str| {
            query.from_month.as_deref().is_none_or(|f| m >= f)
                && query.to_month.as_deref().is_none_or(|t| m <= t)
        };
        let mut late_orders_excluded = 0u64;
        for f in self.orders.values() {
            if query.exclude_late && f.has_late_entries() {
                let mut counted = false;
                add_order(f, f.total_minor, &mut |t: Date, _: &mut dyn FnMut(&mut Acc)| {
                    counted |= in_range(&t.month());
                });
                late_orders_excluded += u64::from(counted);
                continue;
            }
            let keys: Vec<String> = match query.group {
                Group::Month => vec!["*".into()],
                Group::Customer => vec![f.customer.clone()],
                Group::Channel => vec![f.channel.to_string()],
                Group::Sku => {
                    f.lines.iter().map(|l| l.sku.clone()).collect::<BTreeSet<_>>().into_iter().collect()
                }
            };
            for key in keys {
                let mut at = |t: Date, apply: &mut dyn FnMut(&mut Acc)| {
                    let month = t.month();
                    if in_range(&month) {
                        apply(buckets.entry((month, key.clone())).or_default());
                    }
                };
                let amount = match query.group {
                    Group::Sku => f
                        .sales_lines()
                        .iter()
                        .filter(|l| l.sku == key)
                        .fold(0i64, |s, l| s.saturating_add(l.amount_minor)),
                    _ => f.sales_total(),
                };
                add_order(f, amount, &mut at);
            }
        }
        let rows = buckets.into_iter().map(|((month, key), acc)| finish(month, key, acc)).collect();
        KpiReport { group: query.group, rows, exclude_late: query.exclude_late, late_orders_excluded }
    }
}

/// Hands the bucket of a date's month (within the query's range) to a closure.
type Bucketer<'a> = dyn FnMut(Date, &mut dyn FnMut(&mut Acc)) + 'a;

/// Adds one order's facts (with `amount` as its sales value) to the buckets `at` hands out.
fn add_order(f: &OrderFacts, amount: i64, at: &mut Bucketer<'_>) {
    let received = f.received_at;
    at(received.date(), &mut |a| {
        a.orders_received += 1;
        a.change_rate.count(f.changes > 0);
        a.cancellation_rate.count(f.cancelled_at.is_some());
    });
    if let (Some(booked), None, None) = (f.booked_at, f.cancelled_at, f.rejected_at) {
        at(booked.date(), &mut |a| {
            let sum = a.sales.entry(f.currency).or_default();
            *sum = sum.saturating_add(amount);
        });
    }
    if let (Some(delivered), None) = (f.delivery_date(), f.cancelled_at) {
        let on_time = delivered <= f.promise_current();
        at(delivered, &mut |a| {
            a.otd_current.count(on_time);
            a.otd_original.count(delivered <= f.promise_original());
            if f.signed_at.is_some() || f.refused_at.is_some() {
                a.otif.count(on_time && f.in_full());
            }
            a.complaint_rate.den += 1;
            a.complaint_rate.num += f.complaints.len() as u64;
        });
    }
    // A booked order the company cancelled was not delivered as promised; one the customer
    // cancelled is not in the population.
    if let (Some(cancelled), Some(_), false) = (f.cancelled_at, f.booked_at, f.cancelled_by_customer) {
        if f.delivery_date().is_none() {
            at(cancelled.date(), &mut |a| {
                a.otd_current.count(false);
                a.otd_original.count(false);
            });
        }
    }
    if let Some(known) = f.signed_at.or(f.refused_at) {
        let perfect = f.refused_at.is_none()
            && f.delivery_date().is_some_and(|d| d <= f.promise_current())
            && f.in_full()
            && !f.complaint_within_30_days();
        at(known.date(), &mut |a| a.perfect.count(perfect));
    }
    if let Some(signed) = f.signed_at {
        at(signed.date(), &mut |a| a.cycle.push(signed.0 - received.0));
    }
    if let Some(approved) = f.approved_at {
        at(approved.date(), &mut |a| a.approval.push(approved.0 - received.0));
    }
    for &(department, t) in &f.department_approved_at {
        at(t.date(), &mut |a| a.approval_by_department.entry(department).or_default().push(t.0 - received.0));
    }
    if let Some((t, result)) = f.first_inspection {
        at(t.date(), &mut |a| a.fpy.count(result == InspectionResult::Pass));
    }
    for c in &f.complaints {
        if let Some(resolved) = c.resolved_at {
            at(resolved.date(), &mut |a| a.resolve.push(resolved.0 - c.opened_at.0));
        }
    }
    for &(t, score) in &f.feedback {
        at(t.date(), &mut |a| a.satisfaction.add(score));
    }
    for &(t, score) in &f.visits {
        at(t.date(), &mut |a| {
            a.visit_response.count(score.is_some());
            if let Some(score) = score {
                a.satisfaction.add(score);
            }
        });
    }
    for &t in &f.late_entries {
        at(t.date(), &mut |a| a.late_entries += 1);
    }
}

fn finish(month: String, key: String, a: Acc) -> KpiRow {
    KpiRow {
        month,
        key,
        orders_received: a.orders_received,
        sales_minor: a.sales,
        otd_current: a.otd_current,
        otd_original: a.otd_original,
        otif: a.otif,
        perfect_order: a.perfect,
        cycle_time: DurationStats::of(a.cycle),
        approval_lead_time: DurationStats::of(a.approval),
        approval_lead_time_by_department: a
            .approval_by_department
            .into_iter()
            .map(|(d, v)| (d, DurationStats::of(v)))
            .collect(),
        change_rate: a.change_rate,
        cancellation_rate: a.cancellation_rate,
        first_pass_yield: a.fpy,
        complaint_rate: a.complaint_rate,
        resolve_time: DurationStats::of(a.resolve),
        satisfaction: a.satisfaction,
        visit_response_rate: a.visit_response,
        late_entries: a.late_entries,
    }
}

impl KpiReport {
    /// The report as a text table fitting `width` (see [`TableWidth`]): too wide for it, the
    /// figures are stacked in blocks, each led by the month (and key); one line per currency of sales. Durations are
    /// `mean/p90 nN` in hours; ratios `pct num/den`; `-` where the population is empty; LATE
    /// counts the late entries. An empty report says so. With late orders left out, a last line
    /// says how many.
    pub fn render_table(&self, width: TableWidth) -> String {
        let note = match (self.exclude_late, self.late_orders_excluded) {
            (false, _) => String::new(),
            (true, 0) => "no order with a late entry in this selection\n".into(),
            (true, n) => format!("{n} order(s) with late entries left out\n"),
        };
        if self.rows.is_empty() {
            return format!("no KPI figures for this selection\n{note}");
        }
        let by_key = self.group != Group::Month;
        let mut columns = vec![left("MONTH").key()];
        if by_key {
            columns.push(left(self.group.key_header()).key().wrap());
        }
        columns.extend([
            right("RECV"),
            right("SALES"),
            right("OTD"),
            right("OTD-ORIG"),
            right("OTIF"),
            right("PERFECT"),
            right("CYCLE h"),
            right("APPROVAL h"),
            right("CHANGE"),
            right("CANCEL"),
            right("FPY"),
            right("COMPLAINTS"),
            right("RESOLVE h"),
            right("CSAT"),
            right("VISIT RESP"),
            right("LATE"),
        ]);
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                let sales: Vec<String> = r
                    .sales_minor
                    .iter()
                    .map(|(c, m)| Money { minor: *m, currency: *c }.to_string())
                    .collect();
                let mut row = vec![r.month.clone()];
                if by_key {
                    row.push(r.key.clone());
                }
                row.extend([
                    r.orders_received.to_string(),
                    if sales.is_empty() { "-".into() } else { sales.join("\n") },
                    r.otd_current.cell(),
                    r.otd_original.cell(),
                    r.otif.cell(),
                    r.perfect_order.cell(),
                    r.cycle_time.cell(),
                    r.approval_lead_time.cell(),
                    r.change_rate.cell(),
                    r.cancellation_rate.cell(),
                    r.first_pass_yield.cell(),
                    r.complaint_rate.cell(),
                    r.resolve_time.cell(),
                    r.satisfaction.cell(),
                    r.visit_response_rate.cell(),
                    r.late_entries.to_string(),
                ]);
                row
            })
            .collect();
        render(&columns, &cells, width) + &note
    }

    /// The report as JSON.
    pub fn render_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Which review-within-limit figures to compute ([`KpiFacts::review_report`]).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ReviewQuery {
    /// First month (`YYYY-MM`, inclusive).
    pub from_month: Option<String>,
    /// Last month (`YYYY-MM`, inclusive).
    pub to_month: Option<String>,
    /// Leave out every order with a late entry.
    pub exclude_late: bool,
    /// The time open reviews are judged at: an open review due before it counts as not within
    /// its limit. `None`: open reviews are not counted (only decided ones, and those that ended
    /// undecided after their due time).
    pub now: Option<Timestamp>,
}

/// Review-within-limit figures of one month and department (role).
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ReviewRow {
    /// `YYYY-MM`.
    pub month: String,
    /// The deciding role (a department's, or logistics for change requests).
    pub role: Role,
    /// Reviews decided in the month.
    pub decided: u64,
    /// Of those, decided at or before their due time.
    pub decided_within_limit: u64,
    /// Reviews due in the month and past due undecided: still open at `now`, or ended without
    /// this role's decision after their due time.
    pub undecided_past_due: u64,
    /// Within limit ÷ (decided + undecided past due).
    pub within_limit: Ratio,
}

/// The review-within-limit report: per month and department.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ReviewReport {
    /// Rows by month, then role.
    pub rows: Vec<ReviewRow>,
    /// The time open reviews were judged at; `None`: open reviews were not counted.
    pub now: Option<Timestamp>,
    /// Whether orders with late entries were left out.
    pub exclude_late: bool,
}

impl KpiFacts {
    /// The review-within-limit rate per department (role) and month (see the module
    /// documentation).
    pub fn review_report(&self, query: &ReviewQuery) -> ReviewReport {
        let in_range = |m: &str| {
            query.from_month.as_deref().is_none_or(|f| m >= f)
                && query.to_month.as_deref().is_none_or(|t| m <= t)
        };
        let mut buckets: BTreeMap<(String, Role), (u64, u64, u64)> = BTreeMap::new();
        for f in self.orders.values() {
            if query.exclude_late && f.has_late_entries() {
                continue;
            }
            for r in &f.reviews {
                let (month, decided, within, past_due) = match (r.decided_at, r.closed_at) {
                    (Some(t), _) => (t.date().month(), 1, u64::from(t <= r.due), 0),
                    (None, Some(closed)) if closed > r.due => (r.due.date().month(), 0, 0, 1),
                    (None, None) if query.now.is_some_and(|now| now > r.due) => {
                        (r.due.date().month(), 0, 0, 1)
                    }
                    _ => continue,
                };
                if !in_range(&month) {
                    continue;
                }
                let b = buckets.entry((month, r.role)).or_default();
                b.0 += decided;
                b.1 += within;
                b.2 += past_due;
            }
        }
        let rows = buckets
            .into_iter()
            .map(|((month, role), (decided, within, past_due))| ReviewRow {
                month,
                role,
                decided,
                decided_within_limit: within,
                undecided_past_due: past_due,
                within_limit: Ratio { num: within, den: decided + past_due },
            })
            .collect();
        ReviewReport { rows, now: query.now, exclude_late: query.exclude_late }
    }
}

impl ReviewReport {
    /// The report as a text table fitting `width`: per month and department, the share of
    /// reviews within their limit (`pct num/den`), the reviews decided, those decided in time
    /// and those past due undecided. A last line says how open reviews were judged.
    pub fn render_table(&self, width: TableWidth) -> String {
        let note = match self.now {
            Some(now) => format!("open reviews judged at {}\n", now.to_minute()),
            None => "open reviews not counted (no time given)\n".into(),
        };
        if self.rows.is_empty() {
            return format!("no review figures for this selection\n{note}");
        }
        let columns = [
            left("MONTH").key(),
            left("DEPARTMENT").key(),
            right("WITHIN LIMIT"),
            right("DECIDED"),
            right("IN TIME"),
            right("UNDECIDED LATE"),
        ];
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.month.clone(),
                    r.role.as_str().replace('_', " "),
                    r.within_limit.cell(),
                    r.decided.to_string(),
                    r.decided_within_limit.to_string(),
                    r.undecided_past_due.to_string(),
                ]
            })
            .collect();
        render(&columns, &cells, width) + &note
    }

    /// The report as JSON.
    pub fn render_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
