//! The actions of the order page: which ones the person may take now (a dry run of the domain's
//! [`decide`] on a representative command, per grant, after the role check [`may_issue`]), their
//! forms, and the command a posted form makes ([`parse`]) — the fields are the command's own,
//! named as in its JSON form.

use std::str::FromStr;

use axum::http::StatusCode;
use maud::{html, Markup};
use orderflow_commands::{
    decide, may_issue, ApproveChange, ApproveReview, CancelOrder, ChangeOrder, CloseOrder, Command,
    CompleteProduction, ConfirmOrder, Context, DeclineChange, DeliverOrder, InspectQuality, LineEdit,
    LineUpdate, NewLine, OpenComplaint, OrderState, PlaceHold, RecordFeedback, RecordVisit, RefuseOrder,
    RejectReview, ReleaseHold, ReopenComplaint, ReportDelay, ResolveComplaint, ScheduleProduction, ShipOrder,
    SignOrder, UpdateComplaint, WithdrawChange,
};
use orderflow_schemas::{
    ComplaintCategory, ConfirmMethod, Date, DeliveryMode, Department, Grant, ImpactNote, Initiator,
    InspectionResult, LineQuantity, OrderId, Remedy, Role, Severity, ShipMode, VisitMethod, CHANGE_REVIEWERS,
};

use super::super::form::Fields;
use super::super::i18n::Lang;
use super::super::layout;
use super::super::session::Who;
use super::super::Web;
use super::view;
use crate::auth::{Auth, Principal};

/// Bytes of a `back` path at most.
pub(super) const BACK_BYTES_MAX: usize = 2_048;

/// Every action the page offers, by command name, in the order of the page.
pub(super) const ACTIONS: &[&str] = &[
    "approve",
    "reject",
    "approve_change",
    "decline_change",
    "confirm",
    "schedule",
    "inspect",
    "complete",
    "ship",
    "delay",
    "deliver",
    "sign",
    "refuse",
    "complain",
    "update_complaint",
    "resolve",
    "reopen",
    "feedback",
    "visit",
    "change",
    "withdraw_change",
    "cancel",
    "close",
    "hold",
    "release",
];

/// The action's name when it is one of [`ACTIONS`].
pub(super) fn known(name: &str) -> Option<&'static str> {
    ACTIONS.iter().chain(DONE_ELSEWHERE).copied().find(|a| *a == name)
}

/// What other forms of the page post elsewhere and come back `done` with (the tracking links).
pub(super) const DONE_ELSEWHERE: &[&str] = &["create_link", "revoke_link"];

/// What an action does, as the form's button says it.
pub(super) fn title(lang: Lang, action: &str) -> &'static str {
    match action {
        "approve" => lang.t("Approve", "批准", "批准"),
        "reject" => lang.t("Reject", "驳回", "駁回"),
        "approve_change" => lang.t("Approve the change request", "批准订单变更", "批准訂單變更"),
        "decline_change" => lang.t("Decline the change request", "驳回订单变更", "駁回訂單變更"),
        "confirm" => lang.t("Confirm with the customer", "订单确认", "訂單確認"),
        "schedule" => lang.t("Schedule production", "排产（生产计划）", "排產（生產計劃）"),
        "inspect" => lang.t("Record a quality inspection", "记录质量检验", "記錄質量檢驗"),
        "complete" => lang.t("Complete production", "完成生产", "完成生產"),
        "ship" => lang.t("Ship", "发货", "發貨"),
        "delay" => lang.t("Report a delay", "报告延误", "報告延誤"),
        "deliver" => lang.t("Record the delivery", "记录交付", "記錄交付"),
        "sign" => lang.t("Record the sign-off", "记录签收", "記錄簽收"),
        "refuse" => lang.t("Record a refusal", "记录拒收", "記錄拒收"),
        "complain" => lang.t("Open a complaint", "登记投诉", "登記投訴"),
        "update_complaint" => lang.t("Record complaint progress", "记录投诉进展", "記錄投訴進展"),
        "resolve" => lang.t("Resolve the complaint", "解决投诉", "解決投訴"),
        "reopen" => lang.t("Reopen the complaint", "重新打开投诉", "重新打開投訴"),
        "feedback" => lang.t("Record satisfaction", "记录客户满意度", "記錄客戶滿意度"),
        "visit" => lang.t("Record a follow-up visit", "记录客户回访", "記錄客戶回訪"),
        "change" => lang.t("Change the order", "订单变更", "訂單變更"),
        "withdraw_change" => lang.t("Withdraw the change request", "撤回订单变更", "撤回訂單變更"),
        "cancel" => lang.t("Cancel the order", "取消订单", "取消訂單"),
        "close" => lang.t("Close and archive", "关闭并归档", "關閉並歸檔"),
        "hold" => lang.t("Place an archive hold", "冻结保存", "凍結保存"),
        "release" => lang.t("Release the archive hold", "解除冻结保存", "解除凍結保存"),
        "create_link" => lang.t("Tracking link created", "已创建跟踪链接", "已建立跟蹤連結"),
        "revoke_link" => lang.t(
            "Every tracking link of this order was revoked",
            "已撤销本订单的全部跟踪链接",
            "已撤銷本訂單的全部跟蹤連結",
        ),
        _ => lang.t("Action", "操作", "操作"),
    }
}

/// The notice after a successful action.
pub(super) fn done_words(lang: Lang, action: &str) -> String {
    format!("{} {}", lang.t("Done:", "已完成：", "已完成："), title(lang, action))
}

/// "is required", in the page's language.
pub(super) fn missing(lang: Lang) -> String {
    lang.t("is required", "为必填项", "為必填項").to_string()
}

/// A field's problem in words, naming the field as the form names it.
pub(super) fn field_words(lang: Lang, field: &str, problem: &str) -> String {
    format!("{} {field} {problem}.", lang.t("The field", "字段", "欄位"))
}

/// A field of a posted form that is missing or cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldError {
    /// The field, as the form names it.
    pub(super) field: String,
    /// What is wrong with it.
    pub(super) problem: String,
}

struct Form<'a> {
    lang: Lang,
    fields: &'a Fields,
}

impl Form<'_> {
    fn missing(&self, field: &str) -> FieldError {
        FieldError { field: field.to_string(), problem: missing(self.lang) }
    }

    fn bad(&self, field: &str, problem: impl Into<String>) -> FieldError {
        FieldError { field: field.to_string(), problem: problem.into() }
    }

    /// A text, trimmed ("" when absent).
    fn text(&self, field: &str) -> String {
        self.fields.text(field).to_string()
    }

    fn opt_text(&self, field: &str) -> Option<String> {
        self.fields.get(field).map(str::to_string)
    }

    /// The raw value, blank kept (`None` only when the field is absent).
    fn raw(&self, field: &str) -> Option<&str> {
        self.fields.0.iter().find(|(k, _)| k == field).map(|(_, v)| v.trim())
    }

    fn word<T: FromStr<Err = String>>(&self, field: &str) -> Result<T, FieldError> {
        let v = self.fields.get(field).ok_or_else(|| self.missing(field))?;
        v.parse().map_err(|e: String| self.bad(field, e))
    }

    fn date(&self, field: &str) -> Result<Date, FieldError> {
        self.opt_date(field)?.ok_or_else(|| self.missing(field))
    }

    fn opt_date(&self, field: &str) -> Result<Option<Date>, FieldError> {
        self.fields.get(field).map(|v| Date::parse(v).map_err(|e| self.bad(field, e))).transpose()
    }

    fn number<T: FromStr>(&self, field: &str) -> Result<T, FieldError> {
        self.opt_number(field)?.ok_or_else(|| self.missing(field))
    }

    fn opt_number<T: FromStr>(&self, field: &str) -> Result<Option<T>, FieldError> {
        self.fields
            .get(field)
            .map(|v| {
                v.parse::<T>().map_err(|_| {
                    self.bad(
                        field,
                        format!("'{v}' {}", self.lang.t("is not a whole number", "不是整数", "不是整數")),
                    )
                })
            })
            .transpose()
    }

    fn price(&self, field: &str) -> Result<Option<i64>, FieldError> {
        self.fields.get(field).map(|v| parse_price(v).map_err(|e| self.bad(field, e))).transpose()
    }

    fn yes_no(&self, field: &str) -> Result<bool, FieldError> {
        match self.fields.get(field).map(str::to_ascii_lowercase).as_deref() {
            Some("yes" | "true" | "1") => Ok(true),
            Some("no" | "false" | "0") => Ok(false),
            Some(other) => Err(self.bad(field, format!("'{other}' is not yes or no"))),
            None => Err(self.missing(field)),
        }
    }
}

pub(super) use crate::cli::order::parse_price;

/// A deciding department of change requests, by its role's word.
fn change_reviewer(form: &Form<'_>, field: &str) -> Result<Role, FieldError> {
    let role: Role = form.word(field)?;
    if CHANGE_REVIEWERS.contains(&role) {
        Ok(role)
    } else {
        let all: Vec<&str> = CHANGE_REVIEWERS.iter().map(|r| r.as_str()).collect();
        Err(form.bad(
            field,
            format!("'{role}' does not decide change requests; expected one of: {}", all.join(", ")),
        ))
    }
}

/// The command a posted form of `action` makes, its fields named as the command's own
/// (`department`, `note`, `reason`, `promised_date`, ...; per line `quantity_<n>`,
/// `unit_price_<n>`, `spec_<n>`, `remove_<n>`, `accepted_<n>`). Nothing is checked here that the
/// domain checks itself (required texts, dates not past...): only what must be read.
pub(super) fn parse(
    lang: Lang,
    action: &str,
    fields: &Fields,
    state: &OrderState,
) -> Result<Command, FieldError> {
    let f = Form { lang, fields };
    Ok(match action {
        "approve" => Command::ApproveReview(ApproveReview {
            department: f.word("department")?,
            revision: f.opt_number("revision")?,
            note: f.text("note"),
        }),
        "reject" => Command::RejectReview(RejectReview {
            department: f.word("department")?,
            revision: f.opt_number("revision")?,
            reason: required(&f, "reason")?,
        }),
        "approve_change" => Command::ApproveChange(ApproveChange {
            department: change_reviewer(&f, "department")?,
            request_id: f.opt_number("request_id")?,
            note: f.text("note"),
        }),
        "decline_change" => Command::DeclineChange(DeclineChange {
            department: change_reviewer(&f, "department")?,
            request_id: f.opt_number("request_id")?,
            reason: required(&f, "reason")?,
        }),
        "withdraw_change" => Command::WithdrawChange(WithdrawChange { reason: required(&f, "reason")? }),
        "confirm" => Command::ConfirmOrder(ConfirmOrder {
            promised_date: f.date("promised_date")?,
            expected_ship_date: f.date("expected_ship_date")?,
            delivery_mode: f.word("delivery_mode")?,
            confirmed_via: f.word("confirmed_via")?,
            note: f.text("note"),
        }),
        "schedule" => Command::ScheduleProduction(ScheduleProduction {
            planned_finish: f.date("planned_finish")?,
            note: f.text("note"),
        }),
        "inspect" => {
            Command::InspectQuality(InspectQuality { result: f.word("result")?, note: f.text("note") })
        }
        "complete" => Command::CompleteProduction(CompleteProduction { note: f.text("note") }),
        "ship" => Command::ShipOrder(ShipOrder {
            carrier: required(&f, "carrier")?,
            mode: f.word("mode")?,
            tracking_number: required(&f, "tracking_number")?,
            eta: f.date("eta")?,
            unconfirmed_reason: f.opt_text("unconfirmed_reason"),
        }),
        "delay" => {
            Command::ReportDelay(ReportDelay { new_eta: f.date("new_eta")?, reason: required(&f, "reason")? })
        }
        "deliver" => Command::DeliverOrder(DeliverOrder { note: f.text("note") }),
        "sign" => {
            let mut accepted = Vec::new();
            if let Some(shipment) = &state.shipment {
                for l in &shipment.lines {
                    let field = format!("accepted_{}", l.line_no);
                    if let Some(q) = f.opt_number::<u32>(&field)? {
                        if q != l.quantity {
                            accepted.push(LineQuantity { line_no: l.line_no, quantity: q });
                        }
                    }
                }
            }
            Command::SignOrder(SignOrder {
                signed_by: required(&f, "signed_by")?,
                accepted: if accepted.is_empty() { None } else { Some(accepted) },
                note: f.text("note"),
            })
        }
        "refuse" => Command::RefuseOrder(RefuseOrder {
            refused_by: required(&f, "refused_by")?,
            reason: required(&f, "reason")?,
        }),
        "complain" => Command::OpenComplaint(OpenComplaint {
            category: f.word("category")?,
            severity: f.word("severity")?,
            text: required(&f, "text")?,
            assignee: f.opt_text("assignee"),
        }),
        "update_complaint" => Command::UpdateComplaint(UpdateComplaint {
            complaint_id: f.number("complaint_id")?,
            note: required(&f, "note")?,
            next_step: required(&f, "next_step")?,
        }),
        "resolve" => Command::ResolveComplaint(ResolveComplaint {
            complaint_id: f.number("complaint_id")?,
            resolution: required(&f, "resolution")?,
            remedy: f.word("remedy")?,
            customer_satisfied: f.yes_no("customer_satisfied")?,
        }),
        "reopen" => Command::ReopenComplaint(ReopenComplaint {
            complaint_id: f.number("complaint_id")?,
            reason: required(&f, "reason")?,
        }),
        "feedback" => {
            Command::RecordFeedback(RecordFeedback { score: f.number("score")?, comment: f.text("comment") })
        }
        "visit" => Command::RecordVisit(RecordVisit {
            method: f.word("method")?,
            score: f.opt_number("score")?,
            comment: f.text("comment"),
        }),
        "change" => change(&f, state)?,
        "cancel" => Command::CancelOrder(CancelOrder {
            initiated_by: f.word("initiated_by")?,
            reason: required(&f, "reason")?,
        }),
        "close" => Command::CloseOrder(CloseOrder { override_reason: f.opt_text("override_reason") }),
        "hold" => Command::PlaceHold(PlaceHold { reason: required(&f, "reason")? }),
        "release" => Command::ReleaseHold(ReleaseHold { note: f.text("note") }),
        other => {
            return Err(f.bad(
                "action",
                format!(
                    "'{other}' {}",
                    lang.t("is not an action of this page", "不是本页面的操作", "不是本頁面的操作")
                ),
            ))
        }
    })
}

/// A required text: blank is a field error here (the domain would say the same, as a rule).
fn required(f: &Form<'_>, field: &str) -> Result<String, FieldError> {
    f.opt_text(field).ok_or_else(|| f.missing(field))
}

/// `change`: the edits of the lines (a value differing from the line's is an update), the new
/// requested date and address (the domain ignores unchanged ones), impact notes per deciding
/// department (`impact_<role>`), and one new line (`add_sku`, `add_quantity`, `add_unit`,
/// `add_unit_price`, `add_spec`).
fn change(f: &Form<'_>, state: &OrderState) -> Result<Command, FieldError> {
    let mut lines = Vec::new();
    let mut removed = Vec::new();
    for l in &state.lines {
        let n = l.line_no;
        if f.fields.get(&format!("remove_{n}")).is_some() {
            removed.push(LineEdit::Remove { line_no: n });
            continue;
        }
        let mut u = LineUpdate { line_no: n, quantity: None, spec: None, unit_price_minor: None };
        if let Some(q) = f.opt_number::<u32>(&format!("quantity_{n}"))? {
            u.quantity = (q != l.quantity).then_some(q);
        }
        if let Some(p) = f.price(&format!("unit_price_{n}"))? {
            u.unit_price_minor = (p != l.unit_price_minor).then_some(p);
        }
        if let Some(spec) = f.raw(&format!("spec_{n}")) {
            u.spec = (spec != l.spec).then(|| spec.to_string());
        }
        if u.quantity.is_some() || u.unit_price_minor.is_some() || u.spec.is_some() {
            lines.push(LineEdit::Update(u));
        }
    }
    if let Some(sku) = f.opt_text("add_sku") {
        lines.push(LineEdit::Add(NewLine {
            sku,
            spec: f.text("add_spec"),
            quantity: f.number("add_quantity")?,
            unit: f.opt_text("add_unit").unwrap_or_else(|| "pcs".to_string()),
            unit_price_minor: f.price("add_unit_price")?.ok_or_else(|| f.missing("add_unit_price"))?,
        }));
    }
    lines.extend(removed);
    let impact = CHANGE_REVIEWERS
        .iter()
        .filter_map(|r| {
            f.opt_text(&format!("impact_{}", r.as_str())).map(|note| ImpactNote { role: *r, note })
        })
        .collect();
    Ok(Command::ChangeOrder(ChangeOrder {
        initiated_by: f.word("initiated_by")?,
        reason: required(f, "reason")?,
        impact,
        lines,
        requested_date: f.opt_date("requested_date")?,
        delivery_address: f.opt_text("delivery_address"),
    }))
}

/// The status of a refusal the domain gave (409 from [`super::super::WebError::from_app`]),
/// told apart by deciding the command again (nothing is written): a bad field is 400, a role
/// that may not issue it 403, an unknown order 404; `None` for a rule's refusal (409).
pub(super) fn refusal_status(
    web: &Web,
    principal: &Principal,
    order: OrderId,
    command: &Command,
) -> Option<StatusCode> {
    use orderflow_commands::Rejection as R;
    let (_, state) = web.app.order(order).ok()?;
    let ctx = Context::new(principal.actor(), crate::app::now()).with_settings(web.app.settings());
    match decide(&state, command, &ctx) {
        Err(R::NotPermitted { .. }) => Some(StatusCode::FORBIDDEN),
        Err(R::InvalidInput { .. } | R::LimitExceeded { .. } | R::Overflow { .. }) => {
            Some(StatusCode::BAD_REQUEST)
        }
        Err(R::OrderNotFound { .. }) => Some(StatusCode::NOT_FOUND),
        _ => None,
    }
}

/// One action the person may take now.
#[derive(Clone, Debug)]
pub(super) struct Offer {
    /// The command name.
    pub(super) action: &'static str,
    /// The deciding department (approve, reject, change decisions): its word.
    pub(super) department: Option<&'static str>,
    /// The complaint it concerns.
    pub(super) complaint: Option<u32>,
    /// The person's grants in which it would pass, in the directory's order.
    pub(super) grants: Vec<Grant>,
    /// Only with an override's reason (shipping unconfirmed, closing over complaints).
    pub(super) with_override: bool,
}

struct Candidate {
    action: &'static str,
    department: Option<&'static str>,
    complaint: Option<u32>,
    command: Command,
    /// The same action with an override's reason, tried when the plain one passes for none.
    with_override: Option<Command>,
}

fn candidate(action: &'static str, command: impl Into<Command>) -> Candidate {
    Candidate { action, department: None, complaint: None, command: command.into(), with_override: None }
}

const SAMPLE: &str = "-";

/// A representative command of every action the order might take now, with fields that pass
/// the field checks.
fn candidates(state: &OrderState, today: Date) -> Vec<Candidate> {
    let s = || SAMPLE.to_string();
    let revision = Some(state.revision);
    let mut out = Vec::new();
    for &d in Department::ALL {
        out.push(Candidate {
            department: Some(d.as_str()),
            ..candidate("approve", ApproveReview { department: d, revision, note: String::new() })
        });
        out.push(Candidate {
            department: Some(d.as_str()),
            ..candidate("reject", RejectReview { department: d, revision, reason: s() })
        });
    }
    if let Some(r) = &state.change_request {
        let request_id = Some(r.proposal.request_id);
        for due in r.undecided() {
            let department = Some(due.role.as_str());
            out.push(Candidate {
                department,
                ..candidate(
                    "approve_change",
                    ApproveChange { department: due.role, request_id, note: String::new() },
                )
            });
            out.push(Candidate {
                department,
                ..candidate("decline_change", DeclineChange { department: due.role, request_id, reason: s() })
            });
        }
    }
    out.push(candidate(
        "confirm",
        ConfirmOrder {
            promised_date: today,
            expected_ship_date: today,
            delivery_mode: DeliveryMode::OwnFleet,
            confirmed_via: ConfirmMethod::Phone,
            note: String::new(),
        },
    ));
    out.push(candidate("schedule", ScheduleProduction { planned_finish: today, note: String::new() }));
    out.push(candidate("inspect", InspectQuality { result: InspectionResult::Pass, note: String::new() }));
    out.push(candidate("complete", CompleteProduction { note: String::new() }));
    let ship = |unconfirmed_reason| ShipOrder {
        carrier: s(),
        mode: ShipMode::Road,
        tracking_number: s(),
        eta: today,
        unconfirmed_reason,
    };
    out.push(Candidate { with_override: Some(ship(Some(s())).into()), ..candidate("ship", ship(None)) });
    let eta = state.shipment.as_ref().map(|sh| sh.eta);
    let new_eta = if eta == Some(today) { today.plus_days(1) } else { today };
    out.push(candidate("delay", ReportDelay { new_eta, reason: s() }));
    out.push(candidate("deliver", DeliverOrder { note: String::new() }));
    out.push(candidate("sign", SignOrder { signed_by: s(), accepted: None, note: String::new() }));
    out.push(candidate("refuse", RefuseOrder { refused_by: s(), reason: s() }));
    out.push(candidate(
        "complain",
        OpenComplaint {
            category: ComplaintCategory::Quality,
            severity: Severity::Medium,
            text: s(),
            assignee: None,
        },
    ));
    for &id in state.complaints.keys() {
        let about = |c: Candidate| Candidate { complaint: Some(id), ..c };
        out.push(about(candidate(
            "update_complaint",
            UpdateComplaint { complaint_id: id, note: s(), next_step: s() },
        )));
        out.push(about(candidate(
            "resolve",
            ResolveComplaint {
                complaint_id: id,
                resolution: s(),
                remedy: Remedy::Other,
                customer_satisfied: true,
            },
        )));
        out.push(about(candidate("reopen", ReopenComplaint { complaint_id: id, reason: s() })));
    }
    out.push(candidate("feedback", RecordFeedback { score: 5, comment: String::new() }));
    out.push(candidate(
        "visit",
        RecordVisit { method: VisitMethod::Phone, score: None, comment: String::new() },
    ));
    let mut date = today.plus_days(1);
    if state.requested_date == Some(date) {
        date = date.plus_days(1);
    }
    out.push(candidate(
        "change",
        ChangeOrder {
            initiated_by: Initiator::Internal,
            reason: s(),
            impact: Vec::new(),
            lines: Vec::new(),
            requested_date: Some(date),
            delivery_address: None,
        },
    ));
    out.push(candidate("withdraw_change", WithdrawChange { reason: s() }));
    out.push(candidate("cancel", CancelOrder { initiated_by: Initiator::Internal, reason: s() }));
    out.push(Candidate {
        with_override: Some(CloseOrder { override_reason: Some(s()) }.into()),
        ..candidate("close", CloseOrder { override_reason: None })
    });
    out.push(candidate("hold", PlaceHold { reason: s() }));
    out.push(candidate("release", ReleaseHold { note: String::new() }));
    out
}

/// Whether `command` would pass now for the person acting in `grant`: the role check, then the
/// domain's own decision (nothing is written).
fn passes(
    web: &Web,
    who: &Who,
    state: &OrderState,
    grant: Grant,
    command: &Command,
    ctx_now: orderflow_schemas::Timestamp,
) -> bool {
    if !may_issue(grant.role(), command) {
        return false;
    }
    let Ok(principal) = Auth::principal(&who.user, Some(&grant.to_string()), Some(command)) else {
        return false;
    };
    let ctx = Context::new(principal.actor(), ctx_now).with_settings(web.app.settings());
    decide(state, command, &ctx).is_ok()
}

/// The actions the person may take on the order now.
pub(super) fn offers(web: &Web, who: &Who, state: &OrderState) -> Vec<Offer> {
    let now = crate::app::now();
    let mut out = Vec::new();
    for c in candidates(state, now.date()) {
        let fits = |command: &Command| -> Vec<Grant> {
            who.user.grants.iter().copied().filter(|g| passes(web, who, state, *g, command, now)).collect()
        };
        let mut grants = fits(&c.command);
        let mut with_override = false;
        if grants.is_empty() {
            if let Some(alt) = &c.with_override {
                grants = fits(alt);
                with_override = !grants.is_empty();
            }
        }
        // The domain takes a second confirmation of the same revision (it replaces the first),
        // but the page offers confirming only while the revision is not confirmed yet.
        let confirmed_already = c.action == "confirm"
            && state.confirmation.as_ref().is_some_and(|k| k.revision == Some(state.revision));
        if !grants.is_empty() && !confirmed_already {
            out.push(Offer {
                action: c.action,
                department: c.department,
                complaint: c.complaint,
                grants,
                with_override,
            });
        }
    }
    out
}

/// A grant in words: the role's department, "head of" for a head.
pub(super) fn grant_words(lang: Lang, grant: Grant) -> String {
    match grant {
        Grant::Role(r) => lang.role(r).to_string(),
        Grant::DeptHead(r) => format!("{}{}", lang.role(r), lang.t(" (head)", "负责人", "負責人")),
    }
}

/// Every form of the page, in a section of its own; an explanation when there is none.
pub(super) fn forms(who: &Who, order: OrderId, state: &OrderState, offers: &[Offer]) -> Markup {
    let lang = who.lang;
    html! {
        section.card.actions #order-actions {
            h2 { (lang.t("What you can do now", "您现在可以", "您現在可以")) }
            @if offers.is_empty() {
                p.muted.no-actions { (lang.t(
                    "Nothing for your role at this step of the order.",
                    "在订单的这一步，您的角色没有可执行的操作。",
                    "在訂單的這一步，您的角色沒有可執行的操作。"
                )) }
            }
            div.action-forms {
                @for offer in offers.iter().filter(|o| o.action != "change") { (form(who, order, state, offer)) }
            }
            // The change form is long (every line): folded until opened.
            @for offer in offers.iter().filter(|o| o.action == "change") {
                details.change-form {
                    summary { (title(lang, offer.action)) }
                    (form(who, order, state, offer))
                }
            }
        }
    }
}

fn input(label: &str, name: &str, kind: &str, value: &str, required: bool) -> Markup {
    html! { label { (label) input type=(kind) name=(name) value=(value) required[required]; } }
}

fn textarea(label: &str, name: &str, required: bool) -> Markup {
    html! { label { (label) textarea name=(name) required[required] {} } }
}

fn select(label: &str, name: &str, options: &[(String, String)], selected: Option<&str>) -> Markup {
    html! {
        label { (label)
            select name=(name) {
                @for (value, text) in options {
                    option value=(value) selected[selected == Some(value.as_str())] { (text) }
                }
            }
        }
    }
}

fn words_of<T: Copy>(
    all: &[T],
    word: impl Fn(T) -> &'static str,
    text: impl Fn(T) -> String,
) -> Vec<(String, String)> {
    all.iter().map(|v| (word(*v).to_string(), text(*v))).collect()
}

fn major(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// One action's form.
fn form(who: &Who, order: OrderId, state: &OrderState, offer: &Offer) -> Markup {
    let lang = who.lang;
    let hex = super::hex(order);
    let today = crate::app::now().date();
    let department_name = offer.department.and_then(|d| d.parse::<Role>().ok()).map(|r| lang.role(r));
    let legend = match (department_name, offer.complaint) {
        (Some(d), _) => format!("{} · {d}", title(lang, offer.action)),
        (None, Some(id)) => {
            format!("{} · {} {id}", title(lang, offer.action), lang.t("complaint", "投诉", "投訴"))
        }
        _ => title(lang, offer.action).to_string(),
    };
    let note = lang.t("Note", "备注", "備註");
    let reason = lang.t("Reason", "原因", "原因");
    html! {
        form.action.card data-action=(offer.action) data-department=[offer.department] data-complaint=[offer.complaint]
            method="post" action={ "/orders/" (hex) "/act" } {
            h3 { (legend) }
            (layout::form_ids(who))
            input type="hidden" name="action" value=(offer.action);
            @if let Some(d) = offer.department { input type="hidden" name="department" value=(d); }
            @if let Some(id) = offer.complaint { input type="hidden" name="complaint_id" value=(id); }
            @if who.user.grants.len() > 1 {
                @if offer.grants.len() > 1 {
                    (select(lang.t("Acting as", "以何身份", "以何身份"), "as",
                        &offer.grants.iter().map(|g| (g.to_string(), grant_words(lang, *g))).collect::<Vec<_>>(), None))
                } @else if let Some(g) = offer.grants.first() {
                    input type="hidden" name="as" value=(g.to_string());
                }
            }
            div.fields {
                @match offer.action {
                    "approve" => {
                        input type="hidden" name="revision" value=(state.revision);
                        (textarea(note, "note", false))
                    }
                    "reject" => {
                        input type="hidden" name="revision" value=(state.revision);
                        (textarea(reason, "reason", true))
                    }
                    "approve_change" | "decline_change" => {
                        @if let Some(r) = &state.change_request {
                            input type="hidden" name="request_id" value=(r.proposal.request_id);
                        }
                        @if offer.action == "approve_change" { (textarea(note, "note", false)) }
                        @else { (textarea(reason, "reason", true)) }
                    }
                    "confirm" => {
                        @let promised = state.current_promise.or(state.requested_date).filter(|d| *d >= today).unwrap_or(today);
                        (input(lang.t("Promised date", "承诺交货日期", "承諾交貨日期"), "promised_date", "date", &promised.to_string(), true))
                        (input(lang.t("Expected ship date", "预计发货日期", "預計發貨日期"), "expected_ship_date", "date", &today.to_string(), true))
                        (select(lang.t("Delivery mode", "交付方式", "交付方式"), "delivery_mode",
                            &words_of(DeliveryMode::ALL, DeliveryMode::as_str, |m| lang.delivery_mode(m).to_string()), None))
                        (select(lang.t("Confirmed by", "确认方式", "確認方式"), "confirmed_via",
                            &words_of(ConfirmMethod::ALL, ConfirmMethod::as_str, |m| lang.confirm_method(m).to_string()), None))
                        (textarea(note, "note", false))
                    }
                    "schedule" => {
                        @let finish = state.production.as_ref().map(|p| p.planned_finish).filter(|d| *d >= today).unwrap_or(today);
                        (input(lang.t("Planned finish", "计划完工日期", "計劃完工日期"), "planned_finish", "date", &finish.to_string(), true))
                        (textarea(lang.t("Line, shift, who is responsible", "产线、班次、负责人", "產線、班次、負責人"), "note", false))
                    }
                    "inspect" => {
                        (select(lang.t("Result", "检验结果", "檢驗結果"), "result",
                            &words_of(InspectionResult::ALL, InspectionResult::as_str, |r| lang.inspection(r).to_string()), None))
                        (textarea(lang.t("Findings (the cause, for rework or scrap)", "检验结果说明（返工或报废须写明原因）", "檢驗結果說明（返工或報廢須寫明原因）"), "note", false))
                    }
                    "complete" | "deliver" => { (textarea(note, "note", false)) }
                    "ship" => {
                        (input(lang.t("Carrier", "承运商", "承運商"), "carrier", "text", "", true))
                        (select(lang.t("Transport mode", "运输方式", "運輸方式"), "mode",
                            &words_of(ShipMode::ALL, ShipMode::as_str, |m| lang.ship_mode(m).to_string()), None))
                        (input(lang.t("Tracking no.", "运输单号", "運輸單號"), "tracking_number", "text", "", true))
                        (input(lang.t("ETA", "预计到达时间", "預計到達時間"), "eta", "date", &today.plus_days(3).to_string(), true))
                        @if offer.with_override {
                            (textarea(lang.t("Why ship unconfirmed (department heads; recorded)", "未确认即发货的原因（部门负责人；将记录）", "未確認即發貨的原因（部門負責人；將記錄）"), "unconfirmed_reason", true))
                        }
                    }
                    "delay" => {
                        (input(lang.t("New ETA", "新的预计到达时间", "新的預計到達時間"), "new_eta", "date", "", true))
                        (textarea(reason, "reason", true))
                    }
                    "sign" => {
                        (input(lang.t("Signed by (at the customer)", "签收人（客户方）", "簽收人（客戶方）"), "signed_by", "text", "", true))
                        @if let Some(sh) = &state.shipment {
                            @for l in &sh.lines {
                                (input(&format!("{} {}", lang.t("Accepted, line", "验收数量，行", "驗收數量，行"), l.line_no), &format!("accepted_{}", l.line_no), "number", &l.quantity.to_string(), false))
                            }
                        }
                        (textarea(note, "note", false))
                    }
                    "refuse" => {
                        (input(lang.t("Refused by (at the customer)", "拒收人（客户方）", "拒收人（客戶方）"), "refused_by", "text", "", true))
                        (textarea(reason, "reason", true))
                    }
                    "complain" => {
                        (select(lang.t("About", "投诉类别", "投訴類別"), "category",
                            &words_of(ComplaintCategory::ALL, ComplaintCategory::as_str, |c| view::category(lang, c).to_string()), None))
                        (select(lang.t("Severity", "严重程度", "嚴重程度"), "severity",
                            &words_of(Severity::ALL, Severity::as_str, |c| view::severity(lang, c).to_string()), Some("medium")))
                        (textarea(lang.t("The customer's words", "客户原话", "客戶原話"), "text", true))
                        (input(lang.t("Assignee (login; you when blank)", "跟进人（登录名；留空为本人）", "跟進人（登入名；留空為本人）"), "assignee", "text", "", false))
                    }
                    "update_complaint" => {
                        (textarea(lang.t("What was done or learnt", "已做的处理或了解到的情况", "已做的處理或了解到的情況"), "note", true))
                        (textarea(lang.t("Next step, and by whom", "下一步及负责人", "下一步及負責人"), "next_step", true))
                    }
                    "resolve" => {
                        (textarea(lang.t("What was done", "处理结果", "處理結果"), "resolution", true))
                        (select(lang.t("Remedy", "处理方式", "處理方式"), "remedy",
                            &words_of(Remedy::ALL, Remedy::as_str, |r| view::remedy(lang, r).to_string()), None))
                        (select(lang.t("Customer satisfied?", "客户是否满意？", "客戶是否滿意？"), "customer_satisfied",
                            &[("yes".to_string(), lang.t("Yes", "满意", "滿意").to_string()), ("no".to_string(), lang.t("No", "不满意", "不滿意").to_string())], None))
                    }
                    "reopen" | "withdraw_change" | "hold" => { (textarea(reason, "reason", true)) }
                    "feedback" => {
                        (select(lang.t("Satisfaction (1-5)", "客户满意度（1-5）", "客戶滿意度（1-5）"), "score",
                            &(1..=5).rev().map(|n: u8| (n.to_string(), n.to_string())).collect::<Vec<_>>(), None))
                        (textarea(lang.t("Comment", "客户意见", "客戶意見"), "comment", false))
                    }
                    "visit" => {
                        (select(lang.t("How", "回访方式", "回訪方式"), "method",
                            &words_of(VisitMethod::ALL, VisitMethod::as_str, |m| view::visit_method(lang, m).to_string()), None))
                        (select(lang.t("Satisfaction (1-5)", "客户满意度（1-5）", "客戶滿意度（1-5）"), "score",
                            &std::iter::once((String::new(), lang.t("no answer", "未作答", "未作答").to_string()))
                                .chain((1..=5).rev().map(|n: u8| (n.to_string(), n.to_string()))).collect::<Vec<_>>(), None))
                        (textarea(lang.t("Comment", "客户意见", "客戶意見"), "comment", false))
                    }
                    "change" => { (change_fields(lang, state)) }
                    "cancel" => {
                        (select(lang.t("Asked by", "提出方", "提出方"), "initiated_by",
                            &words_of(Initiator::ALL, Initiator::as_str, |i| view::initiator(lang, i).to_string()), None))
                        (textarea(reason, "reason", true))
                    }
                    "close" if offer.with_override => {
                        (textarea(lang.t("Why close despite the complaints (department heads; recorded)", "不顾投诉关闭的原因（部门负责人；将记录）", "不顧投訴關閉的原因（部門負責人；將記錄）"), "override_reason", true))
                    }
                    "release" => { (textarea(note, "note", false)) }
                    _ => {}
                }
            }
            button type="submit" { (title(lang, offer.action)) }
        }
    }
}

/// The fields of `change`: every line's quantity, unit price and spec (a changed value is an
/// edit), removal, one new line, the requested date and address, the impact notes.
fn change_fields(lang: Lang, state: &OrderState) -> Markup {
    let after_approval = state.approved_revision.is_some();
    html! {
        (select(lang.t("Asked by", "提出方", "提出方"), "initiated_by",
            &words_of(Initiator::ALL, Initiator::as_str, |i| view::initiator(lang, i).to_string()), None))
        (textarea(lang.t("Reason", "原因", "原因"), "reason", true))
        div.scroll {
            table.change-lines {
                thead { tr {
                    th.num { (lang.t("Line", "行", "行")) } th { "SKU" }
                    th { (lang.t("Quantity", "数量", "數量")) } th { (lang.t("Unit price", "单价", "單價")) }
                    th { (lang.t("Spec", "规格", "規格")) } th { (lang.t("Remove", "删除", "刪除")) }
                } }
                tbody {
                    @for l in &state.lines {
                        tr {
                            td.num { (l.line_no) } td { (l.sku) }
                            td { input type="number" min="1" name={ "quantity_" (l.line_no) } value=(l.quantity); }
                            td { input type="text" inputmode="decimal" name={ "unit_price_" (l.line_no) } value=(major(l.unit_price_minor)); }
                            td { input type="text" name={ "spec_" (l.line_no) } value=(l.spec); }
                            td { input type="checkbox" name={ "remove_" (l.line_no) } value="1"; }
                        }
                    }
                    tr.add-line {
                        td.num { "+" }
                        td { input type="text" name="add_sku" placeholder="SKU"; }
                        td { input type="number" min="1" name="add_quantity"; }
                        td { input type="text" inputmode="decimal" name="add_unit_price"; }
                        td { input type="text" name="add_spec"; }
                        td { input type="text" name="add_unit" placeholder="pcs"; }
                    }
                }
            }
        }
        (input(lang.t("Requested date", "要求交货日期", "要求交貨日期"), "requested_date", "date",
            &state.requested_date.map(|d| d.to_string()).unwrap_or_default(), false))
        (input(lang.t("Delivery address", "交货地址", "交貨地址"), "delivery_address", "text", &state.delivery_address, false))
        @if after_approval {
            @for r in CHANGE_REVIEWERS {
                (input(&format!("{} · {}", lang.t("Impact", "影响说明", "影響說明"), lang.role(*r)), &format!("impact_{}", r.as_str()), "text", "", false))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_as_on_the_command_line() {
        assert_eq!(parse_price("12.5"), Ok(1250));
        assert_eq!(parse_price("0"), Ok(0));
        assert!(parse_price("1,5").is_err());
        assert_eq!(major(1250), "12.50");
    }

    #[test]
    fn every_action_has_a_title_in_every_language() {
        for a in ACTIONS {
            for l in Lang::ALL {
                assert_ne!(title(l, a), title(l, "unknown"), "{a}");
            }
        }
    }
}
