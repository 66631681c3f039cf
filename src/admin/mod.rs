//! The admin API, on its own listener (`ADMIN_LISTEN_ADDR`), every call behind
//! `Authorization: Bearer {ADMIN_TOKEN}`.

pub mod bills;
pub mod collections;
pub mod dead_letters;
pub mod error;
pub mod extract;
pub mod flags;
pub mod reconciliation;
pub mod routes;
pub mod state;

pub use error::AdminError;
pub use routes::router;
pub use state::{actor, AdminState};
