//! decide and evolve of the Order aggregate on the lifecycle's commands.

/// The binary's allocator, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use orderflow_commands::*;
use orderflow_schemas::*;

fn ctx(role: Role) -> Context {
    Context::new(Actor::named(&format!("{role}.desk"), role), Timestamp(1_780_000_000_000_000))
}

fn receive() -> Command {
    Command::ReceiveOrder(ReceiveOrder {
        channel: Channel::Email,
        customer: "C3".into(),
        contact: "buyer".into(),
        lines: (0..3)
            .map(|i| NewLine {
                sku: format!("P{i}"),
                spec: String::new(),
                quantity: 10,
                unit: "pcs".into(),
                unit_price_minor: 999,
            })
            .collect(),
        currency: Currency::parse("EUR").expect("currency"),
        requested_date: Timestamp(1_780_000_000_000_000).date().plus_days(30),
        delivery_address: "Dock 1".into(),
        special_requirements: String::new(),
    })
}

fn domain(c: &mut Criterion) {
    let id = OrderId(uuid::Uuid::from_u128(7));
    let empty = OrderState::new(id);
    let received_events = decide(&empty, &receive(), &ctx(Role::Sales)).expect("receive");
    let mut in_review = empty.clone();
    for e in &received_events {
        evolve(&mut in_review, e);
    }
    let approve = Command::ApproveReview(ApproveReview {
        department: Department::Finance,
        revision: None,
        note: String::new(),
    });
    let mut g = c.benchmark_group("aggregate");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decide/receive", |b| b.iter(|| decide(&empty, &receive(), &ctx(Role::Sales))));
    g.bench_function("decide/approve", |b| {
        let ctx = ctx(Role::Finance);
        b.iter(|| decide(std::hint::black_box(&in_review), &approve, &ctx))
    });
    g.bench_function("evolve/order_received", |b| {
        b.iter(|| {
            let mut s = empty.clone();
            evolve(&mut s, &received_events[0]);
            s
        })
    });
    g.finish();
}

criterion_group!(benches, domain);
criterion_main!(benches);
