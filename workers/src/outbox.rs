//! The transactional outbox's writes: the event written in the same transaction as the
//! collection it announces (published to RabbitMQ afterwards by `relay`), and the re-sends
//! from the database (the sweeper's rescues, ops' replays).

use crate::message::{PaymentEvent, MANILA};
use anyhow::Context;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// Writes the event in the caller's transaction. A trigger raises `NOTIFY collector_outbox`,
/// delivered when (and only if) the transaction commits.
#[tracing::instrument(skip_all)]
pub async fn insert_event(tx: &mut PgConnection, event: &PaymentEvent) -> anyhow::Result<i64> {
    let payload = serde_json::to_value(event).context("Failed to serialise payment event")?;
    sqlx::query_scalar("INSERT INTO outbox (collection_id, payload) VALUES ($1, $2) RETURNING id")
        .bind(event.collection_id)
        .bind(payload)
        .fetch_one(&mut *tx)
        .await
        .context("Failed to insert outbox row")
}

/// Re-sends collections from the database (a sweeper's rescue, an ops replay): one outbox row
/// each, built from the collection row, carrying its current message generation (`dispatch`,
/// which the caller has just bumped) and the attempt its message resumes at. In the caller's
/// transaction, after the caller has locked and updated the rows. Returns how many it queued.
pub async fn enqueue_again(tx: &mut PgConnection, ids: &[Uuid]) -> anyhow::Result<usize> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        receipt_number: String,
        control_number: String,
        loan_ref: String,
        amount: Decimal,
        collected_at: DateTime<Utc>,
        pay_channel: i32,
        phone: String,
        dispatch: i32,
        next_attempt: i32,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, receipt_number, control_number, loan_ref, amount, collected_at, pay_channel, \
             phone, dispatch, next_attempt FROM collections WHERE id = ANY($1) ORDER BY id",
    )
    .bind(ids)
    .fetch_all(&mut *tx)
    .await
    .context("Failed to read collections to re-send")?;
    for row in &rows {
        let event = PaymentEvent {
            collection_id: row.id,
            receipt_number: row.receipt_number.clone(),
            control_number: row.control_number.clone(),
            loan_ref: row.loan_ref.clone(),
            amount: row.amount,
            collected_at: row.collected_at.with_timezone(&MANILA),
            pay_channel: row.pay_channel,
            payer_phone: row.phone.clone(),
        };
        let payload = serde_json::to_value(&event).context("Failed to serialise payment event")?;
        sqlx::query(
            "INSERT INTO outbox (collection_id, payload, dispatch, attempt) VALUES ($1, $2, $3, $4)",
        )
        .bind(row.id)
        .bind(payload)
        .bind(row.dispatch)
        .bind(row.next_attempt)
        .execute(&mut *tx)
        .await
        .context("Failed to insert outbox row")?;
    }
    Ok(rows.len())
}
