//! The RabbitMQ topology, declared by every process at start, idempotently, every name under
//! `AMQP_PREFIX` (see docs/topology.md for the diagram). Version 2: every queue that
//! dead-letters is a quorum queue that does so **at least once**, so a message that expires in
//! a retry tier, or hits the delivery limit, is never dropped on its way (a broker restart
//! with payments waiting in the tiers lost some with version 1's classic tiers).
//!
//! - `{p}.payments`: a durable direct exchange; every message goes through it.
//! - `{p}.v2.posting`: the quorum queue the workers consume (routing key `v2.posting`), with a
//!   delivery limit as a crash-loop backstop that dead-letters to `{p}.v2.adopt`.
//! - `{p}.v2.retry.{n}`: one delay queue per retry tier (routing key `v2.retry.{n}`), whose TTL
//!   dead-letters back to the exchange with routing key `v2.posting`. One queue per tier keeps
//!   every message in a queue of equal delays, so there is no head-of-line blocking.
//! - `{p}.v2.adopt`: what the broker dead-lettered by itself, waiting for the relay process
//!   to record it in the database and pass it on to `{p}.dead`.
//! - `{p}.dead`: the dead-letter queue (routing key `dead`), unchanged since version 1.
//!
//! Version 1's queues (`{p}.posting`, `{p}.retry.{n}`) are [`Legacy`]: `collector topology
//! migrate` moves what they hold into version 2 and deletes them.

use std::time::Duration;

use anyhow::Context;
use lapin::options::{
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, Connection, ExchangeKind};

/// How often the posting queue may deliver one message before it is dead-lettered anyway:
/// only reached when a worker crashes on it repeatedly (retries go through the delay queues).
pub const DELIVERY_LIMIT: i64 = 10;

/// The version segment of every queue name and routing key that changed with version 2.
pub const VERSION: &str = "v2";
pub const POSTING_KEY: &str = "v2.posting";
pub const ADOPT_KEY: &str = "v2.adopt";
pub const DEAD_KEY: &str = "dead";

/// Names of everything under one prefix.
#[derive(Debug, Clone)]
pub struct Topology {
    pub prefix: String,
    pub retry_delays: Vec<Duration>,
}

/// What a queue is for: each kind has its own arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    Posting,
    Retry(Duration),
    Adopt,
    Dead,
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
        format!("{}.{VERSION}.posting", self.prefix)
    }

    pub fn adopt_queue(&self) -> String {
        format!("{}.{VERSION}.adopt", self.prefix)
    }

    pub fn dead_queue(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    /// Tier `n` counts from 0.
    pub fn retry_queue(&self, tier: usize) -> String {
        format!("{}.{VERSION}.retry.{tier}", self.prefix)
    }

    pub fn retry_key(tier: usize) -> String {
        format!("{VERSION}.retry.{tier}")
    }

    /// Every queue, for metrics and the ops CLI.
    pub fn all_queues(&self) -> Vec<String> {
        let mut queues = vec![self.posting_queue()];
        queues.extend((0..self.retry_delays.len()).map(|n| self.retry_queue(n)));
        queues.push(self.adopt_queue());
        queues.push(self.dead_queue());
        queues
    }

    /// Version 1's names under the same prefix.
    pub fn legacy(&self) -> Legacy {
        Legacy {
            prefix: self.prefix.clone(),
        }
    }

    /// The arguments of one kind of queue. Every queue that dead-letters does so at least
    /// once, which RabbitMQ honours only with `x-overflow: reject-publish` (without it, it
    /// accepts the declaration and silently falls back to at most once).
    pub fn arguments(&self, kind: QueueKind) -> FieldTable {
        let mut args = FieldTable::default();
        args.insert("x-queue-type".into(), string("quorum"));
        let dead_letter_to = match kind {
            QueueKind::Posting => {
                args.insert(
                    "x-delivery-limit".into(),
                    AMQPValue::LongLongInt(DELIVERY_LIMIT),
                );
                Some(ADOPT_KEY)
            }
            QueueKind::Retry(delay) => {
                args.insert(
                    "x-message-ttl".into(),
                    AMQPValue::LongLongInt(delay.as_millis() as i64),
                );
                Some(POSTING_KEY)
            }
            QueueKind::Adopt | QueueKind::Dead => None,
        };
        if let Some(key) = dead_letter_to {
            args.insert("x-dead-letter-exchange".into(), string(&self.exchange()));
            args.insert("x-dead-letter-routing-key".into(), string(key));
            args.insert("x-dead-letter-strategy".into(), string("at-least-once"));
            args.insert("x-overflow".into(), string("reject-publish"));
        }
        args
    }

    /// Declares the exchange, the queues and their bindings, within `AMQP_TIMEOUT`. Safe to
    /// call from every process at every start: declarations with the same arguments are
    /// no-ops.
    pub async fn declare(&self, channel: &Channel) -> anyhow::Result<()> {
        crate::broker::within("topology declare", self.declare_all(channel)).await
    }

    async fn declare_all(&self, channel: &Channel) -> anyhow::Result<()> {
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
        // Targets first: nothing is ever dead-lettered toward a queue not declared yet.
        self.queue(channel, &self.dead_queue(), QueueKind::Dead, DEAD_KEY)
            .await?;
        self.queue(channel, &self.adopt_queue(), QueueKind::Adopt, ADOPT_KEY)
            .await?;
        self.queue(
            channel,
            &self.posting_queue(),
            QueueKind::Posting,
            POSTING_KEY,
        )
        .await?;
        for (tier, delay) in self.retry_delays.iter().enumerate() {
            self.queue(
                channel,
                &self.retry_queue(tier),
                QueueKind::Retry(*delay),
                &Self::retry_key(tier),
            )
            .await?;
        }
        Ok(())
    }

    async fn queue(
        &self,
        channel: &Channel,
        name: &str,
        kind: QueueKind,
        key: &str,
    ) -> anyhow::Result<()> {
        let options = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .queue_declare(name, options, self.arguments(kind))
            .await
            .with_context(|| {
                format!(
                    "Failed to declare queue {name} (if its arguments changed, e.g. a retry \
                     delay, delete it once it is empty: see docs/topology.md)"
                )
            })?;
        bind(channel, name, &self.exchange(), key).await
    }

    /// Checks, on a channel of its own, that the broker can dead-letter at least once:
    /// RabbitMQ 3.10 or later with the `stream_queue` feature flag enabled. Declaring a
    /// stream is how a client can tell the flag is on (it fails otherwise); the stream is
    /// deleted at once.
    pub async fn check_broker(&self, connection: &Connection) -> anyhow::Result<()> {
        let channel = connection
            .create_channel()
            .await
            .context("Failed to open a channel")?;
        let probe = format!(
            "{}.{VERSION}.probe.{}",
            self.prefix,
            uuid::Uuid::new_v4().simple()
        );
        let mut args = FieldTable::default();
        args.insert("x-queue-type".into(), string("stream"));
        let options = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        match channel.queue_declare(&probe, options, args).await {
            Ok(_) => {
                let _ = channel
                    .queue_delete(&probe, QueueDeleteOptions::default())
                    .await;
                let _ = channel.close(200, "probe done").await;
                Ok(())
            }
            Err(e) => Err(anyhow::anyhow!(
                "RabbitMQ cannot dead-letter at least once ({e}): it needs RabbitMQ 3.10 or later \
                 with the feature flag `stream_queue` enabled (`rabbitmqctl enable_feature_flag \
                 stream_queue`); without it a broker restart may drop payments waiting in a \
                 retry tier"
            )),
        }
    }

    /// How many messages version 1's queues still hold, by queue; empty when none exists.
    /// Version 1's tiers were numbered from 0 without gaps, so the look-up stops at the first
    /// missing one (each miss costs the broker a logged channel error).
    pub async fn legacy_queues(&self, connection: &Connection) -> Vec<(String, u32)> {
        let legacy = self.legacy();
        let mut found = Vec::new();
        if let Some(messages) = depth(connection, &legacy.posting_queue()).await {
            found.push((legacy.posting_queue(), messages));
        }
        for tier in 0..MAX_TIERS {
            match depth(connection, &legacy.retry_queue(tier)).await {
                Some(messages) => found.push((legacy.retry_queue(tier), messages)),
                None => break,
            }
        }
        found
    }
}

/// Version 1's queues under a prefix: the posting queue and retry tiers were declared with
/// other arguments (classic tiers dead-lettering at most once), so version 2 lives beside
/// them under new names.
#[derive(Debug, Clone)]
pub struct Legacy {
    pub prefix: String,
}

/// Version 1 allowed at most this many retry tiers (`RETRY_SCHEDULE`).
pub const MAX_TIERS: usize = 20;

impl Legacy {
    pub fn posting_queue(&self) -> String {
        format!("{}.posting", self.prefix)
    }

    pub fn retry_queue(&self, tier: usize) -> String {
        format!("{}.retry.{tier}", self.prefix)
    }

    pub const POSTING_KEY: &'static str = "posting";

    pub fn retry_key(tier: usize) -> String {
        format!("retry.{tier}")
    }

    /// Every name version 1 may have used.
    #[cfg(test)]
    fn candidate_queues(&self) -> Vec<String> {
        let mut names = vec![self.posting_queue()];
        names.extend((0..MAX_TIERS).map(|n| self.retry_queue(n)));
        names
    }
}

/// A queue's ready messages, `None` if it does not exist (looked up on a channel of its own).
pub async fn depth(connection: &Connection, queue: &str) -> Option<u32> {
    inspect(connection, queue)
        .await
        .map(|(messages, _)| messages)
}

/// How many consumers a queue has, `None` if it does not exist.
pub async fn consumers(connection: &Connection, queue: &str) -> Option<u32> {
    inspect(connection, queue)
        .await
        .map(|(_, consumers)| consumers)
}

/// A queue's ready messages and consumers, `None` if it does not exist. A passive declare of
/// a missing queue closes its channel, so each look-up opens a channel of its own.
pub async fn inspect(connection: &Connection, queue: &str) -> Option<(u32, u32)> {
    let channel = connection.create_channel().await.ok()?;
    let options = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let found = channel
        .queue_declare(queue, options, FieldTable::default())
        .await
        .ok()
        .map(|q| (q.message_count(), q.consumer_count()));
    if found.is_some() {
        let _ = channel.close(200, "looked up").await;
    }
    found
}

pub async fn bind(channel: &Channel, queue: &str, exchange: &str, key: &str) -> anyhow::Result<()> {
    channel
        .queue_bind(
            queue,
            exchange,
            key,
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .with_context(|| format!("Failed to bind queue {queue} to `{key}`"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn arg<'a>(args: &'a FieldTable, name: &str) -> Option<&'a AMQPValue> {
        args.inner().get(&ShortString::from(name))
    }

    fn text(args: &FieldTable, name: &str) -> Option<String> {
        match arg(args, name)? {
            AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
            _ => None,
        }
    }

    #[test]
    fn every_queue_that_dead_letters_does_so_at_least_once() {
        let t = Topology::new("p", vec![Duration::from_secs(10)]);
        for (kind, target) in [
            (QueueKind::Posting, ADOPT_KEY),
            (QueueKind::Retry(Duration::from_secs(10)), POSTING_KEY),
        ] {
            let args = t.arguments(kind);
            assert_eq!(text(&args, "x-queue-type").as_deref(), Some("quorum"));
            assert_eq!(
                text(&args, "x-dead-letter-strategy").as_deref(),
                Some("at-least-once"),
                "{kind:?}"
            );
            // Without it RabbitMQ falls back to at most once, silently.
            assert_eq!(text(&args, "x-overflow").as_deref(), Some("reject-publish"));
            assert_eq!(
                text(&args, "x-dead-letter-exchange").as_deref(),
                Some("p.payments")
            );
            assert_eq!(
                text(&args, "x-dead-letter-routing-key").as_deref(),
                Some(target)
            );
        }
        let retry = t.arguments(QueueKind::Retry(Duration::from_millis(1500)));
        assert_eq!(
            arg(&retry, "x-message-ttl"),
            Some(&AMQPValue::LongLongInt(1500))
        );
        for kind in [QueueKind::Adopt, QueueKind::Dead] {
            assert!(arg(&t.arguments(kind), "x-dead-letter-exchange").is_none());
        }
    }

    #[test]
    fn version_two_names_never_collide_with_version_one() {
        let t = Topology::new("p", vec![Duration::from_secs(1); 3]);
        let legacy = t.legacy().candidate_queues();
        for queue in t.all_queues() {
            if queue != t.dead_queue() {
                assert!(!legacy.contains(&queue), "{queue}");
            }
        }
        assert_ne!(POSTING_KEY, Legacy::POSTING_KEY);
        assert_ne!(Topology::retry_key(0), Legacy::retry_key(0));
    }
}
