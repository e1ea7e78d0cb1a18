//! The seed's keepalived.conf files (examples/seed-ch4), run as they are:
//!
//! * Same behaviour: keepalived 2.2.7 on both nodes, then Baton on both
//!   nodes, each running the same two files: both elect lb01 (priority 150),
//!   both move the VIP to lb02 when lb01 stops (a priority-0 advert, so
//!   lb02 takes over after its Skew_Time), both give it back when lb01
//!   returns (preemption). The times are printed side by side and must agree
//!   within the protocol's floor.
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
use baton_e2e::{GapMeasurement, measure_gap, note, require_root, workspace_root};
use baton_lab::{self as lab, Keepalived, Lab, LabSpec};

const INSTANCE: &str = "VI_1";

fn vip() -> IpAddr {
    "192.0.2.3"
        .parse()
        .expect("the seed's VIP, moved into 192.0.2.0/24")
}

fn conf(host: &str) -> String {
    let path = workspace_root().join(format!("examples/seed-ch4/{host}.conf"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// keepalived or Baton on one node, running the seed's file.
enum Node<'a> {
    Keepalived(Keepalived),
    Baton(Box<BatonNode<'a>>),
}

impl<'a> Node<'a> {
    fn start(lab: &'a Lab, host: &str, baton: bool) -> Node<'a> {
        if baton {
            Node::Baton(Box::new(BatonNode::start_file(
                lab,
                host,
                &format!("{host}.conf"),
                &conf(host),
            )))
        } else {
            Node::Keepalived(Keepalived::start(lab, host, &conf(host)).expect("keepalived"))
        }
    }

    fn stop(&mut self) {
        match self {
            Node::Keepalived(k) => k.stop().expect("stopping keepalived"),
            Node::Baton(b) => {
                b.stop();
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
}

/// Both nodes run `baton`'s or keepalived's implementation; lb01 stops and
/// comes back.
fn run_pair(baton: bool) -> Run {
    let lab = Lab::new(LabSpec::new(2)).expect("lab");
    let vip = vip();
    let mut lb01 = Node::start(&lab, "lb01", baton);
    let lb02 = Node::start(&lab, "lb02", baton);
    let elected = lab::wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        lab.holders(vip) == ["lb01"]
    });
    assert!(
        elected,
        "lb01 did not take the VIP: {:?}{}",
        lab.holders(vip),
        logs(&[&lb01, &lb02])
    );
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
    assert!(
        failover.recovered_after.is_some(),
        "lb02 did not take the VIP{}",
        logs(&[&lb01, &lb02])
    );
    let mut back = None;
    let preempt = measure_gap(
        &lab,
        vip,
        Duration::from_millis(300),
        || {
            back = Some(Node::start(&lab, "lb01", baton));
            Ok(())
        },
        || lab.holders(vip) == ["lb01"],
        Duration::from_secs(15),
    )
    .expect("measuring the preemption");
    let back = back.expect("lb01 restarted");
    assert!(
        preempt.recovered_after.is_some(),
        "lb01 did not take the VIP back: {:?}{}",
        lab.holders(vip),
        logs(&[&back, &lb02])
    );
    Run { failover, preempt }
}

#[test]
fn keepalived_and_baton_run_the_seed_pair_the_same_way() {
    if !require_root("keepalived_and_baton_run_the_seed_pair_the_same_way") {
        return;
    }
    let ka = run_pair(false);
    let baton = run_pair(true);
    note(&format!(
        "*** seed-ch4 keepalived.conf, VRRPv2 1 s: lb01 stops: VIP on lb02 after keepalived {} / Baton {} \
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
    for (who, r) in [("keepalived", &ka), ("Baton", &baton)] {
        let f = r.failover.recovered_after.expect("failover");
        assert!(
            f < skew + Duration::from_millis(700),
            "{who}: failover took {f:?}"
        );
        let gap = r.failover.gap.expect("the client got answers again");
        assert!(
            gap < skew + Duration::from_millis(700),
            "{who}: client gap {gap:?}"
        );
    }
    // What the client sees is the same. (The time to the move includes the
    // stop itself, and keepalived takes longer to exit.)
    let (kg, bg) = (ka.failover.gap.unwrap(), baton.failover.gap.unwrap());
    assert!(
        kg.abs_diff(bg) < Duration::from_millis(100),
        "client gap keepalived {kg:?} vs Baton {bg:?}"
    );
    let (kp, bp) = (
        ka.preempt.gap.unwrap_or_default(),
        baton.preempt.gap.unwrap_or_default(),
    );
    assert!(
        kp.max(bp) < Duration::from_millis(300),
        "preemption gaps keepalived {kp:?}, Baton {bp:?}"
    );
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
