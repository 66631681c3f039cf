//! `collector dlq …`: dead letters.

use std::time::Duration;

use clap::{Args, Subcommand};

use super::output::{acting, print};
use super::{collections, table};
use crate::config::Settings;
use crate::domain::{format_money, CollectionStatus};
use crate::ops;
use crate::ops::collections::{self as found, Lookup};
use crate::ops::dead_letters::{self as dlq, Action, DeadLetter, DeadLetterQueue, Filter, Report};
use crate::run::connect_checked;
use sqlx::PgPool;
use uuid::Uuid;
use workers::topology::Topology;

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
    #[arg(long, value_parser = parse_age)]
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
        DlqCommand::List { filter, json } => dlq_list(&pool, &filter.filter(vec![]), json).await,
        DlqCommand::Show { id, json } => dlq_show(&pool, id, json).await,
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
            dlq_act(settings, &pool, &selected, &acting(actor), action, json).await
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
            dlq_act(settings, &pool, &selected, &acting(actor), action, json).await
        }
        DlqCommand::Reconcile => {
            let removed = reconcile(settings, &pool).await?;
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

pub async fn dlq_list(pool: &PgPool, filter: &Filter, json: bool) -> anyhow::Result<()> {
    let letters = dlq::list(pool, filter).await?;
    print(json, &letters, || render_letters(&letters))
}

pub async fn dlq_show(pool: &PgPool, id: Uuid, json: bool) -> anyhow::Result<()> {
    dlq::show(pool, id).await?;
    let found = found::find(
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

/// Replay (`Action::Replay`) or discard, then the queue's reconciliation (`dlq::act`): a
/// queue that could not be reconciled is a warning on stderr, as the admin API reports it.
pub async fn dlq_act(
    settings: &Settings,
    pool: &PgPool,
    filter: &Filter,
    actor: &str,
    action: Action<'_>,
    json: bool,
) -> anyhow::Result<()> {
    let queue = dead_letter_queue(settings);
    let outcome = dlq::act(pool, queue.as_ref(), filter, actor, action).await?;
    let verb = match action {
        Action::Replay { .. } => "replayed",
        Action::Discard { .. } => "discarded",
    };
    print(json, &outcome, || render_report(verb, &outcome.report))?;
    if let Some(warning) = &outcome.queue_warning {
        eprintln!("collector: warning: {warning}");
    }
    all_ids_done(pool, filter, &outcome.report, verb).await
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
        .map(|id| match statuses.get(id) {
            None => format!("{id} (no such collection)"),
            Some(CollectionStatus::DeadLettered) => {
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

/// The dead-letter queue the settings name, if they name a broker.
fn dead_letter_queue(settings: &Settings) -> Option<DeadLetterQueue> {
    let url = settings.amqp_url.clone()?;
    Some(DeadLetterQueue::new(url, topology(settings)))
}

fn topology(settings: &Settings) -> Topology {
    Topology::new(&settings.amqp_prefix, settings.retry_schedule.clone())
}

/// `collector dlq reconcile`: needs the broker.
pub async fn reconcile(settings: &Settings, pool: &PgPool) -> anyhow::Result<usize> {
    let url = settings.require_amqp_url()?.to_owned();
    DeadLetterQueue::new(url, topology(settings))
        .reconcile(pool)
        .await
}

/// `30s`, `15m`, `2h`, `1d` for `--older-than`.
pub fn parse_age(raw: &str) -> Result<Duration, String> {
    crate::domain::duration::parse(raw)
        .ok_or_else(|| format!("`{raw}` is not like 30s, 15m, 2h, 1d"))
}

pub fn render_letters(letters: &[DeadLetter]) -> String {
    if letters.is_empty() {
        return "no dead letters\n".to_owned();
    }
    let rows: Vec<Vec<String>> = letters
        .iter()
        .map(|d| {
            vec![
                d.collection_id.to_string(),
                d.receipt_number.clone(),
                d.pay_channel.to_string(),
                d.control_number.clone(),
                format_money(d.amount),
                d.attempts.to_string(),
                d.dead_lettered_at
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default(),
                d.reason
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(80)
                    .collect(),
            ]
        })
        .collect();
    let headers = [
        "COLLECTION",
        "RECEIPT",
        "CHANNEL",
        "CONTROL NUMBER",
        "AMOUNT",
        "ATTEMPTS",
        "DEAD-LETTERED (UTC)",
        "REASON",
    ];
    let mut out = table::render(&headers, &rows);
    out.push_str(&format!("{} dead letter(s)\n", letters.len()));
    out
}
