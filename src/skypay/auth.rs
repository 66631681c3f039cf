//! Who may call us: credential pairs checked in constant time, and the source-IP allow-list.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::envelope::EnvelopeKey;

/// One configured SkyPay credential: a user name and its key. Several may be configured so
/// that a key can be rotated without downtime.
#[derive(Clone)]
pub struct Credential {
    pub user: String,
    user_digest: [u8; 32],
    key_digest: [u8; 32],
    envelope: EnvelopeKey,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

impl Credential {
    pub fn new(user: &str, key: &str) -> Self {
        Self {
            user: user.to_owned(),
            user_digest: digest(user),
            key_digest: digest(key),
            envelope: EnvelopeKey::derive(key),
        }
    }

    /// The AES key of SkyPay's envelope for this credential.
    pub fn envelope_key(&self) -> &EnvelopeKey {
        &self.envelope
    }

    /// Constant time in the content of both values: both are hashed to a fixed length first,
    /// so neither a matching prefix nor a length difference shows in the timing.
    fn matches(&self, user: &[u8; 32], key: &[u8; 32]) -> bool {
        let user_ok = self.user_digest.ct_eq(user);
        let key_ok = self.key_digest.ct_eq(key);
        (user_ok & key_ok).into()
    }
}

/// True when `user`/`key` equal one of `credentials`. Every credential is compared, matched
/// or not, so the time taken does not say which one (or whether any) matched.
pub fn verify(credentials: &[Credential], user: &str, key: &str) -> bool {
    let (user, key) = (digest(user), digest(key));
    credentials
        .iter()
        .fold(false, |found, c| found | c.matches(&user, &key))
}

/// The caller's address: the peer, or, when the peer is a trusted proxy, the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let peer_ip = canonical(peer.ip());
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer_ip) {
        return peer_ip;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().parse::<IpAddr>().map(canonical))
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted(ip))
        .unwrap_or(peer_ip)
}

/// `::ffff:10.0.0.1` is `10.0.0.1` for the allow-list.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// No allow-list configured lets every address in.
pub fn ip_allowed(allowed: Option<&[IpNet]>, ip: IpAddr) -> bool {
    allowed.is_none_or(|nets| nets.iter().any(|net| net.contains(&ip)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn any_configured_pair_is_accepted_and_nothing_else() {
        let creds = vec![
            Credential::new("App@skypay", "OLD-KEY"),
            Credential::new("App@skypay", "NEW-KEY"),
        ];
        assert!(verify(&creds, "App@skypay", "OLD-KEY"));
        assert!(verify(&creds, "App@skypay", "NEW-KEY"));
        assert!(!verify(&creds, "App@skypay", "NEW-KEY "));
        assert!(!verify(&creds, "Other@skypay", "NEW-KEY"));
        assert!(!verify(&creds, "", ""));
        assert!(!verify(&[], "App@skypay", "OLD-KEY"));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let proxies = nets(&["10.0.0.0/8"]);
        let via_proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let direct: SocketAddr = "198.51.100.1:5000".parse().unwrap();
        assert_eq!(
            client_ip(via_proxy, &headers, &proxies),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(direct, &headers, &proxies),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(via_proxy, &headers, &[]),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
        headers.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(
            client_ip(via_proxy, &headers, &proxies),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn allow_list_matches_cidrs_and_mapped_addresses() {
        let allowed = nets(&["203.0.113.0/24"]);
        assert!(ip_allowed(None, "1.2.3.4".parse().unwrap()));
        assert!(ip_allowed(Some(&allowed), "203.0.113.200".parse().unwrap()));
        assert!(!ip_allowed(Some(&allowed), "203.0.114.1".parse().unwrap()));
        let mapped: SocketAddr = "[::ffff:203.0.113.5]:1".parse().unwrap();
        let ip = client_ip(mapped, &HeaderMap::new(), &[]);
        assert!(ip_allowed(Some(&allowed), ip));
    }
}
