//! The page shell: `<head>` with the served stylesheet and script, the navigation of a
//! logged-in person, the language switch.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::i18n::Lang;
use super::session::{Who, CSRF_FIELD};

/// Which navigation entry a page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    /// `/orders`.
    Board,
    /// `/queue`.
    Queue,
    /// `/orders/new`.
    Intake,
    /// `/kpi`.
    Kpi,
    /// Anything else (an order, an audit page).
    None,
}

fn head(lang: Lang, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · orderflow" }
            link rel="stylesheet" href=(super::assets::href("app.css"));
            script src=(super::assets::href("app.js")) defer {}
            meta name="lang" content=(lang.code());
        }
    }
}

/// The language switch: links that set the language and come back to `back`.
pub fn lang_switch(current: Lang, back: &str) -> Markup {
    html! {
        nav.langs aria-label="language" {
            @for l in Lang::ALL {
                @if l == current {
                    span.lang.current lang=(l.code()) { (l.name()) }
                } @else {
                    a.lang lang=(l.code()) href={ "/lang/" (l.code()) "?back=" (super::url_encode(back)) } { (l.name()) }
                }
            }
        }
    }
}

/// A page without navigation (login, errors), whose language switch comes back to the board.
pub fn bare(lang: Lang, title: &str, body: Markup) -> Markup {
    bare_at(lang, title, "/orders", body)
}

/// A page without navigation whose language switch comes back to `here` (the customer's
/// tracking page).
pub fn bare_at(lang: Lang, title: &str, here: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body.bare {
                header.top { span.brand { "orderflow" } (lang_switch(lang, here)) }
                (body)
            }
        }
    }
}

/// What a page's `main` element carries: its id (`order`, `kpi`, `audit`, ...) and the order it
/// shows (`data-order`, 32 hex digits), which tests and the script address.
#[derive(Clone, Copy, Debug, Default)]
pub struct Main<'a> {
    /// The element's id.
    pub id: Option<&'a str>,
    /// The order shown.
    pub order: Option<&'a str>,
}

/// A page of a logged-in person. `live` makes the page open the event stream and refresh its
/// `data-live-src` parts; `here` is the page's own path (for the language switch).
pub fn page(who: &Who, title: &str, nav: Nav, here: &str, live: bool, body: Markup) -> Markup {
    page_main(who, title, nav, here, live, Main::default(), body)
}

/// [`page`] with `main`'s id and order ([`Main`]).
pub fn page_main(
    who: &Who,
    title: &str,
    nav: Nav,
    here: &str,
    live: bool,
    main: Main<'_>,
    body: Markup,
) -> Markup {
    let l = who.lang;
    let entry = |target: Nav, href: &str, text: &str| {
        html! {
            @if target == nav { a.current href=(href) aria-current="page" { (text) } }
            @else { a href=(href) { (text) } }
        }
    };
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            (head(l, title))
            body data-live=[live.then_some("1")] data-lang=(l.code()) {
                header.top {
                    span.brand { "orderflow" }
                    nav.main {
                        (entry(Nav::Board, "/orders", l.t("Orders", "订单看板", "訂單看板")))
                        @if !super::queue::desks(&who.user.grants).is_empty() {
                            (entry(Nav::Queue, "/queue", l.t("My queue", "我的待办", "我的待辦")))
                        }
                        @if who.has_role(orderflow_schemas::Role::Sales) {
                            (entry(Nav::Intake, "/orders/new", l.t("New order", "录入订单", "錄入訂單")))
                        }
                        (entry(Nav::Kpi, "/kpi", l.t("Monthly statistics", "月度统计", "月度統計")))
                    }
                    span.who {
                        span.user data-login=(who.user.login) { (who.user.display_name) }
                        " "
                        span.grants { (who.user.grants_text()) }
                    }
                    (lang_switch(l, here))
                    form.logout method="post" action="/logout" {
                        input type="hidden" name=(CSRF_FIELD) value=(who.csrf);
                        button type="submit" { (l.t("Log out", "退出登录", "登出")) }
                    }
                }
                main id=[main.id] data-order=[main.order] { (body) }
            }
        }
    }
}

/// The hidden fields every form of a page carries: the CSRF token and a fresh command id (a
/// double submit then applies once).
pub fn form_ids(who: &Who) -> Markup {
    html! {
        input type="hidden" name=(CSRF_FIELD) value=(who.csrf);
        input type="hidden" name="command_id" value=(uuid::Uuid::new_v4());
    }
}

/// A notice above a page's content: a refusal in the clerk's words, or what was done.
pub fn notice(kind: &str, text: &str) -> Markup {
    html! { p class={ "notice " (kind) } role="status" { (text) } }
}

/// Raw, already escaped markup (SVG built by the server).
pub fn raw(s: String) -> Markup {
    PreEscaped(s)
}
