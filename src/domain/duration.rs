//! Durations as people write them in settings, filters and commands: `500ms`, `30s`, `15m`,
//! `2h`, `14d`. The one parser of the code base.

use std::time::Duration;

/// A whole number and one unit (`ms`, `s`, `m`, `h`, `d`), surrounding blanks ignored. `None`
/// for anything else, or a value too large to hold. Zero is a duration; a caller that needs a
/// positive one says so itself.
pub fn parse(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = raw.split_at(split);
    let n: u64 = number.parse().ok()?;
    let seconds = |per: u64| n.checked_mul(per).map(Duration::from_secs);
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_refusals() {
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse(" 30s "), Some(Duration::from_secs(30)));
        assert_eq!(parse("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse("14d"), Some(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse("0s"), Some(Duration::ZERO));
        for bad in [
            "",
            "s",
            "10",
            "1.5h",
            "-1s",
            "2w",
            "1 h",
            "99999999999999999999d",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse(&format!("{}d", u64::MAX / 86_400 + 1)), None);
    }
}
