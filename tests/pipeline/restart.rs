//! A RabbitMQ restart in the middle of a run: nothing lost, nothing posted twice.
//!
//! Restarting the broker disturbs every other test using it, so this test is `#[ignore]`d in
//! the main run and `scripts/test` runs it alone afterwards.

use std::time::Duration;

use workers::fake_core::Switches;

use crate::common::pipeline::*;
use crate::common::{rabbitmqctl, StartOnDrop};

const N: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the shared broker: run alone (scripts/test does)"]
async fn a_broker_restart_mid_run_loses_nothing_and_posts_nothing_twice() {
    rabbitmqctl(&["status"])
        .expect("rabbitmqctl must work here (run the tests as a user that may control the broker)");
    let mut p = Pipeline::new("200ms,500ms,1s,2s,2s,2s").await;
    let core = Core::start(Switches {
        latency_ms: 5,
        ..Switches::default()
    })
    .await;
    p.spawn_relay();
    p.spawn_worker(&core.url, Duration::from_secs(2));
    for i in 0..N / 2 {
        p.collect(&format!("SKY01{:08}", i % 31), "10", &format!("RST-{i}"))
            .await;
    }
    rabbitmqctl(&["stop_app"]).expect("stop_app");
    // Whatever happens next, the broker is started again for everyone else.
    let _restart = StartOnDrop;
    // Collects keep being recorded while the broker is down: the outbox holds them.
    for i in N / 2..N {
        p.collect(&format!("SKY01{:08}", i % 31), "10", &format!("RST-{i}"))
            .await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    rabbitmqctl(&["start_app"]).expect("start_app");
    p.assert_all_posted_once(&core, N, Duration::from_secs(120))
        .await;
    core.stop();
    p.teardown().await;
}
