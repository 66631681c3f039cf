//! Serving a router on a listener with hyper directly: a header time-out, a cap on open
//! connections, and a graceful stop that finishes the requests in flight.

use std::sync::Arc;
use std::time::Duration;

use axum::http::Request;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A client must send a request's headers within this time (slow-header attacks); the
/// SkyPay body has its own limit (`skypay::handler::BODY_TIMEOUT`).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once per listener; more wait in the kernel's accept queue.
pub const MAX_CONNECTIONS: usize = 4096;
/// How long a graceful stop waits for the requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Serves `router` on `listener` until `shutdown`, then finishes the requests in flight.
///
/// `axum::serve` gives no header time-out: a client sending its headers a byte at a time held
/// its connection forever (the fault suite's slow-header case), so connections are served
/// here with hyper directly, with a header time-out and a cap on open connections.
pub async fn serve(listener: TcpListener, router: Router, shutdown: CancellationToken) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("never closed"),
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let service =
            router
                .clone()
                .map_request(move |mut request: Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    request
                });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are the client's (reset, time-out, bad HTTP): nothing to do.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {DRAIN_TIMEOUT:?}; stopping anyway");
    }
}
