//! The static files of the pages, compiled into the binary: the stylesheet and the one script
//! (plain JavaScript, no build step). Served with a long cache lifetime under a name that carries
//! a hash of the content, so a new release is never mixed with an old cached file.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// The stylesheet.
pub const APP_CSS: &str = include_str!("assets/app.css");
/// The script: live updates over `/events`, the intake form's line rows.
pub const APP_JS: &str = include_str!("assets/app.js");

fn file(name: &str) -> Option<(&'static str, &'static str)> {
    match name {
        "app.css" => Some((APP_CSS, "text/css; charset=utf-8")),
        "app.js" => Some((APP_JS, "text/javascript; charset=utf-8")),
        _ => None,
    }
}

/// The address of an asset, with its content hash.
pub fn href(name: &str) -> String {
    let hash = file(name).map(|(body, _)| blake3::hash(body.as_bytes()).to_hex()[..12].to_string());
    format!("/assets/{name}?v={}", hash.unwrap_or_default())
}

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    match file(&name) {
        Some((body, kind)) => (
            [(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")],
            body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
