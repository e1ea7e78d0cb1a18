//! Gratuitous ARP and unsolicited neighbour advertisements: after taking a VIP,
//! tell the LAN which MAC now answers for it.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use socket2::{Domain, Protocol, Socket, Type};

use crate::arp::{ArpMessage, BROADCAST, ETH_P_ARP};
use crate::{context, sys, vrrp_socket};

/// ICMPv6 Neighbor Advertisement (RFC 4861 §4.4).
const ND_NEIGHBOR_ADVERT: u8 = 136;
const NA_FLAG_ROUTER: u8 = 0x80;
const NA_FLAG_OVERRIDE: u8 = 0x20;
/// Target Link-Layer Address option (RFC 4861 §4.6.1).
const ND_OPT_TARGET_LLADDR: u8 = 2;
/// All-nodes, where unsolicited advertisements go (RFC 4861 §7.2.6).
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// RFC 4861 §7.1.2: receivers drop neighbour discovery with another hop limit.
const ND_HOP_LIMIT: u32 = 255;

/// Sends gratuitous ARPs and unsolicited NAs over sockets opened once, on first
/// use of each family (so a host without IPv6 can still announce IPv4 VIPs).
/// Sockets are non-blocking: a full transmit queue is an error
/// (`ErrorKind::WouldBlock`), not a stall; announcements are repeated anyway.
/// Needs CAP_NET_RAW.
#[derive(Debug, Default)]
pub struct Announcer {
    /// AF_PACKET with protocol 0: sends frames, receives none.
    packet: OnceLock<Socket>,
    /// Raw ICMPv6: the kernel fills in the ICMPv6 checksum.
    icmp6: OnceLock<Socket>,
}

impl Announcer {
    pub fn new() -> Announcer {
        Announcer::default()
    }

    /// Gratuitous ARP for `vip` on interface `ifindex`: an ARP request with sender
    /// IP = target IP = `vip`, sender MAC `mac`, target MAC zero, Ethernet
    /// destination broadcast, source `mac`.
    pub fn garp(&self, ifindex: u32, mac: [u8; 6], vip: Ipv4Addr) -> io::Result<()> {
        let what = format!("sending gratuitous ARP for {vip} on interface index {ifindex}");
        let sock = get_or_open(&self.packet, || {
            // Protocol 0: this socket never receives, so no frame queues up on it.
            let s = Socket::new(Domain::PACKET, Type::RAW, None)?;
            s.set_nonblocking(true)?;
            Ok(s)
        })
        .map_err(|e| context(e, format!("{what}: socket(AF_PACKET)")))?;
        let frame = garp_frame(mac, vip);
        let addr = sys::link_sockaddr(ifindex, ETH_P_ARP, BROADCAST);
        let n = sock.send_to(&frame, &addr).map_err(|e| context(e, &what))?;
        check_len(n, frame.len(), &what)
    }

    /// Unsolicited Neighbor Advertisement for `vip` to ff02::1 on `ifindex`, from
    /// `src` (the interface's link-local), hop limit 255, Override set, Router set
    /// when `router`, with a Target Link-Layer Address option of `mac`.
    pub fn na(
        &self,
        ifindex: u32,
        src: Ipv6Addr,
        mac: [u8; 6],
        vip: Ipv6Addr,
        router: bool,
    ) -> io::Result<()> {
        let what = format!("sending unsolicited NA for {vip} on interface index {ifindex}");
        let sock = get_or_open(&self.icmp6, || {
            let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
            s.set_nonblocking(true)?;
            s.set_multicast_hops_v6(ND_HOP_LIMIT)?;
            s.set_unicast_hops_v6(ND_HOP_LIMIT)?;
            s.set_multicast_loop_v6(false)?;
            // It receives every ICMPv6 packet of the host and is never read:
            // keep that queue at the kernel's minimum.
            s.set_recv_buffer_size(0)?;
            Ok(s)
        })
        .map_err(|e| context(e, format!("{what}: socket(AF_INET6, SOCK_RAW, ICMPV6)")))?;
        let msg = na_message(mac, vip, router);
        let n = vrrp_socket::send_v6(sock, &msg, src, ALL_NODES, ifindex).map_err(|e| context(e, &what))?;
        check_len(n, msg.len(), &what)
    }
}

/// One gratuitous ARP with a fresh socket; see [`Announcer::garp`]. Keep an
/// [`Announcer`] to send many.
pub fn send_gratuitous_arp(ifindex: u32, mac: [u8; 6], vip: Ipv4Addr) -> io::Result<()> {
    Announcer::new().garp(ifindex, mac, vip)
}

/// One unsolicited NA with a fresh socket; see [`Announcer::na`]. Keep an
/// [`Announcer`] to send many.
pub fn send_unsolicited_na(
    ifindex: u32,
    src: Ipv6Addr,
    mac: [u8; 6],
    vip: Ipv6Addr,
    router: bool,
) -> io::Result<()> {
    Announcer::new().na(ifindex, src, mac, vip, router)
}

fn get_or_open(cell: &OnceLock<Socket>, open: impl FnOnce() -> io::Result<Socket>) -> io::Result<&Socket> {
    if let Some(s) = cell.get() {
        return Ok(s);
    }
    // Two threads may both open one; the loser's socket is closed on drop.
    let s = open()?;
    Ok(cell.get_or_init(|| s))
}

fn check_len(sent: usize, want: usize, what: &str) -> io::Result<()> {
    if sent == want {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("{what}: sent {sent} of {want} bytes"),
        ))
    }
}

/// Ethernet + ARP (RFC 826) gratuitous request, 42 bytes (the driver pads).
pub(crate) fn garp_frame(mac: [u8; 6], vip: Ipv4Addr) -> Vec<u8> {
    ArpMessage::Announcement {
        sender_mac: mac,
        ip: vip,
    }
    .frame()
    .emit()
}

/// ICMPv6 Neighbor Advertisement with checksum zero (the kernel computes it).
pub(crate) fn na_message(mac: [u8; 6], vip: Ipv6Addr, router: bool) -> Vec<u8> {
    let mut m = Vec::with_capacity(32);
    m.push(ND_NEIGHBOR_ADVERT);
    m.push(0); // code
    m.extend_from_slice(&[0, 0]); // checksum
    let flags = NA_FLAG_OVERRIDE | if router { NA_FLAG_ROUTER } else { 0 };
    m.extend_from_slice(&[flags, 0, 0, 0]);
    m.extend_from_slice(&vip.octets());
    m.push(ND_OPT_TARGET_LLADDR);
    m.push(1); // length in units of 8 octets
    m.extend_from_slice(&mac);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0, 0x5e, 0, 1, 7];

    #[test]
    fn garp_layout() {
        let f = garp_frame(MAC, Ipv4Addr::new(192, 0, 2, 100));
        assert_eq!(f.len(), 42);
        assert_eq!(&f[0..6], &BROADCAST);
        assert_eq!(&f[6..12], &MAC);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[14..22], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(&f[22..28], &MAC);
        assert_eq!(&f[28..32], &[192, 0, 2, 100]);
        assert_eq!(&f[32..38], &[0; 6]);
        assert_eq!(&f[38..42], &[192, 0, 2, 100]);
    }

    #[test]
    fn na_layout() {
        let vip: Ipv6Addr = "2001:db8::100".parse().expect("literal");
        let m = na_message(MAC, vip, false);
        assert_eq!(m.len(), 32);
        assert_eq!(&m[0..8], &[136, 0, 0, 0, 0x20, 0, 0, 0]);
        assert_eq!(&m[8..24], &vip.octets());
        assert_eq!(&m[24..26], &[2, 1]);
        assert_eq!(&m[26..32], &MAC);
        assert_eq!(na_message(MAC, vip, true)[4], 0xa0);
    }
}
