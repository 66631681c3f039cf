//! The core loan system's payment API (docs/core-loan-contract.md).

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::message::PaymentEvent;

/// What one `POST /payments` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    /// 2xx: posted; the core's reference, if it sent one.
    Posted { reference: Option<String> },
    /// 409: already posted under this key.
    Duplicate,
    /// Other 4xx: the core will never accept it as sent.
    Permanent { status: u16, body: String },
    /// 429, 5xx, time-out, connection refused: worth retrying later.
    Transient { reason: String },
}

#[derive(Clone)]
pub struct CoreClient {
    http: reqwest::Client,
    payments_url: String,
    token: Option<String>,
}

impl std::fmt::Debug for CoreClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreClient")
            .field("payments_url", &self.payments_url)
            .finish_non_exhaustive()
    }
}

/// Longest we keep a response body for ops (it is stored with the collection).
const KEPT_BODY: usize = 2000;

impl CoreClient {
    pub fn new(base_url: &str, token: Option<String>, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self {
            http,
            payments_url: format!("{}/payments", base_url.trim_end_matches('/')),
            token,
        })
    }

    /// The request body, exactly as docs/core-loan-contract.md defines it.
    pub fn body(event: &PaymentEvent) -> serde_json::Value {
        let mut amount = event.amount;
        amount.rescale(2);
        json!({
            "paymentId": event.collection_id,
            "receiptNumber": event.receipt_number,
            "controlNumber": event.control_number,
            "loanRef": event.loan_ref,
            "amount": amount.to_string(),
            "currency": "PHP",
            "collectedAt": event.collected_at.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            "payChannel": event.pay_channel,
            "payerPhone": event.payer_phone,
            "source": "skypay",
        })
    }

    #[tracing::instrument(skip_all, fields(collection = %event.collection_id))]
    pub async fn post(&self, event: &PaymentEvent) -> PostOutcome {
        let mut request = self
            .http
            .post(&self.payments_url)
            .header("Idempotency-Key", event.collection_id.to_string())
            .json(&Self::body(event));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let started = std::time::Instant::now();
        let sent = request.send().await;
        metrics::histogram!("collector_core_request_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_timeout() => {
                return PostOutcome::Transient {
                    reason: "core loan system timed out".into(),
                }
            }
            Err(e) if e.is_connect() => {
                return PostOutcome::Transient {
                    reason: "core loan system refused the connection".into(),
                }
            }
            Err(e) => {
                return PostOutcome::Transient {
                    reason: format!("core loan system unreachable: {e}"),
                }
            }
        };
        let status = response.status();
        let body = match response.text().await {
            Ok(body) => body,
            Err(e) => {
                return PostOutcome::Transient {
                    reason: format!("core loan system response lost: {e}"),
                }
            }
        };
        classify(status.as_u16(), &body)
    }
}

/// The answer table of docs/core-loan-contract.md.
pub fn classify(status: u16, body: &str) -> PostOutcome {
    #[derive(Deserialize)]
    struct Posted {
        reference: Option<serde_json::Value>,
    }
    match status {
        200..=299 => {
            let reference = serde_json::from_str::<Posted>(body)
                .ok()
                .and_then(|p| p.reference)
                .map(|r| match r {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                });
            PostOutcome::Posted { reference }
        }
        409 => PostOutcome::Duplicate,
        429 => PostOutcome::Transient {
            reason: "HTTP 429 from core loan system".into(),
        },
        400..=499 => PostOutcome::Permanent {
            status,
            body: body.chars().take(KEPT_BODY).collect(),
        },
        _ => PostOutcome::Transient {
            reason: format!(
                "HTTP {status} from core loan system: {}",
                body.chars().take(200).collect::<String>()
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_outcomes_per_product_md() {
        assert_eq!(
            classify(201, r#"{"reference":"CORE-1"}"#),
            PostOutcome::Posted {
                reference: Some("CORE-1".into())
            }
        );
        assert_eq!(
            classify(200, "not json"),
            PostOutcome::Posted { reference: None }
        );
        assert_eq!(classify(409, ""), PostOutcome::Duplicate);
        for status in [400, 404, 422] {
            assert!(
                matches!(classify(status, "bad"), PostOutcome::Permanent { .. }),
                "{status}"
            );
        }
        for status in [429, 500, 502, 503, 504] {
            assert!(
                matches!(classify(status, ""), PostOutcome::Transient { .. }),
                "{status}"
            );
        }
    }
}
