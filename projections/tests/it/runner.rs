use std::fmt::Debug;

use orderflow_engine::{EventLog, NewEvent, StoredEvent};
use orderflow_projections::{
    AuditView, KpiFacts, Progress, Projection, ProjectionError, Runner, RunnerConfig, RunnerError,
    StatusBoard,
};
use orderflow_schemas::{decode_event, AccessKind, Event, OrderDelivered};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde::{Deserialize, Serialize};

use crate::scenario::{access, append, append_raw, order, standard, ts};

/// Small batches, frequent snapshots and tiny chunks, to exercise every path.
fn small() -> RunnerConfig {
    RunnerConfig {
        batch_events_max: 7,
        read_ahead_batches_max: 2,
        snapshot_after_events: 25,
        snapshot_after_ms: 3_600_000,
        snapshot_chunk_bytes: 300,
        snapshot_bytes_max: 1 << 20,
    }
}

fn all_events(log: &EventLog) -> Vec<(StoredEvent, Event)> {
    log.read_from(1, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|s| {
            let e = decode_event(s.event_type, s.schema_version, &s.payload).unwrap();
            (s, e)
        })
        .collect()
}

/// The model: the plain fold of the first `k` events.
fn fold<P: Projection>(events: &[(StoredEvent, Event)], k: u64) -> P {
    let mut view = P::default();
    for (s, e) in events.iter().take(usize::try_from(k).unwrap()) {
        view.apply(s, e).unwrap();
    }
    view
}

#[derive(Clone, Debug)]
enum Op {
    Step(usize),
    CatchUp,
    Save,
    /// Drop the runner without saving, reopen it.
    Crash,
    /// Save, drop, reopen.
    SaveThenCrash,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..30).prop_map(Op::Step),
        1 => Just(Op::CatchUp),
        1 => Just(Op::Save),
        2 => Just(Op::Crash),
        1 => Just(Op::SaveThenCrash),
    ]
}

fn run_ops<P: Projection + PartialEq + Debug>(
    log: &EventLog,
    events: &[(StoredEvent, Event)],
    ops: &[Op],
) -> Result<(), TestCaseError> {
    Runner::<P>::remove_snapshot(log).unwrap();
    // Half the cases catch up on the calling thread, half with a read-ahead thread.
    let config = RunnerConfig { read_ahead_batches_max: ops.len() % 2 * 2, ..small() };
    let mut runner = Runner::<P>::open(log, config.clone()).unwrap();
    let mut saved = 0u64;
    for op in ops {
        match op {
            Op::Step(n) => {
                runner.step(*n).unwrap();
            }
            Op::CatchUp => {
                let c = runner.catch_up(&mut |_| {}).unwrap();
                if c.saved {
                    saved = c.checkpoint;
                }
            }
            Op::Save => {
                runner.save().unwrap();
                saved = runner.checkpoint();
            }
            Op::Crash | Op::SaveThenCrash => {
                if matches!(op, Op::SaveThenCrash) {
                    runner.save().unwrap();
                    saved = runner.checkpoint();
                }
                drop(runner);
                runner = Runner::<P>::open(log, config.clone()).unwrap();
                prop_assert_eq!(
                    runner.checkpoint(),
                    saved,
                    "{} resumed elsewhere than its snapshot",
                    P::NAME
                );
            }
        }
        prop_assert_eq!(runner.view(), &fold::<P>(events, runner.checkpoint()), "{} after {:?}", P::NAME, op);
    }
    runner.catch_up(&mut |_| {}).unwrap();
    let full = fold::<P>(events, events.len() as u64);
    prop_assert_eq!(runner.view(), &full);
    runner.close().unwrap();
    let reopened = Runner::<P>::open(log, small()).unwrap();
    prop_assert_eq!(reopened.checkpoint(), events.len() as u64);
    prop_assert_eq!(reopened.view(), &full);
    Ok(())
}

/// Any mix of catching up in random steps, crashing (with or without a save first) and
/// resuming gives, at every point, exactly the fold of the events up to the checkpoint, and in
/// the end the same view as one full rebuild.
#[test]
fn crash_and_resume_in_random_steps_equals_a_full_rebuild() {
    let s = standard();
    let events = all_events(&s.log);
    assert_eq!(events.len() as u64, s.log.head());
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    runner
        .run(&prop::collection::vec(op(), 1..24), |ops| {
            run_ops::<StatusBoard>(&s.log, &events, &ops)?;
            run_ops::<KpiFacts>(&s.log, &events, &ops)?;
            run_ops::<AuditView>(&s.log, &events, &ops)
        })
        .unwrap();
}

/// Shrunk regression kept by name: a crash right after a policy save in catch-up resumes from
/// that save.
#[test]
fn regression_crash_after_a_policy_save_resumes_from_it() {
    let s = standard();
    let events = all_events(&s.log);
    let ops = [Op::Step(29), Op::CatchUp, Op::Crash, Op::Step(3), Op::Crash];
    run_ops::<StatusBoard>(&s.log, &events, &ops).unwrap();
}

#[test]
fn rebuild_beside_the_view_keeps_readers_on_the_old_one_until_the_swap() {
    let s = standard();
    let mut runner = Runner::<StatusBoard>::open(&s.log, small()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.save().unwrap();
    let before = runner.view().clone();
    let old_generation = runner.snapshot().unwrap().generation;

    let mut rebuild = runner.start_rebuild();
    assert_eq!(rebuild.step(10).unwrap(), 7, "bounded by batch_events_max");
    assert_eq!(rebuild.checkpoint(), 7);
    assert_ne!(rebuild.view(), &before);
    assert_eq!(runner.view(), &before, "readers keep the old view during the rebuild");
    // An event arrives during the rebuild.
    let (who, a) = access(AccessKind::Replay, "as of 2026-03-15");
    let last = append(&s.log, order(2), &Event::new(who, ts("2026-04-10T11:00"), a));
    assert_eq!(runner.view(), &before);

    let mut progress = Vec::new();
    runner.finish_rebuild(rebuild, &mut |p| progress.push(p)).unwrap();
    assert_eq!(progress.last(), Some(&Progress { position: last, head: last }));
    assert_eq!(runner.checkpoint(), last);
    let events = all_events(&s.log);
    assert_eq!(runner.view(), &fold::<StatusBoard>(&events, last), "identical to a fold of the whole log");
    let info = runner.snapshot().unwrap().clone();
    assert_ne!(info.generation, old_generation);
    assert_eq!(info.checkpoint, last);
    let names = s.log.db().tree_names();
    assert!(!names.iter().any(|t| t.as_ref() == format!("proj.status.{old_generation}").as_bytes()));
    drop(runner);
    let reopened = Runner::<StatusBoard>::open(&s.log, small()).unwrap();
    assert_eq!(reopened.view(), &fold::<StatusBoard>(&events, last));

    // Rebuilding again over an existing view gives the same view.
    let mut runner = reopened;
    runner.rebuild(&mut |_| {}).unwrap();
    assert_eq!(runner.view(), &fold::<StatusBoard>(&events, last));
}

#[test]
fn a_failing_event_stops_the_projection_at_its_position() {
    let s = standard();
    let mut runner = Runner::<StatusBoard>::open(&s.log, small()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.save().unwrap();
    let saved = runner.checkpoint();
    // A delivery for an order that was never received, then a valid event after it.
    let stray = append(
        &s.log,
        order(99),
        &Event {
            actor: orderflow_schemas::Actor::named("ma.log", orderflow_schemas::Role::Logistics),
            at: ts("2026-04-10T10:00"),
            late: None,
            body: OrderDelivered { note: String::new() }.into(),
        },
    );
    let (who, a) = access(AccessKind::History, "after the stray event");
    append(&s.log, order(1), &Event::new(who, ts("2026-04-10T10:30"), a));

    let err = runner.catch_up(&mut |_| {}).unwrap_err();
    match &err {
        RunnerError::Apply { projection, position, event_type, source } => {
            assert_eq!((*projection, *position, event_type.as_str()), ("status", stray, "order_delivered"));
            assert_eq!(source, &ProjectionError::UnknownOrder { order: order(99) });
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains(&format!("position {stray}")), "{err}");
    assert_eq!(runner.checkpoint(), stray - 1, "nothing after the failing event was applied");
    assert_eq!(runner.failure().map(|f| f.0), Some(stray));
    assert!(
        matches!(runner.catch_up(&mut |_| {}), Err(RunnerError::Stopped { position, .. }) if position == stray)
    );
    assert!(matches!(runner.step(5), Err(RunnerError::Stopped { .. })));
    assert!(matches!(runner.save(), Err(RunnerError::Stopped { .. })));
    runner.close().unwrap();

    // Reopened, it resumes from its snapshot and stops at the same event: no silent skip.
    let mut runner = Runner::<StatusBoard>::open(&s.log, small()).unwrap();
    assert_eq!(runner.checkpoint(), saved);
    let err = runner.catch_up(&mut |_| {}).unwrap_err();
    assert!(matches!(err, RunnerError::Apply { position, .. } if position == stray), "{err}");
}

#[test]
fn an_undecodable_event_stops_the_projection_at_its_position() {
    let s = standard();
    let bad =
        append_raw(&s.log, order(1), NewEvent { event_type: 999, schema_version: 1, payload: vec![1, 2, 3] });
    let mut runner = Runner::<KpiFacts>::open(&s.log, small()).unwrap();
    let err = runner.catch_up(&mut |_| {}).unwrap_err();
    assert!(
        matches!(&err, RunnerError::Decode { projection: "kpi", position, .. } if *position == bad),
        "{err}"
    );
    assert_eq!(runner.checkpoint(), bad - 1);
}

fn flip_chunk_byte(log: &EventLog, name: &str, generation: u64, chunk: u64) {
    let tree = log.db().open_tree(format!("proj.{name}.{generation}")).unwrap();
    let mut v = tree.get(chunk.to_be_bytes()).unwrap().unwrap().to_vec();
    v[10] ^= 0x20;
    tree.insert(chunk.to_be_bytes(), v).unwrap();
}

#[test]
fn a_damaged_snapshot_is_reported_and_a_rebuild_repairs_it() {
    let s = standard();
    let mut runner = Runner::<KpiFacts>::open(&s.log, small()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.save().unwrap();
    let info = runner.snapshot().unwrap().clone();
    let good = runner.view().clone();
    drop(runner);
    assert!(info.chunks > 3, "the view spans several chunks ({})", info.chunks);

    flip_chunk_byte(&s.log, "kpi", info.generation, 1);
    let err = Runner::<KpiFacts>::open(&s.log, small()).unwrap_err();
    match &err {
        RunnerError::SnapshotDamaged { projection, generation, detail } => {
            assert_eq!((*projection, *generation), ("kpi", info.generation));
            assert!(detail.contains("checksum"), "{detail}");
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("rebuild"), "{err}");

    let tree = s.log.db().open_tree(format!("proj.kpi.{}", info.generation)).unwrap();
    tree.remove(2u64.to_be_bytes()).unwrap();
    let err = Runner::<KpiFacts>::open(&s.log, small()).unwrap_err();
    assert!(
        matches!(&err, RunnerError::SnapshotDamaged { detail, .. } if detail.contains("chunk 2 is missing")),
        "{err}"
    );

    // The operator rebuilds: open empty, catch up, close.
    let mut runner = Runner::<KpiFacts>::open_empty(&s.log, small()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.close().unwrap();
    let runner = Runner::<KpiFacts>::open(&s.log, small()).unwrap();
    assert_eq!(runner.view(), &good);
    let names = s.log.db().tree_names();
    assert!(!names.iter().any(|t| t.as_ref() == format!("proj.kpi.{}", info.generation).as_bytes()));
}

#[test]
fn a_damaged_pointer_is_reported() {
    let s = standard();
    let mut runner = Runner::<AuditView>::open(&s.log, small()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.close().unwrap();
    let pointers = s.log.db().open_tree("projections").unwrap();
    let mut v = pointers.get("audit").unwrap().unwrap().to_vec();
    v[20] ^= 1;
    pointers.insert("audit", v).unwrap();
    let err = Runner::<AuditView>::open(&s.log, small()).unwrap_err();
    assert!(
        matches!(&err, RunnerError::SnapshotDamaged { projection: "audit", detail, .. } if detail.contains("pointer")),
        "{err}"
    );
}

#[test]
fn unreferenced_generations_left_by_a_crash_are_dropped_on_open() {
    let s = standard();
    let mut kpi = Runner::<KpiFacts>::open(&s.log, small()).unwrap();
    kpi.catch_up(&mut |_| {}).unwrap();
    kpi.close().unwrap();
    let kpi_gen = orderflow_projections::snapshot_info(s.log.db(), "kpi").unwrap().unwrap().generation;
    // A save that crashed before switching the pointer.
    s.log.db().open_tree("proj.status.999999").unwrap().insert(0u64.to_be_bytes(), &b"partial"[..]).unwrap();
    let runner = Runner::<StatusBoard>::open(&s.log, small()).unwrap();
    assert_eq!(runner.checkpoint(), 0);
    let names: Vec<String> =
        s.log.db().tree_names().iter().map(|t| String::from_utf8_lossy(t).into_owned()).collect();
    assert!(!names.contains(&"proj.status.999999".to_string()), "{names:?}");
    assert!(
        names.contains(&format!("proj.kpi.{kpi_gen}")),
        "another projection's snapshot is kept: {names:?}"
    );
}

#[test]
fn snapshot_policy_saves_after_n_events_and_on_close() {
    let s = standard();
    let head = s.log.head();
    let config = RunnerConfig { snapshot_after_events: 50, ..small() };
    let mut runner = Runner::<StatusBoard>::open(&s.log, config.clone()).unwrap();
    let mut progress = Vec::new();
    let c = runner.catch_up(&mut |p| progress.push(p)).unwrap();
    assert!(c.saved && c.applied == head && c.checkpoint == head);
    assert_eq!(progress.len() as u64, head.div_ceil(7), "one progress call per batch");
    assert!(progress.windows(2).all(|w| w[0].position < w[1].position));
    let (who, a) = access(AccessKind::History, "one more");
    let last = append(&s.log, order(3), &Event::new(who, ts("2026-04-10T11:00"), a));
    let c = runner.catch_up(&mut |_| {}).unwrap();
    assert!(!c.saved, "1 event < snapshot_after_events and the interval has not passed");
    assert_eq!(runner.snapshot().unwrap().checkpoint, head);
    runner.close().unwrap();
    assert_eq!(orderflow_projections::snapshot_info(s.log.db(), "status").unwrap().unwrap().checkpoint, last);

    // With a zero interval every catch-up that applied something saves.
    let mut runner =
        Runner::<StatusBoard>::open(&s.log, RunnerConfig { snapshot_after_ms: 0, ..config }).unwrap();
    assert!(!runner.catch_up(&mut |_| {}).unwrap().saved, "nothing applied, nothing saved");
    let (who, a) = access(AccessKind::History, "and another");
    append(&s.log, order(3), &Event::new(who, ts("2026-04-10T11:30"), a));
    assert!(runner.catch_up(&mut |_| {}).unwrap().saved);
}

/// The status view under another layout version.
#[derive(Default, Serialize, Deserialize, PartialEq, Debug)]
struct StatusNext(StatusBoard);

impl Projection for StatusNext {
    const NAME: &'static str = "status";
    const VIEW_VERSION: u32 = StatusBoard::VIEW_VERSION + 1;
    fn apply(&mut self, stored: &StoredEvent, event: &Event) -> Result<(), ProjectionError> {
        self.0.apply(stored, event)
    }
}

#[derive(Default, Serialize, Deserialize)]
struct BadName;

impl Projection for BadName {
    const NAME: &'static str = "Bad-Name";
    const VIEW_VERSION: u32 = 1;
    fn apply(&mut self, _: &StoredEvent, _: &Event) -> Result<(), ProjectionError> {
        Ok(())
    }
}

#[test]
fn snapshots_of_another_view_version_and_bad_names_are_refused() {
    let s = standard();
    let mut runner = Runner::<StatusBoard>::open(&s.log, small()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.close().unwrap();
    let err = Runner::<StatusNext>::open(&s.log, small()).unwrap_err();
    let (now, next) = (StatusBoard::VIEW_VERSION, StatusNext::VIEW_VERSION);
    assert!(
        matches!(err, RunnerError::ViewVersion { projection: "status", found, known } if found == now && known == next),
        "{err}"
    );
    assert!(matches!(Runner::<BadName>::open(&s.log, small()), Err(RunnerError::InvalidName("Bad-Name"))));
}

/// The KPI view as an earlier build laid it out (view version 1: no late entries).
#[derive(Default, Serialize, Deserialize, PartialEq, Debug)]
struct KpiV1 {
    orders: Vec<(u128, u64)>,
}

impl Projection for KpiV1 {
    const NAME: &'static str = "kpi";
    const VIEW_VERSION: u32 = 1;
    fn apply(&mut self, stored: &StoredEvent, _: &Event) -> Result<(), ProjectionError> {
        self.orders.push((stored.stream.as_u128(), stored.position));
        Ok(())
    }
}

#[test]
fn a_snapshot_of_an_earlier_layout_is_folded_again_not_misread() {
    let s = standard();
    let mut old = Runner::<KpiV1>::open(&s.log, small()).unwrap();
    old.catch_up(&mut |_| {}).unwrap();
    old.close().unwrap();
    // Plain open: a clear error naming both versions, never a panic or a misread view.
    let err = Runner::<KpiFacts>::open(&s.log, small()).unwrap_err();
    let known = <KpiFacts as Projection>::VIEW_VERSION;
    assert!(known > 1, "the KPI view has had more than one layout");
    assert!(
        matches!(err, RunnerError::ViewVersion { projection: "kpi", found: 1, known: k } if k == known),
        "{err}"
    );
    assert!(err.to_string().contains(&format!("view version 1, this build reads version {known}")), "{err}");
    // What the CLI and the service open: folded again from the log, then saved in the new layout.
    let (mut runner, why) = Runner::<KpiFacts>::open_or_refold(&s.log, small()).unwrap();
    let why = why.expect("the reason is reported");
    assert!(why.contains("folded again from the log"), "{why}");
    assert_eq!(runner.checkpoint(), 0);
    runner.catch_up(&mut |_| {}).unwrap();
    assert_eq!(runner.view(), &fold::<KpiFacts>(&all_events(&s.log), s.log.head()));
    runner.close().unwrap();
    let (again, why) = Runner::<KpiFacts>::open_or_refold(&s.log, small()).unwrap();
    assert_eq!((why, again.checkpoint()), (None, s.log.head()), "the new snapshot is read as it is");
    // A damaged snapshot is still refused, not folded over.
    drop(again);
    let pointers = s.log.db().open_tree("projections").unwrap();
    pointers.insert("kpi", b"garbage".to_vec()).unwrap();
    let err = Runner::<KpiFacts>::open_or_refold(&s.log, small()).unwrap_err();
    assert!(matches!(err, RunnerError::SnapshotDamaged { .. }), "{err}");
}

/// A view whose layout changed without its version: what a forgotten bump would leave.
#[derive(Default, Serialize, Deserialize, PartialEq, Debug)]
struct KpiUnbumped(KpiV1);

impl Projection for KpiUnbumped {
    const NAME: &'static str = "kpi";
    const VIEW_VERSION: u32 = <KpiFacts as Projection>::VIEW_VERSION;
    fn apply(&mut self, stored: &StoredEvent, event: &Event) -> Result<(), ProjectionError> {
        self.0.apply(stored, event)
    }
}

#[test]
fn a_snapshot_that_does_not_decode_is_a_clear_error_never_a_panic() {
    let s = standard();
    let mut other = Runner::<KpiUnbumped>::open(&s.log, small()).unwrap();
    other.catch_up(&mut |_| {}).unwrap();
    other.close().unwrap();
    // A panic here fails the test as well.
    let err = Runner::<KpiFacts>::open_or_refold(&s.log, small()).map(|_| ()).expect_err("not misread");
    assert!(
        matches!(&err, RunnerError::SnapshotDamaged { projection: "kpi", detail, .. } if detail.contains("does not decode")),
        "{err}"
    );
    assert!(err.to_string().ends_with("rebuild the projection"), "{err}");
    // `orderflow rebuild` (open_empty, then rebuild) repairs it.
    let mut runner = Runner::<KpiFacts>::open_empty(&s.log, small()).unwrap();
    runner.rebuild(&mut |_| {}).unwrap();
    runner.close().unwrap();
    assert_eq!(Runner::<KpiFacts>::open(&s.log, small()).unwrap().checkpoint(), s.log.head());
}
