//! The reconciliation's tables: `recon_runs` (each run of the daily match) and `recon_items`
//! (what it found, kept across runs of the same day).

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::CollectionStatus;

pub async fn start_run(
    pool: &PgPool,
    date: NaiveDate,
    trigger: &str,
    actor: &str,
) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO recon_runs (business_date, trigger, started_by) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(date)
    .bind(trigger)
    .bind(actor)
    .fetch_one(pool)
    .await
    .context("Failed to start a reconciliation run")
}

pub async fn fail_run(pool: &PgPool, run: i64, error: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE recon_runs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1",
    )
    .bind(run)
    .bind(error)
    .execute(pool)
    .await
    .context("Failed to record the reconciliation run's failure")?;
    Ok(())
}

/// One of our collections, for the match.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayCollection {
    pub id: Uuid,
    pub receipt_number: String,
    pub control_number: String,
    pub amount: Decimal,
    pub collected_at: DateTime<Utc>,
    pub status: CollectionStatus,
}

/// Our collections collected in `[from, to)`.
pub async fn collections_between(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Vec<DayCollection>> {
    sqlx::query_as(
        "SELECT id, receipt_number, control_number, amount, collected_at, status FROM collections \
         WHERE collected_at >= $1 AND collected_at < $2 ORDER BY collected_at, id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .context("Failed to read the day's collections")
}

/// An item as a run found it.
#[derive(Debug, Clone)]
pub struct FoundItem {
    pub key: String,
    pub status: &'static str,
    pub state: &'static str,
    pub collection_id: Option<Uuid>,
    pub reference_no: Option<String>,
    pub control_number: Option<String>,
    pub their_amount: Option<Decimal>,
    pub our_amount: Option<Decimal>,
    pub their_row: Option<serde_json::Value>,
    pub detail: String,
}

/// Stores what run `run` found for `date`, in one transaction: each item is inserted, or
/// updated if it is not resolved (a resolved item is kept as ops left it); the day's
/// unresolved items that the run no longer found are deleted. Then the run is finished with
/// its counts (items by status, and exceptions left open).
pub async fn store_items(
    pool: &PgPool,
    date: NaiveDate,
    run: i64,
    items: &[FoundItem],
    their_rows: usize,
    our_rows: usize,
) -> anyhow::Result<serde_json::Value> {
    let mut tx = pool.begin().await.context("Failed to begin transaction")?;
    let col = |f: fn(&FoundItem) -> Option<String>| items.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO recon_items (business_date, match_key, status, state, collection_id, \
             reference_no, control_number, their_amount, our_amount, their_row, detail, \
             first_run_id, last_run_id) \
         SELECT $1, k, s, st, c, r, cn, ta, oa, tr, d, $2, $2 \
         FROM UNNEST($3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::text[], \
                     $9::numeric[], $10::numeric[], $11::jsonb[], $12::text[]) \
              AS x(k, s, st, c, r, cn, ta, oa, tr, d) \
         ON CONFLICT (business_date, match_key) DO UPDATE SET \
             status = EXCLUDED.status, state = EXCLUDED.state, \
             collection_id = EXCLUDED.collection_id, reference_no = EXCLUDED.reference_no, \
             control_number = EXCLUDED.control_number, their_amount = EXCLUDED.their_amount, \
             our_amount = EXCLUDED.our_amount, their_row = EXCLUDED.their_row, \
             detail = EXCLUDED.detail, last_run_id = EXCLUDED.last_run_id, updated_at = now() \
         WHERE recon_items.state <> 'resolved'",
    )
    .bind(date)
    .bind(run)
    .bind(col(|i| Some(i.key.clone())))
    .bind(col(|i| Some(i.status.to_owned())))
    .bind(col(|i| Some(i.state.to_owned())))
    .bind(items.iter().map(|i| i.collection_id).collect::<Vec<_>>())
    .bind(col(|i| i.reference_no.clone()))
    .bind(col(|i| i.control_number.clone()))
    .bind(items.iter().map(|i| i.their_amount).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.our_amount).collect::<Vec<_>>())
    .bind(
        items
            .iter()
            .map(|i| i.their_row.clone())
            .collect::<Vec<_>>(),
    )
    .bind(col(|i| Some(i.detail.clone())))
    .execute(&mut *tx)
    .await
    .context("Failed to store the reconciliation's items")?;
    let keys = col(|i| Some(i.key.clone()));
    sqlx::query(
        "DELETE FROM recon_items WHERE business_date = $1 AND state <> 'resolved' \
           AND NOT (match_key = ANY($2))",
    )
    .bind(date)
    .bind(&keys)
    .execute(&mut *tx)
    .await
    .context("Failed to drop the items the run no longer found")?;
    let counts: serde_json::Value = sqlx::query_scalar(
        "SELECT jsonb_build_object('byStatus', COALESCE((SELECT jsonb_object_agg(status, n) FROM \
             (SELECT status, count(*) AS n FROM recon_items WHERE business_date = $1 GROUP BY status) s), '{}'::jsonb), \
           'byState', COALESCE((SELECT jsonb_object_agg(state, n) FROM \
             (SELECT state, count(*) AS n FROM recon_items WHERE business_date = $1 GROUP BY state) s), '{}'::jsonb))",
    )
    .bind(date)
    .fetch_one(&mut *tx)
    .await
    .context("Failed to count the day's items")?;
    sqlx::query(
        "UPDATE recon_runs SET status = 'succeeded', their_rows = $2, our_rows = $3, counts = $4, \
             finished_at = now() WHERE id = $1",
    )
    .bind(run)
    .bind(their_rows as i32)
    .bind(our_rows as i32)
    .bind(&counts)
    .execute(&mut *tx)
    .await
    .context("Failed to finish the reconciliation run")?;
    tx.commit()
        .await
        .context("Failed to commit the reconciliation")?;
    Ok(counts)
}

/// A run as ops see it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub id: i64,
    pub business_date: NaiveDate,
    pub trigger: String,
    pub status: String,
    pub error: Option<String>,
    pub their_rows: i32,
    pub our_rows: i32,
    pub counts: serde_json::Value,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const RUN_COLUMNS: &str = "id, business_date, trigger, status, error, their_rows, our_rows, \
    counts, started_by, started_at, finished_at";

pub async fn runs(pool: &PgPool, date: Option<NaiveDate>, limit: i64) -> anyhow::Result<Vec<Run>> {
    sqlx::query_as(&format!(
        "SELECT {RUN_COLUMNS} FROM recon_runs WHERE ($1::date IS NULL OR business_date = $1) \
         ORDER BY started_at DESC, id DESC LIMIT $2"
    ))
    .bind(date)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("Failed to list reconciliation runs")
}

/// Whether a run of `trigger` for `date` succeeded already.
pub async fn succeeded(pool: &PgPool, date: NaiveDate, trigger: &str) -> anyhow::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM recon_runs WHERE business_date = $1 AND trigger = $2 \
           AND status = 'succeeded')",
    )
    .bind(date)
    .bind(trigger)
    .fetch_one(pool)
    .await
    .context("Failed to look for an earlier run")
}

/// An item as ops see it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub id: i64,
    pub business_date: NaiveDate,
    pub match_key: String,
    pub status: String,
    pub state: String,
    pub collection_id: Option<Uuid>,
    pub reference_no: Option<String>,
    pub control_number: Option<String>,
    #[serde(serialize_with = "crate::domain::amount::serialize_optional_money")]
    pub their_amount: Option<Decimal>,
    #[serde(serialize_with = "crate::domain::amount::serialize_optional_money")]
    pub our_amount: Option<Decimal>,
    pub their_row: Option<serde_json::Value>,
    pub detail: String,
    pub first_run_id: i64,
    pub last_run_id: i64,
    pub resolution: Option<String>,
    pub resolution_note: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ITEM_COLUMNS: &str = "id, business_date, match_key, status, state, collection_id, \
    reference_no, control_number, their_amount, our_amount, their_row, detail, first_run_id, \
    last_run_id, resolution, resolution_note, resolved_by, resolved_at, created_at, updated_at";

/// Which items: every filter given must match.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub date: Option<NaiveDate>,
    pub status: Option<String>,
    /// `ok`, `expected`, `open` or `resolved`.
    pub state: Option<String>,
}

pub async fn items(pool: &PgPool, filter: &ItemFilter, limit: i64) -> anyhow::Result<Vec<Item>> {
    sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM recon_items \
         WHERE ($1::date IS NULL OR business_date = $1) AND ($2::text IS NULL OR status = $2) \
           AND ($3::text IS NULL OR state = $3) \
         ORDER BY business_date, id LIMIT $4"
    ))
    .bind(filter.date)
    .bind(&filter.status)
    .bind(&filter.state)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("Failed to list reconciliation items")
}

/// The item, locked for its resolution.
pub async fn lock_item(tx: &mut PgConnection, id: i64) -> anyhow::Result<Option<Item>> {
    sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM recon_items WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .context("Failed to read the reconciliation item")
}

pub async fn item(pool: &PgPool, id: i64) -> anyhow::Result<Option<Item>> {
    sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM recon_items WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .context("Failed to read the reconciliation item")
}

pub async fn resolve_item(
    tx: &mut PgConnection,
    id: i64,
    resolution: &str,
    note: &str,
    actor: &str,
    collection_id: Option<Uuid>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE recon_items SET state = 'resolved', resolution = $2, resolution_note = $3, \
             resolved_by = $4, resolved_at = now(), \
             collection_id = COALESCE($5, collection_id), updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(resolution)
    .bind(note)
    .bind(actor)
    .bind(collection_id)
    .execute(&mut *tx)
    .await
    .context("Failed to resolve the reconciliation item")?;
    Ok(())
}

/// For the metrics: open exceptions by status, the oldest one's age, the last successful
/// run's end.
#[derive(Debug, Clone, Default)]
pub struct Health {
    pub open_by_status: Vec<(String, i64)>,
    pub oldest_open_secs: Option<f64>,
    pub last_success: Option<DateTime<Utc>>,
    pub runs_by_status: Vec<(String, i64)>,
}

pub async fn health(pool: &PgPool) -> anyhow::Result<Health> {
    let open_by_status = sqlx::query_as(
        "SELECT status, count(*) FROM recon_items WHERE state = 'open' GROUP BY status",
    )
    .fetch_all(pool)
    .await
    .context("Failed to count open reconciliation items")?;
    let oldest_open_secs = sqlx::query_scalar(
        "SELECT extract(epoch FROM now() - min(created_at))::float8 FROM recon_items WHERE state = 'open'",
    )
    .fetch_one(pool)
    .await
    .context("Failed to age the open reconciliation items")?;
    let last_success =
        sqlx::query_scalar("SELECT max(finished_at) FROM recon_runs WHERE status = 'succeeded'")
            .fetch_one(pool)
            .await
            .context("Failed to read the last reconciliation run")?;
    let runs_by_status = sqlx::query_as("SELECT status, count(*) FROM recon_runs GROUP BY status")
        .fetch_all(pool)
        .await
        .context("Failed to count reconciliation runs")?;
    Ok(Health {
        open_by_status,
        oldest_open_secs,
        last_success,
        runs_by_status,
    })
}
