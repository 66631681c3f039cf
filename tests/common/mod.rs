//! Shared by the integration test binaries: a fresh, migrated database per test, the broker's
//! address and clean-up; `api` starts the real app, `pipeline` the relay and workers.
//!
//! Each suite includes it with `#[path = "../common/mod.rs"] mod common;`.

#![allow(dead_code)] // each test binary uses its own part of the harness

pub mod api;
pub mod pipeline;
pub mod skypay;

use collector::db;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};

/// The server the tests talk to: `DATABASE_URL` if set, else the local default.
fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_database(url: &str, db: &str) -> String {
    let base = match url.rfind('/') {
        Some(i) if url[..i].contains('@') || url[..i].matches('/').count() > 2 => &url[..i],
        _ => url,
    };
    format!("{base}/{db}")
}

/// The Postgres server's `host:port` and `user[:password]`, read from `DATABASE_URL`, for a
/// test that puts a proxy in front of it.
pub fn postgres_endpoint() -> (String, String) {
    let url = server_url();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let rest = rest.split(['/', '?']).next().unwrap_or(rest);
    match rest.rsplit_once('@') {
        Some((userinfo, hostport)) => (with_port(hostport), userinfo.to_owned()),
        None => (with_port(rest), "postgres".to_owned()),
    }
}

fn with_port(hostport: &str) -> String {
    let hostport = hostport.replace("localhost", "127.0.0.1");
    if hostport.contains(':') {
        hostport
    } else {
        format!("{hostport}:5432")
    }
}

/// A database of its own, migrated, dropped by `TestApp::teardown`.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("collector_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&server_url())
            .await
            .expect("Postgres must be reachable at DATABASE_URL (default postgres://postgres@127.0.0.1:5432)");
        admin
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .expect("create test database");
        let url = with_database(&server_url(), &name);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(&url)
            .await
            .expect("connect test database");
        db::migrate(&pool).await.expect("migrate test database");
        Self { name, url, pool }
    }

    /// Makes the database unreachable, as an outage would: it refuses new connections and
    /// every open one is terminated. `restore` lets connections in again.
    pub async fn cut(&self) {
        self.allow_connections(false).await;
        let mut admin = PgConnection::connect(&server_url()).await.expect("admin");
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(&self.name)
            .execute(&mut admin)
            .await
            .expect("terminate connections");
    }

    pub async fn restore(&self) {
        self.allow_connections(true).await;
    }

    async fn allow_connections(&self, allow: bool) {
        let mut admin = PgConnection::connect(&server_url()).await.expect("admin");
        admin
            .execute(
                format!(
                    r#"ALTER DATABASE "{}" WITH ALLOW_CONNECTIONS {allow}"#,
                    self.name
                )
                .as_str(),
            )
            .await
            .expect("alter database");
    }

    pub async fn drop_database(self) {
        self.pool.close().await;
        if let Ok(mut admin) = PgConnection::connect(&server_url()).await {
            let _ = admin
                .execute(
                    format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name).as_str(),
                )
                .await;
        }
    }
}

/// The broker the tests talk to: `AMQP_URL` if set, else the local default.
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// Deletes a test's queues and exchange (best effort: teardown must not fail a test).
pub async fn delete_topology(topology: &workers::topology::Topology) {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let Ok(connection) = workers::broker::connect(&amqp_url()).await else {
        return;
    };
    if let Ok(channel) = connection.create_channel().await {
        for queue in topology.all_queues() {
            let _ = channel
                .queue_delete(&queue, QueueDeleteOptions::default())
                .await;
        }
        let _ = channel
            .exchange_delete(&topology.exchange(), ExchangeDeleteOptions::default())
            .await;
    }
    let _ = connection.close(200, "").await;
}

/// Runs `rabbitmqctl` (the broker-restart cases stop and start the shared broker). The
/// command is `RABBITMQCTL` when set, split on spaces: `scripts/test` sets it to a `docker
/// compose exec` of the broker's container when it started the services itself. Returns what
/// it printed.
pub fn rabbitmqctl(args: &[&str]) -> Result<String, String> {
    let command = std::env::var("RABBITMQCTL").unwrap_or_else(|_| "rabbitmqctl".into());
    let mut words = command.split_whitespace();
    let program = words.next().unwrap_or("rabbitmqctl");
    match std::process::Command::new(program)
        .args(words)
        .args(args)
        .output()
    {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        Err(e) => Err(format!("{command}: {e}")),
    }
}

/// Starts the broker again when dropped, whatever happened, for everyone else.
pub struct StartOnDrop;

impl Drop for StartOnDrop {
    fn drop(&mut self) {
        let _ = rabbitmqctl(&["start_app"]);
    }
}
