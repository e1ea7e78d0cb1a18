//! Weighted links, `track_primary` and sync groups, each rule driven by
//! hand: link events, timers and adverts in, states and effects out.

mod common;

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use baton_node::{Change, Effect, Event, Node, Primaries, SocketKey};
use baton_vrrp::wire::RxMeta;
use baton_vrrp::{Advert, Family, Reason, State, V3Checksum, Version};
use common::{drain, run_until};

const ME: &str = "192.0.2.11";
const PEER: &str = "192.0.2.12";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// An instance on eth0 with its VRID, priority, advert interval and more keys.
fn instance(name: &str, vrid: u8, prio: u8, advert_ms: u64, extra: &str) -> String {
    format!(
        "[[instance]]\nname = \"{name}\"\ninterface = \"eth0\"\nvrid = {vrid}\npriority = {prio}\n\
         advert_interval = \"{advert_ms}ms\"\nvips = [\"198.51.100.{vrid}\"]\n{extra}\n"
    )
}

const GROUP: &str = "[[sync_group]]\nname = \"G\"\ninstances = [\"VI_1\", \"VI_2\"]\n";

fn cfg(text: &str) -> baton_config::Config {
    let text = format!("router_id = \"lb01\"\n{text}");
    baton_config::parse(&text, Path::new("/t/node.toml")).unwrap_or_else(|d| {
        let d: Vec<String> = d.iter().map(ToString::to_string).collect();
        panic!("{}\n{text}", d.join("\n"))
    })
}

fn primaries(c: &baton_config::Config) -> Primaries {
    c.instances.iter().map(|i| (i.name.clone(), ip(ME))).collect()
}

/// Started with eth0 and eth1 up.
fn started(text: &str) -> (Node, Instant) {
    let c = cfg(text);
    let mut node = Node::new(c.clone(), &primaries(&c)).expect("node");
    let now = Instant::now();
    node.handle_link(now, "eth0", true);
    node.handle_link(now, "eth1", true);
    node.start(now, &[]);
    drain(&mut node, now);
    (node, now)
}

fn state(node: &Node, name: &str) -> State {
    node.instance_by_name(name).unwrap().vrrp.state()
}

fn prio(node: &Node, name: &str) -> u8 {
    node.instance_by_name(name).unwrap().vrrp.effective_priority()
}

fn transitions(fx: &[Effect]) -> Vec<(String, State, Reason)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Event(Event::Transition {
                instance, to, reason, ..
            }) => Some((instance.clone(), *to, reason.clone())),
            _ => None,
        })
        .collect()
}

/// A peer's advert for `vrid` at `priority`, as the socket hands it over.
fn peer_advert(node: &mut Node, now: Instant, vrid: u8, priority: u8) -> Vec<Effect> {
    let a = Advert {
        version: Version::V3,
        vrid,
        priority,
        interval: 100,
        auth_type: 0,
        auth_data: [0; 8],
        addrs: vec![ip(&format!("198.51.100.{vrid}"))],
    };
    let meta = RxMeta {
        src: ip(PEER),
        dst: ip("224.0.0.18"),
        ttl: 255,
    };
    let bytes = a.emit(meta.src, meta.dst, V3Checksum::PseudoHeader).unwrap();
    let socket = SocketKey {
        interface: "eth0".into(),
        family: Family::V4,
        source: ip(ME),
    };
    node.handle_packet(now, &socket, &bytes, &meta);
    drain(node, now)
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn a_weighted_link_down_moves_the_priority_by_its_weight_and_not_to_fault() {
    let extra = "track_interfaces = [{ name = \"eth1\", weight = -20 }]";
    let (mut node, t0) = started(&instance("VI_1", 1, 150, 100, extra));
    run_until(&mut node, t0 + SECOND);
    assert_eq!(state(&node, "VI_1"), State::Master);
    node.handle_link(t0 + SECOND, "eth1", false);
    drain(&mut node, t0 + SECOND);
    assert_eq!((state(&node, "VI_1"), prio(&node, "VI_1")), (State::Master, 130));
    let st = node.status(t0 + SECOND);
    let links = &st.instances[0].links;
    assert_eq!(links.len(), 2, "eth0 and eth1: {links:?}");
    assert!(links[1].name == "eth1" && !links[1].up && links[1].weight == -20);
    node.handle_link(t0 + 2 * SECOND, "eth1", true);
    drain(&mut node, t0 + 2 * SECOND);
    assert_eq!(prio(&node, "VI_1"), 150);
}

#[test]
fn a_link_weight_is_clamped_to_1_and_never_moves_an_owner() {
    let extra = "track_interfaces = [{ name = \"eth1\", weight = -254 }]";
    let text = instance("VI_1", 1, 100, 100, extra) + &instance("VI_2", 2, 255, 100, extra);
    let (mut node, t0) = started(&text);
    node.handle_link(t0, "eth1", false);
    drain(&mut node, t0);
    assert_eq!(prio(&node, "VI_1"), 1);
    assert_eq!(prio(&node, "VI_2"), 255, "the address owner is never adjusted");
    assert_eq!(state(&node, "VI_2"), State::Master);
}

#[test]
fn a_link_without_weight_means_fault_and_track_primary_false_ignores_the_own_interface() {
    let text = instance("VI_1", 1, 150, 100, "track_interfaces = [\"eth1\"]")
        + &instance("VI_2", 2, 150, 100, "track_primary = false");
    let (mut node, t0) = started(&text);
    node.handle_link(t0, "eth1", false);
    drain(&mut node, t0);
    assert_eq!(state(&node, "VI_1"), State::Fault);
    node.handle_link(t0, "eth0", false);
    drain(&mut node, t0);
    assert_eq!(state(&node, "VI_2"), State::Backup, "its own link is not tracked");
    let st = node.status(t0);
    assert!(st.instances[1].links.is_empty(), "{:?}", st.instances[1].links);
}

#[test]
fn sync_group_one_member_in_fault_puts_every_member_in_fault_and_they_leave_it_together() {
    let text = instance("VI_1", 1, 150, 100, "track_interfaces = [\"eth1\"]")
        + &instance("VI_2", 2, 150, 100, "")
        + GROUP;
    let (mut node, t0) = started(&text);
    run_until(&mut node, t0 + SECOND);
    assert_eq!(
        (state(&node, "VI_1"), state(&node, "VI_2")),
        (State::Master, State::Master)
    );
    let t1 = t0 + SECOND;
    node.handle_link(t1, "eth1", false);
    let fx = drain(&mut node, t1);
    assert_eq!(
        (state(&node, "VI_1"), state(&node, "VI_2")),
        (State::Fault, State::Fault)
    );
    let vi2 = node.instance_by_name("VI_2").unwrap();
    let causes: Vec<String> = vi2.faults.iter().map(ToString::to_string).collect();
    assert_eq!(causes, ["sync group G: a member is in FAULT"]);
    assert!(fx.iter().any(|e| matches!(e,
        Effect::Event(Event::SyncGroup { group, to: State::Fault, .. }) if group == "G")));
    let t2 = t1 + SECOND;
    node.handle_link(t2, "eth1", true);
    drain(&mut node, t2);
    assert_eq!(
        (state(&node, "VI_1"), state(&node, "VI_2")),
        (State::Backup, State::Backup)
    );
    run_until(&mut node, t2 + SECOND);
    assert_eq!(
        (state(&node, "VI_1"), state(&node, "VI_2")),
        (State::Master, State::Master)
    );
    let st = node.status(t2 + SECOND);
    let g = &st.sync_groups[0];
    assert_eq!((g.name.as_str(), g.state.as_str()), ("G", "master"));
    assert_eq!(st.instances[1].sync_group.as_deref(), Some("G"));
    assert!(
        st.render().contains("sync group G: MASTER (VI_1, VI_2)"),
        "{}",
        st.render()
    );
}

#[test]
fn sync_group_members_become_master_together_when_the_last_one_wants_to() {
    // VI_1's Master_Down_Interval is ~0.3 s, VI_2's ~3.4 s.
    let text = instance("VI_1", 1, 150, 100, "") + &instance("VI_2", 2, 150, 1000, "") + GROUP;
    let (mut node, t0) = started(&text);
    let fx = run_until(&mut node, t0 + 2 * SECOND);
    assert!(transitions(&fx).is_empty(), "{:?}", transitions(&fx));
    let vi1 = &node.instance_by_name("VI_1").unwrap().vrrp;
    assert!(vi1.wants_master() && vi1.held(), "VI_1 waits for VI_2");
    let fx = run_until(&mut node, t0 + 4 * SECOND);
    let t = transitions(&fx);
    assert_eq!(t.len(), 2, "{t:?}");
    assert!(t.iter().all(|(_, to, _)| *to == State::Master));
    let at: Vec<Instant> = ["VI_1", "VI_2"]
        .iter()
        .map(|n| {
            node.instance_by_name(n)
                .unwrap()
                .vrrp
                .last_transition()
                .unwrap()
                .at
        })
        .collect();
    assert_eq!(at[0], at[1], "at the same instant");
}

#[test]
fn sync_group_a_member_that_sees_a_better_master_takes_the_others_to_backup() {
    let text = instance("VI_1", 1, 150, 100, "") + &instance("VI_2", 2, 150, 100, "") + GROUP;
    let (mut node, t0) = started(&text);
    run_until(&mut node, t0 + SECOND);
    let t1 = t0 + SECOND;
    let fx = peer_advert(&mut node, t1, 1, 200);
    assert_eq!(
        (state(&node, "VI_1"), state(&node, "VI_2")),
        (State::Backup, State::Backup)
    );
    let t = transitions(&fx);
    assert!(
        t.iter().any(|(n, to, r)| n == "VI_2"
            && *to == State::Backup
            && matches!(r, Reason::Demoted { cause } if cause == "sync group G")),
        "{t:?}"
    );
    let resigned = fx
        .iter()
        .any(|e| matches!(e, Effect::Send { packet, .. } if packet[1] == 2 && packet[2] == 0));
    assert!(resigned, "VI_2 sends priority 0 so its backup takes over at once");
    // VI_2 stays Backup while VI_1 hears the better Master.
    let mut now = t1;
    for _ in 0..30 {
        now += Duration::from_millis(100);
        peer_advert(&mut node, now, 1, 200);
        run_until(&mut node, now);
    }
    assert_eq!(state(&node, "VI_2"), State::Backup);
}

#[test]
fn a_reload_plans_group_and_link_weight_changes() {
    let base =
        instance("VI_1", 1, 150, 100, "track_interfaces = [\"eth1\"]") + &instance("VI_2", 2, 150, 100, "");
    let (mut node, t0) = started(&(base.clone() + GROUP));
    run_until(&mut node, t0 + SECOND);
    let t1 = t0 + SECOND;
    node.handle_link(t1, "eth1", false);
    drain(&mut node, t1);
    assert_eq!(state(&node, "VI_2"), State::Fault);
    // The group goes: VI_2 is on its own; its fault with it.
    let c = cfg(&base);
    let plan = node.reload(t1, c.clone(), &primaries(&c)).unwrap();
    drain(&mut node, t1);
    assert_eq!(plan.sync_groups_changed, ["G"]);
    assert!(
        plan.changed
            .contains(&("VI_2".to_string(), vec![Change::SyncGroup])),
        "{plan:?}"
    );
    assert_eq!(state(&node, "VI_2"), State::Backup);
    // A weight instead of FAULT: the link stays down, the fault becomes a weight.
    let weighted = instance(
        "VI_1",
        1,
        150,
        100,
        "track_interfaces = [{ name = \"eth1\", weight = -20 }]",
    ) + &instance("VI_2", 2, 150, 100, "");
    let c = cfg(&weighted);
    let plan = node.reload(t1, c.clone(), &primaries(&c)).unwrap();
    drain(&mut node, t1);
    assert!(
        plan.changed
            .contains(&("VI_1".to_string(), vec![Change::TrackInterfaces])),
        "{plan:?}"
    );
    assert_eq!((state(&node, "VI_1"), prio(&node, "VI_1")), (State::Backup, 130));
}

#[test]
fn a_sync_group_runs_its_own_notify_commands_with_keepalived_s_group_arguments() {
    let notify = "[notify]\n[[notify.command]]\nname = \"log\"\ncommand = [\"/usr/local/bin/log\"]\n";
    let group = format!("{GROUP}notify_master = \"log\"\nnotify_stop = \"log\"\n");
    let text = format!(
        "{notify}{}{}{group}",
        instance("VI_1", 1, 150, 100, ""),
        instance("VI_2", 2, 150, 100, "")
    );
    let (mut node, t0) = started(&text);
    let fx = run_until(&mut node, t0 + SECOND);
    let argv: Vec<Vec<String>> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(baton_node::Job::Command(c)) => Some(c.run.argv.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        argv,
        [["/usr/local/bin/log", "GROUP", "G", "MASTER", "0"]],
        "once, for the group"
    );
    // Commands of one group run one after the other: the first one ends.
    let first = fx.iter().find_map(|e| match e {
        Effect::Notify(baton_node::Job::Command(c)) => Some(c.run.clone()),
        _ => None,
    });
    let first = first.expect("a command");
    let outcome = baton_notify::CommandOutcome::Exited(0);
    node.handle_notify_command(t0 + SECOND, &first.instance, first.id, &first.name, outcome);
    node.shutdown(t0 + SECOND);
    let fx = drain(&mut node, t0 + SECOND);
    let argv: Vec<Vec<String>> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(baton_node::Job::Command(c)) => Some(c.run.argv.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(argv, [["/usr/local/bin/log", "GROUP", "G", "STOP", "0"]]);
}

#[test]
fn a_reload_plan_names_the_group_peers_of_a_changed_member_and_track_primary() {
    let old = cfg(&(instance("VI_1", 1, 150, 100, "") + &instance("VI_2", 2, 150, 100, "") + GROUP));
    let new = cfg(&(instance("VI_1", 1, 120, 100, "track_primary = false")
        + &instance("VI_2", 2, 150, 100, "")
        + GROUP));
    let p = baton_node::reload::plan(&old, &new);
    assert!(p.sync_groups_changed.is_empty(), "the group itself is the same");
    assert_eq!(
        p.changed,
        [
            (
                "VI_1".to_string(),
                vec![Change::Priority { from: 150, to: 120 }, Change::TrackPrimary]
            ),
            ("VI_2".to_string(), vec![Change::SyncGroup]),
        ]
    );
    assert!(p.unchanged.is_empty());
    assert!(p.to_string().contains("VI_2: sync_group"), "{p}");
}
