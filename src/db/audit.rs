//! The `audit_log` table: every ops action, who, what, when, why.

use anyhow::Context;
use sqlx::PgConnection;

pub async fn record(
    tx: &mut PgConnection,
    actor: &str,
    action: &str,
    subject: &str,
    reason: Option<&str>,
    details: serde_json::Value,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (actor, action, subject, reason, details) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(reason)
    .bind(details)
    .execute(&mut *tx)
    .await
    .context("Failed to write audit log")?;
    Ok(())
}
