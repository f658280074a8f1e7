//! `/orders/new`: intake of a new order by sales (录入订单), for whoever may issue `receive`
//! ([`orderflow_commands::allowed_roles`]).
//!
//! The form accepts exactly what `orderflow order receive` accepts: the values are parsed as the
//! command line parses them (a price in major units with up to two decimals, a quantity a whole
//! number, a date `YYYY-MM-DD`, a three-letter currency code, a channel's word; an empty unit is
//! `pcs`), then the command is decided once without writing ([`orderflow_commands::decide`] on a
//! new order, with the application's entry limits and settings) so that every field the domain
//! refuses is shown next to that field, as `.field-error[data-field=<name>]` (a line's field also
//! with `data-line=<row index from 0>`); the form comes back with what the person typed (400) and
//! nothing is written. A form that passes runs `receive` through [`super::run_command`] with the
//! form's command id (a second submit of the same form applies once) and goes to the new order's
//! page (`303 /orders/<id>?done=receive`).
//!
//! A row of the lines table whose SKU, specification, quantity and price are all blank is an
//! unused row (the script adds rows) and is not a line.

use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use orderflow_commands::{Command, Context, NewLine, OrderState, ReceiveOrder, Rejection};
use orderflow_schemas::{Channel, Currency, Date, OrderId};

use super::form::Fields;
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::session::Who;
use super::{Web, WebError, WebResult};
use crate::app::{AppError, EntryLimits, OrderRef, Request as AppRequest};

/// Fields an intake form may carry: enough for far more lines than an order may have (so that
/// too many lines is shown as the field error it is, not as an unreadable form), and no more
/// than a body of [`super::BODY_BYTES_MAX`] bytes could hold anyway (a field takes at least 8).
pub const INTAKE_FIELDS_MAX: usize = super::BODY_BYTES_MAX / 8;

/// Field errors the domain is asked for at most per submit (each found error is set aside and
/// the command decided again, to show several at once).
pub const DOMAIN_ERRORS_MAX: usize = 24;

/// Rows the empty form starts with.
const START_ROWS: usize = 1;

/// The fields of one line row, in the order of the table.
const LINE_FIELDS: [&str; 5] = ["sku", "spec", "quantity", "unit", "unit_price"];

/// The unit of a line whose unit is left empty (as `--line SKU:QTY:PRICE` on the command line).
const DEFAULT_UNIT: &str = "pcs";

/// The currency the empty form proposes.
const DEFAULT_CURRENCY: &str = "CNY";

/// Currencies proposed in the currency field's list (any three-letter ISO 4217 code is taken).
const PROPOSED_CURRENCIES: [&str; 6] = ["CNY", "EUR", "USD", "HKD", "JPY", "GBP"];

/// The posted intake form: like [`Fields`], with room for [`INTAKE_FIELDS_MAX`] fields.
#[derive(Debug)]
pub struct IntakeFields(pub Fields);

impl<S: Send + Sync> FromRequest<S> for IntakeFields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::Form(fields)) if fields.len() <= INTAKE_FIELDS_MAX => Ok(IntakeFields(Fields(fields))),
            Ok(axum::Form(fields)) => Err(WebError::bad_request(format!(
                "the form has {} fields (at most {INTAKE_FIELDS_MAX}); nothing was done",
                fields.len()
            ))
            .into_response()),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(WebError::too_large().into_response())
            }
            Err(rejection) => Err(WebError::bad_request(format!(
                "the form cannot be read: {}; nothing was done",
                rejection.body_text()
            ))
            .into_response()),
        }
    }
}

/// One row of the lines table as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct TypedLine {
    sku: String,
    spec: String,
    quantity: String,
    unit: String,
    unit_price: String,
}

impl TypedLine {
    fn get(&self, field: &str) -> &str {
        match field {
            "sku" => &self.sku,
            "spec" => &self.spec,
            "quantity" => &self.quantity,
            "unit" => &self.unit,
            _ => &self.unit_price,
        }
    }

    /// An unused row: nothing typed but perhaps the unit.
    fn is_blank(&self) -> bool {
        self.sku.is_empty() && self.spec.is_empty() && self.quantity.is_empty() && self.unit_price.is_empty()
    }
}

/// The form as typed (trimmed), to parse and to show again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Typed {
    customer: String,
    contact: String,
    channel: String,
    currency: String,
    requested_date: String,
    delivery_address: String,
    special_requirements: String,
    lines: Vec<TypedLine>,
}

impl Typed {
    fn empty() -> Self {
        Typed {
            channel: Channel::Phone.as_str().into(),
            currency: DEFAULT_CURRENCY.into(),
            lines: vec![TypedLine::default(); START_ROWS],
            ..Typed::default()
        }
    }

    fn get(&self, field: &str) -> &str {
        match field {
            "customer" => &self.customer,
            "contact" => &self.contact,
            "channel" => &self.channel,
            "currency" => &self.currency,
            "requested_date" => &self.requested_date,
            "delivery_address" => &self.delivery_address,
            _ => &self.special_requirements,
        }
    }

    /// The repeated line fields line up by position; a row missing one has it blank.
    fn of(fields: &Fields) -> Self {
        let columns: Vec<Vec<&str>> = LINE_FIELDS.iter().map(|f| fields.all(f)).collect();
        let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
        let cell = |c: usize, r: usize| columns[c].get(r).copied().unwrap_or("").to_string();
        let lines = (0..rows)
            .map(|r| TypedLine {
                sku: cell(0, r),
                spec: cell(1, r),
                quantity: cell(2, r),
                unit: cell(3, r),
                unit_price: cell(4, r),
            })
            .collect();
        Typed {
            customer: fields.text("customer").into(),
            contact: fields.text("contact").into(),
            channel: fields.text("channel").into(),
            currency: fields.text("currency").into(),
            requested_date: fields.text("requested_date").into(),
            delivery_address: fields.text("delivery_address").into(),
            special_requirements: fields.text("special_requirements").into(),
            lines,
        }
    }
}

/// An error shown next to a field: `line` is the row index (from 0) for a line's field.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FieldError {
    field: &'static str,
    line: Option<usize>,
    message: String,
}

/// A text in the page's language, formatted.
fn said(lang: Lang, en: String, hans: String, hant: String) -> String {
    match lang {
        Lang::En => en,
        Lang::Hans => hans,
        Lang::Hant => hant,
    }
}

fn required(lang: Lang) -> String {
    lang.t("Required.", "必填。", "必填。").to_string()
}

use crate::cli::order::parse_price;

/// What the form asks for: the command, the row index of each of its lines, and every value
/// that does not parse, by field. A value that does not parse stands in the command as one the
/// domain accepts (so that the domain is asked about every other field too); the command is
/// only run when no value failed.
struct Parsed {
    command: ReceiveOrder,
    rows: Vec<usize>,
    errors: Vec<FieldError>,
}

fn parse(typed: &Typed, lang: Lang, today: Date) -> Parsed {
    let mut errors = Vec::new();
    let mut err = |field: &'static str, line: Option<usize>, message: String| {
        errors.push(FieldError { field, line, message });
    };
    let channel = Channel::ALL.iter().copied().find(|c| c.as_str() == typed.channel).unwrap_or_else(|| {
        err(
            "channel",
            None,
            lang.t("Choose how the order came in.", "请选择订单来源渠道。", "請選擇訂單來源渠道。").into(),
        );
        Channel::Phone
    });
    let currency = match Currency::parse(&typed.currency) {
        Ok(c) => c,
        Err(_) => {
            let v = &typed.currency;
            err(
                "currency",
                None,
                said(
                    lang,
                    format!("'{v}' is not a currency code (three letters, such as CNY or EUR)."),
                    format!("“{v}”不是币种代码（三个字母，如 CNY 或 EUR）。"),
                    format!("「{v}」不是幣種代碼（三個字母，如 CNY 或 EUR）。"),
                ),
            );
            Currency::parse(DEFAULT_CURRENCY).unwrap_or_else(|_| unreachable!("a valid code"))
        }
    };
    let requested_date = if typed.requested_date.is_empty() {
        err("requested_date", None, required(lang));
        today
    } else {
        Date::parse(&typed.requested_date).unwrap_or_else(|_| {
            let v = &typed.requested_date;
            err(
                "requested_date",
                None,
                said(
                    lang,
                    format!("'{v}' is not a date (YYYY-MM-DD)."),
                    format!("“{v}”不是日期（格式为 YYYY-MM-DD）。"),
                    format!("「{v}」不是日期（格式為 YYYY-MM-DD）。"),
                ),
            );
            today
        })
    };
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    for (i, row) in typed.lines.iter().enumerate() {
        if row.is_blank() {
            continue;
        }
        let quantity = if row.quantity.is_empty() {
            err("quantity", Some(i), required(lang));
            1
        } else {
            row.quantity.parse::<u32>().unwrap_or_else(|_| {
                let v = &row.quantity;
                err(
                    "quantity",
                    Some(i),
                    said(
                        lang,
                        format!("'{v}' is not a quantity (a whole number from 1)."),
                        format!("“{v}”不是数量（须为从 1 起的整数）。"),
                        format!("「{v}」不是數量（須為從 1 起的整數）。"),
                    ),
                );
                1
            })
        };
        let unit_price_minor = if row.unit_price.is_empty() {
            err("unit_price", Some(i), required(lang));
            0
        } else {
            parse_price(&row.unit_price).unwrap_or_else(|_| {
                let v = &row.unit_price;
                err(
                    "unit_price",
                    Some(i),
                    said(
                        lang,
                        format!("'{v}' is not a price (up to 2 decimals, e.g. 12.50)."),
                        format!("“{v}”不是价格（最多两位小数，如 12.50）。"),
                        format!("「{v}」不是價格（最多兩位小數，如 12.50）。"),
                    ),
                );
                0
            })
        };
        lines.push(NewLine {
            sku: row.sku.clone(),
            spec: row.spec.clone(),
            quantity,
            unit: if row.unit.is_empty() { DEFAULT_UNIT.into() } else { row.unit.clone() },
            unit_price_minor,
        });
        rows.push(i);
    }
    let command = ReceiveOrder {
        channel,
        customer: typed.customer.clone(),
        contact: typed.contact.clone(),
        lines,
        currency,
        requested_date,
        delivery_address: typed.delivery_address.clone(),
        special_requirements: typed.special_requirements.clone(),
    };
    Parsed { command, rows, errors }
}

/// The form field a domain rejection names, and the line (1-based, as the domain numbers them).
fn located(r: &Rejection) -> Option<(&'static str, Option<usize>)> {
    let name = match r {
        Rejection::InvalidInput { field, .. } => field.as_str(),
        Rejection::LimitExceeded { what, .. } => what.as_str(),
        Rejection::Overflow { .. } => return Some(("lines", None)),
        _ => return None,
    };
    let name = name.strip_suffix(" length in bytes").unwrap_or(name);
    let whole = match name {
        "customer" => Some("customer"),
        "contact" => Some("contact"),
        "lines" | "number of lines" => Some("lines"),
        "requested date" => Some("requested_date"),
        "delivery address" => Some("delivery_address"),
        "special requirements" => Some("special_requirements"),
        _ => None,
    };
    if let Some(f) = whole {
        return Some((f, None));
    }
    let rest = name.strip_prefix("line ")?;
    let (no, part) = rest.split_once(' ')?;
    let no: usize = no.parse().ok()?;
    let field = match part {
        "SKU" => "sku",
        "spec" => "spec",
        "quantity" => "quantity",
        "unit" => "unit",
        "unit price" | "unit price in minor units" => "unit_price",
        _ => return None,
    };
    Some((field, Some(no)))
}

/// A domain rejection of a field, in the page's language.
fn domain_message(lang: Lang, r: &Rejection) -> String {
    match r {
        Rejection::InvalidInput { problem, .. } => {
            let p = problem.as_str();
            if p == "is required" {
                required(lang)
            } else if p == "must be more than 0" {
                lang.t("Must be more than 0.", "须大于 0。", "須大於 0。").into()
            } else if p.starts_with("are missing") {
                lang.t(
                    "An order needs at least one line.",
                    "订单至少需要一行明细。",
                    "訂單至少需要一行明細。",
                )
                .into()
            } else if p.contains("is before today") {
                lang.t("The date is before today.", "日期早于今天。", "日期早於今天。").into()
            } else {
                p.to_string()
            }
        }
        Rejection::LimitExceeded { what, count, max, .. } if what.ends_with("length in bytes") => said(
            lang,
            format!("Too long: {count} bytes, at most {max}."),
            format!("过长：{count} 字节，最多 {max}。"),
            format!("過長：{count} 位元組，最多 {max}。"),
        ),
        Rejection::LimitExceeded { what, count, max, .. } if what == "number of lines" => said(
            lang,
            format!("{count} lines: an order has at most {max}."),
            format!("共 {count} 行：一个订单最多 {max} 行。"),
            format!("共 {count} 行：一個訂單最多 {max} 行。"),
        ),
        Rejection::LimitExceeded { count, max, .. } => said(
            lang,
            format!("{count} is over the limit of {max}."),
            format!("{count} 超出上限 {max}。"),
            format!("{count} 超出上限 {max}。"),
        ),
        other => other.to_string(),
    }
}

/// Sets a field the domain refused to a value it accepts, to look for the next error.
fn set_aside(c: &mut ReceiveOrder, field: &str, line: Option<usize>, today: Date) -> bool {
    match field {
        "customer" => c.customer = "-".into(),
        "contact" => c.contact = "-".into(),
        "requested_date" => c.requested_date = today,
        "delivery_address" => c.delivery_address = "-".into(),
        "special_requirements" => c.special_requirements.clear(),
        "lines" => return false,
        f => match line.and_then(|n| n.checked_sub(1)).and_then(|i| c.lines.get_mut(i)) {
            None => return false,
            Some(l) => match f {
                "sku" => l.sku = "-".into(),
                "spec" => l.spec.clear(),
                "quantity" => l.quantity = 1,
                "unit" => l.unit = DEFAULT_UNIT.into(),
                _ => l.unit_price_minor = 0,
            },
        },
    }
    true
}

/// Every field the domain (and the application's entry limits) would refuse, deciding the command
/// without writing it; an error that names no field is shown above the form.
fn domain_errors(
    web: &Web,
    who: &Who,
    grant: Option<&str>,
    command_id: uuid::Uuid,
    command: &ReceiveOrder,
    rows: &[usize],
) -> Result<(Vec<FieldError>, Option<String>), WebError> {
    let lang = who.lang;
    let whole = Command::ReceiveOrder(command.clone());
    let principal = crate::auth::Auth::principal(&who.user, grant, Some(&whole))
        .map_err(|e| WebError::from_app(e, lang))?;
    let now = crate::app::now();
    let today = now.date();
    let order = OrderId::for_receive(command_id);
    let mut c = command.clone();
    let mut errors = Vec::new();
    for _ in 0..DOMAIN_ERRORS_MAX {
        let req = AppRequest {
            order_id: None,
            command_id,
            principal: principal.clone(),
            at: None,
            late_reason: None,
            command: Command::ReceiveOrder(c.clone()),
        };
        if let Err(e) = EntryLimits::DEFAULT.check(&req, now, now) {
            match e {
                AppError::Invalid(m) if m.starts_with("requested date") => {
                    errors.push(FieldError { field: "requested_date", line: None, message: m });
                    c.requested_date = today;
                    continue;
                }
                other => return Ok((errors, Some(WebError::from_app(other, lang).message))),
            }
        }
        let ctx = Context::new(principal.actor(), now).with_settings(web.app.settings());
        let rejection = match orderflow_commands::decide(&OrderState::new(order), &req.command, &ctx) {
            Ok(_) => return Ok((errors, None)),
            Err(r) => r,
        };
        let message = domain_message(lang, &rejection);
        match located(&rejection) {
            Some((field, line)) => {
                let row = match line {
                    Some(n) => match n.checked_sub(1).and_then(|i| rows.get(i)) {
                        Some(&row) => Some(row),
                        None => return Ok((errors, Some(message))),
                    },
                    None => None,
                };
                errors.push(FieldError { field, line: row, message });
                if !set_aside(&mut c, field, line, today) {
                    return Ok((errors, None));
                }
            }
            None => return Ok((errors, Some(rejection.to_string()))),
        }
    }
    Ok((errors, None))
}

/// Whether the person holds a grant whose role may issue `receive`.
fn may_receive(who: &Who) -> bool {
    let probe = Command::ReceiveOrder(ReceiveOrder {
        channel: Channel::Phone,
        customer: String::new(),
        contact: String::new(),
        lines: Vec::new(),
        currency: Currency::parse(DEFAULT_CURRENCY).unwrap_or_else(|_| unreachable!("a valid code")),
        requested_date: Date(0),
        delivery_address: String::new(),
        special_requirements: String::new(),
    });
    who.user.grants.iter().any(|g| orderflow_commands::may_issue(g.role(), &probe))
}

fn refused(who: &Who) -> WebError {
    WebError::forbidden(who.lang.t(
        "Only sales may take in new orders; you hold no sales role. Nothing was done.",
        "只有销售部可以录入新订单；您没有销售部的角色。未做任何操作。",
        "只有銷售部可以錄入新訂單；您沒有銷售部的角色。未做任何操作。",
    ))
    .lang(who.lang)
}

/// `GET /orders/new`: the empty form.
pub async fn page(who: Who) -> WebResult {
    if !may_receive(&who) {
        return Err(refused(&who));
    }
    Ok(render(&who, &Typed::empty(), &[], None, None).into_response())
}

/// `POST /orders/new`: takes the order in, or shows the form again with what is wrong.
pub async fn submit(State(web): State<Web>, who: Who, IntakeFields(fields): IntakeFields) -> WebResult {
    who.check_csrf(&fields)?;
    if !may_receive(&who) {
        return Err(refused(&who));
    }
    let command_id = super::command_id(&fields)?;
    let typed = Typed::of(&fields);
    let bad = |errors: &[FieldError], general: Option<&str>| {
        (StatusCode::BAD_REQUEST, render(&who, &typed, errors, general, Some(command_id))).into_response()
    };
    let Parsed { command, rows, mut errors } = parse(&typed, who.lang, crate::app::now().date());
    let grant = fields.get("as");
    let (found, general) = domain_errors(&web, &who, grant, command_id, &command, &rows)?;
    for e in found {
        if error_of(&errors, e.field, e.line).is_none() {
            errors.push(e);
        }
    }
    if !errors.is_empty() || general.is_some() {
        return Ok(bad(&errors, general.as_deref()));
    }
    match super::run_command(&web, &who, None, command_id, grant, Command::ReceiveOrder(command)).await {
        Ok(done) => {
            let to = format!("/orders/{}?done=receive", OrderRef::of(done.order_id).digits());
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            let status = e.status;
            Ok((status, render(&who, &typed, &[], Some(&e.message), Some(command_id))).into_response())
        }
    }
}

fn error_of<'a>(errors: &'a [FieldError], field: &str, line: Option<usize>) -> Option<&'a FieldError> {
    errors.iter().find(|e| e.field == field && e.line == line)
}

fn field_error(errors: &[FieldError], field: &'static str, line: Option<usize>) -> Markup {
    html! {
        @if let Some(e) = error_of(errors, field, line) {
            span.field-error data-field=(field) data-line=[line] role="alert" { (e.message) }
        }
    }
}

/// One row of the lines table (`index` `None` for the template row).
fn line_row(lang: Lang, line: &TypedLine, index: Option<usize>, errors: &[FieldError]) -> Markup {
    let label = |f: &str| match f {
        "sku" => lang.t("SKU", "产品编号", "產品編號"),
        "spec" => lang.t("Specification", "规格", "規格"),
        "quantity" => lang.t("Quantity", "数量", "數量"),
        "unit" => lang.t("Unit", "单位", "單位"),
        _ => lang.t("Unit price", "单价", "單價"),
    };
    html! {
        tr.line data-line=[index] {
            @for f in LINE_FIELDS {
                @let bad = index.is_some() && error_of(errors, f, index).is_some();
                td class=[(f == "quantity" || f == "unit_price").then_some("num")] {
                    @match f {
                        "quantity" => {
                            input type="text" inputmode="numeric" name=(f) value=(line.get(f))
                                aria-label=(label(f)) aria-invalid=[bad.then_some("true")] size="6";
                        }
                        "unit_price" => {
                            input type="text" inputmode="decimal" name=(f) value=(line.get(f))
                                aria-label=(label(f)) aria-invalid=[bad.then_some("true")] size="9";
                        }
                        "unit" => {
                            input type="text" name=(f) value=(line.get(f)) placeholder=(DEFAULT_UNIT)
                                aria-label=(label(f)) aria-invalid=[bad.then_some("true")] size="5";
                        }
                        _ => {
                            input type="text" name=(f) value=(line.get(f))
                                aria-label=(label(f)) aria-invalid=[bad.then_some("true")];
                        }
                    }
                    @if index.is_some() { (field_error(errors, f, index)) }
                }
            }
            td {
                button.secondary type="button" data-remove-line
                    aria-label=(lang.t("Remove this line", "删除此行", "刪除此行")) { "×" }
            }
        }
    }
}

/// The intake page: the form with `typed` values and `errors` beside their fields; `general` a
/// refusal above it; `command_id` the id of the form being corrected (a fresh one otherwise).
fn render(
    who: &Who,
    typed: &Typed,
    errors: &[FieldError],
    general: Option<&str>,
    command_id: Option<uuid::Uuid>,
) -> Markup {
    let l = who.lang;
    let title = l.t("New order", "录入订单", "錄入訂單");
    let text_field = |name: &'static str, label: &str, required: bool| {
        let bad = error_of(errors, name, None).is_some();
        html! {
            label {
                (label)
                input type="text" name=(name) value=(typed.get(name)) required[required]
                    aria-invalid=[bad.then_some("true")];
                (field_error(errors, name, None))
            }
        }
    };
    let area_field = |name: &'static str, label: &str, required: bool| {
        let bad = error_of(errors, name, None).is_some();
        html! {
            label {
                (label)
                textarea name=(name) required[required] aria-invalid=[bad.then_some("true")] { (typed.get(name)) }
                (field_error(errors, name, None))
            }
        }
    };
    let today = crate::app::now().date();
    let body = html! {
        h1 { (title) }
        @if !errors.is_empty() {
            (layout::notice("error", l.t(
                "The order was not taken in: correct the marked fields. Nothing was written.",
                "订单未录入：请更正标出的字段。未写入任何内容。",
                "訂單未錄入：請更正標出的欄位。未寫入任何內容。",
            )))
        }
        @if let Some(g) = general { (layout::notice("error", g)) }
        form #intake method="post" action="/orders/new" {
            input type="hidden" name=(super::session::CSRF_FIELD) value=(who.csrf);
            input type="hidden" name="command_id" value=(command_id.unwrap_or_else(uuid::Uuid::new_v4));
            section.card {
                h2 { (l.t("Customer", "客户", "客戶")) }
                div.fields {
                    (text_field("customer", l.t("Customer", "客户名称", "客戶名稱"), true))
                    (text_field("contact", l.t("Contact (person, phone or e-mail)", "联系人（姓名、电话或邮箱）", "聯絡人（姓名、電話或郵箱）"), true))
                    label {
                        (l.t("Channel", "订单来源", "訂單來源"))
                        select name="channel" aria-invalid=[error_of(errors, "channel", None).is_some().then_some("true")] {
                            @for c in Channel::ALL {
                                option value=(c.as_str()) selected[typed.channel == c.as_str()] { (l.channel(*c)) }
                            }
                        }
                        (field_error(errors, "channel", None))
                    }
                }
            }
            section.card {
                h2 { (l.t("Delivery", "交付", "交付")) }
                div.fields {
                    label {
                        (l.t("Requested delivery date", "要求交货日期", "要求交貨日期"))
                        input type="date" name="requested_date" value=(typed.requested_date) min=(today.to_string())
                            required aria-invalid=[error_of(errors, "requested_date", None).is_some().then_some("true")];
                        (field_error(errors, "requested_date", None))
                    }
                    (area_field("delivery_address", l.t("Delivery address", "交货地址", "交貨地址"), true))
                    (area_field("special_requirements", l.t("Special requirements (packaging, labels, temperature)", "特殊要求（包装、标签、温度）", "特殊要求（包裝、標籤、溫度）"), false))
                }
            }
            section.card {
                h2 { (l.t("Lines", "订单明细", "訂單明細")) }
                div.fields {
                    label.short {
                        (l.t("Currency of the prices", "价格币种", "價格幣種"))
                        input type="text" name="currency" value=(typed.currency) list="currencies" size="4"
                            maxlength="3" required aria-invalid=[error_of(errors, "currency", None).is_some().then_some("true")];
                        datalist #currencies { @for c in PROPOSED_CURRENCIES { option value=(c) {} } }
                        (field_error(errors, "currency", None))
                    }
                }
                @if let Some(e) = error_of(errors, "lines", None) {
                    p.field-error data-field="lines" role="alert" { (e.message) }
                }
                div.scroll.table-wrap {
                    table.lines {
                        thead {
                            tr {
                                th { (l.t("SKU", "产品编号", "產品編號")) }
                                th { (l.t("Specification", "规格", "規格")) }
                                th.num { (l.t("Quantity", "数量", "數量")) }
                                th { (l.t("Unit", "单位", "單位")) }
                                th.num { (l.t("Unit price", "单价", "單價")) }
                                th { span.muted { (l.t("Remove", "删除", "刪除")) } }
                            }
                        }
                        tbody #intake-lines {
                            @for (i, line) in typed.lines.iter().enumerate() {
                                (line_row(l, line, Some(i), errors))
                            }
                        }
                    }
                }
                template #line-template { (line_row(l, &TypedLine::default(), None, &[])) }
                p {
                    button.secondary type="button" data-add-line="intake-lines" {
                        (l.t("Add a line", "添加一行", "新增一行"))
                    }
                }
            }
            p {
                button #intake-submit type="submit" { (l.t("Take in the order", "录入订单", "錄入訂單")) }
            }
        }
    };
    layout::page(who, title, Nav::Intake, "/orders/new", false, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn prices_parse_as_on_the_command_line() {
        assert_eq!(parse_price("12"), Ok(1200));
        assert_eq!(parse_price("12.5"), Ok(1250));
        assert_eq!(parse_price(".5"), Ok(50));
        assert_eq!(parse_price("-1.25"), Ok(-125));
        for bad in ["", "1.234", "abc", "1,5", "1e3", "."] {
            assert!(parse_price(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn rows_line_up_and_blank_rows_are_not_lines() {
        let f = fields(&[
            ("customer", "伊利"),
            ("channel", "email"),
            ("currency", "cny"),
            ("requested_date", "2099-01-02"),
            ("sku", "P1"),
            ("quantity", "3"),
            ("unit_price", "1.5"),
            ("sku", ""),
            ("quantity", ""),
            ("unit_price", ""),
        ]);
        let typed = Typed::of(&f);
        assert_eq!(typed.lines.len(), 2);
        let Parsed { command: c, rows, errors } = parse(&typed, Lang::En, Date(0));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows, vec![0]);
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].unit, "pcs");
        assert_eq!(c.lines[0].unit_price_minor, 150);
        assert_eq!(c.currency.as_str(), "CNY");
        assert_eq!(c.channel, Channel::Email);
    }

    #[test]
    fn every_bad_value_is_named_by_its_field() {
        let f = fields(&[
            ("channel", "fax"),
            ("currency", "yuan"),
            ("requested_date", "2026-13-40"),
            ("sku", "P1"),
            ("quantity", "two"),
            ("unit_price", "1.234"),
            ("sku", "P2"),
            ("quantity", "-1"),
            ("unit_price", "3"),
        ]);
        let errors = parse(&Typed::of(&f), Lang::Hans, Date(0)).errors;
        let named: Vec<(&str, Option<usize>)> = errors.iter().map(|e| (e.field, e.line)).collect();
        assert_eq!(
            named,
            vec![
                ("channel", None),
                ("currency", None),
                ("requested_date", None),
                ("quantity", Some(0)),
                ("unit_price", Some(0)),
                ("quantity", Some(1)),
            ]
        );
    }

    #[test]
    fn the_domain_names_map_to_form_fields() {
        let order = OrderId::for_receive(uuid::Uuid::nil());
        let inv = |field: &str| Rejection::InvalidInput { order, field: field.into(), problem: "x".into() };
        let lim = |what: &str| Rejection::LimitExceeded { order, what: what.into(), count: 2, max: 1 };
        assert_eq!(located(&inv("customer")), Some(("customer", None)));
        assert_eq!(located(&lim("contact length in bytes")), Some(("contact", None)));
        assert_eq!(located(&lim("number of lines")), Some(("lines", None)));
        assert_eq!(located(&inv("line 3 quantity")), Some(("quantity", Some(3))));
        assert_eq!(located(&lim("line 2 unit price in minor units")), Some(("unit_price", Some(2))));
        assert_eq!(located(&lim("line 1 SKU length in bytes")), Some(("sku", Some(1))));
        assert_eq!(located(&inv("requested date")), Some(("requested_date", None)));
        assert_eq!(
            located(&lim("special requirements length in bytes")),
            Some(("special_requirements", None))
        );
        assert_eq!(located(&Rejection::OrderNotFound { order }), None);
    }
}
