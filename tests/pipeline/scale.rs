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
