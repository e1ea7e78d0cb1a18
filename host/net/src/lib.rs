//! baton-net: the Linux I/O of Baton, and nothing else.
//!
//! This crate owns every system call the daemon makes to the network:
//!
//! - [`Netlink`]: links and addresses over rtnetlink (look up interfaces, add and
//!   remove VIPs idempotently, watch link state changes as [`LinkEvent`]s), and
//!   [`primary_address`], the source address VRRP uses on an interface;
//!   routes held while Master ([`RouteSpec`]) and `use_vmac` macvlans with
//!   the sysctls keepalived sets for them ([`Vmacs`]), the values to put
//!   back also kept in a journal file that the next start applies after a
//!   kill.
//! - [`VrrpSocket`]: a raw IP protocol 112 socket for one interface and family,
//!   driven by tokio, that hands received packets over as the metadata and payload
//!   `baton_vrrp::wire::parse` wants.
//! - [`Announcer`] (and the thin wrappers [`send_gratuitous_arp`] and
//!   [`send_unsolicited_na`]): gratuitous ARP and unsolicited neighbour
//!   advertisements that make the LAN follow a VIP.
//! - [`NeighProber`]: who else answers for a node's VIPs. ARP probes (RFC 5227)
//!   and DAD neighbour solicitations (RFC 4862) on one interface, the MACs that
//!   answer them ([`VipAnswers`]), and passively every ARP frame and neighbour
//!   advertisement of other stations ([`NeighEvent`], or [`NeighRecvError`]).
//!   [`SharedProber`] lets concurrent probes share one: each hears every
//!   answer that comes while it listens.
//! - [`arp`] and [`nd`]: the sans-I/O codecs it reads and writes with (here, not
//!   in `baton-vrrp`: they are not VRRP). Ethernet/IPv4 ARP frames ([`ArpFrame`],
//!   checked, then [`ArpMessage`]: request, reply, probe, announcement) and ICMPv6
//!   neighbour solicitations / advertisements ([`NdPacket`], checked, then
//!   [`NdMessage`]), every refusal an [`ArpError`] or [`NdError`]; and the
//!   probes' builders.
//! - [`firewall`]: Accept_Mode false, as one nftables table that drops
//!   traffic to the VIPs of instances that must not accept it.
//! - [`Timer`]: a timerfd, so VRRP deadlines are met to the microsecond
//!   rather than tokio's millisecond.
//!
//! The protocol itself (parsing, state machine, timers) lives in `baton-vrrp`;
//! nothing here decides anything (what a conflict means is the caller's). Errors
//! are values: `std::io::Error` with the operation and object in the message, or
//! [`RecvError`] / [`NeighRecvError`] for received packets that are malformed (to
//! be counted, not logged as failures).

mod announce;
pub mod arp;
pub mod firewall;
pub mod nd;
mod neigh;
mod netlink;
mod shared_prober;
mod sys;
mod timer;
mod vrrp_socket;

pub use announce::{Announcer, send_gratuitous_arp, send_unsolicited_na};
pub use arp::{ArpError, ArpFrame, ArpMessage, ArpOp};
pub use nd::{NdError, NdKind, NdMessage, NdMeta, NdPacket};
pub use neigh::{NeighEvent, NeighProber, NeighRecvError, VipAnswers};
pub use netlink::{IfAddr, Link, LinkEvent, Netlink, RouteSpec, VmacLink, Vmacs, primary_address};
pub use shared_prober::SharedProber;
pub use timer::Timer;
pub use vrrp_socket::{Received, RecvError, VrrpSocket};

/// Wraps an io error with what was being done, keeping its kind (and so
/// `ErrorKind::NotFound`, `PermissionDenied` … stay testable by callers).
pub(crate) fn context(err: std::io::Error, what: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(err.kind(), format!("{what}: {err}"))
}
