//! A case's end: wait until every collection is final, check the promise against the
//! database, the core's record and the storm's ledger, and scan the logs for personal data
//! and secrets.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::{
    long, Figures, Ledger, Outcome, Stack, ADMIN_TOKEN, KEY, PAYER_FIRST, PAYER_LAST, PAYER_PHONE,
};

impl Stack {
    /// Waits until every recorded collection has a final status (posted or dead-lettered)
    /// and the outbox is drained; returns how long that took.
    pub async fn settle(&mut self, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            self.assert_alive();
            let (open, unpublished): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM collections WHERE status NOT IN ('posted', 'dead_lettered')), \
                        (SELECT count(*) FROM outbox WHERE published_at IS NULL)",
            )
            .fetch_one(&self.db.pool)
            .await
            .unwrap();
            if open == 0 && unpublished == 0 {
                return start.elapsed();
            }
            if start.elapsed() > limit {
                let by_status: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT status, count(*) FROM collections GROUP BY status ORDER BY status",
                )
                .fetch_all(&self.db.pool)
                .await
                .unwrap();
                panic!(
                    "[{}] not settled after {limit:?}: {open} collections not final, {unpublished} \
                     outbox rows unpublished; by status {by_status:?}; logs in {}\n{}",
                    self.case,
                    self.dir.display(),
                    self.diagnosis().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Checks the promise against the database and the core's record, and the logs for
    /// personal data and secrets; returns the case's figures.
    pub async fn check(&self, ledger: &Ledger) -> Figures {
        let rows: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT receipt_number, status, last_error FROM collections")
                .fetch_all(&self.db.pool)
                .await
                .unwrap();
        let recorded: HashMap<&str, (&str, Option<&str>)> = rows
            .iter()
            .map(|(r, s, e)| (r.as_str(), (s.as_str(), e.as_deref())))
            .collect();
        assert_eq!(recorded.len(), rows.len(), "one collection per receipt");

        // Posted at the core, per receipt: more than one is a payment posted twice.
        let mut posted_per_receipt: HashMap<String, u32> = HashMap::new();
        for p in self.core.core.posted() {
            let receipt = p.body["receiptNumber"].as_str().unwrap_or("").to_owned();
            *posted_per_receipt.entry(receipt).or_default() += 1;
        }
        let posted_twice: Vec<&String> = posted_per_receipt
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(r, _)| r)
            .collect();

        let outcomes = ledger.outcomes();
        let mut figures = Figures {
            case: self.case.clone(),
            sent: outcomes.len(),
            requests: ledger.requests(),
            ..Figures::default()
        };
        let mut lost = Vec::new();
        let mut wrongly_recorded = Vec::new();
        let mut wrongly_posted = Vec::new();
        for (receipt, outcome) in &outcomes {
            let in_db = recorded.get(receipt.as_str());
            let posted = posted_per_receipt.contains_key(receipt);
            match outcome {
                Outcome::Accepted => figures.answered_1000 += 1,
                Outcome::RecordedByLostAnswer => figures.recorded_by_unanswered_attempt += 1,
                Outcome::Refused(_) => figures.refused += 1,
                Outcome::Unanswered => figures.unanswered += 1,
            }
            match outcome {
                Outcome::Accepted | Outcome::RecordedByLostAnswer => match in_db {
                    Some(("posted", _)) if posted => figures.posted += 1,
                    Some(("dead_lettered", Some(reason))) if !reason.is_empty() => {
                        figures.dead_lettered += 1
                    }
                    _ => lost.push(receipt.clone()),
                },
                // -1009 means nothing was recorded; other refusals record no collection.
                Outcome::Refused(code) => {
                    if in_db.is_some() {
                        wrongly_recorded.push(format!("{receipt} ({code})"));
                    }
                    if posted {
                        wrongly_posted.push(receipt.clone());
                    }
                }
                // No answer ever came: SkyPay would treat it as not collected... but it may
                // have been recorded; then it must be posted like any other.
                Outcome::Unanswered => match in_db {
                    None | Some(("dead_lettered", Some(_))) => {}
                    Some(("posted", _)) if posted => {}
                    Some(_) => lost.push(receipt.clone()),
                },
            }
        }
        // Receipts the storm never sent must not appear either.
        let sent: HashSet<&str> = outcomes.keys().map(String::as_str).collect();
        let strangers: Vec<&&str> = recorded.keys().filter(|r| !sent.contains(**r)).collect();
        figures.lost = lost.len();
        figures.posted_twice = posted_twice.len();
        figures.core_calls = self.core.core.calls_started();
        figures.kills = self.procs.iter().map(|p| p.kills).sum();
        let accepted_twice = ledger.accepted_twice();
        let leaks = self.grep_logs();
        figures.log_lines = leaks.lines;
        println!("[{}] {figures:?}", self.case);
        assert!(lost.is_empty(), "[{}] lost: {lost:?}", self.case);
        assert!(
            accepted_twice.is_empty(),
            "[{}] answered 1000 twice: {accepted_twice:?}",
            self.case
        );
        assert!(
            posted_twice.is_empty(),
            "[{}] posted twice: {posted_twice:?}",
            self.case
        );
        assert!(
            wrongly_recorded.is_empty(),
            "[{}] answered otherwise but recorded: {wrongly_recorded:?}",
            self.case
        );
        assert!(
            wrongly_posted.is_empty(),
            "[{}] answered otherwise but posted: {wrongly_posted:?}",
            self.case
        );
        assert!(
            strangers.is_empty(),
            "[{}] recorded but never sent: {strangers:?}",
            self.case
        );
        assert!(
            leaks.found.is_empty(),
            "[{}] personal data or secrets in the logs: {:?}",
            self.case,
            leaks.found
        );
        figures
    }

    /// Every log line of every process, searched for the payer's name, address and phone,
    /// the SkyPay key and the admin token.
    pub fn grep_logs(&self) -> LogScan {
        let forbidden = [
            PAYER_LAST,
            PAYER_FIRST,
            "Kalayaan",
            PAYER_PHONE,
            &PAYER_PHONE[1..],
            KEY,
            ADMIN_TOKEN,
        ];
        let mut scan = LogScan::default();
        for proc in &self.procs {
            let Ok(text) = std::fs::read_to_string(&proc.log) else {
                continue;
            };
            for line in text.lines() {
                scan.lines += 1;
                for word in forbidden {
                    if line.contains(word) {
                        scan.found.push(format!(
                            "{}: `{word}` in {}",
                            proc.name,
                            line.chars().take(300).collect::<String>()
                        ));
                    }
                }
            }
        }
        scan
    }

    /// Runs a case's end: settles, checks, records the figures, tears down.
    pub async fn finish(
        mut self,
        ledger: &Ledger,
        recovery: Option<Duration>,
        notes: String,
    ) -> Figures {
        let settle = self
            .settle(Duration::from_secs(if long() { 300 } else { 90 }))
            .await;
        let mut f = self.check(ledger).await;
        f.recovery_ms = recovery.map(|d| d.as_millis() as u64);
        f.settle_ms = settle.as_millis() as u64;
        f.notes = notes;
        f.record();
        self.teardown().await;
        f
    }
}

#[derive(Default)]
pub struct LogScan {
    pub lines: usize,
    pub found: Vec<String>,
}
