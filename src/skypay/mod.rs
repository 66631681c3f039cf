//! The SkyPay wire contract (docs/contract.md): envelope, request, answer, and the two calls.

pub mod answer;
pub mod auth;
pub mod collect;
pub mod envelope;
pub mod handler;
pub mod inquiry;
pub mod request;
pub mod routes;
pub mod state;

pub use routes::router;
pub use state::{SkyPayConfig, SkyPayState};
