//! CPU time of the processes a benchmark involves, by role, read from `/proc` (Linux): what
//! each message costs the broker, Postgres, fake-core, the collector and the load generator.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;

/// CPU seconds so far, by role, summed over every process of that role (all threads).
pub type Snapshot = BTreeMap<String, f64>;

/// Linux's `USER_HZ`, fixed at 100 for user space whatever the kernel's tick.
const TICKS_PER_SECOND: f64 = 100.0;

fn role(comm: &str) -> &'static str {
    match comm {
        "beam.smp" => "broker",
        "postgres" => "postgres",
        "fake-core" => "core",
        "collector" => "collector",
        "bench" => "bench",
        _ => "other",
    }
}

/// utime + stime of one `/proc/<pid>/stat`, with the process's command name.
fn parse_stat(stat: &str) -> Option<(&str, f64)> {
    let comm = &stat[stat.find('(')? + 1..stat.rfind(')')?];
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    // utime and stime are fields 14 and 15 of proc_pid_stat(5); `fields` starts at field 3.
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some((comm, ticks / TICKS_PER_SECOND))
}

/// This process's CPU seconds so far.
pub fn own_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| parse_stat(&stat).map(|(_, s)| s))
        .unwrap_or(0.0)
}

pub fn snapshot() -> Snapshot {
    let mut seconds = Snapshot::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return seconds;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        // A process may end between the listing and the read.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some((comm, s)) = parse_stat(&stat) {
            *seconds.entry(role(comm).to_owned()).or_default() += s;
        }
    }
    seconds
}

/// CPU microseconds per message of each role between two snapshots. A process that ended in
/// between is not counted: take both while the measured processes run.
pub fn per_message(before: &Snapshot, after: &Snapshot, messages: usize) -> Snapshot {
    after
        .iter()
        .filter_map(|(role, now)| {
            let spent = now - before.get(role).copied().unwrap_or(0.0);
            (spent > 0.0).then(|| {
                let us = spent * 1e6 / messages.max(1) as f64;
                (role.clone(), (us * 10.0).round() / 10.0)
            })
        })
        .collect()
}

/// `cpu`: prints a snapshot as JSON; with `since` (a snapshot's file) and `messages`, the CPU
/// microseconds per message of each role since that snapshot.
pub fn print(since: Option<PathBuf>, messages: Option<usize>) -> anyhow::Result<()> {
    let now = snapshot();
    let out = match (since, messages) {
        (Some(file), Some(n)) => {
            let before: Snapshot = serde_json::from_slice(
                &std::fs::read(&file).with_context(|| format!("read {}", file.display()))?,
            )?;
            per_message(&before, &now, n)
        }
        _ => now,
    };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_its_command_and_cpu_seconds() {
        // A command name with spaces and parentheses, as the kernel allows.
        let stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0";
        assert_eq!(parse_stat(stat), Some(("a (b) c", 3.0)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn per_message_divides_what_each_role_spent() {
        let before = Snapshot::from([("broker".into(), 1.0), ("core".into(), 2.0)]);
        let after = Snapshot::from([
            ("broker".into(), 1.5),
            ("core".into(), 2.0),
            ("bench".into(), 0.25),
        ]);
        let per = per_message(&before, &after, 10_000);
        assert_eq!(
            per,
            Snapshot::from([("broker".into(), 50.0), ("bench".into(), 25.0)])
        );
    }
}
