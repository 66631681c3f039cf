//! The two routers: the SkyPay listener's and the admin listener's, each with health checks, a
//! JSON 404, a panic guard and one span per request.

use axum::extract::{MatchedPath, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::health::{healthz, readiness};
use super::state::AppState;
use crate::skypay::answer::Answer;
use crate::skypay::handler::respond;
use crate::{admin, skypay};

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
    Json(super::openapi::document())
}

async fn readyz(State(state): State<AppState>) -> Response {
    readiness(&state.pool, state.broker.as_ref()).await
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
    let router = admin::router(state.admin.clone())
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
