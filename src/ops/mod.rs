//! Ops commands (`collector dlq …`): readable tables for people, `--json` for scripts.

pub mod dlq;
pub mod table;
