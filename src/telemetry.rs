//! Logging for every binary: `tracing` to stdout for the long-running processes, to stderr for
//! the one-shot commands (whose stdout is their answer: a table, or JSON for scripts), as text
//! or JSON (`LOG_FORMAT`), filtered by
//! `RUST_LOG` (default [`DEFAULT_LOG_FILTER`](crate::config::DEFAULT_LOG_FILTER)), coloured
//! only on a terminal. Payer PII is masked where it is logged at all
//! (`domain::mask`); credentials and keys are never logged.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// Where the logs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTo {
    /// A long-running process (serve, relay, worker, …): its stdout is its log.
    Stdout,
    /// A one-shot command (`collector dlq list --json`, `collector reconcile`, …): its stdout
    /// is its answer, which a log line must never break.
    Stderr,
}

/// Installs the global subscriber with `filter` (`RUST_LOG`, checked by
/// [`Settings`](crate::config::Settings)). Text is coloured only when its stream is a
/// terminal (and `NO_COLOR` is unset): a log file or a pipe gets no escape codes. A second
/// call (tests) is a no-op.
pub fn init(format: LogFormat, filter: &str, to: LogTo) {
    let filter = EnvFilter::try_new(filter)
        .unwrap_or_else(|_| EnvFilter::new(crate::config::DEFAULT_LOG_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    let writer = match to {
        LogTo::Stdout => fmt::writer::BoxMakeWriter::new(std::io::stdout),
        LogTo::Stderr => fmt::writer::BoxMakeWriter::new(std::io::stderr),
    };
    let _ = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(fmt::layer().with_ansi(colour(to)).with_writer(writer))
            .try_init(),
    };
}

fn colour(to: LogTo) -> bool {
    let terminal = match to {
        LogTo::Stdout => std::io::stdout().is_terminal(),
        LogTo::Stderr => std::io::stderr().is_terminal(),
    };
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// An error and its causes on one line, each said once: many errors (lapin's, sqlx's) repeat
/// their cause's text in their own, which `{:#}` would print twice.
pub fn error_chain(error: &anyhow::Error) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || last.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
        last = text;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("protocol error: {0}")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("NOT_FOUND - no queue 'x.dead'")]
    struct Inner;

    #[test]
    fn a_cause_already_in_its_parent_is_said_once() {
        let e = anyhow::Error::new(Outer(Inner)).context("Failed to read the queue");
        assert_eq!(
            error_chain(&e),
            "Failed to read the queue: protocol error: NOT_FOUND - no queue 'x.dead'"
        );
        let plain = anyhow::anyhow!("root").context("middle").context("top");
        assert_eq!(error_chain(&plain), "top: middle: root");
    }
}
