//! Processes killed with SIGKILL mid-storm, and restarted: the API, a worker mid-post, a
//! relay between publish and mark; and the scale-out topology with kills among its members.

use std::time::{Duration, Instant};

use workers::fake_core::Switches;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_killed_mid_storm_then_restarted_loses_nothing() {
    let mut s = Stack::new("api_sigkill", StackOptions::default()).await;
    let api = s.api();
    s.relay();
    s.worker();
    s.wait_all_up().await;
    let storm = Storm {
        rate: Some(200),
        ..Storm::new("apikill", scaled(800))
    }
    .start(s.api_urls(), s.bills.clone());
    let mut recovery = Duration::ZERO;
    let rounds = if long() { 6 } else { 2 };
    for _ in 0..rounds {
        tokio::time::sleep(Duration::from_millis(900)).await;
        s.procs[api].kill().await;
        let killed_at = Instant::now();
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.procs[api].restart();
        s.wait_up(api).await;
        recovery = recovery.max(killed_at.elapsed());
    }
    let ledger = storm.finish().await;
    let codes = ledger.codes();
    assert!(
        codes.get("no answer").copied().unwrap_or(0) > 0,
        "the kills interrupted requests: {codes:?}"
    );
    let f = s
        .finish(
            &ledger,
            Some(recovery),
            format!("API SIGKILLed {rounds}x at 200 collects/s; answers {codes:?}"),
        )
        .await;
    assert!(f.answered_1000 > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_mid_post_loses_nothing_and_posts_nothing_twice() {
    let mut s = Stack::new(
        "worker_sigkill",
        StackOptions {
            core: Switches {
                latency_ms: 100,
                ..Switches::default()
            },
            ..StackOptions::default()
        },
    )
    .await;
    s.api();
    s.relay();
    let w0 = s.worker();
    s.worker();
    s.wait_all_up().await;
    let storm = Storm {
        rate: Some(250),
        ..Storm::new("wkill", scaled(800))
    }
    .start(s.api_urls(), s.bills.clone());
    let rounds = if long() { 8 } else { 3 };
    let mut in_flight_at_kill = 0;
    let mut recovery = Duration::ZERO;
    for _ in 0..rounds {
        tokio::time::sleep(Duration::from_millis(700)).await;
        // Posts under way right now: started at the core but not answered yet.
        let started = s.core.core.calls_started();
        s.procs[w0].kill().await;
        let killed_at = Instant::now();
        in_flight_at_kill +=
            started.saturating_sub(s.core.core.received().iter().map(|r| r.calls).sum());
        tokio::time::sleep(Duration::from_millis(200)).await;
        s.procs[w0].restart();
        s.wait_up(w0).await;
        recovery = recovery.max(killed_at.elapsed());
    }
    let ledger = storm.finish().await;
    s.finish(
        &ledger,
        Some(recovery),
        format!("1 of 2 workers SIGKILLed {rounds}x mid-post (core latency 100 ms; ~{in_flight_at_kill} posts in flight at the kills)"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_killed_between_publish_and_mark_loses_nothing_and_posts_nothing_twice() {
    let mut s = Stack::new("relay_sigkill", StackOptions::default()).await;
    s.api();
    let w = s.worker();
    s.wait_all_up().await;
    // A backlog first (no relay yet), so that the relay is busy publishing when killed.
    let ledger = Storm::new("rkill", scaled(2000))
        .start(s.api_urls(), s.bills.clone())
        .finish()
        .await;
    let relay = s.relay();
    let rounds = if long() { 10 } else { 4 };
    let mut recovery = Duration::ZERO;
    for _ in 0..rounds {
        tokio::time::sleep(Duration::from_millis(150)).await;
        s.procs[relay].kill().await;
        let killed_at = Instant::now();
        s.procs[relay].restart();
        s.wait_up(relay).await;
        recovery = recovery.max(killed_at.elapsed());
    }
    s.settle(Duration::from_secs(90)).await;
    // Rows published but not marked are published again after the restart; the worker
    // finds them already posted and skips them.
    let skipped = s
        .scrape(w, "collector_worker_outcomes_total", "outcome=\"skipped\"")
        .await;
    s.finish(
        &ledger,
        Some(recovery),
        format!("relay SIGKILLed {rounds}x while draining the backlog; {skipped} messages published twice were skipped by the worker"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_out_three_apis_two_relays_three_workers_with_kills() {
    let mut s = Stack::new(
        "scale_out",
        StackOptions {
            core: Switches {
                latency_ms: 10,
                error_rate: 0.1,
                ..Switches::default()
            },
            pool_size: 8,
            ..StackOptions::default()
        },
    )
    .await;
    for _ in 0..3 {
        s.api();
    }
    for _ in 0..2 {
        s.relay();
    }
    for _ in 0..3 {
        s.worker();
    }
    s.wait_all_up().await;
    let storm = Storm {
        rate: Some(300),
        concurrency: 48,
        ..Storm::new("scale", scaled(1500))
    }
    .start(s.api_urls(), s.bills.clone());
    let victims = [
        s.index_of(Role::Api, 1),
        s.index_of(Role::Relay, 0),
        s.index_of(Role::Worker, 2),
    ];
    let rounds = if long() { 5 } else { 1 };
    let mut recovery = Duration::ZERO;
    for _ in 0..rounds {
        for &v in &victims {
            tokio::time::sleep(Duration::from_millis(600)).await;
            s.procs[v].kill().await;
        }
        let killed_at = Instant::now();
        tokio::time::sleep(Duration::from_millis(500)).await;
        for &v in &victims {
            s.procs[v].restart();
        }
        for &v in &victims {
            s.wait_up(v).await;
        }
        recovery = recovery.max(killed_at.elapsed());
    }
    let ledger = storm.finish().await;
    s.finish(
        &ledger,
        Some(recovery),
        format!("3 APIs, 2 relays, 3 workers; API 1, relay 0 and worker 2 SIGKILLed {rounds}x; core failing 10%"),
    )
    .await;
}
