//! The client's address: the socket peer, or — when the peer is a trusted reverse proxy — the
//! right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
//!
//! Without configured proxies `X-Forwarded-For` is ignored: anyone could send it.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;

/// A trusted proxy: one address or a network in CIDR notation (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    network: IpAddr,
    prefix: u8,
}

impl TrustedProxy {
    /// Whether `address` lies in this network.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                prefix_matches(&network.octets(), &address.octets(), self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                prefix_matches(&network.octets(), &address.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

impl FromStr for TrustedProxy {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        let (address, prefix) = match value.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (value, None),
        };
        let network = canonical(
            address
                .parse::<IpAddr>()
                .map_err(|_| format!("{value:?} is not an IP address or network"))?,
        );
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= max)
                .ok_or_else(|| format!("{value:?} has an invalid prefix length"))?,
            None => max,
        };
        Ok(TrustedProxy { network, prefix })
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) as the IPv4 address they are.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_matches(network: &[u8], address: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if network[..full] != address[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xff_u8 << (8 - rest);
    (network[full] & mask) == (address[full] & mask)
}

/// The client address of a request whose socket peer is `peer`.
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[TrustedProxy],
) -> Option<IpAddr> {
    let peer = peer.map(canonical)?;
    let is_trusted = |address: IpAddr| trusted.iter().any(|proxy| proxy.contains(address));
    if !is_trusted(peer) {
        return Some(peer);
    }
    // Every header line, in order; entries right to left: the nearest hop first.
    let mut hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    hops.reverse();
    let mut client = peer;
    for hop in hops {
        let Ok(address) = hop.parse::<IpAddr>().map(canonical) else {
            // A malformed entry: nothing left of it can be trusted.
            break;
        };
        client = address;
        if !is_trusted(address) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                "x-forwarded-for",
                HeaderValue::from_str(value).expect("header"),
            );
        }
        headers
    }

    fn ip(value: &str) -> IpAddr {
        value.parse().expect("ip")
    }

    #[test]
    fn networks_parse_and_match() {
        let net: TrustedProxy = "10.1.0.0/16".parse().expect("net");
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")));
        let one: TrustedProxy = "127.0.0.1".parse().expect("ip");
        assert!(one.contains(ip("127.0.0.1")));
        assert!(!one.contains(ip("127.0.0.2")));
        let v6: TrustedProxy = "fd00::/8".parse().expect("v6");
        assert!(v6.contains(ip("fd12::1")));
        assert!("10.0.0.0/33".parse::<TrustedProxy>().is_err());
        assert!("proxy".parse::<TrustedProxy>().is_err());
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_trusted() {
        let spoofed = headers(&["203.0.113.9"]);
        assert_eq!(
            client_ip(Some(ip("198.51.100.1")), &spoofed, &[]),
            Some(ip("198.51.100.1"))
        );
        let trusted = ["127.0.0.1".parse().expect("ip")];
        assert_eq!(
            client_ip(Some(ip("198.51.100.1")), &spoofed, &trusted),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(
            client_ip(Some(ip("127.0.0.1")), &spoofed, &trusted),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = ["10.0.0.0/8".parse().expect("net")];
        // The client may prepend anything; only what our proxies appended counts.
        let chain = headers(&["1.1.1.1, 203.0.113.7", "10.0.0.5"]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &chain, &trusted),
            Some(ip("203.0.113.7"))
        );
        let garbage = headers(&["203.0.113.7, nonsense"]);
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &garbage, &trusted),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &HeaderMap::new(), &trusted),
            Some(ip("10.0.0.2"))
        );
    }
}
