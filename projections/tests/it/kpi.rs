use orderflow_projections::{Group, KpiFacts, KpiQuery, KpiReport, KpiRow, Ratio, Runner, RunnerConfig};
use orderflow_schemas::{Currency, Department};

use crate::scenario::standard;

const HOUR_US: i64 = 3_600_000_000;

fn facts(log: &orderflow_engine::EventLog) -> KpiFacts {
    let mut runner = Runner::<KpiFacts>::open(log, RunnerConfig::default()).unwrap();
    runner.catch_up(&mut |_| {}).unwrap();
    runner.view().clone()
}

fn report(f: &KpiFacts, group: Group) -> KpiReport {
    f.report(&KpiQuery { group, from_month: None, to_month: None, exclude_late: false })
}

fn row<'a>(r: &'a KpiReport, month: &str, key: &str) -> &'a KpiRow {
    r.rows.iter().find(|x| x.month == month && x.key == key).unwrap_or_else(|| panic!("no row {month} {key}"))
}

fn ratio(num: u64, den: u64) -> Ratio {
    Ratio { num, den }
}

fn cny() -> Currency {
    Currency::parse("CNY").unwrap()
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

/// Hand computation for 2026-03 (see scenario.rs):
/// - received: O1 03-02, O2 03-03, O3 03-05, O4 03-06, O5 03-09 = 5; changed: O3 = 1/5;
///   cancelled: O4 = 1/5.
/// - sales (booked in March, not cancelled): O1 800.00 + O3 1,680.00 (after the change) +
///   O5 600.00 = 3,080.00 CNY; O4 (EUR) was cancelled, O2 never approved.
/// - delivered in March: O1 03-13, O5 03-12, O3 03-30.
///   OTD current: O1 03-13 ≤ 03-18 yes; O5 03-12 ≤ 03-12 (requested; never confirmed) yes;
///   O3 03-30 ≤ 03-27 no → 2/3. Original: O1 ≤ 03-18 yes, O5 ≤ 03-12 yes, O3 ≤ 03-24 no → 2/3.
///   OTIF: O1 yes, O5 yes, O3 late and 230 of 240 accepted → 2/3.
///   Complaints of those orders: O3 1 + O5 2 = 3 over 3 delivered.
/// - cycle time (signed in March): O1 03-02 09:00 → 03-13 11:00 = 266 h; O5 03-09 09:00 →
///   03-12 10:00 = 73 h; O3 03-05 09:00 → 03-30 16:00 = 607 h. Mean 946/3 = 315.33 h; p90 =
///   3rd of 3 (⌈2.7⌉) = 607 h.
/// - approval lead time (approved in March): O1 6 h, O3 5 h (revision 1), O4 3 h, O5 4 h.
///   Mean 4.5 h; p90 = 4th of 4 (⌈3.6⌉) = 6 h. Production: O1 2 h, O2 4 h, O3 1 h, O4 1 h,
///   O5 1 h: mean 1.8 h, p90 = 5th of 5 = 4 h.
/// - first-pass yield: O1 pass, O3 rework, O5 pass → 2/3.
/// - complaints resolved in March: O5 #1, 03-14 09:00 → 03-16 09:00 = 48 h.
/// - satisfaction: O5 4 (03-17), O1 5 (03-20): mean 4.5, 4–5 share 2/2.
#[test]
fn march_figures_match_the_hand_computation() {
    let s = standard();
    let r = report(&facts(&s.log), Group::Month);
    let m = row(&r, "2026-03", "*");
    assert_eq!(m.orders_received, 5);
    assert_eq!(m.change_rate, ratio(1, 5));
    assert_eq!(m.cancellation_rate, ratio(1, 5));
    assert_eq!(m.sales_minor.iter().map(|(c, v)| (*c, *v)).collect::<Vec<_>>(), vec![(cny(), 308_000)]);
    assert_eq!(m.otd_current, ratio(2, 3));
    assert_eq!(m.otd_original, ratio(2, 3));
    assert_eq!(m.otif, ratio(2, 3));
    assert_eq!(m.complaint_rate, ratio(3, 3));
    assert_eq!(m.cycle_time.n, 3);
    assert_eq!(m.cycle_time.mean_us, Some((266 + 73 + 607) * HOUR_US / 3));
    assert_eq!(m.cycle_time.p90_us, Some(607 * HOUR_US));
    assert_eq!(m.cycle_time.mean_hours, Some(315.33));
    assert_eq!(
        (m.approval_lead_time.mean_us, m.approval_lead_time.p90_us),
        (Some(9 * HOUR_US / 2), Some(6 * HOUR_US))
    );
    let prod = &m.approval_lead_time_by_department[&Department::Production];
    assert_eq!((prod.n, prod.mean_us, prod.p90_us), (5, Some(9 * HOUR_US / 5), Some(4 * HOUR_US)));
    assert_eq!(m.first_pass_yield, ratio(2, 3));
    assert_eq!((m.resolve_time.n, m.resolve_time.mean_us), (1, Some(48 * HOUR_US)));
    assert_eq!(m.satisfaction.responses, 2);
    assert_eq!(m.satisfaction.mean_score, Some(4.5));
    assert_eq!(m.satisfaction.share_4_5, ratio(2, 2));
}

/// Hand computation for 2026-04:
/// - received: O6, O7, O8 = 3; no change, no cancellation.
/// - sales: O7 2,400.00 EUR (approved 04-02), O8 450.00 CNY (approved 04-03); O6 is in review.
/// - no delivery in April: OTD, OTIF and complaint rate have no population.
/// - approval lead time: O7 8 h, O8 6 h: mean 7 h, p90 = 2nd of 2 = 8 h.
/// - first-pass yield: O7 scrapped at its first inspection → 0/1.
/// - O3's complaint, reopened, finally resolved 04-08 09:00: 04-01 09:00 → 168 h.
/// - satisfaction: O3 3 → mean 3, share 0/1.
#[test]
fn april_figures_match_the_hand_computation() {
    let s = standard();
    let r = report(&facts(&s.log), Group::Month);
    let m = row(&r, "2026-04", "*");
    assert_eq!(m.orders_received, 3);
    assert_eq!((m.change_rate, m.cancellation_rate), (ratio(0, 3), ratio(0, 3)));
    assert_eq!(
        m.sales_minor.iter().map(|(c, v)| (*c, *v)).collect::<Vec<_>>(),
        vec![(cny(), 45_000), (eur(), 240_000)]
    );
    assert_eq!((m.otd_current, m.otif, m.complaint_rate), (ratio(0, 0), ratio(0, 0), ratio(0, 0)));
    assert_eq!(m.otd_current.rate(), None);
    assert_eq!(
        (m.approval_lead_time.mean_us, m.approval_lead_time.p90_us),
        (Some(7 * HOUR_US), Some(8 * HOUR_US))
    );
    assert_eq!(m.first_pass_yield, ratio(0, 1));
    assert_eq!((m.resolve_time.n, m.resolve_time.p90_us), (1, Some(168 * HOUR_US)));
    assert_eq!((m.satisfaction.mean_score, m.satisfaction.share_4_5), (Some(3.0), ratio(0, 1)));
    assert_eq!(r.rows.len(), 2, "only March and April have facts");
}

/// By SKU in March: MILK-1L is on O1 (100 × 5.00 = 500.00) and O3 (240 × 5.00 = 1,200.00 after
/// the change): 1,700.00 CNY, 2 orders received. YOG-150 is on O1 (200 × 1.50 = 300.00) and the
/// cancelled O4: 300.00 CNY, 2 orders received, cancellation 1/2. The SKU amounts add up to the
/// month's sales (1,700 + 300 + BUTTER-250 480.00 + CHEESE-200 600.00 = 3,080.00).
/// By customer: Acme Dairy (O1, O3) delivered 2 in March, 1 on time.
#[test]
fn sku_and_customer_breakdowns() {
    let s = standard();
    let f = facts(&s.log);
    let by_sku = report(&f, Group::Sku);
    let milk = row(&by_sku, "2026-03", "MILK-1L");
    assert_eq!((milk.orders_received, milk.sales_minor[&cny()]), (2, 170_000));
    let yog = row(&by_sku, "2026-03", "YOG-150");
    assert_eq!(
        (yog.orders_received, yog.sales_minor[&cny()], yog.cancellation_rate),
        (2, 30_000, ratio(1, 2))
    );
    let march_total: i64 =
        by_sku.rows.iter().filter(|r| r.month == "2026-03").filter_map(|r| r.sales_minor.get(&cny())).sum();
    assert_eq!(march_total, 308_000);
    let by_customer = report(&f, Group::Customer);
    let acme = row(&by_customer, "2026-03", "Acme Dairy");
    assert_eq!((acme.orders_received, acme.otd_current, acme.sales_minor[&cny()]), (2, ratio(1, 2), 248_000));
    let ranged = f.report(&KpiQuery {
        group: Group::Channel,
        from_month: Some("2026-04".into()),
        to_month: None,
        exclude_late: false,
    });
    assert!(ranged.rows.iter().all(|r| r.month == "2026-04"));
    assert_eq!(ranged.rows.iter().map(|r| r.orders_received).sum::<u64>(), 3);
}

#[test]
fn kpi_tables_of_the_scenario() {
    let s = standard();
    let f = facts(&s.log);
    insta::assert_snapshot!(
        "kpi_by_month",
        report(&f, Group::Month).render_table(orderflow_projections::TableWidth::DEFAULT)
    );
    insta::assert_snapshot!(
        "kpi_by_channel",
        report(&f, Group::Channel).render_table(orderflow_projections::TableWidth::DEFAULT)
    );
    let json = serde_json::to_string_pretty(&report(&f, Group::Month).render_json()).unwrap();
    insta::assert_snapshot!("kpi_by_month_json", json);
}

/// Sales counts the approved revision of orders neither rejected nor cancelled (hand
/// computation, May 2026, CNY):
/// - O21: 10 × 100.00 approved 05-02 (booked) → 1,000.00; changed 05-03 to 20 × 100.00, waiting
///   for re-approval → still 1,000.00 (the change is not approved); by SKU MILK-1L 1,000.00.
/// - O22: 5 × 300.00 approved and confirmed 05-02 (booked), changed 05-04 to 50 × 300.00, then
///   rejected by production 05-05 → counts nothing (it was 1,500.00 and would be 15,000.00).
/// - O23: 2 × 50.00 approved 05-02, changed 05-03 to 4 × 50.00, re-approved 05-04 → 200.00.
///
/// May sales: 1,000.00 + 200.00 = 1,200.00 CNY (before the correction: 2,000.00 + 15,000.00 +
/// 200.00 = 17,200.00).
#[test]
fn sales_count_the_approved_revision_of_orders_not_rejected() {
    use orderflow_schemas::{FieldChange, OrderChanged, OrderConfirmed, OrderRejected, ReviewRejected};
    let s = crate::scenario::empty();
    let mut b = crate::scenario::Builder::default();
    let (o21, o22, o23) =
        (crate::scenario::order(21), crate::scenario::order(22), crate::scenario::order(23));
    let clerk = || orderflow_schemas::Actor::named("Li Na", orderflow_schemas::Role::Sales);
    let change = |revision: u32, spec: &[(&str, u32, i64)], total: i64| OrderChanged {
        revision,
        reason: "customer asked".into(),
        changes: vec![FieldChange { field: "line 1 quantity".into(), old: "a".into(), new: "b".into() }],
        lines: crate::scenario::lines(spec),
        total_minor: total,
        requested_date: crate::scenario::date("2026-06-30"),
        promised_date: None,
        delivery_address: "1 Harbour Road".into(),
        reapproval_required: true,
        review_due: Some(crate::scenario::ts("2026-05-10T09:00")),
        review_due_by: Some(crate::scenario::ts("2026-05-10T09:00"))
            .map(|due| {
                orderflow_schemas::Department::ALL
                    .iter()
                    .map(|d| orderflow_schemas::RoleDue { role: d.role(), due })
                    .collect()
            })
            .unwrap_or_default(),
        request_id: None,
        initiated_by: None,
    };
    let times = ["2026-05-02T10:00", "2026-05-02T11:00", "2026-05-02T12:00", "2026-05-02T13:00"];
    b.received(
        o21,
        "2026-05-01T09:00",
        "Acme",
        orderflow_schemas::Channel::Phone,
        "CNY",
        &[("MILK-1L", 10, 10_000)],
        "2026-06-30",
        "2026-05-02T09:00",
    )
    .approve_all(o21, 1, times)
    .push(o21, clerk(), "2026-05-03T09:00", change(2, &[("MILK-1L", 20, 10_000)], 200_000));
    b.received(
        o22,
        "2026-05-01T09:00",
        "Bolt",
        orderflow_schemas::Channel::Email,
        "CNY",
        &[("BUTTER-250", 5, 30_000)],
        "2026-06-30",
        "2026-05-02T09:00",
    )
    .approve_all(o22, 1, times)
    .push(
        o22,
        clerk(),
        "2026-05-02T14:00",
        OrderConfirmed {
            promised_date: crate::scenario::date("2026-06-30"),
            note: String::new(),
            revision: None,
            expected_ship_date: None,
            delivery_mode: None,
            confirmed_via: None,
        },
    )
    .push(o22, clerk(), "2026-05-04T09:00", change(2, &[("BUTTER-250", 50, 30_000)], 1_500_000))
    .push(
        o22,
        orderflow_schemas::Actor::named("Zhao Lei", orderflow_schemas::Role::Production),
        "2026-05-05T09:00",
        ReviewRejected { department: Department::Production, revision: 2, reason: "no capacity".into() },
    )
    .push(
        o22,
        clerk(),
        "2026-05-05T09:00",
        OrderRejected { revision: 2, department: Department::Production, reason: "no capacity".into() },
    );
    b.received(
        o23,
        "2026-05-01T09:00",
        "Cove",
        orderflow_schemas::Channel::Online,
        "CNY",
        &[("CREAM-1L", 2, 5_000)],
        "2026-06-30",
        "2026-05-02T09:00",
    )
    .approve_all(o23, 1, times)
    .push(o23, clerk(), "2026-05-03T09:00", change(2, &[("CREAM-1L", 4, 5_000)], 20_000))
    .approve_all(
        o23,
        2,
        ["2026-05-04T10:00", "2026-05-04T11:00", "2026-05-04T12:00", "2026-05-04T13:00"],
    );
    b.append_to(&s.log);
    let f = facts(&s.log);
    let may = report(&f, Group::Month);
    assert_eq!(row(&may, "2026-05", "*").sales_minor.get(&cny()).copied(), Some(120_000));
    let by_sku = report(&f, Group::Sku);
    assert_eq!(row(&by_sku, "2026-05", "MILK-1L").sales_minor.get(&cny()).copied(), Some(100_000));
    assert_eq!(row(&by_sku, "2026-05", "CREAM-1L").sales_minor.get(&cny()).copied(), Some(20_000));
    assert_eq!(
        row(&by_sku, "2026-05", "BUTTER-250").sales_minor.get(&cny()).copied(),
        None,
        "rejected: nothing"
    );
}
