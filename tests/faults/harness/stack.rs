//! What a case sets up and drives: a fresh database with bills, a unique AMQP prefix, the
//! fake core, the `collector` processes, and what a case reads from them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use collector::config::parse_schedule;
use workers::fake_core::Switches;
use workers::topology::Topology;

use super::{
    amqp_url, free_port, CoreServer, Proc, Proxy, Role, TestDb, ADMIN_TOKEN, KEY, PAYER_ADDRESS,
    PAYER_FIRST, PAYER_LAST, PAYER_PHONE, USER,
};

/// What a case sets up.
pub struct StackOptions {
    pub retry_schedule: &'static str,
    pub core: Switches,
    pub core_timeout_secs: u64,
    pub prefetch: u16,
    /// Route the API's database connections through a cuttable proxy.
    pub api_through_proxy: bool,
    pub pool_size: u32,
    pub bills: usize,
    pub extra_env: Vec<(&'static str, String)>,
    /// The processes' `AMQP_URL` (a cluster's nodes, say); the test broker by default.
    pub amqp_url: Option<String>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            retry_schedule: "200ms,400ms,800ms,1s,1s,1s",
            core: Switches::default(),
            core_timeout_secs: 2,
            prefetch: 32,
            api_through_proxy: false,
            pool_size: 10,
            bills: 50,
            extra_env: Vec::new(),
            amqp_url: None,
        }
    }
}

pub struct Stack {
    pub case: String,
    pub db: TestDb,
    pub prefix: String,
    pub topology: Topology,
    pub dir: PathBuf,
    pub core: CoreServer,
    pub proxy: Option<Proxy>,
    pub procs: Vec<Proc>,
    options: StackOptions,
    pub bills: Vec<String>,
}

impl Stack {
    pub async fn new(case: &str, options: StackOptions) -> Self {
        let db = TestDb::new().await;
        let prefix = format!("faults-{}", uuid::Uuid::new_v4().simple());
        let topology = Topology::new(&prefix, parse_schedule(options.retry_schedule).unwrap());
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("faults")
            .join(case);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let core = CoreServer::start(options.core.clone()).await;
        let proxy = if options.api_through_proxy {
            let (server, _) = crate::common::postgres_endpoint();
            Some(Proxy::start(server.parse().expect("DATABASE_URL's host:port")).await)
        } else {
            None
        };
        let mut bills = Vec::new();
        for i in 0..options.bills {
            let control_number = format!("SKY07{i:08}");
            sqlx::query(
                "INSERT INTO bills (control_number, loan_ref, amount_due, outstanding, allow_partial, \
                     payer_last_name, payer_first_name, payer_address, payer_phone) \
                 VALUES ($1, $2, 99999999.99, 99999999.99, true, $3, $4, $5, $6)",
            )
            .bind(&control_number)
            .bind(format!("LN-F{i:05}"))
            .bind(PAYER_LAST)
            .bind(PAYER_FIRST)
            .bind(PAYER_ADDRESS)
            .bind(PAYER_PHONE)
            .execute(&db.pool)
            .await
            .unwrap();
            bills.push(control_number);
        }
        Self {
            case: case.to_owned(),
            db,
            prefix,
            topology,
            dir,
            core,
            proxy,
            procs: Vec::new(),
            options,
            bills,
        }
    }

    fn env(&self, role: Role) -> Vec<(String, String)> {
        let database_url = match (&self.proxy, role) {
            (Some(proxy), Role::Api) => proxy.url(&self.db.name),
            _ => self.db.url.clone(),
        };
        let mut env: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), database_url),
            (
                "DATABASE_POOL_SIZE".into(),
                self.options.pool_size.to_string(),
            ),
            ("AMQP_URL".into(), self.amqp_url()),
            ("AMQP_PREFIX".into(), self.prefix.clone()),
            ("CORE_LOAN_URL".into(), self.core.url()),
            ("ADMIN_TOKEN".into(), ADMIN_TOKEN.into()),
            ("SKYPAY_CREDENTIALS".into(), format!("{USER}:{KEY}")),
            ("RETRY_SCHEDULE".into(), self.options.retry_schedule.into()),
            (
                "CORE_LOAN_TIMEOUT_SECS".into(),
                self.options.core_timeout_secs.to_string(),
            ),
            ("WORKER_PREFETCH".into(), self.options.prefetch.to_string()),
            ("LOG_FORMAT".into(), "json".into()),
            // Everything our code logs, at every level, is checked for personal data.
            (
                "RUST_LOG".into(),
                "debug,sqlx=warn,lapin=info,hyper=info,h2=info,tower=info,reqwest=info,amqprs=info"
                    .into(),
            ),
            ("RUST_BACKTRACE".into(), "0".into()),
        ];
        for (k, v) in &self.options.extra_env {
            env.push(((*k).into(), v.clone()));
        }
        env
    }

    /// The `AMQP_URL` the processes are given.
    pub fn amqp_url(&self) -> String {
        self.options.amqp_url.clone().unwrap_or_else(amqp_url)
    }

    fn add(&mut self, role: Role, args: &[&str]) -> usize {
        self.add_with(role, args, &[])
    }

    fn add_with(&mut self, role: Role, args: &[&str], extra: &[(&str, &str)]) -> usize {
        let n = self.procs.iter().filter(|p| p.role == role).count();
        let name = format!("{role:?}-{n}").to_lowercase();
        let public_port = free_port();
        let admin_port = free_port();
        let mut env = self.env(role);
        env.push(("LISTEN_ADDR".into(), format!("127.0.0.1:{public_port}")));
        env.push((
            "ADMIN_LISTEN_ADDR".into(),
            format!("127.0.0.1:{admin_port}"),
        ));
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if role != Role::Api {
            args.push("--metrics-addr".into());
            args.push(format!("127.0.0.1:{admin_port}"));
        }
        let mut proc = Proc {
            log: self.dir.join(format!("{name}.log")),
            name,
            role,
            args,
            env,
            child: None,
            public_port,
            admin_port,
            starts: 0,
            kills: 0,
        };
        proc.spawn();
        self.procs.push(proc);
        self.procs.len() - 1
    }

    /// The SkyPay and admin APIs, without the relay (relays are started on their own).
    /// A stack whose one API reaches Postgres through the cuttable proxy, started and up;
    /// the API's index.
    pub async fn with_api_behind_proxy(case: &str) -> (Self, usize) {
        let options = StackOptions {
            api_through_proxy: true,
            ..StackOptions::default()
        };
        let mut s = Self::new(case, options).await;
        let api = s.api();
        s.wait_up(api).await;
        (s, api)
    }

    pub fn api(&mut self) -> usize {
        self.add(Role::Api, &["serve", "--no-relay"])
    }

    /// An API with settings of its own (an allow-list, say).
    pub fn api_with(&mut self, extra: &[(&str, &str)]) -> usize {
        self.add_with(Role::Api, &["serve", "--no-relay"], extra)
    }

    pub fn relay(&mut self) -> usize {
        self.add(Role::Relay, &["relay"])
    }

    pub fn worker(&mut self) -> usize {
        self.add(Role::Worker, &["worker"])
    }

    /// A relay with settings of its own (its own order of a cluster's nodes, say).
    pub fn relay_with(&mut self, extra: &[(&str, &str)]) -> usize {
        self.add_with(Role::Relay, &["relay"], extra)
    }

    pub fn worker_with(&mut self, extra: &[(&str, &str)]) -> usize {
        self.add_with(Role::Worker, &["worker"], extra)
    }

    /// Which broker node (`host:port`) each part of process `index` is on, from its
    /// `/readyz` (`broker_nodes`).
    pub async fn broker_nodes(&self, index: usize) -> std::collections::BTreeMap<String, String> {
        let url = format!("{}/readyz", self.procs[index].admin_url());
        let Ok(answer) = reqwest::get(&url).await else {
            return Default::default();
        };
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        serde_json::from_value(body["broker_nodes"].clone()).unwrap_or_default()
    }

    /// Waits until the process answers `/healthz` (APIs: `/readyz`, which needs the database).
    /// Panics if a process died by itself (not killed by the case).
    pub fn assert_alive(&mut self) {
        for proc in &mut self.procs {
            if let Some(status) = proc.exited() {
                panic!(
                    "[{}] {} exited by itself ({status}):\n{}",
                    self.case,
                    proc.name,
                    proc.log_tail()
                );
            }
        }
    }

    pub async fn wait_up(&mut self, index: usize) -> Duration {
        self.assert_alive();
        let proc = &self.procs[index];
        let path = if proc.role == Role::Api {
            "/readyz"
        } else {
            "/healthz"
        };
        let url = format!("{}{path}", proc.admin_url());
        let client = reqwest::Client::new();
        let start = Instant::now();
        loop {
            if let Ok(r) = client
                .get(&url)
                .timeout(Duration::from_secs(1))
                .send()
                .await
            {
                if r.status().is_success() {
                    return start.elapsed();
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{} did not come up; see {}",
                proc.name,
                proc.log.display()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn wait_all_up(&mut self) {
        for i in 0..self.procs.len() {
            if self.procs[i].running() {
                self.wait_up(i).await;
            }
        }
    }

    pub fn api_urls(&self) -> Vec<String> {
        self.procs
            .iter()
            .filter(|p| p.role == Role::Api)
            .map(Proc::public_url)
            .collect()
    }

    pub fn index_of(&self, role: Role, n: usize) -> usize {
        self.procs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.role == role)
            .nth(n)
            .map(|(i, _)| i)
            .unwrap()
    }

    /// Sums the samples of `metric` whose labels contain `label` in a process's `/metrics`
    /// (0 when absent).
    pub async fn scrape(&self, index: usize, metric: &str, label: &str) -> f64 {
        let url = format!("{}/metrics", self.procs[index].admin_url());
        let text = match reqwest::get(&url).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => return 0.0,
        };
        text.lines()
            .filter(|l| l.starts_with(metric) && l.contains(label))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// The database's clock now (collections' `posted_at` is on it).
    pub async fn db_now(&self) -> chrono::DateTime<chrono::Utc> {
        sqlx::query_scalar("SELECT now()")
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// How long after `since` (a fault's end, on the database's clock, taken at `at`) the
    /// first payment was posted again.
    pub async fn first_post_after(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        at: Instant,
    ) -> Duration {
        let query = "SELECT count(*) FROM collections WHERE posted_at > $1";
        self.first_after("posted", query, since, at).await
    }

    /// How long after `since` (on the database's clock, taken at `at`) a relay first marked
    /// outbox rows published: a batch whose claim began after `since`.
    pub async fn first_publish_after(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        at: Instant,
    ) -> Duration {
        let query = "SELECT count(*) FROM outbox WHERE published_at > $1";
        self.first_after("published", query, since, at).await
    }

    async fn first_after(
        &self,
        what: &str,
        query: &'static str,
        since: chrono::DateTime<chrono::Utc>,
        at: Instant,
    ) -> Duration {
        // 120 s from now, not from `at`: a `start_app` that took long to return is no
        // pipeline's fault (its time is in `at.elapsed()` and the panic says so).
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let n: i64 = sqlx::query_scalar(query)
                .bind(since)
                .fetch_one(&self.db.pool)
                .await
                .unwrap();
            if n > 0 {
                return at.elapsed();
            }
            if Instant::now() > deadline {
                panic!(
                    "[{}] nothing {what} in the 120 s since this check began ({:.1?} after the \
                     fault ended)\n{}",
                    self.case,
                    at.elapsed(),
                    self.diagnosis().await
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What a stalled case leaves to go on, for its panic message (CI keeps no log files):
    /// the collections by status, the outbox backlog, the case's queues and the connections
    /// as the broker sees them (on the shared broker), and each process's last complaints.
    pub async fn diagnosis(&self) -> String {
        let mut out = String::new();
        let by_status: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, count(*) FROM collections GROUP BY status ORDER BY 1")
                .fetch_all(&self.db.pool)
                .await
                .unwrap_or_default();
        let unpublished: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(&self.db.pool)
                .await
                .unwrap_or(-1);
        out += &format!(
            "collections by status {by_status:?}; {unpublished} outbox rows unpublished\n"
        );
        if self.options.amqp_url.is_none() {
            let queues = crate::common::rabbitmqctl(&[
                "-q",
                "list_queues",
                "name",
                "messages_ready",
                "messages_unacknowledged",
                "consumers",
            ]);
            let ours: Vec<String> = match &queues {
                Ok(text) => text
                    .lines()
                    .filter(|l| l.contains(&self.prefix))
                    .map(str::to_owned)
                    .collect(),
                Err(e) => vec![format!("rabbitmqctl list_queues failed: {e}")],
            };
            out += &format!("queues (name ready unacked consumers): {ours:?}\n");
            let connections = crate::common::rabbitmqctl(&[
                "-q",
                "list_connections",
                "name",
                "state",
                "channels",
            ]);
            let connections =
                connections.unwrap_or_else(|e| format!("rabbitmqctl list_connections failed: {e}"));
            out += &format!("broker connections:\n{connections}\n");
        }
        for proc in &self.procs {
            out += &format!(
                "--- {} ({}), last complaints:\n{}\n",
                proc.name,
                if proc.running() { "running" } else { "stopped" },
                proc.last_complaints(12)
            );
        }
        out
    }

    /// Stops every process, deletes the queues, drops the database. The logs stay in
    /// `target/tmp/faults/<case>/`.
    pub async fn teardown(mut self) {
        for proc in &mut self.procs {
            proc.kill().await;
        }
        self.core.stop();
        if self.options.amqp_url.is_none() {
            // A case's own broker (a cluster) goes with everything on it.
            crate::common::delete_topology(&self.topology).await;
        }
        drop(self.proxy.take());
        self.db.drop_database().await;
    }
}
