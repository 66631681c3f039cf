//! "Did this borrower's payment reach the ledger?": collections by receipt or control number,
//! each with its history (every attempt, error and ops action, with times).

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::OpsError;
use crate::db;
use crate::db::collections::Collection;
use crate::domain::{format_money, ControlNumber};

pub use crate::db::collections::Event;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionHistory {
    #[serde(flatten)]
    pub collection: Collection,
    pub discarded_by: Option<String>,
    pub discard_reason: Option<String>,
    pub history: Vec<Event>,
}

/// What to look up: a receipt (optionally on one channel) or a control number.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    pub receipt: Option<String>,
    pub channel: Option<i32>,
    pub control_number: Option<String>,
    pub id: Option<Uuid>,
}

pub async fn find(pool: &PgPool, lookup: &Lookup) -> Result<Vec<CollectionHistory>, OpsError> {
    let control = match &lookup.control_number {
        Some(raw) => Some(ControlNumber::parse(raw)?.into_string()),
        None => None,
    };
    if lookup.receipt.is_none() && control.is_none() && lookup.id.is_none() {
        return Err(OpsError::BadRequest(
            "give a receipt, a control number or an id".into(),
        ));
    }
    let rows = db::collections::search(
        pool,
        lookup.receipt.as_deref(),
        lookup.channel,
        control.as_deref(),
        lookup.id,
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for collection in rows {
        out.push(history(pool, collection).await?);
    }
    Ok(out)
}

async fn history(pool: &PgPool, collection: Collection) -> Result<CollectionHistory, OpsError> {
    let (discarded_by, discard_reason) = db::collections::discard_note(pool, collection.id).await?;
    let mut history = vec![Event {
        event: "recorded".into(),
        attempt: None,
        detail: Some(format!(
            "collect answered 1000, {}",
            format_money(collection.amount)
        )),
        actor: None,
        at: collection.created_at,
    }];
    // The first publication is the collection's `published_at`; each replay's publication is
    // an event of its own.
    if let Some(at) = collection.published_at {
        history.push(Event {
            event: "published".into(),
            attempt: None,
            detail: None,
            actor: None,
            at,
        });
    }
    let events = db::collections::events(pool, collection.id).await?;
    history.extend(events);
    // "recorded" comes first by definition: a relay's transaction (which stamps
    // `published_at`) may begin a moment before the collect's commit it then reads.
    history[1..].sort_by_key(|e| e.at);
    Ok(CollectionHistory {
        collection,
        discarded_by,
        discard_reason,
        history,
    })
}
