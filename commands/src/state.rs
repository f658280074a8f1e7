//! The folded state of one order, and `evolve`, which applies a recorded event to it.
//!
//! `evolve` holds no rules and cannot fail: it records what an event says. Progress (the
//! status) is derived from the recorded facts on demand and never stored beside them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use orderflow_schemas::{
    Actor, ChangeRequested, Channel, ComplaintCategory, ConfirmMethod, Currency, Date, DeliveryMode,
    Department, Event, EventBody, Initiator, InspectionResult, LineQuantity, OrderId, OrderLine, Role,
    RoleDue, Severity, ShipMode, StatusFold, Timestamp,
};

/// A department's decision on a revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
        })
    }
}

/// Where the order stands: the one vocabulary of order states (`orderflow_schemas::OrderStatus`),
/// derived by the same fold the status board uses.
pub use orderflow_schemas::OrderStatus as Status;

/// The latest late entry of an order: an event whose effective time was set back (`--at`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LateFact {
    /// The reason given.
    pub reason: String,
    /// The effective time it was entered for.
    pub at: Timestamp,
    /// Who entered it.
    pub actor: Actor,
}

/// A department's rejection, which rejected the order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewRejection {
    /// The department.
    pub department: Department,
    /// The revision rejected.
    pub revision: u32,
    /// Why.
    pub reason: String,
}

/// Production of the order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Production {
    /// The planned finish date (the latest plan).
    pub planned_finish: Date,
    /// Inspections recorded.
    pub inspections: u32,
    /// The latest inspection result.
    pub last_inspection: Option<InspectionResult>,
    /// Whether production finished.
    pub completed: bool,
}

/// The shipment of the order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shipment {
    /// When it left.
    pub shipped_at: Timestamp,
    /// The carrier.
    pub carrier: String,
    /// Transport mode.
    pub mode: ShipMode,
    /// Tracking number.
    pub tracking_number: String,
    /// The current expected arrival.
    pub eta: Date,
    /// The expected arrival given when shipping.
    pub first_eta: Date,
    /// Delay reports recorded.
    pub delays: u32,
    /// Quantity shipped per line.
    pub lines: Vec<LineQuantity>,
}

impl Shipment {
    /// The shipped quantity of a line (0 when the line was not shipped).
    pub fn quantity(&self, line_no: u16) -> u32 {
        self.lines.iter().find(|l| l.line_no == line_no).map_or(0, |l| l.quantity)
    }
}

/// The customer's sign-off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignOff {
    /// When.
    pub signed_at: Timestamp,
    /// Who signed at the customer.
    pub signed_by: String,
    /// Quantity accepted per line.
    pub accepted: Vec<LineQuantity>,
    /// Whether every shipped unit was accepted.
    pub full: bool,
}

/// One department's decision on one revision, as recorded: who, when, with what note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewRecord {
    /// The revision decided.
    pub revision: u32,
    /// The department.
    pub department: Department,
    /// Approved or rejected.
    pub decision: Decision,
    /// Who decided (the login).
    pub by: String,
    /// Who decided: the user and the role.
    pub actor: Actor,
    /// When (effective time).
    pub at: Timestamp,
    /// The note of an approval, the reason of a rejection.
    pub note: String,
}

/// The customer's refusal of the delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// When.
    pub refused_at: Timestamp,
    /// Who refused at the customer.
    pub refused_by: String,
    /// Why.
    pub reason: String,
}

/// Where a complaint stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComplaintStatus {
    /// Opened, not resolved.
    Open,
    /// Resolved.
    Resolved {
        /// Whether the customer was satisfied with the resolution.
        customer_satisfied: bool,
    },
    /// Resolved, then reopened.
    Reopened,
}

impl ComplaintStatus {
    /// Open or reopened: work remains.
    pub fn is_open(self) -> bool {
        matches!(self, ComplaintStatus::Open | ComplaintStatus::Reopened)
    }
}

/// An after-sales complaint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Complaint {
    /// What it is about.
    pub category: ComplaintCategory,
    /// How serious.
    pub severity: Severity,
    /// Where it stands.
    pub status: ComplaintStatus,
    /// Who follows it up (a login); `None` for a complaint recorded before assignees.
    pub assignee: Option<String>,
    /// When the first response is due.
    pub respond_by: Option<Timestamp>,
    /// Progress updates recorded.
    pub updates: u32,
}

/// The confirmation with the customer in force (the latest `order_confirmed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmation {
    /// When it was confirmed (effective time).
    pub at: Timestamp,
    /// The revision confirmed; `None` for a confirmation recorded before version 3.
    pub revision: Option<u32>,
    /// The promised date.
    pub promised_date: Date,
    /// The expected ship date.
    pub expected_ship_date: Option<Date>,
    /// How the goods reach the customer.
    pub delivery_mode: Option<DeliveryMode>,
    /// How the customer confirmed.
    pub confirmed_via: Option<ConfirmMethod>,
}

/// One department's decision on a change request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeDecision {
    /// Approved (else declined, which ends the request).
    pub approved: bool,
    /// Who decided.
    pub actor: Actor,
    /// When.
    pub at: Timestamp,
}

/// The pending change request: proposed, not decided by every department yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRequest {
    /// Who asked for it (the sales clerk recording it).
    pub requested_by: Actor,
    /// When it was recorded.
    pub requested_at: Timestamp,
    /// The request as recorded: proposal, reviewers and their deadlines, impact notes.
    pub proposal: ChangeRequested,
    /// The decisions so far, by department (role).
    pub decisions: BTreeMap<Role, ChangeDecision>,
}

impl ChangeRequest {
    /// The deciding roles that have not decided yet, with their deadlines.
    pub fn undecided(&self) -> Vec<RoleDue> {
        self.proposal
            .review_due_by
            .iter()
            .copied()
            .filter(|d| !self.decisions.contains_key(&d.role))
            .collect()
    }
}

/// How a change request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Every department approved: applied as the next revision.
    Applied,
    /// A department declined it.
    Declined(Role),
    /// Sales withdrew it.
    Withdrawn,
}

/// Everything the rules need to know about one order, folded from its events.
///
/// Fields are facts recorded by events; derived progress is computed by methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderState {
    /// The order (the id of its event stream).
    pub order_id: OrderId,
    /// When it was received; `None` while nothing was received under this id.
    pub received_at: Option<Timestamp>,
    /// Who received it (the login).
    pub received_by: String,
    /// Who received it: the user and the role.
    pub received_actor: Option<Actor>,
    /// How it came in.
    pub channel: Option<Channel>,
    /// The customer.
    pub customer: String,
    /// Contact person, phone or e-mail.
    pub contact: String,
    /// The current lines, in line-number order.
    pub lines: Vec<OrderLine>,
    /// The highest line number ever used; new lines continue after it.
    pub last_line_no: u16,
    /// Currency of every price.
    pub currency: Option<Currency>,
    /// The current total, as recorded by the last receipt or change.
    pub total_minor: i64,
    /// The delivery date the customer asks for.
    pub requested_date: Option<Date>,
    /// Where to deliver.
    pub delivery_address: String,
    /// Special requirements.
    pub special_requirements: String,
    /// The current revision (1 after receipt; each change that needs re-approval adds one).
    pub revision: u32,
    /// Who entered the current revision (received the order or made the change): the login.
    pub revision_entered_by: String,
    /// Who entered the current revision: the user and the role.
    pub revision_entered_actor: Option<Actor>,
    /// When the reviews of the current revision are due (the latest department's due).
    pub review_due: Option<Timestamp>,
    /// When each department's review of the current revision is due.
    pub review_due_by: Vec<RoleDue>,
    /// The departments' decisions on the current revision; older revisions' decisions are gone.
    pub decisions: BTreeMap<Department, Decision>,
    /// Every department's decision on every revision, in the order recorded.
    pub reviews: Vec<ReviewRecord>,
    /// Where the order stands, folded from its events.
    pub progress: StatusFold,
    /// The last revision every department approved (`OrderApproved`).
    pub approved_revision: Option<u32>,
    /// The rejection that rejected the order.
    pub rejection: Option<ReviewRejection>,
    /// The first date promised to the customer.
    pub original_promise: Option<Date>,
    /// The date currently promised.
    pub current_promise: Option<Date>,
    /// Why it was cancelled, when it was.
    pub cancellation: Option<String>,
    /// Who asked for the cancellation (`None` before version 3).
    pub cancelled_by: Option<Initiator>,
    /// The confirmation with the customer in force.
    pub confirmation: Option<Confirmation>,
    /// The pending change request.
    pub change_request: Option<ChangeRequest>,
    /// The highest change request number used (requests are numbered 1, 2, ...).
    pub last_request_id: u32,
    /// How each ended change request ended, by number.
    pub request_outcomes: BTreeMap<u32, RequestOutcome>,
    /// Overdue reviews recorded (and escalated): revision, change request, department.
    pub escalated: BTreeSet<(u32, Option<u32>, Role)>,
    /// Follow-up visits recorded.
    pub visits: u32,
    /// The reason a department head gave for shipping unconfirmed.
    pub shipped_unconfirmed: Option<String>,
    /// The reason a department head gave for closing despite complaints.
    pub close_override: Option<String>,
    /// Production, once scheduled.
    pub production: Option<Production>,
    /// The shipment, once shipped.
    pub shipment: Option<Shipment>,
    /// When it was delivered.
    pub delivered_at: Option<Timestamp>,
    /// The customer's sign-off.
    pub sign_off: Option<SignOff>,
    /// The customer's refusal.
    pub refusal: Option<Refusal>,
    /// Complaints by number (1, 2, ...).
    pub complaints: BTreeMap<u32, Complaint>,
    /// Feedback records.
    pub feedback_count: u32,
    /// When closed: the archive is kept at least until this date.
    pub retention_until: Option<Date>,
    /// The reason of the active archive hold.
    pub hold: Option<String>,
    /// Events entered late (back-dated with a reason).
    pub late_entries: u32,
    /// The latest of them.
    pub last_late: Option<LateFact>,
    /// The roles whose people acted on the order: the actor's role of every event but the
    /// archive's access records (a read, allowed or refused, is not work on the order).
    pub acted_roles: BTreeSet<Role>,
}

impl OrderState {
    /// The state of an order with no events.
    pub fn new(order_id: OrderId) -> Self {
        Self {
            order_id,
            received_at: None,
            received_by: String::new(),
            received_actor: None,
            channel: None,
            customer: String::new(),
            contact: String::new(),
            lines: Vec::new(),
            last_line_no: 0,
            currency: None,
            total_minor: 0,
            requested_date: None,
            delivery_address: String::new(),
            special_requirements: String::new(),
            revision: 0,
            revision_entered_by: String::new(),
            revision_entered_actor: None,
            review_due: None,
            review_due_by: Vec::new(),
            decisions: BTreeMap::new(),
            reviews: Vec::new(),
            progress: StatusFold::default(),
            approved_revision: None,
            rejection: None,
            original_promise: None,
            current_promise: None,
            cancellation: None,
            cancelled_by: None,
            confirmation: None,
            change_request: None,
            last_request_id: 0,
            request_outcomes: BTreeMap::new(),
            escalated: BTreeSet::new(),
            visits: 0,
            shipped_unconfirmed: None,
            close_override: None,
            production: None,
            shipment: None,
            delivered_at: None,
            sign_off: None,
            refusal: None,
            complaints: BTreeMap::new(),
            feedback_count: 0,
            retention_until: None,
            hold: None,
            late_entries: 0,
            last_late: None,
            acted_roles: BTreeSet::new(),
        }
    }

    /// Whether an order was received under this id.
    pub fn exists(&self) -> bool {
        self.received_at.is_some()
    }

    /// Whether the goods reached the customer, so after-sales work (complaints, feedback) may
    /// happen, also once the order is closed. A cancelled or rejected order never was delivered.
    pub fn was_delivered(&self) -> bool {
        self.delivered_at.is_some()
    }

    /// Whether every department approved the current revision (as recorded by `OrderApproved`,
    /// or by the departments' approval of the change request that made it).
    pub fn is_approved(&self) -> bool {
        self.revision > 0 && self.approved_revision == Some(self.revision)
    }

    /// Whether the order was confirmed with the customer.
    pub fn is_confirmed(&self) -> bool {
        self.confirmation.is_some()
    }

    /// The complaints whose last resolution left the customer unsatisfied (and that were not
    /// reopened since).
    pub fn unsatisfied_complaints(&self) -> Vec<u32> {
        self.complaints
            .iter()
            .filter(|(_, c)| c.status == ComplaintStatus::Resolved { customer_satisfied: false })
            .map(|(id, _)| *id)
            .collect()
    }

    /// The reviews of an open order that are past their due at `now`, undecided and not yet
    /// recorded as overdue: `(revision, change request, department, due)`. What the deadline
    /// watcher records, each once.
    pub fn overdue_reviews(&self, now: Timestamp) -> Vec<(u32, Option<u32>, Role, Timestamp)> {
        let mut out = Vec::new();
        if !self.status().is_open() {
            return out;
        }
        if matches!(self.status(), Status::Received | Status::InReview) {
            for due in &self.review_due_by {
                let decided =
                    Department::ALL.iter().any(|d| d.role() == due.role && self.decisions.contains_key(d));
                if !decided && due.due <= now && !self.escalated.contains(&(self.revision, None, due.role)) {
                    out.push((self.revision, None, due.role, due.due));
                }
            }
        }
        if let Some(request) = &self.change_request {
            let (revision, id) = (request.proposal.revision, request.proposal.request_id);
            for due in request.undecided() {
                if due.due <= now && !self.escalated.contains(&(revision, Some(id), due.role)) {
                    out.push((revision, Some(id), due.role, due.due));
                }
            }
        }
        out
    }

    /// The departments that have not approved the current revision, in declaration order.
    pub fn approvals_missing(&self) -> Vec<Department> {
        Department::ALL
            .iter()
            .copied()
            .filter(|d| self.decisions.get(d) != Some(&Decision::Approved))
            .collect()
    }

    /// The numbers of the open (or reopened) complaints.
    pub fn open_complaints(&self) -> Vec<u32> {
        self.complaints.iter().filter(|(_, c)| c.status.is_open()).map(|(id, _)| *id).collect()
    }

    /// The line with this number.
    pub fn line(&self, line_no: u16) -> Option<&OrderLine> {
        self.lines.iter().find(|l| l.line_no == line_no)
    }

    /// Where the order stands (derived from its events by the status board's own fold).
    pub fn status(&self) -> Status {
        self.progress.status
    }
}

/// Applies one event to the state. No rules; cannot fail. An event that does not fit the state
/// (which `decide` never produces) is recorded as far as it makes sense, never refused.
pub fn evolve(state: &mut OrderState, event: &Event) {
    state.progress.apply(&event.body);
    if let Some(late) = &event.late {
        state.late_entries = state.late_entries.saturating_add(1);
        state.last_late =
            Some(LateFact { reason: late.reason.clone(), at: event.at, actor: event.actor.clone() });
    }
    if !matches!(event.body, EventBody::ArchiveAccessed(_) | EventBody::ArchiveAccessRefused(_)) {
        state.acted_roles.insert(event.actor.role);
    }
    match &event.body {
        EventBody::OrderReceived(e) => {
            state.received_at = Some(event.at);
            state.received_by = event.actor.login.clone();
            state.received_actor = Some(event.actor.clone());
            state.channel = Some(e.channel);
            state.customer = e.customer.clone();
            state.contact = e.contact.clone();
            state.lines = e.lines.clone();
            state.last_line_no = e.lines.iter().map(|l| l.line_no).max().unwrap_or(0);
            state.currency = Some(e.currency);
            state.total_minor = e.total_minor;
            state.requested_date = Some(e.requested_date);
            state.delivery_address = e.delivery_address.clone();
            state.special_requirements = e.special_requirements.clone();
            state.revision = 1;
            state.revision_entered_by = event.actor.login.clone();
            state.revision_entered_actor = Some(event.actor.clone());
            state.review_due = Some(e.review_due);
            state.review_due_by = e.review_due_by.clone();
            state.decisions.clear();
        }
        EventBody::ReviewApproved(e) => {
            if e.revision == state.revision {
                state.decisions.insert(e.department, Decision::Approved);
            }
            state.reviews.push(ReviewRecord {
                revision: e.revision,
                department: e.department,
                decision: Decision::Approved,
                by: event.actor.login.clone(),
                actor: event.actor.clone(),
                at: event.at,
                note: e.note.clone(),
            });
        }
        EventBody::ReviewRejected(e) => {
            if e.revision == state.revision {
                state.decisions.insert(e.department, Decision::Rejected);
            }
            state.reviews.push(ReviewRecord {
                revision: e.revision,
                department: e.department,
                decision: Decision::Rejected,
                by: event.actor.login.clone(),
                actor: event.actor.clone(),
                at: event.at,
                note: e.reason.clone(),
            });
        }
        EventBody::OrderApproved(e) => state.approved_revision = Some(e.revision),
        EventBody::OrderRejected(e) => {
            state.rejection = Some(ReviewRejection {
                department: e.department,
                revision: e.revision,
                reason: e.reason.clone(),
            });
        }
        EventBody::OrderConfirmed(e) => {
            state.original_promise.get_or_insert(e.promised_date);
            state.current_promise = Some(e.promised_date);
            state.confirmation = Some(Confirmation {
                at: event.at,
                revision: e.revision,
                promised_date: e.promised_date,
                expected_ship_date: e.expected_ship_date,
                delivery_mode: e.delivery_mode,
                confirmed_via: e.confirmed_via,
            });
        }
        EventBody::OrderChanged(e) => {
            state.lines = e.lines.clone();
            let highest = e.lines.iter().map(|l| l.line_no).max().unwrap_or(0);
            state.last_line_no = state.last_line_no.max(highest);
            state.total_minor = e.total_minor;
            state.requested_date = Some(e.requested_date);
            state.current_promise = e.promised_date;
            state.delivery_address = e.delivery_address.clone();
            if let Some(id) = e.request_id {
                // An approved change request: its revision is approved by the departments'
                // decisions on the request, so the order goes on where it stands.
                state.revision = e.revision;
                state.approved_revision = Some(e.revision);
                for d in Department::ALL {
                    state.decisions.insert(*d, Decision::Approved);
                }
                state.request_outcomes.insert(id, RequestOutcome::Applied);
                state.change_request = None;
            } else if e.reapproval_required || e.revision != state.revision {
                // A new revision starts its review afresh: decisions of the old one no longer
                // count. Each department's review is due as the event says.
                state.revision = e.revision;
                state.revision_entered_by = event.actor.login.clone();
                state.revision_entered_actor = Some(event.actor.clone());
                state.review_due = e.review_due;
                state.review_due_by = e.review_due_by.clone();
                state.decisions.clear();
            }
        }
        EventBody::OrderCancelled(e) => {
            state.cancellation = Some(e.reason.clone());
            state.cancelled_by = e.initiated_by;
        }
        EventBody::ChangeRequested(e) => {
            state.last_request_id = state.last_request_id.max(e.request_id);
            state.change_request = Some(ChangeRequest {
                requested_by: event.actor.clone(),
                requested_at: event.at,
                proposal: e.clone(),
                decisions: BTreeMap::new(),
            });
        }
        EventBody::ChangeApproved(e) => {
            if let Some(r) = state.change_request.as_mut().filter(|r| r.proposal.request_id == e.request_id) {
                r.decisions.insert(
                    e.role,
                    ChangeDecision { approved: true, actor: event.actor.clone(), at: event.at },
                );
            }
        }
        EventBody::ChangeDeclined(e) => {
            if state.change_request.as_ref().is_some_and(|r| r.proposal.request_id == e.request_id) {
                state.change_request = None;
            }
            state.request_outcomes.insert(e.request_id, RequestOutcome::Declined(e.role));
        }
        EventBody::ChangeWithdrawn(e) => {
            if state.change_request.as_ref().is_some_and(|r| r.proposal.request_id == e.request_id) {
                state.change_request = None;
            }
            state.request_outcomes.insert(e.request_id, RequestOutcome::Withdrawn);
        }
        EventBody::ReviewOverdue(e) => {
            state.escalated.insert((e.revision, e.request_id, e.role));
        }
        EventBody::ComplaintUpdated(e) => {
            if let Some(c) = state.complaints.get_mut(&e.complaint_id) {
                c.updates = c.updates.saturating_add(1);
            }
        }
        EventBody::VisitRecorded(_) => state.visits = state.visits.saturating_add(1),
        // Issue 14: the shipment helper keeps the shipments in the state.
        EventBody::ShipmentDispatched(_) => {}
        EventBody::ProductionScheduled(e) => match &mut state.production {
            Some(p) => p.planned_finish = e.planned_finish,
            None => {
                state.production = Some(Production {
                    planned_finish: e.planned_finish,
                    inspections: 0,
                    last_inspection: None,
                    completed: false,
                });
            }
        },
        EventBody::QualityInspected(e) => {
            if let Some(p) = &mut state.production {
                p.inspections = p.inspections.saturating_add(1);
                p.last_inspection = Some(e.result);
            }
        }
        EventBody::ProductionCompleted(_) => {
            if let Some(p) = &mut state.production {
                p.completed = true;
            }
        }
        EventBody::OrderShipped(e) => {
            state.shipped_unconfirmed = e.unconfirmed_reason.clone();
            state.shipment = Some(Shipment {
                shipped_at: event.at,
                carrier: e.carrier.clone(),
                mode: e.mode,
                tracking_number: e.tracking_number.clone(),
                eta: e.eta,
                first_eta: e.eta,
                delays: 0,
                lines: e.lines.clone(),
            });
        }
        EventBody::ShipmentDelayed(e) => {
            if let Some(s) = &mut state.shipment {
                s.eta = e.new_eta;
                s.delays = s.delays.saturating_add(1);
            }
        }
        EventBody::OrderDelivered(_) => state.delivered_at = Some(event.at),
        EventBody::OrderSigned(e) => {
            state.sign_off = Some(SignOff {
                signed_at: event.at,
                signed_by: e.signed_by.clone(),
                accepted: e.accepted.clone(),
                full: e.full,
            });
        }
        EventBody::OrderRefused(e) => {
            state.refusal = Some(Refusal {
                refused_at: event.at,
                refused_by: e.refused_by.clone(),
                reason: e.reason.clone(),
            });
        }
        EventBody::ComplaintOpened(e) => {
            state.complaints.insert(
                e.complaint_id,
                Complaint {
                    category: e.category,
                    severity: e.severity,
                    status: ComplaintStatus::Open,
                    assignee: e.assignee.clone(),
                    respond_by: e.respond_by,
                    updates: 0,
                },
            );
        }
        EventBody::ComplaintResolved(e) => {
            if let Some(c) = state.complaints.get_mut(&e.complaint_id) {
                c.status = ComplaintStatus::Resolved { customer_satisfied: e.customer_satisfied };
            }
        }
        EventBody::ComplaintReopened(e) => {
            if let Some(c) = state.complaints.get_mut(&e.complaint_id) {
                c.status = ComplaintStatus::Reopened;
            }
        }
        EventBody::FeedbackRecorded(_) => state.feedback_count = state.feedback_count.saturating_add(1),
        EventBody::OrderClosed(e) => {
            state.retention_until = Some(e.retention_until);
            state.close_override = e.override_reason.clone();
        }
        EventBody::ArchiveHoldPlaced(e) => state.hold = Some(e.reason.clone()),
        EventBody::ArchiveHoldReleased(_) => state.hold = None,
        EventBody::ArchiveAccessed(_) | EventBody::ArchiveAccessRefused(_) => {}
        // The directory's events are never in an order's stream.
        EventBody::UserAdded(_)
        | EventBody::RoleGranted(_)
        | EventBody::RoleRevoked(_)
        | EventBody::UserDisabled(_)
        | EventBody::UserEnabled(_)
        | EventBody::CredentialChanged(_) => {}
    }
}

/// The state of an order after its events, folded from [`OrderState::new`].
pub fn replay(order_id: OrderId, events: &[Event]) -> OrderState {
    let mut state = OrderState::new(order_id);
    for event in events {
        evolve(&mut state, event);
    }
    state
}
