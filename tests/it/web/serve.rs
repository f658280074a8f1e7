//! `orderflow serve --http` as an operator runs it: the built binary on a data directory with no
//! broker, its ready line, `/healthz`, a login, the command line told where the pages are while
//! it holds the directory, and an orderly stop on SIGTERM.

use std::time::Duration;

use super::support::{Client, ADMIN};
use crate::service::{run_admin, Proc, BIN};

/// How long the binary may take to say it is ready or to stop.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn serve_http_alone_answers_and_stops_in_order() {
    let work = tempfile::tempdir().expect("temp dir");
    let data = work.path().join("data");
    let d = data.to_str().expect("UTF-8 path");
    run_admin(&["--data-dir", d, "users", "bootstrap", "--admin", ADMIN.0], &format!("{}\n", ADMIN.1)).await;

    let mut serve = Proc::spawn(&["--data-dir", d, "serve", "--http", "127.0.0.1:0"], work.path(), "serve");
    let ready = serve
        .next_line(PROCESS_TIMEOUT)
        .await
        .unwrap_or_else(|| panic!("serve --http printed no ready line: {}", serve.stderr()));
    assert!(ready.contains("ready") && ready.contains("(no NATS)"), "the ready line: {ready}");
    let addr = ready
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no web address in the ready line: {ready}"))
        .to_string();
    assert!(!addr.ends_with(":0"), "the ready line names the port bound, not 0: {ready}");
    let base = format!("http://{addr}");

    let health = reqwest::get(format!("{base}/healthz")).await.expect("GET /healthz");
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.expect("JSON");
    assert_eq!(body["ok"], true, "{body}");
    assert!(body["log_head"].as_u64().is_some_and(|h| h >= 1), "the directory's events: {body}");

    let admin = Client::new(&base, "en");
    let login = admin.log_in(ADMIN.0, ADMIN.1).await;
    assert_eq!(login.status, 303, "the admin's login: {}", login.body);
    assert!(admin.has_cookie("of_session"));

    // The command line finds the directory held and says where the pages are.
    let cli = std::process::Command::new(BIN)
        .args(["--data-dir", d, "status"])
        .env("ORDERFLOW_USER", ADMIN.0)
        .env("ORDERFLOW_PASSWORD", ADMIN.1)
        .env_remove("ORDERFLOW_NATS_URL")
        .env_remove("ORDERFLOW_DATA_DIR")
        .output()
        .expect("run orderflow status");
    assert!(!cli.status.success(), "status ran beside a serve holding the directory");
    let said = String::from_utf8_lossy(&cli.stderr);
    assert!(said.contains(&format!("http://{addr}")), "the refusal does not name the web pages: {said}");

    serve.terminate();
    let status = serve.wait_exit(PROCESS_TIMEOUT).await;
    assert!(status.success(), "serve exited with {status}: {}", serve.stderr());
    assert!(!data.join("serve.json").exists(), "an orderly stop removes serve.json");
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err(), "the pages still answer after the stop");
}
