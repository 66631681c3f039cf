//! SkyPay's request: loose on the wire, typed past this module.
//!
//! The body is read as a map of field name to the field's raw JSON text, so that an amount
//! sent as a number keeps its exact digits (`3900.10` never passes through `f64`) and a field
//! of the wrong type is a `2002` naming that field rather than a failure of the whole body.

use std::collections::HashMap;

use serde_json::value::RawValue;

use crate::domain::finance::parse_notice_amount;
use crate::domain::{
    parse_collected_time, Amount, ControlNumber, FieldError, FinanceNotice, PayChannel, Phone,
    ReceiptNumber,
};
pub use crate::domain::{CollectRequest, InquiryRequest};

/// The calls SkyPay makes to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Inquiry,
    Collect,
    /// A settlement, recharge or withdrawal notice.
    FinanceNotification,
}

impl Action {
    /// Case-insensitive, with the misspelling and mislabel of SkyPay's pages accepted.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "collectioninquiry" | "collectionicnquiry" => Some(Action::Inquiry),
            "collectioncollect" | "generate711barcode" => Some(Action::Collect),
            "financenotification" => Some(Action::FinanceNotification),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Inquiry => "collectionInquiry",
            Action::Collect => "collectionCollect",
            Action::FinanceNotification => "financeNotification",
        }
    }
}

/// A JSON object, each field kept as its raw JSON text.
#[derive(Debug)]
pub struct RawRequest(HashMap<String, Box<RawValue>>);

/// A scalar field's value: a JSON string's content or a JSON number's exact text.
enum Scalar {
    Text(String),
    Number(String),
}

impl RawRequest {
    /// `None` when `bytes` is not a JSON object.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice::<HashMap<String, Box<RawValue>>>(bytes)
            .ok()
            .map(Self)
    }

    fn raw(&self, field: &str) -> Option<&RawValue> {
        self.0
            .get(field)
            .map(|v| v.as_ref())
            .filter(|v| v.get() != "null")
    }

    fn scalar(&self, field: &'static str, alias: Option<&str>) -> Result<Scalar, FieldError> {
        let raw = self
            .raw(field)
            .or_else(|| alias.and_then(|a| self.raw(a)))
            .ok_or_else(|| FieldError::new(field, "is required"))?;
        let text = raw.get();
        if text.starts_with('"') {
            let value = serde_json::from_str::<String>(text)
                .map_err(|_| FieldError::new(field, "must be a string"))?;
            // No SkyPay field holds a control character; a NUL could not even be stored.
            if value.chars().any(char::is_control) {
                return Err(FieldError::new(
                    field,
                    "must not contain control characters",
                ));
            }
            Ok(Scalar::Text(value))
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            Ok(Scalar::Number(text.to_owned()))
        } else {
            Err(FieldError::new(field, "must be a string or a number"))
        }
    }

    /// A field that must be a JSON string of at most `max` characters.
    pub fn string(&self, field: &'static str, max: usize) -> Result<String, FieldError> {
        match self.scalar(field, None)? {
            Scalar::Text(s) if s.chars().count() <= max => Ok(s),
            Scalar::Text(_) => Err(FieldError::new(field, format!("at most {max} characters"))),
            Scalar::Number(_) => Err(FieldError::new(field, "must be a string")),
        }
    }

    /// A field SkyPay may send as a string or a number: the text either way.
    pub fn text_or_number(
        &self,
        field: &'static str,
        alias: Option<&str>,
    ) -> Result<String, FieldError> {
        Ok(match self.scalar(field, alias)? {
            Scalar::Text(s) | Scalar::Number(s) => s,
        })
    }

    /// A field SkyPay may leave out (absent or `null`), else a string or a number of at most
    /// `max` characters, trimmed; `alias` is read when `field` is absent.
    pub fn optional_text(
        &self,
        field: &'static str,
        alias: Option<&str>,
        max: usize,
    ) -> Result<Option<String>, FieldError> {
        if self.raw(field).is_none() && alias.is_none_or(|a| self.raw(a).is_none()) {
            return Ok(None);
        }
        let text = self.text_or_number(field, alias)?.trim().to_owned();
        if text.chars().count() > max {
            return Err(FieldError::new(field, format!("at most {max} characters")));
        }
        Ok(Some(text))
    }

    /// The request as received minus the credential, for the record of a refused collect or
    /// of a finance notice.
    pub fn without_credentials(&self) -> serde_json::Value {
        let map = self
            .0
            .iter()
            .filter(|(k, _)| k.as_str() != "authentication")
            .map(|(k, v)| {
                let value = serde_json::from_str(v.get()).unwrap_or(serde_json::Value::Null);
                (without_nul(k), storable(value))
            })
            .collect();
        serde_json::Value::Object(map)
    }
}

/// Postgres text and `jsonb` cannot hold U+0000: the record of a refused collect keeps the
/// request with each NUL replaced by U+FFFD, so that even such a request is kept.
fn storable(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(without_nul(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(storable).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (without_nul(&k), storable(v)))
                .collect(),
        ),
        other => other,
    }
}

fn without_nul(s: &str) -> String {
    s.replace('\0', "\u{FFFD}")
}

impl TryFrom<&RawRequest> for InquiryRequest {
    type Error = FieldError;

    fn try_from(raw: &RawRequest) -> Result<Self, FieldError> {
        Ok(Self {
            control_number: control_number(raw)?,
            amount: Amount::parse(&raw.text_or_number("amount", None)?)?,
            phone: Phone::parse(&raw.text_or_number("phone", None)?)?,
        })
    }
}

impl TryFrom<&RawRequest> for CollectRequest {
    type Error = FieldError;

    fn try_from(raw: &RawRequest) -> Result<Self, FieldError> {
        Ok(Self {
            control_number: control_number(raw)?,
            amount: Amount::parse(&raw.text_or_number("amount", None)?)?,
            phone: Phone::parse(&raw.text_or_number("phone", None)?)?,
            receipt_number: ReceiptNumber::parse(&raw.text_or_number("receiptNumber", None)?)?,
            collected_at: parse_collected_time(&raw.string("collectedTime", 64)?)?,
            pay_channel: PayChannel::parse(&raw.text_or_number("payChannel", None)?)?,
        })
    }
}

/// `financeNotification`: `referenceNumber` is required; every other field may be left out, and
/// is refused (`2002`) only when it is sent in a form that cannot be read.
impl TryFrom<&RawRequest> for FinanceNotice {
    type Error = FieldError;

    fn try_from(raw: &RawRequest) -> Result<Self, FieldError> {
        let reference_number = raw
            .optional_text("referenceNumber", None, 100)?
            .filter(|r| !r.is_empty())
            .ok_or_else(|| FieldError::new("referenceNumber", "is required"))?;
        let statement_type =
            raw.optional_text("statementType", None, 9)?
                .map(|t| {
                    t.parse::<i32>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                        FieldError::new("statementType", "must be a whole number (1–6)")
                    })
                })
                .transpose()?;
        let amount = raw
            .optional_text("amount", None, 40)?
            .map(|a| parse_notice_amount(&a))
            .transpose()?;
        Ok(Self {
            reference_number,
            account_no: raw
                .optional_text("accountNo", None, 100)?
                .unwrap_or_default(),
            transaction_date: raw.optional_text("transctionDate", Some("transactionDate"), 64)?,
            company_prefix: raw.optional_text("companyPrefix", None, 50)?,
            company_name: raw.optional_text("companyName", None, 255)?,
            source_account_no: raw.optional_text("sourceAccountNo", None, 100)?,
            beneficiary_account_no: raw.optional_text("beneficiaryAccountNo", None, 100)?,
            statement_type,
            sign_type: raw.optional_text("signType", None, 20)?,
            amount,
            currency: raw.optional_text("currency", None, 10)?,
        })
    }
}

/// `controlNumber`, or the collect table's `contractNumber`.
fn control_number(raw: &RawRequest) -> Result<ControlNumber, FieldError> {
    let text = match raw.scalar("controlNumber", Some("contractNumber"))? {
        Scalar::Text(s) => s,
        Scalar::Number(_) => return Err(FieldError::new("controlNumber", "must be a string")),
    };
    ControlNumber::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> RawRequest {
        RawRequest::parse(json.as_bytes()).expect("object")
    }

    #[test]
    fn control_characters_are_a_field_error_and_nul_is_stored_replaced() {
        let r = raw(r#"{"receiptNumber":"R\u00001","x\u0000":["a\u0000"]}"#);
        let err = r.string("receiptNumber", 50).unwrap_err();
        assert_eq!(err.field, "receiptNumber");
        assert!(r.text_or_number("receiptNumber", None).is_err());
        let kept = r.without_credentials().to_string();
        assert!(!kept.contains("\\u0000"), "{kept}");
        assert!(
            kept.contains("R\u{FFFD}1") && kept.contains("x\u{FFFD}"),
            "{kept}"
        );
    }

    #[test]
    fn only_objects_are_requests() {
        for body in ["[]", "1", "\"x\"", "null", "{", "", "{\"a\":}"] {
            assert!(RawRequest::parse(body.as_bytes()).is_none(), "{body}");
        }
    }

    #[test]
    fn actions_are_case_insensitive_with_the_seed_spellings() {
        assert_eq!(Action::parse("collectionIcnquiry"), Some(Action::Inquiry));
        assert_eq!(Action::parse("COLLECTIONINQUIRY"), Some(Action::Inquiry));
        assert_eq!(Action::parse("generate711Barcode"), Some(Action::Collect));
        assert_eq!(Action::parse("collectioncollect"), Some(Action::Collect));
        assert_eq!(
            Action::parse(" FINANCENOTIFICATION "),
            Some(Action::FinanceNotification)
        );
        assert_eq!(Action::parse("refund"), None);
    }

    #[test]
    fn amounts_keep_their_exact_digits_as_numbers_or_strings() {
        for (json, want) in [
            (r#"{"amount":3900}"#, "3900"),
            (r#"{"amount":"3900.50"}"#, "3900.50"),
            (r#"{"amount":0.1}"#, "0.1"),
            (
                r#"{"amount":12.3400000000000000001}"#,
                "12.3400000000000000001",
            ),
        ] {
            assert_eq!(raw(json).text_or_number("amount", None).unwrap(), want);
        }
        let err = raw(r#"{"amount":[1]}"#)
            .text_or_number("amount", None)
            .unwrap_err();
        assert_eq!(err.field, "amount");
        let err = raw(r#"{"amount":null}"#)
            .text_or_number("amount", None)
            .unwrap_err();
        assert_eq!(err.reason, "is required");
    }

    #[test]
    fn contract_number_is_an_alias_of_control_number() {
        let r = raw(r#"{"contractNumber":" sky0100000001 "}"#);
        assert_eq!(control_number(&r).unwrap().as_str(), "SKY0100000001");
    }

    #[test]
    fn a_finance_notice_needs_its_reference_and_tolerates_the_rest() {
        let notice = FinanceNotice::try_from(&raw(
            r#"{"transctionDate":"2026-11-21 09:00:00","companyPrefix":"SKY01","accountNo":12345,
                "statementType":"4","signType":"recharge","amount":390000,"currency":"PHP",
                "referenceNumber":" FN-1 "}"#,
        ))
        .unwrap();
        assert_eq!(notice.reference_number, "FN-1");
        assert_eq!(notice.account_no, "12345");
        assert_eq!(notice.statement_type, Some(4));
        assert!(notice.is_collection_settlement());
        assert_eq!(notice.amount.unwrap().to_string(), "390000");
        assert_eq!(
            notice.transaction_date.as_deref(),
            Some("2026-11-21 09:00:00")
        );
        // The corrected spelling is read too; everything but the reference may be absent.
        let notice = FinanceNotice::try_from(&raw(
            r#"{"referenceNumber":"FN-2","transactionDate":"2026-11-21","amount":null}"#,
        ))
        .unwrap();
        assert_eq!(notice.transaction_date.as_deref(), Some("2026-11-21"));
        assert_eq!((notice.amount, notice.statement_type), (None, None));
        assert_eq!(notice.account_no, "");
        for (json, field) in [
            (r#"{"amount":1}"#, "referenceNumber"),
            (r#"{"referenceNumber":"  "}"#, "referenceNumber"),
            (r#"{"referenceNumber":"R","amount":"-5"}"#, "amount"),
            (
                r#"{"referenceNumber":"R","statementType":"four"}"#,
                "statementType",
            ),
            (r#"{"referenceNumber":"R","accountNo":["x"]}"#, "accountNo"),
        ] {
            assert_eq!(
                FinanceNotice::try_from(&raw(json)).unwrap_err().field,
                field,
                "{json}"
            );
        }
    }

    #[test]
    fn credentials_are_dropped_from_the_record() {
        let r = raw(r#"{"userName":"u","authentication":"secret","amount":1}"#);
        let v = r.without_credentials();
        assert!(v.get("authentication").is_none());
        assert_eq!(v["amount"], 1);
    }
}
