//! What the admin handlers share: the database, the token, the dead-letter queue; the token
//! check every admin call passes first; who is acting, for the audit log.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::AdminError;
use crate::config::Secret;
use crate::ops::dead_letters::{self as dead_letters, Action, DeadLetterQueue, Filter, Outcome};

/// What the admin handlers use.
#[derive(Clone)]
pub struct AdminState {
    pub pool: sqlx::PgPool,
    pub token: Secret,
    /// The broker's dead-letter queue, when this process knows a broker (`AMQP_URL`).
    pub dead_letters: Option<DeadLetterQueue>,
    /// Reconciliation with SkyPay's report.
    pub reconciliation: crate::reconcile::Service,
}

impl AdminState {
    /// Replay or discard, then the dead-letter queue's reconciliation (`ops::dead_letters::act`).
    pub async fn dead_letters(
        &self,
        filter: &Filter,
        actor: &str,
        action: Action<'_>,
    ) -> Result<Outcome, AdminError> {
        Ok(dead_letters::act(
            &self.pool,
            self.dead_letters.as_ref(),
            filter,
            actor,
            action,
        )
        .await?)
    }
}

/// A missing or wrong token is a 401 before any handler runs: it touches nothing.
pub async fn require_token(
    State(state): State<AdminState>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if token_matches(state.token.expose(), presented) {
        next.run(request).await
    } else {
        tracing::warn!("admin request with a missing or wrong token");
        AdminError::Unauthorized.into_response()
    }
}

/// Compares fixed-length digests so that neither content nor length shows in the timing.
fn token_matches(expected: &str, presented: &str) -> bool {
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(presented.as_bytes());
    !presented.is_empty() && bool::from(a.ct_eq(&b))
}

/// Who did it, for the audit log: the `X-Actor` header if the caller names a person, else
/// the API itself.
pub fn actor(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("x-actor")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().chars().take(100).collect::<String>())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "admin-api".to_owned())
}
