//! Ops commands (`collector dlq …`): readable tables for people, `--json` for scripts.

pub mod bills;
pub mod collections;
pub mod commands;
pub mod dlq;
pub mod flags;
pub mod import;
pub mod table;
