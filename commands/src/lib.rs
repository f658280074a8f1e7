//! The Order aggregate: commands, the rules that decide them, the events they produce and the
//! state folded from those events.
//!
//! Invariants:
//! - the domain does no I/O, reads no clock and draws no random number: the actor, the effective
//!   time, the settings and the limits arrive in a [`Context`];
//! - [`decide`] holds every business rule and never panics; [`evolve`] holds none and cannot fail;
//! - a rejected command produces no event; an accepted one produces at least one, each carrying
//!   the context's actor and time;
//! - progress (the [`Status`]) is derived from recorded facts, never stored beside them;
//! - the domain knows nothing about the event log, NATS or the command line; the `orderflow`
//!   crate's `aggregate.rs` adapts it to the engine's generic `Aggregate` trait, so this crate
//!   depends on `orderflow-schemas` alone.

mod command;
mod context;
mod decide;
mod limits;
mod rejection;
mod role;
mod state;
mod validate;

pub use command::{
    ApproveChange, ApproveReview, CancelOrder, ChangeOrder, CloseOrder, Command, CompleteProduction,
    ConfirmOrder, DeclineChange, DeliverOrder, InspectQuality, LineEdit, LineUpdate, MarkOverdue, NewLine,
    OpenComplaint, PlaceHold, ReceiveOrder, RecordAccess, RecordFeedback, RecordRefusedAccess, RecordVisit,
    RefuseOrder, RejectReview, ReleaseHold, ReopenComplaint, ReportDelay, ResolveComplaint,
    ScheduleProduction, ShipOrder, SignOrder, UpdateComplaint, WithdrawChange,
};
pub use context::{Context, MasterFacts, ReviewHours, Settings};
pub use decide::decide;
pub use limits::Limits;
pub use rejection::Rejection;
pub use role::{allowed_roles, may_issue};
pub use state::{
    evolve, replay, ChangeDecision, ChangeRequest, Complaint, ComplaintStatus, Confirmation, Decision,
    LateFact, OrderState, Production, Refusal, RequestOutcome, ReviewRecord, ReviewRejection, Shipment,
    SignOff, Status,
};
