//! Projection apply: folding decoded lifecycle events into the status board, the KPI facts and
//! the audit view (no log I/O in the measured loop).

/// The binary's allocator, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use orderflow::app::App;
use orderflow_projections::{AuditView, KpiFacts, Projection, StatusBoard};
use orderflow_schemas::{decode_event, Event};

fn events() -> Vec<(orderflow_engine::StoredEvent, Event)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let app = Arc::new(App::open(dir.path()).expect("open"));
    let bar = indicatif::ProgressBar::hidden();
    rt.block_on(orderflow::bench::run_lifecycle(app.clone(), 500, 16, &bar)).expect("lifecycle");
    let stored = app.log().read_from(1, usize::MAX).expect("read");
    app.close().expect("close");
    stored
        .into_iter()
        .map(|s| {
            let e = decode_event(s.event_type, s.schema_version, &s.payload).expect("decode");
            (s, e)
        })
        .collect()
}

fn apply_all<P: Projection>(events: &[(orderflow_engine::StoredEvent, Event)]) -> P {
    let mut view = P::default();
    for (s, e) in events {
        view.apply(s, e).expect("apply");
    }
    view
}

fn projection(c: &mut Criterion) {
    let events = events();
    let mut g = c.benchmark_group("projection_apply");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("status", |b| b.iter(|| apply_all::<StatusBoard>(&events)));
    g.bench_function("kpi", |b| b.iter(|| apply_all::<KpiFacts>(&events)));
    g.bench_function("audit", |b| b.iter(|| apply_all::<AuditView>(&events)));
    g.finish();
}

criterion_group!(benches, projection);
criterion_main!(benches);
