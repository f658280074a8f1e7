//! The order page `/orders/{id}`, its live part and its actions (`POST /orders/{id}/act`), over
//! HTTP: what it shows, which forms it offers to whom, and that every refusal writes nothing.

use orderflow::app::Request;
use orderflow::auth::Auth;
use orderflow_commands::{ApproveReview, Command, NewLine, ReceiveOrder};
use orderflow_schemas::{Channel, Currency, Department, Grant, OrderId, Role};
use uuid::Uuid;

use super::support::{count, hex, login_of, Client, WebSite, ADMIN};

const SALES: Grant = Grant::Role(Role::Sales);
const PRODUCTION: Grant = Grant::Role(Role::Production);
const FINANCE: Grant = Grant::Role(Role::Finance);
/// Logistics' head, who reads every order.
const LOGISTICS: Grant = Grant::DeptHead(Role::Logistics);
/// The logistics clerk: the archive rule lets logistics read an order only once logistics worked
/// on it, but the page opens for them when it has work for them (ready to ship).
const LOGISTICS_CLERK: Grant = Grant::Role(Role::Logistics);

fn receive() -> Command {
    Command::ReceiveOrder(ReceiveOrder {
        channel: Channel::Email,
        customer: "Yili Dairy Co".into(),
        contact: "Ms Wang, +86 471 555 0101".into(),
        lines: vec![
            NewLine {
                sku: "MILK-1L".into(),
                spec: "UHT, 12 per case".into(),
                quantity: 120,
                unit: "case".into(),
                unit_price_minor: 4_850,
            },
            NewLine {
                sku: "CUP-200".into(),
                spec: String::new(),
                quantity: 40,
                unit: "pcs".into(),
                unit_price_minor: 99,
            },
        ],
        currency: Currency::parse("CNY").expect("currency"),
        requested_date: orderflow::app::now().date().plus_days(21),
        delivery_address: "Hohhot, Jinshan Development Zone, Gate 3".into(),
        special_requirements: "Keep below 6 °C".into(),
    })
}

fn approve(department: Department, note: &str) -> Command {
    Command::ApproveReview(ApproveReview { department, revision: None, note: note.into() })
}

/// A site and an order received by sales.
async fn site_with_order() -> (WebSite, OrderId) {
    let site = WebSite::new().await;
    let order = site.exec(SALES, None, receive()).await.order_id;
    (site, order)
}

/// A logged-in client that has opened the order page (so its CSRF token is known).
async fn on_page(site: &WebSite, grant: Grant, order: OrderId) -> (Client, String) {
    let c = site.login(grant).await;
    let page = c.get(&format!("/orders/{}", hex(order))).await;
    page.expect(200);
    (c, page.body)
}

fn has_form(body: &str, action: &str, department: Option<&str>) -> bool {
    let tag = match department {
        Some(d) => format!(r#"data-action="{action}" data-department="{d}""#),
        None => format!(r#"data-action="{action}""#),
    };
    body.contains(&tag)
}

#[tokio::test]
async fn the_page_shows_the_facts_lines_reviews_and_timeline() {
    let (site, order) = site_with_order().await;
    site.exec(PRODUCTION, Some(order), approve(Department::Production, "capacity on line 2")).await;
    // A late entry by the head of finance, with its reason.
    let login = login_of(Grant::DeptHead(Role::Finance));
    let user = site.app.auth().directory().expect("directory").by_login(&login).cloned().expect("user");
    let command = approve(Department::Finance, "credit fine");
    let received_at = site.app.order(order).expect("order").1.received_at.expect("received");
    let principal = Auth::principal(&user, None, Some(&command)).expect("principal");
    site.app
        .execute(Request {
            order_id: Some(order),
            command_id: Uuid::new_v4(),
            principal,
            at: Some(received_at),
            late_reason: Some("decided on paper during the outage".into()),
            command,
        })
        .await
        .expect("late approval");

    let (sales, body) = on_page(&site, SALES, order).await;
    let h = hex(order);
    assert!(body.contains(&format!(r#"<main id="order" data-order="{h}""#)), "{body}");
    assert!(
        body.contains(&format!(r#"id="order-live" data-live-src="/orders/{h}/live" data-live-order="{h}""#))
    );
    assert!(body.contains(r#"<ol class="steps""#));
    assert!(body.contains(r#"<li class="current" data-step="in_review""#), "the current step: {body}");
    assert!(body.contains(r#"<li class="done" data-step="received""#));
    for fact in [
        "Yili Dairy Co",
        "Ms Wang, +86 471 555 0101",
        "E-mail",
        "Hohhot, Jinshan Development Zone, Gate 3",
        "Keep below 6 °C",
        "¥5,859.60",
    ] {
        assert!(body.contains(&maud::html! { (fact) }.into_string()), "fact {fact} missing");
    }
    assert!(body.contains(r#"<dl class="facts">"#));
    for line in ["MILK-1L", "UHT, 12 per case", "CUP-200", "case", "¥48.50"] {
        assert!(body.contains(line), "line {line} missing");
    }
    assert!(body.contains(r#"data-department="production" data-decision="approved""#));
    assert!(body.contains("capacity on line 2"));
    assert!(body.contains(r#"data-department="procurement""#) && body.contains("Pending"));
    assert!(body.contains(r#"<ul class="timeline">"#));
    assert!(body.contains(r#"data-event="order_received""#) && body.contains("Order received"));
    assert!(body.contains(r#"data-event="review_approved""#));
    assert!(body.contains(r#"<span class="flag late">"#), "the late entry is flagged");
    assert!(body.contains("decided on paper during the outage"));

    // The live part is the inner HTML of #order-live.
    let live = sales.get(&format!("/orders/{h}/live")).await;
    live.expect(200);
    assert!(live.content_type.starts_with("text/html"), "{}", live.content_type);
    // One `li` per event of the order but the archive reads (counted below the list).
    let (version, _) = site.app.order(order).expect("order");
    let reads = count(&live.body, r#"data-event="archive_accessed""#);
    assert_eq!(reads, 0, "archive reads are not listed");
    let listed = count(&live.body, "<li data-version=");
    // received, two approvals: viewing an order still being worked on records nothing.
    assert_eq!((listed, version), (3, 3), "{listed} entries of {version} events");
    assert!(!live.body.contains("Archive reads recorded"), "{}", live.body);
    assert!(!live.body.contains("<html") && !live.body.contains(r#"id="order-live""#));
    assert!(live.body.contains(r#"<ol class="steps""#) && live.body.contains(r#"<ul class="timeline">"#));
    site.stop().await;
}

#[tokio::test]
async fn an_approval_by_production_applies_once_and_comes_back_done() {
    let (site, order) = site_with_order().await;
    let h = hex(order);
    let (production, body) = on_page(&site, PRODUCTION, order).await;
    assert!(has_form(&body, "approve", Some("production")), "production's approve form: {body}");
    let id = Uuid::new_v4().to_string();
    let fields = [
        ("action", "approve"),
        ("department", "production"),
        ("revision", "1"),
        ("note", "two shifts"),
        ("command_id", id.as_str()),
    ];
    let before = site.head();
    let done = production.post(&format!("/orders/{h}/act"), &fields).await;
    done.expect(303);
    assert_eq!(done.location.as_deref(), Some(format!("/orders/{h}?done=approve").as_str()));
    let after = site.head();
    assert!(after > before, "the log head did not move");
    let (_, state) = site.app.order(order).expect("order");
    assert_eq!(state.decisions.get(&Department::Production), Some(&orderflow_commands::Decision::Approved));

    // The same form again: the same command, applied once.
    let again = production.post(&format!("/orders/{h}/act"), &fields).await;
    again.expect(303);
    assert_eq!(site.head(), after, "a double submit wrote again");
    let (_, state) = site.app.order(order).expect("order");
    assert_eq!(state.reviews.iter().filter(|r| r.department == Department::Production).count(), 1);

    // The page says it was done, and offers production no approval any more.
    let page = production.get(done.location.as_deref().expect("location")).await;
    page.expect(200);
    assert!(page.body.contains(r#"class="notice done""#), "{}", page.body);
    assert!(!has_form(&page.body, "approve", Some("production")));
    assert!(!has_form(&page.body, "reject", Some("production")));

    // `back` is where it goes, with done appended.
    let (finance, _) = on_page(&site, FINANCE, order).await;
    let back = finance
        .post(
            &format!("/orders/{h}/act"),
            &[("action", "approve"), ("department", "finance"), ("back", "/queue")],
        )
        .await;
    back.expect(303);
    assert_eq!(back.location.as_deref(), Some("/queue?done=approve"));
    site.stop().await;
}

#[tokio::test]
async fn another_department_is_refused_403_and_nothing_is_written() {
    let (site, order) = site_with_order().await;
    let h = hex(order);
    let (finance, body) = on_page(&site, FINANCE, order).await;
    assert!(!has_form(&body, "approve", Some("production")));
    let before = site.head();
    let refused = finance
        .post(
            &format!("/orders/{h}/act"),
            &[("action", "approve"), ("department", "production"), ("note", "x")],
        )
        .await;
    refused.expect(403);
    assert!(refused.body.contains(r#"class="notice error""#), "{}", refused.body);
    assert!(refused.body.contains("may not issue"), "the refusal in words: {}", refused.body);
    assert_eq!(site.head(), before);
    let (_, state) = site.app.order(order).expect("order");
    assert!(state.reviews.is_empty());
    site.stop().await;
}

#[tokio::test]
async fn a_rule_refusal_is_409_with_words_and_a_bad_field_400_naming_it() {
    let (site, order) = site_with_order().await;
    let h = hex(order);
    let (logistics, _) = on_page(&site, LOGISTICS, order).await;
    let before = site.head();
    let eta = orderflow::app::now().date().plus_days(3).to_string();
    let ship = [
        ("action", "ship"),
        ("carrier", "SF Express"),
        ("mode", "road"),
        ("tracking_number", "SF123"),
        ("eta", eta.as_str()),
    ];
    let refused = logistics.post(&format!("/orders/{h}/act"), &ship).await;
    refused.expect(409);
    assert!(refused.body.contains(r#"class="notice error""#));
    assert!(refused.body.contains("cannot ship"), "{}", refused.body);
    assert!(refused.body.contains(r#"<main id="order""#), "the page is shown again");
    assert_eq!(site.head(), before);

    let (production, _) = on_page(&site, PRODUCTION, order).await;
    let before = site.head();
    let bad = production
        .post(&format!("/orders/{h}/act"), &[("action", "approve"), ("department", "canteen")])
        .await;
    bad.expect(400);
    assert!(bad.body.contains("The field department"), "{}", bad.body);
    let bad_date = logistics
        .post(
            &format!("/orders/{h}/act"),
            &[
                ("action", "ship"),
                ("carrier", "SF"),
                ("mode", "road"),
                ("tracking_number", "1"),
                ("eta", "soon"),
            ],
        )
        .await;
    bad_date.expect(400);
    assert!(bad_date.body.contains("The field eta"), "{}", bad_date.body);
    let no_reason = production
        .post(&format!("/orders/{h}/act"), &[("action", "reject"), ("department", "production")])
        .await;
    no_reason.expect(400);
    assert!(no_reason.body.contains("The field reason is required"), "{}", no_reason.body);
    let elsewhere = production
        .post(
            &format!("/orders/{h}/act"),
            &[("action", "approve"), ("department", "production"), ("back", "//evil.example/")],
        )
        .await;
    elsewhere.expect(400);
    assert!(elsewhere.body.contains("The field back"));
    assert_eq!(site.head(), before, "a bad field wrote");

    // Without the form's token nothing is done either.
    let forged = production
        .post(
            &format!("/orders/{h}/act"),
            &[("action", "approve"), ("department", "production"), ("csrf", "forged")],
        )
        .await;
    forged.expect(403);
    assert_eq!(site.head(), before);
    site.stop().await;
}

#[tokio::test]
async fn the_forms_offered_follow_the_role_and_the_step() {
    let (site, order) = site_with_order().await;
    let (_, sales) = on_page(&site, SALES, order).await;
    assert!(!has_form(&sales, "approve", None), "sales sees an approve form");
    assert!(has_form(&sales, "cancel", None) && has_form(&sales, "change", None));
    assert!(!has_form(&sales, "confirm", None), "confirm before approval");
    let (_, production) = on_page(&site, PRODUCTION, order).await;
    assert!(has_form(&production, "approve", Some("production")));
    assert!(has_form(&production, "reject", Some("production")));
    assert!(!has_form(&production, "approve", Some("finance")));
    assert!(!has_form(&production, "schedule", None));
    let (_, logistics) = on_page(&site, LOGISTICS, order).await;
    assert!(!has_form(&logistics, "ship", None));

    for d in Department::ALL {
        let grant = Grant::Role(d.role());
        site.exec(grant, Some(order), approve(*d, "")).await;
    }
    let (_, production) = on_page(&site, PRODUCTION, order).await;
    assert!(!has_form(&production, "approve", Some("production")), "approve after the decision");
    let (_, sales) = on_page(&site, SALES, order).await;
    assert!(has_form(&sales, "confirm", None), "sales confirms an approved order");
    assert!(sales.contains(r#"<li class="current" data-step="approved""#));
    let (production, _) = on_page(&site, PRODUCTION, order).await;
    assert!(!has_form(&production.get(&format!("/orders/{}", hex(order))).await.body, "schedule", None));

    // Sales confirms through the page; then production may schedule, and sales no longer confirms.
    let (clerk, _) = on_page(&site, SALES, order).await;
    let today = orderflow::app::now().date();
    let (promised, ships) = (today.plus_days(20).to_string(), today.plus_days(15).to_string());
    let confirmed = clerk
        .post(
            &format!("/orders/{}/act", hex(order)),
            &[
                ("action", "confirm"),
                ("promised_date", promised.as_str()),
                ("expected_ship_date", ships.as_str()),
                ("delivery_mode", "carrier"),
                ("confirmed_via", "email"),
                ("note", "read back to Ms Wang"),
            ],
        )
        .await;
    confirmed.expect(303);
    let after = production.get(&format!("/orders/{}", hex(order))).await.body;
    assert!(has_form(&after, "schedule", None), "production schedules a confirmed order");
    assert!(after.contains(r#"<li class="current" data-step="confirmed""#));
    assert!(after.contains(r#"<li class="done" data-step="approved""#));
    let (_, sales) = on_page(&site, SALES, order).await;
    assert!(!has_form(&sales, "confirm", None), "the revision is confirmed: no second confirm form");
    assert!(!has_form(&sales, "approve", None));
    site.stop().await;
}

#[tokio::test]
async fn a_person_with_two_grants_acts_in_one_per_form_and_decides_for_one_department() {
    let (site, order) = site_with_order().await;
    let dir = site.app.auth().directory().expect("directory");
    let admin = dir.by_login(ADMIN.0).cloned().expect("admin");
    let by = Auth::principal(&admin, Some("admin"), None).expect("admin principal");
    site.app
        .auth()
        .add_user(&by, "two-hats", "Two Hats", vec![PRODUCTION, FINANCE], "two-hats-secret")
        .await
        .expect("add the user");
    let c = site.login_as("two-hats", "two-hats-secret").await;
    let h = hex(order);
    let page = c.get(&format!("/orders/{h}")).await;
    page.expect(200);
    assert!(
        has_form(&page.body, "approve", Some("production"))
            && has_form(&page.body, "approve", Some("finance"))
    );
    assert!(page.body.contains(r#"<input type="hidden" name="as" value="production">"#), "{}", page.body);
    assert!(page.body.contains(r#"<input type="hidden" name="as" value="finance">"#));
    let done = c
        .post(
            &format!("/orders/{h}/act"),
            &[("action", "approve"), ("department", "production"), ("as", "production")],
        )
        .await;
    done.expect(303);
    // One person decides for one department: finance's form is gone for them.
    let page = c.get(&format!("/orders/{h}")).await;
    assert!(!has_form(&page.body, "approve", Some("finance")), "a second department offered");
    let before = site.head();
    let refused = c
        .post(
            &format!("/orders/{h}/act"),
            &[("action", "approve"), ("department", "finance"), ("as", "finance")],
        )
        .await;
    refused.expect(409);
    assert!(refused.body.contains("one person decides for one department"), "{}", refused.body);
    assert_eq!(site.head(), before);
    site.stop().await;
}

#[tokio::test]
async fn unknown_orders_are_404_and_a_reader_without_the_right_403() {
    let (site, order) = site_with_order().await;
    let sales = site.login(SALES).await;
    let missing = sales.get(&format!("/orders/{}", Uuid::new_v4().simple())).await;
    missing.expect(404);
    let prefix = sales.get("/orders/ffffff00").await;
    assert!(prefix.status == 404 || hex(order).starts_with("ffffff00"), "{}", prefix.body);
    let live = sales.get(&format!("/orders/{}/live", Uuid::new_v4().simple())).await;
    live.expect(404);
    let admin = site.login(Grant::Role(Role::Admin)).await;
    let refused = admin.get(&format!("/orders/{}", hex(order))).await;
    refused.expect(403);
    assert!(refused.body.contains("may not read"), "{}", refused.body);
    site.stop().await;
}

#[tokio::test]
async fn the_chinese_page_speaks_chinese() {
    let (site, order) = site_with_order().await;
    let sales = site.login(SALES).await.with_lang("zh-CN");
    let page = sales.get(&format!("/orders/{}", hex(order))).await;
    page.expect(200);
    for word in ["订单明细", "时间线", "已接收", "接收订单", "客户", "¥5,859.60", "北京时间", "年"]
    {
        assert!(page.body.contains(word), "{word} missing from the Chinese page");
    }
    assert!(!page.body.contains("Order received"));
    site.stop().await;
}

#[tokio::test]
async fn logistics_ships_and_reports_a_delay_through_the_page() {
    use orderflow_commands::{CompleteProduction, ConfirmOrder, InspectQuality, ScheduleProduction};
    use orderflow_schemas::{ConfirmMethod, DeliveryMode, InspectionResult};
    let (site, order) = site_with_order().await;
    let early = site.login(LOGISTICS_CLERK).await;
    let before = site.head();
    let refused = early.get(&format!("/orders/{}", hex(order))).await;
    refused.expect(403);
    assert!(refused.body.contains("may not read"), "{}", refused.body);
    assert_eq!(site.head(), before + 1, "the refused read is recorded, nothing else");
    for d in Department::ALL {
        site.exec(Grant::Role(d.role()), Some(order), approve(*d, "")).await;
    }
    let today = orderflow::app::now().date();
    let confirm = ConfirmOrder {
        promised_date: today.plus_days(10),
        expected_ship_date: today,
        delivery_mode: DeliveryMode::Carrier,
        confirmed_via: ConfirmMethod::Phone,
        note: String::new(),
    };
    site.exec(SALES, Some(order), confirm.into()).await;
    site.exec(
        PRODUCTION,
        Some(order),
        ScheduleProduction { planned_finish: today, note: String::new() }.into(),
    )
    .await;
    let inspect = InspectQuality { result: InspectionResult::Pass, note: String::new() };
    site.exec(Grant::Role(Role::Quality), Some(order), inspect.into()).await;
    site.exec(PRODUCTION, Some(order), CompleteProduction { note: String::new() }.into()).await;

    let h = hex(order);
    let (logistics, body) = on_page(&site, LOGISTICS_CLERK, order).await;
    assert!(has_form(&body, "ship", None), "ship offered when ready to ship");
    assert!(!has_form(&body, "delay", None) && !has_form(&body, "deliver", None));
    let eta = today.plus_days(4).to_string();
    let shipped = logistics
        .post(
            &format!("/orders/{h}/act"),
            &[
                ("action", "ship"),
                ("carrier", "SF Express"),
                ("mode", "cold_chain"),
                ("tracking_number", "SF1234567"),
                ("eta", eta.as_str()),
            ],
        )
        .await;
    shipped.expect(303);
    let page = logistics.get(&format!("/orders/{h}")).await.body;
    assert!(page.contains("SF1234567") && page.contains("Cold chain"), "the shipment facts");
    assert!(page.contains(r#"<li class="current" data-step="shipped""#));
    assert!(
        has_form(&page, "delay", None) && has_form(&page, "deliver", None) && !has_form(&page, "ship", None)
    );
    let new_eta = today.plus_days(6).to_string();
    let delayed = logistics
        .post(
            &format!("/orders/{h}/act"),
            &[("action", "delay"), ("new_eta", new_eta.as_str()), ("reason", "snow on the G6")],
        )
        .await;
    delayed.expect(303);
    let page = logistics.get(&format!("/orders/{h}")).await.body;
    assert!(page.contains("snow on the G6"), "the delay's reason");
    assert!(page.contains(r#"<span class="flag late">delayed 1</span>"#), "{page}");
    site.stop().await;
}

#[tokio::test]
async fn viewing_an_order_at_work_writes_nothing_and_an_archived_one_is_recorded() {
    let (site, order) = site_with_order().await;
    let h = hex(order);
    let sales = site.login(SALES).await;
    let before = site.head();
    sales.get(&format!("/orders/{h}")).await.expect(200);
    sales.get(&format!("/orders/{h}/live")).await.expect(200);
    assert_eq!(site.head(), before, "a view of an order at work is not an archive read");
    let cancel = orderflow_commands::CancelOrder {
        initiated_by: orderflow_schemas::Initiator::Customer,
        reason: "the customer withdrew".into(),
    };
    site.exec(SALES, Some(order), cancel.into()).await;
    let archived = site.head();
    let page = sales.get(&format!("/orders/{h}")).await;
    page.expect(200);
    assert_eq!(site.head(), archived + 1, "the view of the cancelled order is recorded first");
    assert!(page.body.contains("Archive reads recorded: 1"), "the page counts the recorded read");
    sales.get(&format!("/orders/{h}/live")).await.expect(200);
    assert_eq!(site.head(), archived + 1, "its live refresh is not recorded again");
    site.stop().await;
}
