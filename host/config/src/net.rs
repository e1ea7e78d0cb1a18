//! Network targets a policy may reach (`allow` in a `[[policy]]`), and
//! digests that pin a component (`sha256`): each parsed here and nowhere else.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One allowed network target: an address or CIDR block and a port (or any port).
///
/// Syntax: `127.0.0.1:80`, `192.0.2.0/24:80`, `[::1]:8080`, `[2001:db8::/32]:443`,
/// `localhost:80` (both loopbacks), and `*` as the port for any port (`127.0.0.1:*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPattern {
    addr: IpAddr,
    prefix: u8,
    /// `None` means any port.
    port: Option<u16>,
    /// `localhost` also matches ::1 / 127.0.0.1.
    localhost: bool,
}

impl NetPattern {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("bad network pattern {s:?}: {why}");
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, p) = rest.split_once("]:").ok_or_else(|| bad("expected [ADDR]:PORT"))?;
            (h, p)
        } else {
            s.rsplit_once(':').ok_or_else(|| bad("expected ADDR:PORT"))?
        };
        let port = match port {
            "*" => None,
            p => Some(p.parse::<u16>().map_err(|_| bad("port must be 0-65535 or *"))?),
        };
        if host.eq_ignore_ascii_case("localhost") {
            return Ok(NetPattern {
                addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
                prefix: 32,
                port,
                localhost: true,
            });
        }
        let (addr, prefix) = match host.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad("bad prefix length"))?)),
            None => (host, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| bad("address must be a literal IP or localhost"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad("prefix too long"));
        }
        Ok(NetPattern {
            addr,
            prefix,
            port,
            localhost: false,
        })
    }

    pub fn matches(&self, ip: IpAddr, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        if self.localhost {
            return ip == IpAddr::V4(Ipv4Addr::LOCALHOST) || ip == IpAddr::V6(Ipv6Addr::LOCALHOST);
        }
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[full] & mask == b[full] & mask
}

/// A sha256 digest written as 64 hexadecimal digits.
pub fn parse_sha256(s: &str) -> Result<[u8; 32], String> {
    let s = s.trim();
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("sha256 {s:?} is not 64 hex digits"));
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}
