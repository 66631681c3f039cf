//! The SkyPay API's routes.

use axum::extract::FromRef;
use axum::routing::post;
use axum::Router;

use super::handler;
use super::state::SkyPayState;

/// `POST /skypay` and the per-action paths, on any state that holds a `SkyPayState`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    SkyPayState: FromRef<S>,
{
    Router::new()
        .route(
            "/skypay",
            post(handler::dispatch).fallback(handler::wrong_method),
        )
        .route(
            "/skypay/collection-inquiry",
            post(handler::inquiry_path).fallback(handler::wrong_method),
        )
        .route(
            "/skypay/collection-collect",
            post(handler::collect_path).fallback(handler::wrong_method),
        )
        .route(
            "/skypay/finance-notification",
            post(handler::finance_notification_path).fallback(handler::wrong_method),
        )
}
