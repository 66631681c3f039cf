//! The admin API's one error type and its JSON shape: `{"error": "...", "field": "..."}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("{0}")]
    Conflict(String),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let mut message = self.to_string();
        let (status, field) = match &self {
            AdminError::Unauthorized => (StatusCode::UNAUTHORIZED, None),
            AdminError::NotFound(_) => (StatusCode::NOT_FOUND, None),
            AdminError::BadRequest(_) => (StatusCode::BAD_REQUEST, None),
            AdminError::Invalid(e) => (StatusCode::UNPROCESSABLE_ENTITY, Some(e.field)),
            AdminError::Conflict(_) => (StatusCode::CONFLICT, None),
            AdminError::Internal(e) => match data_exception(e) {
                // A value Postgres cannot take (a date out of its range, an interval that
                // overflows): the caller's input, so a 400 that says which.
                Some(why) => {
                    message = format!("invalid value: {why}");
                    (StatusCode::BAD_REQUEST, None)
                }
                None => {
                    tracing::error!(error = %format_args!("{e:#}"), "admin request failed");
                    (StatusCode::INTERNAL_SERVER_ERROR, None)
                }
            },
        };
        let mut body = json!({ "error": message });
        if let Some(field) = field {
            body["field"] = json!(field);
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                "www-authenticate",
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// The message of a Postgres "data exception" (SQLSTATE class 22) in `e`'s chain, if any.
fn data_exception(e: &anyhow::Error) -> Option<String> {
    e.chain()
        .find_map(|cause| match cause.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Database(db)) if db.code().is_some_and(|c| c.starts_with("22")) => {
                Some(db.message().to_owned())
            }
            _ => None,
        })
}

impl From<crate::ops::OpsError> for AdminError {
    fn from(e: crate::ops::OpsError) -> Self {
        use crate::ops::OpsError;
        match e {
            OpsError::NotFound(m) => AdminError::NotFound(m),
            OpsError::BadRequest(m) => AdminError::BadRequest(m),
            OpsError::Invalid(f) => AdminError::Invalid(f),
            OpsError::Conflict(m) => AdminError::Conflict(m),
            OpsError::Internal(e) => AdminError::Internal(e),
        }
    }
}
