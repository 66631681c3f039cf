//! Reconciliation with SkyPay's own books: for one Manila day, SkyPay's collection report
//! (`skypay::client`) against our collections, matched by `domain::reconcile`, every item
//! stored (`db::recon`). Run by hand (`collector reconcile --date …`, the admin API) or on a
//! schedule in the relay process (`schedule`); exceptions are worked by ops (`exceptions`).
//! After each successful run, SkyPay's finance notices of the day are caught up and its
//! settlements checked again (`settlement`).

pub mod exceptions;
pub mod schedule;
pub mod settlement;

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::config::{ConfigError, MatchOn, Settings};
use crate::db::recon::{self, FoundItem};
use crate::domain::reconcile::{self as matching, Ours, Rules, Theirs};
use crate::domain::{CollectionStatus, SettlementRules, MANILA};
use crate::skypay::client::{ClientSettings, ReportRow, SkyPayClient};

/// How long our collections are read beyond the day, so that SkyPay's rows of the day's first
/// minutes find a collection we stamped just before midnight.
const MARGIN: Duration = Duration::hours(1);

/// A report row's status that counts as collected. Others (a reversal, say) are counted in the
/// run and matched against nothing.
fn counts_as_collected(status: &str) -> bool {
    status.is_empty() || status.eq_ignore_ascii_case("confirmed")
}

/// What the admin API needs of reconciliation: the reconciler when `SKYPAY_API_URL` is set,
/// and how adopted collections are recorded.
#[derive(Clone)]
pub struct Service {
    pub reconciler: Option<std::sync::Arc<Reconciler>>,
    pub adopt: exceptions::AdoptSettings,
}

/// What a run needs: the database, SkyPay's client, and the match's bounds.
pub struct Reconciler {
    pool: PgPool,
    client: SkyPayClient,
    grace: Duration,
    not_posted_after: Duration,
    probable_window: Duration,
    match_on: MatchOn,
    by_create_date: bool,
    /// `SETTLEMENT_PERIOD`, `SETTLEMENT_AMOUNT_UNIT`: for the notices caught up after a run.
    settlement: SettlementRules,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunOutcome {
    pub run_id: i64,
    pub date: NaiveDate,
    pub their_rows: usize,
    /// Rows of SkyPay's report whose status does not count as collected.
    pub not_counted: usize,
    pub our_rows: usize,
    pub counts: serde_json::Value,
    /// SkyPay's finance notices caught up after the run, and the day's settlements checked
    /// again (never a reason for the run to fail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notices: Option<settlement::NoticeCatchUp>,
}

impl Reconciler {
    /// `None` when reconciliation is not configured (`SKYPAY_API_URL` unset); an error naming
    /// the setting when it is half configured.
    pub fn from_settings(settings: &Settings, pool: PgPool) -> Result<Option<Self>, ConfigError> {
        let recon = &settings.recon;
        let Some(api_url) = recon.skypay_api_url.clone() else {
            return Ok(None);
        };
        let caller_name = recon.skypay_caller_name.clone().ok_or_else(|| {
            ConfigError::new("SKYPAY_CALLER_NAME", "is not set (SKYPAY_API_URL is)")
        })?;
        let credential = recon.skypay_partner_credential.clone().ok_or_else(|| {
            ConfigError::new(
                "SKYPAY_PARTNER_CREDENTIAL",
                "is not set (SKYPAY_API_URL is)",
            )
        })?;
        let client = SkyPayClient::new(ClientSettings {
            api_url,
            caller_name,
            user: credential.user,
            key: credential.key.expose().to_owned(),
            action: recon.skypay_report_action.clone(),
            date_type: recon.skypay_report_date_type.clone(),
            page_size: recon.skypay_report_page_size,
            timeout: std::time::Duration::from_secs(30),
            attempts: 4,
        })
        .map_err(|e| ConfigError::new("SKYPAY_API_URL", format!("{e:#}")))?;
        let duration = |d: std::time::Duration| Duration::from_std(d).unwrap_or(Duration::MAX);
        Ok(Some(Self {
            pool,
            client,
            grace: duration(recon.recon_missing_theirs_grace),
            not_posted_after: duration(recon.recon_not_posted_after),
            probable_window: duration(recon.recon_probable_window),
            match_on: recon.recon_match_on,
            by_create_date: recon.skypay_report_date_type == "CreateDate",
            settlement: recon.settlement_rules(),
        }))
    }

    /// The same, required: an error naming `SKYPAY_API_URL` when it is unset.
    pub fn required(settings: &Settings, pool: PgPool) -> Result<Self, ConfigError> {
        Self::from_settings(settings, pool)?.ok_or_else(|| {
            ConfigError::new(
                "SKYPAY_API_URL",
                "is not set: reconciliation needs SkyPay's partner API",
            )
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Reconciles `date` (a Manila day). The run is recorded whether it succeeds or not.
    pub async fn run(
        &self,
        date: NaiveDate,
        trigger: &str,
        actor: &str,
    ) -> anyhow::Result<RunOutcome> {
        let run = recon::start_run(&self.pool, date, trigger, actor).await?;
        match self.match_day(date, run).await {
            Ok(mut outcome) => {
                tracing::info!(run, %date, trigger, counts = %outcome.counts, "reconciliation run succeeded");
                metrics::counter!("collector_recon_runs_total", "status" => "succeeded")
                    .increment(1);
                outcome.notices = Some(
                    settlement::after_run(&self.pool, &self.client, self.settlement, date, today())
                        .await,
                );
                Ok(outcome)
            }
            Err(e) => {
                let message = format!("{e:#}");
                tracing::error!(run, %date, trigger, error = %message, "reconciliation run failed");
                metrics::counter!("collector_recon_runs_total", "status" => "failed").increment(1);
                recon::fail_run(&self.pool, run, &message).await?;
                Err(e)
            }
        }
    }

    async fn match_day(&self, date: NaiveDate, run: i64) -> anyhow::Result<RunOutcome> {
        let today = Utc::now().with_timezone(&MANILA).date_naive();
        let next = date.succ_opt().unwrap_or(date);
        // The next day's rows too, once it has begun: a collection of the day's last seconds
        // may be on SkyPay's next day.
        let end = if next <= today { next } else { date };
        let report = self.client.report(date, end).await?;
        let (counted, not_counted): (Vec<ReportRow>, Vec<ReportRow>) = report
            .into_iter()
            .partition(|r| counts_as_collected(&r.status));
        let day_start = start_of(date);
        let day_end = start_of(next);
        let collections =
            recon::collections_between(&self.pool, day_start - MARGIN, day_end + MARGIN).await?;
        let theirs: Vec<Theirs> = counted
            .iter()
            .map(|r| {
                let stamp = if self.by_create_date {
                    r.create_date.or(r.pay_time)
                } else {
                    r.pay_time.or(r.create_date)
                };
                Theirs {
                    reference_no: r.reference_no.clone(),
                    control_no: r.control_no.clone(),
                    amount: r.amount,
                    pay_time: r
                        .pay_time
                        .and_then(|t| MANILA.from_local_datetime(&t).single()),
                    in_day: stamp.is_none_or(|t| t.date() == date),
                }
            })
            .collect();
        let ours: Vec<Ours> = collections
            .iter()
            .map(|c| Ours {
                id: c.id,
                receipt_number: c.receipt_number.clone(),
                control_number: c.control_number.clone(),
                amount: c.amount,
                collected_at: c.collected_at,
                posted: c.status == CollectionStatus::Posted,
                in_day: c.collected_at >= day_start && c.collected_at < day_end,
            })
            .collect();
        let rules = Rules {
            now: Utc::now(),
            missing_theirs_grace: self.grace,
            not_posted_after: self.not_posted_after,
            probable_window: self.probable_window,
            pair_by_reference: self.match_on == MatchOn::Receipt,
        };
        let items = matching::reconcile(&theirs, &ours, &rules);
        let our_amount = |id| collections.iter().find(|c| c.id == id).map(|c| c.amount);
        let found: Vec<FoundItem> = items
            .iter()
            .map(|item| {
                let row = item.theirs.map(|i| &counted[i]);
                FoundItem {
                    key: item.key.clone(),
                    status: item.status.as_str(),
                    state: item.state.as_str(),
                    collection_id: item.collection_id,
                    reference_no: row.map(|r| r.reference_no.clone()).or_else(|| {
                        let id = item.collection_id?;
                        collections
                            .iter()
                            .find(|c| c.id == id)
                            .map(|c| c.receipt_number.clone())
                    }),
                    control_number: row.map(|r| r.control_no.clone()).or_else(|| {
                        let id = item.collection_id?;
                        collections
                            .iter()
                            .find(|c| c.id == id)
                            .map(|c| c.control_number.clone())
                    }),
                    their_amount: row.map(|r| r.amount),
                    our_amount: item.collection_id.and_then(our_amount),
                    their_row: row.and_then(|r| serde_json::to_value(r).ok()),
                    detail: item.detail.clone(),
                }
            })
            .collect();
        let our_rows = ours.iter().filter(|o| o.in_day).count();
        let their_rows = theirs.iter().filter(|t| t.in_day).count();
        let counts =
            recon::store_items(&self.pool, date, run, &found, their_rows, our_rows).await?;
        Ok(RunOutcome {
            run_id: run,
            date,
            their_rows,
            not_counted: not_counted.len(),
            our_rows,
            counts,
            notices: None,
        })
    }
}

/// Midnight starting `date` in Manila, as an instant.
pub fn start_of(date: NaiveDate) -> chrono::DateTime<Utc> {
    MANILA
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| date.and_time(NaiveTime::MIN).and_utc())
}

/// Today in Manila.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&MANILA).date_naive()
}
