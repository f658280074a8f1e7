//! `/kpi`: the monthly figures (月度统计) as charts drawn by the server, each with a table of the
//! same numbers beside it, and `/kpi.csv`: the same numbers as a download.
//!
//! - The figures are [`reads::kpi_report`]'s (the report of `orderflow kpi` and of the `kpi`
//!   query; definitions in `orderflow_projections::kpi`): on-time delivery against the current
//!   and the original promise, OTIF, order cycle time, approval lead time (and per department),
//!   first-pass yield, complaint rate, satisfaction (CSAT).
//! - `?month=YYYY-MM` (default: the current month, UTC like the figures), checked by
//!   [`reads::check_month`] (a bad one is a 400 naming it); `?by=all|customer|product|channel`
//!   (default `all`). With `all`, each chart has a bar per month over the [`MONTHS_SHOWN`] months
//!   ending with the chosen one; grouped, a bar per group of the chosen month (at most
//!   [`GROUPS_SHOWN_MAX`] on the page, the rest in the CSV). Approval lead time per department is
//!   always the chosen month's, over every order.
//! - Who may see it: anyone logged in, as the `kpi` query and `orderflow kpi` (reads that need
//!   only a login, [`crate::service::query`]).
//! - A figure without data (an empty population) shows "no data", never NaN.
//! - Charts are SVG written by hand (bars, an axis, labels, a `<title>`); colours come from
//!   classes in `app.css`, never inline styles.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::Months;
use maud::{html, Markup};
use orderflow_projections::{DurationStats, KpiReport, KpiRow, Ratio, Satisfaction, TableWidth};
use orderflow_schemas::{Channel, Date, Department};

use super::i18n::Lang;
use super::layout::{self, Nav};
use super::session::Who;
use super::{Web, WebError, WebResult};
use crate::app::reads::{self, KpiBy, KpiSelection};

/// Months a chart shows when the figures are not grouped (the chosen one and those before it).
pub const MONTHS_SHOWN: usize = 6;

/// Groups (customers, products, channels) a chart and its table show at most; the CSV has all.
pub const GROUPS_SHOWN_MAX: usize = 24;

/// Width of a group's name beside its bar, in half-width characters (a Chinese character counts
/// two); a longer name is cut with "…" (the whole name is in the bar's title and the table).
const LABEL_WIDTH_MAX: usize = 18;

const MICROS_PER_HOUR: f64 = 3_600_000_000.0;

/// The query of `/kpi` and `/kpi.csv`.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct KpiParams {
    /// `YYYY-MM`.
    pub month: Option<String>,
    /// `all`, `customer`, `product` or `channel`.
    pub by: Option<String>,
}

/// The grouping of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    All,
    Customer,
    Product,
    Channel,
}

impl By {
    const ALL: [By; 4] = [By::All, By::Customer, By::Product, By::Channel];

    fn word(self) -> &'static str {
        match self {
            By::All => "all",
            By::Customer => "customer",
            By::Product => "product",
            By::Channel => "channel",
        }
    }

    fn label(self, l: Lang) -> &'static str {
        match self {
            By::All => l.t("All orders, by month", "全部订单（按月）", "全部訂單（按月）"),
            By::Customer => l.t("By customer", "按客户", "按客戶"),
            By::Product => l.t("By product", "按产品", "按產品"),
            By::Channel => l.t("By channel", "按渠道", "按渠道"),
        }
    }

    fn reads(self) -> KpiBy {
        match self {
            By::All => KpiBy::Month,
            By::Customer => KpiBy::Customer,
            By::Product => KpiBy::Product,
            By::Channel => KpiBy::Channel,
        }
    }
}

/// A checked query.
#[derive(Clone, Debug)]
struct Chosen {
    month: String,
    by: By,
}

impl Chosen {
    fn of(p: &KpiParams, lang: Lang) -> Result<Self, WebError> {
        let month = match p.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            None => crate::app::now().date().month(),
            Some(m) => {
                reads::check_month(m).map_err(|e| {
                    WebError::bad_request(format!(
                        "month: {e}; {}",
                        lang.t("nothing shown", "未显示任何内容", "未顯示任何內容")
                    ))
                    .lang(lang)
                })?;
                m.to_string()
            }
        };
        let by = match p.by.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
            None => By::All,
            Some(b) => By::ALL.into_iter().find(|x| x.word() == b).ok_or_else(|| {
                WebError::bad_request(format!(
                    "by: '{b}' is not a grouping (expected one of: all, customer, product, channel)"
                ))
                .lang(lang)
            })?,
        };
        Ok(Chosen { month, by })
    }

    fn query(&self) -> String {
        format!("month={}&by={}", super::url_encode(&self.month), self.by.word())
    }

    /// The months of the charts, oldest first.
    fn months(&self) -> Vec<String> {
        match self.by {
            By::All => months_back(&self.month, MONTHS_SHOWN),
            _ => vec![self.month.clone()],
        }
    }
}

/// `n` months ending with `month` (a checked `YYYY-MM`), oldest first.
fn months_back(month: &str, n: usize) -> Vec<String> {
    let Ok(first) = Date::parse(&format!("{month}-01")) else { return vec![month.to_string()] };
    let d = first.to_naive();
    (0..n)
        .rev()
        .filter_map(|k| u32::try_from(k).ok().and_then(|k| d.checked_sub_months(Months::new(k))))
        .map(|d| Date::from_naive(d).month())
        .collect()
}

/// The month shifted by `delta` months (for the previous / next links).
fn shift_month(month: &str, delta: i32) -> Option<String> {
    let d = Date::parse(&format!("{month}-01")).ok()?.to_naive();
    let m = Months::new(delta.unsigned_abs());
    let moved = if delta < 0 { d.checked_sub_months(m) } else { d.checked_add_months(m) }?;
    Some(Date::from_naive(moved).month())
}

/// Figures kept for the pages that ask for the same month and grouping at the same log head.
pub const KPI_CACHE_ENTRIES: usize = 16;

/// The figures of recent pages, by (log head, month, grouping): they are a function of the log
/// up to its head, so a burst of people opening the statistics costs one computation (which
/// goes over every order, [`orderflow_projections::KpiFacts::report`]), not one each. The lock
/// is held while computing, so the others wait for that one and then find it.
#[derive(Debug, Default)]
pub struct Cache(tokio::sync::Mutex<std::collections::VecDeque<Kept>>);

/// One kept computation: the log head, the month, the grouping and the figures.
type Kept = (u64, String, By, std::sync::Arc<Figures>);

/// The figures of `chosen`, from the cache when the log has not moved since they were computed.
async fn cached_figures(web: &Web, chosen: &Chosen, lang: Lang) -> Result<std::sync::Arc<Figures>, WebError> {
    let head = web.app.log().head();
    let mut kept = web.kpi_cache.0.lock().await;
    if let Some((_, _, _, f)) =
        kept.iter().find(|(h, m, b, _)| *h == head && *m == chosen.month && *b == chosen.by)
    {
        return Ok(f.clone());
    }
    let f = std::sync::Arc::new(figures(web, chosen, lang)?);
    kept.retain(|(h, _, _, _)| *h == head);
    if kept.len() >= KPI_CACHE_ENTRIES {
        kept.pop_front();
    }
    kept.push_back((head, chosen.month.clone(), chosen.by, f.clone()));
    Ok(f)
}

/// The rows of the page: per month (`all`) or per group of the month, from
/// [`reads::kpi_report`]; and the chosen month's overall row (per department figures).
#[derive(Debug)]
pub struct Figures {
    rows: Vec<KpiRow>,
    overall: Option<KpiRow>,
}

fn report(web: &Web, month: &str, by: KpiBy, lang: Lang) -> Result<KpiReport, WebError> {
    let selection = KpiSelection {
        month: Some(month.to_string()),
        by,
        exclude_late: false,
        width: TableWidth::Wide,
        reviews_at: None,
    };
    web.views
        .kpi
        .with_view(&web.app, |facts| reads::kpi_report(facts, &selection))
        .and_then(|r| r)
        .map_err(|e| WebError::from_app(e, lang))
}

fn figures(web: &Web, chosen: &Chosen, lang: Lang) -> Result<Figures, WebError> {
    let mut rows = Vec::new();
    let overall;
    match chosen.by {
        By::All => {
            // One pass over the orders for every month shown (not one per month).
            let months = chosen.months();
            let query = orderflow_projections::KpiQuery {
                group: orderflow_projections::Group::Month,
                from_month: months.first().cloned(),
                to_month: months.last().cloned(),
                exclude_late: false,
            };
            let report = web
                .views
                .kpi
                .with_view(&web.app, |facts| facts.report(&query))
                .map_err(|e| WebError::from_app(e, lang))?;
            let mut last = None;
            for m in months {
                let row = report.rows.iter().find(|r| r.month == m).cloned().unwrap_or_else(|| empty_row(&m));
                last = Some(row.clone());
                rows.push(row);
            }
            overall = last;
        }
        by => {
            rows = report(web, &chosen.month, by.reads(), lang)?.rows;
            overall = report(web, &chosen.month, KpiBy::Month, lang)?.rows.into_iter().next();
        }
    }
    Ok(Figures { rows, overall })
}

/// A month without any figure.
fn empty_row(month: &str) -> KpiRow {
    KpiRow {
        month: month.to_string(),
        key: "*".into(),
        orders_received: 0,
        sales_minor: Default::default(),
        otd_current: Ratio::default(),
        otd_original: Ratio::default(),
        otif: Ratio::default(),
        perfect_order: Ratio::default(),
        cycle_time: DurationStats::default(),
        approval_lead_time: DurationStats::default(),
        approval_lead_time_by_department: Default::default(),
        change_rate: Ratio::default(),
        cancellation_rate: Ratio::default(),
        first_pass_yield: Ratio::default(),
        complaint_rate: Ratio::default(),
        resolve_time: DurationStats::default(),
        satisfaction: Satisfaction::default(),
        visit_response_rate: Ratio::default(),
        late_entries: 0,
    }
}

/// One figure of a row.
#[derive(Clone, Copy, Debug)]
enum Value {
    Ratio(Ratio),
    Duration(DurationStats),
    Score(Satisfaction),
}

impl Value {
    /// The bar's height in the chart's unit (percent, hours, score); `None` without data.
    fn magnitude(self) -> Option<f64> {
        match self {
            Value::Ratio(r) => r.rate().map(|x| x * 100.0),
            Value::Duration(d) => d.mean_us.map(|m| m as f64 / MICROS_PER_HOUR),
            Value::Score(s) => s.mean_score,
        }
    }

    /// The number written on the bar.
    fn short(self, l: Lang) -> String {
        match (self, self.magnitude()) {
            (_, None) => no_data(l).into(),
            (Value::Ratio(_), Some(p)) => format!("{p:.1}%"),
            (Value::Duration(_), Some(h)) => format!("{h:.1} {}", l.t("h", "小时", "小時")),
            (Value::Score(_), Some(s)) => format!("{s:.2}"),
        }
    }
}

fn no_data(l: Lang) -> &'static str {
    l.t("no data", "暂无数据", "暫無數據")
}

/// A figure of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Figure {
    OtdCurrent,
    OtdOriginal,
    Otif,
    CycleTime,
    ApprovalLeadTime,
    FirstPassYield,
    ComplaintRate,
    Csat,
}

impl Figure {
    const ALL: [Figure; 8] = [
        Figure::OtdCurrent,
        Figure::OtdOriginal,
        Figure::Otif,
        Figure::CycleTime,
        Figure::ApprovalLeadTime,
        Figure::FirstPassYield,
        Figure::ComplaintRate,
        Figure::Csat,
    ];

    /// The chart's name (`data-chart`) and the CSV's `figure`.
    fn name(self) -> &'static str {
        match self {
            Figure::OtdCurrent => "otd_current",
            Figure::OtdOriginal => "otd_original",
            Figure::Otif => "otif",
            Figure::CycleTime => "cycle_time",
            Figure::ApprovalLeadTime => "approval_lead_time",
            Figure::FirstPassYield => "first_pass_yield",
            Figure::ComplaintRate => "complaint_rate",
            Figure::Csat => "csat",
        }
    }

    fn title(self, l: Lang) -> &'static str {
        match self {
            Figure::OtdCurrent => {
                l.t("On-time delivery (current promise)", "交货准时率（当前承诺）", "交貨準時率（當前承諾）")
            }
            Figure::OtdOriginal => {
                l.t("On-time delivery (original promise)", "交货准时率（原始承诺）", "交貨準時率（原始承諾）")
            }
            Figure::Otif => l.t("On time in full (OTIF)", "准时足量交付率（OTIF）", "準時足量交付率（OTIF）"),
            Figure::CycleTime => l.t("Order cycle time", "订单周期", "訂單週期"),
            Figure::ApprovalLeadTime => l.t("Approval lead time", "审批用时", "審批用時"),
            Figure::FirstPassYield => l.t("First-pass yield", "一次检验合格率", "一次檢驗合格率"),
            Figure::ComplaintRate => l.t("Complaint rate", "投诉率", "投訴率"),
            Figure::Csat => l.t("Satisfaction (CSAT)", "客户满意度（CSAT）", "客戶滿意度（CSAT）"),
        }
    }

    fn explain(self, l: Lang) -> &'static str {
        match self {
            Figure::OtdCurrent => l.t(
                "Orders delivered in the month on or before the promise as the customer's changes left it.",
                "当月交付的订单中，在客户变更后的承诺日期当日或之前交付的比例。",
                "當月交付的訂單中，在客戶變更後的承諾日期當日或之前交付的比例。",
            ),
            Figure::OtdOriginal => l.t(
                "Orders delivered in the month on or before the first promised date.",
                "当月交付的订单中，在首次承诺日期当日或之前交付的比例。",
                "當月交付的訂單中，在首次承諾日期當日或之前交付的比例。",
            ),
            Figure::Otif => l.t(
                "Delivered orders whose acceptance is known: on time, signed, every line accepted in full.",
                "已知签收结果的交付订单中：准时、已签收、每行足量接收的比例。",
                "已知簽收結果的交付訂單中：準時、已簽收、每行足量接收的比例。",
            ),
            Figure::CycleTime => l.t(
                "From receipt to sign-off, for orders signed in the month: mean (and 90th percentile), hours.",
                "当月签收订单从接收到签收的时间：平均值（及第 90 百分位），单位小时。",
                "當月簽收訂單從接收到簽收的時間：平均值（及第 90 百分位），單位小時。",
            ),
            Figure::ApprovalLeadTime => l.t(
                "From receipt to the order's approval, for orders approved in the month, hours.",
                "当月审批通过的订单从接收到审批通过的时间，单位小时。",
                "當月審批通過的訂單從接收到審批通過的時間，單位小時。",
            ),
            Figure::FirstPassYield => l.t(
                "Orders whose first quality inspection in the month passed.",
                "当月首次质量检验即合格的订单比例。",
                "當月首次質量檢驗即合格的訂單比例。",
            ),
            Figure::ComplaintRate => l.t(
                "Complaints opened on the orders delivered in the month, per delivered order (can exceed 100 %).",
                "当月交付订单上的投诉数与交付订单数之比（可超过 100%）。",
                "當月交付訂單上的投訴數與交付訂單數之比（可超過 100%）。",
            ),
            Figure::Csat => l.t(
                "Scores (1–5) given in the month in feedback and follow-up visits: mean, and the share of 4 or 5.",
                "当月反馈和回访中的评分（1–5 分）：平均分及 4–5 分的比例。",
                "當月回饋和回訪中的評分（1–5 分）：平均分及 4–5 分的比例。",
            ),
        }
    }

    fn of(self, r: &KpiRow) -> Value {
        match self {
            Figure::OtdCurrent => Value::Ratio(r.otd_current),
            Figure::OtdOriginal => Value::Ratio(r.otd_original),
            Figure::Otif => Value::Ratio(r.otif),
            Figure::CycleTime => Value::Duration(r.cycle_time),
            Figure::ApprovalLeadTime => Value::Duration(r.approval_lead_time),
            Figure::FirstPassYield => Value::Ratio(r.first_pass_yield),
            Figure::ComplaintRate => Value::Ratio(r.complaint_rate),
            Figure::Csat => Value::Score(r.satisfaction),
        }
    }
}

/// A month as the page writes it: `Dec 2026`, `2026年12月`.
fn month_words(l: Lang, month: &str) -> String {
    match Date::parse(&format!("{month}-01")) {
        Ok(d) => match l {
            Lang::En => d.to_naive().format("%b %Y").to_string(),
            _ => d.to_naive().format("%Y年%-m月").to_string(),
        },
        Err(_) => month.to_string(),
    }
}

/// A group's key as the page writes it (a channel in words).
fn key_words(l: Lang, by: By, key: &str) -> String {
    match by {
        By::Channel => key.parse::<Channel>().map_or_else(|_| key.to_string(), |c| l.channel(c).to_string()),
        _ => key.to_string(),
    }
}

/// `full`, cut to [`LABEL_WIDTH_MAX`].
fn short_label(full: &str) -> String {
    let width = |c: char| if c.is_ascii() { 1 } else { 2 };
    if full.chars().map(width).sum::<usize>() <= LABEL_WIDTH_MAX {
        return full.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in full.chars() {
        if used + width(c) > LABEL_WIDTH_MAX - 1 {
            break;
        }
        used += width(c);
        out.push(c);
    }
    out.push('…');
    out
}

/// One bar: its label under it, its whole name (title), its value.
struct Bar {
    label: String,
    full: String,
    value: Value,
}

fn bars(l: Lang, by: By, rows: &[KpiRow], figure: Figure) -> Vec<Bar> {
    rows.iter()
        .take(GROUPS_SHOWN_MAX)
        .map(|r| {
            let full = match by {
                By::All => month_words(l, &r.month),
                _ => key_words(l, by, &r.key),
            };
            let label = short_label(&full);
            Bar { label, full, value: figure.of(r) }
        })
        .collect()
}

/// A number for an SVG attribute.
fn n(x: f64) -> String {
    format!("{x:.1}")
}

/// The top of the axis: 100 % for ratios (more when a rate exceeds it), 5 for scores, a round
/// number of hours for durations.
fn axis_max(bars: &[Bar]) -> f64 {
    let top = bars.iter().filter_map(|b| b.value.magnitude()).fold(0.0_f64, f64::max);
    match bars.first().map(|b| b.value) {
        Some(Value::Score(_)) => 5.0,
        Some(Value::Ratio(_)) => {
            if top <= 100.0 {
                100.0
            } else {
                nice_top(top)
            }
        }
        _ => nice_top(top),
    }
}

/// The smallest round number (4 steps of 1, 2, 2.5 or 5 times a power of ten) at or above `top`.
fn nice_top(top: f64) -> f64 {
    if top <= 0.0 || !top.is_finite() {
        return 1.0;
    }
    let raw = top / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(raw);
    step * 4.0
}

fn axis_label(value: Value, x: f64, l: Lang) -> String {
    match value {
        Value::Ratio(_) => format!("{x:.0}%"),
        Value::Duration(_) => format!("{x:.0} {}", l.t("h", "小时", "小時")),
        Value::Score(_) => format!("{x:.0}"),
    }
}

/// A bar chart: `svg.chart[data-chart=name]` with a title, a y axis, one bar per entry (none
/// and "no data" where there is no data).
fn chart(l: Lang, name: &str, title: &str, bars: &[Bar]) -> Markup {
    const H: f64 = 200.0;
    const TOP: f64 = 18.0;
    const BOTTOM: f64 = 34.0;
    const LEFT: f64 = 44.0;
    const SLOT: f64 = 64.0;
    const BAR: f64 = 36.0;
    // At least as wide as the months' chart, so that text keeps one size from chart to chart.
    let shown = bars.len().max(MONTHS_SHOWN);
    let count = u32::try_from(shown).unwrap_or(u32::MAX).max(1);
    let width = LEFT + SLOT * f64::from(count) + 8.0;
    let plot = H - TOP - BOTTOM;
    let max = axis_max(bars);
    let y = |v: f64| TOP + plot - (v / max).clamp(0.0, 1.0) * plot;
    let id = format!("chart-{name}");
    let sample = bars.first().map(|b| b.value);
    html! {
        svg.chart data-chart=(name) xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (n(width)) " " (n(H)) }
            role="img" aria-labelledby=(id) preserveAspectRatio="xMinYMin meet" {
            title #(id) { (title) }
            @if let Some(v) = sample {
                @for k in 0..=4u32 {
                    @let tick = max * f64::from(k) / 4.0;
                    line.grid x1=(n(LEFT)) x2=(n(width - 4.0)) y1=(n(y(tick))) y2=(n(y(tick))) {}
                    text.tick x=(n(LEFT - 4.0)) y=(n(y(tick) + 3.5)) text-anchor="end" { (axis_label(v, tick, l)) }
                }
            }
            line.axis x1=(n(LEFT)) x2=(n(LEFT)) y1=(n(TOP)) y2=(n(TOP + plot)) {}
            line.axis x1=(n(LEFT)) x2=(n(width - 4.0)) y1=(n(TOP + plot)) y2=(n(TOP + plot)) {}
            @if bars.is_empty() {
                text.nodata x=(n(width / 2.0)) y=(n(TOP + plot / 2.0)) text-anchor="middle" { (no_data(l)) }
            }
            @for (i, b) in bars.iter().enumerate() {
                @let slot = LEFT + SLOT * f64::from(u32::try_from(i).unwrap_or(u32::MAX));
                @let cx = slot + SLOT / 2.0;
                g.bar-group {
                    title { (b.full) ": " (b.value.short(l)) }
                    @match b.value.magnitude() {
                        Some(v) => {
                            rect.bar x=(n(slot + (SLOT - BAR) / 2.0)) y=(n(y(v))) width=(n(BAR))
                                height=(n((TOP + plot - y(v)).max(0.0))) {}
                            text.value x=(n(cx)) y=(n(y(v) - 3.0)) text-anchor="middle" { (b.value.short(l)) }
                        }
                        None => {
                            text.nodata x=(n(cx)) y=(n(TOP + plot - 4.0)) text-anchor="middle" { (no_data(l)) }
                        }
                    }
                    text.label x=(n(cx)) y=(n(H - BOTTOM + 14.0)) text-anchor="middle" { (b.label) }
                }
            }
        }
    }
}

/// A bar chart lying down, for groups (customers, products, channels): one row per group, its
/// name at the left, so that many groups and long names stay legible.
fn hchart(l: Lang, name: &str, title: &str, bars: &[Bar]) -> Markup {
    const W: f64 = 420.0;
    const LEFT: f64 = 136.0;
    const RIGHT: f64 = 64.0;
    const TOP: f64 = 22.0;
    const ROW: f64 = 20.0;
    const BAR: f64 = 13.0;
    let rows = u32::try_from(bars.len()).unwrap_or(u32::MAX).max(1);
    let height = TOP + ROW * f64::from(rows) + 6.0;
    let plot = W - LEFT - RIGHT;
    let max = axis_max(bars);
    let x = |v: f64| LEFT + (v / max).clamp(0.0, 1.0) * plot;
    let id = format!("chart-{name}");
    let sample = bars.first().map(|b| b.value);
    html! {
        svg.chart.rows data-chart=(name) xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (n(W)) " " (n(height)) }
            role="img" aria-labelledby=(id) preserveAspectRatio="xMinYMin meet" {
            title #(id) { (title) }
            @if let Some(v) = sample {
                @for k in 0..=4u32 {
                    @let tick = max * f64::from(k) / 4.0;
                    line.grid x1=(n(x(tick))) x2=(n(x(tick))) y1=(n(TOP - 4.0)) y2=(n(height - 4.0)) {}
                    text.tick x=(n(x(tick))) y=(n(TOP - 8.0)) text-anchor="middle" { (axis_label(v, tick, l)) }
                }
            }
            line.axis x1=(n(LEFT)) x2=(n(LEFT)) y1=(n(TOP - 4.0)) y2=(n(height - 4.0)) {}
            @if bars.is_empty() {
                text.nodata x=(n(LEFT + plot / 2.0)) y=(n(TOP + ROW / 2.0 + 4.0)) text-anchor="middle" { (no_data(l)) }
            }
            @for (i, b) in bars.iter().enumerate() {
                @let top = TOP + ROW * f64::from(u32::try_from(i).unwrap_or(u32::MAX));
                @let mid = top + ROW / 2.0;
                g.bar-group {
                    title { (b.full) ": " (b.value.short(l)) }
                    text.label x=(n(LEFT - 6.0)) y=(n(mid + 4.0)) text-anchor="end" { (b.label) }
                    @match b.value.magnitude() {
                        Some(v) => {
                            rect.bar x=(n(LEFT)) y=(n(mid - BAR / 2.0)) width=(n((x(v) - LEFT).max(0.0))) height=(n(BAR)) {}
                            text.value x=(n(x(v) + 4.0)) y=(n(mid + 4.0)) { (b.value.short(l)) }
                        }
                        None => {
                            text.nodata x=(n(LEFT + 4.0)) y=(n(mid + 4.0)) { (no_data(l)) }
                        }
                    }
                }
            }
        }
    }
}

fn pct(r: Ratio) -> Option<String> {
    r.rate().map(|x| format!("{:.1}%", x * 100.0))
}

fn hours(us: Option<i64>) -> Option<String> {
    us.map(|m| format!("{:.1}", m as f64 / MICROS_PER_HOUR))
}

/// A cell: the text, or "no data".
fn cell(l: Lang, text: Option<String>) -> Markup {
    html! {
        @match text {
            Some(t) => td.num { (t) },
            None => td.num.nodata { (no_data(l)) },
        }
    }
}

/// The table beside a chart: the same numbers, with the counts they come from.
fn table(l: Lang, name: &str, head: &str, rows: &[(String, String, Value)]) -> Markup {
    let kind = rows.first().map(|r| r.2);
    html! {
        div.scroll.table-wrap {
            table.kpi data-table=(name) {
                thead {
                    tr {
                        th { (head) }
                        @match kind {
                            Some(Value::Duration(_)) => {
                                th.num { (l.t("Orders", "订单数", "訂單數")) }
                                th.num { (l.t("Mean, h", "平均（小时）", "平均（小時）")) }
                                th.num { (l.t("P90, h", "P90（小时）", "P90（小時）")) }
                            }
                            Some(Value::Score(_)) => {
                                th.num { (l.t("Scores", "评分数", "評分數")) }
                                th.num { (l.t("Mean score", "平均分", "平均分")) }
                                th.num { (l.t("Share of 4–5", "4–5 分比例", "4–5 分比例")) }
                            }
                            _ => {
                                th.num { (l.t("Counted", "计数", "計數")) }
                                th.num { (l.t("Of", "总数", "總數")) }
                                th.num { (l.t("Rate", "比率", "比率")) }
                            }
                        }
                    }
                }
                tbody {
                    @for (key, label, v) in rows {
                        tr data-key=(key) {
                            th scope="row" { (label) }
                            @match v {
                                Value::Ratio(r) => {
                                    td.num data-num=(r.num) { (l.count(r.num)) }
                                    td.num data-den=(r.den) { (l.count(r.den)) }
                                    (cell(l, pct(*r)))
                                }
                                Value::Duration(d) => {
                                    td.num data-n=(d.n) { (l.count(d.n)) }
                                    (cell(l, hours(d.mean_us)))
                                    (cell(l, hours(d.p90_us)))
                                }
                                Value::Score(s) => {
                                    td.num data-n=(s.responses) { (l.count(s.responses)) }
                                    (cell(l, s.mean_score.map(|m| format!("{m:.2}"))))
                                    (cell(l, pct(s.share_4_5)))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn row_key(by: By, r: &KpiRow) -> String {
    match by {
        By::All => r.month.clone(),
        _ => r.key.clone(),
    }
}

/// `GET /kpi`.
pub async fn page(State(web): State<Web>, who: Who, Query(params): Query<KpiParams>) -> WebResult {
    let l = who.lang;
    let chosen = Chosen::of(&params, l)?;
    let f = cached_figures(&web, &chosen, l).await?;
    let here = format!("/kpi?{}", chosen.query());
    let head = match chosen.by {
        By::All => l.t("Month", "月份", "月份"),
        By::Customer => l.t("Customer", "客户", "客戶"),
        By::Product => l.t("Product (SKU)", "产品编号", "產品編號"),
        By::Channel => l.t("Channel", "渠道", "渠道"),
    };
    let more = f.rows.len().saturating_sub(GROUPS_SHOWN_MAX);
    let nav = |delta: i32| {
        shift_month(&chosen.month, delta)
            .map(|m| format!("/kpi?month={}&by={}", super::url_encode(&m), chosen.by.word()))
    };
    let departments: Vec<(String, String, Value)> = Department::ALL
        .iter()
        .map(|d| {
            let stats = f
                .overall
                .as_ref()
                .and_then(|r| r.approval_lead_time_by_department.get(d).copied())
                .unwrap_or_default();
            (d.as_str().to_string(), l.department(*d).to_string(), Value::Duration(stats))
        })
        .collect();
    let department_bars: Vec<Bar> = departments
        .iter()
        .map(|(_, label, v)| Bar { label: label.clone(), full: label.clone(), value: *v })
        .collect();
    let title = l.t("Monthly statistics", "月度统计", "月度統計");
    let body = html! {
        div.kpi-page {
            h1 { (title) " · " (month_words(l, &chosen.month)) }
            form #kpi-filters .filters method="get" action="/kpi" {
                label {
                    (l.t("Month", "月份", "月份"))
                    input type="month" name="month" value=(chosen.month) required;
                }
                label {
                    (l.t("Figures", "统计方式", "統計方式"))
                    select name="by" {
                        @for b in By::ALL {
                            option value=(b.word()) selected[b == chosen.by] { (b.label(l)) }
                        }
                    }
                }
                button type="submit" { (l.t("Show", "显示", "顯示")) }
                @if let Some(p) = nav(-1) { a.month-prev href=(p) { "‹ " (l.t("Previous month", "上个月", "上個月")) } }
                @if let Some(p) = nav(1) { a.month-next href=(p) { (l.t("Next month", "下个月", "下個月")) " ›" } }
                a #kpi-csv href={ "/kpi.csv?" (chosen.query()) } download {
                    (l.t("Download as CSV", "下载 CSV", "下載 CSV"))
                }
            }
            @if chosen.by != By::All && f.rows.is_empty() {
                (layout::notice("info", l.t(
                    "No figures for this month yet.",
                    "本月暂无统计数据。",
                    "本月暫無統計數據。",
                )))
            }
            @if more > 0 {
                p.muted {
                    (match l {
                        Lang::En => format!("The first {GROUPS_SHOWN_MAX} groups are shown; {more} more are in the CSV."),
                        Lang::Hans => format!("仅显示前 {GROUPS_SHOWN_MAX} 组；其余 {more} 组见 CSV。"),
                        Lang::Hant => format!("僅顯示前 {GROUPS_SHOWN_MAX} 組；其餘 {more} 組見 CSV。"),
                    })
                }
            }
            div.grid.kpi-grid {
                @for fig in Figure::ALL {
                    @let bs = bars(l, chosen.by, &f.rows, fig);
                    @let rows: Vec<(String, String, Value)> = f.rows.iter().take(GROUPS_SHOWN_MAX)
                        .zip(&bs).map(|(r, b)| (row_key(chosen.by, r), b.full.clone(), fig.of(r))).collect();
                    section.card.kpi-figure data-figure=(fig.name()) {
                        h2 { (fig.title(l)) }
                        p.muted.explain { (fig.explain(l)) }
                        @if chosen.by == By::All {
                            (chart(l, fig.name(), fig.title(l), &bs))
                        } @else {
                            (hchart(l, fig.name(), fig.title(l), &bs))
                        }
                        (table(l, fig.name(), head, &rows))
                    }
                    @if fig == Figure::ApprovalLeadTime {
                        @let name = "approval_lead_time_by_department";
                        @let t = l.t("Approval lead time per department", "各部门审批用时", "各部門審批用時");
                        section.card.kpi-figure data-figure=(name) {
                            h2 { (t) " · " (month_words(l, &chosen.month)) }
                            p.muted.explain { (l.t(
                                "From receipt to each department's approval of the first revision, over every order, hours.",
                                "全部订单从接收到各部门批准首个版本的时间，单位小时。",
                                "全部訂單從接收到各部門批准首個版本的時間，單位小時。",
                            )) }
                            (hchart(l, name, t, &department_bars))
                            (table(l, name, l.t("Department", "部门", "部門"), &departments))
                        }
                    }
                }
            }
        }
    };
    let main = layout::Main { id: Some("kpi"), order: None };
    Ok(layout::page_main(&who, title, Nav::Kpi, &here, false, main, body).into_response())
}

/// A CSV field: quoted when it holds a comma, quote or line break; a text that a spreadsheet
/// would take for a formula (`=`, `+`, `-`, `@` first) is led by `'`.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The header row of `/kpi.csv`.
pub const CSV_HEADER: &str = "month,by,key,figure,num,den,value,p90,unit";

/// The CSV lines of one figure of one row (no header).
fn csv_line(month: &str, by: &str, key: &str, figure: &str, v: Value) -> String {
    let opt = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    let (num, den, value, p90, unit) = match v {
        Value::Ratio(r) => (r.num.to_string(), r.den.to_string(), opt(r.rate()), String::new(), "ratio"),
        Value::Duration(d) => (
            d.n.to_string(),
            String::new(),
            opt(d.mean_us.map(|m| m as f64 / MICROS_PER_HOUR)),
            opt(d.p90_us.map(|m| m as f64 / MICROS_PER_HOUR)),
            "hours",
        ),
        Value::Score(s) => (
            s.share_4_5.num.to_string(),
            s.responses.to_string(),
            opt((s.responses > 0).then(|| s.score_sum as f64 / s.responses as f64)),
            String::new(),
            "score",
        ),
    };
    [
        csv_field(month),
        csv_field(by),
        csv_field(key),
        csv_field(figure),
        num,
        den,
        value,
        p90,
        unit.to_string(),
    ]
    .join(",")
}

/// `GET /kpi.csv`: the page's numbers, one row per group (or month) and figure, UTF-8 with a
/// byte-order mark (so that spreadsheets read Chinese names right), numbers unformatted.
pub async fn csv(State(web): State<Web>, who: Who, Query(params): Query<KpiParams>) -> WebResult {
    let l = who.lang;
    let chosen = Chosen::of(&params, l)?;
    let f = cached_figures(&web, &chosen, l).await?;
    let by = chosen.by.word();
    let mut out = String::from("\u{feff}");
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for r in &f.rows {
        for fig in Figure::ALL {
            out.push_str(&csv_line(&r.month, by, &r.key, fig.name(), fig.of(r)));
            out.push_str("\r\n");
        }
    }
    if let Some(o) = &f.overall {
        for d in Department::ALL {
            let stats = o.approval_lead_time_by_department.get(d).copied().unwrap_or_default();
            let figure = format!("approval_lead_time:{}", d.as_str());
            out.push_str(&csv_line(&o.month, "all", "*", &figure, Value::Duration(stats)));
            out.push_str("\r\n");
        }
    }
    let filename = format!("kpi-{}-{}.csv", chosen.month, by);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_at_round_numbers() {
        assert_eq!(nice_top(66.0), 80.0);
        assert_eq!(nice_top(915.5), 1000.0);
        assert_eq!(nice_top(19.3), 20.0);
        assert_eq!(nice_top(0.0), 1.0);
    }

    #[test]
    fn long_names_are_cut_by_their_width() {
        assert_eq!(short_label("Acme"), "Acme");
        assert_eq!(short_label("Jade Garden Restaurants"), "Jade Garden Resta…");
        assert_eq!(short_label("内蒙古伊利实业集团股份有限公司"), "内蒙古伊利实业集…");
    }

    #[test]
    fn months_go_back_across_the_year() {
        assert_eq!(months_back("2026-02", 4), vec!["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(shift_month("2026-12", 1).as_deref(), Some("2027-01"));
        assert_eq!(shift_month("2026-01", -1).as_deref(), Some("2025-12"));
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("伊利, 北京"), "\"伊利, 北京\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("P7"), "P7");
        let line = csv_line("2026-12", "all", "*", "otd_current", Value::Ratio(Ratio { num: 1, den: 3 }));
        assert_eq!(line, format!("2026-12,all,*,otd_current,1,3,{},,ratio", 1.0_f64 / 3.0));
        let empty = csv_line("2026-12", "all", "*", "cycle_time", Value::Duration(DurationStats::default()));
        assert_eq!(empty, "2026-12,all,*,cycle_time,0,,,,hours");
    }

    #[test]
    fn a_figure_without_data_says_so() {
        let v = Value::Ratio(Ratio::default());
        assert_eq!(v.short(Lang::En), "no data");
        assert_eq!(v.magnitude(), None);
        let svg = chart(Lang::Hans, "otif", "OTIF", &[Bar { label: "x".into(), full: "x".into(), value: v }])
            .into_string();
        assert!(svg.contains("暂无数据"), "{svg}");
        assert!(!svg.contains("NaN"), "{svg}");
        assert!(!svg.contains("style="), "{svg}");
    }
}
