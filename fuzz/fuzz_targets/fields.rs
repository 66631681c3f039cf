//! The field parsers of `src/domain`, each given the same text: amount, control number, phone
//! (and the mobile normaliser), receipt number, collected time, pay channel, and the action.
//!
//! Input: the field's text (lossy UTF-8), as a JSON string's content or a JSON number's text
//! would reach the parser.
//!
//! Properties: each parser's doc comment, checked in both directions where it defines what is
//! accepted, plus invariants of what it returns (limits, canonical form, idempotence).
#![no_main]

use chrono::{Datelike, Offset, Timelike, Utc};
use collector::domain::phone::normalise_mobile;
use collector::domain::{
    format_collected_at, parse_collected_time, Amount, ControlNumber, MobilePhone, PayChannel,
    Phone, ReceiptNumber, MANILA,
};
use collector::skypay::request::Action;
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let raw = text.as_ref();
    amount(raw);
    control_number(raw);
    phone(raw);
    receipt(raw);
    collected_time(raw);
    pay_channel(raw);
    action(raw);
});

/// "`digits` or `digits.d` / `digits.dd`, surrounding whitespace ignored", positive, at most
/// 99,999,999.99, exact (docs/skypay-contract.md, "Money": "Parsed exactly"). So the accepted set and
/// the value are fully determined by the text; the model below reads them off directly.
fn amount(raw: &str) {
    let parsed = Amount::parse(raw);
    let expected = amount_model(raw);
    match (&parsed, &expected) {
        (Ok(a), Some(shown)) => {
            assert_eq!(
                &a.to_string(),
                shown,
                "amount {raw:?} parsed to another value"
            );
        }
        (Ok(a), None) => panic!("amount {raw:?} accepted as {a}, but is not a plain amount"),
        (Err(e), Some(shown)) => panic!("amount {raw:?} (= {shown}) refused: {e}"),
        (Err(e), None) => assert_eq!(e.field, "amount"),
    }
    if let Ok(a) = parsed {
        let v = a.value();
        assert!(
            v > Decimal::ZERO && v <= Decimal::new(9_999_999_999, 2),
            "{v}"
        );
        assert_eq!(v.scale(), 2, "{v} not at scale 2");
        let shown = a.to_string();
        assert_eq!(
            Amount::parse(&shown),
            Ok(a),
            "{shown} does not re-parse to itself"
        );
        assert_eq!(Amount::try_from_decimal(v), Ok(a));
    }
}

/// The canonical rendering (`whole.cc`) of an acceptable amount, from the text alone.
fn amount_model(raw: &str) -> Option<String> {
    let text = raw.trim();
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 2 {
        return None;
    }
    if text.contains('.') && fraction.is_empty() {
        return None; // "3900." is a bare dot
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 8 {
        return None;
    }
    let cents = format!("{fraction:0<2}");
    if whole.is_empty() && cents == "00" {
        return None; // zero
    }
    Some(format!(
        "{}.{cents}",
        if whole.is_empty() { "0" } else { whole }
    ))
}

/// Trimmed and upper-cased; 13–15 characters, a 5-character alphanumeric prefix, then digits.
fn control_number(raw: &str) {
    let parsed = ControlNumber::parse(raw);
    let canonical = raw.trim().to_ascii_uppercase();
    let b = canonical.as_bytes();
    let valid = (13..=15).contains(&b.len())
        && b[..5].iter().all(u8::is_ascii_alphanumeric)
        && b[5..].iter().all(u8::is_ascii_digit);
    match &parsed {
        Ok(n) => {
            assert!(valid, "control number {raw:?} accepted");
            assert_eq!(n.as_str(), canonical);
            assert!(!n.as_str().bytes().any(|c| c.is_ascii_lowercase()));
            assert_eq!(ControlNumber::parse(n.as_str()).as_ref(), Ok(n));
        }
        Err(e) => {
            assert!(!valid, "control number {raw:?} refused: {e}");
            assert_eq!(e.field, "controlNumber");
        }
    }
}

/// Phone: trimmed, 1–50 characters, normalised when it is a Philippine mobile, else as sent.
/// `normalise_mobile` yields `09` + 9 digits, the same national number, and is idempotent.
fn phone(raw: &str) {
    if let Some(m) = normalise_mobile(raw) {
        assert!(
            m.len() == 11 && m.starts_with("09") && m.bytes().all(|b| b.is_ascii_digit()),
            "normalise_mobile({raw:?}) = {m:?}"
        );
        let sent: String = raw.chars().filter(char::is_ascii_digit).collect();
        assert!(
            sent.ends_with(&m[1..]),
            "{raw:?} normalised to another number {m:?}"
        );
        assert_eq!(
            normalise_mobile(&m).as_deref(),
            Some(m.as_str()),
            "not idempotent"
        );
    }

    let text = raw.trim();
    let len = text.chars().count();
    match Phone::parse(raw) {
        Ok(p) => {
            assert!((1..=50).contains(&len), "phone {raw:?} accepted");
            let want = normalise_mobile(text).unwrap_or_else(|| text.to_owned());
            assert_eq!(p.as_str(), want);
            assert_eq!(p.is_mobile(), normalise_mobile(text).is_some());
            assert_eq!(
                Phone::parse(p.as_str()).as_ref(),
                Ok(&p),
                "phone not idempotent"
            );
        }
        Err(e) => {
            assert!(!(1..=50).contains(&len), "phone {raw:?} refused: {e}");
            assert_eq!(e.field, "phone");
        }
    }

    match MobilePhone::parse(raw) {
        Ok(m) => assert_eq!(Some(m.as_str().to_owned()), normalise_mobile(text)),
        Err(e) => {
            assert!(
                normalise_mobile(text).is_none(),
                "mobile {raw:?} refused: {e}"
            );
            assert_eq!(e.field, "phone");
        }
    }
}

/// Trimmed, 1–50 characters, no control characters; otherwise kept exactly.
fn receipt(raw: &str) {
    let text = raw.trim();
    let len = text.chars().count();
    let valid = (1..=50).contains(&len) && !text.chars().any(char::is_control);
    match ReceiptNumber::parse(raw) {
        Ok(r) => {
            assert!(valid, "receipt {raw:?} accepted");
            assert_eq!(r.as_str(), text);
        }
        Err(e) => {
            assert!(!valid, "receipt {raw:?} refused: {e}");
            assert_eq!(e.field, "receiptNumber");
        }
    }
}

/// `yyyy-MM-dd HH:mm:ss` is Philippine time (+08:00) and means exactly those digits; any
/// accepted time (years 0–9999) survives `format_collected_at` and back to the second.
fn collected_time(raw: &str) {
    let t = match parse_collected_time(raw) {
        Ok(t) => t,
        Err(e) => {
            assert_eq!(e.field, "collectedTime");
            return;
        }
    };
    let text = raw.trim();
    let b = text.as_bytes();
    let naive = b.len() >= 19
        && shape(&b[..19], b"dddd-dd-dd_dd:dd:dd")
        && matches!(b[10], b' ' | b'T' | b't')
        && (b.len() == 19
            || (b.len() > 20 && b[19] == b'.' && b[20..].iter().all(u8::is_ascii_digit)));
    if naive {
        assert_eq!(
            t.offset().fix(),
            MANILA,
            "{raw:?} without an offset is not +08:00"
        );
        let num = |r: std::ops::Range<usize>| text[r].parse::<u32>().unwrap();
        assert_eq!(t.year() as u32, num(0..4), "{raw:?} -> {t}");
        assert_eq!(
            (t.month(), t.day(), t.hour(), t.minute()),
            (num(5..7), num(8..10), num(11..13), num(14..16)),
            "{raw:?} -> {t}"
        );
        // 60 is a leap second, which chrono keeps as second 59 plus a second of nanos.
        assert_eq!(t.second(), num(17..19).min(59), "{raw:?} -> {t}");
    }
    let utc = t.with_timezone(&Utc);
    if (0..=9999).contains(&utc.with_timezone(&MANILA).year()) {
        let shown = format_collected_at(utc);
        let back = parse_collected_time(&shown)
            .unwrap_or_else(|e| panic!("{raw:?} -> {shown:?} does not parse back: {e}"));
        assert_eq!(
            back.timestamp(),
            t.timestamp(),
            "{raw:?} -> {shown:?} -> {back}"
        );
    }
}

/// `d` a digit, `_` anything, else that byte.
fn shape(bytes: &[u8], pattern: &[u8]) -> bool {
    bytes.len() == pattern.len()
        && bytes.iter().zip(pattern).all(|(b, p)| match p {
            b'd' => b.is_ascii_digit(),
            b'_' => true,
            p => b == p,
        })
}

/// An integer or a string of digits; the code is kept and is 1–99999.
fn pay_channel(raw: &str) {
    let Ok(c) = PayChannel::parse(raw) else {
        return;
    };
    let text = raw.trim();
    assert!(
        text.bytes().all(|b| b.is_ascii_digit()),
        "channel {raw:?} accepted"
    );
    assert_eq!(text.parse::<i64>().ok(), Some(i64::from(c.code())));
    assert!((1..=99_999).contains(&c.code()));
    assert_eq!(PayChannel::from_code(c.code()), Ok(c));
}

/// Case-insensitive, surrounding whitespace ignored; the canonical name maps back.
fn action(raw: &str) {
    if let Some(a) = Action::parse(raw) {
        assert_eq!(Action::parse(a.as_str()), Some(a));
        assert_eq!(Action::parse(&raw.to_ascii_uppercase()), Some(a));
    }
}
