//! `fake-skypay`: the stand-in SkyPay, its partner API and its simulator (see
//! `collector::fake_skypay`).

use std::net::SocketAddr;

use clap::Parser;
use collector::fake_skypay::{
    self, FakeSkyPay, PartnerCredential, ReportSwitches, SimulatorTargets, Switches, ACTION,
    ACTION_MISSPELT,
};

#[derive(Parser)]
#[command(
    name = "fake-skypay",
    about = "A fake SkyPay: its collection report (partner API) and a simulator of its callbacks"
)]
struct Args {
    #[arg(long, env = "FAKE_SKYPAY_LISTEN", default_value = "0.0.0.0:8082")]
    listen: SocketAddr,
    /// The partner credential, `user:key`: report calls must carry it, its key seals the
    /// envelopes, and the simulator sends it to our API.
    #[arg(long, env = "FAKE_SKYPAY_CREDENTIAL", hide_env_values = true)]
    credential: String,
    /// Our SkyPay listener, for the simulator (calls go to `{url}/skypay`).
    #[arg(long, env = "FAKE_SKYPAY_API_URL")]
    api_url: Option<String>,
    /// Our admin API, for the simulator to register fresh bills.
    #[arg(long, env = "FAKE_SKYPAY_ADMIN_URL")]
    admin_url: Option<String>,
    /// The admin API's bearer token.
    #[arg(long, env = "FAKE_SKYPAY_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Accepted report actions, comma-separated (one for strict mode).
    #[arg(long, env = "FAKE_SKYPAY_ACTION_SPELLINGS", value_delimiter = ',',
          default_values_t = [ACTION.to_owned(), ACTION_MISSPELT.to_owned()])]
    action_spellings: Vec<String>,
    /// Answer every report call with this responseCode (e.g. -1032, -9999).
    #[arg(long, env = "FAKE_SKYPAY_ERROR_CODE", allow_hyphen_values = true)]
    error_code: Option<String>,
    /// totalTransaction and amounts as JSON strings.
    #[arg(long, env = "FAKE_SKYPAY_NUMBERS_AS_STRINGS")]
    numbers_as_strings: bool,
    /// Trailing commas in the report, as SkyPay's published sample has.
    #[arg(long, env = "FAKE_SKYPAY_TRAILING_COMMAS")]
    trailing_commas: bool,
    /// Sleep before answering each report page.
    #[arg(long, env = "FAKE_SKYPAY_PAGE_DELAY_MS", default_value_t = 0)]
    page_delay_ms: u64,
    /// Book this many new rows after each page that is not the last.
    #[arg(long, env = "FAKE_SKYPAY_INSERT_BETWEEN_PAGES", default_value_t = 0)]
    insert_between_pages: u32,
    /// Answer the first N report calls with HTTP 503.
    #[arg(long, env = "FAKE_SKYPAY_FAIL_PAGES", default_value_t = 0)]
    fail_pages: u32,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber_init();
    let args = Args::parse();
    let credential = match PartnerCredential::parse(&args.credential) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fake-skypay: FAKE_SKYPAY_CREDENTIAL: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let url = |u: Option<String>| {
        u.map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty())
    };
    let switches = Switches {
        report: ReportSwitches {
            action_spellings: args
                .action_spellings
                .into_iter()
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect(),
            error_code: args.error_code.filter(|c| !c.trim().is_empty()),
            numbers_as_strings: args.numbers_as_strings,
            trailing_commas: args.trailing_commas,
            page_delay_ms: args.page_delay_ms,
            insert_between_pages: args.insert_between_pages,
            fail_pages: args.fail_pages,
        },
        simulator: SimulatorTargets {
            api_url: url(args.api_url),
            admin_url: url(args.admin_url),
            admin_token: args.admin_token.filter(|t| !t.is_empty()),
        },
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fake-skypay: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(listen = %args.listen, user = credential.user(), ?switches, "fake SkyPay listening");
    let shutdown = workers::signal::shutdown_on_signal();
    match fake_skypay::serve(listener, FakeSkyPay::new(credential, switches), shutdown).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-skypay: {e}");
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
