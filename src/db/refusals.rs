//! The `refused_collects` table: every collect we refused, with what was sent and why.

use anyhow::Context;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

#[derive(Debug, Clone, Default)]
pub struct NewRefusal<'a> {
    pub response_code: &'a str,
    pub reason: &'a str,
    pub control_number: Option<&'a str>,
    pub receipt_number: Option<&'a str>,
    pub pay_channel: Option<i32>,
    pub amount: Option<Decimal>,
    pub collected_at: Option<DateTime<Utc>>,
    /// The request as received, credentials removed.
    pub request: serde_json::Value,
}

#[tracing::instrument(skip_all, fields(code = r.response_code))]
pub async fn insert(tx: &mut PgConnection, r: &NewRefusal<'_>) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO refused_collects (response_code, reason, control_number, receipt_number, \
             pay_channel, amount, collected_at, request) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(r.response_code)
    .bind(r.reason)
    .bind(r.control_number)
    .bind(r.receipt_number)
    .bind(r.pay_channel)
    .bind(r.amount)
    .bind(r.collected_at)
    .bind(&r.request)
    .fetch_one(&mut *tx)
    .await
    .context("Failed to record refused collect")
}
