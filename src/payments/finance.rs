//! `financeNotification`: SkyPay tells us of money moving on our account with it (a collection
//! settlement, a recharge, a withdrawal). The notice is stored once (by `referenceNumber` and
//! `accountNo`) before it is acknowledged; a collection settlement (statement type 4) is
//! checked against our reconciliation in the same transaction.
//!
//! **The settlement check.** A settlement dated on day D covers the Manila day
//! `SETTLEMENT_PERIOD` names (`previous-day`: D − 1; `same-day`: D). Its amount, in pesos
//! (`SETTLEMENT_AMOUNT_UNIT`: `centavos` divides SkyPay's integer by 100), is compared with the
//! total of the reconciliation items paired with a collection of ours on the period's days
//! (`matched`, `not_posted`, and `missing_ours` rows adopted since: SkyPay's own amounts).
//! Nothing else counts: a day not reconciled yet
//! (or whose run failed) has no matched items, and its drift is then the whole amount. Every
//! successful reconciliation run of a day checks the settlements covering it again
//! ([`recheck_settlements`]), so a settlement that arrived before the night's run is set right
//! by it. The drift, `amount − matched`, is logged as a warning when it is not zero and set as
//! `collector_settlement_drift_pesos`.

use anyhow::Context;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::db;
use crate::db::finance::Via;
use crate::domain::finance::{manila_midnight, COLLECTION_SETTLEMENT};
use crate::domain::{FinanceNotice, Settlement, SettlementPeriodSpan, SettlementRules};

/// What became of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeOutcome {
    /// Stored now, with the settlement check of a collection settlement whose date and amount
    /// could be read.
    Recorded {
        id: i64,
        settlement: Option<Settlement>,
    },
    /// Stored before (the same `referenceNumber` and `accountNo`): nothing changed.
    Repeated,
}

/// Stores `notice` (its `body` as received, credentials removed) and checks it if it is a
/// collection settlement, in one transaction. `Err` when the database failed: then nothing
/// was stored.
#[tracing::instrument(skip_all, fields(
    reference = %notice.reference_number,
    account = %notice.account_no,
    statement_type = notice.statement_type,
    via = via.as_str(),
))]
pub async fn record_notice(
    pool: &PgPool,
    notice: &FinanceNotice,
    body: serde_json::Value,
    via: Via,
    rules: SettlementRules,
) -> anyhow::Result<NoticeOutcome> {
    let amount = notice.amount.map(|a| rules.unit.pesos(a));
    let mut tx = pool.begin().await.context("Failed to begin transaction")?;
    let Some(id) = db::finance::insert(&mut tx, notice, amount, &body, via).await? else {
        tx.rollback().await.ok();
        tracing::info!("finance notice repeated: stored before");
        return Ok(NoticeOutcome::Repeated);
    };
    let mut settlement = None;
    if notice.is_collection_settlement() {
        match (notice.transaction_day(), amount) {
            (Some(day), Some(amount)) => {
                let span = SettlementPeriodSpan::of(rules, day);
                let matched =
                    db::finance::matched_total(&mut tx, span.first_day, span.end_day).await?;
                let checked = Settlement::new(span, amount, matched);
                db::finance::set_settlement(
                    &mut tx,
                    id,
                    (span.start(), span.end()),
                    checked.matched,
                    checked.drift,
                )
                .await?;
                settlement = Some(checked);
            }
            (day, amount) => tracing::warn!(
                transaction_date = notice.transaction_date.as_deref().unwrap_or(""),
                has_date = day.is_some(),
                has_amount = amount.is_some(),
                "collection settlement stored unchecked: its transctionDate or amount cannot be read"
            ),
        }
    }
    tx.commit().await.context("Failed to commit")?;
    tracing::info!(id, "finance notice stored");
    if let Some(checked) = &settlement {
        report(&notice.reference_number, checked);
    }
    Ok(NoticeOutcome::Recorded { id, settlement })
}

/// Checks again the collection settlements whose period covers the Manila day `day` (after a
/// reconciliation run of that day changed what is matched). Returns them as now checked.
pub async fn recheck_settlements(
    pool: &PgPool,
    day: chrono::NaiveDate,
) -> anyhow::Result<Vec<(String, Settlement)>> {
    let stored =
        db::finance::settlements_covering(pool, COLLECTION_SETTLEMENT, manila_midnight(day))
            .await?;
    let mut out = Vec::with_capacity(stored.len());
    for row in stored {
        let span = SettlementPeriodSpan::from_instants(
            row.settlement_period_start,
            row.settlement_period_end,
        );
        let mut conn = pool.acquire().await.context("Failed to get a connection")?;
        let matched = db::finance::matched_total(&mut conn, span.first_day, span.end_day).await?;
        let checked = Settlement::new(span, row.amount, matched);
        db::finance::set_settlement(
            &mut conn,
            row.id,
            (row.settlement_period_start, row.settlement_period_end),
            checked.matched,
            checked.drift,
        )
        .await?;
        report(&row.reference_number, &checked);
        out.push((row.reference_number, checked));
    }
    Ok(out)
}

/// The log line and the gauge of a settlement check.
fn report(reference: &str, checked: &Settlement) {
    metrics::gauge!("collector_settlement_drift_pesos").set(checked.drift.to_f64().unwrap_or(0.0));
    let (first, end) = (checked.period.first_day, checked.period.end_day);
    if checked.drift == Decimal::ZERO {
        tracing::info!(reference, %first, %end, amount = %checked.amount, matched = %checked.matched,
            "collection settlement agrees with the matched collections");
    } else {
        tracing::warn!(reference, %first, %end, amount = %checked.amount, matched = %checked.matched,
            drift = %checked.drift,
            "SETTLEMENT DRIFT: SkyPay's settlement differs from the matched collections of its period");
    }
}
