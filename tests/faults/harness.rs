//! The fault harness: the real `collector` binary as separate processes (API, relays,
//! workers) on a fresh database and a unique AMQP prefix, the fake core loan system in this
//! process (so that it can be stopped, slowed and read back), a SkyPay-like client that sends
//! collect storms and retries what got no answer, and the check of the promise:
//!
//! every collect answered `1000` reaches the core loan system exactly once in effect, or sits
//! dead-lettered with its reason; nothing answered otherwise is posted.

#![allow(dead_code)] // each case uses its own part

use std::collections::{HashMap, HashSet};
use std::fs::OpenOptions;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use collector::config::parse_schedule;
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use workers::fake_core::{self, FakeCore, Switches};
use workers::topology::Topology;

pub use crate::common::{amqp_url, TestDb};
use crate::proxy::Proxy;

pub const BIN: &str = env!("CARGO_BIN_EXE_collector");
pub const USER: &str = "skypay-faults";
pub const KEY: &str = "faults-skypay-key-6f1d2c";
pub const ADMIN_TOKEN: &str = "faults-admin-token-93b0e7a4";
pub const PAYER_LAST: &str = "Dimaculangan";
pub const PAYER_FIRST: &str = "Marisol";
pub const PAYER_ADDRESS: &str = "27 Kalayaan Ave, Diliman, Quezon City";
pub const PAYER_PHONE: &str = "09175550123";

/// `FAULTS_LONG=1` runs every storm ten times bigger (`scripts/faults --long`).
pub fn long() -> bool {
    std::env::var("FAULTS_LONG").is_ok_and(|v| v == "1")
}

pub fn scaled(short: usize) -> usize {
    if long() {
        short * 10
    } else {
        short
    }
}

/// A port for a child process to listen on. Ports are handed out from a counter below the
/// kernel's ephemeral range, so that neither another child nor an outgoing connection of the
/// storm can take a port between the check and the child's bind (it did once: a worker
/// died on "address in use" while another process answered its health check).
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        20_000 + (std::process::id() % 500) as u16 * 20,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(port < 32_000, "out of test ports");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Api,
    Relay,
    Worker,
}

/// One `collector` process. Its output goes (appended over restarts) to a log file that the
/// case greps for personal data and secrets at the end.
pub struct Proc {
    pub name: String,
    pub role: Role,
    args: Vec<String>,
    env: Vec<(String, String)>,
    pub log: PathBuf,
    child: Option<Child>,
    pub public_port: u16,
    pub admin_port: u16,
    pub starts: u32,
    pub kills: u32,
}

impl Proc {
    fn spawn(&mut self) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(BIN)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        self.child = Some(child);
        self.starts += 1;
    }

    pub fn public_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.public_port)
    }

    pub fn admin_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.admin_port)
    }

    /// SIGKILL: no shutdown code runs.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
            self.kills += 1;
        }
    }

    /// SIGTERM, then waits for the exit; returns whether it exited 0.
    pub async fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(30), child.wait()).await {
            Ok(Ok(status)) => status.success(),
            _ => {
                let _ = child.start_kill();
                false
            }
        }
    }

    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "{} is still running", self.name);
        self.spawn();
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Peak resident memory (`VmHWM`) in KiB, from `/proc`.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// `Some(exit status)` when the process has exited on its own.
    pub fn exited(&mut self) -> Option<String> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        Some(status.to_string())
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }
}

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
            ("AMQP_URL".into(), amqp_url()),
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

    /// Waits until every recorded collection has a final status (posted or dead-lettered)
    /// and the outbox is drained; returns how long that took.
    pub async fn settle(&mut self, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            self.assert_alive();
            let (open, unpublished): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM collections WHERE status NOT IN ('posted', 'dead_lettered')), \
                        (SELECT count(*) FROM outbox WHERE published_at IS NULL)",
            )
            .fetch_one(&self.db.pool)
            .await
            .unwrap();
            if open == 0 && unpublished == 0 {
                return start.elapsed();
            }
            if start.elapsed() > limit {
                let by_status: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT status, count(*) FROM collections GROUP BY status ORDER BY status",
                )
                .fetch_all(&self.db.pool)
                .await
                .unwrap();
                panic!(
                    "[{}] not settled after {limit:?}: {open} collections not final, {unpublished} \
                     outbox rows unpublished; by status {by_status:?}; logs in {}",
                    self.case,
                    self.dir.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Checks the promise against the database and the core's record, and the logs for
    /// personal data and secrets; returns the case's figures.
    pub async fn check(&self, ledger: &Ledger) -> Figures {
        let rows: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT receipt_number, status, last_error FROM collections")
                .fetch_all(&self.db.pool)
                .await
                .unwrap();
        let recorded: HashMap<&str, (&str, Option<&str>)> = rows
            .iter()
            .map(|(r, s, e)| (r.as_str(), (s.as_str(), e.as_deref())))
            .collect();
        assert_eq!(recorded.len(), rows.len(), "one collection per receipt");

        // Posted at the core, per receipt: more than one is a payment posted twice.
        let mut posted_per_receipt: HashMap<String, u32> = HashMap::new();
        for p in self.core.core.posted() {
            let receipt = p.body["receiptNumber"].as_str().unwrap_or("").to_owned();
            *posted_per_receipt.entry(receipt).or_default() += 1;
        }
        let posted_twice: Vec<&String> = posted_per_receipt
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(r, _)| r)
            .collect();

        let outcomes = ledger.outcomes();
        let mut figures = Figures {
            case: self.case.clone(),
            sent: outcomes.len(),
            requests: ledger.requests(),
            ..Figures::default()
        };
        let mut lost = Vec::new();
        let mut wrongly_recorded = Vec::new();
        let mut wrongly_posted = Vec::new();
        for (receipt, outcome) in &outcomes {
            let in_db = recorded.get(receipt.as_str());
            let posted = posted_per_receipt.contains_key(receipt);
            match outcome {
                Outcome::Accepted => figures.answered_1000 += 1,
                Outcome::RecordedByLostAnswer => figures.recorded_by_unanswered_attempt += 1,
                Outcome::Refused(_) => figures.refused += 1,
                Outcome::Unanswered => figures.unanswered += 1,
            }
            match outcome {
                Outcome::Accepted | Outcome::RecordedByLostAnswer => match in_db {
                    Some(("posted", _)) if posted => figures.posted += 1,
                    Some(("dead_lettered", Some(reason))) if !reason.is_empty() => {
                        figures.dead_lettered += 1
                    }
                    _ => lost.push(receipt.clone()),
                },
                // -1009 means nothing was recorded; other refusals record no collection.
                Outcome::Refused(code) => {
                    if in_db.is_some() {
                        wrongly_recorded.push(format!("{receipt} ({code})"));
                    }
                    if posted {
                        wrongly_posted.push(receipt.clone());
                    }
                }
                // No answer ever came: SkyPay would treat it as not collected... but it may
                // have been recorded; then it must be posted like any other.
                Outcome::Unanswered => match in_db {
                    None | Some(("dead_lettered", Some(_))) => {}
                    Some(("posted", _)) if posted => {}
                    Some(_) => lost.push(receipt.clone()),
                },
            }
        }
        // Receipts the storm never sent must not appear either.
        let sent: HashSet<&str> = outcomes.keys().map(String::as_str).collect();
        let strangers: Vec<&&str> = recorded.keys().filter(|r| !sent.contains(**r)).collect();
        figures.lost = lost.len();
        figures.posted_twice = posted_twice.len();
        figures.core_calls = self.core.core.calls_started();
        figures.kills = self.procs.iter().map(|p| p.kills).sum();
        let accepted_twice = ledger.accepted_twice();
        let leaks = self.grep_logs();
        figures.log_lines = leaks.lines;
        println!("[{}] {figures:?}", self.case);
        assert!(lost.is_empty(), "[{}] lost: {lost:?}", self.case);
        assert!(
            accepted_twice.is_empty(),
            "[{}] answered 1000 twice: {accepted_twice:?}",
            self.case
        );
        assert!(
            posted_twice.is_empty(),
            "[{}] posted twice: {posted_twice:?}",
            self.case
        );
        assert!(
            wrongly_recorded.is_empty(),
            "[{}] answered otherwise but recorded: {wrongly_recorded:?}",
            self.case
        );
        assert!(
            wrongly_posted.is_empty(),
            "[{}] answered otherwise but posted: {wrongly_posted:?}",
            self.case
        );
        assert!(
            strangers.is_empty(),
            "[{}] recorded but never sent: {strangers:?}",
            self.case
        );
        assert!(
            leaks.found.is_empty(),
            "[{}] personal data or secrets in the logs: {:?}",
            self.case,
            leaks.found
        );
        figures
    }

    /// Every log line of every process, searched for the payer's name, address and phone,
    /// the SkyPay key and the admin token.
    pub fn grep_logs(&self) -> LogScan {
        let forbidden = [
            PAYER_LAST,
            PAYER_FIRST,
            "Kalayaan",
            PAYER_PHONE,
            &PAYER_PHONE[1..],
            KEY,
            ADMIN_TOKEN,
        ];
        let mut scan = LogScan::default();
        for proc in &self.procs {
            let Ok(text) = std::fs::read_to_string(&proc.log) else {
                continue;
            };
            for line in text.lines() {
                scan.lines += 1;
                for word in forbidden {
                    if line.contains(word) {
                        scan.found.push(format!(
                            "{}: `{word}` in {}",
                            proc.name,
                            line.chars().take(300).collect::<String>()
                        ));
                    }
                }
            }
        }
        scan
    }

    /// Stops every process, deletes the queues, drops the database. The logs stay in
    /// `target/tmp/faults/<case>/`.
    pub async fn teardown(mut self) {
        for proc in &mut self.procs {
            proc.kill().await;
        }
        self.core.stop();
        crate::common::delete_topology(&self.topology).await;
        drop(self.proxy.take());
        self.db.drop_database().await;
    }
}

#[derive(Default)]
pub struct LogScan {
    pub lines: usize,
    pub found: Vec<String>,
}

/// One case's figures, as RELIABILITY.md reports them.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Figures {
    pub case: String,
    /// Distinct collects (receipts) sent.
    pub sent: usize,
    /// HTTP requests, retries included.
    pub requests: usize,
    pub answered_1000: usize,
    /// No answer reached the client, the retry found the receipt recorded (`-1015`).
    pub recorded_by_unanswered_attempt: usize,
    pub refused: usize,
    pub unanswered: usize,
    pub posted: usize,
    pub dead_lettered: usize,
    pub lost: usize,
    pub posted_twice: usize,
    pub core_calls: u64,
    pub kills: u32,
    pub recovery_ms: Option<u64>,
    pub settle_ms: u64,
    pub log_lines: usize,
    pub notes: String,
}

impl Figures {
    /// Appends the figures to `target/tmp/faults/results.jsonl` (RELIABILITY.md is made from it).
    pub fn record(&self) {
        use std::io::Write;
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("faults")
            .join("results.jsonl");
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        let mut line = serde_json::to_value(self).unwrap();
        line["long"] = json!(long());
        line["at"] = json!(chrono::Utc::now().to_rfc3339());
        writeln!(file, "{line}").unwrap();
    }
}

/// What the SkyPay side saw for one receipt, over all its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    /// An attempt got no answer (connection lost), a retry got `-1015`: recorded.
    RecordedByLostAnswer,
    Refused(String),
    Unanswered,
}

#[derive(Debug, Clone)]
pub enum Attempt {
    Answer(String, Instant),
    NoAnswer(String),
}

/// Every attempt of every receipt.
#[derive(Default)]
pub struct Ledger {
    attempts: Mutex<HashMap<String, Vec<Attempt>>>,
}

impl Ledger {
    fn push(&self, receipt: &str, attempt: Attempt) {
        self.attempts
            .lock()
            .unwrap()
            .entry(receipt.to_owned())
            .or_default()
            .push(attempt);
    }

    pub fn requests(&self) -> usize {
        self.attempts.lock().unwrap().values().map(Vec::len).sum()
    }

    pub fn outcomes(&self) -> HashMap<String, Outcome> {
        let attempts = self.attempts.lock().unwrap();
        attempts
            .iter()
            .map(|(receipt, tries)| (receipt.clone(), outcome(tries)))
            .collect()
    }

    /// Every code answered, with its count.
    pub fn codes(&self) -> HashMap<String, usize> {
        let mut codes = HashMap::new();
        for tries in self.attempts.lock().unwrap().values() {
            for t in tries {
                let key = match t {
                    Attempt::Answer(code, _) => code.clone(),
                    Attempt::NoAnswer(_) => "no answer".into(),
                };
                *codes.entry(key).or_default() += 1;
            }
        }
        codes
    }

    /// When the first `1000` after `after` was answered.
    pub fn first_1000_after(&self, after: Instant) -> Option<Instant> {
        self.attempts
            .lock()
            .unwrap()
            .values()
            .flatten()
            .filter_map(|t| match t {
                Attempt::Answer(code, at) if code == "1000" && *at > after => Some(*at),
                _ => None,
            })
            .min()
    }

    /// Receipts answered `1000` more than once (two copies both "recorded").
    pub fn accepted_twice(&self) -> Vec<String> {
        self.attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, tries)| {
                tries
                    .iter()
                    .filter(|t| matches!(t, Attempt::Answer(code, _) if code == "1000"))
                    .count()
                    > 1
            })
            .map(|(receipt, _)| receipt.clone())
            .collect()
    }

    /// `1000`s answered in [from, to).
    pub fn accepted_between(&self, from: Instant, to: Instant) -> usize {
        self.attempts
            .lock()
            .unwrap()
            .values()
            .flatten()
            .filter(|t| matches!(t, Attempt::Answer(code, at) if code == "1000" && *at >= from && *at < to))
            .count()
    }
}

fn outcome(tries: &[Attempt]) -> Outcome {
    let answered = |want: &str| {
        tries
            .iter()
            .any(|t| matches!(t, Attempt::Answer(code, _) if code == want))
    };
    let lost_answer = tries.iter().any(|t| matches!(t, Attempt::NoAnswer(_)));
    if answered("1000") {
        return Outcome::Accepted;
    }
    if answered("-1015") && lost_answer {
        return Outcome::RecordedByLostAnswer;
    }
    // The first definite answer; `-1009` only when nothing else came.
    let definite = tries.iter().find_map(|t| match t {
        Attempt::Answer(code, _) if code != "-1009" => Some(code.clone()),
        _ => None,
    });
    match (definite, tries.last()) {
        (Some(code), _) => Outcome::Refused(code),
        (None, Some(Attempt::Answer(code, _))) => Outcome::Refused(code.clone()),
        _ => Outcome::Unanswered,
    }
}

/// A collect storm, sent as SkyPay would: each receipt is retried (same body) while it gets
/// no answer or `-1009`, until `give_up_after`.
#[derive(Clone)]
pub struct Storm {
    pub receipts: usize,
    pub concurrency: usize,
    /// Collects started per second (open loop); `None`: as fast as `concurrency` allows.
    pub rate: Option<u32>,
    pub receipt_prefix: String,
    pub give_up_after: Duration,
}

impl Storm {
    pub fn new(case: &str, receipts: usize) -> Self {
        Self {
            receipts,
            concurrency: 32,
            rate: None,
            receipt_prefix: format!("{case}-"),
            give_up_after: Duration::from_secs(90),
        }
    }

    /// Starts the storm against `urls` (round-robin, a retry goes to the next one).
    pub fn start(self, urls: Vec<String>, bills: Vec<String>) -> StormHandle {
        let ledger = Arc::new(Ledger::default());
        let handle = tokio::spawn({
            let ledger = ledger.clone();
            async move { self.run(urls, bills, ledger).await }
        });
        StormHandle { ledger, handle }
    }

    async fn run(self, urls: Vec<String>, bills: Vec<String>, ledger: Arc<Ledger>) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .pool_max_idle_per_host(self.concurrency)
            .build()
            .unwrap();
        let urls = Arc::new(urls);
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        let start = Instant::now();
        for i in 0..self.receipts {
            if let Some(rate) = self.rate {
                let due = start + Duration::from_secs_f64(i as f64 / f64::from(rate));
                tokio::time::sleep_until(due.into()).await;
            }
            let permit = permits.clone().acquire_owned().await.unwrap();
            let receipt = format!("{}{i:06}", self.receipt_prefix);
            let body = collect_body(&bills[i % bills.len()], "10.00", &receipt)
                .with_collected_time(i / bills.len());
            let (client, urls, ledger) = (client.clone(), urls.clone(), ledger.clone());
            let give_up = self.give_up_after;
            tasks.spawn(async move {
                send_until_answered(&client, &urls, i, &receipt, &body, &ledger, give_up).await;
                drop(permit);
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}

pub struct StormHandle {
    pub ledger: Arc<Ledger>,
    handle: tokio::task::JoinHandle<()>,
}

impl StormHandle {
    pub async fn finish(self) -> Arc<Ledger> {
        self.handle.await.unwrap();
        self.ledger
    }
}

pub async fn send_until_answered(
    client: &reqwest::Client,
    urls: &[String],
    seed: usize,
    receipt: &str,
    body: &Value,
    ledger: &Ledger,
    give_up: Duration,
) {
    let start = Instant::now();
    for attempt in 0.. {
        let url = &urls[(seed + attempt) % urls.len()];
        match post_skypay(client, url, body).await {
            Ok(code) => {
                let again = code == "-1009";
                ledger.push(receipt, Attempt::Answer(code, Instant::now()));
                if !again {
                    return;
                }
            }
            Err(e) => ledger.push(receipt, Attempt::NoAnswer(e)),
        }
        if start.elapsed() > give_up {
            return;
        }
        let backoff = Duration::from_millis((50 * (1 << attempt.min(4))) as u64);
        tokio::time::sleep(backoff).await;
    }
}

/// One SkyPay request; `Ok(code)` when a contract answer came back. Anything else that
/// comes back (not HTTP 200, not JSON) fails the test: the contract forbids it.
pub async fn post_skypay(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
) -> Result<String, String> {
    let response = client
        .post(format!("{url}/skypay"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("{e}"))?;
    assert_eq!(status, 200, "every SkyPay answer is HTTP 200: {text}");
    let answer: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("answer is not JSON: {text}"));
    Ok(answer["responseCode"]
        .as_str()
        .unwrap_or_else(|| panic!("no responseCode: {text}"))
        .to_owned())
}

pub fn collect_body(control_number: &str, amount: &str, receipt: &str) -> Value {
    json!({
        "userName": USER, "action": "collectionCollect", "authentication": KEY,
        "controlNumber": control_number, "amount": amount, "phone": PAYER_PHONE,
        "receiptNumber": receipt, "collectedTime": "2026-11-20 10:15:00", "payChannel": 10
    })
}

/// Collects on one bill 16 minutes apart, so that a storm does not look like double
/// payments (same bill and amount within 15 minutes).
pub trait CollectedTime {
    fn with_collected_time(self, slot: usize) -> Self;
}

impl CollectedTime for Value {
    fn with_collected_time(mut self, slot: usize) -> Self {
        let base = chrono::NaiveDate::from_ymd_opt(2026, 10, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let at = base + chrono::Duration::minutes(16 * slot as i64);
        self["collectedTime"] = json!(at.format("%Y-%m-%d %H:%M:%S").to_string());
        self
    }
}

pub fn inquiry_body(control_number: &str, amount: &str) -> Value {
    json!({
        "userName": USER, "action": "collectionInquiry", "authentication": KEY,
        "controlNumber": control_number, "amount": amount, "phone": PAYER_PHONE
    })
}

impl Stack {
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

    /// Runs a case's end: settles, checks, records the figures, tears down.
    pub async fn finish(
        mut self,
        ledger: &Ledger,
        recovery: Option<Duration>,
        notes: String,
    ) -> Figures {
        let settle = self
            .settle(Duration::from_secs(if long() { 300 } else { 90 }))
            .await;
        let mut f = self.check(ledger).await;
        f.recovery_ms = recovery.map(|d| d.as_millis() as u64);
        f.settle_ms = settle.as_millis() as u64;
        f.notes = notes;
        f.record();
        self.teardown().await;
        f
    }
}

impl Stack {
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
        loop {
            let n: i64 =
                sqlx::query_scalar("SELECT count(*) FROM collections WHERE posted_at > $1")
                    .bind(since)
                    .fetch_one(&self.db.pool)
                    .await
                    .unwrap();
            if n > 0 {
                return at.elapsed();
            }
            assert!(
                at.elapsed() < Duration::from_secs(120),
                "[{}] nothing posted in 120 s after the fault ended",
                self.case
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
