//! `/internal/dead-letters`: list, show, replay and discard, one by one or by filter.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use uuid::Uuid;

use super::error::AdminError;
use super::extract::{JsonBody, Path, Query};
use super::state::{actor, AdminState};
use crate::ops::dead_letters::{self as dlq, Action, DeadLetter, Filter, Outcome};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeadLetterQuery {
    reason: Option<String>,
    control_number: Option<String>,
    /// `30s`, `15m`, `2h`, `1d`.
    older_than: Option<String>,
}

impl DeadLetterQuery {
    fn filter(self) -> Result<Filter, AdminError> {
        refuse_nul("reason", self.reason.as_deref())?;
        refuse_nul("controlNumber", self.control_number.as_deref())?;
        let older_than = match self.older_than.as_deref() {
            Some(raw) => Some(crate::domain::duration::parse(raw).ok_or_else(|| {
                AdminError::BadRequest(format!("olderThan `{raw}` is not like 30s, 15m, 2h, 1d"))
            })?),
            None => None,
        };
        Ok(Filter {
            ids: None,
            reason: self.reason,
            control_number: self.control_number,
            older_than,
        })
    }
}

/// `GET /internal/dead-letters?reason=…&controlNumber=…&olderThan=…`
pub async fn list_dead_letters(
    State(state): State<AdminState>,
    Query(q): Query<DeadLetterQuery>,
) -> Result<Json<Vec<DeadLetter>>, AdminError> {
    Ok(Json(dlq::list(&state.pool, &q.filter()?).await?))
}

/// `GET /internal/dead-letters/{collectionId}`
pub async fn show_dead_letter(
    State(state): State<AdminState>,
    Path(id): Path<Uuid>,
) -> Result<Json<DeadLetter>, AdminError> {
    Ok(Json(dlq::show(&state.pool, id).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplayBody {
    /// Why, for the audit log.
    reason: Option<String>,
    /// Replays per second (default 20, at most 1000).
    per_second: Option<u32>,
    /// For the bulk endpoint: which dead letters. `all: true` is required to select everything.
    filter: Option<DeadLetterQuery>,
    all: bool,
}

/// `POST /internal/dead-letters/{id}/replay`
pub async fn replay_one(
    State(state): State<AdminState>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Option<JsonBody<ReplayBody>>,
) -> Result<Json<Outcome>, AdminError> {
    let body = body.map(|JsonBody(b)| b).unwrap_or_default();
    refuse_nul("reason", body.reason.as_deref())?;
    let filter = only(&state, id).await?;
    let action = Action::Replay {
        reason: body.reason.as_deref(),
        per_second: 1000,
    };
    act(&state, &filter, &headers, action).await
}

/// `POST /internal/dead-letters/replay` with a filter or `all: true`, at a bounded rate.
pub async fn replay_many(
    State(state): State<AdminState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ReplayBody>,
) -> Result<Json<Outcome>, AdminError> {
    refuse_nul("reason", body.reason.as_deref())?;
    let filter = bulk_filter(body.filter, body.all)?;
    let action = Action::Replay {
        reason: body.reason.as_deref(),
        per_second: body.per_second.unwrap_or(20),
    };
    act(&state, &filter, &headers, action).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DiscardBody {
    reason: String,
    filter: Option<DeadLetterQuery>,
    all: bool,
}

/// `POST /internal/dead-letters/{id}/discard` with `{"reason": "…"}`.
pub async fn discard_one(
    State(state): State<AdminState>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<DiscardBody>,
) -> Result<Json<Outcome>, AdminError> {
    refuse_nul("reason", Some(&body.reason))?;
    let filter = only(&state, id).await?;
    let action = Action::Discard {
        reason: &body.reason,
    };
    act(&state, &filter, &headers, action).await
}

/// `POST /internal/dead-letters/discard` with a filter or `all: true`, and a reason.
pub async fn discard_many(
    State(state): State<AdminState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<DiscardBody>,
) -> Result<Json<Outcome>, AdminError> {
    refuse_nul("reason", Some(&body.reason))?;
    let filter = bulk_filter(body.filter, body.all)?;
    let action = Action::Discard {
        reason: &body.reason,
    };
    act(&state, &filter, &headers, action).await
}

/// The one dead letter `id` (404 if it is not one).
async fn only(state: &AdminState, id: Uuid) -> Result<Filter, AdminError> {
    dlq::show(&state.pool, id).await?;
    Ok(Filter {
        ids: Some(vec![id]),
        ..Filter::default()
    })
}

/// Replay or discard what `filter` selects, for the actor the headers name.
async fn act(
    state: &AdminState,
    filter: &Filter,
    headers: &HeaderMap,
    action: Action<'_>,
) -> Result<Json<Outcome>, AdminError> {
    Ok(Json(
        state.dead_letters(filter, &actor(headers), action).await?,
    ))
}

/// Postgres text cannot hold U+0000; a filter or a reason with one could never match or be
/// stored, so it is refused whether or not anything would have been selected.
fn refuse_nul(field: &str, value: Option<&str>) -> Result<(), AdminError> {
    match value {
        Some(v) if v.contains('\0') => Err(AdminError::BadRequest(format!(
            "{field} must not contain a NUL character"
        ))),
        _ => Ok(()),
    }
}

fn bulk_filter(filter: Option<DeadLetterQuery>, all: bool) -> Result<Filter, AdminError> {
    match (filter, all) {
        (Some(q), _)
            if q.reason.is_some() || q.control_number.is_some() || q.older_than.is_some() =>
        {
            q.filter()
        }
        (_, true) => Ok(Filter::default()),
        _ => Err(AdminError::BadRequest(
            "give a filter (reason, controlNumber, olderThan) or \"all\": true".into(),
        )),
    }
}
