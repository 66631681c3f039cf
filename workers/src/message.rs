//! The message that carries one recorded collection from the outbox to a worker.

use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Philippine time (+08:00, no daylight saving): the offset SkyPay's times are read in and
/// every `collectedAt` travels with.
pub const MANILA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("+08:00 is a valid offset"),
};

/// One collection to post. Written to the outbox in the collect transaction, published
/// unchanged, and read by the worker, which still checks the collection's status in the
/// database before posting (the database is the truth).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentEvent {
    /// The collection id: the core loan system's `Idempotency-Key` and `paymentId`.
    pub collection_id: Uuid,
    pub receipt_number: String,
    pub control_number: String,
    pub loan_ref: String,
    /// Serialised as a string with the value's own scale (`"3900.00"`), never a float.
    pub amount: Decimal,
    /// In Philippine time, `2018-06-18T17:52:10+08:00`.
    pub collected_at: DateTime<FixedOffset>,
    pub pay_channel: i32,
    pub payer_phone: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_travels_as_an_exact_string() {
        let event = PaymentEvent {
            collection_id: Uuid::nil(),
            receipt_number: "R1".into(),
            control_number: "SKY0100000001".into(),
            loan_ref: "LN-1".into(),
            amount: "3900.10".parse().unwrap(),
            collected_at: DateTime::parse_from_rfc3339("2018-06-18T17:52:10+08:00").unwrap(),
            pay_channel: 1,
            payer_phone: "09221008333".into(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["amount"], "3900.10");
        assert_eq!(json["collectedAt"], "2018-06-18T17:52:10+08:00");
        let back: PaymentEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
