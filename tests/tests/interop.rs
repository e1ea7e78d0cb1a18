//! Baton and keepalived 2.2.7 in one virtual router, on the lab's two nodes.
//!
//! For VRRPv2 with PASS "1111" at 1 s (the seed's settings), VRRPv3 at 100 ms
//! (IPv4: the checksum with the pseudo-header, keepalived's default) and
//! VRRPv3 at 100 ms over IPv6, in both role orders:
//!
//! * keepalived master (lb01, 150), Baton backup (lb02, 100): Baton follows
//!   keepalived's adverts without a single drop; keepalived's link goes down
//!   and Baton takes the VIP after Master_Down_Interval; the link comes back
//!   and keepalived preempts.
//! * Baton master (lb01, 150), keepalived backup (lb02, 100): keepalived
//!   stays BACKUP; Baton stops (SIGTERM, a priority-0 advert) and keepalived
//!   takes over within Skew_Time; Baton returns and preempts.
//!
//! Each step checks who holds the VIP (`Lab::holders`) and bounds the gap a
//! client pinging the VIP every 10 ms sees; the gaps are printed.
//!
//! They need root; without it they print "SKIPPED (needs root)" and pass,
//! except under CI=true where they fail.

use std::net::IpAddr;
use std::time::Duration;

use baton::status::InstanceStatus;
use baton_e2e::baton::{BatonNode, InstanceSpec, node_config};
use baton_e2e::{GapMeasurement, measure_gap, note, require_root};
use baton_lab::{self as lab, KaInstance, Keepalived, Lab, LabSpec, keepalived_conf};

const VRID: u8 = 50;
const INSTANCE: &str = "VI_1";

#[derive(Debug, Clone, Copy)]
struct Setup {
    version: u8,
    interval: Duration,
    v6: bool,
}

const V2_1S: Setup = Setup {
    version: 2,
    interval: Duration::from_secs(1),
    v6: false,
};
const V3_100MS: Setup = Setup {
    version: 3,
    interval: Duration::from_millis(100),
    v6: false,
};
const V3_100MS_V6: Setup = Setup {
    version: 3,
    interval: Duration::from_millis(100),
    v6: true,
};

impl Setup {
    fn vip(self) -> IpAddr {
        if self.v6 { "2001:db8::100" } else { "192.0.2.100" }
            .parse()
            .expect("VIP")
    }

    fn vip_cidr(self) -> String {
        format!("{}/{}", self.vip(), if self.v6 { 64 } else { 24 })
    }

    fn baton(self, router: &str, priority: u8) -> String {
        let mut spec = InstanceSpec::new(INSTANCE, VRID, priority, &self.vip_cidr())
            .version(self.version)
            .advert_interval(&format!("{}ms", self.interval.as_millis()));
        if self.version == 2 {
            spec = spec.auth_pass("1111");
        }
        node_config(router, &[spec])
    }

    fn keepalived(self, priority: u8, state: &str) -> String {
        let mut i = KaInstance::new(INSTANCE, VRID, priority, state);
        i.version = self.version;
        i.advert_int = self.interval.as_secs_f64();
        i.auth_pass = (self.version == 2).then(|| "1111".to_string());
        i.vips = vec![self.vip_cidr()];
        keepalived_conf(&i)
    }

    /// RFC 3768 / 9568: (256 - priority) / 256 of the advert interval.
    fn skew(self, priority: u8) -> Duration {
        self.interval * (256 - u32::from(priority)) / 256
    }

    fn master_down(self, priority: u8) -> Duration {
        self.interval * 3 + self.skew(priority)
    }

    fn name(self) -> String {
        format!(
            "VRRPv{} {} ms {}",
            self.version,
            self.interval.as_millis(),
            if self.v6 { "IPv6" } else { "IPv4" }
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn fmt_ms(d: Option<Duration>) -> String {
    d.map_or("never".to_string(), |d| format!("{:.0} ms", ms(d)))
}

/// The address `host` sends adverts from: its IPv4 address, or its IPv6
/// link-local address.
fn advert_source(lab: &Lab, host: &str, s: Setup) -> String {
    if !s.v6 {
        return lab.ipv4(host).to_string();
    }
    lab.addresses(host)
        .into_iter()
        .find_map(|(a, _)| match a {
            IpAddr::V6(v) if v.segments()[0] == 0xfe80 => Some(v.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{host} has no link-local address"))
}

fn inst(node: &BatonNode<'_>) -> InstanceStatus {
    node.instance(INSTANCE)
}

fn no_drops(node: &BatonNode<'_>) -> Result<(), String> {
    let s = node.status();
    let i = s.instances.iter().find(|i| i.name == INSTANCE).expect("instance");
    let sockets: Vec<_> = s.sockets.iter().filter(|k| !k.drops.is_empty()).collect();
    if i.counters.drops.is_empty() && sockets.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: drops {:?}, socket drops {:?}",
            node.host(),
            i.counters.drops,
            sockets
        ))
    }
}

fn report(s: Setup, what: &str, m: &GapMeasurement) {
    note(&format!(
        "*** interop {}: {what}: client gap {}, VIP moved after {}; {}",
        s.name(),
        fmt_ms(m.gap),
        fmt_ms(m.recovered_after),
        m.report
    ));
}

fn log_after(log: &str, from: usize) -> &str {
    log.get(from..).unwrap_or("")
}

/// keepalived master on lb01 (150), Baton backup on lb02 (100); lb01's link
/// goes down, then up again.
fn keepalived_master_baton_backup(s: Setup) {
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let vip = s.vip();
    let ka = Keepalived::start(&lab, "lb01", &s.keepalived(150, "MASTER")).expect("keepalived");
    let up = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        lab.holders(vip) == ["lb01"]
    });
    assert!(up, "keepalived did not take the VIP\n{}", ka.log());
    let baton = BatonNode::start(&lab, "lb02", &s.baton("lb02", 100));
    let ka_addr = advert_source(&lab, "lb01", s);
    let following = lab::wait_until(Duration::from_secs(5), Duration::from_millis(10), || {
        let i = inst(&baton);
        i.state == "backup"
            && i.master
                .as_ref()
                .is_some_and(|m| m.address == ka_addr && m.priority == 150)
            && i.counters.adverts_rx >= 2
    });
    assert!(
        following,
        "Baton does not follow keepalived ({ka_addr}): {:?}\n{}\n--- keepalived\n{}",
        inst(&baton),
        baton.log_block(),
        ka.log()
    );
    // Adverts keep coming, and every one is accepted.
    let before = inst(&baton).counters.adverts_rx;
    std::thread::sleep((s.interval * 3).max(Duration::from_millis(500)));
    let after = inst(&baton);
    assert!(
        after.counters.adverts_rx >= before + 2,
        "adverts_rx {before} -> {}",
        after.counters.adverts_rx
    );
    no_drops(&baton).unwrap_or_else(|e| panic!("{e}\n--- keepalived\n{}", ka.log()));
    assert_eq!(lab.holders(vip), ["lb01"]);

    // keepalived's link goes down: Baton takes over after Master_Down_Interval.
    let down = measure_gap(
        &lab,
        vip,
        Duration::from_millis(300),
        || lab.link_down("lb01"),
        || lab.holders(vip) == ["lb02"],
        Duration::from_secs(10),
    )
    .expect("measuring");
    report(s, "keepalived master's link down, Baton takes over", &down);
    let i = inst(&baton);
    assert_eq!(i.state, "master", "{}", baton.log_block());
    assert_eq!(i.counters.became_master, 1);
    let bound = s.master_down(100) + Duration::from_millis(600);
    assert!(
        down.gap.is_some_and(|g| g > s.interval * 2 && g < bound),
        "gap {} not in ({:.0} ms, {:.0} ms): {}",
        fmt_ms(down.gap),
        ms(s.interval * 2),
        ms(bound),
        down.report
    );

    // The link comes back: keepalived (150) preempts Baton (100).
    let from = ka.log().len();
    let back = measure_gap(
        &lab,
        vip,
        Duration::from_millis(300),
        || lab.link_up("lb01"),
        || lab.holders(vip) == ["lb01"] && baton.state(INSTANCE) == "backup",
        Duration::from_secs(15),
    )
    .expect("measuring");
    report(s, "keepalived's link back, keepalived preempts", &back);
    let i = inst(&baton);
    assert_eq!(
        (i.state.as_str(), back.recovered_after.is_some()),
        ("backup", true),
        "{}\n--- keepalived\n{}",
        baton.log_block(),
        ka.log()
    );
    assert!(
        log_after(&ka.log(), from).contains("Entering MASTER STATE"),
        "{}",
        ka.log()
    );
    assert!(
        back.gap.is_some_and(|g| g < Duration::from_millis(1000)),
        "preempt gap {}: {}",
        fmt_ms(back.gap),
        back.report
    );
    assert!(
        i.master.as_ref().is_some_and(|m| m.priority == 150),
        "{:?}",
        i.master
    );
    no_drops(&baton).unwrap_or_else(|e| panic!("{e}\n--- keepalived\n{}", ka.log()));
    assert!(!ka.log().contains("checksum"), "{}", ka.log());
}

/// Baton master on lb01 (150), keepalived backup on lb02 (100); Baton stops
/// cleanly, then returns.
fn baton_master_keepalived_backup(s: Setup) {
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let vip = s.vip();
    let mut baton = BatonNode::start(&lab, "lb01", &s.baton("lb01", 150));
    let up = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        baton.state(INSTANCE) == "master" && lab.holders(vip) == ["lb01"]
    });
    assert!(up, "Baton did not become master\n{}", baton.log_block());
    let mut ka = Keepalived::start(&lab, "lb02", &s.keepalived(100, "BACKUP")).expect("keepalived");
    assert!(
        ka.wait_log("Entering BACKUP STATE", Duration::from_secs(5)),
        "{}",
        ka.log()
    );
    // Longer than keepalived's Master_Down_Interval: it stays BACKUP only if
    // it accepts Baton's adverts (checksum, auth, interval).
    std::thread::sleep(s.master_down(100) + s.interval);
    let log = ka.log();
    let backup_at = log.find("Entering BACKUP STATE").expect("backup");
    assert!(
        !log_after(&log, backup_at).contains("Entering MASTER STATE"),
        "keepalived did not accept Baton's adverts:\n{log}\n{}",
        baton.log_block()
    );
    assert!(!log.contains("checksum"), "{log}");
    assert_eq!(lab.holders(vip), ["lb01"]);
    let i = inst(&baton);
    assert_eq!(i.state, "master");
    assert_eq!(i.counters.transitions, 2, "{:?}", i.last_transition);
    no_drops(&baton).unwrap_or_else(|e| panic!("{e}\n--- keepalived\n{log}"));

    // Baton stops: its priority-0 advert makes keepalived take over after
    // Skew_Time, not Master_Down_Interval.
    let from = ka.log().len();
    let stop = measure_gap(
        &lab,
        vip,
        Duration::from_millis(300),
        || {
            baton.stop();
            Ok(())
        },
        || lab.holders(vip) == ["lb02"],
        Duration::from_secs(10),
    )
    .expect("measuring");
    report(s, "Baton master stops (SIGTERM), keepalived takes over", &stop);
    let log = ka.log();
    assert!(log_after(&log, from).contains("Entering MASTER STATE"), "{log}");
    assert!(
        log_after(&log, from).contains("priority 0"),
        "keepalived did not see the priority-0 advert:\n{log}"
    );
    let bound = s.skew(100) + Duration::from_millis(500);
    assert!(
        stop.recovered_after.is_some_and(|d| d < bound),
        "keepalived took over after {} (bound {:.0} ms; Master_Down_Interval is {:.0} ms): {}",
        fmt_ms(stop.recovered_after),
        ms(bound),
        ms(s.master_down(100)),
        stop.report
    );
    assert!(
        stop.gap.is_some_and(|g| g < bound),
        "gap {}: {}",
        fmt_ms(stop.gap),
        stop.report
    );

    // Baton returns and preempts keepalived.
    let from = ka.log().len();
    let back = measure_gap(
        &lab,
        vip,
        Duration::from_millis(300),
        || {
            baton.restart();
            Ok(())
        },
        || lab.holders(vip) == ["lb01"] && log_after(&ka.log(), from).contains("Entering BACKUP STATE"),
        Duration::from_secs(15),
    )
    .expect("measuring");
    report(s, "Baton returns and preempts keepalived", &back);
    assert!(
        back.recovered_after.is_some(),
        "holders {:?}\n{}\n--- keepalived\n{}",
        lab.holders(vip),
        baton.log_block(),
        ka.log()
    );
    let i = inst(&baton);
    assert_eq!(i.state, "master");
    assert!(
        back.gap.is_some_and(|g| g < Duration::from_millis(1000)),
        "preempt gap {}: {}",
        fmt_ms(back.gap),
        back.report
    );
    assert!(!ka.log().contains("checksum"), "{}", ka.log());
    ka.stop().expect("keepalived stop");
}

#[test]
fn v2_pass_keepalived_master_baton_backup() {
    if !require_root("v2_pass_keepalived_master_baton_backup") {
        return;
    }
    keepalived_master_baton_backup(V2_1S);
}

#[test]
fn v2_pass_baton_master_keepalived_backup() {
    if !require_root("v2_pass_baton_master_keepalived_backup") {
        return;
    }
    baton_master_keepalived_backup(V2_1S);
}

#[test]
fn v3_100ms_keepalived_master_baton_backup() {
    if !require_root("v3_100ms_keepalived_master_baton_backup") {
        return;
    }
    keepalived_master_baton_backup(V3_100MS);
}

#[test]
fn v3_100ms_baton_master_keepalived_backup() {
    if !require_root("v3_100ms_baton_master_keepalived_backup") {
        return;
    }
    baton_master_keepalived_backup(V3_100MS);
}

#[test]
fn v3_100ms_ipv6_keepalived_master_baton_backup() {
    if !require_root("v3_100ms_ipv6_keepalived_master_baton_backup") {
        return;
    }
    keepalived_master_baton_backup(V3_100MS_V6);
}

#[test]
fn v3_100ms_ipv6_baton_master_keepalived_backup() {
    if !require_root("v3_100ms_ipv6_baton_master_keepalived_backup") {
        return;
    }
    baton_master_keepalived_backup(V3_100MS_V6);
}
