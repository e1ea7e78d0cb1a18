//! Failover of the real `baton` binary in the ways the seed describes, two
//! daemons (lb01 150, lb02 100, VRRPv3 every 100 ms) and a client pinging the
//! VIP every 10 ms throughout: lb01's link goes down and comes back
//! (preempt); lb01 stops cleanly (priority 0); lb01 is killed, leaving its
//! VIP behind, and its restarted daemon clears that VIP before it preempts;
//! and with `preempt = false` a higher priority that starts later stays
//! backup. Each test notes what it measured.
//!
//! Helpers and the timing reference: `baton_e2e::scenario`. They need root;
//! without it they print "SKIPPED (needs root)" and pass, except under
//! CI=true where they fail. One lab at a time (`scenario::serial`), so the
//! timings of one are not disturbed by another's lab.

use std::time::{Duration, Instant};

use baton_e2e::baton::{BatonNode, InstanceSpec, node_config};
use baton_e2e::scenario::{
    ADVERT, MARGIN, VIP4, client_neigh, ip, mac, mdi, ms, new_lab, pair, replies_flow, serial, skew,
    steady_pinger, wait_for,
};
use baton_e2e::{check, note, require_root};
use baton_lab::wait_until;

#[test]
fn failover_link_down_and_preempt() {
    if !require_root("failover_link_down_and_preempt") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let vip = ip(VIP4);
    let (a, b) = pair(&lab, &format!("{VIP4}/24"), vip);
    let nodes = [&a, &b];
    let pinger = steady_pinger(&lab, &nodes, vip);

    // lb01 loses its link.
    let down_at = pinger.started().elapsed();
    let t = Instant::now();
    lab.link_down("lb01").expect("link down");
    let fault = wait_for(&lab, &nodes, "lb01 in FAULT", Duration::from_secs(2), || {
        a.state("VI_1") == "fault"
    });
    let moved = wait_for(
        &lab,
        &nodes,
        "the VIP on lb02 alone",
        Duration::from_secs(3),
        || lab.holders(vip) == ["lb02"] && b.state("VI_1") == "master",
    ) + fault;
    let moved_total = t.elapsed();
    let ia = a.instance("VI_1");
    check!(
        &nodes,
        ia.state == "fault" && ia.faults == ["link eth0 down"] && !ia.holding_vips,
        "lb01: {ia:#?}"
    );
    let ta = ia.last_transition.as_ref().expect("transition");
    check!(
        &nodes,
        ta.from == "master" && ta.to == "fault" && ta.reason == "fault: link eth0 down",
        "{ta:?}"
    );
    let ib = b.instance("VI_1");
    let tb = ib.last_transition.as_ref().expect("transition");
    check!(
        &nodes,
        tb.to == "master" && tb.reason.contains("master down"),
        "{tb:?}"
    );
    replies_flow(&lab, &nodes, &pinger, Duration::from_secs(3));
    // The client was told by gratuitous ARP: its entry for the VIP is lb02's MAC.
    let arp = client_neigh(&lab, VIP4);
    let mac_b = mac(&lab, "lb02");
    check!(
        &nodes,
        arp.contains(&mac_b),
        "client's ARP entry for the VIP after the failover: {arp:?} (lb02 is {mac_b})"
    );
    let up_at = pinger.started().elapsed();

    // It comes back, and takes over again (preempt).
    lab.link_up("lb01").expect("link up");
    let back = wait_for(
        &lab,
        &nodes,
        "the VIP back on lb01 alone",
        Duration::from_secs(3),
        || lab.holders(vip) == ["lb01"] && a.state("VI_1") == "master" && b.state("VI_1") == "backup",
    );
    replies_flow(&lab, &nodes, &pinger, Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(100));
    let end = pinger.started().elapsed();
    let r = pinger.stop();
    let gap_down = r.gap_ending_in(down_at, up_at);
    let gap_up = r.gap_ending_in(up_at, end);
    let ia = a.instance("VI_1");
    let tb = b.instance("VI_1").last_transition.expect("transition");
    note(&format!(
        "*** failover_link_down_and_preempt (v3 100 ms): link down -> lb01 FAULT after {:.0} ms, VIP on lb02 \
         after {:.0} ms (Master_Down_Interval {:.1} ms), client gap {:.1} ms; link up -> lb01 master after \
         {:.0} ms, client gap {:.1} ms; {r}",
        ms(fault),
        ms(moved_total),
        ms(mdi(ADVERT, 100)),
        ms(gap_down),
        ms(back),
        ms(gap_up)
    ));
    check!(
        &nodes,
        moved <= mdi(ADVERT, 100) + MARGIN,
        "VIP on lb02 after {moved:?}"
    );
    check!(
        &nodes,
        gap_down < Duration::from_millis(600),
        "client gap on link down {gap_down:?}: {r}"
    );
    // Not faster than the protocol allows: lb02 waited for lb01's adverts to stop.
    check!(
        &nodes,
        gap_down >= mdi(ADVERT, 100) - ADVERT,
        "client gap on link down {gap_down:?}: {r}"
    );
    check!(
        &nodes,
        back <= mdi(ADVERT, 150) + MARGIN,
        "lb01 back after {back:?}"
    );
    check!(
        &nodes,
        gap_up < Duration::from_millis(100),
        "client gap on preempt {gap_up:?}: {r}"
    );
    check!(
        &nodes,
        ia.faults.is_empty() && ia.counters.became_master == 2,
        "{ia:#?}"
    );
    check!(
        &nodes,
        tb.to == "backup" && tb.reason.contains("192.0.2.11") && tb.reason.contains("150"),
        "{tb:?}"
    );
    check!(&nodes, r.duplicates == 0, "two hosts answered one ping: {r}");
}

#[test]
fn failover_clean_stop() {
    if !require_root("failover_clean_stop") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let vip = ip(VIP4);
    let (mut a, b) = pair(&lab, &format!("{VIP4}/24"), vip);
    let pinger = steady_pinger(&lab, &[&a, &b], vip);
    let stop_at = pinger.started().elapsed();
    let t = Instant::now();
    let status = a.stop();
    let exited = t.elapsed();
    // Gone from lb01 by the time the daemon has exited.
    let left = lab.addresses("lb01");
    let socket_left = a.socket_path().exists();
    let moved = wait_for(&lab, &[&a, &b], "the VIP on lb02", Duration::from_secs(2), || {
        lab.holders(vip) == ["lb02"] && b.state("VI_1") == "master"
    }) + exited;
    replies_flow(&lab, &[&a, &b], &pinger, Duration::from_secs(3));
    let end = pinger.started().elapsed();
    let r = pinger.stop();
    let gap = r.gap_ending_in(stop_at, end);
    let nodes = [&a, &b];
    note(&format!(
        "*** failover_clean_stop (v3 100 ms): lb01 exited {:.0} ms after SIGTERM; VIP on lb02 after {:.0} ms \
         (Skew_Time {:.1} ms); client gap {:.1} ms; {r}",
        ms(exited),
        ms(moved),
        ms(skew(ADVERT, 100)),
        ms(gap)
    ));
    check!(&nodes, status.success(), "lb01 exit status {status}");
    check!(
        &nodes,
        !left.iter().any(|(x, _)| *x == vip),
        "VIP still on lb01 after it exited: {left:?}"
    );
    check!(
        &nodes,
        left.contains(&(ip("192.0.2.11"), 24)),
        "lb01 lost its own address: {left:?}"
    );
    check!(
        &nodes,
        !socket_left,
        "control socket {} left behind",
        a.socket_path().display()
    );
    check!(
        &nodes,
        a.log().contains("stopping: resigning mastership"),
        "no stop line in lb01's log"
    );
    check!(
        &nodes,
        exited < Duration::from_secs(1),
        "lb01 took {exited:?} to exit"
    );
    check!(
        &nodes,
        moved < skew(ADVERT, 100) + MARGIN,
        "VIP on lb02 after {moved:?}"
    );
    check!(
        &nodes,
        gap < Duration::from_millis(150),
        "client gap {gap:?}: {r}"
    );
    let ib = b.instance("VI_1");
    let tb = ib.last_transition.as_ref().expect("transition");
    check!(
        &nodes,
        tb.to == "master"
            && tb.reason.contains("priority 0")
            && tb.reason.contains("resigned")
            && tb.reason.contains("192.0.2.11"),
        "lb02's last transition: {tb:?}"
    );
    check!(&nodes, ib.counters.priority_zero_rx >= 1, "{ib:#?}");
}

#[test]
fn failover_crash_and_reconcile() {
    if !require_root("failover_crash_and_reconcile") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let vip = ip(VIP4);
    let (mut a, b) = pair(&lab, &format!("{VIP4}/24 dev eth0 label eth0:1"), vip);
    let pinger = steady_pinger(&lab, &[&a, &b], vip);
    let kill_at = pinger.started().elapsed();
    let t = Instant::now();
    a.kill();
    // Killed: nobody removed the VIP.
    let holders_after_kill = lab.holders(vip);
    let took_over = wait_for(&lab, &[&a, &b], "lb02 master", Duration::from_secs(3), || {
        b.state("VI_1") == "master" && lab.holders(vip).contains(&"lb02".to_string())
    });
    let took_over_total = t.elapsed();
    let both = lab.holders(vip);
    replies_flow(&lab, &[&a, &b], &pinger, Duration::from_secs(3));
    let restart_at = pinger.started().elapsed();

    // lb01's daemon comes back: it must clear the leftover VIP, then preempt.
    a.restart();
    let after_restart = lab.holders(vip);
    let back = wait_for(
        &lab,
        &[&a, &b],
        "lb01 master again, lb02 backup",
        Duration::from_secs(3),
        || a.state("VI_1") == "master" && b.state("VI_1") == "backup" && lab.holders(vip) == ["lb01"],
    );
    replies_flow(&lab, &[&a, &b], &pinger, Duration::from_secs(3));
    // Settled: exactly one holder, for a while.
    let mut holders_seen = Vec::new();
    wait_until(Duration::from_millis(600), Duration::from_millis(20), || {
        holders_seen.push(lab.holders(vip));
        false
    });
    let end = pinger.started().elapsed();
    let r = pinger.stop();
    let gap_crash = r.gap_ending_in(kill_at, restart_at);
    let gap_back = r.gap_ending_in(restart_at, end);
    let nodes = [&a, &b];
    note(&format!(
        "*** failover_crash_and_reconcile (v3 100 ms): SIGKILL -> lb02 master after {:.0} ms \
         (Master_Down_Interval {:.1} ms), client gap {:.1} ms (lb01's kernel still answers for the VIP); \
         restart -> lb01 master after {:.0} ms, client gap {:.1} ms; {r}",
        ms(took_over_total),
        ms(mdi(ADVERT, 100)),
        ms(gap_crash),
        ms(back),
        ms(gap_back)
    ));
    check!(
        &nodes,
        holders_after_kill == ["lb01"],
        "right after SIGKILL: {holders_after_kill:?}"
    );
    check!(
        &nodes,
        both == ["lb01", "lb02"],
        "after lb02's takeover the dead lb01 still has the VIP: {both:?}"
    );
    // lb02 waited for Master_Down_Interval (the last advert was up to one interval before the kill).
    check!(
        &nodes,
        took_over + ADVERT >= mdi(ADVERT, 100) && took_over <= mdi(ADVERT, 100) + MARGIN,
        "lb02 took over {took_over:?} after the kill"
    );
    let log = a.log();
    let second_run = log.split("=== baton-e2e: restarting").nth(1).unwrap_or_default();
    check!(
        &nodes,
        second_run.contains("left on") && second_run.contains(VIP4),
        "no leftover-VIP line in lb01's second run"
    );
    check!(
        &nodes,
        after_restart == ["lb02"],
        "lb01 joined with the leftover VIP: {after_restart:?}"
    );
    check!(
        &nodes,
        back <= mdi(ADVERT, 150) + MARGIN,
        "lb01 master {back:?} after its restart"
    );
    check!(
        &nodes,
        holders_seen.iter().all(|h| h == &["lb01"]),
        "holders after settling: {holders_seen:?}"
    );
    check!(
        &nodes,
        gap_crash < Duration::from_millis(600),
        "client gap after the crash {gap_crash:?}: {r}"
    );
    check!(
        &nodes,
        gap_back < Duration::from_millis(150),
        "client gap on lb01's return {gap_back:?}: {r}"
    );
    let out = lab
        .ip("lb01", &["-o", "-4", "addr", "show", "label", "eth0:1"])
        .expect("ip addr");
    let text = String::from_utf8_lossy(&out.stdout);
    check!(&nodes, text.matches(VIP4).count() == 1, "lb01's eth0:1: {text:?}");
}

#[test]
fn nopreempt() {
    if !require_root("nopreempt") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let vip = ip(VIP4);
    let cfg = |host: &str, prio: u8| {
        node_config(
            host,
            &[InstanceSpec::new("VI_1", 51, prio, &format!("{VIP4}/24")).preempt(false)],
        )
    };
    let b = BatonNode::start(&lab, "lb02", &cfg("lb02", 100));
    let first = wait_for(&lab, &[&b], "lb02 master alone", Duration::from_secs(3), || {
        lab.holders(vip) == ["lb02"] && b.state("VI_1") == "master"
    });
    let a = BatonNode::start(&lab, "lb01", &cfg("lb01", 150));
    let nodes = [&a, &b];
    let t = Instant::now();
    let mut polls = 0;
    let mut bad = None;
    while t.elapsed() < Duration::from_secs(3) {
        polls += 1;
        let (h, sa, sb) = (lab.holders(vip), a.state("VI_1"), b.state("VI_1"));
        if h != ["lb02"] || sb != "master" || sa != "backup" {
            bad = Some(format!(
                "after {:?}: holders {h:?}, lb01 {sa}, lb02 {sb}",
                t.elapsed()
            ));
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let ia = a.instance("VI_1");
    note(&format!(
        "*** nopreempt: lb02 (100) master after {:.0} ms; lb01 (150, preempt = false) stayed backup for 3 s \
         ({polls} polls), accepting {} adverts from lb02",
        ms(first),
        ia.counters.adverts_rx
    ));
    check!(
        &nodes,
        bad.is_none(),
        "lb02 lost mastership: {}",
        bad.unwrap_or_default()
    );
    let m = ia.master.as_ref().expect("lb01 knows the master");
    check!(
        &nodes,
        m.address == "192.0.2.12" && m.priority == 100 && !m.is_self,
        "{ia:#?}"
    );
    check!(
        &nodes,
        ia.counters.became_master == 0 && ia.counters.adverts_rx >= 20,
        "{ia:#?}"
    );
    check!(
        &nodes,
        b.instance("VI_1").counters.became_master == 1,
        "lb02 flapped"
    );
}
