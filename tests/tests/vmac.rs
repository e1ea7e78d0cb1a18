//! keepalived's `use_vmac`, `virtual_routes` and `virtual_ipaddress_excluded`,
//! run for real: lb01 reads a keepalived.conf, lb02 the same in TOML.
//!
//! * The master's VIPs sit on the macvlan `vrrp.51` with the virtual MAC
//!   00:00:5e:00:01:33, so the client's neighbour entry for the VIP is that
//!   MAC, and stays so across a failover (no ARP update needed).
//! * Adverts leave from that MAC, and carry the VIP but not the excluded
//!   address.
//! * The route and the excluded address are on the master only, and move
//!   with the VIP; the macvlan is gone once Baton stops.
//!
//! They need root; without it they print "SKIPPED (needs root)" and pass,
//! except under CI=true where they fail.

use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use baton_e2e::baton::{BatonNode, InstanceSpec, node_config};
use baton_e2e::scenario::ms;
use baton_e2e::{have, note, require_root};
use baton_lab::{self as lab, CLIENT, Lab, LabSpec};

const VMAC: &str = "vrrp.51";
const MAC: &str = "00:00:5e:00:01:33";
const ROUTE: &str = "198.51.100.0/24";
const EXCLUDED: &str = "198.51.100.50";

fn vip() -> IpAddr {
    "192.0.2.3".parse().unwrap()
}

const LB01_CONF: &str = r#"
global_defs {
    router_id lb01
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.1
    version 3
    use_vmac
    virtual_ipaddress {
        192.0.2.3/24 brd 192.0.2.255
    }
    virtual_ipaddress_excluded {
        198.51.100.50/32
    }
    virtual_routes {
        198.51.100.0/24 via 192.0.2.200
    }
}
"#;

fn lb02_toml() -> String {
    let i = InstanceSpec::new("VI_1", 51, 100, "192.0.2.3/24 brd 192.0.2.255")
        .extra("use_vmac = true")
        .extra(&format!("excluded_vips = [\"{EXCLUDED}/32\"]"))
        .extra(&format!("routes = [\"{ROUTE} via 192.0.2.200\"]"));
    node_config("lb02", &[i])
}

/// Hosts with `addr` on the macvlan.
fn on_vmac(lab: &Lab, addr: &str) -> Vec<String> {
    lab.nodes()
        .into_iter()
        .filter(|h| {
            lab.addresses_on(h, VMAC)
                .iter()
                .any(|(a, _)| a.to_string() == addr)
        })
        .collect()
}

fn has_route(lab: &Lab, host: &str) -> bool {
    lab.ip(host, &["route", "show", ROUTE])
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("via 192.0.2.200"))
        .unwrap_or(false)
}

/// The client's neighbour entry for the VIP, after it talked to it.
fn client_mac(lab: &Lab) -> Option<String> {
    let _ = lab.exec(CLIENT, &["ping", "-c", "1", "-W", "1", "192.0.2.3"]);
    let out = lab.ip(CLIENT, &["neigh", "show", "192.0.2.3"]).ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut words = text.split_whitespace();
    words.find(|w| *w == "lladdr")?;
    words.next().map(str::to_string)
}

/// tcpdump on the client's eth0, three VRRP frames with their Ethernet
/// header, verbose (the advert's addresses).
fn capture(lab: &Lab) -> Child {
    let mut cmd: Command = lab
        .command(
            CLIENT,
            &[
                "timeout",
                "5",
                "tcpdump",
                "-i",
                "eth0",
                "-e",
                "-n",
                "-vv",
                "-c",
                "3",
                "ip proto 112",
            ],
        )
        .expect("tcpdump command");
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    lab.spawn_command(&mut cmd).expect("tcpdump")
}

/// Links and ARP settings of the nodes, for a failure's message.
fn diag(lab: &Lab) -> String {
    let mut out = String::new();
    for h in lab.nodes() {
        let links = lab
            .ip(&h, &["-br", "link"])
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string());
        let sys = lab.exec(
            &h,
            &[
                "sh",
                "-c",
                "grep -H . /proc/sys/net/ipv4/conf/*/arp_ignore /proc/sys/net/ipv4/conf/*/arp_filter",
            ],
        );
        let sys = sys.map(|o| String::from_utf8_lossy(&o.stdout).to_string());
        out.push_str(&format!(
            "\n{h}:\n{}\n{}",
            links.unwrap_or_default(),
            sys.unwrap_or_default()
        ));
    }
    out
}

/// Three pings from the client to the VIP.
fn ping_vip(lab: &Lab) -> std::process::Output {
    lab.exec(CLIENT, &["ping", "-c", "3", "-i", "0.2", "-W", "1", "192.0.2.3"])
        .expect("ping")
}

fn both(lab: &Lab) -> (BatonNode<'_>, BatonNode<'_>) {
    let lb01 = BatonNode::start_file(lab, "lb01", "lb01.conf", LB01_CONF);
    let lb02 = BatonNode::start(lab, "lb02", &lb02_toml());
    (lb01, lb02)
}

#[test]
fn use_vmac_keeps_the_clients_neighbour_entry_across_a_failover_and_routes_move() {
    if !require_root("use_vmac_keeps_the_clients_neighbour_entry_across_a_failover_and_routes_move") {
        return;
    }
    if !have("tcpdump") {
        note("SKIPPED (no tcpdump)");
        return;
    }
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let (mut lb01, lb02) = both(&lab);
    let logs = |a: &BatonNode<'_>, b: &BatonNode<'_>| baton_e2e::baton::logs(&[a, b]);
    let elected = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        on_vmac(&lab, "192.0.2.3") == ["lb01"] && has_route(&lab, "lb01")
    });
    assert!(
        elected,
        "lb01 did not take the VIP on {VMAC}{}",
        logs(&lb01, &lb02)
    );
    // Both made the macvlan; only the master holds the addresses.
    for h in ["lb01", "lb02"] {
        let link = lab.ip(h, &["-d", "-o", "link", "show", VMAC]).expect("ip link");
        let text = String::from_utf8_lossy(&link.stdout);
        assert!(
            text.contains(MAC) && text.contains("macvlan mode private"),
            "{h}: {text}"
        );
        assert!(
            !lab.addresses(h).iter().any(|(a, _)| *a == vip()),
            "{h}: the VIP is on eth0"
        );
    }
    assert_eq!(on_vmac(&lab, EXCLUDED), ["lb01"]);
    assert!(!has_route(&lab, "lb02"), "the backup has the route");
    assert_eq!(
        client_mac(&lab).as_deref(),
        Some(MAC),
        "the client learnt another MAC{}",
        diag(&lab)
    );

    // Adverts come from the virtual MAC and carry the VIP, not the excluded address.
    let dump = capture(&lab).wait_with_output().expect("tcpdump output");
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.contains(&format!("{MAC} > 01:00:5e:00:00:12")),
        "adverts:\n{dump}"
    );
    assert!(
        dump.contains("192.0.2.3"),
        "the VIP is not in the adverts:\n{dump}"
    );
    assert!(
        !dump.contains(EXCLUDED),
        "the excluded address is advertised:\n{dump}"
    );

    lb01.stop();
    let moved = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        on_vmac(&lab, "192.0.2.3") == ["lb02"] && has_route(&lab, "lb02")
    });
    assert!(moved, "lb02 did not take over{}", logs(&lb01, &lb02));
    assert_eq!(
        on_vmac(&lab, EXCLUDED),
        ["lb02"],
        "the excluded address did not move"
    );
    assert!(!has_route(&lab, "lb01"), "the route stayed on the stopped node");
    let gone = lab
        .ip("lb01", &["link", "show", VMAC])
        .map(|o| o.status.success());
    assert_eq!(gone.ok(), Some(false), "lb01 left its macvlan behind");
    let arp = lab.exec(
        "lb01",
        &[
            "cat",
            "/proc/sys/net/ipv4/conf/eth0/arp_ignore",
            "/proc/sys/net/ipv4/conf/eth0/arp_announce",
        ],
    );
    let arp = arp.map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    });
    assert_eq!(
        arp.ok().as_deref(),
        Some("0 0"),
        "lb01 did not put eth0's ARP settings back"
    );
    // The same MAC answers: the client needed no ARP update.
    let neigh = lab.ip(CLIENT, &["neigh", "show", "192.0.2.3"]).expect("ip neigh");
    let neigh = String::from_utf8_lossy(&neigh.stdout).to_string();
    assert!(neigh.contains(MAC), "{neigh}");
    assert_eq!(client_mac(&lab).as_deref(), Some(MAC));
    let ping = ping_vip(&lab);
    assert!(
        ping.status.success(),
        "the VIP does not answer after the failover{}",
        logs(&lb01, &lb02)
    );
    drop((lb01, lb02));
    lab.teardown().expect("teardown");
}

/// The client's neighbour entry for an IPv6 VIP, after it talked to it.
fn client_mac6(lab: &Lab, vip: &str) -> Option<String> {
    let _ = lab.exec(CLIENT, &["ping", "-6", "-c", "1", "-W", "1", vip]);
    let out = lab.ip(CLIENT, &["-6", "neigh", "show", vip]).ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut words = text.split_whitespace();
    words.find(|w| *w == "lladdr")?;
    words.next().map(str::to_string)
}

/// Frames `host` sends with the virtual MAC while `during` runs.
fn sent_from_vmac(lab: &Lab, host: &str, mac: &str, during: impl FnOnce()) -> String {
    let filter = format!("ether src {mac}");
    let mut cmd: Command = lab
        .command(
            host,
            &[
                "timeout", "3", "tcpdump", "-i", "eth0", "-Q", "out", "-e", "-n", "-l", &filter,
            ],
        )
        .expect("tcpdump command");
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let child = lab.spawn_command(&mut cmd).expect("tcpdump");
    std::thread::sleep(Duration::from_millis(300));
    during();
    let out = child.wait_with_output().expect("tcpdump output");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn a_backup_sends_no_igmp_report_from_the_virtual_mac() {
    if !require_root("a_backup_sends_no_igmp_report_from_the_virtual_mac") {
        return;
    }
    if !have("tcpdump") || !have("nft") {
        note("SKIPPED (no tcpdump or nft)");
        return;
    }
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let lb01 = BatonNode::start_file(&lab, "lb01", "lb01.conf", LB01_CONF);
    let up = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        on_vmac(&lab, "192.0.2.3") == ["lb01"]
    });
    assert!(up, "lb01 did not take the VIP{}", lb01.log_block());
    // lb02 starts as Backup: its macvlan joins 224.0.0.18, and the
    // report must leave from eth0's own MAC.
    let mut lb02 = None;
    let frames = sent_from_vmac(&lab, "lb02", MAC, || {
        lb02 = Some(BatonNode::start(&lab, "lb02", &lb02_toml()));
        std::thread::sleep(Duration::from_millis(1500));
    });
    let lb02 = lb02.expect("lb02");
    assert_eq!(lb02.state("VI_1"), "backup");
    assert!(
        frames.trim().is_empty(),
        "the backup sent from the virtual MAC:\n{frames}"
    );
    let rules = lab
        .exec("lb02", &["nft", "list", "table", "ip", "baton_vmac"])
        .expect("nft");
    let rules = String::from_utf8_lossy(&rules.stdout).to_string();
    assert!(rules.contains("oifname \"vrrp.51\""), "{rules}");
    drop((lb01, lb02));
    lab.teardown().expect("teardown");
}

#[test]
fn use_vmac_over_ipv6_sends_from_the_base_link_local_and_keeps_the_clients_entry() {
    if !require_root("use_vmac_over_ipv6_sends_from_the_base_link_local_and_keeps_the_clients_entry") {
        return;
    }
    const MAC6: &str = "00:00:5e:00:02:33";
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let spec = |prio| {
        InstanceSpec::new("V6", 51, prio, "2001:db8::3/64")
            .extra("use_vmac = true")
            .extra("routes = [\"2001:db8:1::/64 via 2001:db8::200\"]")
    };
    let mut lb01 = BatonNode::start(&lab, "lb01", &node_config("lb01", &[spec(150)]));
    let lb02 = BatonNode::start(&lab, "lb02", &node_config("lb02", &[spec(100)]));
    let logs = |a: &BatonNode<'_>, b: &BatonNode<'_>| baton_e2e::baton::logs(&[a, b]);
    let elected = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        on_vmac(&lab, "2001:db8::3") == ["lb01"]
    });
    assert!(
        elected,
        "lb01 did not take the VIP on {VMAC}{}",
        logs(&lb01, &lb02)
    );
    // No address made from the shared virtual MAC: the base's link-local.
    for h in ["lb01", "lb02"] {
        let ll = |dev| {
            lab.addresses_on(h, dev)
                .into_iter()
                .filter(|(a, _)| matches!(a, IpAddr::V6(v) if v.is_unicast_link_local()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ll(VMAC), ll("eth0"), "{h}: the macvlan's link-local");
    }
    assert_eq!(client_mac6(&lab, "2001:db8::3").as_deref(), Some(MAC6));
    let six = lab
        .ip("lb01", &["-6", "route", "show", "2001:db8:1::/64"])
        .expect("ip route");
    assert!(
        String::from_utf8_lossy(&six.stdout).contains("via 2001:db8::200"),
        "no route on lb01"
    );
    lb01.stop();
    let moved = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        on_vmac(&lab, "2001:db8::3") == ["lb02"]
    });
    assert!(moved, "lb02 did not take over{}", logs(&lb01, &lb02));
    assert_eq!(client_mac6(&lab, "2001:db8::3").as_deref(), Some(MAC6));
    let six = lab
        .ip("lb02", &["-6", "route", "show", "2001:db8:1::/64"])
        .expect("ip route");
    assert!(
        String::from_utf8_lossy(&six.stdout).contains("via 2001:db8::200"),
        "no route on lb02"
    );
    drop((lb01, lb02));
    lab.teardown().expect("teardown");
}

#[test]
fn a_reload_that_renames_the_macvlan_moves_the_vip_to_a_new_one() {
    if !require_root("a_reload_that_renames_the_macvlan_moves_the_vip_to_a_new_one") {
        return;
    }
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let spec = |vmac: &str, prio| {
        InstanceSpec::new("VI_1", 51, prio, "192.0.2.3/24")
            .extra(vmac)
            .extra(&format!("routes = [\"{ROUTE} via 192.0.2.200\"]"))
    };
    let lb01 = BatonNode::start(
        &lab,
        "lb01",
        &node_config("lb01", &[spec("use_vmac = true", 150)]),
    );
    let lb02 = BatonNode::start(
        &lab,
        "lb02",
        &node_config("lb02", &[spec("use_vmac = true", 100)]),
    );
    let logs = |a: &BatonNode<'_>, b: &BatonNode<'_>| baton_e2e::baton::logs(&[a, b]);
    let up = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        on_vmac(&lab, "192.0.2.3") == ["lb01"]
    });
    assert!(up, "lb01 did not take the VIP{}", logs(&lb01, &lb02));
    let st = lb01.reload(&node_config("lb01", &[spec("use_vmac = \"vip51\"", 150)]));
    assert!(
        st.last_reload
            .as_ref()
            .is_some_and(|r| format!("{r:?}").contains("use_vmac")),
        "{st:#?}"
    );
    // The old macvlan is gone and the new one holds the VIP: the replaced
    // instance resigned, the new one (a new router to the node) took the
    // VIP back by preemption, its adverts and GARPs from the new link.
    let moved = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        lab.addresses_on("lb01", "vip51").iter().any(|(a, _)| *a == vip())
            && lab
                .ip("lb01", &["link", "show", VMAC])
                .is_ok_and(|o| !o.status.success())
            && has_route(&lab, "lb01")
    });
    assert!(moved, "the VIP is not on vip51{}", logs(&lb01, &lb02));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(lb01.state("VI_1"), "master", "{}", logs(&lb01, &lb02));
    assert_eq!(lb02.state("VI_1"), "backup", "{}", logs(&lb01, &lb02));
    assert_eq!(client_mac(&lab).as_deref(), Some(MAC));
    drop((lb01, lb02));
    lab.teardown().expect("teardown");
}

/// `ip link del vrrp.51` on the master: Baton makes the macvlan again (as
/// keepalived does), its VIP and route come back on it and the client
/// keeps the virtual MAC; set down by hand, the same.
#[test]
fn a_macvlan_deleted_or_set_down_by_hand_is_made_again() {
    if !require_root("a_macvlan_deleted_or_set_down_by_hand_is_made_again") {
        return;
    }
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let master_on_vmac = || {
        on_vmac(&lab, "192.0.2.3") == ["lb01"]
            && has_route(&lab, "lb01")
            && lab
                .ip("lb01", &["-o", "link", "show", VMAC])
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(",UP"))
    };
    // keepalived with the same file, for comparison (printed).
    if have("keepalived") {
        let mut ka = lab::Keepalived::start(&lab, "lb01", LB01_CONF).expect("keepalived");
        let up = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), master_on_vmac);
        let t = std::time::Instant::now();
        let _ = lab.ip("lb01", &["link", "del", VMAC]);
        std::thread::sleep(Duration::from_millis(50));
        let back = lab::wait_until(Duration::from_secs(5), Duration::from_millis(10), master_on_vmac);
        note(&format!(
            "*** keepalived (up: {up}), ip link del {VMAC}: {}",
            match back {
                true => format!(
                    "holds the VIP on a new {VMAC} again after {:.0} ms",
                    ms(t.elapsed())
                ),
                false => "not back on it within 5 s".to_string(),
            }
        ));
        ka.stop().expect("stopping keepalived");
    }
    let (lb01, lb02) = both(&lab);
    let logs = |a: &BatonNode<'_>, b: &BatonNode<'_>| baton_e2e::baton::logs(&[a, b]);
    let up = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), master_on_vmac);
    assert!(up, "lb01 did not take the VIP on {VMAC}{}", logs(&lb01, &lb02));
    let ip = |args: &[&str]| {
        let out = lab.ip("lb01", args).expect("ip");
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for (n, how) in [vec!["link", "del", VMAC], vec!["link", "set", VMAC, "down"]]
        .iter()
        .enumerate()
    {
        let t = std::time::Instant::now();
        ip(how);
        std::thread::sleep(Duration::from_millis(50));
        let back = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), master_on_vmac);
        assert!(
            back,
            "after ip {how:?}, lb01 did not hold the VIP on {VMAC} again{}",
            logs(&lb01, &lb02)
        );
        note(&format!(
            "*** ip {}: lb01 holds the VIP on a new {VMAC} again after {:.0} ms",
            how.join(" "),
            ms(t.elapsed())
        ));
        // Made once: its own replacement is no news to it.
        std::thread::sleep(Duration::from_millis(300));
        let made = lb01.log().matches("went down or away").count();
        assert_eq!(made, n + 1, "{}", logs(&lb01, &lb02));
        assert_eq!(client_mac(&lab).as_deref(), Some(MAC), "{}", diag(&lab));
    }
    // Deleted while its base is down, so never down while the base is up:
    // made again when the base comes back, and lb01 takes the VIP back.
    ip(&["link", "set", "eth0", "down"]);
    let moved = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        on_vmac(&lab, "192.0.2.3") == ["lb02"]
    });
    assert!(moved, "lb02 did not take the VIP{}", logs(&lb01, &lb02));
    ip(&["link", "del", VMAC]);
    std::thread::sleep(Duration::from_millis(100));
    let t = std::time::Instant::now();
    ip(&["link", "set", "eth0", "up"]);
    let back = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), master_on_vmac);
    assert!(
        back,
        "{VMAC} deleted while eth0 was down: lb01 did not hold the VIP on a new one after eth0 came up{}",
        logs(&lb01, &lb02)
    );
    note(&format!(
        "*** {VMAC} deleted while eth0 was down: lb01 holds the VIP on a new {VMAC} {:.0} ms after eth0 came up",
        ms(t.elapsed())
    ));
    assert_eq!(client_mac(&lab).as_deref(), Some(MAC), "{}", diag(&lab));
    drop((lb01, lb02));
    lab.teardown().expect("teardown");
}

fn rp_filter(lab: &Lab, host: &str, ifname: &str) -> String {
    let path = format!("/proc/sys/net/ipv4/conf/{ifname}/rp_filter");
    let out = lab.exec_ok(host, &["cat", &path]).expect("rp_filter");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// With strict reverse-path filtering for all interfaces (RHEL's default),
/// the macvlan's own `rp_filter 0` counts for nothing (the kernel takes the
/// larger of `all` and the interface's): the VIP's traffic, which arrives
/// on the macvlan while the subnet's route is the base's, would be dropped.
/// As keepalived does, `all` goes to 0 while a macvlan needs it, each
/// other interface keeps its filter by getting `all`'s old value, and all
/// is put back when Baton stops; after a SIGKILL, by the next start.
#[test]
fn a_strict_rp_filter_on_all_is_lifted_for_the_macvlan_and_put_back() {
    if !require_root("a_strict_rp_filter_on_all_is_lifted_for_the_macvlan_and_put_back") {
        return;
    }
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    for h in ["lb01", "lb02"] {
        lab.exec_ok(h, &["sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1"])
            .expect("sysctl");
    }
    let before = rp_filter(&lab, "lb01", "eth0");
    let (mut lb01, lb02) = both(&lab);
    let logs = |a: &BatonNode<'_>, b: &BatonNode<'_>| baton_e2e::baton::logs(&[a, b]);
    let up = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        on_vmac(&lab, "192.0.2.3") == ["lb01"]
    });
    assert!(up, "lb01 did not take the VIP on {VMAC}{}", logs(&lb01, &lb02));
    let ping = ping_vip(&lab);
    assert!(
        ping.status.success(),
        "the VIP does not answer under all.rp_filter=1: {}{}",
        String::from_utf8_lossy(&ping.stdout),
        logs(&lb01, &lb02)
    );
    assert_eq!(rp_filter(&lab, "lb01", "all"), "0");
    // eth0 filters as strictly as before.
    assert_eq!(rp_filter(&lab, "lb01", "eth0"), "1");
    assert_eq!(rp_filter(&lab, "lb01", VMAC), "0");
    lb01.stop();
    assert_eq!(rp_filter(&lab, "lb01", "all"), "1", "{}", logs(&lb01, &lb02));
    assert_eq!(rp_filter(&lab, "lb01", "eth0"), before);

    // SIGKILL puts nothing back (keepalived leaves it so); the next start
    // puts back what the journal beside the control socket says, before it
    // lifts the filter again, so the stop after it restores the real values.
    let arp_ignore = || {
        let out = lab
            .exec_ok("lb01", &["cat", "/proc/sys/net/ipv4/conf/eth0/arp_ignore"])
            .expect("cat");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let arp_before = arp_ignore();
    lb01.restart();
    let up = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        on_vmac(&lab, "192.0.2.3") == ["lb01"]
    });
    assert!(up, "lb01 did not take the VIP back{}", logs(&lb01, &lb02));
    lb01.kill();
    assert_eq!(rp_filter(&lab, "lb01", "all"), "0");
    assert_eq!(arp_ignore(), "1");
    let journal = lab.dir().join("lb01.sysctls");
    assert!(journal.exists(), "no journal at {}", journal.display());
    lb01.restart();
    let put_back = lab::wait_until(Duration::from_secs(5), Duration::from_millis(10), || {
        lb01.log().contains("put back: ")
    });
    assert!(put_back, "{}", logs(&lb01, &lb02));
    let line = lb01
        .log()
        .lines()
        .find(|l| l.contains("put back: "))
        .unwrap_or_default()
        .to_string();
    for want in [
        "net.ipv4.conf.all.rp_filter=1",
        &format!("net.ipv4.conf.eth0.arp_ignore={arp_before}"),
    ] {
        assert!(line.contains(want), "{want} in {line}");
    }
    note(&format!("*** after SIGKILL, the next start: {}", line.trim()));
    let up = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        on_vmac(&lab, "192.0.2.3") == ["lb01"]
    });
    assert!(up, "lb01 did not take the VIP back{}", logs(&lb01, &lb02));
    lb01.stop();
    assert_eq!(rp_filter(&lab, "lb01", "all"), "1", "{}", logs(&lb01, &lb02));
    assert_eq!(rp_filter(&lab, "lb01", "eth0"), before);
    assert_eq!(arp_ignore(), arp_before);
    assert!(!journal.exists(), "the journal outlived a clean stop");
    drop((lb01, lb02));
    lab.teardown().expect("teardown");
}
