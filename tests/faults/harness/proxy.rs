//! A TCP proxy in front of Postgres (or RabbitMQ) that the tests can cut: every live
//! connection dropped and new ones refused until it is restored. It can also silence the live
//! connections (nothing forwarded either way, no close: a flow a NAT or load balancer forgot)
//! while new ones pass. It counts the bytes clients send (a request that never reaches the
//! database sends none) and can cut one connection right after it forwards a `COMMIT`, before
//! the server's answer gets back: the "did it commit?" case every payment system must
//! resolve.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Default)]
struct State {
    up: AtomicBool,
    bytes_from_clients: AtomicU64,
    cut_after_commit: AtomicBool,
    commits_cut: AtomicU64,
}

pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<State>,
    generation: watch::Sender<u64>,
    silenced: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        state.up.store(true, Ordering::SeqCst);
        let (generation, _) = watch::channel(0u64);
        let (silenced, _) = watch::channel(0u64);
        let task = tokio::spawn({
            let state = state.clone();
            let generation = generation.clone();
            let silenced = silenced.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    if !state.up.load(Ordering::SeqCst) {
                        drop(client); // refused: closed at once
                        continue;
                    }
                    tokio::spawn(pipe(
                        client,
                        upstream,
                        state.clone(),
                        generation.subscribe(),
                        silenced.subscribe(),
                    ));
                }
            }
        });
        Self {
            addr,
            state,
            generation,
            silenced,
            task,
        }
    }

    /// Every live connection goes silent for good: nothing is forwarded either way and
    /// neither side is closed, as when a NAT or a load balancer forgets a flow. New
    /// connections pass.
    pub fn silence(&self) {
        self.silenced.send_modify(|g| *g += 1);
    }

    /// Drops every live connection and refuses new ones.
    pub fn cut(&self) {
        self.state.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.state.up.store(true, Ordering::SeqCst);
    }

    /// The next connection that sends `COMMIT` is cut once the server has it, before its
    /// answer is passed back.
    pub fn cut_after_next_commit(&self) {
        self.state.cut_after_commit.store(true, Ordering::SeqCst);
    }

    pub fn commits_cut(&self) -> u64 {
        self.state.commits_cut.load(Ordering::SeqCst)
    }

    pub fn bytes_from_clients(&self) -> u64 {
        self.state.bytes_from_clients.load(Ordering::SeqCst)
    }

    /// A Postgres URL through this proxy (TLS off, so that the proxy can see `COMMIT`).
    /// A URL of `database` through the proxy, with `DATABASE_URL`'s credentials.
    pub fn url(&self, database: &str) -> String {
        let (_, userinfo) = crate::common::postgres_endpoint();
        format!(
            "postgres://{userinfo}@{}/{database}?sslmode=disable",
            self.addr
        )
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

async fn pipe(
    mut client: TcpStream,
    upstream: SocketAddr,
    state: Arc<State>,
    mut generation: watch::Receiver<u64>,
    mut silenced: watch::Receiver<u64>,
) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    // Set before a COMMIT is forwarded: from then on nothing goes back to the client.
    let swallow = AtomicBool::new(false);
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = client_read.read(&mut buf).await?;
            if n == 0 {
                return Ok::<(), std::io::Error>(());
            }
            state
                .bytes_from_clients
                .fetch_add(n as u64, Ordering::SeqCst);
            let chunk = &buf[..n];
            let cut = state.cut_after_commit.load(Ordering::SeqCst)
                && contains(chunk, COMMIT_QUERY)
                && state.cut_after_commit.swap(false, Ordering::SeqCst);
            if cut {
                swallow.store(true, Ordering::SeqCst);
                state.commits_cut.fetch_add(1, Ordering::SeqCst);
            }
            server_write.write_all(chunk).await?;
            if cut {
                // Give the server time to commit, then drop both sides.
                tokio::time::sleep(Duration::from_millis(300)).await;
                return Ok(());
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = server_read.read(&mut buf).await?;
            if n == 0 || swallow.load(Ordering::SeqCst) {
                return Ok::<(), std::io::Error>(());
            }
            client_write.write_all(&buf[..n]).await?;
        }
    };
    let silent = tokio::select! {
        _ = up => false,
        _ = down => false,
        _ = generation.changed() => false,
        _ = silenced.changed() => true,
    };
    if silent {
        // Both sockets stay open, unread and unwritten, until the proxy is cut or dropped.
        let _ = generation.changed().await;
    }
}

/// A simple-protocol `Query` message holding exactly `COMMIT` (what sqlx sends).
const COMMIT_QUERY: &[u8] = b"Q\0\0\0\x0bCOMMIT\0";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
