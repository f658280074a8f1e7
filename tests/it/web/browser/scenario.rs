//! One order's way through the pages in browsers, as the people do it: sales (in Chinese) logs
//! in and enters an order with two lines; the four reviewing departments approve it from their
//! queues in another browser, while sales' order page and a manager's board (a third browser)
//! update by themselves (no reload); sales confirms it; logistics ships it from the order page;
//! the customer's tracking link, opened without cookies, shows the shipment and nothing
//! internal; the statistics draw their charts; the auditor sees the chain verified. Screenshots
//! of the board, the order page, the queue, the statistics and the tracking page, in Chinese
//! (`NAME.png`) and English (`NAME-en.png`), in a laptop's and a phone's window.

use orderflow_commands::OrderState;
use orderflow_schemas::{Department, Grant, OrderId, OrderStatus, Role};

use super::harness::{run, Browser};
use crate::web::support::{hex, login_of, password_of, WebSite};

/// The order page's live part.
const LIVE: &str = "#order-live";

/// How long the manager's board may take to show an approval by itself. The issue asks for
/// "within a second"; the measured delay is printed, and this bound (five times that) keeps a
/// loaded, shared test machine from failing a run that works (the benchmark measures the delay).
const BOARD_UPDATE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// Logs in `b` as `grant`'s test person through the form; asserts it lands on the board.
async fn log_in(b: &Browser, grant: Grant) {
    let login = login_of(grant);
    let landed = b.log_in(&login, &password_of(&login)).await;
    assert_eq!(landed.split('?').next(), Some("/orders"), "{}: the login went to {landed}", b.name());
}

fn state(site: &WebSite, order: OrderId) -> OrderState {
    site.app.order(order).expect("the order").1
}

fn order_id(hex: &str) -> OrderId {
    OrderId(
        uuid::Uuid::parse_str(hex).unwrap_or_else(|e| panic!("data-order {hex:?} is not an order id: {e}")),
    )
}

/// A date `days` from today, as an `<input type=date>` takes it.
fn date_in(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).format("%Y-%m-%d").to_string()
}

/// The submit button of the form `form` (a CSS selector).
fn submit_of(form: &str) -> String {
    format!("{form} button:not([type=button]):not([type=reset]), {form} input[type=submit]")
}

/// Waits until the page shows `p.notice.done` (what was done), failing early on
/// `p.notice.error` with its words.
async fn until_done(b: &Browser, what: &str) {
    b.until(&format!("the notice that {what} was done"), || async move {
        if let Some(e) = b.all("p.notice.error").await.first() {
            let words = e.text().await.unwrap_or_default();
            panic!("{}: {what} was refused on {}: {words}", b.name(), b.path().await);
        }
        b.has("p.notice.done").await.then_some(())
    })
    .await;
}

/// Sales fills in the intake form: the order's fields, a first line, the add-line button, a
/// second line; sends it and returns the new order's id (from the order page it lands on).
async fn enter_order(sales: &Browser) -> String {
    sales.goto("/orders/new").await;
    let form = "form#intake";
    sales.find(form).await;
    for (name, value) in [
        ("customer", "华东食品有限公司"),
        ("contact", "王经理 138-0000-1234"),
        ("delivery_address", "上海市浦东新区张江路 88 号 3 号仓"),
        ("special_requirements", "冷藏 2–6 °C，托盘包装"),
    ] {
        sales.fill(form, name, 0, value).await;
    }
    sales.fill(form, "channel", 0, "phone").await;
    sales.fill(form, "currency", 0, "CNY").await;
    sales.fill(form, "requested_date", 0, &date_in(30)).await;

    let rows_before = sales.all(&format!("{form} [name=sku]")).await.len();
    assert!(rows_before >= 1, "the intake form has no line row to fill in");
    sales.click(&format!("{form} [data-add-line]")).await;
    sales
        .until("the add-line button adding a line row", || async move {
            (sales.all(&format!("{form} [name=sku]")).await.len() == rows_before + 1).then_some(())
        })
        .await;
    let lines =
        [("MILK-1L", "全脂 1 升", "120", "箱", "45.50"), ("YOG-200", "原味 200 克", "80", "箱", "32.00")];
    for (i, (sku, spec, quantity, unit, price)) in lines.into_iter().enumerate() {
        sales.fill(form, "sku", i, sku).await;
        sales.fill(form, "spec", i, spec).await;
        sales.fill(form, "quantity", i, quantity).await;
        sales.fill(form, "unit", i, unit).await;
        sales.fill(form, "unit_price", i, price).await;
    }
    sales.click("#intake-submit").await;
    sales
        .until("the intake form leading to the new order's page", || async move {
            if let Some(e) = sales.all(".field-error").await.first() {
                let field = e.attr("data-field").await.ok().flatten().unwrap_or_default();
                let words = e.text().await.unwrap_or_default();
                panic!("the intake form refused the field {field}: {words}");
            }
            let p = sales.path().await;
            let id = p.strip_prefix("/orders/")?.split(['?', '/']).next()?.to_string();
            (id.len() == 32 && sales.has("main#order").await).then_some(id)
        })
        .await;
    let shown = sales.attr("main#order", "data-order").await.unwrap_or_default();
    assert_eq!(shown.len(), 32, "main#order[data-order] is {shown:?}, not 32 hex digits");
    shown
}

/// Approves `order` from the queue of the person logged in in `b`: with the queue row's own
/// approve form when it has one, else on the order page the row links to.
async fn approve_from_queue(b: &Browser, order: &str) {
    let row = format!("table#queue tr[data-order=\"{order}\"]");
    let inline = format!("{row} form.action[data-action=approve]");
    if b.has(&inline).await {
        b.click(&submit_of(&inline)).await;
    } else {
        b.click(&format!("{row} a[href^=\"/orders/{order}\"]")).await;
        b.find(&format!("main#order[data-order=\"{order}\"]")).await;
        b.click(&submit_of("form.action[data-action=approve]")).await;
    }
    until_done(b, "the approval").await;
}

#[tokio::test]
async fn an_order_goes_from_intake_to_tracking_through_the_pages_and_updates_live() {
    run("scenario", |lab| async move {
        let site = WebSite::new().await;

        // Sales, in simplified Chinese, logs in and enters an order with two lines.
        let sales = &lab.open("sales", &site.base).await;
        sales.goto("/lang/zh-Hans?back=/login").await;
        log_in(sales, Grant::Role(Role::Sales)).await;
        assert_eq!(sales.attr("html", "lang").await.as_deref(), Some("zh-Hans"), "sales' pages are not Chinese");
        let order = enter_order(sales).await;
        let id = order_id(&order);
        assert_eq!(hex(id), order);
        let placed = state(&site, id);
        assert_eq!(placed.lines.len(), 2, "the order was recorded with {} lines, not 2", placed.lines.len());
        assert_eq!(placed.customer, "华东食品有限公司");
        assert_eq!(placed.lines[1].sku, "YOG-200");
        assert_eq!(placed.lines[0].unit_price_minor, 4_550, "45.50 was recorded as {}", placed.lines[0].unit_price_minor);

        // Sales' order page: live, with the steps; a marker on the window shows a reload.
        sales.find("main#order ol.steps").await;
        let live_src = sales.attr(LIVE, "data-live-src").await;
        assert_eq!(live_src, Some(format!("/orders/{order}/live")), "{LIVE}[data-live-src]");
        assert_eq!(sales.attr(LIVE, "data-live-order").await.as_deref(), Some(order.as_str()));
        sales.until("the event stream opening", || async move {
            (sales.attr("body", "data-stream").await.as_deref() == Some("open")).then_some(())
        })
        .await;
        sales.mark_window("before the approval").await;
        let live_before = sales.inner_html(LIVE).await;
        let approved_chips = format!("{LIVE} .chip.approved");
        let chips_before = sales.all(&approved_chips).await.len();

        // A manager (the head of sales, in English) watches the board in a third browser.
        let manager = &lab.open("manager", &site.base).await;
        log_in(manager, Grant::DeptHead(Role::Sales)).await;
        let board_row = format!("table#board tbody#board-rows tr[data-order=\"{order}\"]");
        manager.find(&board_row).await;
        manager
            .until("the manager's event stream opening", || async move {
                (manager.attr("body", "data-stream").await.as_deref() == Some("open")).then_some(())
            })
            .await;
        manager.mark_window("the board before the approvals").await;

        // Production approves from its queue, in another browser.
        let production = &lab.open("production", &site.base).await;
        log_in(production, Grant::Role(Role::Production)).await;
        production.goto("/queue").await;
        production.find(&format!("table#queue tr[data-order=\"{order}\"]")).await;
        production.shoot("queue-en").await;
        approve_from_queue(production, &order).await;
        let head = site.head();
        let reviewed = state(&site, id);
        assert_eq!(reviewed.status(), OrderStatus::InReview, "after production's approval");

        // Sales' page showed it by itself: the live part refreshed at the log's head, the
        // window is the same one (no reload).
        sales
            .until("sales' order page refreshing its live part", || async move {
                let at = sales.attr(LIVE, "data-position").await?.parse::<u64>().ok()?;
                (at >= head).then_some(())
            })
            .await;
        assert_ne!(sales.inner_html(LIVE).await, live_before, "{LIVE} refreshed but shows the same as before");
        let chips_after = sales.all(&approved_chips).await.len();
        assert_eq!(
            chips_after,
            chips_before + 1,
            "production's review chip: `{approved_chips}` {chips_before} before the approval, {chips_after} after"
        );
        assert_eq!(
            sales.window_mark().await.as_deref(),
            Some("before the approval"),
            "sales' order page was reloaded instead of updated in place"
        );

        // Finance approves from its queue in a browser of its own, in Chinese; procurement and
        // warehouse in production's browser, one after the other.
        let finance = &lab.open("finance", &site.base).await;
        finance.goto("/lang/zh-Hans?back=/login").await;
        log_in(finance, Grant::Role(Role::Finance)).await;
        finance.goto("/queue").await;
        finance.find(&format!("table#queue tr[data-order=\"{order}\"]")).await;
        finance.shoot("queue").await;
        approve_from_queue(finance, &order).await;
        for dept in [Department::Procurement, Department::Warehouse] {
            production.log_out().await;
            log_in(production, Grant::Role(dept.role())).await;
            production.goto("/queue").await;
            production.find(&format!("table#queue tr[data-order=\"{order}\"]")).await;
            approve_from_queue(production, &order).await;
        }
        assert_eq!(state(&site, id).status(), OrderStatus::Approved);
        let approved_at = std::time::Instant::now();

        // The manager's board showed the order approved by itself, without a reload.
        let badge_of_row = format!("{board_row} .badge[class*=\"state-\"]");
        let badge_of_row = badge_of_row.as_str();
        manager
            .until("the manager's board showing the order approved", || async move {
                let class = manager.attr(badge_of_row, "class").await?;
                class.split_whitespace().any(|c| c == "state-approved").then_some(())
            })
            .await;
        let board_delay = approved_at.elapsed();
        eprintln!("the board showed the approval {board_delay:?} after the last one was done");
        assert!(
            board_delay < BOARD_UPDATE_DEADLINE,
            "the board took {board_delay:?} to show the approval (more than {BOARD_UPDATE_DEADLINE:?})"
        );
        assert_eq!(
            manager.window_mark().await.as_deref(),
            Some("the board before the approvals"),
            "the manager's board was reloaded instead of updated in place"
        );
        manager.shoot("board-en").await;
        sales.goto("/orders").await;
        let row = format!("table#board tbody#board-rows tr[data-order=\"{order}\"]");
        let badge = sales.attr(&format!("{row} .badge[class*=\"state-\"]"), "class").await.unwrap_or_default();
        assert!(
            badge.split_whitespace().any(|c| c == "state-approved"),
            "the board's badge of the approved order has the classes {badge:?}"
        );
        sales.shoot("board").await;

        // Sales confirms with the customer.
        sales.goto(&format!("/orders/{order}")).await;
        let confirm = "form.action[data-action=confirm]";
        sales.find(confirm).await;
        for (name, value) in [
            ("promised_date", date_in(30)),
            ("expected_ship_date", date_in(27)),
            ("delivery_mode", "carrier".to_string()),
            ("confirmed_via", "phone".to_string()),
            ("note", "电话确认交期".to_string()),
        ] {
            if sales.has(&format!("{confirm} [name={name}]")).await {
                sales.fill(confirm, name, 0, &value).await;
            }
        }
        sales.click(&submit_of(confirm)).await;
        until_done(sales, "the confirmation").await;
        assert_eq!(state(&site, id).status(), OrderStatus::Confirmed, "after the confirm form");
        sales.shoot("order").await;

        // Production and quality do their part (not what this test is about); then logistics
        // ships from the order page, which opens for them because the shipment is their work.
        let today = orderflow::app::now().date();
        let schedule = orderflow_commands::ScheduleProduction { planned_finish: today, note: String::new() };
        site.exec(Grant::Role(Role::Production), Some(id), schedule.into()).await;
        let inspect = orderflow_commands::InspectQuality {
            result: orderflow_schemas::InspectionResult::Pass,
            note: String::new(),
        };
        site.exec(Grant::Role(Role::Quality), Some(id), inspect.into()).await;
        let complete = orderflow_commands::CompleteProduction { note: String::new() };
        site.exec(Grant::Role(Role::Production), Some(id), complete.into()).await;
        // The same browser as production's, procurement's and warehouse's: its third log-out
        // (each page's event stream is closed when it is left; see app.js).
        let logistics = production;
        logistics.log_out().await;
        log_in(logistics, Grant::Role(Role::Logistics)).await;
        logistics.goto(&format!("/orders/{order}")).await;
        let ship = "form.action[data-action=ship]";
        logistics.find(ship).await;
        for (name, value) in [
            ("carrier", "SF Express".to_string()),
            ("tracking_number", "SF7788990011".to_string()),
            ("eta", date_in(4)),
        ] {
            logistics.fill(ship, name, 0, &value).await;
        }
        logistics.click(&submit_of(ship)).await;
        until_done(logistics, "the shipment").await;
        assert_eq!(state(&site, id).status(), OrderStatus::Shipped, "after the ship form");
        logistics.shoot("order-en").await;

        // A tracking link, opened by the customer without cookies.
        sales.click(&submit_of("form#track-link-form")).await;
        let href = sales.attr("a#track-link", "href").await.unwrap_or_default();
        let track = href.find("/track/").map(|i| href[i..].to_string()).unwrap_or_else(|| {
            panic!("a#track-link[href] is {href:?}, not a /track/<token> link")
        });
        let customer = &lab.open("customer", &site.base).await;
        customer.goto(&track).await;
        let status = customer.text("main#track #track-status").await;
        assert!(!status.trim().is_empty(), "the tracking page's #track-status is empty");
        let shipment = customer.text("main#track #track-shipment").await;
        assert!(
            shipment.contains("SF7788990011") && shipment.contains("SF Express"),
            "the tracking page's shipment does not show the carrier and tracking number: {shipment}"
        );
        let whole = customer.inner_html("body").await;
        for internal in ["45.50", "4,550", "5,460", "¥", "电话确认交期", "Test ", "csrf"] {
            assert!(!whole.contains(internal), "the customer's tracking page shows {internal:?}");
        }
        let cookies = customer.c.get_all_cookies().await.expect("cookies");
        assert!(cookies.iter().all(|c| c.name() != "of_session"), "the customer got a session");
        customer.shoot("track-en").await;
        customer.click("nav.langs a.lang[lang=\"zh-Hans\"]").await;
        customer.until("the tracking page in Chinese", || async move {
            (customer.attr("html", "lang").await.as_deref() == Some("zh-Hans")).then_some(())
        })
        .await;
        customer.find("main#track #track-shipment").await;
        customer.shoot("track").await;

        // The statistics draw at least one chart, with its numbers beside it.
        sales.goto("/kpi").await;
        sales.find("main#kpi svg.chart[data-chart]").await;
        sales.find("main#kpi table").await;
        sales.find("main#kpi a#kpi-csv").await;
        sales.shoot("kpi").await;
        manager.goto("/kpi").await;
        manager.find("main#kpi svg.chart[data-chart]").await;
        manager.shoot("kpi-en").await;

        // The auditor (production's browser, its fourth log-out) sees the chain verified.
        production.goto("/orders").await;
        production.log_out().await;
        log_in(production, Grant::Role(Role::Auditor)).await;
        production.goto(&format!("/audit/{order}")).await;
        let ok = production.attr("main#audit #audit-verify", "data-ok").await;
        assert_eq!(ok.as_deref(), Some("true"), "the audit page's #audit-verify[data-ok]");
        production.find("main#audit a#audit-export").await;

        site.stop().await;
    })
    .await;
}
