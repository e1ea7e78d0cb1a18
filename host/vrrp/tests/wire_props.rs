//! Property tests of the wire codec (RFC 3768 §5, RFC 9568 §5).
//!
//! 1. Parsing never panics, whatever the bytes and metadata (VRRP payload,
//!    whole IP packets, IPv4 / IPv6 headers).
//! 2. Any valid advert emits then parses back equal (v2 IPv4, v3 IPv4 with and
//!    without the pseudo-header, v3 IPv6), as a payload and as an IP packet.
//! 3. Flipping any single bit of a valid payload is always refused: a one-bit
//!    change adds ±2^k (k < 16) to one 16-bit word, which is never 0 modulo
//!    0xffff, so the RFC 1071 one's-complement sum no longer verifies (RFC 3768
//!    §5.3.8 / RFC 9568 §5.2.8 cover the whole message, auth data and the v3
//!    reserved bits included). Earlier checks may refuse it first; either way
//!    parse must return Err.
//! 4. Any truncation of a valid payload is Truncated or BadAddressCount.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use baton_vrrp::wire::{self, IPPROTO_VRRP, Ipv4Header, Ipv6Header, VRRP_TTL};
use baton_vrrp::{Advert, DropReason, Family, ParseOptions, RxMeta, V3Checksum, Version};
use proptest::collection::vec;
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// 192.0.2.0/24.
fn v4_addr() -> impl Strategy<Value = IpAddr> + Clone {
    any::<u8>().prop_map(|b| IpAddr::V4(Ipv4Addr::new(192, 0, 2, b)))
}

/// 2001:db8::/32.
fn v6_addr() -> impl Strategy<Value = IpAddr> + Clone {
    any::<[u16; 6]>()
        .prop_map(|w| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, w[0], w[1], w[2], w[3], w[4], w[5])))
}

/// An address of either family: documentation ranges and the VRRP groups.
fn any_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        v4_addr(),
        v6_addr(),
        Just(Family::V4.multicast_group()),
        Just(Family::V6.multicast_group()),
    ]
}

/// Arbitrary metadata, biased towards what passes the early checks.
fn any_meta() -> impl Strategy<Value = RxMeta> {
    let ttl = prop_oneof![3 => Just(VRRP_TTL), 1 => any::<u8>()];
    let matched = prop_oneof![
        (v4_addr(), Just(Family::V4.multicast_group())),
        (v6_addr(), Just(Family::V6.multicast_group())),
    ];
    let pair = prop_oneof![3 => matched, 1 => (any_addr(), any_addr())];
    (pair, ttl).prop_map(|((src, dst), ttl)| RxMeta { src, dst, ttl })
}

fn any_checksum_mode() -> impl Strategy<Value = V3Checksum> {
    prop_oneof![Just(V3Checksum::PseudoHeader), Just(V3Checksum::NoPseudoHeader)]
}

fn opts(mode: V3Checksum) -> ParseOptions {
    ParseOptions {
        v3_ipv4_checksum: mode,
        ..ParseOptions::default()
    }
}

/// A valid advert with the addresses it is sent with and the checksum mode.
#[derive(Clone, Debug)]
struct Case {
    advert: Advert,
    meta: RxMeta,
    mode: V3Checksum,
}

impl Case {
    fn emit(&self) -> Vec<u8> {
        self.advert
            .emit(self.meta.src, self.meta.dst, self.mode)
            .expect("a valid advert emits")
    }

    fn parse(&self, bytes: &[u8]) -> Result<Advert, DropReason> {
        wire::parse(bytes, &self.meta, &opts(self.mode))
    }
}

fn advert_v2() -> impl Strategy<Value = (Advert, IpAddr)> {
    (
        1u8..=255,
        any::<u8>(),
        1u16..=255,
        any::<u8>(),
        any::<[u8; 8]>(),
        vec(v4_addr(), 1..=20),
        v4_addr(),
    )
        .prop_map(|(vrid, priority, interval, auth_type, auth_data, addrs, src)| {
            let advert = Advert {
                version: Version::V2,
                vrid,
                priority,
                interval,
                auth_type,
                auth_data,
                addrs,
            };
            (advert, src)
        })
}

fn advert_v3(addr: impl Strategy<Value = IpAddr> + Clone) -> impl Strategy<Value = (Advert, IpAddr)> {
    (
        1u8..=255,
        any::<u8>(),
        1u16..=0x0fff,
        vec(addr.clone(), 1..=20),
        addr,
    )
        .prop_map(|(vrid, priority, interval, addrs, src)| {
            let advert = Advert {
                version: Version::V3,
                vrid,
                priority,
                interval,
                auth_type: 0,
                auth_data: [0; 8],
                addrs,
            };
            (advert, src)
        })
}

fn valid_case() -> impl Strategy<Value = Case> {
    let advert = prop_oneof![advert_v2(), advert_v3(v4_addr()), advert_v3(v6_addr())];
    (advert, any_checksum_mode()).prop_map(|((advert, src), mode)| {
        let dst = Family::of(&src).multicast_group();
        Case {
            advert,
            meta: RxMeta {
                src,
                dst,
                ttl: VRRP_TTL,
            },
            mode,
        }
    })
}

/// The payload of a valid case, then damaged: bytes overwritten, length changed.
fn damaged_payload() -> impl Strategy<Value = (Case, Vec<u8>)> {
    (
        valid_case(),
        vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        prop_oneof![Just(None), any::<prop::sample::Index>().prop_map(Some)],
        vec(any::<u8>(), 0..4),
    )
        .prop_map(|(case, writes, cut, tail)| {
            let mut bytes = case.emit();
            for (i, b) in writes {
                let i = i.index(bytes.len());
                bytes[i] = b;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            bytes.extend_from_slice(&tail);
            (case, bytes)
        })
}

/// A whole IP packet carrying a valid case.
fn ip_packet(case: &Case) -> Vec<u8> {
    let payload = case.emit();
    let mut pkt = Vec::new();
    match (case.meta.src, case.meta.dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => Ipv4Header {
            tos: 0xc0,
            ident: 0,
            flags_frag: 0,
            ttl: case.meta.ttl,
            protocol: IPPROTO_VRRP,
            src,
            dst,
        }
        .emit(payload.len(), &mut pkt),
        (IpAddr::V6(src), IpAddr::V6(dst)) => Ipv6Header {
            traffic_class: 0xc0,
            flow_label: 0,
            next_header: IPPROTO_VRRP,
            hop_limit: case.meta.ttl,
            src,
            dst,
        }
        .emit(payload.len(), &mut pkt),
        _ => unreachable!("cases are of one family"),
    }
    pkt.extend_from_slice(&payload);
    pkt
}

/// What any successful parse must satisfy, whatever the input.
fn check_ok(advert: &Advert, meta: &RxMeta, len: usize) {
    assert_eq!(meta.ttl, VRRP_TTL, "only TTL 255 passes (§7.1)");
    assert!(!advert.addrs.is_empty() && advert.addrs.len() <= 255);
    let family = Family::of(&meta.src);
    assert!(advert.addrs.iter().all(|a| Family::of(a) == family));
    assert_ne!(advert.interval, 0);
    assert_eq!(advert.payload_len(), len, "the whole payload is the advert");
    match advert.version {
        Version::V2 => assert_eq!(family, Family::V4, "no VRRPv2 over IPv6"),
        Version::V3 => {
            assert!(advert.interval <= 0x0fff);
            assert_eq!((advert.auth_type, advert.auth_data), (0, [0; 8]));
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Never panics
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(
        bytes in vec(any::<u8>(), 0..300),
        meta in any_meta(),
        mode in any_checksum_mode(),
    ) {
        if let Ok(a) = wire::parse(&bytes, &meta, &opts(mode)) {
            check_ok(&a, &meta, bytes.len());
        }
    }

    #[test]
    fn parse_never_panics_on_plausible_headers(
        first in prop_oneof![Just(0x21u8), Just(0x31u8), any::<u8>()],
        count in any::<u8>(),
        rest in vec(any::<u8>(), 0..300),
        meta in any_meta(),
        mode in any_checksum_mode(),
    ) {
        // Version/type and count that pass the early checks, so the length,
        // interval and checksum code is reached with arbitrary content.
        let mut bytes = vec![first, 0, 0, count];
        bytes.extend_from_slice(&rest);
        if let Ok(a) = wire::parse(&bytes, &meta, &opts(mode)) {
            check_ok(&a, &meta, bytes.len());
        }
    }

    #[test]
    fn parse_never_panics_on_damaged_adverts(
        (case, bytes) in damaged_payload(),
        meta in any_meta(),
    ) {
        for m in [case.meta, meta] {
            if let Ok(a) = wire::parse(&bytes, &m, &opts(case.mode)) {
                check_ok(&a, &m, bytes.len());
            }
        }
    }

    #[test]
    fn ip_parsers_never_panic_on_arbitrary_bytes(
        first in prop_oneof![Just(0x45u8), Just(0x46u8), Just(0x4fu8), Just(0x60u8), any::<u8>()],
        rest in vec(any::<u8>(), 0..400),
        mode in any_checksum_mode(),
    ) {
        let mut pkt = vec![first];
        pkt.extend_from_slice(&rest);
        if let Ok((meta, a)) = wire::parse_ip_packet(&pkt, &opts(mode)) {
            check_ok(&a, &meta, a.payload_len());
        }
        if let Ok((h, payload)) = Ipv4Header::parse(&pkt) {
            prop_assert_eq!(h.protocol, IPPROTO_VRRP);
            prop_assert!(payload.len() < pkt.len());
        }
        if let Ok((h, payload)) = Ipv6Header::parse(&pkt) {
            prop_assert_eq!(h.next_header, IPPROTO_VRRP);
            prop_assert!(payload.len() + 40 <= pkt.len());
        }
        // Also the whole of the arbitrary tail, whatever its first byte.
        let _ = wire::parse_ip_packet(&rest, &opts(mode));
        let _ = Ipv4Header::parse(&rest);
        let _ = Ipv6Header::parse(&rest);
    }

    #[test]
    fn ip_parsers_never_panic_on_damaged_packets(
        case in valid_case(),
        writes in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut pkt = ip_packet(&case);
        for (i, b) in writes {
            let i = i.index(pkt.len());
            pkt[i] = b;
        }
        for p in [&pkt[..], &pkt[..cut.index(pkt.len() + 1)]] {
            if let Ok((meta, a)) = wire::parse_ip_packet(p, &opts(case.mode)) {
                check_ok(&a, &meta, a.payload_len());
            }
            let _ = Ipv4Header::parse(p);
            let _ = Ipv6Header::parse(p);
        }
    }
}

// ---------------------------------------------------------------------------
// 2. Round trip
// ---------------------------------------------------------------------------

proptest! {
    #[test]
    fn valid_advert_round_trips(case in valid_case()) {
        let bytes = case.emit();
        prop_assert_eq!(bytes.len(), case.advert.payload_len());
        // Version and type in the first octet, the count in the fourth.
        prop_assert_eq!(bytes[0], (case.advert.version.number() << 4) | 1);
        prop_assert_eq!(usize::from(bytes[3]), case.advert.addrs.len());
        prop_assert_eq!(case.parse(&bytes), Ok(case.advert.clone()));
    }

    #[test]
    fn valid_advert_round_trips_through_ip_packet(case in valid_case()) {
        let pkt = ip_packet(&case);
        let (meta, advert) = wire::parse_ip_packet(&pkt, &opts(case.mode))
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(meta, case.meta);
        prop_assert_eq!(advert, case.advert);
    }

    #[test]
    fn v3_ipv4_checksum_modes_disagree(case in valid_case()) {
        // RFC 9568 §5.2.8: with the IPv4 pseudo-header or without it (old
        // peers) are two different checksums; IPv6 and v2 have only one. (They
        // could only coincide if the pseudo-header summed to 0 mod 0xffff,
        // which no 192.0.2.0/24 source to 224.0.0.18 does at these lengths.)
        let other = match case.mode {
            V3Checksum::PseudoHeader => V3Checksum::NoPseudoHeader,
            V3Checksum::NoPseudoHeader => V3Checksum::PseudoHeader,
        };
        let bytes = case.emit();
        let parsed = wire::parse(&bytes, &case.meta, &opts(other));
        match (case.advert.version, case.advert.family()) {
            (Version::V3, Some(Family::V4)) => prop_assert_eq!(parsed, Err(DropReason::BadChecksum)),
            _ => prop_assert_eq!(parsed, Ok(case.advert.clone())),
        }
    }
}

// ---------------------------------------------------------------------------
// 3. Single bit flips
// ---------------------------------------------------------------------------

proptest! {
    #[test]
    fn any_single_bit_flip_is_refused(case in valid_case()) {
        let good = case.emit();
        for bit in 0..good.len() * 8 {
            let mut bad = good.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let r = case.parse(&bad);
            prop_assert!(r.is_err(), "bit {} of {:02x?} flipped still parses: {:?}", bit, good, r);
        }
    }

    #[test]
    fn bit_flip_past_the_header_fields_is_bad_checksum(case in valid_case()) {
        // VRID, priority (octets 1, 2) and octets 6.. (checksum, addresses,
        // auth data) are checked by nothing but the checksum.
        let good = case.emit();
        for byte in [1, 2].into_iter().chain(6..good.len()) {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[byte] ^= 1 << bit;
                prop_assert_eq!(case.parse(&bad), Err(DropReason::BadChecksum), "octet {} bit {}", byte, bit);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 4. Truncation
// ---------------------------------------------------------------------------

proptest! {
    #[test]
    fn any_truncation_is_truncated_or_bad_address_count(case in valid_case()) {
        let good = case.emit();
        for len in 0..good.len() {
            let r = case.parse(&good[..len]);
            prop_assert!(
                matches!(r, Err(DropReason::Truncated) | Err(DropReason::BadAddressCount)),
                "{} of {} bytes: {:?}", len, good.len(), r
            );
            if len < wire::HEADER_LEN {
                prop_assert_eq!(r, Err(DropReason::Truncated));
            }
        }
    }

    #[test]
    fn any_extension_is_bad_address_count(case in valid_case(), tail in vec(any::<u8>(), 1..32)) {
        let mut long = case.emit();
        long.extend_from_slice(&tail);
        prop_assert_eq!(case.parse(&long), Err(DropReason::BadAddressCount));
    }
}
