//! What the end-to-end scenarios of the real `baton` binary share (the
//! tests in tests/tests/election_status.rs, failover.rs, dual_master.rs,
//! ipv6.rs, peers.rs and vip_traffic.rs): the documentation addresses, the
//! VRRPv3 timers they are measured against, a lock so that one lab runs at a
//! time, the standard two-node pair, waits that fail with the whole scene,
//! and a client pinger that is known to be steady.
//!
//! Timing reference, VRRPv3 (RFC 9568), advert interval A, priority P:
//! Skew_Time = (256 - P) / 256 * A, Master_Down_Interval = 3 * A + Skew_Time.
//! At A = 100 ms: lb01 (150) 341.4 ms, lb02 (100) 360.9 ms, lb02's skew 60.9 ms.

use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use baton_lab::{Lab, LabSpec, Pinger, wait_until};

use crate::baton::{BatonNode, InstanceSpec, logs, node_config};

/// The VIP of the scenarios with one IPv4 VIP.
pub const VIP4: &str = "192.0.2.100";
/// A second IPv4 VIP (a second instance).
pub const VIP4_B: &str = "192.0.2.101";
/// The IPv6 VIP.
pub const VIP6: &str = "2001:db8::100";
/// The advert interval of the VRRPv3 scenarios.
pub const ADVERT: Duration = Duration::from_millis(100);
/// Slack for what the protocol timers do not cover: netlink, `ip` polling,
/// scheduling on a loaded 2-CPU machine.
pub const MARGIN: Duration = Duration::from_millis(300);

/// One lab test at a time (within one test binary; cargo runs the binaries
/// one after another).
static SERIAL: Mutex<()> = Mutex::new(());

/// Takes the lab lock for the rest of the test (a panicking test does not
/// poison it for the others).
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Parses an address literal.
///
/// # Panics
/// If `s` is not an address.
pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// `d` in milliseconds, for the notes.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Skew_Time (RFC 9568 §6.1) for VRRPv3.
pub fn skew(advert: Duration, priority: u8) -> Duration {
    advert * (256 - u32::from(priority)) / 256
}

/// Master_Down_Interval (RFC 9568 §6.1) for VRRPv3.
pub fn mdi(advert: Duration, priority: u8) -> Duration {
    advert * 3 + skew(advert, priority)
}

/// Two nodes and a client.
pub fn new_lab() -> Lab {
    Lab::new(LabSpec::new(2)).expect("building the lab")
}

/// A one-instance config: VI_1, vrid 51, VRRPv3 every 100 ms.
pub fn v3_config(host: &str, priority: u8, vip: &str) -> String {
    node_config(host, &[InstanceSpec::new("VI_1", 51, priority, vip)])
}

/// Who holds what, and what each daemon says, for failure messages.
pub fn scene(lab: &Lab, nodes: &[&BatonNode<'_>]) -> String {
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
pub fn wait_for(
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

/// `assert!` whose message ends with every node's log:
/// `check!(&nodes, cond, "format", args...)`.
#[macro_export]
macro_rules! check {
    ($nodes:expr, $cond:expr, $($fmt:tt)+) => {
        assert!($cond, "{}\n{}", format!($($fmt)+), $crate::baton::logs($nodes))
    };
}

/// Starts a 10 ms pinger of `target` from the client and waits until it has
/// had steady replies (no hole over 50 ms) for 300 ms.
pub fn steady_pinger(lab: &Lab, nodes: &[&BatonNode<'_>], target: IpAddr) -> Pinger {
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
pub fn replies_flow(lab: &Lab, nodes: &[&BatonNode<'_>], p: &Pinger, timeout: Duration) {
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

/// The MAC address of `host`'s eth0.
pub fn mac(lab: &Lab, host: &str) -> String {
    let out = lab.ip(host, &["-o", "link", "show", "eth0"]).expect("ip link");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or_else(|| panic!("no MAC in {text}"))
        .to_string()
}

/// The client's neighbour entry for `addr` (`ip neigh show`).
pub fn client_neigh(lab: &Lab, addr: &str) -> String {
    let out = lab
        .ip("client", &["neigh", "show", addr, "dev", "eth0"])
        .expect("ip neigh");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Starts lb01 (150) and lb02 (100) with one VRRPv3 100 ms instance for
/// `vip` and waits until lb01 is master holding it and lb02 is backup.
pub fn pair<'a>(lab: &'a Lab, vip_spec: &str, vip: IpAddr) -> (BatonNode<'a>, BatonNode<'a>) {
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

/// A veth pair `a`/`b` of `host`'s own, both up: a second device for VIPs
/// (this kernel may have no dummy driver).
pub fn veth_pair(lab: &Lab, host: &str, a: &str, b: &str) {
    lab.exec_ok(host, &["ip", "link", "add", a, "type", "veth", "peer", "name", b])
        .expect("ip link add");
    for dev in [a, b] {
        lab.exec_ok(host, &["ip", "link", "set", dev, "up"])
            .expect("ip link set");
    }
}
