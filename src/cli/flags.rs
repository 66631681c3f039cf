//! `collector flags …`: list and resolve flags.

use clap::Subcommand;

use crate::config::Settings;
use crate::ops::commands as c;
use crate::run::connect_checked;

#[derive(Debug, Subcommand)]
pub enum FlagsCommand {
    /// Flags, open ones by default.
    List {
        /// replay, conflict, suspected_double_payment, refused_collect, overpayment, core_duplicate
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
            c::flags_list(&pool, kind.as_deref(), &status, json).await
        }
        FlagsCommand::Resolve {
            id,
            note,
            actor,
            json,
        } => c::flags_resolve(&pool, id, &c::actor(actor), &note, json).await,
    }
}
