//! Flags: repeated receipts, suspected double payments, refused collects, overpayments and
//! core duplicates, listed for review and resolved with a note.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::table;
use super::OpsError;
use crate::db;
use crate::domain::FlagKind;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub collection_id: Option<Uuid>,
    pub refused_collect_id: Option<i64>,
    pub control_number: Option<String>,
    pub receipt_number: Option<String>,
    pub pay_channel: Option<i32>,
    pub details: serde_json::Value,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_note: Option<String>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, kind, status, collection_id, refused_collect_id, control_number, receipt_number, \
    pay_channel, details, resolved_by, resolved_at, resolution_note, created_at";

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
    let sql = format!(
        "SELECT {COLUMNS} FROM flags WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR status = $2) \
         ORDER BY id LIMIT $3"
    );
    Ok(sqlx::query_as(&sql)
        .bind(kind)
        .bind(status)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(pool)
        .await
        .map_err(anyhow::Error::from)?)
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
    let sql = format!(
        "UPDATE flags SET status = 'resolved', resolved_by = $2, resolved_at = now(), resolution_note = $3, \
             updated_at = now() WHERE id = $1 AND status = 'open' RETURNING {COLUMNS}"
    );
    let flag: Option<Flag> = sqlx::query_as(&sql)
        .bind(id)
        .bind(actor)
        .bind(note)
        .fetch_optional(&mut *tx)
        .await
        .map_err(anyhow::Error::from)?;
    let Some(flag) = flag else {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM flags WHERE id = $1)")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(anyhow::Error::from)?;
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
