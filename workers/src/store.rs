//! What the workers record in Postgres: a collection's status only moves forward, and every
//! attempt is kept in `collection_events` with its outcome, error and time.

use anyhow::Context;
use sqlx::PgPool;
use uuid::Uuid;

use crate::batch::Batcher;
use crate::collection::CollectionStatus;

/// The collection's status, `None` if there is no such collection.
pub async fn status(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<CollectionStatus>> {
    sqlx::query_scalar("SELECT status FROM collections WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("Failed to read collection status")
}

/// What a worker reads before it posts: the status, and the generation of the collection's
/// live message (`dispatch`): a message of an older generation was superseded by a re-send.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Current {
    pub status: CollectionStatus,
    pub dispatch: i32,
}

impl Current {
    /// Whether a message carrying generation `dispatch` was superseded by a later re-send of
    /// the same collection. A message without the header was published before generations
    /// existed: generation 0.
    pub fn supersedes(&self, dispatch: Option<i64>) -> bool {
        dispatch.unwrap_or(0) < i64::from(self.dispatch)
    }
}

/// Posted (2xx, or 409 with `duplicate`, which also raises a `core_duplicate` flag). Returns
/// `false` if the collection was already posted or discarded (nothing changed).
pub async fn mark_posted(
    pool: &PgPool,
    id: Uuid,
    reference: Option<&str>,
    duplicate: bool,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await.context("Failed to begin transaction")?;
    let event = if duplicate { "duplicate" } else { "posted" };
    let detail = match (duplicate, reference) {
        (true, _) => {
            Some("core loan system answered 409: already posted under this key".to_owned())
        }
        (false, Some(r)) => Some(format!("reference {r}")),
        (false, None) => None,
    };
    let updated = sqlx::query(
        "WITH updated AS ( \
             UPDATE collections SET status = 'posted', core_reference = COALESCE($2, core_reference), \
                 posted_at = now(), attempts = attempts + 1, last_error = NULL, updated_at = now() \
             WHERE id = $1 AND status NOT IN ('posted', 'discarded') RETURNING id, attempts) \
         INSERT INTO collection_events (collection_id, event, attempt, detail) \
         SELECT id, $3, attempts, $4 FROM updated",
    )
    .bind(id)
    .bind(reference)
    .bind(event)
    .bind(&detail)
    .execute(&mut *tx)
    .await
    .context("Failed to mark collection posted")?
    .rows_affected()
        == 1;
    if updated && duplicate {
        sqlx::query(
            "INSERT INTO flags (kind, collection_id, control_number, receipt_number, pay_channel, details) \
             SELECT 'core_duplicate', id, control_number, receipt_number, pay_channel, \
                    jsonb_build_object('note', 'core loan system answered 409: already posted under this key') \
             FROM collections WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("Failed to flag core duplicate")?;
    }
    tx.commit().await.context("Failed to commit")?;
    Ok(updated)
}

/// A transient failure; the message goes to a retry tier, due back at a worker after `delay`
/// carrying attempt number `next_attempt` (the sweeper re-sends it from here if it is lost).
pub async fn mark_retrying(
    pool: &PgPool,
    id: Uuid,
    error: &str,
    delay: std::time::Duration,
    next_attempt: i32,
) -> anyhow::Result<()> {
    sqlx::query(
        "WITH updated AS ( \
             UPDATE collections SET status = 'retrying', attempts = attempts + 1, last_error = $2, \
                 next_due_at = now() + make_interval(secs => $3), next_attempt = $4, updated_at = now() \
             WHERE id = $1 AND status NOT IN ('posted', 'discarded', 'dead_lettered') RETURNING id, attempts) \
         INSERT INTO collection_events (collection_id, event, attempt, detail) \
         SELECT id, 'retrying', attempts, $2 FROM updated",
    )
    .bind(id)
    .bind(error)
    .bind(delay.as_secs_f64())
    .bind(next_attempt)
    .execute(pool)
    .await
    .context("Failed to mark collection retrying")?;
    Ok(())
}

/// A permanent failure or an exhausted schedule. `attempted` is false when the message was
/// dead-lettered without a call to the core (the broker's delivery limit). Returns whether it
/// changed anything (`false`: already final or dead-lettered).
pub async fn mark_dead_lettered(
    pool: &PgPool,
    id: Uuid,
    error: &str,
    attempted: bool,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "WITH updated AS ( \
             UPDATE collections SET status = 'dead_lettered', \
                 attempts = attempts + CASE WHEN $3 THEN 1 ELSE 0 END, last_error = $2, \
                 dead_lettered_at = now(), updated_at = now() \
             WHERE id = $1 AND status NOT IN ('posted', 'discarded', 'dead_lettered') RETURNING id, attempts) \
         INSERT INTO collection_events (collection_id, event, attempt, detail) \
         SELECT id, 'dead_lettered', attempts, $2 FROM updated",
    )
    .bind(id)
    .bind(error)
    .bind(attempted)
    .execute(pool)
    .await
    .context("Failed to mark collection dead-lettered")?;
    Ok(done.rows_affected() == 1)
}

/// Marks many collections posted (2xx) in one statement; returns the ids it changed. Rows are
/// locked in id order, as the relay locks them, so that two multi-row updates never deadlock.
pub async fn mark_posted_many(
    pool: &PgPool,
    ids: &[Uuid],
    references: &[Option<String>],
) -> anyhow::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "WITH input AS (SELECT DISTINCT ON (id) * FROM unnest($1::uuid[], $2::text[]) AS t(id, reference)), \
         locked AS (SELECT c.id FROM collections c JOIN input i ON i.id = c.id \
             WHERE c.status NOT IN ('posted', 'discarded') ORDER BY c.id FOR UPDATE OF c), \
         updated AS ( \
             UPDATE collections c SET status = 'posted', core_reference = COALESCE(i.reference, c.core_reference), \
                 posted_at = now(), attempts = c.attempts + 1, last_error = NULL, updated_at = now() \
             FROM input i, locked l WHERE c.id = i.id AND c.id = l.id \
             RETURNING c.id, c.attempts, i.reference), \
         events AS ( \
             INSERT INTO collection_events (collection_id, event, attempt, detail) \
             SELECT id, 'posted', attempts, 'reference ' || reference FROM updated) \
         SELECT id FROM updated",
    )
    .persistent(false) // planned for the table as it is: see `crate::batch`
    .bind(ids)
    .bind(references)
    .fetch_all(pool)
    .await
    .context("Failed to mark collections posted")
}

/// Batches of one kind that run at once. One: a second batch in flight measured no faster
/// (BENCHMARKS.md), and one keeps a worker's writes on one connection.
const IN_FLIGHT: usize = 1;

/// Group commit for the common outcome: the "posted" records of every delivery in flight are
/// written together, one transaction (one WAL flush) for many payments, instead of one each.
/// A caller waits for its own record to be durable before it acks.
#[derive(Clone)]
pub struct PostedRecorder(Batcher<(Uuid, Option<String>), bool>);

impl PostedRecorder {
    /// Starts the writer task; it stops when the last clone is dropped.
    pub fn spawn(pool: PgPool, max_batch: usize) -> Self {
        Self(Batcher::spawn(
            max_batch,
            IN_FLIGHT,
            move |items: Vec<(Uuid, Option<String>)>| {
                let pool = pool.clone();
                async move {
                    let (ids, refs): (Vec<Uuid>, Vec<Option<String>>) =
                        items.iter().cloned().unzip();
                    let changed = mark_posted_many(&pool, &ids, &refs).await?;
                    Ok(ids.iter().map(|id| changed.contains(id)).collect())
                }
            },
        ))
    }

    /// Records one collection as posted; `false` if it was already posted or discarded.
    pub async fn record(&self, id: Uuid, reference: Option<String>) -> anyhow::Result<bool> {
        self.0.call((id, reference)).await
    }
}

/// Batched status reads: the deliveries in flight ask together, one round trip for many,
/// the read-side twin of [`PostedRecorder`].
#[derive(Clone)]
pub struct StatusReader(Batcher<Uuid, Option<Current>>);

impl StatusReader {
    /// Starts the reader task; it stops when the last clone is dropped.
    pub fn spawn(pool: PgPool, max_batch: usize) -> Self {
        Self(Batcher::spawn(
            max_batch,
            IN_FLIGHT,
            move |ids: Vec<Uuid>| {
                let pool = pool.clone();
                async move {
                    let rows: Vec<(Uuid, CollectionStatus, i32)> = sqlx::query_as(
                        "SELECT id, status, dispatch FROM collections WHERE id = ANY($1)",
                    )
                    .persistent(false) // planned for the table as it is: see `crate::batch`
                    .bind(&ids)
                    .fetch_all(&pool)
                    .await
                    .context("Failed to read collection statuses")?;
                    Ok(ids
                        .iter()
                        .map(|id| {
                            rows.iter()
                                .find(|(row, ..)| row == id)
                                .map(|(_, status, dispatch)| Current {
                                    status: *status,
                                    dispatch: *dispatch,
                                })
                        })
                        .collect())
                }
            },
        ))
    }

    /// The collection's status and message generation, `None` if there is no such collection.
    pub async fn current(&self, id: Uuid) -> anyhow::Result<Option<Current>> {
        self.0.call(id).await
    }
}

/// One step of a collection's history that a person or a process took (a replay, a discard,
/// a sweeper's rescue), in the caller's transaction.
pub async fn record_event(
    tx: &mut sqlx::PgConnection,
    id: uuid::Uuid,
    event: &str,
    actor: &str,
    detail: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO collection_events (collection_id, event, actor, detail) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(event)
    .bind(actor)
    .bind(detail)
    .execute(&mut *tx)
    .await
    .context("Failed to record collection event")?;
    Ok(())
}

/// A line in the `audit_log`: every ops action (and every rescue), who, what, when, why.
pub async fn audit(
    tx: &mut sqlx::PgConnection,
    actor: &str,
    action: &str,
    subject: &str,
    reason: Option<&str>,
    details: serde_json::Value,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (actor, action, subject, reason, details) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(reason)
    .bind(details)
    .execute(&mut *tx)
    .await
    .context("Failed to write audit log")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_generation_is_superseded_and_a_missing_one_is_the_first() {
        let current = Current {
            status: CollectionStatus::Published,
            dispatch: 2,
        };
        assert!(current.supersedes(Some(1)));
        assert!(current.supersedes(None));
        assert!(!current.supersedes(Some(2)));
        let first = Current {
            status: CollectionStatus::Published,
            dispatch: 0,
        };
        assert!(!first.supersedes(None));
        assert!(!first.supersedes(Some(0)));
    }
}
