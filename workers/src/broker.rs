//! Connecting to RabbitMQ, and reconnecting with backoff when it goes away.
//!
//! `AMQP_URL` names one broker or the nodes of a cluster, separated by commas
//! (`amqp://u:p@rabbit-1:5672/%2f,amqp://u:p@rabbit-2:5672/%2f,…`): lapin connects to one host,
//! so the failover is ours. A connection goes to the first address that answers; when it is
//! lost, the next one tries the following address first (the lost node is tried last), with
//! back-off and jitter between rounds, and whoever reconnects declares its topology and
//! consumers again on the node it finds. Which node each part of a process is on is kept in
//! [`connected_nodes`] for `/readyz` and the `collector_amqp_connected` gauge.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::future::BoxFuture;
use lapin::options::{BasicConsumeOptions, BasicQosOptions, ConfirmSelectOptions};
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::FieldTable;
use lapin::uri::AMQPUri;
use lapin::{Channel, Connection, ConnectionProperties};
use tokio_util::sync::CancellationToken;

/// The addresses of `AMQP_URL`, in order: one, or the nodes of a cluster separated by commas.
pub fn addresses(url: &str) -> Vec<&str> {
    url.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect()
}

/// The node an address names, as `host:port`: what logs, `/readyz` and metrics show of it
/// (never its credentials).
pub fn node_of(address: &str) -> String {
    match address.parse::<AMQPUri>() {
        Ok(uri) => format!("{}:{}", uri.authority.host, uri.authority.port),
        Err(_) => "<unparsable AMQP_URL>".to_owned(),
    }
}

/// How long one address may take to complete its handshake before the next one is tried: a
/// node that drops packets would otherwise hold the connect for the kernel's TCP time-out.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to one address, within `timeout`.
async fn connect_one(address: &str, timeout: Duration) -> lapin::Result<Connection> {
    let properties = ConnectionProperties::default()
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio)
        .with_connection_name("collector".into());
    let connect = async {
        match address.parse::<AMQPUri>() {
            Ok(mut uri) => {
                // Unless AMQP_URL asks for its own: heartbeats every AMQP_TIMEOUT / 2, so that a
                // silently lost connection (nothing in flight for `within` to time out) is
                // given up within AMQP_TIMEOUT (lapin gives up after two missed intervals).
                uri.query.heartbeat.get_or_insert_with(heartbeat);
                Connection::connect_uri(uri, properties).await
            }
            // lapin's own parse error, which `ConnectError::classify` recognises.
            Err(_) => Connection::connect(address, properties).await,
        }
    };
    match tokio::time::timeout(timeout, connect).await {
        Ok(connected) => connected,
        Err(_) => Err(lapin::Error::IOError(Arc::new(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no AMQP handshake within {timeout:?}"),
        )))),
    }
}

/// The address that answered this process's last connection, tried first by the next one
/// (`Reconnecting` keeps an order of its own): once a node has been found down, the
/// short-lived connections (the sweeper's, the metrics' queue depths, the readiness probe, the
/// ops commands) do not wait for it again each time.
static PREFERRED: AtomicUsize = AtomicUsize::new(0);

/// Connects to the first of `url`'s addresses that answers, starting with the one that
/// answered last time.
pub async fn connect(url: &str) -> lapin::Result<Connection> {
    connect_from(url, PREFERRED.load(Ordering::Relaxed), CONNECT_TIMEOUT)
        .await
        .map(|(connection, _)| connection)
}

/// Connects to the first of `url`'s addresses that answers within `timeout`, trying them in
/// order from `first` (wrapping round); the connection and the index of its address, which
/// becomes the process's preferred one. The error is the first refusal (credentials, vhost,
/// a bad URL: it says more than "unreachable"), else the last address's.
async fn connect_from(
    url: &str,
    first: usize,
    timeout: Duration,
) -> lapin::Result<(Connection, usize)> {
    let all = addresses(url);
    let refused =
        |e: &lapin::Error| !matches!(ConnectError::classify(e, url), ConnectError::Unreachable(_));
    let mut failure: Option<lapin::Error> = None;
    for step in 0..all.len().max(1) {
        let index = (first + step) % all.len().max(1);
        let address = all.get(index).copied().unwrap_or(url);
        match connect_one(address, timeout).await {
            Ok(connection) => {
                PREFERRED.store(index, Ordering::Relaxed);
                return Ok((connection, index));
            }
            Err(e) => {
                if all.len() > 1 {
                    let reason = ConnectError::classify(&e, url);
                    tracing::debug!(node = %node_of(address), error = %reason, "RabbitMQ node did not answer");
                }
                if !failure.as_ref().is_some_and(refused) {
                    failure = Some(e);
                }
            }
        }
    }
    Err(failure.expect("at least one address was tried"))
}

/// Closes `connection` and waits (bounded) for its I/O thread to end, so that nothing of
/// lapin outlives the runtime: lapin runs each connection's I/O on a thread of its own that
/// uses the runtime's reactor, and `Connection::close` returns a moment before that thread
/// stops (a process that then exits gets lapin's "Tokio context … being shutdown" ERROR).
/// Never fails: a broken connection has nothing left to close.
pub async fn close(connection: Connection, reason: &str) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, connection.close(200, reason)).await;
    // `Connection::run` joins the I/O thread, on a plain thread so that a stuck one can
    // neither block the runtime nor its shutdown.
    let (done, finished) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("amqp-close".into())
        .spawn(move || {
            let _ = connection.run();
            let _ = done.send(());
        });
    if spawned.is_ok() {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, finished).await;
    }
}

/// How long a close may take before we stop waiting for it.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// `AMQP_TIMEOUT` in milliseconds (see [`set_timeout`]).
static TIMEOUT_MS: AtomicUsize = AtomicUsize::new(30_000);

/// Sets how long any one exchange with the broker may take (`AMQP_TIMEOUT`, 30 s unless set):
/// a channel opened, the topology declared, a consumer started, a publish confirmed. lapin
/// waits for each answer for ever, and a connection can go quiet without closing (a broker
/// that blocked it on a resource alarm, a load balancer or NAT that dropped the flow): lapin
/// notices only when heartbeats stop, two minutes later with the broker's default, and never
/// on a connection that is merely blocked. A relay waiting on such a connection holds its
/// claimed outbox rows, and a worker its deliveries, all that time.
pub fn set_timeout(timeout: Duration) {
    let ms = usize::try_from(timeout.as_millis())
        .unwrap_or(usize::MAX)
        .max(1);
    TIMEOUT_MS.store(ms, Ordering::Relaxed);
}

/// The current `AMQP_TIMEOUT`.
pub fn timeout() -> Duration {
    Duration::from_millis(TIMEOUT_MS.load(Ordering::Relaxed) as u64)
}

/// The heartbeat interval asked of the broker, in seconds: half of `AMQP_TIMEOUT` (at least
/// 1 s; the broker may ask for less).
fn heartbeat() -> u16 {
    u16::try_from((timeout().as_secs() / 2).max(1)).unwrap_or(u16::MAX)
}

/// The broker did not answer within `AMQP_TIMEOUT`: the connection is taken for stuck, and
/// whoever holds it closes it and connects again ([`is_stuck`]).
#[derive(Debug)]
pub struct Stuck {
    what: &'static str,
    after: Duration,
}

impl Stuck {
    /// The broker did not answer `what` within the current `AMQP_TIMEOUT`.
    pub fn new(what: &'static str) -> Self {
        Self {
            what,
            after: timeout(),
        }
    }
}

impl fmt::Display for Stuck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RabbitMQ did not answer ({}) within AMQP_TIMEOUT ({:?}): the connection is blocked \
             (a resource alarm) or silently lost",
            self.what, self.after
        )
    }
}

impl std::error::Error for Stuck {}

/// `call`, bounded by `AMQP_TIMEOUT`: a [`Stuck`] error when the broker does not answer in
/// time. `what` names the exchange for the log.
pub async fn within<T>(
    what: &'static str,
    call: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    within_after(what, timeout(), call).await
}

async fn within_after<T>(
    what: &'static str,
    after: Duration,
    call: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(after, call).await {
        Ok(result) => result,
        Err(_) => {
            metrics::counter!("collector_amqp_stuck_total", "what" => what).increment(1);
            Err(Stuck { what, after }.into())
        }
    }
}

/// Whether `error` (or one of its causes) is a [`Stuck`] broker: the connection must be
/// replaced, not used again.
pub fn is_stuck(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<Stuck>())
}

/// Connects, retrying with exponential backoff (100 ms doubling to 2 s, each wait jittered
/// so that the processes a node loss disconnected do not come back in step: a broker back
/// from a restart is found within 2 s; attempts against a down broker cost nothing) until it
/// succeeds or `cancel` fires (`None` then).
pub async fn connect_with_backoff(url: &str, cancel: &CancellationToken) -> Option<Connection> {
    connect_with_backoff_from(url, PREFERRED.load(Ordering::Relaxed), cancel)
        .await
        .map(|(connection, _)| connection)
}

async fn connect_with_backoff_from(
    url: &str,
    first: usize,
    cancel: &CancellationToken,
) -> Option<(Connection, usize)> {
    let mut delay = Duration::from_millis(100);
    loop {
        let attempt = tokio::select! {
            _ = cancel.cancelled() => return None,
            attempt = connect_from(url, first, CONNECT_TIMEOUT) => attempt,
        };
        let wait = jittered(delay);
        match attempt {
            Ok(connected) => return Some(connected),
            // Only a missing broker is worth a warning: a refusal is a wrong AMQP_URL, and
            // retrying it will not fix it.
            Err(e) => match ConnectError::classify(&e, url) {
                ConnectError::Unreachable(reason) => {
                    tracing::warn!(error = %reason, retry_in = ?wait, "RabbitMQ unreachable")
                }
                refused => tracing::error!(retry_in = ?wait, "{refused}"),
            },
        }
        tokio::select! {
            _ = cancel.cancelled() => return None,
            _ = tokio::time::sleep(wait) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// `delay` with "equal jitter": half of it fixed, the other half drawn at random.
fn jittered(delay: Duration) -> Duration {
    let half = delay / 2;
    half + half.mul_f64(fastrand::f64())
}

/// Which node each long-lived connection of this process is on, by who holds it.
static CONNECTED: Mutex<BTreeMap<&'static str, String>> = Mutex::new(BTreeMap::new());

/// Which node (`host:port`) each part of this process (`relay`, `worker`, `adopter`) is
/// connected to now; a part between connections is absent.
pub fn connected_nodes() -> BTreeMap<&'static str, String> {
    CONNECTED
        .lock()
        .map(|nodes| nodes.clone())
        .unwrap_or_default()
}

fn set_connected(who: &'static str, node: Option<String>) {
    let Ok(mut nodes) = CONNECTED.lock() else {
        return;
    };
    if let Some(old) = nodes.remove(who) {
        metrics::gauge!("collector_amqp_connected", "who" => who, "node" => old).set(0.0);
    }
    if let Some(node) = node {
        metrics::gauge!("collector_amqp_connected", "who" => who, "node" => node.clone()).set(1.0);
        nodes.insert(who, node);
    }
}

/// A process's connections to RabbitMQ, one after another until `cancel` fires: `next`
/// connects (with back-off, to the first node that answers), the caller works on the
/// connection until it fails or ends, and `end` logs why and closes it; the next `next` waits
/// a moment first and starts with the node after the one just lost. The relay, the workers
/// and the adopter all stay connected this way:
///
/// ```ignore
/// let mut broker = Reconnecting::new(&url, &cancel, "relay");
/// while let Some(connection) = broker.next().await {
///     let worked = relay_on(&connection).await;
///     broker.end(connection, worked).await;
/// }
/// ```
pub struct Reconnecting<'a> {
    url: &'a str,
    cancel: &'a CancellationToken,
    who: &'static str,
    connected_before: bool,
    /// The address to try first next time.
    first: usize,
}

impl<'a> Reconnecting<'a> {
    pub fn new(url: &'a str, cancel: &'a CancellationToken, who: &'static str) -> Self {
        Self {
            url,
            cancel,
            who,
            connected_before: false,
            first: 0,
        }
    }

    /// The next connection; `None` once `cancel` has fired.
    pub async fn next(&mut self) -> Option<Connection> {
        if self.connected_before && !self.cancel.is_cancelled() {
            tokio::select! {
                _ = self.cancel.cancelled() => {}
                _ = tokio::time::sleep(jittered(backoff(2))) => {}
            }
        }
        if self.cancel.is_cancelled() {
            tracing::info!("{} stopped", self.who);
            return None;
        }
        self.connected_before = true;
        let Some((connection, index)) =
            connect_with_backoff_from(self.url, self.first, self.cancel).await
        else {
            tracing::info!("{} stopped", self.who);
            return None;
        };
        let addresses = addresses(self.url);
        let node = addresses
            .get(index)
            .map_or_else(|| node_of(self.url), |a| node_of(a));
        if addresses.len() > 1 {
            tracing::info!(node = %node, "{} connected to RabbitMQ", self.who);
        }
        set_connected(self.who, Some(node));
        // Lost, this connection's node is tried last.
        self.first = (index + 1) % addresses.len().max(1);
        Some(connection)
    }

    /// The work on `connection` is over (`worked` says how): closes it.
    /// A connection the broker *blocked* (a memory or disk alarm) is kept until the alarm
    /// clears: another connection would be blocked as soon as it published (an alarm blocks
    /// publishers cluster-wide), and this one cannot even be closed meanwhile (the broker does
    /// not read it), so each replacement would leave one more open.
    pub async fn end(&self, connection: Connection, worked: anyhow::Result<()>) {
        match worked {
            Err(e) if is_stuck(&e) && connection.status().blocked() => {
                tracing::error!(error = %format_args!("{e:#}"), "{}: RabbitMQ has blocked this connection (a memory or disk alarm: see `rabbitmq-diagnostics alarms`); waiting for it to clear", self.who);
                let blocked_since = Instant::now();
                while connection.status().blocked() && !self.cancel.is_cancelled() {
                    tokio::select! {
                        _ = self.cancel.cancelled() => {}
                        _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                    }
                }
                tracing::warn!(blocked_for = ?blocked_since.elapsed(), "{}: RabbitMQ unblocked the connection; reconnecting", self.who);
            }
            Err(e) => {
                tracing::warn!(error = %format_args!("{e:#}"), "{} lost its RabbitMQ channel; reconnecting", self.who);
            }
            Ok(()) => {}
        }
        set_connected(self.who, None);
        close(connection, &format!("{} stopping", self.who)).await;
    }
}

/// Why a connection to RabbitMQ failed, in words that point at the fix. lapin reports a
/// wrong password as a protocol error (ACCESS_REFUSED), which used to be logged as
/// "unreachable" and sent operators looking at the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// The broker rejected AMQP_URL's user or password.
    CredentialsRefused,
    /// The broker answered but refused us otherwise (an unknown vhost, say).
    Refused(String),
    /// AMQP_URL is not an AMQP URL.
    BadUrl,
    /// No broker answered: connection refused, DNS, time-out, a dropped socket.
    Unreachable(String),
}

impl ConnectError {
    /// `url` is the one the connection was attempted with: any part of it lapin quoted (its
    /// parse errors quote the whole URL) is masked, so the password never reaches a log.
    pub fn classify(error: &lapin::Error, url: &str) -> Self {
        match error {
            lapin::Error::ProtocolError(e)
                if *e.kind() == AMQPErrorKind::Soft(AMQPSoftError::ACCESSREFUSED) =>
            {
                Self::CredentialsRefused
            }
            lapin::Error::ProtocolError(e) => Self::Refused(redact(e.get_message().as_str(), url)),
            _ if addresses(url).iter().any(|a| a.parse::<AMQPUri>().is_err()) => Self::BadUrl,
            other => Self::Unreachable(redact(&other.to_string(), url)),
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CredentialsRefused => f.write_str(
                "RabbitMQ refused the credentials in AMQP_URL (ACCESS_REFUSED): \
                 check its user and password",
            ),
            Self::Refused(reason) => write!(f, "RabbitMQ refused the connection: {reason}"),
            Self::BadUrl => f.write_str("AMQP_URL does not parse as an AMQP URL"),
            Self::Unreachable(reason) => write!(f, "RabbitMQ unreachable: {reason}"),
        }
    }
}

/// `text` with `url`, each of its addresses and their passwords masked.
fn redact(text: &str, url: &str) -> String {
    let mut text = text.replace(url, "<AMQP_URL>");
    for address in addresses(url) {
        text = text.replace(address, "<AMQP_URL>");
        if let Ok(uri) = address.parse::<AMQPUri>() {
            let password = &uri.authority.userinfo.password;
            if !password.is_empty() {
                text = text.replace(password.as_str(), "***");
            }
        }
    }
    text
}

/// How long a readiness probe waits for the broker's handshake.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a probe's answer is reused: `/readyz` polled hard costs one handshake per
/// window, not one per request.
pub const PROBE_TTL: Duration = Duration::from_secs(2);

type Handshake = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;
/// The last probe's answer and when it came.
type Answer = Option<(Instant, Result<(), String>)>;

/// `/readyz`'s broker check. Opening a TCP socket said "ok" to a wrong password, so this
/// completes a real AMQP handshake. The answer is cached for `PROBE_TTL`, and callers that
/// arrive during a probe wait for that one rather than start their own.
#[derive(Clone)]
pub struct BrokerProbe {
    handshake: Handshake,
    ttl: Duration,
    last: Arc<tokio::sync::Mutex<Answer>>,
}

impl BrokerProbe {
    pub fn new(url: String) -> Self {
        let url: Arc<str> = url.into();
        Self::with_handshake(PROBE_TTL, move || {
            let url = url.clone();
            Box::pin(async move { handshake(&url).await })
        })
    }

    fn with_handshake(
        ttl: Duration,
        handshake: impl Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync + 'static,
    ) -> Self {
        Self {
            handshake: Arc::new(handshake),
            ttl,
            last: Arc::default(),
        }
    }

    /// `Ok` if RabbitMQ accepted AMQP_URL's credentials within the last `PROBE_TTL`, else
    /// why not (a `ConnectError`'s words, never the password).
    pub async fn check(&self) -> Result<(), String> {
        // Held across the handshake: that is what makes concurrent callers share it.
        let mut last = self.last.lock().await;
        if let Some((at, result)) = last.as_ref() {
            if at.elapsed() < self.ttl {
                return result.clone();
            }
        }
        let result = (self.handshake)().await;
        *last = Some((Instant::now(), result.clone()));
        result
    }
}

/// Connects to the first address of `url` that completes a handshake within `PROBE_TIMEOUT`
/// and closes again: one node of a cluster is enough for the process to do its work.
async fn handshake(url: &str) -> Result<(), String> {
    let first = PREFERRED.load(Ordering::Relaxed);
    let (connection, _) = connect_from(url, first, PROBE_TIMEOUT)
        .await
        .map_err(|e| ConnectError::classify(&e, url).to_string())?;
    // Bounded too: a broker that let us in and then hung must not hold every caller.
    let _ = tokio::time::timeout(PROBE_TIMEOUT, connection.close(200, "readiness probe")).await;
    Ok(())
}

/// A channel in publisher-confirm mode, within `AMQP_TIMEOUT`.
pub async fn confirm_channel(connection: &Connection) -> anyhow::Result<Channel> {
    within("channel.open", async {
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(channel)
    })
    .await
    .context("Failed to open a channel")
}

/// Sets the channel's prefetch and starts consuming `queue` (as `tag`, or a tag the broker
/// picks when empty), within `AMQP_TIMEOUT`.
pub async fn start_consuming(
    channel: &Channel,
    queue: &str,
    tag: &str,
    prefetch: u16,
) -> anyhow::Result<lapin::Consumer> {
    within("basic.consume", async {
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await
            .context("Failed to set prefetch")?;
        channel
            .basic_consume(
                queue,
                tag,
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .with_context(|| format!("Failed to consume {queue}"))
    })
    .await
}

/// Exponential backoff for retrying a database call, capped at 5 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1u64 << attempt.min(6))).min(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    use lapin::protocol::AMQPError;

    use super::*;

    fn io_error(kind: std::io::ErrorKind, text: &str) -> lapin::Error {
        std::io::Error::new(kind, text.to_owned()).into()
    }

    #[tokio::test]
    async fn the_probe_shares_one_handshake_among_callers_within_its_window() {
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counter = handshakes.clone();
        let probe = BrokerProbe::with_handshake(Duration::from_millis(300), move || {
            counter.fetch_add(1, SeqCst);
            Box::pin(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err("RabbitMQ unreachable: test".to_owned())
            })
        });
        let answers = futures::future::join_all((0..20).map(|_| probe.check())).await;
        let failed = Err("RabbitMQ unreachable: test".to_owned());
        assert!(answers.iter().all(|a| *a == failed), "{answers:?}");
        let once = "concurrent callers share one probe";
        assert_eq!(handshakes.load(SeqCst), 1, "{once}");
        assert_eq!(probe.check().await, failed);
        assert_eq!(probe.clone().check().await, failed);
        let reused = "calls within the window reuse its answer";
        assert_eq!(handshakes.load(SeqCst), 1, "{reused}");
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(probe.check().await.is_err());
        assert_eq!(handshakes.load(SeqCst), 2, "a stale answer is probed again");
    }

    #[tokio::test]
    async fn an_unanswered_exchange_is_stuck_whatever_context_is_added_and_an_answer_is_not() {
        let after = Duration::from_millis(50);
        let never = std::future::pending::<anyhow::Result<()>>();
        let e = within_after("publish confirm", after, never)
            .await
            .context("Failed to mark rows")
            .unwrap_err();
        assert!(is_stuck(&e), "{e:#}");
        let text = format!("{e:#}");
        assert!(
            text.contains("publish confirm") && text.contains("AMQP_TIMEOUT (50ms)"),
            "{text}"
        );
        let answered = within_after("channel.open", after, async { Ok(7) }).await;
        assert_eq!(answered.unwrap(), 7);
        let refused = within_after("channel.open", after, async {
            Err::<(), _>(anyhow::anyhow!("channel closed"))
        })
        .await
        .unwrap_err();
        assert!(!is_stuck(&refused), "a refusal is no stall: {refused:#}");
    }

    #[test]
    fn the_heartbeat_asked_for_gives_a_silent_connection_up_within_amqp_timeout() {
        // lapin gives up after two missed intervals: 2 × heartbeat ≤ AMQP_TIMEOUT.
        assert_eq!(heartbeat(), 15, "the default AMQP_TIMEOUT is 30 s");
    }

    #[test]
    fn a_refused_login_names_the_credentials_and_nothing_else_is_called_unreachable() {
        let url = "amqp://guest:S3cret-pw@127.0.0.1:5672/%2f";
        let refused = lapin::Error::ProtocolError(AMQPError::new(
            AMQPErrorKind::Soft(AMQPSoftError::ACCESSREFUSED),
            "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN".into(),
        ));
        let failure = ConnectError::classify(&refused, url);
        assert_eq!(failure, ConnectError::CredentialsRefused);
        let text = failure.to_string();
        assert!(
            text.contains("ACCESS_REFUSED") && text.contains("user and password"),
            "{text}"
        );

        let down = io_error(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let text = ConnectError::classify(&down, url).to_string();
        assert_eq!(text, "RabbitMQ unreachable: IO error: Connection refused");

        let vhost = lapin::Error::ProtocolError(AMQPError::new(
            AMQPErrorKind::Hard(lapin::protocol::AMQPHardError::NOTALLOWED),
            "NOT_ALLOWED - vhost nope not found".into(),
        ));
        let text = ConnectError::classify(&vhost, url).to_string();
        assert_eq!(
            text,
            "RabbitMQ refused the connection: NOT_ALLOWED - vhost nope not found"
        );
    }

    #[test]
    fn no_message_quotes_the_password() {
        // lapin's own parse error quotes the whole URL.
        let bad = "amqp:guest:S3cret-pw@127.0.0.1";
        let quoted = io_error(std::io::ErrorKind::Other, &format!("Invalid URL: '{bad}'"));
        assert_eq!(ConnectError::classify(&quoted, bad), ConnectError::BadUrl);
        let url = "amqp://guest:S3cret-pw@127.0.0.1:5672/%2f";
        let quoted = io_error(
            std::io::ErrorKind::Other,
            &format!("{url} failed; password S3cret-pw"),
        );
        let text = ConnectError::classify(&quoted, url).to_string();
        assert!(text.starts_with("RabbitMQ unreachable"), "{text}");
        assert!(!text.contains("S3cret-pw"), "{text}");
    }
}
