//! SkyPay's control number: a 5-character prefix and 8–10 digits.

use std::fmt;

use super::FieldError;

const FIELD: &str = "controlNumber";

/// Trimmed and upper-cased: `SKY01` + `00000001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ControlNumber(String);

impl ControlNumber {
    /// Only outer whitespace is forgiven: an inner space or a full-width digit is a different
    /// string, and a control number that only nearly matches a bill must not find it.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = raw.trim().to_ascii_uppercase();
        let bytes = text.as_bytes();
        if !(13..=15).contains(&bytes.len()) {
            return Err(FieldError::new(FIELD, "must be 13 to 15 characters"));
        }
        let (prefix, digits) = bytes.split_at(5);
        if !prefix.iter().all(u8::is_ascii_alphanumeric) {
            return Err(FieldError::new(
                FIELD,
                "must start with a 5-character alphanumeric prefix",
            ));
        }
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(FieldError::new(FIELD, "must end with 8 to 10 digits"));
        }
        Ok(Self(text))
    }

    /// The canonical (upper-case) text, as stored and looked up.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The canonical text without a copy, for database binds.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ControlNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn edges() {
        assert_eq!(
            ControlNumber::parse(" sky0100000001 ").unwrap().as_str(),
            "SKY0100000001"
        );
        assert!(ControlNumber::parse("ABCDE1234567890").is_ok());
        for raw in [
            "SKY01",
            "SKY010000001",
            "SKY011234567890X",
            "SKY0112345678901",
            "SKY-112345678",
            "SKY01 0000001",
            "SKY01ABCDEFGH",
            "",
            "SKY0１0000001",
        ] {
            assert_eq!(
                ControlNumber::parse(raw).unwrap_err().field,
                "controlNumber",
                "{raw}"
            );
        }
    }

    proptest! {
        #[test]
        fn generated_numbers_parse(prefix in "[A-Za-z0-9]{5}", digits in "[0-9]{8,10}") {
            let parsed = ControlNumber::parse(&format!("{prefix}{digits}")).unwrap();
            prop_assert_eq!(parsed.as_str(), format!("{}{digits}", prefix.to_ascii_uppercase()));
        }

        #[test]
        fn never_panics(raw in ".*") {
            let _ = ControlNumber::parse(&raw);
        }
    }
}
