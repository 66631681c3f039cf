//! The admin API's routes.

use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

use super::state::{require_token, AdminState};
use super::{bills, collections, dead_letters, flags, reconciliation};

/// The admin routes, behind the token, on any state that holds an `AdminState`.
pub fn router<S>(state: AdminState) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AdminState: axum::extract::FromRef<S>,
{
    Router::new()
        .route(
            "/internal/bills/{control_number}",
            get(bills::show).put(bills::register),
        )
        .route(
            "/internal/bills/{control_number}/cancel",
            post(bills::cancel),
        )
        .route("/internal/collections", get(collections::find_collections))
        .route("/internal/flags", get(flags::list_flags))
        .route("/internal/flags/{id}/resolve", post(flags::resolve_flag))
        .route(
            "/internal/dead-letters",
            get(dead_letters::list_dead_letters),
        )
        .route(
            "/internal/dead-letters/replay",
            post(dead_letters::replay_many),
        )
        .route(
            "/internal/dead-letters/discard",
            post(dead_letters::discard_many),
        )
        .route(
            "/internal/dead-letters/{id}",
            get(dead_letters::show_dead_letter),
        )
        .route(
            "/internal/dead-letters/{id}/replay",
            post(dead_letters::replay_one),
        )
        .route(
            "/internal/dead-letters/{id}/discard",
            post(dead_letters::discard_one),
        )
        .route(
            "/internal/reconciliation/runs",
            get(reconciliation::list_runs).post(reconciliation::start_run),
        )
        .route(
            "/internal/reconciliation/items",
            get(reconciliation::list_items),
        )
        .route(
            "/internal/reconciliation/items/{id}",
            get(reconciliation::show_item),
        )
        .route(
            "/internal/reconciliation/items/{id}/resolve",
            post(reconciliation::resolve_item),
        )
        .route(
            "/internal/reconciliation/export",
            get(reconciliation::export),
        )
        .route(
            "/internal/reconciliation/notices",
            get(reconciliation::list_notices),
        )
        .route_layer(middleware::from_fn_with_state(state, require_token))
}
