//! `collector bills import FILE.csv`: bills from a spreadsheet, one per row, each registered
//! exactly as `PUT /internal/bills/{controlNumber}` would.
//!
//! Columns (header row required, order free): `controlNumber, loanRef, amountDue,
//! allowPartial, expiresAt, lastName, firstName, middleName, suffix, address, phone`.

use std::collections::HashMap;
use std::io::Read;

use anyhow::Context;
use serde_json::value::RawValue;
use sqlx::PgPool;

use super::bills::{self, BillBody, PayerBody};

/// One row's outcome: the line number (header is line 1) and what happened.
#[derive(Debug, Clone)]
pub struct RowOutcome {
    pub line: usize,
    pub control_number: String,
    pub result: Result<&'static str, String>,
}

pub async fn import(
    pool: &PgPool,
    input: impl Read,
    actor: &str,
) -> anyhow::Result<Vec<RowOutcome>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .context("Failed to read the CSV header row")?
        .iter()
        .map(str::to_owned)
        .collect();
    for required in [
        "controlNumber",
        "loanRef",
        "amountDue",
        "lastName",
        "firstName",
        "address",
        "phone",
    ] {
        if !headers.iter().any(|h| h == required) {
            anyhow::bail!(
                "the CSV has no `{required}` column (header: {})",
                headers.join(",")
            );
        }
    }
    let mut outcomes = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                outcomes.push(RowOutcome {
                    line,
                    control_number: String::new(),
                    result: Err(format!("unreadable row: {e}")),
                });
                continue;
            }
        };
        let row: HashMap<&str, &str> = headers
            .iter()
            .map(String::as_str)
            .zip(record.iter())
            .collect();
        let get = |k: &str| row.get(k).copied().unwrap_or("");
        let control_number = get("controlNumber").to_owned();
        let result = match body(&row) {
            Ok(body) => match bills::register(pool, &control_number, body, actor).await {
                Ok((_, true)) => Ok("registered"),
                Ok((_, false)) => Ok("updated"),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e),
        };
        outcomes.push(RowOutcome {
            line,
            control_number,
            result,
        });
    }
    Ok(outcomes)
}

fn body(row: &HashMap<&str, &str>) -> Result<BillBody, String> {
    let get = |k: &str| row.get(k).copied().unwrap_or("").to_owned();
    let optional = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
    let amount = serde_json::to_string(&get("amountDue")).map_err(|e| e.to_string())?;
    let allow_partial = match get("allowPartial").to_ascii_lowercase().as_str() {
        "" | "false" | "no" | "0" => false,
        "true" | "yes" | "1" => true,
        other => return Err(format!("allowPartial: `{other}` is not true or false")),
    };
    let expires_at = match optional("expiresAt") {
        Some(raw) => Some(
            chrono::DateTime::parse_from_rfc3339(&raw)
                .map_err(|_| format!("expiresAt: `{raw}` is not RFC 3339"))?,
        ),
        None => None,
    };
    Ok(BillBody {
        loan_ref: get("loanRef"),
        amount_due: RawValue::from_string(amount).map_err(|e| e.to_string())?,
        allow_partial,
        expires_at,
        payer: PayerBody {
            last_name: get("lastName"),
            first_name: get("firstName"),
            middle_name: optional("middleName"),
            suffix: optional("suffix"),
            address: get("address"),
            phone: get("phone"),
        },
    })
}
