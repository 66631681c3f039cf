//! What the SkyPay side saw, attempt by attempt, for every receipt of a storm.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// What the SkyPay side saw for one receipt, over all its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    /// An attempt got no answer (connection lost), a retry got `-1015`: recorded.
    RecordedByLostAnswer,
    Refused(String),
    Unanswered,
}

#[derive(Debug, Clone)]
pub enum Attempt {
    Answer(String, Instant),
    NoAnswer(String),
}

/// Every attempt of every receipt.
#[derive(Default)]
pub struct Ledger {
    attempts: Mutex<HashMap<String, Vec<Attempt>>>,
}

impl Ledger {
    pub(super) fn push(&self, receipt: &str, attempt: Attempt) {
        self.attempts
            .lock()
            .unwrap()
            .entry(receipt.to_owned())
            .or_default()
            .push(attempt);
    }

    pub fn requests(&self) -> usize {
        self.attempts.lock().unwrap().values().map(Vec::len).sum()
    }

    pub fn outcomes(&self) -> HashMap<String, Outcome> {
        let attempts = self.attempts.lock().unwrap();
        attempts
            .iter()
            .map(|(receipt, tries)| (receipt.clone(), outcome(tries)))
            .collect()
    }

    /// Every code answered, with its count.
    pub fn codes(&self) -> HashMap<String, usize> {
        let mut codes = HashMap::new();
        for tries in self.attempts.lock().unwrap().values() {
            for t in tries {
                let key = match t {
                    Attempt::Answer(code, _) => code.clone(),
                    Attempt::NoAnswer(_) => "no answer".into(),
                };
                *codes.entry(key).or_default() += 1;
            }
        }
        codes
    }

    /// When the first `1000` after `after` was answered.
    pub fn first_1000_after(&self, after: Instant) -> Option<Instant> {
        self.attempts
            .lock()
            .unwrap()
            .values()
            .flatten()
            .filter_map(|t| match t {
                Attempt::Answer(code, at) if code == "1000" && *at > after => Some(*at),
                _ => None,
            })
            .min()
    }

    /// Receipts answered `1000` more than once (two copies both "recorded").
    pub fn accepted_twice(&self) -> Vec<String> {
        self.attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, tries)| {
                tries
                    .iter()
                    .filter(|t| matches!(t, Attempt::Answer(code, _) if code == "1000"))
                    .count()
                    > 1
            })
            .map(|(receipt, _)| receipt.clone())
            .collect()
    }

    /// `1000`s answered in [from, to).
    pub fn accepted_between(&self, from: Instant, to: Instant) -> usize {
        self.attempts
            .lock()
            .unwrap()
            .values()
            .flatten()
            .filter(|t| matches!(t, Attempt::Answer(code, at) if code == "1000" && *at >= from && *at < to))
            .count()
    }
}

fn outcome(tries: &[Attempt]) -> Outcome {
    let answered = |want: &str| {
        tries
            .iter()
            .any(|t| matches!(t, Attempt::Answer(code, _) if code == want))
    };
    let lost_answer = tries.iter().any(|t| matches!(t, Attempt::NoAnswer(_)));
    if answered("1000") {
        return Outcome::Accepted;
    }
    if answered("-1015") && lost_answer {
        return Outcome::RecordedByLostAnswer;
    }
    // The first definite answer; `-1009` only when nothing else came.
    let definite = tries.iter().find_map(|t| match t {
        Attempt::Answer(code, _) if code != "-1009" => Some(code.clone()),
        _ => None,
    });
    match (definite, tries.last()) {
        (Some(code), _) => Outcome::Refused(code),
        (None, Some(Attempt::Answer(code, _))) => Outcome::Refused(code.clone()),
        _ => Outcome::Unanswered,
    }
}
