//! Sync groups and weighted links on the virtual LAN: two nodes, two
//! instances (VI_1, VI_2) preferred on node0 (150 against 100), some
//! tracking eth1, which goes down on node0 while adverts still flow.

use std::collections::BTreeMap;
use std::time::Duration;

use baton_node::sim::{Lan, SimConfig, SimInstance};
use baton_vrrp::{Family, State};

fn inst(name: &str, vrid: u8, vip: &str) -> SimInstance {
    SimInstance {
        name: name.into(),
        vrid,
        family: Family::V4,
        priorities: vec![150, 100],
        advert_ms: 50,
        vips: vec![vip.parse().unwrap()],
        accept: true,
        tracks: Vec::new(),
        split_brain: false,
    }
}

/// `links`: (instance, weight of its eth1); `group`: both in sync group G,
/// with `tracking_weight` when it is `Some(true)`.
fn lan(links: &[(&str, i32)], group: Option<bool>) -> Lan {
    let extra: BTreeMap<String, String> = links
        .iter()
        .map(|(name, w)| {
            let line = format!("track_interfaces = [{{ name = \"eth1\", weight = {w} }}]");
            (name.to_string(), line)
        })
        .collect();
    let cfg = SimConfig {
        check_ms: 20,
        instances: vec![inst("VI_1", 1, "198.51.100.1"), inst("VI_2", 2, "198.51.100.2")],
        instance_extra: extra,
        sync_groups: group
            .map(|w| ("G".to_string(), vec!["VI_1".to_string(), "VI_2".to_string()], w))
            .into_iter()
            .collect(),
        ..SimConfig::default()
    };
    let mut lan = Lan::new(11, cfg, 2);
    assert!(lan.settle(Duration::from_secs(3)), "{}", lan.trace.join("\n"));
    lan
}

fn state(lan: &Lan, k: usize, name: &str) -> State {
    let node = lan.nodes[k].node.as_ref().expect("node");
    node.instance_by_name(name).expect("instance").vrrp.state()
}

fn masters(lan: &Lan) -> (Vec<usize>, Vec<usize>) {
    let of = |name| (0..2).filter(|k| state(lan, *k, name) == State::Master).collect();
    (of("VI_1"), of("VI_2"))
}

fn assert_clean(lan: &Lan) {
    assert!(
        lan.violations.is_empty(),
        "{}\n{}",
        lan.violations.join("\n"),
        lan.trace.join("\n")
    );
}

#[test]
fn a_sync_group_fails_over_together_when_one_members_link_goes_down_and_comes_back_together() {
    let mut lan = lan(&[("VI_1", 0)], Some(false));
    assert_eq!(masters(&lan), (vec![0], vec![0]));
    lan.set_iface(0, "eth1", false);
    lan.run_for(Duration::from_millis(500));
    assert_eq!(state(&lan, 0, "VI_1"), State::Fault);
    assert_eq!(
        state(&lan, 0, "VI_2"),
        State::Fault,
        "VI_2's own link is fine: the group faults"
    );
    assert_eq!(masters(&lan), (vec![1], vec![1]));
    let node0 = lan.nodes[0].node.as_ref().unwrap();
    let faults = &node0.instance_by_name("VI_2").unwrap().faults;
    assert!(
        faults.iter().any(|c| c.to_string().contains("sync group G")),
        "{faults:?}"
    );
    lan.set_iface(0, "eth1", true);
    assert!(lan.settle(Duration::from_secs(3)), "{}", lan.trace.join("\n"));
    assert_eq!(masters(&lan), (vec![0], vec![0]));
    assert_clean(&lan);
}

#[test]
fn a_weighted_link_moves_the_vip_by_priority_not_by_fault() {
    let mut lan = lan(&[("VI_1", -60)], None);
    assert_eq!(masters(&lan), (vec![0], vec![0]));
    lan.set_iface(0, "eth1", false);
    lan.run_for(Duration::from_millis(500));
    let node0 = lan.nodes[0].node.as_ref().unwrap();
    let vi1 = node0.instance_by_name("VI_1").unwrap();
    assert_eq!(vi1.vrrp.state(), State::Backup, "not FAULT: {:?}", vi1.faults);
    assert_eq!(vi1.vrrp.effective_priority(), 90);
    assert_eq!(
        masters(&lan),
        (vec![1], vec![0]),
        "node1 (100) outranks 150-60; VI_2 stays"
    );
    lan.set_iface(0, "eth1", true);
    assert!(lan.settle(Duration::from_secs(3)));
    assert_eq!(masters(&lan), (vec![0], vec![0]), "preempts back at 150");
    assert_clean(&lan);
}

#[test]
fn with_tracking_weight_the_group_moves_when_every_member_would() {
    let mut lan = lan(&[("VI_1", -60), ("VI_2", -60)], Some(true));
    lan.set_iface(0, "eth1", false);
    lan.run_for(Duration::from_millis(800));
    assert_eq!(masters(&lan), (vec![1], vec![1]));
    assert_eq!(state(&lan, 0, "VI_1"), State::Backup, "by priority, not FAULT");
    lan.set_iface(0, "eth1", true);
    assert!(lan.settle(Duration::from_secs(3)), "{}", lan.trace.join("\n"));
    assert_eq!(masters(&lan), (vec![0], vec![0]));
    assert_clean(&lan);
}

#[test]
fn with_tracking_weight_one_lowered_member_does_not_split_the_group() {
    // node1's VI_1 would preempt, but its VI_2 still hears a better Master:
    // keepalived prefers Backup over splitting the group (no thrashing).
    let mut lan = lan(&[("VI_1", -60)], Some(true));
    lan.set_iface(0, "eth1", false);
    let flips = lan.transitions;
    lan.run_for(Duration::from_secs(2));
    assert_eq!(masters(&lan), (vec![0], vec![0]));
    assert_eq!(lan.transitions, flips, "{}", lan.trace.join("\n"));
    let node1 = lan.nodes[1].node.as_ref().unwrap();
    let vi1 = node1.instance_by_name("VI_1").unwrap();
    assert!(
        vi1.vrrp.wants_master() && vi1.vrrp.held(),
        "it waits for its group"
    );
    assert_clean(&lan);
}

#[test]
fn a_reload_that_removes_the_group_lets_each_instance_decide_alone() {
    let mut lan = lan(&[("VI_1", -60)], Some(true));
    lan.set_iface(0, "eth1", false);
    lan.run_for(Duration::from_millis(800));
    assert_eq!(masters(&lan), (vec![0], vec![0]));
    let mut cfg = lan.cfg.clone();
    cfg.sync_groups.clear();
    lan.reload(0, &cfg);
    lan.reload(1, &cfg);
    lan.cfg = cfg;
    assert!(lan.settle(Duration::from_secs(3)), "{}", lan.trace.join("\n"));
    assert_eq!(
        masters(&lan),
        (vec![1], vec![0]),
        "VI_1 alone follows its priority"
    );
    assert_clean(&lan);
}
