//! One `collector` process, started, killed and restarted by a case, and the ports the
//! processes listen on.

use std::fs::OpenOptions;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::BIN;

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
    pub(super) args: Vec<String>,
    pub(super) env: Vec<(String, String)>,
    pub log: PathBuf,
    pub(super) child: Option<Child>,
    pub public_port: u16,
    pub admin_port: u16,
    pub starts: u32,
    pub kills: u32,
}

impl Proc {
    pub(super) fn spawn(&mut self) {
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
        self.last_lines(5, |_| true)
    }

    /// The last `n` lines of the log that are not INFO (warnings, errors): what a stalled
    /// process was complaining about.
    pub fn last_complaints(&self, n: usize) -> String {
        self.last_lines(n, |line| !line.contains(r#""level":"INFO""#))
    }

    /// The whole log.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn last_lines(&self, n: usize, keep: impl Fn(&str) -> bool) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().filter(|line| keep(line)).collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }
}
