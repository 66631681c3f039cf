//! The `flags` table: what ops must look at.

use anyhow::Context;
use sqlx::PgConnection;
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
