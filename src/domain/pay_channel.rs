//! SkyPay's collection channel codes.

use super::FieldError;

const FIELD: &str = "payChannel";

/// A channel code, 1–99999. Unknown codes are kept, not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PayChannel(i32);

impl PayChannel {
    /// An integer or a string of digits (the seed sends `"1"`).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let text = raw.trim();
        if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(FIELD, "must be a channel code like 10"));
        }
        let code: i32 = text
            .parse()
            .map_err(|_| FieldError::new(FIELD, "must be a channel code like 10"))?;
        Self::from_code(code)
    }

    /// The same range check for a JSON integer or a value read back from the database.
    pub fn from_code(code: i32) -> Result<Self, FieldError> {
        if (1..=99_999).contains(&code) {
            Ok(Self(code))
        } else {
            Err(FieldError::new(FIELD, "must be between 1 and 99999"))
        }
    }

    /// The code as stored: part of the idempotency key.
    pub fn code(self) -> i32 {
        self.0
    }

    /// SkyPay's name for the code, if it is one SkyPay lists.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "M Lhuillier",
            3 => "Palawan",
            6 => "GCash",
            8 => "Maya",
            9 => "RD Pawnshop",
            10 => "7-Eleven",
            11 => "Cebuana",
            12 => "TrueMoney",
            13 => "LBC",
            19 => "ShopeePay",
            26 => "Lazada",
            41 => "UnionBank",
            42 => "BDO",
            44 => "Quickpay",
            96 => "USSC",
            99 => "others",
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn edges() {
        assert_eq!(PayChannel::parse("1").unwrap().code(), 1);
        assert_eq!(PayChannel::parse(" 01 ").unwrap().code(), 1);
        assert_eq!(PayChannel::parse("10").unwrap().name(), Some("7-Eleven"));
        assert_eq!(PayChannel::parse("777").unwrap().name(), None);
        assert_eq!(PayChannel::from_code(99).unwrap().name(), Some("others"));
        assert!(PayChannel::from_code(0).is_err());
        assert!(PayChannel::from_code(100_000).is_err());
        for raw in ["", "-1", "1.5", "abc", "0", "100000", "99999999999"] {
            assert_eq!(
                PayChannel::parse(raw).unwrap_err().field,
                "payChannel",
                "{raw}"
            );
        }
    }

    proptest! {
        #[test]
        fn codes_in_range_round_trip(code in 1i32..=99_999) {
            prop_assert_eq!(PayChannel::parse(&code.to_string()).unwrap().code(), code);
        }

        #[test]
        fn never_panics(raw in ".*") {
            let _ = PayChannel::parse(&raw);
        }
    }
}
