//! `decide`: every business rule of the order workflow. Given the state, a command and its
//! context, it returns the events to record or the rule that refuses the command.
//!
//! Checks run in a fixed order so that the clerk hears about the most basic problem first:
//! the role, then whether the order exists, then where the order stands, then the fields.
//! Nothing here reads a clock, does I/O or panics; arithmetic is checked.

use chrono::Months;
use orderflow_schemas::{
    Actor, ArchiveAccessRefused, ArchiveAccessed, ArchiveHoldPlaced, ArchiveHoldReleased, ChangeApproved,
    ChangeDeclined, ChangeRequested, ChangeWithdrawn, ComplaintOpened, ComplaintReopened, ComplaintResolved,
    ComplaintUpdated, Currency, Date, Department, Event, EventBody, FeedbackRecorded, FieldChange, Grant,
    ImpactNote, Initiator, InspectionResult, LineQuantity, Money, OrderApproved, OrderCancelled,
    OrderChanged, OrderClosed, OrderConfirmed, OrderDelivered, OrderLine, OrderReceived, OrderRefused,
    OrderRejected, OrderShipped, OrderSigned, ProductionCompleted, ProductionScheduled, QualityInspected,
    ReviewApproved, ReviewOverdue, ReviewRejected, Role, RoleDue, ShipmentDelayed, Timestamp, VisitRecorded,
    CHANGE_REVIEWERS,
};

use crate::command::*;
use crate::context::Context;
use crate::rejection::Rejection;
use crate::role::allowed_roles;
use crate::state::{ComplaintStatus, Decision, OrderState, Status};
use crate::validate::Check;

type Decided = Result<Vec<EventBody>, Rejection>;

/// Decides a command against the state of its order: the events it produces (each carrying
/// `ctx.actor` and `ctx.now`), or the rule that refuses it.
pub fn decide(state: &OrderState, command: &Command, ctx: &Context) -> Result<Vec<Event>, Rejection> {
    let order = state.order_id;
    let allowed = allowed_roles(command);
    if !allowed.contains(&ctx.actor.role) {
        return Err(Rejection::NotPermitted {
            order,
            role: ctx.actor.role,
            command: command.name(),
            allowed,
        });
    }
    let rules = Rules {
        s: state,
        ctx,
        action: command.action(),
        check: Check { order, limits: &ctx.limits, today: ctx.today() },
    };
    let bodies = match command {
        Command::ReceiveOrder(c) => rules.receive(c)?,
        _ if !state.exists() => return Err(Rejection::OrderNotFound { order }),
        _ if state.received_at.is_some_and(|received_at| ctx.now < received_at) => {
            return Err(Rejection::BeforeReceipt {
                order,
                action: command.action(),
                at: ctx.now,
                received_at: state.received_at.unwrap_or(ctx.now),
            })
        }
        Command::ApproveReview(c) => rules.approve(c)?,
        Command::RejectReview(c) => rules.reject(c)?,
        Command::ConfirmOrder(c) => rules.confirm(c)?,
        Command::ChangeOrder(c) => rules.change(c)?,
        Command::CancelOrder(c) => rules.cancel(c)?,
        Command::ScheduleProduction(c) => rules.schedule(c)?,
        Command::InspectQuality(c) => rules.inspect(c)?,
        Command::CompleteProduction(c) => rules.complete(c)?,
        Command::ShipOrder(c) => rules.ship(c)?,
        Command::ReportDelay(c) => rules.delay(c)?,
        Command::DeliverOrder(c) => rules.deliver(c)?,
        Command::SignOrder(c) => rules.sign(c)?,
        Command::RefuseOrder(c) => rules.refuse(c)?,
        Command::OpenComplaint(c) => rules.complain(c)?,
        Command::ResolveComplaint(c) => rules.resolve(c)?,
        Command::ReopenComplaint(c) => rules.reopen(c)?,
        Command::RecordFeedback(c) => rules.feedback(c)?,
        Command::CloseOrder(c) => rules.close(c)?,
        Command::PlaceHold(c) => rules.hold(c)?,
        Command::ReleaseHold(c) => rules.release(c)?,
        Command::RecordAccess(c) => rules.access(c)?,
        Command::RecordRefusedAccess(c) => rules.access_refused(c)?,
        Command::ApproveChange(c) => rules.approve_change(c)?,
        Command::DeclineChange(c) => rules.decline_change(c)?,
        Command::WithdrawChange(c) => rules.withdraw_change(c)?,
        Command::UpdateComplaint(c) => rules.update_complaint(c)?,
        Command::RecordVisit(c) => rules.visit(c)?,
        Command::MarkOverdue(c) => rules.mark_overdue(c)?,
    };
    Ok(bodies
        .into_iter()
        .map(|body| Event { actor: ctx.actor.clone(), at: ctx.now, late: ctx.late.clone(), body })
        .collect())
}

/// One decision in progress.
struct Rules<'a> {
    s: &'a OrderState,
    ctx: &'a Context,
    /// The command's action, for "order 7f3a12bc cannot {action}".
    action: &'static str,
    check: Check<'a>,
}

impl Rules<'_> {
    fn wrong_state(&self) -> Rejection {
        Rejection::WrongState { order: self.s.order_id, action: self.action, status: self.s.status() }
    }

    /// Refuses the command, naming the order's status, unless `ok`.
    fn require(&self, ok: bool) -> Result<(), Rejection> {
        if ok {
            Ok(())
        } else {
            Err(self.wrong_state())
        }
    }

    /// The order is received and not yet shipped, rejected, cancelled or closed.
    fn require_open(&self) -> Result<(), Rejection> {
        self.require(self.s.status().is_open())
    }

    /// Every department approved the current revision (by its recorded decisions).
    fn require_approved(&self) -> Result<(), Rejection> {
        let missing = self.s.approvals_missing();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Rejection::MissingApproval {
                order: self.s.order_id,
                action: self.action,
                missing,
                revision: self.s.revision,
            })
        }
    }

    /// When each of `roles` must have decided a review opening now: its department's limit
    /// from the settings.
    fn review_due_by(&self, roles: &[Role]) -> Result<Vec<RoleDue>, Rejection> {
        roles
            .iter()
            .map(|&role| {
                let hours = self.ctx.settings.review_hours.of(role).unwrap_or(0);
                if hours <= 0 {
                    return Err(Rejection::InvalidSetting {
                        setting: review_hours_setting(role),
                        problem: format!("must be more than 0 hours (got {hours})"),
                    });
                }
                Ok(RoleDue { role, due: self.ctx.now.plus_hours(hours) })
            })
            .collect()
    }

    /// The reviews of a new revision by the four departments: each department's due, and the
    /// latest of them.
    fn department_dues(&self) -> Result<(Vec<RoleDue>, Timestamp), Rejection> {
        let roles: Vec<Role> = Department::ALL.iter().map(|d| d.role()).collect();
        let by = self.review_due_by(&roles)?;
        let latest = by.iter().map(|d| d.due).max().unwrap_or(self.ctx.now);
        Ok((by, latest))
    }

    /// The pending change request refuses `action` (at most one is pending; shipping waits for
    /// its decision).
    fn no_change_pending(&self) -> Result<(), Rejection> {
        match &self.s.change_request {
            Some(r) => Err(Rejection::ChangePending {
                order: self.s.order_id,
                action: self.action,
                request_id: r.proposal.request_id,
            }),
            None => Ok(()),
        }
    }

    /// The order was confirmed with the customer.
    fn require_confirmed(&self) -> Result<(), Rejection> {
        if self.s.is_confirmed() {
            Ok(())
        } else {
            Err(Rejection::NotConfirmed { order: self.s.order_id, action: self.action })
        }
    }

    /// An override needs a department head and a reason; returns the checked reason.
    fn override_reason(&self, field: &str, reason: &str) -> Result<String, Rejection> {
        if !self.ctx.actor.head {
            return Err(Rejection::OverrideRefused {
                order: self.s.order_id,
                action: self.action,
                problem: format!(
                    "only a department head may give {field} (acting as {})",
                    self.ctx.actor.role
                ),
            });
        }
        self.check.text(field, reason)?;
        Ok(reason.to_string())
    }

    fn retention_until(&self) -> Result<Date, Rejection> {
        let years = self.ctx.settings.retention_years;
        let bad = |problem: String| Rejection::InvalidSetting { setting: "retention_years", problem };
        let months = u32::try_from(years)
            .map_err(|_| bad(format!("must be 0 or more years (got {years})")))?
            .checked_mul(12)
            .ok_or_else(|| bad(format!("({years}) is too large")))?;
        self.check
            .today
            .to_naive()
            .checked_add_months(Months::new(months))
            .map(Date::from_naive)
            .ok_or_else(|| bad(format!("({years}) is too large")))
    }

    /// The total of the lines, with checked arithmetic.
    fn total(&self, lines: &[OrderLine]) -> Result<i64, Rejection> {
        lines
            .iter()
            .try_fold(0_i64, |sum, line| line.amount_minor().and_then(|amount| sum.checked_add(amount)))
            .ok_or(Rejection::Overflow { order: self.s.order_id, what: "order total" })
    }

    fn line_label(line_no: u16) -> String {
        format!("line {line_no}")
    }

    fn receive(&self, c: &ReceiveOrder) -> Decided {
        if self.s.exists() {
            return Err(Rejection::AlreadyExists { order: self.s.order_id });
        }
        let k = &self.check;
        k.name("customer", &c.customer)?;
        k.name("contact", &c.contact)?;
        if c.lines.is_empty() {
            return Err(k.invalid("lines", "are missing: an order needs at least one line"));
        }
        k.count("number of lines", c.lines.len(), self.ctx.limits.lines_per_order_max)?;
        let mut lines = Vec::with_capacity(c.lines.len());
        for (i, new) in c.lines.iter().enumerate() {
            let line_no = i
                .checked_add(1)
                .and_then(|n| u16::try_from(n).ok())
                .ok_or_else(|| k.invalid("lines", "are too many to number"))?;
            k.line(&Self::line_label(line_no), new)?;
            lines.push(numbered(line_no, new));
        }
        let total_minor = self.total(&lines)?;
        k.not_past("requested date", c.requested_date)?;
        k.text("delivery address", &c.delivery_address)?;
        k.note("special requirements", &c.special_requirements)?;
        let (review_due_by, review_due) = self.department_dues()?;
        Ok(vec![OrderReceived {
            channel: c.channel,
            customer: c.customer.clone(),
            contact: c.contact.clone(),
            lines,
            currency: c.currency,
            total_minor,
            requested_date: c.requested_date,
            delivery_address: c.delivery_address.clone(),
            special_requirements: c.special_requirements.clone(),
            review_due,
            review_due_by,
        }
        .into()])
    }

    /// The review of the current revision is open for `department`: returns the revision.
    fn review_open(&self, department: Department, given: Option<u32>) -> Result<u32, Rejection> {
        self.require_open()?;
        let current = self.s.revision;
        if let Some(given) = given.filter(|given| *given != current) {
            return Err(Rejection::StaleRevision { order: self.s.order_id, department, given, current });
        }
        if let Some(decision) = self.s.decisions.get(&department) {
            return Err(Rejection::AlreadyDecided {
                order: self.s.order_id,
                department,
                revision: current,
                decision: *decision,
            });
        }
        self.require(matches!(self.s.status(), Status::Received | Status::InReview))?;
        Ok(current)
    }

    /// One person decides for one department per revision: whoever decided for another
    /// department on this revision may not decide for `department` too.
    fn one_department_per_person(&self, department: Department, revision: u32) -> Result<(), Rejection> {
        let actor = &self.ctx.actor;
        let other = self
            .s
            .reviews
            .iter()
            .find(|r| r.revision == revision && r.department != department && r.actor.same_person(actor));
        match other {
            Some(r) => Err(Rejection::SecondDepartment {
                order: self.s.order_id,
                actor: actor.login.clone(),
                department,
                decided: r.department,
                revision,
            }),
            None => Ok(()),
        }
    }

    fn approve(&self, c: &ApproveReview) -> Decided {
        let revision = self.review_open(c.department, c.revision)?;
        let actor = &self.ctx.actor;
        let same = |a: &Option<Actor>| a.as_ref().is_some_and(|a| a.same_person(actor));
        let received = same(&self.s.received_actor);
        if received || same(&self.s.revision_entered_actor) {
            return Err(Rejection::SelfApproval {
                order: self.s.order_id,
                actor: actor.login.clone(),
                department: c.department,
                revision,
                received,
            });
        }
        self.one_department_per_person(c.department, revision)?;
        self.check.note("note", &c.note)?;
        let mut out: Vec<EventBody> =
            vec![ReviewApproved { department: c.department, revision, note: c.note.clone() }.into()];
        let rest_approved = Department::ALL
            .iter()
            .filter(|d| **d != c.department)
            .all(|d| self.s.decisions.get(d) == Some(&Decision::Approved));
        if rest_approved {
            out.push(OrderApproved { revision }.into());
        }
        Ok(out)
    }

    fn reject(&self, c: &RejectReview) -> Decided {
        let revision = self.review_open(c.department, c.revision)?;
        self.one_department_per_person(c.department, revision)?;
        self.check.text("reason", &c.reason)?;
        Ok(vec![
            ReviewRejected { department: c.department, revision, reason: c.reason.clone() }.into(),
            OrderRejected { revision, department: c.department, reason: c.reason.clone() }.into(),
        ])
    }

    /// Confirmation with the customer (seed 002 二.3), after the departments approved the
    /// revision: the promise, the expected ship date, the delivery mode and how the customer
    /// confirmed. A later confirmation (after an approved change) replaces it.
    fn confirm(&self, c: &ConfirmOrder) -> Decided {
        self.require_open()?;
        self.require_approved()?;
        let k = &self.check;
        k.not_past("promised date", c.promised_date)?;
        k.not_past("expected ship date", c.expected_ship_date)?;
        if c.expected_ship_date > c.promised_date {
            return Err(k.invalid(
                "expected ship date",
                format!("{} is after the promised date ({})", c.expected_ship_date, c.promised_date),
            ));
        }
        k.note("note", &c.note)?;
        Ok(vec![OrderConfirmed {
            promised_date: c.promised_date,
            note: c.note.clone(),
            revision: Some(self.s.revision),
            expected_ship_date: Some(c.expected_ship_date),
            delivery_mode: Some(c.delivery_mode),
            confirmed_via: Some(c.confirmed_via),
        }
        .into()])
    }

    /// A change. Lines and the requested date are the substance the departments approved:
    /// changing them makes the next revision; an address-only change keeps the revision.
    ///
    /// Before any revision was approved (the first review), the change applies at once and the
    /// review of a new revision starts over. Once approved, it opens a change request
    /// (`change_requested`) while the approved revision stays in force: every deciding
    /// department (logistics alone for an address-only change) decides it, and the last
    /// approval applies it (see [`Rules::approve_change`]).
    ///
    /// Promise: only a customer-initiated change of the requested date moves the current
    /// promise (to the new requested date), and only once approved; an internal change never
    /// moves it; the original promise never moves. Sales may confirm another date afterwards.
    fn change(&self, c: &ChangeOrder) -> Decided {
        self.require_open()?;
        self.no_change_pending()?;
        // Before any revision was approved, a change applies at once and the review starts
        // over; once approved, it is a request the departments decide. A legacy re-approval
        // under way (an old change sent the order back to review) is decided first.
        let before_approval = self.s.approved_revision.is_none();
        if !before_approval {
            self.require_approved()?;
        }
        let k = &self.check;
        k.text("reason", &c.reason)?;
        let lines = self.edited_lines(&c.lines)?;
        let total_minor = self.total(&lines)?;
        let mut changes = line_changes(&self.s.lines, &lines, self.s.currency);
        let lines_changed = !changes.is_empty();

        let old_date = self.s.requested_date;
        let date_changed = match c.requested_date {
            Some(new) if Some(new) != old_date => {
                k.not_past("requested date", new)?;
                changes.push(field_change(
                    "requested date",
                    old_date.map(|d| d.to_string()),
                    new.to_string(),
                ));
                true
            }
            _ => false,
        };
        let requested_date = c.requested_date.or(old_date).unwrap_or(k.today);
        // The promise moves only with the customer's own change of date.
        let promised_date = match self.s.current_promise {
            Some(promise)
                if date_changed && c.initiated_by == Initiator::Customer && promise != requested_date =>
            {
                changes.push(field_change(
                    "promised date",
                    Some(promise.to_string()),
                    requested_date.to_string(),
                ));
                Some(requested_date)
            }
            other => other,
        };

        let delivery_address = match &c.delivery_address {
            Some(new) if *new != self.s.delivery_address => {
                k.text("delivery address", new)?;
                changes.push(field_change(
                    "delivery address",
                    Some(self.s.delivery_address.clone()),
                    new.clone(),
                ));
                new.clone()
            }
            _ => self.s.delivery_address.clone(),
        };

        if changes.is_empty() {
            return Err(Rejection::NoChange { order: self.s.order_id });
        }
        let substance = lines_changed || date_changed;
        let revision = if substance {
            let next = self.s.revision.saturating_add(1);
            k.count("number of revisions", next, self.ctx.limits.revisions_per_order_max)?;
            next
        } else {
            self.s.revision
        };
        if before_approval {
            if !c.impact.is_empty() {
                return Err(k.invalid(
                    "impact",
                    "is for a change request; the order is still in its first review, which starts over with the change",
                ));
            }
            let (review_due_by, review_due) = match substance {
                true => {
                    let (by, latest) = self.department_dues()?;
                    (by, Some(latest))
                }
                false => (Vec::new(), None),
            };
            return Ok(vec![OrderChanged {
                revision,
                reason: c.reason.clone(),
                changes,
                lines,
                total_minor,
                requested_date,
                promised_date,
                delivery_address,
                reapproval_required: substance,
                review_due,
                review_due_by,
                request_id: None,
                initiated_by: Some(c.initiated_by),
            }
            .into()]);
        }
        // An address-only change needs logistics alone; anything else every deciding department.
        let reviewers: &[Role] = if substance { CHANGE_REVIEWERS } else { &[Role::Logistics] };
        for (i, note) in c.impact.iter().enumerate() {
            let field = format!("impact note for {}", note.role);
            if !reviewers.contains(&note.role) {
                return Err(k.invalid(field, "names a department that does not decide this change"));
            }
            if c.impact[..i].iter().any(|n| n.role == note.role) {
                return Err(k.invalid(field, "is given twice"));
            }
            k.text(&field, &note.note)?;
        }
        let count = u64::from(self.s.last_request_id) + 1;
        k.count(
            "number of change requests",
            count,
            u64::from(self.ctx.limits.change_requests_per_order_max),
        )?;
        let impact: Vec<ImpactNote> =
            reviewers.iter().filter_map(|r| c.impact.iter().find(|n| n.role == *r).cloned()).collect();
        Ok(vec![ChangeRequested {
            request_id: self.s.last_request_id.saturating_add(1),
            initiated_by: c.initiated_by,
            reason: c.reason.clone(),
            changes,
            lines,
            total_minor,
            requested_date,
            promised_date,
            delivery_address,
            revision,
            review_due_by: self.review_due_by(reviewers)?,
            impact,
        }
        .into()])
    }

    /// The pending request, checked against the one the reviewer looked at, and the deciding
    /// department: it must decide this request and not have decided it yet; the person must not
    /// have decided it for another department.
    fn change_review(
        &self,
        role: Role,
        given: Option<u32>,
    ) -> Result<&crate::state::ChangeRequest, Rejection> {
        self.require_open()?;
        let order = self.s.order_id;
        let request = self.s.change_request.as_ref().ok_or(Rejection::NoChangePending { order })?;
        let request_id = request.proposal.request_id;
        if let Some(given) = given.filter(|g| *g != request_id) {
            return Err(Rejection::StaleRequest { order, given, current: request_id });
        }
        if !request.proposal.review_due_by.iter().any(|d| d.role == role) {
            return Err(Rejection::NotAReviewer {
                order,
                role,
                request_id,
                reviewers: request.proposal.review_due_by.iter().map(|d| d.role).collect(),
            });
        }
        if request.decisions.contains_key(&role) {
            return Err(Rejection::ChangeAlreadyDecided { order, role, request_id });
        }
        let actor = &self.ctx.actor;
        if let Some((other, _)) = request.decisions.iter().find(|(_, d)| d.actor.same_person(actor)) {
            return Err(Rejection::ChangeSeparation {
                order,
                actor: actor.login.clone(),
                request_id,
                why: format!("already decided it for {other}; one person decides for one department"),
            });
        }
        Ok(request)
    }

    /// A department approves the pending request; the last approval applies it as the next
    /// revision, approved, and the order goes on where it stands.
    fn approve_change(&self, c: &ApproveChange) -> Decided {
        let request = self.change_review(c.department, c.request_id)?;
        let actor = &self.ctx.actor;
        if request.requested_by.same_person(actor) {
            return Err(Rejection::ChangeSeparation {
                order: self.s.order_id,
                actor: actor.login.clone(),
                request_id: request.proposal.request_id,
                why: "asked for this change and may not approve it".to_string(),
            });
        }
        self.check.note("note", &c.note)?;
        let p = &request.proposal;
        let mut out: Vec<EventBody> = vec![ChangeApproved {
            request_id: p.request_id,
            role: c.department,
            note: c.note.clone(),
        }
        .into()];
        let rest_approved = p
            .review_due_by
            .iter()
            .filter(|d| d.role != c.department)
            .all(|d| request.decisions.get(&d.role).is_some_and(|x| x.approved));
        if rest_approved {
            // The promise in force now: a confirmation recorded while the request was pending
            // must not be undone by it. Only the request's own move (an approved customer
            // change of date) replaces it.
            let moves_promise = p.changes.iter().any(|f| f.field == "promised date");
            let promised_date = if moves_promise { p.promised_date } else { self.s.current_promise };
            out.push(
                OrderChanged {
                    revision: p.revision,
                    reason: p.reason.clone(),
                    changes: p.changes.clone(),
                    lines: p.lines.clone(),
                    total_minor: p.total_minor,
                    requested_date: p.requested_date,
                    promised_date,
                    delivery_address: p.delivery_address.clone(),
                    reapproval_required: false,
                    review_due: None,
                    review_due_by: Vec::new(),
                    request_id: Some(p.request_id),
                    initiated_by: Some(p.initiated_by),
                }
                .into(),
            );
        }
        Ok(out)
    }

    /// A department declines the pending request: the request ends, the order is unchanged.
    fn decline_change(&self, c: &DeclineChange) -> Decided {
        let request = self.change_review(c.department, c.request_id)?;
        self.check.text("reason", &c.reason)?;
        Ok(vec![ChangeDeclined {
            request_id: request.proposal.request_id,
            role: c.department,
            reason: c.reason.clone(),
        }
        .into()])
    }

    fn withdraw_change(&self, c: &WithdrawChange) -> Decided {
        self.require_open()?;
        let request =
            self.s.change_request.as_ref().ok_or(Rejection::NoChangePending { order: self.s.order_id })?;
        self.check.text("reason", &c.reason)?;
        Ok(vec![ChangeWithdrawn { request_id: request.proposal.request_id, reason: c.reason.clone() }.into()])
    }

    /// Records a review past its due, undecided, once; the department's head is told.
    fn mark_overdue(&self, c: &MarkOverdue) -> Decided {
        self.require_open()?;
        let order = self.s.order_id;
        let role = c.department;
        let what = match c.request_id {
            Some(id) => format!("of change request {id}"),
            None => format!("of revision {}", c.revision),
        };
        let pending = |what: String| Rejection::NoPendingReview { order, role, what };
        let due = match c.request_id {
            None => {
                let deciding = Department::ALL.iter().find(|d| d.role() == role);
                let open = c.revision == self.s.revision
                    && matches!(self.s.status(), Status::Received | Status::InReview)
                    && deciding.is_some_and(|d| !self.s.decisions.contains_key(d));
                let due = self.s.review_due_by.iter().find(|d| d.role == role).map(|d| d.due);
                match due {
                    Some(due) if open => due,
                    _ => return Err(pending(what)),
                }
            }
            Some(id) => {
                let request = self.s.change_request.as_ref().filter(|r| r.proposal.request_id == id);
                let undecided = request.and_then(|r| r.undecided().into_iter().find(|d| d.role == role));
                match undecided {
                    Some(d) if request.is_some_and(|r| r.proposal.revision == c.revision) => d.due,
                    _ => return Err(pending(what)),
                }
            }
        };
        if self.s.escalated.contains(&(c.revision, c.request_id, role)) {
            return Err(Rejection::AlreadyEscalated { order, role, what });
        }
        if self.ctx.now < due {
            return Err(Rejection::NotYetDue { order, role, due });
        }
        Ok(vec![ReviewOverdue {
            revision: c.revision,
            request_id: c.request_id,
            role,
            due,
            escalated_to: Grant::DeptHead(role),
        }
        .into()])
    }

    /// The lines after applying the edits in order; every touched value is checked.
    fn edited_lines(&self, edits: &[LineEdit]) -> Result<Vec<OrderLine>, Rejection> {
        let k = &self.check;
        let mut lines = self.s.lines.clone();
        let mut last_line_no = self.s.last_line_no;
        for edit in edits {
            match edit {
                LineEdit::Update(u) => {
                    let label = Self::line_label(u.line_no);
                    let line = lines
                        .iter_mut()
                        .find(|l| l.line_no == u.line_no)
                        .ok_or_else(|| k.invalid(label.as_str(), "does not exist"))?;
                    if let Some(quantity) = u.quantity {
                        k.quantity(&label, quantity)?;
                        line.quantity = quantity;
                    }
                    if let Some(spec) = &u.spec {
                        k.note(&format!("{label} spec"), spec)?;
                        line.spec = spec.clone();
                    }
                    if let Some(price) = u.unit_price_minor {
                        k.unit_price(&label, price)?;
                        line.unit_price_minor = price;
                    }
                }
                LineEdit::Add(new) => {
                    last_line_no = last_line_no
                        .checked_add(1)
                        .ok_or_else(|| k.invalid("lines", "have used every line number"))?;
                    k.line(&Self::line_label(last_line_no), new)?;
                    lines.push(numbered(last_line_no, new));
                }
                LineEdit::Remove { line_no } => {
                    let at = lines
                        .iter()
                        .position(|l| l.line_no == *line_no)
                        .ok_or_else(|| k.invalid(Self::line_label(*line_no), "does not exist"))?;
                    lines.remove(at);
                }
            }
        }
        if lines.is_empty() {
            return Err(k.invalid("lines", "would all be removed: an order needs at least one line"));
        }
        k.count("number of lines", lines.len(), self.ctx.limits.lines_per_order_max)?;
        Ok(lines)
    }

    fn cancel(&self, c: &CancelOrder) -> Decided {
        self.require_open()?;
        self.check.text("reason", &c.reason)?;
        Ok(vec![OrderCancelled { reason: c.reason.clone(), initiated_by: Some(c.initiated_by) }.into()])
    }

    /// Plans or re-plans production; needs the current revision approved.
    fn schedule(&self, c: &ScheduleProduction) -> Decided {
        self.require_open()?;
        self.require_approved()?;
        self.require_confirmed()?;
        if self.s.production.as_ref().is_some_and(|p| p.completed) {
            return Err(Rejection::ProductionAlreadyCompleted {
                order: self.s.order_id,
                action: self.action,
            });
        }
        self.check.not_past("planned finish", c.planned_finish)?;
        self.check.note("note", &c.note)?;
        Ok(vec![ProductionScheduled { planned_finish: c.planned_finish, note: c.note.clone() }.into()])
    }

    /// Production scheduled and not completed: returns the latest inspection result.
    fn require_production_running(&self) -> Result<Option<InspectionResult>, Rejection> {
        self.require_open()?;
        match &self.s.production {
            None => Err(Rejection::ProductionNotScheduled { order: self.s.order_id, action: self.action }),
            Some(p) if p.completed => {
                Err(Rejection::ProductionAlreadyCompleted { order: self.s.order_id, action: self.action })
            }
            Some(p) => Ok(p.last_inspection),
        }
    }

    /// Records an inspection. A failed batch (rework or scrap) must be inspected again before
    /// production can complete: rework mends the batch, scrap makes it again; both need a cause.
    fn inspect(&self, c: &InspectQuality) -> Decided {
        self.require_production_running()?;
        if c.result == InspectionResult::Pass {
            self.check.note("note", &c.note)?;
        } else {
            if c.note.trim().is_empty() {
                return Err(self
                    .check
                    .invalid("note", format!("is required for {}: record the cause", c.result)));
            }
            self.check.text("note", &c.note)?;
        }
        Ok(vec![QualityInspected { result: c.result, note: c.note.clone() }.into()])
    }

    fn complete(&self, c: &CompleteProduction) -> Decided {
        let latest = self.require_production_running()?;
        if latest != Some(InspectionResult::Pass) {
            return Err(Rejection::InspectionNotPassed { order: self.s.order_id, latest });
        }
        self.check.note("note", &c.note)?;
        Ok(vec![ProductionCompleted { note: c.note.clone() }.into()])
    }

    /// Ships every line in full. Never without every department's approval of the current
    /// revision; an order whose production was scheduled ships only once production completed,
    /// one served from stock (never scheduled) right after approval.
    /// Never unconfirmed, except a stock order (never scheduled) that a department head ships
    /// with a recorded reason; never while a change request waits for its decision.
    fn ship(&self, c: &ShipOrder) -> Decided {
        self.require_open()?;
        self.require_approved()?;
        self.no_change_pending()?;
        let unconfirmed_reason = match &c.unconfirmed_reason {
            None => {
                self.require_confirmed()?;
                None
            }
            Some(_) if self.s.is_confirmed() => {
                return Err(self
                    .check
                    .invalid("unconfirmed reason", "is not needed: the order is confirmed"));
            }
            Some(_) if self.s.production.is_some() => {
                return Err(Rejection::OverrideRefused {
                    order: self.s.order_id,
                    action: self.action,
                    problem: "only a stock order (production never scheduled) may ship unconfirmed"
                        .to_string(),
                });
            }
            Some(reason) => Some(self.override_reason("unconfirmed reason", reason)?),
        };
        if self.s.production.as_ref().is_some_and(|p| !p.completed) {
            return Err(Rejection::ProductionIncomplete { order: self.s.order_id });
        }
        let k = &self.check;
        k.name("carrier", &c.carrier)?;
        k.name("tracking number", &c.tracking_number)?;
        if c.eta < k.today {
            return Err(k.invalid("ETA", format!("{} is before the ship date ({})", c.eta, k.today)));
        }
        let lines =
            self.s.lines.iter().map(|l| LineQuantity { line_no: l.line_no, quantity: l.quantity }).collect();
        Ok(vec![OrderShipped {
            carrier: c.carrier.clone(),
            mode: c.mode,
            tracking_number: c.tracking_number.clone(),
            eta: c.eta,
            lines,
            revision: Some(self.s.revision),
            unconfirmed_reason,
        }
        .into()])
    }

    fn delay(&self, c: &ReportDelay) -> Decided {
        self.require(self.s.status() == Status::Shipped)?;
        let Some(shipment) = &self.s.shipment else {
            return Err(self.wrong_state());
        };
        let k = &self.check;
        let count = u64::from(shipment.delays) + 1;
        k.count("number of delay reports", count, u64::from(self.ctx.limits.delays_per_shipment_max))?;
        k.not_past("new ETA", c.new_eta)?;
        if c.new_eta == shipment.eta {
            return Err(k.invalid("new ETA", format!("{} is the current ETA already", c.new_eta)));
        }
        k.text("reason", &c.reason)?;
        Ok(vec![ShipmentDelayed { new_eta: c.new_eta, reason: c.reason.clone() }.into()])
    }

    fn deliver(&self, c: &DeliverOrder) -> Decided {
        self.require(self.s.status() == Status::Shipped)?;
        self.check.note("note", &c.note)?;
        Ok(vec![OrderDelivered { note: c.note.clone() }.into()])
    }

    /// Sign-off: once, on a delivered order. Each line is accepted in full unless the command
    /// names a smaller accepted quantity; never more than shipped.
    fn sign(&self, c: &SignOrder) -> Decided {
        self.require(self.s.status() == Status::Delivered)?;
        let Some(shipment) = &self.s.shipment else {
            return Err(self.wrong_state());
        };
        let k = &self.check;
        k.name("signed by", &c.signed_by)?;
        let given = c.accepted.as_deref().unwrap_or_default();
        for (i, a) in given.iter().enumerate() {
            let label = Self::line_label(a.line_no);
            if given[..i].iter().any(|b| b.line_no == a.line_no) {
                return Err(k.invalid(label, "is listed twice"));
            }
            let Some(shipped) = shipment.lines.iter().find(|s| s.line_no == a.line_no) else {
                return Err(k.invalid(label, "was not shipped"));
            };
            if a.quantity > shipped.quantity {
                return Err(k.invalid(
                    format!("{label} accepted quantity"),
                    format!("({}) is more than shipped ({})", a.quantity, shipped.quantity),
                ));
            }
        }
        k.note("note", &c.note)?;
        let accepted: Vec<LineQuantity> = shipment
            .lines
            .iter()
            .map(|s| given.iter().find(|a| a.line_no == s.line_no).copied().unwrap_or(*s))
            .collect();
        let full = accepted.iter().zip(&shipment.lines).all(|(a, s)| a.quantity == s.quantity);
        Ok(vec![OrderSigned { signed_by: c.signed_by.clone(), accepted, full, note: c.note.clone() }.into()])
    }

    fn refuse(&self, c: &RefuseOrder) -> Decided {
        self.require(self.s.status() == Status::Delivered)?;
        self.check.name("refused by", &c.refused_by)?;
        self.check.text("reason", &c.reason)?;
        Ok(vec![OrderRefused { refused_by: c.refused_by.clone(), reason: c.reason.clone() }.into()])
    }

    fn complain(&self, c: &OpenComplaint) -> Decided {
        self.require(self.s.was_delivered())?;
        // Complaints are numbered 1, 2, ... and never removed: the next number is also the count.
        let last = self.s.complaints.keys().next_back().copied().unwrap_or(0);
        let count = u64::from(last) + 1;
        self.check.count(
            "number of complaints",
            count,
            u64::from(self.ctx.limits.complaints_per_order_max),
        )?;
        // The check leaves `last` below the u32 limit, so this never saturates.
        let complaint_id = last.saturating_add(1);
        self.check.text("complaint text", &c.text)?;
        let assignee = match &c.assignee {
            Some(login) => {
                self.check.name("assignee", login)?;
                login.trim().to_string()
            }
            None => self.ctx.actor.login.clone(),
        };
        let hours = self.ctx.settings.complaint_response_hours;
        if hours <= 0 {
            return Err(Rejection::InvalidSetting {
                setting: "complaint_response_hours",
                problem: format!("must be more than 0 hours (got {hours})"),
            });
        }
        Ok(vec![ComplaintOpened {
            complaint_id,
            category: c.category,
            severity: c.severity,
            text: c.text.clone(),
            assignee: Some(assignee),
            respond_by: Some(self.ctx.now.plus_hours(hours)),
        }
        .into()])
    }

    fn update_complaint(&self, c: &UpdateComplaint) -> Decided {
        if !self.complaint(c.complaint_id)?.is_open() {
            return Err(Rejection::ComplaintNotOpen { order: self.s.order_id, complaint_id: c.complaint_id });
        }
        let updates = self.s.complaints.get(&c.complaint_id).map_or(0, |x| x.updates);
        self.check.count(
            "number of progress updates",
            u64::from(updates) + 1,
            u64::from(self.ctx.limits.complaint_updates_max),
        )?;
        self.check.text("note", &c.note)?;
        self.check.text("next step", &c.next_step)?;
        Ok(vec![ComplaintUpdated {
            complaint_id: c.complaint_id,
            note: c.note.clone(),
            next_step: c.next_step.clone(),
        }
        .into()])
    }

    /// A follow-up visit (回訪), once the customer signed for the goods.
    fn visit(&self, c: &RecordVisit) -> Decided {
        self.require(self.s.sign_off.is_some())?;
        if let Some(score) = c.score.filter(|s| !(1..=5).contains(s)) {
            return Err(self.check.invalid("score", format!("must be 1 to 5 (got {score})")));
        }
        let count = u64::from(self.s.visits) + 1;
        self.check.count("number of visits", count, u64::from(self.ctx.limits.visits_per_order_max))?;
        self.check.note("comment", &c.comment)?;
        Ok(vec![VisitRecorded { method: c.method, score: c.score, comment: c.comment.clone() }.into()])
    }

    fn complaint(&self, complaint_id: u32) -> Result<ComplaintStatus, Rejection> {
        self.s
            .complaints
            .get(&complaint_id)
            .map(|c| c.status)
            .ok_or(Rejection::ComplaintNotFound { order: self.s.order_id, complaint_id })
    }

    fn resolve(&self, c: &ResolveComplaint) -> Decided {
        if !self.complaint(c.complaint_id)?.is_open() {
            return Err(Rejection::ComplaintNotOpen { order: self.s.order_id, complaint_id: c.complaint_id });
        }
        self.check.text("resolution", &c.resolution)?;
        Ok(vec![ComplaintResolved {
            complaint_id: c.complaint_id,
            resolution: c.resolution.clone(),
            customer_satisfied: c.customer_satisfied,
            remedy: Some(c.remedy),
        }
        .into()])
    }

    fn reopen(&self, c: &ReopenComplaint) -> Decided {
        if !matches!(self.complaint(c.complaint_id)?, ComplaintStatus::Resolved { .. }) {
            return Err(Rejection::ComplaintNotResolved {
                order: self.s.order_id,
                complaint_id: c.complaint_id,
            });
        }
        self.check.text("reason", &c.reason)?;
        Ok(vec![ComplaintReopened { complaint_id: c.complaint_id, reason: c.reason.clone() }.into()])
    }

    fn feedback(&self, c: &RecordFeedback) -> Decided {
        self.require(self.s.was_delivered())?;
        if !(1..=5).contains(&c.score) {
            return Err(self.check.invalid("score", format!("must be 1 to 5 (got {})", c.score)));
        }
        let count = u64::from(self.s.feedback_count) + 1;
        self.check.count(
            "number of feedback records",
            count,
            u64::from(self.ctx.limits.feedback_per_order_max),
        )?;
        self.check.note("comment", &c.comment)?;
        Ok(vec![FeedbackRecorded { score: c.score, comment: c.comment.clone() }.into()])
    }

    /// Closes a finished order (signed, refused, cancelled or rejected) with no open complaint
    /// and no customer left unsatisfied by a complaint's last resolution (seed 002 五.2
    /// 直到客戶滿意為止) — unless a department head closes it with a reason, recorded.
    fn close(&self, c: &CloseOrder) -> Decided {
        self.require(matches!(
            self.s.status(),
            Status::Signed | Status::Refused | Status::Cancelled | Status::Rejected
        ))?;
        let open = self.s.open_complaints();
        let unsatisfied = self.s.unsatisfied_complaints();
        let override_reason = match &c.override_reason {
            None if !open.is_empty() => {
                return Err(Rejection::OpenComplaints { order: self.s.order_id, open })
            }
            None if !unsatisfied.is_empty() => {
                return Err(Rejection::CustomerUnsatisfied {
                    order: self.s.order_id,
                    complaints: unsatisfied,
                })
            }
            None => None,
            Some(_) if open.is_empty() && unsatisfied.is_empty() => {
                return Err(self.check.invalid(
                    "override reason",
                    "is not needed: no complaint is open or left the customer unsatisfied",
                ));
            }
            Some(reason) => Some(self.override_reason("override reason", reason)?),
        };
        Ok(vec![OrderClosed { retention_until: self.retention_until()?, override_reason }.into()])
    }

    fn hold(&self, c: &PlaceHold) -> Decided {
        if self.s.hold.is_some() {
            return Err(Rejection::HoldAlreadyPlaced { order: self.s.order_id });
        }
        self.check.text("reason", &c.reason)?;
        Ok(vec![ArchiveHoldPlaced { reason: c.reason.clone() }.into()])
    }

    fn release(&self, c: &ReleaseHold) -> Decided {
        if self.s.hold.is_none() {
            return Err(Rejection::NoHold { order: self.s.order_id });
        }
        self.check.note("note", &c.note)?;
        Ok(vec![ArchiveHoldReleased { note: c.note.clone() }.into()])
    }

    fn access(&self, c: &RecordAccess) -> Decided {
        self.check.note("detail", &c.detail)?;
        Ok(vec![ArchiveAccessed { access: c.access, detail: c.detail.clone() }.into()])
    }

    /// A refused read is recorded with its reason, in any state of an existing order.
    fn access_refused(&self, c: &RecordRefusedAccess) -> Decided {
        self.check.text("reason", &c.reason)?;
        Ok(vec![ArchiveAccessRefused { access: c.access, reason: c.reason.clone() }.into()])
    }
}

fn numbered(line_no: u16, new: &NewLine) -> OrderLine {
    OrderLine {
        line_no,
        sku: new.sku.clone(),
        spec: new.spec.clone(),
        quantity: new.quantity,
        unit: new.unit.clone(),
        unit_price_minor: new.unit_price_minor,
    }
}

fn field_change(field: &str, old: Option<String>, new: String) -> FieldChange {
    FieldChange { field: field.to_string(), old: old.unwrap_or_default(), new }
}

fn price(minor: i64, currency: Option<Currency>) -> String {
    match currency {
        Some(currency) => Money { minor, currency }.to_string(),
        None => minor.to_string(),
    }
}

fn describe(line: &OrderLine, currency: Option<Currency>) -> String {
    let spec = if line.spec.is_empty() { String::new() } else { format!(" ({})", line.spec) };
    format!(
        "{}{spec}, {} {} at {}",
        line.sku,
        line.quantity,
        line.unit,
        price(line.unit_price_minor, currency)
    )
}

/// Every difference between the old and the new lines, as field changes: "line 2 quantity"
/// from "10" to "12"; a removed line has an empty new value, an added one an empty old value.
fn line_changes(old: &[OrderLine], new: &[OrderLine], currency: Option<Currency>) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    for before in old {
        let label = format!("line {}", before.line_no);
        let Some(after) = new.iter().find(|l| l.line_no == before.line_no) else {
            changes.push(field_change(&label, Some(describe(before, currency)), String::new()));
            continue;
        };
        if before.quantity != after.quantity {
            changes.push(field_change(
                &format!("{label} quantity"),
                Some(before.quantity.to_string()),
                after.quantity.to_string(),
            ));
        }
        if before.spec != after.spec {
            changes.push(field_change(
                &format!("{label} spec"),
                Some(before.spec.clone()),
                after.spec.clone(),
            ));
        }
        if before.unit_price_minor != after.unit_price_minor {
            changes.push(field_change(
                &format!("{label} unit price"),
                Some(price(before.unit_price_minor, currency)),
                price(after.unit_price_minor, currency),
            ));
        }
    }
    for after in new.iter().filter(|a| !old.iter().any(|b| b.line_no == a.line_no)) {
        changes.push(field_change(&format!("line {}", after.line_no), None, describe(after, currency)));
    }
    changes
}

/// The settings key of a department's review limit.
fn review_hours_setting(role: Role) -> &'static str {
    match role {
        Role::Production => "review_hours.production",
        Role::Procurement => "review_hours.procurement",
        Role::Finance => "review_hours.finance",
        Role::Warehouse => "review_hours.warehouse",
        Role::Logistics => "review_hours.logistics",
        _ => "review_hours",
    }
}
