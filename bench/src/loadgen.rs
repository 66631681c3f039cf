//! `loadgen`: SkyPay-shaped inquiries or collects (unique receipts over many bills),
//! closed-loop (fixed concurrency) or open-loop (fixed rate); every answer is checked, and a
//! run with any unexpected code fails rather than looking fast. It prints one JSON line:
//! `per_second`, `ok`, `errors`, the latency quantiles (`p50_ms`, `p99_ms`, `p999_ms`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use futures::future::join_all;
use hdrhistogram::Histogram;
use serde_json::json;

use crate::cpu;

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Action {
    Inquiry,
    Collect,
    /// `GET /healthz`: the HTTP stack's own ceiling on this machine.
    Healthz,
}

#[derive(clap::Args)]
pub struct Args {
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
    /// Open loop: also write one JSON line per minute of the run to this file (`minute`,
    /// `ok`, `errors`, `p50_ms`, `p99_ms`, `max_ms`), as each minute's answers are in.
    #[arg(long)]
    minutes_out: Option<std::path::PathBuf>,
    /// Open loop: watch the pipeline behind the API in this database while the load runs
    /// (the oldest unpublished outbox row's age, every 200 ms), then wait until every
    /// collection of this run is posted. Adds `max_outbox_lag_ms`, `drained_after_s` (null:
    /// not within 60 s), `posted_p50_ms` and `posted_p99_ms` (created → posted) to the line.
    #[arg(long, requires = "rate")]
    watch_outbox: Option<String>,
}

/// Runs the load, then prints its JSON line.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let gen = Arc::new(Gen {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .build()?,
        url: format!("{}/skypay", args.url),
        action: args.action,
        bills: args.bills,
        user: args.user,
        key: args.key,
        // Each run starts its sequence elsewhere: runs that started at 0 repeated each
        // other's bills, amounts and times, and every collect after the first run was
        // flagged a suspected double payment (a flag write the minimal transaction lacks).
        seq: AtomicU64::new(sequence_start(&args.run)),
        run: args.run,
    });
    let duration = Duration::from_secs(args.seconds);
    let report = match (args.concurrency, args.rate, args.watch_outbox) {
        (Some(c), None, _) => closed_loop(gen, c, duration).await,
        (None, Some(r), None) => open_loop(gen, r, duration, args.minutes_out).await,
        (None, Some(r), Some(db)) => {
            let run = gen.run.clone();
            watched(&db, &run, open_loop(gen, r, duration, args.minutes_out)).await
        }
        _ => anyhow::bail!("give exactly one of --concurrency or --rate"),
    }?;
    println!("{report}");
    Ok(())
}

/// Runs `load` while sampling how far the relay is behind, then waits for the workers to
/// post every collection of run `run`, and adds what it saw to the load's JSON line.
async fn watched(
    db: &str,
    run: &str,
    load: impl std::future::Future<Output = anyhow::Result<String>>,
) -> anyhow::Result<String> {
    use std::sync::atomic::AtomicBool;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(db)
        .await?;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn({
        let (pool, stop) = (pool.clone(), stop.clone());
        async move {
            let (mut max_lag, mut samples) = (0f64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let lag: f64 = sqlx::query_scalar(
                    "SELECT coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8 \
                     FROM outbox WHERE published_at IS NULL",
                )
                .fetch_one(&pool)
                .await?;
                max_lag = max_lag.max(lag);
                samples += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            anyhow::Ok((max_lag, samples))
        }
    });
    let line = load.await;
    stop.store(true, Ordering::Relaxed);
    let (max_lag, samples) = sampler.await??;
    let line = line?;
    let ended = Instant::now();
    let pattern = format!("{run}-%");
    let mut drained = None;
    while ended.elapsed() < Duration::from_secs(60) {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM collections WHERE receipt_number LIKE $1 AND status <> 'posted'",
        )
        .bind(&pattern)
        .fetch_one(&pool)
        .await?;
        if waiting == 0 {
            drained = Some(ended.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (p50, p99): (Option<f64>, Option<f64>) = sqlx::query_as(
        "SELECT percentile_cont(0.50) WITHIN GROUP (ORDER BY extract(epoch FROM posted_at - created_at)::float8) * 1000, \
                percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM posted_at - created_at)::float8) * 1000 \
         FROM collections WHERE receipt_number LIKE $1 AND status = 'posted'",
    )
    .bind(&pattern)
    .fetch_one(&pool)
    .await?;
    let mut out: serde_json::Value = serde_json::from_str(&line)?;
    out["max_outbox_lag_ms"] = json!(max_lag * 1000.0);
    out["lag_samples"] = json!(samples);
    out["drained_after_s"] = json!(drained);
    out["posted_p50_ms"] = json!(p50);
    out["posted_p99_ms"] = json!(p99);
    Ok(out.to_string())
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

/// Where a run's sequence starts, from its name: ten million numbers apart from another
/// run's, so that two runs' collects share a bill, amount and time only by chance (the
/// periods `Gen::body` cycles through are 997 amounts, 100 cents, the bills, a year of minutes).
fn sequence_start(run: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    run.hash(&mut hasher);
    (hasher.finish() % 1_000_000) * 10_000_000
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

/// One minute of an open-loop run.
struct Minute {
    hist: Histogram<u64>,
    ok: u64,
    errors: u64,
}

impl Minute {
    fn new() -> Self {
        Self {
            hist: Histogram::new(3).expect("3 significant figures are valid"),
            ok: 0,
            errors: 0,
        }
    }

    fn line(&self, minute: u64) -> String {
        json!({
            "minute": minute, "ok": self.ok, "errors": self.errors,
            "p50_ms": self.hist.value_at_quantile(0.50) as f64 / 1000.0,
            "p99_ms": self.hist.value_at_quantile(0.99) as f64 / 1000.0,
            "max_ms": self.hist.max() as f64 / 1000.0,
        })
        .to_string()
    }
}

async fn open_loop(
    gen: Arc<Gen>,
    rate: u64,
    duration: Duration,
    minutes_out: Option<std::path::PathBuf>,
) -> anyhow::Result<String> {
    use std::collections::BTreeMap;
    use std::io::Write;

    let mut minutes_file = match &minutes_out {
        Some(path) => Some(std::fs::File::create(path)?),
        None => None,
    };
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    // Each request reports (the minute it was sent in, its outcome): a run of an hour keeps
    // no handle per request.
    let (report_tx, mut reports) = tokio::sync::mpsc::unbounded_channel::<(u64, Outcome)>();
    let sender = tokio::spawn(async move {
        while start.elapsed() < duration {
            ticker.tick().await;
            let (gen, report_tx) = (gen.clone(), report_tx.clone());
            let minute = start.elapsed().as_secs() / 60;
            tokio::spawn(async move {
                let _ = report_tx.send((minute, gen.one().await));
            });
        }
    });
    let mut hist = Histogram::<u64>::new(3)?;
    let (mut ok, mut errors) = (0, Vec::new());
    let mut open: BTreeMap<u64, Minute> = BTreeMap::new();
    while let Some((minute, outcome)) = reports.recv().await {
        let this = open.entry(minute).or_insert_with(Minute::new);
        match outcome {
            Ok(latency) => {
                ok += 1;
                this.ok += 1;
                let micros = latency.as_micros() as u64;
                hist.record(micros)?;
                this.hist.record(micros)?;
            }
            Err(e) => {
                this.errors += 1;
                errors.push(e);
            }
        }
        // A minute is written once answers arrive for the one after next: its stragglers
        // are in by then (a request that takes more than a minute is an error anyway).
        while let Some((&first, _)) = open.first_key_value() {
            if first + 2 > minute {
                break;
            }
            let (first, done) = open.pop_first().expect("just seen");
            if let Some(file) = minutes_file.as_mut() {
                writeln!(file, "{}", done.line(first))?;
            }
        }
    }
    sender.await?;
    if let Some(file) = minutes_file.as_mut() {
        for (minute, done) in &open {
            writeln!(file, "{}", done.line(*minute))?;
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
