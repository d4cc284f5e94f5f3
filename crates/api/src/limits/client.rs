//! Who a request comes from: the peer address, unless the peer is a trusted proxy
//! (`HEARTH_TRUSTED_PROXIES`), in which case the address that proxy says it forwarded for.
//! A forwarding header from anyone else is ignored: a client could write anything there.

use crate::startup::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::{HeaderMap, FORWARDED};
use actix_web::{web, FromRequest, HttpRequest};
use ipnet::IpNet;
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The proxies whose forwarding headers are believed (addresses or CIDR ranges).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A comma-separated list: `10.0.0.0/8, 192.168.1.7, ::1`.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{entry}` is not an IP address or CIDR range"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client behind `peer`: `peer` itself unless it is trusted; then, walking the
    /// forwarding chain from the nearest hop outwards, the first address that is not a trusted
    /// proxy (an unreadable hop ends the walk at the last address read).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_for(headers).into_iter().rev() {
            let Some(hop) = hop else { break };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        client
    }
}

/// The `for` addresses of `Forwarded` (RFC 7239) or, without it, of `X-Forwarded-For`, farthest
/// first; `None` for a hop that names no address (`unknown`, an obfuscated name, garbage).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| {
        headers
            .get_all(name)
            .map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
    };
    let forwarded = values(FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .into_iter()
            .flat_map(|value| match value {
                Some(value) => value.split(',').map(forwarded_element).collect(),
                None => vec![None],
            })
            .collect();
    }
    values(actix_web::http::header::X_FORWARDED_FOR)
        .into_iter()
        .flat_map(|value| match value {
            Some(value) => value.split(',').map(address).collect(),
            None => vec![None],
        })
        .collect()
}

/// The `for=` of one `Forwarded` element (`for=192.0.2.60;proto=http`).
fn forwarded_element(element: &str) -> Option<IpAddr> {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
        .and_then(|(_, value)| address(value.trim().trim_matches('"')))
}

/// An address with or without a port: `192.0.2.1`, `192.0.2.1:80`, `2001:db8::1`,
/// `[2001:db8::1]:80`.
fn address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse().ok())
        })
}

/// The address a client is counted under: IPv4 as it is (IPv4-mapped IPv6 included), IPv6 by
/// its /64, which one subscriber usually holds whole.
fn bucket(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

/// The client's address, as rate limits count it (IPv6 by /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl FromRequest for ClientAddress {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // A request always has a peer over TCP; without one (a test request), it is local.
        let peer = req
            .peer_addr()
            .map_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), |p| p.ip());
        let client = match req.app_data::<web::Data<AppState>>() {
            Some(state) => state.settings.trusted_proxies.client(peer, req.headers()),
            None => peer,
        };
        ready(Ok(ClientAddress(bucket(client))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn ip(text: &str) -> IpAddr {
        text.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(*name), HeaderValue::from_str(value))
            {
                map.append(name, value);
            }
        }
        map
    }

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap_or_default()
    }

    #[test]
    fn the_list_takes_addresses_and_ranges_and_refuses_garbage() {
        assert_eq!(proxies("10.0.0.0/8, 127.0.0.1,::1").0.len(), 3);
        assert!(TrustedProxies::parse("").is_ok_and(|p| p.0.is_empty()));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.internal").is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let forwarded = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(proxies("").client(ip("9.9.9.9"), &forwarded), ip("9.9.9.9"));
        assert_eq!(
            proxies("10.0.0.0/8").client(ip("9.9.9.9"), &forwarded),
            ip("9.9.9.9")
        );
    }

    #[test]
    fn a_trusted_proxy_is_believed_and_spoofed_hops_before_it_are_skipped() {
        let trusted = proxies("10.0.0.0/8");
        // The client wrote 6.6.6.6 itself; the proxy appended the address it saw.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.2")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &chain), ip("1.2.3.4"));
        let two_headers = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "1.2.3.4"),
        ]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &two_headers), ip("1.2.3.4"));
    }

    #[test]
    fn forwarded_is_read_before_x_forwarded_for_with_ports_and_quotes() {
        let trusted = proxies("10.0.0.1");
        let both = headers(&[
            (
                "forwarded",
                "for=\"[2001:db8::17]:4711\";proto=https, for=10.0.0.1",
            ),
            ("x-forwarded-for", "1.2.3.4"),
        ]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &both), ip("2001:db8::17"));
        let port = headers(&[("forwarded", "for=192.0.2.60:8080;by=10.0.0.1")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &port), ip("192.0.2.60"));
    }

    #[test]
    fn an_unreadable_hop_ends_the_walk_at_the_last_address_read() {
        let trusted = proxies("10.0.0.0/8");
        let unknown = headers(&[("forwarded", "for=unknown, for=10.0.0.9")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &unknown), ip("10.0.0.9"));
        let nothing = headers(&[]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &nothing), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(bucket(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(bucket(ip("::ffff:1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(bucket(ip("1.2.3.4")), ip("1.2.3.4"));
    }
}
