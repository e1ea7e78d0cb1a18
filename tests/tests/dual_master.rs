//! The seed's dual master (chapter 6): two instances, each node master of one
//! VIP. When lb01 stops, lb02 holds both; when lb01 returns, each holds one
//! again. The client pings both VIPs every 10 ms: the one that moved has
//! short gaps, the one that never moved none.
//!
//! Helpers and the timing reference: `baton_e2e::scenario`. Needs root;
//! without it the test prints "SKIPPED (needs root)" and passes, except
//! under CI=true where it fails.

use std::time::{Duration, Instant};

use baton_e2e::baton::{BatonNode, InstanceSpec, node_config};
use baton_e2e::scenario::{
    ADVERT, MARGIN, VIP4, VIP4_B, ip, mdi, ms, new_lab, replies_flow, serial, skew, steady_pinger, wait_for,
};
use baton_e2e::{check, note, require_root};
use baton_lab::Lab;

#[test]
fn dual_master() {
    if !require_root("dual_master") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let (v1, v2) = (ip(VIP4), ip(VIP4_B));
    // The seed's chapter 6 with VRRPv3 every 100 ms: each node is master of one VIP.
    let cfg = |host: &str, p1: u8, p2: u8| {
        node_config(
            host,
            &[
                InstanceSpec::new("VI_1", 51, p1, &format!("{VIP4}/24 dev eth0 label eth0:1")),
                InstanceSpec::new("VI_2", 52, p2, &format!("{VIP4_B}/24 dev eth0 label eth0:2")),
            ],
        )
    };
    let mut a = BatonNode::start(&lab, "lb01", &cfg("lb01", 150, 100));
    let b = BatonNode::start(&lab, "lb02", &cfg("lb02", 100, 150));
    let split = |lab: &Lab| lab.holders(v1) == ["lb01"] && lab.holders(v2) == ["lb02"];
    let elected = wait_for(
        &lab,
        &[&a, &b],
        "VI_1 on lb01, VI_2 on lb02",
        Duration::from_secs(5),
        || {
            split(&lab)
                && a.state("VI_1") == "master"
                && a.state("VI_2") == "backup"
                && b.state("VI_1") == "backup"
                && b.state("VI_2") == "master"
        },
    );
    {
        let nodes = [&a, &b];
        let sa = a.status();
        check!(
            &nodes,
            sa.instances.len() == 2 && sa.sockets.len() == 1,
            "one shared socket: {sa:#?}"
        );
        let out = lab
            .ip("lb02", &["-o", "-4", "addr", "show", "label", "eth0:2"])
            .expect("ip");
        check!(
            &nodes,
            String::from_utf8_lossy(&out.stdout).contains(VIP4_B),
            "lb02 eth0:2: {out:?}"
        );
    }
    let p1 = steady_pinger(&lab, &[&a, &b], v1);
    let p2 = steady_pinger(&lab, &[&a, &b], v2);
    let stop_at = p1.started().elapsed();
    let t = Instant::now();
    let st = a.stop();
    let both = wait_for(
        &lab,
        &[&a, &b],
        "lb02 holding both VIPs",
        Duration::from_secs(2),
        || lab.holders(v1) == ["lb02"] && lab.holders(v2) == ["lb02"] && b.state("VI_1") == "master",
    );
    let both_total = t.elapsed();
    replies_flow(&lab, &[&a, &b], &p1, Duration::from_secs(3));
    let restart_at = p1.started().elapsed();
    a.restart();
    let back = wait_for(
        &lab,
        &[&a, &b],
        "one VIP each again",
        Duration::from_secs(3),
        || {
            split(&lab)
                && a.state("VI_1") == "master"
                && b.state("VI_1") == "backup"
                && b.state("VI_2") == "master"
        },
    );
    replies_flow(&lab, &[&a, &b], &p1, Duration::from_secs(3));
    let end = p1.started().elapsed();
    let r1 = p1.stop();
    let r2 = p2.stop();
    let nodes = [&a, &b];
    let (g_stop, g_back) = (
        r1.gap_ending_in(stop_at, restart_at),
        r1.gap_ending_in(restart_at, end),
    );
    note(&format!(
        "*** dual_master (v3 100 ms): split after {:.0} ms; lb01 SIGTERM -> lb02 holds both after {:.0} ms, \
         VIP1 gap {:.1} ms; lb01 restart -> one each after {:.0} ms, VIP1 gap {:.1} ms; VIP2 (never moved) max gap {:.1} ms",
        ms(elected),
        ms(both_total),
        ms(g_stop),
        ms(back),
        ms(g_back),
        ms(r2.max_gap)
    ));
    check!(&nodes, st.success(), "lb01 exit {st}");
    check!(
        &nodes,
        both < skew(ADVERT, 100) + MARGIN,
        "lb02 took VI_1 after {both:?}"
    );
    check!(
        &nodes,
        back <= mdi(ADVERT, 150) + MARGIN,
        "lb01 took VI_1 back after {back:?}"
    );
    check!(
        &nodes,
        g_stop < Duration::from_millis(150) && g_back < Duration::from_millis(150),
        "{r1}"
    );
    // VI_2 stayed on lb02 throughout.
    check!(
        &nodes,
        r2.max_gap < Duration::from_millis(100) && r2.tail_gap() < Duration::from_millis(200),
        "{r2}"
    );
    check!(
        &nodes,
        b.instance("VI_2").counters.became_master == 1,
        "lb02's VI_2 flapped"
    );
}
