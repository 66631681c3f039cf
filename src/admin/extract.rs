//! `Path`, `Query` and `Json` whose rejections have the admin API's JSON error shape (a
//! malformed id, query or body is a 400 `{"error": …}`, like every other refusal), not axum's
//! plain text. `Path` and `Query` refuse a NUL character, which Postgres text cannot hold (in
//! a body field it is refused by Postgres, and `AdminError` makes that a 400), and `JsonBody`
//! takes only an object: serde would otherwise read `["gone", null, true]` as a discard body
//! (reason, filter, all) and discard everything.

use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::AdminError;

pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        refuse_nul_in_uri(parts)?;
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|e| AdminError::BadRequest(e.body_text()))
    }
}

pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        refuse_nul_in_uri(parts)?;
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|e| AdminError::BadRequest(e.body_text()))
    }
}

fn refuse_nul_in_uri(parts: &Parts) -> Result<(), AdminError> {
    if parts.uri.to_string().to_ascii_lowercase().contains("%00") {
        return Err(AdminError::BadRequest(
            "the path or query must not contain a NUL character".into(),
        ));
    }
    Ok(())
}

/// A JSON object body (`Content-Type: application/json`).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AdminError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AdminError> {
        let axum::Json(value) = <axum::Json<Value> as FromRequest<S>>::from_request(request, state)
            .await
            .map_err(|e| AdminError::BadRequest(e.body_text()))?;
        if !value.is_object() {
            return Err(AdminError::BadRequest(
                "the body must be a JSON object".into(),
            ));
        }
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| AdminError::BadRequest(format!("invalid body: {e}")))
    }
}

/// No body (no `Content-Type`) is `None`; a body must be a valid object.
impl<S: Send + Sync, T: DeserializeOwned> OptionalFromRequest<S> for JsonBody<T> {
    type Rejection = AdminError;

    async fn from_request(request: Request, state: &S) -> Result<Option<Self>, AdminError> {
        if !request
            .headers()
            .contains_key(axum::http::header::CONTENT_TYPE)
        {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(request, state)
            .await
            .map(Some)
    }
}
