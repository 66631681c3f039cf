//! What SkyPay asks of us, once its fields are valid: the input of the two use cases
//! (`payments::inquiry`, `payments::collect`). `skypay::request` builds them from the wire.

use chrono::{DateTime, FixedOffset};

use super::{Amount, ControlNumber, PayChannel, Phone, ReceiptNumber};

/// Is this control number payable with this amount, and by whom?
#[derive(Debug, Clone)]
pub struct InquiryRequest {
    pub control_number: ControlNumber,
    pub amount: Amount,
    pub phone: Phone,
}

/// The cashier took this amount for this control number, under this receipt.
#[derive(Debug, Clone)]
pub struct CollectRequest {
    pub control_number: ControlNumber,
    pub amount: Amount,
    pub phone: Phone,
    pub receipt_number: ReceiptNumber,
    pub collected_at: DateTime<FixedOffset>,
    pub pay_channel: PayChannel,
}
