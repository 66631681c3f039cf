//! The posting worker: consumes the posting queue, posts each collection to the core loan
//! system, records the outcome in Postgres, and only then acknowledges the message.
//!
//! A message whose collection is already posted (or discarded) is acknowledged without
//! posting; the core loan system's `Idempotency-Key` (the collection id) covers the window in
//! which two deliveries of one message race. Retries go through the delay queues with our own
//! attempt counter in the `x-attempt` header.

use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Channel, Connection};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::broker::{backoff, confirm_channel, is_stuck, start_consuming, Stuck};
use crate::core_client::CoreClient;
use crate::message::PaymentEvent;
use crate::publish::publish_confirmed;
use crate::retry::{self, Decision};
use crate::store;
use crate::topology::{header_int, Topology, DEAD_KEY};

/// Our attempt counter (RabbitMQ 3.13+ ignores client-set `x-death` counts).
pub const ATTEMPT_HEADER: &str = "x-attempt";
pub const REASON_HEADER: &str = "x-reason";
/// The generation of the collection's message (`collections.dispatch`): a re-send from the
/// database (sweeper, replay) bumps it, and a worker drops a message of an older generation.
pub const DISPATCH_HEADER: &str = "x-dispatch";
/// The outbox row a message was published from.
pub const OUTBOX_HEADER: &str = "x-outbox-id";

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Handled {
    Posted,
    /// 409 from the core: already posted under this key (flagged `core_duplicate`).
    Duplicate,
    Retried,
    DeadLettered,
    /// Already posted or discarded: acknowledged without posting.
    Skipped,
    /// A later re-send of the same collection is on its way: acknowledged without posting.
    Superseded,
}

impl Handled {
    pub fn as_str(self) -> &'static str {
        match self {
            Handled::Posted => "posted",
            Handled::Duplicate => "duplicate",
            Handled::Retried => "retried",
            Handled::DeadLettered => "dead_lettered",
            Handled::Skipped => "skipped",
            Handled::Superseded => "superseded",
        }
    }
}

pub struct Worker {
    pool: PgPool,
    posted: store::PostedRecorder,
    statuses: store::StatusReader,
    core: CoreClient,
    topology: Topology,
}

impl Worker {
    pub fn new(pool: PgPool, core: CoreClient, topology: Topology) -> Self {
        Self {
            posted: store::PostedRecorder::spawn(pool.clone(), 256),
            statuses: store::StatusReader::spawn(pool.clone(), 256),
            pool,
            core,
            topology,
        }
    }

    /// Consumes until `cancel` fires, reconnecting to RabbitMQ by itself. On cancel it stops
    /// taking deliveries, finishes the ones in hand, and closes the channel, which returns
    /// any prefetched but unstarted messages to the queue.
    pub async fn run(self: Arc<Self>, amqp_url: String, prefetch: u16, cancel: CancellationToken) {
        let mut broker = crate::broker::Reconnecting::new(&amqp_url, &cancel, "worker");
        while let Some(connection) = broker.next().await {
            let worked = self.consume(&connection, prefetch, &cancel).await;
            broker.end(connection, worked).await;
        }
    }

    async fn consume(
        &self,
        connection: &Connection,
        prefetch: u16,
        cancel: &CancellationToken,
    ) -> anyhow::Result<()> {
        let channel = confirm_channel(connection).await?;
        self.topology.declare(&channel).await?;
        let consumer =
            start_consuming(&channel, &self.topology.posting_queue(), "", prefetch).await?;
        tracing::info!(queue = %self.topology.posting_queue(), prefetch, "worker consuming");
        // Fired by a delivery whose publish (a retry, a dead letter) got no confirm in time:
        // this connection is stuck, and the next one takes over (the broker requeues what
        // this one held once it is closed).
        let stuck = CancellationToken::new();
        consumer
            .take_until(cancel.clone().cancelled_owned())
            .take_until(stuck.clone().cancelled_owned())
            .take_while(|delivery| {
                if let Err(e) = delivery {
                    tracing::warn!(error = %e, "consumer stream failed");
                }
                futures::future::ready(delivery.is_ok())
            })
            .filter_map(|delivery| futures::future::ready(delivery.ok()))
            .for_each_concurrent(usize::from(prefetch.max(1)), |delivery| {
                self.process(&channel, delivery, cancel, &stuck)
            })
            .await;
        if stuck.is_cancelled() {
            anyhow::bail!(Stuck::new("publish confirm"));
        }
        let _ = channel.close(200, "worker stopping").await;
        Ok(())
    }

    async fn process(
        &self,
        channel: &Channel,
        delivery: Delivery,
        cancel: &CancellationToken,
        stuck: &CancellationToken,
    ) {
        let headers = delivery.properties.headers().clone().unwrap_or_default();
        match self.handle(channel, &delivery.data, &headers, cancel).await {
            Ok(outcome) => {
                metrics::counter!("collector_worker_outcomes_total", "outcome" => outcome.as_str())
                    .increment(1);
                if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
                    tracing::warn!(error = %e, "ack failed; the message will be redelivered");
                }
            }
            Err(e) if is_stuck(&e) => {
                // A nack would wait behind the same stuck connection: closing it returns the
                // delivery to the queue.
                tracing::warn!(error = %format_args!("{e:#}"), "delivery not handled; replacing the connection");
                stuck.cancel();
            }
            Err(e) => {
                tracing::warn!(error = %format_args!("{e:#}"), "delivery not handled; returning it to the queue");
                let _ = delivery
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await;
            }
        }
    }

    /// One delivery, start to finish except the ack. Public so that tests can drive a worker
    /// step by step.
    pub async fn handle(
        &self,
        channel: &Channel,
        data: &[u8],
        headers: &FieldTable,
        cancel: &CancellationToken,
    ) -> anyhow::Result<Handled> {
        let event: PaymentEvent = match serde_json::from_slice(data) {
            Ok(event) => event,
            Err(e) => {
                self.publish(
                    channel,
                    DEAD_KEY,
                    data,
                    headers,
                    None,
                    &format!("unreadable message: {e}"),
                )
                .await?;
                return Ok(Handled::DeadLettered);
            }
        };
        let id = event.collection_id;
        let current = self.with_db(cancel, || self.statuses.current(id)).await?;
        match current.as_ref().map(|c| c.status) {
            None => {
                self.publish(
                    channel,
                    DEAD_KEY,
                    data,
                    headers,
                    None,
                    "no such collection in the database",
                )
                .await?;
                return Ok(Handled::DeadLettered);
            }
            // Posted, discarded, or waiting for a person as a dead letter.
            Some(status) if !status.is_pending() => return Ok(Handled::Skipped),
            Some(_) => {}
        }
        if current
            .as_ref()
            .is_some_and(|c| c.supersedes(header_int(headers, DISPATCH_HEADER)))
        {
            tracing::info!(collection = %id, "message superseded by a later re-send; dropped");
            return Ok(Handled::Superseded);
        }
        let attempt = header_int(headers, ATTEMPT_HEADER).unwrap_or(0).max(0) as usize;
        let outcome = self.core.post(&event).await;
        match retry::decide(attempt, outcome, &self.topology.retry_delays) {
            Decision::Ack {
                reference,
                duplicate: false,
            } => {
                self.with_db(cancel, || self.posted.record(id, reference.clone()))
                    .await?;
                tracing::info!(collection = %id, attempt, "posted");
                Ok(Handled::Posted)
            }
            Decision::Ack {
                duplicate: true, ..
            } => {
                self.with_db(cancel, || store::mark_posted(&self.pool, id, None, true))
                    .await?;
                tracing::warn!(collection = %id, "core loan system already had this payment (409)");
                Ok(Handled::Duplicate)
            }
            Decision::Retry {
                tier,
                delay,
                reason,
            } => {
                let next = tier as i32 + 1;
                self.with_db(cancel, || {
                    store::mark_retrying(&self.pool, id, &reason, delay, next)
                })
                .await?;
                let key = Topology::retry_key(tier);
                self.publish(channel, &key, data, headers, Some(i64::from(next)), &reason)
                    .await?;
                tracing::info!(collection = %id, attempt, tier, %reason, "retry scheduled");
                Ok(Handled::Retried)
            }
            Decision::DeadLetter { reason } => {
                self.dead_letter(channel, data, headers, id, &reason, cancel)
                    .await
            }
        }
    }

    async fn dead_letter(
        &self,
        channel: &Channel,
        data: &[u8],
        headers: &FieldTable,
        id: uuid::Uuid,
        reason: &str,
        cancel: &CancellationToken,
    ) -> anyhow::Result<Handled> {
        self.with_db(cancel, || {
            store::mark_dead_lettered(&self.pool, id, reason, true)
        })
        .await?;
        self.publish(channel, DEAD_KEY, data, headers, None, reason)
            .await?;
        tracing::warn!(collection = %id, %reason, "dead-lettered");
        Ok(Handled::DeadLettered)
    }

    /// Publishes `data` under `key` and waits for the broker's confirm.
    async fn publish(
        &self,
        channel: &Channel,
        key: &str,
        data: &[u8],
        headers: &FieldTable,
        attempt: Option<i64>,
        reason: &str,
    ) -> anyhow::Result<()> {
        let mut headers = headers.clone();
        if let Some(attempt) = attempt {
            headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongLongInt(attempt));
        }
        let reason: String = reason.chars().take(1000).collect();
        headers.insert(
            REASON_HEADER.into(),
            AMQPValue::LongString(LongString::from(reason)),
        );
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_headers(headers);
        publish_confirmed(channel, &self.topology.exchange(), key, data, properties).await
    }

    /// Retries a database call with backoff until it succeeds, so that a Postgres outage
    /// holds the delivery instead of dead-lettering it. Gives up only when stopping.
    async fn with_db<T, F, Fut>(&self, cancel: &CancellationToken, mut call: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        let mut attempt = 0;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(e) if cancel.is_cancelled() => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %format_args!("{e:#}"), "database call failed; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }
}
