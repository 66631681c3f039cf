//! Settings, read from environment variables exactly as README.md's table names them.
//!
//! Every value is checked at start-up: a bad value anywhere, or a missing value that the
//! chosen command needs, stops the process with a message that names the variable. Secrets
//! (`ADMIN_TOKEN`, SkyPay keys, `CORE_LOAN_TOKEN`) are wrapped so that `Debug` never prints them.

use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;

use crate::domain::OverpaymentPolicy;
use crate::skypay::auth::Credential;
use workers::sweeper::SweeperConfig;

/// A configuration problem, naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

impl ConfigError {
    fn new(var: &'static str, reason: impl Into<String>) -> Self {
        Self {
            var,
            reason: reason.into(),
        }
    }
}

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

/// All settings. Values that only some commands need are `Option`s, required through the
/// `require_*` accessors so that the error still names the variable.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: Option<String>,
    /// Connections each process may open (`DATABASE_POOL_SIZE`, default 20; the SkyPay API
    /// adds the bill reader's 2). Several processes share Postgres' `max_connections` (100 by
    /// default): size them to fit.
    pub database_pool_size: u32,
    pub amqp_url: Option<String>,
    pub amqp_prefix: String,
    pub core_loan_url: Option<String>,
    pub core_loan_token: Option<Secret>,
    pub listen_addr: SocketAddr,
    pub admin_listen_addr: SocketAddr,
    pub admin_token: Option<Secret>,
    pub credentials: Vec<Credential>,
    pub allowed_ips: Option<Vec<IpNet>>,
    pub trusted_proxies: Vec<IpNet>,
    pub require_encryption: bool,
    pub overpayment: OverpaymentPolicy,
    pub retry_schedule: Vec<Duration>,
    /// The sweeper's interval, graces and look-back (`SWEEPER_*`).
    pub sweeper: SweeperConfig,
    pub log_format: LogFormat,
    /// `RUST_LOG`, checked: a filter that does not parse stops start-up rather than being
    /// replaced by the default without a word.
    pub log_filter: String,
}

/// The log filter when `RUST_LOG` is unset.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,lapin=warn,tower_http=info";

/// The smallest admin token we accept: long enough not to be guessed.
const MIN_ADMIN_TOKEN_LEN: usize = 16;

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass a map instead of the environment.
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let database_url = get("DATABASE_URL");
        if let Some(url) = &database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError::new(
                    "DATABASE_URL",
                    "must start with postgres://",
                ));
            }
        }
        let amqp_url = get("AMQP_URL");
        if let Some(url) = &amqp_url {
            if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
                return Err(ConfigError::new(
                    "AMQP_URL",
                    "must start with amqp:// or amqps://",
                ));
            }
        }
        let core_loan_url = get("CORE_LOAN_URL").map(|u| u.trim_end_matches('/').to_owned());
        if let Some(url) = &core_loan_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::new(
                    "CORE_LOAN_URL",
                    "must start with http:// or https://",
                ));
            }
        }
        let admin_token = get("ADMIN_TOKEN").map(Secret::new);
        if let Some(token) = &admin_token {
            if token.expose().len() < MIN_ADMIN_TOKEN_LEN {
                return Err(ConfigError::new(
                    "ADMIN_TOKEN",
                    format!("must be at least {MIN_ADMIN_TOKEN_LEN} characters"),
                ));
            }
        }
        Ok(Self {
            database_url,
            amqp_url,
            amqp_prefix: parse_prefix(get("AMQP_PREFIX"))?,
            database_pool_size: parse_pool_size(get("DATABASE_POOL_SIZE"))?,
            core_loan_url,
            core_loan_token: get("CORE_LOAN_TOKEN").map(Secret::new),
            listen_addr: parse_addr("LISTEN_ADDR", get("LISTEN_ADDR"), "0.0.0.0:8080")?,
            admin_listen_addr: parse_addr(
                "ADMIN_LISTEN_ADDR",
                get("ADMIN_LISTEN_ADDR"),
                "127.0.0.1:9090",
            )?,
            admin_token,
            credentials: match get("SKYPAY_CREDENTIALS") {
                Some(raw) => parse_credentials(&raw)?,
                None => Vec::new(),
            },
            allowed_ips: get("SKYPAY_ALLOWED_IPS")
                .map(|raw| parse_cidrs("SKYPAY_ALLOWED_IPS", &raw))
                .transpose()?,
            trusted_proxies: get("TRUSTED_PROXIES")
                .map(|raw| parse_cidrs("TRUSTED_PROXIES", &raw))
                .transpose()?
                .unwrap_or_default(),
            require_encryption: parse_bool(
                "SKYPAY_REQUIRE_ENCRYPTION",
                get("SKYPAY_REQUIRE_ENCRYPTION"),
            )?,
            overpayment: match get("OVERPAYMENT").as_deref() {
                None | Some("refuse") => OverpaymentPolicy::Refuse,
                Some("accept") => OverpaymentPolicy::Accept,
                Some(other) => {
                    return Err(ConfigError::new(
                        "OVERPAYMENT",
                        format!("must be `refuse` or `accept`, not `{other}`"),
                    ))
                }
            },
            retry_schedule: parse_schedule(
                get("RETRY_SCHEDULE")
                    .as_deref()
                    .unwrap_or("10s,1m,5m,30m,2h,6h"),
            )?,
            sweeper: parse_sweeper(&get)?,
            log_format: match get("LOG_FORMAT").as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(ConfigError::new(
                        "LOG_FORMAT",
                        format!("must be `text` or `json`, not `{other}`"),
                    ))
                }
            },
            log_filter: parse_log_filter(get("RUST_LOG"))?,
        })
    }

    pub fn require_database_url(&self) -> Result<&str, ConfigError> {
        self.database_url
            .as_deref()
            .ok_or_else(|| ConfigError::new("DATABASE_URL", "is not set"))
    }

    pub fn require_amqp_url(&self) -> Result<&str, ConfigError> {
        self.amqp_url
            .as_deref()
            .ok_or_else(|| ConfigError::new("AMQP_URL", "is not set"))
    }

    pub fn require_core_loan_url(&self) -> Result<&str, ConfigError> {
        self.core_loan_url
            .as_deref()
            .ok_or_else(|| ConfigError::new("CORE_LOAN_URL", "is not set"))
    }

    /// What `serve` needs beyond the database: an admin token and at least one credential.
    pub fn require_api(&self) -> Result<(), ConfigError> {
        if self.admin_token.is_none() {
            return Err(ConfigError::new("ADMIN_TOKEN", "is not set"));
        }
        if self.credentials.is_empty() {
            return Err(ConfigError::new(
                "SKYPAY_CREDENTIALS",
                "is not set (user:key[,user:key…])",
            ));
        }
        Ok(())
    }
}

fn parse_log_filter(raw: Option<String>) -> Result<String, ConfigError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LOG_FILTER.to_owned());
    };
    match tracing_subscriber::EnvFilter::try_new(&raw) {
        Ok(_) => Ok(raw),
        Err(e) => Err(ConfigError::new(
            "RUST_LOG",
            format!("`{raw}` is not a log filter like `info` or `info,collector=debug` ({e})"),
        )),
    }
}

/// `WORKER_PREFETCH` / `--prefetch`: messages a worker holds at once, 1 to 65535. Zero used to
/// become 1 without a word.
pub fn parse_prefetch(raw: &str) -> Result<u16, String> {
    match raw.trim().parse::<u16>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "WORKER_PREFETCH (--prefetch) must be a whole number from 1 to 65535, not `{raw}`"
        )),
    }
}

/// `CORE_LOAN_TIMEOUT_SECS` / `--core-timeout-secs`: one call to the core loan system, 1 to
/// 600 seconds. Zero used to become 1 without a word.
pub fn parse_core_timeout(raw: &str) -> Result<u64, String> {
    match raw.trim().parse::<u64>() {
        Ok(n) if (1..=600).contains(&n) => Ok(n),
        _ => Err(format!(
            "CORE_LOAN_TIMEOUT_SECS (--core-timeout-secs) must be a whole number of seconds from 1 to 600, not `{raw}`"
        )),
    }
}

fn parse_prefix(raw: Option<String>) -> Result<String, ConfigError> {
    let prefix = raw.unwrap_or_else(|| "collector".to_owned());
    let ok = prefix.len() <= 100
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(prefix)
    } else {
        Err(ConfigError::new(
            "AMQP_PREFIX",
            "must be at most 100 of [A-Za-z0-9._-]",
        ))
    }
}

fn parse_pool_size(raw: Option<String>) -> Result<u32, ConfigError> {
    let Some(raw) = raw else { return Ok(20) };
    match raw.parse::<u32>() {
        Ok(n) if (1..=500).contains(&n) => Ok(n),
        _ => Err(ConfigError::new(
            "DATABASE_POOL_SIZE",
            format!("`{raw}` is not a whole number from 1 to 500"),
        )),
    }
}

fn parse_addr(
    var: &'static str,
    raw: Option<String>,
    default: &str,
) -> Result<SocketAddr, ConfigError> {
    let raw = raw.unwrap_or_else(|| default.to_owned());
    raw.parse()
        .map_err(|_| ConfigError::new(var, format!("`{raw}` is not an address like 0.0.0.0:8080")))
}

fn parse_bool(var: &'static str, raw: Option<String>) -> Result<bool, ConfigError> {
    match raw.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some(other) => Err(ConfigError::new(
            var,
            format!("must be true or false, not `{other}`"),
        )),
    }
}

/// `user:key[,user:key…]`. The user name is everything before the first `:`.
fn parse_credentials(raw: &str) -> Result<Vec<Credential>, ConfigError> {
    let var = "SKYPAY_CREDENTIALS";
    let mut out: Vec<Credential> = Vec::new();
    for (i, pair) in raw.split(',').map(str::trim).enumerate() {
        let n = i + 1;
        let (user, key) = pair
            .split_once(':')
            .ok_or_else(|| ConfigError::new(var, format!("entry {n} is not user:key")))?;
        let (user, key) = (user.trim(), key.trim());
        if user.is_empty() || user.chars().count() > 50 {
            return Err(ConfigError::new(
                var,
                format!("entry {n}: user must be 1–50 characters"),
            ));
        }
        if key.is_empty() || key.chars().count() > 255 {
            return Err(ConfigError::new(
                var,
                format!("entry {n}: key must be 1–255 characters"),
            ));
        }
        out.push(Credential::new(user, key));
    }
    Ok(out)
}

fn parse_cidrs(var: &'static str, raw: &str) -> Result<Vec<IpNet>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| ConfigError::new(var, format!("`{s}` is not an IP address or CIDR")))
        })
        .collect()
}

fn parse_sweeper(get: &dyn Fn(&str) -> Option<String>) -> Result<SweeperConfig, ConfigError> {
    let defaults = SweeperConfig::default();
    let setting = |var: &'static str, default: Duration| match get(var) {
        None => Ok(default),
        Some(raw) => parse_duration(&raw).ok_or_else(|| {
            ConfigError::new(
                var,
                format!("`{raw}` is not a duration like 30s, 10m, 2h, 14d"),
            )
        }),
    };
    Ok(SweeperConfig {
        interval: setting("SWEEPER_INTERVAL", defaults.interval)?,
        published_grace: setting("SWEEPER_PUBLISHED_GRACE", defaults.published_grace)?,
        retry_grace: setting("SWEEPER_RETRY_GRACE", defaults.retry_grace)?,
        lookback: setting("SWEEPER_LOOKBACK", defaults.lookback)?,
        batch: defaults.batch,
    })
}

/// `10s,1m,5m,30m,2h,6h`: each tier's delay, in order.
pub fn parse_schedule(raw: &str) -> Result<Vec<Duration>, ConfigError> {
    let var = "RETRY_SCHEDULE";
    let tiers: Vec<Duration> = raw
        .split(',')
        .map(str::trim)
        .map(|item| {
            parse_duration(item).ok_or_else(|| {
                ConfigError::new(
                    var,
                    format!("`{item}` is not a duration like 500ms, 10s, 1m, 2h"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    if tiers.is_empty() || tiers.len() > 20 {
        return Err(ConfigError::new(var, "must list 1 to 20 delays"));
    }
    Ok(tiers)
}

fn parse_duration(item: &str) -> Option<Duration> {
    let split = item.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = item.split_at(split);
    let n: u64 = number.parse().ok()?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        "d" => Duration::from_secs(n.checked_mul(86_400)?),
        _ => return None,
    };
    (!d.is_zero()).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_product_md() {
        let s = load(&[]).unwrap();
        assert_eq!(s.listen_addr.to_string(), "0.0.0.0:8080");
        assert_eq!(s.admin_listen_addr.to_string(), "127.0.0.1:9090");
        assert_eq!(s.amqp_prefix, "collector");
        assert_eq!(s.database_pool_size, 20);
        assert!(!s.require_encryption);
        assert_eq!(s.overpayment, OverpaymentPolicy::Refuse);
        assert_eq!(s.retry_schedule.len(), 6);
        assert_eq!(s.retry_schedule[5], Duration::from_secs(6 * 3600));
        assert_eq!(s.sweeper, SweeperConfig::default());
    }

    #[test]
    fn sweeper_settings_parse() {
        let s = load(&[
            ("SWEEPER_INTERVAL", "5s"),
            ("SWEEPER_PUBLISHED_GRACE", "2m"),
            ("SWEEPER_RETRY_GRACE", "1h"),
            ("SWEEPER_LOOKBACK", "3d"),
        ])
        .unwrap();
        assert_eq!(s.sweeper.interval, Duration::from_secs(5));
        assert_eq!(s.sweeper.published_grace, Duration::from_secs(120));
        assert_eq!(s.sweeper.retry_grace, Duration::from_secs(3600));
        assert_eq!(s.sweeper.lookback, Duration::from_secs(3 * 86_400));
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        let cases = [
            ("DATABASE_URL", "mysql://x"),
            ("AMQP_URL", "http://x"),
            ("CORE_LOAN_URL", "ftp://x"),
            ("LISTEN_ADDR", "8080"),
            ("ADMIN_LISTEN_ADDR", "localhost"),
            ("ADMIN_TOKEN", "short"),
            ("SKYPAY_CREDENTIALS", "nokey"),
            ("SKYPAY_ALLOWED_IPS", "10.0.0.0/33"),
            ("TRUSTED_PROXIES", "proxy"),
            ("SKYPAY_REQUIRE_ENCRYPTION", "maybe"),
            ("OVERPAYMENT", "keep"),
            ("RETRY_SCHEDULE", "10s,soon"),
            ("AMQP_PREFIX", "has space"),
            ("LOG_FORMAT", "xml"),
            ("DATABASE_POOL_SIZE", "0"),
            ("SWEEPER_INTERVAL", "often"),
            ("SWEEPER_PUBLISHED_GRACE", "0s"),
            ("SWEEPER_RETRY_GRACE", "5"),
            ("SWEEPER_LOOKBACK", "2w"),
            ("RUST_LOG", "info,collector=loud"),
            ("RUST_LOG", "[{"),
        ];
        for (var, value) in cases {
            let err = load(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, var, "{value}");
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn log_filter_is_checked_and_defaults() {
        assert_eq!(load(&[]).unwrap().log_filter, DEFAULT_LOG_FILTER);
        let s = load(&[("RUST_LOG", "warn,collector=debug")]).unwrap();
        assert_eq!(s.log_filter, "warn,collector=debug");
        let err = load(&[("RUST_LOG", "collector=verbose")]).unwrap_err();
        assert_eq!(err.var, "RUST_LOG");
        assert!(err.to_string().contains("collector=verbose"), "{err}");
    }

    #[test]
    fn core_timeout_is_1_to_600_seconds() {
        assert_eq!(parse_core_timeout("1"), Ok(1));
        assert_eq!(parse_core_timeout("600"), Ok(600));
        for bad in ["0", "601", "-1", "", "10s"] {
            let err = parse_core_timeout(bad).unwrap_err();
            assert!(
                err.contains("CORE_LOAN_TIMEOUT_SECS") && err.contains("1 to 600"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn prefetch_is_1_to_65535() {
        assert_eq!(parse_prefetch("1"), Ok(1));
        assert_eq!(parse_prefetch("32"), Ok(32));
        assert_eq!(parse_prefetch("65535"), Ok(65535));
        for bad in ["0", "65536", "-1", "", "ten", "1.5"] {
            let err = parse_prefetch(bad).unwrap_err();
            assert!(
                err.contains("WORKER_PREFETCH") && err.contains("1 to 65535"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn missing_required_values_are_named() {
        let s = load(&[]).unwrap();
        assert_eq!(s.require_database_url().unwrap_err().var, "DATABASE_URL");
        assert_eq!(s.require_amqp_url().unwrap_err().var, "AMQP_URL");
        assert_eq!(s.require_api().unwrap_err().var, "ADMIN_TOKEN");
        let s = load(&[("ADMIN_TOKEN", "0123456789abcdef")]).unwrap();
        assert_eq!(s.require_api().unwrap_err().var, "SKYPAY_CREDENTIALS");
    }

    #[test]
    fn several_credentials_and_networks_parse() {
        let s = load(&[
            ("SKYPAY_CREDENTIALS", "App@skypay:KEY-1, App@skypay:KEY-2"),
            ("SKYPAY_ALLOWED_IPS", "10.0.0.0/8, 192.168.1.7"),
            ("RETRY_SCHEDULE", "100ms,1s"),
        ])
        .unwrap();
        assert_eq!(s.credentials.len(), 2);
        assert_eq!(s.allowed_ips.unwrap().len(), 2);
        assert_eq!(
            s.retry_schedule,
            vec![Duration::from_millis(100), Duration::from_secs(1)]
        );
        let printed = format!("{:?}", s.credentials);
        assert!(
            !printed.contains("KEY-1"),
            "keys must not appear in Debug output"
        );
    }
}
