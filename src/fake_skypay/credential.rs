//! The partner credential fake-skypay plays with: the one our partner API calls must carry,
//! whose key opens and seals its envelopes, and which its simulator sends to our API.

use crate::skypay::auth::{self, Credential};
use crate::skypay::envelope::EnvelopeKey;

/// A `user:key` pair. `Debug` leaves the key out; nothing else prints it.
#[derive(Clone)]
pub struct PartnerCredential {
    key: String,
    credential: Credential,
}

impl std::fmt::Debug for PartnerCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartnerCredential")
            .field("user", &self.user())
            .finish_non_exhaustive()
    }
}

impl PartnerCredential {
    pub fn new(user: &str, key: &str) -> Self {
        Self {
            key: key.to_owned(),
            credential: Credential::new(user, key),
        }
    }

    /// `user:key`, split at the first `:` (as `SKYPAY_CREDENTIALS` is); both parts trimmed and
    /// non-empty. The error never repeats the key.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (user, key) = raw
            .split_once(':')
            .ok_or_else(|| "the credential is not user:key".to_owned())?;
        let (user, key) = (user.trim(), key.trim());
        if user.is_empty() || key.is_empty() {
            return Err("the credential needs both a user and a key (user:key)".to_owned());
        }
        Ok(Self::new(user, key))
    }

    pub fn user(&self) -> &str {
        &self.credential.user
    }

    /// The key itself: the `authentication` field of the simulator's calls. Never for logs.
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn envelope_key(&self) -> &EnvelopeKey {
        self.credential.envelope_key()
    }

    /// `user`/`key` are this credential (compared in constant time, as our API does).
    pub fn verifies(&self, user: &str, key: &str) -> bool {
        auth::verify(std::slice::from_ref(&self.credential), user, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_at_the_first_colon_and_never_printed() {
        let c = PartnerCredential::parse(" App@skypay : K:1 ").unwrap();
        assert_eq!((c.user(), c.key()), ("App@skypay", "K:1"));
        assert!(c.verifies("App@skypay", "K:1"));
        assert!(!c.verifies("App@skypay", "K:2"));
        assert!(!format!("{c:?}").contains("K:1"));
        assert!(PartnerCredential::parse("no-colon").is_err());
        assert!(PartnerCredential::parse("user:").is_err());
    }
}
