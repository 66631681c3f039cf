//! `publish`: a bare lapin publisher with confirms, the relay's baseline.

use std::time::Instant;

use serde_json::json;

use super::fixtures::{payloads, scratch_queue};

pub async fn publish(
    amqp: &str,
    queue: &str,
    database: &str,
    count: usize,
    window: usize,
) -> anyhow::Result<()> {
    use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueuePurgeOptions};
    let bodies = payloads(database, count).await?;
    let props = lapin::ConnectionProperties::default()
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio);
    let connection = lapin::Connection::connect(amqp, props).await?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    scratch_queue(&channel, queue).await?;
    let start = Instant::now();
    for chunk in bodies.chunks(window) {
        let mut confirms = Vec::with_capacity(chunk.len());
        for body in chunk {
            let properties = lapin::BasicProperties::default().with_delivery_mode(2);
            confirms.push(
                channel
                    .basic_publish("", queue, BasicPublishOptions::default(), body, properties)
                    .await?,
            );
        }
        for confirm in confirms {
            anyhow::ensure!(confirm.await?.is_ack(), "nack");
        }
    }
    let elapsed = start.elapsed();
    channel
        .queue_purge(queue, QueuePurgeOptions::default())
        .await?;
    channel.queue_delete(queue, Default::default()).await?;
    println!(
        "{}",
        json!({"mode": "bare publisher", "ok": bodies.len(), "seconds": elapsed.as_secs_f64(), "per_second": bodies.len() as f64 / elapsed.as_secs_f64()})
    );
    Ok(())
}
