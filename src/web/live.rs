//! Live updates: one task follows the log's head and broadcasts, for every step, the new
//! position and the orders whose streams moved; `/events` sends them to a browser as
//! Server-Sent Events (`event: change`, `id:` the log position, `data:` JSON
//! `{"position":N,"orders":["<32 hex>",...],"many":false}`). A browser that reconnects sends
//! `Last-Event-ID`; when the log moved since, it gets one `many` change at the head at once (its
//! page refreshes every live part), then the stream as it goes on.
//!
//! Bounded: the broadcast keeps [`FEED_BUFFER`] changes (a stream that falls further behind gets
//! one `many` change instead of the ones it missed); one step reads at most [`FEED_READ_MAX`]
//! events (more make a `many` change); [`super::WebConfig::streams_max`] streams at once.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, StreamExt};
use orderflow_engine::EventLog;
use orderflow_schemas::OrderId;
use serde::Serialize;
use tokio::sync::{broadcast, watch, Semaphore};

use super::session::Who;
use super::{Web, WebError};

/// Changes the broadcast holds for slow streams.
pub const FEED_BUFFER: usize = 256;
/// Events read per step of the feed; a longer step is one `many` change.
pub const FEED_READ_MAX: usize = 512;
/// The keep-alive comment interval of an event stream.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One step of the log.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Change {
    /// The log position after the step.
    pub position: u64,
    /// The orders whose streams moved (32 hex digits each); empty with `many`.
    pub orders: Vec<String>,
    /// Too many to list: every live part refreshes.
    pub many: bool,
}

/// The feed of changes of one `serve`.
#[derive(Debug)]
pub struct Feed {
    tx: broadcast::Sender<Arc<Change>>,
    head: watch::Receiver<u64>,
    closing: watch::Sender<bool>,
    streams: Arc<Semaphore>,
}

/// Closes every event stream (at shutdown).
#[derive(Clone, Debug)]
pub struct Closing(watch::Sender<bool>);

impl Closing {
    /// Ends the streams.
    pub fn close(&self) {
        let _ = self.0.send(true);
    }
}

impl Feed {
    /// Starts following `log`.
    pub fn start(log: EventLog, streams_max: usize) -> (Feed, tokio::task::JoinHandle<()>) {
        let (tx, _) = broadcast::channel(FEED_BUFFER);
        let (closing, _) = watch::channel(false);
        let head = log.subscribe();
        let feed = Feed {
            tx: tx.clone(),
            head: head.clone(),
            closing,
            streams: Arc::new(Semaphore::new(streams_max)),
        };
        let task = tokio::spawn(follow(log, head, tx));
        (feed, task)
    }

    /// The handle that closes the streams.
    pub fn closing(&self) -> Closing {
        Closing(self.closing.clone())
    }

    /// A receiver of the changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// The log's head now.
    pub fn head(&self) -> u64 {
        *self.head.borrow()
    }
}

async fn follow(log: EventLog, mut head: watch::Receiver<u64>, tx: broadcast::Sender<Arc<Change>>) {
    let mut seen = log.head();
    loop {
        if head.changed().await.is_err() {
            return;
        }
        let now = *head.borrow_and_update();
        while seen < now {
            let events = match log.read_from(seen + 1, FEED_READ_MAX) {
                Ok(events) => events,
                Err(e) => {
                    tracing::warn!(error = %e, "The web feed cannot read the log; live pages refresh whole.");
                    let _ = tx.send(Arc::new(Change { position: now, orders: Vec::new(), many: true }));
                    seen = now;
                    break;
                }
            };
            let Some(last) = events.last().map(|e| e.position) else { break };
            let mut orders: Vec<String> = events
                .iter()
                .filter(|e| !orderflow_schemas::is_reserved_stream(e.stream))
                .map(|e| OrderId(e.stream).0.simple().to_string())
                .collect();
            orders.sort_unstable();
            orders.dedup();
            seen = last;
            let _ = tx.send(Arc::new(Change { position: last, orders, many: false }));
        }
    }
}

fn sse(change: &Change) -> SseEvent {
    SseEvent::default()
        .event("change")
        .id(change.position.to_string())
        .data(serde_json::to_string(change).unwrap_or_else(|_| "{}".into()))
}

/// `GET /events`: the changes as Server-Sent Events, for a logged-in person.
pub async fn events(State(web): State<Web>, who: Who, headers: HeaderMap) -> Response {
    let Ok(permit) = Arc::clone(&web.feed.streams).try_acquire_owned() else {
        return WebError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            who.lang.t(
                "Too many live pages are open; this one does not update by itself.",
                "打开的实时页面过多；本页不会自动更新。",
                "打開的即時頁面過多；本頁不會自動更新。",
            ),
        )
        .lang(who.lang)
        .into_response();
    };
    let rx = web.feed.subscribe();
    let head = web.feed.head();
    let resumed =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let first: Vec<Arc<Change>> = match resumed {
        Some(last) if last < head => {
            vec![Arc::new(Change { position: head, orders: Vec::new(), many: true })]
        }
        _ => Vec::new(),
    };
    let mut closing = web.feed.closing.subscribe();
    let closed = async move {
        let _ = closing.wait_for(|c| *c).await;
    };
    let heads = web.feed.head.clone();
    let changes = stream::unfold((rx, head, heads), |(mut rx, seen, heads)| async move {
        loop {
            match rx.recv().await {
                Ok(c) if c.position <= seen => continue,
                Ok(c) => {
                    let at = c.position;
                    return Some((c, (rx, at, heads)));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let at = *heads.borrow();
                    let many = Arc::new(Change { position: at, orders: Vec::new(), many: true });
                    return Some((many, (rx, at, heads)));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let all = stream::iter(first).chain(changes).take_until(closed).map(move |c| {
        // The permit is held as long as the stream is open.
        let _held = &permit;
        Ok::<_, Infallible>(sse(&c))
    });
    Sse::new(all).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response()
}

/// Event streams open now.
pub fn streams_open(web: &Web) -> usize {
    web.config.streams_max - web.feed.streams.available_permits()
}
