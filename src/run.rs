//! What each process subcommand does, so that [`crate::cli`] stays a dispatcher.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use workers::consumer::Worker;
use workers::core_client::CoreClient;
use workers::fake_core::{self, FakeCore, Switches};
use workers::topology::Topology;

use crate::config::Settings;
use crate::db;
use crate::http::{Api, AppState};
use crate::reconcile::{schedule, Reconciler};
use workers::relay::{self, RelayConfig};
use workers::{adopter, sweeper};

/// Options of the posting workers.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Unacknowledged messages a worker holds (and posts concurrently).
    pub prefetch: u16,
    /// Time-out of one call to the core loan system.
    pub core_timeout: Duration,
}

pub fn connect(settings: &Settings) -> anyhow::Result<PgPool> {
    Ok(db::pool(
        db::connect_options(settings.require_database_url()?)?,
        settings.database_pool_size,
    ))
}

/// A pool for a one-shot command, once a first connection has shown that Postgres takes
/// DATABASE_URL: an unreachable server or a refused role fails the command at once, saying
/// which (a pool would retry until its time-out and then no longer say).
pub async fn connect_checked(settings: &Settings) -> anyhow::Result<PgPool> {
    let options = db::connect_options(settings.require_database_url()?)?;
    db::check(&options).await?;
    Ok(db::pool(options, settings.database_pool_size))
}

pub fn topology(settings: &Settings) -> Topology {
    Topology::new(&settings.amqp_prefix, settings.retry_schedule.clone())
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let url = settings.require_database_url()?;
    db::create_database_if_missing(url).await?;
    let pool = db::pool(db::connect_options(url)?, 2);
    db::migrate(&pool).await?;
    tracing::info!("migrations applied");
    Ok(())
}

/// The SkyPay and admin APIs, and the relay unless `with_relay` is false.
pub async fn serve(settings: &Settings, with_relay: bool) -> anyhow::Result<()> {
    settings.require_api()?;
    if with_relay {
        settings.require_amqp_url()?;
    }
    let pool = connect(settings)?;
    let shutdown = shutdown_on_signal();
    let mut tasks = JoinSet::new();
    if with_relay {
        spawn_relay(&mut tasks, settings, pool.clone(), shutdown.clone())?;
    }
    spawn_api(&mut tasks, settings, pool, shutdown.clone()).await?;
    wait_all(tasks, shutdown).await
}

pub async fn relay(settings: &Settings, metrics_addr: Option<SocketAddr>) -> anyhow::Result<()> {
    let pool = connect(settings)?;
    let shutdown = shutdown_on_signal();
    let mut tasks = JoinSet::new();
    spawn_metrics(&mut tasks, settings, &pool, metrics_addr, shutdown.clone()).await?;
    spawn_relay(&mut tasks, settings, pool, shutdown.clone())?;
    wait_all(tasks, shutdown).await
}

pub async fn worker(
    settings: &Settings,
    options: &WorkerOptions,
    metrics_addr: Option<SocketAddr>,
) -> anyhow::Result<()> {
    let core_url = settings.require_core_loan_url()?.to_owned();
    let pool = connect(settings)?;
    let shutdown = shutdown_on_signal();
    let mut tasks = JoinSet::new();
    spawn_metrics(&mut tasks, settings, &pool, metrics_addr, shutdown.clone()).await?;
    spawn_worker(
        &mut tasks,
        settings,
        options,
        pool,
        &core_url,
        shutdown.clone(),
    )?;
    wait_all(tasks, shutdown).await
}

/// Everything in one process, migrations included. Without `CORE_LOAN_URL` the fake core
/// loan system runs in-process on `fake_core_addr`, and we say so loudly.
pub async fn all(
    settings: &Settings,
    options: &WorkerOptions,
    fake_core_addr: SocketAddr,
) -> anyhow::Result<()> {
    // Every setting `all` needs, before it creates or migrates anything.
    settings.require_database_url()?;
    settings.require_amqp_url()?;
    settings.require_api()?;
    migrate(settings)
        .await
        .context("collector all: migrations")?;
    let pool = connect(settings)?;
    let shutdown = shutdown_on_signal();
    let mut tasks = JoinSet::new();
    let core_url = match &settings.core_loan_url {
        Some(url) => url.clone(),
        None => {
            let listener = tokio::net::TcpListener::bind(fake_core_addr)
                .await
                .with_context(|| {
                    format!("Failed to bind the fake core loan system on {fake_core_addr}")
                })?;
            let url = format!("http://{}", listener.local_addr()?);
            tracing::warn!(
                url = %url,
                "CORE_LOAN_URL is not set: payments go to the IN-PROCESS FAKE core loan system at {url} \
                 (development only; GET {url}/payments shows what it received)"
            );
            let token = shutdown.clone();
            tasks.spawn(async move {
                fake_core::serve(listener, FakeCore::new(Switches::default()), token)
                    .await
                    .context("fake core loan system failed")
            });
            url
        }
    };
    spawn_relay(&mut tasks, settings, pool.clone(), shutdown.clone())?;
    spawn_worker(
        &mut tasks,
        settings,
        options,
        pool.clone(),
        &core_url,
        shutdown.clone(),
    )?;
    spawn_api(&mut tasks, settings, pool, shutdown.clone()).await?;
    wait_all(tasks, shutdown).await
}

async fn spawn_api(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    settings: &Settings,
    pool: PgPool,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let state = AppState::from_settings(settings, pool)?;
    let api = Api::bind(settings, state).await?;
    tasks.spawn(api.run(shutdown));
    Ok(())
}

/// The relay and the pipeline's keepers beside it: the sweeper (re-sends from the database
/// what the broker lost) and the adopter (records the broker's own dead letters). Each first
/// checks that the broker can dead-letter at least once; a broker that cannot stops the
/// process with a message saying how to fix it.
fn spawn_relay(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    settings: &Settings,
    pool: PgPool,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let amqp_url = settings.require_amqp_url()?.to_owned();
    let topology = topology(settings);
    let sweeper = settings.sweeper.config();
    let retention = settings.outbox_retention;
    // What each of the three tasks takes with it.
    let parts = || {
        (
            pool.clone(),
            amqp_url.clone(),
            topology.clone(),
            shutdown.clone(),
        )
    };
    let (pool_, url, topology_, shutdown_) = parts();
    tasks.spawn(async move {
        if !broker_checked(&url, &topology_, &shutdown_).await? {
            return Ok(());
        }
        let config = RelayConfig {
            retention,
            ..RelayConfig::default()
        };
        relay::run(pool_, url, topology_, config, shutdown_).await;
        Ok(())
    });
    let (pool_, url, topology_, shutdown_) = parts();
    tasks.spawn(async move {
        sweeper::run(pool_, url, topology_, sweeper, shutdown_).await;
        Ok(())
    });
    let (pool_, url, topology_, shutdown_) = parts();
    tasks.spawn(async move {
        adopter::run(pool_, url, topology_, shutdown_).await;
        Ok(())
    });
    // Reconciliation with SkyPay's report, where SKYPAY_API_URL is set.
    if let Some(reconciler) = Reconciler::from_settings(settings, pool.clone())? {
        let recon = &settings.recon;
        let (nightly, every) = (recon.recon_nightly_at, recon.recon_intraday_every);
        tasks.spawn(async move {
            schedule::run(reconciler, nightly, every, shutdown).await;
            Ok(())
        });
    }
    Ok(())
}

/// Waits for the broker, then checks it can dead-letter at least once. `Ok(false)`: stopped
/// before the broker came. (It does not look for version 1 queues: a look-up of a missing
/// queue costs a channel error that lapin logs at ERROR on every start; `collector topology
/// migrate` looks, and the sweeper covers whatever is left in them.)
async fn broker_checked(
    amqp_url: &str,
    topology: &Topology,
    shutdown: &CancellationToken,
) -> anyhow::Result<bool> {
    loop {
        let Some(connection) = workers::broker::connect_with_backoff(amqp_url, shutdown).await
        else {
            return Ok(false);
        };
        let checked =
            workers::broker::within("broker check", topology.check_broker(&connection)).await;
        workers::broker::close(connection, "checked").await;
        match checked {
            // A stalled broker is no answer: ask again on a new connection.
            Err(e) if workers::broker::is_stuck(&e) => {
                tracing::warn!(error = %format_args!("{e:#}"), "broker check stalled; retrying");
                tokio::time::sleep(workers::broker::backoff(3)).await;
            }
            checked => return checked.map(|()| true),
        }
    }
}

fn spawn_worker(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    settings: &Settings,
    options: &WorkerOptions,
    pool: PgPool,
    core_url: &str,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let amqp_url = settings.require_amqp_url()?.to_owned();
    let token = settings
        .core_loan_token
        .as_ref()
        .map(|t| t.expose().to_owned());
    let core = CoreClient::new(core_url, token, options.core_timeout)?;
    let worker = Arc::new(Worker::new(pool, core, topology(settings)));
    let prefetch = options.prefetch;
    let topology = topology(settings);
    tasks.spawn(async move {
        if !broker_checked(&amqp_url, &topology, &shutdown).await? {
            return Ok(());
        }
        worker.run(amqp_url, prefetch, shutdown).await;
        Ok(())
    });
    Ok(())
}

/// `/metrics`, `/healthz` and `/readyz` for processes without the admin listener (`relay`,
/// `worker`): they need the broker too, so their readiness probes it the same way.
async fn spawn_metrics(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    settings: &Settings,
    pool: &PgPool,
    addr: Option<SocketAddr>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let Some(addr) = addr else { return Ok(()) };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("Failed to bind METRICS_ADDR {addr}"))?;
    let (pool, url, topology) = (pool.clone(), settings.amqp_url.clone(), topology(settings));
    let probe = url.clone().map(workers::broker::BrokerProbe::new);
    let ready_pool = pool.clone();
    let app = axum::Router::new()
        .route("/healthz", axum::routing::get(crate::http::healthz))
        .route(
            "/readyz",
            axum::routing::get(move || {
                let (pool, probe) = (ready_pool.clone(), probe.clone());
                async move { crate::http::readiness(&pool, probe.as_ref()).await }
            }),
        )
        .route(
            "/metrics",
            axum::routing::get(move || {
                let (pool, url, topology) = (pool.clone(), url.clone(), topology.clone());
                async move {
                    crate::metrics::render(&pool, url.as_deref().map(|u| (u, &topology))).await
                }
            }),
        );
    tracing::info!(%addr, "metrics listening");
    tasks.spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
            .context("metrics listener failed")
    });
    Ok(())
}

/// Waits for every task; the first to fail stops the others.
async fn wait_all(
    mut tasks: JoinSet<anyhow::Result<()>>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut result = Ok(());
    while let Some(joined) = tasks.join_next().await {
        let outcome = joined.context("a task panicked").and_then(|r| r);
        if let Err(e) = outcome {
            shutdown.cancel();
            if result.is_ok() {
                result = Err(e);
            }
        }
    }
    result
}

pub use workers::signal::shutdown_on_signal;

/// `collector sweep`: the sweeper alone, without a relay (which must run somewhere to publish
/// what it re-sends). `once`: one sweep, then exit, printing what was rescued.
pub async fn sweep(settings: &Settings, once: bool) -> anyhow::Result<()> {
    let amqp_url = settings.require_amqp_url()?.to_owned();
    let topology = topology(settings);
    if once {
        let pool = connect_checked(settings).await?;
        let overdue = sweeper::overdue(&pool, &settings.sweeper.config()).await?;
        let rescued =
            sweeper::sweep(&pool, &amqp_url, &topology, &settings.sweeper.config()).await?;
        println!("{overdue} collection(s) overdue; {rescued} re-sent from the database");
        return Ok(());
    }
    let pool = connect(settings)?;
    let shutdown = shutdown_on_signal();
    sweeper::run(
        pool,
        amqp_url,
        topology,
        settings.sweeper.config(),
        shutdown,
    )
    .await;
    Ok(())
}

/// `collector topology migrate`: moves what version 1's queues hold into version 2 and
/// deletes them; prints what it did to each.
pub async fn topology_migrate(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let amqp_url = settings.require_amqp_url()?;
    let topology = topology(settings);
    let connection = workers::broker::connect(amqp_url)
        .await
        .context("Failed to reach RabbitMQ")?;
    let reports = match topology.check_broker(&connection).await {
        Ok(()) => workers::migrate::migrate(&connection, &topology).await,
        Err(e) => Err(e),
    };
    workers::broker::close(connection, "migrated").await;
    let reports = reports?;
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else if reports.is_empty() {
        println!(
            "no queue of the previous topology under `{}`: nothing to migrate",
            topology.prefix
        );
    } else {
        for r in &reports {
            match &r.kept_because {
                None => println!(
                    "{}: moved {} message(s) to {}; deleted",
                    r.queue, r.moved, r.to
                ),
                Some(why) => println!(
                    "{}: moved {} message(s) to {}; KEPT: {why}",
                    r.queue, r.moved, r.to
                ),
            }
        }
    }
    if reports.iter().any(|r| !r.deleted) {
        anyhow::bail!("some queues of the previous topology remain: see above");
    }
    Ok(())
}
