//! `collector topology …`: the RabbitMQ topology.

use clap::Subcommand;

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub enum TopologyCommand {
    /// Move what the previous version's queues hold into this version's, then delete them.
    Migrate {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(settings: &Settings, command: TopologyCommand) -> anyhow::Result<()> {
    match command {
        TopologyCommand::Migrate { json } => crate::run::topology_migrate(settings, json).await,
    }
}
