//! keepalived's vrrp_sync_group and weighted track_interface, run by Baton
//! from keepalived.conf files (examples/sync-group, examples/track-interface-weight)
//! on lb01/lb02, each with a second link eth1 (a dummy interface):
//!
//! * a sync group: eth1 goes down on lb01, where only VI_1 tracks it; VI_1
//!   goes to FAULT, VI_2 follows it, and both VIPs move to lb02; they come
//!   back together when eth1 returns.
//! * a weighted link: eth1 goes down on lb01; VI_1's priority drops from 150
//!   to 90, below lb02's 100: the VIP moves by election, and lb01 is a
//!   Backup (not FAULT) the whole time.
//!
//! * the same files run by keepalived 2.2.7 on both nodes do the same.
//!
//! They need root; without it they print "SKIPPED (needs root)" and pass,
//! except under CI=true where they fail.

use std::net::IpAddr;
use std::time::Duration;

use baton_e2e::baton::{BatonNode, logs};
use baton_e2e::{require_root, workspace_root};
use baton_lab::{self as lab, Keepalived, Lab, LabSpec};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn conf(dir: &str, host: &str) -> String {
    let path = workspace_root().join(format!("examples/{dir}/{host}.conf"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A lab whose nodes have eth1 too, running Baton on the example's files.
fn start<'a>(lab: &'a Lab, dir: &str) -> (BatonNode<'a>, BatonNode<'a>) {
    for h in ["lb01", "lb02"] {
        lab.add_link(h, "eth1").expect("eth1");
    }
    let lb01 = BatonNode::start_file(lab, "lb01", "lb01.conf", &conf(dir, "lb01"));
    let lb02 = BatonNode::start_file(lab, "lb02", "lb02.conf", &conf(dir, "lb02"));
    (lb01, lb02)
}

fn wait(what: &str, nodes: &[&BatonNode<'_>], mut f: impl FnMut() -> bool) {
    let ok = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), &mut f);
    assert!(ok, "{what}\n{}", logs(nodes));
}

#[test]
fn a_sync_group_moves_both_vips_when_one_members_tracked_link_goes_down() {
    if !require_root("a_sync_group_moves_both_vips_when_one_members_tracked_link_goes_down") {
        return;
    }
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let (lb01, lb02) = start(&lab, "sync-group");
    let (v1, v2) = (ip("192.0.2.3"), ip("192.0.2.4"));
    let both_on = |h: &str| lab.holders(v1) == [h] && lab.holders(v2) == [h];
    wait("lb01 did not take both VIPs", &[&lb01, &lb02], || both_on("lb01"));
    let st = lb01.instance("VI_2");
    assert_eq!(st.sync_group.as_deref(), Some("VG_1"));

    lab.set_link("lb01", "eth1", false).expect("eth1 down");
    wait("lb02 did not take both VIPs", &[&lb01, &lb02], || both_on("lb02"));
    assert_eq!(lb01.state("VI_1"), "fault");
    let vi2 = lb01.instance("VI_2");
    assert_eq!(vi2.state, "fault", "VI_2 follows its group: {vi2:?}");
    assert!(
        vi2.faults.iter().any(|f| f.contains("sync group VG_1")),
        "{:?}",
        vi2.faults
    );
    let vi1 = lb01.instance("VI_1");
    let eth1 = vi1
        .links
        .iter()
        .find(|l| l.name == "eth1")
        .expect("eth1 in status");
    assert!(!eth1.up && eth1.weight == 0, "{eth1:?}");

    lab.set_link("lb01", "eth1", true).expect("eth1 up");
    wait("lb01 did not take both VIPs back", &[&lb01, &lb02], || {
        both_on("lb01")
    });
    assert!(
        lb01.log().contains("sync group VG_1"),
        "the group's transitions are logged"
    );
}

#[test]
fn a_weighted_track_interface_moves_the_vip_by_priority_not_by_fault() {
    if !require_root("a_weighted_track_interface_moves_the_vip_by_priority_not_by_fault") {
        return;
    }
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let (lb01, lb02) = start(&lab, "track-interface-weight");
    let vip = ip("192.0.2.3");
    wait("lb01 did not take the VIP", &[&lb01, &lb02], || {
        lab.holders(vip) == ["lb01"]
    });

    lab.set_link("lb01", "eth1", false).expect("eth1 down");
    wait("lb02 did not take the VIP", &[&lb01, &lb02], || {
        lab.holders(vip) == ["lb02"]
    });
    let vi1 = lb01.instance("VI_1");
    assert_eq!(vi1.state, "backup", "by election, not FAULT: {:?}", vi1.faults);
    assert!(vi1.faults.is_empty(), "{:?}", vi1.faults);
    assert_eq!((vi1.base_priority, vi1.effective_priority), (150, 90));
    let eth1 = vi1
        .links
        .iter()
        .find(|l| l.name == "eth1")
        .expect("eth1 in status");
    assert!(!eth1.up && eth1.weight == -60, "{eth1:?}");
    assert_eq!(lb02.instance("VI_1").state, "master");

    lab.set_link("lb01", "eth1", true).expect("eth1 up");
    wait("lb01 did not preempt back", &[&lb01, &lb02], || {
        lab.holders(vip) == ["lb01"]
    });
    assert_eq!(lb01.instance("VI_1").effective_priority, 150);
}

/// keepalived on both nodes with the example's files: where each VIP is
/// after eth1 goes down on lb01, and after it comes back.
fn keepalived_pair(dir: &str, vips: &[IpAddr]) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    for h in ["lb01", "lb02"] {
        lab.add_link(h, "eth1").expect("eth1");
    }
    let mut ka: Vec<Keepalived> = ["lb01", "lb02"]
        .iter()
        .map(|h| Keepalived::start(&lab, h, &conf(dir, h)).expect("keepalived"))
        .collect();
    let on = |h: &str| vips.iter().all(|v| lab.holders(*v) == [h]);
    let log = |ka: &[Keepalived]| {
        ka.iter()
            .map(|k| format!("\n---\n{}", k.log()))
            .collect::<String>()
    };
    let ok = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || on("lb01"));
    assert!(ok, "keepalived: lb01 did not take the VIPs{}", log(&ka));
    lab.set_link("lb01", "eth1", false).expect("eth1 down");
    lab::wait_until(Duration::from_secs(5), Duration::from_millis(10), || on("lb02"));
    let down = vips.iter().map(|v| lab.holders(*v)).collect();
    lab.set_link("lb01", "eth1", true).expect("eth1 up");
    lab::wait_until(Duration::from_secs(5), Duration::from_millis(10), || on("lb01"));
    let up = vips.iter().map(|v| lab.holders(*v)).collect();
    for k in &mut ka {
        k.stop().expect("stopping keepalived");
    }
    (down, up)
}

#[test]
fn keepalived_moves_the_same_vips_with_the_same_files() {
    if !require_root("keepalived_moves_the_same_vips_with_the_same_files") {
        return;
    }
    let lb02 = vec!["lb02".to_string()];
    let lb01 = vec!["lb01".to_string()];
    let (down, up) = keepalived_pair("sync-group", &[ip("192.0.2.3"), ip("192.0.2.4")]);
    assert_eq!(
        (down, up),
        (vec![lb02.clone(), lb02.clone()], vec![lb01.clone(), lb01.clone()])
    );
    let (down, up) = keepalived_pair("track-interface-weight", &[ip("192.0.2.3")]);
    assert_eq!((down, up), (vec![lb02], vec![lb01]));
}
