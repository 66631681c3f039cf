//! SkyPay toward our API: `collectionInquiry` then `collectionCollect` for each payment, as
//! SkyPay sends them, and what SkyPay books as collected. A collect whose answer is `1000` is
//! booked; so is one the network drops before it reaches us (`dropRate`) and one whose answer
//! does not come in time (`timeoutMs`): the cash is in the till either way. A collect answered
//! with anything else is not booked.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use futures::stream::{self, StreamExt};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::book::{exact_amount, BookRow, TIME_FORMAT};
use super::credential::PartnerCredential;
use crate::domain::MANILA;
use crate::skypay::envelope;

/// Where the simulator sends its calls. `Debug` leaves the admin token out.
#[derive(Clone, Default, PartialEq)]
pub struct SimulatorTargets {
    /// Our SkyPay listener, e.g. `http://127.0.0.1:8080`; calls go to `{apiUrl}/skypay`.
    pub api_url: Option<String>,
    /// Our admin API, e.g. `http://127.0.0.1:9090`, to register fresh bills.
    pub admin_url: Option<String>,
    /// The admin API's bearer token.
    pub admin_token: Option<String>,
}

impl std::fmt::Debug for SimulatorTargets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatorTargets")
            .field("api_url", &self.api_url)
            .field("admin_url", &self.admin_url)
            .field("admin_token_set", &self.admin_token.is_some())
            .finish()
    }
}

/// `POST /simulate`'s body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SimulateRequest {
    /// Payments to make; default the number of `controlNumbers`, else 1.
    pub count: Option<usize>,
    /// Bills to pay, in turn (payment `i` pays `controlNumbers[i % len]`). Absent: one fresh
    /// bill per payment, registered through the admin API for `amount`.
    pub control_numbers: Option<Vec<String>>,
    /// Every payment's amount, sent as written (`"1300.00"`).
    #[serde(deserialize_with = "exact_amount")]
    pub amount: Decimal,
    /// Share (0–1) of collects SkyPay books but the network drops before they reach us.
    pub drop_rate: f64,
    /// The collect's client time-out: a collect not answered in time is booked anyway.
    pub timeout_ms: Option<u64>,
    /// Payments in flight at once.
    pub concurrency: usize,
    pub pay_channel: u32,
    pub phone: String,
    /// Send plain JSON instead of SkyPay's envelope.
    pub plain: bool,
}

impl Default for SimulateRequest {
    fn default() -> Self {
        Self {
            count: None,
            control_numbers: None,
            amount: Decimal::new(130_000, 2),
            drop_rate: 0.0,
            timeout_ms: None,
            concurrency: 8,
            pay_channel: 10,
            phone: "09221008333".to_owned(),
            plain: false,
        }
    }
}

/// At most this many payments per run.
pub const MAX_COUNT: usize = 100_000;
/// The inquiry's, the bill registration's and (without `timeoutMs`) the collect's time-out.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// At most this many error messages in a summary.
const MAX_ERRORS: usize = 20;

/// What a run did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SimulateSummary {
    /// Payments tried.
    pub attempted: usize,
    /// Fresh bills registered through the admin API.
    pub registered: usize,
    #[serde(rename = "answered1000")]
    pub answered_1000: usize,
    /// The inquiry or the collect answered something other than `1000`: nothing booked.
    pub refused: usize,
    /// The collect was not answered in time: booked.
    pub timed_out: usize,
    /// The collect never left SkyPay: booked.
    pub dropped: usize,
    pub booked: usize,
    /// No usable answer (a connection refused, an unreadable answer, a bill not registered):
    /// nothing booked.
    pub errors: usize,
    /// Refusals by `responseCode` (`HTTP 502` for an answer that is not HTTP 200).
    pub refusals: BTreeMap<String, usize>,
    pub dropped_receipts: Vec<String>,
    pub timed_out_receipts: Vec<String>,
    /// The first few errors, for the reader.
    pub error_messages: Vec<String>,
}

/// Why a run did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulateError {
    #[error("{0}")]
    Invalid(String),
}

/// How one payment ended.
enum Outcome {
    Answered1000,
    Refused(String),
    TimedOut(String),
    Dropped(String),
    Error(String),
}

/// Checks `request` against `targets` before anything is sent.
pub fn validate(
    request: &SimulateRequest,
    targets: &SimulatorTargets,
) -> Result<(), SimulateError> {
    let invalid = |m: &str| Err(SimulateError::Invalid(m.to_owned()));
    if !(0.0..=1.0).contains(&request.drop_rate) {
        return invalid("dropRate must be between 0 and 1");
    }
    if request.amount <= Decimal::ZERO {
        return invalid("amount must be above 0");
    }
    if !(1..=256).contains(&request.concurrency) {
        return invalid("concurrency must be 1 to 256");
    }
    if count(request) > MAX_COUNT {
        return invalid("count must be at most 100000");
    }
    if targets.api_url.is_none() {
        return invalid("no apiUrl: set it with --api-url or PUT /control");
    }
    match &request.control_numbers {
        Some(list) if list.is_empty() => invalid("controlNumbers is empty"),
        Some(_) => Ok(()),
        None if targets.admin_url.is_none() || targets.admin_token.is_none() => invalid(
            "without controlNumbers, fresh bills are registered: set adminUrl and adminToken",
        ),
        None => Ok(()),
    }
}

fn count(request: &SimulateRequest) -> usize {
    request
        .count
        .unwrap_or_else(|| request.control_numbers.as_ref().map_or(1, Vec::len))
}

/// Runs the payments, `concurrency` at a time, booking each through `book` as soon as SkyPay
/// would, and sums up.
pub async fn run(
    client: &reqwest::Client,
    credential: &PartnerCredential,
    targets: &SimulatorTargets,
    request: &SimulateRequest,
    book: impl Fn(BookRow) + Send + Sync,
) -> Result<SimulateSummary, SimulateError> {
    validate(request, targets)?;
    let n = count(request);
    let calls = Calls {
        client,
        credential,
        targets,
        request,
        book: &book,
    };
    let mut summary = SimulateSummary {
        attempted: n,
        ..Default::default()
    };
    let outcomes: Vec<(bool, Outcome)> = stream::iter(0..n)
        .map(|i| calls.pay(i))
        .buffer_unordered(request.concurrency)
        .collect()
        .await;
    for (registered, outcome) in outcomes {
        summary.registered += usize::from(registered);
        match outcome {
            Outcome::Answered1000 => summary.answered_1000 += 1,
            Outcome::Refused(code) => {
                summary.refused += 1;
                *summary.refusals.entry(code).or_default() += 1;
            }
            Outcome::TimedOut(receipt) => summary.timed_out_receipts.push(receipt),
            Outcome::Dropped(receipt) => summary.dropped_receipts.push(receipt),
            Outcome::Error(message) => {
                summary.errors += 1;
                if summary.error_messages.len() < MAX_ERRORS {
                    summary.error_messages.push(message);
                }
            }
        }
    }
    summary.timed_out = summary.timed_out_receipts.len();
    summary.dropped = summary.dropped_receipts.len();
    summary.booked = summary.answered_1000 + summary.timed_out + summary.dropped;
    summary.dropped_receipts.sort();
    summary.timed_out_receipts.sort();
    Ok(summary)
}

struct Calls<'a, F> {
    client: &'a reqwest::Client,
    credential: &'a PartnerCredential,
    targets: &'a SimulatorTargets,
    request: &'a SimulateRequest,
    book: &'a F,
}

impl<F: Fn(BookRow) + Sync> Calls<'_, F> {
    /// Payment `i`: its bill (registered if fresh), the inquiry, the collect. Says whether a
    /// bill was registered, and how it ended.
    async fn pay(&self, i: usize) -> (bool, Outcome) {
        let (control_number, fresh) = match &self.request.control_numbers {
            Some(list) => (list[i % list.len()].trim().to_owned(), false),
            None => (fresh_control_number(), true),
        };
        if fresh {
            if let Err(e) = self.register(&control_number).await {
                return (false, Outcome::Error(e));
            }
        }
        (fresh, self.inquire_and_collect(i, &control_number).await)
    }

    async fn inquire_and_collect(&self, i: usize, control_number: &str) -> Outcome {
        let r = self.request;
        let amount = r.amount.to_string();
        let inquiry = json!({
            "userName": self.credential.user(), "action": "collectionInquiry",
            "authentication": self.credential.key(),
            "controlNumber": control_number, "amount": amount, "phone": r.phone,
        });
        match self.send(&inquiry, DEFAULT_TIMEOUT).await {
            Ok(code) if code == "1000" => {}
            Ok(code) => return Outcome::Refused(code),
            Err(e) => return Outcome::Error(format!("inquiry {control_number}: {}", e.message())),
        }
        let receipt = receipt_number();
        let collected_time = Utc::now().with_timezone(&MANILA).naive_local();
        let row = BookRow::new(collected_time, control_number, r.amount, &r.phone, &receipt);
        if draw(i as u64) < r.drop_rate {
            (self.book)(row);
            return Outcome::Dropped(receipt);
        }
        let collect = json!({
            "userName": self.credential.user(), "action": "collectionCollect",
            "authentication": self.credential.key(),
            "controlNumber": control_number, "amount": amount, "phone": r.phone,
            "receiptNumber": receipt,
            "collectedTime": row.pay_time.format(TIME_FORMAT).to_string(),
            "payChannel": r.pay_channel,
        });
        let timeout = r.timeout_ms.map_or(DEFAULT_TIMEOUT, Duration::from_millis);
        match self.send(&collect, timeout).await {
            Ok(code) if code == "1000" => {
                (self.book)(row);
                Outcome::Answered1000
            }
            Ok(code) => Outcome::Refused(code),
            Err(SendError::TimedOut) => {
                (self.book)(row);
                Outcome::TimedOut(receipt)
            }
            Err(e) => Outcome::Error(format!(
                "collect {control_number} receipt {receipt}: {}",
                e.message()
            )),
        }
    }

    /// `PUT {adminUrl}/internal/bills/{controlNumber}`: a bill of `amount`, paid in full.
    async fn register(&self, control_number: &str) -> Result<(), String> {
        let (Some(admin), Some(token)) = (&self.targets.admin_url, &self.targets.admin_token)
        else {
            return Err("no adminUrl or adminToken".to_owned());
        };
        let body = json!({
            "loanRef": format!("LN-FS-{control_number}"),
            "amountDue": self.request.amount.to_string(),
            "allowPartial": false,
            "payer": {
                "lastName": "Dela Cruz", "firstName": "Juan", "middleName": "Santos",
                "address": "1740 Mabini St,Malate,Manila,1004 Metro Manila,Philippines",
                "phone": self.request.phone,
            }
        });
        let response = self
            .client
            .put(format!(
                "{}/internal/bills/{control_number}",
                admin.trim_end_matches('/')
            ))
            .bearer_auth(token)
            .timeout(DEFAULT_TIMEOUT)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("register {control_number}: {}", e.without_url()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(format!(
            "register {control_number}: HTTP {status}: {}",
            text.chars().take(200).collect::<String>()
        ))
    }

    /// POSTs `body` to `{apiUrl}/skypay` (sealed unless `plain`) and returns the answer's
    /// `responseCode`, or `HTTP <status>` when the answer is not HTTP 200.
    async fn send(&self, body: &Value, timeout: Duration) -> Result<String, SendError> {
        let api = self.targets.api_url.as_deref().unwrap_or_default();
        let key = self.credential.envelope_key();
        let text = body.to_string();
        let payload = if self.request.plain {
            text
        } else {
            envelope::encrypt(key, text.as_bytes())
        };
        let response = self
            .client
            .post(format!("{}/skypay", api.trim_end_matches('/')))
            .header(reqwest::header::CONTENT_TYPE, "text/plain")
            .body(payload)
            .timeout(timeout)
            .send()
            .await
            .map_err(SendError::from)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(SendError::from)?;
        if status != reqwest::StatusCode::OK {
            return Ok(format!("HTTP {}", status.as_u16()));
        }
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        let plain = match first {
            Some(b'{') => bytes.to_vec(),
            _ => envelope::decrypt(key, &bytes)
                .ok_or_else(|| SendError::Other("an answer our key does not open".into()))?,
        };
        let answer: Value = serde_json::from_slice(&plain)
            .map_err(|_| SendError::Other("an answer that is not JSON".into()))?;
        match &answer["responseCode"] {
            Value::String(code) => Ok(code.clone()),
            Value::Number(code) => Ok(code.to_string()),
            _ => Err(SendError::Other(format!(
                "an answer without responseCode: {answer}"
            ))),
        }
    }
}

enum SendError {
    TimedOut,
    Other(String),
}

impl SendError {
    fn message(&self) -> String {
        match self {
            SendError::TimedOut => "timed out".to_owned(),
            SendError::Other(m) => m.clone(),
        }
    }
}

impl From<reqwest::Error> for SendError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            SendError::TimedOut
        } else {
            SendError::Other(e.without_url().to_string())
        }
    }
}

/// `FS` and 10 upper-case hex digits, random.
pub fn receipt_number() -> String {
    let hex = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase();
    format!("FS{}", &hex[..10])
}

/// `SKY01` and 10 random digits: a control number our API accepts.
pub fn fresh_control_number() -> String {
    let n = uuid::Uuid::new_v4().as_u128() % 10_000_000_000;
    format!("SKY01{n:010}")
}

/// Deterministic draw in [0, 1) for payment `i` (a mixing function over its index, as
/// fake-core's): a drop rate of 0.3 drops close to 30% of any few hundred collects, and the
/// same payments on every run.
fn draw(i: u64) -> f64 {
    let mut x = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_and_control_numbers_have_the_expected_shape() {
        let r = receipt_number();
        assert_eq!(r.len(), 12);
        assert!(r.starts_with("FS"));
        assert!(r[2..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        let c = fresh_control_number();
        assert!(crate::domain::ControlNumber::parse(&c).is_ok(), "{c}");
    }

    #[test]
    fn the_drop_rate_is_close_to_what_was_asked() {
        let dropped = (0..1000).filter(|i| draw(*i) < 0.3).count();
        assert!((250..350).contains(&dropped), "{dropped}");
    }

    #[test]
    fn a_request_is_checked_before_anything_is_sent() {
        let targets = SimulatorTargets {
            api_url: Some("http://127.0.0.1:1".into()),
            ..Default::default()
        };
        let request: SimulateRequest = serde_json::from_str(
            r#"{"count":3,"controlNumbers":["SKY0100000001"],"amount":1300.5}"#,
        )
        .unwrap();
        assert_eq!(request.amount.to_string(), "1300.5");
        assert_eq!(validate(&request, &targets), Ok(()));
        let fresh: SimulateRequest = serde_json::from_str(r#"{"count":3}"#).unwrap();
        assert!(
            validate(&fresh, &targets).is_err(),
            "fresh bills need the admin API"
        );
        let bad: SimulateRequest =
            serde_json::from_str(r#"{"controlNumbers":["X"],"dropRate":1.5}"#).unwrap();
        assert!(validate(&bad, &targets).is_err());
        assert!(validate(&request, &SimulatorTargets::default()).is_err());
    }
}
