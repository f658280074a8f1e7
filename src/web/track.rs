//! `/track/{token}`: the customer's view of one order. (Being built.)

use axum::extract::Path;
use axum::response::{IntoResponse, Response};

use super::session::{Viewer, Who};

/// `GET /track/{token}`.
pub async fn page(Viewer(lang): Viewer, Path(_token): Path<String>) -> Response {
    (axum::http::StatusCode::NOT_IMPLEMENTED, lang.t("Being built.", "建设中。", "建設中。")).into_response()
}

/// `POST /orders/{id}/track-links`.
pub async fn create_link(who: Who, Path(_id): Path<String>) -> Response {
    (axum::http::StatusCode::NOT_IMPLEMENTED, who.lang.t("Being built.", "建设中。", "建設中。"))
        .into_response()
}

/// `POST /orders/{id}/track-links/revoke`.
pub async fn revoke_link(who: Who, id: Path<String>) -> Response {
    create_link(who, id).await
}

/// The tracking-link part of the order page (`form#track-link-form`, `a#track-link`) for a
/// person who may create links for `order`; empty otherwise. (Being built.)
pub fn section(
    _web: &super::Web,
    _who: &Who,
    _order: orderflow_schemas::OrderId,
    _state: &orderflow_commands::OrderState,
) -> maud::Markup {
    maud::html! {}
}
