//! RabbitMQ stopped and started mid-storm (`rabbitmqctl stop_app` / `start_app`), connections
//! to it silenced mid-storm, and a disk alarm that blocks its publishers.

use std::time::{Duration, Instant};

use crate::common::{rabbitmqctl, StartOnDrop};
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_stopped_and_started_mid_storm_loses_nothing() {
    rabbitmqctl(&["status"])
        .expect("rabbitmqctl must work here (run the suite as a user that may control the broker)");
    let mut s = Stack::new("rabbitmq_restart", StackOptions::default()).await;
    s.api();
    s.relay();
    s.relay();
    s.worker();
    s.worker();
    s.wait_all_up().await;
    let storm = Storm {
        rate: Some(150),
        ..Storm::new("mqstop", scaled(900))
    }
    .start(s.api_urls(), s.bills.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopped_at = Instant::now();
    rabbitmqctl(&["stop_app"]).expect("stop_app");
    let restart = StartOnDrop;
    tokio::time::sleep(Duration::from_secs(if long() { 15 } else { 3 })).await;
    // Recovery counts from the moment start_app is issued: the command itself may return
    // seconds after the broker is back (through `docker exec`, say), by which time the
    // payments may all be posted already.
    let since = s.db_now().await;
    let started_at = Instant::now();
    rabbitmqctl(&["start_app"]).expect("start_app");
    let start_app_took = started_at.elapsed();
    drop(restart);
    let down = started_at - stopped_at;
    // The API only needs Postgres: collects were accepted the whole time.
    let accepted_while_down = storm_accepted(&storm, stopped_at, started_at);
    let recovery = s.first_post_after(since, started_at).await;
    let ledger = storm.finish().await;
    assert!(
        accepted_while_down > 0,
        "collects accepted while the broker was down"
    );
    s.finish(
        &ledger,
        Some(recovery),
        format!("broker down {down:.1?} mid-storm (2 relays, 2 workers); {accepted_while_down} collects accepted while it was down; start_app returned after {start_app_took:.1?}; recovery = from start_app to the first payment posted again"),
    )
    .await;
}

fn storm_accepted(storm: &StormHandle, from: Instant, to: Instant) -> usize {
    storm.ledger.accepted_between(from, to)
}

/// The relay's and the worker's connections to RabbitMQ go silent mid-storm (a proxy stops
/// forwarding them without closing either side, as a NAT or load balancer that forgets a
/// flow): nothing tells lapin, which waits for a publish confirm or the next delivery for
/// ever (until heartbeats stop: two minutes with the broker's default). `AMQP_TIMEOUT` bounds
/// both: the relay's unconfirmed batch is rolled back and its connection replaced, the
/// worker's heartbeats (half of `AMQP_TIMEOUT`) give its silent connection up, and new
/// connections through the same proxy carry on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_connections_silenced_mid_storm_are_replaced_within_amqp_timeout() {
    let mut s = Stack::new("amqp_silenced", StackOptions::default()).await;
    let broker = amqp_url();
    let proxy = Proxy::start(broker_addr(&broker)).await;
    let via_proxy = with_addr(&broker, proxy.addr);
    let timeout = Duration::from_secs(4);
    let settings = [("AMQP_URL", via_proxy.as_str()), ("AMQP_TIMEOUT", "4s")];
    s.api();
    let relay = s.relay_with(&settings);
    s.worker_with(&settings);
    s.wait_all_up().await;
    let storm = Storm {
        rate: Some(150),
        ..Storm::new("silence", scaled(900))
    }
    .start(s.api_urls(), s.bills.clone());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    proxy.silence();
    let silenced_at = Instant::now();
    let since = s.db_now().await;
    // A batch claimed from here on was published on a connection opened after the silence.
    let recovery = s.first_publish_after(since, silenced_at).await;
    let ledger = storm.finish().await;
    assert!(
        recovery < timeout * 4,
        "the relay published again {recovery:?} after its connection went silent: \
         AMQP_TIMEOUT is {timeout:?} (without it: until heartbeats stop, minutes)"
    );
    let stuck = s.scrape(relay, "collector_amqp_stuck_total", "").await;
    s.finish(
        &ledger,
        Some(recovery),
        format!(
            "relay's and worker's AMQP connections silenced (no close) mid-storm, AMQP_TIMEOUT {timeout:?}; \
             recovery = from the silence to the relay's first batch published on a new connection; \
             relay's exchanges timed out: {stuck}"
        ),
    )
    .await;
    drop(proxy);
}

/// A disk alarm on the broker mid-storm (its free-disk limit raised above the free space):
/// RabbitMQ blocks every connection that publishes, without closing it. The relay's
/// publishes get no confirm; after `AMQP_TIMEOUT` it finds its connection blocked and waits
/// for the alarm to clear instead of opening new connections, which would be blocked in turn
/// and could not even be closed (the broker does not read a blocked connection). The API
/// keeps answering `1000` (the outbox holds the payments); once the limit is restored,
/// everything is published and posted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_alarm_blocks_publishing_and_the_relay_waits_on_its_one_connection() {
    let limit = rabbitmqctl(&["eval", "rabbit_disk_monitor:get_disk_free_limit()."])
        .expect("rabbitmqctl must work here (run the suite as a user that may control the broker)")
        .trim()
        .to_owned();
    assert!(
        limit.parse::<u64>().is_ok(),
        "the broker's disk free limit is a number of bytes: {limit}"
    );
    let timeout = Duration::from_secs(2);
    let options = StackOptions {
        extra_env: vec![("AMQP_TIMEOUT", "2s".into())],
        ..StackOptions::default()
    };
    let mut s = Stack::new("broker_alarm", options).await;
    s.api();
    let relay = s.relay();
    s.worker();
    s.wait_all_up().await;
    let storm = Storm {
        rate: Some(150),
        ..Storm::new("alarm", scaled(900))
    }
    .start(s.api_urls(), s.bills.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let connections_before = relay_connections(&s, relay);
    let raised_at = Instant::now();
    rabbitmqctl(&["set_disk_free_limit", "1000000GB"]).expect("set_disk_free_limit");
    let restore = RestoreDiskFreeLimit(limit.clone());
    // Four AMQP_TIMEOUTs and more: a relay that replaced its connection at each stall would
    // hold several blocked connections by now.
    tokio::time::sleep(timeout * if long() { 10 } else { 5 }).await;
    let blocked = blocked_connections();
    let opened_during_alarm = relay_connections(&s, relay) - connections_before;
    let relay_waits = s.procs[relay]
        .log_text()
        .contains("RabbitMQ has blocked this connection");
    let since = s.db_now().await;
    let cleared_at = Instant::now();
    rabbitmqctl(&["set_disk_free_limit", &limit]).expect("restore the disk free limit");
    drop(restore);
    let alarm = cleared_at - raised_at;
    let accepted_during_alarm = storm.ledger.accepted_between(raised_at, cleared_at);
    let recovery = s.first_publish_after(since, cleared_at).await;
    let ledger = storm.finish().await;
    assert_eq!(
        opened_during_alarm, 0,
        "the relay opened {opened_during_alarm} connections during {alarm:.1?} of alarm: each \
         is blocked as soon as it publishes, and the one it left cannot be closed"
    );
    assert!(
        (1..=2).contains(&blocked),
        "{blocked} blocked connections after {alarm:.1?} of alarm: the relay's one (and the \
         worker's, if it published)"
    );
    assert!(
        relay_waits,
        "the relay saw its connection blocked and said so (see its log)"
    );
    assert!(
        accepted_during_alarm > 0,
        "collects accepted during the alarm"
    );
    s.finish(
        &ledger,
        Some(recovery),
        format!(
            "disk alarm for {alarm:.1?} mid-storm, AMQP_TIMEOUT {timeout:?}; {accepted_during_alarm} collects accepted meanwhile; \
             {blocked} connection(s) blocked at the end of it (the relay kept its one); \
             recovery = from the alarm's end to the relay's first batch published after it"
        ),
    )
    .await;
}

/// Puts the broker's free-disk limit back when dropped, whatever happened.
struct RestoreDiskFreeLimit(String);

impl Drop for RestoreDiskFreeLimit {
    fn drop(&mut self) {
        let _ = rabbitmqctl(&["set_disk_free_limit", &self.0]);
    }
}

/// How many connections the relay process has started relaying on (its log says so on each).
fn relay_connections(s: &Stack, relay: usize) -> usize {
    s.procs[relay].log_text().matches("relay running").count()
}

/// How many connections of the shared broker are `blocked` now: they published during the
/// alarm. (`blocking` ones have not published since it began: they would be blocked if
/// they did.)
fn blocked_connections() -> usize {
    rabbitmqctl(&["-q", "list_connections", "state"])
        .expect("rabbitmqctl list_connections")
        .lines()
        .filter(|state| state.trim() == "blocked")
        .count()
}

/// The broker `url` names, as a socket address.
fn broker_addr(url: &str) -> std::net::SocketAddr {
    use std::net::ToSocketAddrs;
    let uri: lapin::uri::AMQPUri = url.parse().expect("AMQP_URL parses");
    (uri.authority.host.as_str(), uri.authority.port)
        .to_socket_addrs()
        .expect("AMQP_URL's host resolves")
        .next()
        .expect("AMQP_URL's host has an address")
}

/// `url` with its host and port replaced by `addr` (credentials, vhost and query kept).
fn with_addr(url: &str, addr: std::net::SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("AMQP_URL has a scheme");
    let (userinfo, rest) = match rest.split_once('@') {
        Some((userinfo, rest)) => (format!("{userinfo}@"), rest),
        None => (String::new(), rest),
    };
    let tail = rest.find(['/', '?']).map_or("", |i| &rest[i..]);
    format!("{scheme}://{userinfo}{addr}{tail}")
}
