//! `getReportCollection` as SkyPay answers it: the request's fields, one page of the book, and
//! the answer's JSON text, written by hand so that amounts keep their exact digits and the
//! published page's quirks (numbers as strings, trailing commas) can be switched on.

use std::fmt::Write as _;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::book::{parse_day, Book, BookRow, DateType, TIME_FORMAT};

/// The action's name as SkyPay's page spells it in one place…
pub const ACTION: &str = "getReportCollection";
/// …and as it spells it in another.
pub const ACTION_MISSPELT: &str = "getRerpotCollection";

/// How the report answers, settable at start and through `PUT /control` (`"report"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ReportSwitches {
    /// Accepted `action` values, compared exactly. Default: both published spellings; strict
    /// mode is a list of one.
    pub action_spellings: Vec<String>,
    /// Every report call answers `{"responseCode": <code>, "responseDescription": …}`
    /// (`-1032`, `-9999`…) instead of a page.
    pub error_code: Option<String>,
    /// `totalTransaction` and amounts as JSON strings.
    pub numbers_as_strings: bool,
    /// A comma after the last row and after the last field of each row, as the published
    /// sample has.
    pub trailing_commas: bool,
    /// Sleep before answering each report call, in milliseconds.
    pub page_delay_ms: u64,
    /// After answering a page that is not the last, book this many new rows 1 s, 2 s… after
    /// the newest time in the requested range: rows that appear mid-run and shift the pages.
    pub insert_between_pages: u32,
    /// The first N report calls (counted from start or from the last `PUT /control` that sets
    /// the report switches) answer HTTP 503.
    pub fail_pages: u32,
}

impl Default for ReportSwitches {
    fn default() -> Self {
        Self {
            action_spellings: vec![ACTION.to_owned(), ACTION_MISSPELT.to_owned()],
            error_code: None,
            numbers_as_strings: false,
            trailing_commas: false,
            page_delay_ms: 0,
            insert_between_pages: 0,
            fail_pages: 0,
        }
    }
}

/// What a report call asks for (credentials and action are checked before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub date_type: DateType,
    /// 1-based.
    pub pagination: u64,
    pub page_size: u64,
}

/// Reads the query from the request object, or says which field is wrong. `pagination` and
/// `pageSize` may be numbers or strings of digits; they default to 1 and 100.
pub fn parse_query(request: &Map<String, Value>) -> Result<ReportQuery, String> {
    let day = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .and_then(parse_day)
            .ok_or_else(|| format!("{name} must be yyyy-MM-dd"))
    };
    let (start_date, end_date) = (day("startDate")?, day("endDate")?);
    if end_date < start_date {
        return Err("endDate is before startDate".to_owned());
    }
    let date_type = request
        .get("dateType")
        .and_then(Value::as_str)
        .and_then(DateType::parse)
        .ok_or_else(|| "dateType must be CollectedTime or CreateDate".to_owned())?;
    let whole = |name: &str, default: u64| {
        match request.get(name) {
            None | Some(Value::Null) => Some(default),
            Some(Value::Number(n)) => n.as_u64().filter(|n| *n > 0),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok().filter(|n| *n > 0),
            Some(_) => None,
        }
        .ok_or_else(|| format!("{name} must be a whole number from 1"))
    };
    Ok(ReportQuery {
        start_date,
        end_date,
        date_type,
        pagination: whole("pagination", 1)?,
        page_size: whole("pageSize", 100)?,
    })
}

/// One page of the report.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// Rows in the range, on every page.
    pub total: usize,
    pub last_page: bool,
    pub rows: Vec<&'a BookRow>,
}

/// The rows of `query`'s page, newest first. A page past the end is empty and last.
pub fn page<'a>(book: &'a Book, query: &ReportQuery) -> Page<'a> {
    let all = book.select(query.date_type, query.start_date, query.end_date);
    let total = all.len();
    let size = usize::try_from(query.page_size).unwrap_or(usize::MAX);
    let skip = usize::try_from(query.pagination - 1)
        .unwrap_or(usize::MAX)
        .saturating_mul(size);
    let rows: Vec<&BookRow> = all.into_iter().skip(skip).take(size).collect();
    Page {
        total,
        last_page: skip.saturating_add(size) >= total,
        rows,
    }
}

/// The page as SkyPay writes it: `{"totalTransaction":…,"lastPage":…,"result":[…]}`, amounts
/// as JSON numbers with the book's digits (`1300.0`, `1300.25`), or strings under
/// `numbersAsStrings`.
pub fn write_page(page: &Page<'_>, switches: &ReportSwitches) -> String {
    let number = |text: String| {
        if switches.numbers_as_strings {
            format!("\"{text}\"")
        } else {
            text
        }
    };
    let trailing = if switches.trailing_commas { "," } else { "" };
    let mut out = String::with_capacity(64 + page.rows.len() * 220);
    let _ = write!(
        out,
        "{{\"totalTransaction\":{},\"lastPage\":{},\"result\":[",
        number(page.total.to_string()),
        page.last_page
    );
    for (i, row) in page.rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"createDate\":\"{}\",\"payTime\":\"{}\",\"controlNo\":{},\"amount\":{},\
             \"phone\":{},\"referenceNo\":{},\"status\":{}{trailing}}}",
            row.create_date.format(TIME_FORMAT),
            row.pay_time.format(TIME_FORMAT),
            json_string(&row.control_no),
            number(amount_text(row.amount)),
            json_string(&row.phone),
            json_string(&row.reference_no),
            json_string(&row.status),
        );
    }
    if !page.rows.is_empty() {
        out.push_str(trailing);
    }
    out.push_str("]}");
    out
}

/// The book's digits as a JSON number's text: `1300.0` stays `1300.0`.
fn amount_text(amount: Decimal) -> String {
    amount.to_string()
}

fn json_string(s: &str) -> String {
    Value::from(s).to_string()
}

/// `{"responseCode":"<code>","responseDescription":"<description>"}`.
pub fn error_answer(code: &str, description: &str) -> String {
    serde_json::json!({ "responseCode": code, "responseDescription": description }).to_string()
}

/// SkyPay's description of the codes the fake answers with; others get a generic one.
pub fn describe(code: &str) -> &'static str {
    match code {
        "-1000" => "Post context is not valid",
        "-1001" => "Verification failed",
        "-1032" => "Parameter error",
        "-9999" => "System error",
        _ => "Error injected by fake-skypay",
    }
}

/// `n` rows for `insertBetweenPages`: 1 s, 2 s… after the newest `date_type` time in the
/// query's range (both their times set to it), or none if the range is empty. `tag` makes
/// their control and reference numbers unique.
pub fn rows_to_insert(book: &Book, query: &ReportQuery, n: u32, tag: usize) -> Vec<BookRow> {
    let Some(newest) = book
        .select(query.date_type, query.start_date, query.end_date)
        .first()
        .map(|row| row.time(query.date_type))
    else {
        return Vec::new();
    };
    (1..=n)
        .map(|k| {
            let at: NaiveDateTime = newest + TimeDelta::seconds(i64::from(k));
            let serial = tag + k as usize;
            BookRow::new(
                at,
                &format!("FSINS{:010}", serial % 10_000_000_000),
                Decimal::new(130_000, 2),
                "09221008333",
                &format!("FSI{serial:09}"),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(v: Value) -> Result<ReportQuery, String> {
        parse_query(v.as_object().unwrap())
    }

    #[test]
    fn pagination_and_page_size_may_be_numbers_or_strings() {
        let q = query(json!({"startDate":"2026-11-20","endDate":"2026-11-21",
            "dateType":"CreateDate","pagination":"2","pageSize":50}))
        .unwrap();
        assert_eq!((q.pagination, q.page_size), (2, 50));
        assert_eq!(q.date_type, DateType::CreateDate);
        let q = query(json!({"startDate":"2026-11-20","endDate":"2026-11-20",
            "dateType":"CollectedTime"}))
        .unwrap();
        assert_eq!((q.pagination, q.page_size), (1, 100));
        for bad in [
            json!({"startDate":"2026-11-20","endDate":"2026-11-19","dateType":"CreateDate"}),
            json!({"startDate":"20/11/2026","endDate":"2026-11-20","dateType":"CreateDate"}),
            json!({"startDate":"2026-11-20","endDate":"2026-11-20","dateType":"PayDate"}),
            json!({"startDate":"2026-11-20","endDate":"2026-11-20","dateType":"CreateDate",
                   "pagination":0}),
            json!({"startDate":"2026-11-20","endDate":"2026-11-20","dateType":"CreateDate",
                   "pageSize":"ten"}),
        ] {
            assert!(query(bad.clone()).is_err(), "{bad}");
        }
    }
}
