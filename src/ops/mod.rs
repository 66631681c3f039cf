//! What ops do, once, for the admin API and the CLI alike: bills, collections with their
//! history, flags, dead letters (replay, discard, reconcile the queue), bill import.

pub mod bills;
pub mod collections;

pub mod dead_letters;
pub mod error;
pub mod flags;
pub mod import;

pub use error::OpsError;
