//! Who else answers for an address: ARP probes (RFC 5227 §2.1.1) and duplicate
//! address detection solicitations (RFC 4862 §5.4.2) sent on one interface, and
//! the ARP frames and neighbour advertisements that come back, read with the
//! [`arp`](crate::arp) and [`nd`](crate::nd) codecs.

use std::io::{self, Read};
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use nix::sys::socket::{LinkAddr, recvfrom};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::arp::{self, ArpError, ArpFrame, ArpMessage, ETH_P_ARP};
use crate::nd::{self, ETH_P_IPV6, ND_NEIGHBOR_ADVERT, NdError, NdMessage, NdMeta};
use crate::{context, sys, vrrp_socket};

/// sll_pkttype of a frame this host sent (linux/if_packet.h).
const PACKET_OUTGOING: u8 = 4;
/// Ethernet/IPv4 ARP is 42 bytes, 60 with padding: anything longer is not ours
/// to read.
const ARP_BUF: usize = 256;
/// Bounds the drain before a probe, should frames keep coming faster than
/// they are read.
const DRAIN_MAX: usize = 4096;

/// Who answered for one address during a [`NeighProber::probe`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VipAnswers {
    pub vip: IpAddr,
    /// MACs other than ours that claimed `vip`, in the order first heard.
    pub others: Vec<[u8; 6]>,
    /// IPv6 sources of advertisements for `vip` that named no link-layer
    /// address (no Target Link-Layer Address option): someone holds it, but a
    /// raw ICMPv6 socket cannot tell which MAC. Always empty for IPv4.
    pub unnamed: Vec<IpAddr>,
}

/// One ARP frame or neighbour advertisement from another station.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeighEvent {
    /// An ARP frame received on the interface; `frame` has its Ethernet
    /// addresses.
    Arp { frame: ArpFrame, msg: ArpMessage },
    /// A neighbour advertisement received on the interface (the socket lets
    /// nothing else through).
    Nd { meta: NdMeta, msg: NdMessage },
}

impl NeighEvent {
    /// The address the sender says it holds, and its MAC when the message names
    /// one: an ARP frame's sender IP (not for a probe, which claims nothing), an
    /// advertisement's target.
    pub fn claim(&self) -> Option<(IpAddr, Option<[u8; 6]>)> {
        match self {
            NeighEvent::Arp { msg, .. } => msg.claimed().map(|ip| (IpAddr::V4(ip), Some(msg.sender_mac()))),
            NeighEvent::Nd {
                msg:
                    NdMessage::Advertisement {
                        target,
                        target_lladdr,
                        ..
                    },
                ..
            } => Some((IpAddr::V6(*target), *target_lladdr)),
            NeighEvent::Nd { .. } => None,
        }
    }
}

/// Why [`NeighProber::recv`] returned no event.
#[derive(Debug)]
pub enum NeighRecvError {
    /// A socket failed.
    Io(io::Error),
    /// A malformed ARP frame came: count it, then receive again.
    Arp(ArpError),
    /// A malformed neighbour advertisement came: count it, then receive again.
    Nd(NdError),
}

impl std::fmt::Display for NeighRecvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NeighRecvError::Io(e) => write!(f, "receiving ARP / neighbour discovery: {e}"),
            NeighRecvError::Arp(r) => write!(f, "dropped malformed ARP frame: {r}"),
            NeighRecvError::Nd(r) => write!(f, "dropped malformed neighbour advertisement: {r}"),
        }
    }
}

impl std::error::Error for NeighRecvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NeighRecvError::Io(e) => Some(e),
            NeighRecvError::Arp(r) => Some(r),
            NeighRecvError::Nd(r) => Some(r),
        }
    }
}

impl From<io::Error> for NeighRecvError {
    fn from(e: io::Error) -> Self {
        NeighRecvError::Io(e)
    }
}

/// ARP and neighbour advertisements on one Ethernet interface, driven by tokio:
/// probes for addresses, and what other stations say about theirs.
///
/// Two sockets: AF_PACKET bound to ETH_P_ARP on the interface, which receives ARP
/// and sends every probe (DAD solicitations too: they must come from ::, which a
/// raw ICMPv6 socket cannot send from); and raw ICMPv6 bound to the device with
/// ICMP6_FILTER passing only neighbour advertisements. That one needs no group
/// joined: ff02::1, where answers to DAD go, is joined by every IPv6 interface,
/// and a raw socket bound to no address receives every ICMPv6 packet the host
/// accepts. Frames this host sent, and messages naming our MAC, never come out.
///
/// Both sockets have one reader: a [`recv`](Self::recv) running while a
/// [`probe`](Self::probe) does takes the answers it would have counted. Needs
/// CAP_NET_RAW.
#[derive(Debug)]
pub struct NeighProber {
    packet: AsyncFd<Socket>,
    /// None when the kernel has no IPv6: IPv4 is still probed.
    icmp6: Option<AsyncFd<Socket>>,
    ifindex: u32,
    mac: [u8; 6],
}

impl NeighProber {
    /// Opens the sockets on interface `ifindex` (named `ifname`), whose MAC is
    /// `mac`.
    pub fn open(ifindex: u32, ifname: &str, mac: [u8; 6]) -> io::Result<NeighProber> {
        let what = format!("opening neighbour prober on {ifname} (index {ifindex})");
        let packet = open_packet(ifindex).map_err(|e| context(e, &what))?;
        let icmp6 = match open_icmp6(ifname) {
            Ok(s) => Some(s),
            Err(e) if e.raw_os_error() == Some(nix::libc::EAFNOSUPPORT) => None,
            Err(e) => return Err(context(e, &what)),
        };
        let packet = sys::async_fd(packet).map_err(|e| context(e, &what))?;
        let icmp6 = icmp6
            .map(sys::async_fd)
            .transpose()
            .map_err(|e| context(e, &what))?;
        Ok(NeighProber {
            packet,
            icmp6,
            ifindex,
            mac,
        })
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Sends one ARP probe per IPv4 VIP and one DAD solicitation per IPv6 VIP,
    /// then collects for `wait` which other MACs claim each: an ARP frame from
    /// another MAC whose sender IP is the VIP (a reply to the probe, an
    /// announcement, a request), or an advertisement whose target is the VIP.
    /// Answers for other addresses, probes (they claim nothing) and our own
    /// frames are not counted. One entry per VIP, in the order given.
    ///
    /// Frames already queued when it starts are dropped first: they answer no
    /// probe of this call.
    pub async fn probe(&self, vips: &[IpAddr], wait: Duration) -> io::Result<Vec<VipAnswers>> {
        let deadline = tokio::time::Instant::now() + wait;
        self.drain();
        for vip in vips {
            self.send_probe(*vip).await?;
        }
        let mut answers = unanswered(vips);
        loop {
            let event = match tokio::time::timeout_at(deadline, self.recv()).await {
                Err(_elapsed) => break,
                Ok(Ok(event)) => event,
                // Malformed frames answer nothing.
                Ok(Err(NeighRecvError::Arp(_) | NeighRecvError::Nd(_))) => continue,
                Ok(Err(NeighRecvError::Io(e))) => return Err(e),
            };
            record(&mut answers, &event);
        }
        Ok(answers)
    }

    /// Sends one probe for `vip`: an ARP probe (broadcast, sender IP 0.0.0.0) or
    /// a DAD solicitation (from :: to the solicited-node group, hop limit 255).
    /// Answers come out of [`recv`](Self::recv).
    pub async fn send_probe(&self, vip: IpAddr) -> io::Result<()> {
        let what = format!("probing for {vip} on interface index {}", self.ifindex);
        let (frame, ethertype, dst) = match vip {
            IpAddr::V4(v4) => (arp::probe_frame(self.mac, v4), ETH_P_ARP, arp::BROADCAST),
            IpAddr::V6(v6) => {
                if self.icmp6.is_none() {
                    return Err(io::Error::new(
                        io::ErrorKind::Unsupported,
                        format!("{what}: the kernel has no IPv6, so no advertisement could be heard"),
                    ));
                }
                let dst = nd::multicast_mac(nd::solicited_node(v6));
                (nd::dad_solicitation_frame(self.mac, v6), ETH_P_IPV6, dst)
            }
        };
        let addr = sys::link_sockaddr(self.ifindex, ethertype, dst);
        let n = self
            .packet
            .async_io(Interest::WRITABLE, |s| s.send_to(&frame, &addr))
            .await
            .map_err(|e| context(e, &what))?;
        if n != frame.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("{what}: sent {n} of {} bytes", frame.len()),
            ));
        }
        Ok(())
    }

    /// The next ARP frame or neighbour advertisement from another station:
    /// frames this host sent, and messages from or naming our MAC, are skipped.
    /// Malformed ones are [`NeighRecvError::Arp`] / [`NeighRecvError::Nd`].
    /// Cancel-safe: nothing is read until a socket is ready.
    pub async fn recv(&self) -> Result<NeighEvent, NeighRecvError> {
        loop {
            let event = tokio::select! {
                r = self.recv_arp() => r?,
                r = self.recv_na() => r?,
            };
            if let Some(event) = event {
                return Ok(event);
            }
        }
    }

    /// One ARP frame; None when it is ours.
    async fn recv_arp(&self) -> Result<Option<NeighEvent>, NeighRecvError> {
        let mut buf = [0u8; ARP_BUF];
        let (n, from) = self
            .packet
            .async_io(Interest::READABLE, |s| {
                recvfrom::<LinkAddr>(s.as_raw_fd(), &mut buf).map_err(io::Error::from)
            })
            .await
            .map_err(|e| context(e, "receiving ARP"))?;
        // A socket bound to ETH_P_ARP gets no outgoing frames (the kernel copies
        // those to ETH_P_ALL taps only): this is in case that ever changes.
        if from.is_some_and(|a| a.pkttype() == PACKET_OUTGOING) {
            return Ok(None);
        }
        let frame = ArpFrame::parse(&buf[..n.min(ARP_BUF)]).map_err(NeighRecvError::Arp)?;
        if frame.eth_src == self.mac || frame.sender_mac == self.mac {
            return Ok(None);
        }
        let msg = frame.meaning().map_err(NeighRecvError::Arp)?;
        Ok(Some(NeighEvent::Arp { frame, msg }))
    }

    /// One neighbour advertisement; None when it is ours or came in on another
    /// interface (possible between socket() and SO_BINDTODEVICE). Never ready
    /// without IPv6.
    async fn recv_na(&self) -> Result<Option<NeighEvent>, NeighRecvError> {
        let Some(fd) = &self.icmp6 else {
            return std::future::pending().await;
        };
        let (rx, msg, ifindex) = fd
            .async_io(Interest::READABLE, vrrp_socket::recv_v6)
            .await
            .map_err(|e| context(e, "receiving ICMPv6"))?;
        if ifindex != 0 && ifindex != self.ifindex {
            return Ok(None);
        }
        let (IpAddr::V6(src), IpAddr::V6(dst)) = (rx.src, rx.dst) else {
            return Ok(None);
        };
        let meta = NdMeta {
            src,
            dst,
            hop_limit: rx.ttl,
        };
        let msg = NdMessage::parse(&msg, &meta).map_err(NeighRecvError::Nd)?;
        if let NdMessage::Advertisement {
            target_lladdr: Some(mac),
            ..
        } = msg
            && mac == self.mac
        {
            return Ok(None);
        }
        Ok(Some(NeighEvent::Nd { meta, msg }))
    }

    /// Drops whatever both sockets have queued.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; ARP_BUF];
        // Non-blocking: WouldBlock ends each loop.
        for _ in 0..DRAIN_MAX {
            if self.packet.get_ref().read(&mut buf).is_err() {
                break;
            }
        }
        if let Some(fd) = &self.icmp6 {
            for _ in 0..DRAIN_MAX {
                if vrrp_socket::recv_v6(fd.get_ref()).is_err() {
                    break;
                }
            }
        }
    }
}

/// One empty entry per VIP, in the order given.
pub(crate) fn unanswered(vips: &[IpAddr]) -> Vec<VipAnswers> {
    vips.iter()
        .map(|&vip| VipAnswers {
            vip,
            others: Vec::new(),
            unnamed: Vec::new(),
        })
        .collect()
}

/// Counts `event` for the entries of the address it claims: its MAC once, or
/// its IPv6 source once when it names no MAC.
pub(crate) fn record(answers: &mut [VipAnswers], event: &NeighEvent) {
    let Some((ip, mac)) = event.claim() else {
        return;
    };
    let src = match event {
        NeighEvent::Nd { meta, .. } => IpAddr::V6(meta.src),
        NeighEvent::Arp { .. } => ip,
    };
    for a in answers.iter_mut().filter(|a| a.vip == ip) {
        match mac {
            Some(mac) if !a.others.contains(&mac) => a.others.push(mac),
            Some(_) => {}
            None if !a.unnamed.contains(&src) => a.unnamed.push(src),
            None => {}
        }
    }
}

/// AF_PACKET for ETH_P_ARP on `ifindex`. Opened with protocol 0 and then bound
/// with ETH_P_ARP, so that no frame of another interface queues in between.
fn open_packet(ifindex: u32) -> io::Result<Socket> {
    let sock = Socket::new(Domain::PACKET, Type::RAW, None).map_err(|e| context(e, "socket(AF_PACKET)"))?;
    sock.set_nonblocking(true)?;
    sock.bind(&sys::link_sockaddr(ifindex, ETH_P_ARP, [0; 6]))
        .map_err(|e| context(e, "binding AF_PACKET to ETH_P_ARP"))?;
    Ok(sock)
}

fn open_icmp6(ifname: &str) -> io::Result<Socket> {
    let sock = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
    sock.set_nonblocking(true)?;
    // First, so that little else queues before it.
    sys::set_icmp6_filter_pass_only(&sock, ND_NEIGHBOR_ADVERT).map_err(|e| context(e, "ICMP6_FILTER"))?;
    sock.bind_device(Some(ifname.as_bytes()))
        .map_err(|e| context(e, "SO_BINDTODEVICE"))?;
    sock.set_recv_hoplimit_v6(true)
        .map_err(|e| context(e, "IPV6_RECVHOPLIMIT"))?;
    nix::sys::socket::setsockopt(&sock, nix::sys::socket::sockopt::Ipv6RecvPacketInfo, &true)
        .map_err(|e| context(e.into(), "IPV6_RECVPKTINFO"))?;
    Ok(sock)
}
