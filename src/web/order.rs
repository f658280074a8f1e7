//! `/orders/{id}`: one order. (Being built.)

use axum::extract::Path;
use axum::response::{IntoResponse, Response};

use super::session::Who;

/// `GET /orders/{id}`.
pub async fn page(who: Who, Path(_id): Path<String>) -> Response {
    (axum::http::StatusCode::NOT_IMPLEMENTED, who.lang.t("Being built.", "建设中。", "建設中。"))
        .into_response()
}

/// `GET /orders/{id}/live`: the parts of the order page that change.
pub async fn live_part(who: Who, id: Path<String>) -> Response {
    page(who, id).await
}

/// `POST /orders/{id}/act`: one action of the order page.
pub async fn act(who: Who, id: Path<String>) -> Response {
    page(who, id).await
}
