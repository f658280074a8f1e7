//! Durable append throughput with 1 and 64 concurrent appenders (single-event commands of
//! ~200 bytes, each acknowledged only after its flush), and full-log read-back throughput.

/// The binary's allocator, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use orderflow_engine::{AppendRequest, EventLog, ExpectedVersion, LogConfig, NewEvent};
use uuid::Uuid;

const PAYLOAD_BYTES: usize = 200;

fn request(stream: Uuid, version: u64) -> AppendRequest {
    AppendRequest {
        stream,
        expected: ExpectedVersion::Exact(version),
        command_id: Uuid::new_v4(),
        events: vec![NewEvent { event_type: 1, schema_version: 1, payload: vec![0x5a; PAYLOAD_BYTES] }],
    }
}

/// Appends `total` single-event commands from `clients` tasks; returns the elapsed time.
fn run_appends(rt: &tokio::runtime::Runtime, log: &EventLog, clients: u64, total: u64) -> Duration {
    let per_client = total.div_ceil(clients);
    let start = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                let stream = Uuid::new_v4();
                for v in 0..per_client {
                    log.append(request(stream, v)).await.expect("append");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
    });
    start.elapsed()
}

fn append(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut group = c.benchmark_group("append_durable");
    group.sample_size(10).measurement_time(Duration::from_secs(8)).throughput(Throughput::Elements(1));
    for clients in [1u64, 64] {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(LogConfig::new(dir.path())).unwrap();
        group.bench_with_input(BenchmarkId::from_parameter(clients), &clients, |b, &clients| {
            b.iter_custom(|iters| run_appends(&rt, &log, clients, iters.max(clients)));
        });
        log.close().unwrap();
    }
    group.finish();
}

fn scan(c: &mut Criterion) {
    const EVENTS: u64 = 200_000;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EventLog::open(LogConfig::new(dir.path())).unwrap();
        run_appends(&rt, &log, 64, EVENTS);
        log.close().unwrap();
    }
    // With the default 64 MiB cache the 200k-event log (~70 MB) does not fit and sled pages in;
    // with 512 MiB it does. Each is compared with a raw sled scan of the same tree and cache.
    for cache_mib in [64u64, 512] {
        let mut config = LogConfig::new(dir.path());
        config.cache_capacity_bytes = cache_mib * 1024 * 1024;
        let log = EventLog::open(config).unwrap();
        let mut group = c.benchmark_group(format!("read_back_cache_{cache_mib}mib"));
        group.sample_size(10).throughput(Throughput::Elements(log.head()));
        group.bench_function("read_from_all", |b| {
            b.iter(|| {
                let mut position = 1;
                let mut n = 0u64;
                loop {
                    let batch = log.read_from(position, 16_384).unwrap();
                    let Some(last) = batch.last() else { break };
                    position = last.position + 1;
                    n += batch.len() as u64;
                }
                assert_eq!(n, log.head());
            });
        });
        group.bench_function("raw_sled_scan_baseline", |b| {
            let tree = log.db().open_tree("log").unwrap();
            b.iter(|| {
                let mut bytes = 0usize;
                for kv in tree.iter() {
                    bytes += kv.unwrap().1.len();
                }
                assert!(bytes > 0);
            });
        });
        group.finish();
        log.close().unwrap();
    }
}

criterion_group!(benches, append, scan);
criterion_main!(benches);
