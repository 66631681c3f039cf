//! `collector collections show`: "did this payment reach the ledger?".

use clap::Subcommand;

use crate::config::Settings;
use crate::ops;
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
            ops::commands::collections_show(&pool, &lookup, json).await
        }
    }
}
