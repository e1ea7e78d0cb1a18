//! Gratuitous ARP and unsolicited NA sent in namespace A, captured on the veth
//! peer in B with an AF_PACKET socket, checked byte by byte (root only).

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};

use baton_net::{Announcer, send_gratuitous_arp, send_unsolicited_na};
use baton_vrrp::wire::internet_checksum;
use common::{LL_A, MAC_A, capture, lab, next_frame};

const ETH_P_ARP: u16 = 0x0806;
const ETH_P_IPV6: u16 = 0x86dd;

#[test]
fn gratuitous_arp_frame() {
    let Some(lab) = lab("gratuitous_arp_frame") else {
        return;
    };
    let va = lab.ifindex(&lab.a, "va");
    lab.block_on(async {
        let cap = capture(&lab, ETH_P_ARP);
        let vip = Ipv4Addr::new(192, 0, 2, 100);
        let is_garp = |f: &[u8]| f.len() >= 42 && f[20..22] == [0, 1] && f[28..32] == vip.octets();

        Announcer::new().garp(va, MAC_A, vip).expect("garp");
        let f = next_frame(&cap, "gratuitous ARP", is_garp);
        assert_eq!(&f[0..6], &[0xff; 6], "Ethernet broadcast");
        assert_eq!(&f[6..12], &MAC_A, "Ethernet source");
        assert_eq!(&f[12..14], &[0x08, 0x06], "EtherType ARP");
        assert_eq!(&f[14..20], &[0, 1, 0x08, 0x00, 6, 4], "Ethernet/IPv4 ARP");
        assert_eq!(&f[20..22], &[0, 1], "opcode request");
        assert_eq!(&f[22..28], &MAC_A, "sender MAC");
        assert_eq!(&f[28..32], &vip.octets(), "sender IP");
        assert_eq!(&f[32..38], &[0; 6], "target MAC");
        assert_eq!(&f[38..42], &vip.octets(), "target IP");

        // The free function sends the same.
        send_gratuitous_arp(va, MAC_A, vip).expect("garp");
        let g = next_frame(&cap, "second gratuitous ARP", is_garp);
        assert_eq!(&g[..42], &f[..42]);
    });
}

/// Checks one captured NA frame from A for `vip`.
fn check_na(f: &[u8], vip: Ipv6Addr, router: bool) {
    assert_eq!(&f[0..6], &[0x33, 0x33, 0, 0, 0, 1], "Ethernet dst of ff02::1");
    assert_eq!(&f[6..12], &MAC_A, "Ethernet source");
    let ip = &f[14..];
    assert_eq!(ip[0] >> 4, 6);
    let plen = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
    assert_eq!(plen, 32, "NA with one option");
    assert_eq!(ip[6], 58, "next header ICMPv6");
    assert_eq!(ip[7], 255, "hop limit");
    assert_eq!(&ip[8..24], &LL_A.octets(), "source is A's link-local");
    let all_nodes: Ipv6Addr = "ff02::1".parse().expect("literal");
    assert_eq!(&ip[24..40], &all_nodes.octets(), "destination all-nodes");
    let icmp = &ip[40..40 + plen];
    assert_eq!(icmp[0], 136, "type NA");
    assert_eq!(icmp[1], 0, "code");
    let flags = if router { 0xa0 } else { 0x20 };
    assert_eq!(&icmp[4..8], &[flags, 0, 0, 0], "R per request, S clear, O set");
    assert_eq!(&icmp[8..24], &vip.octets(), "target");
    assert_eq!(&icmp[24..26], &[2, 1], "Target Link-Layer Address option");
    assert_eq!(&icmp[26..32], &MAC_A);
    // The kernel's checksum verifies over the pseudo-header (RFC 8200 §8.1).
    let mut sum = Vec::new();
    sum.extend_from_slice(&ip[8..40]);
    sum.extend_from_slice(&(plen as u32).to_be_bytes());
    sum.extend_from_slice(&[0, 0, 0, 58]);
    sum.extend_from_slice(icmp);
    assert_ne!(&icmp[2..4], &[0, 0], "checksum filled in");
    assert_eq!(internet_checksum(&sum), 0, "ICMPv6 checksum");
}

#[test]
fn unsolicited_na_frame() {
    let Some(lab) = lab("unsolicited_na_frame") else {
        return;
    };
    let va = lab.ifindex(&lab.a, "va");
    lab.block_on(async {
        let cap = capture(&lab, ETH_P_IPV6);
        let vip: Ipv6Addr = "2001:db8::100".parse().expect("literal");
        let is_na = |f: &[u8]| f.len() >= 86 && f[20] == 58 && f[54] == 136 && f[62..78] == vip.octets();

        let ann = Announcer::new();
        ann.na(va, LL_A, MAC_A, vip, false).expect("na");
        check_na(&next_frame(&cap, "NA", is_na), vip, false);
        ann.na(va, LL_A, MAC_A, vip, true).expect("na as router");
        check_na(&next_frame(&cap, "NA as router", is_na), vip, true);
        send_unsolicited_na(va, LL_A, MAC_A, vip, false).expect("na");
        check_na(&next_frame(&cap, "NA from the free function", is_na), vip, false);
    });
}
