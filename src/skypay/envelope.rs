//! SkyPay's encrypted envelope: AES-128-ECB with PKCS#7 padding, sent as Base64. The AES key
//! is the first 16 bytes of SHA-1(SHA-1(key)), over the raw bytes of the inner digest.
//!
//! ECB gives confidentiality of a kind, not integrity: the credential check inside the opened
//! body still runs.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha1::{Digest, Sha1};

type Encryptor = ecb::Encryptor<aes::Aes128>;
type Decryptor = ecb::Decryptor<aes::Aes128>;

/// The AES key derived from one SkyPay key. Never printed.
#[derive(Clone)]
pub struct EnvelopeKey([u8; 16]);

impl std::fmt::Debug for EnvelopeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnvelopeKey(..)")
    }
}

impl EnvelopeKey {
    /// SHA-1 twice, the outer over the inner digest's raw 20 bytes (not its hex text: only
    /// this reading reproduces the test vector in docs/skypay-contract.md), truncated to 16 bytes.
    /// Derived once per configured credential, so requests do not hash.
    pub fn derive(skypay_key: &str) -> Self {
        let once = Sha1::digest(skypay_key.as_bytes());
        let twice = Sha1::digest(once);
        let mut key = [0u8; 16];
        key.copy_from_slice(&twice[..16]);
        Self(key)
    }

    /// The raw AES key, for tests and the cipher; never for logs.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Encrypts and Base64-encodes: the form in which we answer a request that came encrypted.
pub fn encrypt(key: &EnvelopeKey, plaintext: &[u8]) -> String {
    let ciphertext = Encryptor::new(&key.0.into()).encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    STANDARD.encode(ciphertext)
}

/// Decodes and decrypts; ASCII whitespace in the Base64 (line breaks) is ignored. `None` on
/// bad Base64, a length that is not whole blocks, or bad padding.
pub fn decrypt(key: &EnvelopeKey, body: &[u8]) -> Option<Vec<u8>> {
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let ciphertext = STANDARD.decode(compact).ok()?;
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return None;
    }
    Decryptor::new(&key.0.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&ciphertext)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &str = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75";
    const PLAIN: &str = r#"{"responseCode":"1000"}"#;
    const CIPHER: &str = "1Iw1FnmBQGUtK8nckprNEEQZ5PQKMQENmNWTk3lnBYY=";

    #[test]
    fn the_contract_test_vector_holds_both_ways() {
        let key = EnvelopeKey::derive(KEY);
        assert_eq!(
            hex::encode(key.as_bytes()),
            "5dad2e2494abba52a928cce3e15aea21"
        );
        assert_eq!(encrypt(&key, PLAIN.as_bytes()), CIPHER);
        assert_eq!(decrypt(&key, CIPHER.as_bytes()).unwrap(), PLAIN.as_bytes());
    }

    #[test]
    fn line_breaks_in_the_base64_are_ignored() {
        let key = EnvelopeKey::derive(KEY);
        let wrapped = format!("{}\r\n{}\n", &CIPHER[..20], &CIPHER[20..]);
        assert_eq!(decrypt(&key, wrapped.as_bytes()).unwrap(), PLAIN.as_bytes());
    }

    #[test]
    fn a_wrong_key_or_garbage_does_not_open() {
        let other = EnvelopeKey::derive("ANOTHER-KEY");
        assert_ne!(
            decrypt(&other, CIPHER.as_bytes()).as_deref(),
            Some(PLAIN.as_bytes())
        );
        let key = EnvelopeKey::derive(KEY);
        for garbage in ["", "not base64!", "AAAA", "{\"a\":1}"] {
            assert_eq!(decrypt(&key, garbage.as_bytes()), None, "{garbage}");
        }
        assert_eq!(format!("{key:?}"), "EnvelopeKey(..)");
    }

    proptest! {
        #[test]
        fn round_trip(key in ".{1,60}", plain in proptest::collection::vec(any::<u8>(), 0..300)) {
            let key = EnvelopeKey::derive(&key);
            prop_assert_eq!(decrypt(&key, encrypt(&key, &plain).as_bytes()), Some(plain));
        }

        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decrypt(&EnvelopeKey::derive(KEY), &body);
        }
    }
}
