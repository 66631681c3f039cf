//! `GET /internal/collections`: "did this payment reach the ledger?", with its history.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use uuid::Uuid;

use super::error::AdminError;
use super::extract::Query;
use super::state::AdminState;
use crate::ops::collections::{self, CollectionHistory, Lookup};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionQuery {
    receipt: Option<String>,
    channel: Option<i32>,
    control_number: Option<String>,
    id: Option<Uuid>,
}

/// `GET /internal/collections?receipt=…[&channel=…]` or `?controlNumber=…` or `?id=…`.
pub async fn find_collections(
    State(state): State<AdminState>,
    Query(q): Query<CollectionQuery>,
) -> Result<Json<Vec<CollectionHistory>>, AdminError> {
    let lookup = Lookup {
        receipt: q.receipt,
        channel: q.channel,
        control_number: q.control_number,
        id: q.id,
    };
    Ok(Json(collections::find(&state.pool, &lookup).await?))
}
