//! The whole stack in one test process: API, relay and a worker on one database and prefix,
//! the core loan system faked.

use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;
use workers::fake_core::Switches;

use crate::common::api::{code, collect, spawn_app_with, TestApp};
use crate::common::pipeline::{amqp_url, Core, Pipeline};

pub const WAIT: Duration = Duration::from_secs(20);

pub struct Stack {
    pub app: TestApp,
    pub pipeline: Pipeline,
    pub core: Core,
    pub prefix: String,
}

impl Stack {
    /// Starts everything; the fake core starts with `switches`.
    pub async fn start(switches: Switches) -> Self {
        let prefix = format!("test-{}", Uuid::new_v4().simple());
        let amqp = amqp_url();
        let app = spawn_app_with(&[
            ("AMQP_URL", amqp.as_str()),
            ("AMQP_PREFIX", prefix.as_str()),
            ("RETRY_SCHEDULE", "100ms"),
        ])
        .await;
        let mut pipeline = Pipeline::on_database(&app.db.name, &app.db.url, &prefix, "100ms").await;
        let core = Core::start(switches).await;
        pipeline.spawn_relay();
        pipeline.spawn_worker(&core.url, Duration::from_secs(2));
        Self {
            app,
            pipeline,
            core,
            prefix,
        }
    }

    /// Collects through SkyPay's API; asserts `1000`; returns the collection id.
    pub async fn collect(
        &self,
        control_number: &str,
        amount: &str,
        receipt: &str,
        time: &str,
    ) -> Uuid {
        let mut body = collect(control_number, amount, receipt);
        body["collectedTime"] = time.into();
        let answer = self.app.skypay(&body).await;
        assert_eq!(code(&answer), "1000", "{answer}");
        sqlx::query_scalar("SELECT id FROM collections WHERE receipt_number = $1")
            .bind(receipt)
            .fetch_one(&self.app.db.pool)
            .await
            .unwrap()
    }

    pub async fn status(&self, id: Uuid) -> String {
        sqlx::query_scalar("SELECT status FROM collections WHERE id = $1")
            .bind(id)
            .fetch_one(&self.app.db.pool)
            .await
            .unwrap()
    }

    pub async fn wait_status(&self, id: Uuid, want: &str) {
        let start = std::time::Instant::now();
        loop {
            let status = self.status(id).await;
            if status == want {
                return;
            }
            assert!(
                start.elapsed() < WAIT,
                "collection {id} is {status}, waited for {want}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn admin_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .app
            .admin_request(method, path)
            .header("x-actor", "ops.oncall");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn stop(self) {
        self.core.stop();
        self.pipeline.teardown().await;
        self.app.teardown().await;
    }
}
