//! `/audit/{id}`: an order's archive for auditors: the timeline of its events with their log
//! positions and hashes (paged), the verification of its hash chain (and of the whole log when
//! that is cheap), the archive reads recorded for it, holds and retention, and the download of
//! the signed export (`/audit/{id}/export`, the document `orderflow audit export` writes).
//!
//! Every view is an archive read, recorded first exactly as the command line's `audit history`
//! and `audit export` record theirs ([`reads::record_access`], [`reads::audit_export`]): who may
//! read is [`reads::may_read`] (auditors, archivists, department heads, sales and the reviewing
//! departments, and logistics, quality and customer service once they worked on the order); a
//! read refused is recorded as `archive_access_refused` and answered 403; a read that cannot be
//! recorded shows nothing.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use maud::{html, Markup};
use orderflow_projections::{Access, Retention, RetentionStatus, TimelineEntry};
use orderflow_schemas::{AccessKind, OrderId};
use serde::Deserialize;

use super::i18n::Lang;
use super::layout::{self, Nav};
use super::session::Who;
use super::{Web, WebError, WebResult};
use crate::app::reads::{self, Reader};

/// Events of the timeline on one page.
pub const AUDIT_TIMELINE_PAGE_EVENTS: usize = 50;

/// Archive reads listed on the page at most (the newest).
pub const AUDIT_ACCESS_ROWS_MAX: usize = 100;

/// The whole log is verified on the page only while it has at most this many events (one pass
/// over every event); a longer one is verified with `orderflow audit verify`.
pub const AUDIT_LOG_VERIFY_EVENTS_MAX: u64 = 20_000;

/// Hex digits of a hash shown in the timeline (the export has them whole).
pub const HASH_SHORT_CHARS: usize = 12;

/// The query of the audit pages: `from` = the first order version of the timeline page, `as` =
/// the grant to read in (for a person holding several).
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    /// First version shown (1 when absent).
    pub from: Option<u64>,
    /// The grant to read in.
    #[serde(rename = "as")]
    pub grant: Option<String>,
}

fn query(
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
    lang: Lang,
) -> Result<AuditQuery, WebError> {
    q.map(|Query(q)| q).map_err(|e| {
        WebError::bad_request(format!(
            "{} {}",
            lang.t(
                "The address's query is not understood:",
                "地址中的查询参数无法识别：",
                "位址中的查詢參數無法識別："
            ),
            e.body_text()
        ))
        .lang(lang)
    })
}

fn reader(web: &Web, who: &Who, order: OrderId, grant: Option<&str>) -> Result<Reader, WebError> {
    let principal = reads::read_principal(&web.app, order, &who.user, grant)
        .map_err(|e| WebError::from_app(e, who.lang))?;
    Ok(Reader { principal, purpose: String::new() })
}

/// A read refused or not recorded, in the reader's words (the domain's reason after them).
fn read_error(e: crate::app::AppError, l: Lang) -> WebError {
    let lead = match &e {
        crate::app::AppError::Forbidden(_) => l.t(
            "You may not read this order's archive; the refused read is recorded.",
            "您无权查阅此订单的档案；此次被拒绝的查阅已记录。",
            "您無權查閱此訂單的檔案；此次被拒絕的查閱已記錄。",
        ),
        crate::app::AppError::Rejected(_) => return WebError::from_app(e, l),
        _ => l.t(
            "The read could not be recorded, so nothing is shown.",
            "无法记录此次查阅，因此不显示任何内容。",
            "無法記錄此次查閱，因此不顯示任何內容。",
        ),
    };
    let mut w = WebError::from_app(e, l);
    w.message = format!("{lead} ({})", w.message);
    w
}

/// The detail a web view of the timeline is recorded with.
fn view_detail(from: u64) -> String {
    if from <= 1 {
        "timeline (web page)".into()
    } else {
        format!("timeline (web page) from version {from}")
    }
}

fn short(hex: &str) -> &str {
    hex.get(..HASH_SHORT_CHARS).unwrap_or(hex)
}

fn access_words(a: AccessKind, l: Lang) -> &'static str {
    match a {
        AccessKind::History => l.t("timeline", "时间线", "時間線"),
        AccessKind::Export => l.t("export", "导出", "匯出"),
        AccessKind::Replay => l.t("replay", "回放", "回放"),
    }
}

/// The whole log's verification: `Some(Ok(events))`, `Some(Err(why))`, or `None` when the log is
/// longer than [`AUDIT_LOG_VERIFY_EVENTS_MAX`].
async fn verify_log(web: &Web) -> Option<Result<u64, String>> {
    if web.app.log().head() > AUDIT_LOG_VERIFY_EVENTS_MAX {
        return None;
    }
    let log = web.app.log().clone();
    let done = tokio::task::spawn_blocking(move || log.verify(&mut |_| {})).await;
    Some(match done {
        Ok(Ok(r)) => Ok(r.events),
        Ok(Err(f)) => Err(f.to_string()),
        Err(e) => Err(format!("the verification did not finish: {e}")),
    })
}

/// `GET /audit/{id}`: recorded as an archive read first, then the archive.
pub async fn page(
    State(web): State<Web>,
    who: Who,
    Path(id): Path<String>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> WebResult {
    let l = who.lang;
    let q = query(q, l)?;
    let order = super::order_of(&web, l, &id)?;
    let from = q.from.unwrap_or(1).max(1);
    let reader = reader(&web, &who, order, q.grant.as_deref())?;
    reads::record_access(&web.app, order, &reader, AccessKind::History, view_detail(from))
        .await
        .map_err(|e| read_error(e, l))?;

    let failure = |e: orderflow_projections::AuditError| {
        WebError::from_app(crate::app::AppError::Failure(e.to_string()), l)
    };
    let entries = orderflow_projections::history(web.app.log(), order).map_err(failure)?;
    let doc = orderflow_projections::export(web.app.log(), order).map_err(failure)?;
    let chain = orderflow_projections::verify_export(&doc);
    let hashes: HashMap<u64, (String, String)> = doc["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|e| {
                    Some((
                        e["position"].as_u64()?,
                        (e["stream_hash"].as_str()?.to_string(), e["log_hash"].as_str()?.to_string()),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let log = verify_log(&web).await;
    let (retention, accesses) = web
        .views
        .audit
        .with_view(&web.app, |v| {
            (v.retention(order), v.access(Some(order)).into_iter().cloned().collect::<Vec<Access>>())
        })
        .map_err(|e| WebError::from_app(e, l))?;

    let ok = chain.is_ok() && !matches!(log, Some(Err(_)));
    let hex = crate::app::OrderRef::of(order).digits().to_string();
    let here = format!("/audit/{hex}");
    let mine = accesses.iter().rev().find(|a| a.actor.user_id == who.user.id && a.refused.is_none());
    let body = html! {
        h1 { (l.t("Archive of order", "订单档案", "訂單檔案")) " " span.order-no { (order.short()) } }
        p { a href={ "/orders/" (hex) } { (l.t("The order's page", "订单页面", "訂單頁面")) } }
        @if let Some(a) = mine {
            (layout::notice("done", &format!("{} {}", l.t(
                "This view is recorded as an archive read, at log position",
                "本次查看已记录为档案查阅，日志位置",
                "本次查看已記錄為檔案查閱，日誌位置",
            ), a.position)))
        }
        section.card #audit-verify data-ok=(if ok { "true" } else { "false" }) {
            h2 { (l.t("Verification", "校验", "校驗")) }
            @match &chain {
                Ok(s) => p.chain.ok data-ok="true" {
                    (l.t("The order's hash chain holds: ", "订单的哈希链完整：", "訂單的雜湊鏈完整："))
                    (s.events) " " (l.t("events, last stream hash", "个事件，最后的流哈希", "個事件，最後的流雜湊"))
                    " " code { (short(&s.last_stream_hash)) }
                },
                Err(e) => p.chain.bad data-ok="false" {
                    (l.t("The order's hash chain is broken: ", "订单的哈希链已损坏：", "訂單的雜湊鏈已損壞："))
                    (e.to_string())
                },
            }
            @match &log {
                Some(Ok(n)) => p.log.ok data-ok="true" {
                    (l.t("The whole log is intact: ", "整个日志完整：", "整個日誌完整：")) (n)
                    (l.t(" events.", " 个事件。", " 個事件。"))
                },
                Some(Err(e)) => p.log.bad data-ok="false" {
                    (l.t("The log is damaged: ", "日志已损坏：", "日誌已損壞：")) (e)
                },
                None => p.log.muted {
                    (l.t(
                        "The whole log is too long to verify on a page; run orderflow audit verify.",
                        "整个日志过长，无法在页面上校验；请运行 orderflow audit verify。",
                        "整個日誌過長，無法在頁面上校驗；請執行 orderflow audit verify。",
                    ))
                },
            }
            p {
                a #audit-export href={ "/audit/" (hex) "/export" } download {
                    (l.t("Download the signed export (JSON)", "下载已签名的导出文件（JSON）", "下載已簽名的匯出檔案（JSON）"))
                }
                " " span.muted { (l.t("(the download is recorded as an archive read)", "（下载将记录为档案查阅）", "（下載將記錄為檔案查閱）")) }
            }
        }
        (retention_section(retention.as_ref(), l))
        (timeline(&entries, &hashes, from, &here, l))
        (access_section(&accesses, l))
    };
    let title = l.t("Order archive", "订单档案", "訂單檔案");
    let main = layout::Main { id: Some("audit"), order: Some(&hex) };
    Ok(layout::page_main(&who, title, Nav::None, &here, false, main, body).into_response())
}

fn retention_section(r: Option<&Retention>, l: Lang) -> Markup {
    html! {
        section.card #audit-retention {
            h2 { (l.t("Hold and retention", "冻结保存与保存期限", "凍結保存與保存期限")) }
            @if let Some(r) = r {
                dl.facts {
                    dt { (l.t("Retention", "保存期限", "保存期限")) }
                    dd data-status=(match r.status { RetentionStatus::Open => "open", RetentionStatus::Until { .. } => "until", RetentionStatus::Held => "held" }) {
                        @match r.status {
                            RetentionStatus::Open => (l.t("kept: the order is not closed", "保存中：订单尚未关闭", "保存中：訂單尚未關閉")),
                            RetentionStatus::Until { date } => { (l.t("kept until ", "保存至 ", "保存至 ")) (l.date(date)) },
                            RetentionStatus::Held => (l.t("on hold: kept until every hold is released", "冻结保存：直至全部解除前一直保存", "凍結保存：直至全部解除前一直保存")),
                        }
                    }
                    @if let Some(at) = r.closed_at {
                        dt { (l.t("Closed", "关闭时间", "關閉時間")) }
                        dd { (l.time(at)) }
                    }
                }
                @if !r.active_holds.is_empty() {
                    ul.holds {
                        @for h in &r.active_holds {
                            li {
                                span.when { (l.time(h.placed_at)) } " "
                                (h.placed_by.login) " (" (l.role(h.placed_by.role)) "): " (h.reason)
                            }
                        }
                    }
                }
            } @else {
                p.muted { (l.t("No archive record yet.", "尚无档案记录。", "尚無檔案記錄。")) }
            }
        }
    }
}

fn timeline(
    entries: &[TimelineEntry],
    hashes: &HashMap<u64, (String, String)>,
    from: u64,
    here: &str,
    l: Lang,
) -> Markup {
    let shown: Vec<&TimelineEntry> =
        entries.iter().filter(|e| e.version >= from).take(AUDIT_TIMELINE_PAGE_EVENTS).collect();
    let last = entries.last().map_or(0, |e| e.version);
    let next = shown.last().map(|e| e.version + 1).filter(|v| *v <= last);
    let page_len = u64::try_from(AUDIT_TIMELINE_PAGE_EVENTS).unwrap_or(u64::MAX);
    let prev = (from > 1).then(|| from.saturating_sub(page_len).max(1));
    html! {
        section.card #audit-timeline-card {
            h2 { (l.t("Timeline", "时间线", "時間線")) " " span.muted { "(" (entries.len()) (l.t(" events)", " 个事件）", " 個事件）")) } }
            div.scroll {
                table #audit-timeline {
                    thead { tr {
                        th.num { (l.t("Position", "位置", "位置")) }
                        th.num { (l.t("Version", "版本", "版本")) }
                        th { (l.t("Effective", "生效时间", "生效時間")) }
                        th { (l.t("By (role)", "操作人（角色）", "操作人（角色）")) }
                        th { (l.t("Event", "事件", "事件")) }
                        th { (l.t("What happened", "内容", "內容")) }
                        th { (l.t("Stream hash", "流哈希", "流雜湊")) }
                        th { (l.t("Log hash", "日志哈希", "日誌雜湊")) }
                    } }
                    tbody {
                        @for e in &shown {
                            tr data-position=(e.position) data-version=(e.version) {
                                td.num { (e.position) }
                                td.num { (e.version) }
                                td { (l.time(e.at)) }
                                td { (e.actor) " (" (l.role(e.role)) ")" }
                                td { code { (e.event_type) } }
                                td {
                                    @if let Some(reason) = &e.late {
                                        span.late-entry { (l.t("Late entry, entered ", "补录，录入于 ", "補錄，錄入於 ")) (l.time(e.recorded_at)) ": " (reason) } " "
                                    }
                                    (e.description)
                                }
                                @let (s, g) = hashes.get(&e.position).map_or(("", ""), |(s, g)| (s.as_str(), g.as_str()));
                                td { code.hash title=(s) { (short(s)) } }
                                td { code.hash title=(g) { (short(g)) } }
                            }
                        }
                    }
                }
            }
            @if prev.is_some() || next.is_some() {
                nav.pager {
                    @if let Some(p) = prev { a.audit-prev href={ (here) "?from=" (p) } { (l.t("← Earlier events", "← 更早的事件", "← 更早的事件")) } }
                    " "
                    @if let Some(n) = next { a.audit-next href={ (here) "?from=" (n) } { (l.t("Later events →", "更晚的事件 →", "更晚的事件 →")) } }
                }
            }
        }
    }
}

fn access_section(accesses: &[Access], l: Lang) -> Markup {
    let more = accesses.len().saturating_sub(AUDIT_ACCESS_ROWS_MAX);
    html! {
        section.card #audit-access-card {
            h2 { (l.t("Archive reads recorded", "已记录的档案查阅", "已記錄的檔案查閱")) " " span.muted { "(" (accesses.len()) ")" } }
            div.scroll {
                table #audit-access data-count=(accesses.len()) {
                    thead { tr {
                        th.num { (l.t("Position", "位置", "位置")) }
                        th { (l.t("When", "时间", "時間")) }
                        th { (l.t("By (role)", "查阅人（角色）", "查閱人（角色）")) }
                        th { (l.t("Read", "查阅内容", "查閱內容")) }
                        th { (l.t("Detail", "说明", "說明")) }
                    } }
                    tbody {
                        @for a in accesses.iter().rev().take(AUDIT_ACCESS_ROWS_MAX) {
                            tr.access data-position=(a.position) data-refused=(a.refused.is_some()) {
                                td.num { (a.position) }
                                td { (l.time(a.at)) }
                                td { (a.actor.login) " (" (l.role(a.actor.role)) ")" }
                                td { (access_words(a.access, l)) }
                                td {
                                    @if let Some(why) = &a.refused {
                                        span.refused { (l.t("Refused: ", "已拒绝：", "已拒絕：")) (why) }
                                    } @else { (a.detail) }
                                }
                            }
                        }
                    }
                }
            }
            @if more > 0 {
                p.muted { (more) (l.t(" older reads are not listed; orderflow audit access lists them all.", " 条较早的查阅未列出；orderflow audit access 可列出全部。", " 條較早的查閱未列出；orderflow audit access 可列出全部。")) }
            }
        }
    }
}

/// `GET /audit/{id}/export`: recorded as an archive read (an export) first, then the signed
/// export document as a download (`Content-Disposition: attachment`), the same JSON
/// `orderflow audit export` writes.
pub async fn export(
    State(web): State<Web>,
    who: Who,
    Path(id): Path<String>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> WebResult {
    let l = who.lang;
    let q = query(q, l)?;
    let order = super::order_of(&web, l, &id)?;
    let reader = reader(&web, &who, order, q.grant.as_deref())?;
    let hex = crate::app::OrderRef::of(order).digits().to_string();
    let file = format!("order-{hex}.json");
    let doc = reads::audit_export(&web.app, order, &reader, &format!("{file} (web download)"))
        .await
        .map_err(|e| read_error(e, l))?;
    let text = serde_json::to_string_pretty(&doc)
        .map_err(|e| WebError::from_app(crate::app::AppError::Failure(e.to_string()), l))?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
        .map_err(|e| WebError::from_app(crate::app::AppError::Failure(e.to_string()), l))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text + "\n",
    )
        .into_response())
}

/// The path of an order's audit page (for a link from the order page).
pub fn href(order: OrderId) -> String {
    format!("/audit/{}", crate::app::OrderRef::of(order).digits())
}
