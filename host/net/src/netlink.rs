//! Links and addresses over rtnetlink.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;

use baton_vrrp::Family;
use futures_util::{StreamExt, TryStreamExt};
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use nix::libc;
use rtnetlink::sys::AsyncSocket;
use rtnetlink::{AddressMessageBuilder, MulticastGroup};
use tokio::sync::mpsc;

use crate::context;

mod held;
mod journal;
mod vmac;

pub use held::RouteSpec;
pub use vmac::{VmacLink, Vmacs};

/// Longest interface name (and address label) the kernel accepts: IFNAMSIZ - 1.
const IFNAME_MAX: usize = 15;

/// A network interface as the daemon needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    /// Hardware address, for Ethernet-like links.
    pub mac: Option<[u8; 6]>,
    /// Administratively up and with carrier: IFF_UP and IFF_RUNNING (the kernel sets
    /// IFF_RUNNING when the operational state is up or unknown).
    pub up: bool,
}

/// One address configured on an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfAddr {
    pub index: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    /// IPv4 label (`eth0:1`); the kernel reports the interface name for unlabelled ones.
    pub label: Option<String>,
}

/// A change of a link, from the RTMGRP_LINK multicast group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// A link appeared or one of name, MAC or up changed since `Netlink::new` or
    /// the last event (repeats are not forwarded: the kernel also notifies on
    /// changes we do not track).
    Changed(Link),
    Removed {
        index: u32,
        name: String,
    },
}

/// Every link's message, from a dump.
async fn dump_links(handle: &rtnetlink::Handle) -> io::Result<Vec<LinkMessage>> {
    handle
        .link()
        .get()
        .execute()
        .try_collect()
        .await
        .map_err(|e| nl_error(e, "listing links"))
}

/// A handle on an rtnetlink connection; cheap to clone, usable from any task.
#[derive(Clone, Debug)]
pub struct Netlink {
    handle: rtnetlink::Handle,
}

/// Receive buffer of the link monitor socket.
const MONITOR_RCVBUF: usize = 1 << 20;

/// Turns link notifications into [`LinkEvent`]s, dropping repeats.
struct Monitor {
    last: HashMap<u32, Link>,
    tx: mpsc::UnboundedSender<LinkEvent>,
}

impl Monitor {
    /// False once the receiver is gone.
    fn changed(&mut self, link: Link) -> bool {
        if self.last.get(&link.index) == Some(&link) {
            return true;
        }
        self.last.insert(link.index, link.clone());
        self.tx.send(LinkEvent::Changed(link)).is_ok()
    }

    fn removed(&mut self, index: u32, name: Option<String>) -> bool {
        let known = self.last.remove(&index).map(|l| l.name);
        let name = name.or(known).unwrap_or_default();
        self.tx.send(LinkEvent::Removed { index, name }).is_ok()
    }

    async fn resync(&mut self, handle: &rtnetlink::Handle) -> bool {
        let links: Vec<Link> = match handle.link().get().execute().try_collect::<Vec<_>>().await {
            Ok(msgs) => msgs.iter().filter_map(link_from_msg).collect(),
            // Nothing better to do than wait for the next notification.
            Err(_) => return !self.tx.is_closed(),
        };
        let gone: Vec<u32> = self
            .last
            .keys()
            .filter(|i| !links.iter().any(|l| l.index == **i))
            .copied()
            .collect();
        for index in gone {
            if !self.removed(index, None) {
                return false;
            }
        }
        links.into_iter().all(|l| self.changed(l))
    }
}

/// An address with the flags [`primary_address`] looks at.
struct AddrInfo {
    addr: IfAddr,
    secondary: bool,
    tentative: bool,
}

impl Netlink {
    /// Spawns the netlink connection on the current tokio runtime; also returns a
    /// receiver of link change events (RTMGRP_LINK multicast subscription on a
    /// second connection). If the kernel overruns the monitor's buffer, every link
    /// is re-read and what changed meanwhile is reported, so no state change is
    /// lost. The receiver ends (`None`) if the monitor connection dies: the caller
    /// should then re-create it and re-read the links.
    ///
    /// Netlink sockets belong to the network namespace of the calling thread.
    pub async fn new() -> io::Result<(Netlink, mpsc::UnboundedReceiver<LinkEvent>)> {
        let (conn, handle, _) =
            rtnetlink::new_connection().map_err(|e| context(e, "opening rtnetlink socket"))?;
        tokio::spawn(conn);

        let (mut mconn, mhandle, mut messages) = rtnetlink::new_multicast_connection(&[MulticastGroup::Link])
            .map_err(|e| context(e, "opening rtnetlink link monitor (RTMGRP_LINK)"))?;
        // Room for bursts (many VLANs flapping); an overrun is recovered below.
        mconn
            .socket_mut()
            .socket_mut()
            .set_rx_buf_sz(MONITOR_RCVBUF)
            .map_err(|e| context(e, "sizing the link monitor's receive buffer"))?;
        tokio::spawn(mconn);
        let (tx, rx) = mpsc::unbounded_channel();
        let mut monitor = Monitor {
            last: HashMap::new(),
            tx,
        };
        // Known state, read after subscribing so no change falls in between:
        // repeats of it are not news, and a resync can tell which links went away.
        let links = dump_links(&handle).await?;
        monitor.last = links
            .iter()
            .filter_map(link_from_msg)
            .map(|l| (l.index, l))
            .collect();
        let dumper = handle.clone();
        tokio::spawn(async move {
            // The monitor connection stays alive as long as a handle to it does.
            let _keep = mhandle;
            while let Some((msg, _)) = messages.next().await {
                let open = match msg.payload {
                    NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)) => {
                        match link_from_msg(&m) {
                            Some(link) => monitor.changed(link),
                            None => true,
                        }
                    }
                    NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(m)) => {
                        monitor.removed(m.header.index, link_name(&m))
                    }
                    // Events were lost: re-read every link and report what differs.
                    NetlinkPayload::Overrun(_) => monitor.resync(&dumper).await,
                    _ => true,
                };
                if !open {
                    break;
                }
            }
        });
        Ok((Netlink { handle }, rx))
    }

    /// The link called `name`; `ErrorKind::NotFound` if there is none.
    pub async fn link_by_name(&self, name: &str) -> io::Result<Link> {
        if name.is_empty() || name.len() > IFNAME_MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid interface name {name:?} (1..={IFNAME_MAX} bytes)"),
            ));
        }
        let what = format!("looking up interface {name:?}");
        let req = self.handle.link().get().match_name(name).execute();
        one_link(req, &what).await
    }

    /// Every link of the namespace.
    pub async fn links(&self) -> io::Result<Vec<Link>> {
        Ok(dump_links(&self.handle)
            .await?
            .iter()
            .filter_map(link_from_msg)
            .collect())
    }

    /// The link with `index`; `ErrorKind::NotFound` if there is none.
    pub async fn link_by_index(&self, index: u32) -> io::Result<Link> {
        let what = format!("looking up interface index {index}");
        let req = self.handle.link().get().match_index(index).execute();
        one_link(req, &what).await
    }

    /// Addresses of both families, of interface `index` or of all interfaces,
    /// in kernel order (for IPv4, primaries before their secondaries).
    pub async fn addresses(&self, index: Option<u32>) -> io::Result<Vec<IfAddr>> {
        Ok(self
            .address_infos(index)
            .await?
            .into_iter()
            .map(|a| a.addr)
            .collect())
    }

    async fn address_infos(&self, index: Option<u32>) -> io::Result<Vec<AddrInfo>> {
        let mut req = self.handle.address().get();
        if let Some(index) = index {
            req = req.set_link_index_filter(index);
        }
        let msgs: Vec<AddressMessage> = req.execute().try_collect().await.map_err(|e| {
            nl_error(
                e,
                match index {
                    Some(i) => format!("listing addresses of interface index {i}"),
                    None => "listing addresses".to_string(),
                },
            )
        })?;
        Ok(msgs.iter().filter_map(addr_from_msg).collect())
    }

    /// Adds `addr/prefix_len` to interface `index`. Idempotent: an address that is
    /// already there is Ok. IPv6 addresses are added with IFA_F_NODAD so a VIP is
    /// usable at once (duplicate detection would hold it tentative for a second or
    /// more, and a backup taking over a VIP would fail it anyway). `label` is
    /// IPv4 only and must start with the interface name, like `eth0:1`.
    pub async fn add_address(
        &self,
        index: u32,
        addr: IpAddr,
        prefix_len: u8,
        label: Option<&str>,
    ) -> io::Result<()> {
        check_prefix(addr, prefix_len)?;
        let what = format!("adding {addr}/{prefix_len} to interface index {index}");
        let mut req = self.handle.address().add(index, addr, prefix_len);
        match (addr, label) {
            (IpAddr::V4(_), Some(label)) => {
                let link = self.link_by_index(index).await.map_err(|e| context(e, &what))?;
                check_label(label, &link.name).map_err(|e| context(e, &what))?;
                req.message_mut()
                    .attributes
                    .push(AddressAttribute::Label(label.to_string()));
            }
            (IpAddr::V6(_), Some(label)) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{what}: labels exist for IPv4 only (got {label:?})"),
                ));
            }
            (IpAddr::V6(_), None) => {
                let msg = req.message_mut();
                msg.header.flags |= AddressHeaderFlags::Nodad;
                msg.attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
            }
            (IpAddr::V4(_), None) => {}
        }
        match req.execute().await {
            Ok(()) => Ok(()),
            Err(e) if errno_of(&e) == Some(libc::EEXIST) => Ok(()),
            Err(e) => Err(nl_error(e, what)),
        }
    }

    /// Removes `addr/prefix_len` from interface `index`. Idempotent: an address
    /// (or interface) that is not there is Ok.
    pub async fn del_address(&self, index: u32, addr: IpAddr, prefix_len: u8) -> io::Result<()> {
        check_prefix(addr, prefix_len)?;
        let what = format!("removing {addr}/{prefix_len} from interface index {index}");
        // Address and Local, as `ip addr del` sends: the kernel matches on both.
        let mut msg = match addr {
            IpAddr::V4(a) => AddressMessageBuilder::<std::net::Ipv4Addr>::new()
                .index(index)
                .address(a, prefix_len)
                .build(),
            IpAddr::V6(a) => AddressMessageBuilder::<std::net::Ipv6Addr>::new()
                .index(index)
                .address(a, prefix_len)
                .build(),
        };
        // The broadcast the builder adds is not a match key; leave it out.
        msg.attributes
            .retain(|a| !matches!(a, AddressAttribute::Broadcast(_)));
        match self.handle.address().del(msg).execute().await {
            Ok(()) => Ok(()),
            Err(e)
                if matches!(
                    errno_of(&e),
                    Some(libc::EADDRNOTAVAIL | libc::ENODEV | libc::ENOENT)
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(nl_error(e, what)),
        }
    }
}

/// The primary address VRRP uses as source on interface `index`.
///
/// IPv4: the first non-secondary address that is not one of `exclude` (the VIPs,
/// which may be primaries themselves when they are alone in their subnet).
/// IPv6: the link-local (fe80::/10) address (RFC 9568 §5.1.2.1); a tentative one
/// (duplicate detection still running) is `ErrorKind::AddrNotAvailable`, worth a retry.
pub async fn primary_address(
    nl: &Netlink,
    index: u32,
    family: Family,
    exclude: &[IpAddr],
) -> io::Result<IpAddr> {
    let addrs = nl.address_infos(Some(index)).await?;
    let mut tentative = None;
    for a in &addrs {
        if exclude.contains(&a.addr.addr) {
            continue;
        }
        match (family, a.addr.addr) {
            (Family::V4, IpAddr::V4(_)) if !a.secondary => return Ok(a.addr.addr),
            (Family::V6, IpAddr::V6(v6)) if (v6.segments()[0] & 0xffc0) == 0xfe80 => {
                if !a.tentative {
                    return Ok(a.addr.addr);
                }
                tentative = Some(v6);
            }
            _ => {}
        }
    }
    Err(match (family, tentative) {
        (Family::V6, Some(t)) => io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("link-local address {t} of interface index {index} is still tentative (DAD)"),
        ),
        (Family::V4, _) => io::Error::new(
            io::ErrorKind::NotFound,
            format!("interface index {index} has no primary IPv4 address other than the VIPs"),
        ),
        (Family::V6, None) => io::Error::new(
            io::ErrorKind::NotFound,
            format!("interface index {index} has no IPv6 link-local address"),
        ),
    })
}

async fn one_link(
    req: impl futures_util::Stream<Item = Result<LinkMessage, rtnetlink::Error>>,
    what: &str,
) -> io::Result<Link> {
    futures_util::pin_mut!(req);
    match req.try_next().await {
        Ok(Some(msg)) => link_from_msg(&msg)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("{what}: reply has no name"))),
        Ok(None) => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{what}: no such interface"),
        )),
        Err(e) if errno_of(&e) == Some(libc::ENODEV) => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{what}: no such interface"),
        )),
        Err(e) => Err(nl_error(e, what)),
    }
}

fn link_name(msg: &LinkMessage) -> Option<String> {
    msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.clone()),
        _ => None,
    })
}

fn link_from_msg(msg: &LinkMessage) -> Option<Link> {
    let name = link_name(msg)?;
    let mac = msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::Address(bytes) => <[u8; 6]>::try_from(bytes.as_slice()).ok(),
        _ => None,
    });
    let flags = msg.header.flags;
    Some(Link {
        index: msg.header.index,
        name,
        mac,
        up: flags.contains(LinkFlags::Up) && flags.contains(LinkFlags::Running),
    })
}

fn addr_from_msg(msg: &AddressMessage) -> Option<AddrInfo> {
    let mut local = None;
    let mut address = None;
    let mut label = None;
    let mut flags = AddressFlags::from_bits_retain(u32::from(msg.header.flags.bits()));
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Address(a) => address = Some(*a),
            AddressAttribute::Label(l) => label = Some(l.clone()),
            // IFA_FLAGS has all 32 bits; the header only the low 8.
            AddressAttribute::Flags(f) => flags = *f,
            _ => {}
        }
    }
    // On point-to-point links IFA_ADDRESS is the peer and IFA_LOCAL ours.
    let addr = local.or(address)?;
    Some(AddrInfo {
        addr: IfAddr {
            index: msg.header.index,
            addr,
            prefix_len: msg.header.prefix_len,
            label,
        },
        secondary: flags.contains(AddressFlags::Secondary),
        tentative: flags.intersects(AddressFlags::Tentative | AddressFlags::Dadfailed),
    })
}

fn check_prefix(addr: IpAddr, prefix_len: u8) -> io::Result<()> {
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix_len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("prefix length {prefix_len} too long for {addr} (at most {max})"),
        ));
    }
    Ok(())
}

/// The kernel takes any label; `ip` and keepalived insist it names the interface.
fn check_label(label: &str, ifname: &str) -> io::Result<()> {
    if !label.starts_with(ifname) || label.len() > IFNAME_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "label {label:?} must start with the interface name {ifname:?} and be at most {IFNAME_MAX} bytes"
            ),
        ));
    }
    Ok(())
}

/// The positive errno of a netlink error reply, if it is one.
fn errno_of(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(m) => Some(m.raw_code().abs()).filter(|c| *c != 0),
        _ => None,
    }
}

fn nl_error(e: rtnetlink::Error, what: impl std::fmt::Display) -> io::Error {
    match e {
        rtnetlink::Error::NetlinkError(m) => context(m.to_io(), what),
        other => io::Error::other(format!("{what}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_must_name_the_interface() {
        assert!(check_label("eth0:1", "eth0").is_ok());
        assert!(check_label("eth1:1", "eth0").is_err());
        assert!(check_label("eth0:0123456789ab", "eth0").is_err());
    }

    #[test]
    fn prefix_bounds() {
        assert!(check_prefix("192.0.2.1".parse().unwrap(), 32).is_ok());
        assert!(check_prefix("192.0.2.1".parse().unwrap(), 33).is_err());
        assert!(check_prefix("2001:db8::1".parse().unwrap(), 128).is_ok());
        assert!(check_prefix("2001:db8::1".parse().unwrap(), 129).is_err());
    }

    #[test]
    fn monitor_forwards_changes_once() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut m = Monitor {
            last: HashMap::new(),
            tx,
        };
        let link = |up| Link {
            index: 3,
            name: "eth0".into(),
            mac: None,
            up,
        };
        assert!(m.changed(link(true)));
        assert!(m.changed(link(true)));
        assert!(m.changed(link(false)));
        assert!(m.removed(3, None));
        assert_eq!(rx.try_recv().ok(), Some(LinkEvent::Changed(link(true))));
        assert_eq!(rx.try_recv().ok(), Some(LinkEvent::Changed(link(false))));
        assert_eq!(
            rx.try_recv().ok(),
            Some(LinkEvent::Removed {
                index: 3,
                name: "eth0".into()
            })
        );
        assert!(rx.try_recv().is_err());
        drop(rx);
        assert!(!m.changed(link(true)), "receiver gone");
    }

    #[test]
    fn link_up_needs_up_and_running() {
        let mut m = LinkMessage::default();
        m.header.index = 7;
        m.attributes.push(LinkAttribute::IfName("eth0".into()));
        m.attributes.push(LinkAttribute::Address(vec![2, 0, 0, 0, 0, 1]));
        m.header.flags = LinkFlags::Up;
        let l = link_from_msg(&m).unwrap();
        assert_eq!(l.mac, Some([2, 0, 0, 0, 0, 1]));
        assert!(!l.up);
        m.header.flags = LinkFlags::Up | LinkFlags::Running;
        assert!(link_from_msg(&m).unwrap().up);
        m.header.flags = LinkFlags::Running;
        assert!(!link_from_msg(&m).unwrap().up);
    }
}
