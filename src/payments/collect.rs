//! `collectionCollect`: the cashier took the cash. One transaction, then the outcome.
//!
//! The repeat check, the bill lock, the rule, and the writes (collection, bill, outbox event,
//! flags; or the refusal and its flag) all happen in one transaction. `1000` is returned only
//! after it commits; any database error rolls everything back and answers `-1009`. A commit
//! whose answer is lost is resolved on another connection before we answer.
//!
//! An accepted collect is four round trips to Postgres: `BEGIN`; the bill lock with the
//! repeat check; the collection, bill update, outbox event and double-payment probe in one
//! statement; `COMMIT` (a flag adds one). See BENCHMARKS.md for what each fold bought.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::flags::{FlagKind, NewFlag};
use crate::db::refusals::NewRefusal;
use crate::db::{self, collections::Collection, collections::NewCollection};
use crate::domain::{
    decide_collect, mask, Bill, CollectRefusal, CollectRequest, OverpaymentPolicy,
    DOUBLE_PAYMENT_WINDOW,
};
use workers::message::PaymentEvent;

/// What happened to a collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectOutcome {
    Recorded(Uuid),
    /// The receipt was already recorded (flagged `replay` or `conflict`).
    Repeated(FlagKind),
    Refused(CollectRefusal),
}

/// How the wire answers a refusal: its response code and description, recorded with the
/// refused collect so that ops see what SkyPay was told (`skypay::answer::describe_refusal`).
pub type Describe = fn(&CollectRefusal) -> (&'static str, String);

/// Records the collect in one transaction and says what became of it. `Err` when the
/// database failed and nothing was recorded (or, after a lost commit answer, nobody can tell).
/// `request` is the request as received (credentials removed), kept with a refusal.
#[tracing::instrument(skip_all, fields(
    control_number = %req.control_number,
    receipt = %req.receipt_number,
    channel = req.pay_channel.code(),
    phone = %mask::phone(req.phone.as_str()),
))]
pub async fn record(
    pool: &PgPool,
    req: &CollectRequest,
    policy: OverpaymentPolicy,
    request: serde_json::Value,
    describe: Describe,
) -> anyhow::Result<CollectOutcome> {
    let mut tx = pool.begin().await.context("Failed to begin transaction")?;
    let channel = req.pay_channel.code();
    let receipt = req.receipt_number.as_str();

    // One round trip: the bill locked, and whether this receipt was recorded before.
    let locked =
        db::bills::lock_for_collect(&mut tx, req.control_number.as_str(), channel, receipt).await?;
    let (bill, maybe_repeat) = match locked {
        Some((bill, repeat_of)) => (Some(bill), repeat_of.is_some()),
        // No such bill: a repeat is still a repeat (of a receipt recorded on another bill).
        None => (None, true),
    };
    if maybe_repeat {
        if let Some(first) = db::collections::find_by_receipt(&mut *tx, channel, receipt).await? {
            let kind = flag_repeat(&mut tx, &first, req).await?;
            tx.commit().await.context("Failed to commit")?;
            return Ok(CollectOutcome::Repeated(kind));
        }
    }

    let accepted = match decide_collect(bill.as_ref(), req.amount, policy) {
        Ok(accepted) => accepted,
        Err(refusal) => {
            record_refusal(&mut tx, req, &refusal, request, describe).await?;
            tx.commit().await.context("Failed to commit")?;
            return Ok(CollectOutcome::Refused(refusal));
        }
    };
    let bill = bill.context("accepted a collect without a bill")?;

    let id = Uuid::now_v7();
    let (new, payload) = new_collection(id, &bill, req)?;
    // One round trip: the collection, the bill's new state, the outbox event, and the
    // double-payment probe.
    let recorded = db::collections::record(
        &mut tx,
        &new,
        (accepted.new_outstanding, accepted.new_status),
        &payload,
        DOUBLE_PAYMENT_WINDOW,
    )
    .await?;
    let Some(nearby) = recorded else {
        // The same receipt was recorded by a concurrent collect that has since committed.
        let first = db::collections::find_by_receipt(&mut *tx, channel, receipt)
            .await?
            .context("receipt conflicted but no collection holds it")?;
        let kind = flag_repeat(&mut tx, &first, req).await?;
        tx.commit().await.context("Failed to commit")?;
        return Ok(CollectOutcome::Repeated(kind));
    };
    flag_accepted(&mut tx, id, req, accepted.overpaid_by, &nearby).await?;
    if let Err(e) = tx.commit().await {
        return resolve_lost_commit(pool, &bill.control_number, id, e.into()).await;
    }
    Ok(CollectOutcome::Recorded(id))
}

/// The collection row and the outbox event of an accepted collect of `bill`.
pub(crate) fn new_collection<'a>(
    id: Uuid,
    bill: &'a Bill,
    req: &'a CollectRequest,
) -> anyhow::Result<(NewCollection<'a>, serde_json::Value)> {
    let channel = req.pay_channel.code();
    let receipt = req.receipt_number.as_str();
    let new = NewCollection {
        id,
        control_number: &bill.control_number,
        loan_ref: &bill.loan_ref,
        pay_channel: channel,
        receipt_number: receipt,
        amount: req.amount.value(),
        phone: req.phone.as_str(),
        collected_at: req.collected_at.with_timezone(&Utc),
    };
    let payload = workers::outbox::payload(&PaymentEvent {
        collection_id: id,
        receipt_number: receipt.to_owned(),
        control_number: bill.control_number.clone(),
        loan_ref: bill.loan_ref.clone(),
        amount: req.amount.value(),
        collected_at: req.collected_at,
        pay_channel: channel,
        payer_phone: req.phone.as_str().to_owned(),
    })?;
    Ok((new, payload))
}

/// The flags accepted collection `id` raises, in its transaction: an overpayment, and a
/// suspected double payment when earlier collections of the same amount on the same bill
/// (`nearby`) were collected close to it.
pub(crate) async fn flag_accepted(
    tx: &mut PgConnection,
    id: Uuid,
    req: &CollectRequest,
    overpaid_by: Option<Decimal>,
    nearby: &[Uuid],
) -> anyhow::Result<()> {
    let flag = |kind, details| NewFlag {
        kind,
        collection_id: Some(id),
        refused_collect_id: None,
        control_number: Some(req.control_number.as_str()),
        receipt_number: Some(req.receipt_number.as_str()),
        pay_channel: Some(req.pay_channel.code()),
        details,
    };
    if let Some(excess) = overpaid_by {
        let details = json!({ "amount": req.amount.value(), "overpaidBy": excess });
        db::flags::insert(tx, &flag(FlagKind::Overpayment, details)).await?;
    }
    if !nearby.is_empty() {
        let details = json!({ "earlierCollections": nearby, "windowMinutes": DOUBLE_PAYMENT_WINDOW.num_minutes() });
        db::flags::insert(tx, &flag(FlagKind::SuspectedDoublePayment, details)).await?;
    }
    Ok(())
}

/// How long a collect keeps asking whether its commit went through before it gives up. Not
/// answering yet is the truth (SkyPay may time out and retry: the retry gets `-1015`); `-1009`
/// after this long may not be, so it is long enough to ride out an ordinary Postgres outage
/// (the fault suite cuts it for 10 s) and short of common 30 s client time-outs.
const COMMIT_RESOLUTION: Duration = Duration::from_secs(25);

/// `COMMIT` was sent but its answer never came back (the connection broke): Postgres may have
/// committed. Answering `-1009` ("nothing recorded") for a committed collection would let the
/// store hand the cash back while we post the payment, so ask on another connection first.
pub(crate) async fn resolve_lost_commit(
    pool: &PgPool,
    control_number: &str,
    id: Uuid,
    error: anyhow::Error,
) -> anyhow::Result<CollectOutcome> {
    let deadline = Instant::now() + COMMIT_RESOLUTION;
    loop {
        match db::collections::committed(pool, control_number, id).await {
            Ok(true) => {
                tracing::warn!(collection = %id, error = %format_args!("{error:#}"),
                    "the answer to COMMIT was lost, but the collection is committed");
                return Ok(CollectOutcome::Recorded(id));
            }
            Ok(false) => return Err(error.context("Failed to commit collection")),
            Err(lookup) if Instant::now() < deadline => {
                tracing::debug!(error = %format_args!("{lookup:#}"), "commit outcome not known yet");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(lookup) => {
                // Still unknown. If it did commit, the payment is posted as usual and SkyPay's
                // retry of this receipt is answered -1015 and flagged `replay` for ops.
                tracing::error!(collection = %id, error = %format_args!("{error:#}"),
                    lookup = %format_args!("{lookup:#}"),
                    "COMMIT OUTCOME UNKNOWN: the collection may be recorded although we answer -1009");
                return Err(error.context("Failed to commit collection (outcome unknown)"));
            }
        }
    }
}

/// A receipt seen before: `replay` when every field matches the first, `conflict` otherwise.
async fn flag_repeat(
    tx: &mut PgConnection,
    first: &Collection,
    req: &CollectRequest,
) -> anyhow::Result<FlagKind> {
    let same = first.control_number == req.control_number.as_str()
        && first.amount == req.amount.value()
        && first.phone == req.phone.as_str()
        && first.collected_at == req.collected_at.with_timezone(&Utc);
    let kind = if same {
        FlagKind::Replay
    } else {
        FlagKind::Conflict
    };
    let details = json!({
        "firstCollectionId": first.id,
        "controlNumber": req.control_number.as_str(),
        "amount": req.amount.value(),
        "collectedAt": req.collected_at,
    });
    db::flags::insert(
        tx,
        &NewFlag {
            kind,
            collection_id: Some(first.id),
            refused_collect_id: None,
            control_number: Some(req.control_number.as_str()),
            receipt_number: Some(req.receipt_number.as_str()),
            pay_channel: Some(req.pay_channel.code()),
            details,
        },
    )
    .await?;
    Ok(kind)
}

async fn record_refusal(
    tx: &mut PgConnection,
    req: &CollectRequest,
    refusal: &CollectRefusal,
    request: serde_json::Value,
    describe: Describe,
) -> anyhow::Result<()> {
    let (response_code, reason) = describe(refusal);
    let refusal = NewRefusal {
        response_code,
        reason: &reason,
        control_number: Some(req.control_number.as_str()),
        receipt_number: Some(req.receipt_number.as_str()),
        pay_channel: Some(req.pay_channel.code()),
        amount: Some(req.amount.value()),
        collected_at: Some(req.collected_at.with_timezone(&Utc)),
        request,
    };
    refused_with_flag(tx, &refusal).await
}

/// Keeps a refused collect and flags it `refused_collect`.
pub async fn refused_with_flag(
    tx: &mut PgConnection,
    refusal: &NewRefusal<'_>,
) -> anyhow::Result<()> {
    let id = db::refusals::insert(tx, refusal).await?;
    db::flags::insert(
        tx,
        &NewFlag {
            kind: FlagKind::RefusedCollect,
            collection_id: None,
            refused_collect_id: Some(id),
            control_number: refusal.control_number,
            receipt_number: refusal.receipt_number,
            pay_channel: refusal.pay_channel,
            details: json!({ "responseCode": refusal.response_code, "reason": refusal.reason }),
        },
    )
    .await?;
    Ok(())
}

/// A collect refused for a bad field (`2002`) is kept too: the cash may be in the till.
/// `Err` when it could not be recorded, so the caller answers `-1009` and SkyPay retries.
pub async fn record_invalid(
    pool: &PgPool,
    response_code: &str,
    reason: &str,
    request: serde_json::Value,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("Failed to begin transaction")?;
    let text = |k: &str| request.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let control = text("controlNumber").or_else(|| text("contractNumber"));
    let receipt = text("receiptNumber");
    let refusal = NewRefusal {
        response_code,
        reason,
        control_number: control.as_deref(),
        receipt_number: receipt.as_deref(),
        request: request.clone(),
        ..NewRefusal::default()
    };
    refused_with_flag(&mut tx, &refusal).await?;
    tx.commit().await.context("Failed to commit refusal")?;
    Ok(())
}
