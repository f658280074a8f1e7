//! The web test site: a data directory with an admin and one person per grant (logins and
//! passwords as in the service tests: [`login_of`], [`password_of`]), the web pages of
//! `serve --http` started in this process on a free port ([`orderflow::web::start`]), and HTTP
//! clients logged in as a person, with their cookies and CSRF token ([`Client`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use orderflow::app::{App, Done, Request};
use orderflow::auth::Auth;
use orderflow::service::Views;
use orderflow::web::{self, Running, WebConfig};
use orderflow_commands::Command;
use orderflow_schemas::{Grant, OrderId};
use uuid::Uuid;

pub(crate) use crate::service::{login_of, password_of, ADMIN};

/// One site: the data directory, the application on it, and its web pages.
pub(crate) struct WebSite {
    pub(crate) work: tempfile::TempDir,
    pub(crate) app: Arc<App>,
    running: Option<Running>,
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
}

impl WebSite {
    /// A site with a person for every grant ([`Grant::all`]).
    pub(crate) async fn new() -> Self {
        Self::with_grants(&Grant::all()).await
    }

    /// A site with a person for each of `grants` (and the admin).
    pub(crate) async fn with_grants(grants: &[Grant]) -> Self {
        Self::with_config(grants, |c| c).await
    }

    /// A site whose web configuration `tune` adjusts (short sessions, few streams, ...).
    pub(crate) async fn with_config(grants: &[Grant], tune: impl FnOnce(WebConfig) -> WebConfig) -> Self {
        let work = tempfile::tempdir().expect("temp dir");
        let app = Arc::new(App::open(&work.path().join("data")).expect("open the data directory"));
        let admin = app.auth().bootstrap(ADMIN.0, "Test admin", ADMIN.1).await.expect("bootstrap");
        let by = Auth::principal(&admin, Some("admin"), None).expect("admin principal");
        for &g in grants {
            let login = login_of(g);
            app.auth()
                .add_user(&by, &login, &format!("Test {login}"), vec![g], &password_of(&login))
                .await
                .unwrap_or_else(|e| panic!("add {login}: {e}"));
        }
        let config = tune(WebConfig::new("127.0.0.1:0".parse().expect("address")));
        let running = web::start(app.clone(), Views::default(), config).await.expect("start the web pages");
        let base = format!("http://{}", running.addr);
        Self { work, app, running: Some(running), base }
    }

    /// The log's head.
    pub(crate) fn head(&self) -> u64 {
        self.app.log().head()
    }

    /// A client that has not logged in (English pages).
    pub(crate) fn anonymous(&self) -> Client {
        Client::new(&self.base, "en")
    }

    /// A client logged in as `grant`'s test person (English pages).
    pub(crate) async fn login(&self, grant: Grant) -> Client {
        let login = login_of(grant);
        self.login_as(&login, &password_of(&login)).await
    }

    /// A client logged in as `login`, asserting that the login succeeded.
    pub(crate) async fn login_as(&self, login: &str, password: &str) -> Client {
        let c = self.anonymous();
        let page = c.log_in(login, password).await;
        assert_eq!(page.status, 303, "login of {login} failed: {}", page.body);
        assert!(c.has_cookie("of_session"), "login of {login} set no session cookie");
        c
    }

    /// Runs `command` on `order` as `grant`'s test person, through the application path, as a
    /// test's setup (the pages are what is tested).
    pub(crate) async fn exec(&self, grant: Grant, order: Option<OrderId>, command: Command) -> Done {
        let login = login_of(grant);
        let user = self.app.auth().directory().expect("directory").by_login(&login).cloned().expect("user");
        let principal = Auth::principal(&user, Some(&grant.to_string()), Some(&command)).expect("principal");
        let req = Request {
            order_id: order,
            command_id: Uuid::new_v4(),
            principal,
            at: None,
            late_reason: None,
            command,
        };
        self.app.execute(req).await.unwrap_or_else(|e| panic!("{login}: {e}"))
    }

    /// Stops the pages and closes the data directory.
    pub(crate) async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stop the web pages");
        }
    }
}

/// An answer: status, the `Location` of a redirect, the content type and the body.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) content_type: String,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Page {
    /// The `value` of the first `<input name="NAME" value="...">` of the page.
    pub(crate) fn input_value(&self, name: &str) -> Option<String> {
        input_value(&self.body, name)
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub(crate) fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "expected {status}, got {}: {}", self.status, self.body);
        self
    }
}

/// A browser-less client: cookies kept by name, redirects not followed, the page language set by
/// `Accept-Language`.
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    lang: String,
    cookies: Mutex<BTreeMap<String, String>>,
    csrf: Mutex<Option<String>>,
}

impl Client {
    pub(crate) fn new(base: &str, lang: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Self {
            http,
            base: base.to_string(),
            lang: lang.to_string(),
            cookies: Mutex::new(BTreeMap::new()),
            csrf: Mutex::new(None),
        }
    }

    /// The same person's pages in another language (`zh-CN`, `zh-TW`, `en`).
    pub(crate) fn with_lang(mut self, lang: &str) -> Self {
        self.lang = lang.to_string();
        self
    }

    /// The session's CSRF token, as the last page that carried one showed it.
    pub(crate) fn csrf(&self) -> Option<String> {
        self.csrf.lock().expect("csrf").clone()
    }

    /// Forgets the session cookie (as a browser whose session ended).
    pub(crate) fn drop_cookie(&self, name: &str) {
        self.cookies.lock().expect("cookies").remove(name);
    }

    /// Whether the client holds the cookie `name`.
    pub(crate) fn has_cookie(&self, name: &str) -> bool {
        self.cookies.lock().expect("cookies").contains_key(name)
    }

    /// Sets a cookie (to test a forged or stale one).
    pub(crate) fn set_cookie(&self, name: &str, value: &str) {
        self.cookies.lock().expect("cookies").insert(name.to_string(), value.to_string());
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().expect("cookies");
        jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn finish(&self, resp: reqwest::Response) -> Page {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        {
            let mut jar = self.cookies.lock().expect("cookies");
            for value in headers.get_all(reqwest::header::SET_COOKIE) {
                let text = value.to_str().unwrap_or("");
                let pair = text.split(';').next().unwrap_or("");
                if let Some((k, v)) = pair.split_once('=') {
                    let gone = v.is_empty() || text.contains("Max-Age=0");
                    if gone {
                        jar.remove(k.trim());
                    } else {
                        jar.insert(k.trim().to_string(), v.trim().to_string());
                    }
                }
            }
        }
        let location =
            headers.get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp.text().await.unwrap_or_default();
        if let Some(t) = input_value(&body, "csrf") {
            *self.csrf.lock().expect("csrf") = Some(t);
        }
        Page { status, location, content_type, headers, body }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> Page {
        let resp = self
            .http
            .get(self.url(path))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(reqwest::header::ACCEPT_LANGUAGE, &self.lang)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        self.finish(resp).await
    }

    /// `POST path` with `fields`, adding the session's CSRF token unless `fields` has one.
    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(String, String)> =
            fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if !fields.iter().any(|(k, _)| *k == "csrf") {
            if let Some(t) = self.csrf() {
                all.push(("csrf".to_string(), t));
            }
        }
        self.post_exact(path, &all).await
    }

    /// `POST path` with exactly `fields` (no token added).
    pub(crate) async fn post_exact(&self, path: &str, fields: &[(String, String)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", web::url_encode(k), web::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.post_body(path, body).await
    }

    /// `POST path` with a raw form body.
    pub(crate) async fn post_body(&self, path: &str, body: String) -> Page {
        let resp = self
            .http
            .post(self.url(path))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(reqwest::header::ACCEPT_LANGUAGE, &self.lang)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        self.finish(resp).await
    }

    /// The login form, filled in and sent: the answer (303 on success).
    pub(crate) async fn log_in(&self, login: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        let token = form.input_value("login_csrf").expect("the login form carries login_csrf");
        let fields = [
            ("login".to_string(), login.to_string()),
            ("password".to_string(), password.to_string()),
            ("login_csrf".to_string(), token),
            ("next".to_string(), "/orders".to_string()),
        ];
        self.post_exact("/login", &fields).await
    }
}

/// The `value` of the first `<input ... name="NAME" ... value="...">` in `html` (maud writes
/// attributes in the order of the template, `name` before `value`).
pub(crate) fn input_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let mut rest = html;
    while let Some(i) = rest.find(&needle) {
        let tag_start = rest[..i].rfind('<').unwrap_or(0);
        let tag_end = rest[i..].find('>').map(|e| i + e).unwrap_or(rest.len());
        let tag = &rest[tag_start..tag_end];
        if tag.starts_with("<input") {
            if let Some(v) = tag.find("value=\"") {
                let v = &tag[v + 7..];
                return v.find('"').map(|e| unescape(&v[..e]));
            }
        }
        rest = &rest[tag_end..];
    }
    None
}

/// Undoes maud's escaping of attribute values.
pub(crate) fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// How many times `needle` occurs in `hay`.
pub(crate) fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// The 32 hex digits of an order id, as pages write it in `data-order`.
pub(crate) fn hex(id: OrderId) -> String {
    orderflow::app::OrderRef::of(id).digits().to_string()
}

#[tokio::test]
async fn a_person_logs_in_and_a_wrong_password_does_not() {
    let site = WebSite::with_grants(&[Grant::Role(orderflow_schemas::Role::Sales)]).await;
    let sales = site.login(Grant::Role(orderflow_schemas::Role::Sales)).await;
    assert!(sales.csrf().is_none() || sales.csrf().is_some_and(|t| !t.is_empty()));
    let other = site.anonymous();
    let refused = other.log_in("sales", "not-the-password").await;
    assert_eq!(refused.status, 403, "a wrong password was let in: {}", refused.body);
    assert!(!other.has_cookie("of_session"), "a refused login set a session cookie");
    site.stop().await;
}
