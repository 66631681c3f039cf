//! The dead-letter queue as ops see it. The database is the truth: a dead letter is a
//! collection whose status is `dead_lettered`, with the reason the worker recorded.

use anyhow::Context;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::table;
use crate::domain::format_money;

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

pub async fn list(pool: &PgPool) -> anyhow::Result<Vec<DeadLetter>> {
    sqlx::query_as(
        "SELECT id AS collection_id, receipt_number, pay_channel, control_number, amount, attempts, \
             last_error AS reason, dead_lettered_at \
         FROM collections WHERE status = 'dead_lettered' ORDER BY dead_lettered_at, id",
    )
    .fetch_all(pool)
    .await
    .context("Failed to list dead letters")
}

pub fn render(letters: &[DeadLetter]) -> String {
    if letters.is_empty() {
        return "no dead letters\n".to_owned();
    }
    let rows: Vec<Vec<String>> = letters
        .iter()
        .map(|d| {
            vec![
                d.receipt_number.clone(),
                d.pay_channel.to_string(),
                d.control_number.clone(),
                format_money(d.amount),
                d.attempts.to_string(),
                d.dead_lettered_at
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default(),
                d.reason
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(80)
                    .collect(),
            ]
        })
        .collect();
    let mut out = table::render(
        &[
            "RECEIPT",
            "CHANNEL",
            "CONTROL NUMBER",
            "AMOUNT",
            "ATTEMPTS",
            "DEAD-LETTERED (UTC)",
            "REASON",
        ],
        &rows,
    );
    out.push_str(&format!("{} dead letter(s)\n", letters.len()));
    out
}
