//! The sweeper: the database is the truth, and this acts on it. Every collection that is not
//! final has a next step with a due time (`collections.next_due_at`): a published message is
//! due at a worker when it was published, a retry when its tier expires. A collection still
//! waiting a grace period after that, with no unpublished outbox row, lost its message
//! somewhere in RabbitMQ (a purge, a node's disk, a restart): the sweeper re-sends it through
//! the outbox, with a new message generation so that the worker drops any older copy that
//! turns up, an event in its history and a line in the audit log.
//!
//! Re-sending is safe: the worker checks the status before posting and the core loan system
//! dedupes by `Idempotency-Key`. Several sweepers share the work through `FOR UPDATE SKIP
//! LOCKED`, and a rescue moves the collection's due time, so none is rescued twice for one
//! loss. Nothing is rescued while the posting queue has no consumer or holds ready messages
//! (workers down or behind: an overdue payment may be waiting there, and re-sending it would
//! only add to the backlog).

use std::time::Duration;

use crate::topology::Topology;
use anyhow::Context;
use serde_json::json;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Actor of the sweeper's events and audit lines.
pub const ACTOR: &str = "sweeper";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweeperConfig {
    /// Time between sweeps.
    pub interval: Duration,
    /// How long after its publication a message may take to reach a worker and get an
    /// outcome recorded (a posting-queue backlog, a slow core) before it counts as lost.
    pub published_grace: Duration,
    /// How long after its retry tier expired a message may take to get an outcome recorded.
    pub retry_grace: Duration,
    /// Collections created (or replayed) longer ago than this are out of the sweeper's sight
    /// (it reads them through indexes on those times, never a whole-table scan).
    pub lookback: Duration,
    /// Most rescues in one sweep.
    pub batch: i64,
}

impl Default for SweeperConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            published_grace: Duration::from_secs(10 * 60),
            retry_grace: Duration::from_secs(10 * 60),
            lookback: Duration::from_secs(14 * 24 * 3600),
            batch: 500,
        }
    }
}

/// The overdue condition, on `collections c`, with `$1` the published grace, `$2` the retry
/// grace and `$3` the look-back, all in seconds.
const OVERDUE: &str = "(c.created_at > now() - make_interval(secs => $3) \
        OR c.replayed_at > now() - make_interval(secs => $3)) \
    AND c.status IN ('recorded', 'published', 'replayed', 'retrying') \
    AND COALESCE(c.next_due_at, c.created_at) < now() - make_interval(secs => \
        CASE WHEN c.status = 'retrying' THEN $2 ELSE $1 END) \
    AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.collection_id = c.id AND o.published_at IS NULL)";

/// Collections whose next step is overdue now (the `collector_collections_overdue` gauge).
pub async fn overdue(pool: &PgPool, config: &SweeperConfig) -> anyhow::Result<i64> {
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM collections c WHERE {OVERDUE}"
    ))
    .bind(config.published_grace.as_secs_f64())
    .bind(config.retry_grace.as_secs_f64())
    .bind(config.lookback.as_secs_f64())
    .fetch_one(pool)
    .await
    .context("Failed to count overdue collections")
}

/// One collection sent again.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Rescued {
    pub id: Uuid,
    pub status: String,
    /// How long past its due time it was, in whole seconds.
    pub overdue_secs: i64,
}

/// Claims up to `config.batch` overdue collections and re-sends each through the outbox, in
/// one transaction. Returns what it rescued.
pub async fn rescue(pool: &PgPool, config: &SweeperConfig) -> anyhow::Result<Vec<Rescued>> {
    let mut tx = pool.begin().await.context("Failed to begin transaction")?;
    // The claim re-checks the condition on the row as locked, so a collection another sweeper
    // has just rescued (its due time moved) is not taken again.
    let rescued: Vec<Rescued> = sqlx::query_as(&format!(
        "WITH due AS (SELECT c.id, COALESCE(c.next_due_at, c.created_at) AS due_at FROM collections c \
             WHERE {OVERDUE} ORDER BY c.id LIMIT $4 FOR UPDATE OF c SKIP LOCKED) \
         UPDATE collections c SET dispatch = c.dispatch + 1, next_due_at = now(), updated_at = now() \
         FROM due WHERE c.id = due.id \
         RETURNING c.id, c.status, extract(epoch FROM now() - due.due_at)::bigint AS overdue_secs"
    ))
    .bind(config.published_grace.as_secs_f64())
    .bind(config.retry_grace.as_secs_f64())
    .bind(config.lookback.as_secs_f64())
    .bind(config.batch)
    .fetch_all(&mut *tx)
    .await
    .context("Failed to claim overdue collections")?;
    if rescued.is_empty() {
        return Ok(rescued);
    }
    let ids: Vec<Uuid> = rescued.iter().map(|r| r.id).collect();
    crate::outbox::enqueue_again(&mut tx, &ids).await?;
    for r in &rescued {
        let detail = format!(
            "no outcome {}s after its message was due (status {}): re-sent from the database",
            r.overdue_secs, r.status
        );
        crate::store::record_event(&mut tx, r.id, "rescued", ACTOR, Some(&detail)).await?;
        crate::store::audit(
            &mut tx,
            ACTOR,
            "collection.rescue",
            &format!("collection:{}", r.id),
            Some(&detail),
            json!({ "status": r.status, "overdueSecs": r.overdue_secs }),
        )
        .await?;
    }
    tx.commit().await.context("Failed to commit the rescue")?;
    Ok(rescued)
}

/// The posting queue as the broker sees it: ready messages and consumers; `None` when the
/// broker cannot tell us.
async fn posting_queue(amqp_url: &str, topology: &Topology) -> Option<(u32, u32)> {
    let connection = tokio::time::timeout(Duration::from_secs(5), crate::broker::connect(amqp_url))
        .await
        .ok()?
        .ok()?;
    let found = crate::topology::inspect(&connection, &topology.posting_queue()).await;
    crate::broker::close(connection, "sweeper").await;
    found
}

/// One sweep: measures, then rescues when workers are there to take the messages and have
/// nothing waiting for them. Returns how many it rescued.
///
/// Messages ready in the posting queue mean the workers are behind: an overdue payment may
/// simply be waiting its turn there, and re-sending it would only add to the backlog. The
/// sweeper waits until the backlog is gone; whatever is still overdue then was lost.
pub async fn sweep(
    pool: &PgPool,
    amqp_url: &str,
    topology: &Topology,
    config: &SweeperConfig,
) -> anyhow::Result<usize> {
    let overdue = overdue(pool, config).await?;
    metrics::gauge!("collector_collections_overdue").set(overdue as f64);
    if overdue == 0 {
        return Ok(0);
    }
    let wait = match posting_queue(amqp_url, topology).await {
        Some((0, consumers)) if consumers > 0 => None,
        Some((ready, 0)) => Some(format!(
            "no worker consumes the posting queue ({ready} ready)"
        )),
        Some((ready, _)) => Some(format!("the posting queue holds a backlog ({ready} ready)")),
        None => Some("RabbitMQ cannot be asked about the posting queue".to_owned()),
    };
    if let Some(why) = wait {
        tracing::warn!(overdue, "collections overdue, not re-sending yet: {why}");
        return Ok(0);
    }
    let rescued = rescue(pool, config).await?;
    metrics::counter!("collector_sweeper_rescued_total").increment(rescued.len() as u64);
    for r in &rescued {
        tracing::warn!(collection = %r.id, status = %r.status, overdue_secs = r.overdue_secs,
            "message lost by the broker or overdue: re-sent from the database");
    }
    Ok(rescued.len())
}

/// Sweeps every `config.interval` until `cancel` fires.
pub async fn run(
    pool: PgPool,
    amqp_url: String,
    topology: Topology,
    config: SweeperConfig,
    cancel: CancellationToken,
) {
    tracing::info!(
        interval = ?config.interval,
        published_grace = ?config.published_grace,
        retry_grace = ?config.retry_grace,
        "sweeper running"
    );
    while !cancel.is_cancelled() {
        if let Err(e) = sweep(&pool, &amqp_url, &topology, &config).await {
            tracing::warn!(error = %format_args!("{e:#}"), "sweep failed; trying again next time");
        }
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = tokio::time::sleep(config.interval) => {}
        }
    }
    tracing::info!("sweeper stopped");
}
