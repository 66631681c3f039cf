//! Postgres access: plain functions over a pool, a connection or a transaction. SQL lives
//! here and nowhere else.

pub mod audit;
pub mod bills;
pub mod collections;
pub mod dead_letters;
pub mod finance;
pub mod flags;
pub mod recon;
pub mod refusals;
pub mod stats;

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

/// A pool of `size` connections of its own, beside `pool` and like it, whose connections
/// plan prepared statements as `plan_cache_mode` says (`force_generic_plan`: once;
/// `force_custom_plan`: each execution, for its arguments). For one batched statement or a
/// few, whose plans should not follow the default (`BillReader`, `payments::grouped`).
pub fn pool_planned(pool: &PgPool, plan_cache_mode: &str, size: u32) -> PgPool {
    let options = (*pool.connect_options())
        .clone()
        .options([("plan_cache_mode", plan_cache_mode)]);
    self::pool(options, size)
}

/// A newcomer's `DATABASE_URL` may name a database that does not exist yet.
pub async fn create_database_if_missing(url: &str) -> anyhow::Result<()> {
    use sqlx::migrate::MigrateDatabase;
    if !sqlx::Postgres::database_exists(url)
        .await
        .map_err(connect_error)?
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
        .map_err(connect_error)?;
    Ok(())
}

/// Opens one connection and closes it: for commands that should fail at once, saying why,
/// rather than on their first query (a pool retries an unreachable server until its time-out
/// and then no longer says what the matter was).
pub async fn check(options: &PgConnectOptions) -> anyhow::Result<()> {
    use sqlx::Connection;
    let connection = sqlx::PgConnection::connect_with(options)
        .await
        .map_err(connect_error)?;
    let _ = connection.close().await;
    Ok(())
}

/// Why Postgres could not be used, in words that point at the fix: a refused role or
/// password is not an unreachable server, and a missing database is neither.
pub fn connect_error(error: sqlx::Error) -> anyhow::Error {
    let what = match &error {
        sqlx::Error::Database(e) => match e.code().as_deref() {
            // invalid_authorization_specification (an unknown role, pg_hba), invalid_password
            Some("28000" | "28P01") => {
                "Postgres refused DATABASE_URL's role or password (authentication failed)"
            }
            Some("3D000") => {
                "the database named in DATABASE_URL does not exist (`collector migrate` creates it)"
            }
            Some("53300") => {
                "Postgres has no connection to spare (too many clients: lower \
                 DATABASE_POOL_SIZE or raise max_connections)"
            }
            _ => "Postgres refused the request",
        },
        sqlx::Error::PoolTimedOut => {
            "no Postgres connection within the time-out: is Postgres up at DATABASE_URL?"
        }
        _ => "Failed to reach Postgres at DATABASE_URL",
    };
    anyhow::Error::new(error).context(what)
}
