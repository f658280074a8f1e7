//! The intake form (`/orders/new`) and the monthly figures (`/kpi`, `/kpi.csv`) over HTTP: a
//! valid form writes one order once, every bad value is shown next to its field with nothing
//! written, a person who may not receive orders is refused; the figures on the page and in the
//! CSV are those of `reads::kpi_report` for orders set up through the application.

use orderflow::app::reads::{self, KpiBy, KpiSelection};
use orderflow::service::Views;
use orderflow_commands::Command;
use orderflow_projections::{KpiReport, KpiRow, Ratio, TableWidth};
use orderflow_schemas::{Grant, OrderId, Role};
use serde_json::{json, Value};
use uuid::Uuid;

use super::support::{count, hex, Page, WebSite};

const SALES: Grant = Grant::Role(Role::Sales);

fn in_days(days: i32) -> String {
    orderflow::app::now().date().plus_days(days).to_string()
}

fn this_month() -> String {
    orderflow::app::now().date().month()
}

/// A valid intake form (two lines) with `command_id`, as owned pairs.
fn valid_form(command_id: &str) -> Vec<(String, String)> {
    let due = in_days(30);
    [
        ("command_id", command_id),
        ("customer", "伊利乳业 华北"),
        ("contact", "王经理 010-5555"),
        ("channel", "sales_rep"),
        ("currency", "CNY"),
        ("requested_date", due.as_str()),
        ("delivery_address", "北京市 仓库 3 号门"),
        ("special_requirements", "keep at 2-6 °C"),
        ("sku", "MILK-1L"),
        ("spec", "full cream"),
        ("quantity", "120"),
        ("unit", "box"),
        ("unit_price", "18.90"),
        ("sku", "YOG-200"),
        ("spec", ""),
        ("quantity", "40"),
        ("unit", ""),
        ("unit_price", "3"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `form` with the first value of `name` replaced.
fn with(mut form: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    if let Some(f) = form.iter_mut().find(|(k, _)| k == name) {
        f.1 = value.to_string();
    }
    form
}

/// A bad form: what it is, the form, the field (and line row) whose error it shows, and a
/// field whose typed value must come back.
type BadCase<'a> = (&'a str, Vec<(String, String)>, &'a str, Option<usize>, Option<(&'a str, &'a str)>);

fn as_refs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The inline error of `field` (and line row), as the page writes it.
fn field_error(field: &str, line: Option<usize>) -> String {
    match line {
        None => format!("class=\"field-error\" data-field=\"{field}\""),
        Some(i) => format!("class=\"field-error\" data-field=\"{field}\" data-line=\"{i}\""),
    }
}

#[tokio::test]
async fn a_valid_intake_writes_one_order_and_a_second_submit_writes_nothing() {
    let site = WebSite::new().await;
    let sales = site.login(SALES).await;
    let form_page = sales.get("/orders/new").await;
    form_page.expect(200);
    for needle in [
        "id=\"intake\"",
        "id=\"intake-submit\"",
        "id=\"line-template\"",
        "data-add-line=\"intake-lines\"",
        "data-remove-line",
        "name=\"requested_date\"",
        "type=\"date\"",
    ] {
        assert!(form_page.body.contains(needle), "the form has no {needle}: {}", form_page.body);
    }
    let command_id = form_page.input_value("command_id").expect("the form carries a command id");
    let id = OrderId::for_receive(command_id.parse::<Uuid>().expect("a UUID"));
    let before = site.head();

    let form = valid_form(&command_id);
    let done = sales.post("/orders/new", &as_refs(&form)).await;
    done.expect(303);
    let to = format!("/orders/{}?done=receive", hex(id));
    assert_eq!(done.location.as_deref(), Some(to.as_str()));
    let after = site.head();
    assert!(after > before, "nothing was written");
    let (_, state) = site.app.order(id).expect("the order");
    assert!(state.exists());
    assert_eq!(state.customer, "伊利乳业 华北");
    assert_eq!(state.lines.len(), 2);
    assert_eq!(state.lines[0].unit_price_minor, 1890);
    assert_eq!(state.lines[1].unit, "pcs", "an empty unit is pcs, as on the command line");

    let again = sales.post("/orders/new", &as_refs(&form)).await;
    again.expect(303);
    assert_eq!(again.location.as_deref(), Some(to.as_str()));
    assert_eq!(site.head(), after, "the second submit of the same form wrote again");
    site.stop().await;
}

#[tokio::test]
async fn every_bad_value_is_shown_at_its_field_with_what_was_typed_and_nothing_written() {
    let site = WebSite::new().await;
    let sales = site.login(SALES).await;
    sales.get("/orders/new").await.expect(200);
    let base = valid_form(&Uuid::new_v4().to_string());
    let blank_lines: Vec<(String, String)> = base
        .iter()
        .filter(|(k, _)| !["sku", "spec", "quantity", "unit", "unit_price"].contains(&k.as_str()))
        .cloned()
        .collect();
    let mut too_many = blank_lines.clone();
    for i in 0..=orderflow_commands::Limits::DEFAULT.lines_per_order_max {
        too_many.push(("sku".into(), format!("SKU-{i}")));
        too_many.push(("quantity".into(), "1".into()));
        too_many.push(("unit_price".into(), "1".into()));
    }
    let cases: Vec<BadCase<'_>> = vec![
        (
            "no customer",
            with(base.clone(), "customer", ""),
            "customer",
            None,
            Some(("contact", "王经理 010-5555")),
        ),
        ("no line", blank_lines, "lines", None, Some(("customer", "伊利乳业 华北"))),
        ("quantity 0", with(base.clone(), "quantity", "0"), "quantity", Some(0), Some(("quantity", "0"))),
        (
            "quantity text",
            with(base.clone(), "quantity", "twelve"),
            "quantity",
            Some(0),
            Some(("quantity", "twelve")),
        ),
        (
            "bad date",
            with(base.clone(), "requested_date", "2026-02-30"),
            "requested_date",
            None,
            Some(("requested_date", "2026-02-30")),
        ),
        (
            "past date",
            with(base.clone(), "requested_date", "2020-01-01"),
            "requested_date",
            None,
            Some(("requested_date", "2020-01-01")),
        ),
        (
            "price text",
            with(base.clone(), "unit_price", "abc"),
            "unit_price",
            Some(0),
            Some(("unit_price", "abc")),
        ),
        (
            "price with 3 decimals",
            with(base.clone(), "unit_price", "1.234"),
            "unit_price",
            Some(0),
            Some(("unit_price", "1.234")),
        ),
        (
            "bad currency",
            with(base.clone(), "currency", "yuan"),
            "currency",
            None,
            Some(("currency", "yuan")),
        ),
        ("too many lines", too_many, "lines", None, Some(("customer", "伊利乳业 华北"))),
    ];
    for (what, form, field, line, kept) in cases {
        let before = site.head();
        let page = sales.post("/orders/new", &as_refs(&form)).await;
        assert_eq!(page.status, 400, "{what}: {}", page.body);
        let needle = field_error(field, line);
        assert!(page.body.contains(&needle), "{what}: no {needle} in {}", page.body);
        assert!(page.body.contains("id=\"intake\""), "{what}: the form is not shown again");
        if let Some((name, value)) = kept {
            assert_eq!(page.input_value(name).as_deref(), Some(value), "{what}: {name} not kept");
        }
        assert_eq!(site.head(), before, "{what}: something was written");
    }

    // Several errors at once, each at its own field and row: those of parsing and the domain's.
    let mut several = with(with(base.clone(), "customer", ""), "quantity", "0");
    if let Some(p) = several.iter_mut().filter(|(k, _)| k == "unit_price").nth(1) {
        p.1 = "x".into();
    }
    let before = site.head();
    let page = sales.post("/orders/new", &as_refs(&several)).await;
    assert_eq!(page.status, 400, "{}", page.body);
    for needle in
        [field_error("customer", None), field_error("quantity", Some(0)), field_error("unit_price", Some(1))]
    {
        assert!(page.body.contains(&needle), "no {needle} in {}", page.body);
    }
    assert_eq!(count(&page.body, "class=\"field-error\""), 3, "{}", page.body);
    assert_eq!(site.head(), before);
    site.stop().await;
}

#[tokio::test]
async fn a_person_who_may_not_receive_is_refused_and_a_form_without_token_too() {
    let site = WebSite::new().await;
    let production = site.login(Grant::Role(Role::Production)).await;
    let page = production.get("/orders/new").await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("sales"), "the refusal says who may: {}", page.body);
    production.get("/kpi").await.expect(200);
    assert!(production.csrf().is_some(), "the KPI page carries the session's token");
    let before = site.head();
    let form = valid_form(&Uuid::new_v4().to_string());
    let refused = production.post("/orders/new", &as_refs(&form)).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(site.head(), before, "a refused intake wrote");

    let sales = site.login(SALES).await;
    sales.get("/orders/new").await.expect(200);
    let no_token = sales.post_exact("/orders/new", &form).await;
    assert_eq!(no_token.status, 403, "{}", no_token.body);
    assert_eq!(site.head(), before, "a form without its token wrote");
    site.stop().await;
}

fn cmd(v: Value) -> Command {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"))
}

/// Runs an order's life as far as `upto` allows: received, approved, confirmed, scheduled and
/// inspected (`first`, then pass), shipped, delivered, signed; a complaint and a feedback score.
async fn order_life(
    site: &WebSite,
    customer: &str,
    sku: &str,
    first: &str,
    delivered: bool,
    complaint: bool,
    score: Option<u8>,
) -> OrderId {
    let receive = cmd(json!({
        "command": "receive", "channel": "email", "customer": customer, "contact": "buyer",
        "lines": [{"sku": sku, "quantity": 10, "unit": "pcs", "unit_price_minor": 1890}],
        "currency": "CNY", "requested_date": in_days(20), "delivery_address": "Dock 1",
    }));
    let id = site.exec(SALES, None, receive).await.order_id;
    let run = |grant: Role, v: Value| async move {
        site.exec(Grant::Role(grant), Some(id), cmd(v)).await;
    };
    for (role, dept) in [
        (Role::Production, "production"),
        (Role::Procurement, "procurement"),
        (Role::Finance, "finance"),
        (Role::Warehouse, "warehouse"),
    ] {
        run(role, json!({"command": "approve", "department": dept})).await;
    }
    if !delivered {
        return id;
    }
    run(
        Role::Sales,
        json!({"command": "confirm", "promised_date": in_days(20), "expected_ship_date": in_days(18),
               "delivery_mode": "carrier", "confirmed_via": "phone", "note": ""}),
    )
    .await;
    run(Role::Production, json!({"command": "schedule", "planned_finish": in_days(5), "note": ""})).await;
    run(Role::Quality, json!({"command": "inspect", "result": first, "note": "checked"})).await;
    if first != "pass" {
        run(Role::Quality, json!({"command": "inspect", "result": "pass", "note": "again"})).await;
    }
    run(Role::Production, json!({"command": "complete", "note": ""})).await;
    run(
        Role::Logistics,
        json!({"command": "ship", "carrier": "SF", "mode": "road", "tracking_number": "T1", "eta": in_days(1)}),
    )
    .await;
    run(Role::Logistics, json!({"command": "deliver", "note": "POD"})).await;
    run(Role::Sales, json!({"command": "sign", "signed_by": "store manager", "note": ""})).await;
    if complaint {
        run(
            Role::CustomerService,
            json!({"command": "complain", "category": "quality", "severity": "medium", "text": "sour"}),
        )
        .await;
    }
    if let Some(score) = score {
        run(Role::CustomerService, json!({"command": "feedback", "score": score, "comment": ""})).await;
    }
    id
}

fn expected(site: &WebSite, by: KpiBy) -> KpiReport {
    let selection = KpiSelection {
        month: Some(this_month()),
        by,
        exclude_late: false,
        width: TableWidth::Wide,
        reviews_at: None,
    };
    Views::default()
        .kpi
        .with_view(&site.app, |facts| reads::kpi_report(facts, &selection))
        .expect("view")
        .expect("report")
}

/// The row of `key` in the table of figure `table`.
fn table_row<'a>(page: &'a Page, table: &str, key: &str) -> &'a str {
    let body = page.body.as_str();
    let start = body.find(&format!("data-table=\"{table}\"")).unwrap_or_else(|| panic!("no table {table}"));
    let rest = &body[start..];
    let end = rest.find("</table>").unwrap_or(rest.len());
    let table_html = &rest[..end];
    let row =
        table_html.find(&format!("data-key=\"{key}\"")).unwrap_or_else(|| panic!("no row {key} in {table}"));
    let row_html = &table_html[row..];
    &row_html[..row_html.find("</tr>").unwrap_or(row_html.len())]
}

fn check_ratio(page: &Page, table: &str, key: &str, r: Ratio) {
    let row = table_row(page, table, key);
    assert!(row.contains(&format!("data-num=\"{}\"", r.num)), "{table} {key}: {row} vs {r:?}");
    assert!(row.contains(&format!("data-den=\"{}\"", r.den)), "{table} {key}: {row} vs {r:?}");
    match r.rate() {
        Some(x) => assert!(row.contains(&format!("{:.1}%", x * 100.0)), "{table} {key}: {row} vs {r:?}"),
        None => assert!(row.contains("no data"), "{table} {key}: {row}"),
    }
}

fn check_row(page: &Page, key: &str, r: &KpiRow) {
    check_ratio(page, "otd_current", key, r.otd_current);
    check_ratio(page, "otd_original", key, r.otd_original);
    check_ratio(page, "otif", key, r.otif);
    check_ratio(page, "first_pass_yield", key, r.first_pass_yield);
    check_ratio(page, "complaint_rate", key, r.complaint_rate);
    for (table, stats) in [("cycle_time", r.cycle_time), ("approval_lead_time", r.approval_lead_time)] {
        let row = table_row(page, table, key);
        assert!(row.contains(&format!("data-n=\"{}\"", stats.n)), "{table} {key}: {row}");
        match stats.mean_us {
            Some(m) => assert!(row.contains(&format!("{:.1}", m as f64 / 3.6e9)), "{table} {key}: {row}"),
            None => assert!(row.contains("no data"), "{table} {key}: {row}"),
        }
    }
    let row = table_row(page, "csat", key);
    assert!(row.contains(&format!("data-n=\"{}\"", r.satisfaction.responses)), "csat {key}: {row}");
    if let Some(m) = r.satisfaction.mean_score {
        assert!(row.contains(&format!("{m:.2}")), "csat {key}: {row}");
    }
}

#[tokio::test]
async fn the_monthly_figures_are_the_reports_as_charts_tables_and_csv() {
    let site = WebSite::new().await;
    order_life(&site, "伊利乳业", "MILK-1L", "pass", true, false, Some(5)).await;
    order_life(&site, "Acme, Inc.", "YOG-200", "rework", true, true, Some(3)).await;
    order_life(&site, "Acme, Inc.", "MILK-1L", "pass", false, false, None).await;
    let month = this_month();
    let all = expected(&site, KpiBy::Month);
    let overall = all.rows.first().expect("a row this month");
    assert_eq!(overall.otd_current.den, 2, "the setup delivered two orders");

    let viewer = site.login(Grant::Role(Role::Production)).await;
    let page = viewer.get("/kpi").await;
    page.expect(200);
    assert!(page.body.contains("<main id=\"kpi\""), "no main#kpi");
    for chart in [
        "otd_current",
        "otd_original",
        "otif",
        "cycle_time",
        "approval_lead_time",
        "approval_lead_time_by_department",
        "first_pass_yield",
        "complaint_rate",
        "csat",
    ] {
        let needle = format!("data-chart=\"{chart}\"");
        assert_eq!(count(&page.body, &needle), 1, "chart {chart}");
        assert!(page.body.contains(&format!("data-table=\"{chart}\"")), "table {chart}");
    }
    assert!(page.body.contains("<svg class=\"chart\""), "the charts are SVG");
    assert!(page.body.contains("viewBox="), "the charts scale");
    assert!(!page.body.contains("NaN"), "NaN on the page");
    assert!(!page.body.contains("style="), "an inline style");
    check_row(&page, &month, overall);
    let same = viewer.get(&format!("/kpi?month={month}&by=all")).await;
    check_row(&same, &month, overall);
    for (dept, stats) in &overall.approval_lead_time_by_department {
        let row = table_row(&page, "approval_lead_time_by_department", dept.as_str());
        assert!(row.contains(&format!("data-n=\"{}\"", stats.n)), "{dept}: {row}");
    }
    assert!(
        page.body.contains(&format!("id=\"kpi-csv\" href=\"/kpi.csv?month={month}&amp;by=all\"")),
        "the CSV link carries the same query"
    );

    let by_customer = expected(&site, KpiBy::Customer);
    assert_eq!(by_customer.rows.len(), 2, "two customers");
    let grouped = viewer.get(&format!("/kpi?month={month}&by=customer")).await;
    grouped.expect(200);
    for r in &by_customer.rows {
        check_row(&grouped, &r.key, r);
    }

    let csv = viewer.get(&format!("/kpi.csv?month={month}&by=customer")).await;
    csv.expect(200);
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    let disposition = csv.headers.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(disposition.starts_with("attachment; filename="), "{disposition}");
    let text = csv.body.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "month,by,key,figure,num,den,value,p90,unit");
    for r in &by_customer.rows {
        let key = if r.key.contains(',') { format!("\"{}\"", r.key) } else { r.key.clone() };
        for (figure, ratio) in [
            ("otd_current", r.otd_current),
            ("otd_original", r.otd_original),
            ("otif", r.otif),
            ("first_pass_yield", r.first_pass_yield),
            ("complaint_rate", r.complaint_rate),
        ] {
            let rate = ratio.rate().map(|x| x.to_string()).unwrap_or_default();
            let want = format!("{month},customer,{key},{figure},{},{},{rate},,ratio", ratio.num, ratio.den);
            assert!(lines.contains(&want.as_str()), "no CSV row {want} in {text}");
        }
        let prefix = format!(
            "{month},customer,{key},csat,{},{},",
            r.satisfaction.share_4_5.num, r.satisfaction.responses
        );
        assert!(lines.iter().any(|l| l.starts_with(&prefix)), "no CSV row {prefix} in {text}");
    }
    let rows_of_customers = lines.iter().filter(|l| l.starts_with(&format!("{month},customer,"))).count();
    assert_eq!(rows_of_customers, by_customer.rows.len() * 8, "one row per group and figure");
    assert!(text.contains("伊利乳业"), "the Chinese name in UTF-8");

    let bad = viewer.get("/kpi?month=2026-13").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("month"), "the error names the month: {}", bad.body);
    let bad_csv = viewer.get("/kpi.csv?month=december").await;
    assert_eq!(bad_csv.status, 400, "{}", bad_csv.body);
    let bad_by = viewer.get(&format!("/kpi?month={month}&by=planet")).await;
    assert_eq!(bad_by.status, 400, "{}", bad_by.body);
    site.stop().await;
}

#[tokio::test]
async fn a_month_without_orders_says_no_data() {
    let site = WebSite::with_grants(&[SALES]).await;
    let sales = site.login(SALES).await;
    let page = sales.get("/kpi?month=2020-01").await;
    page.expect(200);
    assert!(page.body.contains("no data"));
    assert!(!page.body.contains("NaN"));
    let chinese = site.login(SALES).await.with_lang("zh-CN");
    let page = chinese.get("/kpi?month=2020-01").await;
    page.expect(200);
    assert!(page.body.contains("暂无数据"), "no data in Chinese: {}", page.body);
    assert!(page.body.contains("交货准时率"), "the glossary's word for on-time delivery");
    let csv = sales.get("/kpi.csv?month=2020-01").await;
    csv.expect(200);
    assert!(csv.body.contains("2020-01,all,*,otd_current,0,0,,,ratio"), "{}", csv.body);
    site.stop().await;
}

/// The figures of a page are kept while the log stands still and computed again as soon as it
/// moves: a delivery after a first look shows in the next one.
#[tokio::test]
async fn the_figures_follow_the_log_and_are_not_served_stale() {
    let site = WebSite::new().await;
    order_life(&site, "伊利乳业", "MILK-1L", "pass", true, false, Some(5)).await;
    let month = this_month();
    let viewer = site.login(Grant::Role(Role::Production)).await;
    let url = format!("/kpi.csv?month={month}&by=customer");
    let first = viewer.get(&url).await;
    first.expect(200);
    let again = viewer.get(&url).await;
    assert_eq!(first.body, again.body, "the same log head gives the same figures");
    assert!(!first.body.contains("Acme"), "no order of Acme yet");
    order_life(&site, "Acme, Inc.", "YOG-200", "rework", true, true, Some(3)).await;
    let after = viewer.get(&url).await;
    after.expect(200);
    assert!(after.body.contains("Acme"), "the new customer's figures are missing: {}", after.body);
    let expected = expected(&site, KpiBy::Customer);
    assert_eq!(
        after.body.lines().filter(|l| l.contains("Acme")).count(),
        first.body.lines().filter(|l| l.contains("伊利")).count(),
        "the new customer has as many figure rows as the first (report: {} rows)",
        expected.rows.len()
    );
    site.stop().await;
}
