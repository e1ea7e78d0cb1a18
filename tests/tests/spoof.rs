//! A spoofer on the LAN moves no VIP (issue 13).
//!
//! lb01 (priority 150) and lb02 (100) serve VRID 51 (VRRPv3, 100 ms); the
//! client pings the VIP every 10 ms and is also the attacker: well-formed
//! adverts for VRID 51 at priority 254, one every 100 ms for 3 s, to the
//! group and to each node's own address.
//!
//! * With unicast peers: adverts from a source that is no peer are dropped
//!   (`not_a_peer`), reported (log, status, webhook), and the client keeps
//!   the VIP; with `check_unicast_src = false` (keepalived's default) the
//!   same attack takes the VIP away: the control that the attack is real.
//! * With HMAC on multicast: unsigned adverts, also ones that claim to come
//!   from lb02, are dropped (`auth_missing`); without a key the same attack
//!   takes the VIP away.
//! * Replay: lb01's signed adverts captured off the wire and sent again
//!   after lb01 crashed are refused (`replayed`), so lb02 takes over as if
//!   nobody replayed; without a key the replay holds lb02 back as long as
//!   it lasts.
//! * Key rotation: a second key added, made active on one node then the
//!   other, the first removed: four reloads, no transition, no drop.
//! * VRRPv2 with HMAC (the seed's 1 s adverts): elects, no drop, fails over.
//! * Files: `baton run` refuses a config others may write, `baton check` a
//!   key file others may read (this one needs no root).
//!
//! They need root; without it they print "SKIPPED (needs root)" and pass,
//! except under CI=true where they fail.

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use baton_e2e::baton::{BatonNode, InstanceSpec, node_config};
use baton_e2e::inject::{Injector, Template};
use baton_e2e::scenario::{VIP4, ip, mdi, ms, new_lab, serial, steady_pinger, wait_for};
use baton_e2e::servers::WebhookServer;
use baton_e2e::{check, note, require_root};
use baton_lab::Lab;

const ADVERT: Duration = Duration::from_millis(100);
const ATTACK: Duration = Duration::from_secs(3);
const K1: &str = "5a1c2e3f40516273849596a7b8c9dae0f10213243546576879809aabbccddeef";
const K2: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn addr(s: &str) -> Ipv4Addr {
    s.parse().expect("IPv4 literal")
}

/// lb0N's config: VI_1 with `extra` lines, notices to the client's webhook.
fn config(host: &str, priority: u8, extra: &[String]) -> String {
    with_spec(
        host,
        InstanceSpec::new("VI_1", 51, priority, &format!("{VIP4}/24")),
        extra,
    )
}

fn with_spec(host: &str, mut spec: InstanceSpec, extra: &[String]) -> String {
    for e in extra {
        spec = spec.extra(e);
    }
    let c = node_config(host, &[spec]);
    let (head, rest) = c.split_once("[[instance]]").expect("instance");
    format!(
        "{head}[notify]\n[[notify.webhook]]\nurl = \"http://192.0.2.200:8080/alerts\"\n\n[[instance]]{rest}"
    )
}

fn unicast(me: &str, peer: &str) -> Vec<String> {
    vec![
        format!("unicast_src = \"{me}\""),
        format!("unicast_peers = [\"{peer}\"]"),
    ]
}

/// A key file for `host` (mode 0600, as Baton insists).
fn key_file(lab: &Lab, host: &str, text: &str) -> PathBuf {
    let p = lab.dir().join(format!("{host}-vrrp.key"));
    std::fs::write(&p, text).expect("key file");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    p
}

fn hmac(key: &Path, active: Option<u8>) -> Vec<String> {
    let active = active.map_or(String::new(), |a| format!(", active = {a}"));
    vec![format!(
        "auth = {{ type = \"hmac\", key_file = \"{}\"{active} }}",
        key.display()
    )]
}

/// The attacker's advert: VRID 51, priority 254, from `src`.
fn lie(lab: &Lab, src: Ipv4Addr) -> Injector {
    let mut t = Template::v3(51, 10, &[addr(VIP4)], src);
    t.priority = 254;
    Injector::new(lab, "client", t)
}

fn drops(n: &BatonNode<'_>, reason: &str) -> u64 {
    n.instance("VI_1")
        .counters
        .drops
        .get(reason)
        .copied()
        .unwrap_or(0)
}

fn transitions(n: &BatonNode<'_>) -> u64 {
    n.instance("VI_1").counters.transitions
}

/// What the client saw while `attack` ran: its longest gap, and whether
/// lb01 stayed master with no transition anywhere.
struct Outcome {
    gap: Duration,
    steady: bool,
}

fn under_attack(lab: &Lab, a: &BatonNode<'_>, b: &BatonNode<'_>, attack: impl FnOnce()) -> Outcome {
    let nodes = [a, b];
    let vip = ip(VIP4);
    let pinger = steady_pinger(lab, &nodes, vip);
    let before = (transitions(a), transitions(b));
    let t = pinger.started().elapsed();
    attack();
    // Long enough for a takeover to finish after the last lie.
    std::thread::sleep(mdi(ADVERT, 100) + Duration::from_millis(500));
    let report = pinger.stop();
    let gap = report.max_gap_since(t).unwrap_or(Duration::MAX);
    let steady = (transitions(a), transitions(b)) == before && lab.holders(vip) == ["lb01"];
    Outcome { gap, steady }
}

/// No transition, lb01 kept the VIP, and the client lost it for under 100 ms.
fn unmoved(nodes: &[&BatonNode<'_>], o: &Outcome) {
    check!(nodes, o.steady, "the spoofer moved something");
    check!(
        nodes,
        o.gap < Duration::from_millis(100),
        "client gap {:?}",
        o.gap
    );
}

fn pair<'a>(lab: &'a Lab, a: &str, b: &str) -> (BatonNode<'a>, BatonNode<'a>) {
    let a = BatonNode::start(lab, "lb01", a);
    let b = BatonNode::start(lab, "lb02", b);
    wait_for(
        lab,
        &[&a, &b],
        "lb01 master, lb02 backup",
        Duration::from_secs(5),
        || lab.holders(ip(VIP4)) == ["lb01"] && a.state("VI_1") == "master" && b.state("VI_1") == "backup",
    );
    (a, b)
}

/// The pair with one key each (the same), as `pair`.
fn signed_pair<'a>(lab: &'a Lab, ka: &Path, kb: &Path) -> (BatonNode<'a>, BatonNode<'a>) {
    pair(
        lab,
        &config("lb01", 150, &hmac(ka, None)),
        &config("lb02", 100, &hmac(kb, None)),
    )
}

fn webhook(lab: &Lab) -> WebhookServer {
    WebhookServer::start(
        lab,
        "client",
        "192.0.2.200:8080".parse().expect("addr"),
        &lab.dir().join("servers"),
        200,
        None,
    )
    .expect("webhook receiver")
}

fn spoof_notices(hook: &WebhookServer) -> Vec<serde_json::Value> {
    hook.requests()
        .iter()
        .map(|r| r.json())
        .filter(|j| j["kind"] == "spoof")
        .collect()
}

/// The attack: the group and both nodes, from the attacker's own address.
fn everywhere(lab: &Lab, src: Ipv4Addr) -> impl FnOnce() + '_ {
    move || {
        let to = [addr("224.0.0.18"), addr("192.0.2.11"), addr("192.0.2.12")];
        let r = lie(lab, src).spoof(&to, ADVERT, ATTACK).expect("spoofing");
        assert!(r.total_sent() >= 80, "{r}");
    }
}

#[test]
fn with_unicast_peers_a_spoofer_at_254_moves_no_vip() {
    if !require_root("with_unicast_peers_a_spoofer_at_254_moves_no_vip") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let hook = webhook(&lab);
    let attacker = lab.ipv4("client");
    let (a, b) = pair(
        &lab,
        &config("lb01", 150, &unicast("192.0.2.11", "192.0.2.12")),
        &config("lb02", 100, &unicast("192.0.2.12", "192.0.2.11")),
    );
    let nodes = [&a, &b];
    let o = under_attack(&lab, &a, &b, everywhere(&lab, attacker));
    let (da, db) = (drops(&a, "not_a_peer"), drops(&b, "not_a_peer"));
    let suspects = b.instance("VI_1").suspects;
    let notices = spoof_notices(&hook);
    note(&format!(
        "*** spoofer at 254 vs unicast peers (v3 100 ms, 3 s, group + both nodes): client's longest gap {:.0} ms, \
         no transition: {}; not_a_peer drops lb01 {da} lb02 {db}; spoof notices {}",
        ms(o.gap),
        o.steady,
        notices.len()
    ));
    unmoved(&nodes, &o);
    check!(&nodes, da >= 25 && db >= 25, "drops {da} {db}");
    check!(
        &nodes,
        suspects
            .iter()
            .any(|s| s.source == attacker.to_string() && s.kind == "not_a_peer"),
        "{suspects:?}"
    );
    check!(
        &nodes,
        a.log()
            .contains("spoofed advert? from 192.0.2.200 claiming priority 254"),
        "no log line"
    );
    check!(&nodes, notices.len() >= 2, "notices {notices:?}");

    // keepalived's default, the same attack: the control.
    let off = "check_unicast_src = false".to_string();
    let mut la = unicast("192.0.2.11", "192.0.2.12");
    la.push(off.clone());
    let mut lb = unicast("192.0.2.12", "192.0.2.11");
    lb.push(off);
    a.reload(&config("lb01", 150, &la));
    b.reload(&config("lb02", 100, &lb));
    let o = under_attack(&lab, &a, &b, everywhere(&lab, attacker));
    note(&format!(
        "*** the same with check_unicast_src = false: client's longest gap {:.0} ms",
        ms(o.gap)
    ));
    check!(
        &nodes,
        !o.steady && o.gap > Duration::from_secs(1),
        "gap {:?}",
        o.gap
    );
}

#[test]
fn with_hmac_on_multicast_a_spoofer_moves_no_vip() {
    if !require_root("with_hmac_on_multicast_a_spoofer_moves_no_vip") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let _hook = webhook(&lab);
    let (ka, kb) = (key_file(&lab, "lb01", K1), key_file(&lab, "lb02", K1));
    let (a, b) = signed_pair(&lab, &ka, &kb);
    let nodes = [&a, &b];
    // From the attacker's address, then claiming to be lb02.
    let o = under_attack(&lab, &a, &b, || {
        everywhere(&lab, lab.ipv4("client"))();
        everywhere(&lab, addr("192.0.2.12"))();
    });
    let (da, db) = (drops(&a, "auth_missing"), drops(&b, "auth_missing"));
    note(&format!(
        "*** spoofer at 254 vs HMAC on multicast (3 s as itself, 3 s as lb02): client's longest gap {:.0} ms, \
         no transition: {}; auth_missing drops lb01 {da} lb02 {db}",
        ms(o.gap),
        o.steady
    ));
    unmoved(&nodes, &o);
    check!(&nodes, da >= 50 && db >= 50, "drops {da} {db}");
    check!(
        &nodes,
        b.instance("VI_1").counters.adverts_rx > 0,
        "lb02 hears lb01's signed adverts"
    );

    // Without a key, the same lies: the control.
    a.reload(&config("lb01", 150, &[]));
    b.reload(&config("lb02", 100, &[]));
    let o = under_attack(&lab, &a, &b, everywhere(&lab, lab.ipv4("client")));
    note(&format!(
        "*** the same without a key: client's longest gap {:.0} ms",
        ms(o.gap)
    ));
    check!(
        &nodes,
        !o.steady && o.gap > Duration::from_secs(1),
        "gap {:?}",
        o.gap
    );
}

/// lb0N's keepalived.conf: VRRPv3 at 100 ms, `auth_hmac` with `keys`.
fn keepalived_conf(host: &str, priority: u8, keys: &str) -> String {
    format!(
        "global_defs {{\n  router_id {host}\n  vrrp_version 3\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {priority}\n  advert_int 0.1\n  auth_hmac {{\n{keys}  }}\n  \
         virtual_ipaddress {{\n    {VIP4}/24\n  }}\n}}\n"
    )
}

/// keepalived 2.4's `auth_hmac`, run from keepalived.conf: one node's key
/// in a file, the other's inline (its keepalived.conf private); the
/// unsigned spoofer moves nothing, and a failover still happens.
#[test]
fn keepalived_conf_auth_hmac_keeps_the_spoofer_out() {
    if !require_root("keepalived_conf_auth_hmac_keeps_the_spoofer_out") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let ka = key_file(&lab, "lb01", &format!("hex:{K1}\n"));
    let mut a = BatonNode::start_file(
        &lab,
        "lb01",
        "lb01.conf",
        &keepalived_conf("lb01", 150, &format!("    key 1 file:{}\n", ka.display())),
    );
    let b = BatonNode::start_file(
        &lab,
        "lb02",
        "lb02.conf",
        &keepalived_conf("lb02", 100, &format!("    key 1 hex:{K1}\n")),
    );
    let nodes = [&a, &b];
    wait_for(&lab, &nodes, "lb01 master", Duration::from_secs(5), || {
        lab.holders(ip(VIP4)) == ["lb01"] && b.state("VI_1") == "backup"
    });
    let o = under_attack(&lab, &a, &b, everywhere(&lab, lab.ipv4("client")));
    let (da, db) = (drops(&a, "auth_missing"), drops(&b, "auth_missing"));
    note(&format!(
        "*** keepalived.conf auth_hmac vs an unsigned spoofer at 254: client's longest gap {:.0} ms, \
         no transition: {}; auth_missing drops lb01 {da} lb02 {db}",
        ms(o.gap),
        o.steady
    ));
    unmoved(&nodes, &o);
    check!(&nodes, da >= 20 && db >= 20, "drops {da} {db}");
    // Signed failover: lb01 stops, lb02 (which verified every advert) takes over.
    a.stop();
    wait_for(&lab, &[&b], "lb02 takes over", Duration::from_secs(3), || {
        lab.holders(ip(VIP4)) == ["lb02"]
    });
    check!(&[&b], drops(&b, "auth_bad_hmac") == 0, "no advert of lb01 failed");
}

/// lb01's adverts captured, lb01 crashed, the adverts replayed: how long
/// lb02 takes to hold the VIP.
fn takeover_under_replay(lab: &Lab, mut a: BatonNode<'_>, b: &BatonNode<'_>) -> Duration {
    let spy = lie(lab, lab.ipv4("client"));
    let captured = spy
        .capture(addr("192.0.2.11"), Duration::from_secs(1))
        .expect("capture");
    assert!(captured.len() >= 8, "captured {}", captured.len());
    a.kill();
    let killed = Instant::now();
    std::thread::scope(|s| {
        let h = s.spawn(|| spy.replay(captured, ADVERT, ATTACK));
        // The crashed lb01 left its VIP configured: lb02's own word counts.
        wait_for(lab, &[b], "lb02 master", ATTACK + Duration::from_secs(3), || {
            b.state("VI_1") == "master" && b.instance("VI_1").holding_vips
        });
        let took = killed.elapsed();
        h.join().expect("replay thread").expect("replay");
        took
    })
}

#[test]
fn replayed_adverts_are_refused() {
    if !require_root("replayed_adverts_are_refused") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let (ka, kb) = (key_file(&lab, "lb01", K1), key_file(&lab, "lb02", K1));
    let (a, b) = signed_pair(&lab, &ka, &kb);
    let signed = takeover_under_replay(&lab, a, &b);
    let replayed = drops(&b, "replayed");
    let floor = mdi(ADVERT, 100);
    note(&format!(
        "*** lb01 crashed, its captured signed adverts replayed every 100 ms: lb02 held the VIP after {:.0} ms \
         (Master_Down_Interval {:.0} ms); replayed drops {replayed}",
        ms(signed),
        ms(floor)
    ));
    check!(
        &[&b],
        signed < floor + Duration::from_millis(400),
        "took {signed:?}"
    );
    check!(&[&b], replayed >= 3, "replayed drops {replayed}");
    drop(b);
    drop(lab);

    // Unsigned: the replay holds lb02 back while it lasts.
    let lab = new_lab();
    let (a, b) = pair(&lab, &config("lb01", 150, &[]), &config("lb02", 100, &[]));
    let plain = takeover_under_replay(&lab, a, &b);
    note(&format!(
        "*** the same unsigned: lb02 held the VIP after {:.0} ms",
        ms(plain)
    ));
    check!(&[&b], plain >= ATTACK, "took {plain:?}");
}

#[test]
fn keys_rotate_without_a_transition() {
    if !require_root("keys_rotate_without_a_transition") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let (ka, kb) = (key_file(&lab, "lb01", K1), key_file(&lab, "lb02", K1));
    let (a, b) = signed_pair(&lab, &ka, &kb);
    let nodes = [&a, &b];
    let before = (transitions(&a), transitions(&b));
    let rx = b.instance("VI_1").counters.adverts_rx;
    let started = Instant::now();
    let ring = format!("1 {K1}\n2 {K2}\n");
    let k2 = format!("2 {K2}\n");
    // Add key 2 everywhere; sign with it on lb01, then on lb02; drop key 1.
    let steps: [(&str, Option<u8>, &str, Option<u8>); 4] = [
        (&ring, Some(1), &ring, Some(1)),
        (&ring, Some(2), &ring, Some(1)),
        (&ring, Some(2), &ring, Some(2)),
        (&k2, None, &k2, None),
    ];
    for (ta, aa, tb, ab) in steps {
        key_file(&lab, "lb01", ta);
        key_file(&lab, "lb02", tb);
        a.reload(&config("lb01", 150, &hmac(&ka, aa)));
        b.reload(&config("lb02", 100, &hmac(&kb, ab)));
        std::thread::sleep(Duration::from_millis(500));
    }
    let auth_drops: u64 = [&a, &b]
        .iter()
        .flat_map(|n| n.instance("VI_1").counters.drops.into_iter())
        .filter(|(k, _)| k.starts_with("auth") || k == "replayed")
        .map(|(_, v)| v)
        .sum();
    let heard = b.instance("VI_1").counters.adverts_rx - rx;
    // Every advert lb01 sent meanwhile (one per 100 ms), give or take a few.
    let sent = (started.elapsed().as_millis() / ADVERT.as_millis()) as u64;
    note(&format!(
        "*** key rotation (4 reloads per node): transitions {:?} -> {:?}, auth drops {auth_drops}, lb02 heard {heard} adverts",
        before,
        (transitions(&a), transitions(&b))
    ));
    check!(
        &nodes,
        (transitions(&a), transitions(&b)) == before,
        "a transition"
    );
    check!(&nodes, auth_drops == 0, "auth drops {auth_drops}");
    check!(&nodes, heard + 3 >= sent, "lb02 heard {heard} of about {sent}");
    check!(&nodes, lab.holders(ip(VIP4)) == ["lb01"], "holders");
}

/// `baton run` refuses a config others may write, and a key file others may
/// read; `baton check` says the same of the key file (no root needed).
#[test]
fn run_refuses_files_others_may_write_or_read() {
    let dir = std::env::temp_dir().join(format!("baton-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let key = dir.join("vrrp.key");
    std::fs::write(&key, K1).expect("key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let conf = dir.join("baton.toml");
    let text = config("lb01", 150, &hmac(&key, None)).replace(
        "router_id = \"lb01\"",
        &format!(
            "router_id = \"lb01\"\nsocket = \"{}\"",
            dir.join("b.sock").display()
        ),
    );
    std::fs::write(&conf, text).expect("conf");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(baton_e2e::baton_bin())
            .args(args)
            .output()
            .expect("baton");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let conf_s = conf.to_string_lossy().into_owned();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let (code, err) = run(&["run", "--config", &conf_s]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("has mode 0666: others may write it"), "{err}");
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let (code, err) = run(&["check", &conf_s]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("vrrp.key has mode 0640: others may read or write it"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// VRRPv2 (the seed's 1 s adverts) with HMAC: Auth Type 0 and the trailer
/// after the auth data; the pair elects, hears each other with no drop, and
/// fails over on lb01's stop.
#[test]
fn vrrpv2_with_hmac_elects_and_fails_over() {
    if !require_root("vrrpv2_with_hmac_elects_and_fails_over") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let (ka, kb) = (key_file(&lab, "lb01", K1), key_file(&lab, "lb02", K1));
    let v2 = |host: &str, prio: u8, key: &Path| {
        let spec = InstanceSpec::new("VI_1", 51, prio, &format!("{VIP4}/24"))
            .version(2)
            .advert_interval("1s");
        with_spec(host, spec, &hmac(key, None))
    };
    let (mut a, b) = pair(&lab, &v2("lb01", 150, &ka), &v2("lb02", 100, &kb));
    std::thread::sleep(Duration::from_secs(2));
    let ib = b.instance("VI_1");
    check!(
        &[&a, &b],
        ib.counters.adverts_rx >= 2 && ib.counters.drops.is_empty(),
        "{ib:#?}"
    );
    let t = Instant::now();
    // The stop notice has no webhook to reach: the stop waits for it, the
    // resignation does not.
    let took = std::thread::scope(|s| {
        s.spawn(|| a.stop_within(Duration::from_secs(8)));
        wait_for(&lab, &[&b], "lb02 master", Duration::from_secs(3), || {
            lab.holders(ip(VIP4)) == ["lb02"]
        })
    });
    note(&format!(
        "*** VRRPv2 1 s with HMAC: lb02 held the VIP {:.0} ms after lb01's stop began",
        ms(took)
    ));
    check!(
        &[&b],
        took < Duration::from_millis(1200),
        "took {took:?} (from {t:?})"
    );
}
