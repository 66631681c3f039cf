//! The `finance_notifications` table: SkyPay's finance notices as received (once each, by
//! reference and account), and the settlement check of each collection settlement.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::domain::FinanceNotice;

/// How a notice reached us (`received_via`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// SkyPay's `financeNotification` callback.
    Callback,
    /// Our `notificationInquiry` catch-up.
    Inquiry,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Callback => "callback",
            Via::Inquiry => "inquiry",
        }
    }
}

/// Stores `notice` unless one with its reference and account is stored already: its id, or
/// `None` for a repeat. `amount` is in pesos; `body` is the notice as received, credentials
/// removed.
pub async fn insert(
    conn: &mut PgConnection,
    notice: &FinanceNotice,
    amount: Option<Decimal>,
    body: &serde_json::Value,
    via: Via,
) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO finance_notifications (reference_number, account_no, statement_type, \
             sign_type, amount, currency, transaction_date, company_prefix, body, received_via) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (reference_number, account_no) DO NOTHING RETURNING id",
    )
    .bind(&notice.reference_number)
    .bind(&notice.account_no)
    .bind(notice.statement_type)
    .bind(&notice.sign_type)
    .bind(amount)
    .bind(&notice.currency)
    .bind(&notice.transaction_date)
    .bind(&notice.company_prefix)
    .bind(body)
    .bind(via.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("Failed to store a finance notification")
}

/// The total SkyPay reported (`their_amount`) of the reconciliation items paired with a
/// collection of ours on the Manila days `[first, end)` (`matched`, `not_posted`, and the
/// `missing_ours` rows adopted since); zero when none.
pub async fn matched_total(
    conn: &mut PgConnection,
    first: NaiveDate,
    end: NaiveDate,
) -> anyhow::Result<Decimal> {
    sqlx::query_scalar(
        "SELECT COALESCE(sum(their_amount), 0) FROM recon_items \
         WHERE (status IN ('matched', 'not_posted') OR resolution = 'adopt') \
           AND business_date >= $1 AND business_date < $2",
    )
    .bind(first)
    .bind(end)
    .fetch_one(&mut *conn)
    .await
    .context("Failed to total the matched collections of a settlement period")
}

/// Records a settlement check on notice `id`.
pub async fn set_settlement(
    conn: &mut PgConnection,
    id: i64,
    period: (DateTime<Utc>, DateTime<Utc>),
    matched: Decimal,
    drift: Decimal,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE finance_notifications SET settlement_period_start = $2, \
             settlement_period_end = $3, matched_amount = $4, drift = $5, updated_at = now() \
         WHERE id = $1",
    )
    .bind(id)
    .bind(period.0)
    .bind(period.1)
    .bind(matched)
    .bind(drift)
    .execute(&mut *conn)
    .await
    .context("Failed to record a settlement check")?;
    Ok(())
}

/// A collection settlement already checked, for a re-check.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Checked {
    pub id: i64,
    pub reference_number: String,
    pub amount: Decimal,
    pub settlement_period_start: DateTime<Utc>,
    pub settlement_period_end: DateTime<Utc>,
}

/// The checked collection settlements whose period contains the instant `at`.
pub async fn settlements_covering(
    pool: &PgPool,
    statement_type: i32,
    at: DateTime<Utc>,
) -> anyhow::Result<Vec<Checked>> {
    sqlx::query_as(
        "SELECT id, reference_number, amount, settlement_period_start, settlement_period_end \
         FROM finance_notifications \
         WHERE statement_type = $1 AND amount IS NOT NULL \
           AND settlement_period_start <= $2 AND settlement_period_end > $2 \
         ORDER BY id",
    )
    .bind(statement_type)
    .bind(at)
    .fetch_all(pool)
    .await
    .context("Failed to read the settlements of a day")
}

/// One stored notice, for ops.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    pub id: i64,
    pub reference_number: String,
    pub account_no: String,
    pub statement_type: Option<i32>,
    pub sign_type: Option<String>,
    /// In pesos (`SETTLEMENT_AMOUNT_UNIT` applied); the body keeps what SkyPay sent.
    #[serde(serialize_with = "crate::domain::amount::serialize_optional_money")]
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub transaction_date: Option<String>,
    pub company_prefix: Option<String>,
    pub settlement_period_start: Option<DateTime<Utc>>,
    pub settlement_period_end: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::domain::amount::serialize_optional_money")]
    pub matched_amount: Option<Decimal>,
    #[serde(serialize_with = "crate::domain::amount::serialize_optional_money")]
    pub drift: Option<Decimal>,
    pub received_via: String,
    pub body: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Stored notices, newest first: of one statement type if given.
pub async fn list(
    pool: &PgPool,
    statement_type: Option<i32>,
    limit: i64,
) -> anyhow::Result<Vec<Notice>> {
    sqlx::query_as(
        "SELECT id, reference_number, account_no, statement_type, sign_type, amount, currency, \
             transaction_date, company_prefix, settlement_period_start, settlement_period_end, \
             matched_amount, drift, received_via, body, created_at, updated_at \
         FROM finance_notifications WHERE ($1::integer IS NULL OR statement_type = $1) \
         ORDER BY id DESC LIMIT $2",
    )
    .bind(statement_type)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("Failed to read finance notifications")
}
