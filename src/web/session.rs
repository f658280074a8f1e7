//! Sessions of the web pages: a random 128-bit id in an HttpOnly, SameSite=Strict cookie that
//! expires, the person it logged in, and the CSRF token every form of the session carries.
//!
//! Sessions live in the memory of `serve` (a restart logs everyone out), at most
//! [`SessionConfig::sessions_max`] of them; the map is keyed by the BLAKE3 hash of the id, so the
//! id itself is only ever in the browser. A session ends at logout, after
//! [`SessionConfig::idle`] without a request, or [`SessionConfig::lifetime`] after login. The
//! person is looked up in the user directory on every request: a disabled user or a revoked
//! grant takes effect at once.
//!
//! Logging in goes through [`crate::auth::Auth::login`], which waits a bounded, growing delay
//! after failed attempts of the same login.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore as _;
use uuid::Uuid;

use super::i18n::{Lang, LANG_COOKIE};
use super::{Web, WebError};
use crate::auth::User;

/// The session cookie.
pub const SESSION_COOKIE: &str = "of_session";
/// The cookie that binds the login form's token to the browser (login CSRF).
pub const LOGIN_COOKIE: &str = "of_login";
/// The form field of the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// Limits of sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// A session ends this long after login, whatever happens.
    pub lifetime: Duration,
    /// Sessions held at once; a login beyond it first drops expired ones, then the least
    /// recently used one.
    pub sessions_max: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(8 * 3600),
            lifetime: Duration::from_secs(12 * 3600),
            sessions_max: 10_000,
        }
    }
}

#[derive(Clone, Debug)]
struct Session {
    user: Uuid,
    csrf: String,
    created: Instant,
    last_seen: Instant,
}

/// The sessions of one `serve`.
#[derive(Debug)]
pub struct Sessions {
    config: SessionConfig,
    map: Mutex<HashMap<[u8; 32], Session>>,
}

/// 128 random bits as 32 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key(id: &str) -> [u8; 32] {
    *blake3::hash(id.as_bytes()).as_bytes()
}

/// Equality of two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Sessions {
    /// No sessions yet.
    pub fn new(config: SessionConfig) -> Self {
        Self { config, map: Mutex::new(HashMap::new()) }
    }

    /// The limits in force.
    pub fn config(&self) -> SessionConfig {
        self.config
    }

    fn expired(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_seen) >= self.config.idle
            || now.duration_since(s.created) >= self.config.lifetime
    }

    /// Starts a session for `user`; returns its id (the cookie's value).
    pub fn start(&self, user: Uuid) -> String {
        let id = random_token();
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.config.sessions_max {
            map.retain(|_, s| !self.expired(s, now));
        }
        while map.len() >= self.config.sessions_max {
            let Some(oldest) = map.iter().min_by_key(|(_, s)| s.last_seen).map(|(k, _)| *k) else { break };
            map.remove(&oldest);
        }
        map.insert(key(&id), Session { user, csrf: random_token(), created: now, last_seen: now });
        id
    }

    /// The user and CSRF token of a live session, marking it used; an expired one is dropped.
    fn touch(&self, id: &str) -> Option<(Uuid, String)> {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let k = key(id);
        let s = map.get_mut(&k)?;
        if self.expired(s, now) {
            map.remove(&k);
            return None;
        }
        s.last_seen = now;
        Some((s.user, s.csrf.clone()))
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).remove(&key(id));
    }

    /// Sessions held now.
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value of the session cookie.
pub fn session_cookie(id: &str, config: SessionConfig) -> String {
    format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}", config.idle.as_secs())
}

/// The `Set-Cookie` value that removes a cookie.
pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The language of a request: the switch's cookie, else `Accept-Language`.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    if let Some(lang) = cookie(headers, LANG_COOKIE).and_then(Lang::from_code) {
        return lang;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::En, Lang::from_accept_language)
}

/// The language of the request, for pages without a login (the login page, the customer's
/// tracking page, errors).
#[derive(Clone, Copy, Debug)]
pub struct Viewer(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Viewer(lang_of(&parts.headers)))
    }
}

/// The logged-in person of a request, with the session's CSRF token and the page language.
/// Extracting it from a request without a live session answers with a redirect to the login page
/// for a `GET` (coming back afterwards) and a 403 page otherwise: nothing is done.
#[derive(Clone, Debug)]
pub struct Who {
    /// The person, as the directory has them now.
    pub user: User,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// The language of the page.
    pub lang: Lang,
}

impl Who {
    /// Checks the CSRF token a form carried; a missing or wrong one is a 403, nothing done.
    pub fn check_csrf(&self, fields: &super::form::Fields) -> Result<(), WebError> {
        match fields.get(CSRF_FIELD) {
            Some(t) if same_secret(t, &self.csrf) => Ok(()),
            Some(_) => Err(WebError::forbidden(self.lang.t(
                "The form's security token is wrong (it belongs to another session). Reload the page and try again; nothing was done.",
                "表单的安全令牌不正确（属于另一个会话）。请刷新页面后重试；未做任何操作。",
                "表單的安全令牌不正確（屬於另一個會話）。請重新整理頁面後重試；未做任何操作。",
            ))
            .lang(self.lang)),
            None => Err(WebError::forbidden(self.lang.t(
                "The form carries no security token. Reload the page and try again; nothing was done.",
                "表单缺少安全令牌。请刷新页面后重试；未做任何操作。",
                "表單缺少安全令牌。請重新整理頁面後重試；未做任何操作。",
            ))
            .lang(self.lang)),
        }
    }

    /// Whether the person holds a grant in `role` (as the role, or as its head).
    pub fn has_role(&self, role: orderflow_schemas::Role) -> bool {
        self.user.grants.iter().any(|g| g.role() == role)
    }
}

impl FromRequestParts<Web> for Who {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.headers);
        let session = cookie(&parts.headers, SESSION_COOKIE).and_then(|id| web.sessions.touch(id));
        let found = match session {
            Some((user_id, csrf)) => match web.app.auth().directory() {
                Ok(dir) => dir.user(user_id).filter(|u| u.active).cloned().map(|u| (u, csrf)),
                Err(e) => return Err(WebError::from_app(e, lang).into_response()),
            },
            None => None,
        };
        match found {
            Some((user, csrf)) => Ok(Who { user, csrf, lang }),
            None if parts.method == axum::http::Method::GET => {
                let next = parts.uri.path_and_query().map_or("/orders", |p| p.as_str());
                let to = format!("/login?next={}", super::url_encode(next));
                Err(([(header::SET_COOKIE, clear_cookie(SESSION_COOKIE))], Redirect::to(&to)).into_response())
            }
            None => Err(WebError::forbidden(lang.t(
                "Your session has expired or you are not logged in. Log in again; nothing was done.",
                "会话已过期或尚未登录。请重新登录；未做任何操作。",
                "會話已過期或尚未登入。請重新登入；未做任何操作。",
            ))
            .lang(lang)
            .into_response()),
        }
    }
}
