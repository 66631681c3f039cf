//! The bare baselines `scripts/bench` compares the collector with: the same work done by the
//! bare libraries it is built on, and nothing else.
//!
//! - `publish`: a bare lapin publisher with confirms, the relay's baseline;
//! - `post`: a bare HTTP client posting payment payloads, the workers' baseline;
//! - `consume`: a bare consumer, or a bare worker (consume, post, ack, no database);
//! - `server`: a bare axum + sqlx server running the inquiry's read.

mod consume;
mod fixtures;
mod post;
mod publish;
mod server;

pub use consume::consume;
pub use post::post;
pub use publish::publish;
pub use server::bare_server;
