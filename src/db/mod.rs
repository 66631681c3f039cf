//! Postgres access: plain functions over a pool, a connection or a transaction. SQL lives
//! here and nowhere else.

pub mod audit;
pub mod bills;
pub mod collections;
pub mod flags;
pub mod refusals;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// The migrations under `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connection options for every process: a statement that hangs (a lock held elsewhere, a
/// stalled server) fails within seconds so that SkyPay gets `-1009` instead of a time-out.
pub fn connect_options(url: &str) -> anyhow::Result<PgConnectOptions> {
    let options = PgConnectOptions::from_str(url)
        .context("DATABASE_URL is not a valid Postgres URL")?
        .application_name("collector")
        .options([("statement_timeout", "10s"), ("lock_timeout", "5s")]);
    Ok(options)
}

/// A pool that does not wait long for a connection: when the database is unreachable the
/// API answers `-1009` quickly, and recovers by itself when it is back.
pub fn pool(options: PgConnectOptions, max_connections: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(3))
        // sqlx pings every connection it hands out by default: a whole extra round trip per
        // query. Ping only connections that sat idle (after an outage they are the dead
        // ones); a busy connection that breaks fails its query, which is a `-1009`.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > Duration::from_secs(1) {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_lazy_with(options)
}

/// A newcomer's `DATABASE_URL` may name a database that does not exist yet.
pub async fn create_database_if_missing(url: &str) -> anyhow::Result<()> {
    use sqlx::migrate::MigrateDatabase;
    if !sqlx::Postgres::database_exists(url)
        .await
        .context("Failed to reach Postgres at DATABASE_URL")?
    {
        sqlx::Postgres::create_database(url)
            .await
            .context("Failed to create the database of DATABASE_URL")?;
        tracing::info!("created the database named in DATABASE_URL");
    }
    Ok(())
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("Failed to apply migrations")
}

/// `SELECT 1`, for `/readyz`.
pub async fn ping(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query("SELECT 1")
        .execute(pool)
        .await
        .context("Failed to reach Postgres")?;
    Ok(())
}
