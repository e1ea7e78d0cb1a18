//! Whole nodes on a virtual LAN (baton_node::sim): scripted scenarios with
//! exact expectations, then thousands of seeded random ones checked against
//! the simulator's invariants.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use baton_node::sim::{Lan, SimConfig, SimInstance, random_scenario};
use baton_vrrp::{Family, State};

fn inst(name: &str, vrid: u8, prios: &[u8], vips: &[&str]) -> SimInstance {
    SimInstance {
        name: name.into(),
        vrid,
        family: Family::V4,
        priorities: prios.to_vec(),
        advert_ms: 20,
        vips: vips.iter().map(|v| v.parse().unwrap()).collect(),
        accept: true,
        tracks: Vec::new(),
        split_brain: false,
    }
}

fn state(lan: &Lan, k: usize, name: &str) -> State {
    lan.nodes[k]
        .node
        .as_ref()
        .unwrap()
        .instance_by_name(name)
        .unwrap()
        .vrrp
        .state()
}

fn holds(lan: &Lan, k: usize, vip: &str) -> bool {
    let a: IpAddr = vip.parse().unwrap();
    lan.nodes[k].host.addrs.iter().any(|x| x.1 == a)
}

fn assert_clean(lan: &Lan) {
    assert!(
        lan.violations.is_empty(),
        "{}\n{}",
        lan.violations.join("\n"),
        lan.trace.join("\n")
    );
}

fn pair(instances: Vec<SimInstance>) -> Lan {
    let cfg = SimConfig {
        checks: vec!["web".into()],
        check_ms: 20,
        instances,
        notify: String::new(),
        ..SimConfig::default()
    };
    let mut lan = Lan::new(1, cfg, 2);
    lan.run_for(Duration::from_millis(300));
    lan
}

#[test]
fn many_instances_per_node_elect_and_hold_their_vips() {
    let lan = pair(vec![
        inst("VI_1", 1, &[150, 100], &["198.51.100.1"]),
        inst("VI_2", 2, &[100, 150], &["198.51.100.2", "198.51.100.3"]),
        inst("VI_3", 3, &[150, 100], &["198.51.100.4"]),
    ]);
    assert_eq!(state(&lan, 0, "VI_1"), State::Master);
    assert_eq!(state(&lan, 1, "VI_2"), State::Master);
    assert_eq!(state(&lan, 0, "VI_2"), State::Backup);
    assert!(holds(&lan, 1, "198.51.100.3") && !holds(&lan, 0, "198.51.100.3"));
    assert_clean(&lan);
}

#[test]
fn a_vip_the_host_refuses_is_not_held_and_faults_the_instance_so_the_backup_serves() {
    let mut lan = pair(vec![inst("VI_1", 1, &[150, 100], &["198.51.100.1"])]);
    assert_eq!(state(&lan, 0, "VI_1"), State::Master);
    // node0's link flaps; meanwhile its host stops accepting the VIP.
    lan.set_link(0, false);
    lan.run_for(Duration::from_millis(200));
    lan.nodes[0]
        .host
        .refuse_add
        .insert("198.51.100.1".parse().unwrap());
    lan.set_link(0, true);
    lan.run_for(Duration::from_millis(300));
    let n0 = lan.nodes[0].node.as_ref().unwrap();
    let i0 = n0.instance_by_name("VI_1").unwrap();
    assert!(
        !i0.vips.all_held(),
        "status must not claim a VIP the host refused"
    );
    assert!(
        i0.vips.add_failures >= 3,
        "retried with backoff: {}",
        i0.vips.add_failures
    );
    assert_eq!(i0.vrrp.state(), State::Fault, "it cannot serve");
    assert_eq!(state(&lan, 1, "VI_1"), State::Master);
    assert!(holds(&lan, 1, "198.51.100.1"));
    // The host accepts it again: after its cooldown node0 preempts back.
    lan.nodes[0].host.refuse_add.clear();
    lan.run_for(Duration::from_secs(3));
    assert_eq!(state(&lan, 0, "VI_1"), State::Master);
    assert!(holds(&lan, 0, "198.51.100.1") && !holds(&lan, 1, "198.51.100.1"));
    assert_clean(&lan);
}

#[test]
fn a_reload_of_the_same_config_changes_nothing() {
    let mut lan = pair(vec![
        inst("VI_1", 1, &[150, 100], &["198.51.100.1"]),
        inst("VI_2", 2, &[100, 150], &["198.51.100.2"]),
    ]);
    let t0 = lan.transitions;
    let cfg = lan.cfg.clone();
    for _ in 0..100 {
        lan.reload(0, &cfg);
        lan.reload(1, &cfg);
        lan.run_for(Duration::from_millis(7));
    }
    assert_eq!(lan.transitions, t0);
    assert_eq!(lan.nodes[0].node.as_ref().unwrap().generation(), 101);
    assert_clean(&lan);
}

#[test]
fn a_reload_adds_removes_preempts_and_moves_a_vip_and_nothing_else() {
    let mut lan = pair(vec![
        inst("VI_1", 1, &[150, 100], &["198.51.100.1"]),
        inst("VI_2", 2, &[150, 100], &["198.51.100.2"]),
        inst("VI_3", 3, &[150, 100], &["198.51.100.3"]),
        inst("VI_4", 4, &[150, 100], &["198.51.100.4"]),
    ]);
    let mut new = lan.cfg.clone();
    new.instances.retain(|i| i.name != "VI_2"); // removed
    new.instances
        .push(inst("VI_5", 5, &[150, 100], &["198.51.100.5"])); // added
    new.instances
        .iter_mut()
        .find(|i| i.name == "VI_3")
        .unwrap()
        .priorities[1] = 200; // preempts
    new.instances.iter_mut().find(|i| i.name == "VI_4").unwrap().vips =
        vec!["198.51.100.44".parse().unwrap()];
    let before_vi1 = lan.nodes[0]
        .node
        .as_ref()
        .unwrap()
        .instance_by_name("VI_1")
        .unwrap()
        .vrrp
        .counters()
        .transitions;
    lan.reload(0, &new);
    lan.reload(1, &new);
    lan.cfg = new;
    lan.run_for(Duration::from_millis(400));
    assert!(
        !holds(&lan, 0, "198.51.100.2") && !holds(&lan, 1, "198.51.100.2"),
        "removed"
    );
    assert!(
        lan.nodes[0]
            .node
            .as_ref()
            .unwrap()
            .instance_by_name("VI_2")
            .is_none()
    );
    assert!(holds(&lan, 0, "198.51.100.5"), "added");
    assert_eq!(state(&lan, 1, "VI_3"), State::Master, "preempted");
    assert!(holds(&lan, 1, "198.51.100.3") && !holds(&lan, 0, "198.51.100.3"));
    assert!(
        holds(&lan, 0, "198.51.100.44") && !holds(&lan, 0, "198.51.100.4"),
        "VIP moved"
    );
    assert_eq!(state(&lan, 0, "VI_4"), State::Master);
    let after_vi1 = lan.nodes[0]
        .node
        .as_ref()
        .unwrap()
        .instance_by_name("VI_1")
        .unwrap()
        .vrrp
        .counters()
        .transitions;
    assert_eq!(before_vi1, after_vi1, "VI_1 untouched");
    assert_clean(&lan);
}

#[test]
fn a_node_level_check_runs_once_per_interval_for_every_tracking_instance() {
    let mut instances = Vec::new();
    for v in 1..=100u8 {
        let mut i = inst(&format!("VI_{v}"), v, &[150, 100], &[]);
        i.vips = vec![IpAddr::from([198, 51, 100, v])];
        i.advert_ms = 100;
        i.tracks = vec![("web".into(), -60, 1, 1)];
        instances.push(i);
    }
    let mut lan = pair(instances);
    let e0 = lan.nodes[0].evaluations;
    lan.run_for(Duration::from_secs(1));
    let per_second = lan.nodes[0].evaluations - e0;
    // One every 20 ms plus the 0.3 ms it takes: ~49, not 4900.
    assert!((45..=50).contains(&per_second), "{per_second} evaluations in 1 s");
    // And its result reaches every instance: the service dies on node0.
    lan.nodes[0].host.unhealthy.insert("web".into());
    lan.run_for(Duration::from_millis(300));
    for v in 1..=100u8 {
        assert_eq!(state(&lan, 1, &format!("VI_{v}")), State::Master);
    }
    assert_clean(&lan);
}

#[test]
fn accept_changes_reach_the_firewall_on_reload() {
    let mut lan = pair(vec![inst("VI_1", 1, &[150, 100], &["198.51.100.1"])]);
    assert!(lan.nodes[0].host.firewall.is_empty());
    let mut new = lan.cfg.clone();
    new.instances[0].accept = false;
    lan.reload(0, &new);
    assert_eq!(
        lan.nodes[0].host.firewall,
        vec!["198.51.100.1".parse::<IpAddr>().unwrap()]
    );
    lan.reload(0, &lan.cfg.clone());
    assert!(lan.nodes[0].host.firewall.is_empty());
    assert_clean(&lan);
}

#[test]
fn ten_thousand_random_node_scenarios() {
    let n: u64 = std::env::var("BATON_NODE_SIM_SCENARIOS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let first: u64 = std::env::var("BATON_NODE_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let t0 = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(4) as u64;
    let reports: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut bad = Vec::new();
                    let (mut transitions, mut reloads, mut vip_failures) = (0, 0, 0);
                    let mut seed = first + t;
                    while seed < first + n {
                        let r = random_scenario(seed);
                        transitions += r.transitions;
                        reloads += u64::from(r.reloads);
                        vip_failures += u64::from(r.vip_failures);
                        if !r.violations.is_empty() && bad.len() < 3 {
                            bad.push(r);
                        }
                        seed += threads;
                    }
                    (bad, transitions, reloads, vip_failures)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut bad: Vec<_> = reports.iter().flat_map(|r| r.0.iter()).collect();
    bad.sort_by_key(|r| r.seed);
    let transitions: u64 = reports.iter().map(|r| r.1).sum();
    let reloads: u64 = reports.iter().map(|r| r.2).sum();
    let failures: u64 = reports.iter().map(|r| r.3).sum();
    eprintln!(
        "{n} node scenarios in {:?}: {transitions} transitions, {reloads} reloads, {failures} VIP-add failure windows",
        t0.elapsed()
    );
    if let Some(r) = bad.first() {
        panic!(
            "seed {} (replay: BATON_NODE_SIM_SEED={} BATON_NODE_SIM_SCENARIOS=1): {} violation(s):\n{}\ntrace:\n{}",
            r.seed,
            r.seed,
            r.violations.len(),
            r.violations.join("\n"),
            r.trace
        );
    }
    assert!(reloads > n, "scenarios must reload: {reloads}");
}
