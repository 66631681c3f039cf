//! The figures of one case, appended to `target/tmp/faults/results.jsonl`.

use std::fs::OpenOptions;
use std::path::PathBuf;

use serde_json::json;

use super::long;

/// One case's figures, as RELIABILITY.md reports them.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Figures {
    pub case: String,
    /// Distinct collects (receipts) sent.
    pub sent: usize,
    /// HTTP requests, retries included.
    pub requests: usize,
    pub answered_1000: usize,
    /// No answer reached the client, the retry found the receipt recorded (`-1015`).
    pub recorded_by_unanswered_attempt: usize,
    pub refused: usize,
    pub unanswered: usize,
    pub posted: usize,
    pub dead_lettered: usize,
    pub lost: usize,
    pub posted_twice: usize,
    pub core_calls: u64,
    pub kills: u32,
    pub recovery_ms: Option<u64>,
    pub settle_ms: u64,
    pub log_lines: usize,
    pub notes: String,
}

impl Figures {
    /// Appends the figures to `target/tmp/faults/results.jsonl` (RELIABILITY.md is made from it).
    pub fn record(&self) {
        use std::io::Write;
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("faults")
            .join("results.jsonl");
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        let mut line = serde_json::to_value(self).unwrap();
        line["long"] = json!(long());
        line["at"] = json!(chrono::Utc::now().to_rfc3339());
        writeln!(file, "{line}").unwrap();
    }
}
