//! `/login`, `/logout` and the language switch.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::form::Fields;
use super::i18n::{Lang, LANG_COOKIE};
use super::layout;
use super::session::{self, clear_cookie, cookie, same_secret, Viewer, LOGIN_COOKIE, SESSION_COOKIE};
use super::Web;

/// Query of the login page.
#[derive(Debug, Deserialize)]
pub struct Next {
    /// Where to go after logging in (a path of this site).
    pub next: Option<String>,
}

/// A path of this site to go back to, or `/orders` (never another site: `//host`, `https:`).
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && p.len() <= 2048 => {
            p.to_string()
        }
        _ => "/orders".to_string(),
    }
}

fn login_form(lang: Lang, token: &str, next: &str, login: &str, error: Option<&str>) -> maud::Markup {
    html! {
        main.login {
            h1 { (lang.t("Log in", "登录", "登入")) }
            @if let Some(e) = error { (layout::notice("error", e)) }
            form method="post" action="/login" id="login-form" {
                input type="hidden" name="login_csrf" value=(token);
                input type="hidden" name="next" value=(next);
                p { label { (lang.t("User name", "用户名", "用戶名")) input type="text" name="login" value=(login) autocomplete="username" required autofocus; } }
                p { label { (lang.t("Password", "密码", "密碼")) input type="password" name="password" autocomplete="current-password" required; } }
                p { button type="submit" id="login-submit" { (lang.t("Log in", "登录", "登入")) } }
            }
        }
    }
}

/// `GET /login`.
pub async fn page(Viewer(lang): Viewer, Query(q): Query<Next>) -> Response {
    let token = session::random_token();
    let next = local_path(q.next.as_deref());
    let body =
        layout::bare(lang, lang.t("Log in", "登录", "登入"), login_form(lang, &token, &next, "", None));
    (
        [(
            header::SET_COOKIE,
            format!("{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600"),
        )],
        body,
    )
        .into_response()
}

/// `POST /login`: checks the login form's token, then the password (with the directory's
/// growing delay after failures); starts a session and goes to `next`.
pub async fn submit(
    State(web): State<Web>,
    Viewer(lang): Viewer,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let next = local_path(fields.get("next"));
    let login = fields.text("login").to_string();
    let token_ok = matches!(
        (cookie(&headers, LOGIN_COOKIE), fields.get("login_csrf")),
        (Some(c), Some(f)) if same_secret(c, f)
    );
    let again = |status: StatusCode, message: &str| {
        let token = session::random_token();
        (
            status,
            [(
                header::SET_COOKIE,
                format!("{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600"),
            )],
            layout::bare(
                lang,
                lang.t("Log in", "登录", "登入"),
                login_form(lang, &token, &next, &login, Some(message)),
            ),
        )
            .into_response()
    };
    if !token_ok {
        return again(
            StatusCode::FORBIDDEN,
            lang.t(
                "The login form has expired. Enter your name and password again.",
                "登录表单已失效，请重新输入用户名和密码。",
                "登入表單已失效，請重新輸入用戶名和密碼。",
            ),
        );
    }
    match web.app.auth().login(&login, fields.text("password")).await {
        Ok(user) => {
            let id = web.sessions.start(user.id);
            tracing::info!(login = %user.login, "Web login.");
            (
                axum::response::AppendHeaders([
                    (header::SET_COOKIE, session::session_cookie(&id, web.sessions.config())),
                    (header::SET_COOKIE, format!("{LOGIN_COOKIE}=; Path=/login; Max-Age=0")),
                ]),
                Redirect::to(&next),
            )
                .into_response()
        }
        Err(e) => {
            tracing::info!(login = %login, error = %e, "Web login refused.");
            again(
                StatusCode::FORBIDDEN,
                lang.t(
                    "Wrong user name or password, or the user is disabled.",
                    "用户名或密码错误，或该用户已停用。",
                    "用戶名或密碼錯誤，或該用戶已停用。",
                ),
            )
        }
    }
}

/// `POST /logout`: ends the session (the form's CSRF token must match) and goes to the login page.
pub async fn logout(
    State(web): State<Web>,
    who: session::Who,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    if let Err(e) = who.check_csrf(&fields) {
        return e.into_response();
    }
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        web.sessions.end(id);
    }
    ([(header::SET_COOKIE, clear_cookie(SESSION_COOKIE))], Redirect::to("/login")).into_response()
}

/// Query of the language switch.
#[derive(Debug, Deserialize)]
pub struct Back {
    /// The page to go back to.
    pub back: Option<String>,
}

/// `GET /lang/{code}`: remembers the language (a year) and goes back.
pub async fn switch_lang(
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<Back>,
) -> Response {
    let back = local_path(q.back.as_deref());
    match Lang::from_code(&code) {
        Some(lang) => (
            [(
                header::SET_COOKIE,
                format!("{LANG_COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000", lang.code()),
            )],
            Redirect::to(&back),
        )
            .into_response(),
        None => super::WebError::bad_request(format!(
            "{code} is not a language of these pages (en, zh-Hans, zh-Hant)"
        ))
        .into_response(),
    }
}
