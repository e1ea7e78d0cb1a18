//! Raw IPPROTO_VRRP sockets, one per interface and family.

use std::io::{self, IoSlice, IoSliceMut, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use baton_vrrp::wire::{IPPROTO_VRRP, Ipv4Header, MCAST_V4, MCAST_V6, VRRP_TTL};
use baton_vrrp::{DropReason, Family, RxMeta};
use nix::libc;
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, SockaddrIn6, recvmsg, sendmsg, setsockopt,
    sockopt,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::{context, sys};

/// IP_TOS of adverts: precedence "internetwork control", as keepalived sends.
const TOS_INTERNETWORK_CONTROL: u32 = 0xc0;
/// Large enough for the largest advert of either family (IPv4 header with options
/// + 8 + 255 * 4 + 8 bytes; IPv6 payload 8 + 255 * 16 bytes).
const RECV_BUF: usize = 8192;

/// One received VRRP packet: what the IP layer said and the VRRP payload, ready
/// for `baton_vrrp::wire::parse`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub meta: RxMeta,
    pub payload: Vec<u8>,
    /// Interface the packet came in on.
    pub ifindex: u32,
}

/// Why [`VrrpSocket::recv`] returned no packet.
#[derive(Debug)]
pub enum RecvError {
    /// The socket failed.
    Io(io::Error),
    /// A packet came whose IP header is malformed: count it, then receive again.
    Drop(DropReason),
}

impl std::fmt::Display for RecvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecvError::Io(e) => write!(f, "receiving VRRP: {e}"),
            RecvError::Drop(r) => write!(f, "dropped malformed VRRP packet: {r:?}"),
        }
    }
}

impl std::error::Error for RecvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RecvError::Io(e) => Some(e),
            RecvError::Drop(_) => None,
        }
    }
}

impl From<io::Error> for RecvError {
    fn from(e: io::Error) -> Self {
        RecvError::Io(e)
    }
}

/// A raw IPPROTO_VRRP (112) socket for one interface and family, driven by tokio.
///
/// The source address is put on each packet with IP_PKTINFO / IPV6_PKTINFO
/// rather than with bind(): a raw IPv4 socket bound to an address receives only
/// packets sent to that address (the kernel's raw_v4_match), so it would never
/// see adverts to 224.0.0.18. The effect on the wire is the same: the
/// kernel-built IP header carries `src`, which the v3 checksum covers.
#[derive(Debug)]
pub struct VrrpSocket {
    fd: AsyncFd<Socket>,
    ifindex: u32,
    family: Family,
    src: IpAddr,
    multicast: bool,
}

impl VrrpSocket {
    /// Opens the socket on interface `ifindex` (named `ifname`) for `family`,
    /// sending from `src` (the interface's primary address, or its link-local for
    /// IPv6). It is bound to the device (SO_BINDTODEVICE), joins 224.0.0.18 /
    /// ff02::12 on that interface when `multicast`, sends with TTL / hop limit 255
    /// (unicast and multicast), multicast loop off and multicast interface =
    /// `ifindex`. IPv4 gets TOS 0xc0 and no IP_HDRINCL; IPv6 traffic class 0xc0 and
    /// IPV6_RECVHOPLIMIT / IPV6_RECVPKTINFO, so that received packets tell their
    /// hop limit and destination. Needs CAP_NET_RAW.
    pub fn open(
        ifindex: u32,
        ifname: &str,
        family: Family,
        src: IpAddr,
        multicast: bool,
    ) -> io::Result<VrrpSocket> {
        let what = format!("opening VRRP socket on {ifname} (index {ifindex}, source {src})");
        if Family::of(&src) != family {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{what}: source is not of family {family:?}"),
            ));
        }
        let sock = match family {
            Family::V4 => open_v4(ifindex, ifname, multicast),
            Family::V6 => open_v6(ifindex, ifname, multicast),
        }
        .map_err(|e| context(e, &what))?;
        let fd = sys::async_fd(sock).map_err(|e| context(e, &what))?;
        Ok(VrrpSocket {
            fd,
            ifindex,
            family,
            src,
            multicast,
        })
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    pub fn family(&self) -> Family {
        self.family
    }

    /// Whether the socket joined the VRRP group (opened with `multicast`).
    pub fn is_multicast(&self) -> bool {
        self.multicast
    }

    /// The source address packets are sent from.
    pub fn src(&self) -> IpAddr {
        self.src
    }

    /// Receives one packet. IPv4: the kernel hands over the whole IP packet, whose
    /// header gives source, destination and TTL. IPv6: the source comes from
    /// recvmsg, the destination from IPV6_PKTINFO, the hop limit from
    /// IPV6_HOPLIMIT. A malformed IP header is [`RecvError::Drop`].
    pub async fn recv(&self) -> Result<Received, RecvError> {
        match self.family {
            Family::V4 => {
                let mut buf = vec![0u8; RECV_BUF];
                let n = self
                    .fd
                    .async_io(Interest::READABLE, |mut s| s.read(&mut buf))
                    .await
                    .map_err(|e| context(e, "receiving IPv4 VRRP packet"))?;
                decode_v4(&buf[..n], self.ifindex)
            }
            Family::V6 => {
                let (meta, payload, ifindex) = self
                    .fd
                    .async_io(Interest::READABLE, recv_v6)
                    .await
                    .map_err(|e| context(e, "receiving IPv6 VRRP packet"))?;
                Ok(Received {
                    meta,
                    payload,
                    ifindex: if ifindex == 0 { self.ifindex } else { ifindex },
                })
            }
        }
    }

    /// Sends one VRRP payload (from `baton_vrrp::wire::Advert::emit`) to `dst`,
    /// a multicast group or a unicast peer of the socket's family.
    pub async fn send(&self, payload: &[u8], dst: IpAddr) -> io::Result<()> {
        let what = format!(
            "sending VRRP to {dst} from {} on interface index {}",
            self.src, self.ifindex
        );
        let n = match (self.src, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => self
                .fd
                .async_io(Interest::WRITABLE, |s| {
                    send_v4(s, payload, src, dst, self.ifindex)
                })
                .await
                .map_err(|e| context(e, &what))?,
            (IpAddr::V6(src), IpAddr::V6(dst)) => self
                .fd
                .async_io(Interest::WRITABLE, |s| {
                    send_v6(s, payload, src, dst, self.ifindex)
                })
                .await
                .map_err(|e| context(e, &what))?,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{what}: destination is not of the socket's family"),
                ));
            }
        };
        if n != payload.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("{what}: sent {n} of {} bytes", payload.len()),
            ));
        }
        Ok(())
    }
}

fn open_v4(ifindex: u32, ifname: &str, multicast: bool) -> io::Result<Socket> {
    let sock = Socket::new(
        Domain::IPV4,
        Type::RAW,
        Some(Protocol::from(i32::from(IPPROTO_VRRP))),
    )
    .map_err(|e| context(e, "socket(AF_INET, SOCK_RAW, 112)"))?;
    sock.set_nonblocking(true)?;
    sock.bind_device(Some(ifname.as_bytes()))
        .map_err(|e| context(e, "SO_BINDTODEVICE"))?;
    // Only the groups this socket joined, not every group of the host.
    sock.set_multicast_all_v4(false)
        .map_err(|e| context(e, "IP_MULTICAST_ALL"))?;
    if multicast {
        sock.join_multicast_v4_n(&MCAST_V4, &InterfaceIndexOrAddress::Index(ifindex))
            .map_err(|e| context(e, "joining 224.0.0.18"))?;
    }
    sys::set_multicast_if_v4_index(&sock, ifindex).map_err(|e| context(e, "IP_MULTICAST_IF"))?;
    sock.set_multicast_ttl_v4(u32::from(VRRP_TTL))
        .map_err(|e| context(e, "IP_MULTICAST_TTL"))?;
    sock.set_ttl_v4(u32::from(VRRP_TTL))
        .map_err(|e| context(e, "IP_TTL"))?;
    sock.set_multicast_loop_v4(false)
        .map_err(|e| context(e, "IP_MULTICAST_LOOP"))?;
    sock.set_tos_v4(TOS_INTERNETWORK_CONTROL)
        .map_err(|e| context(e, "IP_TOS"))?;
    Ok(sock)
}

fn open_v6(ifindex: u32, ifname: &str, multicast: bool) -> io::Result<Socket> {
    let sock = Socket::new(
        Domain::IPV6,
        Type::RAW,
        Some(Protocol::from(i32::from(IPPROTO_VRRP))),
    )
    .map_err(|e| context(e, "socket(AF_INET6, SOCK_RAW, 112)"))?;
    sock.set_nonblocking(true)?;
    sock.bind_device(Some(ifname.as_bytes()))
        .map_err(|e| context(e, "SO_BINDTODEVICE"))?;
    sock.set_multicast_all_v6(false)
        .map_err(|e| context(e, "IPV6_MULTICAST_ALL"))?;
    if multicast {
        sock.join_multicast_v6(&MCAST_V6, ifindex)
            .map_err(|e| context(e, "joining ff02::12"))?;
    }
    sock.set_multicast_if_v6(ifindex)
        .map_err(|e| context(e, "IPV6_MULTICAST_IF"))?;
    sock.set_multicast_hops_v6(u32::from(VRRP_TTL))
        .map_err(|e| context(e, "IPV6_MULTICAST_HOPS"))?;
    sock.set_unicast_hops_v6(u32::from(VRRP_TTL))
        .map_err(|e| context(e, "IPV6_UNICAST_HOPS"))?;
    sock.set_multicast_loop_v6(false)
        .map_err(|e| context(e, "IPV6_MULTICAST_LOOP"))?;
    sock.set_tclass_v6(TOS_INTERNETWORK_CONTROL)
        .map_err(|e| context(e, "IPV6_TCLASS"))?;
    sock.set_recv_hoplimit_v6(true)
        .map_err(|e| context(e, "IPV6_RECVHOPLIMIT"))?;
    setsockopt(&sock, sockopt::Ipv6RecvPacketInfo, &true)
        .map_err(|e| context(e.into(), "IPV6_RECVPKTINFO"))?;
    Ok(sock)
}

/// Splits a whole received IPv4 packet into metadata and VRRP payload.
fn decode_v4(packet: &[u8], ifindex: u32) -> Result<Received, RecvError> {
    let (hdr, payload) = Ipv4Header::parse(packet).map_err(RecvError::Drop)?;
    Ok(Received {
        meta: RxMeta {
            src: IpAddr::V4(hdr.src),
            dst: IpAddr::V4(hdr.dst),
            ttl: hdr.ttl,
        },
        payload: payload.to_vec(),
        ifindex,
    })
}

pub(crate) fn recv_v6(sock: &Socket) -> io::Result<(RxMeta, Vec<u8>, u32)> {
    let mut buf = vec![0u8; RECV_BUF];
    let mut cmsg = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<SockaddrIn6>(sock.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::empty())
        .map_err(io::Error::from)?;
    let n = msg.bytes;
    let src = msg
        .address
        .map(|a| a.ip())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "recvmsg gave no source address"))?;
    let mut dst = None;
    let mut hops = None;
    let mut ifindex = 0;
    for c in msg.cmsgs().map_err(io::Error::from)? {
        match c {
            ControlMessageOwned::Ipv6PacketInfo(info) => {
                dst = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr));
                ifindex = info.ipi6_ifindex;
            }
            ControlMessageOwned::Ipv6HopLimit(h) => hops = u8::try_from(h).ok(),
            _ => {}
        }
    }
    let dst = dst.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no IPV6_PKTINFO on packet"))?;
    let ttl = hops.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no IPV6_HOPLIMIT on packet"))?;
    buf.truncate(n);
    let meta = RxMeta {
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        ttl,
    };
    Ok((meta, buf, ifindex))
}

fn send_v4(sock: &Socket, payload: &[u8], src: Ipv4Addr, dst: Ipv4Addr, ifindex: u32) -> io::Result<usize> {
    let info = libc::in_pktinfo {
        ipi_ifindex: ifindex as libc::c_int,
        ipi_spec_dst: libc::in_addr {
            s_addr: u32::from(src).to_be(),
        },
        ipi_addr: libc::in_addr { s_addr: 0 },
    };
    let addr = SockaddrIn::from(SocketAddrV4::new(dst, 0));
    sendmsg(
        sock.as_raw_fd(),
        &[IoSlice::new(payload)],
        &[ControlMessage::Ipv4PacketInfo(&info)],
        MsgFlags::empty(),
        Some(&addr),
    )
    .map_err(io::Error::from)
}

pub(crate) fn send_v6(
    sock: &Socket,
    payload: &[u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    ifindex: u32,
) -> io::Result<usize> {
    let info = libc::in6_pktinfo {
        ipi6_addr: libc::in6_addr {
            s6_addr: src.octets(),
        },
        ipi6_ifindex: ifindex,
    };
    // Link-scoped destinations need their zone; others must not carry one.
    let scope = if dst.is_unicast_link_local() || dst.is_multicast() {
        ifindex
    } else {
        0
    };
    let addr = SockaddrIn6::from(SocketAddrV6::new(dst, 0, 0, scope));
    sendmsg(
        sock.as_raw_fd(),
        &[IoSlice::new(payload)],
        &[ControlMessage::Ipv6PacketInfo(&info)],
        MsgFlags::empty(),
        Some(&addr),
    )
    .map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_vrrp::wire::Ipv4Header;

    fn packet(ttl: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Ipv4Header {
            tos: 0xc0,
            ident: 1,
            flags_frag: 0,
            ttl,
            protocol: IPPROTO_VRRP,
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: MCAST_V4,
        }
        .emit(payload.len(), &mut out);
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn decode_v4_gives_meta_and_payload() {
        let r = decode_v4(&packet(1, &[0x31, 2, 3, 4]), 9).expect("valid packet");
        assert_eq!(r.meta.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(r.meta.dst, IpAddr::V4(MCAST_V4));
        assert_eq!(r.meta.ttl, 1);
        assert_eq!(r.payload, vec![0x31, 2, 3, 4]);
        assert_eq!(r.ifindex, 9);
    }

    #[test]
    fn decode_v4_drops_malformed_headers() {
        assert!(matches!(
            decode_v4(&[0x45, 0, 0], 1),
            Err(RecvError::Drop(DropReason::Truncated))
        ));
        let mut bad = packet(255, &[0; 8]);
        bad[10] ^= 0xff; // header checksum
        assert!(matches!(
            decode_v4(&bad, 1),
            Err(RecvError::Drop(DropReason::BadIpHeader))
        ));
        let mut v6 = packet(255, &[0; 8]);
        v6[0] = 0x65;
        assert!(matches!(
            decode_v4(&v6, 1),
            Err(RecvError::Drop(DropReason::BadIpHeader))
        ));
    }
}
