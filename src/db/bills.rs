//! The `bills` table.

use anyhow::Context;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{PgConnection, PgExecutor, PgPool};
use workers::batch::Batcher;

use crate::domain::{Bill, BillStatus, PayerName};

#[derive(sqlx::FromRow, Clone)]
struct BillRow {
    control_number: String,
    loan_ref: String,
    amount_due: Decimal,
    outstanding: Decimal,
    allow_partial: bool,
    status: String,
    expires_at: Option<DateTime<Utc>>,
    payer_last_name: String,
    payer_first_name: String,
    payer_middle_name: Option<String>,
    payer_suffix: Option<String>,
    payer_address: String,
    payer_phone: String,
}

impl TryFrom<BillRow> for Bill {
    type Error = anyhow::Error;

    fn try_from(r: BillRow) -> anyhow::Result<Bill> {
        Ok(Bill {
            status: BillStatus::parse(&r.status)
                .with_context(|| format!("Unknown bill status `{}`", r.status))?,
            control_number: r.control_number,
            loan_ref: r.loan_ref,
            amount_due: r.amount_due,
            outstanding: r.outstanding,
            allow_partial: r.allow_partial,
            expires_at: r.expires_at,
            payer: PayerName {
                last: r.payer_last_name,
                first: r.payer_first_name,
                middle: r.payer_middle_name,
                suffix: r.payer_suffix,
            },
            payer_address: r.payer_address,
            payer_phone: r.payer_phone,
        })
    }
}

const COLUMNS: &str = "control_number, loan_ref, amount_due, outstanding, allow_partial, status, \
    expires_at, payer_last_name, payer_first_name, payer_middle_name, payer_suffix, \
    payer_address, payer_phone";

#[tracing::instrument(skip_all)]
pub async fn find(db: impl PgExecutor<'_>, control_number: &str) -> anyhow::Result<Option<Bill>> {
    let sql = format!("SELECT {COLUMNS} FROM bills WHERE control_number = $1");
    let row: Option<BillRow> = sqlx::query_as(&sql)
        .bind(control_number)
        .fetch_optional(db)
        .await
        .context("Failed to read bill")?;
    row.map(Bill::try_from).transpose()
}

/// Batched bill reads for inquiries: the inquiries in flight share one round trip
/// (`control_number = ANY(…)`) instead of one each, so a busy API spends its time on
/// inquiries rather than on Postgres round trips. A lone inquiry is a batch of one and waits
/// for nothing. Reads only: an inquiry sees the bill as of its batch's statement, which began
/// after the inquiry arrived.
#[derive(Clone)]
pub struct BillReader(Batcher<String, Option<BillRow>>);

impl BillReader {
    /// At most this many bills per statement.
    const MAX_BATCH: usize = 128;
    /// Statements at once.
    const IN_FLIGHT: usize = 2;

    /// Starts the reader task; it stops when the last clone is dropped. It reads on
    /// connections of its own (`IN_FLIGHT` of them, like `pool`'s) that plan the statement
    /// once: Postgres would otherwise re-plan `= ANY($1)` for every batch, because its
    /// generic plan assumes ten elements. The setting is scoped to these connections, which
    /// run this one statement and nothing else.
    pub fn spawn(pool: &PgPool) -> Self {
        let pool = super::pool_planned(pool, "force_generic_plan", Self::IN_FLIGHT as u32);
        let sql: Arc<str> =
            format!("SELECT {COLUMNS} FROM bills WHERE control_number = ANY($1)").into();
        Self(Batcher::spawn(
            Self::MAX_BATCH,
            Self::IN_FLIGHT,
            move |numbers: Vec<String>| {
                let (pool, sql) = (pool.clone(), sql.clone());
                async move {
                    let rows: Vec<BillRow> = sqlx::query_as(&sql)
                        .bind(&numbers)
                        .fetch_all(&pool)
                        .await
                        .context("Failed to read bills")?;
                    let by_number: HashMap<&str, &BillRow> = rows
                        .iter()
                        .map(|r| (r.control_number.as_str(), r))
                        .collect();
                    Ok(numbers
                        .iter()
                        .map(|n| by_number.get(n.as_str()).map(|r| (*r).clone()))
                        .collect())
                }
            },
        ))
    }

    /// The bill with this control number, if there is one.
    pub async fn find(&self, control_number: &str) -> anyhow::Result<Option<Bill>> {
        self.0
            .call(control_number.to_owned())
            .await?
            .map(Bill::try_from)
            .transpose()
    }
}

/// Reads and locks the bill row until the transaction ends: concurrent collects on one bill
/// queue here, so they can never overpay it.
#[tracing::instrument(skip_all)]
pub async fn lock(tx: &mut PgConnection, control_number: &str) -> anyhow::Result<Option<Bill>> {
    let sql = format!("SELECT {COLUMNS} FROM bills WHERE control_number = $1 FOR UPDATE");
    let row: Option<BillRow> = sqlx::query_as(&sql)
        .bind(control_number)
        .fetch_optional(&mut *tx)
        .await
        .context("Failed to lock bill")?;
    row.map(Bill::try_from).transpose()
}

/// The collect's first statement: locks the bill row (`FOR UPDATE`) and, in the same round
/// trip, looks for an earlier collection of the same receipt (`repeat_of`). `None` when there
/// is no such bill (the caller then looks for the receipt on its own). The receipt lookup sees
/// the statement's snapshot: a concurrent collect of the same receipt that commits while this
/// waits for the lock is caught by the insert's conflict handling instead.
#[tracing::instrument(skip_all)]
pub async fn lock_for_collect(
    tx: &mut PgConnection,
    control_number: &str,
    pay_channel: i32,
    receipt_number: &str,
) -> anyhow::Result<Option<(Bill, Option<uuid::Uuid>)>> {
    #[derive(sqlx::FromRow)]
    struct Locked {
        #[sqlx(flatten)]
        bill: BillRow,
        repeat_of: Option<uuid::Uuid>,
    }
    let sql = format!(
        "SELECT {COLUMNS}, (SELECT id FROM collections WHERE pay_channel = $2 AND receipt_number = $3) \
             AS repeat_of \
         FROM bills WHERE control_number = $1 FOR UPDATE"
    );
    let row: Option<Locked> = sqlx::query_as(&sql)
        .bind(control_number)
        .bind(pay_channel)
        .bind(receipt_number)
        .fetch_optional(&mut *tx)
        .await
        .context("Failed to lock bill")?;
    row.map(|r| Ok((Bill::try_from(r.bill)?, r.repeat_of)))
        .transpose()
}

/// The first statement of a group of collects (`payments::grouped`): locks the bills of all
/// of them (`FOR UPDATE`) in control-number order, so that two groups sharing bills queue
/// rather than deadlock. Bills that do not exist are simply missing from the answer. Run on a
/// connection that plans each execution for its argument (`payments::grouped`).
#[tracing::instrument(skip_all)]
pub async fn lock_many(
    tx: &mut PgConnection,
    control_numbers: &[&str],
) -> anyhow::Result<Vec<Bill>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bills WHERE control_number = ANY($1) ORDER BY control_number FOR UPDATE"
    );
    let rows: Vec<BillRow> = sqlx::query_as(&sql)
        .bind(control_numbers)
        .fetch_all(&mut *tx)
        .await
        .context("Failed to lock bills")?;
    rows.into_iter().map(Bill::try_from).collect()
}

/// What the core loan system registers.
#[derive(Debug, Clone)]
pub struct BillRegistration {
    pub control_number: String,
    pub loan_ref: String,
    pub amount_due: Decimal,
    pub allow_partial: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub payer: PayerName,
    pub payer_address: String,
    pub payer_phone: String,
}

/// Inserts the bill, or updates an open one. `outstanding` is what is due less what has been
/// collected; the caller has checked that this is not negative.
pub async fn upsert(
    tx: &mut PgConnection,
    b: &BillRegistration,
    outstanding: Decimal,
    status: BillStatus,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO bills (control_number, loan_ref, amount_due, outstanding, allow_partial, \
             status, expires_at, payer_last_name, payer_first_name, payer_middle_name, \
             payer_suffix, payer_address, payer_phone) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (control_number) DO UPDATE SET loan_ref = EXCLUDED.loan_ref, \
             amount_due = EXCLUDED.amount_due, outstanding = EXCLUDED.outstanding, \
             allow_partial = EXCLUDED.allow_partial, status = EXCLUDED.status, \
             expires_at = EXCLUDED.expires_at, payer_last_name = EXCLUDED.payer_last_name, \
             payer_first_name = EXCLUDED.payer_first_name, \
             payer_middle_name = EXCLUDED.payer_middle_name, payer_suffix = EXCLUDED.payer_suffix, \
             payer_address = EXCLUDED.payer_address, payer_phone = EXCLUDED.payer_phone, \
             updated_at = now()",
    )
    .bind(&b.control_number)
    .bind(&b.loan_ref)
    .bind(b.amount_due)
    .bind(outstanding)
    .bind(b.allow_partial)
    .bind(status.as_str())
    .bind(b.expires_at)
    .bind(&b.payer.last)
    .bind(&b.payer.first)
    .bind(&b.payer.middle)
    .bind(&b.payer.suffix)
    .bind(&b.payer_address)
    .bind(&b.payer_phone)
    .execute(&mut *tx)
    .await
    .context("Failed to save bill")?;
    Ok(())
}

/// Cancels an open bill; `false` when there was no open bill to cancel.
pub async fn cancel(tx: &mut PgConnection, control_number: &str) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE bills SET status = 'cancelled', cancelled_at = now(), updated_at = now() \
         WHERE control_number = $1 AND status = 'open'",
    )
    .bind(control_number)
    .execute(&mut *tx)
    .await
    .context("Failed to cancel bill")?;
    Ok(done.rows_affected() == 1)
}
