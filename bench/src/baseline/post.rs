//! `post`: a bare HTTP client posting payment payloads, the workers' baseline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::future::join_all;
use serde_json::json;

use super::fixtures::payloads;
use crate::cpu;

pub async fn post(
    url: &str,
    database: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
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
