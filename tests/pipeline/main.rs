//! Integration tests of the posting pipeline against real Postgres and RabbitMQ: a fresh
//! database and a unique AMQP prefix per test, the core loan system faked.

#[path = "../common/mod.rs"]
mod common;

mod duplicates;
mod keepers;
mod posting;
mod resilience;
mod restart;
mod scale;
