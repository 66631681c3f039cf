//! The ops surface through its real interfaces: the admin API, the CLI binary, /metrics and
//! the OpenAPI document, against real Postgres and RabbitMQ.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod dead_letters;
mod flags;
mod metrics;
mod openapi;
mod readiness;
mod reconciliation;
mod settlement;
mod stack;
mod startup;

/// Waits until the dead-letter queue holds `want` messages.
async fn pipeline_depth(p: &common::pipeline::Pipeline, want: u32) {
    let start = std::time::Instant::now();
    loop {
        let depth = p.depth(&p.topology.dead_queue()).await;
        if depth == want {
            return;
        }
        assert!(
            start.elapsed() < stack::WAIT,
            "dead-letter queue holds {depth}, want {want}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
