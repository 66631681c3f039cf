//! Dead letters are always in the database. The posting queue dead-letters a message by
//! itself when it hits the delivery limit (a worker crashed or timed out on it every time);
//! it goes to `{p}.v2.adopt`, and this consumer, in the relay process, records it in the
//! database (status `dead_lettered`, the broker's reason, attempts kept) and only then passes
//! it on to `{p}.dead` and acknowledges it. So `dlq list`, the metrics and the admin API show
//! it without anyone running a command.
//!
//! A message of a collection already posted or discarded, or superseded by a re-send, is
//! dropped (nothing is dead). An unreadable message, or one of no known collection, is passed
//! on to `{p}.dead` as it is, for a person.

use crate::broker::{backoff, confirm_channel, is_stuck, start_consuming};
use crate::collection::CollectionStatus;
use crate::consumer::DISPATCH_HEADER;
use crate::message::PaymentEvent;
use crate::publish::publish_confirmed;
use crate::topology::{header_int, header_str, Topology, DEAD_KEY, DELIVERY_LIMIT};
use anyhow::Context;
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// What became of one adopted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adopted {
    /// Recorded as dead-lettered (or already was) and passed on to the dead-letter queue.
    Recorded,
    /// Its collection is final or has a newer message: dropped.
    Dropped,
    /// Unreadable or of no known collection: passed on as it is.
    ForAPerson,
}

/// The database's side of one message: records it and says what to do with it.
pub async fn record(pool: &PgPool, data: &[u8], headers: &FieldTable) -> anyhow::Result<Adopted> {
    let Ok(event) = serde_json::from_slice::<PaymentEvent>(data) else {
        return Ok(Adopted::ForAPerson);
    };
    let id: Uuid = event.collection_id;
    let current: Option<(CollectionStatus, i32)> =
        sqlx::query_as("SELECT status, dispatch FROM collections WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .context("Failed to read the collection")?;
    let Some((status, dispatch)) = current else {
        return Ok(Adopted::ForAPerson);
    };
    let current = crate::store::Current { status, dispatch };
    if current.supersedes(header_int(headers, DISPATCH_HEADER))
        || matches!(
            current.status,
            CollectionStatus::Posted | CollectionStatus::Discarded
        )
    {
        return Ok(Adopted::Dropped);
    }
    let why = header_str(headers, "x-first-death-reason").unwrap_or_else(|| "unknown".into());
    let reason = format!(
        "dead-lettered by the broker ({why}): delivered {DELIVERY_LIMIT} times without an outcome \
         (a worker crashed or timed out on it each time)"
    );
    if crate::store::mark_dead_lettered(pool, id, &reason, false).await? {
        metrics::counter!("collector_dead_letters_adopted_total").increment(1);
        tracing::warn!(collection = %id, %why, "broker's dead letter recorded in the database");
    }
    Ok(Adopted::Recorded)
}

async fn handle(
    pool: &PgPool,
    channel: &Channel,
    topology: &Topology,
    delivery: &Delivery,
) -> anyhow::Result<Adopted> {
    let headers = delivery.properties.headers().clone().unwrap_or_default();
    let adopted = record(pool, &delivery.data, &headers).await?;
    if adopted != Adopted::Dropped {
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_headers(headers);
        publish_confirmed(
            channel,
            &topology.exchange(),
            DEAD_KEY,
            &delivery.data,
            properties,
        )
        .await?;
    }
    Ok(adopted)
}

async fn consume(
    pool: &PgPool,
    connection: &Connection,
    topology: &Topology,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let channel = confirm_channel(connection).await?;
    topology.declare(&channel).await?;
    let mut consumer = start_consuming(&channel, &topology.adopt_queue(), "adopter", 16).await?;
    loop {
        let delivery = tokio::select! {
            _ = cancel.cancelled() => break,
            next = consumer.next() => match next {
                Some(delivery) => delivery.context("adopt consumer failed")?,
                None => anyhow::bail!("adopt consumer cancelled by the broker"),
            },
        };
        match handle(pool, &channel, topology, &delivery).await {
            Ok(_) => delivery.ack(BasicAckOptions::default()).await?,
            // Closing the stuck connection returns the message to its queue.
            Err(e) if is_stuck(&e) => return Err(e),
            Err(e) => {
                tracing::warn!(error = %format_args!("{e:#}"), "dead letter not adopted yet; returning it to its queue");
                delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await?;
                tokio::time::sleep(backoff(3)).await;
            }
        }
    }
    let _ = channel.close(200, "adopter stopping").await;
    Ok(())
}

/// Consumes `{p}.v2.adopt` until `cancel` fires, reconnecting by itself.
pub async fn run(pool: PgPool, amqp_url: String, topology: Topology, cancel: CancellationToken) {
    let mut broker = crate::broker::Reconnecting::new(&amqp_url, &cancel, "adopter");
    while let Some(connection) = broker.next().await {
        let worked = consume(&pool, &connection, &topology, &cancel).await;
        broker.end(connection, worked).await;
    }
}
