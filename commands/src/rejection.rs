//! Why a command was refused: one variant per kind of rule, each message in a clerk's words and
//! naming the order by its short id. A rejection writes nothing.

use orderflow_schemas::{Department, InspectionResult, OrderId, Role, Timestamp};
use thiserror::Error;

use crate::state::{Decision, Status};

/// A command refused by a business rule. Nothing was written.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Rejection {
    /// The actor's role may not issue this command.
    #[error("order {}: role {role} may not issue \"{command}\" (allowed: {})", .order.short(), roles(.allowed))]
    NotPermitted {
        /// The order.
        order: OrderId,
        /// The actor's role.
        role: Role,
        /// The command's name.
        command: &'static str,
        /// The roles that may issue it.
        allowed: &'static [Role],
    },
    /// The command needs an existing order and none was received under this id.
    #[error("order {} does not exist: no order was received under this id", .order.short())]
    OrderNotFound {
        /// The order.
        order: OrderId,
    },
    /// `receive` on an order that exists.
    #[error("order {} already exists; a new order needs a new id", .order.short())]
    AlreadyExists {
        /// The order.
        order: OrderId,
    },
    /// A back-dated command would take effect before the order existed.
    #[error("order {} cannot {action} at {at}: it was received only at {received_at}", .order.short())]
    BeforeReceipt {
        /// The order.
        order: OrderId,
        /// What was asked, as a verb phrase.
        action: &'static str,
        /// The command's effective time.
        at: Timestamp,
        /// When the order was received.
        received_at: Timestamp,
    },
    /// A field of the command is missing or wrong.
    #[error("order {}: {field} {problem}", .order.short())]
    InvalidInput {
        /// The order.
        order: OrderId,
        /// The field, as a clerk names it ("line 2 quantity", "requested date").
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A domain limit would be exceeded.
    #[error("order {}: {what} ({count}) exceeds the limit of {max}", .order.short())]
    LimitExceeded {
        /// The order.
        order: OrderId,
        /// What was counted ("number of lines", "customer length in bytes").
        what: String,
        /// The count the command would reach.
        count: u64,
        /// The limit.
        max: u64,
    },
    /// An amount does not fit in 64 bits.
    #[error("order {}: the {what} is too large to compute", .order.short())]
    Overflow {
        /// The order.
        order: OrderId,
        /// What overflowed ("order total").
        what: &'static str,
    },
    /// The order's status does not allow the command.
    #[error("order {} cannot {action}: it is {status}", .order.short())]
    WrongState {
        /// The order.
        order: OrderId,
        /// What was asked, as in "cannot ship".
        action: &'static str,
        /// The order's status.
        status: Status,
    },
    /// Not every department approved the current revision.
    #[error(
        "order {} cannot {action}: {} not approved revision {revision}",
        .order.short(), departments_have(.missing)
    )]
    MissingApproval {
        /// The order.
        order: OrderId,
        /// What was asked.
        action: &'static str,
        /// The departments whose approval of the current revision is missing.
        missing: Vec<Department>,
        /// The current revision.
        revision: u32,
    },
    /// The decision names a revision other than the current one.
    #[error(
        "order {}: the {department} decision is for revision {given}, but the order is now at revision {current}; review it again",
        .order.short()
    )]
    StaleRevision {
        /// The order.
        order: OrderId,
        /// The deciding department.
        department: Department,
        /// The revision the decision names.
        given: u32,
        /// The order's current revision.
        current: u32,
    },
    /// The department already decided the current revision.
    #[error("order {}: {department} has already {decision} revision {revision}", .order.short())]
    AlreadyDecided {
        /// The order.
        order: OrderId,
        /// The department.
        department: Department,
        /// The current revision.
        revision: u32,
        /// What it decided.
        decision: Decision,
    },
    /// The person who received the order, or who made the change that opened the current
    /// revision, may not approve it.
    #[error(
        "order {}: {actor} {} and may not approve it for {department}",
        .order.short(), self_entered(*.received, *.revision)
    )]
    SelfApproval {
        /// The order.
        order: OrderId,
        /// The person.
        actor: String,
        /// The department they tried to approve for.
        department: Department,
        /// The current revision.
        revision: u32,
        /// Whether they received the order (else they opened the revision with a change).
        received: bool,
    },
    /// One person already decided this revision for another department.
    #[error(
        "order {}: {actor} already decided revision {revision} for {decided}; one person decides for one department (ask a colleague of {department})",
        .order.short()
    )]
    SecondDepartment {
        /// The order.
        order: OrderId,
        /// The person's login.
        actor: String,
        /// The department they tried to decide for.
        department: Department,
        /// The department they decided for.
        decided: Department,
        /// The revision.
        revision: u32,
    },
    /// A change request that changes nothing.
    #[error("order {}: the change request changes nothing", .order.short())]
    NoChange {
        /// The order.
        order: OrderId,
    },
    /// Production work on an order whose production was never scheduled.
    #[error("order {} cannot {action}: production is not scheduled", .order.short())]
    ProductionNotScheduled {
        /// The order.
        order: OrderId,
        /// What was asked.
        action: &'static str,
    },
    /// Production work on an order whose production is finished.
    #[error("order {} cannot {action}: production is already completed", .order.short())]
    ProductionAlreadyCompleted {
        /// The order.
        order: OrderId,
        /// What was asked.
        action: &'static str,
    },
    /// Production cannot complete before the batch passed inspection.
    #[error(
        "order {} cannot complete production: {}; the batch must pass inspection first",
        .order.short(), latest_inspection(.latest)
    )]
    InspectionNotPassed {
        /// The order.
        order: OrderId,
        /// The latest inspection result, if any.
        latest: Option<InspectionResult>,
    },
    /// Shipping an order whose scheduled production is not completed.
    #[error("order {} cannot ship: production was scheduled and is not completed", .order.short())]
    ProductionIncomplete {
        /// The order.
        order: OrderId,
    },
    /// The complaint number does not exist on the order.
    #[error("order {} has no complaint {complaint_id}", .order.short())]
    ComplaintNotFound {
        /// The order.
        order: OrderId,
        /// The complaint number.
        complaint_id: u32,
    },
    /// Resolving a complaint that is not open.
    #[error("complaint {complaint_id} of order {} is already resolved", .order.short())]
    ComplaintNotOpen {
        /// The order.
        order: OrderId,
        /// The complaint number.
        complaint_id: u32,
    },
    /// Reopening a complaint that is not resolved.
    #[error("complaint {complaint_id} of order {} is still open; only a resolved complaint can be reopened", .order.short())]
    ComplaintNotResolved {
        /// The order.
        order: OrderId,
        /// The complaint number.
        complaint_id: u32,
    },
    /// Closing an order with open complaints.
    #[error("order {} cannot be closed: {} still open", .order.short(), complaints_are(.open))]
    OpenComplaints {
        /// The order.
        order: OrderId,
        /// The open (or reopened) complaint numbers.
        open: Vec<u32>,
    },
    /// Placing a hold on an order that has one.
    #[error("order {} already has an archive hold", .order.short())]
    HoldAlreadyPlaced {
        /// The order.
        order: OrderId,
    },
    /// Releasing a hold on an order that has none.
    #[error("order {} has no archive hold to release", .order.short())]
    NoHold {
        /// The order.
        order: OrderId,
    },
    /// A change request while another is pending, or an action that waits for the pending one.
    #[error(
        "order {} cannot {action}: change request {request_id} is pending; the departments decide it or sales withdraws it first",
        .order.short()
    )]
    ChangePending {
        /// The order.
        order: OrderId,
        /// What was asked.
        action: &'static str,
        /// The pending request.
        request_id: u32,
    },
    /// Deciding or withdrawing a change request when none is pending.
    #[error("order {} has no pending change request", .order.short())]
    NoChangePending {
        /// The order.
        order: OrderId,
    },
    /// The decision names another request than the pending one.
    #[error(
        "order {}: the decision is for change request {given}, but the pending request is {current}",
        .order.short()
    )]
    StaleRequest {
        /// The order.
        order: OrderId,
        /// The request the decision names.
        given: u32,
        /// The pending request.
        current: u32,
    },
    /// A department that does not decide this change request.
    #[error(
        "order {}: {role} does not decide change request {request_id} (it goes to {})",
        .order.short(), roles(.reviewers)
    )]
    NotAReviewer {
        /// The order.
        order: OrderId,
        /// The role that tried.
        role: Role,
        /// The request.
        request_id: u32,
        /// The roles that decide it.
        reviewers: Vec<Role>,
    },
    /// The department already decided the pending change request.
    #[error("order {}: {role} has already decided change request {request_id}", .order.short())]
    ChangeAlreadyDecided {
        /// The order.
        order: OrderId,
        /// The department (its role).
        role: Role,
        /// The request.
        request_id: u32,
    },
    /// The person who asked for a change may not approve it; one person decides for one
    /// department.
    #[error("order {}: {actor} {why} (change request {request_id})", .order.short())]
    ChangeSeparation {
        /// The order.
        order: OrderId,
        /// The person's login.
        actor: String,
        /// The request.
        request_id: u32,
        /// What keeps them from deciding, in words.
        why: String,
    },
    /// Scheduling or shipping an order that was not confirmed with the customer.
    #[error(
        "order {} cannot {action}: it is not confirmed with the customer (confirm it first)",
        .order.short()
    )]
    NotConfirmed {
        /// The order.
        order: OrderId,
        /// What was asked.
        action: &'static str,
    },
    /// An override (shipping unconfirmed, closing despite complaints) by someone who is not a
    /// department head, or where the rule it overrides does not apply.
    #[error("order {} cannot {action}: {problem}", .order.short())]
    OverrideRefused {
        /// The order.
        order: OrderId,
        /// What was asked.
        action: &'static str,
        /// Why the override is refused.
        problem: String,
    },
    /// Closing an order whose last resolution of a complaint left the customer unsatisfied.
    #[error(
        "order {} cannot be closed: the customer is not satisfied with the resolution of {}; handle it until the customer is satisfied (or a department head closes it with a reason)",
        .order.short(), complaint_list(.complaints)
    )]
    CustomerUnsatisfied {
        /// The order.
        order: OrderId,
        /// The complaints whose last resolution left the customer unsatisfied.
        complaints: Vec<u32>,
    },
    /// Recording an overdue review that is not pending.
    #[error("order {}: {role} has no pending review {what}", .order.short())]
    NoPendingReview {
        /// The order.
        order: OrderId,
        /// The department (its role).
        role: Role,
        /// Which review, in words ("of revision 2", "of change request 1").
        what: String,
    },
    /// Recording an overdue review before its due time.
    #[error("order {}: the {role} review is due only at {}", .order.short(), .due.to_minute())]
    NotYetDue {
        /// The order.
        order: OrderId,
        /// The department (its role).
        role: Role,
        /// When it is due.
        due: Timestamp,
    },
    /// The overdue review was recorded already (and escalated once).
    #[error("order {}: the overdue {role} review {what} was already escalated", .order.short())]
    AlreadyEscalated {
        /// The order.
        order: OrderId,
        /// The department (its role).
        role: Role,
        /// Which review, in words.
        what: String,
    },
    /// A business setting cannot be applied (a configuration mistake, not the clerk's).
    #[error("setting {setting} {problem}")]
    InvalidSetting {
        /// The setting.
        setting: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

fn roles(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
}

fn departments_have(departments: &[Department]) -> String {
    let names = departments.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ");
    if departments.len() == 1 {
        format!("{names} has")
    } else {
        format!("{names} have")
    }
}

fn complaints_are(ids: &[u32]) -> String {
    let list = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    if ids.len() == 1 {
        format!("complaint {list} is")
    } else {
        format!("complaints {list} are")
    }
}

fn complaint_list(ids: &[u32]) -> String {
    let list = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    if ids.len() == 1 {
        format!("complaint {list}")
    } else {
        format!("complaints {list}")
    }
}

fn self_entered(received: bool, revision: u32) -> String {
    if received {
        "received this order".to_string()
    } else {
        format!("opened revision {revision} with a change")
    }
}

fn latest_inspection(latest: &Option<InspectionResult>) -> String {
    match latest {
        Some(result) => format!("the latest inspection result is {result}"),
        None => "the batch has not been inspected".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn order() -> OrderId {
        OrderId(Uuid::from_u128(0x7f3a_12bc_0000_0000_0000_0000_0000_0001))
    }

    #[test]
    fn missing_approval_names_the_departments_and_revision() {
        let one = Rejection::MissingApproval {
            order: order(),
            action: "ship",
            missing: vec![Department::Finance],
            revision: 2,
        };
        assert_eq!(one.to_string(), "order 7f3a12bc cannot ship: finance has not approved revision 2");
        let two = Rejection::MissingApproval {
            order: order(),
            action: "ship",
            missing: vec![Department::Finance, Department::Warehouse],
            revision: 1,
        };
        assert_eq!(
            two.to_string(),
            "order 7f3a12bc cannot ship: finance, warehouse have not approved revision 1"
        );
    }

    #[test]
    fn open_complaints_agree_in_number() {
        let one = Rejection::OpenComplaints { order: order(), open: vec![2] };
        assert_eq!(one.to_string(), "order 7f3a12bc cannot be closed: complaint 2 is still open");
        let two = Rejection::OpenComplaints { order: order(), open: vec![1, 3] };
        assert_eq!(two.to_string(), "order 7f3a12bc cannot be closed: complaints 1, 3 are still open");
    }
}
