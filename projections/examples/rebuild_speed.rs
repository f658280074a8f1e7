//! Quick manual measurement of projection rebuild speed and memory.
//!
//! ```text
//! cargo run --release -p orderflow-projections --example rebuild_speed -- [DIR] [ORDERS] [PROJECTIONS] [BATCH]
//! /usr/bin/time -v target/release/examples/rebuild_speed /tmp/of-bench 100000 status
//! ```
//! Writes `ORDERS` (default 100,000) orders of 10 events each (one append per event, as the
//! command handlers do) into the log in `DIR` (default: a temporary directory) unless it already
//! holds them, then for each projection (`status,kpi,audit` by default) rebuilds it from position
//! 0, saves a snapshot, and reopens it from the snapshot, printing events/s and timings.
//! `scan` in PROJECTIONS measures the baselines: reading the log, and reading plus decoding.
//! BATCH is the runner's `batch_events_max`; the environment variable READ_AHEAD its
//! `read_ahead_batches_max` (0: no read-ahead thread).

#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_precision_loss)] // a measurement tool

use std::time::Instant;

use orderflow_engine::{AppendRequest, Appended, EventLog, ExpectedVersion, LogConfig, NewEvent};
use orderflow_projections::{AuditView, KpiFacts, Projection, Runner, RunnerConfig, StatusBoard};
use orderflow_schemas::*;
use uuid::Uuid;

const EVENTS_PER_ORDER: u64 = 10;
const WRITER_THREADS: u64 = 64;
const DAY_US: i64 = 86_400_000_000;
const START_US: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

fn actor(name: &str, role: Role) -> Actor {
    Actor::named(name, role)
}

fn order_events(n: u64) -> Vec<Event> {
    let t0 = START_US + (n as i64 % 300) * DAY_US + (n as i64 % 997) * 60_000_000;
    let at = |hours: i64| Timestamp(t0 + hours * 3_600_000_000);
    let day0 = Timestamp(t0).date();
    let lines: Vec<OrderLine> = (1..=3u16)
        .map(|l| OrderLine {
            line_no: l,
            sku: format!("SKU-{:04}", (n * 7 + u64::from(l)) % 500),
            spec: "grade A, 25 kg bags".into(),
            quantity: 10 * u32::from(l) + (n % 50) as u32,
            unit: "pcs".into(),
            unit_price_minor: 1_250 + i64::from(l) * 100,
        })
        .collect();
    let total_minor = lines.iter().filter_map(OrderLine::amount_minor).sum();
    let accepted: Vec<LineQuantity> =
        lines.iter().map(|l| LineQuantity { line_no: l.line_no, quantity: l.quantity }).collect();
    let clerk = actor("clerk.li", Role::Sales);
    let mut events = vec![Event {
        actor: clerk.clone(),
        at: at(0),
        late: None,
        body: EventBody::OrderReceived(OrderReceived {
            channel: Channel::ALL[(n % 4) as usize],
            customer: format!("Customer {:05}", n % 5_000),
            contact: "buyer@example.com".into(),
            lines,
            currency: Currency::parse(if n.is_multiple_of(5) { "EUR" } else { "CNY" })
                .unwrap_or_else(|e| panic!("{e}")),
            total_minor,
            requested_date: day0.plus_days(30),
            delivery_address: "No. 1 Industrial Road, Suzhou".into(),
            special_requirements: "keep dry".into(),
            review_due: at(48),
            review_due_by: RoleDue::every_department(at(48)),
        }),
    }];
    for (i, d) in Department::ALL.iter().enumerate() {
        events.push(Event {
            actor: actor("reviewer", d.role()),
            at: at(2 + i as i64),
            late: None,
            body: EventBody::ReviewApproved(ReviewApproved {
                department: *d,
                revision: 1,
                note: "ok".into(),
            }),
        });
    }
    events.push(Event {
        actor: clerk.clone(),
        at: at(8),
        late: None,
        body: OrderApproved { revision: 1 }.into(),
    });
    events.push(Event {
        actor: clerk.clone(),
        at: at(9),
        late: None,
        body: OrderConfirmed {
            promised_date: day0.plus_days(28),
            note: "read back".into(),
            revision: Some(1),
            expected_ship_date: Some(day0.plus_days(20)),
            delivery_mode: Some(DeliveryMode::Carrier),
            confirmed_via: Some(ConfirmMethod::Phone),
        }
        .into(),
    });
    events.push(Event {
        actor: actor("ship.wang", Role::Logistics),
        at: at(24 * 20),
        late: None,
        body: OrderShipped {
            carrier: "SF Express".into(),
            mode: ShipMode::Road,
            tracking_number: format!("SF{n:010}"),
            eta: day0.plus_days(23),
            lines: accepted.clone(),
            revision: Some(1),
            unconfirmed_reason: None,
        }
        .into(),
    });
    events.push(Event {
        actor: actor("ship.wang", Role::Logistics),
        at: at(24 * 23),
        late: None,
        body: OrderDelivered { note: "POD 7781".into() }.into(),
    });
    events.push(Event {
        actor: actor("cs.zhao", Role::CustomerService),
        at: at(24 * 23 + 3),
        late: None,
        body: OrderSigned { signed_by: "Mr. Chen".into(), accepted, full: true, note: String::new() }.into(),
    });
    assert_eq!(events.len() as u64, EVENTS_PER_ORDER);
    events
}

fn write(log: &EventLog, orders: u64) {
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..WRITER_THREADS {
            s.spawn(move || {
                let mut n = t;
                while n < orders {
                    let stream = Uuid::from_u128(0x0f00_0000_0000_0000_0000_0000_0000_0000 | u128::from(n));
                    for (v, e) in order_events(n).iter().enumerate() {
                        let (event_type, schema_version, payload) =
                            encode_event(e).unwrap_or_else(|e| panic!("encode: {e}"));
                        let req = AppendRequest {
                            stream,
                            expected: ExpectedVersion::Exact(v as u64),
                            command_id: Uuid::new_v4(),
                            events: vec![NewEvent { event_type, schema_version, payload }],
                        };
                        match log.append_blocking(req) {
                            Ok(Appended::Committed(_)) => {}
                            other => panic!("append failed: {other:?}"),
                        }
                    }
                    n += WRITER_THREADS;
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    println!("wrote {} events in {secs:.1} s ({:.0} events/s)", log.head(), log.head() as f64 / secs);
}

/// Baselines: reading the log alone, and reading plus decoding every event.
fn scan(log: &EventLog, batch: usize) {
    for decode in [false, true] {
        let started = Instant::now();
        let mut next = 1u64;
        let mut decoded = 0u64;
        while next <= log.head() {
            let events = log.read_from(next, batch).unwrap_or_else(|e| panic!("{e}"));
            for e in &events {
                if decode {
                    decode_event(e.event_type, e.schema_version, &e.payload)
                        .unwrap_or_else(|e| panic!("{e}"));
                    decoded += 1;
                }
            }
            next = events.last().map_or(u64::MAX, |e| e.position + 1);
        }
        let secs = started.elapsed().as_secs_f64();
        let what = if decode { "read+decode" } else { "read" };
        println!(
            "  scan {what}: {:.0} events/s ({decoded} decoded, batch {batch})",
            log.head() as f64 / secs
        );
    }
}

/// CPU seconds (user + system) this process used so far, from /proc/self/stat (Linux; 0
/// elsewhere). The machine may be shared: events per CPU second is steadier than per wall second.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = [11, 12].iter().filter_map(|i| fields.get(*i)?.parse::<u64>().ok()).sum();
    ticks as f64 / 100.0
}

fn measure<P: Projection>(log: &EventLog, batch: usize) {
    let ahead = std::env::var("READ_AHEAD").map_or(RunnerConfig::default().read_ahead_batches_max, |s| {
        s.parse().unwrap_or_else(|e| panic!("READ_AHEAD: {e}"))
    });
    let config =
        RunnerConfig { batch_events_max: batch, read_ahead_batches_max: ahead, ..RunnerConfig::default() };
    let cpu_started = cpu_secs();
    let started = Instant::now();
    let mut runner = Runner::<P>::open_empty(log, config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let mut batches = 0u64;
    let mut last = Instant::now();
    runner
        .catch_up(&mut |p| {
            batches += 1;
            if last.elapsed().as_secs() >= 1 {
                last = Instant::now();
                let secs = started.elapsed().as_secs_f64();
                let rate = p.position as f64 / secs;
                let eta = (p.head - p.position) as f64 / rate.max(1.0);
                println!(
                    "  {}: {}/{} events, {rate:.0} events/s, ETA {eta:.1} s",
                    P::NAME,
                    p.position,
                    p.head
                );
            }
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let fold_secs = started.elapsed().as_secs_f64();
    let fold_cpu_secs = cpu_secs() - cpu_started;
    let saved = Instant::now();
    runner.save().unwrap_or_else(|e| panic!("{e}"));
    let save_secs = saved.elapsed().as_secs_f64();
    let bytes = runner.snapshot().map_or(0, |s| s.bytes);
    drop(runner);
    let loaded = Instant::now();
    let runner = Runner::<P>::open(log, config).unwrap_or_else(|e| panic!("{e}"));
    let load_secs = loaded.elapsed().as_secs_f64();
    println!(
        "{:>6}: rebuilt {} events in {fold_secs:.2} s = {:.0} events/s ({batches} batches; {fold_cpu_secs:.2} CPU s \
         = {:.0} events per CPU s); snapshot {:.1} MB saved in {save_secs:.2} s, loaded in {load_secs:.2} s",
        P::NAME,
        runner.checkpoint(),
        runner.checkpoint() as f64 / fold_secs,
        runner.checkpoint() as f64 / fold_cpu_secs.max(0.01),
        bytes as f64 / 1e6,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tmp;
    let dir = match args.get(1) {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            tmp.path().to_path_buf()
        }
    };
    let orders: u64 = args.get(2).map_or(100_000, |s| s.parse().unwrap_or_else(|e| panic!("ORDERS: {e}")));
    let which = args.get(3).map_or("status,kpi,audit", String::as_str);
    let batch: usize = args.get(4).map_or(RunnerConfig::default().batch_events_max, |s| {
        s.parse().unwrap_or_else(|e| panic!("BATCH: {e}"))
    });
    let log = EventLog::open(LogConfig::new(&dir)).unwrap_or_else(|e| panic!("{e}"));
    if log.head() < orders * EVENTS_PER_ORDER {
        assert_eq!(log.head(), 0, "{} holds a different log; use an empty directory", dir.display());
        write(&log, orders);
    } else {
        println!("{} already holds {} events", dir.display(), log.head());
    }
    for name in which.split(',') {
        match name {
            "scan" => scan(&log, batch),
            "status" => measure::<StatusBoard>(&log, batch),
            "kpi" => measure::<KpiFacts>(&log, batch),
            "audit" => measure::<AuditView>(&log, batch),
            other => panic!("unknown projection {other}"),
        }
    }
    log.close().unwrap_or_else(|e| panic!("{e}"));
}
