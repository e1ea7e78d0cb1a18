//! The HMAC trailer against test vectors made independently
//! (scripts/hmac-vectors.py, Python's hmac/hashlib) and against the two
//! wire images of keepalived's own test (test/auth_hmac_test.c, "the draft
//! appendix images"): Baton signs each advert to the same bytes, parses the
//! trailer back, verifies it, and refuses it altered or replayed.

use std::net::IpAddr;

use baton_vrrp::auth::{HmacState, Msg, clock_seq};
use baton_vrrp::wire::{self, ParseOptions, RxMeta};
use baton_vrrp::{Advert, AntiReplay, DropReason, Hmac, HmacKey, HmacMode, V3Checksum, Version};
use serde_json::Value;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn vectors() -> Vec<Value> {
    let text = include_str!("data/hmac-vectors.json");
    let doc: Value = serde_json::from_str(text).expect("json");
    doc["vectors"].as_array().expect("vectors").clone()
}

struct Case {
    name: String,
    advert: Advert,
    src: IpAddr,
    dst: IpAddr,
    checksum: V3Checksum,
    hmac: Hmac,
    seq: u64,
    payload: Vec<u8>,
    tag: Vec<u8>,
}

fn case(v: &Value) -> Case {
    let i = &v["inputs"];
    let version = match i["vrrp_version"].as_u64() {
        Some(2) => Version::V2,
        _ => Version::V3,
    };
    let addr = |x: &Value| x.as_str().unwrap().parse::<IpAddr>().unwrap();
    let keys: Vec<HmacKey> = i["keys"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, k)| HmacKey::from_hex(id.parse().unwrap(), k.as_str().unwrap()).unwrap())
        .collect();
    let hmac = Hmac {
        keys,
        active: i["key_id"].as_u64().unwrap() as u8,
        mode: HmacMode::Enforce,
        anti_replay: AntiReplay::Time,
        window: 5,
    };
    hmac.validate().unwrap();
    Case {
        name: v["name"].as_str().unwrap().to_string(),
        advert: Advert {
            version,
            vrid: i["vrid"].as_u64().unwrap() as u8,
            priority: i["priority"].as_u64().unwrap() as u8,
            interval: i["interval"].as_u64().unwrap() as u16,
            auth_type: 0,
            auth_data: [0; 8],
            addrs: i["vips"].as_array().unwrap().iter().map(addr).collect(),
        },
        src: addr(&i["src"]),
        dst: addr(&i["dst"]),
        checksum: match i["v3_ipv4_checksum"].as_str() {
            Some("no_pseudo_header") => V3Checksum::NoPseudoHeader,
            _ => V3Checksum::PseudoHeader,
        },
        hmac,
        seq: u64::from_str_radix(i["seq_hex"].as_str().unwrap(), 16).unwrap(),
        payload: hex(v["payload_hex"].as_str().unwrap()),
        tag: hex(v["hmac_hex"].as_str().unwrap()),
    }
}

/// The receiver's clock: the sequence number's own second.
fn unix_ns(seq: u64) -> u64 {
    (seq >> 32) * 1_000_000_000
}

#[test]
fn baton_signs_every_vector_to_the_same_bytes() {
    let all = vectors();
    assert_eq!(all.len(), 8, "six of ours and keepalived's two");
    for v in &all {
        let c = case(v);
        let out = c
            .advert
            .emit_signed(c.src, c.dst, c.checksum, &c.hmac, c.seq)
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(hex_of(&out), hex_of(&c.payload), "{}", c.name);
    }
}

#[test]
fn every_vector_parses_verifies_and_is_refused_altered_or_replayed() {
    for v in &vectors() {
        let c = case(v);
        let meta = RxMeta {
            src: c.src,
            dst: c.dst,
            ttl: 255,
        };
        let opts = ParseOptions {
            v3_ipv4_checksum: c.checksum,
            hmac_trailer: true,
        };
        let p = wire::parse_ext(&c.payload, &meta, &opts).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(p.advert, c.advert, "{}", c.name);
        let t = p.trailer.expect("trailer");
        assert_eq!(t.tag.to_vec(), c.tag, "{}", c.name);
        assert_eq!(t.seq, c.seq);
        let msg = &c.payload[..p.msg_len];
        let now = unix_ns(c.seq);
        let mut rx = HmacState::default();
        let m = |src: IpAddr, bytes| Msg {
            version: c.advert.version,
            vrid: c.advert.vrid,
            src,
            bytes,
        };
        assert_eq!(
            rx.verify(&c.hmac, &m(c.src, msg), Some(&t), now),
            Ok(()),
            "{}",
            c.name
        );
        assert_eq!(
            rx.verify(&c.hmac, &m(c.src, msg), Some(&t), now),
            Err(DropReason::Replayed),
            "{}",
            c.name
        );
        // One bit of the priority flipped (checksum fixed up) no longer verifies.
        let mut altered = msg.to_vec();
        altered[2] ^= 1;
        assert_eq!(
            HmacState::default().verify(&c.hmac, &m(c.src, &altered), Some(&t), now),
            Err(DropReason::AuthBadHmac),
            "{}",
            c.name
        );
        // Nor from another source (the pseudo-header covers it).
        let other: IpAddr = match c.src {
            IpAddr::V4(_) => "192.0.2.66".parse().unwrap(),
            IpAddr::V6(_) => "fe80::66".parse().unwrap(),
        };
        assert_eq!(
            HmacState::default().verify(&c.hmac, &m(other, msg), Some(&t), now),
            Err(DropReason::AuthBadHmac),
            "{}",
            c.name
        );
    }
}

#[test]
fn without_a_key_a_trailer_is_a_bad_length_and_a_payload_cut_short_fails() {
    let c = case(&vectors()[0]);
    let meta = RxMeta {
        src: c.src,
        dst: c.dst,
        ttl: 255,
    };
    assert_eq!(
        wire::parse(&c.payload, &meta, &ParseOptions::default()),
        Err(DropReason::BadAddressCount)
    );
    // Cut one byte short, it is no trailer either.
    let opts = ParseOptions {
        hmac_trailer: true,
        ..ParseOptions::default()
    };
    let short = &c.payload[..c.payload.len() - 1];
    assert_eq!(
        wire::parse_ext(short, &meta, &opts),
        Err(DropReason::BadAddressCount)
    );
    // An unsigned advert parses with no trailer where one may follow.
    let plain = c.advert.emit(c.src, c.dst, c.checksum).unwrap();
    assert_eq!(wire::parse_ext(&plain, &meta, &opts).unwrap().trailer, None);
}

#[test]
fn the_vectors_sequence_number_is_the_sender_s_clock() {
    let v = &vectors()[0];
    let ns = v["inputs"]["sender_unix_ns"].as_u64().unwrap();
    assert_eq!(clock_seq(ns), case(v).seq);
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
