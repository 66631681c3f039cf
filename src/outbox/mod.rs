//! The transactional outbox: events written in the same transaction as the collection they
//! announce, published to RabbitMQ afterwards by the relay.

pub mod relay;

use anyhow::Context;
use sqlx::PgConnection;
use workers::message::PaymentEvent;

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
