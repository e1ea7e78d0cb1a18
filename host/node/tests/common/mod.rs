//! What the node tests share: configs from TOML text, primaries, a host
//! that says yes to every effect, timers run to a deadline, and adverts as
//! a socket hands them over. Each test file uses what it needs.
#![allow(dead_code)]

use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

use baton_node::{Effect, Node, Primaries, SocketKey, VipOp};
use baton_vrrp::{Advert, Family, RxMeta, V3Checksum, Version};

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("address literal")
}

/// A config from TOML text; its problems make the test fail with them.
pub fn cfg(text: &str) -> baton_config::Config {
    baton_config::parse(text, Path::new("/t/node.toml")).unwrap_or_else(|d| {
        let d: Vec<String> = d.iter().map(ToString::to_string).collect();
        panic!("{}\n{text}", d.join("\n"))
    })
}

/// Every instance's primary address is `addr`.
pub fn primaries(c: &baton_config::Config, addr: &str) -> Primaries {
    c.instances.iter().map(|i| (i.name.clone(), ip(addr))).collect()
}

/// Carries out effects as a host that says yes to everything; returns them.
pub fn drain(node: &mut Node, now: Instant) -> Vec<Effect> {
    let mut out = Vec::new();
    while let Some(e) = node.poll_effect() {
        match &e {
            Effect::OpenSocket { key, .. } => node.handle_socket_result(now, key, Ok(())),
            Effect::AddVip { instance, vip } => {
                node.handle_vip_result(now, *instance, vip, VipOp::Add, Ok(()))
            }
            Effect::RemoveVip { instance, vip } => {
                node.handle_vip_result(now, *instance, vip, VipOp::Remove, Ok(()))
            }
            Effect::AddRoute { instance, route } => {
                node.handle_route_result(now, *instance, route, VipOp::Add, Ok(()))
            }
            Effect::RemoveRoute { instance, route } => {
                node.handle_route_result(now, *instance, route, VipOp::Remove, Ok(()))
            }
            Effect::SetFirewall { .. } => node.handle_firewall_result(now, Ok(())),
            _ => {}
        }
        out.push(e);
    }
    out
}

/// Runs timers until `until`, returning the effects.
pub fn run_until(node: &mut Node, until: Instant) -> Vec<Effect> {
    let mut fx = Vec::new();
    while let Some(t) = node.poll_timeout().filter(|t| *t <= until) {
        node.handle_timeout(t);
        fx.extend(drain(node, t));
    }
    fx
}

/// A v3 IPv4 advert for `vrid` at `priority`, every `interval_cs`
/// centiseconds, for `vips`, as it leaves `src` for `dst`.
pub fn advert_bytes(
    src: &str,
    dst: &str,
    vrid: u8,
    priority: u8,
    interval_cs: u16,
    vips: &[&str],
) -> (Vec<u8>, RxMeta) {
    let a = Advert {
        version: Version::V3,
        vrid,
        priority,
        interval: interval_cs,
        auth_type: 0,
        auth_data: [0; 8],
        addrs: vips.iter().map(|v| ip(v)).collect(),
    };
    let meta = RxMeta {
        src: ip(src),
        dst: ip(dst),
        ttl: 255,
    };
    let bytes = a
        .emit(meta.src, meta.dst, V3Checksum::PseudoHeader)
        .expect("emit");
    (bytes, meta)
}

/// The IPv4 socket on `interface` bound to `source`.
pub fn socket(interface: &str, source: &str) -> SocketKey {
    SocketKey {
        interface: interface.into(),
        family: Family::V4,
        source: ip(source),
    }
}
