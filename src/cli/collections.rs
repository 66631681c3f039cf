//! `collector collections show`: "did this payment reach the ledger?".

use clap::Subcommand;

use crate::config::Settings;
use sqlx::PgPool;

use super::output::print;
use super::table;
use crate::domain::format_money;
use crate::ops;
use crate::ops::collections::{CollectionHistory, Lookup};
use crate::run::connect_checked;

#[derive(Debug, Subcommand)]
pub enum CollectionsCommand {
    /// "Did this payment reach the ledger?": by receipt (and channel), control number or id.
    Show {
        #[arg(long)]
        receipt: Option<String>,
        #[arg(long)]
        channel: Option<i32>,
        #[arg(long)]
        control_number: Option<String>,
        #[arg(long)]
        id: Option<uuid::Uuid>,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(settings: &Settings, command: CollectionsCommand) -> anyhow::Result<()> {
    match command {
        CollectionsCommand::Show {
            receipt,
            channel,
            control_number,
            id,
            json,
        } => {
            let lookup = ops::collections::Lookup {
                receipt,
                channel,
                control_number,
                id,
            };
            let pool = connect_checked(settings).await?;
            collections_show(&pool, &lookup, json).await
        }
    }
}

pub async fn collections_show(pool: &PgPool, lookup: &Lookup, json: bool) -> anyhow::Result<()> {
    let found = ops::collections::find(pool, lookup).await?;
    print(json, &found, || render(&found))
}

pub fn render(found: &[CollectionHistory]) -> String {
    if found.is_empty() {
        return "no collections found\n".into();
    }
    let mut out = String::new();
    for c in found {
        let col = &c.collection;
        out.push_str(&format!(
            "collection {}  receipt {} (channel {})  control number {}  amount {}\n  status {}  attempts {}  core reference {}\n",
            col.id,
            col.receipt_number,
            col.pay_channel,
            col.control_number,
            format_money(col.amount),
            col.status,
            col.attempts,
            col.core_reference.as_deref().unwrap_or("-"),
        ));
        let rows: Vec<Vec<String>> = c
            .history
            .iter()
            .map(|e| {
                vec![
                    e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    e.event.clone(),
                    e.attempt.map(|a| a.to_string()).unwrap_or_default(),
                    e.actor.clone().unwrap_or_default(),
                    e.detail
                        .clone()
                        .unwrap_or_default()
                        .chars()
                        .take(100)
                        .collect(),
                ]
            })
            .collect();
        for line in
            table::render(&["WHEN (UTC)", "EVENT", "ATTEMPT", "BY", "DETAIL"], &rows).lines()
        {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}
