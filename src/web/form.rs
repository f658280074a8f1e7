//! Form bodies: `application/x-www-form-urlencoded` fields in the order sent (a field may repeat:
//! the lines of an intake form), bounded in size before parsing (see [`super::BODY_BYTES_MAX`]).

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};

use super::WebError;

/// Fields of a posted form.
#[derive(Clone, Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

/// Most fields a form may carry.
pub const FIELDS_MAX: usize = 1_000;

impl Fields {
    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The first value of `name`, trimmed, or "".
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Every value of `name`, in order, untrimmed blanks included (repeated fields line up).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::Form(fields)) if fields.len() <= FIELDS_MAX => Ok(Fields(fields)),
            Ok(axum::Form(fields)) => Err(WebError::bad_request(format!(
                "the form has {} fields (at most {FIELDS_MAX})",
                fields.len()
            ))
            .into_response()),
            Err(rejection) => {
                let status = rejection.status();
                if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    Err(WebError::too_large().into_response())
                } else {
                    Err(WebError::bad_request(format!("the form cannot be read: {}", rejection.body_text()))
                        .into_response())
                }
            }
        }
    }
}
