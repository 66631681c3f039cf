//! Outcomes of posting: posted, retried then posted, dead-lettered.

use std::time::Duration;

use collector::ops;
use serde_json::json;
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use workers::fake_core::Switches;

use crate::common::pipeline::*;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collect_travels_relay_worker_core_and_is_posted_with_its_reference() {
    let mut p = Pipeline::new("100ms").await;
    let core = Core::start(Switches::default()).await;
    p.spawn_relay();
    p.spawn_worker(&core.url, Duration::from_secs(2));
    let id = p.collect("SKY0100000001", "3900.5", "HAPPY-1").await;
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'posted'",
        1,
        WAIT,
    )
    .await;
    let (status, attempts, reference, error) = p.status(id).await;
    assert_eq!((status.as_str(), attempts, error), ("posted", 1, None));
    let received = core.core.posted();
    assert_eq!(received.len(), 1);
    assert_eq!(reference.as_deref(), Some(received[0].reference.as_str()));
    assert_eq!(received[0].idempotency_key, id.to_string());
    assert_eq!(
        received[0].body,
        json!({
            "paymentId": id, "receiptNumber": "HAPPY-1", "controlNumber": "SKY0100000001",
            "loanRef": "LN-T", "amount": "3900.50", "currency": "PHP",
            "collectedAt": "2026-11-20T10:15:00+08:00", "payChannel": 10,
            "payerPhone": "09221008333", "source": "skypay"
        })
    );
    let published: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT published_at FROM outbox")
            .fetch_one(&p.db.pool)
            .await
            .unwrap();
    assert!(published.is_some(), "the outbox row is marked published");
    core.stop();
    p.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_timeouts_are_retried_on_the_schedule_then_posted() {
    let mut p = Pipeline::new("100ms,200ms,300ms").await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/payments"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/payments"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/payments"))
        .and(header_exists("idempotency-key"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"reference": "CORE-42"})))
        .with_priority(3)
        .expect(1)
        .mount(&server)
        .await;
    p.spawn_relay();
    p.spawn_worker(&server.uri(), Duration::from_millis(500));
    let id = p.collect("SKY0100000001", "100", "RETRY-1").await;
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'posted'",
        1,
        WAIT,
    )
    .await;
    let (_, attempts, reference, error) = p.status(id).await;
    assert_eq!(attempts, 3, "503, then a time-out, then posted");
    assert_eq!(reference.as_deref(), Some("CORE-42"));
    assert_eq!(error, None);
    server.verify().await;
    p.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_retried_until_the_core_comes_up() {
    let mut p = Pipeline::new("200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms").await;
    // A port with nothing on it yet.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    p.spawn_relay();
    p.spawn_worker(&format!("http://{addr}"), Duration::from_secs(1));
    let id = p.collect("SKY0100000001", "100", "REFUSED-1").await;
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'retrying'",
        1,
        WAIT,
    )
    .await;
    let (_, _, _, error) = p.status(id).await;
    assert!(
        error.unwrap().contains("refused"),
        "the last error says why"
    );
    let core = Core::start_on(
        tokio::net::TcpListener::bind(addr).await.unwrap(),
        Switches::default(),
    );
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'posted'",
        1,
        WAIT,
    )
    .await;
    assert_eq!(core.core.posted().len(), 1);
    core.stop();
    p.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_4xx_is_dead_lettered_at_once_with_status_and_body() {
    let mut p = Pipeline::new("100ms,100ms").await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/payments"))
        .respond_with(
            ResponseTemplate::new(422).set_body_string(r#"{"error":"loan LN-T is closed"}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    p.spawn_relay();
    p.spawn_worker(&server.uri(), Duration::from_secs(2));
    let id = p.collect("SKY0100000001", "100", "PERM-1").await;
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'dead_lettered'",
        1,
        WAIT,
    )
    .await;
    let (_, attempts, _, error) = p.status(id).await;
    assert_eq!(attempts, 1);
    let error = error.unwrap();
    assert!(
        error.contains("422") && error.contains("loan LN-T is closed"),
        "{error}"
    );
    wait_depth(&p, &p.topology.dead_queue(), 1).await;
    let letters = ops::dead_letters::list(&p.db.pool, &ops::dead_letters::Filter::default())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].receipt_number, "PERM-1");
    let table = collector::cli::dlq::render_letters(&letters);
    assert!(
        table.contains("PERM-1") && table.contains("100.00") && table.contains("422"),
        "{table}"
    );
    server.verify().await;
    p.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_schedule_ends_in_the_dead_letter_queue() {
    let mut p = Pipeline::new("100ms,100ms").await;
    let core = Core::start(Switches {
        outage: true,
        ..Switches::default()
    })
    .await;
    p.spawn_relay();
    p.spawn_worker(&core.url, Duration::from_secs(2));
    let id = p.collect("SKY0100000001", "100", "EXHAUST-1").await;
    p.wait_count(
        "SELECT count(*) FROM collections WHERE status = 'dead_lettered'",
        1,
        WAIT,
    )
    .await;
    let (_, attempts, _, error) = p.status(id).await;
    assert_eq!(attempts, 3, "the first try and one per tier");
    assert!(error.unwrap().contains("retries exhausted"));
    wait_depth(&p, &p.topology.dead_queue(), 1).await;
    assert!(core.core.posted().is_empty());
    core.stop();
    p.teardown().await;
}

pub async fn wait_depth(p: &Pipeline, queue: &str, want: u32) {
    let start = std::time::Instant::now();
    loop {
        let depth = p.depth(queue).await;
        if depth == want {
            return;
        }
        assert!(
            start.elapsed() < WAIT,
            "{queue} has {depth} messages, want {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
