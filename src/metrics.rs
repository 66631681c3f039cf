//! Prometheus metrics (`GET /metrics` on the admin listener, or on `--metrics-addr` for
//! `collector relay` / `collector worker`). Labels are low-cardinality by design: actions,
//! codes, outcomes, queue names and flag kinds — never receipt or control numbers.
//!
//! | metric | type | meaning |
//! |---|---|---|
//! | `collector_skypay_requests_total{action,code}` | counter | SkyPay answers |
//! | `collector_skypay_request_duration_seconds{action}` | histogram | time to answer SkyPay |
//! | `collector_outbox_backlog` | gauge | outbox rows not yet published |
//! | `collector_outbox_oldest_unpublished_seconds` | gauge | relay lag: age of the oldest unpublished row |
//! | `collector_relay_published_total` | counter | messages the relay published (rate = publish rate) |
//! | `collector_worker_outcomes_total{outcome}` | counter | posted, duplicate, retried, dead_lettered, skipped |
//! | `collector_core_request_duration_seconds` | histogram | time of each call to the core loan system |
//! | `collector_queue_depth{queue}` | gauge | messages ready in each queue of the topology |
//! | `collector_collections{status}` | gauge | collections by status (dead_lettered = the DLQ) |
//! | `collector_collections_overdue` | gauge | payments not final whose message is overdue (relay process) |
//! | `collector_sweeper_rescued_total` | counter | payments re-sent from the database (message lost) |
//! | `collector_dead_letters_adopted_total` | counter | the broker's own dead letters recorded in the database |
//! | `collector_amqp_connected{who,node}` | gauge | 1 for the RabbitMQ node (`host:port`) each part of the process (`relay`, `worker`, `adopter`) is connected to; 0 for a node it left |
//! | `collector_amqp_stuck_total{what}` | counter | exchanges with RabbitMQ unanswered within `AMQP_TIMEOUT` (`publish confirm`, `channel.open`, `topology declare`, `basic.consume`, `queue depths`, `broker check`): each gave its connection up |
//! | `collector_open_flags{kind}` | gauge | flags waiting for ops |
//! | `collector_recon_runs_total{status}` | counter | reconciliation runs this process made, succeeded or failed |
//! | `collector_recon_open_exceptions{status}` | gauge | reconciliation exceptions waiting for ops |
//! | `collector_recon_oldest_open_exception_seconds` | gauge | age of the oldest open exception |
//! | `collector_recon_last_success_timestamp_seconds` | gauge | when the last reconciliation run succeeded (Unix time; 0: never) |
//! | `collector_settlement_drift_pesos` | gauge | the last collection settlement this process checked: its amount minus the matched collections of its period |
//!
//! Every metric has HELP text ([`DESCRIPTIONS`], registered with the recorder), so that
//! `promtool check metrics` passes; a test keeps the list in step with the code.
//!
//! **Database-wide gauges.** `collector_outbox_backlog`,
//! `collector_outbox_oldest_unpublished_seconds`, `collector_collections`,
//! `collector_open_flags`, `collector_queue_depth` and `collector_collections_overdue` are
//! read from Postgres or RabbitMQ, not counted by the process: every process that serves
//! `/metrics` exports the same value, so aggregate them with `max()`
//! (`max by (status) (collector_collections)`), never `sum()`. They stay on every process on
//! purpose: exported from the admin listener alone, the backlog and the queue depths would
//! vanish exactly when the API is down (while the relay and workers still run), and several
//! API replicas would double count anyway; a constant label would not stop a `sum()` from
//! double counting either. Their HELP text says so. (`collector_collections_overdue` is set
//! by each relay process's sweeper, from the same query.)

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context;
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use workers::topology::Topology;

use crate::db;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder on first use.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let buckets = [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), &buckets)
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // On the recorder itself, not the global one: it holds them even where another
        // recorder is already installed (tests).
        metrics::with_local_recorder(&recorder, describe);
        // Another recorder may already be installed (tests): ours still renders what it sees.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Said of every gauge read from Postgres or RabbitMQ (see the module documentation).
macro_rules! database_wide {
    ($help:literal) => {
        concat!(
            $help,
            " (database-wide: every process exports the same value; aggregate with max, not sum)"
        )
    };
}

/// Every metric this workspace records, with its HELP text.
pub const DESCRIPTIONS: &[(Kind, &str, &str)] = &[
    (
        Kind::Counter,
        "collector_skypay_requests_total",
        "SkyPay requests answered, by action and response code",
    ),
    (
        Kind::Histogram,
        "collector_skypay_request_duration_seconds",
        "Time to answer a SkyPay request, by action",
    ),
    (
        Kind::Gauge,
        "collector_outbox_backlog",
        database_wide!("Collections recorded whose outbox event is not yet published"),
    ),
    (
        Kind::Gauge,
        "collector_outbox_oldest_unpublished_seconds",
        database_wide!("Age of the oldest unpublished outbox event (relay lag)"),
    ),
    (
        Kind::Counter,
        "collector_relay_published_total",
        "Outbox events this process's relay published to RabbitMQ",
    ),
    (
        Kind::Counter,
        "collector_worker_outcomes_total",
        "Messages this process's workers handled, by outcome (posted, duplicate, retried, \
         dead_lettered, skipped, superseded)",
    ),
    (
        Kind::Histogram,
        "collector_core_request_duration_seconds",
        "Time of each call to the core loan system",
    ),
    (
        Kind::Gauge,
        "collector_queue_depth",
        database_wide!("Messages ready in each RabbitMQ queue of the topology"),
    ),
    (
        Kind::Gauge,
        "collector_collections",
        database_wide!("Collections by status; dead_lettered is the dead-letter queue"),
    ),
    (
        Kind::Gauge,
        "collector_collections_overdue",
        database_wide!("Collections not final whose message is overdue, as the last sweep saw"),
    ),
    (
        Kind::Counter,
        "collector_sweeper_rescued_total",
        "Collections this process's sweeper re-sent from the database because their message \
         was lost or overdue",
    ),
    (
        Kind::Counter,
        "collector_dead_letters_adopted_total",
        "Messages the broker dead-lettered by itself (delivery limit), recorded in the database \
         by this process",
    ),
    (
        Kind::Gauge,
        "collector_open_flags",
        database_wide!("Flags waiting for review, by kind"),
    ),
    (
        Kind::Counter,
        "collector_recon_runs_total",
        "Reconciliation runs this process made, by status (succeeded, failed)",
    ),
    (
        Kind::Gauge,
        "collector_recon_open_exceptions",
        database_wide!("Reconciliation exceptions waiting for ops, by status"),
    ),
    (
        Kind::Gauge,
        "collector_recon_oldest_open_exception_seconds",
        database_wide!("Age of the oldest open reconciliation exception (0: none)"),
    ),
    (
        Kind::Gauge,
        "collector_recon_last_success_timestamp_seconds",
        database_wide!("When the last reconciliation run succeeded, Unix time (0: never)"),
    ),
    (
        Kind::Gauge,
        "collector_amqp_connected",
        "1 for the RabbitMQ node (host:port) each part of this process (relay, worker, adopter) \
         is connected to now; 0 for a node it was connected to before",
    ),
    (
        Kind::Counter,
        "collector_amqp_stuck_total",
        "Exchanges with RabbitMQ (publish confirm, channel.open, topology declare, basic.consume, \
         queue depths, broker check) left unanswered within AMQP_TIMEOUT; each made its holder give the \
         connection up",
    ),
    (
        Kind::Gauge,
        "collector_settlement_drift_pesos",
        "The last collection settlement this process checked (financeNotification statement \
         type 4): SkyPay's amount minus the matched collections of its period, in pesos",
    ),
];

/// Registers [`DESCRIPTIONS`] with the current recorder.
pub fn describe() {
    for &(kind, name, help) in DESCRIPTIONS {
        match kind {
            Kind::Counter => metrics::describe_counter!(name, help),
            Kind::Gauge => metrics::describe_gauge!(name, help),
            Kind::Histogram => metrics::describe_histogram!(name, help),
        }
    }
}

pub fn skypay_answered(action: &'static str, code: &'static str, elapsed: Duration) {
    metrics::counter!("collector_skypay_requests_total", "action" => action, "code" => code)
        .increment(1);
    metrics::histogram!("collector_skypay_request_duration_seconds", "action" => action)
        .record(elapsed.as_secs_f64());
}

/// Refreshes the gauges that are read from Postgres and RabbitMQ, then renders everything.
pub async fn render(pool: &PgPool, amqp: Option<(&str, &Topology)>) -> String {
    if let Err(e) = database_gauges(pool).await {
        tracing::warn!(error = %format_args!("{e:#}"), "metrics: database gauges unavailable");
    }
    if let Some((url, topology)) = amqp {
        if let Err(e) = queue_gauges(url, topology).await {
            tracing::warn!(error = %format_args!("{e:#}"), "metrics: queue depths unavailable");
        }
    }
    handle().render()
}

async fn database_gauges(pool: &PgPool) -> anyhow::Result<()> {
    let (backlog, oldest) = db::stats::outbox_backlog(pool).await?;
    metrics::gauge!("collector_outbox_backlog").set(backlog as f64);
    metrics::gauge!("collector_outbox_oldest_unpublished_seconds").set(oldest.unwrap_or(0.0));
    let flags = db::stats::open_flags_by_kind(pool).await?;
    for (kind, n) in flags {
        metrics::gauge!("collector_open_flags", "kind" => kind).set(n as f64);
    }
    let statuses = db::stats::collections_by_status(pool).await?;
    for (status, n) in statuses {
        metrics::gauge!("collector_collections", "status" => status).set(n as f64);
    }
    let recon = db::recon::health(pool).await?;
    for status in crate::domain::reconcile::ItemStatus::NAMES {
        let n = recon
            .open_by_status
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n);
        metrics::gauge!("collector_recon_open_exceptions", "status" => status).set(n as f64);
    }
    metrics::gauge!("collector_recon_oldest_open_exception_seconds")
        .set(recon.oldest_open_secs.unwrap_or(0.0));
    metrics::gauge!("collector_recon_last_success_timestamp_seconds")
        .set(recon.last_success.map_or(0.0, |t| t.timestamp() as f64));
    Ok(())
}

async fn queue_gauges(url: &str, topology: &Topology) -> anyhow::Result<()> {
    let connection = tokio::time::timeout(Duration::from_secs(2), workers::broker::connect(url))
        .await
        .context("RabbitMQ connect timed out")?
        // Classified: lapin's own text may quote AMQP_URL, password included.
        .map_err(|e| anyhow::anyhow!("{}", workers::broker::ConnectError::classify(&e, url)))?;
    // Bounded like every exchange with the broker: a stalled one must not hold the refresh.
    let channel = workers::broker::within("channel.open", async {
        Ok(connection.create_channel().await?)
    })
    .await;
    if let Ok(channel) = &channel {
        let _ = workers::broker::within("queue depths", async {
            queue_depths(channel, topology).await;
            Ok(())
        })
        .await;
    }
    // The connection is closed on every path, and before its channel goes: a channel closed or
    // dropped first is closed by lapin in the background, racing the connection's close, and
    // lapin logs the loser as a connection error.
    workers::broker::close(connection, "metrics").await;
    channel.map(drop).context("Failed to open a channel")
}

async fn queue_depths(channel: &lapin::Channel, topology: &Topology) {
    for queue in topology.all_queues() {
        let options = QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        match channel
            .queue_declare(&queue, options, FieldTable::default())
            .await
        {
            Ok(q) => metrics::gauge!("collector_queue_depth", "queue" => queue)
                .set(f64::from(q.message_count())),
            Err(_) => break, // not declared yet: the channel is closed by the broker
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(kind, name)` of every counter, gauge and histogram recorded by a literal name in the
    /// Rust files under `dir`.
    fn recorded(dir: &std::path::Path, found: &mut Vec<(Kind, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                recorded(&path, found);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (macro_name, kind) in [
                ("counter!(", Kind::Counter),
                ("gauge!(", Kind::Gauge),
                ("histogram!(", Kind::Histogram),
            ] {
                for (at, _) in text.match_indices(&format!("metrics::{macro_name}")) {
                    let rest = text[at..].split_once('(').unwrap().1.trim_start();
                    let Some(rest) = rest.strip_prefix('"') else {
                        continue; // not a literal name (the describe loop above)
                    };
                    let name = rest.split('"').next().unwrap().to_owned();
                    found.push((kind, name));
                }
            }
        }
    }

    #[test]
    fn every_metric_recorded_anywhere_is_described_once_with_its_kind() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut found = Vec::new();
        recorded(&root.join("src"), &mut found);
        recorded(&root.join("workers/src"), &mut found);
        assert!(found.len() >= 10, "the scan found too little: {found:?}");
        for (kind, name) in &found {
            assert!(
                DESCRIPTIONS.contains(&(*kind, name.as_str(), lookup(name))),
                "{name} ({kind:?}) is recorded but has no HELP text in metrics::DESCRIPTIONS"
            );
        }
        for (i, (_, name, help)) in DESCRIPTIONS.iter().enumerate() {
            assert!(!help.is_empty(), "{name}");
            assert!(
                DESCRIPTIONS[i + 1..].iter().all(|(_, n, _)| n != name),
                "{name} is described twice"
            );
        }
    }

    fn lookup(name: &str) -> &'static str {
        DESCRIPTIONS
            .iter()
            .find(|(_, n, _)| *n == name)
            .map_or("", |(_, _, help)| help)
    }
}
