//! Network targets a policy may reach (`allow` in a `[[policy]]`), the
//! targets its settings name (a `url`, a `host` and `port`), and digests that
//! pin a component (`sha256`): each parsed here and nowhere else.

use std::fmt;
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

    /// Whether the policy may reach `target` (`localhost` is reached as 127.0.0.1).
    pub fn covers(&self, target: &Target) -> bool {
        self.matches(target.addr, target.port)
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

/// One address and port a policy's settings name: what it will connect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// A `localhost` target is reached at 127.0.0.1.
    pub addr: IpAddr,
    pub port: u16,
    /// Written `localhost`.
    pub localhost: bool,
}

impl Target {
    /// The exact `allow` pattern for it (`192.0.2.11:8080`, `[::1]:80`, `localhost:80`).
    pub fn pattern(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            _ if self.localhost => write!(f, "localhost:{}", self.port),
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// A host as a probe takes it: a literal address (IPv6 with or without
/// brackets) or `localhost`; never a name to look up (no DNS).
pub(crate) fn parse_host(host: &str) -> Result<(IpAddr, bool), String> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok((IpAddr::V4(Ipv4Addr::LOCALHOST), true));
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(a) => Ok((a, false)),
        Err(_) if bare.is_empty() => Err("no host".to_string()),
        Err(_) => Err(format!(
            "`{host}` is a host name, and Baton does not resolve names (no DNS): write a literal address or localhost"
        )),
    }
}

/// A port as a setting writes it.
pub(crate) fn parse_port(port: &str) -> Result<u16, String> {
    port.parse::<u16>()
        .map_err(|_| format!("`{port}` is not a port (0 to 65535)"))
}

/// The target of an `http://` or `https://` URL (port 80 or 443 unless
/// given); `None` for another scheme.
pub(crate) fn url_target(url: &str) -> Option<Result<Target, String>> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let (rest, default_port) = if lower.starts_with("http://") {
        (&url[7..], 80)
    } else if lower.starts_with("https://") {
        (&url[8..], 443)
    } else {
        return None;
    };
    let authority = rest.find(['/', '?', '#']).map_or(rest, |i| &rest[..i]);
    let bad = |why: &str| Err(format!("`{url}` is not a URL Baton can reach: {why}"));
    if authority.contains('@') {
        return Some(bad("no user name or password in a URL"));
    }
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(i) => match &authority[i + 1..] {
                "" => (&authority[..=i], None),
                p => match p.strip_prefix(':') {
                    Some(p) => (&authority[..=i], Some(p)),
                    None => return Some(bad("expected :PORT after the address")),
                },
            },
            None => return Some(bad("no `]` after the IPv6 address")),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Some(bad("no host"));
    }
    let port = match port.map(parse_port) {
        None => default_port,
        Some(Ok(p)) => p,
        Some(Err(e)) => return Some(Err(e)),
    };
    Some(parse_host(host).map(|(addr, localhost)| Target {
        addr,
        port,
        localhost,
    }))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        url_target(url).expect("http").expect(url)
    }

    #[test]
    fn url_targets() {
        assert_eq!(target("http://192.0.2.11:8080/").pattern(), "192.0.2.11:8080");
        assert_eq!(target("http://192.0.2.11/").pattern(), "192.0.2.11:80");
        assert_eq!(target("http://192.0.2.11").pattern(), "192.0.2.11:80");
        assert_eq!(target("https://192.0.2.11/x?y").pattern(), "192.0.2.11:443");
        assert_eq!(target("HTTP://192.0.2.11?q").pattern(), "192.0.2.11:80");
        assert_eq!(
            target("http://[2001:db8::1]:8080/").pattern(),
            "[2001:db8::1]:8080"
        );
        assert_eq!(target("http://[::1]/health").pattern(), "[::1]:80");
        let l = target("http://localhost:8080/");
        assert_eq!(
            (l.pattern(), l.addr),
            ("localhost:8080".into(), IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        assert_eq!(url_target("ftp://192.0.2.1/"), None);
        let err = |u: &str| url_target(u).expect("http").expect_err(u);
        assert!(err("http://example.com/").contains("`example.com` is a host name"));
        assert!(err("http://192.0.2.1:99999/").contains("`99999` is not a port"));
        assert!(err("http://u@192.0.2.1/").contains("no user name"));
        assert!(err("http:///x").contains("no host"));
        assert!(err("http://[::1/").contains("no `]`"));
    }

    #[test]
    fn patterns_cover_targets() {
        let t = target("http://192.0.2.11:8080/");
        assert!(NetPattern::parse(&t.pattern()).expect("pattern").covers(&t));
        assert!(NetPattern::parse("192.0.2.0/24:*").expect("pattern").covers(&t));
        assert!(!NetPattern::parse("192.0.2.11:80").expect("pattern").covers(&t));
        let l = target("http://localhost/");
        assert!(NetPattern::parse("127.0.0.1:80").expect("pattern").covers(&l));
        assert!(NetPattern::parse(&l.pattern()).expect("pattern").covers(&l));
        let v6 = target("http://[2001:db8::1]/");
        assert!(NetPattern::parse(&v6.pattern()).expect("pattern").covers(&v6));
    }
}
