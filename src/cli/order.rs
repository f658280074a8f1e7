//! `orderflow order ...`: one subcommand per workflow command, turned into a domain `Command`.

use clap::{Args, Subcommand};
use orderflow_commands::*;
use orderflow_schemas::{
    Channel, ComplaintCategory, ConfirmMethod, Currency, Date, DeliveryMode, Department, Grant, ImpactNote,
    Initiator, InspectionResult, LineQuantity, Remedy, Role, Severity, ShipMode, VisitMethod,
    CHANGE_REVIEWERS,
};
use uuid::Uuid;

use crate::app::OrderRef;

/// A value parser for one of the domain's word enums that lists its words in `--help` and in
/// the error for a wrong one.
macro_rules! words {
    ($t:ty) => {{
        use clap::builder::TypedValueParser as _;
        clap::builder::PossibleValuesParser::new(<$t>::ALL.iter().map(|v| v.as_str()))
            .try_map(|s| s.parse::<$t>())
    }};
}

/// Options every command takes.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Gone: every event carries the logged-in user (--user); kept only to say so.
    #[arg(long, hide = true)]
    pub actor: Option<String>,
    /// The role to act in, among your own (needed only when several of yours could issue the
    /// command), e.g. finance or dept_head:finance.
    #[arg(long, value_parser = parse_grant)]
    pub role: Option<Grant>,
    /// Idempotency key: the same id again returns the first result and writes nothing.
    #[arg(long)]
    pub command_id: Option<Uuid>,
    /// Effective time (RFC 3339 or YYYY-MM-DD) of late paperwork; never in the future. Needs the
    /// late_entry permission (department heads, admins) and --late-reason.
    #[arg(long, value_parser = parse_time)]
    pub at: Option<orderflow_schemas::Timestamp>,
    /// Why the entry is late (with --at); recorded with every event of the command.
    #[arg(long, value_name = "TEXT")]
    pub late_reason: Option<String>,
}

fn parse_grant(s: &str) -> Result<Grant, String> {
    s.parse()
}

fn parse_time(s: &str) -> Result<orderflow_schemas::Timestamp, String> {
    orderflow_schemas::Timestamp::parse(s)
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s)
}

fn parse_order(s: &str) -> Result<OrderRef, String> {
    s.parse()
}

/// A department that decides change requests (production, procurement, finance, warehouse,
/// logistics), by its role's word.
fn parse_change_reviewer(s: &str) -> Result<Role, String> {
    let role: Role = s.parse()?;
    if CHANGE_REVIEWERS.contains(&role) {
        Ok(role)
    } else {
        let all: Vec<&str> = CHANGE_REVIEWERS.iter().map(|r| r.as_str()).collect();
        Err(format!("'{s}' does not decide change requests; expected one of: {}", all.join(", ")))
    }
}

/// `ROLE=TEXT`: a deciding department's impact note.
fn parse_impact(s: &str) -> Result<ImpactNote, String> {
    let (role, note) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not DEPARTMENT=NOTE (e.g. production=\"needs a second shift\")"))?;
    Ok(ImpactNote { role: parse_change_reviewer(role)?, note: note.trim().to_string() })
}

/// Parses a price in major units with up to two decimals ("12", "12.5", "12.50") into minor units,
/// exactly (no floating point).
pub fn parse_price(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let bad = || format!("'{s}' is not a price (major units with up to 2 decimals, e.g. 12.50)");
    let (neg, unsigned) = t.strip_prefix('-').map_or((false, t), |rest| (true, rest));
    let (whole, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits_only = |x: &str| x.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || frac.len() > 2 || !digits_only(whole) || !digits_only(frac) {
        return Err(bad());
    }
    let w: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    let f: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
    let minor = w.checked_mul(100).and_then(|v| v.checked_add(f)).ok_or_else(bad)?;
    Ok(if neg { -minor } else { minor })
}

/// `SKU:QTY:UNIT_PRICE[:UNIT[:SPEC]]`.
fn parse_line(s: &str) -> Result<NewLine, String> {
    let parts: Vec<&str> = s.splitn(5, ':').collect();
    if parts.len() < 3 {
        return Err(format!(
            "'{s}' is not a line: expected SKU:QTY:UNIT_PRICE[:UNIT[:SPEC]], e.g. P7:10:12.50"
        ));
    }
    let quantity = parts[1]
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("'{}' in line '{s}' is not a quantity (a whole number from 1)", parts[1]))?;
    Ok(NewLine {
        sku: parts[0].trim().to_string(),
        quantity,
        unit_price_minor: parse_price(parts[2])?,
        unit: parts.get(3).map(|u| u.trim()).filter(|u| !u.is_empty()).unwrap_or("pcs").to_string(),
        spec: parts.get(4).map(|s| s.trim().to_string()).unwrap_or_default(),
    })
}

/// `LINE:VALUE`.
fn parse_pair(s: &str) -> Result<(u16, String), String> {
    let (l, v) = s.split_once(':').ok_or_else(|| format!("'{s}' is not LINE:VALUE"))?;
    let line = l.trim().parse::<u16>().map_err(|_| format!("'{l}' in '{s}' is not a line number"))?;
    Ok((line, v.to_string()))
}

/// `LINE:PRICE`.
fn parse_line_price(s: &str) -> Result<(u16, i64), String> {
    let (line_no, v) = parse_pair(s)?;
    Ok((line_no, parse_price(&v)?))
}

fn parse_line_qty(s: &str) -> Result<LineQuantity, String> {
    let (line_no, v) = parse_pair(s)?;
    let quantity = v.trim().parse::<u32>().map_err(|_| format!("'{v}' in '{s}' is not a quantity"))?;
    Ok(LineQuantity { line_no, quantity })
}

/// An order subcommand.
#[derive(Subcommand, Debug)]
pub enum OrderCmd {
    /// Take in a new order; prints its id.
    Receive {
        /// The customer's name.
        #[arg(long)]
        customer: String,
        /// Contact person, phone or e-mail.
        #[arg(long, default_value = "on file")]
        contact: String,
        /// How it came in.
        #[arg(long, default_value = "phone", value_parser = words!(Channel))]
        channel: Channel,
        /// A line: SKU:QTY:UNIT_PRICE[:UNIT[:SPEC]] (price in major units, e.g. 12.50). Repeat.
        #[arg(long = "line", required = true, value_parser = parse_line)]
        lines: Vec<NewLine>,
        /// Currency of the prices: a three-letter ISO 4217 code (EUR, CNY, USD, ...).
        #[arg(long, default_value = "EUR", value_parser = Currency::parse)]
        currency: Currency,
        /// Requested delivery date (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        due: Date,
        /// Delivery address.
        #[arg(long, default_value = "on file")]
        address: String,
        /// Special requirements (packaging, labels, temperature).
        #[arg(long, default_value = "")]
        requirements: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Approve the current revision for a department.
    Approve {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The department deciding.
        #[arg(long, value_parser = words!(Department))]
        dept: Department,
        /// The revision reviewed (refused if the order moved on) [default: the current one].
        #[arg(long)]
        revision: Option<u32>,
        /// Remarks recorded with the approval.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Reject the current revision for a department (rejects the order).
    Reject {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The department deciding.
        #[arg(long, value_parser = words!(Department))]
        dept: Department,
        /// The revision reviewed (refused if the order moved on) [default: the current one].
        #[arg(long)]
        revision: Option<u32>,
        /// Why the department rejects it.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Confirm the approved order with the customer: the promised date, the expected ship date,
    /// the delivery mode and how the customer confirmed. Scheduling and shipping wait for it.
    Confirm {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The delivery date promised to the customer (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        promised: Date,
        /// When the goods are expected to leave (YYYY-MM-DD), not after the promised date.
        #[arg(long, value_parser = parse_date)]
        ship_date: Date,
        /// How the goods reach the customer.
        #[arg(long, value_parser = words!(DeliveryMode))]
        delivery: DeliveryMode,
        /// How the customer confirmed.
        #[arg(long, value_parser = words!(ConfirmMethod))]
        via: ConfirmMethod,
        /// Remarks (read-back done, who confirmed at the customer).
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Open a change request. The departments decide it (production, procurement, finance,
    /// warehouse and logistics; an address-only change logistics alone) while the approved
    /// revision stays in force. Before the first approval a change applies at once and the
    /// review starts over.
    Change {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// Who asks for it: the customer, or the company (internal).
        #[arg(long, value_parser = words!(Initiator))]
        initiated_by: Initiator,
        /// Why it changes (the customer's request, a shortage, ...).
        #[arg(long)]
        reason: String,
        /// What it means for a deciding department: DEPARTMENT=NOTE. Repeat.
        #[arg(long = "impact", value_parser = parse_impact)]
        impact: Vec<ImpactNote>,
        /// New quantity of a line: LINE:QTY. Repeat.
        #[arg(long = "qty", value_parser = parse_line_qty)]
        quantities: Vec<LineQuantity>,
        /// New spec of a line: LINE:SPEC. Repeat.
        #[arg(long = "spec", value_parser = parse_pair)]
        specs: Vec<(u16, String)>,
        /// New unit price of a line: LINE:PRICE. Repeat.
        #[arg(long = "price", value_parser = parse_line_price)]
        prices: Vec<(u16, i64)>,
        /// Add a line: SKU:QTY:UNIT_PRICE[:UNIT[:SPEC]]. Repeat.
        #[arg(long = "add-line", value_parser = parse_line)]
        add: Vec<NewLine>,
        /// Remove a line by number. Repeat.
        #[arg(long = "remove-line")]
        remove: Vec<u16>,
        /// New requested date (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        due: Option<Date>,
        /// New delivery address.
        #[arg(long)]
        address: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Cancel the order.
    Cancel {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// Who asks for it: the customer, or the company (internal).
        #[arg(long, value_parser = words!(Initiator))]
        initiated_by: Initiator,
        /// Why it is cancelled.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Schedule production.
    Schedule {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// Planned finish date (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        finish: Date,
        /// Remarks (line, batch plan).
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Record a quality inspection.
    Inspect {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The inspection's result (rework and scrap need a note with the cause).
        #[arg(long, value_parser = words!(InspectionResult))]
        result: InspectionResult,
        /// What was found; the cause of a rework or scrap.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Complete production (after a passed inspection).
    Complete {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// Remarks.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Record that the goods left (the customer is not notified by orderflow yet).
    Ship {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The carrier.
        #[arg(long)]
        carrier: String,
        /// The carrier's tracking number.
        #[arg(long)]
        tracking: String,
        /// How it travels.
        #[arg(long, default_value = "road", value_parser = words!(ShipMode))]
        mode: ShipMode,
        /// Expected arrival [default: 3 days after the effective date].
        #[arg(long, value_parser = parse_date)]
        eta: Option<Date>,
        /// Ship a stock order not confirmed with the customer: why (department heads only;
        /// recorded).
        #[arg(long, value_name = "TEXT")]
        unconfirmed_reason: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Report a shipment delay with a new ETA.
    Delay {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The new expected arrival (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        eta: Date,
        /// Why it is late.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Record the delivery.
    Deliver {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// Remarks (who received it, where).
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Record the customer's sign-off.
    Sign {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// Who signed at the customer.
        #[arg(long)]
        by: String,
        /// Accepted quantity of a line: LINE:QTY (unlisted lines are accepted in full). Repeat.
        #[arg(long = "accept", value_parser = parse_line_qty)]
        accepted: Vec<LineQuantity>,
        /// Remarks.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Record that the customer refused the delivery.
    Refuse {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// Who refused at the customer.
        #[arg(long)]
        by: String,
        /// Why the customer refused.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Open an after-sales complaint; prints its number.
    Complain {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// What it is about.
        #[arg(long, value_parser = words!(ComplaintCategory))]
        category: ComplaintCategory,
        /// How serious.
        #[arg(long, default_value = "medium", value_parser = words!(Severity))]
        severity: Severity,
        /// The customer's words.
        #[arg(long)]
        text: String,
        /// Who follows it up (a login) [default: you].
        #[arg(long)]
        assignee: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Record progress on an open complaint: what was done and the next step.
    UpdateComplaint {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The complaint's number (as `complain` printed it).
        #[arg(long)]
        complaint: u32,
        /// What was done or learnt.
        #[arg(long)]
        note: String,
        /// The next step, and by whom.
        #[arg(long)]
        next_step: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Resolve a complaint.
    Resolve {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The complaint's number (as `complain` printed it).
        #[arg(long)]
        complaint: u32,
        /// What was done.
        #[arg(long)]
        resolution: String,
        /// What was done, by kind.
        #[arg(long, value_parser = words!(Remedy))]
        remedy: Remedy,
        /// The customer is satisfied with the resolution.
        #[arg(long, conflicts_with = "unsatisfied", required_unless_present = "unsatisfied")]
        satisfied: bool,
        /// The customer is not satisfied (the complaint may be reopened).
        #[arg(long)]
        unsatisfied: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Reopen a resolved complaint.
    Reopen {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The complaint's number.
        #[arg(long)]
        complaint: u32,
        /// Why it is reopened.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Record a follow-up visit's satisfaction score (1-5).
    Feedback {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The customer's score, 1 (poor) to 5 (excellent).
        #[arg(long)]
        score: u8,
        /// What the customer said.
        #[arg(long, default_value = "")]
        comment: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Record a follow-up visit (回訪) after sign-off.
    Visit {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// How the customer was reached.
        #[arg(long, value_parser = words!(VisitMethod))]
        method: VisitMethod,
        /// The customer's score, 1 (poor) to 5 (excellent); leave out when the customer did not
        /// answer.
        #[arg(long)]
        score: Option<u8>,
        /// What the customer said.
        #[arg(long, default_value = "")]
        comment: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Close the order (archived for the retention period). It waits for every complaint to be
    /// resolved with the customer satisfied, unless a department head gives --override-reason.
    Close {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// Close although a complaint is open or left the customer unsatisfied: why (department
        /// heads only; recorded).
        #[arg(long, value_name = "TEXT")]
        override_reason: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// A department approves the pending change request; the last approval applies it.
    ApproveChange {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The deciding department (production, procurement, finance, warehouse, logistics).
        #[arg(long, value_parser = parse_change_reviewer)]
        dept: Role,
        /// The request reviewed (refused if another is pending) [default: the pending one].
        #[arg(long)]
        request: Option<u32>,
        /// Remarks recorded with the approval.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// A department declines the pending change request; the order goes on unchanged.
    DeclineChange {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The deciding department (production, procurement, finance, warehouse, logistics).
        #[arg(long, value_parser = parse_change_reviewer)]
        dept: Role,
        /// The request reviewed [default: the pending one].
        #[arg(long)]
        request: Option<u32>,
        /// Why the department declines it.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Sales withdraws the pending change request.
    WithdrawChange {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// Why it is withdrawn.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Show an order's current state.
    Show {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
    },
    /// Every event of an order, in order.
    History {
        /// The order: its id, or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
    },
}

fn line_update(line_no: u16) -> LineUpdate {
    LineUpdate { line_no, quantity: None, spec: None, unit_price_minor: None }
}

/// A domain command with its order and common options, or a read.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per run of the program: not worth a box
pub enum Parsed {
    /// A command to execute.
    Write { order: Option<OrderRef>, command: Command, common: CommonArgs },
    /// `show`.
    Show(OrderRef),
    /// `history`.
    History(OrderRef),
}

impl OrderCmd {
    /// Turns the arguments into a domain command.
    pub fn into_parsed(self) -> Result<Parsed, String> {
        use OrderCmd as O;
        let w = |order: OrderRef, command: Command, common: CommonArgs| Parsed::Write {
            order: Some(order),
            command,
            common,
        };
        Ok(match self {
            O::Receive {
                customer,
                contact,
                channel,
                lines,
                currency,
                due,
                address,
                requirements,
                common,
            } => Parsed::Write {
                order: None,
                command: Command::ReceiveOrder(ReceiveOrder {
                    channel,
                    customer,
                    contact,
                    lines,
                    currency,
                    requested_date: due,
                    delivery_address: address,
                    special_requirements: requirements,
                }),
                common,
            },
            O::Approve { order, dept, revision, note, common } => {
                w(order, Command::ApproveReview(ApproveReview { department: dept, revision, note }), common)
            }
            O::Reject { order, dept, revision, reason, common } => {
                w(order, Command::RejectReview(RejectReview { department: dept, revision, reason }), common)
            }
            O::Confirm { order, promised, ship_date, delivery, via, note, common } => w(
                order,
                Command::ConfirmOrder(ConfirmOrder {
                    promised_date: promised,
                    expected_ship_date: ship_date,
                    delivery_mode: delivery,
                    confirmed_via: via,
                    note,
                }),
                common,
            ),
            O::Change {
                order,
                initiated_by,
                reason,
                impact,
                quantities,
                specs,
                prices,
                add,
                remove,
                due,
                address,
                common,
            } => {
                let mut updates: std::collections::BTreeMap<u16, LineUpdate> = Default::default();
                for LineQuantity { line_no, quantity } in quantities {
                    updates.entry(line_no).or_insert_with(|| line_update(line_no)).quantity = Some(quantity);
                }
                for (l, s) in specs {
                    updates.entry(l).or_insert_with(|| line_update(l)).spec = Some(s);
                }
                for (l, p) in prices {
                    updates.entry(l).or_insert_with(|| line_update(l)).unit_price_minor = Some(p);
                }
                let mut lines: Vec<LineEdit> = updates.into_values().map(LineEdit::Update).collect();
                lines.extend(add.into_iter().map(LineEdit::Add));
                lines.extend(remove.into_iter().map(|line_no| LineEdit::Remove { line_no }));
                w(
                    order,
                    Command::ChangeOrder(ChangeOrder {
                        initiated_by,
                        reason,
                        impact,
                        lines,
                        requested_date: due,
                        delivery_address: address,
                    }),
                    common,
                )
            }
            O::Cancel { order, initiated_by, reason, common } => {
                w(order, Command::CancelOrder(CancelOrder { initiated_by, reason }), common)
            }
            O::Schedule { order, finish, note, common } => w(
                order,
                Command::ScheduleProduction(ScheduleProduction { planned_finish: finish, note }),
                common,
            ),
            O::Inspect { order, result, note, common } => {
                w(order, Command::InspectQuality(InspectQuality { result, note }), common)
            }
            O::Complete { order, note, common } => {
                w(order, Command::CompleteProduction(CompleteProduction { note }), common)
            }
            O::Ship { order, carrier, tracking, mode, eta, unconfirmed_reason, common } => {
                let eta =
                    eta.unwrap_or_else(|| common.at.unwrap_or_else(crate::app::now).date().plus_days(3));
                w(
                    order,
                    Command::ShipOrder(ShipOrder {
                        carrier,
                        mode,
                        tracking_number: tracking,
                        eta,
                        unconfirmed_reason,
                    }),
                    common,
                )
            }
            O::Delay { order, eta, reason, common } => {
                w(order, Command::ReportDelay(ReportDelay { new_eta: eta, reason }), common)
            }
            O::Deliver { order, note, common } => {
                w(order, Command::DeliverOrder(DeliverOrder { note }), common)
            }
            O::Sign { order, by, accepted, note, common } => w(
                order,
                Command::SignOrder(SignOrder {
                    signed_by: by,
                    accepted: if accepted.is_empty() { None } else { Some(accepted) },
                    note,
                }),
                common,
            ),
            O::Refuse { order, by, reason, common } => {
                w(order, Command::RefuseOrder(RefuseOrder { refused_by: by, reason }), common)
            }
            O::Complain { order, category, severity, text, assignee, common } => {
                w(order, Command::OpenComplaint(OpenComplaint { category, severity, text, assignee }), common)
            }
            O::UpdateComplaint { order, complaint, note, next_step, common } => w(
                order,
                Command::UpdateComplaint(UpdateComplaint { complaint_id: complaint, note, next_step }),
                common,
            ),
            O::Resolve { order, complaint, resolution, remedy, satisfied, unsatisfied: _, common } => w(
                order,
                Command::ResolveComplaint(ResolveComplaint {
                    complaint_id: complaint,
                    resolution,
                    remedy,
                    customer_satisfied: satisfied,
                }),
                common,
            ),
            O::Reopen { order, complaint, reason, common } => w(
                order,
                Command::ReopenComplaint(ReopenComplaint { complaint_id: complaint, reason }),
                common,
            ),
            O::Feedback { order, score, comment, common } => {
                w(order, Command::RecordFeedback(RecordFeedback { score, comment }), common)
            }
            O::Visit { order, method, score, comment, common } => {
                w(order, Command::RecordVisit(RecordVisit { method, score, comment }), common)
            }
            O::Close { order, override_reason, common } => {
                w(order, Command::CloseOrder(CloseOrder { override_reason }), common)
            }
            O::ApproveChange { order, dept, request, note, common } => w(
                order,
                Command::ApproveChange(ApproveChange { department: dept, request_id: request, note }),
                common,
            ),
            O::DeclineChange { order, dept, request, reason, common } => w(
                order,
                Command::DeclineChange(DeclineChange { department: dept, request_id: request, reason }),
                common,
            ),
            O::WithdrawChange { order, reason, common } => {
                w(order, Command::WithdrawChange(WithdrawChange { reason }), common)
            }
            O::Show { order } => Parsed::Show(order),
            O::History { order } => Parsed::History(order),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_price;

    #[test]
    fn prices_parse_exactly_into_minor_units() {
        assert_eq!(parse_price("12"), Ok(1200));
        assert_eq!(parse_price("12.5"), Ok(1250));
        assert_eq!(parse_price("12.50"), Ok(1250));
        assert_eq!(parse_price(".5"), Ok(50));
        assert_eq!(parse_price("-3.01"), Ok(-301));
        assert_eq!(parse_price("0"), Ok(0));
    }

    #[test]
    fn malformed_prices_are_refused() {
        for bad in ["", "-", "--5", "+5", "1.234", "1,5", "abc", "1e3", ".", "-.", "92233720368547758.08"] {
            assert!(parse_price(bad).is_err(), "'{bad}' was accepted");
        }
    }
}
