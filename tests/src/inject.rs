//! A VRRP packet injector for hostile-packet tests: it builds whole IPv4
//! packets (IP header included, so TTL, checksums and lengths can be anything)
//! with `baton_vrrp::wire`, mutates them, and sends them to 224.0.0.18 on
//! `eth0` of a lab host, from a thread that entered that host's namespace.
//!
//! Every malformed [`Kind`] starts from the most dangerous well-formed advert
//! there is for a backup: a priority-0 advert ("the master resigns") with the
//! right VRID, version, interval, password and addresses, from a foreign
//! source. One defect is then added. A receiver that lets any of them through
//! treats it as a resignation: its Master_Down_Timer drops to Skew_Time and it
//! takes over, or, as Master, it answers with an extra advert. So a leak shows
//! as a transition or a disturbed advert cadence.
//!
//! Only ever used inside lab namespaces, towards the VRRP multicast group.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use baton_vrrp::wire::{
    self, AUTH_DATA_LEN, AUTH_PASS, Advert, IPPROTO_VRRP, Ipv4Header, MCAST_V4, VRRP_TTL,
};
use baton_vrrp::{V3Checksum, Version};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use baton_lab::{Lab, enter_netns};

/// The well-formed advert every packet is derived from.
#[derive(Debug, Clone)]
pub struct Template {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// Wire units: seconds for v2, centiseconds for v3.
    pub interval: u16,
    /// v2 PASS password (`None`: auth type 0). Ignored for v3.
    pub password: Option<String>,
    pub vips: Vec<Ipv4Addr>,
    /// The IP source: the attacker's own address, or a spoofed one.
    pub src: Ipv4Addr,
    /// How the v3 checksum is computed (RFC 9568: with the pseudo-header).
    pub v3_checksum: V3Checksum,
}

impl Template {
    /// VRRPv2 with PASS `password`, priority 0, `interval_s` seconds.
    pub fn v2(vrid: u8, password: &str, interval_s: u8, vips: &[Ipv4Addr], src: Ipv4Addr) -> Template {
        Template {
            version: Version::V2,
            vrid,
            priority: 0,
            interval: u16::from(interval_s),
            password: Some(password.to_string()),
            vips: vips.to_vec(),
            src,
            v3_checksum: V3Checksum::PseudoHeader,
        }
    }

    /// VRRPv3 (IPv4), priority 0, `interval_cs` centiseconds.
    pub fn v3(vrid: u8, interval_cs: u16, vips: &[Ipv4Addr], src: Ipv4Addr) -> Template {
        Template {
            version: Version::V3,
            vrid,
            priority: 0,
            interval: interval_cs,
            password: None,
            vips: vips.to_vec(),
            src,
            v3_checksum: V3Checksum::PseudoHeader,
        }
    }

    fn advert(&self, version: Version) -> Advert {
        let (auth_type, auth_data) = match (&self.password, version) {
            (Some(p), Version::V2) => (AUTH_PASS, pass_data(p)),
            _ => (0, [0; AUTH_DATA_LEN]),
        };
        let interval = match (self.version, version) {
            (a, b) if a == b => self.interval,
            // The other version's units: v2 seconds <-> v3 centiseconds.
            (Version::V3, Version::V2) => (self.interval / 100).max(1),
            _ => self.interval.saturating_mul(100).min(wire::V3_MAX_INTERVAL_CS),
        };
        Advert {
            version,
            vrid: self.vrid,
            priority: self.priority,
            interval,
            auth_type,
            auth_data,
            addrs: self.vips.iter().map(|a| IpAddr::V4(*a)).collect(),
        }
    }
}

fn pass_data(p: &str) -> [u8; AUTH_DATA_LEN] {
    let mut d = [0u8; AUTH_DATA_LEN];
    let n = p.len().min(AUTH_DATA_LEN);
    d[..n].copy_from_slice(&p.as_bytes()[..n]);
    d
}

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// The template as it is: valid VRRP. With the template's priority 0 it
    /// is a resignation that a backup must obey (after Skew_Time).
    Valid,
    /// The payload cut short (the VRID byte is still there).
    Truncated,
    /// 16 junk bytes after the addresses (and v2 auth data), the VRRP
    /// checksum right over the advert proper.
    Oversized,
    /// IP TTL 64 instead of 255.
    WrongTtl,
    /// VRRP checksum off by one.
    BadChecksum,
    /// v2 PASS password "9999" (checksum right).
    WrongAuth,
    /// The other VRRP version (v2 <-> v3), otherwise right.
    WrongVersion,
    /// A VRID nobody serves: the template's + 100 (mod 256, never 0).
    UnknownVrid,
    /// One byte of VRRP payload: not even a VRID.
    Runt,
}

impl Kind {
    /// Every malformed kind that names the template's VRID and applies to
    /// `version` (no PASS auth in v3).
    pub fn malformed_for(version: Version) -> Vec<Kind> {
        let mut v = vec![
            Kind::Truncated,
            Kind::Oversized,
            Kind::WrongTtl,
            Kind::BadChecksum,
        ];
        match version {
            Version::V2 => v.push(Kind::WrongAuth),
            Version::V3 => v.push(Kind::WrongVersion),
        }
        v
    }

    /// Where Baton counts it: (per instance?, drop reason as in status JSON).
    /// `None` for [`Kind::Valid`].
    pub fn baton_drop(self) -> Option<(Scope, &'static str)> {
        Some(match self {
            Kind::Valid => return None,
            Kind::Truncated => (Scope::Instance, "truncated"),
            // Baton refuses a length that disagrees with the address count.
            Kind::Oversized => (Scope::Instance, "bad_address_count"),
            Kind::WrongTtl => (Scope::Instance, "bad_ttl"),
            Kind::BadChecksum => (Scope::Instance, "bad_checksum"),
            Kind::WrongAuth => (Scope::Instance, "auth_mismatch"),
            Kind::WrongVersion => (Scope::Instance, "bad_version"),
            Kind::UnknownVrid => (Scope::Socket, "unknown_vrid"),
            Kind::Runt => (Scope::Socket, "truncated"),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Valid => "valid",
            Kind::Truncated => "truncated",
            Kind::Oversized => "oversized",
            Kind::WrongTtl => "wrong_ttl",
            Kind::BadChecksum => "bad_checksum",
            Kind::WrongAuth => "wrong_auth",
            Kind::WrongVersion => "wrong_version",
            Kind::UnknownVrid => "unknown_vrid",
            Kind::Runt => "runt",
        }
    }
}

/// Where Baton counts a dropped packet: in the instance of the VRID, or on
/// the socket (before an instance is known).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Instance,
    Socket,
}

/// The whole IPv4 packet (header included) of `kind`, derived from `t`.
///
/// # Panics
/// If the template cannot be emitted (no VIP, interval out of range).
pub fn build(t: &Template, kind: Kind) -> Vec<u8> {
    build_to(t, kind, MCAST_V4)
}

/// [`build`] for destination `to` (a node's own address: unicast).
pub fn build_to(t: &Template, kind: Kind, to: Ipv4Addr) -> Vec<u8> {
    let dst = IpAddr::V4(to);
    let src = IpAddr::V4(t.src);
    let emit = |a: &Advert| {
        a.emit(src, dst, t.v3_checksum)
            .unwrap_or_else(|e| panic!("template {t:?}: {e}"))
    };
    let mut ttl = VRRP_TTL;
    let payload = match kind {
        Kind::Valid => emit(&t.advert(t.version)),
        Kind::Truncated => {
            let mut p = emit(&t.advert(t.version));
            // v2: header and address, no auth data; v3: header only.
            let keep = if t.version == Version::V2 {
                p.len() - AUTH_DATA_LEN
            } else {
                wire::HEADER_LEN
            };
            p.truncate(keep.max(2));
            p
        }
        Kind::Oversized => {
            let mut p = emit(&t.advert(t.version));
            p.extend_from_slice(&[0xa5; 16]);
            p
        }
        Kind::WrongTtl => {
            ttl = 64;
            emit(&t.advert(t.version))
        }
        Kind::BadChecksum => {
            let mut p = emit(&t.advert(t.version));
            let sum = u16::from_be_bytes([p[6], p[7]]).wrapping_add(1);
            p[6..8].copy_from_slice(&sum.to_be_bytes());
            p
        }
        Kind::WrongAuth => {
            let mut a = t.advert(Version::V2);
            a.auth_type = AUTH_PASS;
            a.auth_data = pass_data("9999");
            emit(&a)
        }
        Kind::WrongVersion => {
            let other = match t.version {
                Version::V2 => Version::V3,
                Version::V3 => Version::V2,
            };
            emit(&t.advert(other))
        }
        Kind::UnknownVrid => {
            let mut a = t.advert(t.version);
            a.vrid = match t.vrid.wrapping_add(100) {
                0 => 1,
                v => v,
            };
            emit(&a)
        }
        Kind::Runt => vec![(t.version.number() << 4) | wire::TYPE_ADVERT],
    };
    let hdr = Ipv4Header {
        tos: 0xc0,
        ident: 0,
        flags_frag: 0,
        ttl,
        protocol: IPPROTO_VRRP,
        src: t.src,
        dst: to,
    };
    let mut out = Vec::with_capacity(20 + payload.len());
    hdr.emit(payload.len(), &mut out);
    out.extend_from_slice(&payload);
    out
}

/// What one injection did.
#[derive(Debug, Clone, Default)]
pub struct InjectReport {
    /// Packets the kernel accepted, by kind.
    pub sent: BTreeMap<Kind, u64>,
    /// Send errors (ENOBUFS, ...), by kind.
    pub errors: BTreeMap<Kind, u64>,
    pub elapsed: Duration,
}

impl InjectReport {
    pub fn total_sent(&self) -> u64 {
        self.sent.values().sum()
    }

    pub fn total_errors(&self) -> u64 {
        self.errors.values().sum()
    }
}

impl std::fmt::Display for InjectReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .sent
            .iter()
            .map(|(k, n)| format!("{}={n}", k.name()))
            .collect();
        write!(
            f,
            "sent {} in {:.2}s ({}), {} send errors",
            self.total_sent(),
            self.elapsed.as_secs_f64(),
            parts.join(" "),
            self.total_errors()
        )
    }
}

/// Sends crafted VRRP packets from a lab host's `eth0` to 224.0.0.18.
#[derive(Debug, Clone)]
pub struct Injector {
    netns: String,
    template: Template,
}

impl Injector {
    /// An injector in `host` (usually the client: the attacker).
    pub fn new(lab: &Lab, host: &str, template: Template) -> Injector {
        Injector {
            netns: lab.netns_name(host),
            template,
        }
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    /// Sends `count` packets of each of `kinds` (kind after kind) at `rate`
    /// packets per second.
    pub fn burst(&self, kinds: &[Kind], count: u64, rate: u64) -> io::Result<InjectReport> {
        let mut plan = Vec::new();
        for k in kinds {
            plan.extend(std::iter::repeat_n(
                *k,
                usize::try_from(count).unwrap_or(usize::MAX),
            ));
        }
        let n = plan.len() as u64;
        self.run(move |i| (i < n).then(|| plan[i as usize]), rate, None)
    }

    /// Sends `rate` packets per second for `duration`, cycling through `kinds`.
    pub fn flood(&self, kinds: &[Kind], rate: u64, duration: Duration) -> io::Result<InjectReport> {
        let kinds = kinds.to_vec();
        if kinds.is_empty() {
            return Ok(InjectReport::default());
        }
        self.run(
            move |i| Some(kinds[(i % kinds.len() as u64) as usize]),
            rate,
            Some(duration),
        )
    }

    /// Sends the template, valid, to each of `dsts` (the group, or nodes'
    /// own addresses) once per `every`, for `duration`: a well-formed lie.
    pub fn spoof(&self, dsts: &[Ipv4Addr], every: Duration, duration: Duration) -> io::Result<InjectReport> {
        let round: Vec<(Ipv4Addr, Vec<u8>)> = dsts
            .iter()
            .map(|d| (*d, build_to(&self.template, Kind::Valid, *d)))
            .collect();
        self.rounds(vec![round], every, duration)
    }

    /// Sends whole IPv4 packets (as captured: header included, to the
    /// destination they carry), the next one of `packets` (cycling) once per
    /// `every`, for `duration`.
    pub fn replay(
        &self,
        packets: Vec<Vec<u8>>,
        every: Duration,
        duration: Duration,
    ) -> io::Result<InjectReport> {
        let rounds = packets
            .into_iter()
            .filter(|p| p.len() >= 20)
            .map(|p| vec![(Ipv4Addr::new(p[16], p[17], p[18], p[19]), p)])
            .collect();
        self.rounds(rounds, every, duration)
    }

    /// One round of packets (destination, whole IPv4 packet) per `every`,
    /// cycling through `rounds`, for `duration`.
    fn rounds(
        &self,
        rounds: Vec<Vec<(Ipv4Addr, Vec<u8>)>>,
        every: Duration,
        duration: Duration,
    ) -> io::Result<InjectReport> {
        let netns = self.netns.clone();
        let h = std::thread::Builder::new()
            .name("baton-e2e-rounds".into())
            .spawn(move || -> io::Result<InjectReport> {
                enter_netns(&netns)?;
                let sock = open_socket()?;
                let mut report = InjectReport::default();
                let start = Instant::now();
                let mut n = 0u32;
                while start.elapsed() < duration && !rounds.is_empty() {
                    for (dst, p) in &rounds[n as usize % rounds.len()] {
                        let addr = SockAddr::from(SocketAddr::V4(SocketAddrV4::new(*dst, 0)));
                        match sock.send_to(p, &addr) {
                            Ok(_) => *report.sent.entry(Kind::Valid).or_default() += 1,
                            Err(_) => *report.errors.entry(Kind::Valid).or_default() += 1,
                        }
                    }
                    n += 1;
                    std::thread::sleep((every * n).saturating_sub(start.elapsed()));
                }
                report.elapsed = start.elapsed();
                Ok(report)
            })?;
        h.join()
            .map_err(|_| io::Error::other("injector thread panicked"))?
    }

    /// Captures, for `duration`, the whole IPv4 VRRP packets `from` sends
    /// (as an on-link attacker sees them on the group).
    pub fn capture(&self, from: Ipv4Addr, duration: Duration) -> io::Result<Vec<Vec<u8>>> {
        let netns = self.netns.clone();
        let h = std::thread::Builder::new()
            .name("baton-e2e-capture".into())
            .spawn(move || -> io::Result<Vec<Vec<u8>>> {
                enter_netns(&netns)?;
                let rx = group_listener()?;
                let deadline = Instant::now() + duration;
                let mut out = Vec::new();
                let mut buf = [0u8; 2048];
                while let Some(left) = deadline
                    .checked_duration_since(Instant::now())
                    .filter(|d| !d.is_zero())
                {
                    rx.set_read_timeout(Some(left))?;
                    match rx.recv(&mut buf) {
                        Ok(n) if n >= 20 && buf[12..16] == from.octets() => out.push(buf[..n].to_vec()),
                        Ok(_) => {}
                        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(out)
            })?;
        h.join()
            .map_err(|_| io::Error::other("capture thread panicked"))?
    }

    /// Waits (up to `timeout`) for an advert from `from` on the group, then
    /// at once sends one packet of `kind`: timed like this, a resignation in
    /// `from`'s name leaves a backup a whole advert interval minus Skew_Time
    /// to take over before `from`'s next advert. Returns when it was sent.
    pub fn right_after_advert_from(
        &self,
        from: Ipv4Addr,
        kind: Kind,
        timeout: Duration,
    ) -> io::Result<Instant> {
        let netns = self.netns.clone();
        let t = self.template.clone();
        let h = std::thread::Builder::new()
            .name("baton-e2e-inject".into())
            .spawn(move || -> io::Result<Instant> {
                enter_netns(&netns)?;
                let rx = group_listener()?;
                let tx = open_socket()?;
                let pkt = build(&t, kind);
                let addr = SockAddr::from(SocketAddr::V4(SocketAddrV4::new(MCAST_V4, 0)));
                let deadline = Instant::now() + timeout;
                let mut buf = [0u8; 2048];
                loop {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no advert from {from}"),
                        ));
                    }
                    rx.set_read_timeout(Some(left))?;
                    let n = match rx.recv(&mut buf) {
                        Ok(n) => n,
                        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    // The whole IPv4 packet: the source is at bytes 12..16.
                    if n >= 20 && buf[12..16] == from.octets() {
                        break;
                    }
                }
                tx.send_to(&pkt, &addr)?;
                Ok(Instant::now())
            })?;
        h.join()
            .map_err(|_| io::Error::other("injector thread panicked"))?
    }

    /// Sends packet `next(i)` for i = 0, 1, ... until it returns None or
    /// `duration` has passed, paced at `rate` per second (catching up in
    /// batches when the sleep overshoots).
    fn run(
        &self,
        next: impl FnMut(u64) -> Option<Kind> + Send + 'static,
        rate: u64,
        duration: Option<Duration>,
    ) -> io::Result<InjectReport> {
        let netns = self.netns.clone();
        let t = self.template.clone();
        let rate = rate.max(1);
        let h = std::thread::Builder::new()
            .name("baton-e2e-inject".into())
            .spawn(move || -> io::Result<InjectReport> {
                enter_netns(&netns)?;
                send_paced(&t, next, rate, duration)
            })?;
        h.join()
            .map_err(|_| io::Error::other("injector thread panicked"))?
    }
}

/// A raw VRRP socket on eth0 that has joined the group: every advert on
/// the LAN, whole IPv4 packets. (A raw socket is a datagram socket: std's
/// UdpSocket reads it as it is.)
fn group_listener() -> io::Result<std::net::UdpSocket> {
    let rx = Socket::new(
        Domain::IPV4,
        Type::RAW,
        Some(Protocol::from(i32::from(IPPROTO_VRRP))),
    )?;
    rx.bind_device(Some(b"eth0"))?;
    let index = nix::net::if_::if_nametoindex("eth0").map_err(io::Error::from)?;
    rx.join_multicast_v4_n(&MCAST_V4, &socket2::InterfaceIndexOrAddress::Index(index))?;
    Ok(std::net::UdpSocket::from(rx))
}

fn open_socket() -> io::Result<Socket> {
    let s = Socket::new(
        Domain::IPV4,
        Type::RAW,
        Some(Protocol::from(i32::from(IPPROTO_VRRP))),
    )?;
    s.set_header_included_v4(true)?;
    s.bind_device(Some(b"eth0"))?;
    s.set_multicast_loop_v4(false)?;
    Ok(s)
}

fn send_paced(
    t: &Template,
    mut next: impl FnMut(u64) -> Option<Kind>,
    rate: u64,
    duration: Option<Duration>,
) -> io::Result<InjectReport> {
    let sock = open_socket()?;
    // The multicast interface: eth0 (the socket is bound to it; this makes
    // the route lookup agree).
    let addr = SockAddr::from(SocketAddr::V4(SocketAddrV4::new(MCAST_V4, 0)));
    let mut cache: BTreeMap<Kind, Vec<u8>> = BTreeMap::new();
    let mut report = InjectReport::default();
    let start = Instant::now();
    let mut i: u64 = 0;
    'outer: loop {
        let elapsed = start.elapsed();
        if duration.is_some_and(|d| elapsed >= d) {
            break;
        }
        // Packets due by now.
        let due = (elapsed.as_secs_f64() * rate as f64) as u64 + 1;
        while i < due {
            let Some(kind) = next(i) else { break 'outer };
            let pkt = cache.entry(kind).or_insert_with(|| build(t, kind));
            match sock.send_to(pkt, &addr) {
                Ok(_) => *report.sent.entry(kind).or_default() += 1,
                Err(_) => *report.errors.entry(kind).or_default() += 1,
            }
            i += 1;
        }
        let next_at = Duration::from_secs_f64(i as f64 / rate as f64);
        let now = start.elapsed();
        if next_at > now {
            std::thread::sleep((next_at - now).min(Duration::from_millis(5)));
        }
    }
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Kernel-side receive drops (socket buffer full) of every raw IPv4 VRRP
/// socket in `host`, summed: the last column of `/proc/net/raw` for
/// protocol 112 ("local_address" port 0x70). None if it cannot be read.
pub fn raw_socket_drops(lab: &Lab, host: &str) -> Option<u64> {
    let out = lab.exec(host, &["cat", "/proc/net/raw"]).ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut sum = 0;
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode ref pointer drops
        let Some(local) = cols.get(1) else { continue };
        if local.ends_with(":0070")
            && let Some(d) = cols.last().and_then(|d| d.parse::<u64>().ok())
        {
            sum += d;
        }
    }
    Some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_vrrp::DropReason;
    use baton_vrrp::wire::{ParseOptions, RxMeta, parse_ip_packet};

    fn t2() -> Template {
        Template::v2(
            50,
            "1111",
            1,
            &[Ipv4Addr::new(192, 0, 2, 100)],
            Ipv4Addr::new(192, 0, 2, 200),
        )
    }

    fn t3() -> Template {
        Template::v3(
            50,
            10,
            &[Ipv4Addr::new(192, 0, 2, 100)],
            Ipv4Addr::new(192, 0, 2, 200),
        )
    }

    /// What the wire codec (no instance) says about a built packet.
    fn codec(pkt: &[u8]) -> Result<(RxMeta, Advert), DropReason> {
        parse_ip_packet(pkt, &ParseOptions::default())
    }

    #[test]
    fn valid_is_a_priority_zero_advert() {
        for t in [t2(), t3()] {
            let (meta, a) = codec(&build(&t, Kind::Valid)).expect("valid");
            assert_eq!(meta.ttl, 255);
            assert_eq!(meta.src, IpAddr::V4(t.src));
            assert_eq!(a.priority, 0);
            assert_eq!(a.vrid, 50);
            assert_eq!(a.version, t.version);
        }
        let (_, a) = codec(&build(&t2(), Kind::Valid)).expect("valid");
        assert_eq!(&a.auth_data[..4], b"1111");
        assert_eq!(a.auth_type, AUTH_PASS);
    }

    #[test]
    fn each_malformed_kind_fails_the_codec_or_the_instance_for_its_reason() {
        for t in [t2(), t3()] {
            for kind in Kind::malformed_for(t.version) {
                let pkt = build(&t, kind);
                // Checksums of the IP header are always right.
                assert_eq!(wire::internet_checksum(&pkt[..20]), 0, "{kind:?}");
                let (_, reason) = kind.baton_drop().expect("malformed");
                match codec(&pkt) {
                    Err(r) => assert_eq!(r.as_str(), reason, "{kind:?} v{}", t.version.number()),
                    // Instance-level checks: the codec lets them by.
                    Ok((_, a)) => match kind {
                        Kind::WrongAuth => assert_eq!(&a.auth_data[..4], b"9999"),
                        Kind::WrongVersion => assert_ne!(a.version, t.version),
                        _ => panic!("{kind:?} v{} passed the codec: {a:?}", t.version.number()),
                    },
                }
            }
            let (_, a) = codec(&build(&t, Kind::UnknownVrid)).expect("unknown vrid is well formed");
            assert_eq!(a.vrid, 150);
            assert_eq!(codec(&build(&t, Kind::Runt)).unwrap_err(), DropReason::Truncated);
        }
    }
}
