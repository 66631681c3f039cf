//! The core loan system down (connections refused) for longer than the first retry tiers,
//! then back; and slow: it takes the payment but answers after the workers' time-out.

use std::time::{Duration, Instant};

use workers::fake_core::{ErrorMix, Switches};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_down_longer_than_the_first_retry_tiers_then_back_loses_nothing() {
    let schedule = "200ms,400ms,800ms,1s,2s,4s,8s";
    let mut s = Stack::new(
        "core_down",
        StackOptions {
            retry_schedule: schedule,
            ..StackOptions::default()
        },
    )
    .await;
    s.api();
    s.relay();
    s.worker();
    s.worker();
    s.wait_all_up().await;
    s.core.stop();
    let down_from = Instant::now();
    let storm = Storm {
        rate: Some(200),
        ..Storm::new("coredown", scaled(600))
    }
    .start(s.api_urls(), s.bills.clone());
    // Down for more than the first three tiers (1.4 s) together; less than all of them.
    tokio::time::sleep(Duration::from_secs(if long() { 10 } else { 3 })).await;
    let retried_while_down: i64 =
        sqlx::query_scalar("SELECT count(*) FROM collections WHERE attempts >= 2")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    let since = s.db_now().await;
    s.core.restart().await;
    let back_at = Instant::now();
    let recovery = s.first_post_after(since, back_at).await;
    let ledger = storm.finish().await;
    assert!(
        retried_while_down > 0,
        "messages went through the retry tiers"
    );
    let f = s
        .finish(
            &ledger,
            Some(recovery),
            format!(
                "core refused connections for {:.1?} (schedule {schedule}); {retried_while_down} collections retried twice or more while it was down; recovery = from the core's return to the first payment posted again",
                back_at - down_from
            ),
        )
        .await;
    assert_eq!(f.dead_lettered, 0, "the schedule outlasts the outage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_slow_takes_payments_but_times_out_then_recovers_without_double_posting() {
    let mut s = Stack::new(
        "core_slow",
        StackOptions {
            core_timeout_secs: 1,
            ..StackOptions::default()
        },
    )
    .await;
    s.api();
    s.relay();
    s.worker();
    s.worker();
    s.wait_all_up().await;
    // Every call is recorded (posted) by the core, then answered after 60 s: the workers
    // time out after 1 s and retry; the retry is answered 409 "already posted".
    s.core.core.set(Switches {
        error_rate: 1.0,
        mix: ErrorMix {
            late: 1,
            ..ErrorMix::default()
        },
        ..Switches::default()
    });
    let slow_from = Instant::now();
    let storm = Storm {
        rate: Some(200),
        ..Storm::new("coreslow", scaled(600))
    }
    .start(s.api_urls(), s.bills.clone());
    tokio::time::sleep(Duration::from_secs(if long() { 8 } else { 3 })).await;
    let since = s.db_now().await;
    s.core.core.set(Switches::default());
    let fast_at = Instant::now();
    let recovery = s.first_post_after(since, fast_at).await;
    let ledger = storm.finish().await;
    s.settle(Duration::from_secs(120)).await;
    let timed_out: i64 =
        sqlx::query_scalar("SELECT count(*) FROM flags WHERE kind = 'core_duplicate'")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert!(
        timed_out > 0,
        "payments taken by the slow core were confirmed by a 409"
    );
    s.finish(
        &ledger,
        Some(recovery),
        format!(
            "core took each payment but answered after the 1 s time-out for {:.1?}; {timed_out} payments confirmed by a 409 on retry (flagged core_duplicate)",
            fast_at - slow_from
        ),
    )
    .await;
}
