//! Reconciliation on a schedule, in the relay process: the previous Manila day once a night
//! (`RECON_NIGHTLY_AT`), and today so far every `RECON_INTRADAY_EVERY`. Several relay processes
//! may run it at once: a day's items are stored in one transaction, and a second run of the
//! same day finds the same items, so nothing doubles.

use std::time::Duration;

use chrono::{NaiveTime, Utc};
use tokio_util::sync::CancellationToken;

use super::{today, Reconciler};
use crate::db;
use crate::domain::MANILA;

/// How often the schedule looks at the clock.
const TICK: Duration = Duration::from_secs(30);
const ACTOR: &str = "reconciliation-schedule";

/// Runs until `cancel` fires. A failed run is recorded (and logged) and tried again at the
/// next tick for the nightly one, at the next interval for the intraday one.
pub async fn run(
    reconciler: Reconciler,
    nightly_at: Option<NaiveTime>,
    intraday_every: Option<Duration>,
    cancel: CancellationToken,
) {
    let mut last_intraday = tokio::time::Instant::now();
    let mut ticker = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = ticker.tick() => {}
        }
        if let Some(at) = nightly_at {
            let now = Utc::now().with_timezone(&MANILA);
            let yesterday = today().pred_opt();
            if let Some(day) = yesterday.filter(|_| now.time() >= at) {
                match db::recon::succeeded(reconciler.pool(), day, "nightly").await {
                    Ok(true) => {}
                    Ok(false) => {
                        let _ = reconciler.run(day, "nightly", ACTOR).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %format_args!("{e:#}"), "reconciliation schedule cannot read its runs")
                    }
                }
            }
        }
        if let Some(every) = intraday_every {
            if last_intraday.elapsed() >= every {
                last_intraday = tokio::time::Instant::now();
                let _ = reconciler.run(today(), "intraday", ACTOR).await;
            }
        }
    }
    tracing::info!("reconciliation schedule stopped");
}
