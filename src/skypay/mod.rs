//! The SkyPay wire contract (docs/contract.md): envelope, request, answer, and the two calls.

pub mod answer;
pub mod auth;
pub mod collect;
pub mod envelope;
pub mod handler;
pub mod inquiry;
pub mod request;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::routing::post;
use axum::Router;
use ipnet::IpNet;
use sqlx::PgPool;

use crate::db::bills::BillReader;
use crate::domain::OverpaymentPolicy;
use auth::Credential;

/// What the SkyPay edge needs from the settings.
#[derive(Debug, Clone)]
pub struct SkyPayConfig {
    pub credentials: Arc<[Credential]>,
    pub allowed_ips: Option<Vec<IpNet>>,
    pub trusted_proxies: Vec<IpNet>,
    pub require_encryption: bool,
    pub overpayment: OverpaymentPolicy,
}

/// What the SkyPay handlers use: the database, the inquiries' bill reader, the settings.
#[derive(Clone)]
pub struct SkyPayState {
    pub pool: PgPool,
    /// Inquiries' bill reads, batched, on connections of their own (`BillReader::spawn`).
    pub bills: BillReader,
    pub config: Arc<SkyPayConfig>,
}

/// `POST /skypay` and the two per-action paths, on any state that holds a `SkyPayState`.
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
}
