//! `collector`: one binary, one subcommand per process kind (PRODUCT.md).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use collector::cli::{self, WorkerOptions};
use collector::config::Settings;
use collector::{ops, telemetry};

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
    Relay,
    /// The posting workers.
    Worker(WorkerArgs),
    /// Everything in one process, migrations included; with CORE_LOAN_URL unset, also a fake
    /// core loan system.
    All {
        #[command(flatten)]
        worker: WorkerArgs,
        /// Where the in-process fake core loan system listens when CORE_LOAN_URL is unset.
        #[arg(long, env = "FAKE_CORE_ADDR", default_value = "127.0.0.1:8081")]
        fake_core_addr: SocketAddr,
    },
    /// Dead letters.
    #[command(subcommand)]
    Dlq(DlqCommand),
}

#[derive(Args, Clone)]
struct WorkerArgs {
    /// Messages each worker holds and posts concurrently.
    #[arg(long, env = "WORKER_PREFETCH", default_value_t = 32)]
    prefetch: u16,
    /// Time-out of one call to the core loan system, in seconds.
    #[arg(long, env = "CORE_LOAN_TIMEOUT_SECS", default_value_t = 10)]
    core_timeout_secs: u64,
}

impl WorkerArgs {
    fn options(&self) -> WorkerOptions {
        WorkerOptions {
            prefetch: self.prefetch.max(1),
            core_timeout: Duration::from_secs(self.core_timeout_secs.max(1)),
        }
    }
}

#[derive(Subcommand)]
enum DlqCommand {
    /// Every dead letter with its receipt, control number, amount, attempts and reason.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    // A `.env` file, if present, fills in what the environment does not set.
    let _ = dotenvy::dotenv();
    let args = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("collector: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let result = match args.command {
        Command::Migrate => cli::migrate(&settings).await,
        Command::Serve { no_relay } => cli::serve(&settings, !no_relay).await,
        Command::Relay => cli::relay(&settings).await,
        Command::Worker(worker) => cli::worker(&settings, &worker.options()).await,
        Command::All {
            worker,
            fake_core_addr,
        } => cli::all(&settings, &worker.options(), fake_core_addr).await,
        Command::Dlq(DlqCommand::List { json }) => dlq_list(&settings, json).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = ?e, "collector stopped");
            eprintln!("collector: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dlq_list(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let pool = cli::connect(settings)?;
    let letters = ops::dlq::list(&pool).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&letters)?);
    } else {
        print!("{}", ops::dlq::render(&letters));
    }
    Ok(())
}
