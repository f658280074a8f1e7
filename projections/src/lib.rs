//! orderflow's read models: the projection runner, the status board, the KPIs and the audit
//! archive.
//!
//! Invariants:
//! - a read model is a plain in-memory struct folded from the log; it is never a source of truth
//!   and can always be rebuilt from position 0;
//! - a view and the checkpoint it reflects are persisted together, in one snapshot, so a crash
//!   never applies an event twice or skips one;
//! - an event a projection cannot apply stops it at that position with the error: nothing is
//!   skipped silently;
//! - this crate knows the event vocabulary (`orderflow-schemas`) and the log
//!   (`orderflow-engine`), never the command handlers, the command line or the bus; it prints
//!   nothing and reads no clock: `now` is always passed in.

mod audit;
mod kpi;
mod runner;
mod status;
pub mod table;

pub use audit::{
    export, export_signed_message, history, render_access, render_timeline, replay, verify_export, Access,
    AsOf, AuditError, AuditView, ExportError, ExportSummary, Hold, Replay, ReplayedEvent, Retention,
    RetentionStatus, TimelineEntry, EXPORT_FORMAT, EXPORT_FORMAT_VERSION, EXPORT_SIGNED,
};
pub use kpi::{
    DurationStats, Group, KpiFacts, KpiQuery, KpiReport, KpiRow, LineFacts, OrderFacts, Ratio, ReviewFacts,
    ReviewQuery, ReviewReport, ReviewRow, Satisfaction,
};
pub use runner::{
    snapshot_info, CatchUp, Progress, Projection, ProjectionError, Rebuild, Runner, RunnerConfig,
    RunnerError, SnapshotInfo,
};
pub use status::{
    AtRisk, ChangeRequest, Complaint, ComplaintNote, Escalation, LateOrder, OrderRow, OrderState,
    OverdueApproval, OverdueChangeReview, PendingApproval, PendingChangeReview, RiskReason, Shipment,
    StatusBoard, Visit, VisitDue, AT_RISK_DAYS_DEFAULT, VISIT_AFTER_DAYS_DEFAULT,
};
pub use table::{display_width, TableWidth};
