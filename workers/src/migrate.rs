//! `collector topology migrate`: from version 1's queues to version 2's, losing nothing.
//!
//! Version 1 declared the posting queue and the retry tiers with other arguments (classic
//! tiers that dead-letter at most once), and RabbitMQ refuses to re-declare a queue with new
//! arguments, so version 2 lives beside them under new names. The migration:
//!
//! 1. declares version 2;
//! 2. binds version 2's queues to version 1's routing keys too (`posting`, `retry.{n}`), then
//!    unbinds version 1's queues from them: from then on, whatever a version 1 process still
//!    publishes, and whatever a version 1 tier dead-letters as it expires, lands in version 2;
//! 3. moves every message still in a version 1 queue to its version 2 counterpart, one at a
//!    time: published with a confirm, then acknowledged (a crash in between leaves a copy in
//!    both; the worker's status check and the core's idempotency key make that harmless);
//! 4. deletes each version 1 queue once it is empty and nobody consumes it (a version 1
//!    worker still attached keeps it: stop it and run the migration again).
//!
//! A message moved out of a retry tier waits that tier's delay again, from the move.
//! Nothing depends on the migration for correctness: a payment whose message sits in a
//! version 1 queue forever is re-sent by the sweeper from the database after its grace.

use anyhow::Context;
use lapin::options::{BasicAckOptions, BasicGetOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use serde::Serialize;

use crate::broker::confirm_channel;
use crate::publish::publish_confirmed;
use crate::topology::{bind, inspect, Legacy, Topology, POSTING_KEY};

/// What the migration did to one version 1 queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueReport {
    pub queue: String,
    /// Where its messages went.
    pub to: String,
    pub moved: u64,
    pub deleted: bool,
    /// Why it was kept, when it was.
    pub kept_because: Option<String>,
}

/// A version 1 queue and its version 2 counterpart.
struct Move {
    from: String,
    legacy_key: String,
    to_queue: String,
    to_key: String,
}

fn moves(topology: &Topology, present: &[String]) -> Vec<Move> {
    let legacy: Legacy = topology.legacy();
    let tiers = topology.retry_delays.len();
    let mut moves = Vec::new();
    if present.contains(&legacy.posting_queue()) {
        moves.push(Move {
            from: legacy.posting_queue(),
            legacy_key: Legacy::POSTING_KEY.to_owned(),
            to_queue: topology.posting_queue(),
            to_key: POSTING_KEY.to_owned(),
        });
    }
    for n in 0..crate::topology::MAX_TIERS {
        if present.contains(&legacy.retry_queue(n)) {
            // A schedule shortened since version 1: its extra tiers go to the last tier.
            let to = n.min(tiers.saturating_sub(1));
            moves.push(Move {
                from: legacy.retry_queue(n),
                legacy_key: Legacy::retry_key(n),
                to_queue: topology.retry_queue(to),
                to_key: Topology::retry_key(to),
            });
        }
    }
    moves
}

/// Migrates every version 1 queue under `topology`'s prefix; returns what it did to each.
pub async fn migrate(
    connection: &Connection,
    topology: &Topology,
) -> anyhow::Result<Vec<QueueReport>> {
    let channel = confirm_channel(connection).await?;
    topology.declare(&channel).await?;
    let present: Vec<String> = topology
        .legacy_queues(connection)
        .await
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let exchange = topology.exchange();
    let plan = moves(topology, &present);
    for m in &plan {
        bind(&channel, &m.to_queue, &exchange, &m.legacy_key).await?;
        channel
            .queue_unbind(&m.from, &exchange, &m.legacy_key, FieldTable::default())
            .await
            .with_context(|| format!("Failed to unbind {} from `{}`", m.from, m.legacy_key))?;
    }
    let mut reports = Vec::new();
    for m in &plan {
        let moved = drain(&channel, &exchange, m).await?;
        let kept_because = delete_if_done(connection, &m.from).await;
        reports.push(QueueReport {
            queue: m.from.clone(),
            to: m.to_queue.clone(),
            moved,
            deleted: kept_because.is_none(),
            kept_because,
        });
    }
    let _ = channel.close(200, "migrated").await;
    Ok(reports)
}

/// Moves every message of `m.from` to `m.to_key`, each confirmed before it is acknowledged.
async fn drain(channel: &Channel, exchange: &str, m: &Move) -> anyhow::Result<u64> {
    let mut moved = 0;
    while let Some(message) = channel
        .basic_get(&m.from, BasicGetOptions::default())
        .await
        .with_context(|| format!("Failed to read {}", m.from))?
    {
        let delivery = message.delivery;
        publish_confirmed(
            channel,
            exchange,
            &m.to_key,
            &delivery.data,
            delivery.properties.clone(),
        )
        .await
        .with_context(|| format!("Failed to move a message from {} to {}", m.from, m.to_queue))?;
        delivery
            .ack(BasicAckOptions::default())
            .await
            .context("Failed to acknowledge a moved message")?;
        moved += 1;
    }
    Ok(moved)
}

/// Deletes `queue` if it is empty and unused; otherwise says why it stays. Quorum queues
/// refuse `if-unused` (as a connection error), so the check is a look-up first; nothing can
/// arrive in between, since the queue is bound to no key any more.
async fn delete_if_done(connection: &Connection, queue: &str) -> Option<String> {
    match inspect(connection, queue).await {
        None => return None,
        Some((0, 0)) => {}
        Some((messages, consumers)) => {
            return Some(format!(
                "{messages} message(s), {consumers} consumer(s): stop the version 1 processes \
                 and run the migration again"
            ))
        }
    }
    let channel = match connection.create_channel().await {
        Ok(channel) => channel,
        Err(e) => return Some(format!("no channel to delete it: {e}")),
    };
    match channel
        .queue_delete(queue, QueueDeleteOptions::default())
        .await
    {
        Ok(_) => {
            let _ = channel.close(200, "deleted").await;
            None
        }
        Err(e) => Some(format!("delete refused: {e}")),
    }
}
