//! `/kpi`: the monthly figures. (Being built.)

use axum::response::{IntoResponse, Response};

use super::session::Who;

/// `GET /kpi`.
pub async fn page(who: Who) -> Response {
    (axum::http::StatusCode::NOT_IMPLEMENTED, who.lang.t("Being built.", "建设中。", "建設中。"))
        .into_response()
}

/// `GET /kpi.csv`.
pub async fn csv(who: Who) -> Response {
    page(who).await
}
