//! `orderflow bench web`: the web pages of `serve --http` under load, in one process.
//!
//! 1. A data directory with `--orders` orders, each driven part of the way through the
//!    lifecycle of [`crate::bench`] (order `k` takes `1 + k % 12` of its 12 commands, on a clock
//!    `k % 60` days in the past, so the board holds every state from received to signed, and the
//!    older unfinished ones are overdue). A `--bench-dir` that already holds the directory of
//!    the same size is used again (generating 100,000 orders takes a while).
//! 2. The pages started in this process ([`crate::web::start`] on `127.0.0.1:0`), `--clients`
//!    people logged in through the login form, each with its own HTTP client (own connections).
//! 3. Per page kind, `--requests` requests spread over the clients (at most `--seconds`): the
//!    board (`/orders`), the board filtered (`/orders?flag=overdue`), one order at random
//!    (`/orders/<id>`), the KPI page (`/kpi`): p50, p99, max, pages per second, and the answers
//!    other than 200 (counted, never hidden).
//! 4. `--streams` event streams on `/events`, then `--commands` commands at
//!    [`LIVE_RATE_PER_S`]: the delay from the command's append ([`App::execute`] returning) to its
//!    `change` event arriving on each stream (an event that arrives before `execute` returns
//!    counts as 0).
//! 5. Peak resident memory (`VmHWM`).
//!
//! Output: a table, or with `--json` one JSON line per step, as the other benches.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use orderflow_commands::Command;
use orderflow_schemas::{Currency, OrderId, Role};
use serde_json::json;
use uuid::Uuid;

use crate::app::{App, AppError, Request};
use crate::bench::{bench_people, peak_rss_mib, reset_peak_rss, BENCH_PASSWORD};
use crate::outln;
use crate::rng::Rng;

/// Orders at most (`--orders`).
pub const ORDERS_MAX: u64 = 2_000_000;
/// Logged-in clients at most (`--clients`).
pub const CLIENTS_MAX: usize = 1_024;
/// Requests per page kind at most (`--requests`).
pub const REQUESTS_MAX: u64 = 10_000_000;
/// Seconds per page kind at most (`--seconds`).
pub const SECONDS_MAX: u64 = 3_600;
/// Event streams at most (`--streams`); the pages are started with room for them.
pub const STREAMS_MAX: usize = 1_000;
/// Commands of the live step at most (`--commands`).
pub const COMMANDS_MAX: u64 = 100_000;
/// Commands per second of the live step (paced, so that each is its own `change`).
pub const LIVE_RATE_PER_S: u64 = 50;
/// Tasks that generate the orders (many in flight share the log's flushes).
pub const GENERATE_TASKS: u64 = 64;
/// Lifecycle commands an order takes at most (all of [`crate::bench::COMMANDS_PER_ORDER`]).
const STEPS: u64 = crate::bench::COMMANDS_PER_ORDER;
/// Days in the past the generated orders start at most.
pub const DAYS_BACK: u64 = 60;
/// How long one HTTP request may take before the bench fails.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the streams may take to deliver the last command's change after it.
pub const DELIVERY_WAIT: Duration = Duration::from_secs(30);
/// Bytes of one event stream buffered before an event ends (a longer one fails the bench).
pub const EVENT_BYTES_MAX: usize = 64 * 1024;
/// The person the clients log in as (the board, the orders and the KPI are theirs to read).
const WEB_ROLE: Role = Role::Sales;

/// Options of `orderflow bench web`.
#[derive(clap::Args, Debug, Clone)]
pub struct WebBenchArgs {
    /// Orders in the data directory.
    #[arg(long, default_value_t = 100_000)]
    pub orders: u64,
    /// People logged in at once, each with their own HTTP connections.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Requests per page kind, spread over the clients.
    #[arg(long, default_value_t = 2_000)]
    pub requests: u64,
    /// Seconds per page kind at most (fewer requests are then reported).
    #[arg(long, default_value_t = 120)]
    pub seconds: u64,
    /// Event streams open on /events for the live delay.
    #[arg(long, default_value_t = 50)]
    pub streams: usize,
    /// Commands whose change the streams must see.
    #[arg(long, default_value_t = 200)]
    pub commands: u64,
    /// Where to put the data directory (`web-<orders>`; used again when it is there)
    /// [default: a fresh temporary directory, removed afterwards].
    #[arg(long = "bench-dir")]
    pub bench_dir: Option<PathBuf>,
}

impl WebBenchArgs {
    fn check(&self) -> Result<(), AppError> {
        let bad = |what: &str, v: u64, lo: u64, hi: u64| {
            if v < lo || v > hi {
                Err(AppError::Invalid(format!("--{what} {v} is outside {lo}..={hi}")))
            } else {
                Ok(())
            }
        };
        bad("orders", self.orders, 1, ORDERS_MAX)?;
        bad("clients", self.clients as u64, 1, CLIENTS_MAX as u64)?;
        bad("requests", self.requests, 1, REQUESTS_MAX)?;
        bad("seconds", self.seconds, 1, SECONDS_MAX)?;
        bad("streams", self.streams as u64, 1, STREAMS_MAX as u64)?;
        bad("commands", self.commands, 1, COMMANDS_MAX)
    }
}

/// The `permille`/1000 quantile of sorted samples (nearest rank).
fn percentile(sorted: &[u64], permille: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (permille * (sorted.len() - 1) + 500) / 1000;
    sorted[rank.min(sorted.len() - 1)]
}

/// Milliseconds of microseconds, with one decimal (for people and JSON alike).
fn ms(us: u64) -> f64 {
    (us as f64 / 100.0).round() / 10.0
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn failure(what: &str) -> impl Fn(String) -> AppError + '_ {
    move |e| AppError::Failure(format!("bench web: {what}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The data

/// What the data step did.
#[derive(Debug, Clone)]
struct Data {
    orders: u64,
    commands: u64,
    events: u64,
    elapsed: Duration,
    reused: bool,
}

/// Drives `orders` orders part of the way through their lives (see the module documentation).
async fn generate(app: Arc<App>, orders: u64, bar: &indicatif::ProgressBar) -> Result<Data, AppError> {
    let head_before = app.log().head();
    let currency = Currency::parse("EUR").map_err(AppError::Invalid)?;
    let people = Arc::new(bench_people(&app).await?);
    let now = crate::app::now();
    let started = Instant::now();
    let commands = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for t in 0..GENERATE_TASKS.min(orders) {
        let (app, bar, people, commands) = (app.clone(), bar.clone(), people.clone(), commands.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(7 ^ t.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut k = t;
            while k < orders {
                let days_back = i64::try_from(k % DAYS_BACK).unwrap_or(0);
                let start = now.plus_hours(-24 * days_back - i64::try_from(STEPS).unwrap_or(12));
                let steps = usize::try_from(1 + k % STEPS).unwrap_or(1);
                let mut order: Option<OrderId> = None;
                let life = crate::bench::lifecycle(k, &mut rng, start.date(), currency);
                for (i, (role, command)) in life.into_iter().take(steps).enumerate() {
                    let principal = people
                        .get(&role)
                        .cloned()
                        .ok_or_else(|| AppError::Failure(format!("bench web: nobody acts as {role}")))?;
                    let req = Request {
                        order_id: order,
                        command_id: Uuid::new_v4(),
                        principal,
                        at: None,
                        late_reason: None,
                        command,
                    };
                    let clock = start.plus_hours(i64::try_from(i).unwrap_or(0));
                    let done = app.execute_with_clock(req, clock).await?;
                    order = Some(done.order_id);
                    commands.fetch_add(1, Ordering::Relaxed);
                }
                bar.inc(1);
                k += GENERATE_TASKS;
            }
            Ok::<(), AppError>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| AppError::Failure(e.to_string()))??;
    }
    Ok(Data {
        orders,
        commands: commands.load(Ordering::Relaxed),
        events: app.log().head() - head_before,
        elapsed: started.elapsed(),
        reused: false,
    })
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// A person logged in over HTTP: their own client (own connections) and session cookie.
#[derive(Clone)]
struct Person {
    http: reqwest::Client,
    cookie: String,
}

fn http_client() -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| AppError::Failure(format!("bench web: HTTP client: {e}")))
}

fn cookie_set_by(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&prefix).map(|rest| rest.split(';').next().unwrap_or("").to_string()))
        .filter(|v| !v.is_empty())
}

/// The value of the hidden input `name` of an HTML form.
fn hidden_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let end = rest.find('>')?;
    let v = rest[..end].find("value=\"")?;
    let value = &rest[v + 7..end];
    value.find('"').map(|e| value[..e].to_string())
}

/// Logs in through the login form, as a browser does.
async fn log_in(base: &str, login: &str) -> Result<Person, AppError> {
    let http = http_client()?;
    let fail = failure("login");
    let form = http.get(format!("{base}/login")).send().await.map_err(|e| fail(e.to_string()))?;
    let bound = cookie_set_by(form.headers(), crate::web::session::LOGIN_COOKIE)
        .ok_or_else(|| fail("the login page set no login cookie".into()))?;
    let page = form.text().await.map_err(|e| fail(e.to_string()))?;
    let token =
        hidden_value(&page, "login_csrf").ok_or_else(|| fail("no login_csrf on the login page".into()))?;
    let resp = http
        .post(format!("{base}/login"))
        .header(reqwest::header::COOKIE, format!("{}={bound}", crate::web::session::LOGIN_COOKIE))
        .form(&[("login", login), ("password", BENCH_PASSWORD), ("login_csrf", &token), ("next", "/orders")])
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let session = cookie_set_by(resp.headers(), crate::web::session::SESSION_COOKIE)
        .ok_or_else(|| fail(format!("{login} was not let in ({})", resp.status())))?;
    Ok(Person { http, cookie: format!("{}={session}", crate::web::session::SESSION_COOKIE) })
}

/// A kind of page measured.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Board,
    BoardOverdue,
    Order,
    Kpi,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Board, Kind::BoardOverdue, Kind::Order, Kind::Kpi];

    fn name(self) -> &'static str {
        match self {
            Kind::Board => "board",
            Kind::BoardOverdue => "board_overdue",
            Kind::Order => "order",
            Kind::Kpi => "kpi",
        }
    }

    fn path(self, ids: &[OrderId], rng: &mut Rng) -> String {
        match self {
            Kind::Board => "/orders".into(),
            Kind::BoardOverdue => "/orders?flag=overdue".into(),
            Kind::Order => match ids.get(rng.below(ids.len())) {
                Some(id) => format!("/orders/{}", id.0.simple()),
                None => "/orders".into(),
            },
            Kind::Kpi => "/kpi".into(),
        }
    }
}

/// Figures of one page kind.
#[derive(Debug, Clone)]
struct PageFigures {
    kind: Kind,
    clients: usize,
    first: Duration,
    elapsed: Duration,
    latencies_us: Vec<u64>,
    statuses: std::collections::BTreeMap<u16, u64>,
    bytes: u64,
}

impl PageFigures {
    fn ok(&self) -> u64 {
        self.statuses.get(&200).copied().unwrap_or(0)
    }
    fn others(&self) -> String {
        let v: Vec<String> =
            self.statuses.iter().filter(|(s, _)| **s != 200).map(|(s, n)| format!("{n}×{s}")).collect();
        if v.is_empty() {
            "-".into()
        } else {
            v.join(" ")
        }
    }
    fn per_s(&self) -> f64 {
        (self.latencies_us.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)).round()
    }
    fn to_json(&self) -> serde_json::Value {
        let n = self.latencies_us.len() as u64;
        json!({
            "workload": "web", "step": "page", "page": self.kind.name(),
            "clients": self.clients, "requests": n, "ok": self.ok(),
            "statuses": self.statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "first_ms": ms(micros(self.first)),
            "p50_ms": ms(percentile(&self.latencies_us, 500)),
            "p99_ms": ms(percentile(&self.latencies_us, 990)),
            "max_ms": ms(self.latencies_us.last().copied().unwrap_or(0)),
            "pages_per_s": self.per_s(),
            "bytes_mean": self.bytes.checked_div(n).unwrap_or(0),
        })
    }
}

async fn get(person: &Person, base: &str, path: &str) -> Result<(u16, u64), AppError> {
    let resp = person
        .http
        .get(format!("{base}{path}"))
        .header(reqwest::header::COOKIE, &person.cookie)
        .send()
        .await
        .map_err(|e| AppError::Failure(format!("bench web: GET {path}: {e}")))?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(|e| AppError::Failure(format!("bench web: GET {path}: {e}")))?;
    Ok((status, body.len() as u64))
}

/// Measures one kind of page: `requests` requests by `people` at once, for `limit` at most.
async fn measure(
    kind: Kind,
    base: &str,
    people: &[Person],
    ids: Arc<Vec<OrderId>>,
    requests: u64,
    limit: Duration,
) -> Result<PageFigures, AppError> {
    // The first request brings the read models up to the log (timed on its own).
    let t = Instant::now();
    let mut rng = Rng::new(99);
    get(&people[0], base, &kind.path(&ids, &mut rng)).await?;
    let first = t.elapsed();
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (c, person) in people.iter().enumerate() {
        let (person, base, ids, issued) = (person.clone(), base.to_string(), ids.clone(), issued.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(1234 + c as u64);
            let mut lat = Vec::new();
            let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
            let mut bytes = 0u64;
            while issued.fetch_add(1, Ordering::Relaxed) < requests && started.elapsed() < limit {
                let path = kind.path(&ids, &mut rng);
                let t = Instant::now();
                let (status, n) = get(&person, &base, &path).await?;
                lat.push(micros(t.elapsed()));
                *statuses.entry(status).or_default() += 1;
                bytes += n;
            }
            Ok::<_, AppError>((lat, statuses, bytes))
        }));
    }
    let mut figures = PageFigures {
        kind,
        clients: people.len(),
        first,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
        statuses: Default::default(),
        bytes: 0,
    };
    for t in tasks {
        let (lat, statuses, bytes) = t.await.map_err(|e| AppError::Failure(e.to_string()))??;
        figures.latencies_us.extend(lat);
        for (s, n) in statuses {
            *figures.statuses.entry(s).or_default() += n;
        }
        figures.bytes += bytes;
    }
    figures.elapsed = started.elapsed();
    figures.latencies_us.sort_unstable();
    Ok(figures)
}

// ---------------------------------------------------------------------------------------------
// Live

/// The positions of the `change` events of one stream and when each arrived.
type Arrivals = Vec<(u64, Instant)>;

/// Reads `change` events from an open stream until one at the position `until` names (once it
/// names one) or later has arrived, or the stream ends.
async fn follow(
    resp: reqwest::Response,
    mut until: tokio::sync::watch::Receiver<u64>,
) -> Result<Arrivals, AppError> {
    let mut body = resp.bytes_stream();
    let mut buf = String::new();
    let mut seen: Arrivals = Vec::new();
    loop {
        let target = *until.borrow();
        if target > 0 && seen.last().is_some_and(|(p, _)| *p >= target) {
            return Ok(seen);
        }
        tokio::select! {
            chunk = body.next() => match chunk {
                Some(Ok(bytes)) => {
                    let at = Instant::now();
                    buf.push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n"));
                    while let Some(end) = buf.find("\n\n") {
                        let block: String = buf.drain(..end + 2).collect();
                        let mut change = false;
                        let mut id = None;
                        for line in block.lines() {
                            let (k, v) = line.split_once(':').unwrap_or((line, ""));
                            match (k, v.trim()) {
                                ("event", "change") => change = true,
                                ("id", v) => id = v.parse::<u64>().ok(),
                                _ => {}
                            }
                        }
                        if let (true, Some(p)) = (change, id) {
                            seen.push((p, at));
                        }
                    }
                    if buf.len() > EVENT_BYTES_MAX {
                        return Err(AppError::Failure(format!(
                            "bench web: an event stream sent {} bytes without an event's end",
                            buf.len()
                        )));
                    }
                }
                Some(Err(e)) => return Err(AppError::Failure(format!("bench web: an event stream: {e}"))),
                None => return Ok(seen),
            },
            changed = until.changed() => {
                if changed.is_err() {
                    return Ok(seen);
                }
            }
        }
    }
}

/// Figures of the live step.
#[derive(Debug, Clone)]
struct LiveFigures {
    streams: usize,
    commands: u64,
    delays_us: Vec<u64>,
    missed: u64,
}

impl LiveFigures {
    fn to_json(&self) -> serde_json::Value {
        json!({
            "workload": "web", "step": "live", "streams": self.streams, "commands": self.commands,
            "rate_per_s": LIVE_RATE_PER_S, "deliveries": self.delays_us.len(), "missed": self.missed,
            "p50_ms": ms(percentile(&self.delays_us, 500)),
            "p99_ms": ms(percentile(&self.delays_us, 990)),
            "max_ms": ms(self.delays_us.last().copied().unwrap_or(0)),
        })
    }
}

/// Opens `streams` event streams (round robin over `people`), runs `commands` receives at
/// [`LIVE_RATE_PER_S`], and measures when each stream saw each.
async fn live(
    app: &Arc<App>,
    base: &str,
    people: &[Person],
    streams: usize,
    commands: u64,
) -> Result<LiveFigures, AppError> {
    let (target_tx, target_rx) = tokio::sync::watch::channel(0u64);
    let mut followers = Vec::new();
    for s in 0..streams {
        let person = &people[s % people.len()];
        let resp = person
            .http
            .get(format!("{base}/events"))
            .header(reqwest::header::COOKIE, &person.cookie)
            .timeout(REQUEST_TIMEOUT + DELIVERY_WAIT + Duration::from_secs(commands / LIVE_RATE_PER_S + 1))
            .send()
            .await
            .map_err(|e| AppError::Failure(format!("bench web: open /events: {e}")))?;
        if resp.status().as_u16() != 200 {
            return Err(AppError::Failure(format!("bench web: /events answered {}", resp.status())));
        }
        followers.push(tokio::spawn(follow(resp, target_rx.clone())));
    }
    let people_app = bench_people(app).await?;
    let sales = people_app
        .get(&Role::Sales)
        .cloned()
        .ok_or_else(|| AppError::Failure("bench web: nobody acts as sales".into()))?;
    let currency = Currency::parse("EUR").map_err(AppError::Invalid)?;
    let today = crate::app::now().date();
    let mut rng = Rng::new(4242);
    let mut appended: Vec<(u64, Instant)> = Vec::new();
    let mut pace = tokio::time::interval(Duration::from_micros(1_000_000 / LIVE_RATE_PER_S));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for k in 0..commands {
        pace.tick().await;
        let Some((_, command)) = crate::bench::lifecycle(k, &mut rng, today, currency).into_iter().next()
        else {
            break;
        };
        debug_assert!(matches!(command, Command::ReceiveOrder(_)));
        let req = Request {
            order_id: None,
            command_id: Uuid::new_v4(),
            principal: sales.clone(),
            at: None,
            late_reason: None,
            command,
        };
        let done = app.execute(req).await?;
        let at = Instant::now();
        let last = done.first_position + (done.events.len() as u64).saturating_sub(1);
        appended.push((last, at));
    }
    let last = appended.last().map_or(0, |(p, _)| *p);
    let _ = target_tx.send(last);
    let mut figures = LiveFigures { streams, commands, delays_us: Vec::new(), missed: 0 };
    let deadline = tokio::time::Instant::now() + DELIVERY_WAIT;
    for f in followers {
        let abort = f.abort_handle();
        let seen = match tokio::time::timeout_at(deadline, f).await {
            Ok(joined) => joined.map_err(|e| AppError::Failure(e.to_string()))??,
            Err(_) => {
                abort.abort();
                Vec::new()
            }
        };
        let mut i = 0;
        for (p, at) in &appended {
            while i < seen.len() && seen[i].0 < *p {
                i += 1;
            }
            match seen.get(i) {
                Some((_, arrived)) => figures.delays_us.push(micros(arrived.saturating_duration_since(*at))),
                None => figures.missed += 1,
            }
        }
    }
    figures.delays_us.sort_unstable();
    Ok(figures)
}

// ---------------------------------------------------------------------------------------------
// The run

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

/// Opens the data directory of `orders` orders under `root`, generating it when it is not there.
async fn data(root: &Path, orders: u64) -> Result<(Arc<App>, Data), AppError> {
    let dir = root.join(format!("web-{orders}"));
    if dir.exists() {
        let app = Arc::new(App::open_existing(&dir)?);
        let found = app.order_ids()?.len() as u64;
        if found < orders {
            return Err(AppError::Invalid(format!(
                "{} holds {found} orders, fewer than {orders}: remove it, or choose another --bench-dir",
                dir.display()
            )));
        }
        let data = Data {
            orders: found,
            commands: 0,
            events: app.log().head(),
            elapsed: Duration::ZERO,
            reused: true,
        };
        return Ok((app, data));
    }
    let app = Arc::new(App::open(&dir)?);
    let b = bar(orders, "web bench: orders");
    let data = generate(app.clone(), orders, &b).await?;
    b.finish_and_clear();
    Ok((app, data))
}

/// Runs `orderflow bench web`.
pub async fn run(args: WebBenchArgs, json: bool) -> Result<(), AppError> {
    args.check()?;
    let temp;
    let root: &Path = match &args.bench_dir {
        Some(d) => d,
        None => {
            temp = tempfile::tempdir().map_err(|e| AppError::Failure(e.to_string()))?;
            temp.path()
        }
    };
    reset_peak_rss();
    let (app, data) = data(root, args.orders).await?;
    let data_rss = peak_rss_mib();
    let data_json = json!({
        "workload": "web", "step": "data", "orders": data.orders, "commands": data.commands,
        "events": data.events, "seconds": (data.elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "reused": data.reused, "peak_rss_mib": data_rss,
    });
    if json {
        outln!("{data_json}");
    } else if data.reused {
        outln!("data: {} orders, {} events (reused)", data.orders, data.events);
    } else {
        outln!(
            "data: {} orders, {} commands, {} events in {:.1} s ({:.0} commands/s), peak RSS {data_rss} MiB",
            data.orders,
            data.commands,
            data.events,
            data.elapsed.as_secs_f64(),
            data.commands as f64 / data.elapsed.as_secs_f64().max(1e-9)
        );
    }

    let ids = Arc::new(app.order_ids()?);
    let mut config = crate::web::WebConfig::new(
        "127.0.0.1:0".parse().map_err(|e| AppError::Failure(format!("bench web: address: {e}")))?,
    );
    config.streams_max = config.streams_max.max(args.streams + 1);
    config.sessions.sessions_max = config.sessions.sessions_max.max(args.clients + 1);
    let running = crate::web::start(app.clone(), crate::service::Views::default(), config).await?;
    let base = format!("http://{}", running.addr);
    let result = measure_all(&app, &base, &args, ids, json).await;
    running.stop().await?;
    let closed = app.close();
    result?;
    closed?;
    Ok(())
}

async fn measure_all(
    app: &Arc<App>,
    base: &str,
    args: &WebBenchArgs,
    ids: Arc<Vec<OrderId>>,
    json: bool,
) -> Result<(), AppError> {
    let login = format!("bench.{WEB_ROLE}");
    let mut people = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        people.push(log_in(base, &login).await?);
    }
    if !json {
        outln!(
            "pages: {} clients logged in as {login}, {} requests per page (at most {} s each)",
            args.clients,
            args.requests,
            args.seconds
        );
        outln!(
            "{:<14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  other answers",
            "page",
            "requests",
            "first ms",
            "p50 ms",
            "p99 ms",
            "max ms",
            "pages/s",
            "KiB/page"
        );
    }
    let limit = Duration::from_secs(args.seconds);
    for kind in Kind::ALL {
        let f = measure(kind, base, &people, ids.clone(), args.requests, limit).await?;
        if json {
            outln!("{}", f.to_json());
        } else {
            let n = f.latencies_us.len() as u64;
            outln!(
                "{:<14} {:>9} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9} {:>9.1}  {}",
                kind.name(),
                n,
                ms(micros(f.first)),
                ms(percentile(&f.latencies_us, 500)),
                ms(percentile(&f.latencies_us, 990)),
                ms(f.latencies_us.last().copied().unwrap_or(0)),
                f.per_s(),
                f.bytes.checked_div(n).unwrap_or(0) as f64 / 1024.0,
                f.others()
            );
        }
    }
    let l = live(app, base, &people, args.streams, args.commands).await?;
    if json {
        outln!("{}", l.to_json());
        outln!("{}", json!({ "workload": "web", "step": "peak", "peak_rss_mib": peak_rss_mib() }));
    } else {
        outln!(
            "live: {} streams, {} commands at {}/s: change delay p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} deliveries, {} missed)",
            l.streams,
            l.commands,
            LIVE_RATE_PER_S,
            ms(percentile(&l.delays_us, 500)),
            ms(percentile(&l.delays_us, 990)),
            ms(l.delays_us.last().copied().unwrap_or(0)),
            l.delays_us.len(),
            l.missed
        );
        outln!("peak RSS: {} MiB", peak_rss_mib());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 500), 51);
        assert_eq!(percentile(&v, 990), 99);
        assert_eq!(percentile(&[], 500), 0);
        assert_eq!(ms(1_250), 1.3);
    }

    #[test]
    fn the_login_form_token_is_found() {
        let html = r#"<input type="hidden" name="login_csrf" value="abc123"><input name="next" value="/x">"#;
        assert_eq!(hidden_value(html, "login_csrf").as_deref(), Some("abc123"));
        assert_eq!(hidden_value(html, "next").as_deref(), Some("/x"));
        assert_eq!(hidden_value(html, "nope"), None);
    }
}
