//! `/orders/{id}`: one order — the status bar of its steps, every fact it holds, its lines,
//! reviews, change requests, production, shipment, sign-off, complaints, archive, and its
//! timeline — with the actions the person may take on it now, in place.
//!
//! - Who may read it: the archive rule ([`reads::may_read`], in the grant
//!   [`reads::read_principal`] picks), or a person with work on the order at its step. A view of
//!   an order still being worked on writes nothing (it is the daily work, like `orderflow order
//!   show`); a view of an archived order (rejected, cancelled, closed) is recorded first as an
//!   archive read, as `orderflow order history` is; a refused view is recorded as refused (403).
//!   The live refresh (`/orders/{id}/live`) is checked the same way and never recorded.
//! - Everything that changes when the log moves is inside `#order-live`, whose inner HTML
//!   `/orders/{id}/live` returns.
//! - The forms offered are the actions that would pass now: the role check
//!   ([`orderflow_commands::may_issue`]) and a dry run of the domain's own
//!   [`orderflow_commands::decide`] on a representative command, per grant of the person
//!   ([`actions`]). The form posts to `/orders/{id}/act`, which builds the command from the
//!   fields ([`actions::parse`]) and runs it through [`super::run_command`].

mod actions;
mod view;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use orderflow_commands::{OrderState, Rejection};
use orderflow_schemas::{AccessKind, OrderId};

use super::form::Fields;
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::session::Who;
use super::{Web, WebError, WebResult};
use crate::app::{reads, AppError};

/// The detail an order page's archive read is recorded with (an archived order's page, or a
/// refused view).
pub const ORDER_PAGE_DETAIL: &str = "order page";

/// The query of the order page: `done=<action>` after a successful action.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    /// The action just done (a command name).
    pub done: Option<String>,
}

/// The 32 hex digits of an order id ([`super::board::hex`], as every page writes it).
pub(crate) use super::board::hex;

/// The order and its state; an order never received is a 404.
fn load(web: &Web, lang: Lang, order: OrderId) -> Result<(u64, OrderState), WebError> {
    let (version, state) = web.app.order(order).map_err(|e| WebError::from_app(e, lang))?;
    if !state.exists() {
        return Err(WebError::from_app(AppError::Rejected(Rejection::OrderNotFound { order }), lang));
    }
    Ok((version, state))
}

/// A refused read in the person's words (the rule's own reason after them).
fn read_refused(lang: Lang, why: &str) -> WebError {
    let lead = lang.t("You may not read this order.", "您无权查看此订单。", "您無權查看此訂單。");
    WebError::forbidden(format!("{lead} {why}")).lang(lang)
}

/// The grant the person reads the order with, checked by [`reads::may_read`]; nothing recorded.
/// A person whose role has work on the order now (an action the page offers them: logistics at
/// ready to ship, quality in production, ...) may open it even before the archive rule lets
/// their role read it: the page is where they do that work.
fn check_read(web: &Web, who: &Who, order: OrderId, state: &OrderState) -> Result<(), WebError> {
    let principal = reads::read_principal(&web.app, order, &who.user, None)
        .map_err(|e| WebError::from_app(e, who.lang))?;
    match reads::may_read(state, &principal) {
        Ok(()) => Ok(()),
        Err(_) if working_grant(web, who, state).is_some() => Ok(()),
        Err(why) => Err(read_refused(who.lang, &why)),
    }
}

/// The grant of the person's first action the page would offer at this state, if any.
fn working_grant(web: &Web, who: &Who, state: &OrderState) -> Option<orderflow_schemas::Grant> {
    actions::offers(web, who, state).into_iter().find_map(|o| o.grants.first().copied())
}

/// Whether the order is in the archive: its procedure ended (rejected, cancelled or closed).
/// Until then the order page is the desk it is worked at, like `orderflow order show`.
fn archived(state: &OrderState) -> bool {
    matches!(
        state.status(),
        orderflow_schemas::OrderStatus::Rejected
            | orderflow_schemas::OrderStatus::Cancelled
            | orderflow_schemas::OrderStatus::Closed
    )
}

/// Checks the read and records it where the archive rule asks: a permitted view of an order
/// still being worked on is the daily work on it and writes nothing (as `order show`); a view
/// of an archived order is recorded as an archive read first, as [`reads::record_access`] does,
/// and a refused view is recorded as refused (403), archived or not. A person with work on the
/// order now reads it in the grant of that work ([`check_read`]).
async fn record_view(web: &Web, who: &Who, order: OrderId) -> Result<(), WebError> {
    let lang = who.lang;
    let (_, state) = load(web, lang, order)?;
    let principal =
        reads::read_principal(&web.app, order, &who.user, None).map_err(|e| WebError::from_app(e, lang))?;
    let permitted = reads::may_read(&state, &principal).is_ok();
    // Only asked when the archive rule refuses (the offers are a dry run of every action).
    let working = if permitted { None } else { working_grant(web, who, &state) };
    if !archived(&state) && (permitted || working.is_some()) {
        return Ok(());
    }
    if let Some(grant) = working {
        let principal = crate::auth::Auth::principal(&who.user, Some(&grant.to_string()), None)
            .map_err(|e| WebError::from_app(e, lang))?;
        if reads::may_read(&state, &principal).is_err() {
            let command = orderflow_commands::Command::RecordAccess(orderflow_commands::RecordAccess {
                access: AccessKind::History,
                detail: format!("{ORDER_PAGE_DETAIL} (to work on it)"),
            });
            let req = crate::app::Request {
                order_id: Some(order),
                command_id: uuid::Uuid::new_v4(),
                principal,
                at: None,
                late_reason: None,
                command,
            };
            return web.app.execute(req).await.map(|_| ()).map_err(|e| WebError::from_app(e, lang));
        }
        let reader = reads::Reader { principal, purpose: String::new() };
        return record(web, order, &reader, lang).await;
    }
    let reader = reads::Reader { principal, purpose: String::new() };
    record(web, order, &reader, lang).await
}

/// Records the view as an archive read ([`reads::record_access`]; a refusal is recorded and
/// answered 403 in words).
async fn record(web: &Web, order: OrderId, reader: &reads::Reader, lang: Lang) -> Result<(), WebError> {
    reads::record_access(&web.app, order, reader, AccessKind::History, ORDER_PAGE_DETAIL.into())
        .await
        .map_err(|e| match e {
            AppError::Forbidden(why) => read_refused(lang, &why),
            other => WebError::from_app(other, lang),
        })
}

/// `GET /orders/{id}`.
pub async fn page(
    State(web): State<Web>,
    who: Who,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> WebResult {
    let lang = who.lang;
    let order = super::order_of(&web, lang, &id)?;
    record_view(&web, &who, order).await?;
    let (version, state) = load(&web, lang, order)?;
    let notice = q
        .done
        .as_deref()
        .and_then(actions::known)
        .map(|name| layout::notice("done", &actions::done_words(lang, name)));
    Ok(render_page(&web, &who, order, version, &state, notice, StatusCode::OK))
}

/// `GET /orders/{id}/live`: the inner HTML of `#order-live`.
pub async fn live_part(State(web): State<Web>, who: Who, Path(id): Path<String>) -> WebResult {
    let order = super::order_of(&web, who.lang, &id)?;
    let (version, state) = load(&web, who.lang, order)?;
    check_read(&web, &who, order, &state)?;
    Ok(live_inner(&web, &who, order, version, &state).into_response())
}

/// The whole page, with a notice above the live part.
fn render_page(
    web: &Web,
    who: &Who,
    order: OrderId,
    version: u64,
    state: &OrderState,
    notice: Option<Markup>,
    status: StatusCode,
) -> Response {
    let lang = who.lang;
    let hex = hex(order);
    let title = format!("{} {} · {}", lang.t("Order", "订单", "訂單"), order.short(), state.customer);
    let here = format!("/orders/{hex}");
    let body = html! {
        h1 { (lang.t("Order", "订单", "訂單")) " " span.order-id { (order.short()) } " · " (state.customer) }
        @if let Some(n) = notice { (n) }
        div #order-live data-live-src={ "/orders/" (hex) "/live" } data-live-order=(hex) {
            (live_inner(web, who, order, version, state))
        }
    };
    let main = layout::Main { id: Some("order"), order: Some(&hex) };
    (status, layout::page_main(who, &title, Nav::None, &here, true, main, body)).into_response()
}

/// Everything of the page that changes when the order's stream moves.
fn live_inner(web: &Web, who: &Who, order: OrderId, version: u64, state: &OrderState) -> Markup {
    let offers = actions::offers(web, who, state);
    let history = orderflow_projections::history(web.app.log(), order).map_err(|e| e.to_string());
    let entries: &[orderflow_projections::TimelineEntry] = history.as_deref().unwrap_or(&[]);
    let dir = web.app.auth().directory().ok();
    html! {
        (view::header(who.lang, state, version))
        (view::steps(who.lang, state))
        (view::facts(who.lang, state))
        (view::lines(who.lang, state))
        (actions::forms(who, order, state, &offers))
        (view::reviews(who.lang, state))
        (view::change_requests(who.lang, state))
        (view::progress(web, who.lang, order, state, entries))
        (super::track::section(web, who, order, state))
        @if who.has_role(orderflow_schemas::Role::Auditor)
            || who.has_role(orderflow_schemas::Role::Archivist)
            || who.user.grants.iter().any(|g| g.is_head()) {
            p.audit { a #audit-link href={ "/audit/" (hex(order)) } { (who.lang.t("Audit this order", "审计此订单", "審計此訂單")) } }
        }
        (view::timeline(who.lang, dir.as_ref(), history.as_deref().map_err(Clone::clone)))
    }
}

/// The page again, with the refusal above it; a person who may not read the order gets the
/// refusal alone.
fn refused(web: &Web, who: &Who, order: OrderId, status: StatusCode, words: &str) -> Response {
    let lang = who.lang;
    let lead = lang.t("Nothing was done:", "未做任何操作：", "未做任何操作：");
    let text = format!("{lead} {words}");
    let shown = load(web, lang, order)
        .and_then(|(version, state)| check_read(web, who, order, &state).map(|()| (version, state)));
    match shown {
        Ok((version, state)) => {
            render_page(web, who, order, version, &state, Some(layout::notice("error", &text)), status)
        }
        Err(_) => WebError::new(status, text).lang(lang).into_response(),
    }
}

/// A local path to come back to: starts with `/`, not `//`, no backslash or control character.
fn local_back(back: &str) -> bool {
    back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && !back.chars().any(|c| c.is_control())
        && back.len() <= actions::BACK_BYTES_MAX
}

/// Where a successful action goes: `back` (or the order page) with `done=<action>` added.
fn done_location(back: Option<&str>, order: OrderId, action: &str) -> String {
    let base = back.map_or_else(|| format!("/orders/{}", hex(order)), str::to_string);
    let (path, fragment) = match base.split_once('#') {
        Some((p, f)) => (p.to_string(), format!("#{f}")),
        None => (base, String::new()),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}done={}{fragment}", super::url_encode(action))
}

/// `POST /orders/{id}/act`: one action of the order page (see the module documentation and the
/// `/act` contract: 303 to `back` or the order page with `?done=<action>`; refused: the page
/// with `p.notice.error`, 400 / 403 / 409, nothing written).
pub async fn act(State(web): State<Web>, who: Who, Path(id): Path<String>, fields: Fields) -> WebResult {
    who.check_csrf(&fields)?;
    let lang = who.lang;
    let order = super::order_of(&web, lang, &id)?;
    let (_, state) = load(&web, lang, order)?;
    let bad = |field: &str, problem: String| {
        let words = actions::field_words(lang, field, &problem);
        let mut page = refused(&web, &who, order, StatusCode::BAD_REQUEST, &words);
        if let Ok(v) = axum::http::HeaderValue::from_str(field) {
            page.headers_mut().insert("x-field", v);
        }
        page
    };
    let Some(action) = fields.get("action") else {
        return Ok(bad("action", actions::missing(lang)));
    };
    let back = fields.get("back");
    if let Some(b) = back.filter(|b| !local_back(b)) {
        return Ok(bad(
            "back",
            format!(
                "'{b}' {}",
                lang.t(
                    "is not a path of this site (it must start with one /)",
                    "不是本站的路径（须以一个 / 开头）",
                    "不是本站的路徑（須以一個 / 開頭）"
                )
            ),
        ));
    }
    let command = match actions::parse(lang, action, &fields, &state) {
        Ok(c) => c,
        Err(e) => return Ok(bad(&e.field, e.problem)),
    };
    let command_id = match super::command_id(&fields) {
        Ok(id) => id,
        Err(e) => return Ok(bad("command_id", e.message)),
    };
    let grant = fields.get("as");
    // The permission first, in words: a role that may not issue the command is a 403.
    let principal = match crate::auth::Auth::principal(&who.user, grant, Some(&command)) {
        Ok(p) => p,
        Err(e) => {
            let status = match e.kind() {
                crate::app::ErrorKind::Invalid => StatusCode::BAD_REQUEST,
                _ => StatusCode::FORBIDDEN,
            };
            return Ok(refused(&web, &who, order, status, &e.to_string()));
        }
    };
    if !orderflow_commands::may_issue(principal.role(), &command) {
        let words = Rejection::NotPermitted {
            order,
            role: principal.role(),
            command: command.name(),
            allowed: orderflow_commands::allowed_roles(&command),
        }
        .to_string();
        return Ok(refused(&web, &who, order, StatusCode::FORBIDDEN, &words));
    }
    let name = command.name();
    match super::run_command(&web, &who, Some(order), command_id, grant, command.clone()).await {
        Ok(_) => Ok(Redirect::to(&done_location(back, order, name)).into_response()),
        Err(e) => {
            let status = if e.status == StatusCode::CONFLICT {
                actions::refusal_status(&web, &principal, order, &command).unwrap_or(e.status)
            } else {
                e.status
            };
            Ok(refused(&web, &who, order, status, &e.message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_must_be_a_local_path() {
        assert!(local_back("/queue"));
        assert!(local_back("/orders?state=shipped"));
        assert!(!local_back("//evil.example/x"));
        assert!(!local_back("https://evil.example/"));
        assert!(!local_back("/\\evil.example"));
        assert!(!local_back("queue"));
    }

    #[test]
    fn done_is_appended_to_the_query() {
        let order = OrderId(uuid::Uuid::from_u128(0xabc));
        assert_eq!(done_location(Some("/queue"), order, "approve"), "/queue?done=approve");
        assert_eq!(done_location(Some("/orders?state=x#r"), order, "ship"), "/orders?state=x&done=ship#r");
        assert_eq!(done_location(None, order, "close"), format!("/orders/{}?done=close", hex(order)));
    }
}
