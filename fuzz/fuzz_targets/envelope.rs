//! SkyPay's envelope (AES-128-ECB, PKCS#7, Base64): `EnvelopeKey::derive`, `encrypt`, `decrypt`.
//!
//! Input: one byte `n`, then `n % 64` bytes of SkyPay key text (lossy UTF-8), then the payload.
//! The payload is used twice: as a body to open (arbitrary bytes, as a caller could send) and
//! as a plaintext to seal. Both the fuzzed key and the test key of docs/skypay-contract.md are used.
//!
//! Properties:
//! - `derive` is deterministic and never panics;
//! - `decrypt` of arbitrary bytes never panics, and what it opens is the exact inverse of
//!   `encrypt` (re-sealing the plaintext gives back the ciphertext it came from: ECB is
//!   deterministic and the padding check is strict);
//! - `decrypt(encrypt(x)) == x` for every `x`, also with the Base64 wrapped in line breaks;
//! - `encrypt` emits padded Base64 of `16 * (len / 16 + 1)` bytes of ciphertext.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use collector::skypay::envelope::{decrypt, encrypt, EnvelopeKey};
use libfuzzer_sys::fuzz_target;

const CONTRACT_KEY: &str = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75";

fuzz_target!(|data: &[u8]| {
    let (key_text, payload) = match data.split_first() {
        Some((&n, rest)) => {
            let n = usize::from(n % 64).min(rest.len());
            (String::from_utf8_lossy(&rest[..n]).into_owned(), &rest[n..])
        }
        None => (String::new(), data),
    };

    let fuzzed = EnvelopeKey::derive(&key_text);
    assert_eq!(
        fuzzed.as_bytes(),
        EnvelopeKey::derive(&key_text).as_bytes(),
        "derive is not deterministic"
    );
    let contract = EnvelopeKey::derive(CONTRACT_KEY);

    for key in [&fuzzed, &contract] {
        check_open(key, payload);
        check_round_trip(key, payload);
    }
});

/// Arbitrary bytes as a body: never a panic, and anything opened re-seals to the same ciphertext.
fn check_open(key: &EnvelopeKey, body: &[u8]) {
    let Some(plain) = decrypt(key, body) else {
        return;
    };
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let ciphertext = STANDARD
        .decode(&compact)
        .expect("decrypt opened a body that is not Base64");
    assert!(
        !ciphertext.is_empty() && ciphertext.len().is_multiple_of(16),
        "decrypt opened {} bytes of ciphertext: not whole blocks",
        ciphertext.len()
    );
    assert!(
        plain.len() < ciphertext.len() && plain.len() + 16 >= ciphertext.len(),
        "{} bytes of plaintext from {} bytes of ciphertext",
        plain.len(),
        ciphertext.len()
    );
    let resealed = STANDARD
        .decode(encrypt(key, &plain))
        .expect("encrypt emitted bad Base64");
    assert_eq!(
        resealed, ciphertext,
        "decrypt accepted a ciphertext that encrypt would never produce (lax padding check)"
    );
}

/// Any plaintext seals and opens back to itself, also with MIME-style line breaks.
fn check_round_trip(key: &EnvelopeKey, plain: &[u8]) {
    let sealed = encrypt(key, plain);
    assert!(sealed.len().is_multiple_of(4), "unpadded Base64: {sealed}");
    let ciphertext = STANDARD
        .decode(&sealed)
        .expect("encrypt emitted bad Base64");
    assert_eq!(
        ciphertext.len(),
        16 * (plain.len() / 16 + 1),
        "PKCS#7 always adds 1..=16 bytes"
    );
    assert_eq!(
        decrypt(key, sealed.as_bytes()).as_deref(),
        Some(plain),
        "decrypt(encrypt(x)) != x"
    );

    let wrapped: String = sealed
        .as_bytes()
        .chunks(76)
        .map(|line| format!("{}\r\n", std::str::from_utf8(line).unwrap()))
        .collect();
    let padded = format!("  \n{wrapped}\t ");
    assert_eq!(
        decrypt(key, padded.as_bytes()).as_deref(),
        Some(plain),
        "whitespace in the Base64 is not ignored"
    );
}
