//! VRRP wire parsers: `wire::parse` (the VRRP payload, given what the IP
//! layer says), `Ipv4Header::parse`, `Ipv6Header::parse` and
//! `parse_ip_packet`. None may panic, whatever the bytes. What parses must
//! survive a round trip: emitting the advert (or header) and parsing that
//! gives the same value back.
//!
//! Input layout: byte 0 picks the mode and the receive side's options,
//! byte 1 is the TTL when bit 3 says so; then, when bit 7 says so, the
//! source and destination addresses (4 or 16 bytes each); the rest is the
//! packet. Bit 6 patches the checksums (and the IP length fields) so that
//! random bytes get past them to the checks behind.
//!
//! byte 0: bits 0-1 mode (0 payload, 1 IPv4 packet, 2 IPv6 packet,
//! 3 either through parse_ip_packet), bit 2 IPv6, bit 3 TTL from byte 1,
//! bit 4 destination of the other family, bit 5 v3 IPv4 checksum without
//! pseudo-header, bit 6 fix checksums, bit 7 addresses from the input.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use baton_vrrp::wire::{
    self, Advert, IPPROTO_VRRP, Ipv4Header, Ipv6Header, MCAST_V4, MCAST_V6, ParseOptions, RxMeta, V3Checksum,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Some((&ttl_byte, mut rest)) = rest.split_first() else {
        return;
    };
    let v6 = sel & 0x04 != 0;
    let ttl = if sel & 0x08 != 0 { ttl_byte } else { wire::VRRP_TTL };
    let opts = ParseOptions {
        v3_ipv4_checksum: if sel & 0x20 != 0 {
            V3Checksum::NoPseudoHeader
        } else {
            V3Checksum::PseudoHeader
        },
        // The TTL byte's low bit, when it is no TTL: a trailer may follow.
        hmac_trailer: sel & 0x08 == 0 && ttl_byte & 0x01 != 0,
    };
    let fix = sel & 0x40 != 0;
    let (mut src, mut dst) = if v6 {
        (IpAddr::V6("fe80::1".parse().unwrap()), IpAddr::V6(MCAST_V6))
    } else {
        (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), IpAddr::V4(MCAST_V4))
    };
    if sel & 0x80 != 0 {
        let n = if v6 { 16 } else { 4 };
        if rest.len() < 2 * n {
            return;
        }
        src = addr(&rest[..n]);
        dst = addr(&rest[n..2 * n]);
        rest = &rest[2 * n..];
    }
    if sel & 0x10 != 0 {
        dst = match dst {
            IpAddr::V4(a) => IpAddr::V6(a.to_ipv6_mapped()),
            IpAddr::V6(a) => IpAddr::V4(a.to_ipv4_mapped().unwrap_or(MCAST_V4)),
        };
    }
    let mut packet = rest.to_vec();
    match sel & 0x03 {
        0 => {
            if fix {
                fix_vrrp_checksum(&mut packet, src, dst, opts);
            }
            let meta = RxMeta { src, dst, ttl };
            if let Ok(advert) = wire::parse(&packet, &meta, &opts) {
                round_trip(&advert, &meta, &opts);
            }
        }
        1 => {
            if fix {
                fix_ipv4(&mut packet, opts);
            }
            if let Ok((h, payload)) = Ipv4Header::parse(&packet) {
                assert!(payload.len() <= packet.len());
                let mut again = Vec::new();
                h.emit(payload.len(), &mut again);
                again.extend_from_slice(payload);
                let (h2, p2) = Ipv4Header::parse(&again).expect("an emitted IPv4 header parses");
                assert_eq!((h2, p2), (h, payload));
            }
            ip_packet(&packet, &opts);
        }
        2 => {
            if fix {
                fix_ipv6(&mut packet);
            }
            if let Ok((h, payload)) = Ipv6Header::parse(&packet) {
                let mut again = Vec::new();
                h.emit(payload.len(), &mut again);
                again.extend_from_slice(payload);
                let (h2, p2) = Ipv6Header::parse(&again).expect("an emitted IPv6 header parses");
                assert_eq!((h2, p2), (h, payload));
            }
            ip_packet(&packet, &opts);
        }
        _ => {
            if fix {
                match packet.first().map(|b| b >> 4) {
                    Some(4) => fix_ipv4(&mut packet, opts),
                    Some(6) => fix_ipv6(&mut packet),
                    _ => {}
                }
            }
            ip_packet(&packet, &opts);
        }
    }
});

fn addr(b: &[u8]) -> IpAddr {
    match b.len() {
        4 => IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
        _ => {
            let mut o = [0u8; 16];
            o.copy_from_slice(b);
            IpAddr::V6(Ipv6Addr::from(o))
        }
    }
}

fn ip_packet(packet: &[u8], opts: &ParseOptions) {
    if let Ok((meta, advert)) = wire::parse_ip_packet(packet, opts) {
        round_trip(&advert, &meta, opts);
    }
}

/// An advert that parsed is one that can be written, and reads back the same.
fn round_trip(advert: &Advert, meta: &RxMeta, opts: &ParseOptions) {
    assert!(!advert.addrs.is_empty());
    let bytes = advert
        .emit(meta.src, meta.dst, opts.v3_ipv4_checksum)
        .expect("a parsed advert can be emitted");
    assert_eq!(bytes.len(), advert.payload_len());
    assert_eq!(wire::parse(&bytes, meta, opts).as_ref(), Ok(advert));
}

/// RFC 1071 sum (not folded to 16 bits until the end).
fn sum(acc: &mut u32, bytes: &[u8]) {
    for c in bytes.chunks(2) {
        *acc += u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0));
        *acc = (*acc & 0xffff) + (*acc >> 16);
    }
}

fn finish(mut acc: u32) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Writes the VRRP checksum the receiver expects into bytes 6..8.
fn fix_vrrp_checksum(p: &mut [u8], src: IpAddr, dst: IpAddr, opts: ParseOptions) {
    if p.len() < 8 {
        return;
    }
    p[6] = 0;
    p[7] = 0;
    let v3 = p[0] >> 4 == 3;
    let mut acc = 0u32;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) if v3 && opts.v3_ipv4_checksum == V3Checksum::PseudoHeader => {
            sum(&mut acc, &s.octets());
            sum(&mut acc, &d.octets());
            sum(&mut acc, &[0, IPPROTO_VRRP]);
            sum(&mut acc, &(p.len() as u16).to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) if v3 => {
            sum(&mut acc, &s.octets());
            sum(&mut acc, &d.octets());
            sum(&mut acc, &(p.len() as u32).to_be_bytes());
            sum(&mut acc, &[0, 0, 0, IPPROTO_VRRP]);
        }
        _ => {}
    }
    sum(&mut acc, p);
    let c = finish(acc);
    p[6..8].copy_from_slice(&c.to_be_bytes());
}

/// Sets version 4, a sane IHL, total length, protocol VRRP and the header
/// checksum; then the VRRP checksum of the payload.
fn fix_ipv4(p: &mut [u8], opts: ParseOptions) {
    if p.len() < 20 {
        return;
    }
    let mut ihl = usize::from(p[0] & 0x0f) * 4;
    if ihl < 20 || ihl > p.len() {
        ihl = 20;
    }
    p[0] = 0x40 | (ihl / 4) as u8;
    let total = p.len().min(0xffff);
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[9] = IPPROTO_VRRP;
    p[10] = 0;
    p[11] = 0;
    let mut acc = 0;
    sum(&mut acc, &p[..ihl]);
    let c = finish(acc);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    let src = IpAddr::V4(Ipv4Addr::new(p[12], p[13], p[14], p[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(p[16], p[17], p[18], p[19]));
    fix_vrrp_checksum(&mut p[ihl..total], src, dst, opts);
}

/// Sets version 6, the payload length and next header VRRP; then the VRRP
/// checksum of the payload.
fn fix_ipv6(p: &mut [u8]) {
    if p.len() < 40 {
        return;
    }
    p[0] = 0x60 | (p[0] & 0x0f);
    let plen = (p.len() - 40).min(0xffff);
    p[4..6].copy_from_slice(&(plen as u16).to_be_bytes());
    p[6] = IPPROTO_VRRP;
    let s = addr(&p[8..24]);
    let d = addr(&p[24..40]);
    fix_vrrp_checksum(&mut p[40..40 + plen], s, d, ParseOptions::default());
}
