//! The vocabulary of order states.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an order stands: the one vocabulary of order states, used by `order show`, the status
/// board, every JSON form and the docs. It is derived from the order's events, never stored:
/// the command side derives it from the order's facts, the status board folds it from the
/// events, and a test holds the two to the same answer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
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

impl OrderStatus {
    /// Every state, in workflow order.
    pub const ALL: &'static [OrderStatus] = &[
        OrderStatus::Received,
        OrderStatus::InReview,
        OrderStatus::Approved,
        OrderStatus::Rejected,
        OrderStatus::Confirmed,
        OrderStatus::Scheduled,
        OrderStatus::InProduction,
        OrderStatus::ReadyToShip,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Signed,
        OrderStatus::Refused,
        OrderStatus::Cancelled,
        OrderStatus::Closed,
    ];

    /// The word used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Received => "received",
            OrderStatus::InReview => "in_review",
            OrderStatus::Approved => "approved",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Scheduled => "scheduled",
            OrderStatus::InProduction => "in_production",
            OrderStatus::ReadyToShip => "ready_to_ship",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Signed => "signed",
            OrderStatus::Refused => "refused",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Closed => "closed",
        }
    }

    /// Received and not yet shipped, rejected or cancelled: the order may still be confirmed,
    /// changed, cancelled, produced and shipped.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderStatus::Received
                | OrderStatus::InReview
                | OrderStatus::Approved
                | OrderStatus::Confirmed
                | OrderStatus::Scheduled
                | OrderStatus::InProduction
                | OrderStatus::ReadyToShip
        )
    }

    /// Rank along the happy path, for "further on" comparisons.
    pub fn rank(self) -> u8 {
        match self {
            OrderStatus::Received => 0,
            OrderStatus::InReview => 1,
            OrderStatus::Approved | OrderStatus::Rejected => 2,
            OrderStatus::Confirmed => 3,
            OrderStatus::Scheduled => 4,
            OrderStatus::InProduction => 5,
            OrderStatus::ReadyToShip => 6,
            OrderStatus::Shipped => 7,
            OrderStatus::Delivered => 8,
            OrderStatus::Signed | OrderStatus::Refused | OrderStatus::Cancelled => 9,
            OrderStatus::Closed => 10,
        }
    }
}

impl fmt::Display for OrderStatus {
    /// The word as a clerk reads it: `as_str` with spaces ("in review").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().replace('_', " "))
    }
}

impl FromStr for OrderStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        OrderStatus::ALL.iter().copied().find(|st| st.as_str() == t).ok_or_else(|| {
            let all: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
            format!("'{s}' is not an order state; expected one of: {}", all.join(", "))
        })
    }
}

/// The fold that derives an order's [`OrderStatus`] from its events, in order: the one
/// derivation that both the command side (the order aggregate) and the status board use, so
/// that `order show` and `status` can never disagree.
///
/// A change that needs re-approval sends an order back to review; once the new revision is
/// approved it returns to where it was (say, in production) — or to confirmed or approved, if
/// it had not got further.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusFold {
    /// Where the order stands.
    pub status: OrderStatus,
    /// Where a re-approved order returns to.
    pub resume: Option<OrderStatus>,
    /// Whether the order was ever confirmed with the customer.
    pub confirmed: bool,
    /// The current revision.
    pub revision: u32,
}

impl Default for StatusFold {
    fn default() -> Self {
        Self { status: OrderStatus::Received, resume: None, confirmed: false, revision: 1 }
    }
}

impl StatusFold {
    /// Production moves on; while a change awaits re-approval the order stays in review and
    /// the step is where it returns to once approved.
    fn advance(&mut self, to: OrderStatus) {
        if self.status == OrderStatus::InReview {
            self.resume = Some(to);
        } else {
            self.status = to;
        }
    }

    /// Applies one event of the order (its `order_received` starts the fold; applying it is a
    /// no-op).
    pub fn apply(&mut self, body: &crate::EventBody) {
        use crate::EventBody as E;
        use OrderStatus as S;
        match body {
            E::ReviewApproved(_) | E::ReviewRejected(_) => {
                if self.status == S::Received {
                    self.status = S::InReview;
                }
            }
            E::OrderApproved(a) => {
                if a.revision == self.revision {
                    let base = if self.confirmed { S::Confirmed } else { S::Approved };
                    self.status = match self.resume.take() {
                        Some(s) if s.rank() > base.rank() => s,
                        _ => base,
                    };
                }
            }
            E::OrderRejected(_) => self.status = S::Rejected,
            E::OrderConfirmed(_) => {
                self.confirmed = true;
                if self.status == S::Approved {
                    self.status = S::Confirmed;
                }
            }
            E::OrderChanged(c) => {
                self.revision = c.revision;
                if c.reapproval_required {
                    if self.status.rank() > S::InReview.rank() {
                        self.resume = Some(self.resume.unwrap_or(self.status));
                    }
                    self.status = S::InReview;
                }
            }
            E::OrderCancelled(_) => self.status = S::Cancelled,
            E::ProductionScheduled(_) => self.advance(S::Scheduled),
            E::QualityInspected(_) => self.advance(S::InProduction),
            E::ProductionCompleted(_) => self.advance(S::ReadyToShip),
            E::OrderShipped(_) => self.status = S::Shipped,
            E::OrderDelivered(_) => self.status = S::Delivered,
            E::OrderSigned(_) => self.status = S::Signed,
            E::OrderRefused(_) => self.status = S::Refused,
            E::OrderClosed(_) => self.status = S::Closed,
            E::OrderReceived(_)
            | E::ShipmentDelayed(_)
            | E::ComplaintOpened(_)
            | E::ComplaintResolved(_)
            | E::ComplaintReopened(_)
            | E::FeedbackRecorded(_)
            | E::ArchiveHoldPlaced(_)
            | E::ArchiveHoldReleased(_)
            | E::ArchiveAccessed(_)
            | E::ArchiveAccessRefused(_)
            // A change request leaves the order where it stands: the approved revision stays in
            // force; an approved request is applied by `order_changed` (without re-approval).
            | E::ChangeRequested(_)
            | E::ChangeApproved(_)
            | E::ChangeDeclined(_)
            | E::ChangeWithdrawn(_)
            | E::ReviewOverdue(_)
            | E::ComplaintUpdated(_)
            | E::VisitRecorded(_) => {}
            // Issue 14 (shipments): the shipment helper decides the partial-shipment states.
            E::ShipmentDispatched(_) => self.status = S::Shipped,
            // Not events of an order: never in an order's stream.
            E::UserAdded(_)
            | E::RoleGranted(_)
            | E::RoleRevoked(_)
            | E::UserDisabled(_)
            | E::UserEnabled(_)
            | E::CredentialChanged(_) => {}
        }
    }
}
