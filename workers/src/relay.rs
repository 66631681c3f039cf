//! The outbox relay: claims unpublished rows in batches (`FOR UPDATE SKIP LOCKED`, so several
//! relays share the work), publishes them as persistent messages with many publisher confirms
//! in flight, and marks them published only after the broker's ack, in the same transaction
//! that claimed them. It wakes on `NOTIFY collector_outbox` (sent after the writes commit, see
//! `outbox::Signal`), polls as a fallback, and purges published rows after a retention period
//! in small batches.
//!
//! A crash between publish and mark leaves the rows unpublished: they are published again,
//! and the worker's status check and the core's idempotency key make that harmless.

use std::time::{Duration, Instant};

use crate::broker::{confirm_channel, is_stuck};
use crate::consumer::{ATTEMPT_HEADER, DISPATCH_HEADER, OUTBOX_HEADER};
use crate::publish::publish_confirmed;
use crate::topology::{Topology, POSTING_KEY};
use anyhow::Context;
use futures::future::join_all;
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The channel `NOTIFY` uses (`outbox::notify`, `outbox::Signal`).
pub const NOTIFY_CHANNEL: &str = "collector_outbox";

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub batch_size: i64,
    /// Batches in flight at once.
    pub parallel_batches: usize,
    /// How long to sleep between polls when no NOTIFY arrives.
    pub poll_interval: Duration,
    /// Published rows older than this are deleted.
    pub retention: Duration,
    pub purge_batch: i64,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            parallel_batches: 3,
            poll_interval: Duration::from_secs(1),
            retention: Duration::from_secs(7 * 24 * 3600),
            purge_batch: 1000,
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    collection_id: Uuid,
    /// The event's JSON as Postgres stores it: published as is, never parsed here.
    payload: String,
    /// The collection's message generation and the attempt the message starts at (0, or a
    /// rescued retry's place in the schedule).
    dispatch: i32,
    attempt: i32,
}

/// Claims one batch, publishes it, marks what the broker confirmed. Returns how many rows
/// were marked published. Public so that tests drive the relay step by step.
pub async fn relay_batch(
    pool: &PgPool,
    channel: &Channel,
    topology: &Topology,
    batch_size: i64,
) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await.context("Failed to begin transaction")?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, collection_id, payload::text AS payload, dispatch, attempt FROM outbox \
         WHERE published_at IS NULL \
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(batch_size)
    .fetch_all(&mut *tx)
    .await
    .context("Failed to claim outbox rows")?;
    if rows.is_empty() {
        return Ok(0);
    }
    let exchange = topology.exchange();
    let publishes = rows.iter().map(|row| {
        let exchange = exchange.as_str();
        async move {
            let body = row.payload.as_bytes();
            let mut headers = FieldTable::default();
            headers.insert(
                ATTEMPT_HEADER.into(),
                AMQPValue::LongLongInt(row.attempt.into()),
            );
            headers.insert(
                DISPATCH_HEADER.into(),
                AMQPValue::LongLongInt(row.dispatch.into()),
            );
            headers.insert(OUTBOX_HEADER.into(), AMQPValue::LongLongInt(row.id));
            let properties = BasicProperties::default()
                .with_delivery_mode(2)
                .with_content_type("application/json".into())
                .with_message_id(row.collection_id.to_string().into())
                .with_headers(headers);
            publish_confirmed(channel, exchange, POSTING_KEY, body, properties)
                .await
                .map(|()| row.id)
        }
    });
    let results: Vec<anyhow::Result<i64>> = join_all(publishes).await;
    let mut confirmed = Vec::with_capacity(rows.len());
    let mut first_error = None;
    for result in results {
        match result {
            Ok(id) => confirmed.push(id),
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    let confirmed_set: std::collections::HashSet<i64> = confirmed.iter().copied().collect();
    let collection_ids: Vec<Uuid> = rows
        .iter()
        .filter(|r| confirmed_set.contains(&r.id))
        .map(|r| r.collection_id)
        .collect();
    // One statement marks the outbox rows and their collections (the mark never moves a
    // collection's status back, but always records the publication: the worker may have taken
    // the message, and even posted or dead-lettered it, before this mark). `published_at` is
    // this transaction's start, before the publish, so the history keeps its order. A row
    // already marked published is a replay: that publication is an event of its own. (After a
    // lost mark, `published_at` is still empty, so the next mark is the first.) A message
    // just published is due at a worker from now (`next_due_at`, which the sweeper watches),
    // unless a worker already scheduled its retry.
    sqlx::query(
        "WITH marked AS (UPDATE outbox SET published_at = now(), updated_at = now() WHERE id = ANY($1)), \
         locked AS (SELECT id, status, published_at FROM collections WHERE id = ANY($2) \
             ORDER BY id FOR UPDATE), \
         updated AS ( \
             UPDATE collections c SET \
                 status = CASE WHEN l.status IN ('recorded', 'replayed') THEN 'published' ELSE c.status END, \
                 published_at = COALESCE(c.published_at, now()), \
                 next_due_at = CASE WHEN l.status IN ('recorded', 'replayed', 'published') \
                     THEN statement_timestamp() ELSE c.next_due_at END, \
                 updated_at = now() \
             FROM locked l WHERE c.id = l.id RETURNING c.id, l.published_at AS before) \
         INSERT INTO collection_events (collection_id, event) \
         SELECT id, 'published' FROM updated WHERE before IS NOT NULL",
    )
    .persistent(false) // planned for the table as it is: see `crate::batch`
    .bind(&confirmed)
    .bind(&collection_ids)
    .execute(&mut *tx)
    .await
    .context("Failed to mark rows and collections published")?;
    tx.commit()
        .await
        .context("Failed to commit published rows")?;
    metrics::counter!("collector_relay_published_total").increment(confirmed.len() as u64);
    match first_error {
        // What was confirmed is marked; the rest stays for the next batch.
        Some(e) => Err(e.context(format!(
            "{} of {} rows not confirmed",
            rows.len() - confirmed.len(),
            rows.len()
        ))),
        None => Ok(confirmed.len()),
    }
}

/// Deletes the published rows older than `retention`, `batch` rows per statement (short
/// transactions beside the relay's own) until none is left or `PURGE_MAX_BATCHES` statements
/// have run; how many. (One batch a minute was the whole purge once: at 300 collects/s the
/// outbox grew by 17,000 rows a minute, which the soak showed.) The bound keeps a first purge
/// of a large old backlog from holding up publishing: the relay purges between drains.
pub async fn purge_published(
    pool: &PgPool,
    retention: Duration,
    batch: i64,
) -> anyhow::Result<u64> {
    let mut purged = 0;
    for _ in 0..PURGE_MAX_BATCHES {
        let done = sqlx::query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at < now() - $1::interval \
             ORDER BY published_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(format!("{} seconds", retention.as_secs()))
        .bind(batch)
        .execute(pool)
        .await
        .context("Failed to purge published outbox rows")?
        .rows_affected();
        purged += done;
        if done < batch.max(1) as u64 {
            break;
        }
    }
    Ok(purged)
}

/// Statements per purge: 50 × 1,000 rows every `PURGE_EVERY` (30 s) keeps up with ~1,600
/// collects/s.
const PURGE_MAX_BATCHES: usize = 50;

/// How often the relay purges the outbox.
const PURGE_EVERY: Duration = Duration::from_secs(30);

/// Runs until `cancel` fires, reconnecting to RabbitMQ and Postgres by itself.
pub async fn run(
    pool: PgPool,
    amqp_url: String,
    topology: Topology,
    config: RelayConfig,
    cancel: CancellationToken,
) {
    let mut broker = crate::broker::Reconnecting::new(&amqp_url, &cancel, "relay");
    while let Some(connection) = broker.next().await {
        let worked = relay_on(&pool, &connection, &topology, &config, &cancel).await;
        broker.end(connection, worked).await;
    }
}

async fn relay_on(
    pool: &PgPool,
    connection: &lapin::Connection,
    topology: &Topology,
    config: &RelayConfig,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let channel = confirm_channel(connection).await?;
    topology.declare(&channel).await?;
    let mut listener = listen(pool).await;
    let mut last_purge = Instant::now() - Duration::from_secs(3600);
    tracing::info!(exchange = %topology.exchange(), "relay running");
    while !cancel.is_cancelled() {
        if last_purge.elapsed() > PURGE_EVERY {
            last_purge = Instant::now();
            match purge_published(pool, config.retention, config.purge_batch).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "purged published outbox rows"),
                Err(e) => tracing::warn!(error = %format_args!("{e:#}"), "outbox purge failed"),
            }
        }
        if let Err(e) = drain(pool, &channel, topology, config).await {
            if !channel.status().connected() {
                return Err(e.context("RabbitMQ channel closed"));
            }
            if is_stuck(&e) {
                // What was confirmed is marked; the rest stays unpublished and goes out on the next
                // connection.
                return Err(e);
            }
            tracing::warn!(error = %format_args!("{e:#}"), "relay batch failed; retrying");
        }
        wait_for_work(&mut listener, pool, config.poll_interval, cancel).await;
    }
    let _ = channel.close(200, "relay stopping").await;
    Ok(())
}

/// Publishes until the backlog is empty. One batch first: under a steady load a wake-up finds
/// a few rows, and parallel claims would mostly find none (three transactions for one batch's
/// work). A full first batch means a backlog: then `parallel_batches` batches are in flight at
/// once, `SKIP LOCKED` keeping them disjoint, one batch's database work overlapping another's
/// publishing and confirms.
async fn drain(
    pool: &PgPool,
    channel: &Channel,
    topology: &Topology,
    config: &RelayConfig,
) -> anyhow::Result<()> {
    let first = relay_batch(pool, channel, topology, config.batch_size).await?;
    if (first as i64) < config.batch_size {
        return Ok(());
    }
    let loops = (0..config.parallel_batches.max(1)).map(|_| async {
        loop {
            let n = relay_batch(pool, channel, topology, config.batch_size).await?;
            if (n as i64) < config.batch_size {
                return anyhow::Ok(());
            }
        }
    });
    join_all(loops)
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<()>>>()?;
    Ok(())
}

async fn listen(pool: &PgPool) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.ok()?;
    listener.listen(NOTIFY_CHANNEL).await.ok()?;
    Some(listener)
}

/// Returns on a NOTIFY, after `poll` at most, or on cancel. `PgListener` re-establishes a
/// lost connection on its next call; until then this is plain polling.
async fn wait_for_work(
    listener: &mut Option<PgListener>,
    pool: &PgPool,
    poll: Duration,
    cancel: &CancellationToken,
) {
    if listener.is_none() {
        *listener = listen(pool).await;
    }
    let notified = async {
        match listener.as_mut() {
            Some(l) => {
                if l.try_recv().await.is_err() {
                    tokio::time::sleep(poll).await;
                }
                // Every notification that has arrived meanwhile goes too: the next drain covers
                // them all. Taking one per drain left them piling up under a steady load, until
                // Postgres's backend blocked writing to this connection, which grows the
                // server's NOTIFY queue and stalls every DROP DATABASE on the server (the soak
                // found it: 27 minutes at 300 collects/s).
                while let Ok(Ok(Some(_))) = tokio::time::timeout(Duration::ZERO, l.try_recv()).await
                {
                }
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = cancel.cancelled() => {}
        _ = tokio::time::sleep(poll) => {}
        _ = notified => {}
    }
}
