//! NeighProber in namespace B, across the veth from A (root only): what Linux
//! answers to ARP probes and DAD solicitations for addresses it holds, who
//! probe() reports, and what passive receive sees.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV6};
use std::time::{Duration, Instant};

use baton_net::nd::{self, ALL_NODES};
use baton_net::{
    Announcer, ArpMessage, ArpOp, NdError, NdMessage, NeighEvent, NeighProber, NeighRecvError, SharedProber,
    VipAnswers, send_gratuitous_arp, send_unsolicited_na,
};
use common::{LL_A, LL_B, Lab, MAC_A, MAC_B, ip, lab};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// A MAC on neither side, for claims made in a third station's name.
const MAC_C: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0c];

fn v4(s: &str) -> IpAddr {
    IpAddr::V4(s.parse().expect("literal"))
}

fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse().expect("literal"))
}

fn answers(vip: IpAddr, others: &[[u8; 6]]) -> VipAnswers {
    VipAnswers {
        vip,
        others: others.to_vec(),
        unnamed: Vec::new(),
    }
}

/// A holds 192.0.2.50/24 and 2001:db8::50/64 (nodad, so not tentative).
fn a_holds_the_vips(lab: &Lab) {
    ip(&["-n", &lab.a, "addr", "add", "192.0.2.50/24", "dev", "va"]);
    ip(&[
        "-n",
        &lab.a,
        "addr",
        "add",
        "2001:db8::50/64",
        "dev",
        "va",
        "nodad",
    ]);
}

/// B's prober on vb (the calling thread ends in A).
fn prober_b(lab: &Lab) -> NeighProber {
    let vb = lab.ifindex(&lab.b, "vb");
    lab.enter(&lab.b);
    let p = NeighProber::open(vb, "vb", MAC_B).expect("open prober in B");
    lab.enter(&lab.a);
    p
}

/// The first event `want` accepts, within 3 s; others (A's own ARP traffic, ...)
/// are skipped.
async fn next_event(p: &NeighProber, what: &str, want: impl Fn(&NeighEvent) -> bool) -> NeighEvent {
    tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match p.recv().await {
                Ok(e) if want(&e) => return e,
                Ok(_) => {}
                Err(e) => panic!("receiving {what}: {e}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} within 3 s"))
}

#[test]
fn probe_reports_the_mac_that_answers_and_takes_about_wait() {
    let Some(lab) = lab("probe_reports_the_mac_that_answers_and_takes_about_wait") else {
        return;
    };
    a_holds_the_vips(&lab);
    lab.block_on(async {
        let p = prober_b(&lab);
        let vips = [v4("192.0.2.50"), v6("2001:db8::50"), v4("192.0.2.51")];
        let wait = Duration::from_millis(20);
        // More than once: the first round is not special (neighbour caches, ...).
        for round in 0..3 {
            let start = Instant::now();
            let got = p.probe(&vips, wait).await.expect("probe");
            let took = start.elapsed();
            println!("probe round {round}: took {took:?} for wait {wait:?}");
            assert_eq!(
                got,
                vec![
                    answers(vips[0], &[MAC_A]),
                    answers(vips[1], &[MAC_A]),
                    answers(vips[2], &[]),
                ],
                "round {round}"
            );
            assert!(
                took >= wait,
                "round {round}: returned after {took:?}, before {wait:?}"
            );
            assert!(
                took < wait + Duration::from_millis(15),
                "round {round}: took {took:?}"
            );
        }
    });
}

/// Probes through one SharedProber overlap: a short probe started while a
/// long one listens returns after its own wait, not the long one's, and both
/// hear A's answers for what they asked.
#[test]
fn shared_probes_overlap_and_each_hears_its_answers() {
    let Some(lab) = lab("shared_probes_overlap_and_each_hears_its_answers") else {
        return;
    };
    a_holds_the_vips(&lab);
    lab.block_on(async {
        let p = SharedProber::spawn(prober_b(&lab));
        let long_vips = [v4("192.0.2.50"), v4("192.0.2.52")];
        let short_vips = [v4("192.0.2.50"), v6("2001:db8::50"), v4("192.0.2.51")];
        let (long_wait, short_wait) = (Duration::from_millis(200), Duration::from_millis(20));
        for round in 0..3 {
            let long = {
                let p = p.clone();
                tokio::spawn(async move {
                    let start = Instant::now();
                    let got = p.probe(&long_vips, long_wait).await.expect("long probe");
                    (got, start.elapsed())
                })
            };
            tokio::time::sleep(Duration::from_millis(5)).await;
            let start = Instant::now();
            let short = p.probe(&short_vips, short_wait).await.expect("short probe");
            let short_took = start.elapsed();
            let (long, long_took) = long.await.expect("long probe task");
            println!("round {round}: short probe took {short_took:?}, long {long_took:?}");
            assert_eq!(
                short,
                vec![
                    answers(short_vips[0], &[MAC_A]),
                    answers(short_vips[1], &[MAC_A]),
                    answers(short_vips[2], &[]),
                ],
                "round {round}"
            );
            assert_eq!(
                long,
                vec![answers(long_vips[0], &[MAC_A]), answers(long_vips[1], &[])],
                "round {round}"
            );
            // Queued behind the long probe, it would take its 200 ms; the
            // slack is for a loaded 2-core CI machine (82 ms seen once).
            let slack = Duration::from_millis(100);
            assert!(
                short_took >= short_wait && short_took < short_wait + slack,
                "round {round}: the short probe took {short_took:?} (queued behind the long one?)"
            );
            assert!(
                long_took >= long_wait && long_took < long_wait + slack,
                "round {round}: the long probe took {long_took:?}"
            );
        }
    });
}

/// B's own frames (sent by it, or arriving with its MAC) are never "others",
/// addresses B holds itself answer nothing, answers for addresses not asked
/// about and frames queued before the probe are not counted.
#[test]
fn probe_is_not_fooled_by_our_own_frames() {
    let Some(lab) = lab("probe_is_not_fooled_by_our_own_frames") else {
        return;
    };
    a_holds_the_vips(&lab);
    for addr in ["192.0.2.60/24", "192.0.2.50/24"] {
        ip(&["-n", &lab.b, "addr", "add", addr, "dev", "vb"]);
    }
    for addr in ["2001:db8::60/64", "2001:db8::50/64"] {
        ip(&["-n", &lab.b, "addr", "add", addr, "dev", "vb", "nodad"]);
    }
    let va = lab.ifindex(&lab.a, "va");
    let vb = lab.ifindex(&lab.b, "vb");
    lab.block_on(async {
        let p = prober_b(&lab);
        // Sockets that live in B: an announcer, opened by a first use there, and
        // a raw ICMPv6 socket with multicast loop on, so that what it sends comes
        // back to B's own prober.
        lab.enter(&lab.b);
        let from_b = Announcer::new();
        from_b
            .garp(vb, MAC_B, Ipv4Addr::new(192, 0, 2, 60))
            .expect("garp from B");
        let looped = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).expect("raw ICMPv6 in B");
        looped.bind_device(Some(b"vb")).expect("bind vb");
        looped.set_multicast_loop_v6(true).expect("loop");
        looped.set_multicast_hops_v6(255).expect("hops");
        lab.enter(&lab.a);
        let from_a = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).expect("raw ICMPv6 in A");
        from_a.set_multicast_hops_v6(255).expect("hops");
        let send_looped = |target: Ipv6Addr, mac: [u8; 6]| {
            let na = NdMessage::Advertisement {
                target,
                router: false,
                solicited: false,
                override_: true,
                target_lladdr: Some(mac),
            }
            .emit(LL_B, ALL_NODES);
            looped
                .send_to(&na, &SockAddr::from(SocketAddrV6::new(ALL_NODES, 0, 0, vb)))
                .expect("looped NA");
        };

        // Queued before the probe: dropped, not reported.
        send_gratuitous_arp(va, MAC_C, Ipv4Addr::new(192, 0, 2, 50)).expect("stale garp");
        send_unsolicited_na(va, LL_A, MAC_C, "2001:db8::50".parse().expect("literal"), false)
            .expect("stale na");
        tokio::time::sleep(Duration::from_millis(50)).await;

        let vips = [
            v4("192.0.2.60"),
            v6("2001:db8::60"),
            v4("192.0.2.50"),
            v6("2001:db8::50"),
            v4("192.0.2.61"),
            v6("2001:db8::61"),
            v6("2001:db8::62"),
            v4("192.0.2.63"),
            v6("2001:db8::64"),
        ];
        let noise = async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let (b60, b61) = (Ipv4Addr::new(192, 0, 2, 60), Ipv4Addr::new(192, 0, 2, 61));
            let (s60, s61): (Ipv6Addr, Ipv6Addr) = (
                "2001:db8::60".parse().expect("literal"),
                "2001:db8::61".parse().expect("literal"),
            );
            // Sent by B itself: an ARP frame B sent, and an NA naming B's MAC
            // that multicast loop brings back. That loop does bring NAs to the
            // prober is shown by the one for ::62, in another station's name.
            from_b.garp(vb, MAC_B, b60).expect("garp from B");
            send_looped(s60, MAC_B);
            send_looped("2001:db8::62".parse().expect("literal"), MAC_C);
            // Sent by B in another station's name: still B's own frame.
            from_b
                .garp(vb, MAC_C, Ipv4Addr::new(192, 0, 2, 63))
                .expect("garp from B for C");
            // From A without a Target Link-Layer Address: a holder, MAC unknown.
            let bare = NdMessage::Advertisement {
                target: "2001:db8::64".parse().expect("literal"),
                router: false,
                solicited: false,
                override_: true,
                target_lladdr: None,
            }
            .emit(LL_A, ALL_NODES);
            from_a
                .send_to(&bare, &SockAddr::from(SocketAddrV6::new(ALL_NODES, 0, 0, va)))
                .expect("NA without lladdr");
            // From A, but in B's name.
            send_gratuitous_arp(va, MAC_B, b60).expect("garp with B's MAC");
            send_unsolicited_na(va, LL_A, MAC_B, s60, false).expect("na with B's MAC");
            // From A in a third station's name: these count.
            send_gratuitous_arp(va, MAC_C, b61).expect("garp for .61");
            send_unsolicited_na(va, LL_A, MAC_C, s61, false).expect("na for ::61");
            // Addresses nobody asked about.
            send_gratuitous_arp(va, MAC_C, Ipv4Addr::new(192, 0, 2, 99)).expect("garp for .99");
            send_unsolicited_na(va, LL_A, MAC_C, "2001:db8::99".parse().expect("literal"), false)
                .expect("na for ::99");
        };
        let (got, ()) = tokio::join!(p.probe(&vips, Duration::from_millis(60)), noise);
        assert_eq!(
            got.expect("probe"),
            vec![
                answers(vips[0], &[]),
                answers(vips[1], &[]),
                answers(vips[2], &[MAC_A]),
                answers(vips[3], &[MAC_A]),
                answers(vips[4], &[MAC_C]),
                answers(vips[5], &[MAC_C]),
                answers(vips[6], &[MAC_C]),
                answers(vips[7], &[]),
                VipAnswers {
                    vip: vips[8],
                    others: Vec::new(),
                    unnamed: vec![IpAddr::V6(LL_A)],
                },
            ]
        );
    });
}

/// What Linux sends, checked rather than assumed: an ARP probe for an address it
/// holds gets a unicast reply to the prober's MAC with target IP 0.0.0.0; a DAD
/// solicitation for an address it holds (not tentative) gets an advertisement to
/// all-nodes, from the address itself, Solicited clear, Override set, with its
/// MAC in the Target Link-Layer Address option.
#[test]
fn linux_answers_probes_and_dad() {
    let Some(lab) = lab("linux_answers_probes_and_dad") else {
        return;
    };
    a_holds_the_vips(&lab);
    lab.block_on(async {
        let p = prober_b(&lab);
        let vip4 = Ipv4Addr::new(192, 0, 2, 50);
        let vip6: Ipv6Addr = "2001:db8::50".parse().expect("literal");

        p.send_probe(IpAddr::V4(vip4)).await.expect("ARP probe");
        let e = next_event(&p, "reply to the ARP probe", |e| {
            matches!(e, NeighEvent::Arp { msg: ArpMessage::Reply { sender_ip, .. }, .. } if *sender_ip == vip4)
        })
        .await;
        let NeighEvent::Arp { frame, msg } = e else {
            unreachable!("matched above");
        };
        assert_eq!((frame.eth_dst, frame.eth_src, frame.op), (MAC_B, MAC_A, ArpOp::Reply));
        assert_eq!(
            msg,
            ArpMessage::Reply {
                sender_mac: MAC_A,
                sender_ip: vip4,
                target_mac: MAC_B,
                target_ip: Ipv4Addr::UNSPECIFIED
            }
        );

        p.send_probe(IpAddr::V6(vip6)).await.expect("DAD solicitation");
        let e = next_event(&p, "answer to DAD", |e| {
            matches!(e, NeighEvent::Nd { msg, .. } if msg.target() == vip6)
        })
        .await;
        let NeighEvent::Nd { meta, msg } = e else {
            unreachable!("matched above");
        };
        assert_eq!((meta.src, meta.dst, meta.hop_limit), (vip6, ALL_NODES, 255));
        assert_eq!(
            msg,
            NdMessage::Advertisement {
                target: vip6,
                router: false,
                solicited: false,
                override_: true,
                target_lladdr: Some(MAC_A)
            }
        );
    });
}

/// Passive receive: A's gratuitous ARP and unsolicited NA come out as claims
/// with A's MAC.
#[test]
fn recv_sees_gratuitous_arp_and_unsolicited_na() {
    let Some(lab) = lab("recv_sees_gratuitous_arp_and_unsolicited_na") else {
        return;
    };
    let va = lab.ifindex(&lab.a, "va");
    lab.block_on(async {
        let p = prober_b(&lab);
        let vip4 = Ipv4Addr::new(192, 0, 2, 100);
        let vip6: Ipv6Addr = "2001:db8::100".parse().expect("literal");

        send_gratuitous_arp(va, MAC_A, vip4).expect("garp");
        let e = next_event(&p, "gratuitous ARP", |e| {
            matches!(
                e,
                NeighEvent::Arp {
                    msg: ArpMessage::Announcement { .. },
                    ..
                }
            )
        })
        .await;
        let NeighEvent::Arp { frame, msg } = e else {
            unreachable!("matched above");
        };
        assert_eq!((frame.eth_dst, frame.eth_src), ([0xff; 6], MAC_A));
        assert_eq!(
            msg,
            ArpMessage::Announcement {
                sender_mac: MAC_A,
                ip: vip4
            }
        );
        assert_eq!(e.claim(), Some((IpAddr::V4(vip4), Some(MAC_A))));

        send_unsolicited_na(va, LL_A, MAC_A, vip6, true).expect("na");
        let e = next_event(
            &p,
            "unsolicited NA",
            |e| matches!(e, NeighEvent::Nd { msg, .. } if msg.target() == vip6),
        )
        .await;
        let NeighEvent::Nd { meta, msg } = e else {
            unreachable!("matched above");
        };
        assert_eq!((meta.src, meta.dst, meta.hop_limit), (LL_A, ALL_NODES, 255));
        assert_eq!(
            msg,
            NdMessage::Advertisement {
                target: vip6,
                router: true,
                solicited: false,
                override_: true,
                target_lladdr: Some(MAC_A)
            }
        );
        assert_eq!(e.claim(), Some((IpAddr::V6(vip6), Some(MAC_A))));
    });
}

/// A malformed advertisement (hop limit 64: it could have crossed a router) is
/// an error value naming the reason, and the next good one still comes.
#[test]
fn recv_reports_a_malformed_advertisement() {
    let Some(lab) = lab("recv_reports_a_malformed_advertisement") else {
        return;
    };
    let va = lab.ifindex(&lab.a, "va");
    lab.block_on(async {
        let p = prober_b(&lab);
        let vip: Ipv6Addr = "2001:db8::100".parse().expect("literal");
        let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).expect("raw ICMPv6 in A");
        s.set_multicast_hops_v6(64).expect("hops");
        let na = NdMessage::Advertisement {
            target: vip,
            router: false,
            solicited: false,
            override_: true,
            target_lladdr: Some(MAC_A),
        }
        .emit(LL_A, ALL_NODES);
        s.send_to(&na, &SockAddr::from(SocketAddrV6::new(ALL_NODES, 0, 0, va)))
            .expect("send");
        let r = tokio::time::timeout(Duration::from_secs(3), async {
            loop {
                match p.recv().await {
                    // ARP traffic of A's may come first.
                    Ok(NeighEvent::Arp { .. }) => {}
                    r => return r,
                }
            }
        })
        .await
        .expect("something within 3 s");
        assert!(
            matches!(r, Err(NeighRecvError::Nd(NdError::BadHopLimit { hop_limit: 64 }))),
            "{r:?}"
        );
        s.set_multicast_hops_v6(u32::from(nd::ND_HOP_LIMIT))
            .expect("hops");
        s.send_to(&na, &SockAddr::from(SocketAddrV6::new(ALL_NODES, 0, 0, va)))
            .expect("send");
        next_event(
            &p,
            "good NA",
            |e| matches!(e, NeighEvent::Nd { msg, .. } if msg.target() == vip),
        )
        .await;
    });
}
