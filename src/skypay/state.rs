//! What the SkyPay handlers use: the database, the inquiries' bill reader, the settings.

use std::sync::Arc;

use ipnet::IpNet;
use sqlx::PgPool;

use super::answer::{PayerAddressKey, ReplayedAnswer};
use super::auth::Credential;
use crate::db::bills::BillReader;
use crate::domain::{OverpaymentPolicy, SettlementRules};
use crate::payments::grouped::Collects;

/// What the SkyPay edge needs from the settings.
#[derive(Debug, Clone)]
pub struct SkyPayConfig {
    pub credentials: Arc<[Credential]>,
    pub allowed_ips: Option<Vec<IpNet>>,
    pub trusted_proxies: Vec<IpNet>,
    pub require_encryption: bool,
    pub overpayment: OverpaymentPolicy,
    /// `REPLAYED_COLLECT_ANSWER`.
    pub replayed_answer: ReplayedAnswer,
    /// `PAYER_ADDRESS_KEY`.
    pub payer_address_key: PayerAddressKey,
    /// `SETTLEMENT_PERIOD` and `SETTLEMENT_AMOUNT_UNIT`: how a collection settlement is
    /// checked.
    pub settlement: SettlementRules,
}

#[derive(Clone)]
pub struct SkyPayState {
    pub pool: PgPool,
    /// Inquiries' bill reads, batched, on connections of their own (`BillReader::spawn`).
    pub bills: BillReader,
    /// Collects, recorded in groups when they arrive together (`payments::grouped`).
    pub collects: Collects,
    /// Wakes the outbox relays after a collect commits.
    pub outbox: workers::outbox::Signal,
    pub config: Arc<SkyPayConfig>,
}
