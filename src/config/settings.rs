//! `Settings`: every setting of the service, one clap argument each.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Command, FromArgMatches};
use ipnet::IpNet;
use workers::sweeper::SweeperConfig;

use super::error::ConfigError;
use super::setting::{setting, without_env};
use super::value::*;
use crate::domain::{AmountUnit, OverpaymentPolicy, SettlementPeriod, SettlementRules};
use crate::skypay::answer::{PayerAddressKey, ReplayedAnswer};
use crate::skypay::auth::Credential;

// All settings. Values that only some commands need are `Option`s, required through the
// `require_*` accessors so that the error still names the variable.
//
// Each argument's flag is its variable in lower case with dashes, and its `value_name` is the
// variable itself (so `--help` and clap's own messages show it; `setting` names it from
// there when no `env` is attached, as in `Settings::from_lookup`). The doc comments are the
// help, and README.md's table: one paragraph each. The `std::vec::Vec` spelling keeps clap
// from reading a list as a repeated flag: each of those is one comma-separated value. (Plain
// comments here: clap would take a doc comment for the `collector --help` text.)
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Settings (each also an environment variable)")]
pub struct Settings {
    /// Postgres URL (postgres://…); every command but `topology migrate` needs it.
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL", global = true,
          hide_env_values = true, value_parser = setting(parse_postgres_url))]
    pub database_url: Option<String>,
    /// Connections each process may open, 1–500 (a process that serves the SkyPay API opens 6
    /// more: 2 for the batched inquiry read, 4 for collects recorded in groups); all processes
    /// together must fit Postgres' `max_connections` (100 by default).
    #[arg(long, env = "DATABASE_POOL_SIZE", value_name = "DATABASE_POOL_SIZE", global = true,
          default_value = "20", value_parser = setting(parse_pool_size))]
    pub database_pool_size: u32,
    /// RabbitMQ URL (amqp:// or amqps://), or the URLs of a cluster's nodes separated by
    /// commas (each process connects to the first that answers and fails over to the others);
    /// the relay, the workers, the sweeper and the commands that touch queues need it.
    #[arg(long, env = "AMQP_URL", value_name = "AMQP_URL", global = true,
          hide_env_values = true, value_parser = setting(parse_amqp_url))]
    pub amqp_url: Option<String>,
    /// Prefix of every exchange and queue name: at most 100 of `A-Z a-z 0-9 . _ -`.
    #[arg(long, env = "AMQP_PREFIX", value_name = "AMQP_PREFIX", global = true,
          default_value = "collector", value_parser = setting(parse_prefix))]
    pub amqp_prefix: String,
    /// How long one exchange with RabbitMQ may take (a channel opened, the topology declared,
    /// a publish confirmed) before the connection is taken for stuck and opened again; the
    /// heartbeat asked of the broker is half of it (unless AMQP_URL sets `heartbeat`), so an
    /// idle connection lost without a close is given up within it too. Without it a
    /// connection the broker blocked (a memory or disk alarm) or a network dropped silently
    /// holds its work for minutes.
    #[arg(long, env = "AMQP_TIMEOUT", value_name = "AMQP_TIMEOUT", global = true,
          default_value = "30s", value_parser = setting(parse_duration))]
    pub amqp_timeout: Duration,
    /// Base URL of the core loan system (`POST {url}/payments`); the workers need it
    /// (`collector all` runs a fake one without it).
    #[arg(long, env = "CORE_LOAN_URL", value_name = "CORE_LOAN_URL", global = true,
          value_parser = setting(parse_http_url))]
    pub core_loan_url: Option<String>,
    /// Bearer token sent to the core loan system, if set.
    #[arg(long, env = "CORE_LOAN_TOKEN", value_name = "CORE_LOAN_TOKEN", global = true,
          hide_env_values = true, value_parser = setting(parse_secret))]
    pub core_loan_token: Option<Secret>,
    /// SkyPay API listener.
    #[arg(long, env = "LISTEN_ADDR", value_name = "LISTEN_ADDR", global = true,
          default_value = "0.0.0.0:8080", value_parser = setting(parse_addr))]
    pub listen_addr: SocketAddr,
    /// Admin API listener (keep it private).
    #[arg(long, env = "ADMIN_LISTEN_ADDR", value_name = "ADMIN_LISTEN_ADDR", global = true,
          default_value = "127.0.0.1:9090", value_parser = setting(parse_addr))]
    pub admin_listen_addr: SocketAddr,
    /// Bearer token of the admin API, at least 16 characters; `serve` and `all` need it.
    #[arg(long, env = "ADMIN_TOKEN", value_name = "ADMIN_TOKEN", global = true,
          hide_env_values = true, value_parser = setting(parse_admin_token))]
    pub admin_token: Option<Secret>,
    /// `user:key[,user:key…]`, several at once during a key rotation; `serve` and `all` need
    /// one.
    #[arg(long = "skypay-credentials", env = "SKYPAY_CREDENTIALS",
          value_name = "SKYPAY_CREDENTIALS", global = true, hide_env_values = true,
          default_value = "", hide_default_value = true,
          value_parser = setting(parse_credentials))]
    pub credentials: std::vec::Vec<Credential>,
    /// CIDRs allowed to call the SkyPay API (unset: any); others get `-1001`.
    #[arg(long = "skypay-allowed-ips", env = "SKYPAY_ALLOWED_IPS",
          value_name = "SKYPAY_ALLOWED_IPS", global = true, value_parser = setting(parse_cidrs))]
    pub allowed_ips: Option<std::vec::Vec<IpNet>>,
    /// CIDRs whose `X-Forwarded-For` is believed.
    #[arg(long, env = "TRUSTED_PROXIES", value_name = "TRUSTED_PROXIES", global = true,
          default_value = "", hide_default_value = true, value_parser = setting(parse_cidrs))]
    pub trusted_proxies: std::vec::Vec<IpNet>,
    /// `true` refuses plain bodies with `-1001` (production).
    #[arg(long = "skypay-require-encryption", env = "SKYPAY_REQUIRE_ENCRYPTION",
          value_name = "SKYPAY_REQUIRE_ENCRYPTION", global = true, default_value = "false",
          action = clap::ArgAction::Set, value_parser = setting(parse_bool))]
    pub require_encryption: bool,
    /// `refuse`, or `accept`: take collects above the balance and flag `overpayment`.
    #[arg(long, env = "OVERPAYMENT", value_name = "OVERPAYMENT", global = true,
          default_value = "refuse", value_parser = setting(parse_overpayment))]
    pub overpayment: OverpaymentPolicy,
    /// Delay of each retry tier of the posting pipeline, 1 to 20 of them.
    #[arg(long, env = "RETRY_SCHEDULE", value_name = "RETRY_SCHEDULE", global = true,
          default_value = "10s,1m,5m,30m,2h,6h", value_parser = setting(parse_schedule))]
    pub retry_schedule: std::vec::Vec<Duration>,
    /// The sweeper's interval, graces and look-back (`SWEEPER_*`).
    #[command(flatten)]
    pub sweeper: SweeperArgs,
    /// Published outbox rows older than this are deleted by the relay (the collection and its
    /// history stay): the outbox holds what is in flight, not an archive.
    #[arg(long, env = "OUTBOX_RETENTION", value_name = "OUTBOX_RETENTION", global = true,
          default_value = "7d", value_parser = setting(parse_duration))]
    pub outbox_retention: Duration,
    /// Reconciliation with SkyPay's report (`SKYPAY_API_URL`, `SKYPAY_REPORT_*`, `RECON_*`).
    #[command(flatten)]
    pub recon: ReconArgs,
    /// What an exact replay of a recorded collect (every field the same) is answered:
    /// `-1015` (SkyPay's pages: "already collected") or `1000` (what most gateways expect of
    /// an idempotent retry). Either way it is flagged `replay` and recorded once.
    #[arg(long, env = "REPLAYED_COLLECT_ANSWER", value_name = "REPLAYED_COLLECT_ANSWER",
          global = true, default_value = "-1015", allow_hyphen_values = true,
          value_parser = setting(parse_replayed_answer))]
    pub replayed_collect_answer: ReplayedAnswer,
    /// The key of the payer's address in an inquiry's answer: `payerAddress` (SkyPay's
    /// sample), `payer address` (SkyPay's field table), or `both`.
    #[arg(long, env = "PAYER_ADDRESS_KEY", value_name = "PAYER_ADDRESS_KEY", global = true,
          default_value = "payerAddress", value_parser = setting(parse_payer_address_key))]
    pub payer_address_key: PayerAddressKey,
    /// `text` or `json`; text is coloured only when stdout is a terminal (and `NO_COLOR` is
    /// unset).
    #[arg(long, env = "LOG_FORMAT", value_name = "LOG_FORMAT", global = true,
          default_value = "text", value_parser = setting(parse_log_format))]
    pub log_format: LogFormat,
    /// Log filter (`info`, `warn,collector=debug`, …); one that does not parse stops start-up.
    #[arg(long = "rust-log", env = "RUST_LOG", value_name = "RUST_LOG", global = true,
          default_value = DEFAULT_LOG_FILTER, value_parser = setting(parse_log_filter))]
    pub log_filter: String,
}

// The sweeper's settings as clap arguments; `SweeperConfig` (whose `batch` is no setting)
// is built from them. (A plain comment: clap would take a doc comment for `--help`'s.)
#[derive(Debug, Clone, Args)]
pub struct SweeperArgs {
    /// How often the sweeper (in the relay process) looks for payments whose message is
    /// overdue.
    #[arg(long, env = "SWEEPER_INTERVAL", value_name = "SWEEPER_INTERVAL", global = true,
          default_value = "30s", value_parser = setting(parse_duration))]
    sweeper_interval: Duration,
    /// A published payment with no outcome this long after its publication counts as lost and
    /// is re-sent from the database (never while the posting queue holds a backlog: the
    /// sweeper waits for the workers to catch up first).
    #[arg(long, env = "SWEEPER_PUBLISHED_GRACE", value_name = "SWEEPER_PUBLISHED_GRACE",
          global = true, default_value = "10m", value_parser = setting(parse_duration))]
    sweeper_published_grace: Duration,
    /// The same, counted from the end of the payment's retry tier.
    #[arg(long, env = "SWEEPER_RETRY_GRACE", value_name = "SWEEPER_RETRY_GRACE", global = true,
          default_value = "10m", value_parser = setting(parse_duration))]
    sweeper_retry_grace: Duration,
    /// The sweeper looks at payments created or replayed within this window.
    #[arg(long, env = "SWEEPER_LOOKBACK", value_name = "SWEEPER_LOOKBACK", global = true,
          default_value = "14d", value_parser = setting(parse_duration))]
    sweeper_lookback: Duration,
}

impl SweeperArgs {
    /// The sweeper's configuration (its batch size is no setting).
    pub fn config(&self) -> SweeperConfig {
        SweeperConfig {
            interval: self.sweeper_interval,
            published_grace: self.sweeper_published_grace,
            retry_grace: self.sweeper_retry_grace,
            lookback: self.sweeper_lookback,
            batch: SweeperConfig::default().batch,
        }
    }
}

// Reconciliation's settings. (A plain comment: clap would take a doc comment for `--help`'s.)
#[derive(Debug, Clone, Args)]
pub struct ReconArgs {
    /// Base URL of SkyPay's partner API (reconciliation's report is `POST
    /// {SKYPAY_API_URL}/services/{SKYPAY_CALLER_NAME}`); unset: no reconciliation.
    #[arg(long, env = "SKYPAY_API_URL", value_name = "SKYPAY_API_URL", global = true,
          value_parser = setting(parse_http_url))]
    pub skypay_api_url: Option<String>,
    /// Our caller name at SkyPay: the last part of the partner API's path.
    #[arg(
        long,
        env = "SKYPAY_CALLER_NAME",
        value_name = "SKYPAY_CALLER_NAME",
        global = true
    )]
    pub skypay_caller_name: Option<String>,
    /// `user:key`: our partner credential for calls to SkyPay (the report).
    #[arg(long, env = "SKYPAY_PARTNER_CREDENTIAL", value_name = "SKYPAY_PARTNER_CREDENTIAL",
          global = true, hide_env_values = true, value_parser = setting(parse_partner_credential))]
    pub skypay_partner_credential: Option<PartnerCredential>,
    /// The report's `action`: SkyPay's page spells it several ways (`getReportCollection`,
    /// `getRerpotCollection`); the one SkyPay accepts.
    #[arg(
        long,
        env = "SKYPAY_REPORT_ACTION",
        value_name = "SKYPAY_REPORT_ACTION",
        global = true,
        default_value = "getReportCollection"
    )]
    pub skypay_report_action: String,
    /// The report's `dateType`: `CollectedTime` (the day the cash was taken) or `CreateDate`.
    #[arg(long, env = "SKYPAY_REPORT_DATE_TYPE", value_name = "SKYPAY_REPORT_DATE_TYPE",
          global = true, default_value = "CollectedTime", value_parser = setting(parse_date_type))]
    pub skypay_report_date_type: String,
    /// Rows per page of the report, 1 to 1000.
    #[arg(long, env = "SKYPAY_REPORT_PAGE_SIZE", value_name = "SKYPAY_REPORT_PAGE_SIZE",
          global = true, default_value = "100", value_parser = setting(parse_page_size))]
    pub skypay_report_page_size: u32,
    /// What the report's `referenceNo` is paired with: `receipt` (our collection's
    /// `receiptNumber`, the likely reading), or `none` (nothing pairs automatically: every
    /// row is a `probable_match` or `missing_ours`, for a person).
    #[arg(long, env = "RECON_MATCH_ON", value_name = "RECON_MATCH_ON", global = true,
          default_value = "receipt", value_parser = setting(parse_match_on))]
    pub recon_match_on: MatchOn,
    /// A collection of ours not in SkyPay's report is expected until this long after it was
    /// collected (SkyPay's report may lag), then an exception.
    #[arg(long, env = "RECON_MISSING_THEIRS_GRACE", value_name = "RECON_MISSING_THEIRS_GRACE",
          global = true, default_value = "2h", value_parser = setting(parse_duration))]
    pub recon_missing_theirs_grace: Duration,
    /// A collection not posted to the core loan system this long after it was collected is an
    /// exception (`not_posted`).
    #[arg(long, env = "RECON_NOT_POSTED_AFTER", value_name = "RECON_NOT_POSTED_AFTER",
          global = true, default_value = "1h", value_parser = setting(parse_duration))]
    pub recon_not_posted_after: Duration,
    /// How far apart SkyPay's pay time and ours may be for a `probable_match`.
    #[arg(long, env = "RECON_PROBABLE_WINDOW", value_name = "RECON_PROBABLE_WINDOW",
          global = true, default_value = "10m", value_parser = setting(parse_duration))]
    pub recon_probable_window: Duration,
    /// When the relay process reconciles the previous day, Manila time (`HH:MM`), or `off`.
    #[arg(long, env = "RECON_NIGHTLY_AT", value_name = "RECON_NIGHTLY_AT", global = true,
          default_value = "02:00", value_parser = setting(parse_time_of_day))]
    pub recon_nightly_at: std::option::Option<chrono::NaiveTime>,
    /// How often the relay process reconciles today so far, or `off`.
    #[arg(long, env = "RECON_INTRADAY_EVERY", value_name = "RECON_INTRADAY_EVERY",
          global = true, default_value = "1h", value_parser = setting(parse_optional_duration))]
    pub recon_intraday_every: std::option::Option<Duration>,
    /// The channel code an adopted collection is recorded under (SkyPay's report does not
    /// say): 99 is SkyPay's "others".
    #[arg(long, env = "RECON_ADOPT_PAY_CHANNEL", value_name = "RECON_ADOPT_PAY_CHANNEL",
          global = true, default_value = "99", value_parser = setting(parse_pay_channel))]
    pub recon_adopt_pay_channel: i32,
    /// Which Manila day a collection settlement (a `financeNotification` of statement type 4)
    /// dated on day D covers: `previous-day` (D − 1) or `same-day` (D). Its drift is its
    /// amount minus the reconciliation items matched on that day (a day not reconciled has
    /// none: the drift is then the whole amount, until its run checks it again).
    #[arg(long, env = "SETTLEMENT_PERIOD", value_name = "SETTLEMENT_PERIOD", global = true,
          default_value = "previous-day", value_parser = setting(parse_settlement_period))]
    pub settlement_period: SettlementPeriod,
    /// What a finance notice's integer `amount` counts: `centavos` (390000 is 3900.00) or
    /// `pesos`. SkyPay's page does not say.
    #[arg(long, env = "SETTLEMENT_AMOUNT_UNIT", value_name = "SETTLEMENT_AMOUNT_UNIT",
          global = true, default_value = "centavos", value_parser = setting(parse_amount_unit))]
    pub settlement_amount_unit: AmountUnit,
}

impl ReconArgs {
    /// How collection settlements are checked (`SETTLEMENT_PERIOD`, `SETTLEMENT_AMOUNT_UNIT`).
    pub fn settlement_rules(&self) -> SettlementRules {
        SettlementRules {
            period: self.settlement_period,
            unit: self.settlement_amount_unit,
        }
    }
}

impl Settings {
    /// Reads settings through `lookup` instead of the environment (tests pass a map), with
    /// the same definitions: each variable that `lookup` gives a non-blank value becomes its
    /// flag. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let command = Settings::augment_args(Command::new("settings").no_binary_name(true));
        let mut args = Vec::new();
        for arg in command.get_arguments() {
            let (Some(var), Some(long)) = (arg.get_env().and_then(OsStr::to_str), arg.get_long())
            else {
                continue;
            };
            if let Some(value) = lookup(var).filter(|v| !v.trim().is_empty()) {
                args.push(format!("--{long}={value}"));
            }
        }
        let matches = without_env(command)
            .try_get_matches_from(args)
            .map_err(|e| {
                ConfigError::from_clap(&e)
                    .unwrap_or_else(|| ConfigError::new("settings", e.to_string()))
            })?;
        Self::from_arg_matches(&matches).map_err(|e| ConfigError::new("settings", e.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Setting;
    use clap::Arg;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    /// `raw` through `parser` as the value of a setting named `var` (by its `value_name`).
    fn parse_as<T: Clone + Send + Sync + 'static>(
        var: &'static str,
        parser: Setting<T>,
        raw: &str,
    ) -> Result<T, ConfigError> {
        let command = Command::new("t")
            .no_binary_name(true)
            .arg(Arg::new("x").long("x").value_name(var).value_parser(parser));
        let matches = command
            .try_get_matches_from([format!("--x={raw}")])
            .map_err(|e| ConfigError::from_clap(&e).expect("a ConfigError"))?;
        Ok(matches.get_one::<T>("x").unwrap().clone())
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = load(&[]).unwrap();
        assert_eq!(s.listen_addr.to_string(), "0.0.0.0:8080");
        assert_eq!(s.admin_listen_addr.to_string(), "127.0.0.1:9090");
        assert_eq!(s.amqp_prefix, "collector");
        assert_eq!(s.database_pool_size, 20);
        assert!(!s.require_encryption);
        assert_eq!(s.overpayment, OverpaymentPolicy::Refuse);
        assert_eq!(s.retry_schedule.len(), 6);
        assert_eq!(s.retry_schedule[5], Duration::from_secs(6 * 3600));
        assert_eq!(s.sweeper.config(), SweeperConfig::default());
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.recon.settlement_rules(), SettlementRules::default());
        let s2 = load(&[
            ("SETTLEMENT_PERIOD", "same-day"),
            ("SETTLEMENT_AMOUNT_UNIT", "pesos"),
        ])
        .unwrap();
        assert_eq!(
            s2.recon.settlement_rules(),
            SettlementRules {
                period: SettlementPeriod::SameDay,
                unit: AmountUnit::Pesos
            }
        );
        assert!(s.credentials.is_empty() && s.trusted_proxies.is_empty());
        assert!(s.allowed_ips.is_none() && s.database_url.is_none());
    }

    #[test]
    fn empty_values_count_as_unset() {
        let s = load(&[
            ("DATABASE_URL", ""),
            ("LOG_FORMAT", "  "),
            ("DATABASE_POOL_SIZE", ""),
            ("SKYPAY_ALLOWED_IPS", ""),
            ("SWEEPER_INTERVAL", ""),
        ])
        .unwrap();
        assert!(s.database_url.is_none() && s.allowed_ips.is_none());
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.database_pool_size, 20);
        assert_eq!(s.sweeper.config(), SweeperConfig::default());
    }

    #[test]
    fn values_are_trimmed() {
        let s = load(&[
            ("DATABASE_URL", " postgres://x/y "),
            ("CORE_LOAN_URL", "http://core/ "),
            ("LOG_FORMAT", " json"),
        ])
        .unwrap();
        assert_eq!(s.database_url.as_deref(), Some("postgres://x/y"));
        assert_eq!(s.core_loan_url.as_deref(), Some("http://core"));
        assert_eq!(s.log_format, LogFormat::Json);
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
        assert_eq!(s.sweeper.config().interval, Duration::from_secs(5));
        assert_eq!(s.sweeper.config().published_grace, Duration::from_secs(120));
        assert_eq!(s.sweeper.config().retry_grace, Duration::from_secs(3600));
        assert_eq!(s.sweeper.config().lookback, Duration::from_secs(3 * 86_400));
        assert_eq!(s.sweeper.config().batch, SweeperConfig::default().batch);
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        let cases = [
            ("DATABASE_URL", "mysql://x"),
            ("AMQP_URL", "http://x"),
            ("AMQP_URL", "amqp://a:5672,http://b"),
            ("AMQP_URL", " , "),
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
            ("OUTBOX_RETENTION", "a week"),
            ("RUST_LOG", "info,collector=loud"),
            ("RUST_LOG", "[{"),
            ("SETTLEMENT_PERIOD", "yesterday"),
            ("SETTLEMENT_AMOUNT_UNIT", "cents"),
        ];
        for (var, value) in cases {
            let err = load(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, var, "{value}");
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn amqp_url_takes_the_nodes_of_a_cluster() {
        let nodes =
            "amqp://u:p@rabbit-1:5672/%2f, amqp://u:p@rabbit-2:5672/%2f,amqp://u:p@rabbit-3/%2f";
        let s = load(&[("AMQP_URL", nodes)]).unwrap();
        let url = s.require_amqp_url().unwrap();
        let addresses = workers::broker::addresses(url);
        assert_eq!(addresses.len(), 3);
        let shown: Vec<_> = addresses
            .iter()
            .map(|a| workers::broker::node_of(a))
            .collect();
        assert_eq!(shown, ["rabbit-1:5672", "rabbit-2:5672", "rabbit-3:5672"]);
        let err = load(&[("AMQP_URL", "amqp://u:S3CRET@a:5672/%2f,amqp//b")]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("address 2 of 2"), "{text}");
        assert!(!text.contains("S3CRET"), "{text}");
    }

    #[test]
    fn secrets_are_not_in_errors() {
        for (var, value) in [
            ("ADMIN_TOKEN", "short-secret"),
            (
                "SKYPAY_CREDENTIALS",
                "App@skypay:KEY-SECRET,broken-KEY-SECRET",
            ),
        ] {
            let err = load(&[(var, value)]).unwrap_err().to_string();
            assert!(!err.contains("SECRET") && !err.contains("secret"), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_utf8_is_named() {
        use std::os::unix::ffi::OsStrExt;
        let command = Command::new("t").no_binary_name(true).arg(
            Arg::new("x")
                .long("x")
                .value_name("DATABASE_URL")
                .value_parser(setting(parse_postgres_url)),
        );
        let err = command
            .try_get_matches_from([OsStr::new("--x"), OsStr::from_bytes(b"postgres://\xff")])
            .unwrap_err();
        let err = ConfigError::from_clap(&err).expect("a ConfigError");
        assert_eq!(
            (err.var.as_str(), err.reason.as_str()),
            ("DATABASE_URL", "is not valid UTF-8")
        );
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
        let parse = |raw| parse_as("CORE_LOAN_TIMEOUT_SECS", setting(parse_core_timeout), raw);
        assert_eq!(parse("1").unwrap(), 1);
        assert_eq!(parse("600").unwrap(), 600);
        for bad in ["0", "601", "-1", "", "10s"] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("CORE_LOAN_TIMEOUT_SECS") && err.contains("1 to 600"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn prefetch_is_1_to_65535() {
        let parse = |raw| parse_as("WORKER_PREFETCH", setting(parse_prefetch), raw);
        assert_eq!(parse("1").unwrap(), 1);
        assert_eq!(parse("32").unwrap(), 32);
        assert_eq!(parse("65535").unwrap(), 65535);
        for bad in ["0", "65536", "-1", "", "ten", "1.5"] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("WORKER_PREFETCH") && err.contains("1 to 65535"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn durations_and_booleans() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("14d"), Ok(Duration::from_secs(14 * 86_400)));
        for bad in ["0s", "5", "s", "2w", "1.5h", "-1s", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        for (raw, value) in [("TRUE", true), ("yes", true), ("1", true), ("No", false)] {
            assert_eq!(parse_bool(raw), Ok(value), "{raw}");
        }
        assert!(parse_bool("").is_err());
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
        assert_eq!(s.allowed_ips.clone().unwrap().len(), 2);
        assert_eq!(
            s.retry_schedule,
            vec![Duration::from_millis(100), Duration::from_secs(1)]
        );
        let printed = format!("{:?}", s.credentials);
        assert!(
            !printed.contains("KEY-1"),
            "keys must not appear in Debug output"
        );
        let printed = format!("{s:?}");
        assert!(!printed.contains("KEY-1"), "nor in the settings' Debug");
    }

    #[test]
    fn every_setting_names_its_variable_and_hides_secrets() {
        let command = Settings::augment_args(Command::new("settings"));
        for arg in command.get_arguments() {
            let var = arg
                .get_env()
                .and_then(OsStr::to_str)
                .expect("every setting has a variable");
            let names = arg.get_value_names().unwrap_or_default();
            assert_eq!(
                names.first().map(|n| n.as_str()),
                Some(var),
                "value_name of {var}"
            );
            let flag = var.to_ascii_lowercase().replace('_', "-");
            assert_eq!(arg.get_long(), Some(flag.as_str()), "the flag of {var}");
            assert!(arg.is_global_set(), "{var} is global");
            let secret = matches!(
                var,
                "ADMIN_TOKEN"
                    | "SKYPAY_CREDENTIALS"
                    | "SKYPAY_PARTNER_CREDENTIAL"
                    | "CORE_LOAN_TOKEN"
                    | "DATABASE_URL"
                    | "AMQP_URL"
            );
            assert_eq!(
                arg.is_hide_env_values_set(),
                secret,
                "hide_env_values of {var}"
            );
        }
    }
}
