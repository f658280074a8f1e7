//! The parts of the order page: the status bar, the facts, the lines, the reviews, the change
//! requests, the progress after approval (confirmation, production, shipment, sign-off,
//! complaints, follow-up, archive) and the timeline. The wording of the facts follows `order
//! show` (`crate::render`), the timeline's descriptions are the audit history's own
//! ([`orderflow_projections::history`]: what changed, from what to what).

use maud::{html, Markup};
use orderflow_commands::{ComplaintStatus, Decision, OrderState, RequestOutcome};
use orderflow_projections::{RetentionStatus, TimelineEntry};
use orderflow_schemas::{
    ComplaintCategory, Department, Initiator, Money, OrderId, OrderStatus, Remedy, Severity, VisitMethod,
};

use super::super::i18n::Lang;
use super::super::Web;
use crate::auth::Directory;

/// Timeline entries shown at most (the latest); the earlier ones are counted, and the audit
/// page has them all.
pub(super) const TIMELINE_ENTRIES_MAX: usize = 300;

/// The steps of the procedure, in order, as the status bar shows them; rejected, cancelled and
/// refused are off the bar.
pub(super) const STEPS: [OrderStatus; 11] = [
    OrderStatus::Received,
    OrderStatus::InReview,
    OrderStatus::Approved,
    OrderStatus::Confirmed,
    OrderStatus::Scheduled,
    OrderStatus::InProduction,
    OrderStatus::ReadyToShip,
    OrderStatus::Shipped,
    OrderStatus::Delivered,
    OrderStatus::Signed,
    OrderStatus::Closed,
];

/// A complaint's category.
pub(super) fn category(lang: Lang, c: ComplaintCategory) -> &'static str {
    match c {
        ComplaintCategory::Quality => lang.t("Quality", "质量", "質量"),
        ComplaintCategory::Quantity => lang.t("Quantity", "数量", "數量"),
        ComplaintCategory::Delivery => lang.t("Delivery", "交付", "交付"),
        ComplaintCategory::Service => lang.t("Service", "服务", "服務"),
    }
}

/// A complaint's severity.
pub(super) fn severity(lang: Lang, s: Severity) -> &'static str {
    match s {
        Severity::Low => lang.t("Low", "低", "低"),
        Severity::Medium => lang.t("Medium", "中", "中"),
        Severity::High => lang.t("High", "高", "高"),
        Severity::Critical => lang.t("Critical", "严重", "嚴重"),
    }
}

/// What resolved a complaint.
pub(super) fn remedy(lang: Lang, r: Remedy) -> &'static str {
    match r {
        Remedy::Replacement => lang.t("Replacement", "换货", "換貨"),
        Remedy::Refund => lang.t("Refund", "退款", "退款"),
        Remedy::Credit => lang.t("Credit", "抵扣", "抵扣"),
        Remedy::Repair => lang.t("Repair", "维修", "維修"),
        Remedy::Explanation => lang.t("Explanation", "解释说明", "解釋說明"),
        Remedy::Other => lang.t("Other", "其他", "其他"),
    }
}

/// How a follow-up visit reached the customer.
pub(super) fn visit_method(lang: Lang, m: VisitMethod) -> &'static str {
    match m {
        VisitMethod::Phone => lang.t("Phone", "电话", "電話"),
        VisitMethod::Email => lang.t("E-mail", "邮件", "郵件"),
        VisitMethod::Survey => lang.t("Survey", "问卷", "問卷"),
        VisitMethod::OnSite => lang.t("On site", "上门", "上門"),
    }
}

/// Who asked for a change or cancellation.
pub(super) fn initiator(lang: Lang, i: Initiator) -> &'static str {
    match i {
        Initiator::Customer => lang.t("The customer", "客户", "客戶"),
        Initiator::Internal => lang.t("The company", "公司内部", "公司內部"),
    }
}

/// An event's name for people.
pub(super) fn event_title(lang: Lang, name: &str) -> &'static str {
    match name {
        "order_received" => lang.t("Order received", "接收订单", "接收訂單"),
        "review_approved" => lang.t("Review approved", "审核批准", "審核批准"),
        "review_rejected" => lang.t("Review rejected", "审核驳回", "審核駁回"),
        "order_approved" => lang.t("Order approved", "审批通过", "審批通過"),
        "order_rejected" => lang.t("Order rejected", "订单驳回", "訂單駁回"),
        "order_confirmed" => lang.t("Confirmed with the customer", "订单确认", "訂單確認"),
        "order_changed" => lang.t("Order changed", "订单变更", "訂單變更"),
        "order_cancelled" => lang.t("Order cancelled", "订单取消", "訂單取消"),
        "production_scheduled" => lang.t("Production scheduled", "生产计划", "生產計劃"),
        "quality_inspected" => lang.t("Quality inspection", "质量检验", "質量檢驗"),
        "production_completed" => lang.t("Production completed", "生产完成", "生產完成"),
        "order_shipped" => lang.t("Shipped", "发货", "發貨"),
        "shipment_delayed" => lang.t("Shipment delayed", "运输延误", "運輸延誤"),
        "order_delivered" => lang.t("Delivered", "交付", "交付"),
        "order_signed" => lang.t("Signed for", "签收", "簽收"),
        "order_refused" => lang.t("Refused", "拒收", "拒收"),
        "complaint_opened" => lang.t("Complaint opened", "登记投诉", "登記投訴"),
        "complaint_updated" => lang.t("Complaint progress", "投诉进展", "投訴進展"),
        "complaint_resolved" => lang.t("Complaint resolved", "投诉已解决", "投訴已解決"),
        "complaint_reopened" => lang.t("Complaint reopened", "投诉重新打开", "投訴重新打開"),
        "feedback_recorded" => lang.t("Satisfaction recorded", "客户满意度", "客戶滿意度"),
        "visit_recorded" => lang.t("Follow-up visit", "客户回访", "客戶回訪"),
        "order_closed" => lang.t("Closed and archived", "关闭归档", "關閉歸檔"),
        "archive_hold_placed" => lang.t("Archive hold placed", "冻结保存", "凍結保存"),
        "archive_hold_released" => lang.t("Archive hold released", "解除冻结保存", "解除凍結保存"),
        "archive_accessed" => lang.t("Archive read", "档案查阅", "檔案查閱"),
        "archive_access_refused" => lang.t("Archive read refused", "档案查阅被拒", "檔案查閱被拒"),
        "change_requested" => lang.t("Change requested", "申请订单变更", "申請訂單變更"),
        "change_approved" => lang.t("Change request approved", "批准订单变更", "批准訂單變更"),
        "change_declined" => lang.t("Change request declined", "驳回订单变更", "駁回訂單變更"),
        "change_withdrawn" => lang.t("Change request withdrawn", "撤回订单变更", "撤回訂單變更"),
        "review_overdue" => lang.t("Review overdue", "审核逾期", "審核逾期"),
        _ => lang.t("Event", "事件", "事件"),
    }
}

fn money(state: &OrderState, minor: i64) -> String {
    match state.currency {
        Some(currency) => Lang::En.money(Money { minor, currency }),
        None => minor.to_string(),
    }
}

fn date_or_dash(lang: Lang, d: Option<orderflow_schemas::Date>) -> String {
    d.map_or_else(|| "—".to_string(), |d| lang.date(d))
}

fn or_dash(s: &str) -> &str {
    if s.trim().is_empty() {
        "—"
    } else {
        s
    }
}

/// A person by login: their name in the directory, with the login.
fn person(dir: Option<&Directory>, login: &str) -> String {
    match dir.and_then(|d| d.by_login(login)) {
        Some(u) if u.display_name != login => format!("{} ({login})", u.display_name),
        _ => login.to_string(),
    }
}

/// Whether the departments still decide the current revision.
fn awaiting_review(state: &OrderState) -> bool {
    matches!(state.status(), OrderStatus::Received | OrderStatus::InReview)
}

/// The state badge and the revision.
pub(super) fn header(lang: Lang, state: &OrderState, version: u64) -> Markup {
    let status = state.status();
    html! {
        p.order-state {
            span class={ "badge state-" (status.as_str()) } data-state=(status.as_str()) { (lang.state(status)) }
            " "
            span.muted { (lang.t("revision", "修订版", "修訂版")) " " (state.revision) " · " (lang.t("version", "版本", "版本")) " " (version) }
            @if state.hold.is_some() {
                " " span.badge.hold { (lang.t("On archive hold", "冻结保存中", "凍結保存中")) }
            }
        }
    }
}

/// Whether the order went through `step` (by its recorded facts).
fn reached(state: &OrderState, step: OrderStatus) -> bool {
    match step {
        OrderStatus::Received => true,
        OrderStatus::InReview => !state.reviews.is_empty() || state.approved_revision.is_some(),
        OrderStatus::Approved => state.approved_revision.is_some(),
        OrderStatus::Confirmed => state.confirmation.is_some(),
        OrderStatus::Scheduled => state.production.is_some(),
        OrderStatus::InProduction => state.production.as_ref().is_some_and(|p| p.inspections > 0),
        OrderStatus::ReadyToShip => state.production.as_ref().is_some_and(|p| p.completed),
        OrderStatus::Shipped => state.shipment.is_some(),
        OrderStatus::Delivered => state.delivered_at.is_some(),
        OrderStatus::Signed => state.sign_off.is_some(),
        OrderStatus::Closed => state.retention_until.is_some(),
        _ => false,
    }
}

/// The status bar: every step of the procedure, the current one `li.current`, those gone
/// through `li.done`; a rejected, cancelled or refused order's end as a badge beside it.
pub(super) fn steps(lang: Lang, state: &OrderState) -> Markup {
    let status = state.status();
    let off = if state.cancellation.is_some() {
        Some(OrderStatus::Cancelled)
    } else if state.rejection.is_some() {
        Some(OrderStatus::Rejected)
    } else if state.refusal.is_some() {
        Some(OrderStatus::Refused)
    } else {
        None
    };
    html! {
        div.steps-bar {
            ol.steps aria-label=(lang.t("Steps", "流程", "流程")) {
                @for step in STEPS {
                    @let class = if step == status { "current" } else if reached(state, step) { "done" } else { "" };
                    li class=(class) data-step=(step.as_str()) aria-current=[(step == status).then_some("step")] { (lang.state(step)) }
                }
            }
            @if let Some(end) = off {
                span class={ "badge off state-" (end.as_str()) } data-off=(end.as_str()) { (lang.state(end)) }
            }
        }
    }
}

/// Every header fact of the order.
pub(super) fn facts(lang: Lang, state: &OrderState) -> Markup {
    let total = money(state, state.total_minor);
    html! {
        section.card {
            h2 { (lang.t("Order", "订单", "訂單")) }
            dl.facts {
                dt { (lang.t("Order no.", "订单编号", "訂單編號")) } dd.mono { (state.order_id) }
                dt { (lang.t("Customer", "客户", "客戶")) } dd data-fact="customer" { (state.customer) }
                dt { (lang.t("Contact", "联系人", "聯絡人")) } dd data-fact="contact" { (or_dash(&state.contact)) }
                dt { (lang.t("Channel", "接单渠道", "接單渠道")) } dd data-fact="channel" { (state.channel.map_or("—", |c| lang.channel(c))) }
                dt { (lang.t("Delivery address", "交货地址", "交貨地址")) } dd data-fact="delivery_address" { (or_dash(&state.delivery_address)) }
                dt { (lang.t("Special requirements", "特殊要求", "特殊要求")) } dd data-fact="special_requirements" { (or_dash(&state.special_requirements)) }
                dt { (lang.t("Requested date", "要求交货日期", "要求交貨日期")) } dd data-fact="requested_date" { (date_or_dash(lang, state.requested_date)) }
                dt { (lang.t("Original promise", "原承诺日期", "原承諾日期")) } dd data-fact="original_promise" { (date_or_dash(lang, state.original_promise)) }
                dt { (lang.t("Current promise", "当前承诺日期", "當前承諾日期")) } dd data-fact="current_promise" { (date_or_dash(lang, state.current_promise)) }
                dt { (lang.t("Total", "总金额", "總金額")) } dd data-fact="total" {
                    @match state.currency {
                        Some(currency) => { (lang.money(Money { minor: state.total_minor, currency })) }
                        None => { (total) }
                    }
                }
                @if let Some(at) = state.received_at {
                    dt { (lang.t("Received", "接收时间", "接收時間")) } dd { (lang.time(at)) " · " (state.received_by) }
                }
                @if let Some(l) = &state.last_late {
                    dt { (lang.t("Late entries", "补录", "補錄")) }
                    dd { span.flag.late { (state.late_entries) } " " (l.reason) " · " (lang.time(l.at)) " · " (l.actor.login) }
                }
            }
        }
    }
}

/// The lines: ordered, shipped and accepted quantities, unit, price, amount.
pub(super) fn lines(lang: Lang, state: &OrderState) -> Markup {
    let shipped = |n: u16| state.shipment.as_ref().map(|s| s.quantity(n).to_string());
    let accepted = |n: u16| {
        state
            .sign_off
            .as_ref()
            .map(|so| so.accepted.iter().find(|a| a.line_no == n).map_or(0, |a| a.quantity).to_string())
    };
    let price = |minor: i64| match state.currency {
        Some(currency) => lang.money(Money { minor, currency }),
        None => minor.to_string(),
    };
    html! {
        section.card {
            h2 { (lang.t("Lines", "订单明细", "訂單明細")) }
            div.scroll {
                table.lines #order-lines {
                    thead { tr {
                        th.num { (lang.t("Line", "行", "行")) }
                        th { (lang.t("SKU", "产品编码", "產品編碼")) }
                        th { (lang.t("Spec", "规格", "規格")) }
                        th.num { (lang.t("Ordered", "订购数量", "訂購數量")) }
                        th.num { (lang.t("Shipped", "发货数量", "發貨數量")) }
                        th.num { (lang.t("Accepted", "验收数量", "驗收數量")) }
                        th { (lang.t("Unit", "单位", "單位")) }
                        th.num { (lang.t("Unit price", "单价", "單價")) }
                        th.num { (lang.t("Amount", "金额", "金額")) }
                    } }
                    tbody {
                        @for l in &state.lines {
                            tr data-line=(l.line_no) {
                                td.num { (l.line_no) }
                                td { (l.sku) }
                                td { (l.spec) }
                                td.num { (lang.count(u64::from(l.quantity))) }
                                td.num { (shipped(l.line_no).unwrap_or_else(|| "—".into())) }
                                td.num { (accepted(l.line_no).unwrap_or_else(|| "—".into())) }
                                td { (l.unit) }
                                td.num { (price(l.unit_price_minor)) }
                                td.num { (l.amount_minor().map_or_else(|| "—".into(), price)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn decision_words(lang: Lang, d: Decision) -> &'static str {
    match d {
        Decision::Approved => lang.t("Approved", "批准", "批准"),
        Decision::Rejected => lang.t("Rejected", "驳回", "駁回"),
    }
}

/// The four departments' reviews of each revision, the latest first: due time, decision, who,
/// note; an overdue review flagged.
pub(super) fn reviews(lang: Lang, state: &OrderState) -> Markup {
    let now = crate::app::now();
    let current = state.revision;
    html! {
        section.card #order-reviews {
            h2 { (lang.t("Reviews", "部门审核", "部門審核")) }
            @if awaiting_review(state) {
                p.muted { (lang.t("Waiting for", "等待审核：", "等待審核：")) " "
                    @for (i, d) in state.approvals_missing().iter().enumerate() {
                        @if i > 0 { ", " } (lang.department(*d))
                    }
                }
            } @else if state.is_approved() {
                p { (lang.t("Approved by every department.", "各部门均已批准。", "各部門均已批准。")) }
            }
            @if let Some(r) = &state.rejection {
                p.rejected { span.flag.overdue { (lang.state(OrderStatus::Rejected)) } " " (lang.department(r.department)) " · " (r.reason) }
            }
            div.scroll {
                table.reviews {
                    thead { tr {
                        th.num { (lang.t("Revision", "修订版", "修訂版")) }
                        th { (lang.t("Department", "部门", "部門")) }
                        th { (lang.t("Due", "审批时限", "審批時限")) }
                        th { (lang.t("Decision", "审核结果", "審核結果")) }
                        th { (lang.t("By", "审核人", "審核人")) }
                        th { (lang.t("Note", "备注", "備註")) }
                    } }
                    tbody {
                        @for rev in (1..=current).rev() {
                            @let recorded: Vec<_> = state.reviews.iter().filter(|r| r.revision == rev).collect();
                            @if rev == current {
                                @for &d in Department::ALL {
                                    @let record = recorded.iter().rev().find(|r| r.department == d);
                                    @let due = state.review_due_by.iter().find(|x| x.role == d.role()).map(|x| x.due);
                                    @let decided = state.decisions.get(&d).copied();
                                    @let pending = decided.is_none() && awaiting_review(state);
                                    @let overdue = state.escalated.contains(&(rev, None, d.role())) || (pending && due.is_some_and(|t| t <= now));
                                    tr data-revision=(rev) data-department=(d.as_str()) data-decision=[decided.map(|x| x.to_string())] {
                                        td.num { (rev) }
                                        td { (lang.department(d)) }
                                        td { @if let Some(t) = due { (lang.time(t)) } @else { "—" } }
                                        td {
                                            @match (decided, pending) {
                                                (Some(x), _) => { span class={ "chip " (x.to_string()) } { (decision_words(lang, x)) } }
                                                (None, true) => { span.chip.pending { (lang.t("Pending", "待审核", "待審核")) } }
                                                (None, false) => { "—" }
                                            }
                                            @if overdue { " " span.flag.overdue { (lang.t("Overdue", "逾期", "逾期")) } }
                                        }
                                        td { @if let Some(r) = record { (r.by) " · " (lang.time(r.at)) } }
                                        td { @if let Some(r) = record { (r.note) } }
                                    }
                                }
                            } @else {
                                @for r in &recorded {
                                    tr data-revision=(rev) data-department=(r.department.as_str()) data-decision=(r.decision.to_string()) {
                                        td.num { (rev) }
                                        td { (lang.department(r.department)) }
                                        td { "—" }
                                        td { span class={ "chip " (r.decision.to_string()) } { (decision_words(lang, r.decision)) } }
                                        td { (r.by) " · " (lang.time(r.at)) }
                                        td { (r.note) }
                                    }
                                }
                                @if recorded.is_empty() {
                                    tr data-revision=(rev) { td.num { (rev) } td colspan="5" .muted { (lang.t(
                                        "No department decision recorded (replaced by a later revision, or approved through a change request).",
                                        "无部门审核记录（已被后续修订版取代，或经订单变更批准）。",
                                        "無部門審核記錄（已被後續修訂版取代，或經訂單變更批准）。")) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The pending change request (proposal, impact, decisions, who is still to decide by when)
/// and how the earlier ones ended.
pub(super) fn change_requests(lang: Lang, state: &OrderState) -> Markup {
    let now = crate::app::now();
    if state.change_request.is_none() && state.request_outcomes.is_empty() {
        return html! {};
    }
    html! {
        section.card #order-changes {
            h2 { (lang.t("Change requests", "订单变更", "訂單變更")) }
            @if let Some(r) = &state.change_request {
                @let p = &r.proposal;
                div.change-request data-request=(p.request_id) {
                    p { strong { (lang.t("Pending request", "待决变更", "待決變更")) " " (p.request_id) } " · "
                        (initiator(lang, p.initiated_by)) " · " (r.requested_by.login) " · " (lang.time(r.requested_at)) }
                    p { (lang.t("Reason", "原因", "原因")) ": " (p.reason) }
                    ul.changes { @for c in &p.changes { li { (c.field) ": " span.old { (or_dash(&c.old)) } " → " span.new { (or_dash(&c.new)) } } } }
                    @if !p.impact.is_empty() {
                        h3 { (lang.t("Impact", "影响说明", "影響說明")) }
                        ul.impact { @for n in &p.impact { li { (lang.role(n.role)) ": " (n.note) } } }
                    }
                    h3 { (lang.t("Impact reviews", "影响评审", "影響評審")) }
                    ul.change-reviews {
                        @for (role, d) in &r.decisions {
                            li data-department=(role.as_str()) {
                                (lang.role(*role)) ": "
                                @if d.approved { span.chip.approved { (lang.t("Approved", "批准", "批准")) } }
                                @else { span.chip.rejected { (lang.t("Declined", "驳回", "駁回")) } }
                                " " (d.actor.login) " · " (lang.time(d.at))
                            }
                        }
                        @for due in r.undecided() {
                            li data-department=(due.role.as_str()) {
                                (lang.role(due.role)) ": " span.chip.pending { (lang.t("Pending", "待审核", "待審核")) }
                                " " (lang.t("due", "时限", "時限")) " " (lang.time(due.due))
                                @if due.due <= now || state.escalated.contains(&(p.revision, Some(p.request_id), due.role)) {
                                    " " span.flag.overdue { (lang.t("Overdue", "逾期", "逾期")) }
                                }
                            }
                        }
                    }
                }
            }
            @if !state.request_outcomes.is_empty() {
                ul.change-outcomes {
                    @for (id, outcome) in &state.request_outcomes {
                        li data-request=(id) {
                            (lang.t("Request", "变更", "變更")) " " (id) ": "
                            @match outcome {
                                RequestOutcome::Applied => { (lang.t("applied", "已生效", "已生效")) }
                                RequestOutcome::Declined(role) => { (lang.t("declined by", "被驳回：", "被駁回：")) " " (lang.role(*role)) }
                                RequestOutcome::Withdrawn => { (lang.t("withdrawn", "已撤回", "已撤回")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn complaint_status(lang: Lang, s: ComplaintStatus) -> &'static str {
    match s {
        ComplaintStatus::Open => lang.t("Open", "处理中", "處理中"),
        ComplaintStatus::Resolved { customer_satisfied: true } => {
            lang.t("Resolved, customer satisfied", "已解决，客户满意", "已解決，客戶滿意")
        }
        ComplaintStatus::Resolved { customer_satisfied: false } => {
            lang.t("Resolved, customer not satisfied", "已解决，客户不满意", "已解決，客戶不滿意")
        }
        ComplaintStatus::Reopened => lang.t("Reopened", "重新打开", "重新打開"),
    }
}

/// The retention of the archive in words (`retention_words`' meaning, in the page's language).
fn retention(lang: Lang, status: &RetentionStatus) -> String {
    match status {
        RetentionStatus::Open if lang == Lang::En => crate::app::reads::retention_words(status),
        RetentionStatus::Open => lang.t("", "未关闭（保存中）", "未關閉（保存中）").to_string(),
        RetentionStatus::Until { date } => {
            format!("{} {}", lang.t("kept until", "保存至", "保存至"), lang.date(*date))
        }
        RetentionStatus::Held => lang.t("on hold", "冻结保存", "凍結保存").to_string(),
    }
}

/// The history entries of one kind of event, for the sections that list them.
fn entries_of<'a>(
    history: &'a [TimelineEntry],
    types: &'a [&str],
) -> impl Iterator<Item = &'a TimelineEntry> {
    history.iter().filter(move |e| types.contains(&e.event_type.as_str()))
}

fn entry_line(lang: Lang, e: &TimelineEntry) -> Markup {
    html! { li { span.when { (lang.time(e.at)) } " " (e.actor) " · " span.detail lang="en" { (e.description) } } }
}

/// Everything after approval: confirmation, production, shipment and delays, delivery,
/// sign-off or refusal, cancellation, complaints and their progress, satisfaction and visits,
/// the archive (retention, hold).
pub(super) fn progress(
    web: &Web,
    lang: Lang,
    order: OrderId,
    state: &OrderState,
    history: &[TimelineEntry],
) -> Markup {
    let retention_status = web.views.audit.with_view(&web.app, |v| v.retention(order)).ok().flatten();
    html! {
        section.card #order-progress {
            h2 { (lang.t("Progress", "执行进度", "執行進度")) }
            dl.facts {
                dt { (lang.t("Confirmation", "订单确认", "訂單確認")) }
                dd data-fact="confirmation" {
                    @if let Some(c) = &state.confirmation {
                        (lang.time(c.at)) " · " (lang.t("promised", "承诺", "承諾")) " " (lang.date(c.promised_date))
                        @if let Some(d) = c.expected_ship_date { " · " (lang.t("ships", "预计发货", "預計發貨")) " " (lang.date(d)) }
                        @if let Some(m) = c.delivery_mode { " · " (lang.delivery_mode(m)) }
                        @if let Some(v) = c.confirmed_via { " · " (lang.t("confirmed by", "确认方式：", "確認方式：")) " " (lang.confirm_method(v)) }
                    } @else {
                        span.muted { (lang.t("not confirmed with the customer", "尚未与客户确认", "尚未與客戶確認")) }
                    }
                }
                @if let Some(reason) = &state.cancellation {
                    dt { (lang.state(OrderStatus::Cancelled)) }
                    dd data-fact="cancellation" { (reason) @if let Some(i) = state.cancelled_by { " · " (initiator(lang, i)) } }
                }
                dt { (lang.t("Production", "生产", "生產")) }
                dd data-fact="production" {
                    @if let Some(p) = &state.production {
                        (lang.t("planned finish", "计划完工", "計劃完工")) " " (lang.date(p.planned_finish))
                        " · " (lang.t("inspections", "质检次数", "質檢次數")) " " (p.inspections)
                        @if let Some(r) = p.last_inspection { " · " (lang.t("last", "最近结果", "最近結果")) " " (lang.inspection(r)) }
                        @if p.completed { " · " (lang.t("completed", "已完成", "已完成")) }
                        ul.inspections { @for e in entries_of(history, &["quality_inspected"]) { (entry_line(lang, e)) } }
                    } @else { span.muted { (lang.t("not scheduled", "未排产", "未排產")) } }
                }
                dt { (lang.t("Shipment", "发货", "發貨")) }
                dd data-fact="shipment" {
                    @if let Some(sh) = &state.shipment {
                        (lang.time(sh.shipped_at)) " · " (lang.t("carrier", "承运商", "承運商")) " " (sh.carrier)
                        " · " (lang.ship_mode(sh.mode))
                        " · " (lang.t("tracking no.", "运输单号", "運輸單號")) " " span.tracking { (sh.tracking_number) }
                        " · " (lang.t("ETA", "预计到达时间", "預計到達時間")) " " (lang.date(sh.eta))
                        @if sh.delays > 0 {
                            " · " span.flag.late { (lang.t("delayed", "延误", "延誤")) " " (sh.delays) } " "
                            (lang.t("first ETA", "最初预计", "最初預計")) " " (lang.date(sh.first_eta))
                        }
                        ul.delays { @for e in entries_of(history, &["shipment_delayed"]) { (entry_line(lang, e)) } }
                        @if let Some(r) = &state.shipped_unconfirmed {
                            p.override { (lang.t("Shipped unconfirmed by a head:", "部门负责人未确认即发货：", "部門負責人未確認即發貨：")) " " (r) }
                        }
                    } @else { span.muted { (lang.t("not shipped", "未发货", "未發貨")) } }
                }
                dt { (lang.t("Delivery", "交付", "交付")) }
                dd data-fact="delivery" { @if let Some(at) = state.delivered_at { (lang.time(at)) } @else { "—" } }
                dt { (lang.t("Sign-off", "签收", "簽收")) }
                dd data-fact="sign_off" {
                    @if let Some(so) = &state.sign_off {
                        (lang.time(so.signed_at)) " · " (so.signed_by) " · "
                        @if so.full { (lang.t("in full", "全部验收", "全部驗收")) } @else { (lang.t("partially", "部分验收", "部分驗收")) }
                    } @else if let Some(r) = &state.refusal {
                        span.flag.overdue { (lang.state(OrderStatus::Refused)) } " " (lang.time(r.refused_at)) " · " (r.refused_by) " · " (r.reason)
                    } @else { "—" }
                }
                dt { (lang.t("Satisfaction and visits", "满意度与回访", "滿意度與回訪")) }
                dd data-fact="feedback" {
                    (lang.t("satisfaction records", "满意度记录", "滿意度記錄")) " " (state.feedback_count) " · "
                    (lang.t("visits", "回访", "回訪")) " " (state.visits)
                    ul.feedback { @for e in entries_of(history, &["feedback_recorded", "visit_recorded"]) { (entry_line(lang, e)) } }
                }
                dt { (lang.t("Archive", "订单档案", "訂單檔案")) }
                dd data-fact="archive" {
                    @if let Some(r) = &retention_status { span.retention { (retention(lang, &r.status)) } }
                    @else if let Some(d) = state.retention_until { (lang.t("kept until", "保存至", "保存至")) " " (lang.date(d)) }
                    @else { (retention(lang, &RetentionStatus::Open)) }
                    @if let Some(h) = &state.hold { " · " span.hold { (lang.t("hold:", "冻结原因：", "凍結原因：")) " " (h) } }
                    @if let Some(r) = &state.close_override {
                        p.override { (lang.t("Closed by a head despite complaints:", "部门负责人不顾投诉关闭：", "部門負責人不顧投訴關閉：")) " " (r) }
                    }
                }
            }
            @if !state.complaints.is_empty() {
                h3 { (lang.t("Complaints", "投诉", "投訴")) }
                div.scroll {
                    table.complaints {
                        thead { tr {
                            th.num { "#" } th { (lang.t("About", "类别", "類別")) } th { (lang.t("Severity", "严重程度", "嚴重程度")) }
                            th { (lang.t("Status", "状态", "狀態")) } th { (lang.t("Assignee", "跟进人", "跟進人")) }
                            th { (lang.t("Respond by", "响应时限", "響應時限")) } th { (lang.t("Progress", "进展", "進展")) }
                        } }
                        tbody {
                            @for (id, c) in &state.complaints {
                                @let prefix = format!("complaint {id} ");
                                tr data-complaint=(id) {
                                    td.num { (id) } td { (category(lang, c.category)) } td { (severity(lang, c.severity)) }
                                    td { (complaint_status(lang, c.status)) }
                                    td { (c.assignee.as_deref().unwrap_or("—")) }
                                    td { @if let Some(t) = c.respond_by { (lang.time(t)) } @else { "—" } }
                                    td { ul.complaint-progress {
                                        @for e in history.iter().filter(|e| e.event_type.starts_with("complaint_") && e.description.starts_with(&prefix)) {
                                            (entry_line(lang, e))
                                        }
                                    } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether an event is an archive read (allowed or refused): recorded on the order, not work
/// on it; the timeline counts them and the audit page lists them.
fn is_read(e: &TimelineEntry) -> bool {
    matches!(e.event_type.as_str(), "archive_accessed" | "archive_access_refused")
}

/// The timeline: one `li` per event (archive reads counted, not listed), the latest
/// [`TIMELINE_ENTRIES_MAX`]: when (in the page's language and zone), who in which role, what,
/// and the history's description of it (old → new); a late entry flagged with its reason.
pub(super) fn timeline(
    lang: Lang,
    dir: Option<&Directory>,
    history: Result<&[TimelineEntry], String>,
) -> Markup {
    let history = match history {
        Ok(h) => h,
        Err(why) => {
            return html! { section.card { h2 { (lang.t("Timeline", "时间线", "時間線")) } p.notice.error { (why) } } };
        }
    };
    let work: Vec<&TimelineEntry> = history.iter().filter(|e| !is_read(e)).collect();
    let reads = history.len() - work.len();
    let skipped = work.len().saturating_sub(TIMELINE_ENTRIES_MAX);
    html! {
        section.card #order-timeline {
            h2 { (lang.t("Timeline", "时间线", "時間線")) }
            @if skipped > 0 {
                p.muted { (skipped) " " (lang.t("earlier events are on the audit page.", "条更早的记录见审计页面。", "條更早的記錄見審計頁面。")) }
            }
            ul.timeline {
                @for e in &work[skipped..] {
                    li data-version=(e.version) data-event=(e.event_type) {
                        span.when { (lang.time(e.at)) }
                        span.who { (person(dir, &e.actor)) " · " (lang.role(e.role)) }
                        " "
                        strong.what { (event_title(lang, &e.event_type)) }
                        @if let Some(reason) = &e.late {
                            " " span.flag.late { (lang.t("Late entry", "补录", "補錄")) }
                            " " span.late-entry { (reason) " · " (lang.t("entered", "录入于", "錄入於")) " " (lang.time(e.recorded_at)) }
                        }
                        div.detail lang="en" { (e.description) }
                    }
                }
            }
            @if reads > 0 {
                p.muted.reads { (lang.t("Archive reads recorded:", "已记录的档案查阅：", "已記錄的檔案查閱：")) " " (reads) }
            }
        }
    }
}
