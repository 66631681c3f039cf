//! A request body, as the handler sees it before the database: `handler::open` (plain JSON or
//! the envelope, tried against each configured credential), `RawRequest::parse`, the action,
//! the credential check, then `InquiryRequest::try_from` / `CollectRequest::try_from`, and the
//! contract answer of every outcome that does not need the database.
//!
//! Input: the body as SkyPay would send it (plain JSON or Base64 ciphertext). Each input is
//! also sealed with the first credential's key and opened again, so that the fuzzer's JSON
//! reaches the envelope path too.
//!
//! Properties:
//! - nothing panics;
//! - a body whose first non-blank byte is `{` opens as plain iff it is a JSON object; an
//!   encrypted body opens only with a key whose credential's `userName` it carries;
//! - a JSON object sealed with a credential's key naming that credential's user opens, with
//!   that key, to the same request;
//! - `RawRequest::string(field, max)` never returns more than `max` characters, and the record
//!   of a refused collect never holds `authentication` but holds every other field sent;
//! - both conversions are tried on every object (not only when the fuzzer guesses a
//!   credential), and every parsed field satisfies its documented limits; a valid collect is
//!   also a valid inquiry with the same fields;
//! - every answer serialises to a JSON object with the three string fields of docs/skypay-contract.md.
#![no_main]

use collector::domain::{ControlNumber, Phone};
use collector::skypay::answer::{Answer, Code};
use collector::skypay::auth::{self, Credential};
use collector::skypay::envelope::{self, EnvelopeKey};
use collector::skypay::handler::{self, BODY_LIMIT};
use collector::skypay::request::{Action, CollectRequest, InquiryRequest, RawRequest};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const USER: &str = "AppName@skypay";
const KEY: &str = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75";

/// The configured credentials: a rotation in progress (one user, old and new key) plus another
/// partner, as `Credential::new` builds them at start-up.
fn credentials() -> &'static [Credential] {
    static CREDS: OnceLock<Vec<Credential>> = OnceLock::new();
    CREDS.get_or_init(|| {
        vec![
            Credential::new(USER, KEY),
            Credential::new(USER, "NEW-KEY-6E1C"),
            Credential::new("Other@skypay", "OTHER-KEY-0000"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() > BODY_LIMIT {
        return; // refused before any parsing
    }
    let creds = credentials();

    // As received.
    let opened = handler::open(data, creds);
    check_open(data, opened.as_ref(), creds);
    let answer = match &opened {
        None => Answer::invalid_body("not a JSON object, nor decryptable with any key"),
        Some((raw, _)) => answer_before_database(raw, creds),
    };
    check_answer(&answer);

    // The same bytes as the plaintext of an envelope sealed with the first credential's key.
    let sealed = envelope::encrypt(creds[0].envelope_key(), data);
    let reopened = handler::open(sealed.as_bytes(), creds);
    check_open(sealed.as_bytes(), reopened.as_ref(), creds);
    let direct = RawRequest::parse(data);
    let names_user = direct
        .as_ref()
        .and_then(|raw| raw.string("userName", 50).ok())
        .is_some_and(|user| user == creds[0].user);
    if names_user {
        let (raw, key) = reopened.expect("a sealed request naming its credential did not open");
        let key = key.expect("a sealed request opened as plain");
        assert_eq!(
            key.as_bytes(),
            creds[0].envelope_key().as_bytes(),
            "opened with another key"
        );
        let direct = direct.unwrap();
        assert_eq!(raw.without_credentials(), direct.without_credentials());
        assert_eq!(
            raw.string("authentication", 255).ok(),
            direct.string("authentication", 255).ok()
        );
    }
});

/// What `handler::open` promises about what it returns.
fn check_open(
    body: &[u8],
    opened: Option<&(RawRequest, Option<EnvelopeKey>)>,
    creds: &[Credential],
) {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        let plain = RawRequest::parse(body).is_some();
        assert_eq!(
            opened.is_some(),
            plain,
            "plain body: open disagrees with parse"
        );
        if let Some((_, key)) = opened {
            assert!(key.is_none(), "a plain body reported as encrypted");
        }
        // Whatever serde_json reads as an object must be accepted as a request, and the
        // record of a refused collect keeps every field of it but the credential.
        if let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(body) {
            let (raw, _) = opened.expect("a JSON object was refused as a request");
            let record = raw.without_credentials();
            let mut kept: Vec<&String> = record.as_object().unwrap().keys().collect();
            // Postgres cannot store U+0000: the record holds each NUL as U+FFFD.
            let mut sent: Vec<String> = object
                .keys()
                .filter(|k| *k != "authentication")
                .map(|k| k.replace('\0', "\u{FFFD}"))
                .collect();
            kept.sort();
            sent.sort();
            sent.dedup();
            let sent: Vec<&String> = sent.iter().collect();
            assert_eq!(kept, sent, "the record lost or invented fields");
        }
        return;
    }
    let Some((raw, key)) = opened else { return };
    let key = key.as_ref().expect("a non-`{` body opened without a key");
    let user = raw
        .string("userName", 50)
        .expect("opened an envelope without a valid userName");
    assert!(
        creds
            .iter()
            .any(|c| c.envelope_key().as_bytes() == key.as_bytes() && c.user == user),
        "opened with a key whose credential does not own userName {user:?}"
    );
}

/// The handler's steps up to the database, plus field checks on every object.
fn answer_before_database(raw: &RawRequest, creds: &[Credential]) -> Answer {
    check_raw(raw);

    // Both conversions on every object, whatever its action and credentials.
    let inquiry = InquiryRequest::try_from(raw);
    let collect = CollectRequest::try_from(raw);
    if let Ok(req) = &inquiry {
        check_inquiry(req);
    }
    if let Ok(req) = &collect {
        check_collect(req);
        let inq = inquiry
            .as_ref()
            .expect("a valid collect is not a valid inquiry");
        assert_eq!(inq.control_number, req.control_number);
        assert_eq!(inq.amount, req.amount);
        assert_eq!(inq.phone, req.phone);
    }
    for err in [inquiry.as_ref().err(), collect.as_ref().err()]
        .into_iter()
        .flatten()
    {
        let answer = Answer::invalid_field(err);
        assert_eq!(answer.code, Code::InvalidField);
        assert!(
            answer.response_description.contains(err.field),
            "a 2002 answer does not name the field: {}",
            answer.response_description
        );
        check_answer(&answer);
    }

    // The handler's order: action, credentials, fields.
    let action_text = match raw.string("action", 50) {
        Ok(text) => text,
        Err(e) => return Answer::invalid_field(&e),
    };
    let Some(action) = Action::parse(&action_text) else {
        return Answer::unsupported_action(&action_text);
    };
    assert_eq!(Action::parse(action.as_str()), Some(action));
    let (user, key) = match (
        raw.string("userName", 50),
        raw.string("authentication", 255),
    ) {
        (Ok(user), Ok(key)) => (user, key),
        (Err(e), _) | (_, Err(e)) => return Answer::invalid_field(&e),
    };
    if !auth::verify(creds, &user, &key) {
        return Answer::verification_failed();
    }
    let parsed = match action {
        Action::Inquiry => inquiry.map(|_| ()),
        Action::Collect => collect.map(|_| ()),
        Action::FinanceNotification => collector::domain::FinanceNotice::try_from(raw).map(|_| ()),
    };
    match parsed {
        // The database decides from here; `1000` stands for "reached the call".
        Ok(()) => Answer::success(),
        Err(e) => Answer::invalid_field(&e),
    }
}

/// `RawRequest`'s accessors keep their limits; the refused-collect record drops the credential.
fn check_raw(raw: &RawRequest) {
    for (field, max) in [
        ("userName", 50),
        ("authentication", 255),
        ("action", 50),
        ("collectedTime", 64),
    ] {
        if let Ok(s) = raw.string(field, max) {
            assert!(
                s.chars().count() <= max,
                "{field}: {} chars",
                s.chars().count()
            );
            assert!(
                !s.chars().any(char::is_control),
                "{field}: control character"
            );
        }
    }
    let record = raw.without_credentials();
    let map = record.as_object().expect("the record is not a JSON object");
    assert!(
        !map.contains_key("authentication"),
        "the credential was recorded"
    );
    // Postgres cannot store U+0000 anywhere in the record.
    assert!(!holds_nul(&record), "the record holds a NUL: {record}");
}

fn holds_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

fn check_inquiry(req: &InquiryRequest) {
    check_control_number(&req.control_number);
    check_amount(req.amount);
    check_phone(&req.phone);
}

fn check_collect(req: &CollectRequest) {
    check_control_number(&req.control_number);
    check_amount(req.amount);
    check_phone(&req.phone);
    let receipt = req.receipt_number.as_str();
    let len = receipt.chars().count();
    assert!((1..=50).contains(&len), "receipt of {len} chars");
    assert_eq!(receipt.trim(), receipt, "receipt not trimmed");
    assert!(
        !receipt.chars().any(char::is_control),
        "control char in receipt"
    );
    let code = req.pay_channel.code();
    assert!((1..=99_999).contains(&code), "payChannel {code}");
}

/// 13–15 chars: 5 upper-case alphanumerics then 8–10 digits; parsing it again is a no-op.
fn check_control_number(n: &ControlNumber) {
    let s = n.as_str();
    assert!((13..=15).contains(&s.len()), "control number {s:?}");
    let (prefix, digits) = s.split_at(5);
    assert!(
        prefix
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "control number prefix {s:?}"
    );
    assert!(
        digits.bytes().all(|b| b.is_ascii_digit()),
        "control number digits {s:?}"
    );
    assert_eq!(ControlNumber::parse(s).as_ref(), Ok(n), "not idempotent");
}

fn check_amount(a: collector::domain::Amount) {
    use rust_decimal::Decimal;
    let v = a.value();
    assert!(v > Decimal::ZERO, "amount {v} not positive");
    assert!(v <= Decimal::new(9_999_999_999, 2), "amount {v} too large");
    assert_eq!(v.scale(), 2, "amount {v} not held at scale 2");
    let shown = a.to_string();
    assert_eq!(
        collector::domain::Amount::parse(&shown).ok(),
        Some(a),
        "amount {shown} does not re-parse to itself"
    );
}

/// 1–50 chars, trimmed; a mobile is `09` + 9 digits; parsing it again is a no-op.
fn check_phone(p: &Phone) {
    let s = p.as_str();
    let len = s.chars().count();
    assert!((1..=50).contains(&len), "phone of {len} chars");
    assert_eq!(s.trim(), s, "phone not trimmed");
    if p.is_mobile() {
        assert!(
            s.len() == 11 && s.starts_with("09") && s.bytes().all(|b| b.is_ascii_digit()),
            "mobile {s:?}"
        );
    }
    assert_eq!(Phone::parse(s).as_ref(), Ok(p), "phone not idempotent");
}

/// Every answer is a JSON object with the three string fields, the code one of docs/skypay-contract.md's.
fn check_answer(answer: &Answer) {
    let json: serde_json::Value =
        serde_json::from_str(&answer.to_json()).expect("the answer is not JSON");
    for field in ["responseTime", "responseCode", "responseDescription"] {
        assert!(
            json[field].is_string(),
            "{field} missing or not a string: {json}"
        );
    }
    assert_eq!(json["responseCode"], answer.code.as_str());
    assert!(
        ["1000", "-1000", "-1001", "-1009", "-1015", "-1026", "2001", "2002", "2003", "2004"]
            .contains(&answer.response_code)
    );
}
