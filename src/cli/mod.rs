//! The command line: one subcommand per process kind and per ops command group, with the
//! [`Settings`] as global arguments that environment variables fill in. `main.rs` parses it
//! ([`try_parse`]) and hands it to [`run`]; what each process does is in [`crate::run`].

pub mod bills;
pub mod collections;
pub mod config_table;
pub mod dlq;
pub mod flags;
pub mod output;
pub mod recon;
pub mod table;
pub mod topology;

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::config::{self, setting, Settings};
use crate::run::{self as process, WorkerOptions};

#[derive(Debug, Parser)]
#[command(
    name = "collector",
    version,
    about = "Queue-backed SkyPay collection processor"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Command,
}

impl Command {
    /// A process or a deployment step (it logs to stdout), rather than an ops command (whose
    /// stdout is its answer, a table or JSON for scripts, so it logs to stderr).
    pub fn is_process(&self) -> bool {
        matches!(
            self,
            Command::Migrate
                | Command::Serve { .. }
                | Command::Relay { .. }
                | Command::Worker { .. }
                | Command::All { .. }
                | Command::Sweep { once: false }
        )
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the database migrations and exit.
    Migrate,
    /// The SkyPay API, the admin API and the outbox relay.
    Serve {
        /// Leave the outbox relay out (run `collector relay` separately).
        #[arg(long)]
        no_relay: bool,
    },
    /// The outbox relay alone (several may run at once).
    Relay {
        #[command(flatten)]
        metrics: MetricsArgs,
    },
    /// The posting workers.
    Worker {
        #[command(flatten)]
        worker: WorkerArgs,
        #[command(flatten)]
        metrics: MetricsArgs,
    },
    /// Everything in one process, migrations included; with CORE_LOAN_URL unset, also a fake
    /// core loan system.
    All {
        #[command(flatten)]
        worker: WorkerArgs,
        /// Where `collector all` runs its in-process fake core loan system when
        /// `CORE_LOAN_URL` is unset.
        #[arg(long, env = "FAKE_CORE_ADDR", value_name = "FAKE_CORE_ADDR",
              default_value = "127.0.0.1:8081", value_parser = setting(config::parse_addr))]
        fake_core_addr: SocketAddr,
    },
    /// The sweeper alone: re-sends from the database every payment whose message is overdue
    /// (the relay process runs one too).
    Sweep {
        /// One sweep, then exit.
        #[arg(long)]
        once: bool,
    },
    /// The RabbitMQ topology: migrate from the previous version's queues.
    #[command(subcommand)]
    Topology(topology::TopologyCommand),
    /// Dead letters: list, show, replay, discard, reconcile the queue.
    #[command(subcommand)]
    Dlq(dlq::DlqCommand),
    /// Flags: list and resolve.
    #[command(subcommand)]
    Flags(flags::FlagsCommand),
    /// Collections by receipt or control number, with their history.
    #[command(subcommand)]
    Collections(collections::CollectionsCommand),
    /// Bills: show one, import a CSV.
    #[command(subcommand)]
    Bills(bills::BillsCommand),
    /// Reconcile one Manila day against SkyPay's collection report (default: yesterday).
    Reconcile {
        /// The day, e.g. 2026-11-20.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Reconciliation's exceptions: list, show, resolve (adopt, void, escalate), export, runs.
    #[command(subcommand)]
    Exceptions(recon::ExceptionsCommand),
    /// Print README.md's configuration table (markdown), from these definitions.
    #[command(hide = true)]
    ConfigTable,
}

/// The posting workers' options (`worker`, `all`).
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Messages a worker holds, and posts to the core loan system at once, 1–65535; 128 posts
    /// ~1.5–2× faster to a fast core (BENCHMARKS.md) if the core can take that many calls at
    /// once.
    #[arg(long = "prefetch", env = "WORKER_PREFETCH", value_name = "WORKER_PREFETCH",
          default_value = "32", value_parser = setting(config::parse_prefetch))]
    pub prefetch: u16,
    /// Time-out of one call to the core loan system, 1–600 s; a time-out is retried like a
    /// 5xx.
    #[arg(long = "core-timeout-secs", env = "CORE_LOAN_TIMEOUT_SECS",
          value_name = "CORE_LOAN_TIMEOUT_SECS", default_value = "10",
          value_parser = setting(config::parse_core_timeout))]
    pub core_timeout_secs: u64,
}

impl WorkerArgs {
    pub fn options(&self) -> WorkerOptions {
        WorkerOptions {
            prefetch: self.prefetch,
            core_timeout: Duration::from_secs(self.core_timeout_secs),
        }
    }
}

/// `/metrics`, `/healthz` and `/readyz` of the processes without the admin listener.
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// Where `collector relay` / `collector worker` serve `/metrics`, `/healthz` and `/readyz`
    /// (e.g. 0.0.0.0:9100).
    #[arg(long, env = "METRICS_ADDR", value_name = "METRICS_ADDR",
          value_parser = setting(config::parse_addr))]
    pub metrics_addr: Option<SocketAddr>,
}

/// Parses the command line, the environment filling in what it does not give. A variable set
/// to an empty or blank value counts as unset: it is removed from the environment first (clap
/// would take it as a value), so call this before other threads run; `main` does, before the
/// runtime starts.
///
/// A value that a setting refuses comes back as a clap error whose
/// [`ConfigError::from_clap`](crate::config::ConfigError::from_clap) names the variable.
pub fn try_parse() -> Result<Cli, clap::Error> {
    let command = Cli::command();
    for arg in config::env_args(&command) {
        let Some(var) = arg.get_env() else { continue };
        let blank = std::env::var_os(var)
            .is_some_and(|value| value.to_str().is_some_and(|v| v.trim().is_empty()));
        if blank {
            std::env::remove_var(var);
        }
    }
    Cli::try_parse()
}

/// Runs the chosen subcommand.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli { settings, command } = cli;
    let settings = &settings;
    match command {
        Command::Migrate => process::migrate(settings).await,
        Command::Serve { no_relay } => process::serve(settings, !no_relay).await,
        Command::Relay { metrics } => process::relay(settings, metrics.metrics_addr).await,
        Command::Worker { worker, metrics } => {
            process::worker(settings, &worker.options(), metrics.metrics_addr).await
        }
        Command::All {
            worker,
            fake_core_addr,
        } => process::all(settings, &worker.options(), fake_core_addr).await,
        Command::Sweep { once } => process::sweep(settings, once).await,
        Command::Topology(command) => topology::run(settings, command).await,
        Command::Dlq(command) => dlq::run(settings, command).await,
        Command::Flags(command) => flags::run(settings, command).await,
        Command::Collections(command) => collections::run(settings, command).await,
        Command::Bills(command) => bills::run(settings, command).await,
        Command::Reconcile { date, actor, json } => {
            recon::reconcile(settings, date, actor, json).await
        }
        Command::Exceptions(command) => recon::run(settings, command).await,
        Command::ConfigTable => {
            print!("{}", config_table::render(&Cli::command()));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::FromArgMatches;

    use super::*;
    use crate::config::ConfigError;

    /// `args` parsed without the process environment.
    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let matches = config::without_env(Cli::command())
            .try_get_matches_from(std::iter::once("collector").chain(args.iter().copied()))?;
        Cli::from_arg_matches(&matches)
    }

    fn config_error(args: &[&str]) -> ConfigError {
        let err = parse(args).expect_err("refused");
        ConfigError::from_clap(&err).unwrap_or_else(|| panic!("not a ConfigError: {err}"))
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn settings_are_flags_before_or_after_the_subcommand() {
        let before = parse(&["--database-pool-size=5", "--log-format", "json", "migrate"]).unwrap();
        let after = parse(&["migrate", "--database-pool-size=5", "--log-format", "json"]).unwrap();
        for cli in [before, after] {
            assert_eq!(cli.settings.database_pool_size, 5);
            assert_eq!(cli.settings.log_format, config::LogFormat::Json);
            assert!(matches!(cli.command, Command::Migrate));
        }
        let cli = parse(&["dlq", "list", "--sweeper-interval=5s", "--json"]).unwrap();
        assert_eq!(
            cli.settings.sweeper.config().interval,
            Duration::from_secs(5)
        );
        let cli = parse(&["bills", "show", "SKY1", "--skypay-require-encryption=yes"]).unwrap();
        assert!(cli.settings.require_encryption);
    }

    #[test]
    fn worker_options_default_and_are_checked() {
        let Command::Worker { worker, metrics } = parse(&["worker"]).unwrap().command else {
            panic!("not worker")
        };
        assert_eq!((worker.prefetch, worker.core_timeout_secs), (32, 10));
        assert_eq!(metrics.metrics_addr, None);
        let Command::All {
            worker,
            fake_core_addr,
        } = parse(&["all", "--prefetch", "128", "--core-timeout-secs=600"])
            .unwrap()
            .command
        else {
            panic!("not all")
        };
        assert_eq!((worker.prefetch, worker.core_timeout_secs), (128, 600));
        assert_eq!(fake_core_addr.to_string(), "127.0.0.1:8081");

        let err = config_error(&["worker", "--prefetch=0"]);
        assert_eq!(err.var, "WORKER_PREFETCH");
        assert!(err.to_string().contains("1 to 65535"), "{err}");
        let err = config_error(&["all", "--core-timeout-secs=0"]);
        assert_eq!(err.var, "CORE_LOAN_TIMEOUT_SECS");
        assert!(err.to_string().contains("1 to 600"), "{err}");
        assert_eq!(
            config_error(&["relay", "--metrics-addr=9100"]).var,
            "METRICS_ADDR"
        );
        assert_eq!(
            config_error(&["all", "--fake-core-addr=x"]).var,
            "FAKE_CORE_ADDR"
        );
        let err = config_error(&["--database-url=mysql://x", "migrate"]);
        assert_eq!(err.var, "DATABASE_URL");
        assert!(
            err.to_string().contains("must start with postgres://"),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_show_in_help() {
        for arg in config::env_args(&Cli::command()) {
            let var = arg.get_env().and_then(|v| v.to_str()).unwrap();
            if matches!(
                var,
                "ADMIN_TOKEN" | "SKYPAY_CREDENTIALS" | "CORE_LOAN_TOKEN"
            ) {
                assert!(arg.is_hide_env_values_set(), "{var}");
            }
        }
    }
}
