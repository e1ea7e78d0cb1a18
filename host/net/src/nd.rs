//! ICMPv6 neighbour solicitations and advertisements (RFC 4861 §4.3, §4.4,
//! §7.1) on Ethernet; sans I/O.
//!
//! [`NdPacket::parse`] checks an ICMPv6 message as a raw ICMPv6 socket hands it
//! over (from the type field on) together with what the IP layer said about it
//! ([`NdMeta`]), and gives the checked view; [`NdPacket::meaning`] says what it
//! is. Neither panics, whatever the input; every refusal is an [`NdError`]. The
//! checksum is not checked: on a raw ICMPv6 socket the kernel verifies it before
//! delivery and fills it in on send. [`checksum`] is for messages that travel
//! inside frames built or captured by hand, such as [`dad_solicitation_frame`],
//! the duplicate address detection probe (RFC 4862 §5.4.2).

use std::fmt;
use std::net::Ipv6Addr;

use baton_vrrp::wire::{Ipv6Header, internet_checksum};

/// IP protocol number of ICMPv6.
pub const IPPROTO_ICMPV6: u8 = 58;
pub const ETH_P_IPV6: u16 = 0x86dd;
pub const ND_NEIGHBOR_SOLICIT: u8 = 135;
pub const ND_NEIGHBOR_ADVERT: u8 = 136;
/// RFC 4861 §7.1: neighbour discovery arrives with hop limit 255 or is forged.
pub const ND_HOP_LIMIT: u8 = 255;
/// Source / Target Link-Layer Address options (RFC 4861 §4.6.1).
pub const OPT_SOURCE_LLADDR: u8 = 1;
pub const OPT_TARGET_LLADDR: u8 = 2;
/// Type, code, checksum, flags / reserved and target: both messages' fixed part.
pub const MESSAGE_LEN: usize = 24;
/// Where unsolicited advertisements, and answers to DAD, go (RFC 4861 §7.2.4).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const NA_ROUTER: u8 = 0x80;
const NA_SOLICITED: u8 = 0x40;
const NA_OVERRIDE: u8 = 0x20;

/// What the IP layer tells about a received ICMPv6 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NdMeta {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
}

/// Why a message is not a usable neighbour solicitation or advertisement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NdError {
    /// Hop limit is not 255: it crossed a router, or was forged (§7.1.1).
    BadHopLimit { hop_limit: u8 },
    /// Shorter than the 24 bytes both messages have.
    Truncated { len: usize },
    /// ICMPv6 type is neither 135 nor 136.
    NotNd { icmp_type: u8 },
    /// ICMPv6 code is not 0.
    BadCode { code: u8 },
    /// The option at offset `at` (from the message start) has length zero or
    /// runs past the end of the message.
    BadOptionLength { at: usize },
    /// The message's link-layer address option is not 8 bytes: not Ethernet
    /// (Linux drops these too).
    BadLladdrOption { units: u8 },
    /// The target is a multicast address.
    MulticastTarget { target: Ipv6Addr },
    /// A solicitation from :: (duplicate address detection) that is not sent to
    /// a solicited-node multicast address.
    DadNotToSolicitedNode { dst: Ipv6Addr },
    /// A solicitation from :: that carries a source link-layer address.
    DadWithSourceLladdr,
    /// An advertisement to a multicast address with the Solicited flag set.
    SolicitedToMulticast { dst: Ipv6Addr },
}

impl NdError {
    /// Stable snake_case name, for counters.
    pub fn as_str(self) -> &'static str {
        match self {
            NdError::BadHopLimit { .. } => "bad_hop_limit",
            NdError::Truncated { .. } => "truncated",
            NdError::NotNd { .. } => "not_nd",
            NdError::BadCode { .. } => "bad_code",
            NdError::BadOptionLength { .. } => "bad_option_length",
            NdError::BadLladdrOption { .. } => "bad_lladdr_option",
            NdError::MulticastTarget { .. } => "multicast_target",
            NdError::DadNotToSolicitedNode { .. } => "dad_not_to_solicited_node",
            NdError::DadWithSourceLladdr => "dad_with_source_lladdr",
            NdError::SolicitedToMulticast { .. } => "solicited_to_multicast",
        }
    }
}

impl fmt::Display for NdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NdError::BadHopLimit { hop_limit } => write!(f, "hop limit {hop_limit}, not 255"),
            NdError::Truncated { len } => {
                write!(f, "message of {len} bytes is shorter than {MESSAGE_LEN}")
            }
            NdError::NotNd { icmp_type } => {
                write!(f, "ICMPv6 type {icmp_type} is not neighbour discovery")
            }
            NdError::BadCode { code } => write!(f, "ICMPv6 code {code}, not 0"),
            NdError::BadOptionLength { at } => write!(f, "option at byte {at} has a bad length"),
            NdError::BadLladdrOption { units } => {
                write!(
                    f,
                    "link-layer address option of {units} x 8 bytes is not Ethernet"
                )
            }
            NdError::MulticastTarget { target } => write!(f, "target {target} is multicast"),
            NdError::DadNotToSolicitedNode { dst } => {
                write!(f, "solicitation from :: to {dst}, not a solicited-node group")
            }
            NdError::DadWithSourceLladdr => {
                write!(f, "solicitation from :: with a source link-layer address")
            }
            NdError::SolicitedToMulticast { dst } => {
                write!(f, "solicited advertisement to multicast {dst}")
            }
        }
    }
}

impl std::error::Error for NdError {}

/// Which of the two messages a checked packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NdKind {
    Solicitation,
    Advertisement,
}

/// A checked solicitation or advertisement: hop limit, type, code and option
/// lengths known good, options read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NdPacket {
    pub meta: NdMeta,
    pub kind: NdKind,
    /// The byte after the checksum: R, S, O of an advertisement; reserved (and
    /// ignored) in a solicitation.
    pub flags: u8,
    pub target: Ipv6Addr,
    /// The first link-layer address option of the message's own kind: source
    /// for a solicitation, target for an advertisement. Other options, and later
    /// copies, are ignored (§4.6, as Linux does).
    pub lladdr: Option<[u8; 6]>,
}

/// What a solicitation or advertisement says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NdMessage {
    /// "Who has `target`?". From :: (duplicate address detection) it carries no
    /// source link-layer address.
    Solicitation {
        target: Ipv6Addr,
        source_lladdr: Option<[u8; 6]>,
    },
    /// "`target` is at `target_lladdr`": the sender holds `target`.
    Advertisement {
        target: Ipv6Addr,
        router: bool,
        solicited: bool,
        override_: bool,
        target_lladdr: Option<[u8; 6]>,
    },
}

impl NdPacket {
    /// Checks an ICMPv6 message (from its type field on) received with `meta`.
    pub fn parse(msg: &[u8], meta: &NdMeta) -> Result<NdPacket, NdError> {
        if meta.hop_limit != ND_HOP_LIMIT {
            return Err(NdError::BadHopLimit {
                hop_limit: meta.hop_limit,
            });
        }
        if msg.len() < MESSAGE_LEN {
            return Err(NdError::Truncated { len: msg.len() });
        }
        let (kind, wanted_opt) = match msg[0] {
            ND_NEIGHBOR_SOLICIT => (NdKind::Solicitation, OPT_SOURCE_LLADDR),
            ND_NEIGHBOR_ADVERT => (NdKind::Advertisement, OPT_TARGET_LLADDR),
            icmp_type => return Err(NdError::NotNd { icmp_type }),
        };
        if msg[1] != 0 {
            return Err(NdError::BadCode { code: msg[1] });
        }
        let mut target = [0u8; 16];
        target.copy_from_slice(&msg[8..24]);
        let mut lladdr = None;
        let mut at = MESSAGE_LEN;
        while at < msg.len() {
            let (opt, units) = match msg.get(at..at + 2) {
                Some(&[opt, units]) => (opt, units),
                _ => return Err(NdError::BadOptionLength { at }),
            };
            let end = at + usize::from(units) * 8;
            if units == 0 || end > msg.len() {
                return Err(NdError::BadOptionLength { at });
            }
            if opt == wanted_opt {
                if units != 1 {
                    return Err(NdError::BadLladdrOption { units });
                }
                if lladdr.is_none() {
                    let mut mac = [0u8; 6];
                    mac.copy_from_slice(&msg[at + 2..at + 8]);
                    lladdr = Some(mac);
                }
            }
            at = end;
        }
        Ok(NdPacket {
            meta: *meta,
            kind,
            flags: msg[4],
            target: Ipv6Addr::from(target),
            lladdr,
        })
    }

    /// What the packet says, after the checks of RFC 4861 §7.1.1 / §7.1.2 that
    /// need its addresses.
    pub fn meaning(&self) -> Result<NdMessage, NdError> {
        if self.target.is_multicast() {
            return Err(NdError::MulticastTarget { target: self.target });
        }
        match self.kind {
            NdKind::Solicitation => {
                if self.meta.src.is_unspecified() {
                    if !is_solicited_node(self.meta.dst) {
                        return Err(NdError::DadNotToSolicitedNode { dst: self.meta.dst });
                    }
                    if self.lladdr.is_some() {
                        return Err(NdError::DadWithSourceLladdr);
                    }
                }
                Ok(NdMessage::Solicitation {
                    target: self.target,
                    source_lladdr: self.lladdr,
                })
            }
            NdKind::Advertisement => {
                let solicited = self.flags & NA_SOLICITED != 0;
                if solicited && self.meta.dst.is_multicast() {
                    return Err(NdError::SolicitedToMulticast { dst: self.meta.dst });
                }
                Ok(NdMessage::Advertisement {
                    target: self.target,
                    router: self.flags & NA_ROUTER != 0,
                    solicited,
                    override_: self.flags & NA_OVERRIDE != 0,
                    target_lladdr: self.lladdr,
                })
            }
        }
    }
}

impl NdMessage {
    /// Checks and reads a received message: [`NdPacket::parse`], then
    /// [`NdPacket::meaning`].
    pub fn parse(msg: &[u8], meta: &NdMeta) -> Result<NdMessage, NdError> {
        NdPacket::parse(msg, meta)?.meaning()
    }

    pub fn target(&self) -> Ipv6Addr {
        match *self {
            NdMessage::Solicitation { target, .. } | NdMessage::Advertisement { target, .. } => target,
        }
    }

    /// The message, with its link-layer address option if any, and the
    /// checksum it has when sent from `src` to `dst`.
    pub fn emit(&self, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
        let (icmp_type, flags, opt, lladdr) = match *self {
            NdMessage::Solicitation { source_lladdr, .. } => {
                (ND_NEIGHBOR_SOLICIT, 0, OPT_SOURCE_LLADDR, source_lladdr)
            }
            NdMessage::Advertisement {
                router,
                solicited,
                override_,
                target_lladdr,
                ..
            } => {
                let flags = if router { NA_ROUTER } else { 0 }
                    | if solicited { NA_SOLICITED } else { 0 }
                    | if override_ { NA_OVERRIDE } else { 0 };
                (ND_NEIGHBOR_ADVERT, flags, OPT_TARGET_LLADDR, target_lladdr)
            }
        };
        let mut m = Vec::with_capacity(MESSAGE_LEN + 8);
        m.extend_from_slice(&[icmp_type, 0, 0, 0, flags, 0, 0, 0]);
        m.extend_from_slice(&self.target().octets());
        if let Some(mac) = lladdr {
            m.extend_from_slice(&[opt, 1]);
            m.extend_from_slice(&mac);
        }
        let sum = checksum(&m, src, dst);
        m[2..4].copy_from_slice(&sum.to_be_bytes());
        m
    }
}

/// The ICMPv6 checksum over the pseudo-header (RFC 8200 §8.1) and `msg`: what to
/// put in a message whose checksum field is zero, or zero when it verifies.
pub fn checksum(msg: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> u16 {
    let mut all = Vec::with_capacity(40 + msg.len());
    all.extend_from_slice(&src.octets());
    all.extend_from_slice(&dst.octets());
    all.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    all.extend_from_slice(&[0, 0, 0, IPPROTO_ICMPV6]);
    all.extend_from_slice(msg);
    internet_checksum(&all)
}

/// The solicited-node multicast group of `addr`: ff02::1:ff00:0/104 and its low
/// 24 bits (RFC 4291 §2.7.1).
pub fn solicited_node(addr: Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::from([
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, o[13], o[14], o[15],
    ])
}

fn is_solicited_node(addr: Ipv6Addr) -> bool {
    addr.octets()[..13] == solicited_node(Ipv6Addr::UNSPECIFIED).octets()[..13]
}

/// The Ethernet address of an IPv6 multicast group: 33:33 and its low 32 bits
/// (RFC 2464 §7).
pub fn multicast_mac(group: Ipv6Addr) -> [u8; 6] {
    let o = group.octets();
    [0x33, 0x33, o[12], o[13], o[14], o[15]]
}

/// A duplicate address detection solicitation for `target` (RFC 4862 §5.4.2):
/// from ::, to the target's solicited-node group, no source link-layer address,
/// checksum filled in.
pub fn dad_solicitation(target: Ipv6Addr) -> Vec<u8> {
    NdMessage::Solicitation {
        target,
        source_lladdr: None,
    }
    .emit(Ipv6Addr::UNSPECIFIED, solicited_node(target))
}

/// [`dad_solicitation`] in a whole Ethernet frame from `mac`, for an AF_PACKET
/// socket: a raw ICMPv6 socket cannot send from :: (the kernel picks a source
/// address for it).
pub fn dad_solicitation_frame(mac: [u8; 6], target: Ipv6Addr) -> Vec<u8> {
    let group = solicited_node(target);
    let msg = dad_solicitation(target);
    let mut f = Vec::with_capacity(14 + 40 + msg.len());
    f.extend_from_slice(&multicast_mac(group));
    f.extend_from_slice(&mac);
    f.extend_from_slice(&ETH_P_IPV6.to_be_bytes());
    Ipv6Header {
        traffic_class: 0,
        flow_label: 0,
        next_header: IPPROTO_ICMPV6,
        hop_limit: ND_HOP_LIMIT,
        src: Ipv6Addr::UNSPECIFIED,
        dst: group,
    }
    .emit(msg.len(), &mut f);
    f.extend_from_slice(&msg);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
    const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().expect("literal")
    }

    /// `tcpdump -xx` hex (offsets dropped) to bytes.
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

    /// Splits a captured Ethernet/IPv6 frame into the meta and ICMPv6 message a
    /// raw socket would hand over, and checks the kernel's checksum on the way.
    fn split(frame: &[u8]) -> (NdMeta, Vec<u8>) {
        assert_eq!(&frame[12..14], &ETH_P_IPV6.to_be_bytes());
        let ip = &frame[14..];
        assert_eq!(ip[6], IPPROTO_ICMPV6);
        let plen = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src.copy_from_slice(&ip[8..24]);
        dst.copy_from_slice(&ip[24..40]);
        let meta = NdMeta {
            src: Ipv6Addr::from(src),
            dst: Ipv6Addr::from(dst),
            hop_limit: ip[7],
        };
        let msg = ip[40..40 + plen].to_vec();
        assert_eq!(
            checksum(&msg, meta.src, meta.dst),
            0,
            "captured checksum verifies"
        );
        (meta, msg)
    }

    // Captured from Linux 6.18 across a veth pair between two namespaces, A
    // (02:00:00:00:00:0a) and B (02:00:00:00:00:0b), with
    // `ip netns exec B tcpdump -i vb -n -xx -e icmp6`:
    //
    // A's own DAD for `ip -n A addr add 2001:db8::50/64 dev va` (without nodad),
    // with the RFC 7527 nonce option Linux adds.
    const LINUX_DAD_NS: &str = "
        0x0000:  3333 ff00 0050 0200 0000 000a 86dd 6000
        0x0010:  0000 0020 3aff 0000 0000 0000 0000 0000
        0x0020:  0000 0000 0000 ff02 0000 0000 0000 0000
        0x0030:  0001 ff00 0050 8700 84cf 0000 0000 2001
        0x0040:  0db8 0000 0000 0000 0000 0000 0050 0e01
        0x0050:  6b50 e4f3 6932";
    // `ip netns exec A ping -c1 2001:db8::2`: A resolves B, B answers.
    const LINUX_NS: &str = "
        0x0000:  3333 ff00 0002 0200 0000 000a 86dd 6000
        0x0010:  0000 0020 3aff 2001 0db8 0000 0000 0000
        0x0020:  0000 0000 0050 ff02 0000 0000 0000 0000
        0x0030:  0001 ff00 0002 8700 1bcf 0000 0000 2001
        0x0040:  0db8 0000 0000 0000 0000 0000 0002 0101
        0x0050:  0200 0000 000a";
    const LINUX_SOLICITED_NA: &str = "
        0x0000:  0200 0000 000a 0200 0000 000b 86dd 6000
        0x0010:  0000 0020 3aff 2001 0db8 0000 0000 0000
        0x0020:  0000 0000 0002 2001 0db8 0000 0000 0000
        0x0030:  0000 0000 0050 8800 8a19 6000 0000 2001
        0x0040:  0db8 0000 0000 0000 0000 0000 0002 0201
        0x0050:  0200 0000 000b";
    // B sent a DAD solicitation for 2001:db8::50 (the bytes of
    // dad_solicitation_frame) from an AF_PACKET socket; A, which holds it, answered
    // to all-nodes.
    const B_DAD_NS: &str = "
        0x0000:  3333 ff00 0050 0200 0000 000b 86dd 6000
        0x0010:  0000 0018 3aff 0000 0000 0000 0000 0000
        0x0020:  0000 0000 0000 ff02 0000 0000 0000 0000
        0x0030:  0001 ff00 0050 8700 4c4f 0000 0000 2001
        0x0040:  0db8 0000 0000 0000 0000 0000 0050";
    const LINUX_DAD_NA: &str = "
        0x0000:  3333 0000 0001 0200 0000 000a 86dd 6000
        0x0010:  0000 0020 3aff 2001 0db8 0000 0000 0000
        0x0020:  0000 0000 0050 ff02 0000 0000 0000 0000
        0x0030:  0000 0000 0001 8800 f883 2000 0000 2001
        0x0040:  0db8 0000 0000 0000 0000 0000 0050 0201
        0x0050:  0200 0000 000a";

    #[test]
    fn linux_dad_solicitation_with_nonce() {
        let (meta, msg) = split(&hex(LINUX_DAD_NS));
        let p = NdPacket::parse(&msg, &meta).expect("view");
        assert_eq!(p.kind, NdKind::Solicitation);
        assert_eq!(p.lladdr, None, "the nonce option is not a link-layer address");
        assert_eq!(
            p.meaning(),
            Ok(NdMessage::Solicitation {
                target: addr("2001:db8::50"),
                source_lladdr: None
            })
        );
    }

    #[test]
    fn linux_resolution_and_solicited_answer() {
        let (meta, msg) = split(&hex(LINUX_NS));
        assert_eq!(
            NdMessage::parse(&msg, &meta),
            Ok(NdMessage::Solicitation {
                target: addr("2001:db8::2"),
                source_lladdr: Some(MAC_A)
            })
        );
        let (meta, msg) = split(&hex(LINUX_SOLICITED_NA));
        let na = NdMessage::parse(&msg, &meta).expect("NA");
        assert_eq!(
            na,
            NdMessage::Advertisement {
                target: addr("2001:db8::2"),
                router: false,
                solicited: true,
                override_: true,
                target_lladdr: Some(MAC_B)
            }
        );
        assert_eq!(na.emit(meta.src, meta.dst), msg, "emit gives Linux's bytes");
    }

    #[test]
    fn linux_answers_dad_to_all_nodes_from_the_target() {
        let (meta, msg) = split(&hex(LINUX_DAD_NA));
        assert_eq!((meta.src, meta.dst), (addr("2001:db8::50"), ALL_NODES));
        let na = NdMessage::parse(&msg, &meta).expect("NA");
        assert_eq!(
            na,
            NdMessage::Advertisement {
                target: addr("2001:db8::50"),
                router: false,
                solicited: false,
                override_: true,
                target_lladdr: Some(MAC_A)
            }
        );
        assert_eq!(na.emit(meta.src, meta.dst), msg);
    }

    #[test]
    fn dad_solicitation_builder() {
        let target = addr("2001:db8::50");
        assert_eq!(solicited_node(target), addr("ff02::1:ff00:50"));
        assert_eq!(
            solicited_node(addr("2001:db8::12:3456:789a")),
            addr("ff02::1:ff56:789a")
        );
        assert_eq!(
            multicast_mac(addr("ff02::1:ff00:50")),
            [0x33, 0x33, 0xff, 0, 0, 0x50]
        );
        let frame = dad_solicitation_frame(MAC_B, target);
        assert_eq!(frame, hex(B_DAD_NS), "what A answered on the wire");
        let (meta, msg) = split(&frame);
        assert_eq!(msg, dad_solicitation(target));
        assert_eq!(
            meta,
            NdMeta {
                src: Ipv6Addr::UNSPECIFIED,
                dst: solicited_node(target),
                hop_limit: 255
            }
        );
        assert_eq!(
            NdMessage::parse(&msg, &meta),
            Ok(NdMessage::Solicitation {
                target,
                source_lladdr: None
            })
        );
    }

    /// The Announcer's unsolicited NA reads back as an advertisement.
    #[test]
    fn announcer_na_is_an_advertisement() {
        let vip = addr("2001:db8::100");
        let msg = crate::announce::na_message(MAC_A, vip, true);
        let meta = NdMeta {
            src: addr("fe80::a"),
            dst: ALL_NODES,
            hop_limit: 255,
        };
        assert_eq!(
            NdMessage::parse(&msg, &meta),
            Ok(NdMessage::Advertisement {
                target: vip,
                router: true,
                solicited: false,
                override_: true,
                target_lladdr: Some(MAC_A)
            })
        );
    }

    #[test]
    fn round_trips() {
        let src = addr("fe80::a");
        let dst = addr("fe80::b");
        let target = addr("2001:db8::50");
        let mut messages = vec![
            NdMessage::Solicitation {
                target,
                source_lladdr: Some(MAC_A),
            },
            NdMessage::Solicitation {
                target,
                source_lladdr: None,
            },
        ];
        for bits in 0..8u8 {
            for target_lladdr in [None, Some(MAC_B)] {
                messages.push(NdMessage::Advertisement {
                    target,
                    router: bits & 1 != 0,
                    solicited: bits & 2 != 0,
                    override_: bits & 4 != 0,
                    target_lladdr,
                });
            }
        }
        let meta = NdMeta {
            src,
            dst,
            hop_limit: 255,
        };
        for m in messages {
            let bytes = m.emit(src, dst);
            assert_eq!(checksum(&bytes, src, dst), 0, "{m:?}");
            assert_eq!(NdMessage::parse(&bytes, &meta), Ok(m), "{m:?}");
        }
    }

    #[test]
    fn options_other_than_the_lladdr_are_skipped_and_the_first_lladdr_wins() {
        let meta = NdMeta {
            src: addr("fe80::b"),
            dst: ALL_NODES,
            hop_limit: 255,
        };
        let mut m = NdMessage::Advertisement {
            target: addr("2001:db8::50"),
            router: false,
            solicited: false,
            override_: true,
            target_lladdr: Some(MAC_B),
        }
        .emit(meta.src, meta.dst);
        // An unknown 16-byte option, a source lladdr (not an NA's) and a second
        // target lladdr.
        m.extend_from_slice(&[200, 2]);
        m.extend_from_slice(&[0; 14]);
        m.extend_from_slice(&[OPT_SOURCE_LLADDR, 1, 1, 2, 3, 4, 5, 6]);
        m.extend_from_slice(&[OPT_SOURCE_LLADDR, 2]);
        m.extend_from_slice(&[0; 14]);
        m.extend_from_slice(&[OPT_TARGET_LLADDR, 1]);
        m.extend_from_slice(&MAC_A);
        let p = NdPacket::parse(&m, &meta).expect("view");
        assert_eq!(p.lladdr, Some(MAC_B));
    }

    #[test]
    fn every_refusal() {
        let target = addr("2001:db8::50");
        let na_meta = NdMeta {
            src: target,
            dst: ALL_NODES,
            hop_limit: 255,
        };
        let na = NdMessage::Advertisement {
            target,
            router: false,
            solicited: false,
            override_: true,
            target_lladdr: Some(MAC_A),
        }
        .emit(na_meta.src, na_meta.dst);
        let with = |at: usize, bytes: &[u8]| {
            let mut m = na.clone();
            m[at..at + bytes.len()].copy_from_slice(bytes);
            NdMessage::parse(&m, &na_meta)
        };
        for hop_limit in [0, 1, 64, 254] {
            let meta = NdMeta { hop_limit, ..na_meta };
            assert_eq!(
                NdMessage::parse(&na, &meta),
                Err(NdError::BadHopLimit { hop_limit })
            );
        }
        assert_eq!(
            NdMessage::parse(&[], &na_meta),
            Err(NdError::Truncated { len: 0 })
        );
        assert_eq!(
            NdMessage::parse(&na[..23], &na_meta),
            Err(NdError::Truncated { len: 23 })
        );
        for icmp_type in [0, 1, 128, 133, 134, 137] {
            assert_eq!(with(0, &[icmp_type]), Err(NdError::NotNd { icmp_type }));
        }
        assert_eq!(with(1, &[1]), Err(NdError::BadCode { code: 1 }));
        assert_eq!(with(25, &[0]), Err(NdError::BadOptionLength { at: 24 }));
        assert_eq!(with(25, &[2]), Err(NdError::BadOptionLength { at: 24 }));
        // One byte of an option header left over.
        assert_eq!(
            NdMessage::parse(&[&na[..], &[1]].concat(), &na_meta),
            Err(NdError::BadOptionLength { at: 32 })
        );
        let long_lladdr = [&na[..24], &[OPT_TARGET_LLADDR, 2], &[0; 14]].concat();
        assert_eq!(
            NdMessage::parse(&long_lladdr, &na_meta),
            Err(NdError::BadLladdrOption { units: 2 })
        );
        assert_eq!(
            with(8, &ALL_NODES.octets()),
            Err(NdError::MulticastTarget { target: ALL_NODES })
        );
        assert_eq!(
            with(4, &[NA_SOLICITED | NA_OVERRIDE]),
            Err(NdError::SolicitedToMulticast { dst: ALL_NODES })
        );

        // Solicitations from :: (duplicate address detection).
        let dad_meta = NdMeta {
            src: Ipv6Addr::UNSPECIFIED,
            dst: solicited_node(target),
            hop_limit: 255,
        };
        let dad = dad_solicitation(target);
        assert!(NdMessage::parse(&dad, &dad_meta).is_ok());
        for dst in [ALL_NODES, addr("fe80::a"), addr("ff02::2:ff00:50")] {
            let meta = NdMeta { dst, ..dad_meta };
            assert_eq!(
                NdMessage::parse(&dad, &meta),
                Err(NdError::DadNotToSolicitedNode { dst })
            );
        }
        let with_sll = NdMessage::Solicitation {
            target,
            source_lladdr: Some(MAC_B),
        }
        .emit(dad_meta.src, dad_meta.dst);
        assert_eq!(
            NdMessage::parse(&with_sll, &dad_meta),
            Err(NdError::DadWithSourceLladdr)
        );

        let names = [
            NdError::BadHopLimit { hop_limit: 0 },
            NdError::Truncated { len: 0 },
            NdError::NotNd { icmp_type: 0 },
            NdError::BadCode { code: 0 },
            NdError::BadOptionLength { at: 0 },
            NdError::BadLladdrOption { units: 0 },
            NdError::MulticastTarget { target: ALL_NODES },
            NdError::DadNotToSolicitedNode { dst: ALL_NODES },
            NdError::DadWithSourceLladdr,
            NdError::SolicitedToMulticast { dst: ALL_NODES },
        ]
        .map(NdError::as_str);
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn never_panics_on_any_prefix_or_byte() {
        let meta = NdMeta {
            src: addr("fe80::b"),
            dst: addr("fe80::a"),
            hop_limit: 255,
        };
        let good = NdMessage::Solicitation {
            target: addr("2001:db8::50"),
            source_lladdr: Some(MAC_B),
        }
        .emit(meta.src, meta.dst);
        let mut long = good.clone();
        long.extend_from_slice(&[9, 1, 0, 0, 0, 0, 0, 0]);
        for len in 0..=long.len() {
            let _ = NdMessage::parse(&long[..len], &meta);
        }
        for at in 0..long.len() {
            for v in [0u8, 1, 2, 0x7f, 0x80, 0xff] {
                let mut m = long.clone();
                m[at] = v;
                let _ = NdMessage::parse(&m, &meta);
            }
        }
    }
}
