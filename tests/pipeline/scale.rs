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
/// has its database). A backend publishes its counts at the end of a transaction at least a
/// second after its last report: `single`, the connection under test, is given one.
async fn rows_scanned(p: &Pipeline, single: &sqlx::PgPool) -> i64 {
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sqlx::query("SELECT 1").execute(single).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    sqlx::query_scalar(
        "SELECT coalesce(seq_tup_read, 0) FROM pg_stat_user_tables WHERE relname = 'collections'",
    )
    .fetch_one(&p.db.pool)
    .await
    .unwrap()
}

/// Ten collections and their outbox rows, as collects write them; their ids.
async fn ten_collections(pool: &sqlx::PgPool, round: usize) -> Vec<uuid::Uuid> {
    sqlx::query_scalar(
        "WITH c AS (INSERT INTO collections (id, control_number, loan_ref, pay_channel, \
             receipt_number, amount, phone, collected_at) \
         SELECT gen_random_uuid(), 'SKY0200000001', 'LN-T', 10, 'R' || $1 || '-' || g, 10, \
             '09221008333', now() FROM generate_series(1, 10) AS g RETURNING id), \
         o AS (INSERT INTO outbox (collection_id, payload) SELECT id, '{}' FROM c) \
         SELECT id FROM c",
    )
    .bind(round as i64)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The relay's and the workers' batch statements (the relay's mark, the status read, the
/// posted record) keep using the primary key once the table has grown. A prepared statement's
/// generic plan, made while `collections` is small, is a sequential scan, and with autovacuum
/// off nothing re-plans it: the soak found every batch scanning the whole table. Here the
/// table grows to 100,000 rows after eight rounds of batches of ten, and one more round must
/// not scan it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_statements_do_not_scan_a_grown_table() {
    let p = Pipeline::new("100ms").await;
    // One connection: every statement runs on it, so its plan cache is the one that counts.
    // Generic plans from the first run on: whether Postgres switches to a statement's generic
    // plan after five runs depends on its cost estimates, and the soak met the case in which it
    // did; this makes that case certain.
    let options: sqlx::postgres::PgConnectOptions = p.db.url.parse().unwrap();
    let single = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.options([("plan_cache_mode", "force_generic_plan")]))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO bills (control_number, loan_ref, amount_due, outstanding, allow_partial, \
             payer_last_name, payer_first_name, payer_address, payer_phone) \
         VALUES ('SKY0200000001', 'LN-T', 99999999.99, 99999999.99, true, 'Dela Cruz', 'Juan', \
             'Manila', '09221008333')",
    )
    .execute(&p.db.pool)
    .await
    .unwrap();
    let connection = workers::broker::connect(&p.amqp_url).await.unwrap();
    let channel = workers::broker::confirm_channel(&connection).await.unwrap();
    p.topology.declare(&channel).await.unwrap();
    let statuses = workers::store::StatusReader::spawn(single.clone(), 64);
    let round = |n: usize| {
        let (single, channel, statuses, topology) = (
            single.clone(),
            channel.clone(),
            statuses.clone(),
            p.topology.clone(),
        );
        async move {
            let ids = ten_collections(&single, n).await;
            let published = workers::relay::relay_batch(&single, &channel, &topology, 500)
                .await
                .unwrap();
            assert_eq!(published, 10);
            let read = futures::future::join_all(ids.iter().map(|id| statuses.current(*id))).await;
            assert!(read.iter().all(|r| matches!(r, Ok(Some(_)))), "{read:?}");
            let references = vec![None; ids.len()];
            let posted = workers::store::mark_posted_many(&single, &ids, &references)
                .await
                .unwrap();
            assert_eq!(posted.len(), 10);
        }
    };
    for n in 0..8 {
        round(n).await;
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
    let before = rows_scanned(&p, &single).await;
    round(8).await;
    let scanned = rows_scanned(&p, &single).await - before;
    assert!(
        scanned < 100_000,
        "{scanned} rows of collections read by sequential scans for one round of ten: a batch statement scans the table"
    );
    workers::broker::close(connection, "test").await;
    single.close().await;
    p.teardown().await;
}
