//! `bench`: the load generator and the bare baselines that `scripts/bench` compares with.
//!
//! - `loadgen`: SkyPay-shaped inquiries or collects (unique receipts over many bills),
//!   closed-loop (fixed concurrency) or open-loop (fixed rate); every answer is checked, and a
//!   run with any unexpected code fails rather than looking fast.
//! - `publish`: a bare lapin publisher with confirms, the relay's baseline.
//! - `post`: a bare HTTP client posting payment payloads, the workers' baseline.
//! - `consume`: a bare consumer, or with `--post-url` a bare worker (consume, post, ack, no
//!   database): the ceilings of what the workers are built on.
//! - `bare-server`: a bare axum + sqlx server running the inquiry's read, its stack's ceiling.
//! - `cpu`: CPU time of every process by role, to put a CPU cost on each message.
//!
//! Each prints one JSON line of results.
//!
//! This file is the command line; the commands live in `loadgen`, `baseline` (`publish`,
//! `post`, `consume`, `bare-server`), `cpu`, and `stack` (`wait-consumer`, `cleanup`).

use clap::{Parser, Subcommand};

mod baseline;
mod cpu;
mod loadgen;
mod stack;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Loadgen(loadgen::Args),
    Publish {
        #[arg(long)]
        amqp: String,
        #[arg(long)]
        queue: String,
        #[arg(long)]
        database: String,
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// Confirms in flight, like the relay's batch.
        #[arg(long, default_value_t = 500)]
        window: usize,
    },
    /// A bare consumer: publishes `count` messages to a scratch quorum queue (untimed), then
    /// consumes and acks them with `prefetch` (timed): the broker's own delivery ceiling.
    Consume {
        #[arg(long)]
        amqp: String,
        #[arg(long)]
        queue: String,
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        #[arg(long, default_value_t = 32)]
        prefetch: u16,
        /// Also post each message to this core loan system, as the worker does: a bare
        /// worker with no database. The messages are then the payloads of the outbox rows
        /// of `--database`.
        #[arg(long, requires = "database")]
        post_url: Option<String>,
        #[arg(long)]
        database: Option<String>,
        /// Consumers, each on its own channel with `prefetch`.
        #[arg(long, default_value_t = 1)]
        channels: usize,
    },
    /// A bare axum + sqlx server answering inquiries with the same SQL and nothing else (no
    /// envelope, auth, validation, tracing or metrics): the ceiling of the stack we build on.
    BareServer {
        #[arg(long)]
        database: String,
        #[arg(long, default_value = "127.0.0.1:18090")]
        listen: String,
    },
    /// Waits until `queue` has a consumer (a worker that has started consuming), at most 30 s.
    WaitConsumer {
        #[arg(long)]
        amqp: String,
        #[arg(long)]
        queue: String,
    },
    /// CPU seconds so far of every process, by role (broker, postgres, core, collector, bench,
    /// other), as JSON; with `--since FILE --messages N`, CPU µs per message since that
    /// snapshot.
    Cpu {
        #[arg(long, requires = "messages")]
        since: Option<std::path::PathBuf>,
        #[arg(long)]
        messages: Option<usize>,
    },
    /// Deletes the queues and the exchange of a prefix.
    Cleanup {
        #[arg(long)]
        amqp: String,
        #[arg(long)]
        prefix: String,
        #[arg(long, default_value_t = 6)]
        tiers: usize,
    },
    Post {
        #[arg(long)]
        url: String,
        #[arg(long)]
        database: String,
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Loadgen(args) => loadgen::run(args).await,
        Command::Publish {
            amqp,
            queue,
            database,
            count,
            window,
        } => baseline::publish(&amqp, &queue, &database, count, window).await,
        Command::Post {
            url,
            database,
            count,
            concurrency,
        } => baseline::post(&url, &database, count, concurrency).await,
        Command::Consume {
            amqp,
            queue,
            count,
            prefetch,
            post_url,
            database,
            channels,
        } => {
            let post = post_url.as_deref().zip(database.as_deref());
            baseline::consume(&amqp, &queue, count, prefetch, channels, post).await
        }
        Command::Cpu { since, messages } => cpu::print(since, messages),
        Command::BareServer { database, listen } => baseline::bare_server(&database, &listen).await,
        Command::WaitConsumer { amqp, queue } => stack::wait_consumer(&amqp, &queue).await,
        Command::Cleanup {
            amqp,
            prefix,
            tiers,
        } => stack::cleanup(&amqp, &prefix, tiers).await,
    }
}
