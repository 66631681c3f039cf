//! Philippine time (UTC+08:00, no DST): SkyPay's naive times, and our answers.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

use super::FieldError;

const FIELD: &str = "collectedTime";

/// UTC+08:00: Philippine time has no DST, so a fixed offset is exact (no tz database needed).
pub use workers::message::MANILA;

/// [`MANILA`] as a function, for callers written before the constant existed.
pub fn manila() -> FixedOffset {
    MANILA
}

/// `yyyy-MM-dd HH:mm:ss` in Philippine time; also a `T` separator, fractional seconds, and an
/// explicit offset (`Z`, `+08:00`, `+0800`).
pub fn parse_collected_time(raw: &str) -> Result<DateTime<FixedOffset>, FieldError> {
    let text = raw.trim();
    let invalid = || FieldError::new(FIELD, "must be yyyy-MM-dd HH:mm:ss");
    if text.len() < 19 || !text.is_char_boundary(10) || !text.is_char_boundary(11) {
        return Err(invalid());
    }
    let normalised = match &text[10..11] {
        " " | "T" | "t" => format!("{}T{}", &text[..10], &text[11..]),
        _ => return Err(invalid()),
    };
    let with_z = normalised
        .strip_suffix(['Z', 'z'])
        .map(|s| format!("{s}+00:00"));
    let candidate = with_z.as_deref().unwrap_or(&normalised);
    if let Ok(t) = DateTime::parse_from_str(candidate, "%Y-%m-%dT%H:%M:%S%.f%:z") {
        return Ok(t);
    }
    if let Ok(t) = DateTime::parse_from_str(candidate, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Ok(t);
    }
    let naive =
        NaiveDateTime::parse_from_str(candidate, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| invalid())?;
    naive
        .and_local_timezone(manila())
        .single()
        .ok_or_else(invalid)
}

/// `yyyy-MM-dd HH:mm:ss.SSSS` in Philippine time: four fractional digits, as in SkyPay's examples.
pub fn format_response_time(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&manila());
    format!(
        "{}.{:04}",
        local.format("%Y-%m-%d %H:%M:%S"),
        local.timestamp_subsec_micros() / 100
    )
}

/// RFC 3339 in Philippine time without fractions: `2018-06-18T17:52:10+08:00`.
pub fn format_collected_at(t: DateTime<Utc>) -> String {
    t.with_timezone(&manila())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(raw: &str) -> String {
        parse_collected_time(raw)
            .unwrap()
            .with_timezone(&Utc)
            .format("%Y-%m-%d %H:%M:%S%.3f")
            .to_string()
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(utc("2018-06-18 17:52:10"), "2018-06-18 09:52:10.000");
        assert_eq!(utc("2018-06-18T17:52:10"), "2018-06-18 09:52:10.000");
        assert_eq!(utc(" 2018-06-18 17:52:10.25 "), "2018-06-18 09:52:10.250");
        assert_eq!(utc("2018-06-18T17:52:10Z"), "2018-06-18 17:52:10.000");
        assert_eq!(utc("2018-06-18T17:52:10+08:00"), "2018-06-18 09:52:10.000");
        assert_eq!(utc("2018-06-18 17:52:10+0800"), "2018-06-18 09:52:10.000");
        assert_eq!(
            utc("2018-06-18T17:52:10.123456-05:00"),
            "2018-06-18 22:52:10.123"
        );
        assert_eq!(
            utc("2018-06-18 17:52:10.123456789012"),
            "2018-06-18 09:52:10.123"
        );
        // chrono tolerates a space before the offset; unambiguous, so kept.
        assert_eq!(utc("2018-06-18 17:52:10 +08:00"), "2018-06-18 09:52:10.000");
        assert_eq!(MANILA.local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn refused_forms() {
        for raw in [
            "",
            "2018/06/18 17:52:10",
            "18-06-2018 17:52:10",
            "2018-06-18 17:52",
            "2018-02-30 10:00:00",
            "2018-06-18X17:52:10",
            "2018-06-18 25:00:00",
            "yesterday",
            "2018-06-18 17:52:10 PHT",
            "2018-06-1é 17:52:10",
            "2018-06-18 17:52:10.",
        ] {
            assert_eq!(
                parse_collected_time(raw).unwrap_err().field,
                "collectedTime",
                "{raw}"
            );
        }
    }

    #[test]
    fn response_time_has_four_fractional_digits_in_manila() {
        let t = DateTime::parse_from_rfc3339("2018-06-18T09:52:10.521199Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_response_time(t), "2018-06-18 17:52:10.5211");
        assert_eq!(format_collected_at(t), "2018-06-18T17:52:10+08:00");
    }

    proptest! {
        #[test]
        fn collected_times_round_trip(secs in 0i64..4_000_000_000) {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let shown = format_collected_at(t);
            prop_assert_eq!(parse_collected_time(&shown).unwrap().with_timezone(&Utc), t);
            let naive = t.with_timezone(&manila()).format("%Y-%m-%d %H:%M:%S").to_string();
            prop_assert_eq!(parse_collected_time(&naive).unwrap().with_timezone(&Utc), t);
        }

        #[test]
        fn never_panics(raw in ".*") {
            let _ = parse_collected_time(&raw);
        }
    }
}
