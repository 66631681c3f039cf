//! Flags: repeated receipts, suspected double payments, refused collects, overpayments and
//! core duplicates, listed for review and resolved with a note.

use serde_json::json;
use sqlx::PgPool;

use super::OpsError;
use crate::db;
use crate::domain::FlagKind;

pub use crate::db::flags::Flag;

/// Flags of `kind` (any if `None`) in `status` (`open`, `resolved`, or any if `None`).
pub async fn list(
    pool: &PgPool,
    kind: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Flag>, OpsError> {
    if let Some(kind) = kind {
        if FlagKind::parse(kind).is_none() {
            return Err(OpsError::BadRequest(format!(
                "unknown flag kind `{kind}`; one of {}",
                FlagKind::NAMES.join(", ")
            )));
        }
    }
    if let Some(status) = status {
        if !["open", "resolved"].contains(&status) {
            return Err(OpsError::BadRequest("status is open or resolved".into()));
        }
    }
    Ok(db::flags::list(pool, kind, status, limit).await?)
}

/// Resolves an open flag, keeping who and why; written to the audit log.
pub async fn resolve(pool: &PgPool, id: i64, actor: &str, note: &str) -> Result<Flag, OpsError> {
    let note = note.trim();
    if note.is_empty() {
        return Err(OpsError::BadRequest(
            "a note is required to resolve a flag".into(),
        ));
    }
    let mut tx = pool.begin().await.map_err(anyhow::Error::from)?;
    let flag = db::flags::resolve(&mut tx, id, actor, note).await?;
    let Some(flag) = flag else {
        let exists = db::flags::exists(&mut tx, id).await?;
        return Err(if exists {
            OpsError::Conflict(format!("flag {id} is already resolved"))
        } else {
            OpsError::NotFound(format!("no flag {id}"))
        });
    };
    db::audit::record(
        &mut tx,
        actor,
        "flag.resolve",
        &format!("flag:{id}"),
        Some(note),
        json!({ "kind": flag.kind }),
    )
    .await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    Ok(flag)
}
