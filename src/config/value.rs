//! What each setting's value may be: the types that are not plain (a secret, the log format)
//! and one parser per kind of value. Each parser takes the trimmed value and says what is wrong
//! with it, without the variable (which `setting` adds) and without echoing a secret.

use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;

use crate::domain::{AmountUnit, OverpaymentPolicy, SettlementPeriod};
use crate::skypay::answer::{PayerAddressKey, ReplayedAnswer};
use crate::skypay::auth::Credential;

/// A secret string: usable, never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The log filter when `RUST_LOG` is unset.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,lapin=warn,tower_http=info";

/// The smallest admin token we accept: long enough not to be guessed.
pub(super) const MIN_ADMIN_TOKEN_LEN: usize = 16;

pub(super) fn parse_postgres_url(raw: &str) -> Result<String, String> {
    if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        Ok(raw.to_owned())
    } else {
        Err("must start with postgres://".to_owned())
    }
}

/// One AMQP URL, or the nodes of a cluster separated by commas; each must parse (a comma
/// inside a password is written `%2C`).
pub(super) fn parse_amqp_url(raw: &str) -> Result<String, String> {
    let addresses = workers::broker::addresses(raw);
    if addresses.is_empty() {
        return Err("must name at least one amqp:// or amqps:// URL".to_owned());
    }
    for (i, address) in addresses.iter().enumerate() {
        let which = if addresses.len() > 1 {
            format!("address {} of {}", i + 1, addresses.len())
        } else {
            "it".to_owned()
        };
        if !(address.starts_with("amqp://") || address.starts_with("amqps://")) {
            return Err(format!("{which} must start with amqp:// or amqps://"));
        }
        if address.parse::<lapin::uri::AMQPUri>().is_err() {
            return Err(format!("{which} does not parse as an AMQP URL"));
        }
    }
    Ok(raw.to_owned())
}

/// An http(s) base URL, without its trailing `/`.
pub(super) fn parse_http_url(raw: &str) -> Result<String, String> {
    if raw.starts_with("http://") || raw.starts_with("https://") {
        Ok(raw.trim_end_matches('/').to_owned())
    } else {
        Err("must start with http:// or https://".to_owned())
    }
}

pub(super) fn parse_secret(raw: &str) -> Result<Secret, String> {
    Ok(Secret::new(raw))
}

pub(super) fn parse_admin_token(raw: &str) -> Result<Secret, String> {
    if raw.len() < MIN_ADMIN_TOKEN_LEN {
        return Err(format!("must be at least {MIN_ADMIN_TOKEN_LEN} characters"));
    }
    Ok(Secret::new(raw))
}

pub(super) fn parse_log_filter(raw: &str) -> Result<String, String> {
    match tracing_subscriber::EnvFilter::try_new(raw) {
        Ok(_) => Ok(raw.to_owned()),
        Err(e) => Err(format!(
            "`{raw}` is not a log filter like `info` or `info,collector=debug` ({e})"
        )),
    }
}

pub(super) fn parse_log_format(raw: &str) -> Result<LogFormat, String> {
    match raw {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("must be `text` or `json`, not `{other}`")),
    }
}

pub(super) fn parse_overpayment(raw: &str) -> Result<OverpaymentPolicy, String> {
    match raw {
        "refuse" => Ok(OverpaymentPolicy::Refuse),
        "accept" => Ok(OverpaymentPolicy::Accept),
        other => Err(format!("must be `refuse` or `accept`, not `{other}`")),
    }
}

/// `WORKER_PREFETCH` / `--prefetch`: messages a worker holds at once, 1 to 65535. Zero used to
/// become 1 without a word.
pub fn parse_prefetch(raw: &str) -> Result<u16, String> {
    match raw.parse::<u16>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to 65535, not `{raw}`"
        )),
    }
}

/// `CORE_LOAN_TIMEOUT_SECS` / `--core-timeout-secs`: one call to the core loan system, 1 to
/// 600 seconds. Zero used to become 1 without a word.
pub fn parse_core_timeout(raw: &str) -> Result<u64, String> {
    match raw.parse::<u64>() {
        Ok(n) if (1..=600).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number of seconds from 1 to 600, not `{raw}`"
        )),
    }
}

pub(super) fn parse_prefix(raw: &str) -> Result<String, String> {
    let ok = raw.len() <= 100
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err("must be at most 100 of [A-Za-z0-9._-]".to_owned())
    }
}

pub(super) fn parse_pool_size(raw: &str) -> Result<u32, String> {
    match raw.parse::<u32>() {
        Ok(n) if (1..=500).contains(&n) => Ok(n),
        _ => Err(format!("`{raw}` is not a whole number from 1 to 500")),
    }
}

/// A socket address like `0.0.0.0:8080`.
pub fn parse_addr(raw: &str) -> Result<SocketAddr, String> {
    raw.parse()
        .map_err(|_| format!("`{raw}` is not an address like 0.0.0.0:8080"))
}

/// `true`/`false`, `1`/`0` or `yes`/`no`, in any case: the settings' one boolean parser.
pub fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "false" | "0" | "no" => Ok(false),
        "true" | "1" | "yes" => Ok(true),
        other => Err(format!("must be true or false, not `{other}`")),
    }
}

/// `user:key[,user:key…]`. The user name is everything before the first `:`. Empty: none.
/// Errors say which entry is wrong, never what it holds.
pub(super) fn parse_credentials(raw: &str) -> Result<Vec<Credential>, String> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<Credential> = Vec::new();
    for (i, pair) in raw.split(',').map(str::trim).enumerate() {
        let n = i + 1;
        let (user, key) = pair
            .split_once(':')
            .ok_or_else(|| format!("entry {n} is not user:key"))?;
        let (user, key) = (user.trim(), key.trim());
        if user.is_empty() || user.chars().count() > 50 {
            return Err(format!("entry {n}: user must be 1–50 characters"));
        }
        if key.is_empty() || key.chars().count() > 255 {
            return Err(format!("entry {n}: key must be 1–255 characters"));
        }
        out.push(Credential::new(user, key));
    }
    Ok(out)
}

/// Comma-separated IP addresses or CIDRs.
pub(super) fn parse_cidrs(raw: &str) -> Result<Vec<IpNet>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{s}` is not an IP address or CIDR"))
        })
        .collect()
}

/// `10s,1m,5m,30m,2h,6h`: each tier's delay, in order; 1 to 20 of them.
pub fn parse_schedule(raw: &str) -> Result<Vec<Duration>, String> {
    let tiers: Vec<Duration> = raw
        .split(',')
        .map(str::trim)
        .map(parse_duration)
        .collect::<Result<_, _>>()?;
    if tiers.is_empty() || tiers.len() > 20 {
        return Err("must list 1 to 20 delays".to_owned());
    }
    Ok(tiers)
}

/// A positive duration: a whole number and one of `ms`, `s`, `m`, `h`, `d` (`500ms`, `30s`,
/// `10m`, `2h`, `14d`): the settings' one duration parser.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    match crate::domain::duration::parse(raw) {
        None => Err(format!(
            "`{raw}` is not a duration like 500ms, 30s, 10m, 2h, 14d"
        )),
        Some(d) if d.is_zero() => Err(format!("`{raw}` is zero: a duration must be positive")),
        Some(d) => Ok(d),
    }
}

pub(super) fn parse_replayed_answer(raw: &str) -> Result<ReplayedAnswer, String> {
    match raw {
        "-1015" => Ok(ReplayedAnswer::AlreadyCollected),
        "1000" => Ok(ReplayedAnswer::Success),
        other => Err(format!("must be `-1015` or `1000`, not `{other}`")),
    }
}

pub(super) fn parse_payer_address_key(raw: &str) -> Result<PayerAddressKey, String> {
    match raw {
        "payerAddress" => Ok(PayerAddressKey::Camel),
        "payer address" => Ok(PayerAddressKey::Spaced),
        "both" => Ok(PayerAddressKey::Both),
        other => Err(format!(
            "must be `payerAddress`, `payer address` or `both`, not `{other}`"
        )),
    }
}

/// Our partner credential at SkyPay (`SKYPAY_PARTNER_CREDENTIAL`); `Debug` hides the key.
#[derive(Clone)]
pub struct PartnerCredential {
    pub user: String,
    pub key: Secret,
}

impl std::fmt::Debug for PartnerCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartnerCredential")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

pub(super) fn parse_partner_credential(raw: &str) -> Result<PartnerCredential, String> {
    let (user, key) = raw
        .split_once(':')
        .ok_or_else(|| "is not user:key".to_owned())?;
    let (user, key) = (user.trim(), key.trim());
    if user.is_empty() || key.is_empty() {
        return Err("is not user:key (both parts are needed)".into());
    }
    Ok(PartnerCredential {
        user: user.to_owned(),
        key: Secret::new(key),
    })
}

/// What the report's `referenceNo` pairs with (`RECON_MATCH_ON`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOn {
    /// Our collection's `receiptNumber`.
    Receipt,
    /// Nothing: every row is for a person.
    None,
}

pub(super) fn parse_match_on(raw: &str) -> Result<MatchOn, String> {
    match raw {
        "receipt" => Ok(MatchOn::Receipt),
        "none" => Ok(MatchOn::None),
        other => Err(format!("must be `receipt` or `none`, not `{other}`")),
    }
}

pub(super) fn parse_date_type(raw: &str) -> Result<String, String> {
    match raw {
        "CollectedTime" | "CreateDate" => Ok(raw.to_owned()),
        other => Err(format!(
            "must be `CollectedTime` or `CreateDate`, not `{other}`"
        )),
    }
}

pub(super) fn parse_page_size(raw: &str) -> Result<u32, String> {
    match raw.parse::<u32>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to 1000, not `{raw}`"
        )),
    }
}

/// `HH:MM` (Manila time), or `off`.
pub(super) fn parse_time_of_day(raw: &str) -> Result<Option<chrono::NaiveTime>, String> {
    if raw == "off" {
        return Ok(None);
    }
    chrono::NaiveTime::parse_from_str(raw, "%H:%M")
        .map(Some)
        .map_err(|_| format!("must be a time like 02:00, or off, not `{raw}`"))
}

/// A positive duration, or `off`.
pub(super) fn parse_optional_duration(raw: &str) -> Result<Option<Duration>, String> {
    if raw == "off" {
        return Ok(None);
    }
    parse_duration(raw).map(Some)
}

pub(super) fn parse_pay_channel(raw: &str) -> Result<i32, String> {
    crate::domain::PayChannel::parse(raw)
        .map(|c| c.code())
        .map_err(|e| e.reason.to_string())
}

pub(super) fn parse_settlement_period(raw: &str) -> Result<SettlementPeriod, String> {
    SettlementPeriod::parse(raw)
        .ok_or_else(|| format!("must be `previous-day` or `same-day`, not `{raw}`"))
}

pub(super) fn parse_amount_unit(raw: &str) -> Result<AmountUnit, String> {
    AmountUnit::parse(raw).ok_or_else(|| format!("must be `centavos` or `pesos`, not `{raw}`"))
}
