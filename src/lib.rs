//! A queue-backed SkyPay collection processor: the library behind the `collector` binary.

pub mod admin;
pub mod amqp;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod fake_skypay;
pub mod http;
pub mod metrics;
pub mod ops;
pub mod payments;
pub mod reconcile;
pub mod run;
pub mod skypay;
pub mod telemetry;
