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
        let (status, field) = match &self {
            AdminError::Unauthorized => (StatusCode::UNAUTHORIZED, None),
            AdminError::NotFound(_) => (StatusCode::NOT_FOUND, None),
            AdminError::BadRequest(_) => (StatusCode::BAD_REQUEST, None),
            AdminError::Invalid(e) => (StatusCode::UNPROCESSABLE_ENTITY, Some(e.field)),
            AdminError::Conflict(_) => (StatusCode::CONFLICT, None),
            AdminError::Internal(e) => {
                tracing::error!(error = %format_args!("{e:#}"), "admin request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        };
        let mut body = json!({ "error": self.to_string() });
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
