//! What keeps the promise when RabbitMQ loses or moves messages: the sweeper re-sends from
//! the database, the worker drops superseded copies, the adopter records the broker's own
//! dead letters, and the topology migration moves version 1's queues without loss.

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicNackOptions, BasicQosOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions, QueuePurgeOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, ExchangeKind};
use workers::broker;
use workers::fake_core::Switches;
use workers::topology::{Legacy, DELIVERY_LIMIT};
use workers::{adopter, sweeper};

use crate::common::pipeline::*;

const WAIT: Duration = Duration::from_secs(30);

fn sweeper_config() -> sweeper::SweeperConfig {
    sweeper::SweeperConfig {
        interval: Duration::from_millis(200),
        published_grace: Duration::from_secs(1),
        retry_grace: Duration::from_secs(1),
        ..sweeper::SweeperConfig::default()
    }
}

/// Every outbox row and collection as a relay leaves them after publishing, due at `due` (SQL).
async fn mark_all_published(p: &Pipeline, due: &str) {
    sqlx::query("UPDATE outbox SET published_at = now()")
        .execute(&p.db.pool)
        .await
        .unwrap();
    sqlx::query(&format!(
        "UPDATE collections SET status = 'published', published_at = now(), next_due_at = {due}"
    ))
    .execute(&p.db.pool)
    .await
    .unwrap();
}

async fn purge(queue: &str) {
    let connection = broker::connect(&amqp_url()).await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .queue_purge(queue, QueuePurgeOptions::default())
        .await
        .unwrap();
    let _ = connection.close(200, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_purged_from_the_broker_is_sent_again_from_the_database_and_posted_once() {
    let mut p = Pipeline::new("100ms").await;
    let core = Core::start(Switches::default()).await;
    let ids = [
        p.collect("SKY0400000001", "100", "LOST-1").await,
        p.collect("SKY0400000002", "200", "LOST-2").await,
        p.collect("SKY0400000003", "300", "LOST-3").await,
    ];
    // Published, then lost before any worker took them.
    let relay = p.spawn_relay();
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'published'",
        3,
        WAIT,
    )
    .await;
    relay.cancel();
    purge(&p.topology.posting_queue()).await;
    p.spawn_worker(&core.url, Duration::from_secs(2));
    p.spawn_relay();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let patient = sweeper::SweeperConfig {
        published_grace: Duration::from_secs(60),
        ..sweeper_config()
    };
    assert_eq!(
        sweeper::rescue(&p.db.pool, &patient).await.unwrap(),
        vec![],
        "nothing is overdue within the grace"
    );
    let config = sweeper_config();
    tokio::time::sleep(config.published_grace).await;
    let rescued = sweeper::sweep(&p.db.pool, &amqp_url(), &p.topology, &config)
        .await
        .unwrap();
    assert_eq!(rescued, 3);
    p.assert_all_posted_once(&core, 3, WAIT).await;
    for id in ids {
        let history: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT event, actor FROM collection_events WHERE collection_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&p.db.pool)
        .await
        .unwrap();
        assert!(
            history.contains(&("rescued".into(), Some("sweeper".into()))),
            "{history:?}"
        );
        let audited: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_log WHERE actor = 'sweeper' AND action = 'collection.rescue' \
             AND subject = $1",
        )
        .bind(format!("collection:{id}"))
        .fetch_one(&p.db.pool)
        .await
        .unwrap();
        assert_eq!(audited, 1);
    }
    assert_eq!(
        sweeper::overdue(&p.db.pool, &config).await.unwrap(),
        0,
        "posted collections are never overdue"
    );
    core.stop();
    p.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_sweepers_at_once_rescue_each_collection_once() {
    let p = Pipeline::new("100ms").await;
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(
            p.collect(&format!("SKY05{i:08}"), "10", &format!("SWEEP-{i}"))
                .await,
        );
    }
    // As if published long ago and lost: no unpublished outbox row, due a minute ago.
    mark_all_published(&p, "now() - interval '1 minute'").await;
    let config = sweeper::SweeperConfig {
        batch: 25,
        ..sweeper_config()
    };
    let rounds = (0..6).map(|_| sweeper::rescue(&p.db.pool, &config));
    let mut rescued: Vec<uuid::Uuid> = futures::future::join_all(rounds)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap())
        .map(|r| r.id)
        .collect();
    // Whatever the first round of sweepers left, the next sweeps take.
    loop {
        let more = sweeper::rescue(&p.db.pool, &config).await.unwrap();
        if more.is_empty() {
            break;
        }
        rescued.extend(more.iter().map(|r| r.id));
    }
    let distinct: HashSet<_> = rescued.iter().collect();
    assert_eq!(rescued.len(), 60, "every overdue collection rescued");
    assert_eq!(distinct.len(), 60, "none rescued twice");
    let (generations, resent): (Vec<i32>, i64) = (
        sqlx::query_scalar("SELECT DISTINCT dispatch FROM collections")
            .fetch_all(&p.db.pool)
            .await
            .unwrap(),
        sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE dispatch = 1 AND published_at IS NULL",
        )
        .fetch_one(&p.db.pool)
        .await
        .unwrap(),
    );
    assert_eq!(generations, vec![1]);
    assert_eq!(resent, 60, "one new outbox row each");
    assert!(
        sweeper::rescue(&p.db.pool, &config)
            .await
            .unwrap()
            .is_empty(),
        "an unpublished re-send is the relay's: not rescued again"
    );
    p.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_superseded_by_a_re_send_is_dropped_without_posting() {
    let mut p = Pipeline::new("100ms").await;
    let core = Core::start(Switches::default()).await;
    let id = p.collect("SKY0600000001", "100", "OLD-COPY-1").await;
    let relay = p.spawn_relay();
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'published'",
        1,
        WAIT,
    )
    .await;
    relay.cancel();
    // A re-send has happened since this message (generation 0) was published.
    sqlx::query("UPDATE collections SET dispatch = 1 WHERE id = $1")
        .bind(id)
        .execute(&p.db.pool)
        .await
        .unwrap();
    p.spawn_worker(&core.url, Duration::from_secs(2));
    crate::posting::wait_depth(&p, &p.topology.posting_queue(), 0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        core.core.calls_started(),
        0,
        "the stale copy was not posted"
    );
    assert_eq!(p.status(id).await.0, "published");
    core.stop();
    p.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_broker_dead_letters_by_itself_is_recorded_without_a_command() {
    let mut p = Pipeline::new("100ms").await;
    let id = p.collect("SKY0700000001", "100", "CRASHER-1").await;
    let relay = p.spawn_relay();
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'published'",
        1,
        WAIT,
    )
    .await;
    relay.cancel();
    // A worker that crashes on the message every time: it is returned unacknowledged until
    // the posting queue's delivery limit dead-letters it.
    let connection = broker::connect(&amqp_url()).await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .basic_qos(1, BasicQosOptions::default())
        .await
        .unwrap();
    let mut consumer = channel
        .basic_consume(
            &p.topology.posting_queue(),
            "crasher",
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut deliveries = 0;
    while let Ok(Some(delivery)) =
        tokio::time::timeout(Duration::from_secs(2), consumer.next()).await
    {
        deliveries += 1;
        delivery
            .unwrap()
            .nack(BasicNackOptions {
                requeue: true,
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let _ = connection.close(200, "").await;
    assert!(
        deliveries as i64 > DELIVERY_LIMIT,
        "{deliveries} deliveries"
    );
    let token = p.cancel.child_token();
    tokio::spawn(adopter::run(
        p.db.pool.clone(),
        amqp_url(),
        p.topology.clone(),
        token,
    ));
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'dead_lettered'",
        1,
        WAIT,
    )
    .await;
    let (status, attempts, _, reason) = p.status(id).await;
    assert_eq!((status.as_str(), attempts), ("dead_lettered", 0));
    assert!(
        reason.as_deref().unwrap_or("").contains("by the broker"),
        "{reason:?}"
    );
    crate::posting::wait_depth(&p, &p.topology.dead_queue(), 1).await;
    assert_eq!(p.depth(&p.topology.adopt_queue()).await, 0);
    let listed = collector::ops::dead_letters::list(&p.db.pool, &Default::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "dlq list shows it");
    p.teardown().await;
}

/// What version 1 of the topology declared (its classic retry tiers dead-lettered at most
/// once), for the upgrade test.
async fn declare_version_one(channel: &lapin::Channel, p: &Pipeline, tiers: usize, ttl_ms: i64) {
    let legacy = p.topology.legacy();
    let exchange = p.topology.exchange();
    let text = |s: &str| AMQPValue::LongString(LongString::from(s));
    channel
        .exchange_declare(
            &exchange,
            ExchangeKind::Direct,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut queues = Vec::new();
    let mut posting = FieldTable::default();
    posting.insert("x-queue-type".into(), text("quorum"));
    posting.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(10));
    posting.insert("x-dead-letter-exchange".into(), text(&exchange));
    posting.insert("x-dead-letter-routing-key".into(), text("dead"));
    queues.push((
        legacy.posting_queue(),
        posting,
        Legacy::POSTING_KEY.to_owned(),
    ));
    for n in 0..tiers {
        let mut args = FieldTable::default();
        args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl_ms));
        args.insert("x-dead-letter-exchange".into(), text(&exchange));
        args.insert("x-dead-letter-routing-key".into(), text("posting"));
        queues.push((legacy.retry_queue(n), args, Legacy::retry_key(n)));
    }
    for (name, args, key) in queues {
        let options = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel.queue_declare(&name, options, args).await.unwrap();
        channel
            .queue_bind(
                &name,
                &exchange,
                &key,
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrading_from_version_one_queues_moves_every_waiting_message_and_loses_nothing() {
    let mut p = Pipeline::new("100ms,200ms").await;
    let core = Core::start(Switches::default()).await;
    let connection = broker::connect(&amqp_url()).await.unwrap();
    let channel = broker::confirm_channel(&connection).await.unwrap();
    // Version 1's queues, with payments waiting in the posting queue and in tier 1 (a long
    // delay, so that they are still there when the migration runs).
    declare_version_one(&channel, &p, 3, 60_000).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let id = p
            .collect(&format!("SKY08{i:08}"), "50", &format!("UPGRADE-{i}"))
            .await;
        let payload: String =
            sqlx::query_scalar("SELECT payload::text FROM outbox WHERE collection_id = $1")
                .bind(id)
                .fetch_one(&p.db.pool)
                .await
                .unwrap();
        let key = if i < 3 { "posting" } else { "retry.1" };
        let mut headers = FieldTable::default();
        headers.insert(
            "x-attempt".into(),
            AMQPValue::LongLongInt(if i < 3 { 0 } else { 2 }),
        );
        let properties = BasicProperties::default()
            .with_delivery_mode(2)
            .with_headers(headers);
        workers::publish::publish_confirmed(
            &channel,
            &p.topology.exchange(),
            key,
            payload.as_bytes(),
            properties,
        )
        .await
        .unwrap();
        ids.push(id);
    }
    // What version 1's relay had recorded: published.
    mark_all_published(&p, "now()").await;
    let before = p.topology.legacy_queues(&connection).await;
    assert_eq!(
        before.len(),
        4,
        "version 1's posting queue and 3 tiers: {before:?}"
    );

    let reports = workers::migrate::migrate(&connection, &p.topology)
        .await
        .unwrap();
    let moved: Vec<(String, u64, bool)> = reports
        .iter()
        .map(|r| (r.queue.clone(), r.moved, r.deleted))
        .collect();
    let legacy = p.topology.legacy();
    assert!(
        moved.contains(&(legacy.posting_queue(), 3, true)),
        "{moved:?}"
    );
    assert!(
        moved.contains(&(legacy.retry_queue(1), 3, true)),
        "{moved:?}"
    );
    assert!(moved.iter().all(|(_, _, deleted)| *deleted), "{moved:?}");
    assert!(
        p.topology.legacy_queues(&connection).await.is_empty(),
        "version 1's queues are gone"
    );
    // Every waiting message is in version 2's queues. Its tier 1 expires in 200 ms, and a
    // message being dead-lettered at least once is in both queues until the posting queue
    // confirms it: count again until the sum is at rest.
    let mut waiting = 0;
    for _ in 0..50 {
        waiting =
            p.depth(&p.topology.retry_queue(1)).await + p.depth(&p.topology.posting_queue()).await;
        if waiting == 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(waiting, 6);
    // A version 1 process still publishing under the old keys reaches version 2.
    let mut headers = FieldTable::default();
    headers.insert("x-attempt".into(), AMQPValue::LongLongInt(1));
    let late = p.collect("SKY0899999999", "50", "UPGRADE-LATE").await;
    let payload: String =
        sqlx::query_scalar("SELECT payload::text FROM outbox WHERE collection_id = $1")
            .bind(late)
            .fetch_one(&p.db.pool)
            .await
            .unwrap();
    workers::publish::publish_confirmed(
        &channel,
        &p.topology.exchange(),
        "retry.0",
        payload.as_bytes(),
        BasicProperties::default().with_headers(headers),
    )
    .await
    .unwrap();
    sqlx::query("UPDATE outbox SET published_at = now() WHERE collection_id = $1")
        .bind(late)
        .execute(&p.db.pool)
        .await
        .unwrap();
    let _ = connection.close(200, "").await;
    // Running it again finds nothing to do.
    let again_connection = broker::connect(&amqp_url()).await.unwrap();
    let again = workers::migrate::migrate(&again_connection, &p.topology)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    let _ = again_connection.close(200, "").await;

    p.spawn_worker(&core.url, Duration::from_secs(2));
    p.assert_all_posted_once(&core, 7, WAIT).await;
    core.stop();
    p.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_the_previous_release_left_retrying_without_a_due_time_is_found() {
    let p = Pipeline::new("100ms").await;
    let id = p.collect("SKY0900000001", "75", "OLD-RELEASE-1").await;
    // The previous release's state: retrying, no due time (the column is new), an hour old,
    // its message lost with the classic tiers.
    sqlx::query("UPDATE outbox SET published_at = now() - interval '1 hour'")
        .execute(&p.db.pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE collections SET status = 'retrying', attempts = 1, next_due_at = NULL, \
         created_at = now() - interval '1 hour' WHERE id = $1",
    )
    .bind(id)
    .execute(&p.db.pool)
    .await
    .unwrap();
    let config = sweeper::SweeperConfig::default();
    assert_eq!(sweeper::overdue(&p.db.pool, &config).await.unwrap(), 1);
    let rescued = sweeper::rescue(&p.db.pool, &config).await.unwrap();
    assert_eq!(rescued.len(), 1);
    assert_eq!(
        (rescued[0].id, rescued[0].status.as_str()),
        (id, "retrying")
    );
    assert!(rescued[0].overdue_secs >= 3600, "{rescued:?}");
    let (dispatch, unpublished): (i32, i64) = sqlx::query_as(
        "SELECT c.dispatch, (SELECT count(*) FROM outbox o WHERE o.collection_id = c.id \
             AND o.published_at IS NULL AND o.dispatch = c.dispatch) \
         FROM collections c WHERE c.id = $1",
    )
    .bind(id)
    .fetch_one(&p.db.pool)
    .await
    .unwrap();
    assert_eq!((dispatch, unpublished), (1, 1), "re-sent as generation 1");
    p.teardown().await;
}
