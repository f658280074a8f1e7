//! `/audit/{id}`: an order's archive for auditors. (Being built.)

use axum::extract::Path;
use axum::response::{IntoResponse, Response};

use super::session::Who;

/// `GET /audit/{id}`.
pub async fn page(who: Who, Path(_id): Path<String>) -> Response {
    (axum::http::StatusCode::NOT_IMPLEMENTED, who.lang.t("Being built.", "建设中。", "建設中。"))
        .into_response()
}

/// `GET /audit/{id}/export`.
pub async fn export(who: Who, id: Path<String>) -> Response {
    page(who, id).await
}
