//! End-to-end tests of the real `baton` binary: two daemons (lb01, lb02) and
//! a client in a namespace lab, the client pinging the VIP every 10 ms while
//! the master fails in the ways the seed describes (link down, clean stop,
//! crash), plus nopreempt, dual master, IPv6, VRRPv2 PASS authentication,
//! unicast peers, `accept = false`, the GARP schedule (burst and refresh, on
//! the wire), a VIP on another device, and `baton check`.
//!
//! Every test prints what it measured (`note`, past the harness's capture).
//! The lab tests need root; without it they print "SKIPPED (needs root)" and
//! pass, except under CI=true where they fail. They run one at a time (a
//! lock), so the failover timings of one are not disturbed by another's lab.
//!
//! Timing reference, VRRPv3 (RFC 9568), advert interval A, priority P:
//! Skew_Time = (256 - P) / 256 * A, Master_Down_Interval = 3 * A + Skew_Time.
//! At A = 100 ms: lb01 (150) 341.4 ms, lb02 (100) 360.9 ms, lb02's skew 60.9 ms.

use std::net::IpAddr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use baton_e2e::baton::{BatonNode, InstanceSpec, logs, node_config};
use baton_e2e::{baton_bin, note, require_root};
use baton_lab::{Lab, LabProcess, LabSpec, Pinger, wait_until};

const VIP4: &str = "192.0.2.100";
const VIP4_B: &str = "192.0.2.101";
const VIP6: &str = "2001:db8::100";
const ADVERT: Duration = Duration::from_millis(100);
/// Slack for what the protocol timers do not cover: netlink, `ip` polling,
/// scheduling on a loaded 2-CPU machine.
const MARGIN: Duration = Duration::from_millis(300);

/// One lab test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Skew_Time (RFC 9568 §6.1) for VRRPv3.
fn skew(advert: Duration, priority: u8) -> Duration {
    advert * (256 - u32::from(priority)) / 256
}

/// Master_Down_Interval (RFC 9568 §6.1) for VRRPv3.
fn mdi(advert: Duration, priority: u8) -> Duration {
    advert * 3 + skew(advert, priority)
}

fn new_lab() -> Lab {
    Lab::new(LabSpec::new(2)).expect("building the lab")
}

/// A one-instance config: VI_1, vrid 51, VRRPv3 every 100 ms.
fn v3_config(host: &str, priority: u8, vip: &str) -> String {
    node_config(host, &[InstanceSpec::new("VI_1", 51, priority, vip)])
}

/// Who holds what, and what each daemon says, for failure messages.
fn scene(lab: &Lab, nodes: &[&BatonNode<'_>]) -> String {
    let mut s = String::from("--- scene\n");
    for n in nodes {
        let states = match n.try_status() {
            Ok(st) => st
                .instances
                .iter()
                .map(|i| {
                    format!(
                        "{} {} prio {} holding {} last {:?}",
                        i.name,
                        i.state,
                        i.effective_priority,
                        i.holding_vips,
                        i.last_transition.as_ref().map(|t| &t.reason)
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            Err(e) => format!("no answer: {e}"),
        };
        let addrs: Vec<String> = lab
            .addresses(n.host())
            .iter()
            .map(|(a, p)| format!("{a}/{p}"))
            .collect();
        s.push_str(&format!("{}: {states}\n   eth0: {}\n", n.host(), addrs.join(" ")));
    }
    s
}

/// Waits (polling every 5 ms) until `cond`; returns how long it took.
///
/// # Panics
/// After `timeout`, with the scene and every log.
fn wait_for(
    lab: &Lab,
    nodes: &[&BatonNode<'_>],
    what: &str,
    timeout: Duration,
    cond: impl FnMut() -> bool,
) -> Duration {
    let t = Instant::now();
    if wait_until(timeout, Duration::from_millis(5), cond) {
        return t.elapsed();
    }
    panic!(
        "timed out after {timeout:?} waiting for {what}\n{}{}",
        scene(lab, nodes),
        logs(nodes)
    );
}

/// `assert!` whose message ends with every node's log.
macro_rules! check {
    ($nodes:expr, $cond:expr, $($fmt:tt)+) => {
        assert!($cond, "{}\n{}", format!($($fmt)+), logs($nodes))
    };
}

/// Starts a 10 ms pinger of `target` from the client and waits until it has
/// had steady replies (no hole over 50 ms) for 300 ms.
fn steady_pinger(lab: &Lab, nodes: &[&BatonNode<'_>], target: IpAddr) -> Pinger {
    let p = Pinger::start(lab, "client", target, Duration::from_millis(10)).expect("pinger");
    let mut since: Option<Instant> = None;
    wait_for(
        lab,
        nodes,
        &format!("steady replies from {target}"),
        Duration::from_secs(5),
        || {
            if p.received() > 0 && p.since_last_reply() < Duration::from_millis(50) {
                since.get_or_insert_with(Instant::now).elapsed() >= Duration::from_millis(300)
            } else {
                since = None;
                false
            }
        },
    );
    p
}

/// Waits until the pinger has had replies for 100 ms without a hole.
fn replies_flow(lab: &Lab, nodes: &[&BatonNode<'_>], p: &Pinger, timeout: Duration) {
    let mut since: Option<Instant> = None;
    wait_for(lab, nodes, "client replies flowing again", timeout, || {
        if p.since_last_reply() < Duration::from_millis(30) {
            since.get_or_insert_with(Instant::now).elapsed() >= Duration::from_millis(100)
        } else {
            since = None;
            false
        }
    });
}

fn baton_cmd(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(baton_bin())
        .args(args)
        .output()
        .expect("running baton")
}

/// The MAC address of `host`'s eth0.
fn mac(lab: &Lab, host: &str) -> String {
    let out = lab.ip(host, &["-o", "link", "show", "eth0"]).expect("ip link");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or_else(|| panic!("no MAC in {text}"))
        .to_string()
}

/// The client's neighbour entry for `addr` (`ip neigh show`).
fn client_neigh(lab: &Lab, addr: &str) -> String {
    let out = lab
        .ip("client", &["neigh", "show", addr, "dev", "eth0"])
        .expect("ip neigh");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn election_and_status() {
    if !require_root("election_and_status") {
        return;
    }
    let _serial = serial();
    let lab = new_lab();
    let vip = format!("{VIP4}/24 dev eth0 label eth0:1");
    let a = BatonNode::start(&lab, "lb01", &v3_config("lb01", 150, &vip));
    let b = BatonNode::start(&lab, "lb02", &v3_config("lb02", 100, &vip));
    let nodes = [&a, &b];
    wait_for(
        &lab,
        &nodes,
        "lb01 master with the VIP, lb02 backup",
        Duration::from_secs(5),
        || lab.holders(ip(VIP4)) == ["lb01"] && a.state("VI_1") == "master" && b.state("VI_1") == "backup",
    );
    let seen = a.started().elapsed();
    // When lb01 became Master, by its own clock: uptime minus "ms ago".
    let st = a.status();
    let t = st.instances[0].last_transition.clone().expect("a transition");
    let became = Duration::from_millis(st.uptime_ms - t.ms_ago);
    note(&format!(
        "*** election_and_status: lb01 became master {:.0} ms after its daemon started \
         (Master_Down_Interval {:.1} ms); VIP seen on lb01 {:.0} ms after spawning it",
        ms(became),
        ms(mdi(ADVERT, 150)),
        ms(seen)
    ));
    // lb01 starts as Backup and takes over after its Master_Down_Interval: not before, not much later.
    check!(
        &nodes,
        became + Duration::from_millis(2) >= mdi(ADVERT, 150) && became < mdi(ADVERT, 150) + MARGIN,
        "lb01 became master {became:?} after start: {t:?}"
    );

    // The VIP with its label, on lb01 only.
    let out = lab
        .ip(
            "lb01",
            &["-o", "-4", "addr", "show", "dev", "eth0", "label", "eth0:1"],
        )
        .expect("ip addr");
    let text = String::from_utf8_lossy(&out.stdout);
    check!(
        &nodes,
        text.contains(&format!("{VIP4}/24")) && text.contains("eth0:1"),
        "ip addr label eth0:1 on lb01: {text:?}"
    );
    check!(
        &nodes,
        lab.addresses("lb01").contains(&(ip(VIP4), 24)),
        "{:?}",
        lab.addresses("lb01")
    );
    check!(
        &nodes,
        !lab.addresses("lb02").iter().any(|(x, _)| *x == ip(VIP4)),
        "{:?}",
        lab.addresses("lb02")
    );
    // And the client reaches it.
    let ping = lab
        .exec("client", &["ping", "-n", "-q", "-c", "1", "-W", "2", VIP4])
        .expect("ping");
    check!(&nodes, ping.status.success(), "client cannot ping the VIP");

    // The control socket: a socket, owner-only.
    let meta = std::fs::metadata(a.socket_path()).expect("control socket");
    check!(
        &nodes,
        meta.file_type().is_socket(),
        "{} is not a socket",
        a.socket_path().display()
    );
    check!(
        &nodes,
        meta.permissions().mode() & 0o7777 == 0o600,
        "control socket mode {:o}",
        meta.permissions().mode() & 0o7777
    );

    // `baton status --json`, run as a user would.
    let status_json = |n: &BatonNode<'_>| -> (serde_json::Value, baton_e2e::baton::status::Status) {
        let out = baton_cmd(&[
            "status".as_ref(),
            "--socket".as_ref(),
            n.socket_path().as_os_str(),
            "--json".as_ref(),
        ]);
        check!(
            &nodes,
            out.status.success(),
            "baton status --json: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status is JSON");
        let s = serde_json::from_value(v.clone()).expect("status has the Status shape");
        (v, s)
    };
    // lb02 has received a few adverts by now (one every 100 ms).
    std::thread::sleep(ADVERT * 3);
    let (va, sa) = status_json(&a);
    let (vb, sb) = status_json(&b);
    check!(
        &nodes,
        va["router_id"] == "lb01" && vb["router_id"] == "lb02",
        "{va}\n{vb}"
    );
    check!(
        &nodes,
        sa.pid == a.pid().expect("pid"),
        "status pid {} vs {:?}",
        sa.pid,
        a.pid()
    );
    let ia = &sa.instances[0];
    let ib = &sb.instances[0];
    let show = format!("lb01: {ia:#?}\nlb02: {ib:#?}");
    check!(
        &nodes,
        sa.instances.len() == 1
            && ia.name == "VI_1"
            && ia.vrid == 51
            && ia.version == 3
            && ia.family == "ipv4",
        "{show}"
    );
    check!(
        &nodes,
        ia.interface == "eth0" && ia.primary_address == "192.0.2.11" && ib.primary_address == "192.0.2.12",
        "{show}"
    );
    check!(&nodes, ia.state == "master" && ib.state == "backup", "{show}");
    check!(
        &nodes,
        ia.base_priority == 150 && ia.effective_priority == 150 && ib.effective_priority == 100,
        "{show}"
    );
    for i in [ia, ib] {
        let m = i
            .master
            .as_ref()
            .unwrap_or_else(|| panic!("no master in {show}\n{}", logs(&nodes)));
        check!(&nodes, m.address == "192.0.2.11" && m.priority == 150, "{show}");
        check!(&nodes, i.vips == [format!("{VIP4}/24")], "{show}");
        check!(&nodes, (i.advert_interval_ms - 100.0).abs() < 1e-6, "{show}");
    }
    check!(&nodes, ia.master.as_ref().is_some_and(|m| m.is_self), "{show}");
    check!(
        &nodes,
        ib.master
            .as_ref()
            .is_some_and(|m| !m.is_self && m.last_seen_ms_ago < 250),
        "{show}"
    );
    check!(&nodes, ia.holding_vips && !ib.holding_vips, "{show}");
    // lb02 learned lb01's interval: 3 * 100 + (256 - 100) / 256 * 100 ms.
    check!(
        &nodes,
        (ib.master_down_interval_ms - ms(mdi(ADVERT, 100))).abs() < 0.01,
        "{show}"
    );
    let ta = ia.last_transition.as_ref().expect("lb01 transitioned");
    check!(
        &nodes,
        ta.from == "backup" && ta.to == "master" && ta.reason.contains("master down"),
        "{show}"
    );
    let tb = ib.last_transition.as_ref().expect("lb02 transitioned");
    check!(&nodes, tb.to == "backup" && !tb.reason.is_empty(), "{show}");
    check!(
        &nodes,
        ia.counters.became_master == 1 && ia.counters.adverts_tx >= 3,
        "{show}"
    );
    check!(
        &nodes,
        ib.counters.adverts_rx >= 3 && ib.counters.adverts_tx == 0 && ib.counters.became_master == 0,
        "{show}"
    );
    check!(
        &nodes,
        ib.counters.drops.is_empty(),
        "lb02 dropped adverts in a clean lab: {show}"
    );
    check!(&nodes, ia.faults.is_empty() && ib.faults.is_empty(), "{show}");
    check!(
        &nodes,
        sa.sockets.len() == 1
            && sa.sockets[0].source == "192.0.2.11"
            && sb.sockets.iter().all(|k| k.drops.is_empty()),
        "sockets: {:#?} {:#?}",
        sa.sockets,
        sb.sockets
    );
    // The raw JSON names the fields as documented.
    check!(
        &nodes,
        vb["instances"][0]["counters"]["adverts_rx"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{vb}"
    );
    check!(
        &nodes,
        va["instances"][0]["last_transition"]["reason"].is_string(),
        "{va}"
    );
    check!(
        &nodes,
        va["instances"][0]["master"]["address"] == "192.0.2.11",
        "{va}"
    );
    note(&format!(
        "*** election_and_status: lb02 saw {} adverts, lb01 sent {}; lb02's Master_Down_Interval {:.3} ms",
        ib.counters.adverts_rx, ia.counters.adverts_tx, ib.master_down_interval_ms
    ));

    // The table.
    let out = baton_cmd(&[
        "status".as_ref(),
        "--socket".as_ref(),
        a.socket_path().as_os_str(),
    ]);
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    check!(
        &nodes,
        out.status.success() && table.contains("MASTER") && table.contains("VI_1") && table.contains("self"),
        "{table}"
    );
    check!(
        &nodes,
        table.contains(&format!("{VIP4}/24")) && table.contains("router lb01"),
        "{table}"
    );
    let out = baton_cmd(&[
        "status".as_ref(),
        "--socket".as_ref(),
        b.socket_path().as_os_str(),
    ]);
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    check!(
        &nodes,
        table.contains("BACKUP") && table.contains("192.0.2.11 (150)"),
        "{table}"
    );
    // No daemon: a clear error, non-zero.
    let out = baton_cmd(&[
        "status".as_ref(),
        "--socket".as_ref(),
        lab.dir().join("nobody.sock").as_os_str(),
    ]);
    check!(
        &nodes,
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("is baton running"),
        "{out:?}"
    );
}

/// Starts lb01 (150) and lb02 (100) with one VRRPv3 100 ms instance for
/// `vip` and waits until lb01 is master holding it and lb02 is backup.
fn pair<'a>(lab: &'a Lab, vip_spec: &str, vip: IpAddr) -> (BatonNode<'a>, BatonNode<'a>) {
    let a = BatonNode::start(lab, "lb01", &v3_config("lb01", 150, vip_spec));
    let b = BatonNode::start(lab, "lb02", &v3_config("lb02", 100, vip_spec));
    wait_for(
        lab,
        &[&a, &b],
        "lb01 master with the VIP, lb02 backup",
        Duration::from_secs(5),
        || lab.holders(vip) == ["lb01"] && a.state("VI_1") == "master" && b.state("VI_1") == "backup",
    );
    (a, b)
}

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

#[test]
fn check_command() {
    // No root needed: `baton check` only reads files.
    let dir = std::env::temp_dir().join(format!("baton-e2e-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let good = write(
        "good.toml",
        &v3_config("lb01", 150, &format!("{VIP4}/24 dev eth0 label eth0:1")),
    );
    let head = "router_id = \"lb01\"\n\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\n";
    let unknown = write(
        "unknown.toml",
        &format!("{head}prority = 150\nvips = [\"192.0.2.100/24\"]\n"),
    );
    let bracket = write(
        "bracket.toml",
        &format!("{head}vips = [\"192.0.2.100/24\"\npriority = 150\n"),
    );
    let v2v6 = write(
        "v2v6.toml",
        &format!("{head}version = 2\nadvert_interval = \"1s\"\nvips = [\"2001:db8::100/64\"]\n"),
    );
    let run = |files: &[&Path]| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["check".as_ref()];
        args.extend(files.iter().map(|p| p.as_os_str()));
        let out = baton_cmd(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };

    let (code, stdout, stderr) = run(&[&good]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stdout, format!("{}: ok\n", good.display()));
    // The shipped examples of the seed's scenarios are good too.
    let root = baton_e2e::workspace_root();
    let examples: Vec<_> = [
        "seed-ch4/lb01.toml",
        "seed-ch4/lb02.toml",
        "seed-dual-master/lb01.toml",
        "seed-dual-master/lb02.toml",
    ]
    .iter()
    .map(|f| root.join("examples").join(f))
    .collect();
    let refs: Vec<&Path> = examples.iter().map(|p| p.as_path()).collect();
    let (code, stdout, stderr) = run(&refs);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stdout.matches(": ok").count(), 4, "{stdout}");

    let cases: [(&Path, String, &str); 3] = [
        (
            &unknown,
            format!("{}:7:1: ", unknown.display()),
            "unknown key `prority`",
        ),
        (&bracket, format!("{}:7:8: ", bracket.display()), "unclosed array"),
        (&v2v6, format!("{}:7:11: ", v2v6.display()), "VRRPv2 is IPv4 only"),
    ];
    let mut seen = Vec::new();
    for (file, at, what) in &cases {
        let (code, stdout, stderr) = run(&[file]);
        seen.push(stderr.trim().to_string());
        assert_eq!(code, Some(1), "{}: {stdout}{stderr}", file.display());
        assert!(!stdout.contains(": ok"), "{stdout}");
        let line = stderr
            .lines()
            .find(|l| l.starts_with(at.as_str()))
            .unwrap_or_else(|| panic!("no {at:?} in {stderr:?}"));
        assert!(line.contains(what), "{line}");
    }
    assert!(seen[0].contains("did you mean `priority`"), "{}", seen[0]);
    // All at once: every error, the good file still ok, non-zero.
    let (code, stdout, stderr) = run(&[&unknown, &good, &bracket, &v2v6]);
    assert_eq!(code, Some(1));
    assert_eq!(stdout, format!("{}: ok\n", good.display()));
    for (file, at, _) in &cases {
        assert!(
            stderr.contains(at.as_str()),
            "{} missing from {stderr}",
            file.display()
        );
    }
    // `baton run` refuses the same file before touching the network (exit 2).
    let out = baton_cmd(&[
        "run".as_ref(),
        "--config".as_ref(),
        v2v6.as_os_str(),
        "--socket".as_ref(),
        dir.join("never.sock").as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&cases[2].1), "{err}");
    note(&format!("*** check_command: diagnostics:\n{}", seen.join("\n")));
    let _ = std::fs::remove_dir_all(&dir);
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
        // A veth pair of its own (this kernel may have no dummy driver).
        lab.exec_ok(
            h,
            &[
                "ip", "link", "add", "side0", "type", "veth", "peer", "name", "side1",
            ],
        )
        .expect("ip link add");
        for dev in ["side0", "side1"] {
            lab.exec_ok(h, &["ip", "link", "set", dev, "up"])
                .expect("ip link set");
        }
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
