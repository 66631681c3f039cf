//! Closing RabbitMQ connections so that nothing of lapin outlives the Tokio runtime.
//!
//! lapin runs each connection's I/O on a thread of its own (`lapin-io-loop`) that uses the
//! runtime's reactor. `Connection::close` returns as soon as the broker's `Close-Ok` is read,
//! a moment before that thread stops; a command that then returns from `main` shuts the
//! runtime down under it, and lapin logs `ERROR … A Tokio 1.x context was found, but it is
//! being shutdown` after a run that went well. A connection dropped without `close` is worse:
//! lapin closes it in the background, and the runtime is usually gone first.

use std::time::{Duration, Instant};

use lapin::Connection;

/// How long a close may take before we stop waiting for it.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Closes `connection` and waits (bounded) for its I/O thread to end. Never fails: a
/// connection that is already broken has nothing left to close.
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

/// Waits (at most `limit`) until no lapin I/O thread is left in this process. For the end of
/// `main`: connections closed by code that does not wait for their thread (the relay, the
/// workers) finish their last read before the runtime goes. Linux only (it reads
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
