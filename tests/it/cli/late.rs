//! Late entries are visible (issue 11, item 6): an event back-dated with `--at` and a reason is
//! flagged in `order show`, `order history` and `audit history`, counted by the KPIs in the month
//! of its effective time, and `kpi --exclude-late` leaves out every order holding one.
//!
//! Driven through the library (`App`, `Auth`, `app::reads`, the service's `Query` answers) and
//! the built binary logged in as a user of the directory.

use orderflow::app::reads::{self, KpiBy, KpiSelection, Reader};
use orderflow::app::Request;
use orderflow::auth::Principal;
use orderflow::service::query::{Live, Show};
use orderflow::service::Query;
use orderflow_projections::{KpiFacts, Runner, RunnerConfig, TableWidth};
use orderflow_schemas::{Department, Grant, OrderId, Role, Timestamp};
use serde_json::{json, Value};

use super::reads_permission::{approve, orderflow_as, request, Office};

/// 09:00 UTC, 40 days ago: the paperwork that is entered late.
fn forty_days_ago() -> Timestamp {
    let day = orderflow::app::now().date().plus_days(-40);
    Timestamp::parse(&format!("{day}T09:00:00Z")).expect("a time")
}

/// A late request: effective at `at`, with `reason`.
fn late(
    who: &Principal,
    order: Option<OrderId>,
    command: orderflow_commands::Command,
    at: Timestamp,
    reason: &str,
) -> Request {
    Request { at: Some(at), late_reason: Some(reason.into()), ..request(who, order, command) }
}

struct Books {
    office: Office,
    /// Received 40 days ago, entered now; finance's approval too.
    late: OrderId,
    /// Received and approved now.
    on_time: OrderId,
    at: Timestamp,
    auditor: Principal,
}

async fn books() -> Books {
    let office = Office::new().await;
    let boss_sales = office.user("boss.sales", Grant::DeptHead(Role::Sales)).await;
    let boss_fin = office.user("boss.fin", Grant::DeptHead(Role::Finance)).await;
    let sales = office.user("li.sales", Grant::Role(Role::Sales)).await;
    let auditor = office.user("xu.audit", Grant::Role(Role::Auditor)).await;
    let mut reviewers = Vec::new();
    for d in [Department::Production, Department::Procurement, Department::Warehouse] {
        reviewers.push((d, office.user(&format!("{d}.desk"), Grant::Role(d.role())).await));
    }
    let at = forty_days_ago();
    let receive = orderflow_commands::Command::ReceiveOrder(orderflow_commands::ReceiveOrder {
        requested_date: at.date().plus_days(60),
        ..crate::faults::receive_order("Metro Hotels")
    });
    let done = office.app.execute(late(&boss_sales, None, receive, at, "paper order form found")).await;
    let late_order = done.expect("a head enters late paperwork").order_id;
    let approval =
        late(&boss_fin, Some(late_order), approve(Department::Finance), at.plus_hours(2), "signed on paper");
    office.app.execute(approval).await.expect("a late approval");
    for (d, who) in &reviewers {
        office.run(who, Some(late_order), approve(*d)).await;
    }
    let on_time = office.run(&sales, None, crate::faults::receive("Harbour Cafe")).await.order_id;
    Books { office, late: late_order, on_time, at, auditor }
}

fn body(v: Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

#[tokio::test]
async fn order_show_names_the_late_entries_with_the_latest_reason_and_when_it_was_entered() {
    let b = books().await;
    let stored = b.office.app.log().read_stream(b.late.0, 1).expect("read");
    let entered = Timestamp(stored[1].recorded_at_us);
    let reply = Show
        .answer(&b.office.app, &b.auditor, &body(json!({ "order_id": b.late.0.simple().to_string() })))
        .await
        .expect("show");
    let text = reply["text"].as_str().expect("text");
    let expected = format!(
        "late entries 2 (latest: signed on paper, for {} by boss.fin, entered {})",
        b.at.plus_hours(2).to_minute(),
        entered.to_minute()
    );
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&expected), "{text}\nexpected: {expected}");
    let late = &reply["state"]["late_entries"];
    assert_eq!(late["count"], 2);
    assert_eq!(late["latest"]["reason"], "signed on paper");
    assert_eq!(late["latest"]["by"], "boss.fin");
    assert_eq!(late["latest"]["entered"], serde_json::to_value(entered).expect("json"));
    // An order entered on time has no such fact.
    let reply = Show
        .answer(&b.office.app, &b.auditor, &body(json!({ "order_id": b.on_time.0.simple().to_string() })))
        .await
        .expect("show");
    assert!(!reply["text"].as_str().expect("text").contains("late entries"));
    assert_eq!(reply["state"]["late_entries"], json!({ "count": 0, "latest": null }));
}

#[tokio::test]
async fn the_audit_timeline_flags_each_late_entry() {
    let b = books().await;
    let who = Reader { principal: b.auditor.clone(), purpose: String::new() };
    let out = reads::audit_history(&b.office.app, b.late, &who, TableWidth::Wide).await.expect("read");
    let late: Vec<(&str, &str)> = out
        .json
        .iter()
        .filter(|e| !e["late"].is_null())
        .map(|e| (e["event_type"].as_str().unwrap_or(""), e["late"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(late, [("order_received", "paper order form found"), ("review_approved", "signed on paper")]);
    assert_eq!(out.text.matches("LATE ENTRY, entered").count(), 2, "{}", out.text);
    assert!(out.text.contains("signed on paper"), "{}", out.text);
}

fn kpi(facts: &KpiFacts, exclude_late: bool) -> Value {
    let selection = KpiSelection {
        month: None,
        by: KpiBy::Month,
        exclude_late,
        width: TableWidth::DEFAULT,
        reviews_at: None,
    };
    reads::kpi(facts, &selection).expect("kpi").json.remove(0)
}

fn received(report: &Value) -> u64 {
    report["rows"].as_array().expect("rows").iter().map(|r| r["orders_received"].as_u64().unwrap_or(0)).sum()
}

#[tokio::test]
async fn the_kpis_count_late_entries_by_effective_month_and_leave_late_orders_out_on_request() {
    let b = books().await;
    let mut runner = Runner::<KpiFacts>::open(b.office.app.log(), RunnerConfig::default()).expect("open");
    runner.catch_up(&mut |_| {}).expect("catch up");
    let all = kpi(runner.view(), false);
    let month = b.at.date().month();
    let rows = all["rows"].as_array().expect("rows");
    let late: Vec<(&str, u64)> = rows
        .iter()
        .filter(|r| r["late_entries"].as_u64() != Some(0))
        .map(|r| (r["month"].as_str().unwrap_or(""), r["late_entries"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(late, [(month.as_str(), 2)], "both late entries count in the month they took effect");
    assert_eq!((received(&all), all["late_orders_excluded"].as_u64()), (2, Some(0)));

    let without = kpi(runner.view(), true);
    assert_eq!(received(&without), 1, "only the order entered on time");
    assert_eq!(
        (without["exclude_late"].as_bool(), without["late_orders_excluded"].as_u64()),
        (Some(true), Some(1))
    );

    // The service's `kpi` takes the same selection.
    let reply = Live::<KpiFacts>::default()
        .answer(&b.office.app, &b.auditor, &body(json!({ "exclude_late": true })))
        .await
        .expect("kpi over the service");
    assert_eq!(reply["report"], without);
    assert!(reply["text"].as_str().expect("text").ends_with("1 order(s) with late entries left out\n"));
}

#[tokio::test]
async fn the_command_line_shows_late_entries_in_order_history_and_kpi_leaves_them_out() {
    let b = books().await;
    let data = b.office.data();
    let id = b.late.0.simple().to_string();
    let Books { office, .. } = b;
    let Office { dir, app, .. } = office;
    app.close().expect("close");
    drop(app);

    let history = orderflow_as(&data, "boss.fin", &["order", "history", &id]);
    let stdout = String::from_utf8_lossy(&history.stdout);
    assert_eq!(history.status.code(), Some(0), "{}", String::from_utf8_lossy(&history.stderr));
    let flagged: Vec<&str> = stdout.lines().filter(|l| l.contains("LATE ENTRY, entered")).collect();
    assert_eq!(flagged.len(), 2, "{stdout}");
    assert!(
        flagged[0].contains("order_received") && flagged[0].ends_with("paper order form found"),
        "{stdout}"
    );
    assert!(flagged[1].contains("review_approved") && flagged[1].ends_with("signed on paper"), "{stdout}");

    let kpi = orderflow_as(&data, "xu.audit", &["kpi", "--exclude-late"]);
    let stdout = String::from_utf8_lossy(&kpi.stdout);
    assert_eq!(kpi.status.code(), Some(0), "{}", String::from_utf8_lossy(&kpi.stderr));
    assert!(stdout.ends_with("1 order(s) with late entries left out\n"), "{stdout}");
    let kpi = orderflow_as(&data, "xu.audit", &["kpi", "--json"]);
    let report: Value = serde_json::from_slice(&kpi.stdout).expect("one JSON line");
    assert_eq!(report["exclude_late"], false);
    drop(dir);
}
