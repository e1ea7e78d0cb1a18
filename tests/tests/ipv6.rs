//! VRRPv3 over IPv6: an IPv6 VIP fails over on link down, comes back on
//! preempt and moves on a clean stop, with unsolicited neighbour
//! advertisements updating the client's neighbour entry each time; the
//! client pings the VIP every 10 ms.
//!
//! Helpers and the timing reference: `baton_e2e::scenario`. Needs root;
//! without it the test prints "SKIPPED (needs root)" and passes, except
//! under CI=true where it fails.

use std::time::{Duration, Instant};

use baton_e2e::scenario::{
    ADVERT, MARGIN, VIP6, client_neigh, ip, mac, mdi, ms, new_lab, pair, replies_flow, serial, skew,
    steady_pinger, wait_for,
};
use baton_e2e::{check, note, require_root};

#[test]
fn ipv6() {
    if !require_root("ipv6") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let vip = ip(VIP6);
    let (mut a, b) = pair(&lab, &format!("{VIP6}/64"), vip);
    let nodes = [&a, &b];
    let ia = a.instance("VI_1");
    check!(
        &nodes,
        ia.family == "ipv6" && ia.primary_address.starts_with("fe80:"),
        "{ia:#?}"
    );
    let ib = b.instance("VI_1");
    check!(
        &nodes,
        ib.master
            .as_ref()
            .is_some_and(|m| m.address == ia.primary_address && m.priority == 150),
        "lb02 does not see lb01's link-local as master: {ib:#?}"
    );
    let (mac_a, mac_b) = (mac(&lab, "lb01"), mac(&lab, "lb02"));
    let pinger = steady_pinger(&lab, &nodes, vip);
    let before = client_neigh(&lab, VIP6);
    check!(
        &nodes,
        before.contains(&mac_a),
        "client's neighbour entry for the VIP: {before:?} (lb01 is {mac_a})"
    );

    let down_at = pinger.started().elapsed();
    let t = Instant::now();
    lab.link_down("lb01").expect("link down");
    wait_for(
        &lab,
        &nodes,
        "the IPv6 VIP on lb02 alone",
        Duration::from_secs(3),
        || lab.holders(vip) == ["lb02"] && b.state("VI_1") == "master",
    );
    let moved = t.elapsed();
    replies_flow(&lab, &nodes, &pinger, Duration::from_secs(3));
    let after = client_neigh(&lab, VIP6);
    let up_at = pinger.started().elapsed();
    lab.link_up("lb01").expect("link up");
    let back = wait_for(
        &lab,
        &nodes,
        "the IPv6 VIP back on lb01",
        Duration::from_secs(3),
        || lab.holders(vip) == ["lb01"] && a.state("VI_1") == "master" && b.state("VI_1") == "backup",
    );
    replies_flow(&lab, &nodes, &pinger, Duration::from_secs(3));
    let after_back = client_neigh(&lab, VIP6);

    // A clean stop over IPv6: priority 0, the VIP removed, lb02 within Skew_Time.
    let stop_at = pinger.started().elapsed();
    let t = Instant::now();
    let st = a.stop();
    let left = lab.addresses("lb01");
    let nodes = [&a, &b];
    wait_for(
        &lab,
        &nodes,
        "the IPv6 VIP on lb02 after lb01's clean stop",
        Duration::from_secs(2),
        || lab.holders(vip) == ["lb02"] && b.state("VI_1") == "master",
    );
    let stopped = t.elapsed();
    replies_flow(&lab, &nodes, &pinger, Duration::from_secs(3));
    let end = pinger.started().elapsed();
    let r = pinger.stop();
    let (gap_down, gap_up, gap_stop) = (
        r.gap_ending_in(down_at, up_at),
        r.gap_ending_in(up_at, stop_at),
        r.gap_ending_in(stop_at, end),
    );
    note(&format!(
        "*** ipv6 (v3 100 ms, VIP {VIP6}): link down -> VIP on lb02 after {:.0} ms, client gap {:.1} ms \
         (the client's neighbour entry moved to lb02's MAC by unsolicited NA); link up -> lb01 master after \
         {:.0} ms, client gap {:.1} ms; SIGTERM -> lb02 master after {:.0} ms, client gap {:.1} ms; {r}",
        ms(moved),
        ms(gap_down),
        ms(back),
        ms(gap_up),
        ms(stopped),
        ms(gap_stop)
    ));
    check!(
        &nodes,
        after_back.contains(&mac_a),
        "client's neighbour entry after lb01's return: {after_back:?} (lb01 is {mac_a})"
    );
    check!(&nodes, st.success(), "lb01 exit {st}");
    check!(
        &nodes,
        !left.iter().any(|(x, _)| *x == vip),
        "IPv6 VIP still on lb01 after it exited: {left:?}"
    );
    check!(
        &nodes,
        stopped < skew(ADVERT, 100) + MARGIN,
        "lb02 master {stopped:?} after lb01's SIGTERM"
    );
    check!(
        &nodes,
        gap_stop < Duration::from_millis(150),
        "client gap on clean stop {gap_stop:?}: {r}"
    );
    let tb = b.instance("VI_1").last_transition.expect("transition");
    check!(&nodes, tb.reason.contains("resigned (priority 0)"), "{tb:?}");
    check!(
        &nodes,
        after.contains(&mac_b),
        "client's neighbour entry after the failover: {after:?} (lb02 is {mac_b})"
    );
    check!(
        &nodes,
        moved <= mdi(ADVERT, 100) + MARGIN,
        "IPv6 VIP on lb02 after {moved:?}"
    );
    // Without the unsolicited NA the client would keep lb01's MAC until neighbour
    // unreachability detection (seconds); the gap proves the NA.
    check!(
        &nodes,
        gap_down < Duration::from_millis(600),
        "client gap on link down {gap_down:?}: {r}"
    );
    check!(
        &nodes,
        back <= mdi(ADVERT, 150) + MARGIN,
        "lb01 back after {back:?}"
    );
    check!(
        &nodes,
        gap_up < Duration::from_millis(150),
        "client gap on preempt {gap_up:?}: {r}"
    );
}
