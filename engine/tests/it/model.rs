//! Model-based property test: random appends (right, stale and free expected versions, repeated
//! command ids) and reopenings, checked against a plain in-memory model.

use std::collections::HashMap;

use orderflow_engine::{Appended, ExpectedVersion};
use proptest::prelude::*;
use uuid::Uuid;

use crate::{append_req, open};

#[derive(Clone, Debug)]
enum Op {
    Append { stream: u8, expect: Expect, repeat: Option<u8>, events: u8 },
    Reopen,
}

#[derive(Clone, Copy, Debug)]
enum Expect {
    Right,
    Stale,
    Any,
    NoStream,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..4, prop_oneof![Just(Expect::Right), Just(Expect::Stale), Just(Expect::Any), Just(Expect::NoStream)],
              proptest::option::weighted(0.25, any::<u8>()), 1u8..4)
            .prop_map(|(stream, expect, repeat, events)| Op::Append { stream, expect, repeat, events }),
        1 => Just(Op::Reopen),
    ]
}

#[derive(Default)]
struct Model {
    /// (stream, payloads) per global position - 1.
    events: Vec<(Uuid, Vec<u8>)>,
    versions: HashMap<Uuid, u64>,
    /// (stream, command) -> (first position, first version, count).
    commands: HashMap<(Uuid, Uuid), (u64, u64, u64)>,
    issued: Vec<(Uuid, Uuid)>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn log_matches_model(ops in proptest::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let mut log = open(dir.path());
        let mut m = Model::default();
        for (i, op) in ops.iter().enumerate() {
            match op {
                Op::Reopen => {
                    log.close().unwrap();
                    drop(log);
                    log = open(dir.path());
                }
                Op::Append { stream, expect, repeat, events } => {
                    let (stream, cmd) = match repeat {
                        Some(r) if !m.issued.is_empty() => m.issued[*r as usize % m.issued.len()],
                        _ => (Uuid::from_u128(u128::from(*stream) + 1), Uuid::from_u128(10_000 + i as u128)),
                    };
                    let version = m.versions.get(&stream).copied().unwrap_or(0);
                    let expected = match expect {
                        Expect::Right => ExpectedVersion::Exact(version),
                        Expect::Stale => ExpectedVersion::Exact(version + 1),
                        Expect::Any => ExpectedVersion::Any,
                        Expect::NoStream => ExpectedVersion::NoStream,
                    };
                    let n = usize::from(*events);
                    let got = log.append_blocking(append_req(stream, expected, cmd, n)).unwrap();
                    if let Some(&(p, v, c)) = m.commands.get(&(stream, cmd)) {
                        let Appended::Duplicate(d) = got else { panic!("expected a duplicate, got {got:?}") };
                        prop_assert_eq!((d.first_position, d.first_version, d.count), (p, v, c));
                        continue;
                    }
                    let ok = match expect {
                        Expect::Right | Expect::Any => true,
                        Expect::Stale => false,
                        Expect::NoStream => version == 0,
                    };
                    if !ok {
                        prop_assert_eq!(got, Appended::Conflict { expected, actual: version });
                        continue;
                    }
                    let Appended::Committed(c) = got else { panic!("expected a commit, got {got:?}") };
                    prop_assert_eq!(c.first_position, m.events.len() as u64 + 1);
                    prop_assert_eq!(c.first_version, version + 1);
                    prop_assert_eq!(c.count, n as u64);
                    for e in append_req(stream, expected, cmd, n).events {
                        m.events.push((stream, e.payload));
                    }
                    m.versions.insert(stream, version + n as u64);
                    m.commands.insert((stream, cmd), (c.first_position, c.first_version, c.count));
                    m.issued.push((stream, cmd));
                }
            }
            prop_assert_eq!(log.head(), m.events.len() as u64);
        }
        log.close().unwrap();
        drop(log);
        let log = open(dir.path());
        let all = log.read_from(1, usize::MAX).unwrap();
        prop_assert_eq!(all.len(), m.events.len());
        for (i, (e, (stream, payload))) in all.iter().zip(&m.events).enumerate() {
            prop_assert_eq!(e.position, i as u64 + 1);
            prop_assert_eq!(e.stream, *stream);
            prop_assert_eq!(&e.payload, payload);
        }
        for (stream, version) in &m.versions {
            let events = log.read_stream(*stream, 1).unwrap();
            prop_assert_eq!(events.len() as u64, *version);
            prop_assert!(events.iter().enumerate().all(|(i, e)| e.version == i as u64 + 1));
        }
        log.verify(&mut |_| {}).unwrap();
    }
}
