//! Bills as the core loan system registers them: `PUT`, `GET`, `POST …/cancel`.

use axum::extract::State;

use super::extract::{JsonBody, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

use super::error::AdminError;
use super::state::{actor, AdminState};
use crate::ops::bills::{self, BillBody, BillView};

/// `PUT /internal/bills/{controlNumber}`: register a bill, or update an open one.
#[tracing::instrument(skip_all, fields(control_number = %control_number))]
pub async fn register(
    State(state): State<AdminState>,
    Path(control_number): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<BillBody>,
) -> Result<(StatusCode, Json<BillView>), AdminError> {
    let (view, created) =
        bills::register(&state.pool, &control_number, body, &actor(&headers)).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

/// `GET /internal/bills/{controlNumber}`, with its collections.
pub async fn show(
    State(state): State<AdminState>,
    Path(control_number): Path<String>,
) -> Result<Json<BillView>, AdminError> {
    Ok(Json(bills::show(&state.pool, &control_number).await?))
}

/// `POST /internal/bills/{controlNumber}/cancel`: an open bill stops being collectable.
pub async fn cancel(
    State(state): State<AdminState>,
    Path(control_number): Path<String>,
    headers: HeaderMap,
) -> Result<Json<BillView>, AdminError> {
    Ok(Json(
        bills::cancel(&state.pool, &control_number, &actor(&headers)).await?,
    ))
}
