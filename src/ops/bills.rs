//! Bills as the core loan system registers them, shared by the admin API and the CLI
//! (`collector bills import`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;

use super::OpsError;
use crate::db::bills::BillRegistration;
use crate::db::collections::Collection;
use crate::db::{self};
use crate::domain::amount::serialize_money;
use crate::domain::{Amount, Bill, BillStatus, ControlNumber, FieldError, MobilePhone, PayerName};
use sqlx::PgPool;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillBody {
    pub loan_ref: String,
    /// A string or a number, parsed exactly as a decimal.
    pub amount_due: Box<RawValue>,
    #[serde(default)]
    pub allow_partial: bool,
    pub expires_at: Option<DateTime<chrono::FixedOffset>>,
    pub payer: PayerBody,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayerBody {
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub suffix: Option<String>,
    pub address: String,
    pub phone: String,
}

/// A bill as the admin API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillView {
    control_number: String,
    loan_ref: String,
    #[serde(serialize_with = "serialize_money")]
    amount_due: Decimal,
    #[serde(serialize_with = "serialize_money")]
    outstanding: Decimal,
    allow_partial: bool,
    status: &'static str,
    expires_at: Option<DateTime<Utc>>,
    payer: PayerBody,
    collections: Vec<Collection>,
}

impl BillView {
    fn new(bill: Bill, collections: Vec<Collection>) -> Self {
        Self {
            control_number: bill.control_number,
            loan_ref: bill.loan_ref,
            amount_due: bill.amount_due,
            outstanding: bill.outstanding,
            allow_partial: bill.allow_partial,
            status: bill.status.as_str(),
            expires_at: bill.expires_at,
            payer: PayerBody {
                last_name: bill.payer.last,
                first_name: bill.payer.first,
                middle_name: bill.payer.middle,
                suffix: bill.payer.suffix,
                address: bill.payer_address,
                phone: bill.payer_phone,
            },
            collections,
        }
    }
}

pub fn parse_body(control_number: &str, body: BillBody) -> Result<BillRegistration, OpsError> {
    let control_number = ControlNumber::parse(control_number)?.into_string();
    let amount_text = match serde_json::from_str::<String>(body.amount_due.get()) {
        Ok(text) => text,
        Err(_) => body.amount_due.get().to_owned(),
    };
    let amount_due = Amount::parse(&amount_text).map_err(|e| e.with_field("amountDue"))?;
    let required = |field: &'static str, value: &str, max: usize| -> Result<String, FieldError> {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > max {
            return Err(FieldError::new(
                field,
                format!("must be 1–{max} characters"),
            ));
        }
        Ok(value.to_owned())
    };
    let optional = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let phone = MobilePhone::parse(&body.payer.phone).map_err(|e| e.with_field("payer.phone"))?;
    Ok(BillRegistration {
        control_number,
        loan_ref: required("loanRef", &body.loan_ref, 100)?,
        amount_due: amount_due.value(),
        allow_partial: body.allow_partial,
        expires_at: body.expires_at.map(|t| t.with_timezone(&Utc)),
        payer: PayerName {
            last: required("payer.lastName", &body.payer.last_name, 100)?,
            first: required("payer.firstName", &body.payer.first_name, 100)?,
            middle: optional(body.payer.middle_name),
            suffix: optional(body.payer.suffix),
        },
        payer_address: required("payer.address", &body.payer.address, 255)?,
        payer_phone: phone.as_str().to_owned(),
    })
}

/// Registers a bill, or updates an open one; `true` when it was new. The outstanding amount is
/// what is due less what has already been collected.
pub async fn register(
    pool: &PgPool,
    control_number: &str,
    body: BillBody,
    actor: &str,
) -> Result<(BillView, bool), OpsError> {
    let reg = parse_body(control_number, body)?;
    let mut tx = pool.begin().await.map_err(anyhow::Error::from)?;
    let existing = db::bills::lock(&mut tx, &reg.control_number).await?;
    if let Some(bill) = &existing {
        if bill.status != BillStatus::Open {
            return Err(OpsError::Conflict(format!(
                "bill is {}; register a new control number instead",
                bill.status.as_str()
            )));
        }
    }
    let collected = db::collections::total_for_bill(&mut tx, &reg.control_number).await?;
    let outstanding = reg.amount_due - collected;
    if outstanding < Decimal::ZERO {
        return Err(FieldError::new(
            "amountDue",
            format!("below the {collected} already collected"),
        )
        .into());
    }
    let status = if outstanding.is_zero() {
        BillStatus::Paid
    } else {
        BillStatus::Open
    };
    db::bills::upsert(&mut tx, &reg, outstanding, status).await?;
    let action = if existing.is_some() {
        "bill.update"
    } else {
        "bill.register"
    };
    let details = json!({ "amountDue": reg.amount_due, "allowPartial": reg.allow_partial, "loanRef": reg.loan_ref });
    db::audit::record(&mut tx, actor, action, &reg.control_number, None, details).await?;
    let view = load(&mut tx, &reg.control_number).await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    Ok((view, existing.is_none()))
}

/// Cancels an open bill: it is no longer collectable.
pub async fn cancel(
    pool: &PgPool,
    control_number: &str,
    actor: &str,
) -> Result<BillView, OpsError> {
    let control_number = ControlNumber::parse(control_number)?.into_string();
    let mut tx = pool.begin().await.map_err(anyhow::Error::from)?;
    let bill = db::bills::lock(&mut tx, &control_number)
        .await?
        .ok_or_else(|| OpsError::NotFound(format!("no bill {control_number}")))?;
    if !db::bills::cancel(&mut tx, &control_number).await? {
        return Err(OpsError::Conflict(format!(
            "bill is {}, not open",
            bill.status.as_str()
        )));
    }
    db::audit::record(
        &mut tx,
        actor,
        "bill.cancel",
        &control_number,
        None,
        json!({}),
    )
    .await?;
    let view = load(&mut tx, &control_number).await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    Ok(view)
}

/// A bill with its collections.
pub async fn show(pool: &PgPool, control_number: &str) -> Result<BillView, OpsError> {
    let control_number = ControlNumber::parse(control_number)?;
    let mut conn = pool.acquire().await.map_err(anyhow::Error::from)?;
    load(&mut conn, control_number.as_str()).await
}

async fn load(conn: &mut sqlx::PgConnection, control_number: &str) -> Result<BillView, OpsError> {
    let bill = db::bills::find(&mut *conn, control_number)
        .await?
        .ok_or_else(|| OpsError::NotFound(format!("no bill {control_number}")))?;
    let collections = db::collections::list_for_bill(&mut *conn, control_number).await?;
    Ok(BillView::new(bill, collections))
}
