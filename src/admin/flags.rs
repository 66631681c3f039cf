//! `GET /internal/flags` and `POST /internal/flags/{id}/resolve`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;

use super::error::AdminError;
use super::extract::{JsonBody, Path, Query};
use super::state::{actor, AdminState};
use crate::ops::flags::{self, Flag};

#[derive(Debug, Deserialize)]
pub struct FlagQuery {
    kind: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
}

/// `GET /internal/flags?kind=…&status=open|resolved|all`; open flags by default.
pub async fn list_flags(
    State(state): State<AdminState>,
    Query(q): Query<FlagQuery>,
) -> Result<Json<Vec<Flag>>, AdminError> {
    let status = match q.status.as_deref() {
        None => Some("open"),
        Some("all") => None,
        Some(other) => Some(other),
    };
    Ok(Json(
        flags::list(
            &state.pool,
            q.kind.as_deref(),
            status,
            q.limit.unwrap_or(500),
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct NoteBody {
    note: String,
}

/// `POST /internal/flags/{id}/resolve` with `{"note": "…"}`.
pub async fn resolve_flag(
    State(state): State<AdminState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NoteBody>,
) -> Result<Json<Flag>, AdminError> {
    Ok(Json(
        flags::resolve(&state.pool, id, &actor(&headers), &body.note).await?,
    ))
}
