//! The channel's receipt number: with the pay channel, the idempotency key of a collection.

use std::fmt;

use super::FieldError;

const FIELD: &str = "receiptNumber";

/// Kept exactly as sent (trimmed only): receipts are compared, never reinterpreted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReceiptNumber(String);

impl ReceiptNumber {
    /// Trimmed, 1–50 characters, no control characters.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = raw.trim();
        let len = text.chars().count();
        if len == 0 {
            return Err(FieldError::new(FIELD, "is required"));
        }
        if len > 50 {
            return Err(FieldError::new(FIELD, "at most 50 characters"));
        }
        if text.chars().any(char::is_control) {
            return Err(FieldError::new(
                FIELD,
                "must not contain control characters",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The receipt text, for the `(payChannel, receiptNumber)` unique key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReceiptNumber {
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
            ReceiptNumber::parse(" B6C13B76E4BF ").unwrap().as_str(),
            "B6C13B76E4BF"
        );
        assert!(ReceiptNumber::parse(&"é".repeat(50)).is_ok());
        for raw in ["", "   ", "a\u{0}b", &"R".repeat(51)] {
            assert_eq!(
                ReceiptNumber::parse(raw).unwrap_err().field,
                "receiptNumber"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(raw in ".*") {
            let _ = ReceiptNumber::parse(&raw);
        }
    }
}
