//! After each successful reconciliation run of a Manila day D: SkyPay's finance notices of
//! D..D+1 (`notificationInquiry`), recorded as the `financeNotification` callback records them
//! (`payments::finance::record_notice`, `received_via = 'inquiry'`), to catch up on callbacks
//! that never reached us; then the collection settlements covering D are checked again against
//! what the run matched. Neither ever fails the run: what goes wrong is logged and said in the
//! run's outcome (`notices.error`), and the next run tries again.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgPool;

use crate::db::finance::Via;
use crate::domain::finance::COLLECTION_SETTLEMENT;
use crate::domain::{format_money, FinanceNotice, SettlementRules};
use crate::payments::finance::{self, NoticeOutcome};
use crate::skypay::client::SkyPayClient;
use crate::skypay::request::RawRequest;

/// The statement types asked for: collection settlements.
pub const STATEMENT_TYPES: &[u8] = &[COLLECTION_SETTLEMENT as u8];

/// What the catch-up after a run did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoticeCatchUp {
    /// The Manila days asked for, `start..=end`.
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    /// Notices SkyPay listed.
    pub fetched: usize,
    /// Stored now (the callback never came).
    pub recorded: usize,
    /// Stored before (by the callback, or an earlier catch-up).
    pub repeated: usize,
    /// Listed but unreadable (no `referenceNumber`, a field in a form we cannot read): logged.
    pub skipped: usize,
    /// Collection settlements covering the day, checked again: reference and drift (pesos).
    pub rechecked: Vec<Rechecked>,
    /// Why the catch-up or the re-check stopped, if it did.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rechecked {
    pub reference_number: String,
    pub drift: String,
}

/// The catch-up and the re-check after a successful run of `day`; `today` bounds the range.
pub async fn after_run(
    pool: &PgPool,
    client: &SkyPayClient,
    rules: SettlementRules,
    day: NaiveDate,
    today: NaiveDate,
) -> NoticeCatchUp {
    let next = day.succ_opt().unwrap_or(day);
    let end = if next <= today { next } else { day };
    let mut out = NoticeCatchUp {
        start: Some(day),
        end: Some(end),
        ..NoticeCatchUp::default()
    };
    if let Err(e) = catch_up(pool, client, rules, day, end, &mut out).await {
        let message = format!("{e:#}");
        tracing::warn!(%day, error = %message, "finance notices not caught up; the next run tries again");
        out.error = Some(message);
    }
    match finance::recheck_settlements(pool, day).await {
        Ok(checked) => {
            out.rechecked = checked
                .into_iter()
                .map(|(reference_number, s)| Rechecked {
                    reference_number,
                    drift: format_money(s.drift),
                })
                .collect();
        }
        Err(e) => {
            let message = format!("{e:#}");
            tracing::warn!(%day, error = %message, "settlements of the day not checked again");
            out.error.get_or_insert(message);
        }
    }
    out
}

/// Fetches the notices of `start..=end` and records each; stops at the first database error
/// (the rest wait for the next run).
pub async fn catch_up(
    pool: &PgPool,
    client: &SkyPayClient,
    rules: SettlementRules,
    start: NaiveDate,
    end: NaiveDate,
    out: &mut NoticeCatchUp,
) -> anyhow::Result<()> {
    let notices = client.notices_raw(start, end, STATEMENT_TYPES).await?;
    out.fetched = notices.len();
    for (i, text) in notices.iter().enumerate() {
        let Some(raw) = RawRequest::parse(text.get().as_bytes()) else {
            tracing::warn!(
                notice = i + 1,
                "notificationInquiry: a notice is not a JSON object"
            );
            out.skipped += 1;
            continue;
        };
        let notice = match FinanceNotice::try_from(&raw) {
            Ok(notice) => notice,
            Err(e) => {
                tracing::warn!(notice = i + 1, error = %e, "notificationInquiry: a notice cannot be read; skipped");
                out.skipped += 1;
                continue;
            }
        };
        let body = raw.without_credentials();
        match finance::record_notice(pool, &notice, body, Via::Inquiry, rules).await? {
            NoticeOutcome::Recorded { .. } => {
                tracing::warn!(
                    reference = %notice.reference_number,
                    "finance notice caught up by notificationInquiry: its callback never reached us"
                );
                out.recorded += 1;
            }
            NoticeOutcome::Repeated => out.repeated += 1,
        }
    }
    tracing::info!(%start, %end, fetched = out.fetched, recorded = out.recorded,
        repeated = out.repeated, skipped = out.skipped, "finance notices caught up");
    Ok(())
}
