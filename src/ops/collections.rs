//! "Did this borrower's payment reach the ledger?": collections by receipt or control number,
//! each with its history (every attempt, error and ops action, with times).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::table;
use super::OpsError;
use crate::db::collections::Collection;
use crate::domain::{format_money, ControlNumber};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event: String,
    pub attempt: Option<i32>,
    pub detail: Option<String>,
    pub actor: Option<String>,
    pub at: DateTime<Utc>,
}

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
    let rows: Vec<Collection> = sqlx::query_as(
        "SELECT id, control_number, loan_ref, pay_channel, receipt_number, amount, phone, collected_at, \
             status, attempts, last_error, core_reference, published_at, posted_at, dead_lettered_at, \
             created_at, updated_at \
         FROM collections \
         WHERE ($1::text IS NULL OR receipt_number = $1) AND ($2::int IS NULL OR pay_channel = $2) \
           AND ($3::text IS NULL OR control_number = $3) AND ($4::uuid IS NULL OR id = $4) \
         ORDER BY created_at, id LIMIT 500",
    )
    .bind(&lookup.receipt)
    .bind(lookup.channel)
    .bind(&control)
    .bind(lookup.id)
    .fetch_all(pool)
    .await
    .map_err(anyhow::Error::from)?;
    let mut out = Vec::with_capacity(rows.len());
    for collection in rows {
        out.push(history(pool, collection).await?);
    }
    Ok(out)
}

async fn history(pool: &PgPool, collection: Collection) -> Result<CollectionHistory, OpsError> {
    let (discarded_by, discard_reason): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT discarded_by, discard_reason FROM collections WHERE id = $1")
            .bind(collection.id)
            .fetch_one(pool)
            .await
            .map_err(anyhow::Error::from)?;
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
    let events: Vec<Event> = sqlx::query_as(
        "SELECT event, attempt, detail, actor, created_at AS at FROM collection_events \
         WHERE collection_id = $1 ORDER BY id",
    )
    .bind(collection.id)
    .fetch_all(pool)
    .await
    .map_err(anyhow::Error::from)?;
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

pub fn render(found: &[CollectionHistory]) -> String {
    if found.is_empty() {
        return "no collections found\n".into();
    }
    let mut out = String::new();
    for c in found {
        let col = &c.collection;
        out.push_str(&format!(
            "collection {}  receipt {} (channel {})  control number {}  amount {}\n  status {}  attempts {}  core reference {}\n",
            col.id,
            col.receipt_number,
            col.pay_channel,
            col.control_number,
            format_money(col.amount),
            col.status,
            col.attempts,
            col.core_reference.as_deref().unwrap_or("-"),
        ));
        let rows: Vec<Vec<String>> = c
            .history
            .iter()
            .map(|e| {
                vec![
                    e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    e.event.clone(),
                    e.attempt.map(|a| a.to_string()).unwrap_or_default(),
                    e.actor.clone().unwrap_or_default(),
                    e.detail
                        .clone()
                        .unwrap_or_default()
                        .chars()
                        .take(100)
                        .collect(),
                ]
            })
            .collect();
        for line in
            table::render(&["WHEN (UTC)", "EVENT", "ATTEMPT", "BY", "DETAIL"], &rows).lines()
        {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}
