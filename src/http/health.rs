//! `/healthz` (the process runs) and `/readyz` (it can do its work), for every process.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use sqlx::PgPool;
use workers::broker::BrokerProbe;

use crate::db;

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `/readyz` for every process: ready when Postgres answers and, if the process uses one, the
/// broker completes a handshake with our credentials (`BrokerProbe`: any node of a cluster);
/// 503 saying which not. `broker_nodes` says which node (`host:port`) each of the process's
/// broker connections is on now (`relay`, `worker`, `adopter`; absent while reconnecting).
pub async fn readiness(pool: &PgPool, broker: Option<&BrokerProbe>) -> Response {
    let probe_used = broker.is_some();
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
    let mut body = json!({ "status": if ok { "ready" } else { "not ready" }, "database": show(&database), "broker": show(&broker) });
    if probe_used {
        body["broker_nodes"] = json!(workers::broker::connected_nodes());
    }
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
