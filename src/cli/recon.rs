//! `collector reconcile --date …` (one day against SkyPay's report) and `collector exceptions
//! …` (what it found, for ops: list, show, resolve, export, runs).

use chrono::NaiveDate;
use clap::Subcommand;

use super::output::{acting, print};
use super::table;
use crate::config::Settings;
use crate::db::recon::{Item, ItemFilter, Run};
use crate::domain::format_money;
use crate::reconcile::exceptions::{self, AdoptSettings, Resolution};
use crate::reconcile::{self, Reconciler};
use crate::run::connect_checked;

/// `collector reconcile`: one Manila day, by hand.
pub async fn reconcile(
    settings: &Settings,
    date: Option<NaiveDate>,
    actor: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let pool = connect_checked(settings).await?;
    let reconciler = Reconciler::required(settings, pool)?;
    let date = date.unwrap_or_else(|| {
        reconcile::today()
            .pred_opt()
            .unwrap_or_else(reconcile::today)
    });
    let outcome = reconciler.run(date, "manual", &acting(actor)).await?;
    print(json, &outcome, || {
        let mut out = format!(
            "reconciled {} (run {}): {} row(s) of SkyPay's report, {} collection(s) of ours\n",
            outcome.date, outcome.run_id, outcome.their_rows, outcome.our_rows
        );
        if outcome.not_counted > 0 {
            out.push_str(&format!(
                "  {} row(s) of the report not counted as collected (their status)\n",
                outcome.not_counted
            ));
        }
        out.push_str(&format!("  by status: {}\n", outcome.counts["byStatus"]));
        out.push_str(&format!("  by state:  {}\n", outcome.counts["byState"]));
        if let Some(notices) = &outcome.notices {
            out.push_str(&format!(
                "  SkyPay's finance notices: {} listed, {} stored now, {} stored before, {} unreadable\n",
                notices.fetched, notices.recorded, notices.repeated, notices.skipped
            ));
            for checked in &notices.rechecked {
                out.push_str(&format!(
                    "  settlement {}: drift {}\n",
                    checked.reference_number, checked.drift
                ));
            }
            if let Some(error) = &notices.error {
                out.push_str(&format!("  finance notices not caught up: {error}\n"));
            }
        }
        out.push_str("open exceptions: collector exceptions list --state open\n");
        out
    })
}

#[derive(Debug, Subcommand)]
pub enum ExceptionsCommand {
    /// Reconciliation items: the open exceptions by default.
    List {
        /// A Manila day, 2026-11-20.
        #[arg(long)]
        date: Option<NaiveDate>,
        /// matched, missing_ours, missing_theirs, amount_mismatch, duplicate, not_posted,
        /// probable_match.
        #[arg(long)]
        status: Option<String>,
        /// ok, expected, open, resolved or all.
        #[arg(long, default_value = "open")]
        state: String,
        #[arg(long)]
        json: bool,
    },
    /// One item, with SkyPay's row.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Resolve an open item: adopt (a missing_ours row: record the collection, which is then
    /// posted like any other), void or escalate, with a note.
    Resolve {
        id: i64,
        /// adopt, void or escalate.
        #[arg(long)]
        resolution: Resolution,
        #[arg(long, required = true)]
        note: String,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A day's items as CSV (stdout).
    Export {
        #[arg(long)]
        date: NaiveDate,
    },
    /// Reconciliation runs, newest first.
    Runs {
        #[arg(long)]
        date: Option<NaiveDate>,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(settings: &Settings, command: ExceptionsCommand) -> anyhow::Result<()> {
    let pool = connect_checked(settings).await?;
    match command {
        ExceptionsCommand::List {
            date,
            status,
            state,
            json,
        } => {
            let filter = ItemFilter {
                date,
                status,
                state: (state != "all").then_some(state),
            };
            let items = exceptions::list(&pool, &filter, 100_000).await?;
            print(json, &items, || render(&items))
        }
        ExceptionsCommand::Show { id, json } => {
            let item = exceptions::show(&pool, id).await?;
            print(json, &item, || {
                let mut out = render(std::slice::from_ref(&item));
                if let Some(row) = &item.their_row {
                    out.push_str(&format!("SkyPay's row: {row}\n"));
                }
                out
            })
        }
        ExceptionsCommand::Resolve {
            id,
            resolution,
            note,
            actor,
            json,
        } => {
            let actor = acting(actor);
            let item = exceptions::resolve(
                &pool,
                id,
                resolution,
                &note,
                &actor,
                adopt_settings(settings),
            )
            .await?;
            print(json, &item, || {
                let mut out = format!("item {id} resolved ({}) by {actor}\n", resolution.as_str());
                if let (Resolution::Adopt, Some(collection)) = (resolution, item.collection_id) {
                    out.push_str(&format!(
                        "collection {collection} recorded; it is posted like any other \
                         (collector collections show --id {collection})\n"
                    ));
                }
                out
            })
        }
        ExceptionsCommand::Export { date } => {
            print!("{}", exceptions::export_csv(&pool, date).await?);
            Ok(())
        }
        ExceptionsCommand::Runs { date, json } => {
            let runs = crate::db::recon::runs(&pool, date, 100).await?;
            print(json, &runs, || render_runs(&runs))
        }
    }
}

fn adopt_settings(settings: &Settings) -> AdoptSettings {
    AdoptSettings::from_settings(settings)
}

fn render(items: &[Item]) -> String {
    if items.is_empty() {
        return "no reconciliation items\n".into();
    }
    let money =
        |v: Option<rust_decimal::Decimal>| v.map(format_money).unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                i.id.to_string(),
                i.business_date.to_string(),
                i.status.clone(),
                i.state.clone(),
                i.reference_no.clone().unwrap_or_default(),
                i.control_number.clone().unwrap_or_default(),
                money(i.their_amount),
                money(i.our_amount),
                match (&i.resolution, &i.resolution_note) {
                    (Some(r), Some(note)) => format!("{r}: {note}"),
                    _ => i.detail.chars().take(100).collect(),
                },
            ]
        })
        .collect();
    let mut out = table::render(
        &[
            "ID",
            "DAY",
            "STATUS",
            "STATE",
            "REFERENCE",
            "CONTROL NUMBER",
            "SKYPAY",
            "OURS",
            "DETAIL",
        ],
        &rows,
    );
    out.push_str(&format!("{} item(s)\n", items.len()));
    out
}

fn render_runs(runs: &[Run]) -> String {
    if runs.is_empty() {
        return "no reconciliation runs\n".into();
    }
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.business_date.to_string(),
                r.trigger.clone(),
                r.status.clone(),
                r.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                r.their_rows.to_string(),
                r.our_rows.to_string(),
                r.error
                    .clone()
                    .unwrap_or_else(|| r.counts["byState"].to_string()),
            ]
        })
        .collect();
    table::render(
        &[
            "RUN",
            "DAY",
            "TRIGGER",
            "STATUS",
            "STARTED (UTC)",
            "SKYPAY",
            "OURS",
            "RESULT",
        ],
        &rows,
    )
}

/// For clap: `adopt`, `void`, `escalate`.
impl clap::ValueEnum for Resolution {
    fn value_variants<'a>() -> &'a [Self] {
        &[Resolution::Adopt, Resolution::Void, Resolution::Escalate]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}
