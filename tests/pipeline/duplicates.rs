//! Exactly once in effect: duplicate deliveries, a relay that publishes twice, a worker killed
//! mid-post.

use std::time::Duration;

use workers::fake_core::Switches;

use crate::common::pipeline::*;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_published_twice_is_posted_once() {
    let mut p = Pipeline::new("100ms").await;
    let core = Core::start(Switches::default()).await;
    let id = p.collect("SKY0100000001", "100", "TWICE-1").await;
    // Publish, lose the mark, publish again: the same message is delivered twice.
    p.publish_and_lose_the_mark(1, WAIT).await;
    p.spawn_relay();
    p.wait_count(
        "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL",
        1,
        WAIT,
    )
    .await;
    assert_eq!(
        p.depth(&p.topology.posting_queue()).await,
        2,
        "two copies wait in the posting queue"
    );
    // One at a time, so the second copy meets the status check (concurrent copies are
    // covered by the idempotency key: see the scale test).
    p.spawn_worker_with(&core.url, Duration::from_secs(2), 1);
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'posted'",
        1,
        WAIT,
    )
    .await;
    crate::posting::wait_depth(&p, &p.topology.posting_queue(), 0).await;
    let posted = core.core.posted();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].idempotency_key, id.to_string());
    assert_eq!(
        posted[0].calls, 1,
        "the second copy was acknowledged without posting"
    );
    let (_, attempts, _, _) = p.status(id).await;
    assert_eq!(attempts, 1);
    core.stop();
    p.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_beats_the_relays_mark_keeps_its_status_and_the_publication_is_recorded() {
    let mut p = Pipeline::new("100ms").await;
    let core = Core::start(Switches::default()).await;
    let id = p.collect("SKY0100000001", "100", "BEAT-1").await;
    // The worker posts the first copy; the relay's mark of it is lost.
    p.spawn_worker(&core.url, Duration::from_secs(2));
    p.publish_and_lose_the_mark(1, WAIT).await;
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'posted'",
        1,
        WAIT,
    )
    .await;
    // The relay publishes it again, and marks it after the worker has finished with it.
    p.spawn_relay();
    p.wait_count(
        "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL",
        1,
        WAIT,
    )
    .await;
    crate::posting::wait_depth(&p, &p.topology.posting_queue(), 0).await;
    let (status, published): (String, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as("SELECT status, published_at FROM collections WHERE id = $1")
            .bind(id)
            .fetch_one(&p.db.pool)
            .await
            .unwrap();
    assert_eq!(status, "posted", "the relay's mark never moves a row back");
    assert!(published.is_some(), "the publication is recorded");
    assert_eq!(core.core.posted().len(), 1);
    assert_eq!(core.core.posted()[0].calls, 1);
    core.stop();
    p.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_post_posts_once_in_effect() {
    let mut p = Pipeline::new("100ms").await;
    // The core takes a while, so the worker is killed while the call is in flight.
    let core = Core::start(Switches {
        latency_ms: 1500,
        ..Switches::default()
    })
    .await;
    p.spawn_relay();
    let (_, first) = p.spawn_worker(&core.url, Duration::from_secs(5));
    let id = p.collect("SKY0100000001", "100", "KILL-1").await;
    let start = std::time::Instant::now();
    while core.core.calls_started() == 0 {
        assert!(start.elapsed() < WAIT, "the core never saw the call");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    p.abort(first);
    // The message was never acknowledged: it comes back to the next worker.
    core.core.set(Switches::default());
    p.spawn_worker(&core.url, Duration::from_secs(5));
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'posted'",
        1,
        WAIT,
    )
    .await;
    let posted = core.core.posted();
    assert_eq!(posted.len(), 1, "one payment in the core");
    assert_eq!(posted[0].idempotency_key, id.to_string());
    core.stop();
    p.teardown().await;
}
