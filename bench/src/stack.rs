//! What `scripts/bench` needs around the stack it starts: wait until a worker consumes, and
//! delete a run's queues and exchange.

use std::time::{Duration, Instant};

/// Waits until `queue` has a consumer (a worker that has started consuming), at most 30 s.
pub async fn wait_consumer(amqp: &str, queue: &str) -> anyhow::Result<()> {
    let connection = workers::broker::connect(amqp).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // A passive declare fails (and closes the channel) while the queue is missing.
        let channel = connection.create_channel().await?;
        let options = lapin::options::QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        if let Ok(q) = channel
            .queue_declare(queue, options, Default::default())
            .await
        {
            if q.consumer_count() > 0 {
                return Ok(());
            }
            let _ = channel.close(200, "checked").await;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no consumer on {queue} after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Deletes the queues and the exchange of a prefix.
pub async fn cleanup(amqp: &str, prefix: &str, tiers: usize) -> anyhow::Result<()> {
    let topology = workers::topology::Topology::new(prefix, vec![Duration::from_secs(1); tiers]);
    let connection = workers::broker::connect(amqp).await?;
    let channel = connection.create_channel().await?;
    for queue in topology.all_queues() {
        let _ = channel.queue_delete(&queue, Default::default()).await;
    }
    let _ = channel
        .exchange_delete(&topology.exchange(), Default::default())
        .await;
    Ok(())
}
