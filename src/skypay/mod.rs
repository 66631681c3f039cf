//! The SkyPay wire contract (docs/skypay-contract.md): the envelope, the request's fields, the
//! credentials, and the answers. The calls themselves are use cases in `payments`.

pub mod answer;
pub mod auth;
pub mod client;
pub mod envelope;
pub mod handler;
pub mod request;
pub mod routes;
pub mod state;

pub use routes::router;
pub use state::{SkyPayConfig, SkyPayState};
