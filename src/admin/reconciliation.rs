//! `/internal/reconciliation`: runs (list, start one), items (list, show, resolve), a day's
//! items as CSV, and SkyPay's finance notices with their settlement checks.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;

use super::error::AdminError;
use super::extract::{JsonBody, Path, Query};
use super::state::{actor, AdminState};
use crate::db::finance::Notice;
use crate::db::recon::{Item, ItemFilter, Run};
use crate::reconcile::exceptions::{self, Resolution};
use crate::reconcile::{self, RunOutcome};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunQuery {
    date: Option<NaiveDate>,
}

/// `GET /internal/reconciliation/runs?date=…`
pub async fn list_runs(
    State(state): State<AdminState>,
    Query(q): Query<RunQuery>,
) -> Result<Json<Vec<Run>>, AdminError> {
    Ok(Json(
        crate::db::recon::runs(&state.pool, q.date, 100).await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunBody {
    /// A Manila day; yesterday when absent.
    date: Option<NaiveDate>,
}

/// `POST /internal/reconciliation/runs` with `{"date": "2026-11-20"}`: reconciles the day now.
pub async fn start_run(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Option<JsonBody<RunBody>>,
) -> Result<Json<RunOutcome>, AdminError> {
    let Some(reconciler) = &state.reconciliation.reconciler else {
        return Err(AdminError::Conflict(
            "reconciliation is not configured: SKYPAY_API_URL is not set".into(),
        ));
    };
    let date = body.and_then(|JsonBody(b)| b.date).unwrap_or_else(|| {
        reconcile::today()
            .pred_opt()
            .unwrap_or_else(reconcile::today)
    });
    if date > reconcile::today() {
        return Err(AdminError::BadRequest(format!(
            "{date} has not begun in Manila"
        )));
    }
    let outcome = reconciler
        .run(date, "manual", &actor(&headers))
        .await
        .map_err(|e| AdminError::Conflict(format!("reconciliation failed: {e:#}")))?;
    Ok(Json(outcome))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ItemQuery {
    date: Option<NaiveDate>,
    status: Option<String>,
    /// ok, expected, open (default), resolved, all.
    state: Option<String>,
}

/// `GET /internal/reconciliation/items?date=…&status=…&state=…`: open items by default.
pub async fn list_items(
    State(state): State<AdminState>,
    Query(q): Query<ItemQuery>,
) -> Result<Json<Vec<Item>>, AdminError> {
    let filter = ItemFilter {
        date: q.date,
        status: q.status,
        state: match q.state.as_deref() {
            None => Some("open".into()),
            Some("all") => None,
            Some(other) => Some(other.to_owned()),
        },
    };
    Ok(Json(exceptions::list(&state.pool, &filter, 10_000).await?))
}

/// `GET /internal/reconciliation/items/{id}`
pub async fn show_item(
    State(state): State<AdminState>,
    Path(id): Path<i64>,
) -> Result<Json<Item>, AdminError> {
    Ok(Json(exceptions::show(&state.pool, id).await?))
}

#[derive(Debug, Deserialize)]
pub struct ResolveBody {
    /// adopt, void or escalate.
    resolution: String,
    note: String,
}

/// `POST /internal/reconciliation/items/{id}/resolve` with `{"resolution": "adopt", "note": "…"}`.
pub async fn resolve_item(
    State(state): State<AdminState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ResolveBody>,
) -> Result<Json<Item>, AdminError> {
    let resolution: Resolution = body.resolution.parse().map_err(AdminError::BadRequest)?;
    if body.note.contains('\0') {
        return Err(AdminError::BadRequest(
            "note must not contain a NUL character".into(),
        ));
    }
    let adopt = state.reconciliation.adopt;
    Ok(Json(
        exceptions::resolve(
            &state.pool,
            id,
            resolution,
            &body.note,
            &actor(&headers),
            adopt,
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    date: NaiveDate,
}

/// `GET /internal/reconciliation/export?date=…`: the day's items as CSV.
pub async fn export(
    State(state): State<AdminState>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AdminError> {
    let csv = exceptions::export_csv(&state.pool, q.date).await?;
    let disposition = format!("attachment; filename=\"reconciliation-{}.csv\"", q.date);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NoticeQuery {
    /// 4: collection settlements.
    statement_type: Option<i32>,
}

/// `GET /internal/reconciliation/notices?statementType=4`: SkyPay's finance notices as stored,
/// newest first (at most 500), each collection settlement with its period, matched total and
/// drift.
pub async fn list_notices(
    State(state): State<AdminState>,
    Query(q): Query<NoticeQuery>,
) -> Result<Json<Vec<Notice>>, AdminError> {
    let notices = crate::db::finance::list(&state.pool, q.statement_type, 500)
        .await
        .map_err(AdminError::from)?;
    Ok(Json(notices))
}
