//! Phone numbers: Philippine mobiles normalised to `09XXXXXXXXX`, anything else kept.

use super::FieldError;

const FIELD: &str = "phone";

/// `09…`, `9…`, `639…`, `+639…` with or without spaces, dashes, dots or parentheses become
/// `09XXXXXXXXX`; anything else is `None`.
pub fn normalise_mobile(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let plus = compact.starts_with('+');
    let national = match digits.len() {
        11 if !plus && digits.starts_with("09") => &digits[1..],
        10 if !plus && digits.starts_with('9') => digits,
        12 if digits.starts_with("639") => &digits[2..],
        _ => return None,
    };
    Some(format!("0{national}"))
}

/// The phone SkyPay sent: informational, never a reason to refuse a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Trimmed, 1–50 characters; a mobile number is normalised so it compares with the bill's.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(FieldError::new(FIELD, "is required"));
        }
        if text.chars().count() > 50 {
            return Err(FieldError::new(FIELD, "at most 50 characters"));
        }
        Ok(Self(
            normalise_mobile(text).unwrap_or_else(|| text.to_owned()),
        ))
    }

    /// The normalised mobile, or the text as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it normalised to `09XXXXXXXXX` (only then is it comparable with the bill's).
    pub fn is_mobile(&self) -> bool {
        normalise_mobile(&self.0).as_deref() == Some(self.0.as_str())
    }
}

/// A payer's phone as a bill holds it: a Philippine mobile, because inquiry answers
/// `payerPhone` as `09XXXXXXXXX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilePhone(String);

impl MobilePhone {
    /// Refuses anything `normalise_mobile` does not accept: a bill must carry an answerable phone.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        normalise_mobile(raw.trim()).map(Self).ok_or_else(|| {
            FieldError::new(FIELD, "must be a Philippine mobile number like 09221008333")
        })
    }

    /// Always `09XXXXXXXXX`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mobile_forms_normalise() {
        for raw in [
            "09221008333",
            "9221008333",
            "639221008333",
            "+639221008333",
            "+63 922 100 8333",
            "0922-100-8333",
            "(0922) 100.8333",
        ] {
            assert_eq!(
                normalise_mobile(raw).as_deref(),
                Some("09221008333"),
                "{raw}"
            );
        }
        for raw in [
            "6392210083333",
            "0822100833",
            "+09221008333",
            "02 8123 4567",
            "0922100833x",
            "",
        ] {
            assert_eq!(normalise_mobile(raw), None, "{raw}");
        }
    }

    #[test]
    fn other_phones_are_kept_as_sent() {
        let seed = Phone::parse("6392210083333").unwrap();
        assert_eq!(seed.as_str(), "6392210083333");
        assert!(!seed.is_mobile());
        assert!(Phone::parse(" +63 922 100 8333 ").unwrap().is_mobile());
        assert_eq!(Phone::parse("").unwrap_err().field, "phone");
        assert!(Phone::parse(&"1".repeat(51)).is_err());
        assert!(MobilePhone::parse("12345").is_err());
    }

    proptest! {
        #[test]
        fn every_accepted_form_of_a_number_is_the_same_number(rest in "[0-9]{9}") {
            let want = format!("09{rest}");
            for form in [format!("09{rest}"), format!("9{rest}"), format!("639{rest}"), format!("+639{rest}"), format!("+63 9{} {}", &rest[..2], &rest[2..])] {
                prop_assert_eq!(normalise_mobile(&form), Some(want.clone()));
            }
        }

        #[test]
        fn never_panics(raw in ".*") {
            let _ = Phone::parse(&raw);
            let _ = MobilePhone::parse(&raw);
        }
    }
}
