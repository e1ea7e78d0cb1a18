//! Reloads of the real `baton` binary (SIGHUP), end to end: what an
//! unchanged instance notices (nothing), what a changed one does (exactly
//! the change), and the defects of reloads and VIP handling that the node
//! layer fixed, each shown on the wire or in the kernel:
//!
//! - `sighup_storm_moves_nothing`: 20 instances at 10 ms adverts on each of
//!   lb01 and lb02 (each node master of half), all tracking one node-level
//!   HTTP check every 20 ms; 300 SIGHUPs to each: no transition, no client
//!   gap over 30 ms.
//! - `one_reload_adds_removes_preempts_and_moves_a_vip`: one reload that
//!   removes VI_2, adds VI_5, raises VI_3's priority on lb02 (it preempts)
//!   and moves VI_4 to another address; VI_1 is untouched.
//! - `reload_applies_accept_to_nftables`: `accept = false` set by a reload
//!   drops traffic to the VIP at once, and unset lets it through again.
//! - `a_vip_the_kernel_refuses_is_not_claimed`: a VIP whose device is gone
//!   is shown as not held, retried, and the instance goes to FAULT so the
//!   backup serves.
//!
//! They need root; without it they print "SKIPPED (needs root)" and pass,
//! except under CI=true where they fail.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use baton_e2e::baton::{BatonNode, InstanceSpec};
use baton_e2e::scenario::{ms, new_lab, replies_flow, serial, steady_pinger, veth_pair, wait_for};
use baton_e2e::{check, note, require_root};
use baton_lab::{HttpServer, Lab, Pinger};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn transitions(n: &BatonNode<'_>) -> u64 {
    n.status().instances.iter().map(|i| i.counters.transitions).sum()
}

/// Whether the client gets an echo reply from `target` within 300 ms.
fn pings(lab: &Lab, target: &str) -> bool {
    lab.exec("client", &["ping", "-c", "1", "-W", "0.3", target])
        .is_ok_and(|o| o.status.success())
}

fn storm_config(lab: &Lab, host: &str, first: bool) -> String {
    let me = lab.ipv4(host);
    let mut s = format!(
        "router_id = {host:?}\n\n[[policy]]\nname = \"web\"\nsource = \"builtin:http-status\"\nconfig = {{ expect = 200, timeout-ms = 15 }}\nallow = [\"192.0.2.0/24:80\"]\n\n[[check]]\nname = \"web\"\npolicy = \"web\"\ninterval = \"20ms\"\ntimeout = \"20ms\"\nconfig = {{ url = \"http://{me}:80/\" }}\n\n"
    );
    for i in 0..20u8 {
        // lb01 is master of the even ones, lb02 of the odd ones.
        let mine = (i % 2 == 0) == first;
        let spec = InstanceSpec::new(
            &format!("VI_{i}"),
            i + 1,
            if mine { 150 } else { 100 },
            &format!("192.0.2.{}/24", 150 + u16::from(i)),
        )
        .advert_interval("10ms");
        s.push_str(&spec.toml());
        s.push_str("[[instance.track]]\ncheck = \"web\"\nweight = -60\n\n");
    }
    s
}

#[test]
fn sighup_storm_moves_nothing() {
    if !require_root("sighup_storm_moves_nothing") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let any = SocketAddr::new(ip("0.0.0.0"), 80);
    let _srv_a = HttpServer::start(&lab, "lb01", any).expect("server");
    let _srv_b = HttpServer::start(&lab, "lb02", any).expect("server");
    let a = BatonNode::start(&lab, "lb01", &storm_config(&lab, "lb01", true));
    let b = BatonNode::start(&lab, "lb02", &storm_config(&lab, "lb02", false));
    let nodes = [&a, &b];
    let (va, vb) = (ip("192.0.2.150"), ip("192.0.2.151"));
    wait_for(
        &lab,
        &nodes,
        "each node master of its half",
        Duration::from_secs(5),
        || {
            let (sa, sb) = (a.status(), b.status());
            sa.instances
                .iter()
                .chain(sb.instances.iter())
                .all(|i| i.state == "master" || i.state == "backup")
                && sa.instances.iter().filter(|i| i.state == "master").count() == 10
                && sb.instances.iter().filter(|i| i.state == "master").count() == 10
                && sa
                    .checks
                    .first()
                    .is_some_and(|c| c.runs > 5 && c.last_healthy == Some(true))
        },
    );
    let pa = steady_pinger(&lab, &nodes, va);
    let pb = steady_pinger(&lab, &nodes, vb);
    let (ta, tb) = (transitions(&a), transitions(&b));
    let (ga, gb) = (a.status().generation, b.status().generation);
    let runs = a.status().checks[0].runs;
    let t = Instant::now();
    for _ in 0..300 {
        a.sighup();
        b.sighup();
        std::thread::sleep(Duration::from_millis(10));
    }
    let storm = t.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let (sa, sb) = (a.status(), b.status());
    let (ra, rb) = (pa.stop(), pb.stop());
    let applied = (sa.generation - ga, sb.generation - gb);
    let runs_during = sa.checks[0].runs - runs;
    note(&format!(
        "*** sighup_storm: 300 SIGHUPs to each node in {:.1} s: {} and {} reloads applied (the rest arrived \
         while one was under way), transitions {} -> {} and {} -> {}; the check ran {runs_during} times meanwhile; \
         client to lb01's VIP: {ra}; to lb02's: {rb}",
        storm.as_secs_f64(),
        applied.0,
        applied.1,
        ta,
        transitions(&a),
        tb,
        transitions(&b),
    ));
    check!(
        &nodes,
        transitions(&a) == ta && transitions(&b) == tb,
        "a reload moved an instance"
    );
    check!(
        &nodes,
        applied.0 >= 100 && applied.1 >= 100,
        "too few reloads applied: {applied:?}"
    );
    for s in [&sa, &sb] {
        let r = s.last_reload.as_ref().expect("reload");
        check!(
            &nodes,
            r.ok && r.summary.as_deref() == Some("20 unchanged"),
            "{r:?}"
        );
    }
    check!(
        &nodes,
        runs_during as f64 >= storm.as_secs_f64() * 25.0,
        "the check stalled: {runs_during}"
    );
    check!(
        &nodes,
        ra.max_gap < Duration::from_millis(30) && rb.max_gap < Duration::from_millis(30),
        "client gaps: {ra}; {rb}"
    );
}

fn four(host: &str, vi3_b: u8, vi4: &str, with_vi2: bool, with_vi5: bool) -> String {
    let lb01 = host == "lb01";
    let p = |hi: bool| if hi == lb01 { 150 } else { 100 };
    let mut specs = vec![InstanceSpec::new("VI_1", 1, p(true), "192.0.2.101/24")];
    if with_vi2 {
        specs.push(InstanceSpec::new("VI_2", 2, p(true), "192.0.2.102/24"));
    }
    specs.push(InstanceSpec::new(
        "VI_3",
        3,
        if lb01 { 150 } else { vi3_b },
        "192.0.2.103/24",
    ));
    specs.push(InstanceSpec::new("VI_4", 4, p(true), vi4));
    if with_vi5 {
        specs.push(InstanceSpec::new("VI_5", 5, p(true), "192.0.2.105/24"));
    }
    baton_e2e::baton::node_config(host, &specs)
}

#[test]
fn one_reload_adds_removes_preempts_and_moves_a_vip() {
    if !require_root("one_reload_adds_removes_preempts_and_moves_a_vip") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let a = BatonNode::start(&lab, "lb01", &four("lb01", 100, "192.0.2.104/24", true, false));
    let b = BatonNode::start(&lab, "lb02", &four("lb02", 100, "192.0.2.104/24", true, false));
    let nodes = [&a, &b];
    wait_for(
        &lab,
        &nodes,
        "lb01 master of all four",
        Duration::from_secs(5),
        || {
            ["101", "102", "103", "104"]
                .iter()
                .all(|v| lab.holders(ip(&format!("192.0.2.{v}"))) == ["lb01"])
                && b.status().instances.iter().all(|i| i.state == "backup")
        },
    );
    let pinger = steady_pinger(&lab, &nodes, ip("192.0.2.101"));
    let vi1 = a.instance("VI_1").counters.transitions;
    let vi1_b = b.instance("VI_1").counters.transitions;
    let ann = a.instance("VI_4").counters.announcements;
    let t = Instant::now();
    let sa = a.reload(&four("lb01", 200, "192.0.2.114/24", false, true));
    let sb = b.reload(&four("lb02", 200, "192.0.2.114/24", false, true));
    let ra = sa.last_reload.clone().expect("reload");
    let rb = sb.last_reload.clone().expect("reload");
    check!(
        &nodes,
        ra.summary.as_deref() == Some("added VI_5; removed VI_2; VI_4: vips; 2 unchanged"),
        "{ra:?}"
    );
    check!(
        &nodes,
        rb.summary.as_deref()
            == Some("added VI_5; removed VI_2; VI_3: priority 100 -> 200; VI_4: vips; 1 unchanged"),
        "{rb:?}"
    );
    let done = wait_for(
        &lab,
        &nodes,
        "the reload carried out",
        Duration::from_secs(3),
        || {
            lab.holders(ip("192.0.2.102")).is_empty()
                && lab.holders(ip("192.0.2.103")) == ["lb02"]
                && lab.holders(ip("192.0.2.104")).is_empty()
                && lab.holders(ip("192.0.2.114")) == ["lb01"]
                && lab.holders(ip("192.0.2.105")) == ["lb01"]
        },
    ) + t.elapsed();
    replies_flow(&lab, &nodes, &pinger, Duration::from_secs(2));
    for v in ["192.0.2.103", "192.0.2.105", "192.0.2.114"] {
        check!(&nodes, pings(&lab, v), "no reply from {v}");
    }
    check!(
        &nodes,
        !pings(&lab, "192.0.2.102") && !pings(&lab, "192.0.2.104"),
        "old VIPs still answer"
    );
    let (ia, ib) = (a.status(), b.status());
    check!(
        &nodes,
        ia.instances.iter().all(|i| i.name != "VI_2") && ib.instances.iter().all(|i| i.name != "VI_2"),
        "VI_2 still there"
    );
    check!(
        &nodes,
        b.state("VI_3") == "master" && a.state("VI_3") == "backup",
        "VI_3 did not preempt"
    );
    let vi4 = a.instance("VI_4");
    check!(
        &nodes,
        vi4.state == "master"
            && vi4.holding_vips
            && vi4.vips == ["192.0.2.114/24"]
            && vi4.counters.announcements > ann,
        "VI_4 after the reload: {vi4:#?}"
    );
    check!(
        &nodes,
        a.instance("VI_1").counters.transitions == vi1 && b.instance("VI_1").counters.transitions == vi1_b,
        "VI_1 moved"
    );
    let r = pinger.stop();
    note(&format!(
        "*** one_reload: carried out in {:.0} ms; VI_1's client: {r}",
        ms(done)
    ));
    check!(
        &nodes,
        r.max_gap < Duration::from_millis(30),
        "VI_1's client gap: {r}"
    );
}

#[test]
fn reload_applies_accept_to_nftables() {
    if !require_root("reload_applies_accept_to_nftables") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let cfg = |host: &str, prio: u8, accept: bool| {
        let spec = InstanceSpec::new("VI_1", 51, prio, "192.0.2.100/24").extra(&format!("accept = {accept}"));
        baton_e2e::baton::node_config(host, &[spec])
    };
    let a = BatonNode::start(&lab, "lb01", &cfg("lb01", 150, true));
    let b = BatonNode::start(&lab, "lb02", &cfg("lb02", 100, true));
    let nodes = [&a, &b];
    wait_for(&lab, &nodes, "lb01 master", Duration::from_secs(5), || {
        lab.holders(ip("192.0.2.100")) == ["lb01"] && b.state("VI_1") == "backup"
    });
    check!(&nodes, pings(&lab, "192.0.2.100"), "the VIP does not answer");
    let st = a.reload(&cfg("lb01", 150, false));
    b.reload(&cfg("lb02", 100, false));
    check!(
        &nodes,
        st.firewall.drop == ["192.0.2.100"] && st.firewall.in_force,
        "{:?}",
        st.firewall
    );
    check!(
        &nodes,
        !pings(&lab, "192.0.2.100"),
        "accept = false by reload: the VIP still answers"
    );
    let table = lab
        .exec("lb01", &["nft", "list", "table", "inet", "baton"])
        .expect("nft");
    check!(
        &nodes,
        table.status.success(),
        "no nftables table after the reload"
    );
    let st = a.reload(&cfg("lb01", 150, true));
    b.reload(&cfg("lb02", 100, true));
    check!(
        &nodes,
        st.firewall.drop.is_empty() && st.firewall.in_force,
        "{:?}",
        st.firewall
    );
    check!(
        &nodes,
        pings(&lab, "192.0.2.100"),
        "accept = true again: the VIP does not answer"
    );
    check!(
        &nodes,
        a.instance("VI_1").counters.transitions == 2,
        "accept changes moved the instance"
    );
    note("*** reload_applies_accept_to_nftables: accept = false by reload drops, accept = true lets through");
}

#[test]
fn a_vip_the_kernel_refuses_is_not_claimed() {
    if !require_root("a_vip_the_kernel_refuses_is_not_claimed") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    for h in ["lb01", "lb02"] {
        veth_pair(&lab, h, "vip0", "vip1");
    }
    let cfg = |host: &str, prio: u8| {
        let spec = InstanceSpec::new("VI_1", 51, prio, "192.0.2.100/24").vip("198.51.100.7/32 dev vip0");
        baton_e2e::baton::node_config(host, &[spec])
    };
    let a = BatonNode::start(&lab, "lb01", &cfg("lb01", 150));
    let b = BatonNode::start(&lab, "lb02", &cfg("lb02", 100));
    let nodes = [&a, &b];
    wait_for(
        &lab,
        &nodes,
        "lb01 master with both VIPs",
        Duration::from_secs(5),
        || a.instance("VI_1").holding_vips && b.state("VI_1") == "backup",
    );
    let pinger: Pinger = steady_pinger(&lab, &nodes, ip("192.0.2.100"));
    // lb01 loses its link, and its VIP device goes: when it preempts again,
    // the kernel refuses that VIP.
    lab.link_down("lb01").expect("down");
    wait_for(&lab, &nodes, "lb02 master", Duration::from_secs(3), || {
        b.state("VI_1") == "master"
    });
    lab.exec_ok("lb01", &["ip", "link", "del", "vip0"])
        .expect("ip link del");
    lab.link_up("lb01").expect("up");
    let t = Instant::now();
    wait_for(
        &lab,
        &nodes,
        "lb01 in FAULT for the VIP it cannot add",
        Duration::from_secs(3),
        || a.state("VI_1") == "fault",
    );
    let faulted = t.elapsed();
    let ia = a.instance("VI_1");
    let bad = ia
        .vip_states
        .iter()
        .find(|v| v.vip.contains("198.51.100.7"))
        .expect("vip state");
    check!(
        &nodes,
        !ia.holding_vips,
        "status claims VIPs the kernel refused: {ia:#?}"
    );
    check!(
        &nodes,
        bad.state != baton_e2e::baton::status::VipState::Held
            && bad.failures >= 1
            && bad.last_error.as_deref().is_some_and(|e| !e.is_empty()),
        "{bad:?}"
    );
    check!(&nodes, ia.counters.vip_add_failures >= 3, "{:?}", ia.counters);
    check!(
        &nodes,
        ia.faults == ["VIP 198.51.100.7 cannot be added"],
        "{:?}",
        ia.faults
    );
    wait_for(&lab, &nodes, "lb02 serving again", Duration::from_secs(3), || {
        b.state("VI_1") == "master" && lab.holders(ip("192.0.2.100")) == ["lb02"]
    });
    replies_flow(&lab, &nodes, &pinger, Duration::from_secs(3));
    let r = pinger.stop();
    note(&format!(
        "*** a_vip_the_kernel_refuses: lb01 retried {} times and went to FAULT {:.0} ms after its link came back; client: {r}",
        ia.counters.vip_add_failures,
        ms(faulted)
    ));
}
