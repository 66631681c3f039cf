//! Dead letters as ops see them. The database is the truth: a dead letter is a collection
//! whose status is `dead_lettered`, with the reason the worker recorded. Replay and discard
//! change that truth first, then bring the `{prefix}.dead` queue in line with it.

use std::time::Duration;

use anyhow::Context;
use lapin::options::{BasicAckOptions, BasicGetOptions, BasicNackOptions};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;
use workers::message::PaymentEvent;
use workers::topology::Topology;

use super::OpsError;
use crate::db;
use crate::domain::CollectionStatus;

pub use crate::db::dead_letters::{DeadLetter, Filter};

pub async fn list(pool: &PgPool, filter: &Filter) -> anyhow::Result<Vec<DeadLetter>> {
    db::dead_letters::list(pool, filter).await
}

pub async fn show(pool: &PgPool, id: Uuid) -> Result<DeadLetter, OpsError> {
    let filter = Filter {
        ids: Some(vec![id]),
        ..Filter::default()
    };
    list(pool, &filter)
        .await?
        .pop()
        .ok_or_else(|| OpsError::NotFound(format!("no dead letter {id}")))
}

/// The status of each of `ids` that is a collection at all.
pub async fn statuses(
    pool: &PgPool,
    ids: &[Uuid],
) -> anyhow::Result<std::collections::HashMap<Uuid, CollectionStatus>> {
    let rows = db::collections::statuses(pool, ids).await?;
    Ok(rows.into_iter().collect())
}

/// What a replay or discard did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub done: Vec<Uuid>,
    /// Dead letters selected but changed by someone else meanwhile.
    pub skipped: Vec<Uuid>,
    /// Messages removed from the dead-letter queue to match the database.
    pub removed_from_queue: usize,
}

/// Sends the selected dead letters back to the posting queue, at most `per_second` a second:
/// each becomes `replayed` with a new outbox row (the relay publishes it with a fresh retry
/// schedule), an event in its history and a line in the audit log.
pub async fn replay(
    pool: &PgPool,
    filter: &Filter,
    actor: &str,
    reason: Option<&str>,
    per_second: u32,
) -> Result<Report, OpsError> {
    let letters = list(pool, filter).await?;
    let pause = Duration::from_secs_f64(1.0 / f64::from(per_second.clamp(1, 1000)));
    let mut report = Report::default();
    for (i, letter) in letters.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(pause).await;
        }
        if replay_one(pool, letter.collection_id, actor, reason).await? {
            report.done.push(letter.collection_id);
        } else {
            report.skipped.push(letter.collection_id);
        }
    }
    Ok(report)
}

async fn replay_one(
    pool: &PgPool,
    id: Uuid,
    actor: &str,
    reason: Option<&str>,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await.context("Failed to begin transaction")?;
    // A new message generation from the first attempt: a stale copy of the dead letter that
    // is still travelling (the broker's own dead letter, say) is dropped by the worker.
    let replayed = db::dead_letters::mark_replayed(&mut tx, id).await?;
    if !replayed {
        return Ok(false);
    }
    workers::outbox::enqueue_again(&mut tx, &[id]).await?;
    db::collections::record_event(&mut tx, id, "replayed", actor, reason).await?;
    db::audit::record(
        &mut tx,
        actor,
        "dead_letter.replay",
        &format!("collection:{id}"),
        reason,
        json!({}),
    )
    .await?;
    tx.commit().await.context("Failed to commit replay")?;
    Ok(true)
}

/// Gives up on the selected dead letters for good, with who and why.
pub async fn discard(
    pool: &PgPool,
    filter: &Filter,
    actor: &str,
    reason: &str,
) -> Result<Report, OpsError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(OpsError::BadRequest(
            "a reason is required to discard".into(),
        ));
    }
    let mut report = Report::default();
    for letter in list(pool, filter).await? {
        let id = letter.collection_id;
        let mut tx = pool.begin().await.map_err(anyhow::Error::from)?;
        let changed = db::dead_letters::mark_discarded(&mut tx, id, actor, reason).await?;
        if changed {
            db::collections::record_event(&mut tx, id, "discarded", actor, Some(reason)).await?;
            db::audit::record(
                &mut tx,
                actor,
                "dead_letter.discard",
                &format!("collection:{id}"),
                Some(reason),
                json!({}),
            )
            .await?;
            report.done.push(id);
        } else {
            report.skipped.push(id);
        }
        tx.commit().await.map_err(anyhow::Error::from)?;
    }
    Ok(report)
}

/// The broker's dead-letter queue (`{prefix}.dead`), which replay and discard bring in line
/// with the database after they change it.
#[derive(Debug, Clone)]
pub struct DeadLetterQueue {
    amqp_url: String,
    topology: Topology,
}

impl DeadLetterQueue {
    pub fn new(amqp_url: String, topology: Topology) -> Self {
        Self { amqp_url, topology }
    }

    /// See `reconcile_queue`.
    pub async fn reconcile(&self, pool: &PgPool) -> anyhow::Result<usize> {
        reconcile_queue(pool, &self.amqp_url, &self.topology).await
    }
}

/// What ops ask of the selected dead letters.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Back to the posting queue, at most `per_second` a second, with an optional reason.
    Replay {
        reason: Option<&'a str>,
        per_second: u32,
    },
    /// Given up for good, with a reason (required).
    Discard { reason: &'a str },
}

/// A replay or discard, with what became of the queue.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    #[serde(flatten)]
    pub report: Report,
    /// Set when the dead-letter queue could not be brought in line. The database is already
    /// right (workers drop a message whose collection is no longer theirs to post), and
    /// `collector dlq reconcile` tries again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_warning: Option<String>,
}

/// Replay or discard, then the queue's reconciliation: the one way both the admin API and the
/// CLI do it. The database change is committed first and stands whatever the broker does; a
/// queue that could not be reconciled is a warning in the outcome, never a failure.
pub async fn act(
    pool: &PgPool,
    queue: Option<&DeadLetterQueue>,
    filter: &Filter,
    actor: &str,
    action: Action<'_>,
) -> Result<Outcome, OpsError> {
    let mut report = match action {
        Action::Replay { reason, per_second } => {
            replay(pool, filter, actor, reason, per_second).await?
        }
        Action::Discard { reason } => discard(pool, filter, actor, reason).await?,
    };
    let queue_warning = match queue {
        Some(queue) => match queue.reconcile(pool).await {
            Ok(removed) => {
                report.removed_from_queue = removed;
                None
            }
            Err(e) => {
                tracing::warn!(error = %format_args!("{e:#}"), "dead-letter queue not reconciled");
                Some(format!("dead-letter queue not reconciled: {e:#}"))
            }
        },
        None => Some("AMQP_URL is not set: the dead-letter queue was not reconciled".into()),
    };
    Ok(Outcome {
        report,
        queue_warning,
    })
}

/// Brings the dead-letter queue in line with the database: removes messages of collections
/// that are no longer dead-lettered (replayed, discarded, posted) and duplicates; adopts
/// messages the broker dead-lettered by itself (delivery limit) into the database as
/// `dead_lettered`; keeps the rest, in order. Returns how many messages it removed.
pub async fn reconcile_queue(
    pool: &PgPool,
    amqp_url: &str,
    topology: &Topology,
) -> anyhow::Result<usize> {
    let connection = workers::broker::connect(amqp_url).await.map_err(|e| {
        anyhow::anyhow!("{}", workers::broker::ConnectError::classify(&e, amqp_url))
    })?;
    let channel = connection.create_channel().await;
    let removed = match &channel {
        Ok(channel) => walk_dead_queue(channel, pool, topology).await,
        Err(e) => Err(anyhow::anyhow!("Failed to open a channel: {e}")),
    };
    // The connection is closed on every path, errors included, and before its channel goes:
    // a channel closed or dropped first is closed by lapin in the background, racing the
    // connection's close, and lapin logs the loser as a connection error.
    workers::broker::close(connection, "dlq reconcile").await;
    drop(channel);
    removed
}

async fn walk_dead_queue(
    channel: &lapin::Channel,
    pool: &PgPool,
    topology: &Topology,
) -> anyhow::Result<usize> {
    let dead_queue = topology.dead_queue();
    let mut seen = std::collections::HashSet::new();
    let (mut keep, mut removed) = (Vec::new(), 0usize);
    // Holding every message unacknowledged walks the queue once; they all go back at the end.
    for _ in 0..100_000 {
        let Some(message) = channel
            .basic_get(&dead_queue, BasicGetOptions::default())
            .await
            .with_context(|| {
                format!(
                    "Failed to read the dead-letter queue {dead_queue} (is AMQP_PREFIX `{}` the \
                     one the workers use?)",
                    topology.prefix
                )
            })?
        else {
            break;
        };
        let tag = message.delivery.delivery_tag;
        let id = serde_json::from_slice::<PaymentEvent>(&message.delivery.data)
            .ok()
            .map(|e| e.collection_id);
        let status: Option<CollectionStatus> = match id {
            Some(id) => workers::store::status(pool, id).await?,
            None => None,
        };
        let keep_it = match (id, status) {
            (None, _) | (Some(_), None) => true, // unreadable or unknown: leave it for a person
            (Some(id), Some(_)) if !seen.insert(id) => false,
            (Some(_), Some(CollectionStatus::DeadLettered)) => true,
            (
                Some(id),
                Some(
                    CollectionStatus::Recorded
                    | CollectionStatus::Published
                    | CollectionStatus::Retrying,
                ),
            ) => {
                let _ = workers::store::mark_dead_lettered(
                    pool,
                    id,
                    "dead-lettered by the broker: delivery limit reached",
                    false,
                )
                .await?;
                true
            }
            _ => false,
        };
        if keep_it {
            keep.push(tag);
        } else {
            channel.basic_ack(tag, BasicAckOptions::default()).await?;
            removed += 1;
        }
    }
    for tag in keep {
        channel
            .basic_nack(
                tag,
                BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                },
            )
            .await?;
    }
    Ok(removed)
}
