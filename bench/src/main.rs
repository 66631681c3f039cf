//! `bench`: the load generator and the bare baselines that `scripts/bench` compares with.
//!
//! - `loadgen`: SkyPay-shaped inquiries or collects (unique receipts over many bills),
//!   closed-loop (fixed concurrency) or open-loop (fixed rate); every answer is checked, and a
//!   run with any unexpected code fails rather than looking fast.
//! - `publish`: a bare lapin publisher with confirms, the relay's baseline.
//! - `post`: a bare HTTP client posting payment payloads, the workers' baseline.
//! - `consume`: a bare consumer, or with `--post-url` a bare worker (consume, post, ack, no
//!   database): the ceilings of what the workers are built on.
//! - `bare-server`: a bare axum + sqlx server running the inquiry's read, its stack's ceiling.
//! - `cpu`: CPU time of every process by role, to put a CPU cost on each message.
//!
//! Each prints one JSON line of results.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use futures::future::join_all;
use hdrhistogram::Histogram;
use serde_json::json;

mod cpu;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Action {
    Inquiry,
    Collect,
    /// `GET /healthz`: the HTTP stack's own ceiling on this machine.
    Healthz,
}

#[derive(Subcommand)]
enum Command {
    Loadgen {
        #[arg(long, default_value = "http://127.0.0.1:18080")]
        url: String,
        #[arg(long, value_enum)]
        action: Action,
        /// Closed loop: this many requests in flight.
        #[arg(long)]
        concurrency: Option<usize>,
        /// Open loop: this many requests per second, whatever the answers' speed.
        #[arg(long)]
        rate: Option<u64>,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Bills BENCH00000001 … BENCH{bills}.
        #[arg(long, default_value_t = 1000)]
        bills: u32,
        #[arg(long, default_value = "AppName@skypay")]
        user: String,
        #[arg(long, default_value = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75")]
        key: String,
        /// Prefix of the receipt numbers (unique per run).
        #[arg(long, default_value = "LG")]
        run: String,
    },
    Publish {
        #[arg(long)]
        amqp: String,
        #[arg(long)]
        queue: String,
        #[arg(long)]
        database: String,
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// Confirms in flight, like the relay's batch.
        #[arg(long, default_value_t = 500)]
        window: usize,
    },
    /// A bare consumer: publishes `count` messages to a scratch quorum queue (untimed), then
    /// consumes and acks them with `prefetch` (timed): the broker's own delivery ceiling.
    Consume {
        #[arg(long)]
        amqp: String,
        #[arg(long)]
        queue: String,
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        #[arg(long, default_value_t = 32)]
        prefetch: u16,
        /// Also post each message to this core loan system, as the worker does: a bare
        /// worker with no database. The messages are then the payloads of the outbox rows
        /// of `--database`.
        #[arg(long, requires = "database")]
        post_url: Option<String>,
        #[arg(long)]
        database: Option<String>,
        /// Consumers, each on its own channel with `prefetch`.
        #[arg(long, default_value_t = 1)]
        channels: usize,
    },
    /// A bare axum + sqlx server answering inquiries with the same SQL and nothing else (no
    /// envelope, auth, validation, tracing or metrics): the ceiling of the stack we build on.
    BareServer {
        #[arg(long)]
        database: String,
        #[arg(long, default_value = "127.0.0.1:18090")]
        listen: String,
    },
    /// Waits until `queue` has a consumer (a worker that has started consuming), at most 30 s.
    WaitConsumer {
        #[arg(long)]
        amqp: String,
        #[arg(long)]
        queue: String,
    },
    /// CPU seconds so far of every process, by role (broker, postgres, core, collector, bench,
    /// other), as JSON; with `--since FILE --messages N`, CPU µs per message since that
    /// snapshot.
    Cpu {
        #[arg(long, requires = "messages")]
        since: Option<std::path::PathBuf>,
        #[arg(long)]
        messages: Option<usize>,
    },
    /// Deletes the queues and the exchange of a prefix.
    Cleanup {
        #[arg(long)]
        amqp: String,
        #[arg(long)]
        prefix: String,
        #[arg(long, default_value_t = 6)]
        tiers: usize,
    },
    Post {
        #[arg(long)]
        url: String,
        #[arg(long)]
        database: String,
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Loadgen {
            url,
            action,
            concurrency,
            rate,
            seconds,
            bills,
            user,
            key,
            run,
        } => {
            let gen = Arc::new(Gen {
                client: reqwest::Client::builder()
                    .pool_max_idle_per_host(512)
                    .build()?,
                url: format!("{url}/skypay"),
                action,
                bills,
                user,
                key,
                run,
                seq: AtomicU64::new(0),
            });
            let duration = Duration::from_secs(seconds);
            let report = match (concurrency, rate) {
                (Some(c), None) => closed_loop(gen, c, duration).await,
                (None, Some(r)) => open_loop(gen, r, duration).await,
                _ => anyhow::bail!("give exactly one of --concurrency or --rate"),
            }?;
            println!("{report}");
            Ok(())
        }
        Command::Publish {
            amqp,
            queue,
            database,
            count,
            window,
        } => publish(&amqp, &queue, &database, count, window).await,
        Command::Post {
            url,
            database,
            count,
            concurrency,
        } => post(&url, &database, count, concurrency).await,
        Command::Consume {
            amqp,
            queue,
            count,
            prefetch,
            post_url,
            database,
            channels,
        } => {
            let post = post_url.as_deref().zip(database.as_deref());
            consume(&amqp, &queue, count, prefetch, channels, post).await
        }
        Command::Cpu { since, messages } => {
            let now = cpu::snapshot();
            let out = match (since, messages) {
                (Some(file), Some(n)) => {
                    let before: cpu::Snapshot = serde_json::from_slice(
                        &std::fs::read(&file)
                            .with_context(|| format!("read {}", file.display()))?,
                    )?;
                    cpu::per_message(&before, &now, n)
                }
                _ => now,
            };
            println!("{}", serde_json::to_string(&out)?);
            Ok(())
        }
        Command::BareServer { database, listen } => bare_server(&database, &listen).await,
        Command::WaitConsumer { amqp, queue } => {
            let connection = workers::broker::connect(&amqp).await?;
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                // A passive declare fails (and closes the channel) while the queue is missing.
                let channel = connection.create_channel().await?;
                let options = lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                };
                if let Ok(q) = channel
                    .queue_declare(&queue, options, Default::default())
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
        Command::Cleanup {
            amqp,
            prefix,
            tiers,
        } => {
            let topology =
                workers::topology::Topology::new(&prefix, vec![Duration::from_secs(1); tiers]);
            let connection = workers::broker::connect(&amqp).await?;
            let channel = connection.create_channel().await?;
            for queue in topology.all_queues() {
                let _ = channel.queue_delete(&queue, Default::default()).await;
            }
            let _ = channel
                .exchange_delete(&topology.exchange(), Default::default())
                .await;
            Ok(())
        }
    }
}

struct Gen {
    client: reqwest::Client,
    url: String,
    action: Action,
    bills: u32,
    user: String,
    key: String,
    run: String,
    seq: AtomicU64,
}

/// One outcome: latency, or the unexpected answer.
type Outcome = Result<Duration, String>;

impl Gen {
    fn body(&self, n: u64) -> String {
        // Spread over bills, amounts and a year of collection times, so that no two collects
        // look like a double payment (which would add a flag write to the transaction).
        let bill = 1 + (n.wrapping_mul(2_654_435_761) % u64::from(self.bills));
        let amount = format!("{}.{:02}", 1 + n % 997, n % 100);
        let control = format!("BENCH{bill:08}");
        match self.action {
            Action::Healthz => json!({}),
            Action::Inquiry => json!({"userName": self.user, "action": "collectionInquiry", "authentication": self.key,
                "controlNumber": control, "amount": amount, "phone": "09221008333"}),
            Action::Collect => {
                let minute = (n.wrapping_mul(7919)) % 525_600;
                let at = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap() + chrono::Duration::minutes(minute as i64);
                json!({"userName": self.user, "action": "collectionCollect", "authentication": self.key,
                    "controlNumber": control, "amount": amount, "phone": "09221008333",
                    "receiptNumber": format!("{}-{n}", self.run), "collectedTime": at.format("%Y-%m-%d %H:%M:%S").to_string(), "payChannel": 10})
            }
        }
        .to_string()
    }

    async fn one(&self) -> Outcome {
        if self.action == Action::Healthz {
            let start = Instant::now();
            let url = self.url.replace("/skypay", "/healthz");
            let response = self
                .client
                .get(url)
                .send()
                .await
                .map_err(|e| format!("transport: {e}"))?;
            let ok = response.status() == 200;
            let _ = response.bytes().await;
            return if ok {
                Ok(start.elapsed())
            } else {
                Err("healthz not 200".into())
            };
        }
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let body = self.body(n);
        let start = Instant::now();
        let response = self
            .client
            .post(&self.url)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let elapsed = start.elapsed();
        if status != 200 {
            return Err(format!("HTTP {status}"));
        }
        let answer: serde_json::Value =
            serde_json::from_str(&text).map_err(|_| format!("not JSON: {text}"))?;
        match answer["responseCode"].as_str() {
            Some("1000") => Ok(elapsed),
            other => Err(format!("code {other:?}: {}", answer["responseDescription"])),
        }
    }
}

fn report(
    kind: &str,
    hist: &Histogram<u64>,
    ok: u64,
    errors: &[String],
    elapsed: Duration,
) -> anyhow::Result<String> {
    let out = json!({
        "mode": kind, "ok": ok, "errors": errors.len(), "first_errors": errors.iter().take(3).collect::<Vec<_>>(),
        "seconds": elapsed.as_secs_f64(), "per_second": ok as f64 / elapsed.as_secs_f64(),
        "p50_ms": hist.value_at_quantile(0.50) as f64 / 1000.0,
        "p99_ms": hist.value_at_quantile(0.99) as f64 / 1000.0,
        "p999_ms": hist.value_at_quantile(0.999) as f64 / 1000.0,
    });
    if !errors.is_empty() {
        eprintln!(
            "loadgen: {} unexpected answers, e.g. {:?}",
            errors.len(),
            errors.first()
        );
        println!("{out}");
        anyhow::bail!("a run with unexpected answers is a failed run");
    }
    Ok(out.to_string())
}

async fn closed_loop(
    gen: Arc<Gen>,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<String> {
    let start = Instant::now();
    let cpu_start = cpu::own_seconds();
    let tasks = (0..concurrency).map(|_| {
        let gen = gen.clone();
        tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new(3).unwrap();
            let (mut ok, mut errors) = (0u64, Vec::new());
            while start.elapsed() < duration {
                match gen.one().await {
                    Ok(latency) => {
                        ok += 1;
                        let _ = hist.record(latency.as_micros() as u64);
                    }
                    Err(e) => errors.push(e),
                }
            }
            (hist, ok, errors)
        })
    });
    let mut hist = Histogram::<u64>::new(3)?;
    let (mut ok, mut errors) = (0, Vec::new());
    for joined in join_all(tasks).await {
        let (h, o, e) = joined?;
        hist.add(h)?;
        ok += o;
        errors.extend(e);
    }
    let own_cpu_us = (cpu::own_seconds() - cpu_start) * 1e6 / ok.max(1) as f64;
    report(
        &format!("closed-loop c={concurrency}, own CPU {own_cpu_us:.1} µs per request"),
        &hist,
        ok,
        &errors,
        start.elapsed(),
    )
}

async fn open_loop(gen: Arc<Gen>, rate: u64, duration: Duration) -> anyhow::Result<String> {
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut handles = Vec::new();
    while start.elapsed() < duration {
        ticker.tick().await;
        let gen = gen.clone();
        handles.push(tokio::spawn(async move { gen.one().await }));
    }
    let mut hist = Histogram::<u64>::new(3)?;
    let (mut ok, mut errors) = (0, Vec::new());
    for joined in join_all(handles).await {
        match joined? {
            Ok(latency) => {
                ok += 1;
                hist.record(latency.as_micros() as u64)?;
            }
            Err(e) => errors.push(e),
        }
    }
    report(
        &format!("open-loop {rate}/s"),
        &hist,
        ok,
        &errors,
        start.elapsed(),
    )
}

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

async fn publish(
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

async fn post(url: &str, database: &str, count: usize, concurrency: usize) -> anyhow::Result<()> {
    // The body a worker sends for each payment, built by the worker's own code.
    let bodies: Vec<Vec<u8>> = payloads(database, count)
        .await?
        .iter()
        .map(|p| {
            let event: workers::message::PaymentEvent =
                serde_json::from_slice(p).expect("outbox payload");
            serde_json::to_vec(&workers::core_client::CoreClient::body(&event)).unwrap()
        })
        .collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let next = Arc::new(AtomicU64::new(0));
    let bodies = Arc::new(bodies);
    let roles_start = cpu::snapshot();
    let start = Instant::now();
    let tasks = (0..concurrency).map(|_| {
        let (client, next, bodies, url) = (
            client.clone(),
            next.clone(),
            bodies.clone(),
            format!("{url}/payments"),
        );
        tokio::spawn(async move {
            let mut ok = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(body) = bodies.get(i) else { break };
                // The same request a worker sends: a fresh key per payment.
                let key = format!("bare-{}", uuid::Uuid::new_v4());
                let response = client
                    .post(&url)
                    .header("Idempotency-Key", key)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                if matches!(response, Ok(r) if r.status().is_success()) {
                    ok += 1;
                }
            }
            ok
        })
    });
    let ok: u64 = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap_or(0))
        .sum();
    let elapsed = start.elapsed();
    let roles = cpu::per_message(&roles_start, &cpu::snapshot(), bodies.len());
    anyhow::ensure!(
        ok as usize == bodies.len(),
        "only {ok} of {} posts succeeded",
        bodies.len()
    );
    println!(
        "{}",
        json!({"mode": "bare HTTP client", "ok": ok, "seconds": elapsed.as_secs_f64(), "per_second": ok as f64 / elapsed.as_secs_f64(), "cpu_us_per_msg": roles})
    );
    Ok(())
}

/// A bare consumer. With `post`, it is a bare worker: each delivery is read as the payment
/// event, posted as the worker posts it (its own `CoreClient`), and acked, `prefetch` at a
/// time; nothing is read or recorded in Postgres.
async fn consume(
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

async fn bare_server(database: &str, listen: &str) -> anyhow::Result<()> {
    use axum::extract::State;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(20)
        .test_before_acquire(false)
        .connect(database)
        .await?;
    async fn inquiry(State(pool): State<sqlx::PgPool>, body: axum::body::Bytes) -> String {
        let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let control = request["controlNumber"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let row: Option<(String, rust_decimal::Decimal)> = sqlx::query(
            "SELECT control_number, loan_ref, amount_due, outstanding, allow_partial, status, expires_at, payer_last_name, \
             payer_first_name, payer_middle_name, payer_suffix, payer_address, payer_phone FROM bills WHERE control_number = $1",
        )
        .bind(control)
        .fetch_optional(&pool)
        .await
        .ok()
        .flatten()
        .map(|r: sqlx::postgres::PgRow| {
            use sqlx::Row;
            (r.get::<String, _>("control_number"), r.get::<rust_decimal::Decimal, _>("outstanding"))
        });
        match row {
            Some(_) => r#"{"responseCode":"1000","responseDescription":"Success"}"#.to_owned(),
            None => r#"{"responseCode":"-1015","responseDescription":"unknown"}"#.to_owned(),
        }
    }
    let app = axum::Router::new()
        .route("/skypay", axum::routing::post(inquiry))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
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
