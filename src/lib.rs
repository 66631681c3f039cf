//! A queue-backed SkyPay collection processor: the library behind the `collector` binary.

pub mod admin;
pub mod amqp;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod outbox;
pub mod run;
pub mod server;
pub mod skypay;
pub mod telemetry;
