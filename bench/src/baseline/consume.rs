//! `consume`: a bare consumer, or with `--post-url` a bare worker (consume, post, ack, no
//! database): the ceilings of what the workers are built on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::fixtures::{payloads, scratch_queue};
use crate::cpu;

/// A bare consumer. With `post`, it is a bare worker: each delivery is read as the payment
/// event, posted as the worker posts it (its own `CoreClient`), and acked, `prefetch` at a
/// time; nothing is read or recorded in Postgres.
pub async fn consume(
    amqp: &str,
    queue: &str,
    count: usize,
    prefetch: u16,
    channels: usize,
    post: Option<(&str, &str)>,
) -> anyhow::Result<()> {
    use futures::StreamExt;
    use lapin::options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
        ConfirmSelectOptions,
    };
    use lapin::types::FieldTable;
    let (bodies, core) = match post {
        Some((url, database)) => (
            payloads(database, count).await?,
            Some(workers::core_client::CoreClient::new(
                url,
                None,
                Duration::from_secs(10),
            )?),
        ),
        None => (
            vec![
                br#"{"collectionId":"00000000-0000-0000-0000-000000000000","amount":"10.50"}"#
                    .to_vec();
                count
            ],
            None,
        ),
    };
    let connection = workers::broker::connect(amqp).await?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    scratch_queue(&channel, queue).await?;
    for chunk in bodies.chunks(500) {
        let mut confirms = Vec::new();
        for body in chunk {
            let properties = lapin::BasicProperties::default().with_delivery_mode(2);
            confirms.push(
                channel
                    .basic_publish("", queue, BasicPublishOptions::default(), body, properties)
                    .await?,
            );
        }
        for c in confirms {
            c.await?;
        }
    }
    // Each consumer on its own channel, `prefetch` each.
    // The channels are kept until the end: lapin closes a channel whose handles are dropped.
    let (mut consumers, mut consumer_channels) = (Vec::new(), Vec::new());
    for i in 0..channels.max(1) {
        let channel = connection.create_channel().await?;
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await?;
        consumer_channels.push(channel.clone());
        consumers.push(
            channel
                .basic_consume(
                    queue,
                    &format!("bare-{i}"),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?,
        );
    }
    let failed = AtomicU64::new(0);
    let start = Instant::now();
    let (cpu_start, roles_start) = (cpu::own_seconds(), cpu::snapshot());
    futures::stream::select_all(consumers)
        .take(bodies.len())
        .for_each_concurrent(usize::from(prefetch) * channels.max(1), |delivery| {
            let (core, failed) = (core.as_ref(), &failed);
            async move {
                let Ok(delivery) = delivery else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                if let Some(core) = core {
                    let outcome = match serde_json::from_slice(&delivery.data) {
                        Ok(event) => core.post(&event).await,
                        Err(e) => workers::core_client::PostOutcome::Permanent {
                            status: 0,
                            body: format!("unreadable message: {e}"),
                        },
                    };
                    if !matches!(outcome, workers::core_client::PostOutcome::Posted { .. })
                        && failed.fetch_add(1, Ordering::Relaxed) == 0
                    {
                        eprintln!("first failed post: {outcome:?}");
                    }
                }
                if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
                    if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("first failed ack: {e}");
                    }
                }
            }
        })
        .await;
    let elapsed = start.elapsed();
    let roles = cpu::per_message(&roles_start, &cpu::snapshot(), bodies.len());
    let cpu_us = (cpu::own_seconds() - cpu_start) * 1e6 / bodies.len() as f64;
    let n = bodies.len();
    channel.queue_delete(queue, Default::default()).await?;
    drop(consumer_channels);
    let failed = failed.load(Ordering::Relaxed);
    anyhow::ensure!(failed == 0, "{failed} of {n} deliveries failed");
    let mode = if core.is_some() {
        "bare worker (consume, post, ack)"
    } else {
        "bare consumer (consume, ack)"
    };
    println!(
        "{}",
        json!({"mode": mode, "prefetch": prefetch, "channels": channels, "ok": n, "seconds": elapsed.as_secs_f64(), "per_second": n as f64 / elapsed.as_secs_f64(), "own_cpu_us_per_msg": cpu_us, "cpu_us_per_msg": roles})
    );
    Ok(())
}
