//! The broker loses messages while payments wait in the retry tiers: RabbitMQ stopped and
//! started with hundreds of payments in every tier (the core failing a share of first tries),
//! and messages purged by hand from the posting queue and from retry tiers mid-storm (standing
//! for any loss on the broker's side: a node's disk, a bad policy, an operator's mistake).
//!
//! The promise holds in every case: each collect answered `1000` ends posted exactly once in
//! effect, or dead-lettered in the database, within the settle bound after the fault ends
//! (the retry schedule plus the sweeper's grace; `Stack::finish` waits 90 s, 300 s long).

use std::time::{Duration, Instant};

use workers::fake_core::{ErrorMix, Switches};

use crate::common::{rabbitmqctl, StartOnDrop};
use crate::harness::*;

/// Six tiers long enough that every one of them holds messages when the fault strikes (the
/// long version's tiers are five times longer, so that hundreds wait in them).
fn schedule() -> &'static str {
    if long() {
        "5s,10s,15s,20s,25s,30s"
    } else {
        "1s,2s,3s,4s,5s,6s"
    }
}

/// The core answers 503 to this share of calls: 40% of first tries go to tier 0, 16% of
/// payments reach tier 1, and so on; 0.4^7 (0.16%) exhaust the schedule and are dead-lettered.
const CORE_FAILING: f64 = 0.4;

/// The sweeper's graces in these cases (the defaults are minutes): a payment whose message
/// the broker lost is re-sent this long after it was due.
fn sweeper_env() -> Vec<(&'static str, String)> {
    vec![
        ("SWEEPER_INTERVAL", "1s".into()),
        ("SWEEPER_PUBLISHED_GRACE", "5s".into()),
        ("SWEEPER_RETRY_GRACE", "5s".into()),
    ]
}

fn options() -> StackOptions {
    StackOptions {
        retry_schedule: schedule(),
        core: Switches {
            error_rate: CORE_FAILING,
            mix: ErrorMix {
                server_error: 1,
                ..ErrorMix::default()
            },
            ..Switches::default()
        },
        extra_env: sweeper_env(),
        ..StackOptions::default()
    }
}

/// Collections waiting in a retry tier now, by attempt (tier = attempt - 1).
async fn waiting_by_tier(s: &Stack) -> Vec<(i32, i64)> {
    sqlx::query_as(
        "SELECT attempts, count(*) FROM collections WHERE status = 'retrying' \
         GROUP BY attempts ORDER BY attempts",
    )
    .fetch_all(&s.db.pool)
    .await
    .unwrap()
}

async fn rescued(s: &Stack) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM collection_events WHERE event = 'rescued'")
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_restarted_while_payments_wait_in_every_retry_tier_loses_nothing() {
    rabbitmqctl(&["status"])
        .expect("rabbitmqctl must work here (run the suite as a user that may control the broker)");
    let mut s = Stack::new("broker_restart_retry_tiers", options()).await;
    s.api();
    s.relay();
    s.worker();
    s.worker();
    s.wait_all_up().await;
    let storm = Storm {
        rate: Some(150),
        concurrency: 16,
        ..Storm::new("tierstop", scaled(600))
    }
    .start(s.api_urls(), s.bills.clone());
    // Long enough for messages to reach the later tiers before the stop.
    tokio::time::sleep(Duration::from_secs(if long() { 25 } else { 5 })).await;
    let tiers = waiting_by_tier(&s).await;
    let stopped_at = Instant::now();
    rabbitmqctl(&["stop_app"]).expect("stop_app");
    let restart = StartOnDrop;
    // Longer than the first tiers' delay: their messages expire while the broker is down.
    tokio::time::sleep(Duration::from_secs(if long() { 15 } else { 4 })).await;
    // Recovery counts from the moment start_app is issued: the command itself may return
    // seconds after the broker is back (through `docker exec`, say), by which time the
    // payments may all be posted already.
    let since = s.db_now().await;
    let started_at = Instant::now();
    rabbitmqctl(&["start_app"]).expect("start_app");
    drop(restart);
    let recovery = s.first_post_after(since, started_at).await;
    let ledger = storm.finish().await;
    assert!(
        tiers.len() >= 3,
        "payments were waiting in several retry tiers when the broker stopped: {tiers:?}"
    );
    s.settle(Duration::from_secs(if long() { 300 } else { 90 }))
        .await;
    let rescued = rescued(&s).await;
    let f = s
        .finish(
            &ledger,
            Some(recovery),
            format!(
                "core failing {:.0}% (503), schedule {}; broker stopped {:.1?} with payments waiting by attempt {tiers:?}; {rescued} re-sent by the sweeper (0: the broker's at-least-once dead-lettering lost nothing)",
                CORE_FAILING * 100.0,
                schedule(),
                started_at - stopped_at
            ),
        )
        .await;
    assert!(f.answered_1000 > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_purged_from_the_posting_queue_and_a_retry_tier_are_sent_again() {
    rabbitmqctl(&["status"])
        .expect("rabbitmqctl must work here (run the suite as a user that may control the broker)");
    let mut s = Stack::new("broker_purge", options()).await;
    s.api();
    s.relay();
    // Workers slower than the storm, so that the posting queue holds a backlog to purge.
    s.worker();
    s.wait_all_up().await;
    s.core.core.set(Switches {
        latency_ms: 150,
        ..options().core
    });
    let storm = Storm {
        rate: Some(150),
        concurrency: 16,
        ..Storm::new("purge", scaled(600))
    }
    .start(s.api_urls(), s.bills.clone());
    tokio::time::sleep(Duration::from_secs(if long() { 10 } else { 3 })).await;
    let mut purged = Vec::new();
    for queue in [
        s.topology.posting_queue(),
        s.topology.retry_queue(0),
        s.topology.retry_queue(1),
    ] {
        rabbitmqctl(&["purge_queue", &queue]).expect("purge_queue");
        purged.push(queue);
    }
    let purged_at = Instant::now();
    s.core.core.set(options().core);
    let ledger = storm.finish().await;
    s.settle(Duration::from_secs(if long() { 300 } else { 90 }))
        .await;
    // Every purged payment is posted again by now: the bound, from the purge.
    let recovery = purged_at.elapsed();
    let rescued = rescued(&s).await;
    assert!(
        rescued > 0,
        "the purge removed messages of unposted payments, and the sweeper sent them again"
    );
    s.finish(
        &ledger,
        Some(recovery),
        format!(
            "core failing {:.0}% (503); mid-storm `rabbitmqctl purge_queue` on {purged:?}; {rescued} payments re-sent from the database by the sweeper, with no human action; recovery = from the purge until every payment was final (grace 5 s)",
            CORE_FAILING * 100.0
        ),
    )
    .await;
}
