//! Database-wide counts for the metrics gauges (`crate::metrics`).

use anyhow::Context;
use sqlx::PgPool;

/// The outbox rows not yet published, and the age in seconds of the oldest of them (`None`
/// when there is none).
pub async fn outbox_backlog(pool: &PgPool) -> anyhow::Result<(i64, Option<f64>)> {
    sqlx::query_as(
        "SELECT count(*), extract(epoch FROM now() - min(created_at))::float8 FROM outbox WHERE published_at IS NULL",
    )
    .fetch_one(pool)
    .await
    .context("Failed to read outbox backlog")
}

/// Open flags by kind, every kind included (zero if none).
pub async fn open_flags_by_kind(pool: &PgPool) -> anyhow::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT k.kind, count(f.id) FROM unnest(ARRAY['replay','conflict','suspected_double_payment', \
             'refused_collect','overpayment','core_duplicate']) AS k(kind) \
         LEFT JOIN flags f ON f.kind = k.kind AND f.status = 'open' GROUP BY k.kind",
    )
    .fetch_all(pool)
    .await
    .context("Failed to count open flags")
}

/// Collections by status, every status included (zero if none).
pub async fn collections_by_status(pool: &PgPool) -> anyhow::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT s.status, count(c.id) FROM unnest(ARRAY['recorded','published','retrying','posted', \
             'dead_lettered','replayed','discarded']) AS s(status) \
         LEFT JOIN collections c ON c.status = s.status GROUP BY s.status",
    )
    .fetch_all(pool)
    .await
    .context("Failed to count collections")
}
