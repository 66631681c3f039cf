//! Publishing one message and waiting for the broker's confirm: the one way the pipeline
//! publishes. The relay runs a batch of these at once (many confirms in flight on one
//! channel); the worker's retries and dead letters, the adopter and the topology migration
//! publish one at a time.

use anyhow::Context;
use lapin::options::BasicPublishOptions;
use lapin::publisher_confirm::Confirmation;
use lapin::{BasicProperties, Channel};

/// Publishes `data` to `exchange` under `key` as a mandatory message on a confirm channel,
/// and returns once the broker has confirmed it: an unroutable or refused message is an error,
/// so the caller keeps (does not ack) what it was moving. No confirm within `AMQP_TIMEOUT` is
/// a [`crate::broker::Stuck`] error: the caller must replace the connection.
pub async fn publish_confirmed(
    channel: &Channel,
    exchange: &str,
    key: &str,
    data: &[u8],
    properties: BasicProperties,
) -> anyhow::Result<()> {
    let options = BasicPublishOptions {
        mandatory: true,
        ..Default::default()
    };
    let confirm = crate::broker::within("publish confirm", async {
        channel
            .basic_publish(exchange, key, options, data, properties)
            .await
            .context("Failed to publish")?
            .await
            .context("Failed to get the publish confirm")
    })
    .await?;
    match confirm {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(_)) => {
            anyhow::bail!("message to `{key}` was unroutable: is its queue bound?")
        }
        other => anyhow::bail!("broker did not confirm the message to `{key}`: {other:?}"),
    }
}
