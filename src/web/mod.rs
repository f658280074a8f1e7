//! The web pages of `orderflow serve --http ADDR`: the order tracking platform (seed 000 四.11)
//! for managers, departments and customers, served by the process that owns the data directory,
//! with or without NATS.
//!
//! - HTML is rendered on the server ([`maud`], checked at compile time); a small hand-written
//!   script ([`assets`]) refreshes the live parts of a page on the Server-Sent Events of
//!   `/events`, whose ids are log positions (a reconnecting browser resumes where it stopped).
//!   Charts are SVG drawn by the server. Every asset is in the binary: nothing from a CDN.
//! - Every action goes through [`crate::app::App::execute`] as the logged-in person (the same
//!   path as the command line and NATS): the domain decides, the page only shows what it said.
//! - Limits: request bodies at most [`BODY_BYTES_MAX`] (bounded before parsing: 413), sessions
//!   as [`session::SessionConfig`], open event streams [`WebConfig::streams_max`].
//! - Every response carries a Content-Security-Policy that allows only the served assets
//!   ([`CSP`]), and `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
//!   `X-Frame-Options: DENY`.
//!
//! Pages: [`board`] `/orders`, [`order`] `/orders/{id}`, [`queue`] `/queue`, [`intake`]
//! `/orders/new`, [`kpi`] `/kpi`, [`audit`] `/audit/{id}`, [`track`] `/track/{token}`; [`login`]
//! `/login` and `/logout`; `/healthz`; `/events` ([`live`]).

pub mod assets;
pub mod audit;
pub mod board;
pub mod form;
pub mod i18n;
pub mod intake;
pub mod kpi;
pub mod layout;
pub mod live;
pub mod login;
pub mod order;
pub mod queue;
pub mod session;
pub mod tokens;
pub mod track;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::html;

use crate::app::{App, AppError, ErrorKind};
use crate::service::Views;
use i18n::Lang;

/// Bytes of a request body at most; a longer one is refused (413) before it is parsed.
pub const BODY_BYTES_MAX: usize = 64 * 1024;

/// The Content-Security-Policy of every response: scripts, styles and images only from this
/// server, event streams and fetches only to it, no frames, forms only to it.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Settings of the web server.
#[derive(Clone, Copy, Debug)]
pub struct WebConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Sessions.
    pub sessions: session::SessionConfig,
    /// Event streams (`/events`) open at once; one more is refused (503).
    pub streams_max: usize,
}

impl WebConfig {
    /// The defaults, listening on `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, sessions: session::SessionConfig::default(), streams_max: 1_024 }
    }
}

/// What the pages share: the open data directory, the live views, the sessions, the feed of
/// changes.
#[derive(Debug)]
pub struct WebInner {
    /// The data directory.
    pub app: Arc<App>,
    /// The live read models (shared with the NATS queries of the same `serve`).
    pub views: Views,
    /// The sessions.
    pub sessions: session::Sessions,
    /// The feed of log positions and changed orders.
    pub feed: live::Feed,
    /// The settings.
    pub config: WebConfig,
    /// The figures of recent statistics pages.
    pub kpi_cache: kpi::Cache,
}

/// The state of every handler (cheap to clone).
#[derive(Clone, Debug)]
pub struct Web(pub Arc<WebInner>);

impl std::ops::Deref for Web {
    type Target = WebInner;
    fn deref(&self) -> &WebInner {
        &self.0
    }
}

/// The router of every page.
pub fn router(web: Web) -> Router {
    Router::new()
        .route("/", get(|| async { axum::response::Redirect::to("/orders") }))
        .route("/healthz", get(healthz))
        .route("/assets/{name}", get(assets::serve))
        .route("/lang/{code}", get(login::switch_lang))
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/events", get(live::events))
        .route("/orders", get(board::page))
        .route("/orders/rows", get(board::rows))
        .route("/orders/new", get(intake::page).post(intake::submit))
        .route("/orders/{id}", get(order::page))
        .route("/orders/{id}/live", get(order::live_part))
        .route("/orders/{id}/act", post(order::act))
        .route("/orders/{id}/track-links", post(track::create_link))
        .route("/orders/{id}/track-links/revoke", post(track::revoke_link))
        .route("/queue", get(queue::page))
        .route("/kpi", get(kpi::page))
        .route("/kpi.csv", get(kpi::csv))
        .route("/audit/{id}", get(audit::page))
        .route("/audit/{id}/export", get(audit::export))
        .route("/track/{token}", get(track::page))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(web)
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn healthz(axum::extract::State(web): axum::extract::State<Web>) -> Response {
    match web.app.log().failure() {
        None => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            format!("{{\"ok\":true,\"log_head\":{}}}", web.app.log().head()),
        )
            .into_response(),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({"ok": false, "failure": why}).to_string(),
        )
            .into_response(),
    }
}

async fn not_found(session::Viewer(lang): session::Viewer) -> Response {
    WebError::not_found(lang.t("There is no such page.", "没有这个页面。", "沒有這個頁面。"))
        .lang(lang)
        .into_response()
}

/// A running web server.
#[derive(Debug)]
pub struct Running {
    /// Where it listens (the port chosen when asked for port 0).
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    feed: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets the requests in flight end (event streams are closed), and waits.
    pub async fn stop(self) -> Result<(), AppError> {
        let _ = self.stop.send(());
        self.feed.abort();
        match self.task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(AppError::Failure(format!("the web server failed: {e}"))),
            Err(e) => Err(AppError::Failure(format!("the web server task failed: {e}"))),
        }
    }
}

/// Binds `config.addr` and serves the pages on `app` until [`Running::stop`].
pub async fn start(app: Arc<App>, views: Views, config: WebConfig) -> Result<Running, AppError> {
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| AppError::Invalid(format!("cannot listen on {} for the web pages: {e}", config.addr)))?;
    let addr = listener.local_addr().map_err(|e| AppError::Failure(e.to_string()))?;
    let (feed, feeding) = live::Feed::start(app.log().clone(), config.streams_max);
    let web = Web(Arc::new(WebInner {
        app,
        views,
        sessions: session::Sessions::new(config.sessions),
        feed,
        config,
        kpi_cache: kpi::Cache::default(),
    }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let closing = web.feed.closing();
    let router = router(web);
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
                closing.close();
            })
            .await
    });
    Ok(Running { addr, stop, task, feed: feeding })
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A refusal or failure as a page: a status and a message for the person, in their language
/// when known (else in English and Chinese).
#[derive(Clone, Debug)]
pub struct WebError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What happened, for the person.
    pub message: String,
    /// The page's language, when known.
    pub lang: Option<Lang>,
}

impl WebError {
    /// With a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), lang: None }
    }
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    /// 413.
    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The form is larger than {} KiB and was not read; nothing was done. 表单超过 {} KiB，未读取；未做任何操作。",
                BODY_BYTES_MAX / 1024,
                BODY_BYTES_MAX / 1024
            ),
        )
    }
    /// In this language.
    pub fn lang(mut self, lang: Lang) -> Self {
        self.lang = Some(lang);
        self
    }

    /// The page status of an application error: invalid input 400, a rule's refusal 409 (an
    /// unknown order 404), a permission 403 (the domain's "this role may not" too), a domain
    /// refusal 409 (but a field the domain names as wrong 400), anything else 500.
    pub fn from_app(e: AppError, lang: Lang) -> Self {
        let status = match &e {
            AppError::Rejected(orderflow_commands::Rejection::OrderNotFound { .. }) => StatusCode::NOT_FOUND,
            AppError::Rejected(orderflow_commands::Rejection::NotPermitted { .. }) => StatusCode::FORBIDDEN,
            AppError::Rejected(
                orderflow_commands::Rejection::InvalidInput { .. }
                | orderflow_commands::Rejection::LimitExceeded { .. }
                | orderflow_commands::Rejection::Overflow { .. },
            ) => StatusCode::BAD_REQUEST,
            _ => match e.kind() {
                ErrorKind::Invalid | ErrorKind::Limit => StatusCode::BAD_REQUEST,
                ErrorKind::Rejected | ErrorKind::Conflict => StatusCode::CONFLICT,
                ErrorKind::Forbidden => StatusCode::FORBIDDEN,
                ErrorKind::Failure | ErrorKind::Tampered => StatusCode::INTERNAL_SERVER_ERROR,
            },
        };
        Self { status, message: e.to_string(), lang: Some(lang) }
    }

    fn title(&self, lang: Lang) -> &'static str {
        match self.status {
            StatusCode::BAD_REQUEST => lang.t("Bad request", "请求有误", "請求有誤"),
            StatusCode::FORBIDDEN => lang.t("Not allowed", "无权操作", "無權操作"),
            StatusCode::NOT_FOUND => lang.t("Not found", "未找到", "未找到"),
            StatusCode::CONFLICT => lang.t("Refused", "操作被拒绝", "操作被拒絕"),
            StatusCode::PAYLOAD_TOO_LARGE => lang.t("Too large", "内容过大", "內容過大"),
            StatusCode::SERVICE_UNAVAILABLE => lang.t("Busy", "服务繁忙", "服務繁忙"),
            _ => lang.t("Something went wrong", "出现错误", "出現錯誤"),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let lang = self.lang.unwrap_or(Lang::En);
        let title = match self.lang {
            Some(l) => self.title(l).to_string(),
            None => format!("{} · {}", self.title(Lang::En), self.title(Lang::Hans)),
        };
        let body = layout::bare(
            lang,
            &title,
            html! {
                main.error {
                    h1 { (title) }
                    p.message data-status=(self.status.as_u16()) { (self.message) }
                    p { a href="/orders" { (lang.t("Back to the orders", "返回订单看板", "返回訂單看板")) } }
                }
            },
        );
        (self.status, body).into_response()
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::from_app(e, Lang::En)
    }
}

/// The result of a handler.
pub type WebResult = Result<Response, WebError>;

/// Runs a command of a page as the logged-in person, through the same path as the command line
/// and NATS ([`App::execute`]): the grant is the one the form names (`as`), else the user's one
/// grant whose role may issue it ([`crate::auth::Auth::principal`]). `command_id` comes from the
/// form, so a second submit of the same form is the same command and applies once.
pub async fn run_command(
    web: &Web,
    who: &session::Who,
    order: Option<orderflow_schemas::OrderId>,
    command_id: uuid::Uuid,
    requested_grant: Option<&str>,
    command: orderflow_commands::Command,
) -> Result<crate::app::Done, WebError> {
    let principal = crate::auth::Auth::principal(&who.user, requested_grant, Some(&command))
        .map_err(|e| WebError::from_app(e, who.lang))?;
    let req =
        crate::app::Request { order_id: order, command_id, principal, at: None, late_reason: None, command };
    web.app.execute(req).await.map_err(|e| WebError::from_app(e, who.lang))
}

/// The command id a form carries (`command_id`), or a new one when it carries none.
pub fn command_id(fields: &form::Fields) -> Result<uuid::Uuid, WebError> {
    match fields.get("command_id") {
        None => Ok(uuid::Uuid::new_v4()),
        Some(text) => text
            .parse()
            .map_err(|_| WebError::bad_request(format!("command_id {text} is not a UUID; nothing was done"))),
    }
}

/// The order a path names: a whole id (32 hex digits, with or without dashes) or a unique prefix.
pub fn order_of(web: &Web, lang: Lang, text: &str) -> Result<orderflow_schemas::OrderId, WebError> {
    let r: crate::app::OrderRef = text.parse().map_err(|e: String| WebError::not_found(e).lang(lang))?;
    let id = web.app.resolve(&r).map_err(|e| match e {
        AppError::Invalid(m) => WebError::not_found(m).lang(lang),
        other => WebError::from_app(other, lang),
    })?;
    Ok(id)
}
