//! `/track/{token}`: the customer's view of one order, opened without a login by a tracking link
//! ([`super::tokens`]) that sales or customer service made for them; and the tracking-link part
//! of the order page (make a link, revoke an order's links).
//!
//! The customer's page shows only what concerns the customer: the state in their words with a
//! step bar, the promised date, the shipment (carrier, mode, tracking number, ETA), each delay
//! with its reason and new ETA, the delivery and sign-off (who signed on the customer's side),
//! the lines without prices, and whom to contact (the seller's customer service, no names).
//! Nothing else of the order (prices, notes, reviews, the people who worked on it, other orders)
//! is read into it. An unknown, revoked or malformed token gets the same 404 page.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use orderflow_commands::OrderState;
use orderflow_schemas::{Date, EventBody, OrderId, OrderStatus, Role, Timestamp};

use super::form::Fields;
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::session::{Viewer, Who};
use super::{tokens, Web, WebError, WebResult};
use crate::app::AppError;

/// Delays listed on the customer's page at most (the latest ones).
pub const TRACK_DELAYS_SHOWN_MAX: usize = 50;

/// Whether the person may make and revoke tracking links: the departments that deal with the
/// customer, sales (who takes the order, confirms and signs for it with the customer) and
/// customer service (complaints, feedback, visits), as themselves or as head of the department.
pub fn may_manage_links(who: &Who) -> bool {
    who.has_role(Role::Sales) || who.has_role(Role::CustomerService)
}

fn refused(who: &Who) -> WebError {
    WebError::forbidden(who.lang.t(
        "Only sales and customer service make or revoke tracking links for customers; nothing was done.",
        "只有销售部和客服部可以为客户创建或撤销跟踪链接；未做任何操作。",
        "只有銷售部和客服部可以為客戶建立或撤銷跟蹤連結；未做任何操作。",
    ))
    .lang(who.lang)
}

/// The order of a form's path that exists; else the 404.
fn existing_order(web: &Web, lang: Lang, id: &str) -> Result<(OrderId, OrderState), WebError> {
    let order = super::order_of(web, lang, id)?;
    let (_, state) = web.app.order(order).map_err(|e| WebError::from_app(e, lang))?;
    if !state.exists() {
        return Err(WebError::not_found(lang.t(
            "There is no such order.",
            "没有这个订单。",
            "沒有這個訂單。",
        ))
        .lang(lang));
    }
    Ok((order, state))
}

/// The tracking-link part of the order page (`form#track-link-form`, the revoke form
/// `form#track-revoke-form`, the count of live links `#track-links[data-links-live=N]`) for a person who
/// may make links ([`may_manage_links`]); empty otherwise.
pub fn section(web: &Web, who: &Who, order: OrderId, _state: &OrderState) -> Markup {
    if !may_manage_links(who) {
        return html! {};
    }
    let l = who.lang;
    let hex = crate::app::OrderRef::of(order).digits().to_string();
    let links = tokens::list(&web.app, order);
    html! {
        section.card.track-links #track-links data-links-live=[links.as_ref().ok().map(|v| v.iter().filter(|x| x.link.revoked_at.is_none()).count())] {
            h2 { (l.t("Tracking link for the customer", "客户跟踪链接", "客戶跟蹤連結")) }
            @match &links {
                Err(e) => { (layout::notice("error", &e.to_string())) }
                Ok(links) => {
                    @let live = links.iter().filter(|x| x.link.revoked_at.is_none()).count();
                    p.muted {
                        @if live == 0 {
                            (l.t("No live tracking link.", "没有有效的跟踪链接。", "沒有有效的跟蹤連結。"))
                        } @else {
                            (l.t("Live tracking links: ", "有效的跟踪链接：", "有效的跟蹤連結："))
                            span.count { (live) }
                        }
                    }
                    p.muted { (l.t(
                        "The customer sees the state, promised date, shipment, delays and sign-off of this order, nothing else.",
                        "客户可看到本订单的状态、承诺交期、发货、延误和签收，其他内容一概不显示。",
                        "客戶可看到本訂單的狀態、承諾交期、發貨、延誤和簽收，其他內容一概不顯示。",
                    )) }
                    form.inline #track-link-form method="post" action={ "/orders/" (hex) "/track-links" } {
                        (layout::form_ids(who))
                        button type="submit" { (l.t("Make a tracking link", "生成跟踪链接", "產生跟蹤連結")) }
                    }
                    @if live > 0 {
                        form.inline #track-revoke-form method="post" action={ "/orders/" (hex) "/track-links/revoke" } {
                            (layout::form_ids(who))
                            button.danger type="submit" { (l.t("Revoke every tracking link", "撤销全部跟踪链接", "撤銷全部跟蹤連結")) }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /orders/{id}/track-links`: CSRF, permission, then a new link, shown once on the page that
/// answers (200; never in a redirect's URL, which would land in logs and the history).
pub async fn create_link(
    State(web): State<Web>,
    who: Who,
    Path(id): Path<String>,
    fields: Fields,
) -> WebResult {
    who.check_csrf(&fields)?;
    if !may_manage_links(&who) {
        return Err(refused(&who));
    }
    let command_id = super::command_id(&fields)?;
    let (order, _) = existing_order(&web, who.lang, &id)?;
    let l = who.lang;
    let token = tokens::create(&web.app, order, &who.user, command_id).map_err(|e| match e {
        AppError::Limit(_) => WebError::bad_request(format!(
            "{} {} {}",
            l.t("This order already has", "本订单已有", "本訂單已有"),
            tokens::TRACK_TOKENS_PER_ORDER_MAX,
            l.t(
                "live tracking links, the most it may have: revoke them first; no link was made.",
                "个有效的跟踪链接，已达上限：请先撤销；未生成链接。",
                "個有效的跟蹤連結，已達上限：請先撤銷；未產生連結。",
            ),
        ))
        .lang(l),
        AppError::Conflict(_) => WebError::new(
            StatusCode::CONFLICT,
            l.t(
                "This form already made a tracking link, shown once then; no second link was made. Make a new one from the order page.",
                "此表单已生成过跟踪链接（当时只显示一次）；未再次生成。请在订单页面重新生成。",
                "此表單已產生過跟蹤連結（當時只顯示一次）；未再次產生。請在訂單頁面重新產生。",
            ),
        )
        .lang(l),
        other => WebError::from_app(other, l),
    })?;
    let hex = crate::app::OrderRef::of(order).digits().to_string();
    let here = format!("/orders/{hex}");
    let href = format!("/track/{token}");
    let body = html! {
        section.card.track-created {
            h1 { (l.t("Tracking link made", "已生成跟踪链接", "已產生跟蹤連結")) " · " (order.short()) }
            (layout::notice("done", l.t(
                "Copy this link for the customer; it is shown only once.",
                "请复制此链接发给客户；它只显示这一次。",
                "請複製此連結發給客戶；它只顯示這一次。",
            )))
            p.track-link { a #track-link href=(href) { (href) } }
            p.muted { (l.t(
                "Right-click the link and copy its address. Whoever has it sees this order's progress without logging in, until the links are revoked on the order page.",
                "右键点击链接并复制链接地址。持有链接者无需登录即可查看本订单进度，直到在订单页面撤销链接为止。",
                "右鍵點擊連結並複製連結位址。持有連結者無須登入即可查看本訂單進度，直到在訂單頁面撤銷連結為止。",
            )) }
            p { a #track-back href=(here) { (l.t("Back to the order", "返回订单", "返回訂單")) } }
        }
    };
    let title = l.t("Tracking link", "跟踪链接", "跟蹤連結");
    Ok(layout::page(&who, title, Nav::None, &here, false, body).into_response())
}

/// `POST /orders/{id}/track-links/revoke`: CSRF, permission, every live link of the order
/// revoked, then 303 to the order with `?done=revoke_link`.
pub async fn revoke_link(
    State(web): State<Web>,
    who: Who,
    Path(id): Path<String>,
    fields: Fields,
) -> WebResult {
    who.check_csrf(&fields)?;
    if !may_manage_links(&who) {
        return Err(refused(&who));
    }
    let (order, _) = existing_order(&web, who.lang, &id)?;
    tokens::revoke(&web.app, order, &who.user).map_err(|e| WebError::from_app(e, who.lang))?;
    let hex = crate::app::OrderRef::of(order).digits().to_string();
    Ok(axum::response::Redirect::to(&format!("/orders/{hex}?done=revoke_link")).into_response())
}

/// A delay as the customer reads it.
struct Delay {
    reported: Timestamp,
    new_eta: Date,
    reason: String,
}

/// The delays of an order, oldest first (the latest [`TRACK_DELAYS_SHOWN_MAX`]); read from its
/// events, taking only `shipment_delayed`.
fn delays(web: &Web, order: OrderId) -> Result<Vec<Delay>, WebError> {
    let mut out = Vec::new();
    let delayed = orderflow_schemas::event_type_by_name("shipment_delayed").map(|t| t.code);
    for stored in web.app.log().read_stream(order.0, 1).map_err(|e| WebError::from(AppError::from(e)))? {
        if Some(stored.event_type) != delayed {
            continue;
        }
        let (event, _) = crate::app::decode_stored(&stored, order)?;
        if let EventBody::ShipmentDelayed(d) = &event.body {
            out.push(Delay { reported: event.at, new_eta: d.new_eta, reason: d.reason.clone() });
        }
    }
    let skip = out.len().saturating_sub(TRACK_DELAYS_SHOWN_MAX);
    Ok(out.split_off(skip))
}

/// The customer's steps: received, confirmed, in production, on its way, delivered, signed.
fn steps(l: Lang) -> [&'static str; 6] {
    [
        l.t("Order received", "已收到订单", "已收到訂單"),
        l.t("Confirmed", "已确认", "已確認"),
        l.t("In production", "生产中", "生產中"),
        l.t("On its way", "运输中", "運輸中"),
        l.t("Delivered", "已送达", "已送達"),
        l.t("Signed for", "已签收", "已簽收"),
    ]
}

/// Where the order is on the customer's steps (index into [`steps`]), and whether it left them
/// (rejected, cancelled, refused) with the words for that.
fn progress(state: &OrderState, l: Lang) -> (usize, Option<&'static str>) {
    use OrderStatus as S;
    let reached = if state.sign_off.is_some() {
        5
    } else if state.delivered_at.is_some() {
        4
    } else if state.shipment.is_some() {
        3
    } else if state.production.is_some() {
        2
    } else if state.confirmation.is_some() {
        1
    } else {
        0
    };
    let off = match state.status() {
        S::Rejected => Some(l.t(
            "We could not accept this order. Please contact our customer service.",
            "很抱歉，我们无法接受此订单。请联系我们的客服部。",
            "很抱歉，我們無法接受此訂單。請聯絡我們的客服部。",
        )),
        S::Cancelled => Some(l.t("This order was cancelled.", "此订单已取消。", "此訂單已取消。")),
        S::Refused => Some(l.t("The delivery was refused.", "此次交付已被拒收。", "此次交付已被拒收。")),
        S::Closed if state.cancellation.is_some() => {
            Some(l.t("This order was cancelled.", "此订单已取消。", "此訂單已取消。"))
        }
        S::Closed if state.rejection.is_some() => Some(l.t(
            "We could not accept this order. Please contact our customer service.",
            "很抱歉，我们无法接受此订单。请联系我们的客服部。",
            "很抱歉，我們無法接受此訂單。請聯絡我們的客服部。",
        )),
        S::Closed if state.refusal.is_some() => {
            Some(l.t("The delivery was refused.", "此次交付已被拒收。", "此次交付已被拒收。"))
        }
        _ => None,
    };
    (reached, off)
}

fn status_words(reached: usize, l: Lang) -> &'static str {
    match reached {
        0 => l.t(
            "We have received your order and are checking it.",
            "我们已收到您的订单，正在审核。",
            "我們已收到您的訂單，正在審核。",
        ),
        1 => l.t("Your order is confirmed.", "您的订单已确认。", "您的訂單已確認。"),
        2 => l.t("Your order is being produced.", "您的订单正在生产。", "您的訂單正在生產。"),
        3 => l.t("Your order is on its way.", "您的订单正在运输途中。", "您的訂單正在運輸途中。"),
        4 => l.t("Your order was delivered.", "您的订单已送达。", "您的訂單已送達。"),
        _ => l.t("You signed for your order. Thank you!", "您已签收订单，谢谢！", "您已簽收訂單，謝謝！"),
    }
}

/// The page of an unknown, revoked or malformed link: the same for all three.
fn unknown(lang: Lang) -> Response {
    let title = lang.t("Tracking link not valid", "跟踪链接无效", "跟蹤連結無效");
    let body = html! {
        main #track-missing {
            h1 { (title) }
            p.message data-status="404" { (lang.t(
                "This tracking link does not open any order: it may have been mistyped, or it was revoked. Please ask the seller's customer service for a new link.",
                "此跟踪链接无法打开任何订单：可能输入有误，或已被撤销。请向卖方客服部索取新的链接。",
                "此跟蹤連結無法開啟任何訂單：可能輸入有誤，或已被撤銷。請向賣方客服部索取新的連結。",
            )) }
        }
    };
    (
        StatusCode::NOT_FOUND,
        [(header::HeaderName::from_static("x-robots-tag"), "noindex")],
        bare(lang, title, "/", body),
    )
        .into_response()
}

/// [`layout::bare_at`]: the language switch comes back to `here` (a customer has no login).
fn bare(lang: Lang, title: &str, here: &str, body: Markup) -> Markup {
    layout::bare_at(lang, title, here, body)
}

/// `GET /track/{token}`: the customer's view of the order the token opens; 404 otherwise.
pub async fn page(State(web): State<Web>, Viewer(lang): Viewer, Path(token): Path<String>) -> Response {
    match track(&web, lang, &token) {
        Ok(Some(r)) => r,
        Ok(None) => unknown(lang),
        Err(e) => e.lang(lang).into_response(),
    }
}

fn track(web: &Web, l: Lang, token: &str) -> Result<Option<Response>, WebError> {
    if token.len() > tokens::TRACK_TOKEN_CHARS {
        return Ok(None);
    }
    let Some(order) = tokens::resolve(&web.app, token).map_err(|e| WebError::from_app(e, l))? else {
        return Ok(None);
    };
    let (_, state) = web.app.order(order).map_err(|e| WebError::from_app(e, l))?;
    if !state.exists() {
        return Ok(None);
    }
    let delays = delays(web, order)?;
    let (reached, off) = progress(&state, l);
    let status = state.status();
    let title = l.t("Your order", "您的订单", "您的訂單");
    let here = format!("/track/{}", token.to_ascii_lowercase());
    let body = html! {
        main #track data-state=(status.as_str()) {
            h1 { (title) " " span.order-no { (order.short()) } }
            p.muted { (l.t("Order no.", "订单编号", "訂單編號")) " " (order.short()) " · " (state.customer) }
            section.card #track-status data-state=(status.as_str()) data-step=(reached) {
                h2 { (l.t("Status", "状态", "狀態")) }
                p.status-words { (off.unwrap_or(status_words(reached, l))) }
                ol.steps.track-steps {
                    @for (i, step) in steps(l).iter().enumerate() {
                        @if i < reached || (i == reached && (reached == 5 || off.is_some())) {
                            li.done { (step) }
                        } @else if i == reached {
                            li.current aria-current="step" { (step) }
                        } @else if off.is_none() {
                            li { (step) }
                        }
                    }
                    @if let Some(words) = off { li.off { (words) } }
                }
                dl.facts {
                    @if let Some(p) = state.current_promise {
                        dt { (l.t("Promised delivery date", "承诺交货日期", "承諾交貨日期")) }
                        dd #track-promised { (l.date(p)) }
                    } @else if let Some(r) = state.requested_date {
                        dt { (l.t("Requested delivery date", "要求交货日期", "要求交貨日期")) }
                        dd #track-requested { (l.date(r)) " " span.muted { (l.t("(not yet promised)", "（尚未承诺）", "（尚未承諾）")) } }
                    }
                    @if let Some(ship) = state.confirmation.as_ref().and_then(|c| c.expected_ship_date) {
                        @if state.shipment.is_none() {
                            dt { (l.t("Expected to ship", "预计发货日期", "預計發貨日期")) }
                            dd { (l.date(ship)) }
                        }
                    }
                }
            }
            section.card #track-shipment data-shipped=(state.shipment.is_some()) {
                h2 { (l.t("Shipment", "发货", "發貨")) }
                @if let Some(s) = &state.shipment {
                    dl.facts {
                        dt { (l.t("Shipped", "发货时间", "發貨時間")) }
                        dd { (l.time(s.shipped_at)) }
                        dt { (l.t("Carrier", "承运商", "承運商")) }
                        dd.carrier { (s.carrier) }
                        dt { (l.t("Transport", "运输方式", "運輸方式")) }
                        dd { (l.ship_mode(s.mode)) }
                        dt { (l.t("Tracking no.", "运输单号", "運輸單號")) }
                        dd.tracking-number { (s.tracking_number) }
                        dt { (l.t("ETA", "预计到达时间", "預計到達時間")) }
                        dd.eta { (l.date(s.eta)) }
                    }
                } @else {
                    p.muted { (l.t("Not shipped yet.", "尚未发货。", "尚未發貨。")) }
                }
            }
            section.card #track-delays data-delays=(delays.len()) {
                h2 { (l.t("Delays", "延误", "延誤")) }
                @if delays.is_empty() {
                    p.muted { (l.t("No delay reported.", "没有延误。", "沒有延誤。")) }
                } @else {
                    ul.timeline {
                        @for d in &delays {
                            li.delay {
                                span.when { (l.time(d.reported)) }
                                span.reason { (d.reason) }
                                " · " (l.t("new ETA", "新的预计到达时间", "新的預計到達時間")) " "
                                span.eta { (l.date(d.new_eta)) }
                            }
                        }
                    }
                }
            }
            section.card #track-signoff data-signed=(state.sign_off.is_some()) {
                h2 { (l.t("Delivery and sign-off", "交付与签收", "交付與簽收")) }
                @if state.delivered_at.is_none() && state.sign_off.is_none() && state.refusal.is_none() {
                    p.muted { (l.t("Not delivered yet.", "尚未交付。", "尚未交付。")) }
                }
                dl.facts {
                    @if let Some(at) = state.delivered_at {
                        dt { (l.t("Delivered", "交付时间", "交付時間")) }
                        dd.delivered { (l.time(at)) }
                    }
                    @if let Some(s) = &state.sign_off {
                        dt { (l.t("Signed", "签收时间", "簽收時間")) }
                        dd.signed { (l.time(s.signed_at)) }
                        dt { (l.t("Signed by", "签收人", "簽收人")) }
                        dd.signed-by { (s.signed_by) }
                        dt { (l.t("Accepted", "接收情况", "接收情況")) }
                        dd { @if s.full { (l.t("everything", "全部接收", "全部接收")) } @else { (l.t("part of the goods", "部分接收", "部分接收")) } }
                    }
                    @if let Some(r) = &state.refusal {
                        dt { (l.t("Refused", "拒收时间", "拒收時間")) }
                        dd { (l.time(r.refused_at)) }
                        dt { (l.t("Refused by", "拒收人", "拒收人")) }
                        dd { (r.refused_by) }
                        dt { (l.t("Reason", "原因", "原因")) }
                        dd { (r.reason) }
                    }
                }
            }
            section.card #track-lines {
                h2 { (l.t("Goods", "货物", "貨物")) }
                div.scroll {
                    table {
                        thead { tr {
                            th { (l.t("Product", "产品", "產品")) }
                            th.num { (l.t("Ordered", "订购数量", "訂購數量")) }
                            th.num { (l.t("Shipped", "发货数量", "發貨數量")) }
                            th.num { (l.t("Accepted", "签收数量", "簽收數量")) }
                        } }
                        tbody {
                            @for line in &state.lines {
                                tr {
                                    td { (line.sku) @if !line.spec.is_empty() { " · " (line.spec) } }
                                    td.num { (line.quantity) " " (line.unit) }
                                    td.num { @if let Some(s) = &state.shipment { (s.quantity(line.line_no)) } @else { "–" } }
                                    td.num { @if let Some(s) = &state.sign_off {
                                        (s.accepted.iter().find(|q| q.line_no == line.line_no).map_or(0, |q| q.quantity))
                                    } @else { "–" } }
                                }
                            }
                        }
                    }
                }
            }
            section.card #track-contact {
                h2 { (l.t("Questions?", "有疑问？", "有疑問？")) }
                p { (l.t(
                    "Contact the seller's customer service department and quote order no. ",
                    "请联系卖方客服部，并告知订单编号 ",
                    "請聯絡賣方客服部，並告知訂單編號 ",
                )) strong { (order.short()) } (l.t(".", "。", "。")) }
            }
        }
    };
    let page = bare(l, title, &here, body);
    Ok(Some(([(header::HeaderName::from_static("x-robots-tag"), "noindex")], page).into_response()))
}

#[cfg(test)]
mod tests {
    use orderflow_schemas::Grant;

    use super::*;

    #[test]
    fn sales_and_customer_service_manage_links_and_nobody_else() {
        for grant in Grant::all() {
            let who = Who {
                user: crate::auth::User {
                    id: uuid::Uuid::from_u128(1),
                    login: "pat".into(),
                    display_name: "Pat".into(),
                    grants: vec![grant],
                    active: true,
                },
                csrf: String::new(),
                lang: Lang::En,
            };
            let expected = matches!(grant.role(), Role::Sales | Role::CustomerService);
            assert_eq!(may_manage_links(&who), expected, "{grant}");
        }
    }

    #[test]
    fn the_customer_reads_where_the_order_stands() {
        let mut s = OrderState::new(OrderId(uuid::Uuid::from_u128(3)));
        s.progress.status = OrderStatus::InReview;
        assert_eq!(progress(&s, Lang::En), (0, None));
        s.progress.status = OrderStatus::Rejected;
        let (step, off) = progress(&s, Lang::En);
        assert_eq!(step, 0);
        assert!(off.is_some_and(|w| w.contains("could not accept")), "{off:?}");
        s.progress.status = OrderStatus::Closed;
        s.rejection = Some(orderflow_commands::ReviewRejection {
            department: orderflow_schemas::Department::Finance,
            revision: 1,
            reason: "credit".into(),
        });
        assert!(progress(&s, Lang::En).1.is_some(), "a closed rejected order is still off the steps");
        let mut s = OrderState::new(OrderId(uuid::Uuid::from_u128(4)));
        s.progress.status = OrderStatus::Delivered;
        s.delivered_at = Some(Timestamp(1));
        assert_eq!(progress(&s, Lang::En), (4, None));
        s.progress.status = OrderStatus::Refused;
        assert_eq!(progress(&s, Lang::Hans), (4, Some("此次交付已被拒收。")));
    }
}
