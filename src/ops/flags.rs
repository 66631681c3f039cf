//! Flags: repeated receipts, suspected double payments, refused collects, overpayments and
//! core duplicates, listed for review and resolved with a note.

use serde_json::json;
use sqlx::PgPool;

use super::table;
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

pub fn render(flags: &[Flag]) -> String {
    if flags.is_empty() {
        return "no flags\n".into();
    }
    let rows: Vec<Vec<String>> = flags
        .iter()
        .map(|f| {
            vec![
                f.id.to_string(),
                f.kind.clone(),
                f.status.clone(),
                f.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                f.control_number.clone().unwrap_or_default(),
                f.receipt_number.clone().unwrap_or_default(),
                match (&f.resolved_by, &f.resolution_note) {
                    (Some(by), Some(note)) => format!("{by}: {note}"),
                    _ => f
                        .details
                        .get("reason")
                        .and_then(|r| r.as_str())
                        .unwrap_or("")
                        .to_owned(),
                },
            ]
        })
        .collect();
    let mut out = table::render(
        &[
            "ID",
            "KIND",
            "STATUS",
            "RAISED (UTC)",
            "CONTROL NUMBER",
            "RECEIPT",
            "NOTE",
        ],
        &rows,
    );
    out.push_str(&format!("{} flag(s)\n", flags.len()));
    out
}
