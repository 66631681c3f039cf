//! Masking payer PII for logs. Names, addresses and phones are never logged as they are.

/// `Juan` → `J***`.
pub fn name(s: &str) -> String {
    match s.trim().chars().next() {
        Some(first) => format!("{first}***"),
        None => String::new(),
    }
}

/// `09221008333` → `********333`; short values are masked whole.
pub fn phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let keep = chars.len() - 3;
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep { '*' } else { *c })
        .collect()
}

/// Only the length: `***(42)`.
pub fn address(s: &str) -> String {
    format!("***({})", s.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_hide_what_matters() {
        assert_eq!(name("Juan"), "J***");
        assert_eq!(name(""), "");
        assert_eq!(name("Ñora"), "Ñ***");
        assert_eq!(phone("09221008333"), "********333");
        assert_eq!(phone("123"), "***");
        assert_eq!(phone("+63 922 100 8333"), "*************333");
        assert_eq!(phone("ñ09221008333"), "*********333");
        assert_eq!(phone(""), "");
        assert_eq!(address("1740 Mabini St"), "***(14)");
        assert_eq!(address("Ñiño"), "***(4)");
    }
}
