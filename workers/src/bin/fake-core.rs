//! `fake-core`: the stand-in core loan system (see `workers::fake_core`).

use std::net::SocketAddr;

use clap::Parser;
use workers::fake_core::{self, ErrorMix, FakeCore, Switches};

#[derive(Parser)]
#[command(
    name = "fake-core",
    about = "A fake core loan system with failure injection"
)]
struct Args {
    #[arg(long, env = "FAKE_CORE_LISTEN", default_value = "0.0.0.0:8081")]
    listen: SocketAddr,
    /// Share of calls (0–1) answered with an injected error.
    #[arg(long, env = "FAKE_CORE_ERROR_RATE", default_value_t = 0.0)]
    error_rate: f64,
    /// Weights of injected errors, e.g. `5xx=3,4xx=1,409=1,timeout=0,late=0` (late: posted, answered after 60 s).
    #[arg(long, env = "FAKE_CORE_MIX", default_value = "5xx=1")]
    mix: String,
    #[arg(long, env = "FAKE_CORE_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
    /// Answer every call with 503.
    #[arg(long, env = "FAKE_CORE_OUTAGE")]
    outage: bool,
}

fn parse_mix(raw: &str) -> Result<ErrorMix, String> {
    let mut mix = ErrorMix::default();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (kind, weight) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not kind=weight"))?;
        let weight: u32 = weight
            .parse()
            .map_err(|_| format!("`{weight}` is not a whole number"))?;
        match kind {
            "5xx" => mix.server_error = weight,
            "4xx" => mix.client_error = weight,
            "409" => mix.conflict = weight,
            "timeout" => mix.timeout = weight,
            "late" => mix.late = weight,
            other => {
                return Err(format!(
                    "unknown error kind `{other}` (5xx, 4xx, 409, timeout, late)"
                ))
            }
        }
    }
    Ok(mix)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber_init();
    let args = Args::parse();
    if !(0.0..=1.0).contains(&args.error_rate) {
        eprintln!("fake-core: FAKE_CORE_ERROR_RATE must be between 0 and 1");
        return std::process::ExitCode::from(2);
    }
    let mix = match parse_mix(&args.mix) {
        Ok(mix) => mix,
        Err(e) => {
            eprintln!("fake-core: FAKE_CORE_MIX: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let switches = Switches {
        error_rate: args.error_rate,
        mix,
        latency_ms: args.latency_ms,
        outage: args.outage,
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fake-core: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(listen = %args.listen, ?switches, "fake core loan system listening");
    let shutdown = workers::signal::shutdown_on_signal();
    match fake_core::serve(listener, FakeCore::new(switches), shutdown).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-core: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn tracing_subscriber_init() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();
}
