//! keepalived's `use_vmac` and `virtual_routes`: the macvlan that carries
//! an instance's virtual MAC, and the routes held while Master, with the
//! route syntax `[src ADDR] [to] PREFIX [via|gw ADDR] [dev IF] [scope S]
//! [table T] [metric M]` or `blackhole PREFIX`.

use std::fmt;
use std::net::IpAddr;

use crate::vip::ifname_problem;
use crate::{InstanceConfig, Vip};

/// `use_vmac [NAME]` (+ `vmac_xmit_base`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Vmac {
    /// The macvlan's name; keepalived's default is `vrrp.VRID`.
    pub name: String,
    /// Adverts leave from the base interface, not the macvlan.
    pub xmit_base: bool,
}

impl Vmac {
    /// keepalived's default name.
    pub fn default_name(vrid: u8) -> String {
        format!("vrrp.{vrid}")
    }
}

/// One of `virtual_routes`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    /// The destination prefix (host bits zero).
    pub dst: IpAddr,
    pub prefix_len: u8,
    /// `blackhole PREFIX`: dropped; no gateway or device.
    pub blackhole: bool,
    pub src: Option<IpAddr>,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub scope: Option<u8>,
    pub table: Option<u32>,
    pub metric: Option<u32>,
}

/// `scope` as iproute2 names it (`ip -d addr`), else the number.
pub fn scope_name(scope: u8) -> String {
    match scope {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => n.to_string(),
    }
}

/// `global`, `site`, `link`, `host`, `nowhere` or 0..=255.
pub(crate) fn parse_scope(s: &str) -> Result<u8, String> {
    match s {
        "global" | "universe" => Ok(0),
        "site" => Ok(200),
        "link" => Ok(253),
        "host" => Ok(254),
        "nowhere" => Ok(255),
        n => n
            .parse::<u8>()
            .map_err(|_| format!("scope `{n}` is not global, site, link, host, nowhere or 0..=255")),
    }
}

fn parse_table(s: &str) -> Result<u32, String> {
    match s {
        "main" => Ok(254),
        "local" => Ok(255),
        "default" => Ok(253),
        n => match n.parse::<u32>() {
            Ok(t) if t > 0 => Ok(t),
            _ => Err(format!(
                "table `{n}` is not main, local, default or 1..=4294967295"
            )),
        },
    }
}

fn parse_prefix(s: &str) -> Result<(IpAddr, u8), String> {
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = a
        .parse()
        .map_err(|_| format!("`{a}` is not an IPv4 or IPv6 prefix"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match p {
        None => max,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max && !p.starts_with('+') => n,
            _ => return Err(format!("prefix length `/{p}` must be 0..={max}")),
        },
    };
    if network(addr, len) != addr {
        return Err(format!(
            "{s} has host bits set: the prefix is {}/{len}",
            network(addr, len)
        ));
    }
    Ok((addr, len))
}

/// `addr` with the bits past `len` cleared.
fn network(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4((u32::from(a) & mask).into())
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6((u128::from(a) & mask).into())
        }
    }
}

fn addr_of(s: &str, what: &str) -> Result<IpAddr, String> {
    s.parse()
        .map_err(|_| format!("{what} `{s}` is not an IPv4 or IPv6 address"))
}

/// Parses one route; the error says what is wrong.
pub fn parse_route(text: &str) -> Result<Route, String> {
    let words: Vec<&str> = text.split_ascii_whitespace().collect();
    let mut r = Route {
        dst: IpAddr::V4(0.into()),
        prefix_len: 0,
        blackhole: false,
        src: None,
        via: None,
        dev: None,
        scope: None,
        table: None,
        metric: None,
    };
    let mut dst = None;
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if w == "blackhole" {
            r.blackhole = true;
            i += 1;
            continue;
        }
        // keepalived's "do not fault when the route's link goes": Baton
        // does not track routes' links, so it changes nothing here.
        if w == "no_track" {
            i += 1;
            continue;
        }
        let takes = matches!(
            w,
            "src"
                | "to"
                | "via"
                | "gw"
                | "dev"
                | "oif"
                | "scope"
                | "table"
                | "metric"
                | "preference"
                | "priority"
        );
        if !takes {
            if dst.is_some() {
                return Err(format!(
                    "unexpected `{w}` (a route is `[src ADDR] [to] PREFIX [via ADDR] [dev IF] [scope S] [table T] [metric M]`)"
                ));
            }
            dst = Some(parse_prefix(w)?);
            i += 1;
            continue;
        }
        let v = words.get(i + 1).ok_or_else(|| format!("`{w}` needs a value"))?;
        match w {
            "to" if dst.is_some() => return Err("the destination is given twice".into()),
            "to" => dst = Some(parse_prefix(v)?),
            "src" => r.src = Some(addr_of(v, "src")?),
            "via" | "gw" => r.via = Some(addr_of(v, "gateway")?),
            "dev" | "oif" => {
                if let Some(p) = ifname_problem(v) {
                    return Err(p);
                }
                r.dev = Some(v.to_string());
            }
            "scope" => r.scope = Some(parse_scope(v)?),
            "table" => r.table = Some(parse_table(v)?),
            _ => {
                r.metric = Some(
                    v.parse()
                        .map_err(|_| format!("metric `{v}` is not 0..=4294967295"))?,
                )
            }
        }
        i += 2;
    }
    let Some((a, len)) = dst else {
        return Err("a route needs a destination prefix (e.g. `198.51.100.0/24 via 192.0.2.1`)".into());
    };
    (r.dst, r.prefix_len) = (a, len);
    for (what, x) in [("src", r.src), ("via", r.via)] {
        if let Some(x) = x
            && x.is_ipv4() != a.is_ipv4()
        {
            return Err(format!("{what} {x} is not of the family of {a}/{len}"));
        }
    }
    if r.blackhole && (r.via.is_some() || r.dev.is_some()) {
        return Err("a blackhole route has no gateway or device".into());
    }
    Ok(r)
}

impl fmt::Display for Route {
    /// The syntax [`parse_route`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = self.src {
            write!(f, "src {s} ")?;
        }
        if self.blackhole {
            f.write_str("blackhole ")?;
        }
        write!(f, "{}/{}", self.dst, self.prefix_len)?;
        if let Some(v) = self.via {
            write!(f, " via {v}")?;
        }
        if let Some(d) = &self.dev {
            write!(f, " dev {d}")?;
        }
        if let Some(s) = self.scope {
            write!(f, " scope {}", scope_name(s))?;
        }
        if let Some(t) = self.table {
            write!(f, " table {t}")?;
        }
        if let Some(m) = self.metric {
            write!(f, " metric {m}")?;
        }
        Ok(())
    }
}

impl InstanceConfig {
    /// The virtual MAC of RFC 5798 7.3: 00-00-5E-00-01-{VRID} (IPv4),
    /// 00-00-5E-00-02-{VRID} (IPv6).
    pub fn virtual_mac(&self) -> [u8; 6] {
        let v6 = self.family() == crate::Family::V6;
        [0x00, 0x00, 0x5e, 0x00, if v6 { 0x02 } else { 0x01 }, self.vrid]
    }

    /// Where adverts are sent and received: the macvlan with `use_vmac`
    /// (a peer's adverts from the same virtual MAC reach only it), else
    /// the interface.
    pub fn advert_interface(&self) -> &str {
        match &self.vmac {
            Some(v) if !v.xmit_base => &v.name,
            _ => &self.interface,
        }
    }

    /// Where a VIP is configured: on the macvlan when it would be on the
    /// base interface, so clients learn the virtual MAC.
    pub fn vip_on_vmac(&self, vip: &Vip) -> Vip {
        match &self.vmac {
            Some(v) if vip.dev == self.interface => {
                let mut out = vip.clone();
                if let Some(l) = &vip.label {
                    // A label starts with its device's name.
                    out.label = Some(format!("{}{}", v.name, &l[self.interface.len().min(l.len())..]));
                }
                out.dev = v.name.clone();
                out
            }
            _ => vip.clone(),
        }
    }

    /// Every address held while Master, VIPs then excluded ones, on the
    /// device they go on.
    pub fn held_addresses(&self) -> Vec<Vip> {
        self.vips
            .iter()
            .chain(&self.excluded_vips)
            .map(|v| self.vip_on_vmac(v))
            .collect()
    }

    /// The routes held while Master, as written: a route names its device
    /// (or the kernel finds it by the gateway), and keepalived does not move
    /// routes onto the macvlan either.
    pub fn held_routes(&self) -> Vec<Route> {
        self.routes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_route_forms() {
        let r = parse_route("198.51.100.0/24 via 192.0.2.1 dev eth0").expect("route");
        assert_eq!(r.to_string(), "198.51.100.0/24 via 192.0.2.1 dev eth0");
        let r = parse_route("src 192.0.2.3 to 198.51.100.0/25 gw 192.0.2.1 table 100 metric 5 scope link")
            .expect("route");
        assert_eq!(
            (r.src, r.table, r.metric, r.scope),
            (Some("192.0.2.3".parse().unwrap()), Some(100), Some(5), Some(253))
        );
        assert_eq!(parse_route(&r.to_string()), Ok(r));
        let b = parse_route("blackhole 2001:db8:1::/48").expect("blackhole");
        assert!(b.blackhole);
        assert_eq!(parse_route(&b.to_string()), Ok(b));
        assert_eq!(parse_route("198.51.100.7").expect("host").prefix_len, 32);
        assert_eq!(
            parse_route("198.51.100.0/24 table main").expect("t").table,
            Some(254)
        );
    }

    #[test]
    fn route_errors_say_what() {
        let e = |s: &str| parse_route(s).expect_err(s);
        assert!(e("198.51.100.1/24").contains("host bits set: the prefix is 198.51.100.0/24"));
        assert!(e("198.51.100.0/24 via 2001:db8::1").contains("not of the family"));
        assert!(e("via 192.0.2.1").contains("needs a destination"));
        assert!(e("198.51.100.0/24 dev").contains("needs a value"));
        assert!(e("198.51.100.0/24 metric x").contains("metric"));
        assert!(e("198.51.100.0/24 bogus").contains("unexpected `bogus`"));
        assert!(e("blackhole 198.51.100.0/24 via 192.0.2.1").contains("blackhole"));
        assert!(e("198.51.100.0/24 scope far").contains("scope `far`"));
        assert!(e("198.51.100.0/33").contains("0..=32"));
    }

    #[test]
    fn scopes_by_name_and_number() {
        assert_eq!(parse_scope("host"), Ok(254));
        assert_eq!(parse_scope("7"), Ok(7));
        assert!(parse_scope("256").is_err());
        assert_eq!(scope_name(253), "link");
        assert_eq!(scope_name(7), "7");
    }

    fn instance(extra: &str) -> InstanceConfig {
        let text = format!(
            "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\n\
             vips = [\"192.0.2.3/24 label eth0:1\", \"192.0.2.4/24 dev eth1\"]\n{extra}\n"
        );
        crate::parse(&text, std::path::Path::new("/t/b.toml"))
            .expect("config")
            .instances[0]
            .clone()
    }

    #[test]
    fn vips_of_the_interface_go_on_the_macvlan_others_stay() {
        let i = instance("use_vmac = true\nexcluded_vips = [\"2001:db8::5\"]");
        let held: Vec<(String, Option<String>)> =
            i.held_addresses().into_iter().map(|v| (v.dev, v.label)).collect();
        assert_eq!(
            held,
            [
                ("vrrp.51".to_string(), Some("vrrp.51:1".to_string())),
                ("eth1".to_string(), None),
                ("vrrp.51".to_string(), None),
            ]
        );
        assert_eq!(i.advert_interface(), "vrrp.51");
        assert_eq!(i.virtual_mac(), [0, 0, 0x5e, 0, 1, 51]);
        let base = instance("use_vmac = true\nvmac_xmit_base = true");
        assert_eq!(base.advert_interface(), "eth0");
        let plain = instance("");
        assert_eq!(plain.held_addresses(), plain.vips, "no macvlan: as configured");
    }
}
