//! The ops CLI (`collector dlq|flags|collections|bills …`): the same operations as the admin
//! API, printed as tables for people or JSON (`--json`) for scripts. Every failure is an
//! error, so the process exits non-zero.

use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::collections::{self, Lookup};
use super::dlq::{self, Filter, Report};
use super::{bills, flags, import, table};
use crate::config::Settings;

/// Who is acting, for the audit log: `--actor`, else `$USER`, else `cli`.
pub fn actor(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("USER").ok())
        .map(|a| a.trim().chars().take(100).collect::<String>())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "cli".into())
}

fn print<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        print!("{}", text());
    }
    Ok(())
}

pub async fn dlq_list(pool: &PgPool, filter: &Filter, json: bool) -> anyhow::Result<()> {
    let letters = dlq::list(pool, filter).await?;
    print(json, &letters, || dlq::render(&letters))
}

pub async fn dlq_show(pool: &PgPool, id: Uuid, json: bool) -> anyhow::Result<()> {
    dlq::show(pool, id).await?;
    let found = collections::find(
        pool,
        &Lookup {
            id: Some(id),
            ..Lookup::default()
        },
    )
    .await?;
    print(json, &found, || collections::render(&found))
}

fn render_report(verb: &str, report: &Report) -> String {
    let mut out = if report.done.is_empty() && report.skipped.is_empty() {
        format!("no dead letter matched: nothing {verb}")
    } else {
        format!("{verb} {} dead letter(s)", report.done.len())
    };
    if !report.skipped.is_empty() {
        out.push_str(&format!(
            ", skipped {} changed meanwhile",
            report.skipped.len()
        ));
    }
    out.push_str(&format!(
        "; removed {} message(s) from the dead-letter queue\n",
        report.removed_from_queue
    ));
    for id in &report.done {
        out.push_str(&format!("  {id}\n"));
    }
    out
}

/// Replays at `per_second`, then reconciles the dead-letter queue.
pub async fn dlq_replay(
    settings: &Settings,
    pool: &PgPool,
    filter: &Filter,
    actor: &str,
    reason: Option<&str>,
    per_second: u32,
    json: bool,
) -> anyhow::Result<()> {
    let mut report = dlq::replay(pool, filter, actor, reason, per_second).await?;
    report.removed_from_queue = reconcile(settings, pool).await?;
    print(json, &report, || render_report("replayed", &report))?;
    all_ids_done(pool, filter, &report, "replayed").await
}

pub async fn dlq_discard(
    settings: &Settings,
    pool: &PgPool,
    filter: &Filter,
    actor: &str,
    reason: &str,
    json: bool,
) -> anyhow::Result<()> {
    let mut report = dlq::discard(pool, filter, actor, reason).await?;
    report.removed_from_queue = reconcile(settings, pool).await?;
    print(json, &report, || render_report("discarded", &report))?;
    all_ids_done(pool, filter, &report, "discarded").await
}

/// Ids named on the command line must each have been replayed (discarded): any that was not
/// fails the command, named with what it is instead, as the admin API answers 404 for it. A
/// filter or `--all` that matches nothing is not a failure.
async fn all_ids_done(
    pool: &PgPool,
    filter: &Filter,
    report: &Report,
    verb: &str,
) -> anyhow::Result<()> {
    let Some(ids) = &filter.ids else {
        return Ok(());
    };
    let mut missed: Vec<Uuid> = Vec::new();
    for id in ids {
        if !report.done.contains(id) && !missed.contains(id) {
            missed.push(*id);
        }
    }
    if missed.is_empty() {
        return Ok(());
    }
    let statuses = dlq::statuses(pool, &missed).await?;
    let named: Vec<String> = missed
        .iter()
        .map(|id| match statuses.get(id).map(String::as_str) {
            None => format!("{id} (no such collection)"),
            Some("dead_lettered") => {
                format!("{id} (a dead letter, but not one the filters given select)")
            }
            Some(status) => format!("{id} ({status}: not a dead letter)"),
        })
        .collect();
    anyhow::bail!(
        "{} of the {} id(s) given not {verb}: {}",
        missed.len(),
        ids.len(),
        named.join("; ")
    )
}

pub async fn reconcile(settings: &Settings, pool: &PgPool) -> anyhow::Result<usize> {
    let topology = crate::run::topology(settings);
    dlq::reconcile_queue(pool, settings.require_amqp_url()?, &topology).await
}

pub async fn flags_list(
    pool: &PgPool,
    kind: Option<&str>,
    status: &str,
    json: bool,
) -> anyhow::Result<()> {
    let status = (status != "all").then_some(status);
    let found = flags::list(pool, kind, status, 10_000).await?;
    print(json, &found, || flags::render(&found))
}

pub async fn flags_resolve(
    pool: &PgPool,
    id: i64,
    actor: &str,
    note: &str,
    json: bool,
) -> anyhow::Result<()> {
    let flag = flags::resolve(pool, id, actor, note).await?;
    print(json, &flag, || {
        format!("flag {} ({}) resolved by {actor}\n", flag.id, flag.kind)
    })
}

pub async fn collections_show(pool: &PgPool, lookup: &Lookup, json: bool) -> anyhow::Result<()> {
    let found = collections::find(pool, lookup).await?;
    print(json, &found, || collections::render(&found))
}

pub async fn bills_show(pool: &PgPool, control_number: &str, json: bool) -> anyhow::Result<()> {
    let bill = bills::show(pool, control_number).await?;
    print(json, &bill, || {
        let value = serde_json::to_value(&bill).unwrap_or_default();
        let s = |k: &str| value[k].as_str().unwrap_or("").to_owned();
        let mut out = format!(
            "bill {}  loan {}  due {}  outstanding {}  status {}  partial {}\n",
            s("controlNumber"),
            s("loanRef"),
            s("amountDue"),
            s("outstanding"),
            s("status"),
            value["allowPartial"]
        );
        let rows: Vec<Vec<String>> = value["collections"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let f = |k: &str| {
                    c[k].as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| c[k].to_string())
                };
                vec![
                    f("receiptNumber"),
                    f("payChannel"),
                    f("amount"),
                    f("status"),
                    f("collectedAt"),
                ]
            })
            .collect();
        out.push_str(&table::render(
            &["RECEIPT", "CHANNEL", "AMOUNT", "STATUS", "COLLECTED AT"],
            &rows,
        ));
        out
    })
}

pub async fn bills_import(
    pool: &PgPool,
    path: &std::path::Path,
    actor: &str,
    json: bool,
) -> anyhow::Result<()> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    let outcomes = import::import(pool, file, actor).await?;
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    if json {
        let rows: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|o| match &o.result {
                Ok(done) => serde_json::json!({ "line": o.line, "controlNumber": o.control_number, "result": done }),
                Err(e) => serde_json::json!({ "line": o.line, "controlNumber": o.control_number, "error": e }),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        let rows: Vec<Vec<String>> = outcomes
            .iter()
            .map(|o| {
                vec![
                    o.line.to_string(),
                    o.control_number.clone(),
                    match &o.result {
                        Ok(done) => done.to_string(),
                        Err(e) => format!("FAILED: {e}"),
                    },
                ]
            })
            .collect();
        print!(
            "{}",
            table::render(&["LINE", "CONTROL NUMBER", "RESULT"], &rows)
        );
        println!("{} row(s), {} failed", outcomes.len(), failed);
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} row(s) failed", outcomes.len());
    }
    Ok(())
}

/// `30s`, `15m`, `2h`, `1d` for `--older-than`.
pub fn parse_age(raw: &str) -> Result<Duration, String> {
    crate::admin::ops::parse_age(raw).ok_or_else(|| format!("`{raw}` is not like 30s, 15m, 2h, 1d"))
}
