//! Read-side subcommands: `status`, `kpi`, `audit ...` and `rebuild`. Read models are caught up
//! from the log before every query; archive reads (history, export, replay) are first recorded
//! in the log as `archive_accessed`, with who read. Each read runs on the data directory or, with
//! `--nats` (or when a running `serve` holds the directory), through the service; both call the
//! same application functions ([`crate::app::reads`]) and print the same.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand, ValueEnum};
use orderflow_commands::{Command, PlaceHold, ReleaseHold};
use orderflow_projections::{
    AuditView, Group, KpiFacts, KpiQuery, OrderState, Progress, Projection, Runner, RunnerConfig,
    StatusBoard, TableWidth,
};
use orderflow_schemas::{Grant, OrderId, Role, Timestamp};
use serde_json::json;
use uuid::Uuid;

use crate::app::reads::{self, Printout, Reader, ReplayPoint};
use crate::app::{self, App, AppError, OrderRef, Request};
use crate::auth::{Auth, User};
use crate::service::client;
use crate::service::protocol::{
    AuditAccessRequest, AuditExportReply, AuditExportRequest, AuditHistoryRequest, AuditReplayRequest,
    AuditRetentionRequest, AuditVerifyReply, AuditVerifyRequest, CommandRequest, KpiByBody, KpiReply,
    KpiRequest, ReaderBody, StatusReply, StatusRequest,
};

use super::Via;

fn parse_order(s: &str) -> Result<OrderRef, String> {
    s.parse()
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s)
}

/// `--state`'s values: the status board's states.
fn state_parser() -> impl TypedValueParser<Value = OrderState> {
    PossibleValuesParser::new(OrderState::ALL.iter().map(|s| s.as_str())).try_map(|s| s.parse::<OrderState>())
}

/// `--role`'s values.
fn grant_parser() -> impl TypedValueParser<Value = Grant> {
    clap::builder::StringValueParser::new().try_map(|s| s.parse::<Grant>())
}

#[allow(dead_code)]
fn role_parser() -> impl TypedValueParser<Value = Role> {
    PossibleValuesParser::new(Role::ALL.iter().map(|r| r.as_str())).try_map(|s| s.parse::<Role>())
}

/// `orderflow status`.
#[derive(Args, Debug, Default, Clone)]
pub struct StatusArgs {
    /// Only orders in this state (closed, cancelled and rejected ones too when asked for).
    #[arg(long, value_parser = state_parser(), ignore_case = true)]
    state: Option<OrderState>,
    /// Only customers whose name contains this text, ignoring case ("metro" finds "Metro Hotels").
    #[arg(long, value_name = "TEXT")]
    customer: Option<String>,
    /// Only orders at risk of missing their promise: promised within --within days and not yet
    /// shipped, or shipped with an ETA after the promised date.
    #[arg(long)]
    at_risk: bool,
    /// Days ahead that --at-risk looks at [default: 7].
    #[arg(long, value_name = "DAYS", requires = "at_risk")]
    within: Option<i32>,
    /// Only orders with a department review past its due time.
    #[arg(long)]
    overdue: bool,
    /// Only orders past their promised date and not delivered.
    #[arg(long)]
    late: bool,
    /// Include closed, cancelled and rejected orders.
    #[arg(long)]
    all: bool,
    /// Print every column (the table is cut to fit 120 columns otherwise).
    #[arg(long)]
    wide: bool,
}

impl StatusArgs {
    /// The service's request body.
    pub fn request(&self) -> StatusRequest {
        StatusRequest {
            state: self.state,
            customer: self.customer.clone(),
            at_risk: self.at_risk,
            within: self.within,
            overdue: self.overdue,
            late: self.late,
            all: self.all,
            wide: self.wide,
        }
    }
}

/// `--by` of `orderflow kpi`.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum By {
    /// Per customer.
    Customer,
    /// Per product (SKU).
    Product,
    /// Per channel.
    Channel,
}

/// `orderflow kpi`.
#[derive(Args, Debug, Default, Clone)]
pub struct KpiArgs {
    /// Only this month (YYYY-MM, e.g. 2026-11).
    #[arg(long, value_name = "YYYY-MM")]
    month: Option<String>,
    /// Break the figures down by customer, product or channel instead of by month.
    #[arg(long, value_enum)]
    by: Option<By>,
    /// Leave out every order with a late entry (an event back-dated with --at); the report says
    /// how many it left out.
    #[arg(long)]
    exclude_late: bool,
    /// Print every column (the table is cut to fit 120 columns otherwise).
    #[arg(long)]
    wide: bool,
    /// The reviews decided within their department's limit, per department and month, instead
    /// (open reviews past due count against it).
    #[arg(long, conflicts_with = "by")]
    reviews: bool,
}

impl KpiArgs {
    /// The service's request body.
    pub fn request(&self) -> KpiRequest {
        KpiRequest {
            month: self.month.clone(),
            by: self.by.map(|b| match b {
                By::Customer => KpiByBody::Customer,
                By::Product => KpiByBody::Product,
                By::Channel => KpiByBody::Channel,
            }),
            exclude_late: self.exclude_late,
            wide: self.wide,
            reviews: self.reviews,
        }
    }
}

/// Who reads or administers the archive.
#[derive(Args, Debug, Clone)]
pub struct AuditActor {
    /// The role to read in, among your own (needed only when you hold several), e.g. auditor or
    /// dept_head:finance. Over NATS the role is your NATS user's account.
    #[arg(long, value_parser = grant_parser())]
    role: Option<Grant>,
    /// Why (recorded with the access).
    #[arg(long, default_value = "")]
    purpose: String,
}

impl AuditActor {
    fn reader(&self, me: &User, command: Option<&Command>) -> Result<Reader, AppError> {
        let role = self.role.map(|g| g.to_string());
        Ok(Reader {
            principal: Auth::principal(me, role.as_deref(), command)?,
            purpose: self.purpose.clone(),
        })
    }

    fn body(&self) -> ReaderBody {
        ReaderBody { purpose: self.purpose.clone() }
    }
}

/// `orderflow audit ...`.
#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// Readable timeline of an order (recorded as an archive access).
    History {
        /// The order: its id or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        #[command(flatten)]
        who: AuditActor,
        /// Print every column (the timeline is cut to fit 120 columns otherwise).
        #[arg(long)]
        wide: bool,
    },
    /// Self-contained JSON file with every event of an order and its hashes (recorded).
    Export {
        /// The order: its id or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// The file to write; an existing file is refused unless --force.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Overwrite --out if it exists.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        who: AuditActor,
    },
    /// Verify the whole log: checksums, hash chains, gap-free positions; with --anchor also that
    /// the log still extends a signed anchor. Exit 0 only when intact, 5 when altered.
    Verify {
        /// An anchor (`audit anchor`) kept elsewhere: its signature must hold and the log must still
        /// have, at its position, the log hash it signed (a log rewritten before it is found even
        /// with its hash chains recomputed).
        #[arg(long, value_name = "FILE")]
        anchor: Option<PathBuf>,
        /// The public key the anchor must be signed by: 64 hex digits or a file holding them
        /// [default: this instance's key].
        #[arg(long, value_name = "PUBLIC", requires = "anchor")]
        key: Option<String>,
    },
    /// Verify an export file offline: any edited, removed, inserted or reordered event is found,
    /// and its signature is checked (exit 5).
    VerifyExport {
        // Named `file` (the export file and --key) so that the command line's dispatch, which
        // runs this without a data directory, passes it on whole.
        #[command(flatten)]
        file: VerifyExportArgs,
    },
    /// A signed anchor of the log's head (position, log hash, time): keep it elsewhere, and
    /// check the log against it later with `audit verify --anchor FILE`.
    Anchor {
        /// Write it to this file (mode 0600) instead of printing it; an existing file is refused
        /// unless --force.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Overwrite --out if it exists.
        #[arg(long, requires = "out")]
        force: bool,
    },
    /// The instance's public signing key (hex): what verifies its exports and anchors.
    PublicKey,
    /// The order as it was at a time or version (recorded).
    // `--version` is the order's version here, not the program's.
    #[command(disable_version_flag = true)]
    Replay {
        /// The order: its id or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// Effective time (RFC 3339 or YYYY-MM-DD).
        #[arg(long, value_parser = parse_time, conflicts_with = "version", required_unless_present = "version")]
        as_of: Option<Timestamp>,
        /// Order version (1 is the order as received).
        #[arg(long)]
        version: Option<u64>,
        #[command(flatten)]
        who: AuditActor,
    },
    /// Put the archive on hold (dispute): kept until released.
    Hold {
        /// The order: its id or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// Why (dispute, audit, claim).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        who: AuditActor,
    },
    /// Release a hold; the retention date applies again.
    Release {
        /// The order: its id or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
        /// A note recorded with the release.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        who: AuditActor,
    },
    /// Who read which archive, when.
    Access {
        /// Only this order: its id or a unique prefix of at least 6 hex digits [default: every order].
        #[arg(value_parser = parse_order)]
        order: Option<OrderRef>,
        /// Print every column.
        #[arg(long)]
        wide: bool,
    },
    /// Retention of an order's archive.
    Retention {
        /// The order: its id or a unique prefix of at least 6 hex digits.
        #[arg(value_parser = parse_order)]
        order: OrderRef,
    },
}

/// `audit verify-export FILE [--key PUBLIC]`.
#[derive(Args, Debug, Clone)]
pub struct VerifyExportArgs {
    /// The export file.
    file: PathBuf,
    /// The public key the export must be signed by: 64 hex digits or a file holding them (a copy
    /// of the instance's `signing.pub`, `orderflow audit public-key`). Without it the signature
    /// is checked only against the key the file itself names.
    #[arg(long, value_name = "PUBLIC")]
    key: Option<String>,
}

/// `--projection` of `orderflow rebuild`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The status board.
    Status,
    /// The KPIs.
    Kpi,
    /// The audit archive view.
    Audit,
    /// All of them.
    All,
}

fn runner_error(e: orderflow_projections::RunnerError) -> AppError {
    AppError::Failure(e.to_string())
}

fn progress_bar(quiet: bool, what: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
    b.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{pos}}/{{len}} events {{wide_bar}} {{per_sec}} eta {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b
}

/// Opens projection `P`, catches it up with the log (progress on stderr unless `quiet`).
pub fn caught_up<P: Projection>(app: &App, quiet: bool) -> Result<Runner<P>, AppError> {
    let (mut runner, refold) =
        Runner::<P>::open_or_refold(app.log(), RunnerConfig::default()).map_err(runner_error)?;
    if let Some(why) = refold {
        eprintln!("note: {why}");
    }
    let bar = progress_bar(quiet || app.log().head() - runner.checkpoint() < 100_000, P::NAME);
    runner
        .catch_up(&mut |p: Progress| {
            bar.set_length(p.head);
            bar.set_position(p.position);
        })
        .map_err(runner_error)?;
    bar.finish_and_clear();
    Ok(runner)
}

/// Runs `f` on projection `P` caught up, then closes it.
fn on_view<P: Projection, T>(app: &App, quiet: bool, f: impl FnOnce(&P) -> T) -> Result<T, AppError> {
    let runner = caught_up::<P>(app, quiet)?;
    let out = f(runner.view());
    runner.close().map_err(runner_error)?;
    Ok(out)
}

/// `orderflow status`.
pub(super) async fn status(via: &Via, args: &StatusArgs, json: bool) -> Result<(), AppError> {
    let request = args.request();
    let out = match via {
        Via::Local(app, _me) => {
            let filter = request.filter();
            on_view::<StatusBoard, _>(app, json, |board| reads::status(board, &filter, app::now()))?
        }
        Via::Remote(nats) => {
            let reply: StatusReply = client::query(nats, "status", &request).await?;
            Printout { json: vec![reply.orders], text: reply.text }
        }
    };
    out.print(json);
    Ok(())
}

/// `orderflow kpi`.
pub(super) async fn kpi(via: &Via, args: &KpiArgs, json: bool) -> Result<(), AppError> {
    let request = args.request();
    let selection = request.selection();
    if let Some(m) = &selection.month {
        reads::check_month(m)?;
    }
    let out = match via {
        Via::Local(app, _me) => on_view::<KpiFacts, _>(app, json, |facts| reads::kpi(facts, &selection))??,
        Via::Remote(nats) => {
            let reply: KpiReply = client::query(nats, "kpi", &request).await?;
            Printout { json: vec![reply.report], text: reply.text }
        }
    };
    out.print(json);
    Ok(())
}

/// `orderflow audit ...`: one step per subcommand.
pub(super) async fn audit(via: &Via, cmd: AuditCmd, json: bool) -> Result<(), AppError> {
    match cmd {
        AuditCmd::History { order, who, wide } => history(via, &order, &who, wide).await?.print(json),
        AuditCmd::Export { order, out, force, who } => export(via, &order, &out, force, &who, json).await?,
        AuditCmd::Verify { anchor, key } => verify(via, anchor.as_deref(), key.as_deref(), json).await?,
        AuditCmd::VerifyExport { file } => verify_export(&file, json)?,
        AuditCmd::Anchor { out, force } => anchor(via, out.as_deref(), force, json)?,
        AuditCmd::PublicKey => local(via, "audit public-key").and_then(reads::audit_public_key)?.print(json),
        AuditCmd::Replay { order, as_of, version, who } => {
            let point = match (as_of, version) {
                (_, Some(v)) => ReplayPoint::Version(v),
                (Some(t), None) => ReplayPoint::Time(t),
                (None, None) => return Err(AppError::Invalid("give --as-of TIME or --version N".into())),
            };
            replay(via, &order, point, &who).await?.print(json)
        }
        AuditCmd::Hold { order, reason, who } => {
            let order = archive_command(via, &order, &who, Command::PlaceHold(PlaceHold { reason })).await?;
            crate::outln!(
                "{}",
                if json {
                    json!({ "order_id": order, "hold": true }).to_string()
                } else {
                    format!("order {}: archive on hold", order.short())
                }
            );
        }
        AuditCmd::Release { order, note, who } => {
            let order =
                archive_command(via, &order, &who, Command::ReleaseHold(ReleaseHold { note })).await?;
            crate::outln!(
                "{}",
                if json {
                    json!({ "order_id": order, "hold": false }).to_string()
                } else {
                    format!("order {}: hold released", order.short())
                }
            );
        }
        AuditCmd::Access { order, wide } => access(via, order.as_ref(), wide, json).await?.print(json),
        AuditCmd::Retention { order } => retention(via, &order, json).await?.print(json),
    }
    Ok(())
}

/// `audit history`: recorded, then the timeline.
async fn history(via: &Via, order: &OrderRef, who: &AuditActor, wide: bool) -> Result<Printout, AppError> {
    match via {
        Via::Local(app, me) => {
            reads::audit_history(app, app.resolve(order)?, &who.reader(me, None)?, TableWidth::wide_if(wide))
                .await
        }
        Via::Remote(nats) => {
            let request = AuditHistoryRequest { order_id: order.clone(), reader: who.body(), wide };
            client::query(nats, "audit_history", &request).await
        }
    }
}

/// `audit export`: refuses an existing file unless `force` (nothing recorded, nothing written);
/// recorded, then the document written to `out`.
async fn export(
    via: &Via,
    order: &OrderRef,
    out: &Path,
    force: bool,
    who: &AuditActor,
    json: bool,
) -> Result<(), AppError> {
    if !force && out.exists() {
        return Err(AppError::Invalid(format!(
            "{} already exists; nothing written (give --force to overwrite it, or another --out)",
            out.display()
        )));
    }
    let file = out.display().to_string();
    let (order, doc) = match via {
        Via::Local(app, me) => {
            let order = app.resolve(order)?;
            (order, reads::audit_export(app, order, &who.reader(me, None)?, &file).await?)
        }
        Via::Remote(nats) => {
            let request =
                AuditExportRequest { order_id: order.clone(), reader: who.body(), file: file.clone() };
            let reply: AuditExportReply = client::query(nats, "audit_export", &request).await?;
            (reply.order_id, reply.document)
        }
    };
    let text = serde_json::to_string_pretty(&doc).map_err(|e| AppError::Failure(e.to_string()))?;
    write_file(out, force, (text + "\n").as_bytes())?;
    let events = reads::export_events(&doc);
    let key = doc.pointer("/signature/public_key").and_then(serde_json::Value::as_str).unwrap_or("");
    if json {
        crate::outln!("{}", json!({ "order_id": order, "file": out, "events": events, "public_key": key }));
    } else {
        crate::outln!(
            "exported {events} events of order {} to {}, signed by {key}",
            order.short(),
            out.display()
        );
    }
    Ok(())
}

/// The data directory of a read that runs only there (anchors and the key need the instance's
/// signing key, which stays on its machine).
fn local<'a>(via: &'a Via, what: &str) -> Result<&'a App, AppError> {
    match via {
        Via::Local(app, _me) => Ok(app),
        Via::Remote(_) => Err(AppError::Invalid(format!(
            "{what} runs on the data directory itself, not through orderflow serve; run it where the \
             data directory is, without --nats, while no serve holds it"
        ))),
    }
}

/// `audit anchor`: the signed head, printed or written to `out` (mode 0600).
fn anchor(via: &Via, out: Option<&Path>, force: bool, json: bool) -> Result<(), AppError> {
    if let Some(out) = out.filter(|o| !force && o.exists()) {
        return Err(AppError::Invalid(format!(
            "{} already exists; nothing written (give --force to overwrite it, or another --out)",
            out.display()
        )));
    }
    let doc = reads::audit_anchor(local(via, "audit anchor")?, chrono::Utc::now())?;
    let Some(out) = out else {
        crate::outln!("{doc}");
        return Ok(());
    };
    let text = serde_json::to_string_pretty(&doc).map_err(|e| AppError::Failure(e.to_string()))?;
    write_file(out, force, (text + "\n").as_bytes())?;
    if json {
        crate::outln!("{}", json!({ "file": out, "position": doc["position"], "log_hash": doc["log_hash"] }));
    } else {
        crate::outln!(
            "anchored position {} (log hash {}) in {}; keep it where this instance's operators cannot write",
            doc["position"],
            doc["log_hash"].as_str().unwrap_or(""),
            out.display()
        );
    }
    Ok(())
}

/// Writes `bytes` to `path` with mode 0600 (also a file overwritten); without `force`, only if
/// no file is there (checked by the create itself, so a file that appeared meanwhile is not
/// overwritten either).
fn write_file(path: &Path, force: bool, bytes: &[u8]) -> Result<(), AppError> {
    let mut file = crate::signing::private_create(path, force).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            AppError::Invalid(format!("{} already exists (give --force to overwrite it)", path.display()))
        } else {
            AppError::Failure(format!("cannot write {}: {e}", path.display()))
        }
    })?;
    file.write_all(bytes).map_err(|e| AppError::Failure(format!("cannot write {}: {e}", path.display())))
}

/// `audit verify`: exit 0 when intact, [`AppError::Tampered`] (5) when altered; with `anchor`,
/// also when the log no longer extends it (the anchor's lines follow the log's, in one JSON line
/// under `"anchor"`).
async fn verify(via: &Via, anchor: Option<&Path>, key: Option<&str>, json: bool) -> Result<(), AppError> {
    let anchor = match anchor {
        Some(file) => {
            let app = local(via, "audit verify --anchor")?;
            let key = key.map(crate::signing::trusted_key).transpose().map_err(AppError::Invalid)?;
            Some((app, read_json(file, "anchor")?, key))
        }
        None => None,
    };
    let (mut out, problem) = match via {
        Via::Local(app, _me) => {
            let bar = progress_bar(json, "verify");
            bar.set_length(app.log().head());
            let result = reads::audit_verify(app, &mut |p| bar.set_position(p));
            bar.finish_and_clear();
            result
        }
        Via::Remote(nats) => {
            let reply: AuditVerifyReply = client::query(nats, "audit_verify", &AuditVerifyRequest {}).await?;
            let problem = match (reply.intact, reply.problem) {
                (true, _) => None,
                (false, p) => Some(AppError::Tampered(p.unwrap_or_else(|| "the log is altered".into()))),
            };
            (reply.printout, problem)
        }
    };
    if let (None, Some((app, doc, key))) = (&problem, anchor) {
        // A refusal prints nothing on stdout: the message says where the log was changed.
        let held = reads::audit_verify_anchor(app, &doc, key.as_ref())?;
        if let (Some(line), Some(a)) = (out.json.first_mut(), held.json.first()) {
            line["anchor"] = a.clone();
        }
        out.text.push_str(&held.text);
    }
    out.print(json);
    problem.map_or(Ok(()), Err)
}

/// A JSON file the user gave (`what` names it in the message).
fn read_json(file: &Path, what: &str) -> Result<serde_json::Value, AppError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| AppError::Invalid(format!("cannot read the {what} {}: {e}", file.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| AppError::Invalid(format!("the {what} {} is not JSON: {e}", file.display())))
}

/// `audit replay`: recorded, then the order as it was.
async fn replay(
    via: &Via,
    order: &OrderRef,
    point: ReplayPoint,
    who: &AuditActor,
) -> Result<Printout, AppError> {
    match via {
        Via::Local(app, me) => {
            reads::audit_replay(app, app.resolve(order)?, point, &who.reader(me, None)?).await
        }
        Via::Remote(nats) => {
            let (as_of, version) = match point {
                ReplayPoint::Time(t) => (Some(t), None),
                ReplayPoint::Version(v) => (None, Some(v)),
            };
            let request = AuditReplayRequest { order_id: order.clone(), as_of, version, reader: who.body() };
            client::query(nats, "audit_replay", &request).await
        }
    }
}

/// `audit hold` and `audit release`: a command in the archivist's role.
async fn archive_command(
    via: &Via,
    order: &OrderRef,
    who: &AuditActor,
    command: Command,
) -> Result<OrderId, AppError> {
    let command_id = Uuid::new_v4();
    match via {
        Via::Local(app, me) => {
            let order = app.resolve(order)?;
            let principal = who.reader(me, Some(&command))?.principal;
            app.execute(Request {
                order_id: Some(order),
                command_id,
                principal,
                at: None,
                late_reason: None,
                command,
            })
            .await?;
            Ok(order)
        }
        Via::Remote(nats) => {
            let request = CommandRequest {
                order_id: Some(order.clone()),
                command_id,
                at: None,
                late_reason: None,
                command,
            };
            Ok(client::send_command(nats, &request).await?.order_id)
        }
    }
}

/// `audit access`.
async fn access(via: &Via, order: Option<&OrderRef>, wide: bool, json: bool) -> Result<Printout, AppError> {
    match via {
        Via::Local(app, _me) => {
            let order = order.map(|r| app.resolve(r)).transpose()?;
            on_view::<AuditView, _>(app, json, |view| {
                reads::audit_access(view, order, TableWidth::wide_if(wide))
            })
        }
        Via::Remote(nats) => {
            let request = AuditAccessRequest { order_id: order.cloned(), wide };
            client::query(nats, "audit_access", &request).await
        }
    }
}

/// `audit retention`.
async fn retention(via: &Via, order: &OrderRef, json: bool) -> Result<Printout, AppError> {
    match via {
        Via::Local(app, _me) => {
            let order = app.resolve(order)?;
            on_view::<AuditView, _>(app, json, |view| reads::audit_retention(view, order))?
        }
        Via::Remote(nats) => {
            let request = AuditRetentionRequest { order_id: order.clone() };
            client::query(nats, "audit_retention", &request).await
        }
    }
}

/// Verifies an export file offline: exit 0 when intact, [`AppError::Tampered`] (5) when an event
/// was edited, removed, inserted or reordered, or when the signature does not hold (against
/// `--key` when given; else against the key the file names, and the output says so).
pub fn verify_export(args: &VerifyExportArgs, json: bool) -> Result<(), AppError> {
    let file = &args.file;
    let trusted =
        args.key.as_deref().map(crate::signing::trusted_key).transpose().map_err(AppError::Invalid)?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| AppError::Invalid(format!("cannot read {}: {e}", file.display())))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| AppError::Invalid(format!("{} is not JSON: {e}", file.display())))?;
    let s = match orderflow_projections::verify_export(&doc) {
        Ok(s) => s,
        Err(e) => {
            if json {
                crate::outln!("{}", json!({ "intact": false, "index": e.index, "detail": e.detail }));
            }
            return Err(AppError::Tampered(format!("export damaged: {e}")));
        }
    };
    let signature = match crate::signing::verify_export_signature(&doc, trusted.as_ref()) {
        Ok(c) => c,
        Err(detail) => {
            if json {
                crate::outln!("{}", json!({ "intact": false, "index": null, "detail": detail }));
            }
            return Err(AppError::Tampered(format!("export signature refused: {detail}")));
        }
    };
    if json {
        crate::outln!(
            "{}",
            json!({ "intact": true, "order_id": s.order_id, "events": s.events, "last_stream_hash": s.last_stream_hash,
                    "signature": signature.as_str(), "public_key": signature.public_key() })
        );
    } else {
        crate::outln!(
            "export intact: order {} with {} events (positions {}..{}), last stream hash {}\n{}",
            s.order_id,
            s.events,
            s.first_position,
            s.last_position,
            s.last_stream_hash,
            signature.words()
        );
    }
    Ok(())
}

/// `orderflow rebuild`.
pub fn rebuild(app: &App, which: Which, json: bool) -> Result<(), AppError> {
    fn one<P: Projection>(app: &App, json: bool) -> Result<serde_json::Value, AppError> {
        let started = std::time::Instant::now();
        let mut runner = Runner::<P>::open(app.log(), RunnerConfig::default())
            .or_else(|_| Runner::<P>::open_empty(app.log(), RunnerConfig::default()))
            .map_err(runner_error)?;
        let bar = progress_bar(json, P::NAME);
        runner
            .rebuild(&mut |p: Progress| {
                bar.set_length(p.head);
                bar.set_position(p.position);
            })
            .map_err(runner_error)?;
        bar.finish_and_clear();
        let events = runner.checkpoint();
        let secs = started.elapsed().as_secs_f64();
        runner.close().map_err(runner_error)?;
        let rate = if secs > 0.0 { (events as f64 / secs).round() } else { 0.0 };
        Ok(json!({ "projection": P::NAME, "events": events, "seconds": secs, "events_per_s": rate }))
    }
    let mut done = Vec::new();
    if matches!(which, Which::Status | Which::All) {
        done.push(one::<StatusBoard>(app, json)?);
    }
    if matches!(which, Which::Kpi | Which::All) {
        done.push(one::<KpiFacts>(app, json)?);
    }
    if matches!(which, Which::Audit | Which::All) {
        done.push(one::<AuditView>(app, json)?);
    }
    for d in done {
        if json {
            crate::outln!("{d}");
        } else {
            crate::outln!(
                "rebuilt {}: {} events in {:.2} s ({} events/s)",
                d["projection"].as_str().unwrap_or(""),
                d["events"],
                d["seconds"].as_f64().unwrap_or(0.0),
                d["events_per_s"]
            );
        }
    }
    Ok(())
}

/// The demo's ending: the active part of the status board and the KPIs by month.
pub fn board_and_kpis(app: &App, json: bool) -> Result<(), AppError> {
    let status = caught_up::<StatusBoard>(app, json)?;
    let now = app::now();
    let mut rows = status.view().all();
    rows.retain(|r| r.is_active());
    let kpis = caught_up::<KpiFacts>(app, json)?;
    let query = KpiQuery { group: Group::Month, from_month: None, to_month: None, exclude_late: false };
    let report = kpis.view().report(&query);
    if json {
        crate::outln!(
            "{}",
            json!({ "status": StatusBoard::render_json(&rows, now), "kpi": report.render_json() })
        );
    } else {
        crate::outln!(
            "\nStatus board ({} active orders; `orderflow status --all` for every order):",
            rows.len()
        );
        crate::out!("{}", StatusBoard::render_table(&rows, now, TableWidth::DEFAULT));
        crate::outln!("\nKPIs by month (`orderflow kpi --by customer|product|channel` for more):");
        crate::out!("{}", report.render_table(TableWidth::DEFAULT));
    }
    status.close().map_err(runner_error)?;
    kpis.close().map_err(runner_error)
}

/// Rows `visits due` lists unless told.
pub const VISITS_LISTED_DEFAULT: usize = 200;

/// `orderflow visits ...`.
#[derive(Subcommand, Debug, Clone)]
pub enum VisitsCmd {
    /// Signed orders whose follow-up visit is due (sign-off + visit_after_days) and not recorded.
    Due {
        /// Rows at most.
        #[arg(long, default_value_t = VISITS_LISTED_DEFAULT)]
        limit: usize,
    },
}

/// `orderflow visits due`: on the data directory (from the order states).
pub(super) async fn visits(via: &Via, cmd: &VisitsCmd, json: bool) -> Result<(), AppError> {
    let VisitsCmd::Due { limit } = cmd;
    let app = local(via, "visits due")?;
    let now = app::now();
    let (due, more) = reads::visits_due(app, now, *limit)?;
    reads::visits_due_printout(&due, more, now, app.settings().visit_after_days).print(json);
    Ok(())
}
