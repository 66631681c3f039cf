//! Several relays and workers at once share the work and post every collection once.

use std::time::Duration;

use workers::fake_core::Switches;

use crate::common::pipeline::*;

const N: usize = 2000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_and_two_workers_post_thousands_of_collects_once_each() {
    let mut p = Pipeline::new("100ms,200ms,400ms,800ms,1s,2s").await;
    // 10% of calls fail, so that retries interleave with first attempts.
    let core = Core::start(Switches {
        error_rate: 0.1,
        ..Switches::default()
    })
    .await;
    for i in 0..N {
        p.collect(&format!("SKY01{:08}", i % 97), "10", &format!("SCALE-{i}"))
            .await;
    }
    p.spawn_relay();
    p.spawn_relay();
    p.spawn_worker(&core.url, Duration::from_secs(2));
    p.spawn_worker(&core.url, Duration::from_secs(2));
    p.assert_all_posted_once(&core, N, Duration::from_secs(120))
        .await;
    let unpublished: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&p.db.pool)
            .await
            .unwrap();
    assert_eq!(unpublished, 0);
    core.stop();
    p.teardown().await;
}

/// Rows of `collections` read by sequential scans so far, as Postgres counts them (each test
/// has its database, so only this test's processes count).
async fn rows_scanned(p: &Pipeline) -> i64 {
    // Backends publish their counts when idle, within a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sqlx::query_scalar(
        "SELECT coalesce(seq_tup_read, 0) FROM pg_stat_user_tables WHERE relname = 'collections'",
    )
    .fetch_one(&p.db.pool)
    .await
    .unwrap()
}

/// The relay's and the workers' batch statements keep using the primary key once the table
/// has grown: a plan made while `collections` was nearly empty (a sequential scan) must not
/// be kept for a table of 100,000 rows. (With autovacuum off nothing re-plans a prepared
/// statement; the soak found every batch scanning the whole table.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_statements_do_not_scan_a_grown_table() {
    let mut p = Pipeline::new("100ms").await;
    let core = Core::start(Switches::default()).await;
    p.spawn_relay();
    p.spawn_worker(&core.url, Duration::from_secs(2));
    // More than five batches on a small table: a prepared statement's plan is fixed by then.
    for i in 0..12 {
        p.collect("SKY0200000001", "10", &format!("EARLY-{i}"))
            .await;
        p.wait_count(
            "SELECT count(*) FROM collections WHERE status = 'posted'",
            i + 1,
            Duration::from_secs(20),
        )
        .await;
    }
    sqlx::query(
        "INSERT INTO collections (id, control_number, loan_ref, pay_channel, receipt_number, amount, \
             phone, collected_at, status, posted_at) \
         SELECT gen_random_uuid(), 'SKY0200000001', 'LN-T', 10, 'OLD-' || g, 10, '09221008333', now(), \
             'posted', now() \
         FROM generate_series(1, 100000) AS g",
    )
    .execute(&p.db.pool)
    .await
    .unwrap();
    let before = rows_scanned(&p).await;
    for i in 0..20 {
        let receipt = format!("LATE-{i}");
        p.collect("SKY0200000001", "10", &receipt).await;
        // Through the receipt's unique index: the test's own waits scan nothing.
        p.wait_count(
            &format!(
                "SELECT count(*) FROM collections WHERE pay_channel = 10 \
                 AND receipt_number = '{receipt}' AND status = 'posted'"
            ),
            1,
            Duration::from_secs(20),
        )
        .await;
    }
    let scanned = rows_scanned(&p).await - before;
    // A batch statement that scans reads 100,000 rows per batch, and 20 payments make at
    // least 40 batches (the relay's mark, the worker's status read and its record).
    assert!(
        scanned < 100_000,
        "{scanned} rows of collections read by sequential scans for 20 payments: a statement scans the table"
    );
    core.stop();
    p.teardown().await;
}
