//! A live page whose event stream breaks resumes where it stopped: the browser's `EventSource`
//! reconnects by itself with `Last-Event-ID`, the server answers with one change at the log's
//! head, and the page refreshes its live parts (`body[data-position]` is the head) without a
//! reload. The browser reaches the site through a relay the test cuts ([`super::proxy`]).

use orderflow_schemas::{Grant, Role};

use super::harness::{run, Browser};
use super::proxy::Relay;
use crate::web::support::{hex, login_of, password_of, WebSite};

/// `body[data-position]`, the log position the page last showed (app.js sets it).
async fn position(b: &Browser) -> Option<u64> {
    b.attr("body", "data-position").await?.parse().ok()
}

async fn stream(b: &Browser) -> Option<String> {
    b.attr("body", "data-stream").await
}

#[tokio::test]
async fn a_reconnecting_event_stream_resumes_at_the_log_head_without_a_reload() {
    run("resume", |lab| async move {
        let site = WebSite::with_grants(&[Grant::Role(Role::Sales)]).await;
        let addr = site.base.trim_start_matches("http://").parse().expect("the site's address");
        let relay = &Relay::start(addr).await;
        let b = &lab.open("sales", &relay.base()).await;
        let login = login_of(Grant::Role(Role::Sales));
        let landed = b.log_in(&login, &password_of(&login)).await;
        assert_eq!(landed.split('?').next(), Some("/orders"), "the login went to {landed}");
        b.find("tbody#board-rows[data-live-src]").await;
        b.until("the board's event stream opening", || async move {
            (stream(b).await.as_deref() == Some("open")).then_some(())
        })
        .await;
        b.mark_window("kept").await;

        // A first change reaches the page live: it now knows a log position (its Last-Event-ID).
        let first = site.exec(Grant::Role(Role::Sales), None, crate::faults::receive("First Foods")).await;
        let head = site.head();
        b.until("the first change reaching the board", || async move {
            (position(b).await == Some(head)).then_some(())
        })
        .await;
        b.find(&format!("tbody#board-rows tr[data-order=\"{}\"]", hex(first.order_id))).await;

        // The network fails; meanwhile another order comes in, which the page cannot see.
        relay.cut();
        b.until("the page noticing the broken stream", || async move {
            (stream(b).await.as_deref() == Some("reconnecting")).then_some(())
        })
        .await;
        let relayed = relay.relayed();
        let second = site.exec(Grant::Role(Role::Sales), None, crate::faults::receive("Second Foods")).await;
        let missed = site.head();
        assert!(missed > head, "the second order did not move the log");
        assert_eq!(position(b).await, Some(head), "the page saw a change while its stream was cut");

        // The network is back: the stream reconnects and resumes at the head.
        relay.reopen();
        b.until("the reconnected stream bringing the page to the log's head", || async move {
            (position(b).await == Some(missed)).then_some(())
        })
        .await;
        assert!(relay.relayed() > relayed, "the page reached the head without reconnecting");
        assert_eq!(stream(b).await.as_deref(), Some("open"), "the stream is not open again");
        let row = format!("tbody#board-rows tr[data-order=\"{}\"]", hex(second.order_id));
        assert!(b.has(&row).await, "the board did not refresh its rows with the order it missed");
        assert_eq!(b.window_mark().await.as_deref(), Some("kept"), "the board was reloaded, not refreshed");
        site.stop().await;
    })
    .await;
}
