//! The web pages over plain HTTP: every refusal answers with its status and a page that names the
//! problem in words (no Rust debug output), and writes nothing (the log's head does not move);
//! the security headers and the session cookie; the live feed (`/events`) with log positions as
//! ids, its limit, and its resumption; the `/orders/{id}/act` contract of `HELPERS.md`.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use orderflow::web::form::FIELDS_MAX;
use orderflow::web::BODY_BYTES_MAX;
use orderflow_commands::{Command, NewLine, ReceiveOrder};
use orderflow_schemas::{Currency, Department, Grant, OrderId, Role};

use super::support::{count, hex, input_value, login_of, password_of, Client, Page, WebSite};

/// How long a test waits for an answer or an event before failing (a bound, not a pause).
const WAIT: Duration = Duration::from_secs(20);

const SALES: Grant = Grant::Role(Role::Sales);
const PRODUCTION: Grant = Grant::Role(Role::Production);
const FINANCE: Grant = Grant::Role(Role::Finance);
const LOGISTICS: Grant = Grant::Role(Role::Logistics);
const SERVICE: Grant = Grant::Role(Role::CustomerService);

// ---------------------------------------------------------------------------------------------
// Helpers

/// The text a person sees: the tags of `html` removed, entities undone, spaces folded.
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    let text = super::support::unescape(&out);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of the first element whose opening tag contains `marker` (up to its closing tag).
fn element_text(html: &str, marker: &str) -> Option<String> {
    let at = html.find(marker)?;
    let open_end = at + html[at..].find('>')?;
    let tag_start = html[..at].rfind('<')?;
    let name: String = html[tag_start + 1..].chars().take_while(char::is_ascii_alphanumeric).collect();
    let close = format!("</{name}>");
    let end = open_end + html[open_end..].find(&close)?;
    Some(visible_text(&html[open_end + 1..end]))
}

/// What the page says about the refusal: the error page's message (`p.message`), a notice
/// (`p.notice.error`) or a field's error (`.field-error`), whichever comes first.
fn refusal_words(page: &Page) -> String {
    ["class=\"message\"", "class=\"notice error\"", "class=\"field-error\""]
        .iter()
        .filter_map(|m| page.body.find(m).map(|at| (at, *m)))
        .min()
        .and_then(|(_, m)| element_text(&page.body, m))
        .unwrap_or_default()
}

/// Debug output of Rust that must never reach a person.
const DEBUG_MARKS: [&str; 7] = ["Some(", "None)", "Err(", "Ok(", "{ ", " }", "::"];

/// Asserts that `page` answers `status`, names the problem in words (all of `words`, ignoring
/// case), and shows no Rust debug output anywhere in its visible text.
#[track_caller]
fn assert_refusal(page: &Page, status: u16, words: &[&str]) -> String {
    page.expect(status);
    let said = refusal_words(page);
    assert!(
        said.chars().filter(|c| c.is_alphabetic()).count() >= 5,
        "the {status} page names no problem in words: {}",
        page.body
    );
    let lower = said.to_lowercase();
    for w in words {
        assert!(lower.contains(&w.to_lowercase()), "the {status} page does not say {w:?}: {said}");
    }
    let text = visible_text(&page.body);
    for mark in DEBUG_MARKS {
        assert!(!text.contains(mark), "the {status} page shows debug output {mark:?}: {text}");
    }
    assert!(page.content_type.starts_with("text/html"), "the {status} page is {}", page.content_type);
    said
}

/// Asserts that the log did not move.
#[track_caller]
fn assert_unchanged(site: &WebSite, head: u64, what: &str) {
    assert_eq!(site.head(), head, "{what} wrote to the log");
}

/// Every `Set-Cookie` header of `page` for the cookie `name`.
fn set_cookies<'a>(page: &'a Page, name: &str) -> Vec<&'a str> {
    let prefix = format!("{name}=");
    page.headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with(&prefix))
        .collect()
}

/// A bare HTTP client that does not follow redirects.
fn bare_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(WAIT)
        .build()
        .expect("HTTP client")
}

/// The value of cookie `name` set by `resp`.
fn cookie_set_by(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&prefix).map(|rest| rest.split(';').next().unwrap_or("").to_string()))
        .filter(|v| !v.is_empty())
}

/// Logs in through the login form as `grant`'s person, asking to go to `next`; returns the
/// session id (the session cookie's value) and where the login redirected to.
async fn log_in_raw(
    site: &WebSite,
    login: &str,
    password: &str,
    next: &str,
) -> (Option<String>, u16, String) {
    let http = bare_http();
    let form = http.get(format!("{}/login", site.base)).send().await.expect("GET /login");
    let token = cookie_set_by(form.headers(), "of_login").expect("the login page sets of_login");
    let body = form.text().await.expect("login page");
    let field = input_value(&body, "login_csrf").expect("the login form carries login_csrf");
    let resp = http
        .post(format!("{}/login", site.base))
        .header(reqwest::header::COOKIE, format!("of_login={token}"))
        .form(&[("login", login), ("password", password), ("login_csrf", field.as_str()), ("next", next)])
        .send()
        .await
        .expect("POST /login");
    let status = resp.status().as_u16();
    let location =
        resp.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (cookie_set_by(resp.headers(), "of_session"), status, location)
}

/// The session id of `grant`'s person, logged in through the form.
async fn session_of(site: &WebSite, grant: Grant) -> String {
    let login = login_of(grant);
    let (sid, status, _) = log_in_raw(site, &login, &password_of(&login), "/orders").await;
    assert_eq!(status, 303, "the login of {login} failed");
    sid.unwrap_or_else(|| panic!("the login of {login} set no session cookie"))
}

/// A harness client holding the session `sid`.
fn client_with_session(site: &WebSite, sid: &str) -> Client {
    let c = site.anonymous();
    c.set_cookie("of_session", sid);
    c
}

/// Whether `page` is the redirect to the login page that a `GET` without a live session gets.
fn is_login_redirect(page: &Page) -> bool {
    page.status == 303 && page.location.as_deref().is_some_and(|l| l.starts_with("/login"))
}

/// The session's CSRF token, from the first page of the logged-in shell that shows it (every
/// page of a logged-in person carries it in its logout form).
async fn csrf_of(client: &Client, pages: &[&str]) -> String {
    for p in pages {
        let page = client.get(p).await;
        if page.status == 200 {
            if let Some(t) = page.input_value("csrf") {
                return t;
            }
        }
    }
    panic!("none of {pages:?} shows the session's CSRF token (the logout form carries it on every page)");
}

/// An order as sales receives it.
fn receive() -> Command {
    let today = orderflow::app::now().date();
    Command::ReceiveOrder(ReceiveOrder {
        channel: orderflow_schemas::Channel::Phone,
        customer: "Metro Hotels".into(),
        contact: "buyer@example.com".into(),
        lines: vec![NewLine {
            sku: "CHE-MOZ".into(),
            spec: String::new(),
            quantity: 4,
            unit: "kg".into(),
            unit_price_minor: 940,
        }],
        currency: Currency::parse("EUR").expect("EUR"),
        requested_date: today.plus_days(30),
        delivery_address: "Dock 4".into(),
        special_requirements: String::new(),
    })
}

/// A new order, received by sales.
async fn received(site: &WebSite) -> OrderId {
    site.exec(SALES, None, receive()).await.order_id
}

/// 32 random hex digits.
fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

// ---------------------------------------------------------------------------------------------
// Event streams

/// One change of `/events`.
#[derive(Debug)]
struct Change {
    id: u64,
    data: serde_json::Value,
}

/// An open `/events` stream.
struct Events {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

/// Opens `/events` with the session `sid` (and `Last-Event-ID` when given); the raw answer.
async fn open_events(site: &WebSite, sid: &str, last_event_id: Option<u64>) -> reqwest::Response {
    // No overall timeout: the stream stays open as long as the test reads it.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(WAIT)
        .build()
        .expect("HTTP client");
    let mut req = http
        .get(format!("{}/events", site.base))
        .header(reqwest::header::COOKIE, format!("of_session={sid}"));
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    tokio::time::timeout(WAIT, req.send()).await.expect("GET /events answers").expect("GET /events")
}

impl Events {
    /// The stream of an answer that must be an event stream.
    fn of(resp: reqwest::Response) -> Events {
        assert_eq!(resp.status().as_u16(), 200, "/events did not open a stream");
        let ct =
            resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(ct.starts_with("text/event-stream"), "/events answered {ct}");
        Events { body: resp.bytes_stream().boxed(), buf: String::new() }
    }

    /// The next `change` event (keep-alive comments skipped), failing after [`WAIT`].
    async fn next_change(&mut self) -> Change {
        let deadline = Instant::now() + WAIT;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::new(), None, String::new());
                for line in block.lines() {
                    let (k, v) = line.split_once(':').unwrap_or((line, ""));
                    let v = v.strip_prefix(' ').unwrap_or(v);
                    match k {
                        "event" => event = v.to_string(),
                        "id" => id = v.parse::<u64>().ok(),
                        "data" => data.push_str(v),
                        _ => {}
                    }
                }
                if event == "change" {
                    let id = id.unwrap_or_else(|| panic!("a change without a numeric id: {block}"));
                    let data =
                        serde_json::from_str(&data).unwrap_or_else(|e| panic!("change data {data}: {e}"));
                    return Change { id, data };
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = tokio::time::timeout(left, self.body.next())
                .await
                .expect("a change event arrives in time")
                .expect("the event stream stays open")
                .expect("the event stream reads");
            self.buf.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Foundation: health, headers, sessions, login

#[tokio::test]
async fn healthz_answers_json_with_the_log_head() {
    let site = WebSite::with_grants(&[]).await;
    let page = site.anonymous().get("/healthz").await;
    page.expect(200);
    assert!(page.content_type.starts_with("application/json"), "healthz is {}", page.content_type);
    let v: serde_json::Value = serde_json::from_str(&page.body).expect("healthz is JSON");
    assert_eq!(v["ok"], serde_json::json!(true), "{v}");
    assert_eq!(v["log_head"], serde_json::json!(site.head()), "{v}");
    assert!(site.work.path().join("data").is_dir(), "the site's data directory");
    site.stop().await;
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let site = WebSite::new().await;
    let anon = site.anonymous();
    let sales = site.login(SALES).await;
    let answers = [
        ("GET /healthz", anon.get("/healthz").await),
        ("GET /login", anon.get("/login").await),
        ("GET /orders without a session", anon.get("/orders").await),
        ("GET an unknown path", anon.get("/no/such/page").await),
        ("POST /logout without a session", anon.post("/logout", &[]).await),
        ("GET /orders logged in", sales.get("/orders").await),
        ("a wrong login", site.anonymous().log_in("sales", "not-the-password").await),
        ("a login", site.anonymous().log_in(&login_of(SALES), &password_of(&login_of(SALES))).await),
    ];
    for (what, page) in &answers {
        let h = |name: &str| page.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert_eq!(h("content-security-policy"), orderflow::web::CSP, "{what}: CSP");
        assert!(
            h("content-security-policy").contains("script-src 'self'"),
            "{what}: CSP allows other scripts"
        );
        assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(h("x-frame-options"), "DENY", "{what}");
        assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
        assert_eq!(h("cache-control"), "no-store", "{what}");
    }
    site.stop().await;
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_site_wide_and_expires() {
    let site = WebSite::with_grants(&[SALES]).await;
    let login = login_of(SALES);
    let page = site.anonymous().log_in(&login, &password_of(&login)).await;
    page.expect(303);
    let cookies = set_cookies(&page, "of_session");
    assert_eq!(cookies.len(), 1, "one session cookie: {cookies:?}");
    let attrs: Vec<String> = cookies[0].split(';').map(|a| a.trim().to_string()).collect();
    let value = attrs[0].strip_prefix("of_session=").expect("value");
    assert_eq!(value.len(), 32, "the session id is 128 random bits in hex: {value}");
    assert!(value.chars().all(|c| c.is_ascii_hexdigit()), "{value}");
    assert!(attrs.iter().any(|a| a.eq_ignore_ascii_case("HttpOnly")), "not HttpOnly: {attrs:?}");
    assert!(attrs.iter().any(|a| a == "SameSite=Strict"), "not SameSite=Strict: {attrs:?}");
    assert!(attrs.iter().any(|a| a == "Path=/"), "not Path=/: {attrs:?}");
    let max_age = attrs
        .iter()
        .find_map(|a| a.strip_prefix("Max-Age="))
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("the session cookie does not expire: {attrs:?}"));
    let idle = orderflow::web::session::SessionConfig::default().idle.as_secs();
    assert_eq!(max_age, idle, "the cookie lives as long as an idle session");
    // Two logins are two sessions.
    let again = site.anonymous().log_in(&login, &password_of(&login)).await;
    let other = set_cookies(&again, "of_session");
    assert_ne!(other.first().copied(), Some(cookies[0]), "a second login got the same session id");
    site.stop().await;
}

#[tokio::test]
async fn a_page_without_a_session_goes_to_the_login_and_comes_back() {
    let site = WebSite::with_grants(&[SALES]).await;
    let anon = site.anonymous();
    let page = anon.get("/orders?flag=overdue").await;
    page.expect(303);
    assert_eq!(page.location.as_deref(), Some("/login?next=/orders%3Fflag%3Doverdue"));
    let login = anon.get(page.location.as_deref().expect("location")).await;
    login.expect(200);
    assert_eq!(login.input_value("next").as_deref(), Some("/orders?flag=overdue"));
    let who = login_of(SALES);
    let (sid, status, to) = log_in_raw(&site, &who, &password_of(&who), "/orders?flag=overdue").await;
    assert_eq!(status, 303);
    assert!(sid.is_some(), "no session");
    assert_eq!(to, "/orders?flag=overdue", "the login does not come back to the page asked for");
    site.stop().await;
}

#[tokio::test]
async fn a_login_never_sends_the_person_to_another_site() {
    let site = WebSite::with_grants(&[SALES]).await;
    let who = login_of(SALES);
    for next in ["//evil.example/orders", "https://evil.example/", "/\\evil.example", "orders"] {
        let (sid, status, to) = log_in_raw(&site, &who, &password_of(&who), next).await;
        assert_eq!(status, 303, "{next}");
        assert!(sid.is_some(), "{next}: no session");
        assert_eq!(to, "/orders", "a login with next={next} went to {to}");
    }
    site.stop().await;
}

#[tokio::test]
async fn a_post_without_a_session_is_refused_in_words_and_writes_nothing() {
    let site = WebSite::with_grants(&[SALES]).await;
    let order = received(&site).await;
    let head = site.head();
    let anon = site.anonymous();
    let act = format!("/orders/{}/act", hex(order));
    let fields = [("action", "cancel"), ("reason", "test"), ("csrf", "0123456789abcdef0123456789abcdef")];
    for path in ["/logout", act.as_str(), "/orders/new", &format!("/orders/{}/track-links", hex(order))] {
        let page = anon.post(path, &fields).await;
        assert_refusal(&page, 403, &["log in"]);
        assert_unchanged(&site, head, path);
    }
    site.stop().await;
}

#[tokio::test]
async fn logout_without_its_token_is_refused_and_the_session_stays() {
    let site = WebSite::with_grants(&[SALES]).await;
    let sid = session_of(&site, SALES).await;
    let c = client_with_session(&site, &sid);
    let head = site.head();
    let missing = c.post_exact("/logout", &[]).await;
    assert_refusal(&missing, 403, &["token"]);
    let wrong = c.post("/logout", &[("csrf", "0123456789abcdef0123456789abcdef")]).await;
    assert_refusal(&wrong, 403, &["token"]);
    assert!(set_cookies(&wrong, "of_session").is_empty(), "a refused logout touched the cookie");
    assert_unchanged(&site, head, "a refused logout");
    // The session is still alive: a page is not a redirect to the login.
    let page = c.get("/orders").await;
    assert!(!is_login_redirect(&page), "a refused logout ended the session: {:?}", page.location);
    site.stop().await;
}

#[tokio::test]
async fn logout_with_its_token_ends_the_session_on_the_server() {
    let site = WebSite::with_grants(&[SALES]).await;
    let sid = session_of(&site, SALES).await;
    let c = client_with_session(&site, &sid);
    let token = csrf_of(&c, &["/orders", "/queue", "/kpi"]).await;
    let out = c.post("/logout", &[("csrf", token.as_str())]).await;
    out.expect(303);
    assert_eq!(out.location.as_deref(), Some("/login"));
    let cleared = set_cookies(&out, "of_session");
    assert!(cleared.iter().any(|c| c.contains("Max-Age=0")), "logout did not clear the cookie: {cleared:?}");
    // The same id sent again (a copied cookie) is no session any more.
    let replay = client_with_session(&site, &sid);
    let page = replay.get("/orders").await;
    assert!(
        is_login_redirect(&page),
        "the ended session still opens pages: {} {:?}",
        page.status,
        page.location
    );
    let post = replay.post("/logout", &[("csrf", token.as_str())]).await;
    assert_refusal(&post, 403, &["log in"]);
    site.stop().await;
}

#[tokio::test]
async fn a_forged_session_cookie_is_no_session() {
    let site = WebSite::with_grants(&[SALES]).await;
    let order = received(&site).await;
    let head = site.head();
    for forged in [random_hex(), "x".repeat(5000), String::new(), "../../etc".to_string()] {
        let c = client_with_session(&site, &forged);
        let page = c.get("/orders").await;
        assert!(is_login_redirect(&page), "a forged cookie {forged:?} opened a page: {}", page.status);
        let cleared = set_cookies(&page, "of_session");
        assert!(cleared.iter().any(|c| c.contains("Max-Age=0")), "the forged cookie is not cleared");
        c.set_cookie("of_session", &forged);
        let post = c
            .post(&format!("/orders/{}/act", hex(order)), &[("action", "cancel"), ("reason", "forged")])
            .await;
        assert_refusal(&post, 403, &["log in"]);
        assert_unchanged(&site, head, "a forged session");
    }
    // A browser that lost its cookie is no longer logged in, though its session lives on.
    let c = site.login(SALES).await;
    assert!(!is_login_redirect(&c.get("/orders").await), "a fresh login opens no page");
    c.drop_cookie("of_session");
    assert!(is_login_redirect(&c.get("/orders").await), "a page without the cookie");
    site.stop().await;
}

#[tokio::test]
async fn an_expired_session_is_no_session() {
    // Expiry is decided on the monotonic clock of the server; a limit of zero makes every session
    // expired at its first use, without waiting.
    for (what, tune) in [
        (
            "idle",
            (|mut c: orderflow::web::WebConfig| {
                c.sessions.idle = Duration::ZERO;
                c
            }) as fn(orderflow::web::WebConfig) -> orderflow::web::WebConfig,
        ),
        ("lifetime", |mut c: orderflow::web::WebConfig| {
            c.sessions.lifetime = Duration::ZERO;
            c
        }),
    ] {
        let site = WebSite::with_config(&[SALES], tune).await;
        let order = received(&site).await;
        let head = site.head();
        let sid = session_of(&site, SALES).await;
        let c = client_with_session(&site, &sid);
        let page = c.get("/orders").await;
        assert!(is_login_redirect(&page), "{what} 0: the session still opens pages ({})", page.status);
        let c = client_with_session(&site, &sid);
        let post = c
            .post(&format!("/orders/{}/act", hex(order)), &[("action", "cancel"), ("reason", "expired")])
            .await;
        assert_refusal(&post, 403, &["expired"]);
        assert_unchanged(&site, head, "an expired session");
        site.stop().await;
    }
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_repeated_failures_wait_longer() {
    use orderflow::auth::{failure_delay, FAILURES_FREE, FAILURE_DELAY_BASE, FAILURE_DELAY_MAX};
    assert_eq!(failure_delay(FAILURES_FREE - 1), Duration::ZERO);
    assert_eq!(failure_delay(FAILURES_FREE), FAILURE_DELAY_BASE);
    assert_eq!(failure_delay(FAILURES_FREE + 1), FAILURE_DELAY_BASE * 2);
    assert!(failure_delay(u32::MAX) <= FAILURE_DELAY_MAX);

    let site = WebSite::with_grants(&[SALES]).await;
    let head = site.head();
    let login = login_of(SALES);
    let mut took = Vec::new();
    for _ in 0..=FAILURES_FREE + 1 {
        let c = site.anonymous();
        let form = c.get("/login").await;
        let token = form.input_value("login_csrf").expect("login_csrf");
        let fields = [
            ("login".to_string(), login.clone()),
            ("password".to_string(), "not-the-password".to_string()),
            ("login_csrf".to_string(), token),
        ];
        let started = Instant::now();
        let page = c.post_exact("/login", &fields).await;
        took.push(started.elapsed());
        assert_refusal(&page, 403, &["wrong"]);
        assert!(!c.has_cookie("of_session"), "a refused login set a session cookie");
        assert!(!page.body.contains("not-the-password"), "the refused page repeats the password");
        assert_eq!(page.input_value("login").as_deref(), Some(login.as_str()), "the login is kept");
    }
    let free = usize::try_from(FAILURES_FREE).expect("small");
    assert!(took[free] >= FAILURE_DELAY_BASE, "failure {} waited only {:?}", free + 1, took[free]);
    assert!(
        took[free + 1] >= FAILURE_DELAY_BASE * 2,
        "failure {} waited only {:?}",
        free + 2,
        took[free + 1]
    );
    assert!(took[free + 1] < FAILURE_DELAY_MAX + WAIT, "the wait is not bounded: {:?}", took[free + 1]);
    // The right password after the failures also waits, then lets the person in (and resets).
    let started = Instant::now();
    let ok = site.anonymous().log_in(&login, &password_of(&login)).await;
    ok.expect(303);
    assert!(started.elapsed() >= FAILURE_DELAY_BASE * 4, "the right password skipped the wait");
    assert_unchanged(&site, head, "failed logins");
    site.stop().await;
}

#[tokio::test]
async fn a_login_without_its_form_token_is_refused() {
    let site = WebSite::with_grants(&[SALES]).await;
    let head = site.head();
    let login = login_of(SALES);
    let password = password_of(&login);
    // No token at all (a form posted from elsewhere).
    let c = site.anonymous();
    let fields = [("login".to_string(), login.clone()), ("password".to_string(), password.clone())];
    let page = c.post_exact("/login", &fields).await;
    assert_refusal(&page, 403, &["expired"]);
    assert!(!c.has_cookie("of_session"), "a login without its token set a session");
    // The field without the cookie that binds it to this browser.
    let form = site.anonymous().get("/login").await;
    let token = form.input_value("login_csrf").expect("login_csrf");
    let with_field = [
        ("login".to_string(), login.clone()),
        ("password".to_string(), password.clone()),
        ("login_csrf".to_string(), token),
    ];
    let c = site.anonymous();
    let page = c.post_exact("/login", &with_field).await;
    assert_refusal(&page, 403, &["expired"]);
    assert!(!c.has_cookie("of_session"), "a login with another browser's token set a session");
    // This browser's cookie with a wrong field.
    let c = site.anonymous();
    c.get("/login").await;
    let wrong = [
        ("login".to_string(), login.clone()),
        ("password".to_string(), password.clone()),
        ("login_csrf".to_string(), random_hex()),
    ];
    let page = c.post_exact("/login", &wrong).await;
    assert_refusal(&page, 403, &["expired"]);
    assert!(!c.has_cookie("of_session"), "a login with a wrong token set a session");
    assert_unchanged(&site, head, "refused logins");
    site.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_unread() {
    let site = WebSite::with_grants(&[SALES]).await;
    let head = site.head();
    let big = format!("login=sales&password={}", "p".repeat(BODY_BYTES_MAX + 1));
    let page = site.anonymous().post_body("/login", big.clone()).await;
    let said = assert_refusal(&page, 413, &["KiB"]);
    assert!(said.contains(&(BODY_BYTES_MAX / 1024).to_string()), "the limit is not named: {said}");
    // Logged in, on a form of the pages: the same, and the session stays.
    let sid = session_of(&site, SALES).await;
    let c = client_with_session(&site, &sid);
    let page = c.post_body("/logout", format!("csrf=x&note={}", "n".repeat(BODY_BYTES_MAX + 1))).await;
    assert_refusal(&page, 413, &["KiB"]);
    assert!(!is_login_redirect(&c.get("/orders").await), "a refused body ended the session");
    assert_unchanged(&site, head, "a body over the limit");
    site.stop().await;
}

#[tokio::test]
async fn a_form_with_too_many_fields_is_refused() {
    let site = WebSite::with_grants(&[SALES]).await;
    let head = site.head();
    let body = (0..=FIELDS_MAX).map(|i| format!("f{i}=1")).collect::<Vec<_>>().join("&");
    assert!(body.len() < BODY_BYTES_MAX, "the test must hit the field limit, not the size limit");
    let page = site.anonymous().post_body("/login", body.clone()).await;
    let status = page.status;
    assert!(status == 400 || status == 413, "too many fields answered {status}");
    let said = assert_refusal(&page, status, &["fields"]);
    assert!(said.contains(&FIELDS_MAX.to_string()), "the limit is not named: {said}");
    let sid = session_of(&site, SALES).await;
    let page = client_with_session(&site, &sid).post_body("/logout", body).await;
    assert_refusal(&page, status, &["fields"]);
    assert_unchanged(&site, head, "too many fields");
    site.stop().await;
}

#[tokio::test]
async fn an_unknown_path_is_a_404_in_words() {
    let site = WebSite::with_grants(&[SALES]).await;
    let anon = site.anonymous();
    for path in ["/no/such/page", "/orders/x/y/z"] {
        let page = anon.get(path).await;
        assert_refusal(&page, 404, &[]);
    }
    // An unknown asset is asked for by a page's markup, not by a person: a plain 404.
    anon.get("/assets/no-such.js").await.expect(404);
    let page = anon.get("/nothing-here").await;
    assert_refusal(&page, 404, &["no such page"]);
    let zh = site.anonymous().with_lang("zh-CN").get("/nothing-here").await;
    assert_refusal(&zh, 404, &["没有这个页面"]);
    site.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Live feed

#[tokio::test]
async fn events_without_a_session_are_refused() {
    let site = WebSite::with_grants(&[SALES]).await;
    let page = site.anonymous().get("/events").await;
    assert!(is_login_redirect(&page), "/events without a session answered {}", page.status);
    assert_eq!(page.location.as_deref(), Some("/login?next=/events"));
    assert!(!page.content_type.starts_with("text/event-stream"), "an event stream without a session");
    let forged = open_events(&site, &random_hex(), None).await;
    assert_eq!(forged.status().as_u16(), 303, "/events with a forged session");
    site.stop().await;
}

#[tokio::test]
async fn events_beyond_streams_max_are_busy_and_the_count_comes_back() {
    let site = WebSite::with_config(&[SALES], |mut c| {
        c.streams_max = 2;
        c
    })
    .await;
    let sid = session_of(&site, SALES).await;
    let first = Events::of(open_events(&site, &sid, None).await);
    let second = Events::of(open_events(&site, &sid, None).await);
    let busy = open_events(&site, &sid, None).await;
    assert_eq!(busy.status().as_u16(), 503, "a third stream beyond streams_max = 2");
    let ct = busy
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = busy.text().await.expect("503 page");
    let page = Page { status: 503, location: None, content_type: ct, headers: Default::default(), body };
    assert_refusal(&page, 503, &["live"]);
    // The streams still open work.
    let mut second = second;
    let order = received(&site).await;
    let change = second.next_change().await;
    assert_eq!(change.id, site.head());
    assert!(change.data["orders"].as_array().is_some_and(|o| o.contains(&serde_json::json!(hex(order)))));
    // Closing one gives its place back: the server sees the closed connection (at once, or at
    // its next write: the change of a command) and releases the stream.
    drop(first);
    let deadline = Instant::now() + WAIT;
    let mut third = loop {
        let resp = open_events(&site, &sid, None).await;
        if resp.status().as_u16() == 200 {
            break Events::of(resp);
        }
        assert_eq!(resp.status().as_u16(), 503);
        assert!(Instant::now() < deadline, "a closed stream never gave its place back");
        // Make the server write to every stream, so that it notices the closed one.
        site.exec(SALES, None, receive()).await;
        tokio::task::yield_now().await;
    };
    let order = received(&site).await;
    let change = third.next_change().await;
    assert_eq!(change.id, site.head());
    assert!(change.data["orders"].as_array().is_some_and(|o| o.contains(&serde_json::json!(hex(order)))));
    drop(second);
    site.stop().await;
}

#[tokio::test]
async fn a_command_reaches_the_event_stream_with_its_log_position() {
    let site = WebSite::with_grants(&[SALES, PRODUCTION]).await;
    let sid = session_of(&site, SALES).await;
    let mut events = Events::of(open_events(&site, &sid, None).await);
    let done = site.exec(SALES, None, receive()).await;
    let change = events.next_change().await;
    let last = done.first_position + u64::try_from(done.events.len()).expect("small") - 1;
    assert_eq!(change.id, last, "the change's id is the log position after the command");
    assert_eq!(change.id, site.head());
    assert_eq!(change.data["position"], serde_json::json!(last), "{}", change.data);
    assert_eq!(change.data["many"], serde_json::json!(false), "{}", change.data);
    assert_eq!(change.data["orders"], serde_json::json!([hex(done.order_id)]), "{}", change.data);
    // The next command on the same order: the next change, with its own position.
    let approve = Command::ApproveReview(orderflow_commands::ApproveReview {
        department: Department::Production,
        revision: None,
        note: String::new(),
    });
    let done2 = site.exec(PRODUCTION, Some(done.order_id), approve).await;
    let change = events.next_change().await;
    assert!(change.id > last, "the ids grow");
    assert_eq!(change.id, done2.first_position + u64::try_from(done2.events.len()).expect("small") - 1);
    assert_eq!(change.data["orders"], serde_json::json!([hex(done.order_id)]));
    site.stop().await;
}

#[tokio::test]
async fn a_stream_resumed_behind_the_head_gets_one_many_change_at_once() {
    let site = WebSite::with_grants(&[SALES]).await;
    let sid = session_of(&site, SALES).await;
    let before = site.head();
    received(&site).await;
    received(&site).await;
    let head = site.head();
    assert!(head > before);
    let mut behind = Events::of(open_events(&site, &sid, Some(before)).await);
    let change = behind.next_change().await;
    assert_eq!(change.id, head, "the resumed stream jumps to the head");
    assert_eq!(change.data["many"], serde_json::json!(true), "{}", change.data);
    assert_eq!(change.data["position"], serde_json::json!(head));
    // A stream resumed at the head gets nothing at once: its first change is the next command's.
    let mut current = Events::of(open_events(&site, &sid, Some(head)).await);
    let order = received(&site).await;
    let change = current.next_change().await;
    assert_eq!(change.data["many"], serde_json::json!(false), "a stream at the head got a many change");
    assert_eq!(change.data["orders"], serde_json::json!([hex(order)]));
    assert_eq!(change.id, site.head());
    // The stream that jumped goes on with the same command.
    let change = behind.next_change().await;
    assert_eq!(change.id, site.head());
    assert_eq!(change.data["orders"], serde_json::json!([hex(order)]));
    site.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The /orders/{id}/act contract (HELPERS.md), intake and tracking

/// `POST /orders/<order>/act` as `c` with `fields` and the session's token (a fresh command id),
/// asserting that nothing was written: the log's head is the same after the answer as before it.
/// (Opening the order page records the read in the archive, so the head is taken here, not at
/// the start of a test.)
async fn refused_act(site: &WebSite, c: &Client, order: &str, token: &str, fields: &[(&str, &str)]) -> Page {
    let mut all: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    all.push(("csrf".into(), token.to_string()));
    all.push(("command_id".into(), uuid::Uuid::new_v4().to_string()));
    let head = site.head();
    let page = c.post_exact(&format!("/orders/{order}/act"), &all).await;
    assert_unchanged(site, head, &format!("a refused action {fields:?} ({})", page.status));
    page
}

/// A person logged in as `grant` and their session's token (from the order page).
async fn actor(site: &WebSite, grant: Grant, order: OrderId) -> (Client, String) {
    let c = site.login(grant).await;
    let token = csrf_of(&c, &[&format!("/orders/{}", hex(order)), "/orders"]).await;
    (c, token)
}

#[tokio::test]
async fn act_without_or_with_a_wrong_token_is_refused() {
    let site = WebSite::with_grants(&[SALES, PRODUCTION]).await;
    let order = received(&site).await;
    let c = site.login(PRODUCTION).await;
    let (_, sales_token) = actor(&site, SALES, order).await;
    let path = format!("/orders/{}/act", hex(order));
    let fields = [
        ("action".to_string(), "approve".to_string()),
        ("department".to_string(), "production".to_string()),
        ("command_id".to_string(), uuid::Uuid::new_v4().to_string()),
    ];
    let head = site.head();
    let missing = c.post_exact(&path, &fields).await;
    assert_refusal(&missing, 403, &["token"]);
    assert_unchanged(&site, head, "an action without a token");
    let page = refused_act(
        &site,
        &c,
        &hex(order),
        &random_hex(),
        &[("action", "approve"), ("department", "production")],
    )
    .await;
    assert_refusal(&page, 403, &["token"]);
    // Another person's token is as wrong as a made-up one.
    let page = refused_act(
        &site,
        &c,
        &hex(order),
        &sales_token,
        &[("action", "approve"), ("department", "production")],
    )
    .await;
    assert_refusal(&page, 403, &["token"]);
    site.stop().await;
}

#[tokio::test]
async fn act_in_another_departments_name_is_refused() {
    let site = WebSite::with_grants(&[SALES, FINANCE, SERVICE]).await;
    let order = received(&site).await;
    let id = hex(order);
    let (finance, token) = actor(&site, FINANCE, order).await;
    let page =
        refused_act(&site, &finance, &id, &token, &[("action", "approve"), ("department", "production")])
            .await;
    assert_refusal(&page, 403, &[]);
    assert!(page.body.contains("notice error"), "the refusal is not on the order page: {}", page.body);
    let (sales, token) = actor(&site, SALES, order).await;
    let page =
        refused_act(&site, &sales, &id, &token, &[("action", "approve"), ("department", "production")]).await;
    assert_refusal(&page, 403, &[]);
    // Customer service may not ship: a permission (403), whatever the order's state.
    let (service, token) = actor(&site, SERVICE, order).await;
    let fields = [
        ("action", "ship"),
        ("carrier", "DHL"),
        ("mode", "road"),
        ("tracking_number", "T1"),
        ("eta", "2099-01-01"),
    ];
    let page = refused_act(&site, &service, &id, &token, &fields).await;
    assert_refusal(&page, 403, &[]);
    site.stop().await;
}

#[tokio::test]
async fn act_refused_by_the_rules_is_409_in_words() {
    let site = WebSite::with_grants(&[SALES, PRODUCTION, LOGISTICS]).await;
    let order = received(&site).await;
    let id = hex(order);
    // Finishing production of an order that is only received: the order page, with the refusal.
    let (production, token) = actor(&site, PRODUCTION, order).await;
    let page =
        refused_act(&site, &production, &id, &token, &[("action", "complete"), ("note", "done")]).await;
    assert_refusal(&page, 409, &[]);
    assert!(page.body.contains("notice error"), "the refusal is not on the order page: {}", page.body);
    assert!(page.body.contains(&format!("data-order=\"{id}\"")), "not the order page: {}", page.body);
    // Shipping an order that is only received (logistics may ship; the rules say not yet), and
    // delivering it. (Logistics may not read an order before its part begins: the refusal comes
    // on an error page, in words.)
    let (logistics, token) = actor(&site, LOGISTICS, order).await;
    let eta = orderflow::app::now().date().plus_days(3).to_string();
    let fields = [
        ("action", "ship"),
        ("carrier", "DHL"),
        ("mode", "road"),
        ("tracking_number", "T1"),
        ("eta", eta.as_str()),
    ];
    let page = refused_act(&site, &logistics, &id, &token, &fields).await;
    assert_refusal(&page, 409, &[]);
    let page = refused_act(&site, &logistics, &id, &token, &[("action", "deliver"), ("note", "")]).await;
    assert_refusal(&page, 409, &[]);
    site.stop().await;
}

#[tokio::test]
async fn act_with_a_bad_field_is_400_naming_it() {
    let site = WebSite::with_grants(&[SALES, PRODUCTION]).await;
    let order = received(&site).await;
    let id = hex(order);
    let (production, token) = actor(&site, PRODUCTION, order).await;
    let page =
        refused_act(&site, &production, &id, &token, &[("action", "fly"), ("department", "production")])
            .await;
    assert_refusal(&page, 400, &["fly"]);
    let page = refused_act(&site, &production, &id, &token, &[("department", "production")]).await;
    assert_refusal(&page, 400, &["action"]);
    let page = refused_act(&site, &production, &id, &token, &[("action", "approve")]).await;
    assert_refusal(&page, 400, &["department"]);
    let page =
        refused_act(&site, &production, &id, &token, &[("action", "approve"), ("department", "kitchen")])
            .await;
    assert_refusal(&page, 400, &["kitchen"]);
    // A foreign `back` is never followed.
    let fields = [("action", "approve"), ("department", "production"), ("back", "//evil.example")];
    let page = refused_act(&site, &production, &id, &token, &fields).await;
    assert_refusal(&page, 400, &["back"]);
    site.stop().await;
}

#[tokio::test]
async fn act_on_an_unknown_order_is_404() {
    let site = WebSite::with_grants(&[SALES, PRODUCTION]).await;
    let order = received(&site).await;
    let (production, token) = actor(&site, PRODUCTION, order).await;
    let fields = [("action", "approve"), ("department", "production")];
    let page = refused_act(&site, &production, &random_hex(), &token, &fields).await;
    assert_refusal(&page, 404, &[]);
    let page = refused_act(&site, &production, "not-an-order", &token, &fields).await;
    assert_refusal(&page, 404, &[]);
    site.stop().await;
}

#[tokio::test]
async fn intake_without_a_customer_is_400_naming_it() {
    let site = WebSite::with_grants(&[SALES]).await;
    let head = site.head();
    let sales = site.login(SALES).await;
    let token = csrf_of(&sales, &["/orders/new", "/orders"]).await;
    let requested = orderflow::app::now().date().plus_days(30).to_string();
    let fields: Vec<(String, String)> = [
        ("csrf", token.as_str()),
        ("command_id", &uuid::Uuid::new_v4().to_string()),
        ("customer", ""),
        ("contact", "buyer@example.com"),
        ("channel", "phone"),
        ("currency", "EUR"),
        ("requested_date", &requested),
        ("delivery_address", "Dock 4"),
        ("special_requirements", ""),
        ("sku", "CHE-MOZ"),
        ("spec", ""),
        ("quantity", "4"),
        ("unit", "kg"),
        ("unit_price", "9.40"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let page = sales.post_exact("/orders/new", &fields).await;
    assert_refusal(&page, 400, &[]);
    let said = element_text(&page.body, "data-field=\"customer\"")
        .unwrap_or_else(|| panic!("no inline error on the customer field: {}", page.body));
    assert!(
        said.chars().filter(|c| c.is_alphabetic()).count() >= 5,
        "the customer's error says nothing: {said}"
    );
    assert_unchanged(&site, head, "an intake without a customer");
    site.stop().await;
}

#[tokio::test]
async fn an_unknown_tracking_link_is_404() {
    let site = WebSite::with_grants(&[SALES]).await;
    received(&site).await;
    let head = site.head();
    let anon = site.anonymous();
    for token in [random_hex(), "a".repeat(32), "x".repeat(300)] {
        let page = anon.get(&format!("/track/{token}")).await;
        assert_refusal(&page, 404, &[]);
        assert_eq!(count(&page.body, "Metro Hotels"), 0, "an unknown link shows an order");
    }
    assert_unchanged(&site, head, "unknown tracking links");
    site.stop().await;
}
