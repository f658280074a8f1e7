//! The deadline watcher of `orderflow serve` (seed 000 四.4 "明確權限和時限"): a review (of an
//! order's revision, or of a change request) left undecided past its department's limit is
//! recorded once as `review_overdue`, escalated to that department's head.
//!
//! Exactly once, also across restarts and for reviews that fell due while `serve` was down:
//! - the watcher sweeps every open order at start and then every [`WATCH_EVERY_DEFAULT`], asking
//!   the order's state for its overdue reviews ([`OrderState::overdue_reviews`]), which leaves
//!   out the ones already recorded;
//! - each is recorded with [`Command::MarkOverdue`] through the [`App`], as orderflow itself
//!   ([`Principal::system`]), under a command id derived from (order, revision, change request,
//!   department) ([`overdue_command_id`]): a second attempt is a duplicate of the first, and the
//!   domain refuses a second record anyway (`AlreadyEscalated`).
//!
//! Work per tick is bounded ([`ORDERS_PER_TICK_DEFAULT`] orders loaded); a sweep of more orders
//! goes on at the next tick, which then follows at once ([`SWEEP_PAUSE`]) instead of after the
//! interval.

use std::collections::HashSet;
use std::time::Duration;

use orderflow_commands::{Command, MarkOverdue, OrderState, Rejection};
use orderflow_schemas::{OrderId, Role, Timestamp};
use tracing::{debug, info, warn};
use uuid::Uuid;

use crate::app::{App, AppError, Request};
use crate::auth::Principal;

/// How often the watcher sweeps the open orders, unless configured (`serve --watch-every-secs`).
pub const WATCH_EVERY_DEFAULT: Duration = Duration::from_secs(60);
/// Orders one tick loads at most, unless configured (`serve --watch-orders-per-tick`).
pub const ORDERS_PER_TICK_DEFAULT: usize = 500;
/// The pause between two ticks of one unfinished sweep.
pub const SWEEP_PAUSE: Duration = Duration::from_millis(50);

/// The namespace of the watcher's command ids (UUIDv5).
const OVERDUE_NAMESPACE: Uuid = Uuid::from_u128(0x6f72_6465_7266_6c6f_775f_6f76_6572_6475);

/// The command id of the overdue record of (order, revision, change request, department): the
/// same every time, so that recording it again is a duplicate.
pub fn overdue_command_id(order: OrderId, revision: u32, request: Option<u32>, role: Role) -> Uuid {
    let request = request.map_or_else(|| "-".to_string(), |r| r.to_string());
    let name = format!("review_overdue/{}/{revision}/{request}/{}", order.0.simple(), role.as_str());
    Uuid::new_v5(&OVERDUE_NAMESPACE, name.as_bytes())
}

/// How the watcher runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchConfig {
    /// The interval between sweeps.
    pub every: Duration,
    /// Orders one tick loads at most.
    pub orders_per_tick: usize,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self { every: WATCH_EVERY_DEFAULT, orders_per_tick: ORDERS_PER_TICK_DEFAULT }
    }
}

/// What one tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tick {
    /// Orders loaded.
    pub orders: usize,
    /// Overdue reviews recorded now.
    pub escalated: usize,
    /// Overdue reviews found recorded already (a duplicate command or `AlreadyEscalated`).
    pub already: usize,
    /// Records that failed (tried again at the next sweep).
    pub failed: usize,
    /// Whether the sweep reached the last order.
    pub sweep_done: bool,
}

/// The watcher's place in its sweep; orders seen finished are not loaded again.
#[derive(Debug, Default)]
pub struct Watcher {
    config: WatchConfig,
    /// The id the next tick starts from.
    cursor: u128,
    /// Orders that are no longer open (closed, cancelled, rejected): nothing can fall due there.
    finished: HashSet<Uuid>,
}

impl Watcher {
    /// A watcher at the start of its first sweep.
    pub fn new(config: WatchConfig) -> Self {
        Self { config, cursor: 0, finished: HashSet::new() }
    }

    /// One tick at `now`: up to `orders_per_tick` orders from the cursor on, each overdue review
    /// recorded.
    pub async fn tick(&mut self, app: &App, now: Timestamp) -> Result<Tick, AppError> {
        let mut tick = Tick::default();
        let ids = app.log().streams_with_prefix("", usize::MAX)?;
        let mut last = None;
        let ids: Vec<Uuid> = ids
            .into_iter()
            .filter(|id| {
                id.as_u128() >= self.cursor
                    && !orderflow_schemas::is_reserved_stream(*id)
                    && !self.finished.contains(id)
            })
            .collect();
        let mut todo = ids.into_iter().peekable();
        while tick.orders < self.config.orders_per_tick.max(1) {
            let Some(id) = todo.next() else { break };
            last = Some(id);
            tick.orders += 1;
            let (_, state) = app.order(OrderId(id))?;
            if !state.exists() || !state.status().is_open() {
                self.finished.insert(id);
                continue;
            }
            self.escalate(app, &state, now, &mut tick).await;
        }
        tick.sweep_done = todo.peek().is_none();
        self.cursor = match (tick.sweep_done, last) {
            (false, Some(id)) => id.as_u128().saturating_add(1),
            _ => 0,
        };
        Ok(tick)
    }

    /// Records the overdue reviews of one order.
    async fn escalate(&self, app: &App, state: &OrderState, now: Timestamp, tick: &mut Tick) {
        let order = state.order_id;
        for (revision, request_id, department, due) in state.overdue_reviews(now) {
            let command_id = overdue_command_id(order, revision, request_id, department);
            let req = Request {
                order_id: Some(order),
                command_id,
                principal: Principal::system(),
                at: None,
                late_reason: None,
                command: Command::MarkOverdue(MarkOverdue { revision, request_id, department }),
            };
            let what =
                request_id.map_or_else(|| format!("revision {revision}"), |r| format!("change request {r}"));
            match app.execute(req).await {
                Ok(done) if done.duplicate => tick.already += 1,
                Ok(_) => {
                    tick.escalated += 1;
                    info!(
                        order = %order,
                        review = %what,
                        department = department.as_str(),
                        due = %due,
                        escalated_to = %format!("dept_head:{}", department.as_str()),
                        "Review overdue; escalated to the department's head."
                    );
                }
                Err(AppError::Rejected(Rejection::AlreadyEscalated { .. })) => tick.already += 1,
                Err(AppError::Rejected(r)) => {
                    // Decided (or moved on) since the state was read: nothing is overdue any more.
                    debug!(order = %order, review = %what, department = department.as_str(), reason = %r, "Not overdue any more.");
                }
                Err(e) => {
                    tick.failed += 1;
                    warn!(order = %order, review = %what, department = department.as_str(), error = %e, "Cannot record an overdue review; tried again at the next sweep.");
                }
            }
        }
    }

    /// Runs until `stop` resolves: a sweep at once, then one every interval.
    pub async fn run(mut self, app: std::sync::Arc<App>, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut sweep = Tick::default();
        loop {
            let wait = match self.tick(&app, crate::app::now()).await {
                Ok(t) => {
                    sweep.orders += t.orders;
                    sweep.escalated += t.escalated;
                    sweep.already += t.already;
                    sweep.failed += t.failed;
                    if t.sweep_done {
                        info!(
                            orders = sweep.orders,
                            escalated = sweep.escalated,
                            already = sweep.already,
                            failed = sweep.failed,
                            "Deadline watcher: sweep done."
                        );
                        sweep = Tick::default();
                        self.config.every
                    } else {
                        SWEEP_PAUSE
                    }
                }
                Err(e) => {
                    warn!(error = %e, "Deadline watcher: the sweep failed; trying again after the interval.");
                    self.cursor = 0;
                    sweep = Tick::default();
                    self.config.every
                }
            };
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use orderflow_commands::{ApproveReview, ChangeOrder, LineEdit, LineUpdate, NewLine, ReceiveOrder};
    use orderflow_schemas::{Channel, Currency, Department, Grant, Initiator};

    use super::*;

    fn head(role: Role) -> Principal {
        Principal::unchecked(&format!("head.{}", role.as_str()), Grant::DeptHead(role))
    }

    /// `command` by the head of `role`, entered late for `at`.
    async fn late(app: &App, role: Role, order: Option<OrderId>, at: Timestamp, command: Command) -> OrderId {
        app.execute(Request {
            order_id: order,
            command_id: Uuid::new_v4(),
            principal: head(role),
            at: Some(at),
            late_reason: Some("paper entered late".into()),
            command,
        })
        .await
        .expect("a late entry")
        .order_id
    }

    fn receive() -> Command {
        Command::ReceiveOrder(ReceiveOrder {
            channel: Channel::Phone,
            customer: "Harbour Cafe".into(),
            contact: "buyer".into(),
            lines: vec![NewLine {
                sku: "MILK-1L".into(),
                spec: String::new(),
                quantity: 10,
                unit: "case".into(),
                unit_price_minor: 1_890,
            }],
            currency: Currency::parse("EUR").expect("currency"),
            requested_date: crate::app::now().date().plus_days(30),
            delivery_address: "Dock 1".into(),
            special_requirements: String::new(),
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bounded_ticks_record_each_overdue_review_once_and_change_requests_too() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let app = App::open(&tmp.path().join("data")).expect("open");
        let now = crate::app::now();
        // Three orders received 30 hours ago: four reviews each, 6 hours overdue (24 h limits).
        let mut orders = Vec::new();
        for _ in 0..3 {
            orders.push(late(&app, Role::Sales, None, now.plus_hours(-30), receive()).await);
        }
        // A fourth, approved 29 hours ago, then a change request 26 hours ago: five reviews of
        // request 1, 2 hours overdue.
        let changed = late(&app, Role::Sales, None, now.plus_hours(-30), receive()).await;
        for d in Department::ALL {
            let approve =
                Command::ApproveReview(ApproveReview { department: *d, revision: None, note: String::new() });
            late(&app, d.role(), Some(changed), now.plus_hours(-29), approve).await;
        }
        let change = Command::ChangeOrder(ChangeOrder {
            initiated_by: Initiator::Customer,
            reason: "more milk".into(),
            impact: Vec::new(),
            lines: vec![LineEdit::Update(LineUpdate {
                line_no: 1,
                quantity: Some(20),
                spec: None,
                unit_price_minor: None,
            })],
            requested_date: None,
            delivery_address: None,
        });
        late(&app, Role::Sales, Some(changed), now.plus_hours(-26), change).await;

        let mut watcher = Watcher::new(WatchConfig { every: WATCH_EVERY_DEFAULT, orders_per_tick: 3 });
        let first = watcher.tick(&app, now).await.expect("tick");
        assert_eq!(first.orders, 3, "bounded");
        assert!(!first.sweep_done);
        let second = watcher.tick(&app, now).await.expect("tick");
        assert_eq!(second.orders, 1);
        assert!(second.sweep_done);
        assert_eq!(first.escalated + second.escalated, 3 * 4 + 5);
        assert_eq!(first.failed + second.failed, 0);

        let (_, state) = app.order(changed).expect("state");
        let request: Vec<_> = state.escalated.iter().filter(|(_, r, _)| *r == Some(1)).collect();
        assert_eq!(request.len(), 5, "{:?}", state.escalated);

        // Another sweep finds nothing to record.
        let again = watcher.tick(&app, now).await.expect("tick");
        let again2 = watcher.tick(&app, now).await.expect("tick");
        assert_eq!(again.escalated + again2.escalated, 0);

        // The same record again: a duplicate by its command id; under another id, refused.
        let (order, role) = (orders[0], Role::Finance);
        let mark = || Command::MarkOverdue(MarkOverdue { revision: 1, request_id: None, department: role });
        let req = |command_id| Request {
            order_id: Some(order),
            command_id,
            principal: Principal::system(),
            at: None,
            late_reason: None,
            command: mark(),
        };
        let done = app.execute(req(overdue_command_id(order, 1, None, role))).await.expect("duplicate");
        assert!(done.duplicate);
        match app.execute(req(Uuid::new_v4())).await {
            Err(AppError::Rejected(Rejection::AlreadyEscalated { .. })) => {}
            other => panic!("expected AlreadyEscalated, got {other:?}"),
        }
        app.close().expect("close");
    }
}
