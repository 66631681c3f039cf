//! The `audit_log` table: every ops action, who, what, when, why. Written by the posting
//! pipeline too (the sweeper's rescues), so the statement lives in `workers::store`.

pub use workers::store::audit as record;
