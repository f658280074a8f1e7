//! `/orders/new`: intake for sales. (Being built.)

use axum::response::{IntoResponse, Response};

use super::session::Who;

/// `GET /orders/new`.
pub async fn page(who: Who) -> Response {
    (axum::http::StatusCode::NOT_IMPLEMENTED, who.lang.t("Being built.", "建设中。", "建設中。"))
        .into_response()
}

/// `POST /orders/new`.
pub async fn submit(who: Who) -> Response {
    page(who).await
}
