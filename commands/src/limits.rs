//! The domain's limits: how large an order, a text or a quantity may be, how many complaints,
//! revisions and delays an order may collect. Reaching one is a typed rejection.

/// Every limit the order rules enforce. Passed explicitly in the [`crate::Context`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Lines in one order.
    pub lines_per_order_max: usize,
    /// Bytes of a free text (address, reason, note, complaint, specification).
    pub text_bytes_max: usize,
    /// Bytes of a name (customer, contact, SKU, unit, carrier, tracking number, signer).
    pub name_bytes_max: usize,
    /// Quantity of one line.
    pub quantity_max: u32,
    /// Unit price of one line, in minor units.
    pub unit_price_minor_max: i64,
    /// Complaints opened on one order.
    pub complaints_per_order_max: u32,
    /// Feedback records on one order.
    pub feedback_per_order_max: u32,
    /// Revisions of one order (each re-approved change opens one).
    pub revisions_per_order_max: u32,
    /// Delay reports on one shipment.
    pub delays_per_shipment_max: u32,
    /// Change requests on one order (pending, decided or withdrawn).
    pub change_requests_per_order_max: u32,
    /// Progress updates on one complaint.
    pub complaint_updates_max: u32,
    /// Follow-up visits recorded on one order.
    pub visits_per_order_max: u32,
}

impl Limits {
    /// The limits used unless configured otherwise.
    pub const DEFAULT: Limits = Limits {
        lines_per_order_max: 200,
        text_bytes_max: 2_000,
        name_bytes_max: 200,
        quantity_max: 10_000_000,
        unit_price_minor_max: 1_000_000_000_000,
        complaints_per_order_max: 100,
        feedback_per_order_max: 100,
        revisions_per_order_max: 100,
        delays_per_shipment_max: 100,
        change_requests_per_order_max: 100,
        complaint_updates_max: 200,
        visits_per_order_max: 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
