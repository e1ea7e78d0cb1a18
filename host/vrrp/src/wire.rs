//! VRRP wire format: VRRPv2 (RFC 3768 §5) and VRRPv3 (RFC 9568 §5), IPv4 and IPv6.
//!
//! [`Advert`] is the semantic form of one advertisement. [`parse`] turns the VRRP
//! payload of a received IP packet into an `Advert` or a [`DropReason`]; it never
//! panics, whatever the input. [`Advert::emit`] writes the payload back, checksum
//! included. The IPv4/IPv6 header helpers exist for raw sockets that hand over (or
//! want) the whole IP packet, and for captured packets in tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::DropReason;
use crate::auth::{Hmac, HmacState, Msg, TRAILER_LEN, Trailer};

/// IP protocol number of VRRP (RFC 9568 §5.1.1.3, §5.1.2.3).
pub const IPPROTO_VRRP: u8 = 112;
/// IPv4 multicast group for VRRP adverts (RFC 9568 §5.1.1.2).
pub const MCAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// IPv6 multicast group for VRRP adverts (RFC 9568 §5.1.2.2).
pub const MCAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// TTL / hop limit every advert is sent with and must arrive with (§5.1.1.3).
pub const VRRP_TTL: u8 = 255;
/// VRRP packet type: the only one defined (§5.2.2).
pub const TYPE_ADVERT: u8 = 1;
/// v2 authentication type for the simple text password (RFC 2338 §5.3.6.1, used by keepalived's `auth_type PASS`).
pub const AUTH_PASS: u8 = 1;
/// v2 authentication type for no authentication.
pub const AUTH_NONE: u8 = 0;
/// Length of the v2 authentication data that trails every v2 advert (RFC 3768 §5.3.10).
pub const AUTH_DATA_LEN: usize = 8;
/// Fixed header length of both versions.
pub const HEADER_LEN: usize = 8;
/// v3 carries a 12-bit Max Adver Int in centiseconds (§5.2.7).
pub const V3_MAX_INTERVAL_CS: u16 = 0x0fff;

/// Protocol version of an advert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    V2,
    V3,
}

impl Version {
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// Address family of a virtual router; also the family of its adverts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    pub fn addr_len(self) -> usize {
        match self {
            Family::V4 => 4,
            Family::V6 => 16,
        }
    }

    /// The group adverts are sent to.
    pub fn multicast_group(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(MCAST_V4),
            Family::V6 => IpAddr::V6(MCAST_V6),
        }
    }
}

/// How the v3 checksum treats IPv4. RFC 9568 §5.2.8 includes the IPv4
/// pseudo-header, as keepalived does by default; some older peers leave it out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum V3Checksum {
    #[default]
    PseudoHeader,
    /// The VRRP message alone (keepalived's `vrrp_checksum_compatibility`, old
    /// implementations that followed an early reading of RFC 5798).
    NoPseudoHeader,
}

/// Options of the receiving side that change what a valid packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseOptions {
    pub v3_ipv4_checksum: V3Checksum,
    /// An HMAC trailer ([`crate::auth`]) may follow the message: it is
    /// found by length alone, so only instances with a key look for one.
    pub hmac_trailer: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            v3_ipv4_checksum: V3Checksum::PseudoHeader,
            hmac_trailer: false,
        }
    }
}

/// A parsed payload: the advert, and its HMAC trailer if one followed the
/// message's first `msg_len` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub advert: Advert,
    pub trailer: Option<Trailer>,
    pub msg_len: usize,
}

/// What the IP layer tells about a received VRRP payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxMeta {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
}

/// One VRRP advertisement, either version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Advert {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// v2: Adver Int in seconds (8 bits). v3: Max Adver Int in centiseconds (12 bits).
    pub interval: u16,
    /// v2 only: Auth Type. Zero for v3.
    pub auth_type: u8,
    /// v2 only: the 8 octets of Authentication Data. Zero for v3.
    pub auth_data: [u8; AUTH_DATA_LEN],
    /// Virtual addresses, all of one family. At least one.
    pub addrs: Vec<IpAddr>,
}

/// Why an [`Advert`] cannot be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmitError {
    NoAddresses,
    TooManyAddresses(usize),
    MixedFamilies,
    /// Source or destination is not of the advert's family.
    WrongFamily,
    IntervalOutOfRange {
        version: Version,
        interval: u16,
    },
    /// The HMAC settings name no signing key.
    NoKey,
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmitError::NoAddresses => write!(f, "an advert needs at least one address"),
            EmitError::TooManyAddresses(n) => write!(f, "{n} addresses do not fit one advert (at most 255)"),
            EmitError::MixedFamilies => write!(f, "IPv4 and IPv6 addresses mixed in one advert"),
            EmitError::WrongFamily => write!(f, "source/destination family differs from the addresses'"),
            EmitError::IntervalOutOfRange { version, interval } => {
                write!(
                    f,
                    "interval {interval} out of range for VRRPv{}",
                    version.number()
                )
            }
            EmitError::NoKey => write!(f, "no HMAC key to sign with"),
        }
    }
}

impl std::error::Error for EmitError {}

impl Advert {
    /// Address family of the advert (of its first address; emit checks the rest).
    pub fn family(&self) -> Option<Family> {
        self.addrs.first().map(Family::of)
    }

    /// Bytes the VRRP payload takes.
    pub fn payload_len(&self) -> usize {
        let addr_len = self.family().map_or(4, Family::addr_len);
        let auth = if self.version == Version::V2 {
            AUTH_DATA_LEN
        } else {
            0
        };
        HEADER_LEN + self.addrs.len() * addr_len + auth
    }

    /// The advert interval as a duration, whatever the version.
    pub fn interval_duration(&self) -> std::time::Duration {
        match self.version {
            Version::V2 => std::time::Duration::from_secs(u64::from(self.interval)),
            Version::V3 => std::time::Duration::from_millis(u64::from(self.interval) * 10),
        }
    }

    /// Writes the VRRP payload (header, addresses, v2 auth data) with its checksum.
    /// `src`/`dst` are the IP addresses it will be sent with (v3 pseudo-header).
    pub fn emit(&self, src: IpAddr, dst: IpAddr, v3_ipv4: V3Checksum) -> Result<Vec<u8>, EmitError> {
        let mut out = self.message(src, dst)?;
        let sum = vrrp_checksum(self.version, &out, src, dst, v3_ipv4);
        out[6..8].copy_from_slice(&sum.to_be_bytes());
        Ok(out)
    }

    /// The payload with an HMAC trailer signed by `cfg`'s active key with
    /// sequence number `seq`; the checksum covers the message over IPv4,
    /// everything over IPv6.
    pub fn emit_signed(
        &self,
        src: IpAddr,
        dst: IpAddr,
        v3_ipv4: V3Checksum,
        cfg: &Hmac,
        seq: u64,
    ) -> Result<Vec<u8>, EmitError> {
        let mut out = self.message(src, dst)?;
        let msg_len = out.len();
        let m = Msg {
            version: self.version,
            vrid: self.vrid,
            src,
            bytes: &out,
        };
        let t = HmacState::trailer(cfg, &m, seq).ok_or(EmitError::NoKey)?;
        t.write(&mut out);
        let summed = match Family::of(&src) {
            Family::V4 => &out[..msg_len],
            Family::V6 => &out[..],
        };
        let sum = vrrp_checksum(self.version, summed, src, dst, v3_ipv4);
        out[6..8].copy_from_slice(&sum.to_be_bytes());
        Ok(out)
    }

    /// The message (header, addresses, v2 auth data), checksum zero.
    fn message(&self, src: IpAddr, dst: IpAddr) -> Result<Vec<u8>, EmitError> {
        let family = self.family().ok_or(EmitError::NoAddresses)?;
        if self.addrs.len() > 255 {
            return Err(EmitError::TooManyAddresses(self.addrs.len()));
        }
        if self.addrs.iter().any(|a| Family::of(a) != family) {
            return Err(EmitError::MixedFamilies);
        }
        if Family::of(&src) != family || Family::of(&dst) != family {
            return Err(EmitError::WrongFamily);
        }
        let max = match self.version {
            Version::V2 => 255,
            Version::V3 => V3_MAX_INTERVAL_CS,
        };
        if self.interval > max {
            return Err(EmitError::IntervalOutOfRange {
                version: self.version,
                interval: self.interval,
            });
        }
        let mut out = Vec::with_capacity(self.payload_len());
        out.push((self.version.number() << 4) | TYPE_ADVERT);
        out.push(self.vrid);
        out.push(self.priority);
        out.push(self.addrs.len() as u8);
        match self.version {
            Version::V2 => {
                out.push(self.auth_type);
                out.push(self.interval as u8);
            }
            Version::V3 => out.extend_from_slice(&self.interval.to_be_bytes()),
        }
        out.extend_from_slice(&[0, 0]);
        for addr in &self.addrs {
            match addr {
                IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
            }
        }
        if self.version == Version::V2 {
            out.extend_from_slice(&self.auth_data);
        }
        Ok(out)
    }
}

/// Parses the VRRP payload of a received packet (RFC 3768 §7.1, RFC 9568 §7.1:
/// the checks that need no instance). Instance checks (VRID served, auth, v2
/// interval, address list) are made by the instance.
pub fn parse(payload: &[u8], meta: &RxMeta, opts: &ParseOptions) -> Result<Advert, DropReason> {
    parse_ext(payload, meta, opts).map(|p| p.advert)
}

/// [`parse`], keeping the HMAC trailer when `opts.hmac_trailer` lets one
/// follow. Its checksum covers the message alone over IPv4 and the whole
/// payload over IPv6 (keepalived's `auth_hmac`).
pub fn parse_ext(payload: &[u8], meta: &RxMeta, opts: &ParseOptions) -> Result<Parsed, DropReason> {
    // §7.1: "MUST verify that the IP TTL is 255".
    if meta.ttl != VRRP_TTL {
        return Err(DropReason::BadTtl);
    }
    let family = Family::of(&meta.src);
    if Family::of(&meta.dst) != family {
        return Err(DropReason::BadSource);
    }
    if payload.len() < HEADER_LEN {
        return Err(DropReason::Truncated);
    }
    let version = match payload[0] >> 4 {
        2 if family == Family::V4 => Version::V2,
        3 => Version::V3,
        _ => return Err(DropReason::BadVersion),
    };
    if payload[0] & 0x0f != TYPE_ADVERT {
        return Err(DropReason::BadType);
    }
    let count = usize::from(payload[3]);
    if count == 0 {
        return Err(DropReason::BadAddressCount);
    }
    let auth_len = if version == Version::V2 { AUTH_DATA_LEN } else { 0 };
    let expected = HEADER_LEN + count * family.addr_len() + auth_len;
    if payload.len() < expected {
        // Not enough room for what the count announces: if even a header-only
        // packet of the minimum size is missing, call it truncated.
        return Err(if payload.len() < HEADER_LEN + family.addr_len() + auth_len {
            DropReason::Truncated
        } else {
            DropReason::BadAddressCount
        });
    }
    let trailer = if opts.hmac_trailer && payload.len() == expected + TRAILER_LEN {
        let mut t = [0u8; TRAILER_LEN];
        t.copy_from_slice(&payload[expected..]);
        Some(Trailer::from_bytes(&t))
    } else if payload.len() > expected {
        return Err(DropReason::BadAddressCount);
    } else {
        None
    };
    let summed = match family {
        Family::V4 => &payload[..expected],
        Family::V6 => payload,
    };
    let (interval, auth_type) = match version {
        Version::V2 => (u16::from(payload[5]), payload[4]),
        Version::V3 => (
            u16::from_be_bytes([payload[4], payload[5]]) & V3_MAX_INTERVAL_CS,
            0,
        ),
    };
    if interval == 0 {
        return Err(DropReason::BadInterval);
    }
    if vrrp_checksum(version, summed, meta.src, meta.dst, opts.v3_ipv4_checksum) != 0 {
        return Err(DropReason::BadChecksum);
    }
    let addr_bytes = &payload[HEADER_LEN..HEADER_LEN + count * family.addr_len()];
    let addrs = match family {
        Family::V4 => addr_bytes
            .chunks_exact(4)
            .map(|c| IpAddr::V4(Ipv4Addr::new(c[0], c[1], c[2], c[3])))
            .collect(),
        Family::V6 => addr_bytes
            .chunks_exact(16)
            .map(|c| {
                let mut o = [0u8; 16];
                o.copy_from_slice(c);
                IpAddr::V6(Ipv6Addr::from(o))
            })
            .collect(),
    };
    let mut auth_data = [0u8; AUTH_DATA_LEN];
    if version == Version::V2 {
        auth_data.copy_from_slice(&payload[expected - AUTH_DATA_LEN..expected]);
    }
    let advert = Advert {
        version,
        vrid: payload[1],
        priority: payload[2],
        interval,
        auth_type,
        auth_data,
        addrs,
    };
    Ok(Parsed {
        advert,
        trailer,
        msg_len: expected,
    })
}

/// The checksum a VRRP payload carries (computed with the field zeroed) or, over
/// a received payload, zero when it is right.
fn vrrp_checksum(version: Version, payload: &[u8], src: IpAddr, dst: IpAddr, v3_ipv4: V3Checksum) -> u16 {
    let mut sum = Checksum::default();
    let pseudo = match (version, src) {
        (Version::V2, _) => false,
        (Version::V3, IpAddr::V6(_)) => true,
        (Version::V3, IpAddr::V4(_)) => v3_ipv4 == V3Checksum::PseudoHeader,
    };
    if pseudo {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                sum.add(&s.octets());
                sum.add(&d.octets());
                sum.add(&[0, IPPROTO_VRRP]);
                sum.add(&(payload.len() as u16).to_be_bytes());
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                sum.add(&s.octets());
                sum.add(&d.octets());
                sum.add(&(payload.len() as u32).to_be_bytes());
                sum.add(&[0, 0, 0, IPPROTO_VRRP]);
            }
            // Families were checked by the callers; a mix has no pseudo-header.
            _ => {}
        }
    }
    sum.add(payload);
    sum.finish()
}

/// RFC 1071 Internet checksum, fed in pieces of even length (all but the last).
#[derive(Default)]
struct Checksum(u32);

impl Checksum {
    fn add(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(2);
        for c in &mut chunks {
            self.0 += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            self.0 += u32::from(*last) << 8;
        }
        // Fold early so any length fits in u32.
        self.0 = (self.0 & 0xffff) + (self.0 >> 16);
    }

    fn finish(self) -> u16 {
        let mut s = self.0;
        while s >> 16 != 0 {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }
}

/// RFC 1071 checksum of one buffer (used for the IPv4 header).
pub fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut c = Checksum::default();
    c.add(bytes);
    c.finish()
}

/// The fields of an IPv4 header that a VRRP speaker sets or checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Header {
    pub tos: u8,
    pub ident: u16,
    /// Flags and fragment offset, as on the wire.
    pub flags_frag: u16,
    pub ttl: u8,
    pub protocol: u8,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
}

impl Ipv4Header {
    /// Parses a whole IPv4 packet; returns the header and its payload.
    pub fn parse(packet: &[u8]) -> Result<(Ipv4Header, &[u8]), DropReason> {
        if packet.len() < 20 {
            return Err(DropReason::Truncated);
        }
        if packet[0] >> 4 != 4 {
            return Err(DropReason::BadIpHeader);
        }
        let ihl = usize::from(packet[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
        if ihl < 20 || total < ihl {
            return Err(DropReason::BadIpHeader);
        }
        if packet.len() < total || packet.len() < ihl {
            return Err(DropReason::Truncated);
        }
        if internet_checksum(&packet[..ihl]) != 0 {
            return Err(DropReason::BadIpHeader);
        }
        let hdr = Ipv4Header {
            tos: packet[1],
            ident: u16::from_be_bytes([packet[4], packet[5]]),
            flags_frag: u16::from_be_bytes([packet[6], packet[7]]),
            ttl: packet[8],
            protocol: packet[9],
            src: Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]),
            dst: Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]),
        };
        if hdr.protocol != IPPROTO_VRRP {
            return Err(DropReason::NotVrrp);
        }
        // Trailing bytes past total length (link padding) are not ours.
        Ok((hdr, &packet[ihl..total]))
    }

    /// Writes a 20-byte header (no options) for `payload_len` bytes of payload.
    pub fn emit(&self, payload_len: usize, out: &mut Vec<u8>) {
        let start = out.len();
        let total = (20 + payload_len) as u16;
        out.push(0x45);
        out.push(self.tos);
        out.extend_from_slice(&total.to_be_bytes());
        out.extend_from_slice(&self.ident.to_be_bytes());
        out.extend_from_slice(&self.flags_frag.to_be_bytes());
        out.push(self.ttl);
        out.push(self.protocol);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.src.octets());
        out.extend_from_slice(&self.dst.octets());
        let sum = internet_checksum(&out[start..start + 20]);
        out[start + 10..start + 12].copy_from_slice(&sum.to_be_bytes());
    }
}

/// The fields of an IPv6 header that a VRRP speaker sets or checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Header {
    pub traffic_class: u8,
    pub flow_label: u32,
    pub next_header: u8,
    pub hop_limit: u8,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
}

impl Ipv6Header {
    /// Parses a whole IPv6 packet whose next header is VRRP (extension headers
    /// are not followed: VRRP adverts carry none).
    pub fn parse(packet: &[u8]) -> Result<(Ipv6Header, &[u8]), DropReason> {
        if packet.len() < 40 {
            return Err(DropReason::Truncated);
        }
        if packet[0] >> 4 != 6 {
            return Err(DropReason::BadIpHeader);
        }
        let plen = usize::from(u16::from_be_bytes([packet[4], packet[5]]));
        if packet.len() < 40 + plen {
            return Err(DropReason::Truncated);
        }
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src.copy_from_slice(&packet[8..24]);
        dst.copy_from_slice(&packet[24..40]);
        let hdr = Ipv6Header {
            traffic_class: (packet[0] << 4) | (packet[1] >> 4),
            flow_label: u32::from_be_bytes([0, packet[1] & 0x0f, packet[2], packet[3]]),
            next_header: packet[6],
            hop_limit: packet[7],
            src: Ipv6Addr::from(src),
            dst: Ipv6Addr::from(dst),
        };
        if hdr.next_header != IPPROTO_VRRP {
            return Err(DropReason::NotVrrp);
        }
        Ok((hdr, &packet[40..40 + plen]))
    }

    pub fn emit(&self, payload_len: usize, out: &mut Vec<u8>) {
        let first = (6u32 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0x000f_ffff);
        out.extend_from_slice(&first.to_be_bytes());
        out.extend_from_slice(&(payload_len as u16).to_be_bytes());
        out.push(self.next_header);
        out.push(self.hop_limit);
        out.extend_from_slice(&self.src.octets());
        out.extend_from_slice(&self.dst.octets());
    }
}

/// Parses a whole IP packet (either family) carrying an advert: IP checks,
/// then [`parse`]. Returns the metadata and the advert.
pub fn parse_ip_packet(packet: &[u8], opts: &ParseOptions) -> Result<(RxMeta, Advert), DropReason> {
    let (meta, payload) = match packet.first().map(|b| b >> 4) {
        Some(4) => {
            let (h, p) = Ipv4Header::parse(packet)?;
            let meta = RxMeta {
                src: IpAddr::V4(h.src),
                dst: IpAddr::V4(h.dst),
                ttl: h.ttl,
            };
            (meta, p)
        }
        Some(6) => {
            let (h, p) = Ipv6Header::parse(packet)?;
            let meta = RxMeta {
                src: IpAddr::V6(h.src),
                dst: IpAddr::V6(h.dst),
                ttl: h.hop_limit,
            };
            (meta, p)
        }
        Some(_) => return Err(DropReason::BadIpHeader),
        None => return Err(DropReason::Truncated),
    };
    let advert = parse(payload, &meta, opts)?;
    Ok((meta, advert))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4]) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(a))
    }

    fn meta4() -> RxMeta {
        RxMeta {
            src: v4([192, 0, 2, 1]),
            dst: IpAddr::V4(MCAST_V4),
            ttl: 255,
        }
    }

    fn v2_advert() -> Advert {
        let mut auth_data = [0u8; 8];
        auth_data[..4].copy_from_slice(b"1111");
        Advert {
            version: Version::V2,
            vrid: 51,
            priority: 150,
            interval: 1,
            auth_type: AUTH_PASS,
            auth_data,
            addrs: vec![v4([192, 0, 2, 100]), v4([192, 0, 2, 101])],
        }
    }

    fn v3_advert6() -> Advert {
        Advert {
            version: Version::V3,
            vrid: 54,
            priority: 120,
            interval: 100,
            auth_type: 0,
            auth_data: [0; 8],
            addrs: vec!["2001:db8::100".parse().unwrap()],
        }
    }

    #[test]
    fn v2_round_trip() {
        let a = v2_advert();
        let m = meta4();
        let bytes = a.emit(m.src, m.dst, V3Checksum::default()).unwrap();
        assert_eq!(bytes.len(), 8 + 8 + 8);
        assert_eq!(parse(&bytes, &m, &ParseOptions::default()), Ok(a));
    }

    #[test]
    fn v3_ipv6_round_trip_and_pseudo_header_matters() {
        let a = v3_advert6();
        let src: IpAddr = "fe80::1".parse().unwrap();
        let dst = IpAddr::V6(MCAST_V6);
        let bytes = a.emit(src, dst, V3Checksum::default()).unwrap();
        let m = RxMeta { src, dst, ttl: 255 };
        assert_eq!(parse(&bytes, &m, &ParseOptions::default()), Ok(a));
        // The same bytes from another source fail: the pseudo-header is covered.
        let other = RxMeta {
            src: "fe80::2".parse().unwrap(),
            ..m
        };
        assert_eq!(
            parse(&bytes, &other, &ParseOptions::default()),
            Err(DropReason::BadChecksum)
        );
    }

    #[test]
    fn v3_ipv4_checksum_switch() {
        let mut a = v2_advert();
        a.version = Version::V3;
        a.interval = 100;
        a.auth_type = 0;
        a.auth_data = [0; 8];
        let m = meta4();
        let with = a.emit(m.src, m.dst, V3Checksum::PseudoHeader).unwrap();
        let without = a.emit(m.src, m.dst, V3Checksum::NoPseudoHeader).unwrap();
        assert_ne!(with, without);
        let strict = ParseOptions::default();
        let compat = ParseOptions {
            v3_ipv4_checksum: V3Checksum::NoPseudoHeader,
            ..ParseOptions::default()
        };
        assert_eq!(parse(&with, &m, &strict), Ok(a.clone()));
        assert_eq!(parse(&without, &m, &strict), Err(DropReason::BadChecksum));
        assert_eq!(parse(&without, &m, &compat), Ok(a));
    }

    #[test]
    fn rejections_have_reasons() {
        let a = v2_advert();
        let m = meta4();
        let good = a.emit(m.src, m.dst, V3Checksum::default()).unwrap();
        let o = ParseOptions::default();
        assert_eq!(
            parse(&good, &RxMeta { ttl: 254, ..m }, &o),
            Err(DropReason::BadTtl)
        );
        assert_eq!(parse(&good[..7], &m, &o), Err(DropReason::Truncated));
        assert_eq!(
            parse(&good[..good.len() - 1], &m, &o),
            Err(DropReason::BadAddressCount)
        );
        let mut long = good.clone();
        long.push(0);
        assert_eq!(parse(&long, &m, &o), Err(DropReason::BadAddressCount));
        let mut bad = good.clone();
        bad[0] = 0x41;
        assert_eq!(parse(&bad, &m, &o), Err(DropReason::BadVersion));
        bad[0] = 0x22;
        assert_eq!(parse(&bad, &m, &o), Err(DropReason::BadType));
        let mut bad = good.clone();
        bad[10] ^= 1;
        assert_eq!(parse(&bad, &m, &o), Err(DropReason::BadChecksum));
        let mut bad = good.clone();
        bad[3] = 0;
        assert_eq!(parse(&bad, &m, &o), Err(DropReason::BadAddressCount));
        // v2 over IPv6 does not exist.
        let m6 = RxMeta {
            src: "fe80::1".parse().unwrap(),
            dst: IpAddr::V6(MCAST_V6),
            ttl: 255,
        };
        assert_eq!(parse(&good, &m6, &o), Err(DropReason::BadVersion));
    }

    #[test]
    fn zero_interval_rejected() {
        let mut a = v2_advert();
        a.interval = 0;
        let m = meta4();
        let bytes = a.emit(m.src, m.dst, V3Checksum::default()).unwrap();
        assert_eq!(
            parse(&bytes, &m, &ParseOptions::default()),
            Err(DropReason::BadInterval)
        );
    }

    #[test]
    fn emit_refuses_bad_adverts() {
        let m = meta4();
        let mut a = v2_advert();
        a.addrs.clear();
        assert_eq!(
            a.emit(m.src, m.dst, V3Checksum::default()),
            Err(EmitError::NoAddresses)
        );
        let mut a = v2_advert();
        a.addrs.push("2001:db8::1".parse().unwrap());
        assert_eq!(
            a.emit(m.src, m.dst, V3Checksum::default()),
            Err(EmitError::MixedFamilies)
        );
        let mut a = v3_advert6();
        a.interval = 4096;
        let s: IpAddr = "fe80::1".parse().unwrap();
        assert!(matches!(
            a.emit(s, IpAddr::V6(MCAST_V6), V3Checksum::default()),
            Err(EmitError::IntervalOutOfRange { .. })
        ));
    }

    #[test]
    fn ipv4_header_round_trip() {
        let a = v2_advert();
        let m = meta4();
        let payload = a.emit(m.src, m.dst, V3Checksum::default()).unwrap();
        let h = Ipv4Header {
            tos: 0xc0,
            ident: 0x1234,
            flags_frag: 0,
            ttl: 255,
            protocol: IPPROTO_VRRP,
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: MCAST_V4,
        };
        let mut pkt = Vec::new();
        h.emit(payload.len(), &mut pkt);
        pkt.extend_from_slice(&payload);
        let (h2, p2) = Ipv4Header::parse(&pkt).unwrap();
        assert_eq!(h2, h);
        assert_eq!(p2, &payload[..]);
        let (meta, adv) = parse_ip_packet(&pkt, &ParseOptions::default()).unwrap();
        assert_eq!(meta, m);
        assert_eq!(adv, a);
    }
}
