//! Late entries (events back-dated with a reason) in the read models: counted by the KPIs per
//! month of their effective time, left out on request, flagged in the timeline; refused archive
//! reads in the access log.

use orderflow_engine::EventLog;
use orderflow_projections::{
    history, render_access, render_timeline, AuditView, Group, KpiFacts, KpiQuery, KpiReport, Runner,
    RunnerConfig, TableWidth,
};
use orderflow_schemas::{AccessKind, Actor, ArchiveAccessRefused, Event, Role};

use crate::scenario::{append, empty, order, standard_events, ts, Builder, Scenario};

fn view<P: orderflow_projections::Projection + Clone>(log: &EventLog) -> P {
    let mut runner = Runner::<P>::open(log, RunnerConfig::default()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.view().clone()
}

fn log_of(b: &mut Builder) -> Scenario {
    let s = empty();
    b.append_to(&s.log);
    s
}

/// The standard scenario with three events entered late: O1's delivery and feedback (March),
/// O3's feedback (April).
fn with_late_entries() -> Builder {
    let mut b = standard_events();
    b.late(order(1), "2026-03-13T10:00", "proof of delivery found in the truck")
        .late(order(1), "2026-03-20T10:00", "survey on paper")
        .late(order(3), "2026-04-10T09:00", "survey on paper");
    b
}

fn query(group: Group, exclude_late: bool, from: Option<&str>) -> KpiQuery {
    KpiQuery { group, from_month: from.map(str::to_string), to_month: from.map(str::to_string), exclude_late }
}

fn late_by_month(r: &KpiReport) -> Vec<(String, String, u64)> {
    r.rows
        .iter()
        .filter(|r| r.late_entries > 0)
        .map(|r| (r.month.clone(), r.key.clone(), r.late_entries))
        .collect()
}

#[test]
fn late_entries_are_counted_in_the_month_of_their_effective_time() {
    let s = log_of(&mut with_late_entries());
    let f: KpiFacts = view(&s.log);
    let by_month = f.report(&query(Group::Month, false, None));
    assert_eq!(
        late_by_month(&by_month),
        [("2026-03".into(), "*".into(), 2), ("2026-04".into(), "*".into(), 1)]
    );
    let by_customer = f.report(&query(Group::Customer, false, None));
    assert_eq!(
        late_by_month(&by_customer),
        [("2026-03".into(), "Acme Dairy".into(), 2), ("2026-04".into(), "Acme Dairy".into(), 1)]
    );
    assert!(f.get(order(1)).unwrap().has_late_entries());
    assert!(!f.get(order(2)).unwrap().has_late_entries());
    let table = by_month.render_table(TableWidth::Wide);
    assert!(table.contains("LATE"), "{table}");
    assert!(!table.contains("left out"), "nothing was left out: {table}");
    assert_eq!(by_month.render_json()["rows"][0]["late_entries"], 2);
}

#[test]
fn without_late_entries_the_standard_figures_have_none() {
    let s = log_of(&mut standard_events());
    let f: KpiFacts = view(&s.log);
    let r = f.report(&query(Group::Month, false, None));
    assert!(r.rows.iter().all(|r| r.late_entries == 0));
    assert_eq!(r.late_orders_excluded, 0);
}

#[test]
fn excluding_late_orders_gives_the_figures_of_a_log_without_them() {
    let with = log_of(&mut with_late_entries());
    let without = log_of(standard_events().without(&[order(1), order(3)]));
    let (f, g): (KpiFacts, KpiFacts) = (view(&with.log), view(&without.log));
    for group in [Group::Month, Group::Customer, Group::Sku, Group::Channel] {
        let excluded = f.report(&query(group, true, None));
        let reference = g.report(&query(group, false, None));
        assert_eq!(excluded.rows, reference.rows, "{group:?}");
        assert_eq!((excluded.exclude_late, excluded.late_orders_excluded), (true, 2), "{group:?}");
        assert!(excluded.rows.iter().all(|r| r.late_entries == 0));
    }
    // In April only O3 had figures: O1's all lie in March.
    let april = f.report(&query(Group::Month, true, Some("2026-04")));
    assert_eq!(april.late_orders_excluded, 1);
    let text = april.render_table(TableWidth::DEFAULT);
    assert!(text.ends_with("1 order(s) with late entries left out\n"), "{text}");
    let clean = g.report(&query(Group::Month, true, None)).render_table(TableWidth::DEFAULT);
    assert!(clean.ends_with("no order with a late entry in this selection\n"), "{clean}");
}

#[test]
fn the_timeline_flags_late_entries_with_their_reason_and_entry_time() {
    let s = log_of(&mut with_late_entries());
    let entries = history(&s.log, order(1)).unwrap();
    let late: Vec<(&str, Option<&str>)> = entries
        .iter()
        .filter(|e| e.late.is_some())
        .map(|e| (e.event_type.as_str(), e.late.as_deref()))
        .collect();
    assert_eq!(
        late,
        [
            ("order_delivered", Some("proof of delivery found in the truck")),
            ("feedback_recorded", Some("survey on paper"))
        ]
    );
    assert_eq!(entries.iter().filter(|e| e.late.is_none()).count(), entries.len() - 2);
    let json = serde_json::to_value(&entries[0]).unwrap();
    assert_eq!(json["late"], serde_json::Value::Null, "an entry on time says so: {json}");
    let delivered = entries.iter().find(|e| e.event_type == "order_delivered").unwrap();
    let text = render_timeline(&entries, TableWidth::Wide);
    let entered = delivered.recorded_at.to_datetime().format("%Y-%m-%d %H:%M").to_string();
    assert!(
        text.contains(&format!(
            "LATE ENTRY, entered {entered}: proof of delivery found in the truck; delivered"
        )),
        "{text}"
    );
    assert_eq!(text.matches("LATE ENTRY").count(), 2, "{text}");
}

#[test]
fn refused_reads_are_in_the_access_log() {
    let s = log_of(&mut standard_events());
    let refusal = Event::new(
        Actor::named("pat", Role::Logistics),
        ts("2026-04-10T11:00"),
        ArchiveAccessRefused {
            access: AccessKind::Export,
            reason: "pat (logistics) has not worked on it".into(),
        },
    );
    let position = append(&s.log, order(2), &refusal);
    let v: AuditView = view(&s.log);
    let reads = v.access(Some(order(2)));
    assert_eq!(reads.len(), 1);
    let r = reads[0];
    assert_eq!(
        (r.position, r.access, r.actor.login.as_str(), r.refused.as_deref()),
        (position, AccessKind::Export, "pat", Some("pat (logistics) has not worked on it"))
    );
    let text = render_access(&reads, TableWidth::Wide);
    assert!(text.contains("REFUSED: pat (logistics) has not worked on it"), "{text}");
    // The allowed reads of the scenario are not marked.
    let allowed = v.access(Some(order(1)));
    assert!(allowed.iter().all(|a| a.refused.is_none()));
    assert!(!render_access(&allowed, TableWidth::Wide).contains("REFUSED"));
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 24, ..proptest::test_runner::Config::default() })]

    /// Whichever events are late: the late counts add up to them in every grouping but by SKU
    /// (an order counts once per SKU there), and leaving late orders out gives the figures of the
    /// log without those orders.
    #[test]
    fn late_counts_and_exclusion_agree_with_a_log_without_the_late_orders(
        picks in proptest::collection::vec(proptest::bool::weighted(0.08), 200),
    ) {
        let mut b = standard_events();
        let (marked, orders) = b.late_where(|i| picks.get(i).copied().unwrap_or(false));
        let with = log_of(&mut b);
        let without = log_of(standard_events().without(&orders));
        let (f, g): (KpiFacts, KpiFacts) = (view(&with.log), view(&without.log));
        for group in [Group::Month, Group::Customer, Group::Channel] {
            let all = f.report(&query(group, false, None));
            proptest::prop_assert_eq!(all.rows.iter().map(|r| r.late_entries).sum::<u64>(), marked as u64);
            let excluded = f.report(&query(group, true, None));
            proptest::prop_assert_eq!(&excluded.rows, &g.report(&query(group, false, None)).rows);
            proptest::prop_assert_eq!(excluded.late_orders_excluded, orders.len() as u64);
        }
    }
}
