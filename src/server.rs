//! The two HTTP listeners: the SkyPay API (`LISTEN_ADDR`) and the admin API
//! (`ADMIN_LISTEN_ADDR`), each with `/healthz` and `/readyz`.
//!
//! Both listeners are bound before anything is spawned, so tests can ask for port 0 and learn
//! the real address before the first request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{MatchedPath, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use workers::broker::BrokerProbe;

use crate::config::{Secret, Settings};
use crate::db::bills::BillReader;
use crate::skypay::answer::Answer;
use crate::skypay::handler::respond;
use crate::skypay::SkyPayConfig;
use crate::{admin, db, skypay};

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// Inquiries' bill reads, batched, on connections of their own (`BillReader::spawn`).
    pub bills: BillReader,
    pub skypay: Arc<SkyPayConfig>,
    pub admin_token: Secret,
    /// The broker `/metrics` reads queue depths from, when this process uses one.
    pub amqp_url: Option<String>,
    /// `/readyz`'s broker check: one per process, so its cached answer is shared.
    pub broker: Option<BrokerProbe>,
    /// Queue names, for metrics and the dead-letter queue's reconciliation.
    pub topology: workers::topology::Topology,
}

impl AppState {
    pub fn from_settings(settings: &Settings, pool: PgPool) -> anyhow::Result<Self> {
        settings.require_api()?;
        Ok(Self {
            bills: BillReader::spawn(&pool),
            pool,
            skypay: Arc::new(SkyPayConfig {
                credentials: settings.credentials.clone().into(),
                allowed_ips: settings.allowed_ips.clone(),
                trusted_proxies: settings.trusted_proxies.clone(),
                require_encryption: settings.require_encryption,
                overpayment: settings.overpayment,
            }),
            admin_token: settings
                .admin_token
                .clone()
                .context("ADMIN_TOKEN is not set")?,
            amqp_url: settings.amqp_url.clone(),
            broker: settings.amqp_url.clone().map(BrokerProbe::new),
            topology: workers::topology::Topology::new(
                &settings.amqp_prefix,
                settings.retry_schedule.clone(),
            ),
        })
    }
}

/// Both listeners, bound and ready to serve.
pub struct Api {
    pub public_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    public: TcpListener,
    admin: TcpListener,
    state: AppState,
}

impl Api {
    pub async fn bind(settings: &Settings, state: AppState) -> anyhow::Result<Self> {
        crate::metrics::handle();
        let public = TcpListener::bind(settings.listen_addr)
            .await
            .with_context(|| format!("Failed to bind LISTEN_ADDR {}", settings.listen_addr))?;
        let admin = TcpListener::bind(settings.admin_listen_addr)
            .await
            .with_context(|| {
                format!(
                    "Failed to bind ADMIN_LISTEN_ADDR {}",
                    settings.admin_listen_addr
                )
            })?;
        Ok(Self {
            public_addr: public.local_addr()?,
            admin_addr: admin.local_addr()?,
            public,
            admin,
            state,
        })
    }

    /// Serves until `shutdown` is cancelled, then finishes the requests in flight.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(public = %self.public_addr, admin = %self.admin_addr, "listening");
        let public = serve(
            self.public,
            public_router(self.state.clone()),
            shutdown.clone(),
        );
        let admin = serve(self.admin, admin_router(self.state), shutdown);
        tokio::join!(public, admin);
        Ok(())
    }
}

/// A client must send a request's headers within this time (slow-header attacks); the
/// SkyPay body has its own limit (`skypay::handler::BODY_TIMEOUT`).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once per listener; more wait in the kernel's accept queue.
pub const MAX_CONNECTIONS: usize = 4096;
/// How long a graceful stop waits for the requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Serves `router` on `listener` until `shutdown`, then finishes the requests in flight.
///
/// `axum::serve` gives no header time-out: a client sending its headers a byte at a time held
/// its connection forever (the fault suite's slow-header case), so connections are served
/// here with hyper directly, with a header time-out and a cap on open connections.
async fn serve(listener: TcpListener, router: Router, shutdown: CancellationToken) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("never closed"),
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let service =
            router
                .clone()
                .map_request(move |mut request: Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    request
                });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are the client's (reset, time-out, bad HTTP): nothing to do.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {DRAIN_TIMEOUT:?}; stopping anyway");
    }
}

fn health_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// `/metrics` (Prometheus text) and `/openapi.json`: no token, on the private admin listener.
fn admin_public_routes() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

async fn metrics(State(state): State<AppState>) -> Response {
    let amqp = state.amqp_url.as_deref().map(|url| (url, &state.topology));
    let body = crate::metrics::render(&state.pool, amqp).await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        body,
    )
        .into_response()
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

/// The SkyPay listener. A panic anywhere still answers SkyPay with `-1009`.
pub fn public_router(state: AppState) -> Router {
    let router = skypay::router()
        .merge(health_routes())
        .fallback(not_found)
        .layer(CatchPanicLayer::custom(|_| {
            respond(&Answer::unexpected(), None)
        }));
    observed(router).with_state(state)
}

/// The admin listener.
pub fn admin_router(state: AppState) -> Router {
    let router = admin::router(state.clone())
        .merge(health_routes())
        .merge(admin_public_routes())
        .fallback(not_found)
        .layer(CatchPanicLayer::custom(|_| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "internal error" })),
            )
                .into_response()
        }));
    observed(router).with_state(state)
}

/// A request id (`x-request-id`, kept if the caller sent one) and one span per request
/// naming the matched route, never the raw URI or body.
fn observed(router: Router<AppState>) -> Router<AppState> {
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|req: &Request<axum::body::Body>| {
                        let request_id = req
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        let route = req
                            .extensions()
                            .get::<MatchedPath>()
                            .map(MatchedPath::as_str)
                            .unwrap_or("unmatched");
                        tracing::info_span!("request", method = %req.method(), route, request_id)
                    })
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::x_request_id()),
    )
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": "not found" }))).into_response()
}

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    readiness(&state.pool, state.broker.as_ref()).await
}

/// `/readyz` for every process: ready when Postgres answers and, if the process uses one, the
/// broker completes a handshake with our credentials (`BrokerProbe`); 503 saying which not.
pub async fn readiness(pool: &PgPool, broker: Option<&BrokerProbe>) -> Response {
    let (database, broker) = tokio::join!(
        async { db::ping(pool).await.map_err(|e| format!("{e:#}")) },
        async {
            match broker {
                Some(probe) => probe.check().await,
                None => Ok(()),
            }
        },
    );
    let ok = database.is_ok() && broker.is_ok();
    let show = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.clone(),
    };
    let body = json!({ "status": if ok { "ready" } else { "not ready" }, "database": show(&database), "broker": show(&broker) });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
