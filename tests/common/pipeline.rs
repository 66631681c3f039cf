//! Pipeline harness: a fresh database, a unique AMQP prefix, the relay and workers as tasks,
//! and a fake core loan system (ours, or wiremock) on port 0.

use std::sync::Arc;
use std::time::{Duration, Instant};

use collector::config::parse_schedule;
use collector::domain::OverpaymentPolicy;
use collector::payments::collect::{record, CollectOutcome};
use collector::skypay::answer::Answer;
use collector::skypay::request::{CollectRequest, RawRequest};
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use workers::broker;
use workers::consumer::Worker;
use workers::core_client::CoreClient;
use workers::fake_core::{self, FakeCore, Switches};
use workers::relay::{self, RelayConfig};
use workers::topology::Topology;

pub use super::{amqp_url, TestDb};

pub struct Pipeline {
    pub db: TestDb,
    /// False when the database belongs to someone else (a `TestApp`): not dropped here.
    owns_db: bool,
    pub topology: Topology,
    /// What the relays and workers are given as `AMQP_URL` (the test broker by default).
    pub amqp_url: String,
    pub cancel: CancellationToken,
    tasks: Vec<(CancellationToken, JoinHandle<()>)>,
}

/// A fake core loan system on port 0.
pub struct Core {
    pub url: String,
    pub core: Arc<FakeCore>,
    cancel: CancellationToken,
}

impl Core {
    pub async fn start(switches: Switches) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener, switches)
    }

    pub fn start_on(listener: tokio::net::TcpListener, switches: Switches) -> Self {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let core = FakeCore::new(switches);
        let cancel = CancellationToken::new();
        tokio::spawn(fake_core::serve(listener, core.clone(), cancel.clone()));
        Self { url, core, cancel }
    }

    pub fn stop(&self) {
        self.cancel.cancel();
    }
}

impl Pipeline {
    /// `schedule` is the retry schedule, short in tests (`100ms,200ms`).
    pub async fn new(schedule: &str) -> Self {
        let db = TestDb::new().await;
        let prefix = format!("test-{}", Uuid::new_v4().simple());
        let topology = Topology::new(&prefix, parse_schedule(schedule).unwrap());
        Self {
            db,
            owns_db: true,
            topology,
            amqp_url: amqp_url(),
            cancel: CancellationToken::new(),
            tasks: Vec::new(),
        }
    }

    /// A pipeline on an existing database (an app's) with the given prefix and schedule.
    pub async fn on_database(name: &str, url: &str, prefix: &str, schedule: &str) -> Self {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .connect(url)
            .await
            .unwrap();
        let db = TestDb {
            name: name.to_owned(),
            url: url.to_owned(),
            pool,
        };
        let topology = Topology::new(prefix, parse_schedule(schedule).unwrap());
        Self {
            db,
            owns_db: false,
            topology,
            amqp_url: amqp_url(),
            cancel: CancellationToken::new(),
            tasks: Vec::new(),
        }
    }

    pub fn relay_config() -> RelayConfig {
        RelayConfig {
            batch_size: 200,
            poll_interval: Duration::from_millis(200),
            ..RelayConfig::default()
        }
    }

    /// Starts a relay; the returned token stops just this one.
    pub fn spawn_relay(&mut self) -> CancellationToken {
        self.spawn_relay_with(Self::relay_config())
    }

    pub fn spawn_relay_with(&mut self, config: RelayConfig) -> CancellationToken {
        let token = self.cancel.child_token();
        let handle = tokio::spawn(relay::run(
            self.db.pool.clone(),
            self.amqp_url.clone(),
            self.topology.clone(),
            config,
            token.clone(),
        ));
        self.tasks.push((token.clone(), handle));
        token
    }

    /// Starts a worker against `core_url`; returns its token and handle (abort it to crash it).
    pub fn spawn_worker(
        &mut self,
        core_url: &str,
        timeout: Duration,
    ) -> (CancellationToken, usize) {
        self.spawn_worker_with(core_url, timeout, 16)
    }

    pub fn spawn_worker_with(
        &mut self,
        core_url: &str,
        timeout: Duration,
        prefetch: u16,
    ) -> (CancellationToken, usize) {
        let token = self.cancel.child_token();
        let core = CoreClient::new(core_url, None, timeout).unwrap();
        let worker = Arc::new(Worker::new(
            self.db.pool.clone(),
            core,
            self.topology.clone(),
        ));
        let handle = tokio::spawn(worker.run(self.amqp_url.clone(), prefetch, token.clone()));
        self.tasks.push((token.clone(), handle));
        (token, self.tasks.len() - 1)
    }

    /// Kills task `index` without a graceful stop: its connection drops, unacked messages
    /// return to the queue.
    pub fn abort(&mut self, index: usize) {
        self.tasks[index].1.abort();
    }

    /// Records a collect as the API would (same transaction), on a bill created if missing.
    pub async fn collect(&self, control_number: &str, amount: &str, receipt: &str) -> Uuid {
        sqlx::query(
            "INSERT INTO bills (control_number, loan_ref, amount_due, outstanding, allow_partial, \
                 payer_last_name, payer_first_name, payer_address, payer_phone) \
             VALUES ($1, 'LN-T', 99999999.99, 99999999.99, true, 'Dela Cruz', 'Juan', 'Manila', '09221008333') \
             ON CONFLICT DO NOTHING",
        )
        .bind(control_number)
        .execute(&self.db.pool)
        .await
        .unwrap();
        let body = json!({
            "controlNumber": control_number, "amount": amount, "phone": "09221008333",
            "receiptNumber": receipt, "collectedTime": "2026-11-20 10:15:00", "payChannel": 10
        });
        let raw = RawRequest::parse(body.to_string().as_bytes()).unwrap();
        let request = CollectRequest::try_from(&raw).unwrap();
        let policy = OverpaymentPolicy::Refuse;
        match record(
            &self.db.pool,
            &request,
            policy,
            body,
            Answer::describe_refusal,
        )
        .await
        .unwrap()
        {
            CollectOutcome::Recorded(id) => {
                // As the API's `outbox::Signal` does after a collect commits.
                workers::outbox::notify(&self.db.pool).await.unwrap();
                id
            }
            other => panic!("collect not recorded: {other:?}"),
        }
    }

    pub async fn status(&self, id: Uuid) -> (String, i32, Option<String>, Option<String>) {
        sqlx::query_as(
            "SELECT status, attempts, core_reference, last_error FROM collections WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.db.pool)
        .await
        .unwrap()
    }

    /// Publishes the backlog with a relay, then undoes the relay's mark, as if its transaction
    /// had never committed (a relay killed between publish and mark): the rows are
    /// unpublished again, and the next relay publishes them a second time. What a worker
    /// recorded meanwhile stays.
    pub async fn publish_and_lose_the_mark(&mut self, rows: i64, limit: Duration) {
        let relay = self.spawn_relay();
        self.wait_count(
            "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL",
            rows,
            limit,
        )
        .await;
        relay.cancel();
        for undo in [
            "UPDATE outbox SET published_at = NULL",
            "UPDATE collections SET published_at = NULL, \
                 status = CASE WHEN status = 'published' THEN 'recorded' ELSE status END",
        ] {
            sqlx::query(undo).execute(&self.db.pool).await.unwrap();
        }
    }

    /// Waits until `sql` (a count) reaches `want`, or panics after `limit`.
    pub async fn wait_count(&self, sql: &str, want: i64, limit: Duration) {
        let start = Instant::now();
        loop {
            let n: i64 = sqlx::query_scalar(sql)
                .fetch_one(&self.db.pool)
                .await
                .unwrap();
            if n == want {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "waited {limit:?} for `{sql}` = {want}, still {n}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `n` collections are posted, then checks the core's record: every one
    /// arrived (nothing lost) under its own key (nothing posted twice).
    pub async fn assert_all_posted_once(&self, core: &Core, n: usize, limit: Duration) {
        self.wait_count(
            "SELECT count(*) FROM collections WHERE status = 'posted'",
            n as i64,
            limit,
        )
        .await;
        let posted = core.core.posted();
        assert_eq!(posted.len(), n, "nothing lost");
        let keys: std::collections::HashSet<&str> =
            posted.iter().map(|p| p.idempotency_key.as_str()).collect();
        assert_eq!(keys.len(), n, "nothing posted twice");
    }

    /// Messages ready in `queue`.
    pub async fn depth(&self, queue: &str) -> u32 {
        let connection = broker::connect(&amqp_url()).await.unwrap();
        let channel = connection.create_channel().await.unwrap();
        let options = QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        let q = channel
            .queue_declare(queue, options, FieldTable::default())
            .await
            .unwrap();
        let _ = connection.close(200, "").await;
        q.message_count()
    }

    /// Stops every task, deletes the queues and the exchange, drops the database.
    pub async fn teardown(self) {
        self.cancel.cancel();
        for (_, handle) in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
        super::delete_topology(&self.topology).await;
        if self.owns_db {
            self.db.drop_database().await;
        } else {
            self.db.pool.close().await;
        }
    }
}
