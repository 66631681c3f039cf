//! Dead letters: collections whose status is `dead_lettered`, and the two ways out of it
//! (replay, discard).

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub collection_id: Uuid,
    pub receipt_number: String,
    pub pay_channel: i32,
    pub control_number: String,
    #[serde(serialize_with = "crate::domain::amount::serialize_money")]
    pub amount: Decimal,
    pub attempts: i32,
    pub reason: Option<String>,
    pub dead_lettered_at: Option<DateTime<Utc>>,
}

/// Which dead letters: every filter given must match.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub ids: Option<Vec<Uuid>>,
    /// Case-insensitive substring of the reason.
    pub reason: Option<String>,
    pub control_number: Option<String>,
    /// Dead-lettered at least this long ago.
    pub older_than: Option<Duration>,
}

/// The dead letters `filter` selects, oldest first (at most 10,000).
pub async fn list(pool: &PgPool, filter: &Filter) -> anyhow::Result<Vec<DeadLetter>> {
    let older = filter
        .older_than
        .map(|d| format!("{} seconds", d.as_secs()));
    let reason = filter
        .reason
        .as_ref()
        .map(|r| format!("%{}%", r.replace('%', "\\%").replace('_', "\\_")));
    sqlx::query_as(
        "SELECT id AS collection_id, receipt_number, pay_channel, control_number, amount, attempts, \
             last_error AS reason, dead_lettered_at \
         FROM collections WHERE status = 'dead_lettered' AND dead_lettered_at IS NOT NULL \
           AND ($1::uuid[] IS NULL OR id = ANY($1)) \
           AND ($2::text IS NULL OR last_error ILIKE $2) \
           AND ($3::text IS NULL OR control_number = upper(trim($3))) \
           AND ($4::interval IS NULL OR dead_lettered_at <= now() - $4::interval) \
         ORDER BY dead_lettered_at, id LIMIT 10000",
    )
    .bind(&filter.ids)
    .bind(reason)
    .bind(&filter.control_number)
    .bind(older)
    .fetch_all(pool)
    .await
    .context("Failed to list dead letters")
}

/// Marks dead letter `id` replayed, with a new message generation from the first attempt:
/// `false` if it is no longer dead-lettered.
pub async fn mark_replayed(tx: &mut PgConnection, id: Uuid) -> anyhow::Result<bool> {
    Ok(sqlx::query(
        "UPDATE collections SET status = 'replayed', replayed_at = now(), dispatch = dispatch + 1, \
             next_attempt = 0, next_due_at = now(), updated_at = now() \
         WHERE id = $1 AND status = 'dead_lettered'",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .context("Failed to mark collection replayed")?
    .rows_affected()
        == 1)
}

/// Marks dead letter `id` discarded by `actor` for `reason`: `false` if it is no longer
/// dead-lettered.
pub async fn mark_discarded(
    tx: &mut PgConnection,
    id: Uuid,
    actor: &str,
    reason: &str,
) -> anyhow::Result<bool> {
    Ok(sqlx::query(
        "UPDATE collections SET status = 'discarded', discarded_at = now(), discarded_by = $2, \
             discard_reason = $3, updated_at = now() WHERE id = $1 AND status = 'dead_lettered'",
    )
    .bind(id)
    .bind(actor)
    .bind(reason)
    .execute(&mut *tx)
    .await
    .map_err(anyhow::Error::from)?
    .rows_affected()
        == 1)
}
