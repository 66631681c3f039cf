//! The RabbitMQ topology, declared by every process at start, idempotently, every name under
//! `AMQP_PREFIX` (see docs/topology.md for the diagram).
//!
//! - `{p}.payments`: a durable direct exchange; every message goes through it.
//! - `{p}.posting`: the quorum queue the workers consume (routing key `posting`), with a
//!   delivery limit as a crash-loop backstop that dead-letters to `{p}.dead`.
//! - `{p}.retry.{n}`: one delay queue per retry tier (routing key `retry.{n}`), whose TTL
//!   dead-letters back to the exchange with routing key `posting`. One queue per tier keeps
//!   every message in a queue of equal delays, so there is no head-of-line blocking.
//! - `{p}.dead`: the dead-letter queue (routing key `dead`).

use std::time::Duration;

use anyhow::Context;
use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};

/// How often the posting queue may deliver one message before it is dead-lettered anyway:
/// only reached when a worker crashes on it repeatedly (retries go through the delay queues).
pub const DELIVERY_LIMIT: i64 = 10;

pub const POSTING_KEY: &str = "posting";
pub const DEAD_KEY: &str = "dead";

/// Names of everything under one prefix.
#[derive(Debug, Clone)]
pub struct Topology {
    pub prefix: String,
    pub retry_delays: Vec<Duration>,
}

impl Topology {
    pub fn new(prefix: &str, retry_delays: Vec<Duration>) -> Self {
        Self {
            prefix: prefix.to_owned(),
            retry_delays,
        }
    }

    pub fn exchange(&self) -> String {
        format!("{}.payments", self.prefix)
    }

    pub fn posting_queue(&self) -> String {
        format!("{}.posting", self.prefix)
    }

    pub fn dead_queue(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    /// Tier `n` counts from 0.
    pub fn retry_queue(&self, tier: usize) -> String {
        format!("{}.retry.{}", self.prefix, tier)
    }

    pub fn retry_key(tier: usize) -> String {
        format!("retry.{tier}")
    }

    /// Every queue, for metrics and the ops CLI.
    pub fn all_queues(&self) -> Vec<String> {
        let mut queues = vec![self.posting_queue()];
        queues.extend((0..self.retry_delays.len()).map(|n| self.retry_queue(n)));
        queues.push(self.dead_queue());
        queues
    }

    /// Declares the exchange, the queues and their bindings. Safe to call from every process
    /// at every start: declarations with the same arguments are no-ops.
    pub async fn declare(&self, channel: &Channel) -> anyhow::Result<()> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .exchange_declare(
                &self.exchange(),
                ExchangeKind::Direct,
                durable,
                FieldTable::default(),
            )
            .await
            .context("Failed to declare the exchange")?;

        let mut posting = FieldTable::default();
        posting.insert("x-queue-type".into(), string("quorum"));
        posting.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongLongInt(DELIVERY_LIMIT),
        );
        posting.insert("x-dead-letter-exchange".into(), string(&self.exchange()));
        posting.insert("x-dead-letter-routing-key".into(), string(DEAD_KEY));
        self.queue(channel, &self.posting_queue(), posting, POSTING_KEY)
            .await?;

        for (tier, delay) in self.retry_delays.iter().enumerate() {
            let mut args = FieldTable::default();
            args.insert(
                "x-message-ttl".into(),
                AMQPValue::LongLongInt(delay.as_millis() as i64),
            );
            args.insert("x-dead-letter-exchange".into(), string(&self.exchange()));
            args.insert("x-dead-letter-routing-key".into(), string(POSTING_KEY));
            self.queue(
                channel,
                &self.retry_queue(tier),
                args,
                &Self::retry_key(tier),
            )
            .await?;
        }

        let mut dead = FieldTable::default();
        dead.insert("x-queue-type".into(), string("quorum"));
        self.queue(channel, &self.dead_queue(), dead, DEAD_KEY)
            .await?;
        Ok(())
    }

    async fn queue(
        &self,
        channel: &Channel,
        name: &str,
        args: FieldTable,
        key: &str,
    ) -> anyhow::Result<()> {
        let options = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .queue_declare(name, options, args)
            .await
            .with_context(|| {
                format!(
                    "Failed to declare queue {name} (if its arguments changed, delete it first)"
                )
            })?;
        channel
            .queue_bind(
                name,
                &self.exchange(),
                key,
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("Failed to bind queue {name}"))?;
        Ok(())
    }
}

fn string(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

/// A header value as text, for our own headers.
pub fn header_str(headers: &FieldTable, name: &str) -> Option<String> {
    match headers.inner().get(&ShortString::from(name))? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

/// A header value as a number, for our attempt counter.
pub fn header_int(headers: &FieldTable, name: &str) -> Option<i64> {
    match headers.inner().get(&ShortString::from(name))? {
        AMQPValue::LongLongInt(n) => Some(*n),
        AMQPValue::LongInt(n) => Some((*n).into()),
        AMQPValue::ShortInt(n) => Some((*n).into()),
        AMQPValue::LongUInt(n) => Some((*n).into()),
        AMQPValue::ShortShortInt(n) => Some((*n).into()),
        _ => None,
    }
}
