//! `/orders`: the board. One row per order of the shared status view (the `status` query's
//! read model, [`crate::service::Views::board`]) with its state badge, customer, total,
//! requested and promised dates, what it waits for in words (a chip per reviewing department,
//! the pending change request, or the next step), and the flags a manager notices (review
//! overdue, at risk, late) with their reason.
//!
//! Filters are a GET form (`form#board-filters`): `state` (the active orders when blank, `all`
//! for every order, else one state), `customer` (part of the name), `department` (orders waiting
//! for that department's decision), `flag` (`overdue`, `at_risk`, `late`), `q` (an id prefix or
//! part of the customer's name) and `page`. The selection is [`crate::app::reads::select`], the
//! one the command line's `status` and the NATS `status` query make, narrowed by department and
//! `q`; newest orders first, [`BOARD_PAGE_ROWS`] a page.
//!
//! Live: `tbody#board-rows` names `/orders/rows?<the same query>`, which answers exactly that
//! tbody's inner HTML (the page script refetches it when the log moves).
//!
//! Who may look: anyone logged in who holds a role, as the `status` query needs only a login
//! (there is no customer role: customers follow their order by a tracking link, `/track`).

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use maud::{html, Markup};
use orderflow_projections::{OrderRow, OrderState, RiskReason, StatusBoard};
use orderflow_schemas::{Department, OrderId, Role, Timestamp, CHANGE_REVIEWERS};

use super::i18n::Lang;
use super::layout::{self, Nav};
use super::session::Who;
use super::{url_encode, Web, WebError, WebResult};
use crate::app::reads::{self, StatusFilter, AT_RISK_WITHIN_DAYS_DEFAULT};

/// Orders on one page of the board.
pub const BOARD_PAGE_ROWS: usize = 50;
/// Bytes of a text filter (`customer`, `q`) at most; a longer one is refused (400).
pub const FILTER_TEXT_BYTES_MAX: usize = 200;
/// Columns of the board's table (the empty line spans them).
const BOARD_COLUMNS: usize = 8;

/// Which states the board shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StateChoice {
    /// The active orders (not rejected, cancelled or closed): the default.
    #[default]
    Active,
    /// Every order.
    All,
    /// The orders in one state.
    Only(OrderState),
}

/// A flag filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// A department review past its due time.
    Overdue,
    /// At risk of missing the promise.
    AtRisk,
    /// Past the promise and not delivered.
    Late,
}

impl Flag {
    /// Every flag, in the order of the select.
    pub const ALL: [Flag; 3] = [Flag::Overdue, Flag::AtRisk, Flag::Late];

    /// The word of the query (`overdue`, `at_risk`, `late`).
    pub fn word(self) -> &'static str {
        match self {
            Flag::Overdue => "overdue",
            Flag::AtRisk => "at_risk",
            Flag::Late => "late",
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        match self {
            Flag::Overdue => lang.t("Review overdue", "审核逾期", "審核逾期"),
            Flag::AtRisk => lang.t("At risk", "交期预警", "交期預警"),
            Flag::Late => lang.t("Late", "已延期", "已延期"),
        }
    }
}

/// The board's filters and page, as the query gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BoardQuery {
    /// Which states.
    pub state: StateChoice,
    /// Part of the customer's name ("" for any).
    pub customer: String,
    /// Only orders waiting for this department's (role's) decision.
    pub department: Option<Role>,
    /// Only flagged orders.
    pub flag: Option<Flag>,
    /// An id prefix or part of the customer's name ("" for any).
    pub q: String,
    /// The page, from 1.
    pub page: usize,
}

fn text_field(lang: Lang, name: &str, value: &str) -> Result<String, WebError> {
    let value = value.trim();
    if value.len() > FILTER_TEXT_BYTES_MAX {
        return Err(WebError::bad_request(match lang {
            Lang::En => format!("The filter {name} is longer than {FILTER_TEXT_BYTES_MAX} bytes."),
            Lang::Hans => format!("筛选条件 {name} 超过 {FILTER_TEXT_BYTES_MAX} 字节。"),
            Lang::Hant => format!("篩選條件 {name} 超過 {FILTER_TEXT_BYTES_MAX} 位元組。"),
        })
        .lang(lang));
    }
    Ok(value.to_string())
}

fn bad_field(lang: Lang, name: &str, value: &str, expected: &str) -> WebError {
    WebError::bad_request(match lang {
        Lang::En => format!("The filter {name} = '{value}' is not one of: {expected}."),
        Lang::Hans => format!("筛选条件 {name} = '{value}' 无效，可选：{expected}。"),
        Lang::Hant => format!("篩選條件 {name} = '{value}' 無效，可選：{expected}。"),
    })
    .lang(lang)
}

/// The roles whose decisions the board can wait for: the reviewing departments, and logistics
/// (it decides address changes).
pub fn deciding_roles() -> &'static [Role] {
    CHANGE_REVIEWERS
}

impl BoardQuery {
    /// The filters of a query; a value that is none of the choices is a 400 naming the field.
    pub fn parse(lang: Lang, params: &[(String, String)]) -> Result<Self, WebError> {
        let mut q = BoardQuery { page: 1, ..BoardQuery::default() };
        for (k, v) in params {
            let value = v.trim();
            match k.as_str() {
                "state" => {
                    q.state = match value {
                        "" => StateChoice::Active,
                        "all" => StateChoice::All,
                        word => StateChoice::Only(word.parse().map_err(|_| {
                            let all: Vec<&str> = OrderState::ALL.iter().map(|s| s.as_str()).collect();
                            bad_field(lang, "state", word, &format!("all, {}", all.join(", ")))
                        })?),
                    }
                }
                "customer" => q.customer = text_field(lang, "customer", value)?,
                "q" => q.q = text_field(lang, "q", value)?,
                "department" => {
                    q.department = match value {
                        "" => None,
                        word => {
                            let role = word.parse::<Role>().ok().filter(|r| deciding_roles().contains(r));
                            let all: Vec<&str> = deciding_roles().iter().map(|r| r.as_str()).collect();
                            Some(role.ok_or_else(|| bad_field(lang, "department", word, &all.join(", ")))?)
                        }
                    }
                }
                "flag" => {
                    q.flag = match value {
                        "" => None,
                        word => Some(
                            Flag::ALL
                                .into_iter()
                                .find(|f| f.word() == word)
                                .ok_or_else(|| bad_field(lang, "flag", word, "overdue, at_risk, late"))?,
                        ),
                    }
                }
                "page" => {
                    q.page = match value {
                        "" => 1,
                        n => n.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                            bad_field(
                                lang,
                                "page",
                                n,
                                lang.t("a page number from 1", "从 1 起的页码", "從 1 起的頁碼"),
                            )
                        })?,
                    }
                }
                _ => {}
            }
        }
        Ok(q)
    }

    /// The query string of these filters at `page` (blank filters and page 1 left out).
    pub fn query_string(&self, page: usize) -> String {
        let mut parts: Vec<String> = Vec::new();
        match self.state {
            StateChoice::Active => {}
            StateChoice::All => parts.push("state=all".into()),
            StateChoice::Only(s) => parts.push(format!("state={}", s.as_str())),
        }
        if !self.customer.is_empty() {
            parts.push(format!("customer={}", url_encode(&self.customer)));
        }
        if let Some(d) = self.department {
            parts.push(format!("department={}", d.as_str()));
        }
        if let Some(f) = self.flag {
            parts.push(format!("flag={}", f.word()));
        }
        if !self.q.is_empty() {
            parts.push(format!("q={}", url_encode(&self.q)));
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        parts.join("&")
    }

    /// The status filter of the command line that these filters make.
    pub fn status_filter(&self) -> StatusFilter {
        StatusFilter {
            state: match self.state {
                StateChoice::Only(s) => Some(s),
                _ => None,
            },
            customer: (!self.customer.is_empty()).then(|| self.customer.clone()),
            at_risk: self.flag == Some(Flag::AtRisk),
            within: None,
            overdue: self.flag == Some(Flag::Overdue),
            late: self.flag == Some(Flag::Late),
            all: self.state == StateChoice::All,
            width: orderflow_projections::TableWidth::DEFAULT,
        }
    }
}

/// Whether `row` waits for `role`'s decision at `now`: its review of the current revision, or
/// the pending change request.
pub fn waits_for(row: &OrderRow, role: Role, now: Timestamp) -> bool {
    row.is_active()
        && (row.pending_approvals(now).iter().any(|p| p.department.role() == role)
            || row.pending_change_reviews(now).iter().any(|p| p.role == role))
}

/// Whether `row` matches the search text: its id starts with the hex digits typed (dashes
/// ignored), or the customer's name contains the text.
pub fn matches_search(row: &OrderRow, q: &str) -> bool {
    let q = q.trim();
    if q.is_empty() {
        return true;
    }
    let digits: String = q.chars().filter(|c| *c != '-').collect::<String>().to_ascii_lowercase();
    let id_match = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_hexdigit())
        && row.order_id.0.simple().to_string().starts_with(&digits);
    id_match || row.customer_matches(q)
}

/// One page of the board: the rows shown (cloned out of the view) and how many match.
#[derive(Clone, Debug)]
pub struct BoardPage {
    /// The rows of the page, newest first.
    pub rows: Vec<OrderRow>,
    /// Orders that match the filters.
    pub total: usize,
    /// The page shown (the last one when asked for one beyond it).
    pub page: usize,
    /// Pages in all (at least 1).
    pub pages: usize,
}

/// The page of `board` that `query` asks for, at `now`.
pub fn board_page(board: &StatusBoard, query: &BoardQuery, now: Timestamp) -> BoardPage {
    if let Some(page) = active_page(board, query, now) {
        return page;
    }
    let mut rows = reads::select(board, &query.status_filter(), now);
    if let Some(role) = query.department {
        rows.retain(|r| waits_for(r, role, now));
    }
    if !query.q.is_empty() {
        rows.retain(|r| matches_search(r, &query.q));
    }
    rows.reverse(); // newest first
    let total = rows.len();
    let pages = total.div_ceil(BOARD_PAGE_ROWS).max(1);
    let page = query.page.clamp(1, pages);
    let rows = rows.into_iter().skip((page - 1) * BOARD_PAGE_ROWS).take(BOARD_PAGE_ROWS).cloned().collect();
    BoardPage { rows, total, page, pages }
}

/// The board of active orders (without a flag filter, or overdue ones), from the status view's index of active rows
/// (newest first, no sort): the default page costs the rows it shows when nothing narrows it,
/// one pass over the active rows otherwise. `None` for the queries that need [`reads::select`].
fn active_page(board: &StatusBoard, query: &BoardQuery, now: Timestamp) -> Option<BoardPage> {
    if !matches!(query.state, StateChoice::Active) || !matches!(query.flag, None | Some(Flag::Overdue)) {
        return None;
    }
    let filter = query.status_filter();
    // Overdue: a review of the current revision past its due time, as
    // `StatusBoard::overdue_approvals` counts it.
    let overdue = |r: &OrderRow| r.pending_approvals(now).iter().any(|p| p.overdue && p.due.is_some());
    let keep = |r: &OrderRow| {
        (query.flag.is_none() || overdue(r))
            && filter.customer.as_deref().is_none_or(|c| r.customer_matches(c))
            && query.department.is_none_or(|role| waits_for(r, role, now))
            && (query.q.is_empty() || matches_search(r, &query.q))
    };
    let narrowed = query.flag.is_some()
        || filter.customer.is_some()
        || query.department.is_some()
        || !query.q.is_empty();
    let total =
        if narrowed { board.active_newest_first().filter(|r| keep(r)).count() } else { board.active_len() };
    let pages = total.div_ceil(BOARD_PAGE_ROWS).max(1);
    let page = query.page.clamp(1, pages);
    let rows = board
        .active_newest_first()
        .filter(|r| keep(r))
        .skip((page - 1) * BOARD_PAGE_ROWS)
        .take(BOARD_PAGE_ROWS)
        .cloned()
        .collect();
    Some(BoardPage { rows, total, page, pages })
}

/// The 32 hex digits of an order id (`data-order`).
pub fn hex(id: OrderId) -> String {
    id.0.simple().to_string()
}

/// The link to an order, showing its short id.
pub fn order_link(id: OrderId) -> Markup {
    html! { a.order href={ "/orders/" (hex(id)) } { (id.short()) } }
}

/// The state badge: `span.badge.state-<word>` in the person's language.
pub fn state_badge(lang: Lang, state: OrderState) -> Markup {
    html! { span class={ "badge state-" (state.as_str()) } data-state=(state.as_str()) { (lang.state(state)) } }
}

/// A deciding role's name (a department's, or logistics').
fn role_word(lang: Lang, role: Role) -> &'static str {
    lang.role(role)
}

fn chip(lang: Lang, role: Role, status: &str, due: Option<Timestamp>, escalated: bool) -> Markup {
    let word = match status {
        "approved" => lang.t("approved", "已批准", "已批准"),
        "rejected" => lang.t("rejected", "已驳回", "已駁回"),
        "overdue" if escalated => {
            lang.t("overdue, escalated to the head", "已逾期，已上报负责人", "已逾期，已上報負責人")
        }
        "overdue" => lang.t("overdue", "已逾期", "已逾期"),
        _ => lang.t("pending", "待审核", "待審核"),
    };
    let title = due.map(|d| format!("{} {}", lang.t("due", "时限", "時限"), lang.time(d)));
    html! {
        span class={ "chip " (status) } data-department=(role.as_str()) title=[title] {
            (role_word(lang, role)) ": " (word)
        }
    }
}

/// What the order waits for, in words: a chip per department of the open review, the pending
/// change request's chips, or the next step of the procedure.
fn waiting_cell(lang: Lang, row: &OrderRow, now: Timestamp, rejected_by: Option<Department>) -> Markup {
    let reviewing = row.reviewing && row.is_active();
    let pending = row.pending_approvals(now);
    html! {
        @if reviewing {
            div.review {
                span.what { (lang.t("Review of revision", "审核：第", "審核：第")) " " (row.revision) (lang.t("", " 版", " 版")) " " }
                @for &d in Department::ALL {
                    @if let Some(p) = pending.iter().find(|p| p.department == d) {
                        (chip(lang, d.role(), if p.overdue { "overdue" } else { "pending" }, p.due, p.escalated_to.is_some()))
                    } @else {
                        (chip(lang, d.role(), "approved", None, false))
                    }
                }
            }
        }
        @if row.state == OrderState::Rejected {
            div.review {
                @if let Some(d) = rejected_by { (chip(lang, d.role(), "rejected", None, false)) }
                @else { span.what { (lang.t("Rejected in review", "审核被驳回", "審核被駁回")) } }
            }
        }
        @if let Some(c) = row.change_request.as_ref().filter(|_| row.is_active()) {
            @let reviews = row.pending_change_reviews(now);
            div.change {
                span.what { (lang.t("Change request", "订单变更", "訂單變更")) " " (c.request_id) ": " }
                @for d in &c.review_due_by {
                    @if let Some(p) = reviews.iter().find(|p| p.role == d.role) {
                        (chip(lang, d.role, if p.overdue { "overdue" } else { "pending" }, Some(p.due), p.escalated_to.is_some()))
                    } @else {
                        (chip(lang, d.role, "approved", None, false))
                    }
                }
            }
        }
        @if !reviewing && row.change_request.is_none() {
            @if let Some(next) = next_step(lang, row) { span.next { (next) } }
        }
    }
}

/// The next step of an order whose reviews are done, in words.
fn next_step(lang: Lang, row: &OrderRow) -> Option<String> {
    use OrderState as S;
    let text = match row.state {
        S::Received | S::InReview => lang.t("the reviews", "部门审核", "部門審核").to_string(),
        S::Approved => lang
            .t(
                "confirmation with the customer (sales)",
                "与客户确认订单（销售部）",
                "與客戶確認訂單（銷售部）",
            )
            .to_string(),
        S::Confirmed => lang
            .t("production scheduling (production)", "生产调度（生产部）", "生產調度（生產部）")
            .to_string(),
        S::Scheduled => {
            lang.t("quality inspection (quality)", "质量检验（质检部）", "質量檢驗（質檢部）").to_string()
        }
        S::InProduction => lang
            .t("production to finish (production)", "生产完工（生产部）", "生產完工（生產部）")
            .to_string(),
        S::ReadyToShip => lang.t("shipping (logistics)", "发货（物流部）", "發貨（物流部）").to_string(),
        S::Shipped => match &row.shipment {
            Some(s) => match lang {
                Lang::En => format!("delivery, ETA {}", lang.date(s.eta)),
                _ => format!(
                    "{}{}",
                    lang.t("", "交付，预计到达时间 ", "交付，預計到達時間 "),
                    lang.date(s.eta)
                ),
            },
            None => lang.t("delivery", "交付", "交付").to_string(),
        },
        S::Delivered => lang.t("the customer's sign-off", "客户签收", "客戶簽收").to_string(),
        S::Signed | S::Refused => {
            lang.t("closing (sales)", "关闭订单（销售部）", "關閉訂單（銷售部）").to_string()
        }
        S::Rejected | S::Cancelled | S::Closed => return None,
    };
    Some(format!("{}{text}", lang.t("Waiting for ", "等待：", "等待：")))
}

/// The flags of a row: review overdue, at risk, late (with the reason in words), and notes
/// (a delayed shipment, open complaints, an archive hold).
fn flags_cell(lang: Lang, row: &OrderRow, now: Timestamp) -> Markup {
    let overdue: Vec<Role> = row
        .pending_approvals(now)
        .iter()
        .filter(|p| p.overdue && row.is_active())
        .map(|p| p.department.role())
        .chain(
            row.pending_change_reviews(now).iter().filter(|p| p.overdue && row.is_active()).map(|p| p.role),
        )
        .fold(Vec::new(), |mut v, r| {
            if !v.contains(&r) {
                v.push(r);
            }
            v
        });
    let late = row.days_late(now);
    let risk = row.risk(now, AT_RISK_WITHIN_DAYS_DEFAULT);
    let promise = lang.date(row.promise());
    let delayed = row.shipment.as_ref().filter(|s| s.delayed && row.delivered_on.is_none());
    let complaints = row.open_complaints();
    html! {
        @if !overdue.is_empty() {
            @let names: Vec<&str> = overdue.iter().map(|r| lang.role(*r)).collect();
            span.flag.overdue data-flag="overdue" {
                (lang.t("Review overdue: ", "审核逾期：", "審核逾期：")) (names.join(lang.t(", ", "、", "、")))
            }
        }
        @if let Some(days) = late {
            span.flag.late data-flag="late" {
                @match lang {
                    Lang::En => { "Late: promised " (promise) ", " (days) " day" @if days != 1 { "s" } " ago, not delivered" }
                    _ => { (lang.t("", "已延期：承诺 ", "已延期：承諾 ")) (promise) (lang.t("", "，已过 ", "，已過 ")) (days) (lang.t("", " 天仍未交付", " 天仍未交付")) }
                }
            }
        }
        @match risk {
            Some(RiskReason::DueSoonNotShipped { days_left }) if days_left >= 0 => {
                span.flag.at-risk data-flag="at_risk" {
                    @match lang {
                        Lang::En => { "At risk: promised " (promise) ", in " (days_left) " day" @if days_left != 1 { "s" } ", not shipped yet" }
                        _ => { (lang.t("", "交期预警：承诺 ", "交期預警：承諾 ")) (promise) (lang.t("", "，还剩 ", "，還剩 ")) (days_left) (lang.t("", " 天，尚未发货", " 天，尚未發貨")) }
                    }
                }
            }
            Some(RiskReason::EtaAfterPromise { eta }) => {
                span.flag.at-risk data-flag="at_risk" {
                    @match lang {
                        Lang::En => { "At risk: ETA " (lang.date(eta)) " is after the promise " (promise) }
                        _ => { (lang.t("", "交期预警：预计到达 ", "交期預警：預計到達 ")) (lang.date(eta)) (lang.t("", " 晚于承诺 ", " 晚於承諾 ")) (promise) }
                    }
                }
            }
            _ => {}
        }
        @if let Some(s) = delayed {
            span.flag.note data-flag="delayed" {
                (lang.t("Delayed: ", "延误：", "延誤：")) (s.delay_reason.as_deref().unwrap_or(""))
            }
        }
        @if complaints > 0 {
            span.flag.note data-flag="complaints" {
                @match lang {
                    Lang::En => { (complaints) " complaint" @if complaints != 1 { "s" } " open" }
                    _ => { (complaints) (lang.t("", " 个投诉未解决", " 個投訴未解決")) }
                }
            }
        }
        @if row.hold.is_some() {
            span.flag.note data-flag="hold" { (lang.t("Archive on hold", "档案冻结保存", "檔案凍結保存")) }
        }
    }
}

/// One row of the board.
fn row_markup(lang: Lang, row: &OrderRow, now: Timestamp, rejected_by: Option<Department>) -> Markup {
    let original = row.original_promise.filter(|o| Some(*o) != row.current_promise);
    html! {
        tr data-order=(hex(row.order_id)) data-state=(row.state.as_str()) {
            td.id { (order_link(row.order_id)) }
            td.state { (state_badge(lang, row.state)) }
            td.customer { (row.customer) }
            td.num.total { (lang.money(row.total())) }
            td.date.requested { (lang.date(row.requested_date)) }
            td.date.promised {
                @if let Some(p) = row.current_promise {
                    (lang.date(p))
                    @if let Some(o) = original {
                        br; span.muted.original { (lang.t("first promised ", "原承诺 ", "原承諾 ")) (lang.date(o)) }
                    }
                } @else {
                    span.muted { (lang.t("not confirmed yet", "尚未确认", "尚未確認")) }
                }
            }
            td.waiting { (waiting_cell(lang, row, now, rejected_by)) }
            td.flags { (flags_cell(lang, row, now)) }
        }
    }
}

/// The inner HTML of `tbody#board-rows`: the rows, or one line saying nothing matches.
pub fn rows_markup(web: &Web, lang: Lang, page: &BoardPage, now: Timestamp) -> Markup {
    html! {
        @if page.rows.is_empty() {
            tr.empty {
                td colspan=(BOARD_COLUMNS) {
                    (lang.t("No orders match these filters.", "没有符合筛选条件的订单。", "沒有符合篩選條件的訂單。"))
                }
            }
        }
        @for row in &page.rows {
            @let rejected_by = (row.state == OrderState::Rejected).then(|| rejecting_department(web, row.order_id)).flatten();
            (row_markup(lang, row, now, rejected_by))
        }
    }
}

/// The department whose rejection rejected the order (from the order's own state: the board's
/// row does not keep it).
fn rejecting_department(web: &Web, id: OrderId) -> Option<Department> {
    web.app.order(id).ok().and_then(|(_, s)| s.rejection.map(|r| r.department))
}

/// Refuses a person who holds no role.
pub fn check_may_look(who: &Who) -> Result<(), WebError> {
    if who.user.grants.is_empty() {
        return Err(WebError::forbidden(who.lang.t(
            "You hold no role, so you cannot see the orders. An administrator grants one.",
            "您没有任何角色，无法查看订单。请联系系统管理员授予角色。",
            "您沒有任何角色，無法查看訂單。請聯絡系統管理員授予角色。",
        ))
        .lang(who.lang));
    }
    Ok(())
}

fn load(
    web: &Web,
    who: &Who,
    params: &[(String, String)],
) -> Result<(BoardQuery, BoardPage, Timestamp), WebError> {
    check_may_look(who)?;
    let query = BoardQuery::parse(who.lang, params)?;
    let now = crate::app::now();
    let page = web
        .views
        .board
        .with_view(&web.app, |b| board_page(b, &query, now))
        .map_err(|e| WebError::from_app(e, who.lang))?;
    Ok((query, page, now))
}

fn filters_form(lang: Lang, q: &BoardQuery) -> Markup {
    let state_word = match q.state {
        StateChoice::Active => "",
        StateChoice::All => "all",
        StateChoice::Only(s) => s.as_str(),
    };
    html! {
        form #board-filters .filters method="get" action="/orders" {
            label {
                (lang.t("State", "状态", "狀態"))
                select name="state" {
                    option value="" selected[state_word.is_empty()] { (lang.t("Active orders", "进行中的订单", "進行中的訂單")) }
                    option value="all" selected[state_word == "all"] { (lang.t("All orders", "全部订单", "全部訂單")) }
                    @for s in OrderState::ALL {
                        option value=(s.as_str()) selected[state_word == s.as_str()] { (lang.state(*s)) }
                    }
                }
            }
            label {
                (lang.t("Customer", "客户", "客戶"))
                input type="text" name="customer" value=(q.customer) maxlength=(FILTER_TEXT_BYTES_MAX);
            }
            label {
                (lang.t("Waiting for", "等待部门", "等待部門"))
                select name="department" {
                    option value="" selected[q.department.is_none()] { (lang.t("Any department", "任意部门", "任意部門")) }
                    @for r in deciding_roles() {
                        option value=(r.as_str()) selected[q.department == Some(*r)] { (lang.role(*r)) }
                    }
                }
            }
            label {
                (lang.t("Flag", "标记", "標記"))
                select name="flag" {
                    option value="" selected[q.flag.is_none()] { (lang.t("Any", "全部", "全部")) }
                    @for f in Flag::ALL {
                        option value=(f.word()) selected[q.flag == Some(f)] { (f.label(lang)) }
                    }
                }
            }
            label {
                (lang.t("Search (order no. or customer)", "搜索（订单编号或客户）", "搜尋（訂單編號或客戶）"))
                input type="search" name="q" value=(q.q) maxlength=(FILTER_TEXT_BYTES_MAX);
            }
            button type="submit" { (lang.t("Filter", "筛选", "篩選")) }
            a.reset href="/orders" { (lang.t("Clear", "清除", "清除")) }
        }
    }
}

fn pager(lang: Lang, q: &BoardQuery, page: &BoardPage) -> Markup {
    let first = if page.total == 0 { 0 } else { (page.page - 1) * BOARD_PAGE_ROWS + 1 };
    let last = ((page.page - 1) * BOARD_PAGE_ROWS + page.rows.len()).min(page.total);
    let href = |p: usize| {
        let qs = q.query_string(p);
        if qs.is_empty() {
            "/orders".to_string()
        } else {
            format!("/orders?{qs}")
        }
    };
    html! {
        nav.pager #board-pager aria-label="pages" {
            span #board-count data-total=(page.total) {
                @match lang {
                    Lang::En => { (first) "–" (last) " of " (lang.count(page.total as u64)) }
                    Lang::Hans => { "第 " (first) "–" (last) " 条，共 " (lang.count(page.total as u64)) " 条" }
                    Lang::Hant => { "第 " (first) "–" (last) " 筆，共 " (lang.count(page.total as u64)) " 筆" }
                }
            }
            @if page.page > 1 {
                " " a #board-prev rel="prev" href=(href(page.page - 1)) { (lang.t("← Previous", "← 上一页", "← 上一頁")) }
            }
            @if page.page < page.pages {
                " " a #board-next rel="next" href=(href(page.page + 1)) { (lang.t("Next →", "下一页 →", "下一頁 →")) }
            }
        }
    }
}

/// `GET /orders`.
pub async fn page(
    State(web): State<Web>,
    who: Who,
    Query(params): Query<Vec<(String, String)>>,
) -> WebResult {
    let (query, page, now) = load(&web, &who, &params)?;
    let lang = who.lang;
    let qs = query.query_string(page.page);
    let here = if qs.is_empty() { "/orders".to_string() } else { format!("/orders?{qs}") };
    let body = html! {
        h1 { (lang.t("Orders", "订单看板", "訂單看板")) }
        (filters_form(lang, &query))
        (pager(lang, &query, &page))
        div.scroll {
            table #board {
                thead {
                    tr {
                        th { (lang.t("Order no.", "订单编号", "訂單編號")) }
                        th { (lang.t("State", "状态", "狀態")) }
                        th { (lang.t("Customer", "客户", "客戶")) }
                        th.num { (lang.t("Total", "金额", "金額")) }
                        th { (lang.t("Requested", "要求交期", "要求交期")) }
                        th { (lang.t("Promised", "承诺交期", "承諾交期")) }
                        th { (lang.t("Waiting for", "等待", "等待")) }
                        th { (lang.t("Flags", "标记", "標記")) }
                    }
                }
                tbody #board-rows data-live-src={ "/orders/rows?" (qs) } {
                    (rows_markup(&web, lang, &page, now))
                }
            }
        }
    };
    Ok(layout::page(&who, lang.t("Orders", "订单看板", "訂單看板"), Nav::Board, &here, true, body)
        .into_response())
}

/// `GET /orders/rows`: exactly the inner HTML of the board's `tbody#board-rows` for the same
/// query (the live refresh).
pub async fn rows(
    State(web): State<Web>,
    who: Who,
    Query(params): Query<Vec<(String, String)>>,
) -> WebResult {
    let (_, page, now) = load(&web, &who, &params)?;
    let markup = rows_markup(&web, who.lang, &page, now);
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], markup.into_string())
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn filters_parse_and_come_back_as_the_same_query() {
        let q = BoardQuery::parse(
            Lang::En,
            &params(&[
                ("state", "in_review"),
                ("customer", " Metro Hotels "),
                ("department", "finance"),
                ("flag", "at_risk"),
                ("q", "1a2b"),
                ("page", "3"),
            ]),
        )
        .expect("valid filters");
        assert_eq!(q.state, StateChoice::Only(OrderState::InReview));
        assert_eq!(q.customer, "Metro Hotels");
        assert_eq!(q.department, Some(Role::Finance));
        assert_eq!(q.flag, Some(Flag::AtRisk));
        assert_eq!(q.page, 3);
        let qs = q.query_string(3);
        assert_eq!(
            qs,
            "state=in_review&customer=Metro%20Hotels&department=finance&flag=at_risk&q=1a2b&page=3"
        );
        let pairs: Vec<(String, String)> = qs
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').expect("pair");
                (k.to_string(), v.replace("%20", " "))
            })
            .collect();
        assert_eq!(BoardQuery::parse(Lang::En, &pairs).expect("again"), q);
        assert_eq!(BoardQuery::parse(Lang::En, &[]).expect("none").query_string(1), "");
    }

    #[test]
    fn a_bad_filter_names_its_field() {
        for (k, v) in
            [("state", "shipping"), ("department", "sales"), ("flag", "red"), ("page", "0"), ("page", "x")]
        {
            let e = BoardQuery::parse(Lang::En, &params(&[(k, v)])).expect_err(v);
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert!(e.message.contains(k) && e.message.contains(v), "{k}={v}: {}", e.message);
        }
        let long = "x".repeat(FILTER_TEXT_BYTES_MAX + 1);
        let e = BoardQuery::parse(Lang::Hans, &params(&[("q", &long)])).expect_err("too long");
        assert!(e.message.contains("q") && e.message.contains("字节"), "{}", e.message);
    }
}
