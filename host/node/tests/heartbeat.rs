//! Redundant heartbeat paths, the node driven by hand: adverts go on every
//! path, a peer heard on any path is alive (the state machine sees it at its
//! main-path address), a path that goes silent while another delivers is an
//! event and shows in status, and a reload that drops the path closes it.

mod common;

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use baton_node::{Effect, Event, Node, Primaries, SocketKey};
use baton_vrrp::wire::{self, ParseOptions};
use baton_vrrp::{RxMeta, State};
use common::drain;

const LB01: &str = "192.0.2.11";
const LB02: &str = "192.0.2.12";
const HB01: &str = "198.51.100.11";
const HB02: &str = "198.51.100.12";
const VIP: &str = "192.0.2.100";

fn ip(s: &str) -> IpAddr {
    s.parse().expect("literal")
}

/// lb02 (priority 100) on eth0 multicast, with a heartbeat to lb01 over hb0.
fn config(heartbeat: bool) -> baton_config::Config {
    let mut text = format!(
        "router_id = \"lb02\"\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = 100\nadvert_interval = \"100ms\"\nvips = [\"{VIP}/24\"]\n"
    );
    if heartbeat {
        text.push_str(&format!(
            "[[instance.heartbeat]]\ninterface = \"hb0\"\npeer = \"{HB01}\"\nprimary = \"{LB01}\"\n"
        ));
    }
    baton_config::parse(&text, Path::new("/t/node.toml")).unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
        )
    })
}

fn primaries() -> Primaries {
    let mut p = Primaries::new();
    p.insert("VI_1".into(), ip(LB02));
    p.insert_path("VI_1".into(), "hb0".into(), ip(HB02));
    p
}

fn main_socket() -> SocketKey {
    common::socket("eth0", LB02)
}

fn hb_socket() -> SocketKey {
    common::socket("hb0", HB02)
}

/// lb01's advert (priority 150), as it leaves `src` for `dst`.
fn advert(src: &str, dst: &str) -> (Vec<u8>, RxMeta) {
    common::advert_bytes(src, dst, 51, 150, 10, &[VIP])
}

/// Runs the node from `from` for `d` in 10 ms steps; lb01 advertises every
/// 100 ms on the paths `main` and `hb` say. Returns the time reached and
/// every effect.
fn run(node: &mut Node, from: Instant, d: Duration, main: bool, hb: bool) -> (Instant, Vec<Effect>) {
    let mut fx = Vec::new();
    let mut now = from;
    let end = from + d;
    let mut step = 0u32;
    while now < end {
        if step.is_multiple_of(10) {
            if main {
                let (b, m) = advert(LB01, "224.0.0.18");
                node.handle_packet(now, &main_socket(), &b, &m);
            }
            if hb {
                let (b, m) = advert(HB01, HB02);
                node.handle_packet(now, &hb_socket(), &b, &m);
            }
        }
        node.handle_timeout(now);
        fx.extend(drain(node, now));
        now += Duration::from_millis(10);
        step += 1;
    }
    (now, fx)
}

fn started(heartbeat: bool) -> (Node, Instant, Vec<Effect>) {
    let mut node = Node::new(config(heartbeat), &primaries()).expect("node");
    let now = Instant::now();
    node.handle_link(now, "eth0", true);
    node.handle_link(now, "hb0", true);
    node.start(now, &[]);
    let fx = drain(&mut node, now);
    (node, now, fx)
}

fn state(node: &Node) -> State {
    node.instance_by_name("VI_1").expect("VI_1").vrrp.state()
}

fn path_events(fx: &[Effect]) -> Vec<(String, bool)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Event(Event::Path { news, .. }) => {
                Some((format!("{} from {}", news.path, news.peer), news.silent))
            }
            _ => None,
        })
        .collect()
}

/// (path, silent) of lb01 in status.
fn status_paths(node: &Node, now: Instant) -> Vec<(String, bool, bool)> {
    let st = node.status(now);
    let i = st.instances.iter().find(|i| i.name == "VI_1").expect("VI_1");
    let p = i
        .peers
        .iter()
        .find(|p| p.address == LB01)
        .expect("lb01 in status");
    p.paths
        .iter()
        .map(|x| (x.path.clone(), x.last_heard_ms_ago.is_some(), x.silent))
        .collect()
}

#[test]
fn the_heartbeat_socket_opens_and_the_peer_is_expected_on_both_paths() {
    let (node, now, fx) = started(true);
    let opened: Vec<(SocketKey, bool)> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::OpenSocket { key, multicast } => Some((key.clone(), *multicast)),
            _ => None,
        })
        .collect();
    assert_eq!(opened, vec![(main_socket(), true), (hb_socket(), false)]);
    assert_eq!(
        status_paths(&node, now),
        vec![
            ("eth0 multicast".to_string(), false, false),
            ("hb0 unicast".to_string(), false, false)
        ]
    );
}

#[test]
fn a_peer_heard_only_on_the_heartbeat_path_keeps_us_backup_and_the_silent_path_is_reported() {
    let (mut node, t0, _) = started(true);
    let (t1, fx) = run(&mut node, t0, Duration::from_secs(1), true, true);
    assert_eq!(state(&node), State::Backup);
    assert_eq!(path_events(&fx), vec![], "both paths deliver");
    assert_eq!(
        status_paths(&node, t1),
        vec![
            ("eth0 multicast".to_string(), true, false),
            ("hb0 unicast".to_string(), true, false)
        ]
    );
    // The main path is cut: the heartbeat alone keeps lb01 alive, far past
    // Master_Down_Interval (361 ms).
    let (t2, fx) = run(&mut node, t1, Duration::from_secs(2), false, true);
    assert_eq!(state(&node), State::Backup, "{fx:?}");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::AddVip { .. })),
        "no VIP claimed"
    );
    assert_eq!(
        path_events(&fx),
        vec![(format!("eth0 multicast from {LB01}"), true)],
        "reported once"
    );
    let silent = fx
        .iter()
        .find_map(|e| match e {
            Effect::Event(ev @ Event::Path { news, .. }) => Some((ev.to_string(), news.silent_for)),
            _ => None,
        })
        .expect("the event");
    let d = silent.1.expect("silent_for");
    assert!(
        // Found when the other path next delivers: within one advert
        // interval of Master_Down_Interval.
        d >= Duration::from_millis(361) && d <= Duration::from_millis(461),
        "found silent after {d:?}: {}",
        silent.0
    );
    assert_eq!(
        status_paths(&node, t2),
        vec![
            ("eth0 multicast".to_string(), true, true),
            ("hb0 unicast".to_string(), true, false)
        ]
    );
    // The main path comes back: reported once, and status clears.
    let (t3, fx) = run(&mut node, t2, Duration::from_millis(500), true, true);
    assert_eq!(
        path_events(&fx),
        vec![(format!("eth0 multicast from {LB01}"), false)]
    );
    assert_eq!(state(&node), State::Backup);
    assert!(
        status_paths(&node, t3)
            .iter()
            .all(|(_, heard, silent)| *heard && !*silent)
    );
}

#[test]
fn adverts_on_hb0_count_only_from_the_configured_peer() {
    for (heartbeat, src) in [(false, HB01), (true, "198.51.100.99")] {
        let (mut node, t0, _) = started(heartbeat);
        let (mut now, _) = run(&mut node, t0, Duration::from_secs(1), true, false);
        assert_eq!(state(&node), State::Backup);
        for _ in 0..10 {
            let (b, m) = advert(src, HB02);
            node.handle_packet(now, &hb_socket(), &b, &m);
            let until = now + Duration::from_millis(100);
            while now < until {
                node.handle_timeout(now);
                drain(&mut node, now);
                now += Duration::from_millis(10);
            }
        }
        assert_eq!(
            state(&node),
            State::Master,
            "heartbeat {heartbeat}, adverts from {src}: not the peer's path"
        );
        if heartbeat {
            let st = node.status(now);
            let hb = st
                .sockets
                .iter()
                .find(|s| s.interface == "hb0")
                .expect("hb0 socket in status");
            assert_eq!(hb.drops.get("unknown_vrid"), Some(&10), "{:?}", hb.drops);
        }
    }
}

#[test]
fn a_master_sends_each_advert_on_every_path_and_the_heartbeat_copy_checks_out_there() {
    let (mut node, t0, _) = started(true);
    // Nobody else: lb02 becomes Master after Master_Down_Interval.
    let (_, fx) = run(&mut node, t0, Duration::from_secs(1), false, false);
    assert_eq!(state(&node), State::Master);
    let sends: Vec<(SocketKey, IpAddr, Vec<u8>)> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Send {
                socket, dst, packet, ..
            } => Some((socket.clone(), *dst, packet.clone())),
            _ => None,
        })
        .collect();
    let main: Vec<_> = sends.iter().filter(|s| s.0 == main_socket()).collect();
    let hb: Vec<_> = sends.iter().filter(|s| s.0 == hb_socket()).collect();
    assert!(main.len() >= 5, "{} adverts on eth0", main.len());
    assert_eq!(main.len(), hb.len(), "one heartbeat copy per advert");
    for (_, dst, bytes) in &hb {
        assert_eq!(*dst, ip(HB01));
        let meta = RxMeta {
            src: ip(HB02),
            dst: ip(HB01),
            ttl: 255,
        };
        let a =
            wire::parse(bytes, &meta, &ParseOptions::default()).expect("the copy parses at its addresses");
        assert_eq!((a.vrid, a.priority), (51, 100));
    }
}

#[test]
fn a_reload_that_drops_the_heartbeat_closes_its_socket_and_forgets_the_unheard_path() {
    let (mut node, t0, _) = started(true);
    let (t1, _) = run(&mut node, t0, Duration::from_millis(500), true, false);
    node.reload(t1, config(false), &primaries()).expect("reload");
    let fx = drain(&mut node, t1);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::CloseSocket { key } if *key == hb_socket())),
        "{fx:?}"
    );
    assert_eq!(
        status_paths(&node, t1),
        vec![("eth0 multicast".to_string(), true, false)]
    );
    // And back: the path is expected again, and found silent.
    node.reload(t1, config(true), &primaries()).expect("reload");
    drain(&mut node, t1);
    let (_, fx) = run(&mut node, t1, Duration::from_millis(600), true, false);
    assert_eq!(path_events(&fx), vec![(format!("hb0 unicast from {LB01}"), true)]);
}
