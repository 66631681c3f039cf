//! The posting pipeline: the message the outbox relay publishes, the RabbitMQ topology, the
//! consumer that posts collections to the core loan system, the retry / dead-letter policy,
//! and `fake-core`, the stand-in core loan system.

pub mod adopter;
pub mod batch;
pub mod broker;
pub mod collection;
pub mod consumer;
pub mod core_client;
pub mod fake_core;
pub mod message;
pub mod migrate;
pub mod outbox;
pub mod publish;
pub mod relay;
pub mod retry;
pub mod signal;
pub mod store;
pub mod sweeper;
pub mod topology;
