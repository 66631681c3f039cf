//! `collector bills import FILE.csv`: bills from a spreadsheet, one per row, each registered
//! exactly as `PUT /internal/bills/{controlNumber}` would.
//!
//! Columns (header row required, order free): `controlNumber, loanRef, amountDue,
//! allowPartial, expiresAt, lastName, firstName, middleName, suffix, address, phone`.

use std::collections::HashMap;
use std::io::Read;

use anyhow::Context;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::value::RawValue;
use sqlx::PgPool;

use super::bills::{self, BillBody, PayerBody};
use crate::domain::MANILA;

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

/// `expiresAt` as a spreadsheet holds it: `2026-12-31 23:59:59` or `2026-12-31` in Philippine
/// time (+08:00), as the rest of the product reads local times, or RFC 3339 with an explicit
/// offset. A date alone means the whole of that day: the bill expires at the next midnight.
pub fn parse_expires_at(raw: &str) -> Result<DateTime<FixedOffset>, String> {
    let text = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t);
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").or_else(|_| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|day| day.succ_opt())
            .map(|next| next.and_time(NaiveTime::MIN))
            .ok_or(())
    });
    local
        .ok()
        .and_then(|t| t.and_local_timezone(MANILA).single())
        .ok_or_else(|| {
            format!(
                "expiresAt: `{raw}` is not a date like 2026-12-31, 2026-12-31 23:59:59 \
                 (Philippine time) or 2026-12-31T23:59:59+08:00"
            )
        })
}

fn body(row: &HashMap<&str, &str>) -> Result<BillBody, String> {
    let get = |k: &str| row.get(k).copied().unwrap_or("").to_owned();
    let optional = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
    let amount = serde_json::to_string(&get("amountDue")).map_err(|e| e.to_string())?;
    // Empty is false, as everywhere a setting is left out.
    let allow_partial = match optional("allowPartial") {
        None => false,
        Some(raw) => crate::config::parse_bool(&raw).map_err(|e| format!("allowPartial: {e}"))?,
    };
    let expires_at = optional("expiresAt")
        .map(|raw| parse_expires_at(&raw))
        .transpose()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(raw: &str) -> String {
        parse_expires_at(raw)
            .unwrap()
            .with_timezone(&chrono::Utc)
            .to_rfc3339()
    }

    #[test]
    fn expires_at_takes_local_times_dates_and_rfc3339() {
        assert_eq!(utc("2026-12-31 23:59:59"), "2026-12-31T15:59:59+00:00");
        assert_eq!(utc(" 2026-12-31 08:00:00 "), "2026-12-31T00:00:00+00:00");
        // A date alone: payable all that day, expired from the next midnight in Manila.
        assert_eq!(utc("2026-12-31"), "2026-12-31T16:00:00+00:00");
        assert_eq!(
            utc("2026-12-31T23:59:59+08:00"),
            "2026-12-31T15:59:59+00:00"
        );
        assert_eq!(utc("2026-12-31T10:00:00Z"), "2026-12-31T10:00:00+00:00");
        assert_eq!(parse_expires_at("2026-12-31").unwrap().offset(), &MANILA);
    }

    #[test]
    fn expires_at_refuses_the_rest_saying_what_it_takes() {
        for raw in [
            "31/12/2026",
            "2026-12-31 23:59",
            "2026-02-30",
            "2026-12-31T23:59:59",
            "tomorrow",
        ] {
            let err = parse_expires_at(raw).unwrap_err();
            assert!(
                err.starts_with("expiresAt:") && err.contains("2026-12-31 23:59:59"),
                "{raw}: {err}"
            );
        }
    }

    fn row<'a>(amount: &'a str, expires: &'a str) -> HashMap<&'static str, &'a str> {
        HashMap::from([
            ("controlNumber", "SKY0100000001"),
            ("loanRef", "LN-1"),
            ("amountDue", amount),
            ("allowPartial", "false"),
            ("expiresAt", expires),
            ("lastName", "Dela Cruz"),
            ("firstName", "Juan"),
            ("address", "Manila"),
            ("phone", "09221008333"),
        ])
    }

    #[test]
    fn a_row_with_a_local_expiry_registers_like_the_api() {
        let parsed = body(&row("1000.00", "2026-12-31")).unwrap();
        let registration = bills::parse_body("SKY0100000001", parsed).unwrap();
        assert_eq!(
            registration.expires_at.unwrap().to_rfc3339(),
            "2026-12-31T16:00:00+00:00"
        );
        assert!(body(&row("1000.00", "31/12/2026")).is_err());
    }

    #[test]
    fn a_negative_amount_is_told_to_be_positive() {
        let parsed = body(&row("-100.00", "")).unwrap();
        let err = bills::parse_body("SKY0100000001", parsed)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("amountDue") && err.contains("positive"),
            "{err}"
        );
    }
}
