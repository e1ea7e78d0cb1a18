//! `use_vmac`, `routes` and `excluded_vips` as the node asks for them: the
//! macvlan made before its socket opens and deleted after the last advert,
//! VIPs and announcements on it, routes after the VIPs while Master and
//! before them when giving up, excluded addresses held but not advertised,
//! and reloads of each.

mod common;

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use baton_node::{Effect, Node, Primaries, VipOp};
use baton_vrrp::State;
use common::drain;

fn cfg(extra: &str) -> baton_config::Config {
    let text = format!(
        "router_id = \"lb01\"\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = 150\n\
         advert_interval = \"100ms\"\nvips = [\"192.0.2.100/24\"]\n{extra}\n"
    );
    baton_config::parse(&text, Path::new("/t/node.toml")).unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
        )
    })
}

fn primaries(c: &baton_config::Config) -> Primaries {
    c.instances
        .iter()
        .map(|i| (i.name.clone(), "192.0.2.11".parse::<IpAddr>().unwrap()))
        .collect()
}

fn started(extra: &str) -> (Node, Instant, Vec<Effect>) {
    let c = cfg(extra);
    let mut node = Node::new(c.clone(), &primaries(&c)).expect("node");
    let now = Instant::now();
    node.handle_link(now, "eth0", true);
    node.start(now, &[]);
    let fx = drain(&mut node, now);
    (node, now, fx)
}

/// Started and Master (no peer: Master_Down_Interval passed).
fn master(extra: &str) -> (Node, Instant, Vec<Effect>) {
    let (mut node, t0, _) = started(extra);
    let now = t0 + Duration::from_millis(400);
    node.handle_timeout(now);
    let fx = drain(&mut node, now);
    (node, now, fx)
}

fn state(node: &Node) -> State {
    node.instance_by_name("VI_1").expect("VI_1").vrrp.state()
}

fn pos(fx: &[Effect], f: impl Fn(&Effect) -> bool) -> usize {
    fx.iter()
        .position(f)
        .unwrap_or_else(|| panic!("not found in {fx:#?}"))
}

#[test]
fn the_macvlan_is_made_before_its_socket_and_adverts_use_it() {
    let (_, _, fx) = started("use_vmac = true");
    let create = pos(&fx, |e| matches!(e, Effect::CreateVmac { .. }));
    let open = pos(&fx, |e| matches!(e, Effect::OpenSocket { .. }));
    assert!(create < open, "{fx:#?}");
    let Effect::CreateVmac { vmac, .. } = &fx[create] else {
        unreachable!()
    };
    assert_eq!((vmac.name.as_str(), vmac.base.as_str()), ("vrrp.51", "eth0"));
    assert_eq!(vmac.mac, [0, 0, 0x5e, 0, 1, 51]);
    let Effect::OpenSocket { key, .. } = &fx[open] else {
        unreachable!()
    };
    assert_eq!(key.interface, "vrrp.51");
}

#[test]
fn vmac_xmit_base_keeps_adverts_on_the_interface_and_vips_on_the_macvlan() {
    let (_, _, fx) = started("use_vmac = \"vip51\"\nvmac_xmit_base = true");
    let Effect::OpenSocket { key, .. } = &fx[pos(&fx, |e| matches!(e, Effect::OpenSocket { .. }))] else {
        unreachable!()
    };
    assert_eq!(key.interface, "eth0");
    let (_, _, fx) = master("use_vmac = \"vip51\"\nvmac_xmit_base = true");
    let Effect::AddVip { vip, .. } = &fx[pos(&fx, |e| matches!(e, Effect::AddVip { .. }))] else {
        unreachable!()
    };
    assert_eq!(vip.dev, "vip51");
}

#[test]
fn a_master_puts_its_vips_on_the_macvlan_and_announces_them_there() {
    let (_, _, fx) = master("use_vmac = true");
    let adds: Vec<&str> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::AddVip { vip, .. } => Some(vip.dev.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(adds, ["vrrp.51"]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Announce { vip, .. } if vip.dev == "vrrp.51")),
        "{fx:#?}"
    );
}

#[test]
fn shutdown_deletes_the_macvlan_after_the_last_advert() {
    let (mut node, now, _) = master("use_vmac = true");
    node.shutdown(now);
    let fx = drain(&mut node, now);
    let last_advert = fx
        .iter()
        .rposition(|e| matches!(e, Effect::Send { .. }))
        .expect("priority 0");
    let delete = pos(&fx, |e| matches!(e, Effect::DeleteVmac { .. }));
    assert!(last_advert < delete, "{fx:#?}");
    assert!(node.is_settled());
}

#[test]
fn routes_follow_the_vips_in_and_out() {
    let routes = "routes = [\"198.51.100.0/24 via 192.0.2.1\", \"blackhole 198.51.100.128/25\"]";
    let (mut node, now, fx) = master(routes);
    let vip = pos(&fx, |e| matches!(e, Effect::AddVip { .. }));
    let route = pos(&fx, |e| matches!(e, Effect::AddRoute { .. }));
    assert!(vip < route, "the VIP a route may use first: {fx:#?}");
    assert_eq!(
        fx.iter().filter(|e| matches!(e, Effect::AddRoute { .. })).count(),
        2
    );
    let id = node.instance_by_name("VI_1").unwrap().id;
    assert_eq!(node.instance(id).unwrap().routes.held().count(), 2);
    node.shutdown(now);
    let fx = drain(&mut node, now);
    let route = pos(&fx, |e| matches!(e, Effect::RemoveRoute { .. }));
    let vip = pos(&fx, |e| matches!(e, Effect::RemoveVip { .. }));
    assert!(route < vip, "{fx:#?}");
    assert!(node.is_settled());
}

#[test]
fn a_failed_route_is_retried_and_does_not_fault_the_instance() {
    let (mut node, now, _) = started("routes = [\"198.51.100.0/24 via 192.0.2.1\"]");
    let now = now + Duration::from_millis(400);
    node.handle_timeout(now);
    let mut failed = None;
    while let Some(e) = node.poll_effect() {
        match &e {
            Effect::AddVip { instance, vip } => {
                node.handle_vip_result(now, *instance, vip, VipOp::Add, Ok(()))
            }
            Effect::AddRoute { instance, route } => failed = Some((*instance, route.clone())),
            _ => {}
        }
    }
    let (id, route) = failed.expect("a route add");
    node.handle_route_result(now, id, &route, VipOp::Add, Err("Network is unreachable".into()));
    let fx = drain(&mut node, now);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Event(baton_node::Event::NetFailed { .. }))),
        "{fx:#?}"
    );
    assert_eq!(node.instance(id).unwrap().vrrp.state(), baton_vrrp::State::Master);
    let retry = node.poll_timeout().expect("a retry");
    assert!(retry <= now + Duration::from_millis(10));
    node.handle_timeout(now + Duration::from_millis(10));
    let fx = drain(&mut node, now + Duration::from_millis(10));
    assert!(fx.iter().any(|e| matches!(e, Effect::AddRoute { .. })), "{fx:#?}");
}

#[test]
fn excluded_vips_are_held_but_not_advertised() {
    let (node, _, fx) = master("excluded_vips = [\"198.51.100.7/32\", \"2001:db8::7\"]");
    let adds: Vec<String> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::AddVip { vip, .. } => Some(vip.addr.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(adds, ["192.0.2.100", "198.51.100.7", "2001:db8::7"]);
    let inst = node.instance_by_name("VI_1").unwrap();
    assert_eq!(
        inst.vrrp.config().vips,
        vec!["192.0.2.100".parse::<IpAddr>().unwrap()]
    );
}

#[test]
fn a_reload_adds_new_routes_and_excluded_vips_before_the_old_go() {
    let old = "routes = [\"198.51.100.0/24 via 192.0.2.1\"]\nexcluded_vips = [\"198.51.100.7\"]";
    let (mut node, now, _) = master(old);
    let new = cfg("routes = [\"198.51.100.0/25 via 192.0.2.1\"]\nexcluded_vips = [\"198.51.100.8\"]");
    let plan = node.reload(now, new.clone(), &primaries(&new)).expect("reload");
    assert_eq!(
        plan.changed,
        vec![(
            "VI_1".to_string(),
            vec![baton_node::Change::ExcludedVips, baton_node::Change::Routes]
        )]
    );
    let fx = drain(&mut node, now);
    let add_vip = pos(
        &fx,
        |e| matches!(e, Effect::AddVip { vip, .. } if vip.addr.to_string() == "198.51.100.8"),
    );
    let del_vip = pos(
        &fx,
        |e| matches!(e, Effect::RemoveVip { vip, .. } if vip.addr.to_string() == "198.51.100.7"),
    );
    assert!(add_vip < del_vip, "{fx:#?}");
    let add_route = pos(
        &fx,
        |e| matches!(e, Effect::AddRoute { route, .. } if route.prefix_len == 25),
    );
    let del_route = pos(
        &fx,
        |e| matches!(e, Effect::RemoveRoute { route, .. } if route.prefix_len == 24),
    );
    assert!(add_route < del_route, "{fx:#?}");
}

#[test]
fn a_reload_that_renames_the_macvlan_recreates_it_and_reopens_its_socket() {
    let (mut node, now, _) = master("use_vmac = true");
    let new = cfg("use_vmac = \"vip51\"");
    let plan = node.reload(now, new.clone(), &primaries(&new)).expect("reload");
    assert_eq!(plan.replaced, vec![("VI_1".to_string(), "use_vmac")]);
    let fx = drain(&mut node, now);
    let delete = pos(
        &fx,
        |e| matches!(e, Effect::DeleteVmac { vmac, .. } if vmac.name == "vrrp.51"),
    );
    let create = pos(
        &fx,
        |e| matches!(e, Effect::CreateVmac { vmac, .. } if vmac.name == "vip51"),
    );
    let open = pos(
        &fx,
        |e| matches!(e, Effect::OpenSocket { key, .. } if key.interface == "vip51"),
    );
    assert!(delete < create && create < open, "{fx:#?}");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::CloseSocket { key } if key.interface == "vrrp.51"))
    );
}

#[test]
fn a_new_vrid_on_a_named_macvlan_recreates_it_and_reopens_the_socket_on_it() {
    let (mut node, now, _) = master("use_vmac = \"vip\"");
    let new = cfg("use_vmac = \"vip\"");
    let text = new.instances[0].clone();
    let mut new = new;
    new.instances[0] = baton_config::InstanceConfig { vrid: 52, ..text };
    let plan = node.reload(now, new.clone(), &primaries(&new)).expect("reload");
    assert_eq!(plan.replaced, vec![("VI_1".to_string(), "vrid")]);
    let fx = drain(&mut node, now);
    let delete = pos(
        &fx,
        |e| matches!(e, Effect::DeleteVmac { vmac, .. } if vmac.mac[5] == 51),
    );
    let create = pos(
        &fx,
        |e| matches!(e, Effect::CreateVmac { vmac, .. } if vmac.mac[5] == 52),
    );
    // The same socket key, but the old link is gone: closed and opened again.
    let close = pos(
        &fx,
        |e| matches!(e, Effect::CloseSocket { key } if key.interface == "vip"),
    );
    let open = pos(
        &fx,
        |e| matches!(e, Effect::OpenSocket { key, .. } if key.interface == "vip"),
    );
    assert!(delete < create && create < close && close < open, "{fx:#?}");
}

#[test]
fn a_socket_that_failed_on_its_macvlan_is_retried_after_making_the_macvlan_again() {
    let c = cfg("use_vmac = true");
    let mut node = Node::new(c.clone(), &primaries(&c)).expect("node");
    let now = Instant::now();
    node.handle_link(now, "eth0", true);
    node.start(now, &[]);
    let mut fx = Vec::new();
    while let Some(e) = node.poll_effect() {
        match &e {
            Effect::CreateVmac { instance, vmac } => {
                node.handle_vmac_result(now, *instance, vmac, true, Err("Operation not supported".into()))
            }
            Effect::OpenSocket { key, .. } => {
                node.handle_socket_result(now, key, Err("No such device".into()))
            }
            _ => {}
        }
        fx.push(e);
    }
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Event(baton_node::Event::NetFailed { what, .. }) if what.contains("creating macvlan vrrp.51"))),
        "{fx:#?}"
    );
    let retry = node.poll_timeout().expect("a retry");
    node.handle_timeout(retry);
    let fx = drain(&mut node, retry);
    let create = pos(&fx, |e| matches!(e, Effect::CreateVmac { .. }));
    let open = pos(&fx, |e| matches!(e, Effect::OpenSocket { .. }));
    assert!(create < open, "{fx:#?}");
}

#[test]
fn a_macvlan_deleted_by_hand_is_made_again_and_its_socket_reopened() {
    let (mut node, t0, _) = master("use_vmac = true");
    node.handle_link(t0, "vrrp.51", true);
    let fx = drain(&mut node, t0);
    assert_makes_none(&fx);
    // `ip link del vrrp.51`: the instance cannot speak, so it faults...
    let t1 = t0 + Duration::from_millis(50);
    node.handle_link(t1, "vrrp.51", false);
    let fx = drain(&mut node, t1);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Event(baton_node::Event::SocketFailed { error, .. }) if error.contains("macvlan vrrp.51 went down or away"))),
        "{fx:#?}"
    );
    assert_eq!(state(&node), State::Fault);
    // ... and at once the macvlan is made again before its socket opens.
    let retry = node.poll_timeout().expect("a retry");
    assert!(retry <= t1, "{retry:?}");
    node.handle_timeout(t1);
    let fx = drain(&mut node, t1);
    let create = pos(&fx, |e| matches!(e, Effect::CreateVmac { .. }));
    let open = pos(&fx, |e| matches!(e, Effect::OpenSocket { .. }));
    assert!(create < open, "{fx:#?}");
    // Opened again: out of FAULT.
    let Effect::OpenSocket { key, .. } = &fx[open] else {
        unreachable!()
    };
    node.handle_socket_result(t1, key, Ok(()));
    assert_ne!(state(&node), State::Fault);

    // The base going down takes its macvlans down too: nothing to make.
    let (mut node, t0) = base_down_with_its_macvlan();
    node.handle_timeout(t0);
    let fx = drain(&mut node, t0);
    assert_makes_none(&fx);
    // Deleted while the base is down: made again when the base comes up.
    let t1 = t0 + Duration::from_millis(50);
    node.handle_link_removed(t1, "vrrp.51");
    node.handle_timeout(t1);
    let fx = drain(&mut node, t1);
    assert_makes_none(&fx);
    let t2 = t1 + Duration::from_millis(50);
    node.handle_link(t2, "eth0", true);
    node.handle_timeout(t2);
    let fx = drain(&mut node, t2);
    let create = pos(&fx, |e| matches!(e, Effect::CreateVmac { .. }));
    let open = pos(&fx, |e| matches!(e, Effect::OpenSocket { .. }));
    assert!(create < open, "{fx:#?}");
    // Only down, not deleted: the base's return brings it up, nothing to make.
    let (mut node, _) = base_down_with_its_macvlan();
    node.handle_link(t1, "eth0", true);
    node.handle_timeout(t1);
    let fx = drain(&mut node, t1);
    assert_makes_none(&fx);
}

#[test]
fn with_adverts_from_the_base_a_lost_macvlan_faults_the_instance_until_it_is_back() {
    let (mut node, t0, _) = master("use_vmac = true\nvmac_xmit_base = true");
    node.handle_link(t0, "vrrp.51", true);
    drain(&mut node, t0);
    node.handle_link(t0, "vrrp.51", false);
    let fx = drain(&mut node, t0);
    pos(&fx, |e| matches!(e, Effect::CreateVmac { .. }));
    assert!(
        fx.iter().all(|e| !matches!(e, Effect::OpenSocket { .. })),
        "{fx:#?}"
    );
    assert_eq!(state(&node), State::Fault);
    // Made again and up: Backup, then Master again with its VIPs on it.
    node.handle_link(t0, "vrrp.51", true);
    assert_eq!(state(&node), State::Backup);
    let later = t0 + Duration::from_millis(400);
    node.handle_timeout(later);
    let fx = drain(&mut node, later);
    assert_eq!(state(&node), State::Master);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::AddVip { vip, .. } if vip.dev == "vrrp.51")),
        "{fx:#?}"
    );
}

fn assert_makes_none(fx: &[Effect]) {
    assert!(
        fx.iter().all(|e| !matches!(e, Effect::CreateVmac { .. })),
        "{fx:#?}"
    );
}

/// A Master on vrrp.51 whose base eth0 went down, and the macvlan with it.
fn base_down_with_its_macvlan() -> (Node, Instant) {
    let (mut node, t0, _) = master("use_vmac = true");
    node.handle_link(t0, "vrrp.51", true);
    node.handle_link(t0, "eth0", false);
    node.handle_link(t0, "vrrp.51", false);
    (node, t0)
}
