//! The transactional outbox's writes: the event's payload, written in the same transaction as
//! the collection it announces (published to RabbitMQ afterwards by `relay`), and the re-sends
//! from the database (the sweeper's rescues, ops' replays).

use crate::message::{PaymentEvent, MANILA};
use anyhow::Context;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// The outbox row's payload for `event`: the message body the relay publishes as stored.
/// The collect writes it in its own transaction (`collections::record` in the API crate),
/// beside the collection it announces.
pub fn payload(event: &PaymentEvent) -> anyhow::Result<serde_json::Value> {
    serde_json::to_value(event).context("Failed to serialise payment event")
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
    .persistent(false) // planned for the table as it is: see `crate::batch`
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
        let payload = payload(&event)?;
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
    if !rows.is_empty() {
        notify(&mut *tx).await?;
    }
    Ok(rows.len())
}

/// Wakes every relay listening on `NOTIFY collector_outbox` (see `relay`), in a statement of
/// its own. A notification sent inside a writing transaction would cost that transaction a
/// server-wide lock held through its commit's flush to disk (Postgres serialises the commits
/// of notifying transactions), so the collect does not notify: it tells a [`Signal`] after
/// its commit. Rare writers (re-sends, adoptions) call this in their own transaction or after.
pub async fn notify(db: impl sqlx::PgExecutor<'_>) -> anyhow::Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(crate::relay::NOTIFY_CHANNEL)
        .execute(db)
        .await
        .context("Failed to notify the relays")?;
    Ok(())
}

/// Tells the relays that outbox rows were committed, off the writer's path: `written` returns
/// at once, and one task sends the `NOTIFY`, at most one per [`Signal::GAP`], folding the
/// writes made meanwhile into it (a relay drains everything unpublished when woken). The task
/// ends when the last clone of its `Signal` is dropped. A lost notification costs nothing but
/// time: relays poll too.
#[derive(Clone)]
pub struct Signal(tokio::sync::mpsc::Sender<()>);

impl Signal {
    /// Shortest time between two notifications.
    pub const GAP: std::time::Duration = std::time::Duration::from_millis(5);

    pub fn spawn(pool: sqlx::PgPool) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                if let Err(e) = notify(&pool).await {
                    tracing::debug!(error = %format_args!("{e:#}"), "outbox notification not sent; the relays will poll");
                }
                tokio::time::sleep(Self::GAP).await;
            }
        });
        Self(tx)
    }

    /// Outbox rows were committed just now.
    pub fn written(&self) {
        // Full: a notification is already due, and it covers this write too.
        let _ = self.0.try_send(());
    }
}
