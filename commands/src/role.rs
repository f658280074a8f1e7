//! Who may issue what: the roles permitted for each command.
//!
//! Auditors issue no business command; their archive reads are recorded (`access`, which every
//! role may issue, because every read of the archive is recorded whoever reads it), and so are
//! the reads refused (`access_refused`, likewise every role's).

#[cfg(doc)]
use orderflow_schemas::CHANGE_REVIEWERS;
use orderflow_schemas::{Department, Role};

use crate::command::Command;

const SALES: &[Role] = &[Role::Sales];
const PRODUCTION: &[Role] = &[Role::Production];
const PROCUREMENT: &[Role] = &[Role::Procurement];
const FINANCE: &[Role] = &[Role::Finance];
const WAREHOUSE: &[Role] = &[Role::Warehouse];
const LOGISTICS: &[Role] = &[Role::Logistics];
const QUALITY: &[Role] = &[Role::Quality];
const CUSTOMER_SERVICE: &[Role] = &[Role::CustomerService];
const ARCHIVIST: &[Role] = &[Role::Archivist];
const SALES_OR_LOGISTICS: &[Role] = &[Role::Sales, Role::Logistics];
const SERVICE_OR_SALES: &[Role] = &[Role::CustomerService, Role::Sales];
const SALES_OR_SERVICE: &[Role] = &[Role::Sales, Role::CustomerService];
const SYSTEM: &[Role] = &[Role::System];
const NOBODY: &[Role] = &[];

/// The role that decides a change request for `role`'s department: the role itself when it is
/// one of [`CHANGE_REVIEWERS`], nobody otherwise.
fn change_reviewer(role: Role) -> &'static [Role] {
    match role {
        Role::Production => PRODUCTION,
        Role::Procurement => PROCUREMENT,
        Role::Finance => FINANCE,
        Role::Warehouse => WAREHOUSE,
        Role::Logistics => LOGISTICS,
        _ => NOBODY,
    }
}

fn department_roles(department: Department) -> &'static [Role] {
    match department {
        Department::Production => PRODUCTION,
        Department::Procurement => PROCUREMENT,
        Department::Finance => FINANCE,
        Department::Warehouse => WAREHOUSE,
    }
}

/// Every role that may issue the command.
pub fn allowed_roles(command: &Command) -> &'static [Role] {
    match command {
        Command::ReceiveOrder(_)
        | Command::ConfirmOrder(_)
        | Command::ChangeOrder(_)
        | Command::WithdrawChange(_)
        | Command::CancelOrder(_) => SALES,
        Command::ApproveChange(c) => change_reviewer(c.department),
        Command::DeclineChange(c) => change_reviewer(c.department),
        Command::MarkOverdue(_) => SYSTEM,
        Command::ApproveReview(c) => department_roles(c.department),
        Command::RejectReview(c) => department_roles(c.department),
        Command::ScheduleProduction(_) | Command::CompleteProduction(_) => PRODUCTION,
        Command::InspectQuality(_) => QUALITY,
        Command::ShipOrder(_) | Command::ReportDelay(_) | Command::DeliverOrder(_) => LOGISTICS,
        Command::SignOrder(_) | Command::RefuseOrder(_) => SALES_OR_LOGISTICS,
        Command::OpenComplaint(_) | Command::RecordFeedback(_) | Command::RecordVisit(_) => SERVICE_OR_SALES,
        Command::ResolveComplaint(_) | Command::ReopenComplaint(_) | Command::UpdateComplaint(_) => {
            CUSTOMER_SERVICE
        }
        Command::CloseOrder(_) => SALES_OR_SERVICE,
        Command::PlaceHold(_) | Command::ReleaseHold(_) => ARCHIVIST,
        Command::RecordAccess(_) | Command::RecordRefusedAccess(_) => Role::ALL,
    }
}

/// Whether a person acting in `role` may issue the command.
pub fn may_issue(role: Role, command: &Command) -> bool {
    allowed_roles(command).contains(&role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{ApproveReview, CloseOrder};

    #[test]
    fn a_department_decision_belongs_to_that_department_only() {
        for &department in Department::ALL {
            let c = Command::from(ApproveReview { department, revision: None, note: String::new() });
            assert_eq!(allowed_roles(&c), &[department.role()]);
            assert_eq!(c.default_role(), department.role());
        }
    }

    #[test]
    fn the_default_role_is_always_allowed() {
        let c = Command::from(CloseOrder::default());
        assert!(may_issue(c.default_role(), &c));
        assert!(!may_issue(Role::Auditor, &c));
    }
}
