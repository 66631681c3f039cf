//! A SkyPay-like client: collect storms that retry what got no answer, and the request
//! bodies the cases send.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::{Attempt, Ledger, KEY, PAYER_PHONE, USER};

/// A collect storm, sent as SkyPay would: each receipt is retried (same body) while it gets
/// no answer or `-1009`, until `give_up_after`.
#[derive(Clone)]
pub struct Storm {
    pub receipts: usize,
    pub concurrency: usize,
    /// Collects started per second (open loop); `None`: as fast as `concurrency` allows.
    pub rate: Option<u32>,
    pub receipt_prefix: String,
    pub give_up_after: Duration,
    /// Cancelled (`StormHandle::stop_sending`): no new receipt is sent; `receipts` is then
    /// an upper bound, for a storm that must last as long as a fault does.
    pub stop: tokio_util::sync::CancellationToken,
}

impl Storm {
    pub fn new(case: &str, receipts: usize) -> Self {
        Self {
            receipts,
            concurrency: 32,
            rate: None,
            receipt_prefix: format!("{case}-"),
            give_up_after: Duration::from_secs(90),
            stop: tokio_util::sync::CancellationToken::new(),
        }
    }

    /// Starts the storm against `urls` (round-robin, a retry goes to the next one).
    pub fn start(self, urls: Vec<String>, bills: Vec<String>) -> StormHandle {
        let ledger = Arc::new(Ledger::default());
        let stop = self.stop.clone();
        let handle = tokio::spawn({
            let ledger = ledger.clone();
            async move { self.run(urls, bills, ledger).await }
        });
        StormHandle {
            ledger,
            handle,
            stop,
        }
    }

    async fn run(self, urls: Vec<String>, bills: Vec<String>, ledger: Arc<Ledger>) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .pool_max_idle_per_host(self.concurrency)
            .build()
            .unwrap();
        let urls = Arc::new(urls);
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        let start = Instant::now();
        for i in 0..self.receipts {
            if self.stop.is_cancelled() {
                break;
            }
            if let Some(rate) = self.rate {
                let due = start + Duration::from_secs_f64(i as f64 / f64::from(rate));
                tokio::time::sleep_until(due.into()).await;
            }
            let permit = permits.clone().acquire_owned().await.unwrap();
            let receipt = format!("{}{i:06}", self.receipt_prefix);
            let body = collect_body(&bills[i % bills.len()], "10.00", &receipt)
                .with_collected_time(i / bills.len());
            let (client, urls, ledger) = (client.clone(), urls.clone(), ledger.clone());
            let give_up = self.give_up_after;
            tasks.spawn(async move {
                send_until_answered(&client, &urls, i, &receipt, &body, &ledger, give_up).await;
                drop(permit);
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}

pub struct StormHandle {
    pub ledger: Arc<Ledger>,
    handle: tokio::task::JoinHandle<()>,
    stop: tokio_util::sync::CancellationToken,
}

impl StormHandle {
    /// Sends no new receipt from now on (those sent are still retried until answered).
    pub fn stop_sending(&self) {
        self.stop.cancel();
    }

    pub async fn finish(self) -> Arc<Ledger> {
        self.handle.await.unwrap();
        self.ledger
    }
}

pub async fn send_until_answered(
    client: &reqwest::Client,
    urls: &[String],
    seed: usize,
    receipt: &str,
    body: &Value,
    ledger: &Ledger,
    give_up: Duration,
) {
    let start = Instant::now();
    for attempt in 0.. {
        let url = &urls[(seed + attempt) % urls.len()];
        match post_skypay(client, url, body).await {
            Ok(code) => {
                let again = code == "-1009";
                ledger.push(receipt, Attempt::Answer(code, Instant::now()));
                if !again {
                    return;
                }
            }
            Err(e) => ledger.push(receipt, Attempt::NoAnswer(e)),
        }
        if start.elapsed() > give_up {
            return;
        }
        let backoff = Duration::from_millis((50 * (1 << attempt.min(4))) as u64);
        tokio::time::sleep(backoff).await;
    }
}

/// One SkyPay request; `Ok(code)` when a contract answer came back. Anything else that
/// comes back (not HTTP 200, not JSON) fails the test: the contract forbids it.
pub async fn post_skypay(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
) -> Result<String, String> {
    let response = client
        .post(format!("{url}/skypay"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("{e}"))?;
    assert_eq!(status, 200, "every SkyPay answer is HTTP 200: {text}");
    let answer: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("answer is not JSON: {text}"));
    Ok(answer["responseCode"]
        .as_str()
        .unwrap_or_else(|| panic!("no responseCode: {text}"))
        .to_owned())
}

pub fn collect_body(control_number: &str, amount: &str, receipt: &str) -> Value {
    json!({
        "userName": USER, "action": "collectionCollect", "authentication": KEY,
        "controlNumber": control_number, "amount": amount, "phone": PAYER_PHONE,
        "receiptNumber": receipt, "collectedTime": "2026-11-20 10:15:00", "payChannel": 10
    })
}

/// Collects on one bill 16 minutes apart, so that a storm does not look like double
/// payments (same bill and amount within 15 minutes).
pub trait CollectedTime {
    fn with_collected_time(self, slot: usize) -> Self;
}

impl CollectedTime for Value {
    fn with_collected_time(mut self, slot: usize) -> Self {
        let base = chrono::NaiveDate::from_ymd_opt(2026, 10, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let at = base + chrono::Duration::minutes(16 * slot as i64);
        self["collectedTime"] = json!(at.format("%Y-%m-%d %H:%M:%S").to_string());
        self
    }
}

pub fn inquiry_body(control_number: &str, amount: &str) -> Value {
    json!({
        "userName": USER, "action": "collectionInquiry", "authentication": KEY,
        "controlNumber": control_number, "amount": amount, "phone": PAYER_PHONE
    })
}
