//! Reconciliation's exceptions are work for ops: listed, shown, exported, and resolved with a
//! code and a note.
//!
//! - `adopt` (a `missing_ours` row only): SkyPay collected it and its collect never reached us.
//!   The collection is created through the normal collect path (`payments::collect::record`:
//!   the bill's rule, the outbox event, so it is posted like any other), flagged `adopted` and
//!   written to the audit log.
//! - `void`: nothing to do (a test payment, a row SkyPay reversed), with the reason.
//! - `escalate`: handed on (to SkyPay, to the lender), with who and why.

use std::str::FromStr;

use chrono::TimeZone;
use serde_json::json;
use sqlx::PgPool;

use crate::db;
use crate::db::flags::NewFlag;
use crate::db::recon::{Item, ItemFilter};
use crate::domain::{
    Amount, CollectRequest, ControlNumber, FlagKind, OverpaymentPolicy, PayChannel, Phone,
    ReceiptNumber, MANILA,
};
use crate::ops::OpsError;
use crate::payments::collect::{self, CollectOutcome};
use crate::skypay::answer::Answer;

/// How ops resolve an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Adopt,
    Void,
    Escalate,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Adopt => "adopt",
            Resolution::Void => "void",
            Resolution::Escalate => "escalate",
        }
    }
}

impl FromStr for Resolution {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        match raw {
            "adopt" => Ok(Resolution::Adopt),
            "void" => Ok(Resolution::Void),
            "escalate" => Ok(Resolution::Escalate),
            other => Err(format!(
                "resolution must be adopt, void or escalate, not `{other}`"
            )),
        }
    }
}

/// What an adopted collection is recorded with beyond SkyPay's row.
#[derive(Debug, Clone, Copy)]
pub struct AdoptSettings {
    /// `RECON_ADOPT_PAY_CHANNEL`.
    pub pay_channel: i32,
    /// `OVERPAYMENT`: the bill's rule applies to an adopted collection as to any other.
    pub overpayment: OverpaymentPolicy,
}

impl AdoptSettings {
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self {
            pay_channel: settings.recon.recon_adopt_pay_channel,
            overpayment: settings.overpayment,
        }
    }
}

pub async fn list(pool: &PgPool, filter: &ItemFilter, limit: i64) -> Result<Vec<Item>, OpsError> {
    if let Some(status) = &filter.status {
        if crate::domain::reconcile::ItemStatus::parse(status).is_none() {
            return Err(OpsError::BadRequest(format!(
                "status must be one of matched, missing_ours, missing_theirs, amount_mismatch, \
                 duplicate, not_posted, probable_match, not `{status}`"
            )));
        }
    }
    if let Some(state) = &filter.state {
        if !["ok", "expected", "open", "resolved"].contains(&state.as_str()) {
            return Err(OpsError::BadRequest(format!(
                "state must be ok, expected, open or resolved, not `{state}`"
            )));
        }
    }
    Ok(db::recon::items(pool, filter, limit.clamp(1, 100_000)).await?)
}

pub async fn show(pool: &PgPool, id: i64) -> Result<Item, OpsError> {
    db::recon::item(pool, id)
        .await?
        .ok_or_else(|| OpsError::NotFound(format!("no reconciliation item {id}")))
}

/// Resolves exception `id`. Only an open item can be resolved; only a `missing_ours` one
/// adopted.
pub async fn resolve(
    pool: &PgPool,
    id: i64,
    resolution: Resolution,
    note: &str,
    actor: &str,
    adopt: AdoptSettings,
) -> Result<Item, OpsError> {
    let note = note.trim();
    if note.is_empty() {
        return Err(OpsError::BadRequest("a note is required to resolve".into()));
    }
    let item = show(pool, id).await?;
    if item.state != "open" {
        return Err(OpsError::Conflict(format!(
            "reconciliation item {id} is {}, not open",
            item.state
        )));
    }
    let collection_id = match resolution {
        Resolution::Adopt if item.status != "missing_ours" => {
            return Err(OpsError::Conflict(format!(
                "only a missing_ours item can be adopted; {id} is {}",
                item.status
            )))
        }
        Resolution::Adopt => Some(adopt_row(pool, &item, adopt).await?),
        Resolution::Void | Resolution::Escalate => None,
    };
    let mut tx = pool.begin().await.map_err(anyhow::Error::from)?;
    let Some(locked) = db::recon::lock_item(&mut tx, id).await? else {
        return Err(OpsError::NotFound(format!("no reconciliation item {id}")));
    };
    if locked.state != "open" {
        return Err(OpsError::Conflict(format!(
            "reconciliation item {id} was resolved meanwhile"
        )));
    }
    db::recon::resolve_item(&mut tx, id, resolution.as_str(), note, actor, collection_id).await?;
    db::audit::record(
        &mut tx,
        actor,
        &format!("reconciliation.{}", resolution.as_str()),
        &format!("recon_item:{id}"),
        Some(note),
        json!({ "status": item.status, "referenceNo": item.reference_no, "collectionId": collection_id }),
    )
    .await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    show(pool, id).await
}

/// Records SkyPay's row as a collection through the collect path and flags it `adopted`.
async fn adopt_row(
    pool: &PgPool,
    item: &Item,
    settings: AdoptSettings,
) -> Result<uuid::Uuid, OpsError> {
    let row = item
        .their_row
        .as_ref()
        .ok_or_else(|| OpsError::Conflict("the item keeps no row of SkyPay's report".into()))?;
    let text = |k: &str| row.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    let control_number = ControlNumber::parse(&text("controlNo"))?;
    let amount = Amount::parse(&text("amount"))?;
    let receipt_number = ReceiptNumber::parse(&text("referenceNo"))?;
    let pay_time = chrono::NaiveDateTime::parse_from_str(&text("payTime"), "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(&text("payTime"), "%Y-%m-%d %H:%M:%S"))
        .map_err(|_| OpsError::Conflict("SkyPay's row has no readable payTime".into()))?;
    let collected_at = MANILA
        .from_local_datetime(&pay_time)
        .single()
        .ok_or_else(|| OpsError::Conflict("SkyPay's payTime is not a Manila time".into()))?;
    // SkyPay's report may mask the phone: the bill's payer phone then.
    let phone = match Phone::parse(&text("phone")) {
        Ok(phone) => phone,
        Err(_) => {
            let bill = db::bills::find(pool, control_number.as_str())
                .await?
                .ok_or_else(|| OpsError::Conflict(format!("no bill {control_number}")))?;
            Phone::parse(&bill.payer_phone)?
        }
    };
    let request = CollectRequest {
        control_number,
        amount,
        phone,
        receipt_number,
        collected_at,
        pay_channel: PayChannel::from_code(settings.pay_channel)?,
    };
    let kept = json!({ "adoptedFrom": row, "reconItem": item.id });
    let outcome = collect::record(
        pool,
        &request,
        settings.overpayment,
        kept,
        Answer::describe_refusal,
    )
    .await?;
    let id = match outcome {
        CollectOutcome::Recorded(id) => {
            // Best effort: the relays poll as well.
            let _ = workers::outbox::notify(pool).await;
            id
        }
        CollectOutcome::Repeated(_) => {
            return Err(OpsError::Conflict(format!(
                "receipt {} is recorded already: run the reconciliation again",
                request.receipt_number
            )))
        }
        CollectOutcome::Refused(refusal) => {
            return Err(OpsError::Conflict(format!(
                "the bill refuses it ({}): void or escalate instead",
                Answer::collect_refused(&refusal).response_description
            )))
        }
    };
    let mut tx = pool.begin().await.map_err(anyhow::Error::from)?;
    db::flags::insert(
        &mut tx,
        &NewFlag {
            kind: FlagKind::Adopted,
            collection_id: Some(id),
            refused_collect_id: None,
            control_number: Some(request.control_number.as_str()),
            receipt_number: Some(request.receipt_number.as_str()),
            pay_channel: Some(settings.pay_channel),
            details: json!({ "reconItem": item.id, "businessDate": item.business_date }),
        },
    )
    .await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    Ok(id)
}

/// The day's items as CSV, for a spreadsheet.
pub async fn export_csv(pool: &PgPool, date: chrono::NaiveDate) -> Result<String, OpsError> {
    let items = db::recon::items(
        pool,
        &ItemFilter {
            date: Some(date),
            ..ItemFilter::default()
        },
        1_000_000,
    )
    .await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let money =
        |v: Option<rust_decimal::Decimal>| v.map(crate::domain::format_money).unwrap_or_default();
    let write = |out: &mut csv::Writer<Vec<u8>>, record: &[String]| {
        out.write_record(record)
            .map_err(|e| OpsError::Internal(e.into()))
    };
    write(
        &mut out,
        &[
            "id",
            "business_date",
            "status",
            "state",
            "reference_no",
            "control_number",
            "their_amount",
            "our_amount",
            "collection_id",
            "detail",
            "resolution",
            "resolution_note",
            "resolved_by",
        ]
        .map(str::to_owned),
    )?;
    for i in &items {
        write(
            &mut out,
            &[
                i.id.to_string(),
                i.business_date.to_string(),
                i.status.clone(),
                i.state.clone(),
                i.reference_no.clone().unwrap_or_default(),
                i.control_number.clone().unwrap_or_default(),
                money(i.their_amount),
                money(i.our_amount),
                i.collection_id.map(|c| c.to_string()).unwrap_or_default(),
                i.detail.clone(),
                i.resolution.clone().unwrap_or_default(),
                i.resolution_note.clone().unwrap_or_default(),
                i.resolved_by.clone().unwrap_or_default(),
            ],
        )?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| OpsError::Internal(anyhow::anyhow!("{e}")))?;
    String::from_utf8(bytes).map_err(|e| OpsError::Internal(e.into()))
}
