//! Read-side subcommands: `status`, `kpi`, `audit ...` and `rebuild`. Read models are caught up
//! from the log before every query; archive reads (history, export, replay) are first recorded
//! in the log as `archive_accessed`, with who read.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use orderflow_commands::{Command, PlaceHold, RecordAccess, ReleaseHold};
use orderflow_projections::{
    AsOf, AuditView, Group, KpiFacts, KpiQuery, OrderState, Progress, Projection, Runner, RunnerConfig,
    StatusBoard,
};
use orderflow_schemas::{AccessKind, Actor, OrderId, Role, Timestamp};
use serde_json::json;
use uuid::Uuid;

use crate::app::{self, App, AppError, Request};

fn parse_order(s: &str) -> Result<OrderId, String> {
    s.parse()
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s)
}

/// `orderflow status`; also the body of the `status` query over NATS.
#[derive(Args, Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatusArgs {
    /// Only orders in this state (received, in_review, approved, confirmed, scheduled, ...).
    #[arg(long)]
    state: Option<OrderState>,
    /// Only this customer's orders.
    #[arg(long)]
    customer: Option<String>,
    /// Only orders at risk: promise within --within days and not shipped, or ETA after the promise.
    #[arg(long)]
    at_risk: bool,
    /// Days ahead for --at-risk [default: 7].
    #[arg(long)]
    within: Option<i32>,
    /// Only orders with overdue approvals.
    #[arg(long)]
    overdue: bool,
    /// Only orders past their promise and not delivered.
    #[arg(long)]
    late: bool,
    /// Include closed, cancelled and rejected orders.
    #[arg(long)]
    all: bool,
    /// Print every column, however wide (the table fits 120 columns otherwise).
    #[arg(long)]
    wide: bool,
}

/// `--by` of `orderflow kpi`.
#[derive(ValueEnum, Clone, Copy, Debug, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// Per customer.
    Customer,
    /// Per product (SKU).
    Product,
    /// Per channel.
    Channel,
}

/// `orderflow kpi`; also the body of the `kpi` query over NATS.
#[derive(Args, Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KpiArgs {
    /// Only this month (YYYY-MM).
    #[arg(long)]
    month: Option<String>,
    /// Break the figures down further.
    #[arg(long)]
    by: Option<By>,
    /// Print every figure side by side, however wide (stacked to fit 120 columns otherwise).
    #[arg(long)]
    wide: bool,
}

/// Who reads or administers the archive.
#[derive(Args, Debug, Clone)]
pub struct AuditActor {
    /// Who reads [default: "auditor desk"].
    #[arg(long, env = "ORDERFLOW_ACTOR")]
    actor: Option<String>,
    /// The role read in [default: auditor; archivist for hold and release].
    #[arg(long)]
    role: Option<Role>,
    /// Why (recorded with the access).
    #[arg(long, default_value = "")]
    purpose: String,
}

/// `orderflow audit ...`.
#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// Readable timeline of an order (recorded as an archive access).
    History {
        #[arg(value_parser = parse_order)]
        order: OrderId,
        #[command(flatten)]
        who: AuditActor,
    },
    /// Self-contained JSON file with every event of an order and its hashes (recorded).
    Export {
        #[arg(value_parser = parse_order)]
        order: OrderId,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        who: AuditActor,
    },
    /// Verify the whole log: checksums, hash chains, gap-free positions. Exit 0 only when intact.
    Verify,
    /// Verify an export file offline: any edited, removed, inserted or reordered event is found.
    VerifyExport { file: PathBuf },
    /// The order as it was at a time or version (recorded).
    #[command(disable_version_flag = true)]
    Replay {
        #[arg(value_parser = parse_order)]
        order: OrderId,
        /// Effective time (RFC 3339 or YYYY-MM-DD).
        #[arg(long, value_parser = parse_time, conflicts_with = "version", required_unless_present = "version")]
        as_of: Option<Timestamp>,
        /// Order version.
        #[arg(long)]
        version: Option<u64>,
        #[command(flatten)]
        who: AuditActor,
    },
    /// Put the archive on hold (dispute): kept until released.
    Hold {
        #[arg(value_parser = parse_order)]
        order: OrderId,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        who: AuditActor,
    },
    /// Release a hold; the retention date applies again.
    Release {
        #[arg(value_parser = parse_order)]
        order: OrderId,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        who: AuditActor,
    },
    /// Who read which archive, when.
    Access {
        #[arg(value_parser = parse_order)]
        order: Option<OrderId>,
    },
    /// Retention of an order's archive.
    Retention {
        #[arg(value_parser = parse_order)]
        order: OrderId,
    },
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
    let mut runner = Runner::<P>::open(app.log(), RunnerConfig::default()).map_err(runner_error)?;
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

/// The board's rows that `args` selects, at `now`.
pub fn select<'a>(
    board: &'a StatusBoard,
    args: &StatusArgs,
    now: Timestamp,
) -> Vec<&'a orderflow_projections::OrderRow> {
    let mut rows = match (&args.state, &args.customer) {
        (Some(s), _) => board.by_state(*s),
        (None, Some(c)) => board.by_customer(c),
        (None, None) => board.all(),
    };
    if let Some(c) = &args.customer {
        rows.retain(|r| r.customer_matches(c));
    }
    if args.at_risk {
        let risky: std::collections::HashSet<OrderId> =
            board.at_risk(now, args.within.unwrap_or(7)).iter().map(|a| a.row.order_id).collect();
        rows.retain(|r| risky.contains(&r.order_id));
    }
    if args.overdue {
        let overdue: std::collections::HashSet<OrderId> =
            board.overdue_approvals(now).iter().map(|o| o.order_id).collect();
        rows.retain(|r| overdue.contains(&r.order_id));
    }
    if args.late {
        let late: std::collections::HashSet<OrderId> =
            board.late(now).iter().map(|l| l.row.order_id).collect();
        rows.retain(|r| late.contains(&r.order_id));
    }
    if !args.all && args.state.is_none() {
        rows.retain(|r| r.is_active());
    }
    rows
}

/// `orderflow status`.
pub fn status(app: &App, args: &StatusArgs, json: bool) -> Result<(), AppError> {
    let runner = caught_up::<StatusBoard>(app, json)?;
    let now = app::now();
    let rows = select(runner.view(), args, now);
    if json {
        crate::outln!("{}", StatusBoard::render_json(&rows, now));
    } else {
        crate::out!(
            "{}",
            StatusBoard::render_table(&rows, now, orderflow_projections::TableWidth::wide_if(args.wide))
        );
    }
    runner.close().map_err(runner_error)
}

/// Checks `--month`.
pub fn check_month(args: &KpiArgs) -> Result<(), AppError> {
    if let Some(m) = &args.month {
        let ok = m.len() == 7 && orderflow_schemas::Date::parse(&format!("{m}-01")).is_ok();
        if !ok {
            return Err(AppError::Invalid(format!("'{m}' is not a month (expected YYYY-MM)")));
        }
    }
    Ok(())
}

/// The KPI report `args` asks for.
pub fn kpi_report(facts: &KpiFacts, args: &KpiArgs) -> orderflow_projections::KpiReport {
    let group = match args.by {
        None => Group::Month,
        Some(By::Customer) => Group::Customer,
        Some(By::Product) => Group::Sku,
        Some(By::Channel) => Group::Channel,
    };
    facts.report(&KpiQuery { group, from_month: args.month.clone(), to_month: args.month.clone() })
}

/// `orderflow kpi`.
pub fn kpi(app: &App, args: &KpiArgs, json: bool) -> Result<(), AppError> {
    check_month(args)?;
    let runner = caught_up::<KpiFacts>(app, json)?;
    let report = kpi_report(runner.view(), args);
    if json {
        crate::outln!("{}", report.render_json());
    } else {
        crate::out!("{}", report.render_table(orderflow_projections::TableWidth::wide_if(args.wide)));
    }
    runner.close().map_err(runner_error)
}

fn actor(who: &AuditActor, default_role: Role) -> Actor {
    let role = who.role.unwrap_or(default_role);
    Actor { name: who.actor.clone().unwrap_or_else(|| app::default_actor(role)), role }
}

async fn run_command(app: &App, order: OrderId, actor: Actor, command: Command) -> Result<(), AppError> {
    app.execute(Request { order_id: Some(order), command_id: Uuid::new_v4(), actor, at: None, command })
        .await
        .map(|_| ())
}

/// Records an archive read before it happens; a read that cannot be recorded does not happen.
async fn record_access(
    app: &App,
    order: OrderId,
    who: &AuditActor,
    access: AccessKind,
    detail: String,
) -> Result<(), AppError> {
    let detail = if who.purpose.is_empty() { detail } else { format!("{detail}; purpose: {}", who.purpose) };
    run_command(app, order, actor(who, Role::Auditor), Command::RecordAccess(RecordAccess { access, detail }))
        .await
}

fn audit_error(e: orderflow_projections::AuditError) -> AppError {
    AppError::Failure(e.to_string())
}

/// `orderflow audit ...`.
pub async fn audit(app: &App, cmd: AuditCmd, json: bool) -> Result<(), AppError> {
    match cmd {
        AuditCmd::History { order, who } => {
            record_access(app, order, &who, AccessKind::History, "timeline".into()).await?;
            let entries = orderflow_projections::history(app.log(), order).map_err(audit_error)?;
            if json {
                for e in &entries {
                    crate::outln!(
                        "{}",
                        serde_json::to_value(e).unwrap_or_else(|e| json!({ "error": e.to_string() }))
                    );
                }
            } else {
                crate::out!(
                    "{}",
                    orderflow_projections::render_timeline(
                        &entries,
                        orderflow_projections::TableWidth::DEFAULT
                    )
                );
            }
            Ok(())
        }
        AuditCmd::Export { order, out, who } => {
            record_access(app, order, &who, AccessKind::Export, format!("file {}", out.display())).await?;
            let doc = orderflow_projections::export(app.log(), order).map_err(audit_error)?;
            let text = serde_json::to_string_pretty(&doc).map_err(|e| AppError::Failure(e.to_string()))?;
            std::fs::write(&out, text + "\n")
                .map_err(|e| AppError::Failure(format!("cannot write {}: {e}", out.display())))?;
            let events = doc.get("events").and_then(|e| e.as_array()).map_or(0, Vec::len);
            if json {
                crate::outln!("{}", json!({ "order_id": order, "file": out, "events": events }));
            } else {
                crate::outln!("exported {events} events of order {} to {}", order.short(), out.display());
            }
            Ok(())
        }
        AuditCmd::Verify => {
            let bar = progress_bar(json, "verify");
            bar.set_length(app.log().head());
            let result = app.log().verify(&mut |p| bar.set_position(p));
            bar.finish_and_clear();
            match result {
                Ok(r) => {
                    let hash: String = r.head_log_hash.iter().map(|b| format!("{b:02x}")).collect();
                    if json {
                        crate::outln!(
                            "{}",
                            json!({ "intact": true, "events": r.events, "records": r.records, "orders": r.streams, "head_log_hash": hash })
                        );
                    } else {
                        crate::outln!(
                            "log intact: {} events in {} appends over {} orders\nhead hash {hash}",
                            r.events,
                            r.records,
                            r.streams
                        );
                    }
                    Ok(())
                }
                Err(f) => {
                    if json {
                        crate::outln!(
                            "{}",
                            json!({ "intact": false, "position": f.position, "detail": f.detail })
                        );
                    }
                    Err(AppError::Failure(f.to_string()))
                }
            }
        }
        AuditCmd::VerifyExport { file } => verify_export(&file, json),
        AuditCmd::Replay { order, as_of, version, who } => {
            let point = match (as_of, version) {
                (_, Some(v)) => AsOf::Version(v),
                (Some(t), None) => AsOf::Time(t),
                (None, None) => return Err(AppError::Invalid("give --as-of TIME or --version N".into())),
            };
            record_access(app, order, &who, AccessKind::Replay, format!("{point:?}")).await?;
            let replay = orderflow_projections::replay(app.log(), order, point).map_err(audit_error)?;
            let now = app::now();
            if json {
                crate::outln!(
                    "{}",
                    json!({ "order_id": order, "events": replay.events_json(),
                            "state": replay.row.as_ref().map(|r| StatusBoard::render_json(&[r], now)) })
                );
            } else {
                crate::outln!("order {} as of {point:?}: {} events", order.short(), replay.events.len());
                if let Some(row) = &replay.row {
                    crate::out!(
                        "{}",
                        StatusBoard::render_table(&[row], now, orderflow_projections::TableWidth::DEFAULT)
                    );
                }
            }
            Ok(())
        }
        AuditCmd::Hold { order, reason, who } => {
            run_command(app, order, actor(&who, Role::Archivist), Command::PlaceHold(PlaceHold { reason }))
                .await?;
            crate::outln!(
                "{}",
                if json {
                    json!({ "order_id": order, "hold": true }).to_string()
                } else {
                    format!("order {}: archive on hold", order.short())
                }
            );
            Ok(())
        }
        AuditCmd::Release { order, note, who } => {
            run_command(app, order, actor(&who, Role::Archivist), Command::ReleaseHold(ReleaseHold { note }))
                .await?;
            crate::outln!(
                "{}",
                if json {
                    json!({ "order_id": order, "hold": false }).to_string()
                } else {
                    format!("order {}: hold released", order.short())
                }
            );
            Ok(())
        }
        AuditCmd::Access { order } => {
            let runner = caught_up::<AuditView>(app, json)?;
            for a in runner.view().access(order) {
                if json {
                    crate::outln!(
                        "{}",
                        json!({ "order_id": a.order_id, "position": a.position, "at": a.at, "actor": a.actor,
                                "access": a.access, "detail": a.detail })
                    );
                } else {
                    crate::outln!(
                        "{}  {}  {:<8} {} ({})  {}",
                        a.at,
                        a.order_id.short(),
                        a.access,
                        a.actor.name,
                        a.actor.role,
                        a.detail
                    );
                }
            }
            runner.close().map_err(runner_error)
        }
        AuditCmd::Retention { order } => {
            let runner = caught_up::<AuditView>(app, json)?;
            let r = runner
                .view()
                .retention(order)
                .ok_or(AppError::Rejected(orderflow_commands::Rejection::OrderNotFound { order }))?;
            if json {
                crate::outln!(
                    "{}",
                    json!({ "order_id": order, "closed_at": r.closed_at, "retention_until": r.retention_until,
                            "holds": r.active_holds.len(), "status": format!("{:?}", r.status) })
                );
            } else {
                crate::outln!(
                    "order {}: {:?}; retention until {}; {} active hold(s)",
                    order.short(),
                    r.status,
                    r.retention_until.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                    r.active_holds.len()
                );
            }
            runner.close().map_err(runner_error)
        }
    }
}

/// Verifies an export file offline.
pub fn verify_export(file: &std::path::Path, json: bool) -> Result<(), AppError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| AppError::Invalid(format!("cannot read {}: {e}", file.display())))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| AppError::Invalid(format!("{} is not JSON: {e}", file.display())))?;
    match orderflow_projections::verify_export(&doc) {
        Ok(s) => {
            if json {
                crate::outln!(
                    "{}",
                    json!({ "intact": true, "order_id": s.order_id, "events": s.events, "last_stream_hash": s.last_stream_hash })
                );
            } else {
                crate::outln!(
                    "export intact: order {} with {} events (positions {}..{}), last stream hash {}",
                    s.order_id,
                    s.events,
                    s.first_position,
                    s.last_position,
                    s.last_stream_hash
                );
            }
            Ok(())
        }
        Err(e) => {
            if json {
                crate::outln!("{}", json!({ "intact": false, "index": e.index, "detail": e.detail }));
            }
            Err(AppError::Failure(format!("export damaged: {e}")))
        }
    }
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
    let report = kpis.view().report(&KpiQuery { group: Group::Month, from_month: None, to_month: None });
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
        crate::out!("{}", StatusBoard::render_table(&rows, now, orderflow_projections::TableWidth::DEFAULT));
        crate::outln!("\nKPIs by month (`orderflow kpi --by customer|product|channel` for more):");
        crate::out!("{}", report.render_table(orderflow_projections::TableWidth::DEFAULT));
    }
    status.close().map_err(runner_error)?;
    kpis.close().map_err(runner_error)
}
