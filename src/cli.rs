//! What each subcommand does, so that `main.rs` stays a dispatcher.

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::db;
use crate::server::{Api, AppState};

/// Connections per process: enough for 2-core machines under load, few enough that several
/// processes share Postgres' default 100.
const POOL_SIZE: u32 = 20;

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let url = settings.require_database_url()?;
    db::create_database_if_missing(url).await?;
    let pool = db::pool(db::connect_options(url)?, 2);
    db::migrate(&pool).await?;
    tracing::info!("migrations applied");
    Ok(())
}

pub async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let pool = db::pool(
        db::connect_options(settings.require_database_url()?)?,
        POOL_SIZE,
    );
    let state = AppState::from_settings(settings, pool)?;
    let api = Api::bind(settings, state).await?;
    let shutdown = shutdown_on_signal();
    api.run(shutdown).await
}

pub async fn all(settings: &Settings) -> anyhow::Result<()> {
    migrate(settings)
        .await
        .context("collector all: migrations")?;
    serve(settings).await
}

/// Cancelled on SIGINT or SIGTERM: stop taking new work, finish what is in flight.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let child = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
        tracing::info!("shutdown requested");
        child.cancel();
    });
    token
}
