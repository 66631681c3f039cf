//! The state the two listeners share, and the part each router takes from it (axum's
//! `FromRef`): the SkyPay edge sees only `SkyPayState`, the admin API only `AdminState`, so
//! neither knows this module.

use std::sync::Arc;

use anyhow::Context;
use axum::extract::FromRef;
use sqlx::PgPool;
use workers::broker::BrokerProbe;
use workers::topology::Topology;

use crate::admin::AdminState;
use crate::config::Settings;
use crate::db::bills::BillReader;
use crate::ops::dead_letters::DeadLetterQueue;
use crate::payments::grouped::Collects;
use crate::reconcile::exceptions::AdoptSettings;
use crate::reconcile::Reconciler;
use crate::skypay::{SkyPayConfig, SkyPayState};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub skypay: SkyPayState,
    pub admin: AdminState,
    /// The broker `/metrics` reads queue depths from, when this process uses one.
    pub amqp_url: Option<String>,
    /// `/readyz`'s broker check: one per process, so its cached answer is shared.
    pub broker: Option<BrokerProbe>,
    /// Queue names, for metrics.
    pub topology: Topology,
}

impl AppState {
    pub fn from_settings(settings: &Settings, pool: PgPool) -> anyhow::Result<Self> {
        settings.require_api()?;
        let topology = Topology::new(&settings.amqp_prefix, settings.retry_schedule.clone());
        Ok(Self {
            skypay: SkyPayState {
                pool: pool.clone(),
                bills: BillReader::spawn(&pool),
                collects: Collects::spawn(pool.clone()),
                outbox: workers::outbox::Signal::spawn(pool.clone()),
                config: Arc::new(SkyPayConfig {
                    credentials: settings.credentials.clone().into(),
                    allowed_ips: settings.allowed_ips.clone(),
                    trusted_proxies: settings.trusted_proxies.clone(),
                    require_encryption: settings.require_encryption,
                    overpayment: settings.overpayment,
                    replayed_answer: settings.replayed_collect_answer,
                    payer_address_key: settings.payer_address_key,
                    settlement: settings.recon.settlement_rules(),
                }),
            },
            admin: AdminState {
                pool: pool.clone(),
                token: settings
                    .admin_token
                    .clone()
                    .context("ADMIN_TOKEN is not set")?,
                dead_letters: settings
                    .amqp_url
                    .clone()
                    .map(|url| DeadLetterQueue::new(url, topology.clone())),
                reconciliation: crate::reconcile::Service {
                    reconciler: Reconciler::from_settings(settings, pool.clone())?.map(Arc::new),
                    adopt: AdoptSettings::from_settings(settings),
                },
            },
            pool,
            amqp_url: settings.amqp_url.clone(),
            broker: settings.amqp_url.clone().map(BrokerProbe::new),
            topology,
        })
    }
}

impl FromRef<AppState> for SkyPayState {
    fn from_ref(state: &AppState) -> Self {
        state.skypay.clone()
    }
}

impl FromRef<AppState> for AdminState {
    fn from_ref(state: &AppState) -> Self {
        state.admin.clone()
    }
}
