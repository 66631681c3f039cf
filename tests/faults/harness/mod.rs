//! The fault harness: the real `collector` binary as separate processes (API, relays,
//! workers) on a fresh database and a unique AMQP prefix, the fake core loan system in this
//! process (so that it can be stopped, slowed and read back), a SkyPay-like client that sends
//! collect storms and retries what got no answer, and the check of the promise:
//!
//! every collect answered `1000` reaches the core loan system exactly once in effect, or sits
//! dead-lettered with its reason; nothing answered otherwise is posted.
//!
//! - `stack`: what a case sets up and drives (`Stack`, `StackOptions`);
//! - `process`: one `collector` process (`Proc`, `Role`) and the ports it listens on;
//! - `core_server`: the fake core loan system, stoppable (`CoreServer`);
//! - `proxy`: the cuttable TCP proxy in front of Postgres (`Proxy`);
//! - `cluster`: a three-node RabbitMQ cluster of a case's own (`Cluster`);
//! - `storm`: the SkyPay-like client (`Storm`, the request bodies);
//! - `ledger`: what that client saw for each receipt (`Ledger`, `Outcome`);
//! - `check`: a case's end: settle, check the promise, scan the logs (`Stack::finish`);
//! - `report`: the figures a case appends to `results.jsonl` (`Figures`).

#![allow(dead_code)] // each case uses its own part

mod check;
mod cluster;
mod core_server;
mod ledger;
mod process;
mod proxy;
mod report;
mod stack;
mod storm;

pub use crate::common::{amqp_url, TestDb};
pub use cluster::Cluster;
pub use core_server::CoreServer;
pub use ledger::{Attempt, Ledger, Outcome};
pub use process::{free_port, Proc, Role};
pub use proxy::Proxy;
pub use report::Figures;
pub use stack::{Stack, StackOptions};
pub use storm::{
    collect_body, inquiry_body, post_skypay, send_until_answered, CollectedTime, Storm, StormHandle,
};

pub const BIN: &str = env!("CARGO_BIN_EXE_collector");
pub const USER: &str = "skypay-faults";
pub const KEY: &str = "faults-skypay-key-6f1d2c";
pub const ADMIN_TOKEN: &str = "faults-admin-token-93b0e7a4";
pub const PAYER_LAST: &str = "Dimaculangan";
pub const PAYER_FIRST: &str = "Marisol";
pub const PAYER_ADDRESS: &str = "27 Kalayaan Ave, Diliman, Quezon City";
pub const PAYER_PHONE: &str = "09175550123";

/// `FAULTS_LONG=1` runs every storm ten times bigger (`scripts/faults --long`).
pub fn long() -> bool {
    std::env::var("FAULTS_LONG").is_ok_and(|v| v == "1")
}

pub fn scaled(short: usize) -> usize {
    if long() {
        short * 10
    } else {
        short
    }
}
