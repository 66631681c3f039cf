//! SkyPay's answer: the codes of docs/skypay-contract.md and the response body.

use chrono::Utc;
use serde::Serialize;

use crate::domain::{format_response_time, CollectRefusal, FieldError, FlagKind, InquiryRefusal};
use crate::payments::collect::CollectOutcome;
use crate::payments::finance::NoticeOutcome;
use crate::payments::inquiry::InquiryOutcome;

/// The answer codes of docs/skypay-contract.md. Sent as JSON strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    Success,
    InvalidBody,
    VerificationFailed,
    Unexpected,
    /// Inquiry: control number invalid. Collect: receipt already collected.
    InvalidOrCollected,
    AlreadyPaid,
    AmountNotAcceptable,
    InvalidField,
    UnsupportedAction,
    NotCollectable,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Success => "1000",
            Code::InvalidBody => "-1000",
            Code::VerificationFailed => "-1001",
            Code::Unexpected => "-1009",
            Code::InvalidOrCollected => "-1015",
            Code::AlreadyPaid => "-1026",
            Code::AmountNotAcceptable => "2001",
            Code::InvalidField => "2002",
            Code::UnsupportedAction => "2003",
            Code::NotCollectable => "2004",
        }
    }
}

/// What an exact replay of a recorded collect is answered (`REPLAYED_COLLECT_ANSWER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayedAnswer {
    /// `-1015`, "The transaction has been collected": SkyPay's pages.
    AlreadyCollected,
    /// `1000`: an idempotent retry answered like the first call.
    Success,
}

/// The payer address's key in an inquiry's answer (`PAYER_ADDRESS_KEY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayerAddressKey {
    /// `payerAddress`, as SkyPay's sample answer has it.
    Camel,
    /// `payer address`, as SkyPay's field table has it.
    Spaced,
    Both,
}

/// The fields an inquiry adds on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerDetails {
    pub amount: String,
    pub payer_name: String,
    pub payer_address: String,
    pub payer_phone: String,
    /// Under which key(s) the address goes (`PAYER_ADDRESS_KEY`).
    pub address_key: PayerAddressKey,
}

impl Serialize for PayerDetails {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let keys: &[&str] = match self.address_key {
            PayerAddressKey::Camel => &["payerAddress"],
            PayerAddressKey::Spaced => &["payer address"],
            PayerAddressKey::Both => &["payerAddress", "payer address"],
        };
        let mut map = serializer.serialize_map(Some(3 + keys.len()))?;
        map.serialize_entry("amount", &self.amount)?;
        map.serialize_entry("payerName", &self.payer_name)?;
        for key in keys {
            map.serialize_entry(key, &self.payer_address)?;
        }
        map.serialize_entry("payerPhone", &self.payer_phone)?;
        map.end()
    }
}

/// One answer to SkyPay: always `responseTime`, `responseCode`, `responseDescription`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub response_time: String,
    pub response_code: &'static str,
    pub response_description: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub payer: Option<PayerDetails>,
    #[serde(skip)]
    pub code: Code,
}

impl Answer {
    pub fn new(code: Code, description: impl Into<String>) -> Self {
        Self {
            response_time: format_response_time(Utc::now()),
            response_code: code.as_str(),
            response_description: description.into(),
            payer: None,
            code,
        }
    }

    pub fn success() -> Self {
        Self::new(Code::Success, "Success")
    }

    pub fn inquiry_success(payer: PayerDetails) -> Self {
        Self {
            payer: Some(payer),
            ..Self::success()
        }
    }

    pub fn invalid_body(why: &str) -> Self {
        Self::new(
            Code::InvalidBody,
            format!("Post context is not valid: {why}"),
        )
    }

    pub fn verification_failed() -> Self {
        Self::new(Code::VerificationFailed, "Verification failed")
    }

    pub fn unexpected() -> Self {
        Self::new(Code::Unexpected, "An unpredictable exception occurred")
    }

    pub fn invalid_field(err: &FieldError) -> Self {
        let what = if err.reason == "is required" {
            "missing field"
        } else {
            "invalid field"
        };
        Self::new(
            Code::InvalidField,
            format!("{what} {}: {}", err.field, err.reason),
        )
    }

    pub fn unsupported_action(action: &str) -> Self {
        let shown: String = action.chars().take(50).collect();
        Self::new(
            Code::UnsupportedAction,
            format!("unsupported action `{shown}`"),
        )
    }

    /// The answer to an inquiry's outcome: the one place its texts are written.
    pub fn to_inquiry(
        outcome: &InquiryOutcome,
        amount: &crate::domain::Amount,
        address_key: PayerAddressKey,
    ) -> Self {
        match outcome {
            InquiryOutcome::Payable(bill) => Answer::inquiry_success(PayerDetails {
                amount: amount.to_string(),
                payer_name: bill.payer.joined(),
                payer_address: bill.payer_address.chars().take(255).collect(),
                payer_phone: bill.payer_phone.clone(),
                address_key,
            }),
            InquiryOutcome::Refused(InquiryRefusal::InvalidControlNumber(why)) => Answer::new(
                Code::InvalidOrCollected,
                format!("The contract number is invalid: {why}"),
            ),
            InquiryOutcome::Refused(InquiryRefusal::AlreadyPaid) => Answer::already_paid(),
            InquiryOutcome::Refused(InquiryRefusal::AmountNotAcceptable(why)) => {
                Answer::amount_not_acceptable(why)
            }
        }
    }

    /// The answer to a collect's outcome: the one place its texts are written.
    /// `replayed`: what an exact replay is answered (`REPLAYED_COLLECT_ANSWER`).
    pub fn to_collect(outcome: &CollectOutcome, replayed: ReplayedAnswer) -> Self {
        match outcome {
            CollectOutcome::Recorded(_) => Answer::success(),
            CollectOutcome::Repeated(FlagKind::Replay) if replayed == ReplayedAnswer::Success => {
                Answer::success()
            }
            CollectOutcome::Repeated(_) => Answer::new(
                Code::InvalidOrCollected,
                "The transaction has been collected",
            ),
            CollectOutcome::Refused(refusal) => Answer::collect_refused(refusal),
        }
    }

    /// The answer to a finance notice: `Success` once stored, now or before.
    pub fn to_notice(outcome: &NoticeOutcome) -> Self {
        match outcome {
            NoticeOutcome::Recorded { .. } | NoticeOutcome::Repeated => Answer::success(),
        }
    }

    /// A refused collect's answer; also what `payments::collect` records with the refusal.
    pub fn collect_refused(refusal: &CollectRefusal) -> Self {
        match refusal {
            CollectRefusal::AlreadyPaid => Answer::already_paid(),
            CollectRefusal::AmountNotAcceptable(why) => Answer::amount_not_acceptable(why),
            CollectRefusal::NotCollectable(why) => Answer::new(
                Code::NotCollectable,
                format!("control number not collectable: {why}"),
            ),
        }
    }

    /// `collect_refused` as the response code and description `payments::collect` records.
    pub fn describe_refusal(refusal: &CollectRefusal) -> (&'static str, String) {
        let answer = Self::collect_refused(refusal);
        (answer.response_code, answer.response_description)
    }

    fn already_paid() -> Self {
        Self::new(Code::AlreadyPaid, "Transactions has been paid")
    }

    fn amount_not_acceptable(why: &str) -> Self {
        Self::new(
            Code::AmountNotAcceptable,
            format!("amount not acceptable: {why}"),
        )
    }

    pub fn to_json(&self) -> String {
        // Serialising a struct of strings cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"responseTime":"","responseCode":"-1009","responseDescription":"An unpredictable exception occurred"}"#
                .to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_json_strings_and_payer_fields_only_on_inquiry_success() {
        let json: serde_json::Value = serde_json::from_str(&Answer::success().to_json()).unwrap();
        assert_eq!(json["responseCode"], "1000");
        assert_eq!(json.as_object().unwrap().len(), 3);
        let answer = Answer::inquiry_success(PayerDetails {
            amount: "3900.00".into(),
            payer_name: "Dela Cruz,Juan".into(),
            payer_address: "Manila".into(),
            payer_phone: "09221008333".into(),
            address_key: PayerAddressKey::Camel,
        });
        let json: serde_json::Value = serde_json::from_str(&answer.to_json()).unwrap();
        assert_eq!(json["amount"], "3900.00");
        assert_eq!(json["payerName"], "Dela Cruz,Juan");
        assert_eq!(json["payerAddress"], "Manila");
        assert_eq!(json["payerPhone"], "09221008333");
    }

    #[test]
    fn the_payer_address_goes_under_the_key_the_setting_names() {
        let details = |address_key| PayerDetails {
            amount: "1.00".into(),
            payer_name: "A".into(),
            payer_address: "Manila".into(),
            payer_phone: "09221008333".into(),
            address_key,
        };
        let json = |key| serde_json::to_value(Answer::inquiry_success(details(key))).unwrap();
        let camel = json(PayerAddressKey::Camel);
        assert_eq!(camel["payerAddress"], "Manila");
        assert!(camel.get("payer address").is_none());
        let spaced = json(PayerAddressKey::Spaced);
        assert_eq!(spaced["payer address"], "Manila");
        assert!(spaced.get("payerAddress").is_none());
        let both = json(PayerAddressKey::Both);
        assert_eq!(both["payerAddress"], "Manila");
        assert_eq!(both["payer address"], "Manila");
    }

    #[test]
    fn an_exact_replay_is_answered_as_the_setting_says() {
        let replay = CollectOutcome::Repeated(FlagKind::Replay);
        let conflict = CollectOutcome::Repeated(FlagKind::Conflict);
        assert_eq!(
            Answer::to_collect(&replay, ReplayedAnswer::AlreadyCollected).response_code,
            "-1015"
        );
        assert_eq!(
            Answer::to_collect(&replay, ReplayedAnswer::Success).response_code,
            "1000"
        );
        // A receipt sent again with other fields is never a success.
        assert_eq!(
            Answer::to_collect(&conflict, ReplayedAnswer::Success).response_code,
            "-1015"
        );
    }

    #[test]
    fn field_errors_name_the_field() {
        let a = Answer::invalid_field(&FieldError::new("amount", "at most 2 decimal places"));
        assert_eq!(a.response_code, "2002");
        assert!(a.response_description.contains("amount"));
    }
}
