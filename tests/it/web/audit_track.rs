//! The customer's tracking page and its links (`/track/{token}`, `/orders/{id}/track-links`), and
//! the auditors' archive page (`/audit/{id}`, `/audit/{id}/export`): what each shows and hides,
//! who may use them, and that every archive view is recorded first.

use orderflow::web::tokens;
use orderflow_commands::{
    ApproveReview, Command, ConfirmOrder, DeliverOrder, NewLine, ReceiveOrder, RecordAccess, ReportDelay,
    ShipOrder, SignOrder,
};
use orderflow_schemas::{
    AccessKind, Channel, ConfirmMethod, Currency, Date, DeliveryMode, Department, Grant, OrderId, Role,
    ShipMode,
};

use super::support::{count, hex, Client, WebSite};

const SALES: Grant = Grant::Role(Role::Sales);
const LOGISTICS: Grant = Grant::Role(Role::Logistics);
const PRODUCTION: Grant = Grant::Role(Role::Production);
const AUDITOR: Grant = Grant::Role(Role::Auditor);

fn in_days(days: i32) -> Date {
    orderflow::app::now().date().plus_days(days)
}

/// Receives an order for `customer` (one line at 18.90 EUR, internal words in every note).
async fn receive(site: &WebSite, customer: &str) -> OrderId {
    let cmd = ReceiveOrder {
        channel: Channel::Phone,
        customer: customer.into(),
        contact: "buyer@example.com".into(),
        lines: vec![NewLine {
            sku: "MILK-1L".into(),
            spec: "UHT 3.5%".into(),
            quantity: 10,
            unit: "pcs".into(),
            unit_price_minor: 1890,
        }],
        currency: Currency::parse("EUR").expect("currency"),
        requested_date: in_days(60),
        delivery_address: "Dock 1, Industrial Park 9".into(),
        special_requirements: "REQ-INTERNAL-WORDS".into(),
    };
    site.exec(SALES, None, Command::ReceiveOrder(cmd)).await.order_id
}

/// Receives an order and drives it through the four approvals, confirmation, shipment, a
/// delay, delivery and sign-off.
async fn delivered_and_signed(site: &WebSite, customer: &str) -> OrderId {
    let order = receive(site, customer).await;
    for department in Department::ALL {
        let approve =
            ApproveReview { department: *department, revision: None, note: "NOTE-REVIEW-INTERNAL".into() };
        site.exec(Grant::Role(department.role()), Some(order), Command::ApproveReview(approve)).await;
    }
    let confirm = ConfirmOrder {
        promised_date: in_days(30),
        expected_ship_date: in_days(25),
        delivery_mode: DeliveryMode::Carrier,
        confirmed_via: ConfirmMethod::Phone,
        note: "NOTE-CONFIRM-INTERNAL".into(),
    };
    site.exec(SALES, Some(order), Command::ConfirmOrder(confirm)).await;
    let ship = ShipOrder {
        carrier: "Shunfeng Cold Chain".into(),
        mode: ShipMode::ColdChain,
        tracking_number: "TRK0012345678".into(),
        eta: in_days(28),
        unconfirmed_reason: None,
    };
    site.exec(LOGISTICS, Some(order), Command::ShipOrder(ship)).await;
    let delay = ReportDelay { new_eta: in_days(31), reason: "road closure near the depot".into() };
    site.exec(LOGISTICS, Some(order), Command::ReportDelay(delay)).await;
    site.exec(
        LOGISTICS,
        Some(order),
        Command::DeliverOrder(DeliverOrder { note: "NOTE-POD-INTERNAL".into() }),
    )
    .await;
    let sign = SignOrder {
        signed_by: "Ms Receiving Clerk".into(),
        accepted: None,
        note: "NOTE-SIGN-INTERNAL".into(),
    };
    site.exec(SALES, Some(order), Command::SignOrder(sign)).await;
    order
}

/// Gives the client its session's CSRF token from a page: the order page (which carries the
/// tracking-link form once it is built), else the archive page (a recorded read).
async fn pick_up_csrf(c: &Client, order: OrderId) {
    let p = c.get(&format!("/orders/{}", hex(order))).await;
    if p.input_value("csrf").is_none() {
        c.get(&format!("/audit/{}", hex(order))).await;
    }
    assert!(c.csrf().is_some(), "no page gave the session's CSRF token");
}

/// The token of `a#track-link` on a page.
fn token_of(body: &str) -> String {
    let at = body.find("id=\"track-link\"").unwrap_or_else(|| panic!("no a#track-link: {body}"));
    let tag_start = body[..at].rfind('<').expect("tag");
    let tag = &body[tag_start..at + body[at..].find('>').expect("tag end")];
    let href = tag
        .split("href=\"/track/")
        .nth(1)
        .unwrap_or_else(|| panic!("a#track-link has no /track/ href: {tag}"));
    href.split('"').next().expect("href").to_string()
}

async fn make_link(c: &Client, order: OrderId) -> String {
    let made = c.post(&format!("/orders/{}/track-links", hex(order)), &[]).await;
    made.expect(200);
    assert!(made.body.contains("it is shown only once"), "{}", made.body);
    assert!(made.body.contains(&format!("href=\"/orders/{}\"", hex(order))), "no way back to the order");
    token_of(&made.body)
}

#[tokio::test]
async fn the_customer_sees_progress_and_nothing_internal() {
    let site = WebSite::new().await;
    let order = delivered_and_signed(&site, "Yili Dairy Hohhot").await;
    let other = receive(&site, "Mengniu Rival Trading").await;
    let sales = site.login(SALES).await;
    pick_up_csrf(&sales, order).await;
    let token = make_link(&sales, order).await;
    assert_eq!(token.len(), tokens::TRACK_TOKEN_CHARS);
    let _other_token = make_link(&sales, other).await;
    assert_eq!(tokens::live_count(&site.app, order).expect("links"), 1);

    let customer = site.anonymous();
    let page = customer.get(&format!("/track/{token}")).await;
    page.expect(200);
    let b = &page.body;
    for id in [
        "id=\"track\"",
        "id=\"track-status\"",
        "id=\"track-shipment\"",
        "id=\"track-delays\"",
        "id=\"track-signoff\"",
    ] {
        assert!(b.contains(id), "{id} missing: {b}");
    }
    assert!(b.contains("data-state=\"signed\""), "{b}");
    assert!(b.contains("You signed for your order"), "{b}");
    assert!(b.contains("Shunfeng Cold Chain") && b.contains("TRK0012345678"), "shipment missing: {b}");
    assert!(b.contains("road closure near the depot"), "the delay's reason missing: {b}");
    let lang = orderflow::web::i18n::Lang::En;
    assert!(b.contains(&lang.date(in_days(31))), "the delay's new ETA missing: {b}");
    assert!(b.contains(&lang.date(in_days(30))), "the promised date missing: {b}");
    assert!(b.contains("Ms Receiving Clerk"), "who signed missing: {b}");
    assert!(b.contains("customer service"), "whom to contact missing: {b}");
    for internal in [
        "18.90",
        "189.00",
        "EUR",
        "Mengniu Rival Trading",
        "NOTE-REVIEW-INTERNAL",
        "NOTE-CONFIRM-INTERNAL",
        "NOTE-POD-INTERNAL",
        "NOTE-SIGN-INTERNAL",
        "REQ-INTERNAL-WORDS",
        "Dock 1",
        "buyer@example.com",
        "Test ",
        "finance",
        "procurement",
        "warehouse",
        "logistics",
        "csrf",
        "/orders/",
    ] {
        assert!(!b.contains(internal), "the customer's page shows {internal:?}: {b}");
    }
    assert_eq!(page.headers.get("cache-control").map(|v| v.to_str().unwrap_or("")), Some("no-store"));
    assert_eq!(page.headers.get("referrer-policy").map(|v| v.to_str().unwrap_or("")), Some("no-referrer"));

    let zh = site.anonymous().with_lang("zh-CN").get(&format!("/track/{token}")).await;
    zh.expect(200);
    assert!(zh.body.contains("运输单号") && zh.body.contains("已签收"), "{}", zh.body);
    site.stop().await;
}

#[tokio::test]
async fn revoked_unknown_and_malformed_tokens_get_the_same_404() {
    let site = WebSite::new().await;
    let order = receive(&site, "Yili Dairy Hohhot").await;
    let service = site.login(SALES).await;
    pick_up_csrf(&service, order).await;
    let token = make_link(&service, order).await;
    let customer = site.anonymous();
    customer.get(&format!("/track/{token}")).await.expect(200);
    assert!(customer.get(&format!("/track/{token}")).await.body.contains("We have received your order"));

    let revoked = service.post(&format!("/orders/{}/track-links/revoke", hex(order)), &[]).await;
    revoked.expect(303);
    assert_eq!(
        revoked.location.as_deref(),
        Some(format!("/orders/{}?done=revoke_link", hex(order)).as_str())
    );
    assert_eq!(tokens::live_count(&site.app, order).expect("links"), 0);
    assert_eq!(tokens::resolve(&site.app, &token).expect("resolve"), None);

    let gone = customer.get(&format!("/track/{token}")).await;
    gone.expect(404);
    assert!(gone.body.contains("does not open any order"), "{}", gone.body);
    let random = orderflow::web::session::random_token();
    let unknown = customer.get(&format!("/track/{random}")).await;
    unknown.expect(404);
    assert_eq!(unknown.body, gone.body, "a revoked and an unknown token must look the same");
    for bad in ["abc".to_string(), format!("{token}0"), "z".repeat(32), "a".repeat(5_000)] {
        let p = customer.get(&format!("/track/{bad}")).await;
        assert_eq!(p.status, 404, "{bad}: {}", p.body);
        assert!(!p.body.contains("id=\"track\""), "{bad}");
    }
    site.stop().await;
}

#[tokio::test]
async fn only_sales_and_customer_service_make_links_and_never_without_the_token() {
    let site = WebSite::new().await;
    let order = receive(&site, "Yili Dairy Hohhot").await;
    let path = format!("/orders/{}/track-links", hex(order));

    let production = site.login(PRODUCTION).await;
    pick_up_csrf(&production, order).await;
    let order_page = production.get(&format!("/orders/{}", hex(order))).await;
    if order_page.status == 200 && order_page.body.contains("data-order=") {
        // Once the order page is built, it offers the form to sales only.
        assert!(!order_page.body.contains("id=\"track-link-form\""), "{}", order_page.body);
    }
    let refused = production.post(&path, &[]).await;
    refused.expect(403);
    assert!(refused.body.contains("Only sales and customer service"), "{}", refused.body);
    assert!(!refused.body.contains("/track/"), "{}", refused.body);
    let revoke = production.post(&format!("{path}/revoke"), &[]).await;
    revoke.expect(403);
    assert!(tokens::list(&site.app, order).expect("links").is_empty(), "a refused request made a link");

    let sales = site.login(SALES).await;
    let missing = sales.post_exact(&path, &[]).await;
    missing.expect(403);
    assert!(missing.body.contains("security token"), "{}", missing.body);
    let wrong = sales.post(&path, &[("csrf", "0123456789abcdef0123456789abcdef")]).await;
    wrong.expect(403);
    assert!(
        tokens::list(&site.app, order).expect("links").is_empty(),
        "a request without the token made a link"
    );

    pick_up_csrf(&sales, order).await;
    let order_page = sales.get(&format!("/orders/{}", hex(order))).await;
    if order_page.status == 200 && order_page.body.contains("data-order=") {
        let action = format!("id=\"track-link-form\" method=\"post\" action=\"{path}\"");
        assert!(order_page.body.contains(&action), "{}", order_page.body);
    }
    let unknown = sales.post(&format!("/orders/{}/track-links", "0".repeat(32)), &[]).await;
    unknown.expect(404);
    assert!(tokens::list(&site.app, order).expect("links").is_empty());
    site.stop().await;
}

#[tokio::test]
async fn a_link_per_order_is_bounded() {
    let site = WebSite::with_grants(&[SALES]).await;
    let order = receive(&site, "Yili Dairy Hohhot").await;
    let sales = site.login(SALES).await;
    pick_up_csrf(&sales, order).await;
    for _ in 0..tokens::TRACK_TOKENS_PER_ORDER_MAX {
        make_link(&sales, order).await;
    }
    let over = sales.post(&format!("/orders/{}/track-links", hex(order)), &[]).await;
    over.expect(400);
    assert!(over.body.contains("revoke them first"), "{}", over.body);
    assert_eq!(tokens::live_count(&site.app, order).expect("links"), tokens::TRACK_TOKENS_PER_ORDER_MAX);
    site.stop().await;
}

#[tokio::test]
async fn a_second_submit_of_the_same_form_makes_no_second_link() {
    let site = WebSite::with_grants(&[SALES]).await;
    let order = receive(&site, "Yili Dairy Hohhot").await;
    let sales = site.login(SALES).await;
    pick_up_csrf(&sales, order).await;
    let path = format!("/orders/{}/track-links", hex(order));
    let form = uuid::Uuid::new_v4().to_string();
    let first = sales.post(&path, &[("command_id", &form)]).await;
    first.expect(200);
    let token = token_of(&first.body);
    let again = sales.post(&path, &[("command_id", &form)]).await;
    again.expect(409);
    assert!(!again.body.contains("/track/"), "{}", again.body);
    assert_eq!(tokens::live_count(&site.app, order).expect("links"), 1);
    assert_eq!(tokens::resolve(&site.app, &token).expect("resolve"), Some(order));
    site.stop().await;
}

#[tokio::test]
async fn every_archive_view_is_recorded_first_and_verifies() {
    let site = WebSite::new().await;
    let order = delivered_and_signed(&site, "Yili Dairy Hohhot").await;
    let auditor = site.login(AUDITOR).await;
    let path = format!("/audit/{}", hex(order));

    let before = site.head();
    let first = auditor.get(&path).await;
    first.expect(200);
    assert_eq!(site.head(), before + 1, "one view, one access record");
    let b = &first.body;
    assert!(b.contains("<main id=\"audit\""), "{b}");
    assert!(b.contains("id=\"audit-verify\" data-ok=\"true\""), "{b}");
    assert!(
        b.contains(&format!("href=\"/audit/{}/export\"", hex(order))) && b.contains("id=\"audit-export\"")
    );
    assert!(
        b.contains(&format!("tr class=\"access\" data-position=\"{}\" data-refused=\"false\"", site.head())),
        "{b}"
    );
    assert_eq!(count(b, "<tr class=\"access\""), 1, "{b}");
    assert!(b.contains("order_shipped") && b.contains("shipment_delayed"), "the timeline lacks events: {b}");
    let events = site.app.log().stream_version(order.0).expect("version");
    assert_eq!(
        count(b, "<tr data-position="),
        usize::try_from(events).expect("events"),
        "every event of the order"
    );

    let second = auditor.get(&path).await;
    second.expect(200);
    assert_eq!(site.head(), before + 2);
    assert_eq!(count(&second.body, "<tr class=\"access\""), 2, "{}", second.body);

    let before = site.head();
    let export = auditor.get(&format!("{path}/export")).await;
    export.expect(200);
    assert_eq!(site.head(), before + 1, "the download is recorded first");
    let disposition = export.headers.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(disposition.starts_with("attachment;") && disposition.contains(".json"), "{disposition}");
    assert!(export.content_type.starts_with("application/json"), "{}", export.content_type);
    let doc: serde_json::Value = serde_json::from_str(&export.body).expect("the export is JSON");
    let events = site.app.log().stream_version(order.0).expect("version");
    assert_eq!(
        orderflow::app::reads::export_events(&doc) as u64,
        events,
        "every event, the export's record too"
    );
    assert_eq!(doc["events_total"].as_u64(), Some(events));
    orderflow_projections::verify_export(&doc).expect("the export verifies");
    assert!(doc.pointer("/signature/public_key").is_some(), "the export is signed");
    site.stop().await;
}

#[tokio::test]
async fn a_long_timeline_comes_in_pages() {
    let site = WebSite::with_grants(&[SALES, AUDITOR]).await;
    let order = receive(&site, "Yili Dairy Hohhot").await;
    let auditor = site.login(AUDITOR).await;
    let path = format!("/audit/{}", hex(order));
    let page_len = orderflow::web::audit::AUDIT_TIMELINE_PAGE_EVENTS;
    for i in 0..page_len + 4 {
        let read = RecordAccess { access: AccessKind::History, detail: format!("setup read {i}") };
        site.exec(AUDITOR, Some(order), Command::RecordAccess(read)).await;
    }
    let events = usize::try_from(site.app.log().stream_version(order.0).expect("version")).expect("events");
    let first = auditor.get(&path).await;
    first.expect(200);
    assert_eq!(count(&first.body, "<tr data-position="), page_len);
    let next = format!("href=\"{path}?from={}\"", page_len + 1);
    assert!(first.body.contains(&next) && first.body.contains("class=\"audit-next\""), "{}", first.body);
    let second = auditor.get(&format!("{path}?from={}", page_len + 1)).await;
    second.expect(200);
    // Every page view is recorded: this one and the first page's record come after `events`.
    assert_eq!(count(&second.body, "<tr data-position="), events + 2 - page_len);
    assert!(second.body.contains(&format!("data-version=\"{}\"", page_len + 1)));
    assert!(!second.body.contains("data-version=\"1\""), "the second page repeats the first");
    assert!(second.body.contains("class=\"audit-prev\""));
    let bad = auditor.get(&format!("{path}?from=many")).await;
    bad.expect(400);
    site.stop().await;
}

#[tokio::test]
async fn a_reader_who_may_not_is_refused_and_the_refusal_recorded() {
    let site = WebSite::new().await;
    let order = receive(&site, "Yili Dairy Hohhot").await;
    let logistics = site.login(LOGISTICS).await;
    let path = format!("/audit/{}", hex(order));

    let before = site.head();
    let refused = logistics.get(&path).await;
    refused.expect(403);
    assert!(refused.body.contains("may not read the archive"), "{}", refused.body);
    assert!(refused.body.contains("the refused read is recorded"), "{}", refused.body);
    assert!(!refused.body.contains("id=\"audit-verify\""), "a refused read showed the archive");
    assert_eq!(site.head(), before + 1, "the refused read is recorded, nothing else");
    let export = logistics.get(&format!("{path}/export")).await;
    export.expect(403);
    assert!(!export.body.contains("payload_hex"));
    assert_eq!(site.head(), before + 2);

    let auditor = site.login(AUDITOR).await;
    let page = auditor.get(&path).await;
    page.expect(200);
    assert_eq!(count(&page.body, "data-refused=\"true\""), 2, "{}", page.body);
    assert!(page.body.contains("logistics (Logistics)"), "{}", page.body);

    let unknown = auditor.get(&format!("/audit/{}", "0".repeat(32))).await;
    unknown.expect(404);
    site.stop().await;
}
