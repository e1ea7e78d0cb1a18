//! Adverts that lie, the node driven by hand: a unicast instance drops
//! adverts from any source that is none of its peers (counted as
//! `not_a_peer`), reports the source once as a suspect (an event, a line in
//! status) and keeps its state; `check_unicast_src = false` is keepalived's
//! old behaviour. Where anyone may speak (multicast, no key), a stranger
//! that outranks the Master is accepted as the protocol says, and reported.

mod common;

use std::time::{Duration, Instant};

use baton_node::{Effect, Event, Node, SuspectKind};
use baton_vrrp::State;
use common::{advert_bytes, cfg, drain, primaries, run_until, socket};

const LB01: &str = "192.0.2.11";
const LB02: &str = "192.0.2.12";
const ATTACKER: &str = "192.0.2.66";
const VIP: &str = "192.0.2.100";

/// lb01 (priority 150, VRID 51, 100 ms), unicast to lb02 unless `peers`
/// is empty.
fn lb01(peers: &[&str], extra: &str) -> Node {
    let peers: Vec<String> = peers.iter().map(|p| format!("\"{p}\"")).collect();
    let unicast = if peers.is_empty() {
        String::new()
    } else {
        format!("unicast_peers = [{}]\n", peers.join(", "))
    };
    let c = cfg(&format!(
        "router_id = \"lb01\"\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = 150\n\
         advert_interval = \"100ms\"\nvips = [\"{VIP}/24\"]\n{unicast}{extra}"
    ));
    Node::new(c.clone(), &primaries(&c, LB01)).expect("node")
}

/// Started alone: Master after Master_Down_Interval.
fn master(node: &mut Node) -> Instant {
    let t0 = Instant::now();
    node.handle_link(t0, "eth0", true);
    node.start(t0, &[]);
    drain(node, t0);
    let t = t0 + Duration::from_secs(1);
    run_until(node, t);
    assert_eq!(state(node), State::Master);
    t
}

fn state(node: &Node) -> State {
    node.instance_by_name("VI_1").unwrap().vrrp.state()
}

/// `from` sends an advert at `priority` every 100 ms for `d` (to `dst`),
/// while the node's timers run; returns the time reached and the effects.
fn flood(
    node: &mut Node,
    from: Instant,
    src: &str,
    dst: &str,
    priority: u8,
    d: Duration,
) -> (Instant, Vec<Effect>) {
    let mut fx = Vec::new();
    let mut now = from;
    while now < from + d {
        let (b, m) = advert_bytes(src, dst, 51, priority, 10, &[VIP]);
        node.handle_packet(now, &socket("eth0", LB01), &b, &m);
        fx.extend(drain(node, now));
        now += Duration::from_millis(100);
        fx.extend(run_until(node, now));
    }
    (now, fx)
}

fn spoof_events(fx: &[Effect]) -> Vec<(String, SuspectKind, u8)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Event(ev @ Event::Spoof { news, .. }) => Some((ev.to_string(), news.kind, news.priority)),
            _ => None,
        })
        .collect()
}

fn drops(node: &Node, reason: &str) -> u64 {
    node.instance_by_name("VI_1")
        .unwrap()
        .vrrp
        .counters()
        .drops
        .iter()
        .find(|(r, _)| r.as_str() == reason)
        .map_or(0, |(_, n)| n)
}

#[test]
fn a_unicast_master_drops_a_non_peer_at_254_reports_it_once_and_stays_master() {
    let mut node = lb01(&[LB02], "");
    let t = master(&mut node);
    let (t, fx) = flood(&mut node, t, ATTACKER, LB01, 254, Duration::from_secs(3));
    assert_eq!(state(&node), State::Master, "the spoofer moved the VIP");
    assert_eq!(drops(&node, "not_a_peer"), 30);
    let events = spoof_events(&fx);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].1, SuspectKind::NotAPeer);
    assert!(
        events[0].0.contains("192.0.2.66 claiming priority 254"),
        "{}",
        events[0].0
    );
    let st = node.status(t);
    let s = &st.instances[0].suspects;
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].source.as_str(), s[0].kind.as_str(), s[0].adverts),
        (ATTACKER, "not_a_peer", 30)
    );
    assert!(
        st.render()
            .contains("SUSPECT 192.0.2.66 (not_a_peer): 30 adverts at priority 254")
    );
    // The real peer is still heard: its higher priority takes over.
    let (b, m) = advert_bytes(LB02, LB01, 51, 200, 10, &[VIP]);
    node.handle_packet(t, &socket("eth0", LB01), &b, &m);
    drain(&mut node, t);
    assert_eq!(state(&node), State::Backup);
}

#[test]
fn check_unicast_src_false_is_keepalived_s_default_the_spoofer_wins() {
    let mut node = lb01(&[LB02], "check_unicast_src = false\n");
    let t = master(&mut node);
    let (_, fx) = flood(&mut node, t, ATTACKER, LB01, 254, Duration::from_millis(300));
    assert_eq!(state(&node), State::Backup);
    assert_eq!(drops(&node, "not_a_peer"), 0);
    // Anyone may speak again, so the stranger outranking us is reported.
    let events = spoof_events(&fx);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].1, SuspectKind::UnknownOutranks);
}

#[test]
fn a_multicast_stranger_outranking_the_master_is_accepted_and_reported() {
    let mut node = lb01(&[], "");
    let t = master(&mut node);
    let (t, fx) = flood(
        &mut node,
        t,
        ATTACKER,
        "224.0.0.18",
        254,
        Duration::from_millis(500),
    );
    // The protocol takes it: nothing tells it from a new router.
    assert_eq!(state(&node), State::Backup);
    let events = spoof_events(&fx);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].1, SuspectKind::UnknownOutranks);
    assert_eq!(node.status(t).instances[0].suspects[0].adverts, 5);
}

#[test]
fn a_multicast_router_heard_before_may_outrank_without_a_report() {
    let mut node = lb01(&[], "");
    let t = master(&mut node);
    // lb02 at 100 first: below us, known from now on.
    let (t, fx) = flood(&mut node, t, LB02, "224.0.0.18", 100, Duration::from_millis(200));
    assert!(spoof_events(&fx).is_empty());
    let (_, fx) = flood(&mut node, t, LB02, "224.0.0.18", 200, Duration::from_millis(200));
    assert_eq!(state(&node), State::Backup);
    assert!(spoof_events(&fx).is_empty(), "{:?}", spoof_events(&fx));
}

/// lb01 with `auth = { type = "hmac" }` and a key file in a fresh directory.
fn lb01_hmac(extra: &str) -> (Node, baton_vrrp::Hmac, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("baton-node-hmac-{}-{}", std::process::id(), extra.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("vrrp.key");
    std::fs::write(&key, "ab".repeat(32)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let text = format!(
        "router_id = \"lb01\"\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = 150\n\
         advert_interval = \"100ms\"\nvips = [\"{VIP}/24\"]\nauth = {{ type = \"hmac\", key_file = \"{}\" }}\n{extra}",
        key.display()
    );
    let c = baton_config::parse(&text, &dir.join("t.toml")).expect("config");
    let hmac = c.instances[0].auth.hmac().expect("hmac").clone();
    let node = Node::new(c.clone(), &primaries(&c, LB01)).expect("node");
    (node, hmac, dir)
}

/// An advert from `src` at `priority`, signed with `hmac`'s active key at
/// sequence number `seq`.
fn signed(src: &str, priority: u8, hmac: &baton_vrrp::Hmac, seq: u64) -> (Vec<u8>, baton_vrrp::RxMeta) {
    let (plain, meta) = advert_bytes(src, "224.0.0.18", 51, priority, 10, &[VIP]);
    let advert = baton_vrrp::wire::parse(&plain, &meta, &Default::default()).unwrap();
    let bytes = advert
        .emit_signed(
            meta.src,
            meta.dst,
            baton_vrrp::V3Checksum::PseudoHeader,
            hmac,
            seq,
        )
        .unwrap();
    (bytes, meta)
}

#[test]
fn with_hmac_forged_unsigned_and_replayed_adverts_move_nothing() {
    let (mut node, hmac, dir) = lb01_hmac("");
    let t0 = Instant::now();
    node.set_wall_clock(t0, 1_782_000_000_000);
    node.handle_link(t0, "eth0", true);
    node.start(t0, &[]);
    drain(&mut node, t0);
    let t = t0 + Duration::from_secs(1);
    let fx = run_until(&mut node, t);
    assert_eq!(state(&node), State::Master);
    // What lb01 sends carries a trailer its own key verifies.
    let sent = fx
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::Send { packet, .. } => Some(packet.clone()),
            _ => None,
        })
        .expect("an advert");
    assert_eq!(sent.len(), 8 + 4 + 28);
    let meta = baton_vrrp::RxMeta {
        src: common::ip(LB01),
        dst: common::ip("224.0.0.18"),
        ttl: 255,
    };
    let opts = baton_vrrp::ParseOptions {
        hmac_trailer: true,
        ..Default::default()
    };
    let p = baton_vrrp::wire::parse_ext(&sent, &meta, &opts).unwrap();
    let mut rx = baton_vrrp::HmacState::default();
    let now_ns = 1_782_000_001_000_000_000;
    let m = baton_vrrp::auth::Msg {
        version: baton_vrrp::Version::V3,
        vrid: 51,
        src: meta.src,
        bytes: &sent[..p.msg_len],
    };
    rx.verify(&hmac, &m, p.trailer.as_ref(), now_ns)
        .expect("lb01's own advert verifies");

    // An unsigned advert at 254 from the attacker, then one signed with
    // another key: dropped, counted, one suspect, still Master.
    let (t, _) = flood(
        &mut node,
        t,
        ATTACKER,
        "224.0.0.18",
        254,
        Duration::from_millis(500),
    );
    let mut other = hmac.clone();
    other.keys = vec![baton_vrrp::HmacKey::new(1, vec![7; 32]).unwrap()];
    let seq = baton_vrrp::auth::clock_seq(now_ns);
    let (b, m) = signed(ATTACKER, 254, &other, seq);
    node.handle_packet(t, &socket("eth0", LB01), &b, &m);
    let fx = drain(&mut node, t);
    assert_eq!(state(&node), State::Master);
    assert_eq!(drops(&node, "auth_missing"), 5);
    assert_eq!(drops(&node, "auth_bad_hmac"), 1);
    assert!(spoof_events(&fx).is_empty(), "one report per source");
    assert_eq!(node.status(t).instances[0].suspects[0].kind, "auth_failed");

    // lb02, with the key, at 200: taken. The same packet again: a replay.
    let (b, m) = signed(LB02, 200, &hmac, seq + 5);
    node.handle_packet(t, &socket("eth0", LB01), &b, &m);
    drain(&mut node, t);
    assert_eq!(state(&node), State::Backup);
    let t = t + Duration::from_millis(50);
    node.handle_packet(t, &socket("eth0", LB01), &b, &m);
    let fx = drain(&mut node, t);
    assert_eq!(drops(&node, "replayed"), 1);
    assert_eq!(spoof_events(&fx).len(), 1);
    assert_eq!(spoof_events(&fx)[0].1, SuspectKind::Replayed);
    std::fs::remove_dir_all(dir).unwrap();
}
