//! SkyPay's partner API, from our side: `POST {SKYPAY_API_URL}/services/{callerName}`, the
//! body SkyPay's AES envelope (the same as the callbacks', keyed by our partner key), the
//! operation chosen by the body's `action`, the answer in the same envelope.
//!
//! Two operations are called. `getReportCollection`: SkyPay's own list of what it collected,
//! by Manila day, page by page. `notificationInquiry`: the finance notices (settlements…) of a
//! range of days, to catch up on `financeNotification` callbacks that never reached us. Its
//! answer is not published; it is assumed to be `{"result": [<notice>, …]}`, each notice with
//! the fields of the callback, read as loosely as the report (an error envelope is a refusal,
//! trailing commas are dropped). Its published page is loose, and so is this reader: numbers may come as
//! strings, the JSON may carry trailing commas, an error may come back as
//! `{"responseCode": "-1032", …}` instead of a report, amounts are read from their JSON text as
//! exact decimals (never through a float), and rows that a page shift serves twice (rows that
//! appear while we page) are kept once. What SkyPay refuses (`-1032`, `-1001`, …) is an error
//! that says so; what fails on the way (a time-out, a 5xx, `-9999`) is retried a few times first.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::envelope::{self, EnvelopeKey};

/// How to reach SkyPay's partner API and ask for the report. `Debug` leaves the key out.
#[derive(Clone)]
pub struct ClientSettings {
    /// `SKYPAY_API_URL`, without a trailing `/`.
    pub api_url: String,
    /// `SKYPAY_CALLER_NAME`: the last part of the path, `/services/{callerName}`.
    pub caller_name: String,
    /// `SKYPAY_PARTNER_USER` and `SKYPAY_PARTNER_KEY`: our partner credential at SkyPay.
    pub user: String,
    pub key: String,
    /// `SKYPAY_REPORT_ACTION`: the spelling SkyPay accepts (its page shows several).
    pub action: String,
    /// `SKYPAY_REPORT_DATE_TYPE`: `CollectedTime` (the day the cash was taken) or `CreateDate`.
    pub date_type: String,
    /// `SKYPAY_REPORT_PAGE_SIZE`.
    pub page_size: u32,
    /// One call's time-out.
    pub timeout: Duration,
    /// Calls per page before a transient failure is given up on.
    pub attempts: u32,
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSettings")
            .field("api_url", &self.api_url)
            .field("caller_name", &self.caller_name)
            .field("user", &self.user)
            .field("action", &self.action)
            .field("date_type", &self.date_type)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

/// One row of SkyPay's collection report.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    /// Taken to be the collect's `receiptNumber` (`RECON_MATCH_ON`).
    pub reference_no: String,
    pub control_no: String,
    pub amount: Decimal,
    pub phone: String,
    /// When the cash was taken, Manila time.
    pub pay_time: Option<NaiveDateTime>,
    pub create_date: Option<NaiveDateTime>,
    pub status: String,
}

/// Why the report could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// SkyPay answered with an error code instead of a report (`-1032`: SkyPay refused the
    /// parameters or our credential; `-9999`: SkyPay's own failure, after retries).
    #[error("SkyPay answered {code} ({description}) to {action}")]
    Refused {
        action: String,
        code: String,
        description: String,
    },
    /// An answer that is not a report: not decryptable with our key, not JSON, a row without
    /// a reference or an amount.
    #[error("SkyPay's answer could not be read: {0}")]
    Unreadable(String),
    /// No answer after every attempt: time-outs, refused connections, HTTP errors.
    #[error("SkyPay did not answer: {0}")]
    Unreachable(String),
}

impl ClientError {
    /// Worth another attempt: SkyPay did not answer, or answered with its own failure.
    fn is_transient(&self) -> bool {
        match self {
            ClientError::Unreachable(_) => true,
            ClientError::Refused { code, .. } => code == "-9999",
            ClientError::Unreadable(_) => false,
        }
    }
}

/// One page as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub rows: Vec<ReportRow>,
    pub total: Option<u64>,
    pub last_page: bool,
}

/// Pages at most this many times in one pass, whatever `lastPage` says.
const MAX_PAGES: u32 = 10_000;
/// Passes over the report when it grew while we paged.
const MAX_PASSES: u32 = 3;

pub struct SkyPayClient {
    http: reqwest::Client,
    url: String,
    settings: ClientSettings,
    key: EnvelopeKey,
}

impl SkyPayClient {
    pub fn new(settings: ClientSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()?;
        Ok(Self {
            url: format!("{}/services/{}", settings.api_url, settings.caller_name),
            key: EnvelopeKey::derive(&settings.key),
            http,
            settings,
        })
    }

    /// Every row of SkyPay's report for `start..=end` (Manila days), each once. When the
    /// report grew while we paged (a row appearing shifts the pages, so one may be missed),
    /// it is read again, up to three passes, and the passes are merged.
    pub async fn report(
        &self,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<ReportRow>, ClientError> {
        let mut rows: Vec<ReportRow> = Vec::new();
        let mut seen: HashSet<ReportRow> = HashSet::new();
        for pass in 1..=MAX_PASSES {
            let mut total = None;
            for number in 1..=MAX_PAGES {
                let page = self.page_with_retries(start, end, number).await?;
                total = page.total.or(total);
                let empty = page.rows.is_empty();
                for row in page.rows {
                    if seen.insert(row.clone()) {
                        rows.push(row);
                    }
                }
                if page.last_page || empty {
                    break;
                }
            }
            let complete = total.is_none_or(|t| rows.len() as u64 >= t);
            if complete {
                break;
            }
            tracing::info!(
                pass,
                read = rows.len(),
                total,
                "SkyPay's report grew while we paged; reading it again"
            );
        }
        Ok(rows)
    }

    async fn page_with_retries(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        number: u32,
    ) -> Result<Page, ClientError> {
        let what = format!("report page {number}");
        self.with_retries(&what, || self.page(start, end, number))
            .await
    }

    /// `call`, again after a pause while it fails transiently (a time-out, a 5xx, SkyPay's
    /// `-9999`), up to `attempts` times in all.
    async fn with_retries<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, ClientError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        let mut attempt = 1;
        loop {
            match call().await {
                Err(e) if e.is_transient() && attempt < self.settings.attempts => {
                    let pause = Duration::from_millis(250 * (1 << attempt.min(5)));
                    tracing::warn!(error = %e, attempt, retry_in = ?pause, "SkyPay {what} failed");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// The finance notices of `start..=end` (Manila days) of the given statement types
    /// (`notificationInquiry`), each as its exact JSON text (an object: numbers never go
    /// through a float). Retried like a report page.
    pub async fn notices_raw(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        statement_types: &[u8],
    ) -> Result<Vec<Box<RawValue>>, ClientError> {
        let request = json!({
            "userName": self.settings.user,
            "action": NOTIFICATION_INQUIRY,
            "authentication": self.settings.key,
            "startDate": start.format("%Y-%m-%d").to_string(),
            "endDate": end.format("%Y-%m-%d").to_string(),
            "statementTypes": statement_types,
        });
        self.with_retries("notificationInquiry", || async {
            parse_notices(&self.call(&request).await?)
        })
        .await
    }

    /// One page of the report.
    pub async fn page(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        number: u32,
    ) -> Result<Page, ClientError> {
        let request = json!({
            "userName": self.settings.user,
            "action": self.settings.action,
            "authentication": self.settings.key,
            "startDate": start.format("%Y-%m-%d").to_string(),
            "endDate": end.format("%Y-%m-%d").to_string(),
            "dateType": self.settings.date_type,
            "pagination": number,
            "pageSize": self.settings.page_size,
        });
        let text = self.call(&request).await?;
        parse_page(&text, &self.settings.action)
    }

    /// Sends `request` in the envelope and returns the answer's JSON text.
    async fn call(&self, request: &Value) -> Result<String, ClientError> {
        let body = envelope::encrypt(&self.key, request.to_string().as_bytes());
        let response = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "text/plain")
            .body(body)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(without_url(e)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::Unreachable(without_url(e)))?;
        if !status.is_success() {
            return Err(ClientError::Unreachable(format!("HTTP {status}")));
        }
        open(&self.key, &bytes)
    }
}

/// The partner API's action for the finance notices of a range of days.
pub const NOTIFICATION_INQUIRY: &str = "notificationInquiry";

/// Reads a `notificationInquiry` answer: `{"result": [<notice>, …]}` (or an error envelope).
/// Each notice must be a JSON object; its fields are read by the callback's parser.
/// An answer's top-level fields and its `result`; SkyPay's error envelope
/// (`{"responseCode": "-1032", …}` instead of a result) is a refusal of `action`.
fn answer_of<'a>(
    cleaned: &'a str,
    action: &str,
) -> Result<(HashMap<String, &'a RawValue>, &'a RawValue), ClientError> {
    let top: HashMap<String, &RawValue> = serde_json::from_str(cleaned)
        .map_err(|e| ClientError::Unreadable(format!("not a JSON object: {e}")))?;
    let field = |name: &str| lookup(&top, name);
    if let Some(code) = field("responseCode").map(scalar_text) {
        if code != "1000" || field("result").is_none() {
            return Err(ClientError::Refused {
                action: action.to_owned(),
                code,
                description: field("responseDescription")
                    .map(scalar_text)
                    .unwrap_or_default(),
            });
        }
    }
    let result = field("result")
        .ok_or_else(|| ClientError::Unreadable(format!("no `result` in the {action} answer")))?;
    Ok((top, result))
}

pub fn parse_notices(text: &str) -> Result<Vec<Box<RawValue>>, ClientError> {
    let cleaned = without_trailing_commas(text);
    let (_, result) = answer_of(&cleaned, NOTIFICATION_INQUIRY)?;
    if result.get().trim() == "null" {
        return Ok(Vec::new());
    }
    let notices: Vec<Box<RawValue>> = serde_json::from_str(result.get())
        .map_err(|e| ClientError::Unreadable(format!("`result` is not a list: {e}")))?;
    for (i, notice) in notices.iter().enumerate() {
        if !notice.get().trim_start().starts_with('{') {
            return Err(ClientError::Unreadable(format!(
                "notice {} is not a JSON object",
                i + 1
            )));
        }
    }
    Ok(notices)
}

/// A reqwest error without the URL (which carries nothing secret here, but is long).
fn without_url(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    format!("{kind}: {}", e.without_url())
}

/// The answer's JSON text: plain if it starts with `{`, else opened with our key.
fn open(key: &EnvelopeKey, bytes: &[u8]) -> Result<String, ClientError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let plain = match first {
        Some(b'{') => bytes.to_vec(),
        Some(_) => envelope::decrypt(key, bytes).ok_or_else(|| {
            ClientError::Unreadable("neither JSON nor decryptable with our partner key".into())
        })?,
        None => return Err(ClientError::Unreadable("an empty answer".into())),
    };
    String::from_utf8(plain).map_err(|_| ClientError::Unreadable("not UTF-8".into()))
}

/// Reads one page of the report (or the error SkyPay sent instead).
pub fn parse_page(text: &str, action: &str) -> Result<Page, ClientError> {
    let cleaned = without_trailing_commas(text);
    let (top, result) = answer_of(&cleaned, action)?;
    let field = |name: &str| lookup(&top, name);
    let raw_rows: Vec<HashMap<String, &RawValue>> = serde_json::from_str(result.get())
        .map_err(|e| ClientError::Unreadable(format!("`result` is not a list of objects: {e}")))?;
    let rows = raw_rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            parse_row(row).map_err(|why| ClientError::Unreadable(format!("row {}: {why}", i + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let total = field("totalTransaction")
        .map(scalar_text)
        .and_then(|t| t.parse::<u64>().ok());
    let last_page = field("lastPage")
        .map(scalar_text)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Ok(Page {
        rows,
        total,
        last_page,
    })
}

fn parse_row(row: &HashMap<String, &RawValue>) -> Result<ReportRow, String> {
    let text = |name: &str| lookup(row, name).map(scalar_text).unwrap_or_default();
    let time = |name: &str| {
        lookup(row, name)
            .map(scalar_text)
            .filter(|t| !t.is_empty())
            .map(|t| {
                NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S")
                    .map_err(|_| format!("{name} `{t}` is not yyyy-MM-dd HH:mm:ss"))
            })
            .transpose()
    };
    let reference_no = text("referenceNo");
    if reference_no.is_empty() {
        return Err("no referenceNo".into());
    }
    let amount_text = lookup(row, "amount")
        .map(scalar_text)
        .ok_or_else(|| "no amount".to_owned())?;
    let amount = Decimal::from_str(&amount_text)
        .or_else(|_| Decimal::from_scientific(&amount_text))
        .map_err(|_| format!("amount `{amount_text}` is not a number"))?;
    Ok(ReportRow {
        reference_no,
        control_no: text("controlNo").trim().to_ascii_uppercase(),
        amount,
        phone: text("phone"),
        pay_time: time("payTime")?,
        create_date: time("createDate")?,
        status: text("status"),
    })
}

/// A field by name, with any capitalisation (SkyPay's page spells some both ways).
fn lookup<'a>(object: &HashMap<String, &'a RawValue>, name: &str) -> Option<&'a RawValue> {
    object.get(name).copied().or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    })
}

/// A JSON scalar as text: a string's content, or a number's (or `true`'s) own text, exactly
/// as written.
fn scalar_text(raw: &RawValue) -> String {
    let text = raw.get().trim();
    if text.starts_with('"') {
        serde_json::from_str::<String>(text).unwrap_or_default()
    } else if text == "null" {
        String::new()
    } else {
        text.to_owned()
    }
}

/// Removes a comma that is followed (after blanks) by `}` or `]`, outside strings: SkyPay's
/// published sample has them, and a strict JSON reader refuses them.
pub fn without_trailing_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            ',' => {
                let next = chars[i + 1..].iter().find(|n| !n.is_whitespace());
                if !matches!(next, Some('}') | Some(']')) {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"totalTransaction": 4383, "lastPage": false, "result": [
        {"createDate": "2022-11-02 11:55:35", "payTime": "2022-11-02 11:55:49",
         "controlNo": "SK98162998035", "amount": 1300.0, "phone": "09XXXXXXXXX",
         "referenceNo": "E103ED0E4726", "status": "Confirmed",},
    ],}"#;

    #[test]
    fn the_published_sample_is_read_trailing_commas_and_all() {
        let page = parse_page(SAMPLE, "getReportCollection").unwrap();
        assert_eq!(page.total, Some(4383));
        assert!(!page.last_page);
        let row = &page.rows[0];
        assert_eq!(row.reference_no, "E103ED0E4726");
        assert_eq!(row.control_no, "SK98162998035");
        assert_eq!(row.amount, Decimal::from_str("1300.0").unwrap());
        assert_eq!(
            row.pay_time,
            NaiveDateTime::parse_from_str("2022-11-02 11:55:49", "%Y-%m-%d %H:%M:%S").ok()
        );
    }

    #[test]
    fn amounts_are_exact_and_numbers_may_be_strings() {
        let text = r#"{"totalTransaction": "2", "lastPage": "true", "result": [
            {"referenceNo": "R1", "controlNo": "sk1", "amount": 1300.10, "payTime": "2026-11-20 10:00:00"},
            {"referenceNo": "R2", "controlNo": "SK2", "amount": "0.30", "payTime": "2026-11-20 10:00:01"},
            {"referenceNo": "R3", "controlNo": "SK3", "amount": 12345678.99, "payTime": ""}
        ]}"#;
        let page = parse_page(text, "a").unwrap();
        assert_eq!(page.total, Some(2));
        assert!(page.last_page);
        assert_eq!(page.rows[0].amount.to_string(), "1300.10");
        assert_eq!(page.rows[0].control_no, "SK1");
        assert_eq!(page.rows[1].amount.to_string(), "0.30");
        assert_eq!(page.rows[2].amount.to_string(), "12345678.99");
        assert_eq!(page.rows[2].pay_time, None);
    }

    #[test]
    fn an_error_envelope_is_a_refusal_that_says_which() {
        let err = parse_page(
            r#"{"responseCode":"-1032","responseDescription":"Parameter error"}"#,
            "getReportCollection",
        )
        .unwrap_err();
        assert_eq!(
            err,
            ClientError::Refused {
                action: "getReportCollection".into(),
                code: "-1032".into(),
                description: "Parameter error".into()
            }
        );
        assert!(err.to_string().contains("-1032"));
        assert!(!err.is_transient());
        let err = parse_page(r#"{"responseCode":-9999}"#, "a").unwrap_err();
        assert!(err.is_transient(), "{err}");
    }

    #[test]
    fn rows_without_a_reference_or_an_amount_are_refused_by_row() {
        let err = parse_page(
            r#"{"result":[{"referenceNo":"R1","amount":1},{"amount":2}]}"#,
            "a",
        )
        .unwrap_err();
        assert!(err.to_string().contains("row 2"), "{err}");
        let err =
            parse_page(r#"{"result":[{"referenceNo":"R1","amount":"1.2.3"}]}"#, "a").unwrap_err();
        assert!(err.to_string().contains("1.2.3"), "{err}");
    }

    #[test]
    fn trailing_commas_go_but_commas_in_strings_stay() {
        assert_eq!(
            without_trailing_commas(r#"{"a": [1, 2,], "b": "x,}",}"#),
            r#"{"a": [1, 2], "b": "x,}"}"#
        );
        assert_eq!(
            without_trailing_commas(r#"{"a":"\",]"}"#),
            r#"{"a":"\",]"}"#
        );
    }

    #[test]
    fn notices_are_kept_as_their_exact_text() {
        let notices = parse_notices(
            r#"{"result":[{"referenceNumber":"FN-1","amount":3900.10,"statementType":4,},],}"#,
        )
        .unwrap();
        assert_eq!(notices.len(), 1);
        assert!(notices[0].get().contains("3900.10"), "{}", notices[0].get());
        assert!(parse_notices(r#"{"responseCode":"1000","result":null}"#)
            .unwrap()
            .is_empty());
        let err =
            parse_notices(r#"{"responseCode":"-1032","responseDescription":"Parameter error"}"#)
                .unwrap_err();
        assert!(
            err.to_string().contains("notificationInquiry") && err.to_string().contains("-1032")
        );
        assert!(parse_notices(r#"{"result":[1]}"#).is_err());
        assert!(parse_notices(r#"{"notices":[]}"#).is_err());
    }

    #[test]
    fn an_encrypted_answer_is_opened_with_our_key() {
        let key = EnvelopeKey::derive("partner-key");
        let sealed = envelope::encrypt(&key, SAMPLE.as_bytes());
        assert_eq!(open(&key, sealed.as_bytes()).unwrap(), SAMPLE);
        let other = EnvelopeKey::derive("another-key");
        assert!(matches!(
            open(&other, sealed.as_bytes()),
            Err(ClientError::Unreadable(_))
        ));
        assert_eq!(open(&key, SAMPLE.as_bytes()).unwrap(), SAMPLE);
    }
}
