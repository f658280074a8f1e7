//! Measures how fast the bus publisher drains a full event log into JetStream.
//!
//! ```text
//! cargo run --release --example publish_bench -- [EVENTS]     # default 100000
//! ```
//!
//! It appends EVENTS events (orders of 10 events, one append each) to a log in a temporary
//! directory, then starts the publisher and times how long it takes until the stream holds them
//! all. It uses `$NATS_URL` when set (the server must have JetStream and no `ORDERFLOW` stream
//! worth keeping: the bench publishes into it); otherwise it starts its own `nats-server -js` on a
//! free port of 127.0.0.1 with a temporary store (`$NATS_SERVER_BIN`, `PATH` or
//! `/usr/sbin/nats-server`; Debian package `nats-server`).

/// The binary's allocator, so the figure is that of what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use orderflow::bus::{shutdown_channel, Publisher, PublisherConfig};
use orderflow_engine::{AppendRequest, Appended, EventLog, ExpectedVersion, LogConfig, NewEvent};
use orderflow_schemas::*;
use uuid::Uuid;

/// Events per order (one append).
const EVENTS_PER_ORDER: usize = 10;
/// Appends waiting for the log at once (the writer commits them in groups).
const APPENDS_IN_FLIGHT: usize = 512;
/// How long the publisher may take before the bench gives up.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(600);

fn order_events(i: usize, currency: Currency) -> Vec<Event> {
    let at = Timestamp(1_772_352_000_000_000 + i64::try_from(i).unwrap_or(0) * 1_000_000);
    let who = Actor::named("bench", Role::Sales);
    let line = OrderLine {
        line_no: 1,
        sku: "SKU-0001".to_string(),
        spec: "grade A".to_string(),
        quantity: 10,
        unit: "pcs".to_string(),
        unit_price_minor: 1250,
    };
    let date = at.date().plus_days(30);
    let mut bodies: Vec<EventBody> = vec![OrderReceived {
        channel: Channel::Online,
        customer: format!("Customer {i}"),
        contact: "buyer@example.com".to_string(),
        total_minor: 12_500,
        lines: vec![line],
        currency,
        requested_date: date,
        delivery_address: "No. 1 Harbour Road".to_string(),
        special_requirements: String::new(),
        review_due: at.plus_hours(48),
        review_due_by: Department::ALL
            .iter()
            .map(|d| RoleDue { role: d.role(), due: at.plus_hours(48) })
            .collect(),
    }
    .into()];
    for d in Department::ALL {
        bodies.push(ReviewApproved { department: *d, revision: 1, note: "ok".to_string() }.into());
    }
    bodies.push(OrderApproved { revision: 1 }.into());
    bodies.push(
        OrderConfirmed {
            promised_date: date,
            note: String::new(),
            revision: Some(1),
            expected_ship_date: Some(date),
            delivery_mode: Some(DeliveryMode::Carrier),
            confirmed_via: Some(ConfirmMethod::System),
        }
        .into(),
    );
    bodies.push(ProductionScheduled { planned_finish: date, note: "line 1".to_string() }.into());
    bodies.push(QualityInspected { result: InspectionResult::Pass, note: String::new() }.into());
    bodies.push(ProductionCompleted { note: String::new() }.into());
    bodies.truncate(EVENTS_PER_ORDER);
    bodies.into_iter().map(|body| Event::new(who.clone(), at, body)).collect()
}

async fn append_all(log: &EventLog, orders: usize) -> anyhow::Result<()> {
    let currency = Currency::parse("CNY").map_err(anyhow::Error::msg)?;
    let mut pending = futures::stream::FuturesUnordered::new();
    for i in 0..orders {
        let events = order_events(i, currency)
            .iter()
            .map(|e| {
                let (event_type, schema_version, payload) = encode_event(e)?;
                Ok(NewEvent { event_type, schema_version, payload })
            })
            .collect::<Result<Vec<_>, EncodeError>>()?;
        let req = AppendRequest {
            stream: Uuid::new_v4(),
            expected: ExpectedVersion::NoStream,
            command_id: Uuid::new_v4(),
            events,
        };
        let log = log.clone();
        pending.push(async move { log.append(req).await });
        if pending.len() >= APPENDS_IN_FLIGHT {
            check(futures::StreamExt::next(&mut pending).await)?;
        }
    }
    while let Some(r) = futures::StreamExt::next(&mut pending).await {
        check(Some(r))?;
    }
    Ok(())
}

fn check(r: Option<Result<Appended, orderflow_engine::AppendError>>) -> anyhow::Result<()> {
    match r {
        Some(Ok(Appended::Committed(_))) | None => Ok(()),
        Some(other) => bail!("append not committed: {other:?}"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let events: usize = match std::env::args().nth(1) {
        Some(n) => n.parse().context("EVENTS must be a number")?,
        None => 100_000,
    };
    let orders = events.div_ceil(EVENTS_PER_ORDER);
    let dir = tempfile::tempdir()?;
    let (_server, url) = match std::env::var("NATS_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let s = orderflow::bench_nats::ScratchServer::start(&dir.path().join("nats"))
                .map_err(anyhow::Error::msg)?;
            let url = s.url().to_string();
            (Some(s), url)
        }
    };

    let log = EventLog::open(LogConfig::new(dir.path().join("log")))?;
    let started = Instant::now();
    append_all(&log, orders).await?;
    let append_s = started.elapsed().as_secs_f64();
    let head = log.head();
    println!("appended {head} events in {append_s:.2} s ({:.0} events/s)", head as f64 / append_s);

    let client = async_nats::connect(&url).await?;
    let js = async_nats::jetstream::new(client.clone());
    let config = PublisherConfig::default();
    let stream_name = config.stream_name.clone();
    let publisher = Publisher::new(client, log.clone(), config)?;
    let metrics = publisher.metrics();
    let (stop, shutdown) = shutdown_channel();
    let started = Instant::now();
    let task = tokio::spawn(publisher.run(shutdown));
    while metrics.snapshot().acked_position < head {
        if task.is_finished() || started.elapsed() > PUBLISH_TIMEOUT {
            stop.trigger();
            bail!("publisher stopped or timed out: {:?}, {:?}", metrics.snapshot(), task.await?);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let publish_s = started.elapsed().as_secs_f64();
    stop.trigger();
    let report = task.await??;
    let stored = js.get_stream(&stream_name).await?.get_info().await?.state;
    println!(
        "published {} events in {publish_s:.2} s ({:.0} events/s, {:.1} MB/s stored); retries {}, duplicates {}",
        report.stats.acked_position,
        head as f64 / publish_s,
        stored.bytes as f64 / publish_s / 1e6,
        report.stats.retries_total,
        report.stats.duplicates_total
    );
    println!("stream {stream_name}: {} messages, {} bytes", stored.messages, stored.bytes);
    log.close()?;
    Ok(())
}
