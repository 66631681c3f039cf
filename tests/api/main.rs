//! Integration tests of the SkyPay and admin APIs against a real Postgres: one binary, one
//! fresh database per test (see `common::api`).

#[path = "../common/mod.rs"]
mod common;

mod admin;
mod concurrency;
mod contract_codes;
mod envelope;
mod failures;
mod finance;
mod malformed;
mod parsing;
