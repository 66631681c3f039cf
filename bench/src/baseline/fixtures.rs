//! What the baselines share: the outbox's payloads and a posting-like queue.

use anyhow::Context;

/// The payloads the relay publishes: the outbox rows' payloads, read up front.
pub async fn payloads(database: &str, count: usize) -> anyhow::Result<Vec<Vec<u8>>> {
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
pub async fn scratch_queue(channel: &lapin::Channel, queue: &str) -> anyhow::Result<()> {
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
