//! The fake core loan system, in this process, on a fixed port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use workers::fake_core::{self, FakeCore, Switches};

/// The fake core loan system, in this process, on a fixed port so that it can be stopped
/// (connections refused) and started again with its record intact.
pub struct CoreServer {
    pub addr: SocketAddr,
    pub core: Arc<FakeCore>,
    cancel: Mutex<Option<CancellationToken>>,
}

impl CoreServer {
    pub async fn start(switches: Switches) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Self {
            addr,
            core: FakeCore::new(switches),
            cancel: Mutex::new(None),
        };
        server.serve(listener);
        server
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let cancel = CancellationToken::new();
        tokio::spawn(fake_core::serve(
            listener,
            self.core.clone(),
            cancel.clone(),
        ));
        *self.cancel.lock().unwrap() = Some(cancel);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Down: the port refuses connections.
    pub fn stop(&self) {
        if let Some(cancel) = self.cancel.lock().unwrap().take() {
            cancel.cancel();
        }
    }

    pub async fn restart(&self) {
        let start = Instant::now();
        loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(listener) => return self.serve(listener),
                Err(e) if start.elapsed() < Duration::from_secs(10) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot rebind the fake core on {}: {e}", self.addr),
            }
        }
    }
}
