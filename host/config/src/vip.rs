//! keepalived's `virtual_ipaddress` line: `ADDR[/PREFIX] [dev IF] [label LABEL]
//! [brd ADDR] [scope SCOPE]`.

use std::net::{IpAddr, Ipv4Addr};

use super::Vip;

/// Longest interface name (IFNAMSIZ - 1); address labels have the same limit.
pub(crate) const IFNAME_MAX: usize = 15;

/// Why a name cannot be a Linux interface name, if it cannot.
pub(crate) fn ifname_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("an interface name cannot be empty".to_string());
    }
    if name.len() > IFNAME_MAX {
        return Some(format!(
            "interface name `{name}` is {} bytes; Linux allows at most {IFNAME_MAX}",
            name.len()
        ));
    }
    if name == "." || name == ".." {
        return Some(format!("`{name}` is not a valid interface name"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '/' || *c == ':')
    {
        return Some(format!(
            "interface name `{name}` contains {c:?}, which Linux does not allow"
        ));
    }
    None
}

/// Why an address cannot be a virtual address, if it cannot.
pub(crate) fn vip_addr_problem(addr: &IpAddr) -> Option<&'static str> {
    if addr.is_unspecified() {
        Some("the unspecified address cannot be a virtual address")
    } else if addr.is_multicast() {
        Some("a multicast address cannot be a virtual address")
    } else if *addr == IpAddr::V4(std::net::Ipv4Addr::BROADCAST) {
        Some("the broadcast address cannot be a virtual address")
    } else {
        None
    }
}

/// Parses one VIP. On error: the byte offset in `text` of the offending word
/// and the message.
pub fn parse_vip(text: &str, default_dev: &str) -> Result<Vip, (usize, String)> {
    let mut words = words(text);
    let Some((addr_at, first)) = words.next() else {
        return Err((0, "empty virtual address".to_string()));
    };
    let (addr_text, prefix_text) = match first.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (first, None),
    };
    let addr: IpAddr = addr_text
        .parse()
        .map_err(|_| (addr_at, format!("`{addr_text}` is not an IPv4 or IPv6 address")))?;
    if let Some(problem) = vip_addr_problem(&addr) {
        return Err((addr_at, format!("{addr}: {problem}")));
    }
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix_len = match prefix_text {
        None => max,
        Some(p) => {
            let at = addr_at + addr_text.len() + 1;
            match p.parse::<u8>() {
                Ok(n) if (1..=max).contains(&n) && !p.starts_with('+') => n,
                _ => {
                    return Err((at, format!("prefix length `/{p}` must be 1..={max}")));
                }
            }
        }
    };
    let mut dev: Option<String> = None;
    let mut label: Option<(usize, String)> = None;
    let (mut brd, mut scope) = (None, None);
    while let Some((at, word)) = words.next() {
        let (slot_dev, slot_label) = (word == "dev", word == "label");
        let slot_extra = matches!(word, "brd" | "broadcast" | "scope");
        if !slot_dev && !slot_label && !slot_extra {
            let hint = match word {
                "metric" | "table" | "no_track" | "preferred_lft" | "home" | "nodad" | "noprefixroute"
                | "autojoin" | "track_group" => format!("`{word}` (keepalived option) is not supported; "),
                _ => format!("unexpected `{word}`; "),
            };
            return Err((
                at,
                format!(
                    "{hint}a virtual address is `ADDR[/PREFIX] [dev IF] [label LABEL] [brd ADDR] [scope S]`"
                ),
            ));
        }
        let Some((vat, value)) = words.next() else {
            return Err((at, format!("`{word}` needs a value")));
        };
        if slot_extra {
            extra(word, (vat, value), &addr, &mut brd, &mut scope)?;
        } else if slot_dev {
            if dev.is_some() {
                return Err((at, "`dev` given twice".to_string()));
            }
            if let Some(p) = ifname_problem(value) {
                return Err((vat, p));
            }
            dev = Some(value.to_string());
        } else {
            if label.is_some() {
                return Err((at, "`label` given twice".to_string()));
            }
            if addr.is_ipv6() {
                return Err((at, "`label` is for IPv4 addresses only".to_string()));
            }
            label = Some((vat, value.to_string()));
        }
    }
    let dev = dev.unwrap_or_else(|| default_dev.to_string());
    if let Some((at, l)) = &label {
        if !l.starts_with(dev.as_str()) {
            return Err((
                *at,
                format!("label `{l}` must start with the device name `{dev}` (e.g. `{dev}:1`)"),
            ));
        }
        if l.len() > IFNAME_MAX {
            return Err((
                *at,
                format!(
                    "label `{l}` is {} bytes; Linux allows at most {IFNAME_MAX}",
                    l.len()
                ),
            ));
        }
    }
    Ok(Vip {
        addr,
        prefix_len,
        dev,
        label: label.map(|(_, l)| l),
        brd,
        scope,
    })
}

/// `brd ADDR` (IPv4) or `scope S`, each at most once.
fn extra(
    word: &str,
    (at, value): (usize, &str),
    addr: &IpAddr,
    brd: &mut Option<Ipv4Addr>,
    scope: &mut Option<u8>,
) -> Result<(), (usize, String)> {
    if word == "scope" {
        if scope.is_some() {
            return Err((at, "`scope` given twice".to_string()));
        }
        *scope = Some(crate::vmac::parse_scope(value).map_err(|e| (at, e))?);
        return Ok(());
    }
    if addr.is_ipv6() {
        return Err((at, format!("`{word}` is for IPv4 addresses only")));
    }
    if brd.is_some() {
        return Err((at, "`brd` given twice".to_string()));
    }
    let b = value
        .parse::<Ipv4Addr>()
        .map_err(|_| (at, format!("brd `{value}` is not an IPv4 address")))?;
    *brd = Some(b);
    Ok(())
}

/// Whitespace-separated words with their byte offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_ascii_whitespace()
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Vip {
        parse_vip(s, "eth0").expect(s)
    }

    fn err(s: &str) -> (usize, String) {
        parse_vip(s, "eth0").expect_err(s)
    }

    #[test]
    fn keepalived_forms() {
        let v = ok("192.0.2.3");
        assert_eq!((v.prefix_len, v.dev.as_str(), v.label), (32, "eth0", None));
        let v = ok("192.0.2.3/24 dev eth0 label eth0:1");
        assert_eq!(v.prefix_len, 24);
        assert_eq!(v.label.as_deref(), Some("eth0:1"));
        let v = ok("192.0.2.3/24 label eth1:9 dev eth1");
        assert_eq!((v.dev.as_str(), v.label.as_deref()), ("eth1", Some("eth1:9")));
        let v = ok("2001:db8::3");
        assert_eq!(v.prefix_len, 128);
        assert_eq!(ok("2001:db8::3/64 dev eth2").dev, "eth2");
        assert_eq!(ok("  192.0.2.4  ").addr.to_string(), "192.0.2.4");
        let v = ok("192.0.2.3/24 brd 192.0.2.255 scope host");
        assert_eq!((v.brd, v.scope), (Some(Ipv4Addr::new(192, 0, 2, 255)), Some(254)));
        assert_eq!(ok(&v.to_string()), v, "Display reads back");
        assert_eq!(ok("2001:db8::3 scope 200").scope, Some(200));
    }

    #[test]
    fn errors_point_at_the_word() {
        assert_eq!(err("192.0.2.300").0, 0);
        assert!(err("192.0.2.300").1.contains("not an IPv4 or IPv6 address"));
        assert_eq!(
            err("192.0.2.3/33"),
            (10, "prefix length `/33` must be 1..=32".into())
        );
        assert_eq!(err("2001:db8::1/129").0, 12);
        assert_eq!(err("192.0.2.3/0").0, 10);
        let (at, m) = err("192.0.2.3 dev eth0 label eth1:1");
        assert_eq!(at, 25);
        assert!(m.contains("must start with the device name `eth0`"), "{m}");
        let (at, m) = err("192.0.2.3 label bond0:1");
        assert_eq!(at, 16);
        assert!(m.contains("`eth0`"), "{m}");
        assert_eq!(err("2001:db8::3 label eth0:1").0, 12);
        assert_eq!(err("192.0.2.3 dev").1, "`dev` needs a value");
        assert!(
            err("192.0.2.3 metric 5")
                .1
                .contains("`metric` (keepalived option) is not supported")
        );
        assert_eq!(err("192.0.2.3 brd x").1, "brd `x` is not an IPv4 address");
        assert_eq!(err("2001:db8::3 brd 192.0.2.255").0, 16);
        assert!(err("192.0.2.3 scope far").1.contains("scope `far`"));
        assert_eq!(err("192.0.2.3 scope host scope link").1, "`scope` given twice");
        assert_eq!(err("192.0.2.3 dev a dev b").1, "`dev` given twice");
        assert!(err("224.0.0.18").1.contains("multicast"));
        assert!(err("0.0.0.0").1.contains("unspecified"));
        assert!(err("255.255.255.255").1.contains("broadcast"));
        assert!(
            err("192.0.2.3 dev eth0:1")
                .1
                .contains("which Linux does not allow")
        );
        assert!(
            err("192.0.2.3 dev averyveryverylongname")
                .1
                .contains("at most 15")
        );
        assert_eq!(err("").1, "empty virtual address");
    }
}
