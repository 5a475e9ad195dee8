//! Who the client is, for rate limiting: the socket's peer address, or, when
//! the peer is a proxy named by `--trusted-proxy`, the nearest address in
//! `X-Forwarded-For` that is not itself a trusted proxy. Hops a client could
//! have written itself (left of the first untrusted one) are never believed.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    // An IPv4 peer of a dual-stack listener arrives as ::ffff:a.b.c.d.
    let peer = peer?.ip().to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    // Every X-Forwarded-For header, in order, as one list of hops.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            break; // garbage: trust nothing further left
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(client)
}

/// An address as proxies write it: `192.0.2.1`, `2001:db8::1`,
/// `[2001:db8::1]:443` or `192.0.2.1:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in xff {
            map.append("x-forwarded-for", value.parse().unwrap());
        }
        map
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 5555))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let ip = client_ip(
            peer("198.51.100.9"),
            &headers(&["203.0.113.5"]),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(ip, Some("198.51.100.9".parse().unwrap()));
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let ip = client_ip(
            peer("10.0.0.2"),
            &headers(&["6.6.6.6, 203.0.113.5, 10.0.0.7"]),
            &trusted,
        );
        assert_eq!(ip, Some("203.0.113.5".parse().unwrap()));
        let ip = client_ip(
            peer("10.0.0.2"),
            &headers(&["6.6.6.6", "[2001:db8::1]:443"]),
            &trusted,
        );
        assert_eq!(ip, Some("2001:db8::1".parse().unwrap()));
        let ip = client_ip(peer("10.0.0.2"), &headers(&["junk, 10.0.0.9"]), &trusted);
        assert_eq!(ip, Some("10.0.0.9".parse().unwrap()));
        let ip = client_ip(peer("10.0.0.2"), &HeaderMap::new(), &trusted);
        assert_eq!(ip, Some("10.0.0.2".parse().unwrap()));
        // A dual-stack listener sees an IPv4 proxy as ::ffff:10.0.0.2.
        let ip = client_ip(
            peer("::ffff:10.0.0.2"),
            &headers(&["203.0.113.5"]),
            &trusted,
        );
        assert_eq!(ip, Some("203.0.113.5".parse().unwrap()));
    }
}
