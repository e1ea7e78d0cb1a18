//! How the two daemons hear each other: VRRPv2 PASS authentication (a
//! mismatched password is refused and counted, and both become master), and
//! unicast peers instead of multicast (with 224.0.0.18 dropped the pair still
//! elects and fails over).
//!
//! Helpers: `baton_e2e::scenario`. They need root; without it they print
//! "SKIPPED (needs root)" and pass, except under CI=true where they fail.

use std::time::Duration;

use baton_e2e::baton::{BatonNode, InstanceSpec, node_config};
use baton_e2e::scenario::{MARGIN, VIP4, ip, ms, new_lab, serial, skew, wait_for};
use baton_e2e::{check, note, require_root};

#[test]
fn v2_pass_auth_mismatch() {
    if !require_root("v2_pass_auth_mismatch") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let vip = ip(VIP4);
    // VRRPv2 takes whole seconds only: 1 s adverts here.
    let cfg = |host: &str, prio: u8, pass: &str| {
        node_config(
            host,
            &[InstanceSpec::new("VI_1", 51, prio, &format!("{VIP4}/24"))
                .version(2)
                .advert_interval("1s")
                .auth_pass(pass)],
        )
    };
    let a = BatonNode::start(&lab, "lb01", &cfg("lb01", 150, "1111"));
    let b = BatonNode::start(&lab, "lb02", &cfg("lb02", 100, "2222"));
    let nodes = [&a, &b];
    let second = Duration::from_secs(1);
    wait_for(
        &lab,
        &nodes,
        "both masters (split brain)",
        Duration::from_secs(8),
        || lab.holders(vip) == ["lb01", "lb02"] && a.state("VI_1") == "master" && b.state("VI_1") == "master",
    );
    let since_b = b.started().elapsed();
    let drops = |n: &BatonNode<'_>| {
        n.instance("VI_1")
            .counters
            .drops
            .get("auth_mismatch")
            .copied()
            .unwrap_or(0)
    };
    wait_for(
        &lab,
        &nodes,
        "auth_mismatch counted on both",
        Duration::from_secs(3),
        || drops(&a) > 0 && drops(&b) > 0,
    );
    let (ia, ib) = (a.instance("VI_1"), b.instance("VI_1"));
    note(&format!(
        "*** v2_pass_auth_mismatch (v2 1 s): both master {:.0} ms after lb02 started (its Master_Down_Interval {:.0} ms); \
         drops lb01 {:?} lb02 {:?}",
        ms(since_b),
        ms(second * 3 + skew(second, 100)),
        ia.counters.drops,
        ib.counters.drops
    ));
    check!(
        &nodes,
        since_b <= second * 3 + skew(second, 100) + MARGIN * 2,
        "split after {since_b:?}"
    );
    check!(
        &nodes,
        ib.counters.drops.get("auth_mismatch").is_some_and(|n| *n > 0),
        "{ib:#?}"
    );
    // Nothing from the other side was accepted.
    check!(
        &nodes,
        ia.counters.adverts_rx == 0 && ib.counters.adverts_rx == 0,
        "{ia:#?}\n{ib:#?}"
    );
    check!(
        &nodes,
        ib.master.as_ref().is_none_or(|m| m.is_self),
        "lb02 believes in a master: {ib:#?}"
    );
}

/// Unicast peers instead of multicast: with 224.0.0.18 dropped on both nodes,
/// the pair still elects, sees each other's adverts, and fails over on a stop.
#[test]
fn unicast_peers() {
    if !require_root("unicast_peers") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let vip = ip(VIP4);
    for host in ["lb01", "lb02"] {
        let rules = "add table ip baton_test_mcast\n\
                     add chain ip baton_test_mcast in { type filter hook input priority 0; }\n\
                     add rule ip baton_test_mcast in ip daddr 224.0.0.18 counter drop\n";
        let mut child = lab
            .command(host, &["nft", "-f", "-"])
            .expect("nft command")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("nft");
        use std::io::Write as _;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(rules.as_bytes())
            .expect("rules");
        assert!(child.wait().expect("nft").success(), "nft rules on {host}");
    }
    let spec = |prio: u8, src: &str, peer: &str| {
        let mut s = InstanceSpec::new("VI_1", 51, prio, &format!("{VIP4}/24"));
        s.extra.push(format!("unicast_src = \"{src}\""));
        s.extra.push(format!("unicast_peers = [\"{peer}\"]"));
        s
    };
    let a = BatonNode::start(
        &lab,
        "lb01",
        &node_config("lb01", &[spec(150, "192.0.2.11", "192.0.2.12")]),
    );
    let b = BatonNode::start(
        &lab,
        "lb02",
        &node_config("lb02", &[spec(100, "192.0.2.12", "192.0.2.11")]),
    );
    let mut a = a;
    wait_for(
        &lab,
        &[&a, &b],
        "lb01 master, lb02 backup over unicast",
        Duration::from_secs(5),
        || lab.holders(vip) == ["lb01"] && a.state("VI_1") == "master" && b.state("VI_1") == "backup",
    );
    std::thread::sleep(Duration::from_millis(500));
    let b_status = b.instance("VI_1");
    let nodes = [&a, &b];
    check!(
        &nodes,
        b_status.master.as_ref().map(|m| m.address.as_str()) == Some("192.0.2.11"),
        "lb02 should see lb01 as master: {:?}",
        b_status.master
    );
    check!(
        &nodes,
        b_status.counters.adverts_rx >= 4,
        "lb02 heard {} adverts",
        b_status.counters.adverts_rx
    );
    let dropped = lab
        .exec("lb02", &["nft", "list", "table", "ip", "baton_test_mcast"])
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    check!(
        &nodes,
        dropped.contains("packets 0 "),
        "multicast adverts reached lb02: {dropped}"
    );
    a.stop();
    wait_for(
        &lab,
        &[&a, &b],
        "lb02 master after lb01's stop",
        Duration::from_secs(2),
        || lab.holders(vip) == ["lb02"] && b.state("VI_1") == "master",
    );
    let reason = b
        .instance("VI_1")
        .last_transition
        .map(|t| t.reason)
        .unwrap_or_default();
    let nodes = [&a, &b];
    check!(
        &nodes,
        reason.contains("priority 0"),
        "lb02's takeover reason: {reason}"
    );
}
