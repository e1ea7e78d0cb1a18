//! What an instance holds while Master besides plain VIPs: routes
//! (`virtual_routes`) and addresses with a broadcast or scope.

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_route::address::{AddressAttribute, AddressScope};
use netlink_packet_route::route::{RouteScope, RouteType};
use nix::libc;
use rtnetlink::RouteMessageBuilder;

use super::{Netlink, errno_of, nl_error};

/// One route, as the kernel takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: IpAddr,
    pub prefix_len: u8,
    pub blackhole: bool,
    pub src: Option<IpAddr>,
    pub via: Option<IpAddr>,
    /// The output interface's index.
    pub oif: Option<u32>,
    /// `None`: link for a device route without gateway (as `ip route`),
    /// else global.
    pub scope: Option<u8>,
    /// `None`: main.
    pub table: Option<u32>,
    pub metric: Option<u32>,
}

/// The builder's refusal (its type is not exported) as an io error.
fn bad(e: impl std::fmt::Debug) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{e:?}"))
}

impl RouteSpec {
    fn message(&self) -> io::Result<netlink_packet_route::route::RouteMessage> {
        let mut b = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(self.dst, self.prefix_len)
            .map_err(bad)?;
        if let Some(v) = self.via {
            b = b.gateway(v).map_err(bad)?;
        }
        if let Some(s) = self.src {
            b = b.pref_source(s).map_err(bad)?;
        }
        if let Some(i) = self.oif {
            b = b.output_interface(i);
        }
        if let Some(t) = self.table {
            b = b.table_id(t);
        }
        if let Some(m) = self.metric {
            b = b.priority(m);
        }
        let scope = match self.scope {
            Some(s) => RouteScope::from(s),
            None if self.via.is_none() && !self.blackhole && self.oif.is_some() => RouteScope::Link,
            None => RouteScope::Universe,
        };
        b = b.scope(scope);
        if self.blackhole {
            b = b.kind(RouteType::BlackHole);
        }
        Ok(b.build())
    }
}

impl Netlink {
    /// Adds a route; one that is there already is Ok.
    pub async fn add_route(&self, r: &RouteSpec) -> io::Result<()> {
        let what = format!("adding route to {}/{}", r.dst, r.prefix_len);
        let msg = r.message().map_err(|e| crate::context(e, &what))?;
        match self.handle.route().add(msg).execute().await {
            Ok(()) => Ok(()),
            Err(e) if errno_of(&e) == Some(libc::EEXIST) => Ok(()),
            Err(e) => Err(nl_error(e, what)),
        }
    }

    /// Removes a route; one that is not there (the kernel drops a route with
    /// its device or source address) is Ok.
    pub async fn del_route(&self, r: &RouteSpec) -> io::Result<()> {
        let what = format!("removing route to {}/{}", r.dst, r.prefix_len);
        let msg = r.message().map_err(|e| crate::context(e, &what))?;
        match self.handle.route().del(msg).execute().await {
            Ok(()) => Ok(()),
            Err(e) if matches!(errno_of(&e), Some(libc::ESRCH | libc::ENODEV | libc::ENOENT)) => Ok(()),
            Err(e) => Err(nl_error(e, what)),
        }
    }

    /// [`Netlink::add_address`] with keepalived's `brd` (IPv4) and `scope`.
    pub async fn add_address_with(
        &self,
        index: u32,
        addr: IpAddr,
        prefix_len: u8,
        label: Option<&str>,
        brd: Option<Ipv4Addr>,
        scope: Option<u8>,
    ) -> io::Result<()> {
        if brd.is_none() && scope.is_none() {
            return self.add_address(index, addr, prefix_len, label).await;
        }
        super::check_prefix(addr, prefix_len)?;
        let what = format!("adding {addr}/{prefix_len} to interface index {index}");
        let mut req = self.handle.address().add(index, addr, prefix_len);
        let msg = req.message_mut();
        if let Some(s) = scope {
            msg.header.scope = AddressScope::from(s);
        }
        if let Some(b) = brd {
            msg.attributes
                .retain(|a| !matches!(a, AddressAttribute::Broadcast(_)));
            msg.attributes.push(AddressAttribute::Broadcast(b));
        }
        if let Some(l) = label {
            let link = self
                .link_by_index(index)
                .await
                .map_err(|e| crate::context(e, &what))?;
            super::check_label(l, &link.name).map_err(|e| crate::context(e, &what))?;
            msg.attributes.push(AddressAttribute::Label(l.to_string()));
        }
        if addr.is_ipv6() {
            use netlink_packet_route::address::{AddressFlags, AddressHeaderFlags};
            msg.header.flags |= AddressHeaderFlags::Nodad;
            msg.attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        match req.execute().await {
            Ok(()) => Ok(()),
            Err(e) if errno_of(&e) == Some(libc::EEXIST) => Ok(()),
            Err(e) => Err(nl_error(e, what)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(via: Option<&str>, oif: Option<u32>) -> RouteSpec {
        RouteSpec {
            dst: "198.51.100.0".parse().unwrap(),
            prefix_len: 24,
            blackhole: false,
            src: None,
            via: via.map(|v| v.parse().unwrap()),
            oif,
            scope: None,
            table: Some(1000),
            metric: Some(7),
        }
    }

    #[test]
    fn device_routes_are_link_scope_like_ip_route() {
        let m = spec(None, Some(3)).message().expect("message");
        assert_eq!(m.header.scope, RouteScope::Link);
        let m = spec(Some("192.0.2.1"), Some(3)).message().expect("message");
        assert_eq!(m.header.scope, RouteScope::Universe);
        let mut b = spec(None, None);
        b.blackhole = true;
        assert_eq!(b.message().expect("message").header.kind, RouteType::BlackHole);
    }

    #[test]
    fn a_gateway_of_another_family_is_an_error_value() {
        let mut r = spec(None, None);
        r.src = Some("2001:db8::1".parse().unwrap());
        assert!(r.message().is_err());
    }
}
