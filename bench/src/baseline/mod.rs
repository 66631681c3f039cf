//! The bare baselines `scripts/bench` compares the collector with: the same work done by the
//! bare libraries it is built on, and nothing else.
//!
//! - `publish`: a bare lapin publisher with confirms, the relay's baseline;
//! - `post`: a bare HTTP client posting payment payloads, the workers' baseline;
//! - `consume`: a bare consumer, or a bare worker (consume, post, ack, no database);
//! - `server`: a bare axum + sqlx server running the inquiry's read.

use anyhow::Context;

mod consume;
mod post;
mod publish;
mod server;

pub use consume::consume;
pub use post::post;
pub use publish::publish;
pub use server::bare_server;

/// The payloads the relay publishes: the outbox rows' payloads, read up front.
async fn payloads(database: &str, count: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let pool = sqlx::PgPool::connect(database).await?;
    let rows: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT payload FROM outbox ORDER BY id LIMIT $1")
            .bind(count as i64)
            .fetch_all(&pool)
            .await
            .context("read outbox payloads")?;
    Ok(rows
        .iter()
        .map(|p| serde_json::to_vec(p).unwrap())
        .collect())
}

/// A durable quorum queue like the posting queue, for the bare baselines.
async fn scratch_queue(channel: &lapin::Channel, queue: &str) -> anyhow::Result<()> {
    let mut args = lapin::types::FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        lapin::types::AMQPValue::LongString("quorum".into()),
    );
    let options = lapin::options::QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel.queue_declare(queue, options, args).await?;
    Ok(())
}
