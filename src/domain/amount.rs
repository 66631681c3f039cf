//! Money as SkyPay sends it: exact decimals, never `f64`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::FieldError;

const FIELD: &str = "amount";

/// A collection amount: positive, at most two decimal places, at most 99,999,999.99
/// (`numeric(12,2)`). Only `parse` and `try_from_decimal` build one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(Decimal);

fn max() -> Decimal {
    Decimal::new(9_999_999_999, 2)
}

impl Amount {
    /// `digits` or `digits.d` / `digits.dd`, surrounding whitespace ignored. No sign, exponent,
    /// separators or bare dots: what is not plainly an amount is refused, not guessed.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = raw.trim();
        // A minus before what would be an amount: say what is wrong with it.
        if let Some(unsigned) = text.strip_prefix('-') {
            if Self::parse(unsigned).is_ok() {
                return Err(FieldError::new(
                    FIELD,
                    "must be positive (greater than 0), like 3900.00",
                ));
            }
        }
        let (whole, fraction) = match text.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (text, None),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                FIELD,
                "must be a decimal number like 3900.00",
            ));
        }
        if let Some(f) = fraction {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FieldError::new(
                    FIELD,
                    "must be a decimal number like 3900.00",
                ));
            }
            if f.len() > 2 {
                return Err(FieldError::new(FIELD, "at most 2 decimal places"));
            }
        }
        if whole.trim_start_matches('0').len() > 8 {
            return Err(FieldError::new(FIELD, "at most 99999999.99"));
        }
        let value =
            Decimal::from_str(text).map_err(|_| FieldError::new(FIELD, "not a decimal number"))?;
        Self::try_from_decimal(value)
    }

    /// The same rules for a value that is already a decimal (read back from the database,
    /// built in tests). Held at scale 2, so `3900`, `3900.0` and `3900.000` are one value.
    pub fn try_from_decimal(value: Decimal) -> Result<Self, FieldError> {
        if value <= Decimal::ZERO {
            return Err(FieldError::new(FIELD, "must be greater than 0"));
        }
        if value > max() {
            return Err(FieldError::new(FIELD, "at most 99999999.99"));
        }
        if value.normalize().scale() > 2 {
            return Err(FieldError::new(FIELD, "at most 2 decimal places"));
        }
        let mut exact = value;
        exact.rescale(2); // lossless: the scale check above passed
        Ok(Self(exact))
    }

    /// The exact decimal, for arithmetic against the bill's outstanding amount.
    pub fn value(self) -> Decimal {
        self.0
    }
}

/// Any amount with exactly two decimals: `3900` → `3900.00`.
pub fn format_money(value: Decimal) -> String {
    let mut v = value.round_dp(2);
    v.rescale(2);
    v.to_string()
}

/// Serde: money as a two-decimal string in our JSON (`"0.00"`, never `0` or a float).
pub fn serialize_money<S: serde::Serializer>(
    value: &Decimal,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_money(*value))
}

/// Serde: [`serialize_money`] for an amount that may be absent (`null`).
pub fn serialize_optional_money<S: serde::Serializer>(
    value: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.serialize_str(&format_money(*v)),
        None => serializer.serialize_none(),
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_money(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_plain_amounts() {
        for (raw, shown) in [
            ("3900", "3900.00"),
            ("3900.5", "3900.50"),
            ("3900.00", "3900.00"),
            ("0.01", "0.01"),
            (" 12.34 ", "12.34"),
            ("99999999.99", "99999999.99"),
            ("007", "7.00"),
        ] {
            assert_eq!(Amount::parse(raw).unwrap().to_string(), shown, "{raw}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for raw in [
            "3900.123",
            "-1",
            "1e3",
            "",
            " ",
            "0",
            "0.00",
            "100000000",
            "+5",
            "1,000",
            "NaN",
            "3900.",
            ".5",
            "1 000",
            "0x10",
            "١٢",
        ] {
            let err = Amount::parse(raw).unwrap_err();
            assert_eq!(err.field, "amount", "{raw}");
        }
    }

    #[test]
    fn a_negative_amount_is_told_to_be_positive() {
        for raw in ["-1", "-3900.00", " -0.5 "] {
            let err = Amount::parse(raw).unwrap_err();
            assert!(err.reason.contains("positive"), "{raw}: {err}");
        }
        // Not a number at all, sign or not: still "a decimal number".
        for raw in ["-", "-abc", "-1e3", "-1.2.3", "--5"] {
            let err = Amount::parse(raw).unwrap_err();
            assert!(err.reason.contains("decimal number"), "{raw}: {err}");
        }
    }

    #[test]
    fn decimals_follow_the_same_rules() {
        let exact = Amount::try_from_decimal(Decimal::new(3_900_000, 3)).unwrap();
        assert_eq!(exact.value().scale(), 2);
        assert_eq!(exact, Amount::parse("3900").unwrap());
        for bad in [Decimal::ZERO, Decimal::new(-1, 0), Decimal::new(1, 3)] {
            assert_eq!(Amount::try_from_decimal(bad).unwrap_err().field, "amount");
        }
        let relabelled = Amount::parse("x").unwrap_err().with_field("amountDue");
        assert_eq!(relabelled.field, "amountDue");
    }

    #[test]
    fn format_money_always_shows_two_decimals() {
        assert_eq!(format_money(Decimal::ZERO), "0.00");
        assert_eq!(format_money(Decimal::new(5, 1)), "0.50");
    }

    proptest! {
        #[test]
        fn any_amount_in_range_round_trips(whole in 0u64..100_000_000, cents in 0u32..100) {
            prop_assume!(whole > 0 || cents > 0);
            let raw = format!("{whole}.{cents:02}");
            let amount = Amount::parse(&raw).unwrap();
            prop_assert_eq!(amount.to_string(), raw);
        }

        #[test]
        fn never_panics(raw in ".*") {
            let _ = Amount::parse(&raw);
        }
    }
}
