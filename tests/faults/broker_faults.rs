//! RabbitMQ stopped and started mid-storm (`rabbitmqctl stop_app` / `start_app`).

use std::time::{Duration, Instant};

use crate::common::{rabbitmqctl, StartOnDrop};
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_stopped_and_started_mid_storm_loses_nothing() {
    rabbitmqctl(&["status"])
        .expect("rabbitmqctl must work here (run the suite as a user that may control the broker)");
    let mut s = Stack::new("rabbitmq_restart", StackOptions::default()).await;
    s.api();
    s.relay();
    s.relay();
    s.worker();
    s.worker();
    s.wait_all_up().await;
    let storm = Storm {
        rate: Some(150),
        ..Storm::new("mqstop", scaled(900))
    }
    .start(s.api_urls(), s.bills.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopped_at = Instant::now();
    rabbitmqctl(&["stop_app"]).expect("stop_app");
    let restart = StartOnDrop;
    tokio::time::sleep(Duration::from_secs(if long() { 15 } else { 3 })).await;
    // Recovery counts from the moment start_app is issued: the command itself may return
    // seconds after the broker is back (through `docker exec`, say), by which time the
    // payments may all be posted already.
    let since = s.db_now().await;
    let started_at = Instant::now();
    rabbitmqctl(&["start_app"]).expect("start_app");
    drop(restart);
    let down = started_at - stopped_at;
    // The API only needs Postgres: collects were accepted the whole time.
    let accepted_while_down = storm_accepted(&storm, stopped_at, started_at);
    let recovery = s.first_post_after(since, started_at).await;
    let ledger = storm.finish().await;
    assert!(
        accepted_while_down > 0,
        "collects accepted while the broker was down"
    );
    s.finish(
        &ledger,
        Some(recovery),
        format!("broker down {down:.1?} mid-storm (2 relays, 2 workers); {accepted_while_down} collects accepted while it was down; recovery = from start_app to the first payment posted again"),
    )
    .await;
}

fn storm_accepted(storm: &StormHandle, from: Instant, to: Instant) -> usize {
    storm.ledger.accepted_between(from, to)
}
