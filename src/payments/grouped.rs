//! Group commit for collects: the collects that arrive while others are being recorded share
//! one transaction of four round trips (`BEGIN`; the bills locked; every collection, bill
//! update and outbox event in one statement; `COMMIT`), instead of four each. A lone collect
//! waits for nothing and takes the one-collect path; under load groups grow by themselves
//! (`workers::batch::Batcher`). BENCHMARKS.md has what it bought.
//!
//! The group takes only what it can decide for certain: a collect of a bill that exists, whose
//! receipt appears once in the group, and that the bill's rule accepts given the collects of
//! the group before it. Everything else (an unknown bill, a refusal, a receipt seen twice) is
//! answered by the one-collect path (`collect::record`) after the group has committed, which
//! locks the bill again and decides on what is then committed. When a receipt of the group
//! turns out to be recorded already, or Postgres refuses a statement, the group is rolled back
//! and each of its collects is recorded on its own.
//!
//! Nothing of the contract changes: each collect is answered `1000` only after the transaction
//! holding its collection and outbox event has committed; a commit whose answer is lost is
//! resolved before anyone is answered; an error that leaves nothing recorded is `-1009`.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;
use workers::batch::Batcher;

use super::collect::{self, CollectOutcome, Describe};
use crate::db;
use crate::domain::{
    decide_collect, Bill, BillStatus, CollectRequest, OverpaymentPolicy, DOUBLE_PAYMENT_WINDOW,
};

/// Records collects, in groups when they arrive together.
#[derive(Clone)]
pub struct Collects {
    group: Batcher<Pending, Result<CollectOutcome, String>>,
}

/// A collect waiting for its group: `collect::record`'s arguments.
struct Pending {
    req: CollectRequest,
    policy: OverpaymentPolicy,
    request: serde_json::Value,
    describe: Describe,
}

impl Collects {
    /// At most this many collects per transaction.
    const MAX_GROUP: usize = 16;
    /// Group transactions at once.
    const IN_FLIGHT: usize = 4;

    /// Starts the grouping task; it stops when the last clone is dropped. Groups run on
    /// connections of their own (`IN_FLIGHT` of them, like `pool`'s) that plan each
    /// statement for its arguments (`plan_cache_mode`): a group's statements take arrays, and
    /// a plan kept from when `collections` was small would scan it whole (`workers::batch`).
    /// Prepared, they are parsed once per connection, not once per group. The collects a
    /// group leaves are recorded on `pool`.
    pub fn spawn(pool: PgPool) -> Self {
        let for_groups = db::pool_planned(&pool, "force_custom_plan", Self::IN_FLIGHT as u32);
        let group = Batcher::spawn(Self::MAX_GROUP, Self::IN_FLIGHT, move |items| {
            let (groups, alone) = (for_groups.clone(), pool.clone());
            async move { record_group(&groups, &alone, items).await }
        });
        Self { group }
    }

    /// Records the collect and says what became of it, as `collect::record` does (whose
    /// arguments these are).
    pub async fn record(
        &self,
        req: &CollectRequest,
        policy: OverpaymentPolicy,
        request: serde_json::Value,
        describe: Describe,
    ) -> anyhow::Result<CollectOutcome> {
        let pending = Pending {
            req: req.clone(),
            policy,
            request,
            describe,
        };
        self.group.call(pending).await?.map_err(anyhow::Error::msg)
    }
}

/// One group: what became of each collect. The group's transaction records what it can
/// decide for certain; the rest (and a lone collect, for which the one-collect path is the
/// quicker) are recorded one by one on `alone`, while the group still holds its turn, so that
/// the collects arriving meanwhile queue up for the next group. `Err` (every collect is
/// answered `-1009`) when Postgres could not be reached or the commit's outcome is not known
/// to be a rollback; a statement Postgres refused leaves the whole group to the one-collect
/// path.
async fn record_group(
    groups: &PgPool,
    alone: &PgPool,
    items: Vec<Pending>,
) -> anyhow::Result<Vec<Result<CollectOutcome, String>>> {
    let mut recorded = vec![None; items.len()];
    if items.len() > 1 {
        match try_group(groups, &items).await {
            Ok(ids) => {
                for (i, id) in ids {
                    recorded[i] = Some(id);
                }
            }
            Err(e) if refused_by_postgres(&e) => {
                tracing::warn!(error = %format_args!("{e:#}"), collects = items.len(),
                    "a group of collects was rolled back; recording each on its own");
            }
            Err(e) => return Err(e),
        }
    }
    let outcomes = items.into_iter().zip(recorded).map(|(p, id)| async move {
        match id {
            Some(id) => Ok(CollectOutcome::Recorded(id)),
            None => collect::record(alone, &p.req, p.policy, p.request, p.describe)
                .await
                .map_err(|e| format!("{e:#}")),
        }
    });
    Ok(futures::future::join_all(outcomes).await)
}

/// Postgres answered with an error (a constraint, a deadlock, a time-out): the transaction is
/// rolled back and the server is there, so each collect can be tried again on its own.
fn refused_by_postgres(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::Database(_))
        )
    })
}

/// An accepted collect of the group.
struct Accepted<'a> {
    index: usize,
    id: Uuid,
    req: &'a CollectRequest,
    overpaid_by: Option<rust_decimal::Decimal>,
}

/// Records what the group can decide for certain; returns `(index, collection id)` of each
/// collect it recorded (none when it rolled back).
async fn try_group(pool: &PgPool, items: &[Pending]) -> anyhow::Result<Vec<(usize, Uuid)>> {
    let mut tx = pool.begin().await.context("Failed to begin transaction")?;
    let mut numbers: Vec<&str> = items
        .iter()
        .map(|p| p.req.control_number.as_str())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut bills: HashMap<String, Bill> = db::bills::lock_many(&mut tx, &numbers)
        .await?
        .into_iter()
        .map(|b| (b.control_number.clone(), b))
        .collect();

    // Decide in arrival order, each on the bill as the group's earlier collects left it.
    let mut receipts = HashSet::new();
    let mut accepted = Vec::new();
    for (index, Pending { req, policy, .. }) in items.iter().enumerate() {
        let receipt = (req.pay_channel.code(), req.receipt_number.as_str());
        if !receipts.insert(receipt) {
            continue; // a repeat within the group: the one-collect path flags it
        }
        let Some(bill) = bills.get_mut(req.control_number.as_str()) else {
            continue;
        };
        let Ok(acceptance) = decide_collect(Some(bill), req.amount, *policy) else {
            continue; // refused: the one-collect path records the refusal
        };
        bill.outstanding = acceptance.new_outstanding;
        if bill.status == BillStatus::Open {
            bill.status = acceptance.new_status; // state only moves forward
        }
        accepted.push(Accepted {
            index,
            id: Uuid::now_v7(),
            req,
            overpaid_by: acceptance.overpaid_by,
        });
    }
    if accepted.is_empty() {
        tx.rollback().await.context("Failed to roll back")?;
        return Ok(Vec::new());
    }

    let mut rows = Vec::with_capacity(accepted.len());
    let mut payloads = Vec::with_capacity(accepted.len());
    let mut touched = HashSet::new();
    for a in &accepted {
        // A bill's number and loan never change in the group: only its balance and status.
        let bill = &bills[a.req.control_number.as_str()];
        let (row, payload) = collect::new_collection(a.id, bill, a.req)?;
        rows.push(row);
        payloads.push(payload);
        touched.insert(bill.control_number.as_str());
    }
    let finals: Vec<(&str, _, _)> = touched
        .iter()
        .map(|&number| {
            let b = &bills[number];
            (number, b.outstanding, b.status)
        })
        .collect();
    let recorded =
        db::collections::record_group(&mut tx, &rows, &payloads, &finals, DOUBLE_PAYMENT_WINDOW)
            .await?;
    let Some(earlier) = recorded else {
        // A receipt was recorded before: roll back, and let each collect find out on its own.
        tx.rollback().await.context("Failed to roll back")?;
        return Ok(Vec::new());
    };
    for (k, a) in accepted.iter().enumerate() {
        let nearby = with_group_nearby(&earlier[k], &accepted[..k], a);
        collect::flag_accepted(&mut tx, a.id, a.req, a.overpaid_by, &nearby).await?;
    }
    commit(pool, tx, &accepted).await?;
    Ok(accepted.iter().map(|a| (a.index, a.id)).collect())
}

/// The earlier collections a double-payment flag names: those committed before (`committed`),
/// then the group's own earlier collects of the same amount on the same bill within the window.
fn with_group_nearby(committed: &[Uuid], before: &[Accepted<'_>], a: &Accepted<'_>) -> Vec<Uuid> {
    let at = a.req.collected_at;
    let mut nearby = committed.to_vec();
    nearby.extend(
        before
            .iter()
            .filter(|b| {
                b.req.control_number == a.req.control_number
                    && b.req.amount.value() == a.req.amount.value()
                    && (b.req.collected_at - at).abs() <= DOUBLE_PAYMENT_WINDOW
            })
            .map(|b| b.id),
    );
    nearby
}

/// Commits the group. A lost answer to `COMMIT` is resolved as for one collect: all of the
/// group's collections committed or none did, so asking about the first answers for all.
async fn commit(
    pool: &PgPool,
    tx: Transaction<'_, Postgres>,
    accepted: &[Accepted<'_>],
) -> anyhow::Result<()> {
    if let Err(e) = tx.commit().await {
        let first = &accepted[0];
        let number = first.req.control_number.as_str();
        collect::resolve_lost_commit(pool, number, first.id, e.into()).await?;
    }
    Ok(())
}
