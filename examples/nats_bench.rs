//! The NATS figures of `orderflow::bench_nats` in one run, for the README:
//!
//! ```text
//! cargo run --release --example nats_bench -- [ORDERS] [E2E_COMMANDS] [E2E_RATE]
//! ```
//!
//! 1. fills a fresh data directory with ORDERS (default 5000) lifecycle orders (12 commands each,
//!    64 clients: `orderflow::bench::run_lifecycle`);
//! 2. raw JetStream publish: as many messages as the log has events, of the events' mean JSON
//!    size, into a scratch stream (`raw_publish`);
//! 3. the real publisher publishing the whole log into a fresh stream (`publish_log`);
//! 4. end to end: E2E_COMMANDS (default 10000) `receive` commands at E2E_RATE (default 1000) per
//!    second through the app, published, consumed by the finance department (`end_to_end`).
//!
//! It prints one JSON line per figure. It starts its own `nats-server -js` on a free port of
//! 127.0.0.1 with a temporary store (`$NATS_SERVER_BIN`, `PATH` or `/usr/sbin/nats-server`), or
//! uses `$NATS_URL` (a server without a stream on `orderflow.events.>`).

use std::sync::Arc;

use anyhow::Context as _;
use orderflow::app::App;
use orderflow::bench_nats::{end_to_end, event_payload_bytes_mean, publish_log, raw_publish};
use serde_json::json;

/// Clients filling the log.
const FILL_CLIENTS: u64 = 64;
/// Events sampled for the mean payload size.
const PAYLOAD_SAMPLE_EVENTS: usize = 20_000;

fn arg(n: usize, default: u64) -> anyhow::Result<u64> {
    match std::env::args().nth(n) {
        Some(v) => v.parse().with_context(|| format!("argument {n} must be a number")),
        None => Ok(default),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let orders = arg(1, 5_000)?;
    let e2e_commands = arg(2, 10_000)?;
    let e2e_rate = arg(3, 1_000)?;
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

    let app = Arc::new(App::open(&dir.path().join("data"))?);
    let filled = orderflow::bench::run_lifecycle(
        Arc::clone(&app),
        orders,
        FILL_CLIENTS,
        &indicatif::ProgressBar::hidden(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("filling the log: {e}"))?;
    let events = app.log().head();
    println!("{}", filled.to_json());

    let payload_bytes =
        event_payload_bytes_mean(app.log(), PAYLOAD_SAMPLE_EVENTS).map_err(anyhow::Error::msg)?;
    let raw = raw_publish(&url, events, payload_bytes).await.map_err(anyhow::Error::msg)?;
    println!(
        "{}",
        json!({"figure": "raw_jetstream_publish", "messages": events, "payload_bytes": payload_bytes, "msgs_per_s": raw.round()})
    );
    let published = publish_log(&url, app.log()).await.map_err(anyhow::Error::msg)?;
    println!(
        "{}",
        json!({"figure": "publish_log", "events": events, "events_per_s": published.round(), "ratio_to_raw": (published / raw * 100.0).round() / 100.0})
    );
    let (p50_us, p99_us) =
        end_to_end(&url, Arc::clone(&app), e2e_rate, e2e_commands).await.map_err(anyhow::Error::msg)?;
    println!(
        "{}",
        json!({"figure": "end_to_end", "commands": e2e_commands, "rate_per_s": e2e_rate, "department": orderflow::bench_nats::E2E_DEPARTMENT, "p50_us": p50_us, "p99_us": p99_us})
    );
    app.close()?;
    Ok(())
}
