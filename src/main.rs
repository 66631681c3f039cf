//! `collector`: one binary, one subcommand per process kind (PRODUCT.md).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use collector::config::Settings;
use collector::{cli, telemetry};

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
    /// The SkyPay API and the admin API.
    Serve,
    /// Everything in one process, migrations included: the quick local run.
    All,
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
        Command::Serve => cli::serve(&settings).await,
        Command::All => cli::all(&settings).await,
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
