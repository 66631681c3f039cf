//! A three-node RabbitMQ cluster of the installed version (`c1..c3@localhost`), started by
//! `scripts/rabbit-cluster` in a folder of the case's own, next to (never touching) the
//! machine's default broker; stopped again when dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::process::Command;

/// The script that starts, stops and controls the cluster.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/rabbit-cluster")
}

pub struct Cluster {
    pub dir: PathBuf,
    /// Each node's AMQP URL, node 1 first.
    addresses: Vec<String>,
    /// How long the cluster took to form.
    pub formed_in: Duration,
}

impl Cluster {
    /// Starts three nodes in `<target tmp>/cluster/<case>` and clusters them.
    pub async fn start(case: &str) -> Self {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("cluster")
            .join(case);
        let started = Instant::now();
        let start = ["start", dir.to_str().unwrap()];
        let out = match attempt(&start, Path::new(env!("CARGO_TARGET_TMPDIR"))).await {
            Ok(out) => out,
            Err(why) => {
                // The nodes that did start go: a failed start leaves no `Cluster` to drop.
                let _ = attempt(&["stop", dir.to_str().unwrap()], &dir).await;
                panic!("scripts/rabbit-cluster start failed:\n{why}");
            }
        };
        let formed_in = started.elapsed();
        let url = out
            .lines()
            .find_map(|l| l.strip_prefix("export AMQP_URL="))
            .unwrap_or_else(|| panic!("rabbit-cluster start printed no AMQP_URL:\n{out}"))
            .trim_matches(['\'', '"'])
            .to_owned();
        let addresses: Vec<String> = workers::broker::addresses(&url)
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(addresses.len(), 3, "{url}");
        Self {
            dir,
            addresses,
            formed_in,
        }
    }

    /// `AMQP_URL` listing every node, starting with node `first` (1-based).
    pub fn url_from(&self, first: usize) -> String {
        let n = self.addresses.len();
        (0..n)
            .map(|i| self.addresses[(first - 1 + i) % n].clone())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `host:port` of node `i`, as `/readyz` and the metrics name it.
    pub fn node(&self, i: usize) -> String {
        workers::broker::node_of(&self.addresses[i - 1])
    }

    /// Which node (1-based) `host:port` is.
    pub fn index_of(&self, node: &str) -> Option<usize> {
        (1..=self.addresses.len()).find(|&i| self.node(i) == node)
    }

    pub async fn stop_node(&self, i: usize) {
        run(&["stop-node", &i.to_string(), self.dir.to_str().unwrap()]).await;
    }

    pub async fn start_node(&self, i: usize) {
        run(&["start-node", &i.to_string(), self.dir.to_str().unwrap()]).await;
    }

    /// `rabbitmqctl` against node `i`; its output.
    pub async fn ctl(&self, i: usize, args: &[&str]) -> String {
        self.ctl_attempt(i, args)
            .await
            .unwrap_or_else(|why| panic!("scripts/rabbit-cluster failed: {why}"))
    }

    /// `rabbitmqctl` against node `i`; its output, or `None` if it failed (the node is down).
    pub async fn try_ctl(&self, i: usize, args: &[&str]) -> Option<String> {
        self.ctl_attempt(i, args).await.ok()
    }

    async fn ctl_attempt(&self, i: usize, args: &[&str]) -> Result<String, String> {
        let node = i.to_string();
        let mut all = vec!["ctl", node.as_str()];
        all.extend_from_slice(args);
        attempt(&all, &self.dir).await
    }

    /// The node (1-based) that leads quorum queue `queue`, as node `via` sees it; `None` if
    /// `via` does not answer or names no leader.
    pub async fn try_leader_of(&self, queue: &str, via: usize) -> Option<usize> {
        let args = ["-q", "list_queues", "name", "leader", "--no-table-headers"];
        let out = self.try_ctl(via, &args).await?;
        let leader = out.lines().find_map(|l| {
            let mut cols = l.split_whitespace();
            (cols.next() == Some(queue)).then(|| cols.next().unwrap_or("").to_owned())
        })?;
        // `c2@localhost` is node 2.
        leader.strip_prefix('c')?.split('@').next()?.parse().ok()
    }

    /// Waits until stopping node `i` would leave every quorum queue a quorum
    /// (`rabbitmq-queues check_if_node_is_quorum_critical`): the step of a rolling restart.
    pub async fn await_not_quorum_critical(&self, i: usize) {
        let start = Instant::now();
        let node = i.to_string();
        let args = ["queues", node.as_str(), "check_if_node_is_quorum_critical"];
        while try_run(&args, &self.dir).await.is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "node {i} still quorum critical after 120 s"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// How many members each quorum queue of the cluster has, asked of node `via`.
    pub async fn members(&self, via: usize) -> BTreeMap<String, usize> {
        let out = self
            .ctl(
                via,
                &["-q", "list_queues", "name", "members", "--no-table-headers"],
            )
            .await;
        out.lines()
            .filter_map(|l| {
                let (name, members) = l.split_once(char::is_whitespace)?;
                Some((name.to_owned(), members.matches("@localhost").count()))
            })
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(script())
            .args(["stop", self.dir.to_str().unwrap()])
            .output();
    }
}

/// Runs the script; its standard output. Panics with its output if it fails.
async fn run(args: &[&str]) -> String {
    run_in(args, Path::new(env!("CARGO_TARGET_TMPDIR"))).await
}

/// Runs the script; its standard output, or `None` if it failed.
async fn try_run(args: &[&str], dir: &Path) -> Option<String> {
    attempt(args, dir).await.ok()
}

/// Runs the script; its standard output, or all it printed if it failed.
async fn attempt(args: &[&str], dir: &Path) -> Result<String, String> {
    let out = Command::new(script())
        .args(args)
        .env("CLUSTER_DIR", dir)
        .output()
        .await
        .map_err(|e| format!("cannot run scripts/rabbit-cluster: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!("{args:?}:\n{stdout}\n{stderr}"))
    }
}

async fn run_in(args: &[&str], dir: &Path) -> String {
    attempt(args, dir)
        .await
        .unwrap_or_else(|why| panic!("scripts/rabbit-cluster failed: {why}"))
}
