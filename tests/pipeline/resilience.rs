//! The relay and the workers ride out Postgres connection loss by themselves, purge what
//! they published, and stop cleanly on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection};
use workers::fake_core::Switches;
use workers::relay::{purge_published, RelayConfig};

use crate::common::api::{code, collect, spawn_app};
use crate::common::pipeline::*;

const N: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_killed_mid_run_lose_nothing() {
    let mut p = Pipeline::new("100ms,200ms,400ms,800ms,1s").await;
    let core = Core::start(Switches {
        latency_ms: 2,
        ..Switches::default()
    })
    .await;
    for i in 0..N {
        p.collect(&format!("SKY01{:08}", i % 13), "10", &format!("PGK-{i}"))
            .await;
    }
    p.spawn_relay();
    p.spawn_worker(&core.url, Duration::from_secs(2));
    // Terminate every connection to the test database, again and again, while it works.
    let mut admin = PgConnection::connect(&p.db.url.replace(&p.db.name, "postgres"))
        .await
        .unwrap();
    let kill = format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()", p.db.name);
    let mut kills = 0;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        admin.execute(kill.as_str()).await.unwrap();
        kills += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(kills > 10);
    p.assert_all_posted_once(&core, N, Duration::from_secs(60))
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

/// `AMQP_URL` lists a cluster's nodes; the first is down (nothing listens on its port): the
/// relay and the worker connect to the next and post everything, and say which node they are
/// on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_and_worker_skip_a_node_that_is_down() {
    let mut p = Pipeline::new("100ms,200ms").await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!(
        "amqp://guest:guest@127.0.0.1:{}/%2f",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    let live = amqp_url();
    p.amqp_url = format!("{down},{live}");
    let core = Core::start(Switches::default()).await;
    for i in 0..20 {
        p.collect(&format!("SKY01{:08}", i % 13), "10", &format!("NODE-{i}"))
            .await;
    }
    p.spawn_relay();
    p.spawn_worker(&core.url, Duration::from_secs(2));
    p.assert_all_posted_once(&core, 20, Duration::from_secs(30))
        .await;
    let nodes = workers::broker::connected_nodes();
    let node = workers::broker::node_of(&live);
    assert_eq!(nodes.get("relay"), Some(&node), "{nodes:?}");
    assert_eq!(nodes.get("worker"), Some(&node), "{nodes:?}");
    core.stop();
    p.teardown().await;
}

/// A steady flow of NOTIFYs (one per collect) is consumed as fast as it comes, not one per
/// drain: a listener that falls behind leaves its Postgres backend blocked writing to it, which
/// grows the server's NOTIFY queue and stalls every `DROP DATABASE` on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_keeps_up_with_its_notifications() {
    let mut p = Pipeline::new("100ms").await;
    p.spawn_relay();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // 100,000 notifications of ~200 bytes (20 MB: more than the sockets hold), as 100,000
    // collects would send; distinct payloads, or Postgres folds them into one.
    let sent = Instant::now();
    sqlx::query(
        "SELECT pg_notify('collector_outbox', g::text || repeat('x', 200)) \
         FROM generate_series(1, 100000) AS g",
    )
    .execute(&p.db.pool)
    .await
    .unwrap();
    // The relay's listener is the one connection that LISTENs on this database.
    let listener = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                    AND query LIKE 'LISTEN%' AND wait_event = 'ClientWrite'";
    loop {
        let usage: f64 = sqlx::query_scalar("SELECT pg_notification_queue_usage()")
            .fetch_one(&p.db.pool)
            .await
            .unwrap();
        let blocked: i64 = sqlx::query_scalar(listener)
            .fetch_one(&p.db.pool)
            .await
            .unwrap();
        // 100,000 of these fill ~0.3% of the queue; what other tests' listeners hold is less.
        if usage < 0.0005 && blocked == 0 {
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(15),
            "the relay's listener is behind: NOTIFY queue {:.3}% full, listener blocked: {blocked}",
            usage * 100.0
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    p.teardown().await;
}

/// A collect answered through the API wakes the relay at once, although nothing notifies
/// inside its transaction any more: the API notifies after the commit (`outbox::Signal`). The
/// relay here polls only every 30 s, so a missing notification fails the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collect_wakes_the_relay_after_its_commit() {
    let app = spawn_app().await;
    app.register_bill("SKY0300000001", "1000.00", true).await;
    let prefix = format!("test-{}", uuid::Uuid::new_v4().simple());
    let mut p = Pipeline::on_database(&app.db.name, &app.db.url, &prefix, "100ms").await;
    p.spawn_relay_with(RelayConfig {
        poll_interval: Duration::from_secs(30),
        ..Pipeline::relay_config()
    });
    // The relay drains once when it starts; then it listens.
    let listening = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND query LIKE 'LISTEN%'";
    let start = Instant::now();
    while sqlx::query_scalar::<_, i64>(listening)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
        == 0
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the relay never listened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (i, receipt) in ["WAKE-1", "WAKE-2", "WAKE-3"].into_iter().enumerate() {
        let answer = app
            .skypay(&collect("SKY0300000001", "10.00", receipt))
            .await;
        assert_eq!(code(&answer), "1000", "{answer}");
        let answered = Instant::now();
        loop {
            let published: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
                    .fetch_one(&app.db.pool)
                    .await
                    .unwrap();
            if published == i as i64 + 1 {
                break;
            }
            assert!(
                answered.elapsed() < Duration::from_secs(5),
                "collect {receipt} not published 5 s after its answer: the relay was not woken"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    p.teardown().await;
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_rows_are_purged_after_the_retention_period_only() {
    let p = Pipeline::new("100ms").await;
    for i in 0..5 {
        p.collect("SKY0100000001", "10", &format!("PURGE-{i}"))
            .await;
    }
    sqlx::query("UPDATE outbox SET published_at = now() - interval '8 days' WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 3)")
        .execute(&p.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE outbox SET published_at = now() WHERE published_at IS NULL AND id = (SELECT max(id) FROM outbox)")
        .execute(&p.db.pool)
        .await
        .unwrap();
    let week = Duration::from_secs(7 * 24 * 3600);
    assert_eq!(
        purge_published(&p.db.pool, week, 2).await.unwrap(),
        3,
        "every old row, in batches of 2"
    );
    assert_eq!(purge_published(&p.db.pool, week, 2).await.unwrap(), 0);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&p.db.pool)
        .await
        .unwrap();
    assert_eq!(
        left, 2,
        "a recent published row and an unpublished one stay"
    );
    p.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_post_in_flight_and_exits_cleanly() {
    let mut p = Pipeline::new("100ms").await;
    let core = Core::start(Switches {
        latency_ms: 1000,
        ..Switches::default()
    })
    .await;
    for i in 0..5 {
        p.collect("SKY0100000001", "10", &format!("TERM-{i}")).await;
    }
    p.spawn_relay();
    let mut child = Command::new(env!("CARGO_BIN_EXE_collector"))
        .arg("worker")
        .arg("--prefetch=1")
        .env("DATABASE_URL", &p.db.url)
        .env("AMQP_URL", amqp_url())
        .env("AMQP_PREFIX", &p.topology.prefix)
        .env("CORE_LOAN_URL", &core.url)
        .env("RETRY_SCHEDULE", "100ms")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while core.core.calls_started() == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the worker never called the core"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the worker did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "clean exit: {status}");
    let posted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM collections WHERE status = 'posted'")
            .fetch_one(&p.db.pool)
            .await
            .unwrap();
    assert_eq!(
        posted, 1,
        "the post in flight was finished and recorded, no new one started"
    );
    // The rest were returned to the queue: another worker posts them, each once.
    core.core.set(Switches::default());
    p.spawn_worker(&core.url, Duration::from_secs(2));
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'posted'",
        5,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(core.core.posted().len(), 5);
    assert!(
        core.core.received().iter().all(|r| r.calls == 1),
        "nothing posted twice"
    );
    core.stop();
    p.teardown().await;
}
