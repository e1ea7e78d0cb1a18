//! `system.address-held`: whether an address is configured on any local interface
//! (getifaddrs via nix).

use std::net::IpAddr;

/// Parses `ADDR` or `ADDR/PREFIX` (the prefix is ignored) as keepalived VIPs are
/// written; `None` if it is not a literal address.
pub fn parse(address: &str) -> Option<IpAddr> {
    let a = address.split_whitespace().next()?;
    let a = a.split_once('/').map_or(a, |(a, _)| a);
    let a = a.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(a);
    a.parse().ok()
}

/// Every address configured on this node's interfaces.
pub fn local_addresses() -> Vec<IpAddr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addrs
        .filter_map(|ifa| {
            let a = ifa.address?;
            if let Some(v4) = a.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .collect()
}

pub fn held(address: &str) -> bool {
    match parse(address) {
        Some(ip) => local_addresses().contains(&ip),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_held() {
        assert!(held("127.0.0.1"));
        assert!(held("127.0.0.1/8"));
        assert!(!held("192.0.2.213"));
        assert!(!held("not-an-address"));
    }

    #[test]
    fn parses_vip_syntax() {
        assert_eq!(
            parse("192.0.2.3/24 dev eth0 label eth0:1"),
            Some("192.0.2.3".parse().unwrap())
        );
        assert_eq!(parse("[2001:db8::1]"), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(parse("2001:db8::1/64"), Some("2001:db8::1".parse().unwrap()));
    }
}
