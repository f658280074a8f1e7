//! `/orders`: the board. (Being built.)

use axum::response::{IntoResponse, Response};

use super::session::Who;

/// `GET /orders`.
pub async fn page(who: Who) -> Response {
    (
        axum::http::StatusCode::NOT_IMPLEMENTED,
        who.lang.t("The board is being built.", "看板建设中。", "看板建設中。"),
    )
        .into_response()
}

/// `GET /orders/rows`: the board's rows, for the live refresh.
pub async fn rows(who: Who) -> Response {
    page(who).await
}
