//! The seed's split brain on the virtual LAN: the backup's firewall drops
//! VRRP, so it hears nothing while both nodes live. Without a split-brain
//! policy both become Master; with one, the backup probes its VIP before it
//! claims it, finds the master still answering, and stays a listening
//! Backup, and it still takes over when the master really goes.

use std::net::IpAddr;
use std::time::Duration;

use baton_node::sim::{Lan, SimConfig, SimInstance};
use baton_vrrp::{Family, State};

const VIP: &str = "198.51.100.1";

fn lan(split_brain: bool) -> Lan {
    let cfg = SimConfig {
        checks: Vec::new(),
        check_ms: 20,
        instances: vec![SimInstance {
            name: "VI_1".into(),
            vrid: 1,
            family: Family::V4,
            priorities: vec![150, 100],
            advert_ms: 100,
            vips: vec![VIP.parse().unwrap()],
            accept: true,
            tracks: Vec::new(),
            split_brain,
        }],
        notify: String::new(),
        ..SimConfig::default()
    };
    let mut lan = Lan::new(3, cfg, 2);
    lan.run_for(Duration::from_secs(1));
    lan
}

fn state(lan: &Lan, k: usize) -> State {
    lan.nodes[k]
        .node
        .as_ref()
        .unwrap()
        .instance_by_name("VI_1")
        .unwrap()
        .vrrp
        .state()
}

fn holders(lan: &Lan) -> Vec<usize> {
    let vip: IpAddr = VIP.parse().unwrap();
    (0..2)
        .filter(|k| lan.nodes[*k].host.addrs.iter().any(|a| a.1 == vip))
        .collect()
}

/// Runs `d` in 10 ms steps; the longest stretch with two holders.
fn longest_dual(lan: &mut Lan, d: Duration) -> Duration {
    let step = Duration::from_millis(10);
    let (mut run, mut longest) = (Duration::ZERO, Duration::ZERO);
    let mut t = Duration::ZERO;
    while t < d {
        lan.run_for(step);
        t += step;
        run = if holders(lan).len() > 1 {
            run + step
        } else {
            Duration::ZERO
        };
        longest = longest.max(run);
    }
    longest
}

#[test]
fn without_a_policy_the_cut_makes_two_masters() {
    let mut lan = lan(false);
    assert_eq!(holders(&lan), [0]);
    lan.nodes[1].host.drop_vrrp_in = true;
    let dual = longest_dual(&mut lan, Duration::from_secs(3));
    assert_eq!((state(&lan, 0), state(&lan, 1)), (State::Master, State::Master));
    assert!(dual >= Duration::from_secs(2), "dual master for {dual:?}");
}

#[test]
fn with_a_policy_the_backup_probes_stays_backup_and_still_takes_over() {
    let mut lan = lan(true);
    assert_eq!(holders(&lan), [0]);
    lan.nodes[1].host.drop_vrrp_in = true;
    let dual = longest_dual(&mut lan, Duration::from_secs(5));
    assert_eq!(dual, Duration::ZERO, "never two holders");
    assert_eq!((state(&lan, 0), state(&lan, 1)), (State::Master, State::Backup));
    let b = lan.nodes[1]
        .node
        .as_ref()
        .unwrap()
        .instance_by_name("VI_1")
        .unwrap();
    assert!(b.brain.claims_refused >= 1, "{:?}", b.brain);
    let peer = b.brain.peers.values().next().expect("the master, remembered");
    assert_eq!(peer.last_priority, Some(150));
    // The master's link goes: it drops the VIP, nobody answers, node1 claims.
    lan.set_link(0, false);
    let t0 = lan.elapsed();
    let mut took = None;
    for _ in 0..500 {
        lan.run_for(Duration::from_millis(5));
        if holders(&lan) == [1] {
            took = Some(lan.elapsed() - t0);
            break;
        }
    }
    let took = took.expect("node1 takes over");
    // Master_Down_Interval at priority 100, 100 ms: 360.9 ms; plus the probe.
    assert!(took <= Duration::from_millis(361 + 30), "{took:?}");
    assert!(lan.violations.is_empty(), "{:?}", lan.violations);
}
