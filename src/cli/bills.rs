//! `collector bills …`: show a bill, import a CSV.

use clap::Subcommand;

use crate::config::Settings;
use sqlx::PgPool;

use super::output::{acting, print};
use super::table;
use crate::ops::{bills, import};
use crate::run::connect_checked;

#[derive(Debug, Subcommand)]
pub enum BillsCommand {
    /// A bill with its collections.
    Show {
        control_number: String,
        #[arg(long)]
        json: bool,
    },
    /// Register or update bills from a CSV file (header: controlNumber,loanRef,amountDue,
    /// allowPartial,expiresAt,lastName,firstName,middleName,suffix,address,phone).
    ///
    /// amountDue: a positive amount like 3900.00. allowPartial: true/false (empty: false).
    /// expiresAt (optional): 2026-12-31 23:59:59 or 2026-12-31 (both Philippine time, +08:00;
    /// a date alone keeps the bill payable all that day, expiring at the next midnight), or
    /// RFC 3339 with its offset (2026-12-31T23:59:59+08:00). middleName and suffix may be
    /// empty. Failed rows are listed and make the command exit non-zero; the others are kept.
    Import {
        file: std::path::PathBuf,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(settings: &Settings, command: BillsCommand) -> anyhow::Result<()> {
    let pool = connect_checked(settings).await?;
    match command {
        BillsCommand::Show {
            control_number,
            json,
        } => bills_show(&pool, &control_number, json).await,
        BillsCommand::Import { file, actor, json } => {
            bills_import(&pool, &file, &acting(actor), json).await
        }
    }
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
