//! Commands: what a clerk asks of one order, in imperative form, with their payloads.
//!
//! The JSON form is internally tagged by `command`, whose value is [`Command::name`]:
//! `{"command": "ship", "carrier": "...", ...}`. Unknown fields are refused so that a typo in a
//! field name is an error, not a silently ignored value.

use orderflow_schemas::{
    AccessKind, Channel, ComplaintCategory, ConfirmMethod, Currency, Date, DeliveryMode, Department,
    ImpactNote, Initiator, InspectionResult, LineQuantity, Remedy, Role, Severity, ShipMode, VisitMethod,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A line as the customer orders it; the order assigns its line number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    /// Product code.
    pub sku: String,
    /// Specification (grade, size, packaging...); may be empty.
    #[serde(default)]
    pub spec: String,
    /// Ordered quantity, in `unit`; more than 0.
    pub quantity: u32,
    /// Unit of measure ("pcs", "kg", "l").
    pub unit: String,
    /// Price per unit in minor units of the order currency; 0 or more.
    pub unit_price_minor: i64,
}

/// Take in a new order. Creates the order; the review of revision 1 starts at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveOrder {
    /// How the order came in.
    pub channel: Channel,
    /// The customer.
    pub customer: String,
    /// Contact person, phone or e-mail.
    pub contact: String,
    /// The lines, numbered 1..n in this order.
    pub lines: Vec<NewLine>,
    /// Currency of every price.
    pub currency: Currency,
    /// The delivery date the customer asks for.
    pub requested_date: Date,
    /// Where to deliver.
    pub delivery_address: String,
    /// Packaging, labelling, temperature and other special requirements.
    #[serde(default)]
    pub special_requirements: String,
}

/// Approve the current revision for one department.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveReview {
    /// The department deciding; the actor's role must be this department's role.
    pub department: Department,
    /// The revision the reviewer looked at. When given and the order has moved on to another
    /// revision meanwhile, the approval is refused instead of counting for what was not seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
    /// Remarks.
    #[serde(default)]
    pub note: String,
}

/// Reject the current revision for one department; this rejects the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectReview {
    /// The department deciding; the actor's role must be this department's role.
    pub department: Department,
    /// The revision the reviewer looked at (see [`ApproveReview::revision`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
    /// Why; required.
    pub reason: String,
}

/// Confirm the approved order with the customer (seed 002 二.3): the promised delivery date,
/// the expected ship date, the delivery mode, and how the customer confirmed. Scheduling and
/// shipping wait for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmOrder {
    /// The date promised to the customer; not before today.
    pub promised_date: Date,
    /// When the goods are expected to leave; not before today, not after the promised date.
    pub expected_ship_date: Date,
    /// How the goods reach the customer.
    pub delivery_mode: DeliveryMode,
    /// How the customer confirmed.
    pub confirmed_via: ConfirmMethod,
    /// Remarks (read-back done, who confirmed at the customer).
    #[serde(default)]
    pub note: String,
}

/// Changes to one existing line; fields left out stay as they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineUpdate {
    /// The line to change.
    pub line_no: u16,
    /// The new quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// The new specification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// The new unit price in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price_minor: Option<i64>,
}

/// One edit of the order lines within a change request. Edits apply in the order given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "edit", rename_all = "snake_case")]
pub enum LineEdit {
    /// Change quantity, spec or price of an existing line.
    Update(LineUpdate),
    /// Add a line; it takes the next line number never used in this order.
    Add(NewLine),
    /// Remove a line; its number is never reused.
    Remove {
        /// The line to remove.
        line_no: u16,
    },
}

/// Open a change request (seed 002 三.4): the departments decide it while the approved revision
/// stays in force. At most one request is pending per order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeOrder {
    /// Who asks: the customer, or the company itself.
    pub initiated_by: Initiator,
    /// Why; required.
    pub reason: String,
    /// What the change would mean for each deciding department (production, procurement,
    /// finance, warehouse, logistics); at most one note per department.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub impact: Vec<ImpactNote>,
    /// Line edits, applied in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineEdit>,
    /// The new requested delivery date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_date: Option<Date>,
    /// The new delivery address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_address: Option<String>,
}

/// A department approves the pending change request. When every deciding department has
/// approved, the change takes effect as the next revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveChange {
    /// The deciding department, by its role (production, procurement, finance, warehouse,
    /// logistics); the actor's role must be this one.
    pub department: Role,
    /// The request the reviewer looked at; refused when another one is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<u32>,
    /// Remarks.
    #[serde(default)]
    pub note: String,
}

/// A department declines the pending change request: the request is declined, the order goes
/// on unchanged on its approved revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineChange {
    /// The deciding department, by its role.
    pub department: Role,
    /// The request the reviewer looked at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<u32>,
    /// Why; required.
    pub reason: String,
}

/// Sales withdraws the pending change request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawChange {
    /// Why; required.
    pub reason: String,
}

/// Cancel the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelOrder {
    /// Who asks: the customer, or the company itself.
    pub initiated_by: Initiator,
    /// Why; required.
    pub reason: String,
}

/// Plan (or re-plan) production of the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleProduction {
    /// The planned finish date; not before today.
    pub planned_finish: Date,
    /// Who is responsible, line or shift.
    #[serde(default)]
    pub note: String,
}

/// Record a quality inspection of the produced batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectQuality {
    /// Pass, rework or scrap.
    pub result: InspectionResult,
    /// Findings; the cause is required when the batch failed (rework or scrap).
    #[serde(default)]
    pub note: String,
}

/// Record that production finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteProduction {
    /// Remarks.
    #[serde(default)]
    pub note: String,
}

/// Ship the whole order and notify the customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipOrder {
    /// The carrier.
    pub carrier: String,
    /// Transport mode.
    pub mode: ShipMode,
    /// Tracking number.
    pub tracking_number: String,
    /// Expected arrival; not before the ship date.
    pub eta: Date,
    /// Ship a stock order (never scheduled) that was not confirmed with the customer: the
    /// reason. Only a department head may, and it is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unconfirmed_reason: Option<String>,
}

/// Report that the shipment is late, with a new ETA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportDelay {
    /// The new expected arrival; not before today and not the current ETA.
    pub new_eta: Date,
    /// Why; required.
    pub reason: String,
}

/// Record that the goods arrived at the customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverOrder {
    /// Remarks (proof of delivery reference).
    #[serde(default)]
    pub note: String,
}

/// Record the customer's inspection and sign-off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOrder {
    /// Who signed at the customer.
    pub signed_by: String,
    /// Accepted quantity for the lines not accepted in full; a shipped line left out is accepted
    /// in full, and leaving the whole field out accepts everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Vec<LineQuantity>>,
    /// Remarks.
    #[serde(default)]
    pub note: String,
}

/// Record that the customer refused the delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseOrder {
    /// Who refused at the customer.
    pub refused_by: String,
    /// Why; required.
    pub reason: String,
}

/// Open an after-sales complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenComplaint {
    /// What it is about.
    pub category: ComplaintCategory,
    /// How serious.
    pub severity: Severity,
    /// The customer's words; required.
    pub text: String,
    /// Who follows it up (a login); the person opening it when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
}

/// Record progress on an open complaint: what was done, and the next step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateComplaint {
    /// The complaint's number within the order.
    pub complaint_id: u32,
    /// What was done or learnt; required.
    pub note: String,
    /// The next step, and by whom; required.
    pub next_step: String,
}

/// Resolve an open (or reopened) complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveComplaint {
    /// The complaint's number within the order.
    pub complaint_id: u32,
    /// What was done; required.
    pub resolution: String,
    /// What was done, by kind.
    pub remedy: Remedy,
    /// Whether the customer is satisfied (an unsatisfied customer keeps the order from closing).
    pub customer_satisfied: bool,
}

/// Reopen a resolved complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenComplaint {
    /// The complaint's number within the order.
    pub complaint_id: u32,
    /// Why; required.
    pub reason: String,
}

/// Record a follow-up visit or satisfaction survey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordFeedback {
    /// Satisfaction score, 1 (poor) to 5 (excellent).
    pub score: u8,
    /// The customer's comment.
    #[serde(default)]
    pub comment: String,
}

/// Record a follow-up visit (回訪) after sign-off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordVisit {
    /// How the customer was reached.
    pub method: VisitMethod,
    /// Satisfaction score, 1 (poor) to 5 (excellent); left out when the customer did not
    /// answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    /// The customer's words.
    #[serde(default)]
    pub comment: String,
}

/// Close and archive the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseOrder {
    /// Close although a complaint is open or the last resolution left the customer
    /// unsatisfied: the reason. Only a department head may, and it is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
}

/// Record that a review passed its time limit undecided (the deadline watcher of `serve`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkOverdue {
    /// The revision under review (a change request's: the revision it would make).
    pub revision: u32,
    /// The change request, when the review is a change request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<u32>,
    /// The department (its role) that has not decided.
    pub department: Role,
}

/// Place a legal or dispute hold on the order's archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceHold {
    /// Why (dispute, audit, claim); required.
    pub reason: String,
}

/// Release the archive hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseHold {
    /// Remarks.
    #[serde(default)]
    pub note: String,
}

/// Record a read of the order's archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAccess {
    /// What was read.
    pub access: AccessKind,
    /// Details (export file, replay point, purpose).
    #[serde(default)]
    pub detail: String,
}

/// Record that a read of the order's archive was refused (who asked is the actor; the
/// application decides the refusal, the order records it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRefusedAccess {
    /// What was asked for.
    pub access: AccessKind,
    /// Why it was refused; required.
    pub reason: String,
}

macro_rules! commands {
    ($($variant:ident, $name:literal, $action:literal;)*) => {
        /// A request to change one order. The order is the stream the command is sent to.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
        #[serde(tag = "command")]
        pub enum Command {
            $(
                #[doc = concat!("`", $name, "`: see [`", stringify!($variant), "`].")]
                #[serde(rename = $name)]
                $variant($variant),
            )*
        }

        impl Command {
            /// Every command name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The command's short name, used on the command line, in JSON and in messages.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Command::$variant(_) => $name,)*
                }
            }

            /// What the command does, in the words of "order 7f3a12bc cannot ...".
            pub fn action(&self) -> &'static str {
                match self {
                    $(Command::$variant(_) => $action,)*
                }
            }
        }

        $(
            impl From<$variant> for Command {
                fn from(c: $variant) -> Self {
                    Command::$variant(c)
                }
            }
        )*
    };
}

commands! {
    ReceiveOrder, "receive", "be received";
    ApproveReview, "approve", "be approved";
    RejectReview, "reject", "be rejected";
    ConfirmOrder, "confirm", "be confirmed";
    ChangeOrder, "change", "be changed";
    CancelOrder, "cancel", "be cancelled";
    ScheduleProduction, "schedule", "schedule production";
    InspectQuality, "inspect", "record an inspection";
    CompleteProduction, "complete", "complete production";
    ShipOrder, "ship", "ship";
    ReportDelay, "delay", "report a delay";
    DeliverOrder, "deliver", "be delivered";
    SignOrder, "sign", "be signed";
    RefuseOrder, "refuse", "be refused";
    OpenComplaint, "complain", "open a complaint";
    ResolveComplaint, "resolve", "resolve a complaint";
    ReopenComplaint, "reopen", "reopen a complaint";
    RecordFeedback, "feedback", "record feedback";
    CloseOrder, "close", "be closed";
    PlaceHold, "hold", "place an archive hold";
    ReleaseHold, "release", "release the archive hold";
    RecordAccess, "access", "record an archive access";
    RecordRefusedAccess, "access_refused", "record a refused archive access";
    ApproveChange, "approve_change", "approve a change request";
    DeclineChange, "decline_change", "decline a change request";
    WithdrawChange, "withdraw_change", "withdraw a change request";
    UpdateComplaint, "update_complaint", "record complaint progress";
    RecordVisit, "visit", "record a follow-up visit";
    MarkOverdue, "mark_overdue", "record an overdue review";
}

impl Command {
    /// The role the command belongs to: the one a clerk issuing it normally acts in. Approvals
    /// and rejections belong to the deciding department's role. See [`crate::allowed_roles`] for
    /// every role that may issue it.
    pub fn default_role(&self) -> Role {
        match self {
            Command::ApproveReview(c) => c.department.role(),
            Command::RejectReview(c) => c.department.role(),
            Command::ApproveChange(c) => c.department,
            Command::DeclineChange(c) => c.department,
            Command::MarkOverdue(_) => Role::System,
            Command::ReceiveOrder(_)
            | Command::ConfirmOrder(_)
            | Command::ChangeOrder(_)
            | Command::WithdrawChange(_)
            | Command::CancelOrder(_)
            | Command::SignOrder(_)
            | Command::RefuseOrder(_)
            | Command::CloseOrder(_) => Role::Sales,
            Command::ScheduleProduction(_) | Command::CompleteProduction(_) => Role::Production,
            Command::InspectQuality(_) => Role::Quality,
            Command::ShipOrder(_) | Command::ReportDelay(_) | Command::DeliverOrder(_) => Role::Logistics,
            Command::OpenComplaint(_)
            | Command::ResolveComplaint(_)
            | Command::ReopenComplaint(_)
            | Command::UpdateComplaint(_)
            | Command::RecordVisit(_)
            | Command::RecordFeedback(_) => Role::CustomerService,
            Command::PlaceHold(_) | Command::ReleaseHold(_) => Role::Archivist,
            Command::RecordAccess(_) | Command::RecordRefusedAccess(_) => Role::Auditor,
        }
    }

    /// Whether the command may still succeed on a closed order: after-sales work (complaints,
    /// feedback) and archive work (holds, access records).
    pub fn allowed_after_close(&self) -> bool {
        matches!(
            self,
            Command::OpenComplaint(_)
                | Command::ResolveComplaint(_)
                | Command::ReopenComplaint(_)
                | Command::UpdateComplaint(_)
                | Command::RecordVisit(_)
                | Command::RecordFeedback(_)
                | Command::PlaceHold(_)
                | Command::ReleaseHold(_)
                | Command::RecordAccess(_)
                | Command::RecordRefusedAccess(_)
        )
    }
}
