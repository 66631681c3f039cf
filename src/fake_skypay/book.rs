//! SkyPay's book: the collections SkyPay believes it took, which `getReportCollection`
//! reports. Times are Philippine local time, as SkyPay writes them; amounts are exact decimals
//! that keep the scale they were booked with (`1300.0` stays `1300.0`).

use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::domain::{parse_collected_time, MANILA};

/// SkyPay's time format, Philippine local time: `2022-11-02 11:55:49`.
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Which of a row's times the report filters and orders on (the request's `dateType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DateType {
    /// `payTime`: when the cash was taken.
    CollectedTime,
    /// `createDate`: when SkyPay created the transaction.
    CreateDate,
}

impl DateType {
    /// `CollectedTime` or `CreateDate`, any casing.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("CollectedTime") {
            Some(Self::CollectedTime)
        } else if raw.eq_ignore_ascii_case("CreateDate") {
            Some(Self::CreateDate)
        } else {
            None
        }
    }
}

/// One collection in SkyPay's book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookRow {
    #[serde(serialize_with = "manila_text")]
    pub create_date: NaiveDateTime,
    #[serde(serialize_with = "manila_text")]
    pub pay_time: NaiveDateTime,
    pub control_no: String,
    /// Read back (`GET /book`) as a string with the booked scale.
    pub amount: Decimal,
    pub phone: String,
    /// SkyPay's reference: the collect's `receiptNumber`.
    pub reference_no: String,
    pub status: String,
}

impl BookRow {
    /// A `Confirmed` row created when it was paid. `pay_time` is cut to whole seconds.
    pub fn new(
        pay_time: NaiveDateTime,
        control_no: &str,
        amount: Decimal,
        phone: &str,
        reference_no: &str,
    ) -> Self {
        let pay_time = whole_seconds(pay_time);
        Self {
            create_date: pay_time,
            pay_time,
            control_no: control_no.to_owned(),
            amount,
            phone: phone.to_owned(),
            reference_no: reference_no.to_owned(),
            status: "Confirmed".to_owned(),
        }
    }

    /// The time `date_type` names.
    pub fn time(&self, date_type: DateType) -> NaiveDateTime {
        match date_type {
            DateType::CollectedTime => self.pay_time,
            DateType::CreateDate => self.create_date,
        }
    }
}

fn manila_text<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&t.format(TIME_FORMAT))
}

fn whole_seconds(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(0).unwrap_or(t)
}

/// A row as `POST /book` takes it: `createDate` defaults to `payTime`, `status` to
/// `Confirmed`; `amount` is a JSON string or number, read from its text exactly.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRow {
    #[serde(default)]
    pub create_date: Option<String>,
    pub pay_time: String,
    pub control_no: String,
    #[serde(deserialize_with = "exact_amount")]
    pub amount: Decimal,
    pub phone: String,
    pub reference_no: String,
    #[serde(default)]
    pub status: Option<String>,
}

impl NewRow {
    /// The row to book, or why its times cannot be read.
    pub fn into_row(self) -> Result<BookRow, String> {
        let pay_time = parse_manila(&self.pay_time)
            .ok_or_else(|| format!("payTime `{}` is not yyyy-MM-dd HH:mm:ss", self.pay_time))?;
        let mut row = BookRow::new(
            pay_time,
            &self.control_no,
            self.amount,
            &self.phone,
            &self.reference_no,
        );
        if let Some(raw) = self.create_date.as_deref() {
            row.create_date = parse_manila(raw)
                .map(whole_seconds)
                .ok_or_else(|| format!("createDate `{raw}` is not yyyy-MM-dd HH:mm:ss"))?;
        }
        if let Some(status) = self.status {
            row.status = status;
        }
        Ok(row)
    }
}

/// `yyyy-MM-dd HH:mm:ss` in Philippine time (also the other forms `collectedTime` accepts:
/// a `T`, fractions, an explicit offset), as a Philippine local time.
pub fn parse_manila(raw: &str) -> Option<NaiveDateTime> {
    parse_collected_time(raw)
        .ok()
        .map(|t| t.with_timezone(&MANILA).naive_local())
}

/// `yyyy-MM-dd`.
pub fn parse_day(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()
}

/// An amount from its JSON text, a string or a number, never through a float: `1300.0` keeps
/// its one decimal.
pub fn exact_amount<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    let text = raw.get().trim();
    let text = if text.starts_with('"') {
        serde_json::from_str::<String>(text).map_err(serde::de::Error::custom)?
    } else {
        text.to_owned()
    };
    let text = text.trim();
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| serde::de::Error::custom(format!("amount `{text}` is not a decimal number")))
}

/// The rows, in the order they were booked.
#[derive(Debug, Clone, Default)]
pub struct Book {
    rows: Vec<BookRow>,
}

impl Book {
    pub fn add(&mut self, row: BookRow) {
        self.rows.push(row);
    }

    pub fn rows(&self) -> &[BookRow] {
        &self.rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn clear(&mut self) {
        self.rows.clear();
    }

    /// The rows whose `date_type` time falls on `start..=end` (Manila days), newest first;
    /// among equal times the later booked comes first, so pages are stable.
    pub fn select(&self, date_type: DateType, start: NaiveDate, end: NaiveDate) -> Vec<&BookRow> {
        let mut picked: Vec<(usize, &BookRow)> = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, row)| (start..=end).contains(&row.time(date_type).date()))
            .collect();
        picked
            .sort_by(|(ia, a), (ib, b)| b.time(date_type).cmp(&a.time(date_type)).then(ib.cmp(ia)));
        picked.into_iter().map(|(_, row)| row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posted_row_keeps_its_amount_exactly_and_takes_the_defaults() {
        let rows: Vec<NewRow> = serde_json::from_str(
            r#"[{"payTime":"2026-11-20 10:00:00","controlNo":"SKY0100000001","amount":1300.0,
                 "phone":"09221008333","referenceNo":"R1"},
                {"createDate":"2026-11-19 23:59:59","payTime":"2026-11-20T00:00:01+08:00",
                 "controlNo":"SKY0100000002","amount":" 1300.25 ","phone":"09221008333",
                 "referenceNo":"R2","status":"Pending"}]"#,
        )
        .unwrap();
        let rows: Vec<BookRow> = rows.into_iter().map(|r| r.into_row().unwrap()).collect();
        assert_eq!(rows[0].amount.to_string(), "1300.0");
        assert_eq!(rows[0].create_date, rows[0].pay_time);
        assert_eq!(rows[0].status, "Confirmed");
        assert_eq!(rows[1].amount.to_string(), "1300.25");
        assert_eq!(
            rows[1].create_date.format(TIME_FORMAT).to_string(),
            "2026-11-19 23:59:59"
        );
        assert_eq!(rows[1].status, "Pending");
        let shown = serde_json::to_value(&rows[1]).unwrap();
        assert_eq!(shown["amount"], "1300.25");
        assert_eq!(shown["payTime"], "2026-11-20 00:00:01");
        let bad: Result<Vec<NewRow>, _> = serde_json::from_str(
            r#"[{"payTime":"x","controlNo":"C","amount":"1,300","phone":"p","referenceNo":"R"}]"#,
        );
        assert!(bad.unwrap_err().to_string().contains("1,300"));
        let bad = NewRow {
            create_date: None,
            pay_time: "20 Nov 2026".into(),
            control_no: "C".into(),
            amount: Decimal::ONE,
            phone: "p".into(),
            reference_no: "R".into(),
            status: None,
        };
        assert!(bad.into_row().unwrap_err().contains("payTime"));
    }
}
