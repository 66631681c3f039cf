//! The API harness: a fresh database per test, the real app on port 0, and a client.

use std::collections::HashMap;
use std::net::SocketAddr;

use collector::config::Settings;
use collector::db;

pub use super::TestDb;
use collector::http::{Api, AppState};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// SkyPay's published example key (docs/skypay-contract.md), configured as the first credential.
pub const USER: &str = "AppName@skypay";
pub const KEY: &str = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75";
/// A second, rotated-in key for the same user.
pub const NEW_KEY: &str = "9F1B7C2E-0D4A-4E8B-A6C3-5B2D1E0F9A87";
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

pub struct TestApp {
    pub base: String,
    pub admin: String,
    pub db: TestDb,
    /// The pool the app itself uses (`db.cut()` makes the database fail for it).
    pub app_pool: PgPool,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<()>,
}

/// Starts the app with the default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app with extra settings (`OVERPAYMENT=accept`, an IP allow-list, …).
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new().await;
    let mut env: HashMap<String, String> = [
        ("DATABASE_URL", db.url.as_str()),
        ("LISTEN_ADDR", "127.0.0.1:0"),
        ("ADMIN_LISTEN_ADDR", "127.0.0.1:0"),
        ("ADMIN_TOKEN", ADMIN_TOKEN),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.insert(
        "SKYPAY_CREDENTIALS".into(),
        format!("{USER}:{KEY},{USER}:{NEW_KEY}"),
    );
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings");
    let app_pool = db::pool(db::connect_options(&db.url).unwrap(), 20);
    let state = AppState::from_settings(&settings, app_pool.clone()).unwrap();
    let api = Api::bind(&settings, state).await.expect("bind");
    let (public, admin): (SocketAddr, SocketAddr) = (api.public_addr, api.admin_addr);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn({
        let token = shutdown.clone();
        async move { api.run(token).await.expect("server") }
    });
    TestApp {
        base: format!("http://{public}"),
        admin: format!("http://{admin}"),
        db,
        app_pool,
        client: reqwest::Client::new(),
        shutdown,
        server,
    }
}

impl TestApp {
    pub async fn teardown(self) {
        self.shutdown.cancel();
        let _ = self.server.await;
        self.app_pool.close().await;
        self.db.drop_database().await;
    }

    /// POSTs `body` to `path`, asserts HTTP 200 and returns the raw text.
    pub async fn post_text(&self, path: &str, body: impl Into<reqwest::Body>) -> String {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "text/plain")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "every SkyPay outcome is HTTP 200");
        response.text().await.unwrap()
    }

    /// POSTs a plain JSON body to `path` and returns the JSON answer.
    pub async fn post(&self, path: &str, body: &Value) -> Value {
        let text = self.post_text(path, body.to_string()).await;
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("answer is not JSON: {text}"))
    }

    /// `POST /skypay`.
    pub async fn skypay(&self, body: &Value) -> Value {
        self.post("/skypay", body).await
    }

    pub fn admin_request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.admin))
            .bearer_auth(ADMIN_TOKEN)
    }

    /// Registers a bill through the admin API.
    pub async fn register_bill(&self, control_number: &str, amount_due: &str, allow_partial: bool) {
        let response = self
            .admin_request(
                reqwest::Method::PUT,
                &format!("/internal/bills/{control_number}"),
            )
            .json(&bill_body(amount_due, allow_partial))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "register bill: {}",
            response.text().await.unwrap()
        );
    }

    pub async fn count(&self, sql_from_where: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {sql_from_where}"))
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    pub async fn outstanding(&self, control_number: &str) -> String {
        let (outstanding, status): (String, String) =
            sqlx::query_as("SELECT outstanding::text, status FROM bills WHERE control_number = $1")
                .bind(control_number)
                .fetch_one(&self.db.pool)
                .await
                .unwrap();
        format!("{outstanding} {status}")
    }

    pub async fn flag_kinds(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT kind FROM flags ORDER BY id")
            .fetch_all(&self.db.pool)
            .await
            .unwrap()
    }
}

pub fn bill_body(amount_due: &str, allow_partial: bool) -> Value {
    json!({
        "loanRef": "LN-0001",
        "amountDue": amount_due,
        "allowPartial": allow_partial,
        "payer": {
            "lastName": "Dela Cruz", "firstName": "Juan", "middleName": "Santos",
            "address": "1740 Mabini St,Malate,Manila,1004 Metro Manila,Philippines",
            "phone": "+63 922 100 8333"
        }
    })
}

pub fn inquiry(control_number: &str, amount: impl Into<Value>) -> Value {
    json!({
        "userName": USER, "action": "collectionInquiry", "authentication": KEY,
        "controlNumber": control_number, "amount": amount.into(), "phone": "09221008333"
    })
}

pub fn collect(control_number: &str, amount: impl Into<Value>, receipt: &str) -> Value {
    json!({
        "userName": USER, "action": "collectionCollect", "authentication": KEY,
        "controlNumber": control_number, "amount": amount.into(), "phone": "09221008333",
        "receiptNumber": receipt, "collectedTime": "2026-11-20 10:15:00", "payChannel": 10
    })
}

pub fn code(answer: &Value) -> &str {
    answer["responseCode"]
        .as_str()
        .unwrap_or_else(|| panic!("responseCode must be a string: {answer}"))
}
