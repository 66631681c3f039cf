//! `collector`: one binary, one subcommand per process kind (listed in README.md).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use collector::cli::{self, WorkerOptions};
use collector::config::{LogFormat, Settings};
use collector::{ops, telemetry};

/// mimalloc rather than glibc's malloc: see Cargo.toml and BENCHMARKS.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "collector",
    version,
    about = "Queue-backed SkyPay collection processor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        /// Serve /metrics, /healthz and /readyz here (e.g. 0.0.0.0:9100).
        #[arg(long, env = "METRICS_ADDR")]
        metrics_addr: Option<SocketAddr>,
    },
    /// The posting workers.
    Worker {
        #[command(flatten)]
        worker: WorkerArgs,
        /// Serve /metrics, /healthz and /readyz here (e.g. 0.0.0.0:9100).
        #[arg(long, env = "METRICS_ADDR")]
        metrics_addr: Option<SocketAddr>,
    },
    /// Everything in one process, migrations included; with CORE_LOAN_URL unset, also a fake
    /// core loan system.
    All {
        #[command(flatten)]
        worker: WorkerArgs,
        /// Where the in-process fake core loan system listens when CORE_LOAN_URL is unset.
        #[arg(long, env = "FAKE_CORE_ADDR", default_value = "127.0.0.1:8081")]
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
    Topology(TopologyCommand),
    /// Dead letters: list, show, replay, discard, reconcile the queue.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Flags: list and resolve.
    #[command(subcommand)]
    Flags(FlagsCommand),
    /// Collections by receipt or control number, with their history.
    #[command(subcommand)]
    Collections(CollectionsCommand),
    /// Bills: show one, import a CSV.
    #[command(subcommand)]
    Bills(BillsCommand),
}

/// Which dead letters (every filter given must match).
#[derive(Args, Clone, Default)]
struct DlqFilter {
    /// Substring of the reason (case-insensitive).
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    control_number: Option<String>,
    /// Dead-lettered at least this long ago: 30s, 15m, 2h, 1d.
    #[arg(long, value_parser = ops::commands::parse_age)]
    older_than: Option<Duration>,
}

impl DlqFilter {
    fn filter(&self, ids: Vec<uuid::Uuid>) -> ops::dead_letters::Filter {
        ops::dead_letters::Filter {
            ids: (!ids.is_empty()).then_some(ids),
            reason: self.reason.clone(),
            control_number: self.control_number.clone(),
            older_than: self.older_than,
        }
    }

    fn is_empty(&self) -> bool {
        self.reason.is_none() && self.control_number.is_none() && self.older_than.is_none()
    }
}

#[derive(Args, Clone)]
struct WorkerArgs {
    /// Messages each worker holds and posts concurrently.
    #[arg(long, env = "WORKER_PREFETCH", default_value_t = 32,
          value_parser = collector::config::parse_prefetch)]
    prefetch: u16,
    /// Time-out of one call to the core loan system, in seconds (1 to 600).
    #[arg(long, env = "CORE_LOAN_TIMEOUT_SECS", default_value_t = 10,
          value_parser = collector::config::parse_core_timeout)]
    core_timeout_secs: u64,
}

impl WorkerArgs {
    fn options(&self) -> WorkerOptions {
        WorkerOptions {
            prefetch: self.prefetch,
            core_timeout: Duration::from_secs(self.core_timeout_secs),
        }
    }
}

#[derive(Subcommand)]
enum TopologyCommand {
    /// Move what the previous version's queues hold into this version's, then delete them.
    Migrate {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DlqCommand {
    /// Dead letters with receipt, control number, amount, attempts and reason.
    List {
        #[command(flatten)]
        filter: DlqFilter,
        #[arg(long)]
        json: bool,
    },
    /// One dead letter with its whole history.
    Show {
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Send dead letters back to the posting queue: by id, by filter, or --all.
    ///
    /// An id that is not a dead letter (unknown, posted, already replayed or discarded) makes
    /// the command fail with a non-zero exit, naming it; the others are still replayed. A
    /// filter or --all that matches nothing is not a failure: it says "no dead letter
    /// matched" and exits 0.
    Replay {
        ids: Vec<uuid::Uuid>,
        #[command(flatten)]
        filter: DlqFilter,
        #[arg(long)]
        all: bool,
        /// Replays per second.
        #[arg(long, default_value_t = 20)]
        rate: u32,
        /// Why, for the audit log.
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Give up on dead letters for good, with a reason: by id, by filter, or --all.
    ///
    /// An id that is not a dead letter (unknown, posted, already replayed or discarded) makes
    /// the command fail with a non-zero exit, naming it; the others are still discarded. A
    /// filter or --all that matches nothing is not a failure: it says "no dead letter
    /// matched" and exits 0.
    Discard {
        ids: Vec<uuid::Uuid>,
        #[command(flatten)]
        filter: DlqFilter,
        #[arg(long)]
        all: bool,
        /// Why (required).
        #[arg(long = "why", required = true)]
        why: String,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Bring the dead-letter queue in line with the database.
    Reconcile,
}

#[derive(Subcommand)]
enum FlagsCommand {
    /// Flags, open ones by default.
    List {
        /// replay, conflict, suspected_double_payment, refused_collect, overpayment, core_duplicate
        #[arg(long)]
        kind: Option<String>,
        /// open, resolved or all.
        #[arg(long, default_value = "open")]
        status: String,
        #[arg(long)]
        json: bool,
    },
    /// Resolve a flag with a note.
    Resolve {
        id: i64,
        #[arg(long, required = true)]
        note: String,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CollectionsCommand {
    /// "Did this payment reach the ledger?": by receipt (and channel), control number or id.
    Show {
        #[arg(long)]
        receipt: Option<String>,
        #[arg(long)]
        channel: Option<i32>,
        #[arg(long)]
        control_number: Option<String>,
        #[arg(long)]
        id: Option<uuid::Uuid>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum BillsCommand {
    /// A bill with its collections.
    Show {
        control_number: String,
        #[arg(long)]
        json: bool,
    },
    /// Register or update bills from a CSV file (header: controlNumber,loanRef,amountDue,
    /// allowPartial,expiresAt,lastName,firstName,middleName,suffix,address,phone).
    ///
    /// amountDue: a positive amount like 3900.00. allowPartial: true/false (empty: false).
    /// expiresAt (optional): 2026-12-31 23:59:59 or 2026-12-31 (both Philippine time, +08:00;
    /// a date alone keeps the bill payable all that day, expiring at the next midnight), or
    /// RFC 3339 with its offset (2026-12-31T23:59:59+08:00). middleName and suffix may be
    /// empty. Failed rows are listed and make the command exit non-zero; the others are kept.
    Import {
        file: std::path::PathBuf,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    // A `.env` file, if present, fills in what the environment does not set.
    let _ = dotenvy::dotenv();
    // Errors are logged with their cause chain; capturing a backtrace for every one (anyhow
    // does when RUST_BACKTRACE is set) costs time and memory on hot retry paths. Panics keep
    // their backtraces.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let args = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("collector: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format, &settings.log_filter);
    collector::metrics::handle();
    let result = match args.command {
        Command::Migrate => cli::migrate(&settings).await,
        Command::Serve { no_relay } => cli::serve(&settings, !no_relay).await,
        Command::Relay { metrics_addr } => cli::relay(&settings, metrics_addr).await,
        Command::Worker {
            worker,
            metrics_addr,
        } => cli::worker(&settings, &worker.options(), metrics_addr).await,
        Command::All {
            worker,
            fake_core_addr,
        } => cli::all(&settings, &worker.options(), fake_core_addr).await,
        Command::Sweep { once } => cli::sweep(&settings, once).await,
        Command::Topology(TopologyCommand::Migrate { json }) => {
            cli::topology_migrate(&settings, json).await
        }
        Command::Dlq(command) => dlq(&settings, command).await,
        Command::Flags(command) => flags(&settings, command).await,
        Command::Collections(CollectionsCommand::Show {
            receipt,
            channel,
            control_number,
            id,
            json,
        }) => {
            let lookup = ops::collections::Lookup {
                receipt,
                channel,
                control_number,
                id,
            };
            match cli::connect_checked(&settings).await {
                Ok(pool) => ops::commands::collections_show(&pool, &lookup, json).await,
                Err(e) => Err(e),
            }
        }
        Command::Bills(command) => bills(&settings, command).await,
    };
    // Connections that the relay and the workers closed may still be finishing on lapin's
    // I/O threads: let them end before the runtime does (see `collector::amqp`).
    collector::amqp::wait_for_io_threads(Duration::from_secs(1)).await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Once, on stderr, each cause said once. JSON logs (for machines) get it as an
            // event too, so that a log pipeline sees why a process stopped.
            let message = telemetry::error_chain(&e);
            if settings.log_format == LogFormat::Json {
                tracing::error!(error = %message, "collector stopped");
            }
            eprintln!("collector: error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn dlq(settings: &Settings, command: DlqCommand) -> anyhow::Result<()> {
    use ops::commands as c;
    let pool = cli::connect_checked(settings).await?;
    match command {
        DlqCommand::List { filter, json } => c::dlq_list(&pool, &filter.filter(vec![]), json).await,
        DlqCommand::Show { id, json } => c::dlq_show(&pool, id, json).await,
        DlqCommand::Replay {
            ids,
            filter,
            all,
            rate,
            note,
            actor,
            json,
        } => {
            selection_given(&ids, &filter, all)?;
            let selected = filter.filter(ids);
            let action = ops::dead_letters::Action::Replay {
                reason: note.as_deref(),
                per_second: rate,
            };
            c::dlq_act(settings, &pool, &selected, &c::actor(actor), action, json).await
        }
        DlqCommand::Discard {
            ids,
            filter,
            all,
            why,
            actor,
            json,
        } => {
            selection_given(&ids, &filter, all)?;
            let action = ops::dead_letters::Action::Discard { reason: &why };
            let selected = filter.filter(ids);
            c::dlq_act(settings, &pool, &selected, &c::actor(actor), action, json).await
        }
        DlqCommand::Reconcile => {
            let removed = c::reconcile(settings, &pool).await?;
            println!("removed {removed} message(s) from the dead-letter queue");
            Ok(())
        }
    }
}

/// A bulk action needs ids, a filter, or an explicit `--all`.
fn selection_given(ids: &[uuid::Uuid], filter: &DlqFilter, all: bool) -> anyhow::Result<()> {
    if ids.is_empty() && filter.is_empty() && !all {
        anyhow::bail!(
            "say which dead letters: ids, --reason/--control-number/--older-than, or --all"
        );
    }
    Ok(())
}

async fn flags(settings: &Settings, command: FlagsCommand) -> anyhow::Result<()> {
    let pool = cli::connect_checked(settings).await?;
    match command {
        FlagsCommand::List { kind, status, json } => {
            ops::commands::flags_list(&pool, kind.as_deref(), &status, json).await
        }
        FlagsCommand::Resolve {
            id,
            note,
            actor,
            json,
        } => {
            ops::commands::flags_resolve(&pool, id, &ops::commands::actor(actor), &note, json).await
        }
    }
}

async fn bills(settings: &Settings, command: BillsCommand) -> anyhow::Result<()> {
    let pool = cli::connect_checked(settings).await?;
    match command {
        BillsCommand::Show {
            control_number,
            json,
        } => ops::commands::bills_show(&pool, &control_number, json).await,
        BillsCommand::Import { file, actor, json } => {
            ops::commands::bills_import(&pool, &file, &ops::commands::actor(actor), json).await
        }
    }
}
