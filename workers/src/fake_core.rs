//! `fake-core`: a stand-in for the lender's core loan system, for development,
//! docker-compose and tests.
//!
//! - `POST /payments` records a payment, idempotent by `Idempotency-Key`: the first call
//!   answers 201 with a reference, a repeated key answers 409 (as docs/core-loan-contract.md says).
//! - Failure injection, set at start or at run time through `PUT /control`: an error rate,
//!   the mix of injected errors (5xx, 4xx, 409, timeout), a latency, a hard outage (503).
//! - Read-back: `GET /payments` lists what it received (with how many calls each key got),
//!   `GET /payments/{key}` one payment, `GET /stats` counts (for long runs), `GET /control`
//!   the switches, `DELETE /payments` forgets everything.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The failure-injection switches.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Switches {
    /// Share of calls (0–1) answered with an injected error.
    pub error_rate: f64,
    /// Relative weights of the injected errors; all zero means 5xx only.
    pub mix: ErrorMix,
    /// Added to every call, in milliseconds.
    pub latency_ms: u64,
    /// Every call answers 503.
    pub outage: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ErrorMix {
    pub server_error: u32,
    pub client_error: u32,
    pub conflict: u32,
    /// Sleeps 60 s before answering: the caller's time-out fires. Nothing is posted.
    pub timeout: u32,
    /// Posts the payment, then sleeps 60 s before answering: the caller's time-out fires
    /// although the payment went through (a slow core loan system).
    pub late: u32,
}

/// One payment as received.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    pub idempotency_key: String,
    pub reference: String,
    pub body: Value,
    /// Calls with this key, including the first and any answered with an injected error.
    pub calls: u64,
    pub posted: bool,
}

#[derive(Default)]
pub struct FakeCore {
    switches: Mutex<Switches>,
    payments: Mutex<HashMap<String, Received>>,
    counter: AtomicU64,
    started: AtomicU64,
}

impl FakeCore {
    pub fn new(switches: Switches) -> Arc<Self> {
        Arc::new(Self {
            switches: Mutex::new(switches),
            ..Default::default()
        })
    }

    pub fn set(&self, switches: Switches) {
        *self.switches.lock().unwrap_or_else(|e| e.into_inner()) = switches;
    }

    pub fn switches(&self) -> Switches {
        self.switches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Payments accepted (each key once).
    pub fn posted(&self) -> Vec<Received> {
        let payments = self.payments.lock().unwrap_or_else(|e| e.into_inner());
        payments.values().filter(|p| p.posted).cloned().collect()
    }

    /// Every payment key seen, posted or not.
    pub fn received(&self) -> Vec<Received> {
        let payments = self.payments.lock().unwrap_or_else(|e| e.into_inner());
        payments.values().cloned().collect()
    }

    /// Calls that have arrived, including those still waiting out the injected latency.
    pub fn calls_started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Deterministic pseudo-random draw in [0, 1): a counter through a mixing function, so
    /// an error rate of 0.3 is close to 30% of any few hundred calls.
    fn draw(&self) -> f64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut x = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    fn injected(&self, switches: &Switches) -> Option<Injected> {
        if switches.outage {
            return Some(Injected::ServerError);
        }
        if self.draw() >= switches.error_rate {
            return None;
        }
        let m = &switches.mix;
        let total = m.server_error + m.client_error + m.conflict + m.timeout + m.late;
        if total == 0 {
            return Some(Injected::ServerError);
        }
        let mut pick = (self.draw() * f64::from(total)) as u32;
        for (weight, kind) in [
            (m.server_error, Injected::ServerError),
            (m.client_error, Injected::ClientError),
            (m.conflict, Injected::Conflict),
            (m.timeout, Injected::Timeout),
            (m.late, Injected::Late),
        ] {
            if pick < weight {
                return Some(kind);
            }
            pick -= weight;
        }
        Some(Injected::ServerError)
    }
}

#[derive(Clone, Copy)]
enum Injected {
    ServerError,
    ClientError,
    Conflict,
    Timeout,
    Late,
}

pub fn router(core: Arc<FakeCore>) -> Router {
    Router::new()
        .route("/payments", get(list).post(post_payment).delete(forget))
        .route("/payments/{key}", get(show))
        .route("/stats", get(stats))
        .route("/control", get(show_control).put(set_control))
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .with_state(core)
}

async fn post_payment(
    State(core): State<Arc<FakeCore>>,
    headers: HeaderMap,
    body: Json<Value>,
) -> Response {
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "Idempotency-Key is required" })),
        )
            .into_response();
    };
    core.started.fetch_add(1, Ordering::Relaxed);
    let switches = core.switches();
    if switches.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(switches.latency_ms)).await;
    }
    let injected = core.injected(&switches);
    let response = core.record(&key, &body.0, injected);
    if matches!(injected, Some(Injected::Timeout | Injected::Late)) {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    response
}

impl FakeCore {
    /// Counts the call and decides the answer; no lock is held across an await.
    fn record(&self, key: &str, body: &Value, injected: Option<Injected>) -> Response {
        let mut payments = self.payments.lock().unwrap_or_else(|e| e.into_inner());
        let n = payments.len() + 1;
        let entry = payments.entry(key.to_owned()).or_insert_with(|| Received {
            idempotency_key: key.to_owned(),
            reference: format!("CORE-{n:08}"),
            body: body.clone(),
            calls: 0,
            posted: false,
        });
        entry.calls += 1;
        let error = |status: StatusCode, message: &str| {
            (status, Json(json!({ "error": message }))).into_response()
        };
        match injected {
            Some(Injected::ServerError) => error(StatusCode::SERVICE_UNAVAILABLE, "injected outage"),
            Some(Injected::ClientError) => error(StatusCode::UNPROCESSABLE_ENTITY, "injected rejection"),
            Some(Injected::Conflict) => error(StatusCode::CONFLICT, "injected conflict"),
            Some(Injected::Timeout) => error(StatusCode::GATEWAY_TIMEOUT, "injected timeout"),
            None | Some(Injected::Late) if entry.posted => {
                (StatusCode::CONFLICT, Json(json!({ "error": "already posted under this key", "reference": entry.reference }))).into_response()
            }
            None | Some(Injected::Late) => {
                entry.posted = true;
                (StatusCode::CREATED, Json(json!({ "reference": entry.reference }))).into_response()
            }
        }
    }
}

async fn list(State(core): State<Arc<FakeCore>>) -> Json<Vec<Received>> {
    let payments = core.payments.lock().unwrap_or_else(|e| e.into_inner());
    let mut all: Vec<Received> = payments.values().cloned().collect();
    all.sort_by(|a, b| a.reference.cmp(&b.reference));
    Json(all)
}

/// Counts for a long run, where listing every payment would be too big: `payments` (distinct
/// idempotency keys), `receipts` (distinct receipt numbers among them: fewer means a payment
/// was posted twice under two keys) and `calls` (every call, injected errors included).
async fn stats(State(core): State<Arc<FakeCore>>) -> Json<Value> {
    let payments = core.payments.lock().unwrap_or_else(|e| e.into_inner());
    let receipts: std::collections::HashSet<&str> = payments
        .values()
        .filter_map(|p| p.body["receiptNumber"].as_str())
        .collect();
    Json(json!({
        "payments": payments.len(),
        "receipts": receipts.len(),
        "calls": core.started.load(Ordering::SeqCst),
    }))
}

async fn show(State(core): State<Arc<FakeCore>>, Path(key): Path<String>) -> Response {
    let payments = core.payments.lock().unwrap_or_else(|e| e.into_inner());
    match payments.get(&key) {
        Some(p) => Json(p.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such payment" })),
        )
            .into_response(),
    }
}

async fn forget(State(core): State<Arc<FakeCore>>) -> StatusCode {
    core.payments
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    StatusCode::NO_CONTENT
}

async fn show_control(State(core): State<Arc<FakeCore>>) -> Json<Switches> {
    Json(core.switches())
}

async fn set_control(
    State(core): State<Arc<FakeCore>>,
    Json(switches): Json<Switches>,
) -> Response {
    if !(0.0..=1.0).contains(&switches.error_rate) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "errorRate must be between 0 and 1" })),
        )
            .into_response();
    }
    core.set(switches.clone());
    tracing::info!(?switches, "fake-core switches changed");
    Json(switches).into_response()
}

/// Serves the fake core on `listener` until `shutdown` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    core: Arc<FakeCore>,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(core))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_rate_is_close_to_what_was_asked() {
        let core = FakeCore::new(Switches {
            error_rate: 0.3,
            ..Default::default()
        });
        let switches = core.switches();
        let errors = (0..1000)
            .filter(|_| core.injected(&switches).is_some())
            .count();
        assert!((250..350).contains(&errors), "{errors}");
    }
}
