//! The browser of the web tests: Debian's `chromedriver` started for the test on a free port
//! (killed on drop), headless Chromium sessions driven over WebDriver ([`fantoccini`]), waits
//! with deadlines, the login form filled in as a person does, and what a failing test leaves
//! behind: a screenshot and the HTML of every open session under
//! `target/browser-failures/<test>/` (the path is printed).

use std::future::Future;
use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use serde_json::{json, Value};

/// Debian's `chromium-driver` (`$CHROMEDRIVER_BIN` instead when set).
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's `chromium` (`$CHROMIUM_BIN` instead when set).
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
/// How to get both on a machine that lacks them.
const INSTALL: &str = "run ./test.sh (it installs them), or `apt-get install -y chromium chromium-driver`";

/// Chromium's flags for these machines (../shared/design/WEB.md): headless, as root, and none of
/// its own calls to the network (which refuses them); the profile directory and the window size
/// are added per session.
pub(crate) const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

/// How long chromedriver may take to answer on its port.
const DRIVER_READY: Duration = Duration::from_secs(20);
/// How often its `/status` is asked meanwhile.
const DRIVER_POLL: Duration = Duration::from_millis(50);
/// How long a page may take to show what a test waits for (an element, a live update, a URL).
pub(crate) const WAIT: Duration = Duration::from_secs(20);
/// How often a waited-for condition is checked.
const POLL: Duration = Duration::from_millis(100);
/// How long a page may take to load, and a script to run.
const PAGE_LOAD_MS: u64 = 30_000;

/// A laptop's window.
pub(crate) const DESKTOP: (u32, u32) = (1280, 900);
/// A phone's window (CSS pixels of a common phone).
pub(crate) const PHONE: (u32, u32) = (390, 844);

/// The environment variable that sends the screenshots of the pages into the repository
/// (`ORDERFLOW_SCREENSHOTS=docs/screenshots`); without it they go under the target directory.
pub(crate) const SCREENSHOTS_ENV: &str = "ORDERFLOW_SCREENSHOTS";

fn binary(env: &str, default: &str, what: &str) -> PathBuf {
    let p = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        p.is_file(),
        "{what} not found at {} (set {env} to use another): the browser tests need Debian's \
         chromium and chromium-driver; {INSTALL}",
        p.display()
    );
    p
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local address").port()
}

/// The target directory (`CARGO_TARGET_TMPDIR` is `<target>/tmp`).
fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().map_or_else(|| tmp.to_path_buf(), Path::to_path_buf)
}

/// A running chromedriver, killed on drop.
struct Driver {
    child: Child,
    url: String,
    log: PathBuf,
    chromium: PathBuf,
    _dir: tempfile::TempDir,
}

impl Driver {
    /// Starts chromedriver on a free port and waits (bounded) until its `/status` says ready.
    async fn start() -> Driver {
        let driver = binary("CHROMEDRIVER_BIN", CHROMEDRIVER, "chromedriver");
        let chromium = binary("CHROMIUM_BIN", CHROMIUM, "chromium");
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("chromedriver.log");
        let out = std::fs::File::create(&log).expect("chromedriver log file");
        let err = out.try_clone().expect("chromedriver log file");
        let port = free_port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL}", driver.display()));
        let mut d = Driver { child, url: format!("http://127.0.0.1:{port}"), log, chromium, _dir: dir };
        d.wait_ready().await;
        d
    }

    async fn wait_ready(&mut self) {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().expect("HTTP client");
        let status = format!("{}/status", self.url);
        let deadline = Instant::now() + DRIVER_READY;
        loop {
            if let Ok(r) = http.get(&status).send().await {
                if let Ok(v) = r.json::<Value>().await {
                    if v["value"]["ready"] == json!(true) {
                        return;
                    }
                }
            }
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("chromedriver exited ({exit}) before it answered on {status}:\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {status} within {DRIVER_READY:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(DRIVER_POLL).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser test: its chromedriver and the sessions it opened (each captured when the test
/// fails, closed when it ends).
pub(crate) struct Lab {
    test: &'static str,
    driver: Driver,
    open: Mutex<Vec<Session>>,
}

/// A session the test opened: its name, its client, and Chromium's process (killed when the
/// session cannot be closed: chromedriver leaves its browsers running when it is killed).
struct Session {
    name: String,
    client: Client,
    pid: Option<u64>,
}

impl Session {
    async fn close(self) {
        if self.client.close().await.is_err() {
            if let Some(pid) = self.pid {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
}

/// Runs the browser test `test`: starts chromedriver, runs `body`, and when it panics saves a
/// screenshot and the HTML of every session under `target/browser-failures/<test>/` before
/// the panic goes on. Sessions are closed either way.
pub(crate) async fn run<F, Fut>(test: &'static str, body: F)
where
    F: FnOnce(Arc<Lab>) -> Fut,
    Fut: Future<Output = ()>,
{
    let lab = Arc::new(Lab { test, driver: Driver::start().await, open: Mutex::new(Vec::new()) });
    let outcome = AssertUnwindSafe(body(lab.clone())).catch_unwind().await;
    if outcome.is_err() {
        lab.capture().await;
    }
    let open = std::mem::take(&mut *lab.open.lock().expect("sessions"));
    for session in open {
        session.close().await;
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

impl Lab {
    /// A new browser session (own profile, no cookies, a laptop's window) on the site at `base`.
    pub(crate) async fn open(&self, name: &str, base: &str) -> Browser {
        let profile = tempfile::tempdir().expect("browser profile dir");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={},{}", DESKTOP.0, DESKTOP.1));
        let caps = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": { "pageLoad": PAGE_LOAD_MS, "script": PAGE_LOAD_MS, "implicit": 0 },
            "goog:chromeOptions": {
                "binary": self.driver.chromium.display().to_string(),
                "args": args,
            },
        });
        let Value::Object(caps) = caps else { unreachable!("an object") };
        // Two rustls providers are compiled in (ring for NATS, aws-lc-rs through fantoccini), so
        // none is chosen by itself; chromedriver is plain HTTP, but the connector wants one.
        let _ = async_nats::rustls::crypto::ring::default_provider().install_default();
        let client = ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps)
            .connect(&self.driver.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not open a Chromium session: {e}\n{}\n({INSTALL})",
                    self.driver.log_text()
                )
            });
        let pid = client.capabilities().and_then(|c| c.get("goog:processID")).and_then(Value::as_u64);
        self.open.lock().expect("sessions").push(Session {
            name: name.to_string(),
            client: client.clone(),
            pid,
        });
        Browser { c: client, name: name.to_string(), base: base.to_string(), _profile: Arc::new(profile) }
    }

    /// Saves a screenshot and the HTML of every session under `target/browser-failures/<test>/`.
    async fn capture(&self) {
        let dir = target_dir().join("browser-failures").join(self.test);
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("browser test {}: cannot create {}: {e}", self.test, dir.display());
            return;
        }
        let open: Vec<(String, Client)> =
            self.open.lock().expect("sessions").iter().map(|s| (s.name.clone(), s.client.clone())).collect();
        for (name, c) in open {
            let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            if let Ok(png) = c.screenshot().await {
                let _ = std::fs::write(dir.join(format!("{name}.png")), png);
            }
            if let Ok(html) = c.source().await {
                let _ = std::fs::write(dir.join(format!("{name}.html")), format!("<!-- {url} -->\n{html}"));
            }
        }
        eprintln!(
            "browser test {} failed: screenshots and HTML of its pages in {}",
            self.test,
            dir.display()
        );
    }
}

/// Where the screenshots of the pages go: `$ORDERFLOW_SCREENSHOTS` (relative to the repository),
/// else `<target>/tmp/browser-screenshots`.
pub(crate) fn screenshots_dir() -> PathBuf {
    let dir = match std::env::var_os(SCREENSHOTS_ENV) {
        Some(d) if !d.is_empty() => Path::new(env!("CARGO_MANIFEST_DIR")).join(d),
        _ => Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots"),
    };
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// One WebDriver session: a browser window with its own profile.
#[derive(Clone)]
pub(crate) struct Browser {
    /// The session.
    pub(crate) c: Client,
    name: String,
    base: String,
    _profile: Arc<tempfile::TempDir>,
}

impl Browser {
    /// The session's name (as in the failure files).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Opens `path` of the site.
    pub(crate) async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.c.goto(&url).await.unwrap_or_else(|e| panic!("{}: open {url}: {e}", self.name));
    }

    /// The path (and query) of the page shown.
    pub(crate) async fn path(&self) -> String {
        let u = self.c.current_url().await.unwrap_or_else(|e| panic!("{}: current URL: {e}", self.name));
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    /// Waits (at most [`WAIT`]) until `css` matches an element of the page, and returns it.
    /// A page that is navigating answers a search with an error ("aborted by navigation") rather
    /// than "no such element": that is tried again too, until the deadline.
    pub(crate) async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            let error = match self.c.find(Locator::Css(css)).await {
                Ok(e) => return e,
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                let here = self.path().await;
                panic!("{}: no element `{css}` on {here} within {WAIT:?} ({error})", self.name)
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The elements `css` matches now (none is no error). A page in the middle of a navigation
    /// is asked again (within [`WAIT`]).
    pub(crate) async fn all(&self, css: &str) -> Vec<Element> {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.c.find_all(Locator::Css(css)).await {
                Ok(found) => return found,
                Err(e) if Instant::now() >= deadline => panic!("{}: find `{css}`: {e}", self.name),
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// Whether `css` matches an element now.
    pub(crate) async fn has(&self, css: &str) -> bool {
        !self.all(css).await.is_empty()
    }

    /// The attribute `name` of the element `css` (waited for).
    pub(crate) async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let e = self.find(css).await;
        e.attr(name).await.unwrap_or_else(|err| panic!("{}: `{css}` [{name}]: {err}", self.name))
    }

    /// The visible text of the element `css` (waited for).
    pub(crate) async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        e.text().await.unwrap_or_else(|err| panic!("{}: text of `{css}`: {err}", self.name))
    }

    /// The inner HTML of the element `css` (waited for).
    pub(crate) async fn inner_html(&self, css: &str) -> String {
        let e = self.find(css).await;
        e.html(true).await.unwrap_or_else(|err| panic!("{}: HTML of `{css}`: {err}", self.name))
    }

    /// Runs `script` in the page (its `arguments` are `args`) and returns what it returned.
    pub(crate) async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.c
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("{}: script failed: {e}\n{script}", self.name))
    }

    /// Waits (at most [`WAIT`]) until `check` gives `Some`, and returns it; `what` names the
    /// condition in the failure.
    pub(crate) async fn until<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(v) = check().await {
                return v;
            }
            if Instant::now() >= deadline {
                let here = self.path().await;
                panic!("{}: on {here}, {what} did not happen within {WAIT:?}", self.name);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the page's path (without the query) is `path`.
    pub(crate) async fn until_path(&self, path: &str) {
        self.until(&format!("arriving at {path}"), || async move {
            let now = self.path().await;
            (now.split('?').next() == Some(path)).then_some(())
        })
        .await
    }

    /// Sets a form field as a person would: types into a text field, picks an option of a
    /// select (by value), and for fields a keyboard fills in the locale's way (dates, numbers)
    /// sets the value and sends the `input` and `change` events.
    pub(crate) async fn set(&self, field: &Element, value: &str) {
        let tag = field.tag_name().await.unwrap_or_default().to_ascii_lowercase();
        let kind = field.attr("type").await.ok().flatten().unwrap_or_default().to_ascii_lowercase();
        if tag == "select" {
            field
                .select_by_value(value)
                .await
                .unwrap_or_else(|e| panic!("{}: no option {value:?} in a select: {e}", self.name));
        } else if ["date", "number", "datetime-local", "month"].contains(&kind.as_str()) || kind == "hidden" {
            let el = serde_json::to_value(field).expect("element reference");
            self.js(
                "arguments[0].value = arguments[1];
                 arguments[0].dispatchEvent(new Event('input', {bubbles: true}));
                 arguments[0].dispatchEvent(new Event('change', {bubbles: true}));
                 return arguments[0].value;",
                vec![el, json!(value)],
            )
            .await;
        } else {
            field.clear().await.unwrap_or_else(|e| panic!("{}: clear a field: {e}", self.name));
            field.send_keys(value).await.unwrap_or_else(|e| panic!("{}: type {value:?}: {e}", self.name));
        }
    }

    /// Sets the field `name` inside `form` (a CSS selector), the `nth` (0-based) of that name.
    pub(crate) async fn fill(&self, form: &str, name: &str, nth: usize, value: &str) {
        let css = &format!("{form} [name=\"{name}\"]");
        let fields = self
            .until(&format!("{} field(s) `{css}`", nth + 1), || async move {
                let all = self.all(css).await;
                (all.len() > nth).then_some(all)
            })
            .await;
        self.set(&fields[nth], value).await;
    }

    /// Clicks the element `css` (waited for).
    pub(crate) async fn click(&self, css: &str) {
        let e = self.find(css).await;
        e.click().await.unwrap_or_else(|err| panic!("{}: click `{css}`: {err}", self.name));
    }

    /// Logs in through the login form (`#login-form`) as `login`, and waits until the page is no
    /// longer the login page; returns where it went.
    pub(crate) async fn log_in(&self, login: &str, password: &str) -> String {
        self.goto("/login").await;
        self.log_in_here(login, password).await;
        self.until("leaving the login page", || async move {
            let now = self.path().await;
            (!now.starts_with("/login")).then_some(now)
        })
        .await
    }

    /// Fills in and sends the login form of the page shown (no wait for the result).
    pub(crate) async fn log_in_here(&self, login: &str, password: &str) {
        self.find("#login-form").await;
        self.fill("#login-form", "login", 0, login).await;
        self.fill("#login-form", "password", 0, password).await;
        self.click("#login-form #login-submit").await;
    }

    /// Logs out with the page's log-out button and waits for the login page.
    pub(crate) async fn log_out(&self) {
        self.click("form.logout button[type=submit]").await;
        self.until_path("/login").await;
    }

    /// Sets a marker on the page's `window`: a reload or a navigation loses it.
    pub(crate) async fn mark_window(&self, marker: &str) {
        self.js("window.__orderflowMarker = arguments[0]; return true;", vec![json!(marker)]).await;
    }

    /// The marker [`Browser::mark_window`] set, if the page still has it.
    pub(crate) async fn window_mark(&self) -> Option<String> {
        self.js("return window.__orderflowMarker || null;", vec![]).await.as_str().map(str::to_string)
    }

    /// Saves a PNG of the page as `<name>.png` and, in a phone's window, `<name>-phone.png`, in
    /// [`screenshots_dir`]; returns both paths.
    pub(crate) async fn shoot(&self, name: &str) -> [PathBuf; 2] {
        let dir = screenshots_dir();
        let desktop = dir.join(format!("{name}.png"));
        let phone = dir.join(format!("{name}-phone.png"));
        self.save_png(&desktop).await;
        self.resize(PHONE).await;
        self.save_png(&phone).await;
        self.resize(DESKTOP).await;
        [desktop, phone]
    }

    async fn resize(&self, (w, h): (u32, u32)) {
        self.c
            .set_window_size(w, h)
            .await
            .unwrap_or_else(|e| panic!("{}: resize to {w}x{h}: {e}", self.name));
    }

    async fn save_png(&self, path: &Path) {
        let png = self.c.screenshot().await.unwrap_or_else(|e| panic!("{}: screenshot: {e}", self.name));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}: the screenshot is not a PNG", self.name);
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}
