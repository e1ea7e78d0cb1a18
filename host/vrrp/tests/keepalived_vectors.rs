//! Adverts captured from keepalived 2.2.7 (tests/vectors/capture.sh): each must
//! parse to the fields decoded independently in vectors.toml, and re-emit to
//! the very same bytes, IP header included.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use baton_vrrp::wire::{self, Ipv4Header, Ipv6Header, ParseOptions, V3Checksum};
use baton_vrrp::{Auth, Command, Config, DropReason, Instance, Reason, State, Version};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Vectors {
    vector: Vec<Vector>,
}

#[derive(Debug, Deserialize)]
struct Vector {
    file: String,
    ip_version: u8,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    vrrp_version: u8,
    vrid: u8,
    priority: u8,
    checksum: u16,
    addresses: Vec<IpAddr>,
    vrrp_length: usize,
    auth_type: Option<u8>,
    adver_int: Option<u16>,
    max_adver_int: Option<u16>,
    auth_data_hex: Option<String>,
    v3_pseudo_header: Option<bool>,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn unhex(text: &str) -> Vec<u8> {
    let digits: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn load() -> Vec<(Vector, Vec<u8>)> {
    let text = std::fs::read_to_string(dir().join("vectors.toml")).expect("vectors.toml");
    let v: Vectors = toml::from_str(&text).expect("vectors.toml parses");
    assert!(v.vector.len() >= 6, "expected the six keepalived captures");
    v.vector
        .into_iter()
        .map(|v| {
            let bytes = unhex(&std::fs::read_to_string(dir().join(&v.file)).expect("vector file"));
            (v, bytes)
        })
        .collect()
}

#[test]
fn keepalived_packets_parse_to_the_expected_fields() {
    for (v, bytes) in load() {
        let (meta, advert) = wire::parse_ip_packet(&bytes, &ParseOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", v.file));
        let f = &v.file;
        assert_eq!(meta.src, v.src, "{f}");
        assert_eq!(meta.dst, v.dst, "{f}");
        assert_eq!(meta.ttl, v.ttl, "{f}");
        assert_eq!(advert.version.number(), v.vrrp_version, "{f}");
        assert_eq!(advert.vrid, v.vrid, "{f}");
        assert_eq!(advert.priority, v.priority, "{f}");
        assert_eq!(advert.addrs, v.addresses, "{f}");
        assert_eq!(advert.payload_len(), v.vrrp_length, "{f}");
        match advert.version {
            Version::V2 => {
                assert_eq!(Some(advert.interval), v.adver_int, "{f}");
                assert_eq!(Some(advert.auth_type), v.auth_type, "{f}");
                let hex: String = advert.auth_data.iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(Some(hex), v.auth_data_hex, "{f}");
            }
            Version::V3 => assert_eq!(Some(advert.interval), v.max_adver_int, "{f}"),
        }
    }
}

#[test]
fn keepalived_packets_re_emit_byte_identical() {
    for (v, bytes) in load() {
        let opts = ParseOptions::default();
        let (meta, advert) = wire::parse_ip_packet(&bytes, &opts).unwrap();
        let payload = advert.emit(meta.src, meta.dst, V3Checksum::PseudoHeader).unwrap();
        assert_eq!(
            u16::from_be_bytes([payload[6], payload[7]]),
            v.checksum,
            "{}",
            v.file
        );
        let mut packet = Vec::new();
        match v.ip_version {
            4 => {
                let (h, _) = Ipv4Header::parse(&bytes).unwrap();
                h.emit(payload.len(), &mut packet);
            }
            6 => {
                let (h, _) = Ipv6Header::parse(&bytes).unwrap();
                h.emit(payload.len(), &mut packet);
            }
            n => panic!("ip version {n}"),
        }
        packet.extend_from_slice(&payload);
        assert_eq!(packet, bytes, "{} re-emitted differently", v.file);
    }
}

#[test]
fn keepalived_v3_ipv4_checksum_includes_the_pseudo_header() {
    for (v, bytes) in load() {
        if v.ip_version != 4 || v.vrrp_version != 3 {
            continue;
        }
        assert_eq!(v.v3_pseudo_header, Some(true), "{}", v.file);
        let compat = ParseOptions {
            v3_ipv4_checksum: V3Checksum::NoPseudoHeader,
            ..ParseOptions::default()
        };
        assert_eq!(
            wire::parse_ip_packet(&bytes, &compat).map(|_| ()),
            Err(DropReason::BadChecksum),
            "{}: a peer that omits the pseudo-header must be told apart",
            v.file
        );
    }
}

#[test]
fn every_corruption_of_a_keepalived_packet_is_dropped_with_a_reason() {
    for (v, bytes) in load() {
        let opts = ParseOptions::default();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                // A flip in a field no check covers (IPv6 flow label / traffic
                // class, IPv4 ident) still parses to the same advert; any other
                // flip is an error or, for the TTL, BadTtl.
                if let Ok((_, a)) = wire::parse_ip_packet(&b, &opts) {
                    let (_, orig) = wire::parse_ip_packet(&bytes, &opts).unwrap();
                    assert_eq!(
                        a, orig,
                        "{} byte {i} bit {bit}: a different advert got through",
                        v.file
                    );
                }
            }
        }
        for len in 0..bytes.len() {
            assert!(
                wire::parse_ip_packet(&bytes[..len], &opts).is_err(),
                "{} cut at {len}",
                v.file
            );
        }
    }
}

/// keepalived's own priority-0 advert, fed to a Backup instance, makes it take
/// over after Skew_Time (RFC 3768 §6.4.2), and its normal advert holds it back.
#[test]
fn keepalived_adverts_drive_a_backup_instance() {
    let vectors = load();
    let get = |name: &str| {
        let (_, b) = vectors.iter().find(|(v, _)| v.file == name).expect(name);
        wire::parse_ip_packet(b, &ParseOptions::default()).unwrap()
    };
    let (meta, advert) = get("v2_ipv4_pass.hex");
    let (meta0, resign) = get("v2_ipv4_pass_prio0.hex");
    let mut cfg = Config::new(51, "192.0.2.2".parse().unwrap(), advert.addrs.clone());
    cfg.version = Version::V2;
    cfg.priority = 100;
    cfg.auth = Auth::pass("1111").unwrap();
    let mut inst = Instance::new(cfg.clone()).unwrap();
    let t0 = Instant::now();
    inst.handle_command(t0, Command::Start);
    let t1 = t0 + Duration::from_millis(500);
    inst.handle_packet(t1, meta.src, &advert)
        .expect("keepalived's advert is taken");
    assert_eq!(inst.master().map(|m| (m.addr, m.priority)), Some((meta.src, 150)));
    assert_eq!(inst.poll_timeout(), Some(t1 + inst.master_down_interval()));
    let t2 = t1 + Duration::from_millis(1000);
    inst.handle_packet(t2, meta0.src, &resign)
        .expect("keepalived's resignation is taken");
    let skew = Duration::from_micros(609_375);
    assert_eq!(inst.poll_timeout(), Some(t2 + skew));
    inst.handle_timeout(t2 + skew);
    assert_eq!(inst.state(), State::Master);
    let t = inst.last_transition().unwrap();
    assert_eq!(t.reason, Reason::MasterResigned { master: meta0.src });

    // A wrong password is refused and counted; the Backup does not move.
    let mut wrong = cfg;
    wrong.auth = Auth::pass("2222").unwrap();
    let mut inst = Instance::new(wrong).unwrap();
    inst.handle_command(t0, Command::Start);
    let before = inst.poll_timeout();
    assert_eq!(
        inst.handle_packet(t1, meta.src, &advert),
        Err(DropReason::AuthMismatch)
    );
    assert_eq!(inst.poll_timeout(), before);
    assert_eq!(inst.counters().drops.get(DropReason::AuthMismatch), 1);
    assert_eq!(inst.counters().adverts_rx, 0);
}
