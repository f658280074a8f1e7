//! The board (`/orders`, `/orders/rows`) and the department queue (`/queue`): what they list,
//! how the filters narrow it, paging, the live rows, the languages, who may look, and the
//! decision forms of the queue (their fields; the post itself is the order page's).

use orderflow::app::Request;
use orderflow::auth::Auth;
use orderflow_commands::{
    ApproveReview, ChangeOrder, Command, LineEdit, LineUpdate, NewLine, ReceiveOrder, RejectReview,
};
use orderflow_schemas::{Channel, Currency, Department, Grant, Initiator, OrderId, Role, Timestamp};
use uuid::Uuid;

use super::support::{count, hex, login_of, unescape, Page, WebSite, ADMIN};

const SALES: Grant = Grant::Role(Role::Sales);

fn receive_order(customer: &str, requested_in_days: i32, at: Timestamp) -> ReceiveOrder {
    ReceiveOrder {
        channel: Channel::Phone,
        customer: customer.into(),
        contact: "buyer@example.com".into(),
        lines: vec![NewLine {
            sku: "MILK-1L".into(),
            spec: String::new(),
            quantity: 10,
            unit: "case".into(),
            unit_price_minor: 1_890,
        }],
        currency: Currency::parse("CNY").expect("currency"),
        requested_date: at.date().plus_days(requested_in_days),
        delivery_address: "Dock 1".into(),
        special_requirements: String::new(),
    }
}

/// An order received now by sales, its customer asking for delivery in `days`.
async fn receive(site: &WebSite, customer: &str, days: i32) -> OrderId {
    let now = orderflow::app::now();
    site.exec(SALES, None, Command::ReceiveOrder(receive_order(customer, days, now))).await.order_id
}

/// An order received `hours_ago` on paper (entered late by the head of sales), its customer
/// asking for delivery `days` after that: its reviews are due 24 hours after it was received.
async fn receive_late(site: &WebSite, customer: &str, hours_ago: i64, days: i32) -> OrderId {
    let grant = Grant::DeptHead(Role::Sales);
    let user = site
        .app
        .auth()
        .directory()
        .expect("directory")
        .by_login(&login_of(grant))
        .cloned()
        .expect("head of sales");
    let at = orderflow::app::now().plus_hours(-hours_ago);
    let command = Command::ReceiveOrder(receive_order(customer, days, at));
    let principal = Auth::principal(&user, Some(&grant.to_string()), Some(&command)).expect("principal");
    let req = Request {
        order_id: None,
        command_id: Uuid::new_v4(),
        principal,
        at: Some(at),
        late_reason: Some("paper order from the fair".into()),
        command,
    };
    site.app.execute(req).await.expect("late receive").order_id
}

async fn approve(site: &WebSite, order: OrderId, department: Department) {
    let command = Command::ApproveReview(ApproveReview { department, revision: None, note: String::new() });
    site.exec(Grant::Role(department.role()), Some(order), command).await;
}

/// The `data-order` of every row of the table body `tbody_id`, in order.
fn rows_of(body: &str, tbody_id: &str) -> Vec<String> {
    let inner = tbody(body, tbody_id);
    inner
        .split("<tr data-order=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or("").to_string())
        .collect()
}

/// The inner HTML of `<tbody id="ID" ...>`.
fn tbody(body: &str, id: &str) -> String {
    let start =
        body.find(&format!("<tbody id=\"{id}\"")).unwrap_or_else(|| panic!("no tbody#{id} in {body}"));
    let open_end = start + body[start..].find('>').expect("tag end") + 1;
    let end = open_end + body[open_end..].find("</tbody>").expect("tbody end");
    body[open_end..end].to_string()
}

/// The HTML of the row of `order` in the table body `tbody_id`.
fn row_html(body: &str, tbody_id: &str, order: OrderId) -> String {
    let inner = tbody(body, tbody_id);
    let start = inner
        .find(&format!("<tr data-order=\"{}\"", hex(order)))
        .unwrap_or_else(|| panic!("no row of {} in {inner}", hex(order)));
    let end = start + inner[start..].find("</tr>").expect("row end");
    inner[start..end].to_string()
}

/// The value of attribute `name` of the first tag that contains `marker`.
fn attr_of(body: &str, marker: &str, name: &str) -> Option<String> {
    let i = body.find(marker)?;
    let tag_start = body[..=i].rfind('<')?;
    let tag_end = i + body[i..].find('>')?;
    let tag = &body[tag_start..tag_end];
    let needle = format!("{name}=\"");
    let v = tag.find(&needle)? + needle.len();
    Some(unescape(&tag[v..v + tag[v..].find('"')?]))
}

fn ids(orders: &[OrderId]) -> Vec<String> {
    orders.iter().map(|o| hex(*o)).collect()
}

/// The ids in `got`, sorted, against the `want` ones, sorted (the board's order is tested apart).
#[track_caller]
fn same_set(got: Vec<String>, want: &[OrderId], what: &str) {
    let mut got = got;
    got.sort();
    let mut want = ids(want);
    want.sort();
    assert_eq!(got, want, "{what}");
}

async fn board(site_client: &super::support::Client, query: &str) -> Page {
    let page = site_client.get(&format!("/orders{query}")).await;
    page.expect(200);
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_lists_the_active_orders_and_each_filter_narrows_it() {
    let site = WebSite::new().await;
    let metro = receive(&site, "Metro Hotels", 60).await;
    let harbour = receive(&site, "Harbour Cafe", 60).await;
    approve(&site, harbour, Department::Production).await;
    let bakery = receive(&site, "Lau Bakery", 60).await;
    for d in Department::ALL {
        approve(&site, bakery, *d).await;
    }
    let soon = receive(&site, "Metro Foods", 3).await; // promised (requested) in 3 days: at risk
    let refused = receive(&site, "Sun Foods", 60).await;
    let reject =
        RejectReview { department: Department::Finance, revision: None, reason: "credit limit".into() };
    site.exec(Grant::Role(Role::Finance), Some(refused), Command::RejectReview(reject)).await;
    let overdue = receive_late(&site, "Old Mill", 30, 60).await; // reviews due 6 hours ago
    let late = receive_late(&site, "North Farm", 96, 1).await; // requested 3 days ago: late
    let active = [metro, harbour, bakery, soon, overdue, late];

    let sales = site.login(SALES).await;
    let head = site.head();
    let all = board(&sales, "").await;
    assert!(all.body.contains("<table id=\"board\""), "{}", all.body);
    assert!(all.body.contains("data-live=\"1\""), "the board is live");
    assert!(all.body.contains("<div class=\"scroll\"><table id=\"board\""), "the table scrolls on a phone");
    same_set(rows_of(&all.body, "board-rows"), &active, "the active orders; the rejected one is not listed");
    let first = rows_of(&all.body, "board-rows");
    assert_eq!(first[0], hex(soon), "the newest order received now comes first: {first:?}");

    // One row: link, badge, customer, total, dates, chips, flags.
    let row = row_html(&all.body, "board-rows", harbour);
    assert!(row.contains(&format!("href=\"/orders/{}\"", hex(harbour))), "{row}");
    assert!(row.contains(&format!(">{}</a>", harbour.short())), "the short id is shown: {row}");
    assert!(row.contains("class=\"badge state-in_review\"") && row.contains("In review"), "{row}");
    assert!(row.contains("Harbour Cafe") && row.contains("¥189.00"), "{row}");
    assert!(row.contains("class=\"chip approved\" data-department=\"production\""), "{row}");
    assert_eq!(count(&row, "class=\"chip "), 4, "a chip per reviewing department: {row}");
    for d in ["procurement", "finance", "warehouse"] {
        assert!(row.contains(&format!("class=\"chip pending\" data-department=\"{d}\"")), "{d}: {row}");
    }
    assert!(row.contains("not confirmed yet"), "no promise yet: {row}");
    let row = row_html(&all.body, "board-rows", bakery);
    assert!(row.contains("badge state-approved") && row.contains("confirmation with the customer"), "{row}");
    let row = row_html(&all.body, "board-rows", overdue);
    assert!(row.contains("class=\"chip overdue\" data-department=\"finance\""), "{row}");
    assert!(row.contains("class=\"flag overdue\"") && row.contains("Review overdue: Production"), "{row}");
    let row = row_html(&all.body, "board-rows", late);
    assert!(row.contains("class=\"flag late\"") && row.contains("3 days ago, not delivered"), "{row}");
    let row = row_html(&all.body, "board-rows", soon);
    assert!(row.contains("class=\"flag at-risk\"") && row.contains("in 3 days, not shipped yet"), "{row}");

    // Each filter.
    let cases: Vec<(&str, Vec<OrderId>)> = vec![
        ("?state=received", vec![metro, soon, overdue, late]),
        ("?state=in_review", vec![harbour]),
        ("?state=approved", vec![bakery]),
        ("?state=rejected", vec![refused]),
        ("?state=all", vec![metro, harbour, bakery, soon, refused, overdue, late]),
        ("?customer=metro", vec![metro, soon]),
        ("?department=production", vec![metro, soon, overdue, late]),
        ("?department=finance", vec![metro, harbour, soon, overdue, late]),
        ("?department=logistics", vec![]),
        ("?flag=overdue", vec![overdue, late]),
        ("?flag=late", vec![late]),
        ("?flag=at_risk", vec![soon, late]),
        ("?q=bakery", vec![bakery]),
        ("?customer=metro&department=production&flag=at_risk", vec![soon]),
    ];
    for (query, want) in &cases {
        let page = board(&sales, query).await;
        same_set(rows_of(&page.body, "board-rows"), want, query);
    }
    let prefix = &hex(metro)[..6];
    let page = board(&sales, &format!("?q={prefix}")).await;
    assert!(rows_of(&page.body, "board-rows").contains(&hex(metro)), "an id prefix finds the order");
    assert!(
        rows_of(&page.body, "board-rows").iter().all(|id| id.starts_with(prefix)),
        "only orders with that prefix (no customer is named like hex digits)"
    );
    let page = board(&sales, &format!("?q={}", hex(metro))).await;
    assert_eq!(rows_of(&page.body, "board-rows"), vec![hex(metro)]);

    // The rejected order shows which department rejected it.
    let page = board(&sales, "?state=rejected").await;
    let row = row_html(&page.body, "board-rows", refused);
    assert!(row.contains("class=\"chip rejected\" data-department=\"finance\""), "{row}");

    // The selected values stay selected; the live rows name the same query.
    let page =
        board(&sales, "?state=received&customer=Metro%20Foods&department=finance&flag=at_risk&q=foods").await;
    assert!(page.body.contains("<option value=\"received\" selected>"), "{}", page.body);
    assert!(page.body.contains("<option value=\"finance\" selected>"));
    assert!(page.body.contains("<option value=\"at_risk\" selected>"));
    assert_eq!(page.input_value("customer").as_deref(), Some("Metro Foods"));
    assert_eq!(page.input_value("q").as_deref(), Some("foods"));
    assert!(page.body.contains("id=\"board-filters\""));
    assert_eq!(attr_of(&page.body, "id=\"board-filters\"", "method").as_deref(), Some("get"));
    let src = attr_of(&page.body, "id=\"board-rows\"", "data-live-src").expect("live source");
    assert_eq!(
        src,
        "/orders/rows?state=received&customer=Metro%20Foods&department=finance&flag=at_risk&q=foods"
    );
    same_set(rows_of(&page.body, "board-rows"), &[soon], "all filters at once");

    // Nothing matches: said in words.
    let page = board(&sales, "?customer=nobody-at-all").await;
    assert!(rows_of(&page.body, "board-rows").is_empty());
    assert!(page.body.contains("No orders match these filters."), "{}", page.body);

    assert_eq!(site.head(), head, "looking at the board writes nothing");
    // A filter that is none of the choices: 400 naming it.
    let page = sales.get("/orders?state=shipping").await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("state") && page.body.contains("shipping"), "{}", page.body);
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rows_endpoint_answers_the_rows_of_the_page_and_follows_changes() {
    let site = WebSite::new().await;
    let a = receive(&site, "Metro Hotels", 60).await;
    let b = receive(&site, "Harbour Cafe", 60).await;
    let sales = site.login(SALES).await;
    for query in ["", "?customer=metro", "?department=finance&flag=overdue"] {
        let page = board(&sales, query).await;
        let rows = sales.get(&format!("/orders/rows{query}")).await;
        rows.expect(200);
        assert!(rows.content_type.starts_with("text/html"), "{}", rows.content_type);
        assert_eq!(
            rows.body,
            tbody(&page.body, "board-rows"),
            "{query}: the rows are the tbody's inner HTML"
        );
    }
    // The live source is what the browser fetches: it answers the same rows.
    let page = board(&sales, "?customer=metro").await;
    let src = attr_of(&page.body, "id=\"board-rows\"", "data-live-src").expect("live source");
    assert_eq!(src, "/orders/rows?customer=metro");
    // After a change the rows answer it.
    approve(&site, b, Department::Production).await;
    let rows = sales.get("/orders/rows").await;
    assert!(
        rows.body.contains(&format!("<tr data-order=\"{}\" data-state=\"in_review\"", hex(b))),
        "{}",
        rows.body
    );
    assert!(rows.body.contains(&format!("<tr data-order=\"{}\" data-state=\"received\"", hex(a))));
    // Not logged in: the rows are not shown.
    let anonymous = site.anonymous();
    let page = anonymous.get("/orders/rows").await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(!page.body.contains(&hex(a)));
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_pages_by_fifty_keeping_the_filters() {
    let site = WebSite::with_grants(&[SALES]).await;
    let mut bulk = Vec::new();
    for i in 0..55 {
        bulk.push(receive(&site, &format!("Bulk Buyer {i:02}"), 60).await);
    }
    let other = receive(&site, "Harbour Cafe", 60).await;
    let sales = site.login(SALES).await;

    let first = board(&sales, "?customer=bulk").await;
    let rows = rows_of(&first.body, "board-rows");
    assert_eq!(rows.len(), orderflow::web::board::BOARD_PAGE_ROWS);
    assert_eq!(rows[0], hex(bulk[54]), "newest first");
    assert!(!rows.contains(&hex(other)));
    assert!(first.body.contains("1–50 of 55"), "{}", first.body);
    assert_eq!(
        attr_of(&first.body, "id=\"board-next\"", "href").as_deref(),
        Some("/orders?customer=bulk&page=2")
    );
    assert!(!first.body.contains("id=\"board-prev\""));

    let second = board(&sales, "?customer=bulk&page=2").await;
    let rows2 = rows_of(&second.body, "board-rows");
    same_set(rows2.clone(), &bulk[..5], "the 5 oldest on page 2");
    assert!(second.body.contains("51–55 of 55"), "{}", second.body);
    assert_eq!(attr_of(&second.body, "id=\"board-prev\"", "href").as_deref(), Some("/orders?customer=bulk"));
    assert!(!second.body.contains("id=\"board-next\""));
    let src = attr_of(&second.body, "id=\"board-rows\"", "data-live-src").expect("live source");
    assert_eq!(src, "/orders/rows?customer=bulk&page=2", "the live rows stay on the page");
    let live = sales.get(&src).await;
    assert_eq!(rows_of(&format!("<tbody id=\"x\">{}</tbody>", live.body), "x"), rows2);

    // A page beyond the last shows the last.
    let beyond = board(&sales, "?customer=bulk&page=9").await;
    assert_eq!(rows_of(&beyond.body, "board-rows"), rows2);
    // Without a filter, every order counts.
    let all = board(&sales, "").await;
    assert!(all.body.contains("1–50 of 56"), "{}", all.body);
    let page = sales.get("/orders?page=0").await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("page"), "{}", page.body);
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_speaks_chinese_and_is_for_people_with_a_role() {
    let site = WebSite::new().await;
    let a = receive(&site, "伊利乳业", 60).await;
    let b = receive(&site, "蒙牛", 60).await;
    approve(&site, b, Department::Production).await;
    let hans = site.login(SALES).await.with_lang("zh-CN");
    let page = board(&hans, "").await;
    assert!(page.body.contains("<html lang=\"zh-Hans\""), "{}", page.body);
    let row = row_html(&page.body, "board-rows", a);
    assert!(row.contains("badge state-received") && row.contains("已接收"), "{row}");
    assert!(row.contains("伊利乳业") && row.contains("生产部: 待审核"), "{row}");
    let row = row_html(&page.body, "board-rows", b);
    assert!(row.contains("审核中") && row.contains("生产部: 已批准"), "{row}");
    assert!(page.body.contains("第 1–2 条，共 2 条"), "{}", page.body);
    assert!(page.body.contains("<option value=\"in_review\">审核中</option>"));
    let hant = site.login(SALES).await.with_lang("zh-TW");
    let page = board(&hant, "").await;
    assert!(row_html(&page.body, "board-rows", b).contains("審核中"));
    let empty = board(&hans, "?customer=nobody").await;
    assert!(empty.body.contains("没有符合筛选条件的订单。"));

    // Every role may look (the status board needs only a login) ...
    for grant in [Grant::Role(Role::Auditor), Grant::Role(Role::Logistics), Grant::DeptHead(Role::Finance)] {
        let c = site.login(grant).await;
        let page = board(&c, "").await;
        assert_eq!(rows_of(&page.body, "board-rows").len(), 2, "{grant}");
    }
    // ... a person without a role may not; nobody logged in is sent to log in.
    let admin = site.app.auth().directory().expect("directory").by_login(ADMIN.0).cloned().expect("admin");
    let by = Auth::principal(&admin, Some("admin"), None).expect("admin principal");
    site.app.auth().add_user(&by, "nobody", "No Role", vec![], "pw-nobody-secret").await.expect("add a user");
    let nobody = site.login_as("nobody", "pw-nobody-secret").await;
    let page = nobody.get("/orders").await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("You hold no role") && !page.body.contains(&hex(a)), "{}", page.body);
    assert_eq!(nobody.get("/orders/rows").await.status, 403);
    let anonymous = site.anonymous().get("/orders").await;
    assert_eq!(anonymous.status, 303);
    assert!(
        anonymous.location.as_deref().is_some_and(|l| l.starts_with("/login")),
        "{:?}",
        anonymous.location
    );
    site.stop().await;
}

/// The hidden and visible fields of the form `data-action=ACTION` in `html`.
fn form_fields(html: &str, action: &str) -> (String, Vec<(String, String)>) {
    let marker = format!("data-action=\"{action}\"");
    let i = html.find(&marker).unwrap_or_else(|| panic!("no form {action} in {html}"));
    let start = html[..i].rfind("<form").expect("form start");
    let end = start + html[start..].find("</form>").expect("form end");
    let form = &html[start..end];
    let target = attr_of(form, "<form", "action").expect("form action");
    let mut fields = Vec::new();
    for piece in form.split("<input").skip(1) {
        let tag = &piece[..piece.find('>').unwrap_or(piece.len())];
        let get = |name: &str| {
            let needle = format!(" {name}=\"");
            tag.find(&needle).map(|v| {
                let v = v + needle.len();
                unescape(&tag[v..v + tag[v..].find('"').unwrap_or(0)])
            })
        };
        let name = get("name").expect("input name");
        let value = get("value").unwrap_or_default();
        let required = tag.contains(" required");
        fields.push((name, if required { format!("{value}<required>") } else { value }));
    }
    (target, fields)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_lists_what_waits_for_my_department_overdue_first_with_the_forms() {
    let site = WebSite::new().await;
    let fresh = receive(&site, "Metro Hotels", 60).await;
    let decided = receive(&site, "Harbour Cafe", 60).await;
    approve(&site, decided, Department::Production).await;
    let approved = receive(&site, "Lau Bakery", 60).await;
    for d in Department::ALL {
        approve(&site, approved, *d).await;
    }
    let overdue = receive_late(&site, "Old Mill", 30, 60).await; // due 6 hours ago
    let older = receive_late(&site, "North Farm", 50, 60).await; // due 26 hours ago
                                                                 // A change request on the approved order: every deciding department, logistics too.
    let change = ChangeOrder {
        initiated_by: Initiator::Customer,
        reason: "customer asked for more".into(),
        impact: vec![orderflow_schemas::ImpactNote { role: Role::Production, note: "one more shift".into() }],
        lines: vec![LineEdit::Update(LineUpdate {
            line_no: 1,
            quantity: Some(12),
            spec: None,
            unit_price_minor: None,
        })],
        requested_date: None,
        delivery_address: None,
    };
    site.exec(SALES, Some(approved), Command::ChangeOrder(change)).await;

    let production = site.login(Grant::Role(Role::Production)).await;
    let page = production.get("/queue").await;
    page.expect(200);
    assert!(page.body.contains("<table id=\"queue\""), "{}", page.body);
    assert!(page.body.contains("data-live=\"1\"") && page.body.contains("aria-current=\"page\">My queue"));
    let rows = rows_of(&page.body, "queue-rows");
    assert_eq!(
        rows,
        ids(&[older, overdue, fresh, approved]),
        "overdue first (the longest overdue first), then by due time; not the order production approved"
    );
    assert!(!rows.contains(&hex(decided)), "production approved it already");
    let row = row_html(&page.body, "queue-rows", older);
    assert!(row.contains("class=\"flag overdue\"") && row.contains("Overdue by 26 h"), "{row}");
    assert!(row.contains("Production review of revision 1"), "{row}");
    let row = row_html(&page.body, "queue-rows", fresh);
    assert!(!row.contains("flag overdue"), "{row}");

    // The review's forms.
    let (target, approve_fields) = form_fields(&row, "approve");
    assert_eq!(target, format!("/orders/{}/act", hex(fresh)));
    assert_eq!(field(&approve_fields, "action"), Some("approve"));
    assert_eq!(field(&approve_fields, "department"), Some("production"));
    assert_eq!(field(&approve_fields, "revision"), Some("1"));
    assert_eq!(field(&approve_fields, "back"), Some("/queue"));
    assert_eq!(field(&approve_fields, "as"), Some("production"));
    assert_eq!(field(&approve_fields, "note"), Some(""), "the note is optional");
    assert_eq!(field(&approve_fields, "csrf"), production.csrf().as_deref());
    let approve_id =
        field(&approve_fields, "command_id").expect("command id").parse::<Uuid>().expect("a UUID");
    let (target, reject_fields) = form_fields(&row, "reject");
    assert_eq!(target, format!("/orders/{}/act", hex(fresh)));
    assert_eq!(field(&reject_fields, "action"), Some("reject"));
    assert_eq!(field(&reject_fields, "department"), Some("production"));
    assert_eq!(field(&reject_fields, "revision"), Some("1"));
    assert_eq!(field(&reject_fields, "reason"), Some("<required>"), "a rejection needs its reason");
    assert_eq!(field(&reject_fields, "back"), Some("/queue"));
    assert!(field(&reject_fields, "csrf").is_some());
    let reject_id = field(&reject_fields, "command_id").expect("command id").parse::<Uuid>().expect("a UUID");
    assert_ne!(approve_id, reject_id, "each form is its own command");

    // The change request's forms.
    let row = row_html(&page.body, "queue-rows", approved);
    assert!(row.contains("Change request 1") && row.contains("customer asked for more"), "{row}");
    assert!(row.contains("line 1 quantity") || row.contains("quantity"), "what changes: {row}");
    assert!(row.contains("one more shift"), "production's impact note: {row}");
    let (_, yes) = form_fields(&row, "approve_change");
    assert_eq!(field(&yes, "action"), Some("approve_change"));
    assert_eq!(field(&yes, "department"), Some("production"));
    assert_eq!(field(&yes, "request_id"), Some("1"));
    assert_eq!(field(&yes, "back"), Some("/queue"));
    let (_, no) = form_fields(&row, "decline_change");
    assert_eq!(field(&no, "action"), Some("decline_change"));
    assert_eq!(field(&no, "reason"), Some("<required>"));

    // The live rows.
    assert_eq!(
        attr_of(&page.body, "id=\"queue-rows\"", "data-live-src").as_deref(),
        Some("/queue?part=rows")
    );
    let live = production.get("/queue?part=rows").await;
    live.expect(200);
    assert!(!live.body.contains("<html"), "only the rows");
    assert_eq!(rows_of(&format!("<tbody id=\"x\">{}</tbody>", live.body), "x"), rows);
    approve(&site, fresh, Department::Production).await;
    let live = production.get("/queue?part=rows").await;
    assert_eq!(
        rows_of(&format!("<tbody id=\"x\">{}</tbody>", live.body), "x"),
        ids(&[older, overdue, approved])
    );

    // What was done.
    let done = production.get("/queue?done=approve").await;
    assert!(done.body.contains("<p class=\"notice done\""), "{}", done.body);
    assert!(!production.get("/queue").await.body.contains("notice done"));

    // Finance: its own queue, the order production decided included.
    let finance = site.login(Grant::Role(Role::Finance)).await;
    let page = finance.get("/queue").await;
    let rows = rows_of(&page.body, "queue-rows");
    same_set(rows, &[older, overdue, fresh, decided, approved], "finance has decided nothing");
    // Logistics decides change requests only.
    let logistics = site.login(Grant::Role(Role::Logistics)).await;
    let page = logistics.get("/queue").await;
    assert_eq!(rows_of(&page.body, "queue-rows"), ids(&[approved]));
    let (_, yes) = form_fields(&row_html(&page.body, "queue-rows", approved), "approve_change");
    assert_eq!(field(&yes, "department"), Some("logistics"));
    // A head of production decides as the head.
    let head = site.login(Grant::DeptHead(Role::Production)).await.with_lang("zh-CN");
    let page = head.get("/queue").await;
    let row = row_html(&page.body, "queue-rows", older);
    assert!(row.contains("已逾期 26 小时"), "{row}");
    let (_, f) = form_fields(&row, "approve");
    assert_eq!(field(&f, "as"), Some("dept_head:production"));
    assert!(page.body.contains("我的待办"));
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_is_for_the_deciding_departments() {
    let site = WebSite::new().await;
    let order = receive(&site, "Metro Hotels", 60).await;
    for grant in [SALES, Grant::Role(Role::Auditor), Grant::Role(Role::Quality), Grant::DeptHead(Role::Sales)]
    {
        let c = site.login(grant).await;
        let page = c.get("/queue").await;
        assert_eq!(page.status, 403, "{grant}: {}", page.body);
        assert!(page.body.contains("decide no reviews"), "{grant}: {}", page.body);
        assert!(!page.body.contains(&hex(order)));
        assert_eq!(c.get("/queue?part=rows").await.status, 403);
    }
    let empty = site.login(Grant::Role(Role::Warehouse)).await;
    approve(&site, order, Department::Warehouse).await;
    let page = empty.get("/queue").await;
    page.expect(200);
    assert!(page.body.contains("Nothing waits for your decision."), "{}", page.body);
    assert_eq!(empty.get("/queue?part=everything").await.status, 400);
    let anonymous = site.anonymous().get("/queue").await;
    assert_eq!(anonymous.status, 303);
    // A session that ended: back to the login, nothing of the queue shown.
    approve(&site, order, Department::Finance).await;
    let finance = site.login(Grant::Role(Role::Finance)).await;
    let head = site.head();
    finance.drop_cookie("of_session");
    let page = finance.get("/queue").await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(
        page.location.as_deref().is_some_and(|l| l.starts_with("/login?next=/queue")),
        "{:?}",
        page.location
    );
    assert_eq!(site.head(), head, "nothing written");
    site.stop().await;
}
