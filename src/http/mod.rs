//! The HTTP side of the service. The two listeners: the SkyPay API (`LISTEN_ADDR`) and the admin API
//! (`ADMIN_LISTEN_ADDR`), each with `/healthz` and `/readyz`.
//!
//! Both listeners are bound before anything is spawned, so tests can ask for port 0 and learn
//! the real address before the first request.

pub mod health;
pub mod openapi;
pub mod routes;
pub mod serve;
pub mod state;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
pub use health::{healthz, readiness};
pub use routes::{admin_router, public_router};
pub use serve::{serve, HEADER_READ_TIMEOUT, MAX_CONNECTIONS};
pub use state::AppState;

/// Both listeners, bound and ready to serve.
pub struct Api {
    pub public_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    public: TcpListener,
    admin: TcpListener,
    state: AppState,
}

impl Api {
    pub async fn bind(settings: &Settings, state: AppState) -> anyhow::Result<Self> {
        crate::metrics::handle();
        let public = TcpListener::bind(settings.listen_addr)
            .await
            .with_context(|| format!("Failed to bind LISTEN_ADDR {}", settings.listen_addr))?;
        let admin = TcpListener::bind(settings.admin_listen_addr)
            .await
            .with_context(|| {
                format!(
                    "Failed to bind ADMIN_LISTEN_ADDR {}",
                    settings.admin_listen_addr
                )
            })?;
        Ok(Self {
            public_addr: public.local_addr()?,
            admin_addr: admin.local_addr()?,
            public,
            admin,
            state,
        })
    }

    /// Serves until `shutdown` is cancelled, then finishes the requests in flight.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(public = %self.public_addr, admin = %self.admin_addr, "listening");
        let public = serve(
            self.public,
            public_router(self.state.clone()),
            shutdown.clone(),
        );
        let admin = serve(self.admin, admin_router(self.state), shutdown);
        tokio::join!(public, admin);
        Ok(())
    }
}
