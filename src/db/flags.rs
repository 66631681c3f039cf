//! The `flags` table: what ops must look at.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub use crate::domain::FlagKind;

#[derive(Debug, Clone)]
pub struct NewFlag<'a> {
    pub kind: FlagKind,
    pub collection_id: Option<Uuid>,
    pub refused_collect_id: Option<i64>,
    pub control_number: Option<&'a str>,
    pub receipt_number: Option<&'a str>,
    pub pay_channel: Option<i32>,
    pub details: serde_json::Value,
}

#[tracing::instrument(skip_all, fields(kind = flag.kind.as_str()))]
pub async fn insert(tx: &mut PgConnection, flag: &NewFlag<'_>) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO flags (kind, collection_id, refused_collect_id, control_number, \
             receipt_number, pay_channel, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(flag.kind.as_str())
    .bind(flag.collection_id)
    .bind(flag.refused_collect_id)
    .bind(flag.control_number)
    .bind(flag.receipt_number)
    .bind(flag.pay_channel)
    .bind(&flag.details)
    .fetch_one(&mut *tx)
    .await
    .context("Failed to insert flag")
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub collection_id: Option<Uuid>,
    pub refused_collect_id: Option<i64>,
    pub control_number: Option<String>,
    pub receipt_number: Option<String>,
    pub pay_channel: Option<i32>,
    pub details: serde_json::Value,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_note: Option<String>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, kind, status, collection_id, refused_collect_id, control_number, receipt_number, \
    pay_channel, details, resolved_by, resolved_at, resolution_note, created_at";

/// Flags of `kind` (any if `None`) in `status` (any if `None`), by id, at most `limit`
/// (clamped to 1..=10,000).
pub async fn list(
    pool: &PgPool,
    kind: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<Flag>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM flags WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR status = $2) \
         ORDER BY id LIMIT $3"
    );
    sqlx::query_as(&sql)
        .bind(kind)
        .bind(status)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(pool)
        .await
        .map_err(anyhow::Error::from)
}

/// Resolves flag `id` if it is open, keeping who and why: `None` if it is not open (or not
/// there at all, see [`exists`]).
pub async fn resolve(
    tx: &mut PgConnection,
    id: i64,
    actor: &str,
    note: &str,
) -> anyhow::Result<Option<Flag>> {
    let sql = format!(
        "UPDATE flags SET status = 'resolved', resolved_by = $2, resolved_at = now(), resolution_note = $3, \
             updated_at = now() WHERE id = $1 AND status = 'open' RETURNING {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(id)
        .bind(actor)
        .bind(note)
        .fetch_optional(&mut *tx)
        .await
        .map_err(anyhow::Error::from)
}

/// Whether there is a flag `id` at all.
pub async fn exists(tx: &mut PgConnection, id: i64) -> anyhow::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM flags WHERE id = $1)")
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(anyhow::Error::from)
}
