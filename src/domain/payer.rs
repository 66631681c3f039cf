//! The payer's name as inquiry answers it.

/// `Last,First,Middle,Suffix`, with trailing empty parts dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerName {
    pub last: String,
    pub first: String,
    pub middle: Option<String>,
    pub suffix: Option<String>,
}

impl PayerName {
    /// The `payerName` answer. Inner empty parts stay (positions matter to SkyPay's reader);
    /// only trailing ones go.
    pub fn joined(&self) -> String {
        let parts = [
            self.last.trim(),
            self.first.trim(),
            self.middle.as_deref().unwrap_or("").trim(),
            self.suffix.as_deref().unwrap_or("").trim(),
        ];
        let keep = parts
            .iter()
            .rposition(|p| !p.is_empty())
            .map_or(0, |i| i + 1);
        parts[..keep].join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(last: &str, first: &str, middle: Option<&str>, suffix: Option<&str>) -> String {
        PayerName {
            last: last.into(),
            first: first.into(),
            middle: middle.map(Into::into),
            suffix: suffix.map(Into::into),
        }
        .joined()
    }

    #[test]
    fn trailing_empty_parts_are_dropped() {
        assert_eq!(
            name("Dela Cruz", "Juan", Some("Santos"), None),
            "Dela Cruz,Juan,Santos"
        );
        assert_eq!(
            name("Dela Cruz", "Juan", None, Some("Jr")),
            "Dela Cruz,Juan,,Jr"
        );
        assert_eq!(
            name("Dela Cruz", "Juan", Some(" "), Some("")),
            "Dela Cruz,Juan"
        );
        assert_eq!(
            name(" Reyes ", "Ana", Some("Cruz"), Some("III")),
            "Reyes,Ana,Cruz,III"
        );
    }
}
