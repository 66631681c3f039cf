//! `collectionInquiry`: answered from the bill, changes nothing.

use chrono::Utc;

use super::answer::{Answer, Code, PayerDetails};
use super::request::InquiryRequest;
use crate::db::bills::BillReader;
use crate::domain::{check_inquiry, mask, InquiryRefusal};

/// Never fails: a database error is `-1009`.
#[tracing::instrument(skip_all, fields(
    control_number = %req.control_number,
    phone = %mask::phone(req.phone.as_str()),
))]
pub async fn inquire(bills: &BillReader, req: &InquiryRequest) -> Answer {
    let bill = match bills.find(req.control_number.as_str()).await {
        Ok(bill) => bill,
        Err(e) => {
            tracing::error!(error = %format_args!("{e:#}"), "inquiry failed");
            return Answer::unexpected();
        }
    };
    match check_inquiry(bill.as_ref(), req.amount, Utc::now()) {
        Ok(bill) => Answer::inquiry_success(PayerDetails {
            amount: req.amount.to_string(),
            payer_name: bill.payer.joined(),
            payer_address: bill.payer_address.chars().take(255).collect(),
            payer_phone: bill.payer_phone.clone(),
        }),
        Err(InquiryRefusal::InvalidControlNumber(why)) => Answer::new(
            Code::InvalidOrCollected,
            format!("The contract number is invalid: {why}"),
        ),
        Err(InquiryRefusal::AlreadyPaid) => {
            Answer::new(Code::AlreadyPaid, "Transactions has been paid")
        }
        Err(InquiryRefusal::AmountNotAcceptable(why)) => Answer::new(
            Code::AmountNotAcceptable,
            format!("amount not acceptable: {why}"),
        ),
    }
}
