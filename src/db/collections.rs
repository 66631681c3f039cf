//! The `collections` table: one row per accepted collect.

use anyhow::Context;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::domain::{BillStatus, CollectionStatus};

/// A collection about to be recorded.
#[derive(Debug, Clone)]
pub struct NewCollection<'a> {
    pub id: Uuid,
    pub control_number: &'a str,
    pub loan_ref: &'a str,
    pub pay_channel: i32,
    pub receipt_number: &'a str,
    pub amount: Decimal,
    pub phone: &'a str,
    pub collected_at: DateTime<Utc>,
}

/// A recorded collection, as ops and the repeat check see it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    pub id: Uuid,
    pub control_number: String,
    pub loan_ref: String,
    pub pay_channel: i32,
    pub receipt_number: String,
    #[serde(serialize_with = "crate::domain::amount::serialize_money")]
    pub amount: Decimal,
    #[serde(skip)]
    pub phone: String,
    pub collected_at: DateTime<Utc>,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub core_reference: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub posted_at: Option<DateTime<Utc>>,
    pub dead_lettered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, control_number, loan_ref, pay_channel, receipt_number, amount, phone, \
    collected_at, status, attempts, last_error, core_reference, published_at, posted_at, \
    dead_lettered_at, created_at, updated_at";

/// The collect's second statement, one round trip: inserts the collection unless its
/// `(pay_channel, receipt_number)` is already recorded, and only if it did, moves the bill to
/// `outstanding` / `status` (state only moves forward: `paid` is never reopened here) and
/// writes the outbox event (`payload`, published later by the relay). It also returns the
/// earlier collections of the same amount on the same bill collected within `window` of this
/// one (a suspected double payment), read with the statement's snapshot, which was taken
/// after the caller locked the bill: every collect of this bill that held the lock before is
/// seen, and this one is not.
///
/// `None`: the receipt is taken (a concurrent collect of it committed first; a concurrent
/// insert of the same receipt is waited for), and nothing was written.
#[tracing::instrument(skip_all)]
pub async fn record(
    tx: &mut PgConnection,
    c: &NewCollection<'_>,
    bill: (Decimal, BillStatus),
    payload: &serde_json::Value,
    window: chrono::Duration,
) -> anyhow::Result<Option<Vec<Uuid>>> {
    let (outstanding, status) = bill;
    let row: (bool, Vec<Uuid>) = sqlx::query_as(
        "WITH nearby AS ( \
             SELECT coalesce(array_agg(id ORDER BY collected_at), '{}') AS ids FROM collections \
             WHERE control_number = $2 AND amount = $6 AND collected_at BETWEEN $9 AND $10), \
         inserted AS ( \
             INSERT INTO collections (id, control_number, loan_ref, pay_channel, receipt_number, \
                 amount, phone, collected_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT ON CONSTRAINT collections_receipt_key DO NOTHING RETURNING id), \
         bill AS ( \
             UPDATE bills SET outstanding = $11, \
                 status = CASE WHEN status = 'open' THEN $12 ELSE status END, updated_at = now() \
             WHERE control_number = $2 AND EXISTS (SELECT 1 FROM inserted)), \
         event AS ( \
             INSERT INTO outbox (collection_id, payload) SELECT id, $13 FROM inserted) \
         SELECT EXISTS (SELECT 1 FROM inserted), (SELECT ids FROM nearby)",
    )
    .bind(c.id)
    .bind(c.control_number)
    .bind(c.loan_ref)
    .bind(c.pay_channel)
    .bind(c.receipt_number)
    .bind(c.amount)
    .bind(c.phone)
    .bind(c.collected_at)
    .bind(c.collected_at - window)
    .bind(c.collected_at + window)
    .bind(outstanding)
    .bind(status.as_str())
    .bind(payload)
    .fetch_one(&mut *tx)
    .await
    .context("Failed to record the collection")?;
    let (inserted, nearby) = row;
    Ok(inserted.then_some(nearby))
}

/// The second statement of a group of collects (`payments::grouped`), one round trip for the
/// whole group: inserts every collection, sets each bill to its final state (`bills`: control
/// number, outstanding, status; one entry per bill) and writes each collection's outbox event
/// (`payloads`, in the order of `collections`). Returns, for each collection in order, the
/// earlier collections of the same amount on the same bill collected within `window` of it,
/// read with the statement's snapshot: every collect committed before the caller locked the
/// bills, and none of the group's own (the caller adds those).
///
/// `None`: a receipt is taken (recorded by another collect). The other rows were written, so
/// the caller must roll back. Run on a connection that plans each execution for its
/// arguments (`payments::grouped`).
#[tracing::instrument(skip_all)]
pub async fn record_group<'c>(
    tx: &mut PgConnection,
    collections: &[NewCollection<'c>],
    payloads: &[serde_json::Value],
    bills: &[(&str, Decimal, BillStatus)],
    window: chrono::Duration,
) -> anyhow::Result<Option<Vec<Vec<Uuid>>>> {
    let column =
        |f: fn(&NewCollection<'c>) -> &'c str| collections.iter().map(f).collect::<Vec<_>>();
    // How many were inserted; per collection (by index) with earlier ones, their ids.
    type Nearby = sqlx::types::Json<Vec<(usize, Vec<Uuid>)>>;
    let row: (i64, Nearby) = sqlx::query_as(
        "WITH input AS ( \
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int4[], $5::text[], \
                 $6::numeric[], $7::text[], $8::timestamptz[], $9::jsonb[]) WITH ORDINALITY \
                 AS v(id, control_number, loan_ref, pay_channel, receipt_number, amount, phone, \
                     collected_at, payload, ord)), \
         nearby AS ( \
             SELECT v.ord - 1 AS i, array_agg(c.id ORDER BY c.collected_at) AS ids \
             FROM input v JOIN collections c ON c.control_number = v.control_number \
                 AND c.amount = v.amount \
                 AND c.collected_at BETWEEN v.collected_at - $13 AND v.collected_at + $13 \
             GROUP BY v.ord), \
         inserted AS ( \
             INSERT INTO collections (id, control_number, loan_ref, pay_channel, receipt_number, \
                 amount, phone, collected_at) \
             SELECT id, control_number, loan_ref, pay_channel, receipt_number, amount, phone, \
                 collected_at FROM input \
             ON CONFLICT ON CONSTRAINT collections_receipt_key DO NOTHING RETURNING id), \
         bill AS ( \
             UPDATE bills b SET outstanding = u.outstanding, status = u.status, updated_at = now() \
             FROM unnest($10::text[], $11::numeric[], $12::text[]) AS u(control_number, outstanding, status) \
             WHERE b.control_number = u.control_number), \
         event AS ( \
             INSERT INTO outbox (collection_id, payload) \
             SELECT v.id, v.payload FROM input v JOIN inserted USING (id) ORDER BY v.ord) \
         SELECT (SELECT count(*) FROM inserted), \
             coalesce((SELECT jsonb_agg(jsonb_build_array(i, ids)) FROM nearby), '[]')",
    )
    .bind(collections.iter().map(|c| c.id).collect::<Vec<_>>())
    .bind(column(|c| c.control_number))
    .bind(column(|c| c.loan_ref))
    .bind(collections.iter().map(|c| c.pay_channel).collect::<Vec<_>>())
    .bind(column(|c| c.receipt_number))
    .bind(collections.iter().map(|c| c.amount).collect::<Vec<_>>())
    .bind(column(|c| c.phone))
    .bind(collections.iter().map(|c| c.collected_at).collect::<Vec<_>>())
    .bind(payloads)
    .bind(bills.iter().map(|b| b.0).collect::<Vec<_>>())
    .bind(bills.iter().map(|b| b.1).collect::<Vec<_>>())
    .bind(bills.iter().map(|b| b.2.as_str()).collect::<Vec<_>>())
    .bind(window)
    .fetch_one(&mut *tx)
    .await
    .context("Failed to record the group of collections")?;
    let (inserted, sqlx::types::Json(nearby)) = row;
    if usize::try_from(inserted).ok() != Some(collections.len()) {
        return Ok(None);
    }
    let mut earlier = vec![Vec::new(); collections.len()];
    for (i, ids) in nearby {
        if let Some(slot) = earlier.get_mut(i) {
            *slot = ids;
        }
    }
    Ok(Some(earlier))
}

#[tracing::instrument(skip_all)]
pub async fn find_by_receipt(
    db: impl PgExecutor<'_>,
    pay_channel: i32,
    receipt_number: &str,
) -> anyhow::Result<Option<Collection>> {
    let sql =
        format!("SELECT {COLUMNS} FROM collections WHERE pay_channel = $1 AND receipt_number = $2");
    sqlx::query_as(&sql)
        .bind(pay_channel)
        .bind(receipt_number)
        .fetch_optional(db)
        .await
        .context("Failed to look up receipt")
}

pub async fn list_for_bill(
    db: impl PgExecutor<'_>,
    control_number: &str,
) -> anyhow::Result<Vec<Collection>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM collections WHERE control_number = $1 ORDER BY created_at, id"
    );
    sqlx::query_as(&sql)
        .bind(control_number)
        .fetch_all(db)
        .await
        .context("Failed to list collections")
}

/// The sum collected on a bill so far, for re-registration.
pub async fn total_for_bill(
    tx: &mut PgConnection,
    control_number: &str,
) -> anyhow::Result<Decimal> {
    let total: Option<Decimal> =
        sqlx::query_scalar("SELECT sum(amount) FROM collections WHERE control_number = $1")
            .bind(control_number)
            .fetch_one(&mut *tx)
            .await
            .context("Failed to sum collections")?;
    Ok(total.unwrap_or(Decimal::ZERO))
}

/// Whether collection `id` on bill `control_number` was committed, asked after the answer to
/// its `COMMIT` was lost. The collect transaction held the bill row locked until it ended, so
/// taking that lock first waits out a commit still in progress (bounded by `lock_timeout`);
/// after it, the row is visible if and only if the transaction committed.
pub async fn committed(
    pool: &sqlx::PgPool,
    control_number: &str,
    id: Uuid,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await.context("Failed to begin")?;
    sqlx::query("SELECT 1 FROM bills WHERE control_number = $1 FOR UPDATE")
        .bind(control_number)
        .execute(&mut *tx)
        .await
        .context("Failed to lock the bill")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM collections WHERE id = $1)")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .context("Failed to look up the collection")?;
    tx.rollback().await.context("Failed to roll back")?;
    Ok(exists)
}

/// The status of each of `ids` that is a collection at all.
pub async fn statuses(
    pool: &PgPool,
    ids: &[Uuid],
) -> anyhow::Result<Vec<(Uuid, CollectionStatus)>> {
    sqlx::query_as("SELECT id, status FROM collections WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(pool)
        .await
        .context("Failed to read collection statuses")
}

/// Collections by receipt (optionally on one channel), control number or id: every one given
/// must match. Oldest first, at most 500.
pub async fn search(
    pool: &PgPool,
    receipt: Option<&str>,
    channel: Option<i32>,
    control_number: Option<&str>,
    id: Option<Uuid>,
) -> anyhow::Result<Vec<Collection>> {
    sqlx::query_as(
        "SELECT id, control_number, loan_ref, pay_channel, receipt_number, amount, phone, collected_at, \
             status, attempts, last_error, core_reference, published_at, posted_at, dead_lettered_at, \
             created_at, updated_at \
         FROM collections \
         WHERE ($1::text IS NULL OR receipt_number = $1) AND ($2::int IS NULL OR pay_channel = $2) \
           AND ($3::text IS NULL OR control_number = $3) AND ($4::uuid IS NULL OR id = $4) \
         ORDER BY created_at, id LIMIT 500",
    )
    .bind(receipt)
    .bind(channel)
    .bind(control_number)
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(anyhow::Error::from)
}

/// Who discarded collection `id`, and why (both `None` unless it was discarded).
pub async fn discard_note(
    pool: &PgPool,
    id: Uuid,
) -> anyhow::Result<(Option<String>, Option<String>)> {
    sqlx::query_as("SELECT discarded_by, discard_reason FROM collections WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .map_err(anyhow::Error::from)
}

/// An event in a collection's history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event: String,
    pub attempt: Option<i32>,
    pub detail: Option<String>,
    pub actor: Option<String>,
    pub at: DateTime<Utc>,
}

/// The events recorded for collection `id` (`collection_events`), in order.
pub async fn events(pool: &PgPool, id: Uuid) -> anyhow::Result<Vec<Event>> {
    sqlx::query_as(
        "SELECT event, attempt, detail, actor, created_at AS at FROM collection_events \
         WHERE collection_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(anyhow::Error::from)
}

pub use workers::store::record_event;
