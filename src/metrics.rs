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
//! | `collector_open_flags{kind}` | gauge | flags waiting for ops |

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context;
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use workers::topology::Topology;

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
        // Another recorder may already be installed (tests): ours still renders what it sees.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
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
    let (backlog, oldest): (i64, Option<f64>) = sqlx::query_as(
        "SELECT count(*), extract(epoch FROM now() - min(created_at))::float8 FROM outbox WHERE published_at IS NULL",
    )
    .fetch_one(pool)
    .await
    .context("Failed to read outbox backlog")?;
    metrics::gauge!("collector_outbox_backlog").set(backlog as f64);
    metrics::gauge!("collector_outbox_oldest_unpublished_seconds").set(oldest.unwrap_or(0.0));
    let flags: Vec<(String, i64)> = sqlx::query_as(
        "SELECT k.kind, count(f.id) FROM unnest(ARRAY['replay','conflict','suspected_double_payment', \
             'refused_collect','overpayment','core_duplicate']) AS k(kind) \
         LEFT JOIN flags f ON f.kind = k.kind AND f.status = 'open' GROUP BY k.kind",
    )
    .fetch_all(pool)
    .await
    .context("Failed to count open flags")?;
    for (kind, n) in flags {
        metrics::gauge!("collector_open_flags", "kind" => kind).set(n as f64);
    }
    let statuses: Vec<(String, i64)> = sqlx::query_as(
        "SELECT s.status, count(c.id) FROM unnest(ARRAY['recorded','published','retrying','posted', \
             'dead_lettered','replayed','discarded']) AS s(status) \
         LEFT JOIN collections c ON c.status = s.status GROUP BY s.status",
    )
    .fetch_all(pool)
    .await
    .context("Failed to count collections")?;
    for (status, n) in statuses {
        metrics::gauge!("collector_collections", "status" => status).set(n as f64);
    }
    Ok(())
}

async fn queue_gauges(url: &str, topology: &Topology) -> anyhow::Result<()> {
    let connection = tokio::time::timeout(Duration::from_secs(2), workers::broker::connect(url))
        .await
        .context("RabbitMQ connect timed out")??;
    let channel = connection.create_channel().await?;
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
    let _ = connection.close(200, "metrics").await;
    Ok(())
}
