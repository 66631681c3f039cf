//! Newtypes and rules of the SkyPay collection domain. Imports no axum, sqlx or lapin, so
//! that every rule here is unit-testable on its own.

pub mod amount;
pub mod bill;
pub mod control_number;
pub mod duration;
pub mod error;
pub mod finance;
pub mod mask;
pub mod pay_channel;
pub mod payer;
pub mod payment;
pub mod phone;
pub mod receipt;
pub mod reconcile;
pub mod time;

pub use amount::{format_money, Amount};
pub use bill::{
    check_inquiry, decide_collect, Acceptance, Bill, BillStatus, CollectRefusal, InquiryRefusal,
    OverpaymentPolicy, DOUBLE_PAYMENT_WINDOW,
};
pub use control_number::ControlNumber;
pub use error::FieldError;
pub use finance::{
    AmountUnit, FinanceNotice, Settlement, SettlementPeriod, SettlementPeriodSpan, SettlementRules,
};
pub use pay_channel::PayChannel;
pub use payer::PayerName;
pub use payment::{CollectRequest, InquiryRequest};
pub use phone::{MobilePhone, Phone};
pub use receipt::ReceiptNumber;
pub use time::{format_collected_at, format_response_time, manila, parse_collected_time, MANILA};
pub use workers::collection::{CollectionStatus, FlagKind};
