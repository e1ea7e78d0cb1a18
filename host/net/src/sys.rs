//! The system interfaces neither socket2 nor nix wraps safely. Every `unsafe`
//! of the crate is here.

use std::io;
use std::os::fd::AsRawFd;

use nix::libc;
use socket2::{SockAddr, SockAddrStorage, Socket};

/// IP_MULTICAST_IF by interface index (struct ip_mreqn): socket2 only takes an
/// address, which is ambiguous when one address sits on several interfaces.
#[allow(unsafe_code)]
pub(crate) fn set_multicast_if_v4_index(sock: &Socket, ifindex: u32) -> io::Result<()> {
    let mreqn = libc::ip_mreqn {
        imr_multiaddr: libc::in_addr { s_addr: 0 },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: ifindex as libc::c_int,
    };
    // SAFETY: the fd is an open socket owned by `sock`; the option value points to
    // a live, fully initialised ip_mreqn and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            (&raw const mreqn).cast::<libc::c_void>(),
            std::mem::size_of::<libc::ip_mreqn>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// ICMP6_FILTER (RFC 3542 §3.2) that lets only ICMPv6 type `pass` through to a
/// raw ICMPv6 socket. Linux's struct icmp6_filter is eight u32 in host order, a
/// set bit blocking its type; libc has neither the struct nor the constant.
#[allow(unsafe_code)]
pub(crate) fn set_icmp6_filter_pass_only(sock: &Socket, pass: u8) -> io::Result<()> {
    /// linux/icmpv6.h.
    const ICMP6_FILTER: libc::c_int = 1;
    let mut filter = [u32::MAX; 8];
    filter[usize::from(pass >> 5)] &= !(1u32 << (pass & 31));
    // SAFETY: the fd is an open socket owned by `sock`; the option value points to
    // a live, initialised [u32; 8], the layout of struct icmp6_filter, and the
    // length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_ICMPV6,
            ICMP6_FILTER,
            (&raw const filter).cast::<libc::c_void>(),
            std::mem::size_of::<[u32; 8]>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A `sockaddr_ll` for sending a frame of EtherType `ethertype` to `dst_mac` out
/// of interface `ifindex` on an AF_PACKET socket, or for binding one to that
/// EtherType and interface (the MAC is then ignored).
#[allow(unsafe_code)]
pub(crate) fn link_sockaddr(ifindex: u32, ethertype: u16, dst_mac: [u8; 6]) -> SockAddr {
    let mut storage = SockAddrStorage::zeroed();
    // SAFETY: sockaddr_ll is a sockaddr type of this platform, smaller than
    // sockaddr_storage (view_as asserts it), and all-zero bytes are a valid value.
    let ll: &mut libc::sockaddr_ll = unsafe { storage.view_as() };
    ll.sll_family = libc::AF_PACKET as libc::sa_family_t;
    ll.sll_protocol = ethertype.to_be();
    ll.sll_ifindex = ifindex as libc::c_int;
    ll.sll_halen = 6;
    ll.sll_addr[..6].copy_from_slice(&dst_mac);
    let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: the storage holds an initialised sockaddr_ll of exactly `len` bytes
    // with its family set to AF_PACKET.
    unsafe { SockAddr::new(storage, len) }
}

/// Registers a socket with the tokio reactor of the current runtime.
#[allow(unsafe_code)]
pub(crate) fn async_fd<T: std::os::fd::AsRawFd>(sock: T) -> io::Result<tokio::io::unix::AsyncFd<T>> {
    // SAFETY: every T passed here (socket2::Socket, nix TimerFd) owns its fd:
    // as_raw_fd returns the same open descriptor for as long as it lives, and
    // the AsyncFd owns it until dropped, so the fd cannot be closed or reused
    // underneath it.
    unsafe { tokio::io::unix::AsyncFd::register(sock) }.map_err(|e| e.into_parts().1)
}
