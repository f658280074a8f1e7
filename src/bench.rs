//! `orderflow bench`: the lifecycle workload of `benches/WORKLOAD.md`, measured durable and
//! through the full command path, and (`--raw`) the raw limits of the parts in the same run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orderflow_commands::*;
use orderflow_schemas::{
    Channel, ConfirmMethod, Currency, DeliveryMode, Department, Grant, InspectionResult, OrderId, Role,
    ShipMode,
};
use serde_json::json;
use uuid::Uuid;

use crate::app::{App, AppError, Request};
use crate::auth::{Auth, Principal};
use crate::outln;
use crate::rng::Rng;

/// Options of `orderflow bench` (the workload is described in `benches/WORKLOAD.md`).
#[derive(clap::Args, Debug, Clone)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// Another bench instead of the lifecycle workload.
    #[command(subcommand)]
    pub other: Option<BenchCmd>,
    /// Orders per configuration.
    #[arg(long, default_value_t = 10_000)]
    pub orders: u64,
    /// Client counts, one configuration each.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    pub clients: Vec<u64>,
    /// Where to put the data directories [default: a fresh temporary directory, removed afterwards].
    #[arg(long = "bench-dir")]
    pub bench_dir: Option<PathBuf>,
    /// Measure the raw limits of the parts instead (sled inserts with a shared flush, sled scan).
    #[arg(long)]
    pub raw: bool,
}

/// The benches other than the lifecycle workload.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum BenchCmd {
    /// The web pages under load: board, order, KPI pages and the live feed (see src/bench_web.rs).
    Web(crate::bench_web::WebBenchArgs),
}

/// The password of the bench's people ([`bench_people`]).
pub const BENCH_PASSWORD: &str = "bench-password-1";

/// The workload's commands per order: receive, 4 approvals, confirm, schedule, inspect, complete,
/// ship, deliver, sign. The workflow needs `confirm` (scheduling waits for the confirmation with
/// the customer), `inspect` (shipping requires passed, completed production) and `deliver`
/// (sign-off follows delivery) beyond the common workload's nine steps; all are counted (see
/// `benches/WORKLOAD.md`).
pub const COMMANDS_PER_ORDER: u64 = 12;

/// Peak resident memory since the last reset, in MiB (Linux; 0 elsewhere).
pub fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

/// Resets the peak-RSS mark so that each step reports its own peak.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The bench's people: one authenticated user per role, logged in once (authentication on,
/// as in production: every event carries a real user of the directory).
pub async fn bench_people(app: &App) -> Result<std::collections::BTreeMap<Role, Principal>, AppError> {
    let auth = app.auth();
    let password = BENCH_PASSWORD;
    if auth.directory()?.is_empty() {
        let admin = auth.bootstrap("bench.admin", "bench admin", password).await?;
        let by = Auth::principal(&admin, Some("admin"), None)?;
        for role in Role::OPERATIONAL {
            auth.add_user(&by, &format!("bench.{role}"), "bench", vec![Grant::Role(*role)], password).await?;
        }
    }
    let mut people = std::collections::BTreeMap::new();
    for role in Role::OPERATIONAL {
        let user = auth.login(&format!("bench.{role}"), password).await?;
        people.insert(*role, Auth::principal(&user, None, None)?);
    }
    Ok(people)
}

/// The commands of order `k`'s happy path, in order.
pub(crate) fn lifecycle(
    k: u64,
    rng: &mut Rng,
    today: orderflow_schemas::Date,
    currency: Currency,
) -> Vec<(Role, Command)> {
    let lines = (0..3u64)
        .map(|i| NewLine {
            sku: format!("P{}", (k * 7 + i) % 50),
            spec: String::new(),
            quantity: u32::try_from(rng.range(1, 100)).unwrap_or(1),
            unit: "pcs".into(),
            unit_price_minor: i64::try_from(rng.range(100, 100_000)).unwrap_or(100),
        })
        .collect();
    let channel = [Channel::Phone, Channel::Email, Channel::Online][usize::try_from(k % 3).unwrap_or(0)];
    let mut cmds = vec![(
        Role::Sales,
        Command::ReceiveOrder(ReceiveOrder {
            channel,
            customer: format!("C{}", k % 20),
            contact: "buyer".into(),
            lines,
            currency,
            requested_date: today.plus_days(30),
            delivery_address: "Dock 1".into(),
            special_requirements: String::new(),
        }),
    )];
    for d in Department::ALL {
        cmds.push((
            d.role(),
            Command::ApproveReview(ApproveReview { department: *d, revision: None, note: String::new() }),
        ));
    }
    // Scheduling waits for the confirmation with the customer (issue 12).
    cmds.push((
        Role::Sales,
        Command::ConfirmOrder(ConfirmOrder {
            promised_date: today.plus_days(30),
            expected_ship_date: today.plus_days(27),
            delivery_mode: DeliveryMode::Carrier,
            confirmed_via: ConfirmMethod::Email,
            note: String::new(),
        }),
    ));
    cmds.push((
        Role::Production,
        Command::ScheduleProduction(ScheduleProduction {
            planned_finish: today.plus_days(10),
            note: String::new(),
        }),
    ));
    cmds.push((
        Role::Quality,
        Command::InspectQuality(InspectQuality { result: InspectionResult::Pass, note: String::new() }),
    ));
    cmds.push((Role::Production, Command::CompleteProduction(CompleteProduction { note: String::new() })));
    cmds.push((
        Role::Logistics,
        Command::ShipOrder(ShipOrder {
            carrier: "DHL".into(),
            mode: ShipMode::Road,
            tracking_number: format!("T{k}"),
            eta: today.plus_days(3),
            unconfirmed_reason: None,
        }),
    ));
    cmds.push((Role::Logistics, Command::DeliverOrder(DeliverOrder { note: String::new() })));
    cmds.push((
        Role::Sales,
        Command::SignOrder(SignOrder { signed_by: "receiver".into(), accepted: None, note: String::new() }),
    ));
    cmds
}

/// The `permille`/1000 quantile of sorted samples (nearest rank, integer arithmetic).
fn percentile(sorted: &[u32], permille: usize) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (permille * (sorted.len() - 1) + 500) / 1000;
    sorted[rank.min(sorted.len() - 1)]
}

/// Figures of one lifecycle configuration.
#[derive(Debug, Clone)]
pub struct LifecycleFigures {
    /// Clients.
    pub clients: u64,
    /// Orders.
    pub orders: u64,
    /// Events appended.
    pub events: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Sorted command latencies in µs.
    pub latencies_us: Vec<u32>,
}

impl LifecycleFigures {
    /// The JSON line of one configuration (`benches/WORKLOAD.md`).
    pub fn to_json(&self) -> serde_json::Value {
        let s = self.elapsed.as_secs_f64().max(1e-9);
        let commands = self.orders * COMMANDS_PER_ORDER;
        json!({
            "workload": "lifecycle",
            "clients": self.clients,
            "orders": self.orders,
            "commands_per_order": COMMANDS_PER_ORDER,
            "orders_per_s": (self.orders as f64 / s).round(),
            "commands_per_s": (commands as f64 / s).round(),
            "events_per_s": (self.events as f64 / s).round(),
            "p50_us": percentile(&self.latencies_us, 500),
            "p99_us": percentile(&self.latencies_us, 990),
            "max_us": self.latencies_us.last().copied().unwrap_or(0),
            "durable": true,
            "peak_rss_mib": peak_rss_mib(),
        })
    }
}

/// Runs the lifecycle workload with `clients` client tasks on an open app.
pub async fn run_lifecycle(
    app: Arc<App>,
    orders: u64,
    clients: u64,
    bar: &indicatif::ProgressBar,
) -> Result<LifecycleFigures, AppError> {
    let head_before = app.log().head();
    let today = crate::app::now().date();
    let currency = Currency::parse("EUR").map_err(AppError::Invalid)?;
    let people = Arc::new(bench_people(&app).await?);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (app, bar, people) = (app.clone(), bar.clone(), people.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(42 ^ c.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut lat = Vec::new();
            let mut k = c;
            while k < orders {
                let mut order: Option<OrderId> = None;
                for (role, command) in lifecycle(k, &mut rng, today, currency) {
                    let t = Instant::now();
                    let done = app
                        .execute(Request {
                            order_id: order,
                            command_id: Uuid::new_v4(),
                            principal: people
                                .get(&role)
                                .cloned()
                                .ok_or_else(|| AppError::Failure(format!("bench: nobody acts as {role}")))?,
                            at: None,
                            late_reason: None,
                            command,
                        })
                        .await?;
                    lat.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                    order = Some(done.order_id);
                }
                bar.inc(1);
                k += clients;
            }
            Ok::<Vec<u32>, AppError>(lat)
        }));
    }
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await.map_err(|e| AppError::Failure(e.to_string()))??);
    }
    let elapsed = started.elapsed();
    latencies_us.sort_unstable();
    Ok(LifecycleFigures { clients, orders, events: app.log().head() - head_before, elapsed, latencies_us })
}

fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr());
    b.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{pos}}/{{len}} {{wide_bar}} {{per_sec}} eta {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b
}

/// Rebuilds every projection from an empty state on the app's log; one JSON line each, and one
/// for all of them together.
fn replay(app: &App) -> Result<(), AppError> {
    use orderflow_projections::{AuditView, KpiFacts, Projection, Runner, RunnerConfig, StatusBoard};
    fn one<P: Projection>(app: &App) -> Result<(u64, f64), AppError> {
        reset_peak_rss();
        let started = Instant::now();
        let mut runner = Runner::<P>::open_empty(app.log(), RunnerConfig::default())
            .map_err(|e| AppError::Failure(e.to_string()))?;
        runner.catch_up(&mut |_| {}).map_err(|e| AppError::Failure(e.to_string()))?;
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        let events = runner.checkpoint();
        outln!(
            "{}",
            json!({ "step": "replay", "projection": P::NAME, "events": events,
                    "events_per_s": (events as f64 / secs).round(), "peak_rss_mib": peak_rss_mib() })
        );
        drop(runner);
        Ok((events, secs))
    }
    let (events, a) = one::<StatusBoard>(app)?;
    let (_, b) = one::<KpiFacts>(app)?;
    let (_, c) = one::<AuditView>(app)?;
    outln!(
        "{}",
        json!({ "step": "replay", "projection": "all (one after another)", "events": events,
                "events_per_s": (events as f64 / (a + b + c)).round() })
    );
    Ok(())
}

/// Commands per second of the end-to-end latency step (the 1,000 commands/s).
pub const E2E_RATE_PER_S: u64 = 1_000;
/// Commands of the end-to-end latency step.
pub const E2E_COMMANDS: u64 = 5_000;

/// With `--nats`: publish the whole log to JetStream, then end-to-end latency (command
/// acknowledged → a department consumer has the event) at a steady rate.
async fn nats_steps(url: &str, app: Arc<App>) -> Result<(), AppError> {
    let fail = |e: String| AppError::Failure(format!("bench over NATS: {e}"));
    reset_peak_rss();
    let per_s = crate::bench_nats::publish_log(url, app.log()).await.map_err(fail)?;
    outln!(
        "{}",
        json!({ "step": "publish", "events": app.log().head(), "events_per_s": per_s.round(), "peak_rss_mib": peak_rss_mib() })
    );
    let (p50, p99) =
        crate::bench_nats::end_to_end(url, app, E2E_RATE_PER_S, E2E_COMMANDS).await.map_err(fail)?;
    outln!(
        "{}",
        json!({ "step": "end_to_end", "rate_per_s": E2E_RATE_PER_S, "commands": E2E_COMMANDS, "p50_us": p50, "p99_us": p99 })
    );
    Ok(())
}

/// Runs `orderflow bench`.
pub async fn run(args: BenchArgs, nats: Option<String>) -> Result<(), AppError> {
    let temp;
    let root: &Path = match &args.bench_dir {
        Some(d) => d,
        None => {
            temp = tempfile::tempdir().map_err(|e| AppError::Failure(e.to_string()))?;
            temp.path()
        }
    };
    if args.raw {
        crate::bench_raw::run(root, args.orders * COMMANDS_PER_ORDER)?;
        if let Some(url) = &nats {
            // The real publisher sends the events' JSON form (~760 bytes); measure the same size.
            let payload_bytes = 760;
            let per_s = crate::bench_nats::raw_publish(url, args.orders * COMMANDS_PER_ORDER, payload_bytes)
                .await
                .map_err(|e| AppError::Failure(format!("raw JetStream publish: {e}")))?;
            outln!(
                "{}",
                json!({ "raw": "jetstream_publish_acks_in_flight", "messages": args.orders * 11,
                        "payload_bytes": payload_bytes, "per_s": per_s.round() })
            );
        }
        return Ok(());
    }
    for &clients in &args.clients {
        let dir = root.join(format!("lifecycle-{clients}"));
        if dir.exists() {
            return Err(AppError::Invalid(format!(
                "{} exists; the bench needs a fresh directory",
                dir.display()
            )));
        }
        reset_peak_rss();
        let app = Arc::new(App::open(&dir)?);
        let b = bar(args.orders, &format!("lifecycle clients={clients} orders"));
        let figures = run_lifecycle(app.clone(), args.orders, clients, &b).await?;
        b.finish_and_clear();
        outln!("{}", figures.to_json());
        if Some(&clients) == args.clients.last() {
            replay(&app)?;
            if let Some(url) = &nats {
                nats_steps(url, app.clone()).await?;
            }
        }
        app.close()?;
    }
    Ok(())
}
