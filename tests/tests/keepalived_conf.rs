//! The seed's keepalived.conf files, run as they are:
//!
//! * Same behaviour, for each pair on one LAN (examples/seed-ch4, the
//!   single VIP; seed-dual-master, a VIP mastered by each node; seed-notify,
//!   the pair with mail settings): keepalived 2.2.7 on both nodes, then
//!   Baton on both nodes, each running the same two files: both elect the
//!   same masters, both move lb01's VIPs to lb02 when lb01 stops (a
//!   priority-0 advert, so lb02 takes over after its Skew_Time), both give
//!   them back when lb01 returns (preemption). The client gaps are printed
//!   side by side and must agree within the protocol's floor.
//! * Rolling migration: keepalived on both; lb02 (backup) is replaced by
//!   Baton with the same file, which follows keepalived's adverts without a
//!   drop and without the VIP moving; then lb01 is replaced too, which costs
//!   the client one failover and one preemption, each bounded.
//!
//! They need root; without it they print "SKIPPED (needs root)" and pass,
//! except under CI=true where they fail.

use std::net::IpAddr;
use std::time::Duration;

use baton_e2e::baton::BatonNode;
use baton_e2e::scenario::client_neigh;
use baton_e2e::{GapMeasurement, measure_gap, note, require_root, workspace_root};
use baton_lab::{self as lab, Keepalived, Lab, LabSpec};

const INSTANCE: &str = "VI_1";

/// lb01's VIP in every pair: the seed's 10.0.0.3, moved into 192.0.2.0/24.
fn vip() -> IpAddr {
    "192.0.2.3".parse().expect("VIP")
}

/// lb02's own VIP in the dual-master pair.
fn vip2() -> IpAddr {
    "192.0.2.4".parse().expect("VIP")
}

fn conf_of(example: &str, host: &str) -> String {
    let path = workspace_root().join(format!("examples/{example}/{host}.conf"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// keepalived or Baton on one node, running the seed's file.
enum Node<'a> {
    Keepalived(Keepalived),
    Baton(Box<BatonNode<'a>>),
}

impl<'a> Node<'a> {
    fn start(lab: &'a Lab, host: &str, baton: bool) -> Node<'a> {
        Node::start_example(lab, "seed-ch4", host, baton)
    }

    fn start_example(lab: &'a Lab, example: &str, host: &str, baton: bool) -> Node<'a> {
        let text = conf_of(example, host);
        if baton {
            Node::Baton(Box::new(BatonNode::start_file(
                lab,
                host,
                &format!("{host}.conf"),
                &text,
            )))
        } else {
            Node::Keepalived(Keepalived::start(lab, host, &text).expect("keepalived"))
        }
    }

    fn stop(&mut self) {
        match self {
            Node::Keepalived(k) => k.stop().expect("stopping keepalived"),
            // seed-notify mails to a server that is not there: Baton gives
            // the stop notice its 5 s grace (the VIPs go at once).
            Node::Baton(b) => {
                b.stop_within(Duration::from_secs(8));
            }
        }
    }

    fn log(&self) -> String {
        match self {
            Node::Keepalived(k) => k.log(),
            Node::Baton(b) => b.log_block(),
        }
    }
}

fn logs(nodes: &[&Node<'_>]) -> String {
    nodes.iter().map(|n| format!("\n---\n{}", n.log())).collect()
}

fn ms(d: Option<Duration>) -> String {
    d.map_or("never".to_string(), |d| {
        format!("{:.0} ms", d.as_secs_f64() * 1e3)
    })
}

/// What one implementation did with the pair.
#[derive(Debug)]
struct Run {
    failover: GapMeasurement,
    preempt: GapMeasurement,
    /// The client's neighbour entry for lb01's VIP before and after the
    /// failover.
    neigh: (String, String),
}

/// Who holds which VIP: (lb01's VIP holders, lb02's VIP holders if any).
fn holders(lab: &Lab, dual: bool) -> (Vec<String>, Vec<String>) {
    (
        on_any_link(lab, vip()),
        if dual {
            on_any_link(lab, vip2())
        } else {
            Vec::new()
        },
    )
}

/// The nodes with `vip` on any link (eth0, or a `use_vmac` macvlan).
fn on_any_link(lab: &Lab, vip: IpAddr) -> Vec<String> {
    lab.nodes()
        .into_iter()
        .filter(|h| {
            lab.ip(h, &["-o", "addr", "show", "to", &vip.to_string()])
                .is_ok_and(|o| !o.stdout.is_empty())
        })
        .collect()
}

/// Both nodes run `baton`'s or keepalived's implementation of `example`;
/// lb01 stops and comes back. With `dual`, lb02 masters a VIP of its own,
/// which must stay on it throughout.
fn run_pair(example: &str, baton: bool) -> Run {
    let dual = example == "seed-dual-master";
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let vip = vip();
    let normal = || {
        let (a, b) = holders(&lab, dual);
        a == ["lb01"] && (!dual || b == ["lb02"])
    };
    let mut lb01 = Node::start_example(&lab, example, "lb01", baton);
    let lb02 = Node::start_example(&lab, example, "lb02", baton);
    let elected = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), normal);
    assert!(
        elected,
        "{example}: masters not elected: {:?}{}",
        holders(&lab, dual),
        logs(&[&lb01, &lb02])
    );
    // One echo first: the client's entry for the VIP, as elected.
    let _ = lab.exec("client", &["ping", "-c", "1", "-W", "1", &vip.to_string()]);
    let neigh_before = client_neigh(&lab, &vip.to_string());
    let failover = measure_gap(
        &lab,
        vip,
        Duration::from_millis(300),
        || {
            lb01.stop();
            Ok(())
        },
        || {
            let (a, b) = holders(&lab, dual);
            a == ["lb02"] && (!dual || b == ["lb02"])
        },
        Duration::from_secs(10),
    )
    .expect("measuring the failover");
    assert!(
        failover.recovered_after.is_some(),
        "{example}: lb02 did not take the VIPs: {:?}{}",
        holders(&lab, dual),
        logs(&[&lb01, &lb02])
    );
    let neigh = (neigh_before, client_neigh(&lab, &vip.to_string()));
    let mut back = None;
    let preempt = measure_gap(
        &lab,
        vip,
        Duration::from_millis(300),
        || {
            back = Some(Node::start_example(&lab, example, "lb01", baton));
            Ok(())
        },
        normal,
        Duration::from_secs(15),
    )
    .expect("measuring the preemption");
    let back = back.expect("lb01 restarted");
    assert!(
        preempt.recovered_after.is_some(),
        "{example}: lb01 did not take its VIP back: {:?}{}",
        holders(&lab, dual),
        logs(&[&back, &lb02])
    );
    Run {
        failover,
        preempt,
        neigh,
    }
}

#[test]
fn keepalived_and_baton_run_the_seed_pairs_the_same_way() {
    if !require_root("keepalived_and_baton_run_the_seed_pairs_the_same_way") {
        return;
    }
    for example in ["seed-ch4", "seed-dual-master", "seed-notify"] {
        let _ = same_way(example);
    }
}

/// examples/vmac (`use_vmac`, excluded addresses, routes) with keepalived
/// on both nodes, then Baton: the same failover and preemption as the
/// client sees them. With Baton the client's neighbour entry for the VIP
/// is the virtual MAC before and after the failover; keepalived 2.2.7's is
/// printed: in this lab the client learns the master's base MAC with it,
/// before and after (its eth0 answers ARP for the VIP too).
#[test]
fn keepalived_and_baton_run_the_vmac_example_the_same_way() {
    if !require_root("keepalived_and_baton_run_the_vmac_example_the_same_way") {
        return;
    }
    let (ka, baton) = same_way_with("vmac", false);
    note(&format!(
        "*** vmac: the client's entry for the VIP before / after the failover: keepalived {:?} / {:?}, Baton {:?} / {:?}",
        ka.neigh.0, ka.neigh.1, baton.neigh.0, baton.neigh.1
    ));
    for n in [&baton.neigh.0, &baton.neigh.1] {
        assert!(n.contains("00:00:5e:00:01:32"), "Baton: client's entry {n:?}");
    }
}

fn same_way(example: &str) -> (Run, Run) {
    same_way_with(example, true)
}

/// `keepalived_returns`: whether keepalived's own preemption must be quick
/// too (with use_vmac here its client may still send to the old master's
/// base MAC for an ARP round: printed, not asserted).
fn same_way_with(example: &str, keepalived_returns: bool) -> (Run, Run) {
    let ka = run_pair(example, false);
    let baton = run_pair(example, true);
    note(&format!(
        "*** {example} keepalived.conf, VRRPv2 1 s: lb01 stops: VIP on lb02 after keepalived {} / Baton {} \
         (client gap {} / {}); lb01 returns: VIP back after keepalived {} / Baton {} (client gap {} / {})",
        ms(ka.failover.recovered_after),
        ms(baton.failover.recovered_after),
        ms(ka.failover.gap),
        ms(baton.failover.gap),
        ms(ka.preempt.recovered_after),
        ms(baton.preempt.recovered_after),
        ms(ka.preempt.gap),
        ms(baton.preempt.gap),
    ));
    // A stop sends priority 0: lb02 (100) waits Skew_Time, (256-100)/256 s.
    let skew = Duration::from_millis(609);
    // (The time to the move counts from the stop's start to its end and on:
    // it includes the process's exit, which waits for the notification
    // grace when a mail server is down. The client's gap is what counts.)
    for (who, r) in [("keepalived", &ka), ("Baton", &baton)] {
        let gap = r.failover.gap.expect("the client got answers again");
        assert!(
            gap < skew + Duration::from_millis(700),
            "{example}: {who}: client gap {gap:?}"
        );
    }
    // What the client sees is the same.
    let (kg, bg) = (ka.failover.gap.unwrap(), baton.failover.gap.unwrap());
    assert!(
        kg.abs_diff(bg) < Duration::from_millis(100),
        "{example}: client gap keepalived {kg:?} vs Baton {bg:?}"
    );
    let (kp, bp) = (
        ka.preempt.gap.unwrap_or_default(),
        baton.preempt.gap.unwrap_or_default(),
    );
    let worst = if keepalived_returns { kp.max(bp) } else { bp };
    assert!(
        worst < Duration::from_millis(300),
        "{example}: preemption gaps keepalived {kp:?}, Baton {bp:?}"
    );
    (ka, baton)
}

#[test]
fn a_pair_moves_from_keepalived_to_baton_one_node_at_a_time() {
    if !require_root("a_pair_moves_from_keepalived_to_baton_one_node_at_a_time") {
        return;
    }
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let vip = vip();
    let mut lb01 = Node::start(&lab, "lb01", false);
    let mut lb02 = Node::start(&lab, "lb02", false);
    let elected = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        lab.holders(vip) == ["lb01"]
    });
    assert!(
        elected,
        "keepalived's pair did not elect lb01{}",
        logs(&[&lb01, &lb02])
    );

    // lb02, the backup, moves to Baton: the VIP does not move.
    let mut swapped = None;
    let backup_swap = measure_gap(
        &lab,
        vip,
        Duration::from_millis(300),
        || {
            lb02.stop();
            swapped = Some(Node::start(&lab, "lb02", true));
            Ok(())
        },
        || true,
        Duration::from_secs(1),
    )
    .expect("measuring the backup's swap");
    let lb02 = swapped.expect("lb02 on Baton");
    let Node::Baton(b) = &lb02 else { unreachable!() };
    let lb01_addr = lab.ipv4("lb01").to_string();
    let following = lab::wait_until(Duration::from_secs(5), Duration::from_millis(10), || {
        let i = b.instance(INSTANCE);
        i.state == "backup"
            && i.master.as_ref().is_some_and(|m| m.address == lb01_addr)
            && i.counters.adverts_rx >= 2
    });
    assert!(
        following,
        "Baton does not follow keepalived: {:?}{}",
        b.instance(INSTANCE),
        logs(&[&lb01, &lb02])
    );
    let i = b.instance(INSTANCE);
    assert!(
        i.counters.drops.is_empty(),
        "Baton dropped keepalived's adverts: {:?}",
        i.counters.drops
    );
    assert_eq!(lab.holders(vip), ["lb01"]);
    let gap = backup_swap.gap.unwrap_or_default();
    assert!(
        gap < Duration::from_millis(100),
        "swapping the backup cost the client {gap:?}"
    );

    // lb01, the master, moves too: one failover to lb02, one preemption back.
    let failover = measure_gap(
        &lab,
        vip,
        Duration::from_millis(300),
        || {
            lb01.stop();
            Ok(())
        },
        || lab.holders(vip) == ["lb02"],
        Duration::from_secs(10),
    )
    .expect("measuring the failover");
    let mut back = None;
    let preempt = measure_gap(
        &lab,
        vip,
        Duration::from_millis(300),
        || {
            back = Some(Node::start(&lab, "lb01", true));
            Ok(())
        },
        || lab.holders(vip) == ["lb01"],
        Duration::from_secs(15),
    )
    .expect("measuring the preemption");
    let back = back.expect("lb01 on Baton");
    note(&format!(
        "*** rolling migration of seed-ch4 (VRRPv2 1 s): backup swapped with a client gap of {}; \
         master swapped: failover after {} (gap {}), preemption after {} (gap {})",
        ms(backup_swap.gap),
        ms(failover.recovered_after),
        ms(failover.gap),
        ms(preempt.recovered_after),
        ms(preempt.gap),
    ));
    assert!(
        failover.recovered_after.is_some(),
        "lb02 (Baton) did not take over{}",
        logs(&[&back, &lb02])
    );
    assert!(
        preempt.recovered_after.is_some(),
        "lb01 (Baton) did not preempt{}",
        logs(&[&back, &lb02])
    );
    let fgap = failover.gap.expect("answers after the failover");
    assert!(fgap < Duration::from_millis(1300), "failover gap {fgap:?}");
    let pgap = preempt.gap.unwrap_or_default();
    assert!(pgap < Duration::from_millis(300), "preemption gap {pgap:?}");
    assert_eq!(lab.holders(vip), ["lb01"]);
}

/// `baton check`, `baton convert` and `baton run` on keepalived.conf files,
/// through the binary (no root needed).
#[test]
fn the_binary_checks_converts_and_refuses_keepalived_conf() {
    let bin = baton_e2e::baton_bin();
    let ex = workspace_root().join("examples/seed-ch4");
    let run = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(&bin)
            .args(args)
            .output()
            .expect("baton")
    };
    let (lb01, lb02) = (ex.join("lb01.conf"), ex.join("lb02.conf"));
    let out = run(&["check".as_ref(), lb01.as_os_str(), lb02.as_os_str()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.ends_with(": ok")).count(),
        2,
        "{stdout}"
    );

    let out = run(&["convert".as_ref(), lb01.as_os_str()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let golden = std::fs::read_to_string(ex.join("lb01.converted.toml")).expect("golden");
    assert_eq!(String::from_utf8_lossy(&out.stdout), golden);

    // A mistake keepalived would run on after: refused at its place, by
    // `check` and by `run` (which exits 2 before touching the network).
    let dir = std::env::temp_dir().join(format!("baton-ka-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("keepalived.conf");
    let text = std::fs::read_to_string(&lb01)
        .unwrap()
        .replace("advert_int 1", "advent_int 1");
    std::fs::write(&bad, text).unwrap();
    for args in [
        vec!["check".as_ref(), bad.as_os_str()],
        vec!["run".as_ref(), "--config".as_ref(), bad.as_os_str()],
    ] {
        let out = run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} accepted the typo");
        let want = format!(
            "{}:12:9: `advent_int` is no keyword of vrrp_instance (did you mean `advert_int`?)",
            bad.display()
        );
        assert!(stderr.contains(&want), "{args:?}: want {want}\ngot {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `vrrp_startup_delay`: the instances start that much later.
#[test]
fn vrrp_startup_delay_holds_the_instances_back() {
    if !require_root("vrrp_startup_delay_holds_the_instances_back") {
        return;
    }
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let text =
        conf_of("seed-ch4", "lb01").replace("router_id lb01", "router_id lb01\n    vrrp_startup_delay 1.5");
    assert!(text.contains("vrrp_startup_delay"));
    // Found (or built) before the clock starts.
    baton_e2e::baton_bin();
    let started = std::time::Instant::now();
    let node = BatonNode::start_file(&lab, "lb01", "lb01.conf", &text);
    let up = lab::wait_until(Duration::from_secs(15), Duration::from_millis(10), || {
        lab.holders(vip()) == ["lb01"]
    });
    let took = started.elapsed();
    assert!(up, "lb01 never took the VIP\n{}", node.log_block());
    // Alone, lb01 (150) becomes Master after Master_Down_Interval, 3.41 s.
    let floor = Duration::from_millis(1500 + 3410);
    note(&format!(
        "*** vrrp_startup_delay 1.5: VIP on lb01 {took:?} after the start (floor {floor:?})"
    ));
    assert!(
        took >= floor,
        "the VIP came after {took:?}, before the delay and Master_Down_Interval"
    );
    assert!(
        took < floor + Duration::from_secs(2),
        "the VIP came after {took:?}"
    );
    assert!(node.log().contains("startup_delay"), "{}", node.log_block());
}
