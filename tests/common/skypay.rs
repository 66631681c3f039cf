//! The app with reconciliation pointed at an in-process `fake-skypay`, which also collects
//! through the app's own SkyPay API (as SkyPay would).

use std::sync::Arc;

use chrono::Utc;
use collector::domain::MANILA;
use collector::fake_skypay::{self, FakeSkyPay, PartnerCredential, SimulatorTargets, Switches};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::api::{spawn_app_with, TestApp, ADMIN_TOKEN, KEY, USER};

pub struct SkyPayApp {
    pub app: TestApp,
    pub fake: Arc<FakeSkyPay>,
    /// Where the fake listens (`SKYPAY_API_URL`).
    pub fake_url: String,
    stop: CancellationToken,
}

/// Starts fake-skypay on port 0, then the app with `extra` settings and reconciliation
/// against it; the fake's simulator targets the app.
pub async fn start(extra: &[(&str, &str)]) -> SkyPayApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake_url = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeSkyPay::new(PartnerCredential::new(USER, KEY), Switches::default());
    let stop = CancellationToken::new();
    tokio::spawn(fake_skypay::serve(listener, fake.clone(), stop.clone()));
    let credential = format!("{USER}:{KEY}");
    let mut settings = vec![
        ("SKYPAY_API_URL", fake_url.as_str()),
        ("SKYPAY_CALLER_NAME", "collector"),
        ("SKYPAY_PARTNER_CREDENTIAL", credential.as_str()),
    ];
    settings.extend_from_slice(extra);
    let app = spawn_app_with(&settings).await;
    fake.set_targets(SimulatorTargets {
        api_url: Some(app.base.clone()),
        admin_url: Some(app.admin.clone()),
        admin_token: Some(ADMIN_TOKEN.to_owned()),
    });
    SkyPayApp {
        app,
        fake,
        fake_url,
        stop,
    }
}

impl SkyPayApp {
    /// `POST /internal/reconciliation/runs` for today (Manila); the status and the answer.
    pub async fn reconcile_today(&self) -> (u16, Value) {
        let today = Utc::now().with_timezone(&MANILA).date_naive();
        let response = self
            .app
            .admin_request(Method::POST, "/internal/reconciliation/runs")
            .json(&json!({ "date": today }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn teardown(self) {
        self.stop.cancel();
        self.app.teardown().await;
    }
}
