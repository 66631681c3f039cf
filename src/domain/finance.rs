//! SkyPay's finance notices (`financeNotification`: settlements, recharges, withdrawals) and the
//! settlement check of a collection settlement (statement type 4): which Manila days it covers
//! and what its amount is in pesos. Both are settings until SkyPay confirms them
//! (`SETTLEMENT_PERIOD`, `SETTLEMENT_AMOUNT_UNIT`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;

use super::{FieldError, MANILA};

/// `statementType` of a collection settlement: SkyPay paying out what it collected for us.
pub const COLLECTION_SETTLEMENT: i32 = 4;

/// One finance notice, its fields read (`skypay::request` builds it from the wire). Only
/// `referenceNumber` is required: a notice is information for us, kept as sent, and every
/// other field SkyPay leaves out is kept as absent rather than refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinanceNotice {
    pub reference_number: String,
    /// Empty when absent: with `reference_number`, the notice's key.
    pub account_no: String,
    /// `transctionDate` (SkyPay's spelling) or `transactionDate`, as sent.
    pub transaction_date: Option<String>,
    pub company_prefix: Option<String>,
    pub company_name: Option<String>,
    pub source_account_no: Option<String>,
    pub beneficiary_account_no: Option<String>,
    /// 1–6 in SkyPay's page (4: collection settlement); another number is kept as sent.
    pub statement_type: Option<i32>,
    /// `recharge` or `reduce`, as sent.
    pub sign_type: Option<String>,
    /// The amount as sent, exact, in SkyPay's unit ([`AmountUnit`]).
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
}

impl FinanceNotice {
    pub fn is_collection_settlement(&self) -> bool {
        self.statement_type == Some(COLLECTION_SETTLEMENT)
    }

    /// The Manila day of `transaction_date`, when it can be read.
    pub fn transaction_day(&self) -> Option<NaiveDate> {
        self.transaction_date.as_deref().and_then(transaction_day)
    }
}

/// Which Manila days a collection settlement dated on day D covers (`SETTLEMENT_PERIOD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementPeriod {
    /// `previous-day`: the day before D (SkyPay settles yesterday's collections today).
    PreviousDay,
    /// `same-day`: D itself.
    SameDay,
}

impl SettlementPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            SettlementPeriod::PreviousDay => "previous-day",
            SettlementPeriod::SameDay => "same-day",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "previous-day" => Some(SettlementPeriod::PreviousDay),
            "same-day" => Some(SettlementPeriod::SameDay),
            _ => None,
        }
    }

    /// The covered Manila days, `[first, end)`, for a notice dated `day`.
    pub fn days(self, day: NaiveDate) -> (NaiveDate, NaiveDate) {
        let first = match self {
            SettlementPeriod::PreviousDay => day.pred_opt().unwrap_or(day),
            SettlementPeriod::SameDay => day,
        };
        (first, first.succ_opt().unwrap_or(first))
    }
}

/// What a notice's integer `amount` counts (`SETTLEMENT_AMOUNT_UNIT`): SkyPay's page does not
/// say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountUnit {
    /// `centavos`: 390000 is 3900.00 pesos.
    Centavos,
    /// `pesos`: 3900 is 3900.00 pesos.
    Pesos,
}

impl AmountUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            AmountUnit::Centavos => "centavos",
            AmountUnit::Pesos => "pesos",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "centavos" => Some(AmountUnit::Centavos),
            "pesos" => Some(AmountUnit::Pesos),
            _ => None,
        }
    }

    /// `amount` in pesos, to the centavo (a fraction of a centavo is rounded half to even).
    pub fn pesos(self, amount: Decimal) -> Decimal {
        let pesos = match self {
            AmountUnit::Centavos => amount / Decimal::ONE_HUNDRED,
            AmountUnit::Pesos => amount,
        };
        let mut exact = pesos.round_dp(2);
        exact.rescale(2);
        exact
    }
}

/// How collection settlements are checked: both settings together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettlementRules {
    pub period: SettlementPeriod,
    pub unit: AmountUnit,
}

impl Default for SettlementRules {
    fn default() -> Self {
        Self {
            period: SettlementPeriod::PreviousDay,
            unit: AmountUnit::Centavos,
        }
    }
}

/// The covered period of a settlement as instants: Manila midnight to Manila midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettlementPeriodSpan {
    pub first_day: NaiveDate,
    /// Exclusive.
    pub end_day: NaiveDate,
}

impl SettlementPeriodSpan {
    pub fn of(rules: SettlementRules, day: NaiveDate) -> Self {
        let (first_day, end_day) = rules.period.days(day);
        Self { first_day, end_day }
    }

    pub fn start(&self) -> DateTime<Utc> {
        manila_midnight(self.first_day)
    }

    pub fn end(&self) -> DateTime<Utc> {
        manila_midnight(self.end_day)
    }

    /// The span back from the instants stored with the notice.
    pub fn from_instants(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self {
            first_day: start.with_timezone(&MANILA).date_naive(),
            end_day: end.with_timezone(&MANILA).date_naive(),
        }
    }
}

/// Midnight starting `day` in Manila.
pub fn manila_midnight(day: NaiveDate) -> DateTime<Utc> {
    MANILA
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map_or_else(
            || day.and_time(NaiveTime::MIN).and_utc(),
            |t| t.with_timezone(&Utc),
        )
}

/// The Manila day of a notice's `transctionDate`: `yyyy-MM-dd`, optionally followed by a time
/// (` HH:mm:ss` or `THH:mm:ss`, fractions and an offset allowed, as `collectedTime`), or
/// `yyyyMMdd`. A time with an explicit offset is moved to Manila first.
pub fn transaction_day(raw: &str) -> Option<NaiveDate> {
    let text = raw.trim();
    if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(text, "%Y%m%d").ok();
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(day);
    }
    if let Ok(t) = super::parse_collected_time(text) {
        return Some(t.with_timezone(&MANILA).date_naive());
    }
    // A time without seconds: `2026-11-21 10:15`.
    NaiveDateTime::parse_from_str(&text.replacen('T', " ", 1), "%Y-%m-%d %H:%M")
        .ok()
        .map(|t| t.date())
}

/// A notice's `amount`: digits with at most 2 decimal places (SkyPay's page says an integer),
/// never negative (`signType` carries the direction), at most 16 digits before the point.
pub fn parse_notice_amount(raw: &str) -> Result<Decimal, FieldError> {
    const FIELD: &str = "amount";
    let text = raw.trim();
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(FieldError::new(
            FIELD,
            "must be a whole number (or at most 2 decimal places), like 390000",
        ));
    }
    if fraction.is_some_and(|f| f.len() > 2) {
        return Err(FieldError::new(FIELD, "at most 2 decimal places"));
    }
    if whole.trim_start_matches('0').len() > 16 {
        return Err(FieldError::new(FIELD, "at most 16 digits"));
    }
    text.parse::<Decimal>()
        .map_err(|_| FieldError::new(FIELD, "not a number"))
}

/// A collection settlement checked against our books: the matched collections of its period
/// and the drift, `amount in pesos − matched`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub period: SettlementPeriodSpan,
    pub amount: Decimal,
    pub matched: Decimal,
    pub drift: Decimal,
}

impl Settlement {
    pub fn new(period: SettlementPeriodSpan, amount: Decimal, matched: Decimal) -> Self {
        let mut drift = amount - matched;
        drift.rescale(2);
        Self {
            period,
            amount,
            matched,
            drift,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_settlement_covers_the_day_before_or_its_own_day() {
        let d = day("2026-03-01");
        assert_eq!(
            SettlementPeriod::PreviousDay.days(d),
            (day("2026-02-28"), d)
        );
        assert_eq!(SettlementPeriod::SameDay.days(d), (d, day("2026-03-02")));
        let span = SettlementPeriodSpan::of(SettlementRules::default(), d);
        assert_eq!(span.start().to_rfc3339(), "2026-02-27T16:00:00+00:00");
        assert_eq!(span.end().to_rfc3339(), "2026-02-28T16:00:00+00:00");
        assert_eq!(
            SettlementPeriodSpan::from_instants(span.start(), span.end()),
            span
        );
    }

    #[test]
    fn the_unit_turns_the_amount_into_pesos() {
        let dec = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(
            AmountUnit::Centavos.pesos(dec("390000")).to_string(),
            "3900.00"
        );
        assert_eq!(
            AmountUnit::Centavos.pesos(dec("390101")).to_string(),
            "3901.01"
        );
        assert_eq!(AmountUnit::Pesos.pesos(dec("3900")).to_string(), "3900.00");
        assert_eq!(
            AmountUnit::Pesos.pesos(dec("3900.5")).to_string(),
            "3900.50"
        );
        let s = Settlement::new(
            SettlementPeriodSpan::of(SettlementRules::default(), day("2026-03-01")),
            dec("3901.00"),
            dec("3900"),
        );
        assert_eq!(s.drift.to_string(), "1.00");
    }

    #[test]
    fn transaction_dates_are_read_in_manila() {
        for (raw, want) in [
            ("2026-11-21", "2026-11-21"),
            ("2026-11-21 00:10:00", "2026-11-21"),
            ("2026-11-21T23:59:59", "2026-11-21"),
            ("2026-11-21 10:15", "2026-11-21"),
            ("20261121", "2026-11-21"),
            // 17:00 UTC is 01:00 the next day in Manila.
            ("2026-11-21T17:00:00Z", "2026-11-22"),
        ] {
            assert_eq!(transaction_day(raw), Some(day(want)), "{raw}");
        }
        for bad in ["", "yesterday", "21/11/2026", "2026-13-01", "2026112"] {
            assert_eq!(transaction_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn notice_amounts_are_exact_and_never_negative() {
        assert_eq!(parse_notice_amount("390000").unwrap().to_string(), "390000");
        assert_eq!(
            parse_notice_amount(" 3900.50 ").unwrap().to_string(),
            "3900.50"
        );
        assert_eq!(parse_notice_amount("0").unwrap(), Decimal::ZERO);
        for bad in [
            "-1",
            "1e3",
            "",
            "1.234",
            "1,000",
            "+5",
            ".5",
            "5.",
            "12345678901234567",
        ] {
            assert_eq!(
                parse_notice_amount(bad).unwrap_err().field,
                "amount",
                "{bad}"
            );
        }
    }
}
