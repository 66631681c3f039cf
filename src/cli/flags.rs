//! `collector flags …`: list and resolve flags.

use clap::Subcommand;

use crate::config::Settings;
use sqlx::PgPool;

use super::output::{acting, print};
use super::table;
use crate::ops::flags::{self, Flag};
use crate::run::connect_checked;

#[derive(Debug, Subcommand)]
pub enum FlagsCommand {
    /// Flags, open ones by default.
    List {
        /// replay, conflict, suspected_double_payment, refused_collect, overpayment, core_duplicate,
        /// adopted
        #[arg(long)]
        kind: Option<String>,
        /// open, resolved or all.
        #[arg(long, default_value = "open")]
        status: String,
        #[arg(long)]
        json: bool,
    },
    /// Resolve a flag with a note.
    Resolve {
        id: i64,
        #[arg(long, required = true)]
        note: String,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(settings: &Settings, command: FlagsCommand) -> anyhow::Result<()> {
    let pool = connect_checked(settings).await?;
    match command {
        FlagsCommand::List { kind, status, json } => {
            flags_list(&pool, kind.as_deref(), &status, json).await
        }
        FlagsCommand::Resolve {
            id,
            note,
            actor,
            json,
        } => flags_resolve(&pool, id, &acting(actor), &note, json).await,
    }
}

pub async fn flags_list(
    pool: &PgPool,
    kind: Option<&str>,
    status: &str,
    json: bool,
) -> anyhow::Result<()> {
    let status = (status != "all").then_some(status);
    let found = flags::list(pool, kind, status, 10_000).await?;
    print(json, &found, || render(&found))
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
