//! `collector`: one binary, one subcommand per process kind (listed in README.md). The
//! subcommands and the settings are defined in `collector::cli`; this parses them, starts
//! logging and the runtime, runs the subcommand and turns the outcome into an exit code.

use std::process::ExitCode;
use std::time::Duration;

use collector::config::{ConfigError, LogFormat};
use collector::{cli, telemetry};

/// mimalloc rather than glibc's malloc: see Cargo.toml and BENCHMARKS.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Synchronous until the command line is parsed: the environment is read and adjusted (`.env`,
/// `RUST_LIB_BACKTRACE`, blank variables unset) before any other thread exists.
fn main() -> ExitCode {
    // A `.env` file, if present, fills in what the environment does not set.
    let _ = dotenvy::dotenv();
    // Errors are logged with their cause chain; capturing a backtrace for every one (anyhow
    // does when RUST_BACKTRACE is set) costs time and memory on hot retry paths. Panics keep
    // their backtraces.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let cli = match cli::try_parse() {
        Ok(cli) => cli,
        // A refused setting, named (clap's own message would echo the value, a secret
        // perhaps): exit code 2, like clap's usage errors.
        Err(e) => match ConfigError::from_clap(&e) {
            Some(config) => {
                eprintln!("collector: {config}");
                return ExitCode::from(2);
            }
            // --help, --version, an unknown flag, a missing subcommand…
            None => e.exit(),
        },
    };
    let log_format = cli.settings.log_format;
    let log_to = if cli.command.is_process() {
        telemetry::LogTo::Stdout
    } else {
        telemetry::LogTo::Stderr
    };
    telemetry::init(log_format, &cli.settings.log_filter, log_to);
    workers::broker::set_timeout(cli.settings.amqp_timeout);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("collector: error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        collector::metrics::handle();
        let result = cli::run(cli).await;
        // Connections that the relay and the workers closed may still be finishing on lapin's
        // I/O threads: let them end before the runtime does (see `collector::amqp`).
        collector::amqp::wait_for_io_threads(Duration::from_secs(1)).await;
        result
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Once, on stderr, each cause said once. JSON logs (for machines) get it as an
            // event too, so that a log pipeline sees why a process stopped.
            let message = telemetry::error_chain(&e);
            if log_format == LogFormat::Json {
                tracing::error!(error = %message, "collector stopped");
            }
            eprintln!("collector: error: {message}");
            ExitCode::FAILURE
        }
    }
}
