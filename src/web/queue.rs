//! `/queue`: my department's work. For every department the logged-in person decides for (the
//! roles of their grants, a department head's included: [`orderflow_commands::may_issue`]
//! lets `approve`/`reject` only to the department's role, `approve_change`/`decline_change`
//! to the reviewing departments and logistics), the orders waiting for its review of the
//! current revision and the change requests waiting for its decision, overdue first, then by
//! due time; at most [`QUEUE_ROWS_MAX`] rows, with a line saying how many more.
//!
//! Each row decides in place: an approve form (optional note) and a reject / decline form
//! (reason required), posting to `/orders/<id>/act` with the command's own fields
//! (`department`, `revision` or `request_id`, `note` or `reason`), `as` (the grant), `back=/queue`
//! and the form's ids ([`layout::form_ids`]). Done, the post comes back to `/queue?done=<action>`,
//! which says so.
//!
//! Live: `tbody#queue-rows` names `/queue?part=rows`, which answers exactly its inner HTML.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use maud::{html, Markup};
use orderflow_projections::OrderRow;
use orderflow_schemas::{
    Department, FieldChange, Grant, Initiator, OrderId, Role, Timestamp, CHANGE_REVIEWERS,
};

use super::board::{hex, order_link, state_badge};
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::session::Who;
use super::{Web, WebError, WebResult};

/// Rows of the queue at most; the rest are counted on a last line.
pub const QUEUE_ROWS_MAX: usize = 200;
/// Field changes of a change request shown in its row at most.
pub const CHANGES_SHOWN_MAX: usize = 8;
/// Columns of the queue's table.
const QUEUE_COLUMNS: usize = 6;

/// A department the person decides for, and the grant they decide in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Desk {
    /// The deciding role (a reviewing department's, or logistics for change requests).
    pub role: Role,
    /// The grant the person acts in for it.
    pub grant: Grant,
}

impl Desk {
    /// The reviewing department of the role, when it reviews revisions.
    pub fn department(self) -> Option<Department> {
        Department::ALL.iter().copied().find(|d| d.role() == self.role)
    }

    /// Whether the role decides change requests.
    pub fn decides_changes(self) -> bool {
        CHANGE_REVIEWERS.contains(&self.role)
    }
}

/// The desks of `grants`: each deciding role once (the first grant in it), in grant order.
pub fn desks(grants: &[Grant]) -> Vec<Desk> {
    let mut out: Vec<Desk> = Vec::new();
    for &g in grants {
        let desk = Desk { role: g.role(), grant: g };
        if (desk.department().is_some() || desk.decides_changes()) && !out.iter().any(|d| d.role == desk.role)
        {
            out.push(desk);
        }
    }
    out
}

/// What is asked of a desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ask {
    /// Its review of the order's current revision.
    Review {
        /// The department.
        department: Department,
        /// The revision.
        revision: u32,
    },
    /// Its decision on the pending change request.
    Change {
        /// The request's number.
        request_id: u32,
        /// The revision the order takes when it is approved.
        revision: u32,
        /// Who asked.
        initiated_by: Initiator,
        /// Why.
        reason: String,
    },
}

/// One row of the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The order's row on the board.
    pub row: OrderRow,
    /// The desk that decides.
    pub desk: Desk,
    /// What is asked.
    pub ask: Ask,
    /// When the decision is due.
    pub due: Option<Timestamp>,
    /// Whether `now` is past it.
    pub overdue: bool,
    /// Whether the overdue decision was escalated to the department's head.
    pub escalated: bool,
}

/// The queue of `desks` on `board` at `now`: overdue first, then by due time (none last), then
/// by time of receipt; at most `max` items, and how many there are in all.
pub fn queue(
    board: &orderflow_projections::StatusBoard,
    desks: &[Desk],
    now: Timestamp,
    max: usize,
) -> (Vec<Item>, usize) {
    struct Found<'a> {
        row: &'a OrderRow,
        desk: Desk,
        ask: Ask,
        due: Option<Timestamp>,
        overdue: bool,
        escalated: bool,
    }
    let mut items: Vec<Found<'_>> = Vec::new();
    for row in
        board.all().into_iter().filter(|r| r.is_active() && (r.reviewing || r.change_request.is_some()))
    {
        let pending = row.pending_approvals(now);
        let changes = row.pending_change_reviews(now);
        for &desk in desks {
            if let Some(department) = desk.department() {
                if let Some(p) = pending.iter().find(|p| p.department == department) {
                    let ask = Ask::Review { department, revision: row.revision };
                    let escalated = p.escalated_to.is_some();
                    items.push(Found { row, desk, ask, due: p.due, overdue: p.overdue, escalated });
                }
            }
            if let (true, Some(c)) = (desk.decides_changes(), row.change_request.as_ref()) {
                if let Some(p) = changes.iter().find(|p| p.role == desk.role) {
                    let ask = Ask::Change {
                        request_id: c.request_id,
                        revision: c.revision,
                        initiated_by: c.initiated_by,
                        reason: c.reason.clone(),
                    };
                    let escalated = p.escalated_to.is_some();
                    items.push(Found { row, desk, ask, due: Some(p.due), overdue: p.overdue, escalated });
                }
            }
        }
    }
    items.sort_by_key(|f| {
        (
            !f.overdue,
            f.due.is_none(),
            f.due.map_or(0, |d| d.0),
            f.row.received_at,
            f.row.order_id,
            f.desk.role,
        )
    });
    let total = items.len();
    let shown = items
        .into_iter()
        .take(max)
        .map(|f| Item {
            row: f.row.clone(),
            desk: f.desk,
            ask: f.ask,
            due: f.due,
            overdue: f.overdue,
            escalated: f.escalated,
        })
        .collect();
    (shown, total)
}

/// The field changes and this desk's impact note of each change request shown, from the
/// orders' own state (the board's row does not keep them).
#[derive(Clone, Debug, Default)]
struct ChangeDetails {
    changes: Vec<FieldChange>,
    impact: Option<String>,
}

fn change_details(web: &Web, items: &[Item]) -> HashMap<(OrderId, Role), ChangeDetails> {
    let mut out = HashMap::new();
    for item in items {
        let Ask::Change { request_id, .. } = &item.ask else { continue };
        let Ok((_, state)) = web.app.order(item.row.order_id) else { continue };
        let Some(req) = state.change_request.as_ref().filter(|r| r.proposal.request_id == *request_id) else {
            continue;
        };
        let impact = req.proposal.impact.iter().find(|n| n.role == item.desk.role).map(|n| n.note.clone());
        out.insert(
            (item.row.order_id, item.desk.role),
            ChangeDetails { changes: req.proposal.changes.clone(), impact },
        );
    }
    out
}

fn refuse_no_desk(who: &Who) -> WebError {
    let lang = who.lang;
    let held = who.user.grants_text();
    WebError::forbidden(match lang {
        Lang::En => format!(
            "Your roles ({held}) decide no reviews. The queue is for production, procurement, finance and \
             warehouse (reviews and change requests) and logistics (change requests)."
        ),
        Lang::Hans => format!(
            "您的角色（{held}）不负责任何审核。待办队列属于生产部、采购部、财务部、仓储部（订单审核和订单变更）和物流部（订单变更）。"
        ),
        Lang::Hant => format!(
            "您的角色（{held}）不負責任何審核。待辦隊列屬於生產部、採購部、財務部、倉儲部（訂單審核和訂單變更）和物流部（訂單變更）。"
        ),
    })
    .lang(lang)
}

fn hidden(name: &str, value: &str) -> Markup {
    html! { input type="hidden" name=(name) value=(value); }
}

/// The two forms of a row: approve (optional note), reject / decline (reason required).
fn forms(who: &Who, item: &Item) -> Markup {
    let lang = who.lang;
    let act = format!("/orders/{}/act", hex(item.row.order_id));
    let grant = item.desk.grant.to_string();
    let (yes, no, department, pin_name, pin_value) = match &item.ask {
        Ask::Review { department, revision } => {
            ("approve", "reject", department.as_str(), "revision", revision.to_string())
        }
        Ask::Change { request_id, .. } => (
            "approve_change",
            "decline_change",
            item.desk.role.as_str(),
            "request_id",
            request_id.to_string(),
        ),
    };
    let (yes_text, no_text) = match &item.ask {
        Ask::Review { .. } => (lang.t("Approve", "批准", "批准"), lang.t("Reject", "驳回", "駁回")),
        Ask::Change { .. } => (
            lang.t("Approve the change", "批准变更", "批准變更"),
            lang.t("Decline the change", "拒绝变更", "拒絕變更"),
        ),
    };
    html! {
        form.action.approve method="post" action=(act) data-action=(yes) {
            (layout::form_ids(who))
            (hidden("action", yes))
            (hidden("department", department))
            (hidden(pin_name, &pin_value))
            (hidden("as", &grant))
            (hidden("back", "/queue"))
            label {
                (lang.t("Note (optional)", "备注（可选）", "備註（可選）"))
                input type="text" name="note" maxlength="2000";
            }
            button type="submit" { (yes_text) }
        }
        form.action.reject method="post" action=(act) data-action=(no) {
            (layout::form_ids(who))
            (hidden("action", no))
            (hidden("department", department))
            (hidden(pin_name, &pin_value))
            (hidden("as", &grant))
            (hidden("back", "/queue"))
            label {
                (lang.t("Reason (required)", "原因（必填）", "原因（必填）"))
                input type="text" name="reason" required maxlength="2000";
            }
            button.danger type="submit" { (no_text) }
        }
    }
}

fn initiator_word(lang: Lang, i: Initiator) -> &'static str {
    match i {
        Initiator::Customer => lang.t("asked by the customer", "客户提出", "客戶提出"),
        Initiator::Internal => lang.t("internal", "公司内部提出", "公司內部提出"),
    }
}

fn ask_cell(lang: Lang, item: &Item, details: Option<&ChangeDetails>) -> Markup {
    html! {
        @match &item.ask {
            Ask::Review { department, revision } => {
                span.ask.review {
                    @match lang {
                        Lang::En => { (lang.department(*department)) " review of revision " (revision) }
                        _ => { (lang.department(*department)) (lang.t("", "审核：第 ", "審核：第 ")) (revision) (lang.t("", " 版", " 版")) }
                    }
                }
                div.muted {
                    (lang.money(item.row.total())) " · " (lang.t("requested ", "要求交期 ", "要求交期 ")) (lang.date(item.row.requested_date))
                }
            }
            Ask::Change { request_id, revision, initiated_by, reason } => {
                span.ask.change {
                    @match lang {
                        Lang::En => { "Change request " (request_id) " (" (initiator_word(lang, *initiated_by)) ", would make revision " (revision) ")" }
                        _ => { (lang.t("", "订单变更 ", "訂單變更 ")) (request_id) "（" (initiator_word(lang, *initiated_by)) (lang.t("", "，批准后为第 ", "，批准後為第 ")) (revision) (lang.t("", " 版）", " 版）")) }
                    }
                }
                div.reason { (lang.t("Why: ", "原因：", "原因：")) (reason) }
                @if let Some(d) = details {
                    @if !d.changes.is_empty() {
                        ul.changes {
                            @for c in d.changes.iter().take(CHANGES_SHOWN_MAX) {
                                li { (c.field) ": " del { (c.old) } " → " ins { (c.new) } }
                            }
                            @if d.changes.len() > CHANGES_SHOWN_MAX {
                                li.muted {
                                    @match lang {
                                        Lang::En => { "and " (d.changes.len() - CHANGES_SHOWN_MAX) " more on the order page" }
                                        _ => { (lang.t("", "另有 ", "另有 ")) (d.changes.len() - CHANGES_SHOWN_MAX) (lang.t("", " 项，见订单页面", " 項，見訂單頁面")) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(note) = &d.impact {
                        div.impact { (lang.t("Impact for you: ", "对本部门的影响：", "對本部門的影響：")) (note) }
                    }
                }
            }
        }
    }
}

fn due_cell(lang: Lang, item: &Item, now: Timestamp) -> Markup {
    html! {
        @if let Some(due) = item.due {
            time datetime=(due.to_datetime().to_rfc3339()) { (lang.time(due)) }
            @if item.overdue {
                @let hours = (now.0 - due.0) / 3_600_000_000;
                br;
                span.flag.overdue data-flag="overdue" {
                    @match lang {
                        Lang::En => { "Overdue by " (hours) " h" @if item.escalated { ", escalated to the head" } }
                        _ => { (lang.t("", "已逾期 ", "已逾期 ")) (hours) (lang.t("", " 小时", " 小時")) @if item.escalated { (lang.t("", "，已上报负责人", "，已上報負責人")) } }
                    }
                }
            }
        } @else {
            span.muted { (lang.t("no deadline", "无时限", "無時限")) }
        }
    }
}

/// The inner HTML of `tbody#queue-rows`.
fn rows_markup(web: &Web, who: &Who, items: &[Item], total: usize, now: Timestamp) -> Markup {
    let lang = who.lang;
    let details = change_details(web, items);
    html! {
        @if items.is_empty() {
            tr.empty {
                td colspan=(QUEUE_COLUMNS) {
                    (lang.t("Nothing waits for your decision.", "没有等待您决定的事项。", "沒有等待您決定的事項。"))
                }
            }
        }
        @for item in items {
            @let kind = match item.ask { Ask::Review { .. } => "review", Ask::Change { .. } => "change" };
            tr data-order=(hex(item.row.order_id)) data-ask=(kind) data-department=(item.desk.role.as_str())
                class=[item.overdue.then_some("overdue")] {
                td.id { (order_link(item.row.order_id)) br; (state_badge(lang, item.row.state)) }
                td.customer { (item.row.customer) }
                td.ask { (ask_cell(lang, item, details.get(&(item.row.order_id, item.desk.role)))) }
                td.due { (due_cell(lang, item, now)) }
                td.desk { (lang.role(item.desk.role)) }
                td.actions { (forms(who, item)) }
            }
        }
        @if total > items.len() {
            tr.more {
                td colspan=(QUEUE_COLUMNS) #queue-more data-more=(total - items.len()) {
                    @match lang {
                        Lang::En => { "And " (total - items.len()) " more, not shown (the " (items.len()) " most urgent are). Decide these first, or filter the board by department." }
                        _ => { (lang.t("", "另有 ", "另有 ")) (total - items.len()) (lang.t("", " 项未显示（已显示最紧急的 ", " 項未顯示（已顯示最緊急的 ")) (items.len()) (lang.t("", " 项）。请先处理这些，或在订单看板上按部门筛选。", " 項）。請先處理這些，或在訂單看板上按部門篩選。")) }
                    }
                }
            }
        }
    }
}

fn done_text(lang: Lang, action: &str) -> &'static str {
    match action {
        "approve" => lang.t(
            "Approved. Your review is recorded.",
            "已批准，审核结果已记录。",
            "已批准，審核結果已記錄。",
        ),
        "reject" => lang.t(
            "Rejected. The order is rejected with your reason.",
            "已驳回，订单已按您的原因驳回。",
            "已駁回，訂單已按您的原因駁回。",
        ),
        "approve_change" => lang.t("The change request is approved.", "订单变更已批准。", "訂單變更已批准。"),
        "decline_change" => lang.t(
            "The change request is declined; the order goes on as it was.",
            "订单变更已拒绝，订单按原样继续。",
            "訂單變更已拒絕，訂單按原樣繼續。",
        ),
        _ => lang.t("Done.", "已完成。", "已完成。"),
    }
}

/// `GET /queue` (`?part=rows`: the rows only, for the live refresh; `?done=<action>`: what the
/// last post did).
pub async fn page(
    State(web): State<Web>,
    who: Who,
    Query(params): Query<Vec<(String, String)>>,
) -> WebResult {
    let lang = who.lang;
    let desks = desks(&who.user.grants);
    if desks.is_empty() {
        return Err(refuse_no_desk(&who));
    }
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim());
    let now = crate::app::now();
    let (items, total) = web
        .views
        .board
        .with_view(&web.app, |b| queue(b, &desks, now, QUEUE_ROWS_MAX))
        .map_err(|e| WebError::from_app(e, lang))?;
    let rows = rows_markup(&web, &who, &items, total, now);
    match param("part") {
        None | Some("") => {}
        Some("rows") => {
            return Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                rows.into_string(),
            )
                .into_response())
        }
        Some(other) => {
            return Err(WebError::bad_request(match lang {
                Lang::En => format!("part = '{other}' is not a part of the queue (rows)."),
                Lang::Hans => format!("part = '{other}' 不是待办队列的部分（可选 rows）。"),
                Lang::Hant => format!("part = '{other}' 不是待辦隊列的部分（可選 rows）。"),
            })
            .lang(lang))
        }
    }
    let names: Vec<&str> = desks.iter().map(|d| lang.role(d.role)).collect();
    let done = param("done").filter(|d| !d.is_empty());
    let body = html! {
        h1 { (lang.t("My queue", "我的待办", "我的待辦")) }
        p.desks {
            (lang.t("Decisions for: ", "负责决定：", "負責決定：")) (names.join(lang.t(", ", "、", "、")))
            " · "
            span #queue-count data-total=(total) {
                @match lang {
                    Lang::En => { (total) " waiting" }
                    _ => { (total) (lang.t("", " 项待处理", " 項待處理")) }
                }
            }
        }
        @if let Some(action) = done { (layout::notice("done", done_text(lang, action))) }
        div.scroll {
            table #queue {
                thead {
                    tr {
                        th { (lang.t("Order no.", "订单编号", "訂單編號")) }
                        th { (lang.t("Customer", "客户", "客戶")) }
                        th { (lang.t("What is asked", "待决定事项", "待決定事項")) }
                        th { (lang.t("Due", "时限", "時限")) }
                        th { (lang.t("Department", "部门", "部門")) }
                        th { (lang.t("Decide", "决定", "決定")) }
                    }
                }
                tbody #queue-rows data-live-src="/queue?part=rows" { (rows) }
            }
        }
    };
    Ok(layout::page(&who, lang.t("My queue", "我的待办", "我的待辦"), Nav::Queue, "/queue", true, body)
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desks_are_the_deciding_roles_once_each() {
        let grants = [
            Grant::Role(Role::Sales),
            Grant::DeptHead(Role::Production),
            Grant::Role(Role::Production),
            Grant::Role(Role::Logistics),
        ];
        let d = desks(&grants);
        assert_eq!(
            d,
            vec![
                Desk { role: Role::Production, grant: Grant::DeptHead(Role::Production) },
                Desk { role: Role::Logistics, grant: Grant::Role(Role::Logistics) },
            ]
        );
        assert_eq!(d[0].department(), Some(Department::Production));
        assert!(d[1].department().is_none() && d[1].decides_changes());
        assert!(desks(&[Grant::Role(Role::Auditor), Grant::DeptHead(Role::Sales)]).is_empty());
    }
}
