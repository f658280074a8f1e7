//! Event record encode and decode (bincode 2 payload of a typical order event and of a
//! three-line `order_received`).

/// The binary's allocator, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use orderflow_schemas::*;

fn received() -> Event {
    let lines = (1..=3u16)
        .map(|i| OrderLine {
            line_no: i,
            sku: format!("P{i}"),
            spec: String::new(),
            quantity: 40,
            unit: "pcs".into(),
            unit_price_minor: 12_345,
        })
        .collect();
    Event {
        actor: Actor::named("sales desk", Role::Sales),
        at: Timestamp(1_780_000_000_000_000),
        late: None,
        body: EventBody::OrderReceived(OrderReceived {
            channel: Channel::Phone,
            customer: "C7".into(),
            contact: "buyer".into(),
            lines,
            currency: Currency::parse("EUR").expect("currency"),
            total_minor: 1_481_400,
            requested_date: Date(739_000),
            delivery_address: "Dock 1".into(),
            special_requirements: String::new(),
            review_due: Timestamp(1_780_086_400_000_000),
            review_due_by: Department::ALL
                .iter()
                .map(|d| RoleDue { role: d.role(), due: Timestamp(1_780_086_400_000_000) })
                .collect(),
        }),
    }
}

fn approved() -> Event {
    Event {
        actor: Actor::named("finance desk", Role::Finance),
        at: Timestamp(1_780_000_000_000_000),
        late: None,
        body: EventBody::ReviewApproved(ReviewApproved {
            department: Department::Finance,
            revision: 1,
            note: String::new(),
        }),
    }
}

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_codec");
    g.throughput(Throughput::Elements(1));
    for (name, event) in [("order_received", received()), ("review_approved", approved())] {
        let (code, version, bytes) = encode_event(&event).expect("encode");
        g.bench_function(format!("encode/{name}"), |b| b.iter(|| encode_event(std::hint::black_box(&event))));
        g.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| decode_event(code, version, std::hint::black_box(&bytes)).expect("decode"))
        });
    }
    g.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
