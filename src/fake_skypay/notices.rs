//! SkyPay's finance notices, faked: the list `notificationInquiry` answers from, and the
//! `financeNotification` callback the fake can push to our API (`POST /notify`).
//!
//! A notice is kept as the JSON object SkyPay would send in the callback (without `userName`,
//! `action`, `authentication`): `transctionDate`, `companyPrefix`, `accountNo`,
//! `statementType`, `signType`, `amount`, `currency`, `referenceNumber`… Only
//! `referenceNumber` is required; a notice with the `referenceNumber` and `accountNo` of one
//! listed already replaces it.

use std::time::Duration;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::book::parse_day;
use super::credential::PartnerCredential;
use crate::domain::finance::transaction_day;
use crate::skypay::envelope;

/// The partner API's action that lists notices (compared without regard to case).
pub const NOTIFICATION_INQUIRY: &str = "notificationInquiry";
/// The callback's action.
pub const FINANCE_NOTIFICATION: &str = "financeNotification";

/// The fields that are the callback's envelope, not the notice.
const ENVELOPE_FIELDS: [&str; 3] = ["userName", "action", "authentication"];

/// `notice` checked and without envelope fields, or why it cannot be listed.
pub fn checked(notice: Value) -> Result<Map<String, Value>, String> {
    let Value::Object(mut notice) = notice else {
        return Err("a notice is a JSON object".to_owned());
    };
    for field in ENVELOPE_FIELDS {
        notice.remove(field);
    }
    match notice.get("referenceNumber") {
        Some(Value::String(r)) if !r.trim().is_empty() => Ok(notice),
        Some(Value::Number(_)) => Ok(notice),
        _ => Err("a notice needs a referenceNumber".to_owned()),
    }
}

/// A field as text: a string's content or a number's digits; empty when absent.
fn text(notice: &Map<String, Value>, field: &str) -> String {
    match notice.get(field) {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The key a notice is listed under: `referenceNumber` and `accountNo`.
pub fn key(notice: &Map<String, Value>) -> (String, String) {
    (text(notice, "referenceNumber"), text(notice, "accountNo"))
}

/// What a `notificationInquiry` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeQuery {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Absent or empty: every type.
    pub statement_types: Vec<i64>,
}

/// Reads the query, or says which field is wrong.
pub fn parse_query(request: &Map<String, Value>) -> Result<NoticeQuery, String> {
    let day = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .and_then(parse_day)
            .ok_or_else(|| format!("{name} must be yyyy-MM-dd"))
    };
    let (start_date, end_date) = (day("startDate")?, day("endDate")?);
    if end_date < start_date {
        return Err("endDate is before startDate".to_owned());
    }
    let statement_types = match request.get("statementTypes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(types)) => types
            .iter()
            .map(|t| match t {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(|| "statementTypes must be a list of numbers".to_owned())?,
        Some(_) => return Err("statementTypes must be a list of numbers".to_owned()),
    };
    Ok(NoticeQuery {
        start_date,
        end_date,
        statement_types,
    })
}

/// The notices whose transaction day falls on the query's days, of its statement types.
pub fn select(notices: &[Map<String, Value>], query: &NoticeQuery) -> Vec<Value> {
    notices
        .iter()
        .filter(|n| {
            let date = match n.get("transctionDate").or_else(|| n.get("transactionDate")) {
                Some(Value::String(s)) => transaction_day(s),
                _ => None,
            };
            date.is_some_and(|d| d >= query.start_date && d <= query.end_date)
        })
        .filter(|n| {
            query.statement_types.is_empty()
                || text(n, "statementType")
                    .parse::<i64>()
                    .is_ok_and(|t| query.statement_types.contains(&t))
        })
        .map(|n| Value::Object(n.clone()))
        .collect()
}

/// The answer to a `notificationInquiry`, as this service assumes SkyPay writes it:
/// `{"result":[<notice>, …]}`.
pub fn write_answer(selected: Vec<Value>) -> String {
    serde_json::json!({ "result": selected }).to_string()
}

/// The `financeNotification` callback of `notice`, with the credential.
pub fn callback(notice: &Map<String, Value>, credential: &PartnerCredential) -> Value {
    let mut body = Map::new();
    body.insert("userName".into(), credential.user().into());
    body.insert("action".into(), FINANCE_NOTIFICATION.into());
    body.insert("authentication".into(), credential.key().into());
    for (k, v) in notice {
        body.insert(k.clone(), v.clone());
    }
    Value::Object(body)
}

/// Sends `notice` as a `financeNotification` callback to `{api_url}/skypay` (sealed with the
/// credential's key unless `plain`) and returns our API's answer, opened.
pub async fn push(
    client: &reqwest::Client,
    api_url: &str,
    credential: &PartnerCredential,
    notice: &Map<String, Value>,
    plain: bool,
) -> Result<Value, String> {
    let text = callback(notice, credential).to_string();
    let key = credential.envelope_key();
    let payload = if plain {
        text
    } else {
        envelope::encrypt(key, text.as_bytes())
    };
    let response = client
        .post(format!("{}/skypay", api_url.trim_end_matches('/')))
        .header(reqwest::header::CONTENT_TYPE, "text/plain")
        .body(payload)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("financeNotification not sent: {}", e.without_url()))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("financeNotification not answered: {}", e.without_url()))?;
    if status != reqwest::StatusCode::OK {
        return Err(format!(
            "financeNotification answered HTTP {}",
            status.as_u16()
        ));
    }
    let opened = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => bytes.to_vec(),
        _ => envelope::decrypt(key, &bytes)
            .ok_or_else(|| "an answer our key does not open".to_owned())?,
    };
    serde_json::from_slice(&opened).map_err(|_| "an answer that is not JSON".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn notice(v: Value) -> Map<String, Value> {
        checked(v).unwrap()
    }

    #[test]
    fn notices_are_selected_by_day_and_type() {
        let list = vec![
            notice(
                json!({"referenceNumber":"A","transctionDate":"2026-11-21 09:00:00","statementType":4}),
            ),
            notice(
                json!({"referenceNumber":"B","transactionDate":"2026-11-22","statementType":"4"}),
            ),
            notice(
                json!({"referenceNumber":"C","transctionDate":"2026-11-21 10:00:00","statementType":1}),
            ),
            notice(
                json!({"referenceNumber":"D","transctionDate":"2026-11-25 10:00:00","statementType":4}),
            ),
        ];
        let query = parse_query(
            json!({"startDate":"2026-11-21","endDate":"2026-11-22","statementTypes":[4]})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        let refs: Vec<String> = select(&list, &query)
            .iter()
            .map(|n| n["referenceNumber"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(refs, ["A", "B"]);
        let every_type = NoticeQuery {
            statement_types: Vec::new(),
            ..query
        };
        assert_eq!(select(&list, &every_type).len(), 3);
        assert!(checked(json!({"amount": 1})).is_err());
        assert!(checked(json!([1])).is_err());
        let c = notice(json!({"referenceNumber":"E","authentication":"x","accountNo":7}));
        assert!(!c.contains_key("authentication"));
        assert_eq!(key(&c), ("E".to_owned(), "7".to_owned()));
    }
}
