//! VrrpSocket pairs across a veth between two namespaces (root only): real
//! adverts from baton_vrrp's codec go out with the kernel-built IP header and
//! come back as metadata + payload that `wire::parse` accepts.

mod common;

use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::time::Duration;

use baton_net::{Received, VrrpSocket};
use baton_vrrp::wire::{self, AUTH_PASS, Advert, IPPROTO_VRRP, MCAST_V4, MCAST_V6, ParseOptions};
use baton_vrrp::{DropReason, Family, V3Checksum, Version};
use common::{LL_A, LL_B, Lab, MAC_A, V4_A, V4_B, capture, ip, lab, next_frame};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

fn advert(version: Version, addrs: Vec<IpAddr>) -> Advert {
    let (interval, auth_type, auth_data) = match version {
        Version::V2 => (1, AUTH_PASS, *b"secret\0\0"),
        Version::V3 => (100, 0, [0; 8]),
    };
    Advert {
        version,
        vrid: 51,
        priority: 150,
        interval,
        auth_type,
        auth_data,
        addrs,
    }
}

async fn recv(sock: &VrrpSocket) -> Received {
    tokio::time::timeout(Duration::from_secs(3), sock.recv())
        .await
        .expect("a packet within 3 s")
        .expect("a well-formed packet")
}

/// Opens A's socket on va and B's on vb (the calling thread ends in A).
fn pair(lab: &Lab, family: Family, multicast: bool) -> (VrrpSocket, VrrpSocket, u32) {
    let (src_a, src_b) = match family {
        Family::V4 => (IpAddr::V4(V4_A), IpAddr::V4(V4_B)),
        Family::V6 => (IpAddr::V6(LL_A), IpAddr::V6(LL_B)),
    };
    let va = lab.ifindex(&lab.a, "va");
    let vb = lab.ifindex(&lab.b, "vb");
    lab.enter(&lab.b);
    let b = VrrpSocket::open(vb, "vb", family, src_b, multicast).expect("open B");
    lab.enter(&lab.a);
    let a = VrrpSocket::open(va, "va", family, src_a, multicast).expect("open A");
    (a, b, vb)
}

/// A sends `adv` to `dst`; B receives it with TTL 255, A's source, `dst`, on vb,
/// and the codec accepts it as the same advert.
async fn exchange(a: &VrrpSocket, b: &VrrpSocket, vb: u32, adv: &Advert, dst: IpAddr) {
    let payload = adv.emit(a.src(), dst, V3Checksum::PseudoHeader).expect("emit");
    a.send(&payload, dst).await.expect("send");
    let r = recv(b).await;
    assert_eq!(r.meta.src, a.src());
    assert_eq!(r.meta.dst, dst);
    assert_eq!(r.meta.ttl, 255);
    assert_eq!(r.ifindex, vb);
    assert_eq!(r.payload, payload);
    let parsed = wire::parse(&r.payload, &r.meta, &ParseOptions::default()).expect("parse accepts it");
    assert_eq!(&parsed, adv);
}

#[test]
fn ipv4_multicast_adverts_v3_and_v2() {
    let Some(lab) = lab("ipv4_multicast_adverts_v3_and_v2") else {
        return;
    };
    lab.block_on(async {
        let (a, b, vb) = pair(&lab, Family::V4, true);
        let vip = IpAddr::V4("192.0.2.100".parse().expect("literal"));
        let dst = IpAddr::V4(MCAST_V4);
        exchange(&a, &b, vb, &advert(Version::V3, vec![vip]), dst).await;
        exchange(&a, &b, vb, &advert(Version::V2, vec![vip]), dst).await;
        // Multicast loop is off: A never hears itself.
        let own = tokio::time::timeout(Duration::from_millis(300), a.recv()).await;
        assert!(own.is_err(), "A received its own advert: {own:?}");
        // And the other way round.
        let va = lab.ifindex(&lab.a, "va");
        exchange(&b, &a, va, &advert(Version::V3, vec![vip]), dst).await;
    });
}

/// What the kernel put on the wire for A's adverts, seen from B: the IP header
/// carries the bound source, TTL / hop limit 255 and precedence 0xc0, and the
/// Ethernet destination is the group's multicast MAC.
#[test]
fn kernel_built_headers_on_the_wire() {
    let Some(lab) = lab("kernel_built_headers_on_the_wire") else {
        return;
    };
    lab.block_on(async {
        let cap4 = capture(&lab, 0x0800);
        let cap6 = capture(&lab, 0x86dd);
        let (a4, _b4, _) = pair(&lab, Family::V4, true);
        let (a6, _b6, _) = pair(&lab, Family::V6, true);
        let v4 = advert(Version::V3, vec!["192.0.2.100".parse().expect("literal")]);
        let v6 = advert(Version::V3, vec!["2001:db8::100".parse().expect("literal")]);
        let p4 = v4
            .emit(a4.src(), IpAddr::V4(MCAST_V4), V3Checksum::PseudoHeader)
            .expect("emit");
        let p6 = v6
            .emit(a6.src(), IpAddr::V6(MCAST_V6), V3Checksum::PseudoHeader)
            .expect("emit");
        a4.send(&p4, IpAddr::V4(MCAST_V4)).await.expect("send v4");
        a6.send(&p6, IpAddr::V6(MCAST_V6)).await.expect("send v6");

        let f = next_frame(&cap4, "IPv4 VRRP frame", |f| {
            f.len() > 34 && f[23] == IPPROTO_VRRP
        });
        assert_eq!(&f[0..6], &[0x01, 0x00, 0x5e, 0, 0, 0x12]);
        assert_eq!(&f[6..12], &MAC_A);
        let (hdr, payload) = wire::Ipv4Header::parse(&f[14..]).expect("IPv4 header");
        assert_eq!((hdr.tos, hdr.ttl, hdr.src, hdr.dst), (0xc0, 255, V4_A, MCAST_V4));
        assert_eq!(payload, &p4[..]);

        let f = next_frame(&cap6, "IPv6 VRRP frame", |f| {
            f.len() > 54 && f[20] == IPPROTO_VRRP
        });
        assert_eq!(&f[0..6], &[0x33, 0x33, 0, 0, 0, 0x12]);
        let (hdr, payload) = wire::Ipv6Header::parse(&f[14..]).expect("IPv6 header");
        assert_eq!(
            (hdr.traffic_class, hdr.hop_limit, hdr.src, hdr.dst),
            (0xc0, 255, LL_A, MCAST_V6)
        );
        assert_eq!(payload, &p6[..]);
    });
}

#[test]
fn ipv6_multicast_advert() {
    let Some(lab) = lab("ipv6_multicast_advert") else {
        return;
    };
    lab.block_on(async {
        let (a, b, vb) = pair(&lab, Family::V6, true);
        let vips = vec![
            "2001:db8::100".parse().expect("literal"),
            "fe80::100".parse().expect("literal"),
        ];
        exchange(&a, &b, vb, &advert(Version::V3, vips), IpAddr::V6(MCAST_V6)).await;
        let own = tokio::time::timeout(Duration::from_millis(300), a.recv()).await;
        assert!(own.is_err(), "A received its own advert: {own:?}");
    });
}

#[test]
fn ipv4_unicast_advert() {
    let Some(lab) = lab("ipv4_unicast_advert") else {
        return;
    };
    lab.block_on(async {
        let (a, b, vb) = pair(&lab, Family::V4, false);
        let vip = IpAddr::V4("192.0.2.100".parse().expect("literal"));
        exchange(&a, &b, vb, &advert(Version::V3, vec![vip]), IpAddr::V4(V4_B)).await;
        // The source is the one asked for, not the kernel's pick (192.0.2.1).
        ip(&["-n", &lab.a, "addr", "add", "192.0.2.50/24", "dev", "va"]);
        let va = lab.ifindex(&lab.a, "va");
        let other = VrrpSocket::open(
            va,
            "va",
            Family::V4,
            "192.0.2.50".parse().expect("literal"),
            false,
        )
        .expect("open A with another source");
        exchange(&other, &b, vb, &advert(Version::V3, vec![vip]), IpAddr::V4(V4_B)).await;
    });
}

#[test]
fn ipv6_unicast_advert() {
    let Some(lab) = lab("ipv6_unicast_advert") else {
        return;
    };
    lab.block_on(async {
        let (a, b, vb) = pair(&lab, Family::V6, false);
        let vip = "2001:db8::100".parse().expect("literal");
        exchange(&a, &b, vb, &advert(Version::V3, vec![vip]), IpAddr::V6(LL_B)).await;
        ip(&["-n", &lab.a, "addr", "add", "fe80::50/64", "dev", "va", "nodad"]);
        let va = lab.ifindex(&lab.a, "va");
        let other = VrrpSocket::open(va, "va", Family::V6, "fe80::50".parse().expect("literal"), false)
            .expect("open A with another source");
        exchange(&other, &b, vb, &advert(Version::V3, vec![vip]), IpAddr::V6(LL_B)).await;
    });
}

/// A plain raw socket in A, bound to va, sending with TTL / hop limit 1.
fn low_ttl_sender(family: Family) -> Socket {
    let domain = match family {
        Family::V4 => Domain::IPV4,
        Family::V6 => Domain::IPV6,
    };
    let s =
        Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(IPPROTO_VRRP)))).expect("raw socket");
    s.bind_device(Some(b"va")).expect("bind va");
    match family {
        Family::V4 => {
            s.set_multicast_ttl_v4(1).expect("ttl");
            s.set_ttl_v4(1).expect("ttl");
        }
        Family::V6 => {
            s.set_multicast_hops_v6(1).expect("hops");
            s.set_unicast_hops_v6(1).expect("hops");
        }
    }
    s
}

#[test]
fn ttl_1_is_reported_so_it_can_be_counted() {
    let Some(lab) = lab("ttl_1_is_reported_so_it_can_be_counted") else {
        return;
    };
    lab.block_on(async {
        let (_a, b, _vb) = pair(&lab, Family::V4, true);
        let sender = low_ttl_sender(Family::V4);
        let vip = IpAddr::V4("192.0.2.100".parse().expect("literal"));
        let dst = IpAddr::V4(MCAST_V4);
        let payload = advert(Version::V3, vec![vip])
            .emit(IpAddr::V4(V4_A), dst, V3Checksum::PseudoHeader)
            .expect("emit");
        let to = SockAddr::from(SocketAddr::new(dst, 0));
        sender.send_to(&payload, &to).expect("send");
        let r = recv(&b).await;
        assert_eq!(r.meta.ttl, 1);
        assert_eq!(r.meta.src, IpAddr::V4(V4_A));
        assert_eq!(
            wire::parse(&r.payload, &r.meta, &ParseOptions::default()),
            Err(DropReason::BadTtl)
        );
    });
}

#[test]
fn hop_limit_1_is_reported_so_it_can_be_counted() {
    let Some(lab) = lab("hop_limit_1_is_reported_so_it_can_be_counted") else {
        return;
    };
    lab.block_on(async {
        let (_a, b, _vb) = pair(&lab, Family::V6, true);
        let va = lab.ifindex(&lab.a, "va");
        let sender = low_ttl_sender(Family::V6);
        let vip = "2001:db8::100".parse().expect("literal");
        let dst = IpAddr::V6(MCAST_V6);
        let payload = advert(Version::V3, vec![vip])
            .emit(IpAddr::V6(LL_A), dst, V3Checksum::PseudoHeader)
            .expect("emit");
        let to = SockAddr::from(SocketAddrV6::new(MCAST_V6, 0, 0, va));
        sender.send_to(&payload, &to).expect("send");
        let r = recv(&b).await;
        assert_eq!(r.meta.ttl, 1);
        assert_eq!(r.meta.src, IpAddr::V6(LL_A));
        assert_eq!(r.meta.dst, dst);
        assert_eq!(
            wire::parse(&r.payload, &r.meta, &ParseOptions::default()),
            Err(DropReason::BadTtl)
        );
    });
}

#[test]
fn open_refuses_a_source_of_the_other_family() {
    // No root needed: the check comes before any socket.
    let e = VrrpSocket::open(1, "lo", Family::V6, IpAddr::V4(V4_A), true).expect_err("family mismatch");
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
}
