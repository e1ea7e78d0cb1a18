//! The node driven by hand, effect by effect: check scheduling, what a
//! result does to each tracking instance, the order of VIP changes and
//! adverts, leftovers, firewall and socket failures, reload plans.

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use baton_node::{CheckKey, CheckResult, Effect, Event, Node, PresentAddr, Primaries, VipOp};
use baton_vrrp::State;
use common::{cfg, drain};

const BASE: &str = r#"
router_id = "lb01"
[[policy]]
name = "web"
source = "builtin:http-status"
config = { url = "http://192.0.2.11/", expect = 200 }
[[check]]
name = "web"
policy = "web"
interval = "20ms"
"#;

fn instance(name: &str, vrid: u8, prio: u8, vip: &str, track: &str) -> String {
    format!(
        "[[instance]]\nname = \"{name}\"\ninterface = \"eth0\"\nvrid = {vrid}\npriority = {prio}\nadvert_interval = \"100ms\"\nvips = [\"{vip}\"]\n{track}\n"
    )
}

fn primaries(c: &baton_config::Config) -> Primaries {
    c.instances
        .iter()
        .map(|i| (i.name.clone(), "192.0.2.11".parse::<IpAddr>().unwrap()))
        .collect()
}

fn runs(effects: &[Effect]) -> Vec<(baton_node::RunId, CheckKey)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::RunCheck(r) => Some((r.run, r.key.clone())),
            _ => None,
        })
        .collect()
}

/// A node for `text` with eth0 up, not started yet.
fn ready(text: &str) -> (Node, Instant) {
    let c = cfg(text);
    let mut node = Node::new(c.clone(), &primaries(&c)).expect("node");
    let now = Instant::now();
    node.handle_link(now, "eth0", true);
    (node, now)
}

/// The same, started, with the effects of its start carried out.
fn started(text: &str) -> (Node, Instant, Vec<Effect>) {
    let (mut node, now) = ready(text);
    node.start(now, &[]);
    let fx = drain(&mut node, now);
    (node, now, fx)
}

fn healthy(ok: bool) -> CheckResult {
    CheckResult {
        healthy: ok,
        reason: (!ok).then(|| "refused".to_string()),
        ..CheckResult::default()
    }
}

/// VI_1 and VI_2, each tracking the node's `web` check with these lines.
fn two_tracking(first: &str, second: &str) -> String {
    let track = |extra: &str| format!("[[instance.track]]\ncheck = \"web\"\n{extra}");
    format!(
        "{BASE}{}{}",
        instance("VI_1", 1, 150, "192.0.2.100", &track(first)),
        instance("VI_2", 2, 150, "192.0.2.101", &track(second))
    )
}

#[test]
fn a_check_runs_at_once_then_interval_after_it_completed_never_overlapping() {
    let text = two_tracking("weight = -60\n", "weight = -60\n");
    let (mut node, t0, fx) = started(&text);
    let r = runs(&fx);
    assert_eq!(r.len(), 1, "one evaluation for both instances: {r:?}");
    let (run, key) = r[0].clone();
    assert_eq!(key, CheckKey::Node("web".into()));
    // While it runs, nothing more is started, however late.
    node.handle_timeout(t0 + Duration::from_millis(100));
    assert!(runs(&drain(&mut node, t0)).is_empty());
    let done = t0 + Duration::from_millis(105);
    node.handle_check_result(done, run, &key, healthy(true));
    assert!(runs(&drain(&mut node, done)).is_empty());
    assert_eq!(
        node.poll_timeout().map(|t| t <= done + Duration::from_millis(20)),
        Some(true)
    );
    node.handle_timeout(done + Duration::from_millis(20));
    assert_eq!(runs(&drain(&mut node, done)).len(), 1);
    // A stale answer (an evaluation no longer current) is ignored.
    node.handle_check_result(done, run, &key, healthy(false));
    assert!(node.instances().all(|i| i.tracks[0].tracker.is_good()));
}

#[test]
fn one_result_reaches_every_tracking_instance_with_its_own_rules() {
    let text = two_tracking("weight = -60\nfall = 1\n", "weight = 0\nfall = 2\n");
    let (mut node, mut now, fx) = started(&text);
    let (mut run, key) = runs(&fx)[0].clone();
    for k in 1..=2 {
        node.handle_check_result(now, run, &key, healthy(false));
        let fx = drain(&mut node, now);
        let vi1 = node.instance_by_name("VI_1").unwrap();
        let vi2 = node.instance_by_name("VI_2").unwrap();
        assert_eq!(vi1.vrrp.effective_priority(), 90, "VI_1 after {k} failure(s)");
        assert_eq!(!vi2.faults.is_empty(), k == 2, "VI_2 faults only after fall = 2");
        if k == 1 {
            assert!(
                fx.iter()
                    .any(|e| matches!(e, Effect::Event(Event::Track { instance, .. }) if instance == "VI_1"))
            );
        }
        now += Duration::from_millis(20);
        node.handle_timeout(now);
        run = runs(&drain(&mut node, now))[0].0;
    }
}

#[test]
fn a_new_master_adds_and_announces_its_vips_before_its_first_advert() {
    let text = format!("{BASE}{}", instance("VI_1", 1, 150, "192.0.2.100/24", ""));
    let (mut node, t0, _) = started(&text);
    let mdi = Duration::from_millis(400);
    node.handle_timeout(t0 + mdi);
    // Hold the add's answer: the advert must wait for it.
    let mut order = Vec::new();
    let mut pending = None;
    while let Some(e) = node.poll_effect() {
        match &e {
            Effect::AddVip { instance, vip } => pending = Some((*instance, vip.clone())),
            Effect::Send { .. } => order.push("advert"),
            Effect::Announce { .. } => order.push("announce"),
            _ => {}
        }
    }
    assert!(order.is_empty(), "nothing before the VIP is in: {order:?}");
    let (id, vip) = pending.expect("an add");
    assert!(!node.instance(id).unwrap().vips.all_held());
    node.handle_vip_result(t0 + mdi, id, &vip, VipOp::Add, Ok(()));
    while let Some(e) = node.poll_effect() {
        match &e {
            Effect::Send { .. } => order.push("advert"),
            Effect::Announce { .. } => order.push("announce"),
            _ => {}
        }
    }
    assert_eq!(order.first(), Some(&"announce"), "{order:?}");
    assert!(order.contains(&"advert"));
    assert!(node.instance(id).unwrap().vips.all_held());
}

#[test]
fn a_resigning_master_sends_priority_zero_before_it_removes_its_vips() {
    let text = format!("{BASE}{}", instance("VI_1", 1, 150, "192.0.2.100/24", ""));
    let (mut node, t0, _) = started(&text);
    node.handle_timeout(t0 + Duration::from_millis(400));
    drain(&mut node, t0);
    node.shutdown(t0 + Duration::from_millis(500));
    let fx = drain(&mut node, t0);
    let advert = fx
        .iter()
        .position(|e| matches!(e, Effect::Send { .. }))
        .expect("priority 0");
    let remove = fx
        .iter()
        .position(|e| matches!(e, Effect::RemoveVip { .. }))
        .expect("remove");
    assert!(advert < remove, "{fx:?}");
    assert!(node.is_settled());
}

#[test]
fn leftovers_of_an_earlier_run_go_before_the_instance_joins() {
    let text = format!("{BASE}{}", instance("VI_1", 1, 150, "192.0.2.100/24", ""));
    let (mut node, now) = ready(&text);
    let left = PresentAddr {
        dev: "eth0".into(),
        addr: "192.0.2.100".parse().unwrap(),
        prefix_len: 24,
    };
    node.start(now, &[left]);
    let fx = drain(&mut node, now);
    let remove = fx
        .iter()
        .position(|e| matches!(e, Effect::RemoveVip { .. }))
        .expect("leftover removed");
    let start = fx
        .iter()
        .position(|e| {
            matches!(
                e,
                Effect::Event(Event::Transition {
                    to: State::Backup,
                    ..
                })
            )
        })
        .expect("started");
    assert!(remove < start, "{fx:?}");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Event(Event::Leftover { .. })))
    );
}

#[test]
fn a_socket_that_does_not_open_faults_its_instances_until_it_does() {
    let text = format!("{BASE}{}", instance("VI_1", 1, 150, "192.0.2.100/24", ""));
    let (mut node, now) = ready(&text);
    node.start(now, &[]);
    while let Some(e) = node.poll_effect() {
        if let Effect::OpenSocket { key, .. } = &e {
            node.handle_socket_result(now, key, Err("Operation not permitted".into()));
        }
    }
    let i = node.instance_by_name("VI_1").unwrap();
    assert_eq!(i.vrrp.state(), State::Fault);
    assert_eq!(
        i.faults.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["no VRRP socket on eth0"]
    );
    // Retried with backoff; when it opens, the fault clears.
    let retry = node.poll_timeout().expect("a retry");
    node.handle_timeout(retry);
    drain(&mut node, retry);
    assert_eq!(node.instance_by_name("VI_1").unwrap().vrrp.state(), State::Backup);
}

#[test]
fn a_firewall_that_cannot_be_set_is_retried_and_shown() {
    let text = format!(
        "{BASE}{}",
        instance("VI_1", 1, 150, "192.0.2.100/24", "accept = false\n")
    );
    let (mut node, now) = ready(&text);
    node.start(now, &[]);
    while let Some(e) = node.poll_effect() {
        if let Effect::SetFirewall { drop } = &e {
            assert_eq!(drop, &["192.0.2.100".parse::<IpAddr>().unwrap()]);
            node.handle_firewall_result(now, Err("nft: not found".into()));
        }
    }
    let st = node.status(now);
    assert!(
        !st.firewall.in_force && st.firewall.failures == 1,
        "{:?}",
        st.firewall
    );
    let retry = node.poll_timeout().expect("timers");
    assert!(retry <= now + Duration::from_secs(1));
    node.handle_timeout(now + Duration::from_secs(1));
    let fx = drain(&mut node, now);
    assert!(fx.iter().any(|e| matches!(e, Effect::SetFirewall { .. })));
    assert!(node.status(now).firewall.in_force);
}

#[test]
fn a_reload_that_does_not_fit_the_host_changes_nothing_and_says_why() {
    let text = format!("{BASE}{}", instance("VI_1", 1, 150, "192.0.2.100/24", ""));
    let (mut node, now, _) = started(&text);
    let new = cfg(&format!(
        "{BASE}{}",
        instance("VI_1", 1, 120, "192.0.2.100/24", "")
    ));
    let err = node
        .reload(now, new, &Primaries::new())
        .expect_err("no primary address");
    assert!(err.contains("no address to send adverts from"), "{err}");
    assert_eq!(node.instance_by_name("VI_1").unwrap().vrrp.config().priority, 150);
    let st = node.status(now);
    let r = st.last_reload.expect("reload");
    assert!(
        !r.ok && st.generation == 1 && st.reloads == 1,
        "{r:?} generation {} reloads {}",
        st.generation,
        st.reloads
    );
}

#[test]
fn a_track_keeps_its_state_across_a_reload_only_when_its_rules_stay() {
    let track = |w: i32| format!("[[instance.track]]\ncheck = \"web\"\nweight = {w}\n");
    let text = format!(
        "{BASE}{}",
        instance("VI_1", 1, 150, "192.0.2.100/24", &track(-60))
    );
    let (mut node, now, fx) = started(&text);
    let (run, key) = runs(&fx)[0].clone();
    node.handle_check_result(now, run, &key, healthy(false));
    drain(&mut node, now);
    assert_eq!(
        node.instance_by_name("VI_1").unwrap().vrrp.effective_priority(),
        90
    );
    // The same rules: still bad.
    let same = cfg(&text);
    node.reload(now, same.clone(), &primaries(&same)).unwrap();
    drain(&mut node, now);
    assert_eq!(
        node.instance_by_name("VI_1").unwrap().vrrp.effective_priority(),
        90
    );
    // Another weight: a fresh tracker, good until it fails again.
    let other = cfg(&format!(
        "{BASE}{}",
        instance("VI_1", 1, 150, "192.0.2.100/24", &track(-10))
    ));
    node.reload(now, other.clone(), &primaries(&other)).unwrap();
    drain(&mut node, now);
    assert_eq!(
        node.instance_by_name("VI_1").unwrap().vrrp.effective_priority(),
        150
    );
    // The track goes: its weight goes with it.
    let none = cfg(&format!(
        "{BASE}{}",
        instance("VI_1", 1, 150, "192.0.2.100/24", "")
    ));
    node.reload(now, none.clone(), &primaries(&none)).unwrap();
    drain(&mut node, now);
    let i = node.instance_by_name("VI_1").unwrap();
    assert!(i.tracks.is_empty() && i.vrrp.effective_priority() == 150);
}

#[test]
fn the_node_and_what_it_builds_on_depend_on_no_io_crate() {
    let manifests = [
        ("baton-node", include_str!("../Cargo.toml")),
        ("baton-config", include_str!("../../config/Cargo.toml")),
        ("baton-vrrp", include_str!("../../vrrp/Cargo.toml")),
    ];
    for (name, text) in manifests {
        let deps = text
            .split("[dependencies]")
            .nth(1)
            .map(|rest| rest.split("\n[").next().unwrap_or_default())
            .unwrap_or_default();
        for io in ["tokio", "socket2", "libc", "nix", "rtnetlink", "netlink"] {
            assert!(
                !deps.lines().any(|l| l.trim_start().starts_with(io)),
                "{name} depends on {io}:\n{deps}"
            );
        }
    }
}

fn busy() -> CheckResult {
    CheckResult {
        reason: Some("busy: the policy runner's queue is full".into()),
        busy: true,
        ..CheckResult::default()
    }
}

/// An evaluation the runner had no room for did not run: it is tried again
/// soon and is no failure, unless the runner turns the check away for its
/// whole timeout (20 ms here: the interval), which a saturated runner must show.
#[test]
fn a_busy_runner_defers_a_check_and_fails_it_only_after_its_timeout() {
    let text = two_tracking("weight = -60\nfall = 1\n", "weight = -60\nfall = 1\n");
    let (mut node, t0, fx) = started(&text);
    let (run, key) = runs(&fx)[0].clone();
    node.handle_check_result(t0, run, &key, busy());
    assert!(runs(&drain(&mut node, t0)).is_empty());
    let retry = node.poll_timeout().expect("a retry");
    assert!(retry <= t0 + Duration::from_millis(5), "{:?}", retry - t0);
    node.handle_timeout(retry);
    let (run, _) = runs(&drain(&mut node, retry))[0].clone();
    node.handle_check_result(retry, run, &key, healthy(true));
    drain(&mut node, retry);
    assert!(node.instances().all(|i| i.tracks[0].tracker.is_good()));
    let st = node.status(retry);
    assert_eq!((st.checks[0].busy_retries, st.checks[0].runs), (1, 1));

    // Turned away again and again: a failure once 20 ms have gone by.
    let mut now = retry + Duration::from_millis(20);
    node.handle_timeout(now);
    let (mut run, _) = runs(&drain(&mut node, now))[0].clone();
    let first_busy = now;
    loop {
        node.handle_check_result(now, run, &key, busy());
        drain(&mut node, now);
        if !node.instances().all(|i| i.tracks[0].tracker.is_good()) {
            break;
        }
        assert!(
            now - first_busy < Duration::from_millis(20),
            "still good after {:?}",
            now - first_busy
        );
        now = node.poll_timeout().expect("a retry");
        node.handle_timeout(now);
        run = runs(&drain(&mut node, now))[0].0;
    }
    assert!(now - first_busy >= Duration::from_millis(20));
    assert_eq!(node.status(now).checks[0].runs, 2);
}
