//! The fault suite: the real `collector` binary as separate processes against real
//! Postgres and RabbitMQ, collect storms, and faults injected mid-storm: processes killed with
//! SIGKILL, the broker stopped, Postgres cut, the core loan system down or slow, duplicate
//! storms, several instances of each process with kills among them; plus the security and
//! bad-input checks that need a real process. Each case ends with the check of the promise
//! (`Stack::check`) and appends its figures to `target/tmp/faults/results.jsonl`.
//!
//! The cases restart the shared broker and start many processes, so they run one at a time,
//! after the rest of the tests (`scripts/test` does). `FAULTS_LONG=1` makes every storm ten
//! times bigger (`scripts/faults --long`).

#[path = "../common/mod.rs"]
mod common;

mod broker_faults;
mod broker_loss;
mod cluster;
mod core_faults;
mod database;
mod duplicates;
mod harness;
mod input;
mod processes;
mod security;
