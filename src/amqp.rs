//! The last net under lapin at exit: connections are closed with `workers::broker::close`,
//! which waits for their I/O thread; this waits for any thread still ending (a readiness
//! probe's, say) before `main` returns.
//!
//! lapin runs each connection's I/O on a thread of its own (`lapin-io-loop`) that uses the
//! runtime's reactor. `Connection::close` returns as soon as the broker's `Close-Ok` is read,
//! a moment before that thread stops; a command that then returns from `main` shuts the
//! runtime down under it, and lapin logs `ERROR … A Tokio 1.x context was found, but it is
//! being shutdown` after a run that went well. A connection dropped without `close` is worse:
//! lapin closes it in the background, and the runtime is usually gone first.

use std::time::{Duration, Instant};

/// Waits (at most `limit`) until no lapin I/O thread is left in this process. For the end of
/// `main`: a connection whose close timed out, or a readiness probe's, finishes its last
/// read before the runtime goes. Linux only (it reads
/// `/proc/self/task`); elsewhere it returns at once.
pub async fn wait_for_io_threads(limit: Duration) {
    let started = Instant::now();
    while io_threads() > 0 && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// lapin's I/O threads alive in this process (they are named `lapin-io-loop`).
fn io_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.trim_end() == "lapin-io-loop")
        })
        .count()
}
