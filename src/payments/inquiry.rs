//! `collectionInquiry`: is this control number payable with this amount, and by whom?
//! Answered from the bill (`domain::check_inquiry`); changes nothing.

use chrono::Utc;

use crate::db::bills::BillReader;
use crate::domain::{check_inquiry, mask, Bill, InquiryRefusal, InquiryRequest};

/// What an inquiry found.
#[derive(Debug, Clone)]
pub enum InquiryOutcome {
    /// The bill takes this amount: the payer's details go back to SkyPay.
    Payable(Box<Bill>),
    Refused(InquiryRefusal),
}

/// `Err` only when the bill could not be read.
#[tracing::instrument(skip_all, fields(
    control_number = %req.control_number,
    phone = %mask::phone(req.phone.as_str()),
))]
pub async fn inquire(bills: &BillReader, req: &InquiryRequest) -> anyhow::Result<InquiryOutcome> {
    let bill = bills.find(req.control_number.as_str()).await?;
    Ok(match check_inquiry(bill.as_ref(), req.amount, Utc::now()) {
        Ok(bill) => InquiryOutcome::Payable(Box::new(bill.clone())),
        Err(refusal) => InquiryOutcome::Refused(refusal),
    })
}
