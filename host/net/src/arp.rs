//! ARP over Ethernet for IPv4 (RFC 826), read the way RFC 5227 reads it; sans I/O.
//!
//! [`ArpFrame::parse`] checks a whole received Ethernet frame and gives the
//! checked view of its fields; [`ArpFrame::meaning`] says what it is: a request, a
//! reply, a probe (RFC 5227 §2.1.1) or an announcement (§2.3). Neither panics,
//! whatever the input; every refusal is an [`ArpError`]. [`ArpMessage::frame`] and
//! [`ArpFrame::emit`] go the other way, and [`probe_frame`] is the probe that
//! asks who holds an address.

use std::fmt;
use std::net::Ipv4Addr;

/// EtherType of ARP.
pub const ETH_P_ARP: u16 = 0x0806;
/// EtherType of IPv4, ARP's protocol type for it.
pub const ETH_P_IP: u16 = 0x0800;
/// EtherType of an 802.1Q tag.
pub const ETH_P_8021Q: u16 = 0x8100;
/// ARP hardware type of Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;
pub const OP_REQUEST: u16 = 1;
pub const OP_REPLY: u16 = 2;
/// Ethernet header (14) + Ethernet/IPv4 ARP (28). Received frames are often
/// padded to 60: trailing bytes are not ARP's and are ignored.
pub const FRAME_LEN: usize = 42;
pub const BROADCAST: [u8; 6] = [0xff; 6];

/// Why a frame is not a usable Ethernet/IPv4 ARP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArpError {
    /// Shorter than the 42 bytes of an Ethernet header and an Ethernet/IPv4 ARP.
    Truncated { len: usize },
    /// EtherType is not ARP.
    NotArp { ethertype: u16 },
    /// An 802.1Q-tagged frame: this codec reads untagged frames only (the
    /// kernel strips tags before AF_PACKET sockets of the VLAN device see them).
    Tagged,
    /// Hardware type is not Ethernet (1).
    BadHardwareType { htype: u16 },
    /// Protocol type is not IPv4 (0x0800).
    BadProtocolType { ptype: u16 },
    /// Address lengths are not 6 and 4.
    BadAddressLengths { hlen: u8, plen: u8 },
    /// Operation is neither request (1) nor reply (2).
    BadOperation { op: u16 },
    /// Sender MAC is zero or a group address: no station answers from it.
    BadSenderMac { mac: [u8; 6] },
    /// Sender IP is multicast, limited broadcast or loopback (Linux drops
    /// these too), or zero on a reply: nobody can hold it.
    BadSenderIp { ip: Ipv4Addr },
}

impl ArpError {
    /// Stable snake_case name, for counters.
    pub fn as_str(self) -> &'static str {
        match self {
            ArpError::Truncated { .. } => "truncated",
            ArpError::NotArp { .. } => "not_arp",
            ArpError::Tagged => "tagged",
            ArpError::BadHardwareType { .. } => "bad_hardware_type",
            ArpError::BadProtocolType { .. } => "bad_protocol_type",
            ArpError::BadAddressLengths { .. } => "bad_address_lengths",
            ArpError::BadOperation { .. } => "bad_operation",
            ArpError::BadSenderMac { .. } => "bad_sender_mac",
            ArpError::BadSenderIp { .. } => "bad_sender_ip",
        }
    }
}

impl fmt::Display for ArpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArpError::Truncated { len } => write!(
                f,
                "frame of {len} bytes is shorter than an ARP frame ({FRAME_LEN})"
            ),
            ArpError::NotArp { ethertype } => write!(f, "EtherType {ethertype:#06x} is not ARP"),
            ArpError::Tagged => write!(f, "802.1Q-tagged frame"),
            ArpError::BadHardwareType { htype } => write!(f, "hardware type {htype} is not Ethernet"),
            ArpError::BadProtocolType { ptype } => write!(f, "protocol type {ptype:#06x} is not IPv4"),
            ArpError::BadAddressLengths { hlen, plen } => {
                write!(f, "address lengths {hlen}/{plen} are not 6/4")
            }
            ArpError::BadOperation { op } => write!(f, "operation {op} is neither request nor reply"),
            ArpError::BadSenderMac { mac } => write!(f, "sender MAC {} cannot be a station", fmt_mac(*mac)),
            ArpError::BadSenderIp { ip } => write!(f, "sender IP {ip} cannot be held by anyone"),
        }
    }
}

impl std::error::Error for ArpError {}

/// ARP operation of a checked frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArpOp {
    Request,
    Reply,
}

/// A checked Ethernet/IPv4 ARP frame: every field as on the wire, and the
/// header fields (hardware and protocol type, lengths, operation) known good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArpFrame {
    pub eth_dst: [u8; 6],
    pub eth_src: [u8; 6],
    pub op: ArpOp,
    pub sender_mac: [u8; 6],
    pub sender_ip: Ipv4Addr,
    pub target_mac: [u8; 6],
    pub target_ip: Ipv4Addr,
}

/// What an ARP frame says (RFC 5227 §1.1, §2.1.1, §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArpMessage {
    /// "Who has `target_ip`? Tell `sender_ip`": the sender holds `sender_ip`.
    Request {
        sender_mac: [u8; 6],
        sender_ip: Ipv4Addr,
        target_ip: Ipv4Addr,
    },
    /// "`sender_ip` is at `sender_mac`". A reply to a probe has `target_ip`
    /// 0.0.0.0 (Linux sends it unicast to the prober).
    Reply {
        sender_mac: [u8; 6],
        sender_ip: Ipv4Addr,
        target_mac: [u8; 6],
        target_ip: Ipv4Addr,
    },
    /// A request with sender IP 0.0.0.0: "does anyone hold `target_ip`?". The
    /// sender claims nothing.
    Probe {
        sender_mac: [u8; 6],
        target_ip: Ipv4Addr,
    },
    /// Sender IP = target IP: the sender claims `ip` (a gratuitous ARP). RFC 5227
    /// §2.3 sends requests, but gratuitous replies exist in the wild and claim the
    /// same, so both operations land here.
    Announcement { sender_mac: [u8; 6], ip: Ipv4Addr },
}

impl ArpFrame {
    /// Checks a whole Ethernet frame, from the destination MAC on.
    pub fn parse(frame: &[u8]) -> Result<ArpFrame, ArpError> {
        if frame.len() < 14 {
            return Err(ArpError::Truncated { len: frame.len() });
        }
        match be16(frame, 12) {
            ETH_P_ARP => {}
            ETH_P_8021Q => return Err(ArpError::Tagged),
            ethertype => return Err(ArpError::NotArp { ethertype }),
        }
        if frame.len() < FRAME_LEN {
            return Err(ArpError::Truncated { len: frame.len() });
        }
        let arp = &frame[14..FRAME_LEN];
        let htype = be16(arp, 0);
        if htype != HTYPE_ETHERNET {
            return Err(ArpError::BadHardwareType { htype });
        }
        let ptype = be16(arp, 2);
        if ptype != ETH_P_IP {
            return Err(ArpError::BadProtocolType { ptype });
        }
        let (hlen, plen) = (arp[4], arp[5]);
        if (hlen, plen) != (6, 4) {
            return Err(ArpError::BadAddressLengths { hlen, plen });
        }
        let op = match be16(arp, 6) {
            OP_REQUEST => ArpOp::Request,
            OP_REPLY => ArpOp::Reply,
            op => return Err(ArpError::BadOperation { op }),
        };
        Ok(ArpFrame {
            eth_dst: mac_at(frame, 0),
            eth_src: mac_at(frame, 6),
            op,
            sender_mac: mac_at(arp, 8),
            sender_ip: ip_at(arp, 14),
            target_mac: mac_at(arp, 18),
            target_ip: ip_at(arp, 24),
        })
    }

    /// What the frame says, from its ARP fields (the Ethernet addresses are the
    /// caller's business: a proxy may send for another MAC).
    pub fn meaning(&self) -> Result<ArpMessage, ArpError> {
        let mac = self.sender_mac;
        if mac == [0; 6] || mac[0] & 1 != 0 {
            return Err(ArpError::BadSenderMac { mac });
        }
        let sip = self.sender_ip;
        if sip.is_multicast() || sip.is_broadcast() || sip.is_loopback() {
            return Err(ArpError::BadSenderIp { ip: sip });
        }
        Ok(match self.op {
            ArpOp::Request if sip.is_unspecified() => ArpMessage::Probe {
                sender_mac: mac,
                target_ip: self.target_ip,
            },
            ArpOp::Reply if sip.is_unspecified() => return Err(ArpError::BadSenderIp { ip: sip }),
            _ if sip == self.target_ip => ArpMessage::Announcement {
                sender_mac: mac,
                ip: sip,
            },
            ArpOp::Request => ArpMessage::Request {
                sender_mac: mac,
                sender_ip: sip,
                target_ip: self.target_ip,
            },
            ArpOp::Reply => ArpMessage::Reply {
                sender_mac: mac,
                sender_ip: sip,
                target_mac: self.target_mac,
                target_ip: self.target_ip,
            },
        })
    }

    /// The 42-byte frame (the driver pads it to the Ethernet minimum).
    pub fn emit(&self) -> Vec<u8> {
        let mut f = Vec::with_capacity(FRAME_LEN);
        f.extend_from_slice(&self.eth_dst);
        f.extend_from_slice(&self.eth_src);
        f.extend_from_slice(&ETH_P_ARP.to_be_bytes());
        f.extend_from_slice(&HTYPE_ETHERNET.to_be_bytes());
        f.extend_from_slice(&ETH_P_IP.to_be_bytes());
        f.extend_from_slice(&[6, 4]);
        let op = match self.op {
            ArpOp::Request => OP_REQUEST,
            ArpOp::Reply => OP_REPLY,
        };
        f.extend_from_slice(&op.to_be_bytes());
        f.extend_from_slice(&self.sender_mac);
        f.extend_from_slice(&self.sender_ip.octets());
        f.extend_from_slice(&self.target_mac);
        f.extend_from_slice(&self.target_ip.octets());
        f
    }
}

impl ArpMessage {
    /// Checks and reads a whole Ethernet frame: [`ArpFrame::parse`], then
    /// [`ArpFrame::meaning`].
    pub fn parse(frame: &[u8]) -> Result<ArpMessage, ArpError> {
        ArpFrame::parse(frame)?.meaning()
    }

    pub fn sender_mac(&self) -> [u8; 6] {
        match *self {
            ArpMessage::Request { sender_mac, .. }
            | ArpMessage::Reply { sender_mac, .. }
            | ArpMessage::Probe { sender_mac, .. }
            | ArpMessage::Announcement { sender_mac, .. } => sender_mac,
        }
    }

    /// The address the sender says it holds: its sender IP, except for a probe,
    /// which claims none.
    pub fn claimed(&self) -> Option<Ipv4Addr> {
        match *self {
            ArpMessage::Request { sender_ip, .. } | ArpMessage::Reply { sender_ip, .. } => Some(sender_ip),
            ArpMessage::Announcement { ip, .. } => Some(ip),
            ArpMessage::Probe { .. } => None,
        }
    }

    /// The frame that says this, sent from the sender's MAC: replies go unicast
    /// to their target MAC, everything else to broadcast with target MAC zero
    /// (RFC 5227 §2.1.1, §2.3). Announcements are sent as requests.
    pub fn frame(&self) -> ArpFrame {
        let (op, target_mac, sender_ip, target_ip) = match *self {
            ArpMessage::Request {
                sender_ip, target_ip, ..
            } => (ArpOp::Request, [0; 6], sender_ip, target_ip),
            ArpMessage::Reply {
                sender_ip,
                target_mac,
                target_ip,
                ..
            } => (ArpOp::Reply, target_mac, sender_ip, target_ip),
            ArpMessage::Probe { target_ip, .. } => (ArpOp::Request, [0; 6], Ipv4Addr::UNSPECIFIED, target_ip),
            ArpMessage::Announcement { ip, .. } => (ArpOp::Request, [0; 6], ip, ip),
        };
        let eth_dst = if op == ArpOp::Reply { target_mac } else { BROADCAST };
        let sender_mac = self.sender_mac();
        ArpFrame {
            eth_dst,
            eth_src: sender_mac,
            op,
            sender_mac,
            sender_ip,
            target_mac,
            target_ip,
        }
    }
}

/// RFC 5227 §2.1.1 probe for `target` from `mac`: a broadcast request with sender
/// IP 0.0.0.0 and target MAC zero, so that answering it updates no ARP cache.
pub fn probe_frame(mac: [u8; 6], target: Ipv4Addr) -> Vec<u8> {
    ArpMessage::Probe {
        sender_mac: mac,
        target_ip: target,
    }
    .frame()
    .emit()
}

/// `aa:bb:cc:dd:ee:ff`, for messages.
pub fn fmt_mac(mac: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

// Callers have checked the length: these index within it.
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn mac_at(b: &[u8], at: usize) -> [u8; 6] {
    let mut m = [0; 6];
    m.copy_from_slice(&b[at..at + 6]);
    m
}

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
    const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
    const V4_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const V4_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 50);

    /// `tcpdump -xx` hex (the 0x0010: offsets and spaces dropped) to bytes.
    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s
            .split_whitespace()
            .filter(|w| !w.ends_with(':'))
            .flat_map(|w| w.bytes())
            .collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
            .collect()
    }

    // Captured from Linux 6.18 across a veth pair between two namespaces, A
    // (02:00:00:00:00:0a, 192.0.2.1, 192.0.2.50) and B (02:00:00:00:00:0b,
    // 192.0.2.2), with `ip netns exec B tcpdump -i vb -n -xx -e arp`:
    // `ip netns exec A ping -c1 192.0.2.2` gave the request and B's reply; a
    // probe for 192.0.2.50 sent from B on an AF_PACKET socket gave A's reply.
    const LINUX_REQUEST: &str = "
        0x0000:  ffff ffff ffff 0200 0000 000a 0806 0001
        0x0010:  0800 0604 0001 0200 0000 000a c000 0201
        0x0020:  0000 0000 0000 c000 0202";
    const LINUX_REPLY: &str = "
        0x0000:  0200 0000 000a 0200 0000 000b 0806 0001
        0x0010:  0800 0604 0002 0200 0000 000b c000 0202
        0x0020:  0200 0000 000a c000 0201";
    const LINUX_PROBE_REPLY: &str = "
        0x0000:  0200 0000 000b 0200 0000 000a 0806 0001
        0x0010:  0800 0604 0002 0200 0000 000a c000 0232
        0x0020:  0200 0000 000b 0000 0000";

    #[test]
    fn linux_request_and_reply() {
        let req = ArpFrame::parse(&hex(LINUX_REQUEST)).expect("request");
        assert_eq!(
            (req.eth_dst, req.eth_src, req.op),
            (BROADCAST, MAC_A, ArpOp::Request)
        );
        assert_eq!(
            req.meaning(),
            Ok(ArpMessage::Request {
                sender_mac: MAC_A,
                sender_ip: V4_A,
                target_ip: V4_B
            })
        );
        assert_eq!(req.emit(), hex(LINUX_REQUEST));
        assert_eq!(
            ArpMessage::parse(&hex(LINUX_REPLY)),
            Ok(ArpMessage::Reply {
                sender_mac: MAC_B,
                sender_ip: V4_B,
                target_mac: MAC_A,
                target_ip: V4_A
            })
        );
    }

    #[test]
    fn linux_answers_a_probe_unicast_with_target_ip_zero() {
        let f = ArpFrame::parse(&hex(LINUX_PROBE_REPLY)).expect("reply");
        assert_eq!(f.eth_dst, MAC_B, "unicast to the prober");
        let m = f.meaning().expect("meaning");
        assert_eq!(
            m,
            ArpMessage::Reply {
                sender_mac: MAC_A,
                sender_ip: VIP,
                target_mac: MAC_B,
                target_ip: Ipv4Addr::UNSPECIFIED
            }
        );
        assert_eq!(m.claimed(), Some(VIP));
        assert_eq!(m.frame(), f, "the message rebuilds the frame Linux sent");
    }

    #[test]
    fn probe_frame_layout() {
        let f = probe_frame(MAC_B, VIP);
        // Byte for byte what B sent in the capture above (tcpdump: "Request
        // who-has 192.0.2.50 tell 0.0.0.0").
        let captured = hex("
            0x0000:  ffff ffff ffff 0200 0000 000b 0806 0001
            0x0010:  0800 0604 0001 0200 0000 000b 0000 0000
            0x0020:  0000 0000 0000 c000 0232");
        assert_eq!(f, captured);
        let m = ArpMessage::parse(&f).expect("probe");
        assert_eq!(
            m,
            ArpMessage::Probe {
                sender_mac: MAC_B,
                target_ip: VIP
            }
        );
        assert_eq!(m.claimed(), None);
    }

    #[test]
    fn round_trips_through_frame_and_bytes() {
        let messages = [
            ArpMessage::Request {
                sender_mac: MAC_A,
                sender_ip: V4_A,
                target_ip: V4_B,
            },
            ArpMessage::Reply {
                sender_mac: MAC_B,
                sender_ip: V4_B,
                target_mac: MAC_A,
                target_ip: V4_A,
            },
            ArpMessage::Probe {
                sender_mac: MAC_A,
                target_ip: VIP,
            },
            ArpMessage::Announcement {
                sender_mac: MAC_A,
                ip: VIP,
            },
        ];
        for m in messages {
            let bytes = m.frame().emit();
            assert_eq!(bytes.len(), FRAME_LEN);
            assert_eq!(ArpFrame::parse(&bytes), Ok(m.frame()), "{m:?}");
            assert_eq!(ArpMessage::parse(&bytes), Ok(m), "{m:?}");
            // Link padding to the Ethernet minimum changes nothing.
            let mut padded = bytes.clone();
            padded.resize(60, 0);
            assert_eq!(ArpMessage::parse(&padded), Ok(m), "{m:?} padded");
        }
    }

    #[test]
    fn gratuitous_reply_is_an_announcement() {
        let mut f = ArpMessage::Announcement {
            sender_mac: MAC_A,
            ip: VIP,
        }
        .frame();
        f.op = ArpOp::Reply;
        assert_eq!(
            f.meaning(),
            Ok(ArpMessage::Announcement {
                sender_mac: MAC_A,
                ip: VIP
            })
        );
    }

    /// The Announcer's gratuitous ARP reads back as an announcement.
    #[test]
    fn announcer_garp_is_an_announcement() {
        let f = crate::announce::garp_frame(MAC_A, VIP);
        assert_eq!(
            ArpMessage::parse(&f),
            Ok(ArpMessage::Announcement {
                sender_mac: MAC_A,
                ip: VIP
            })
        );
    }

    #[test]
    fn every_refusal() {
        let good = probe_frame(MAC_A, VIP);
        let with = |at: usize, bytes: &[u8]| {
            let mut f = good.clone();
            f[at..at + bytes.len()].copy_from_slice(bytes);
            ArpMessage::parse(&f)
        };
        assert_eq!(ArpMessage::parse(&[]), Err(ArpError::Truncated { len: 0 }));
        assert_eq!(
            ArpMessage::parse(&good[..13]),
            Err(ArpError::Truncated { len: 13 })
        );
        assert_eq!(
            ArpMessage::parse(&good[..41]),
            Err(ArpError::Truncated { len: 41 })
        );
        // EtherType is read before the length of an ARP body is asked for.
        let mut short = good[..20].to_vec();
        short[12..14].copy_from_slice(&[0x86, 0xdd]);
        assert_eq!(
            ArpMessage::parse(&short),
            Err(ArpError::NotArp { ethertype: 0x86dd })
        );
        assert_eq!(
            with(12, &[0x08, 0x00]),
            Err(ArpError::NotArp { ethertype: 0x0800 })
        );
        assert_eq!(with(12, &[0x81, 0x00]), Err(ArpError::Tagged));
        assert_eq!(with(14, &[0, 6]), Err(ArpError::BadHardwareType { htype: 6 }));
        assert_eq!(
            with(16, &[0x86, 0xdd]),
            Err(ArpError::BadProtocolType { ptype: 0x86dd })
        );
        assert_eq!(
            with(18, &[6, 16]),
            Err(ArpError::BadAddressLengths { hlen: 6, plen: 16 })
        );
        assert_eq!(
            with(18, &[8, 4]),
            Err(ArpError::BadAddressLengths { hlen: 8, plen: 4 })
        );
        for op in [0u16, 3, 4, 8] {
            assert_eq!(with(20, &op.to_be_bytes()), Err(ArpError::BadOperation { op }));
        }
        for mac in [
            [0; 6],
            BROADCAST,
            [0x01, 0, 0x5e, 0, 0, 1],
            [0x33, 0x33, 0, 0, 0, 1],
        ] {
            assert_eq!(with(22, &mac), Err(ArpError::BadSenderMac { mac }));
        }
        for ip in [
            Ipv4Addr::new(224, 0, 0, 18),
            Ipv4Addr::BROADCAST,
            Ipv4Addr::LOCALHOST,
        ] {
            assert_eq!(with(28, &ip.octets()), Err(ArpError::BadSenderIp { ip }));
        }
        // A reply from 0.0.0.0 claims nothing and answers nothing.
        assert_eq!(
            with(20, &OP_REPLY.to_be_bytes()),
            Err(ArpError::BadSenderIp {
                ip: Ipv4Addr::UNSPECIFIED
            })
        );
        // Every reason has its own name.
        let names = [
            ArpError::Truncated { len: 0 },
            ArpError::NotArp { ethertype: 0 },
            ArpError::Tagged,
            ArpError::BadHardwareType { htype: 0 },
            ArpError::BadProtocolType { ptype: 0 },
            ArpError::BadAddressLengths { hlen: 0, plen: 0 },
            ArpError::BadOperation { op: 0 },
            ArpError::BadSenderMac { mac: [0; 6] },
            ArpError::BadSenderIp {
                ip: Ipv4Addr::UNSPECIFIED,
            },
        ]
        .map(ArpError::as_str);
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn never_panics_on_any_prefix_or_byte() {
        let good = probe_frame(MAC_A, VIP);
        for len in 0..=good.len() {
            let _ = ArpMessage::parse(&good[..len]);
        }
        for at in 0..good.len() {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut f = good.clone();
                f[at] = v;
                let _ = ArpMessage::parse(&f);
            }
        }
    }
}
