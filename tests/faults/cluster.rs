//! A three-node RabbitMQ cluster of the case's own (`Cluster`), the processes given all three
//! nodes in `AMQP_URL`, and nodes lost mid-storm: the workers' node, the posting queue's
//! leader, two of three (no quorum), and every node in turn (a rolling restart). Each case
//! ends with the promise's check, and reports as its recovery the longest stretch in which
//! nothing was posted while the storm ran.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::harness::*;

/// The storms' rate, collects/s.
const RATE: u32 = 150;

/// A storm at `RATE` that goes on until the case ends it (`end_storm`), at most 10 minutes:
/// payments arrive all through the fault, however long the nodes take to stop and start.
fn storm(case: &str) -> Storm {
    Storm {
        rate: Some(RATE),
        ..Storm::new(case, (RATE * 600) as usize)
    }
}

/// Sends `RATE` collects a second for `seconds` more (ten times longer with `FAULTS_LONG=1`),
/// then stops sending and waits for the storm's last answers.
async fn end_storm(storm: StormHandle, seconds: u64) -> Arc<Ledger> {
    tokio::time::sleep(Duration::from_secs(if long() {
        seconds * 10
    } else {
        seconds
    }))
    .await;
    storm.stop_sending();
    storm.finish().await
}

/// A stack whose processes know the three nodes, node 1 first.
async fn stack(case: &str, cluster: &Cluster) -> Stack {
    let options = StackOptions {
        amqp_url: Some(cluster.url_from(1)),
        ..StackOptions::default()
    };
    Stack::new(case, options).await
}

/// Every quorum queue of the topology has a member on each of the three nodes.
async fn assert_members_everywhere(s: &Stack, cluster: &Cluster) {
    let members = cluster.members(1).await;
    for queue in s.topology.all_queues() {
        let n = members.get(&queue).copied().unwrap_or(0);
        assert_eq!(n, 3, "[{}] {queue} has {n} members: {members:?}", s.case);
    }
}

/// Ends the storm (3 s on), the watch and the case, whose recovery is the longest stall;
/// `notes` is given how many collects were answered `1000` from `fault_at` until now.
async fn finish_stalled(
    s: Stack,
    storm: StormHandle,
    watch: PostingWatch,
    fault_at: Instant,
    notes: impl FnOnce(usize) -> String,
) {
    let during = storm.ledger.accepted_between(fault_at, Instant::now());
    let ledger = end_storm(storm, 3).await;
    let stall = watch.finish();
    let notes = format!(
        "{}; recovery = longest stretch in which payments waited and none was posted",
        notes(during)
    );
    s.finish(&ledger, Some(stall), notes).await;
}

/// Waits until `who` in process `index` is connected to a node that `wanted` accepts; the
/// node (1-based).
async fn wait_on_node(
    s: &Stack,
    cluster: &Cluster,
    index: usize,
    who: &str,
    wanted: impl Fn(usize) -> bool,
) -> usize {
    let start = Instant::now();
    loop {
        let nodes = s.broker_nodes(index).await;
        if let Some(node) = nodes.get(who).and_then(|n| cluster.index_of(n)) {
            if wanted(node) {
                return node;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "[{}] {who} of process {index} not on the wanted node after 60 s: {nodes:?}",
            s.case
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Samples, every 50 ms, how many payments are posted and how many wait, and keeps the
/// longest stretch in which payments waited and none was posted.
struct PostingWatch {
    longest_ms: Arc<AtomicU64>,
    stop: CancellationToken,
}

impl PostingWatch {
    fn start(s: &Stack) -> Self {
        let (pool, longest_ms, stop) = (
            s.db.pool.clone(),
            Arc::new(AtomicU64::new(0)),
            CancellationToken::new(),
        );
        let (longest, cancel) = (longest_ms.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut last, mut since) = (-1i64, Instant::now());
            while !cancel.is_cancelled() {
                let posted: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM collections WHERE status = 'posted'")
                        .fetch_one(&pool)
                        .await
                        .unwrap_or(last);
                if posted != last {
                    (last, since) = (posted, Instant::now());
                }
                longest.fetch_max(since.elapsed().as_millis() as u64, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        Self { longest_ms, stop }
    }

    /// Stops watching; the longest stall.
    fn finish(self) -> Duration {
        self.stop.cancel();
        Duration::from_millis(self.longest_ms.load(Ordering::SeqCst))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_node_of_the_workers_stopped_mid_storm_loses_nothing() {
    let cluster = Cluster::start("workers_node").await;
    let mut s = stack("cluster_workers_node", &cluster).await;
    s.api();
    // The relay starts on node 2, so that node 1's loss is the workers' alone.
    let relay_url = cluster.url_from(2);
    let relay = s.relay_with(&[("AMQP_URL", relay_url.as_str())]);
    let workers = [s.worker(), s.worker()];
    s.wait_all_up().await;
    for w in workers {
        wait_on_node(&s, &cluster, w, "worker", |n| n == 1).await;
    }
    wait_on_node(&s, &cluster, relay, "relay", |n| n == 2).await;
    assert_members_everywhere(&s, &cluster).await;
    let storm = storm("clworkers").start(s.api_urls(), s.bills.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let watch = PostingWatch::start(&s);
    let fault_at = Instant::now();
    cluster.stop_node(1).await;
    for w in workers {
        wait_on_node(&s, &cluster, w, "worker", |n| n != 1).await;
    }
    let formed_in = cluster.formed_in;
    finish_stalled(s, storm, watch, fault_at, |during| {
        format!(
            "3-node cluster (formed in {formed_in:.1?}); node 1, where both workers were, stopped \
             mid-storm ({RATE}/s) and left down, {during} collects answered 1000 until the workers \
             had failed over to the other nodes"
        )
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_posting_queue_leader_stopped_mid_storm_loses_nothing() {
    let cluster = Cluster::start("leader").await;
    let mut s = stack("cluster_posting_leader", &cluster).await;
    // The topology first, to learn where the posting queue leads; then every process on
    // another node, so that what is lost is the leader alone.
    declare_topology(&s, &cluster).await;
    let posting = s.topology.posting_queue();
    let leader = wait_for_leader(&cluster, &posting, |_| true).await;
    let elsewhere = cluster.url_from(leader % 3 + 1);
    let on_other_node = [("AMQP_URL", elsewhere.as_str())];
    s.api();
    let relay = s.relay_with(&on_other_node);
    let workers = [s.worker_with(&on_other_node), s.worker_with(&on_other_node)];
    s.wait_all_up().await;
    wait_on_node(&s, &cluster, relay, "relay", |n| n != leader).await;
    for w in workers {
        wait_on_node(&s, &cluster, w, "worker", |n| n != leader).await;
    }
    assert_members_everywhere(&s, &cluster).await;
    let storm = storm("clleader").start(s.api_urls(), s.bills.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let watch = PostingWatch::start(&s);
    let fault_at = Instant::now();
    cluster.stop_node(leader).await;
    let new_leader = wait_for_leader(&cluster, &posting, |n| n != leader).await;
    finish_stalled(s, storm, watch, fault_at, |during| {
        format!(
            "3-node cluster; the posting queue's leader (node {leader}) stopped mid-storm \
             ({RATE}/s) and left down, every process on other nodes; node {new_leader} took the \
             lead ({during} collects answered 1000 meanwhile)"
        )
    })
    .await;
}

/// Declares the case's topology on the cluster.
async fn declare_topology(s: &Stack, cluster: &Cluster) {
    let connection = workers::broker::connect(&cluster.url_from(1))
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    s.topology.declare(&channel).await.unwrap();
    workers::broker::close(connection, "declared").await;
}

/// The node leading `queue` once it is one that `wanted` accepts (asked of whichever node
/// answers).
async fn wait_for_leader(cluster: &Cluster, queue: &str, wanted: impl Fn(usize) -> bool) -> usize {
    let start = Instant::now();
    loop {
        for via in 1..=3 {
            match cluster.try_leader_of(queue, via).await {
                Some(leader) if wanted(leader) => return leader,
                _ => {}
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{queue} has no leader after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_two_of_three_nodes_stopped_lose_nothing_once_one_returns() {
    let cluster = Cluster::start("no_quorum").await;
    let mut s = stack("cluster_no_quorum", &cluster).await;
    s.api();
    s.relay();
    s.worker();
    s.worker();
    s.wait_all_up().await;
    assert_members_everywhere(&s, &cluster).await;
    let storm = storm("clquorum").start(s.api_urls(), s.bills.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let watch = PostingWatch::start(&s);
    cluster.stop_node(2).await;
    cluster.stop_node(3).await;
    let lost_quorum = Instant::now();
    tokio::time::sleep(Duration::from_secs(if long() { 20 } else { 5 })).await;
    let backlog_at_worst: i64 =
        sqlx::query_scalar("SELECT count(*) FROM collections WHERE status <> 'posted'")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    let since = s.db_now().await;
    let returning = Instant::now();
    cluster.start_node(2).await;
    let recovery = s.first_post_after(since, returning).await;
    let without_quorum = returning - lost_quorum;
    let accepted = storm.ledger.accepted_between(lost_quorum, returning);
    let ledger = end_storm(storm, 3).await;
    let stall = watch.finish();
    assert!(accepted > 0, "collects answered 1000 without a quorum");
    s.finish(
        &ledger,
        Some(recovery),
        format!(
            "3-node cluster; nodes 2 and 3 stopped mid-storm ({RATE}/s): {without_quorum:.1?} \
             without a quorum, {accepted} collects answered 1000 meanwhile, {backlog_at_worst} \
             payments waiting; recovery = from node 2's start to the first payment posted \
             (longest stretch in which payments waited and none was posted: {stall:.1?})"
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_rolling_restart_under_load_loses_nothing() {
    let cluster = Cluster::start("rolling").await;
    let mut s = stack("cluster_rolling_restart", &cluster).await;
    s.api();
    s.relay();
    s.relay_with(&[("AMQP_URL", cluster.url_from(3).as_str())]);
    s.worker();
    s.worker_with(&[("AMQP_URL", cluster.url_from(2).as_str())]);
    s.wait_all_up().await;
    assert_members_everywhere(&s, &cluster).await;
    let storm = storm("clrolling").start(s.api_urls(), s.bills.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let watch = PostingWatch::start(&s);
    let rolled = Instant::now();
    for node in 1..=3 {
        // A node goes only once its loss leaves every quorum queue a quorum.
        cluster.await_not_quorum_critical(node).await;
        cluster.stop_node(node).await;
        cluster.start_node(node).await;
    }
    cluster.await_not_quorum_critical(1).await;
    let rolling = rolled.elapsed();
    assert_members_everywhere(&s, &cluster).await;
    finish_stalled(s, storm, watch, rolled, |during| {
        format!(
            "3-node cluster restarted node by node under a {RATE}/s storm (2 relays, 2 workers \
             spread over the nodes) in {rolling:.1?}, {during} collects answered 1000 meanwhile"
        )
    })
    .await;
}
