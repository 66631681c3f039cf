//! The retry policy, whole: what a worker does with a payment after one call to the core loan
//! system. A pure function of the attempt number, the call's outcome and the schedule
//! (`RETRY_SCHEDULE`, one retry tier a delay); the consumer carries the decision out.
//!
//! | outcome of the call (`core_client::classify`) | decision |
//! |---|---|
//! | 2xx | ack: posted |
//! | 409 | ack: posted before under this key (flagged `core_duplicate`) |
//! | other 4xx (but 429) | dead letter: the core refuses it, retrying cannot help |
//! | 429, 5xx, time-out, no connection | retry in tier `attempt` while the schedule lasts, then dead letter |

use std::time::Duration;

use crate::core_client::PostOutcome;

/// What to do with the payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Posted: record it and acknowledge. `duplicate`: the core already had it (409).
    Ack {
        reference: Option<String>,
        duplicate: bool,
    },
    /// Publish it to retry tier `tier`; it comes back after `delay` as attempt `tier + 1`.
    Retry {
        tier: usize,
        delay: Duration,
        reason: String,
    },
    /// Give up: record the dead letter with this reason.
    DeadLetter { reason: String },
}

/// `attempt` is 0 for the first call, n after n retries; `schedule` holds each tier's delay.
pub fn decide(attempt: usize, outcome: PostOutcome, schedule: &[Duration]) -> Decision {
    match outcome {
        PostOutcome::Posted { reference } => Decision::Ack {
            reference,
            duplicate: false,
        },
        PostOutcome::Duplicate => Decision::Ack {
            reference: None,
            duplicate: true,
        },
        PostOutcome::Permanent { status, body } => Decision::DeadLetter {
            reason: format!("HTTP {status} from core loan system: {body}"),
        },
        PostOutcome::Transient { reason } => match schedule.get(attempt) {
            Some(&delay) => Decision::Retry {
                tier: attempt,
                delay,
                reason,
            },
            None => Decision::DeadLetter {
                reason: format!("retries exhausted after {} attempts: {reason}", attempt + 1),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &[u64]) -> Vec<Duration> {
        s.iter().copied().map(Duration::from_secs).collect()
    }

    fn transient() -> PostOutcome {
        PostOutcome::Transient {
            reason: "HTTP 503".into(),
        }
    }

    #[test]
    fn success_and_duplicate_are_acked() {
        let schedule = secs(&[10, 60]);
        assert_eq!(
            decide(
                0,
                PostOutcome::Posted {
                    reference: Some("R".into())
                },
                &schedule
            ),
            Decision::Ack {
                reference: Some("R".into()),
                duplicate: false
            }
        );
        assert_eq!(
            decide(5, PostOutcome::Duplicate, &schedule),
            Decision::Ack {
                reference: None,
                duplicate: true
            }
        );
    }

    #[test]
    fn transient_failures_climb_the_tiers_then_dead_letter() {
        let schedule = secs(&[10, 60, 300]);
        for attempt in 0..3 {
            assert_eq!(
                decide(attempt, transient(), &schedule),
                Decision::Retry {
                    tier: attempt,
                    delay: schedule[attempt],
                    reason: "HTTP 503".into()
                }
            );
        }
        match decide(3, transient(), &schedule) {
            Decision::DeadLetter { reason } => {
                assert!(reason.contains("after 4 attempts"), "{reason}");
                assert!(reason.contains("HTTP 503"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_permanent_refusal_is_dead_lettered_at_once() {
        let decision = decide(
            0,
            PostOutcome::Permanent {
                status: 422,
                body: "unknown loan".into(),
            },
            &secs(&[10]),
        );
        assert_eq!(
            decision,
            Decision::DeadLetter {
                reason: "HTTP 422 from core loan system: unknown loan".into()
            }
        );
    }

    #[test]
    fn every_attempt_gets_exactly_one_decision_and_retries_never_exceed_the_schedule() {
        for tiers in 0..8usize {
            let schedule = secs(&vec![1; tiers]);
            let retries = (0..20)
                .take_while(|&a| {
                    matches!(decide(a, transient(), &schedule), Decision::Retry { .. })
                })
                .count();
            assert_eq!(retries, tiers);
        }
    }
}
