//! Connecting to RabbitMQ, and reconnecting with backoff when it goes away.

use std::time::Duration;

use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties};
use tokio_util::sync::CancellationToken;

pub async fn connect(url: &str) -> lapin::Result<Connection> {
    let properties = ConnectionProperties::default()
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio)
        .with_connection_name("collector".into());
    Connection::connect(url, properties).await
}

/// Connects, retrying with exponential backoff (100 ms doubling to 2 s: a broker back from a
/// restart is found within 2 s; attempts against a down broker cost nothing) until it succeeds or
/// `cancel` fires (`None` then).
pub async fn connect_with_backoff(url: &str, cancel: &CancellationToken) -> Option<Connection> {
    let mut delay = Duration::from_millis(100);
    loop {
        match connect(url).await {
            Ok(connection) => return Some(connection),
            Err(e) => tracing::warn!(error = %e, retry_in = ?delay, "RabbitMQ unreachable"),
        }
        tokio::select! {
            _ = cancel.cancelled() => return None,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// A channel in publisher-confirm mode.
pub async fn confirm_channel(connection: &Connection) -> lapin::Result<Channel> {
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    Ok(channel)
}

/// Exponential backoff for retrying a database call, capped at 5 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1u64 << attempt.min(6))).min(Duration::from_secs(5))
}
