//! The VIP on the wire: `accept = false` (RFC 9568 Accept_Mode) holds and
//! announces a VIP but drops traffic to it, while IPv6 neighbour discovery
//! still works; and the announcement schedule (a GARP burst, then refreshes,
//! as the client's tcpdump sees them) with a VIP on another device than the
//! instance's interface.
//!
//! Helpers: `baton_e2e::scenario`. They need root; without it they print
//! "SKIPPED (needs root)" and pass, except under CI=true where they fail.

use std::time::Duration;

use baton_e2e::baton::{BatonNode, InstanceSpec, node_config};
use baton_e2e::scenario::{VIP4, VIP4_B, VIP6, client_neigh, ip, mac, new_lab, serial, veth_pair, wait_for};
use baton_e2e::{check, note, require_root};
use baton_lab::LabProcess;

/// `accept = false` (RFC 9568 Accept_Mode): the Master holds and announces
/// the VIP but drops traffic addressed to it; an instance with the default
/// (`accept = true`, keepalived without vrrp_strict) serves it. IPv6
/// neighbour discovery of such a VIP still works. The nftables table goes
/// with the daemon.
#[test]
fn accept_false_drops_vip_traffic() {
    if !require_root("accept_false_drops_vip_traffic") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let cfg = |host: &str, prio: u8| {
        node_config(
            host,
            &[
                InstanceSpec::new("VI_1", 51, prio, &format!("{VIP4}/24")).extra("accept = false"),
                InstanceSpec::new("VI_2", 52, prio, &format!("{VIP4_B}/24")),
                InstanceSpec::new("VI_3", 53, prio, &format!("{VIP6}/64")).extra("accept = false"),
            ],
        )
    };
    let mut a = BatonNode::start(&lab, "lb01", &cfg("lb01", 150));
    let b = BatonNode::start(&lab, "lb02", &cfg("lb02", 100));
    let holders = |who: &str| [VIP4, VIP4_B, VIP6].iter().all(|v| lab.holders(ip(v)) == [who]);
    wait_for(
        &lab,
        &[&a, &b],
        "lb01 master of all three",
        Duration::from_secs(5),
        || holders("lb01") && ["VI_1", "VI_2", "VI_3"].iter().all(|i| a.state(i) == "master"),
    );
    let nodes = [&a, &b];
    let ping = |addr: &str| {
        lab.exec(
            "client",
            &["ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "1", addr],
        )
        .expect("ping")
        .status
        .success()
    };
    check!(
        &nodes,
        ping(VIP4_B),
        "the accepting instance's VIP does not answer"
    );
    check!(&nodes, !ping(VIP4), "{VIP4} (accept = false) answered a ping");
    check!(&nodes, !ping(VIP6), "{VIP6} (accept = false) answered a ping");
    // Held all the same, and resolvable: ARP and ND are not dropped.
    let lb01_mac = mac(&lab, "lb01");
    for v in [VIP4, VIP6] {
        let n = client_neigh(&lab, v);
        check!(
            &nodes,
            n.contains(&lb01_mac),
            "client neighbour entry for {v}: {n:?}"
        );
    }
    let st = a.status();
    let accepts: Vec<(String, bool)> = st
        .instances
        .iter()
        .map(|i| (i.name.clone(), i.accepts_vip_traffic))
        .collect();
    check!(
        &nodes,
        accepts
            == [
                ("VI_1".to_string(), false),
                ("VI_2".to_string(), true),
                ("VI_3".to_string(), false)
            ],
        "{accepts:?}"
    );
    let table = |host: &str| {
        lab.exec(host, &["nft", "list", "table", "inet", "baton"])
            .expect("nft")
    };
    let t = table("lb01");
    let text = String::from_utf8_lossy(&t.stdout).to_string();
    check!(
        &nodes,
        t.status.success() && text.contains(VIP4) && text.contains(VIP6) && !text.contains(VIP4_B),
        "nft list table inet baton on lb01: {text}"
    );
    note(&format!(
        "*** accept_false_drops_vip_traffic: {VIP4} and {VIP6} held by lb01 but dropped, {VIP4_B} served"
    ));

    // A clean stop takes the table away; lb02 takes over under the same rule.
    let code = a.stop();
    check!(&[&b], code.success(), "lb01 exit {code:?}");
    check!(
        &[&b],
        !table("lb01").status.success(),
        "lb01 left its nftables table behind"
    );
    wait_for(
        &lab,
        &[&b],
        "lb02 master of all three",
        Duration::from_secs(5),
        || holders("lb02"),
    );
    check!(&[&b], ping(VIP4_B), "{VIP4_B} not served after the takeover");
    check!(&[&b], !ping(VIP4), "{VIP4} (accept = false) answered on lb02");
}

/// The announcement schedule as configured (keepalived's vrrp_garp_*): a
/// burst of `repeat` gratuitous ARPs `interval` apart on becoming Master,
/// then one every `refresh`, as the client's wire shows them (tcpdump); and
/// a VIP on another device than the instance's interface (`dev side0`),
/// which moves with the others.
#[test]
fn garp_schedule_and_vip_on_another_device() {
    if !require_root("garp_schedule_and_vip_on_another_device") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    const OTHER: &str = "198.51.100.10";
    for h in ["lb01", "lb02"] {
        veth_pair(&lab, h, "side0", "side1");
    }
    let refresh = Duration::from_secs(1);
    let cfg = |host: &str, prio: u8| {
        node_config(
            host,
            &[InstanceSpec::new("VI_1", 51, prio, &format!("{VIP4}/24"))
                .vip(&format!("{OTHER}/24 dev side0"))
                .extra(r#"garp = { delay = "0s", repeat = 3, interval = "20ms", refresh = "1s" }"#)],
        )
    };
    let cap_log = lab.dir().join("client-arp.txt");
    let mut cap = LabProcess::start(
        &lab,
        "client",
        &[
            "tcpdump", "-l", "-n", "-e", "-tt", "-i", "eth0", "arp", "and", "host", VIP4,
        ],
        &cap_log,
    )
    .expect("tcpdump");
    check!(
        &[],
        cap.wait_log("listening on", Duration::from_secs(5)),
        "tcpdump did not start: {}",
        cap.log()
    );
    let mut a = BatonNode::start(&lab, "lb01", &cfg("lb01", 150));
    let b = BatonNode::start(&lab, "lb02", &cfg("lb02", 100));
    wait_for(&lab, &[&a, &b], "lb01 master", Duration::from_secs(5), || {
        lab.holders(ip(VIP4)) == ["lb01"] && a.state("VI_1") == "master"
    });
    let nodes = [&a, &b];
    let on_side = |h: &str| lab.addresses_on(h, "side0").contains(&(ip(OTHER), 24));
    check!(
        &nodes,
        on_side("lb01") && !on_side("lb02") && !lab.addresses("lb01").iter().any(|(x, _)| *x == ip(OTHER)),
        "{OTHER} not (only) on lb01's side0: {:?} / {:?}",
        lab.addresses_on("lb01", "side0"),
        lab.addresses_on("lb02", "side0")
    );
    std::thread::sleep(Duration::from_millis(3400));
    let _ = cap.stop();
    let lb01_mac = mac(&lab, "lb01");
    // "TIME MAC > ff:ff:ff:ff:ff:ff, ethertype ARP ...: Request who-has VIP tell VIP" (or Reply):
    // gratuitous = the VIP is both sender and target.
    let times: Vec<f64> = cap
        .log()
        .lines()
        .filter(|l| l.contains(&lb01_mac) && l.matches(VIP4).count() >= 2)
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    let gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]) * 1e3).collect();
    note(&format!(
        "*** garp_schedule: {} gratuitous ARPs from lb01, gaps (ms) {:?}",
        times.len(),
        gaps.iter().map(|g| g.round()).collect::<Vec<_>>()
    ));
    // The burst: 3, 20 ms apart; then one per second for the ~3.4 s watched.
    check!(
        &nodes,
        gaps.len() >= 4 && gaps[..2].iter().all(|g| (12.0..60.0).contains(g)),
        "burst: gaps {gaps:?}\n{}",
        cap.log()
    );
    // Refreshes count from the burst's start: the k-th comes k seconds after it.
    let want = refresh.as_secs_f64();
    let late: Vec<f64> = times[3..]
        .iter()
        .enumerate()
        .map(|(k, t)| ((t - times[0]) - want * (k + 1) as f64) * 1e3)
        .collect();
    check!(
        &nodes,
        late.iter().all(|d| d.abs() < 50.0) && (2..=4).contains(&late.len()),
        "refresh every {want} s: off by (ms) {late:?}\n{}",
        cap.log()
    );

    // The VIP on side0 moves with the instance.
    let code = a.stop();
    check!(&[&b], code.success(), "lb01 exit {code:?}");
    wait_for(
        &lab,
        &[&b],
        "lb02 master of both VIPs",
        Duration::from_secs(5),
        || lab.holders(ip(VIP4)) == ["lb02"] && on_side("lb02"),
    );
    check!(&[&b], !on_side("lb01"), "{OTHER} left on lb01's side0");
}
