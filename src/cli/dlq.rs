//! `collector dlq …`: dead letters.

use std::time::Duration;

use clap::{Args, Subcommand};

use crate::config::Settings;
use crate::ops;
use crate::ops::commands as c;
use crate::ops::dead_letters::Action;
use crate::run::connect_checked;

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Dead letters with receipt, control number, amount, attempts and reason.
    List {
        #[command(flatten)]
        filter: DlqFilter,
        #[arg(long)]
        json: bool,
    },
    /// One dead letter with its whole history.
    Show {
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Send dead letters back to the posting queue: by id, by filter, or --all.
    ///
    /// An id that is not a dead letter (unknown, posted, already replayed or discarded) makes
    /// the command fail with a non-zero exit, naming it; the others are still replayed. A
    /// filter or --all that matches nothing is not a failure: it says "no dead letter
    /// matched" and exits 0.
    Replay {
        ids: Vec<uuid::Uuid>,
        #[command(flatten)]
        filter: DlqFilter,
        #[arg(long)]
        all: bool,
        /// Replays per second.
        #[arg(long, default_value_t = 20)]
        rate: u32,
        /// Why, for the audit log.
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Give up on dead letters for good, with a reason: by id, by filter, or --all.
    ///
    /// An id that is not a dead letter (unknown, posted, already replayed or discarded) makes
    /// the command fail with a non-zero exit, naming it; the others are still discarded. A
    /// filter or --all that matches nothing is not a failure: it says "no dead letter
    /// matched" and exits 0.
    Discard {
        ids: Vec<uuid::Uuid>,
        #[command(flatten)]
        filter: DlqFilter,
        #[arg(long)]
        all: bool,
        /// Why (required).
        #[arg(long = "why", required = true)]
        why: String,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Bring the dead-letter queue in line with the database.
    Reconcile,
}

/// Which dead letters (every filter given must match).
#[derive(Debug, Args, Clone, Default)]
pub struct DlqFilter {
    /// Substring of the reason (case-insensitive).
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    control_number: Option<String>,
    /// Dead-lettered at least this long ago: 30s, 15m, 2h, 1d.
    #[arg(long, value_parser = ops::commands::parse_age)]
    older_than: Option<Duration>,
}

impl DlqFilter {
    fn filter(&self, ids: Vec<uuid::Uuid>) -> ops::dead_letters::Filter {
        ops::dead_letters::Filter {
            ids: (!ids.is_empty()).then_some(ids),
            reason: self.reason.clone(),
            control_number: self.control_number.clone(),
            older_than: self.older_than,
        }
    }

    fn is_empty(&self) -> bool {
        self.reason.is_none() && self.control_number.is_none() && self.older_than.is_none()
    }
}

pub async fn run(settings: &Settings, command: DlqCommand) -> anyhow::Result<()> {
    let pool = connect_checked(settings).await?;
    match command {
        DlqCommand::List { filter, json } => c::dlq_list(&pool, &filter.filter(vec![]), json).await,
        DlqCommand::Show { id, json } => c::dlq_show(&pool, id, json).await,
        DlqCommand::Replay {
            ids,
            filter,
            all,
            rate,
            note,
            actor,
            json,
        } => {
            selection_given(&ids, &filter, all)?;
            let selected = filter.filter(ids);
            let action = Action::Replay {
                reason: note.as_deref(),
                per_second: rate,
            };
            c::dlq_act(settings, &pool, &selected, &c::actor(actor), action, json).await
        }
        DlqCommand::Discard {
            ids,
            filter,
            all,
            why,
            actor,
            json,
        } => {
            selection_given(&ids, &filter, all)?;
            let action = Action::Discard { reason: &why };
            let selected = filter.filter(ids);
            c::dlq_act(settings, &pool, &selected, &c::actor(actor), action, json).await
        }
        DlqCommand::Reconcile => {
            let removed = c::reconcile(settings, &pool).await?;
            println!("removed {removed} message(s) from the dead-letter queue");
            Ok(())
        }
    }
}

/// A bulk action needs ids, a filter, or an explicit `--all`.
fn selection_given(ids: &[uuid::Uuid], filter: &DlqFilter, all: bool) -> anyhow::Result<()> {
    if ids.is_empty() && filter.is_empty() && !all {
        anyhow::bail!(
            "say which dead letters: ids, --reason/--control-number/--older-than, or --all"
        );
    }
    Ok(())
}
