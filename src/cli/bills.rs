//! `collector bills …`: show a bill, import a CSV.

use clap::Subcommand;

use crate::config::Settings;
use crate::ops::commands as c;
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
        } => c::bills_show(&pool, &control_number, json).await,
        BillsCommand::Import { file, actor, json } => {
            c::bills_import(&pool, &file, &c::actor(actor), json).await
        }
    }
}
