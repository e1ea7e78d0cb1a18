//! The seed's chapter 7 scripts end to end: examples/seed-check-web (7.1,
//! check_web.sh) and examples/seed-split-brain (7.2, check_brain.sh), each
//! pair run by keepalived 2.2.7 on both nodes, then by Baton on both nodes,
//! from the same lb01.conf and lb02.conf. keepalived runs the shell scripts as
//! they are; Baton recognises them (check_web.sh is builtin:process-alive with
//! a restart-once remedy `systemctl start nginx` and FAULT; check_brain.sh is
//! builtin:split-brain-peer-http) and runs no shell.
//!
//! The lab is the seed's: lb01 192.0.2.5 and lb02 192.0.2.6 on eth0 (VI_1,
//! VIP 192.0.2.3), 192.0.2.133/26 and .134/26 on a second LAN on eth1 (VI_2,
//! VIP 192.0.2.132). Each node has a PID namespace, a /proc and a /tmp of its own,
//! an nginx (a stand-in that answers 200 on port 80) and a `systemctl` for
//! nginx and the node daemon (baton-lab's services), so `ps -C nginx` on
//! lb01 sees lb01's nginx only, and the scripts' `systemctl start nginx` and
//! `systemctl stop keepalived` act on their own node.
//!
//! * check_web: the pair elects VI_1 on lb01 and VI_2 on lb02. lb01's nginx
//!   is killed and starts again: the script (the remedy) restarts it and no
//!   VIP moves. lb01's nginx is killed and will not start: keepalived's
//!   script gives up after its 3 s and stops keepalived; Baton's remedy fails
//!   and after its 3 s settle lb01's instances go to FAULT. Either way lb02
//!   takes 192.0.2.3, within the script's interval (5 s) + 3 s + the
//!   backup's Skew_Time, and the client sees the same short gap. (Only VI_2
//!   tracks check_web in the seed's files; Baton puts the FAULT on every
//!   instance of the node, as stopping keepalived gives every VIP up.)
//! * check_brain: VRRP is cut at lb02 (the seed's firewall), so each node
//!   stops hearing the other. With keepalived, lb02 claims lb01's VIP after
//!   its Master_Down_Interval, both hold it until check_brain.sh (within its
//!   5 s interval) finds lb01's nginx answering on 192.0.2.5 and stops
//!   lb02's keepalived. With Baton, check_brain.sh is the split-brain policy
//!   (split-brain-peer-http) of VI_1, the instance holding the VIP the
//!   script watches, and an instance with a split-brain policy probes its
//!   VIPs (ARP) before it claims them: lb02 finds 192.0.2.3 answered and
//!   lb01 (priority 150, last heard) outranking it, and stays a Backup, so
//!   the VIP is never held twice (the policy's HTTP check, which demotes a
//!   claim that went ahead, is not needed here; tests/tests/split_brain.rs
//!   runs it).
//!
//!   Intended difference: keepalived's script stops all of lb02's
//!   keepalived, so lb02 also drops VI_2 (its own VIP, which lb01 then serves
//!   alone) and stays down after VRRP flows again (the seed's S10). Baton
//!   steps VI_1 down only: lb02 keeps VI_2, which lb01 (deaf to it, and with
//!   no check of its own in the seed) claims too while VRRP is cut, and once
//!   VRRP flows again the pair is back to normal by itself.
//!
//! They need root; without it they print "SKIPPED (needs root)" and pass,
//! except under CI=true where they fail.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use baton_e2e::baton::BatonNode;
use baton_e2e::scenario::serial;
use baton_e2e::{GapMeasurement, lab_helpers, measure_gap, note, require_root, workspace_root};
use baton_lab::{self as lab, Keepalived, Lab, LabSpec, Signal};

/// The vrrp_scripts' `interval 5`, Baton's check interval.
const INTERVAL: Duration = Duration::from_secs(5);
/// check_web.sh's `sleep 3`, Baton's `settle-ms = 3000`.
const SETTLE: Duration = Duration::from_secs(3);
/// lb02 (priority 100, VRRPv2, 1 s adverts) after a priority-0 advert:
/// Skew_Time (256 - 100) / 256 s.
const SKEW_LB02: Duration = Duration::from_millis(609);
/// Master_Down_Interval of a priority-100 backup: 3 s + Skew_Time.
const MDI_100: Duration = Duration::from_millis(3609);
/// Scheduling, netlink, fork/exec on a loaded 2-CPU machine.
const MARGIN: Duration = Duration::from_millis(1500);

fn vip1() -> IpAddr {
    "192.0.2.3".parse().expect("VIP")
}

fn vip2() -> IpAddr {
    "192.0.2.132".parse().expect("VIP")
}

fn example_dir(example: &str) -> PathBuf {
    workspace_root().join("examples").join(example)
}

fn conf_of(example: &str, host: &str) -> String {
    let path = example_dir(example).join(format!("{host}.conf"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The example's shell scripts (check_web.sh, check_brain.sh).
fn scripts_of(example: &str) -> Vec<PathBuf> {
    let dir = example_dir(example);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sh"))
        .collect();
    v.sort();
    v
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Daemon {
    Keepalived,
    Baton,
}

/// keepalived or Baton on one node, running the example's file.
enum Node<'a> {
    Keepalived(Keepalived),
    Baton(Box<BatonNode<'a>>),
}

impl<'a> Node<'a> {
    fn start(lab: &'a Lab, example: &str, host: &str, daemon: Daemon) -> Node<'a> {
        let text = conf_of(example, host);
        let scripts = scripts_of(example);
        match daemon {
            Daemon::Keepalived => {
                let files: Vec<&std::path::Path> = scripts.iter().map(PathBuf::as_path).collect();
                Node::Keepalived(Keepalived::start_with_files(lab, host, &text, &files).expect("keepalived"))
            }
            Daemon::Baton => {
                // `${_PWD}/check_web.sh`: Baton reads the scripts beside its config.
                for s in &scripts {
                    let to = lab.dir().join(s.file_name().expect("name"));
                    std::fs::copy(s, &to).unwrap_or_else(|e| panic!("{}: {e}", s.display()));
                }
                let name = format!("{host}.conf");
                Node::Baton(Box::new(BatonNode::start_file(lab, host, &name, &text)))
            }
        }
    }

    fn running(&mut self) -> bool {
        match self {
            Node::Keepalived(k) => k.is_running(),
            Node::Baton(b) => b.is_running(),
        }
    }

    fn log(&self) -> String {
        match self {
            Node::Keepalived(k) => format!("--- keepalived log\n{}", k.log()),
            Node::Baton(b) => b.log_block(),
        }
    }

    fn baton(&self) -> &BatonNode<'a> {
        match self {
            Node::Baton(b) => b,
            Node::Keepalived(_) => panic!("not a Baton node"),
        }
    }
}

fn logs(lab: &Lab, nodes: &[&Node<'_>]) -> String {
    let mut s: String = nodes.iter().map(|n| format!("\n{}", n.log())).collect();
    for h in ["lb01", "lb02"] {
        s.push_str(&format!("\n--- {h} systemctl log\n{}", lab.systemctl_log(h)));
    }
    s
}

/// Who holds 192.0.2.3 (eth0) and 192.0.2.132 (eth1).
type Holders = (Vec<String>, Vec<String>);

fn holders(lab: &Lab) -> Holders {
    (lab.holders_on("eth0", vip1()), lab.holders_on("eth1", vip2()))
}

fn held(vi1: &[&str], vi2: &[&str]) -> Holders {
    let v = |s: &[&str]| s.iter().map(|h| h.to_string()).collect();
    (v(vi1), v(vi2))
}

/// The seed's two networks and both nginx running.
fn seed_lab() -> Lab {
    let lab = Lab::new(LabSpec::new(2).node_base(4).isolated(&lab_helpers())).expect("lab");
    // /26, not the examples' /25: the client's 192.0.2.200 must stay on eth0's side.
    lab.add_lan("eth1", &[("lb01", "192.0.2.133/26"), ("lb02", "192.0.2.134/26")])
        .expect("eth1");
    for h in ["lb01", "lb02"] {
        lab.install_services(h).expect("services");
        let out = lab.systemctl(h, &["start", "nginx"]).expect("systemctl");
        assert!(
            out.status.success(),
            "{h}: nginx: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(nginx_count(&lab, h), 1, "{h}: ps -C nginx");
    }
    lab
}

fn nginx_count(lab: &Lab, host: &str) -> usize {
    lab.count_processes(host, "nginx").expect("ps -C nginx")
}

/// Lines of `host`'s systemctl log that end with `what`.
fn systemctl_calls(lab: &Lab, host: &str, what: &str) -> usize {
    lab.systemctl_log(host)
        .lines()
        .filter(|l| l.ends_with(what))
        .count()
}

/// Both nodes up, and the seed's masters: VI_1 on lb01, VI_2 on lb02.
fn start_pair<'a>(lab: &'a Lab, example: &str, daemon: Daemon) -> (Node<'a>, Node<'a>) {
    let lb01 = Node::start(lab, example, "lb01", daemon);
    let lb02 = Node::start(lab, example, "lb02", daemon);
    let normal = held(&["lb01"], &["lb02"]);
    let elected = lab::wait_until(Duration::from_secs(15), Duration::from_millis(20), || {
        holders(lab) == normal
    });
    assert!(
        elected,
        "{example} {daemon:?}: masters not elected: {:?}{}",
        holders(lab),
        logs(lab, &[&lb01, &lb02])
    );
    (lb01, lb02)
}

fn ms(d: Option<Duration>) -> String {
    d.map_or("never".to_string(), |d| {
        format!("{:.0} ms", d.as_secs_f64() * 1e3)
    })
}

/// Polls `until` every 20 ms for up to `timeout`, collecting every holder
/// set that differs from `normal` meanwhile; true if `until` came true.
fn watch(
    lab: &Lab,
    normal: &Holders,
    timeout: Duration,
    mut until: impl FnMut() -> bool,
) -> (bool, Vec<Holders>) {
    let mut moved = Vec::new();
    let ok = lab::wait_until(timeout, Duration::from_millis(20), || {
        let h = holders(lab);
        if &h != normal && moved.last() != Some(&h) {
            moved.push(h);
        }
        until()
    });
    (ok, moved)
}

/// What one daemon did with seed-check-web.
#[derive(Debug)]
struct CheckWeb {
    /// From killing nginx (it may start again) to nginx running again.
    restarted_after: Duration,
    /// Holders once nginx runs again (and a settle later).
    after_restart: Holders,
    /// nginx killed for good, as the client saw it.
    failover: GapMeasurement,
    /// Holders an interval after the failover.
    after_failover: Holders,
}

/// lb01's nginx is killed and may start again: the script (the remedy)
/// restarts it and no VIP moves, neither then nor a settle later (when
/// keepalived's script looks again, and Baton's FAULT would come).
fn nginx_restarts(lab: &Lab, nodes: &[&Node<'_>], daemon: Daemon) -> (Duration, Holders) {
    let normal = held(&["lb01"], &["lb02"]);
    let starts = systemctl_calls(lab, "lb01", "nginx: started");
    let t = Instant::now();
    lab.kill_processes("lb01", "nginx", Signal::SIGKILL)
        .expect("kill nginx");
    let (restarted, mut moved) = watch(lab, &normal, INTERVAL + SETTLE + MARGIN, || {
        systemctl_calls(lab, "lb01", "nginx: started") > starts && nginx_count(lab, "lb01") == 1
    });
    let after = t.elapsed();
    moved.extend(watch(lab, &normal, SETTLE + MARGIN, || false).1);
    assert!(
        restarted,
        "{daemon:?}: lb01's nginx was not restarted{}",
        logs(lab, nodes)
    );
    assert!(
        moved.is_empty(),
        "{daemon:?}: a VIP moved: {moved:?}{}",
        logs(lab, nodes)
    );
    if daemon == Daemon::Baton {
        let b = nodes[0].baton();
        assert_eq!(
            (b.state("VI_1"), b.state("VI_2")),
            ("master".into(), "backup".into())
        );
    }
    (after, holders(lab))
}

/// lb01's nginx is killed and will not start again: the one restart fails
/// and lb01 gives 192.0.2.3 up, keepalived by stopping, Baton by FAULT.
fn nginx_broken(lab: &Lab, lb01: &mut Node<'_>, lb02: &Node<'_>, daemon: Daemon) -> GapMeasurement {
    let tries = systemctl_calls(lab, "lb01", "systemctl start nginx");
    let moved = held(&["lb02"], &["lb02"]);
    let m = measure_gap(
        lab,
        vip1(),
        Duration::from_millis(300),
        || {
            lab.set_service_broken("lb01", "nginx", true)?;
            lab.kill_processes("lb01", "nginx", Signal::SIGKILL)
        },
        || holders(lab) == moved,
        INTERVAL + SETTLE + MDI_100 + MARGIN * 2,
    )
    .expect("measuring the failover");
    assert!(
        m.recovered_after.is_some(),
        "{daemon:?}: lb02 did not take the VIPs: {:?}{}",
        holders(lab),
        logs(lab, &[lb01, lb02])
    );
    assert_eq!(
        systemctl_calls(lab, "lb01", "systemctl start nginx") - tries,
        1,
        "{daemon:?}: nginx is restarted once{}",
        logs(lab, &[lb01, lb02])
    );
    match daemon {
        Daemon::Keepalived => {
            let stopped = lab::wait_until(Duration::from_secs(3), Duration::from_millis(20), || {
                !lb01.running()
            });
            assert!(
                stopped,
                "keepalived on lb01 still runs{}",
                logs(lab, &[lb01, lb02])
            );
            // (keepalived kills the script's process group as it stops: the
            // shim's own "stopped" line may not come.)
            let asked = lab
                .systemctl_log("lb01")
                .lines()
                .any(|l| l.contains("keepalived: SIGTERM"));
            assert!(
                asked,
                "check_web.sh did not stop keepalived{}",
                logs(lab, &[lb01, lb02])
            );
        }
        Daemon::Baton => {
            assert!(lb01.running(), "baton on lb01 exited{}", logs(lab, &[lb01, lb02]));
            let b = lb01.baton();
            assert_eq!(
                (b.state("VI_1"), b.state("VI_2")),
                ("fault".into(), "fault".into())
            );
        }
    }
    m
}

fn check_web(daemon: Daemon) -> CheckWeb {
    let lab = seed_lab();
    let (mut lb01, lb02) = start_pair(&lab, "seed-check-web", daemon);
    let (restarted_after, after_restart) = nginx_restarts(&lab, &[&lb01, &lb02], daemon);
    let failover = nginx_broken(&lab, &mut lb01, &lb02, daemon);
    // An interval later nothing has changed: no second restart, no return.
    let normal = holders(&lab);
    let (_, moved) = watch(&lab, &normal, INTERVAL, || false);
    assert!(
        moved.is_empty(),
        "{daemon:?}: moved again: {moved:?}{}",
        logs(&lab, &[&lb01, &lb02])
    );
    assert_eq!(systemctl_calls(&lab, "lb01", "nginx: broken, not started"), 1);
    CheckWeb {
        restarted_after,
        after_restart,
        failover,
        after_failover: holders(&lab),
    }
}

#[test]
fn check_web_moves_the_vip_the_same_way_with_keepalived_and_baton() {
    if !require_root("check_web_moves_the_vip_the_same_way_with_keepalived_and_baton") {
        return;
    }
    let _serial = serial();
    let ka = check_web(Daemon::Keepalived);
    let baton = check_web(Daemon::Baton);
    note(&format!(
        "*** seed-check-web (check_web.sh, interval 5 s, VRRPv2 1 s): nginx killed, restarted after \
         keepalived {} / Baton {}, no VIP moved; nginx killed for good: 192.0.2.3 on lb02 after \
         keepalived {} / Baton {} (client gap {} / {})",
        ms(Some(ka.restarted_after)),
        ms(Some(baton.restarted_after)),
        ms(ka.failover.recovered_after),
        ms(baton.failover.recovered_after),
        ms(ka.failover.gap),
        ms(baton.failover.gap),
    ));
    assert_eq!(
        ka.after_restart, baton.after_restart,
        "holders once nginx is back"
    );
    assert_eq!(
        ka.after_failover, baton.after_failover,
        "holders after the failover"
    );
    for (who, r) in [("keepalived", &ka), ("Baton", &baton)] {
        assert!(
            r.restarted_after < INTERVAL + MARGIN,
            "{who}: restart after {:?}",
            r.restarted_after
        );
        let after = r.failover.recovered_after.expect("moved");
        // Not before the one restart had its 3 s; within an interval more
        // and the backup's Master_Down_Interval.
        assert!(
            after >= SETTLE,
            "{who}: moved after {after:?}, before the 3 s settle"
        );
        assert!(
            after < INTERVAL + SETTLE + MDI_100 + MARGIN,
            "{who}: moved after {after:?}"
        );
        let gap = r.failover.gap.expect("answers again");
        assert!(gap < SKEW_LB02 + MARGIN, "{who}: client gap {gap:?}");
    }
}

/// What one daemon did with seed-split-brain.
#[derive(Debug)]
struct SplitBrain {
    /// From the cut to lb02's step-down (keepalived stopped; Baton's VI_1
    /// refused its claim or was demoted).
    stepped_down_after: Duration,
    /// How long both nodes held 192.0.2.3 (None: never).
    dual_for: Option<Duration>,
    /// Holders after the step-down.
    resolved: Holders,
    /// Holders once VRRP flows again (and a few adverts later).
    rejoined: Holders,
}

/// Whether lb02 has stepped down from lb01's VIP: keepalived by stopping;
/// Baton's VI_1 by refusing the claim (the probe before a claim finds the
/// VIP answered by lb01, which outranks it) or by its policy's demotion.
fn stepped_down(lb02: &mut Node<'_>) -> bool {
    match lb02 {
        Node::Keepalived(k) => !k.is_running(),
        Node::Baton(b) => b.try_status().is_ok_and(|s| {
            s.instances
                .iter()
                .filter(|i| i.name == "VI_1")
                .filter_map(|i| i.split_brain.as_ref())
                .any(|sb| sb.claims_refused > 0 || sb.decision.as_deref() == Some("demote"))
        }),
    }
}

/// VRRP is cut at lb02 (the seed's firewall) until lb02 steps down from
/// lb01's VIP; meanwhile, how long both nodes hold it.
fn split_and_resolve(
    lab: &Lab,
    lb01: &Node<'_>,
    lb02: &mut Node<'_>,
    daemon: Daemon,
) -> (Duration, Option<Duration>) {
    let t = Instant::now();
    lab.block_vrrp("lb02").expect("cut VRRP at lb02");
    let (mut first, mut last) = (None, None);
    let done = lab::wait_until(MDI_100 + INTERVAL + MARGIN, Duration::from_millis(10), || {
        if holders(lab).0.len() == 2 {
            first.get_or_insert_with(Instant::now);
            last = Some(Instant::now());
        }
        stepped_down(lb02) && holders(lab).0 == ["lb01"]
    });
    let after = t.elapsed();
    assert!(
        done,
        "{daemon:?}: lb02 did not step down from lb01's VIP: {:?}{}",
        holders(lab),
        logs(lab, &[lb01, lb02])
    );
    (after, first.zip(last).map(|(f, l)| l - f))
}

/// How lb02 stepped down: keepalived's script wrote its verdict and
/// stopped it; Baton's lb02 keeps VI_2, where it outranks lb01.
fn lb02_stepped_down(lab: &Lab, lb01: &Node<'_>, lb02: &Node<'_>, daemon: Daemon) {
    match daemon {
        Daemon::Keepalived => {
            // The seed's script wrote to lb02's own /tmp.
            let out = lab.exec("lb02", &["cat", "/tmp/check.txt"]).expect("cat");
            let verdicts = String::from_utf8_lossy(&out.stdout).to_string();
            assert!(
                verdicts.contains("ha is bad"),
                "lb02's /tmp/check.txt: {verdicts}"
            );
            assert!(
                lab.systemctl_log("lb02").contains("keepalived: SIGTERM"),
                "{}",
                logs(lab, &[lb01, lb02])
            );
        }
        Daemon::Baton => {
            let b = lb02.baton();
            assert_eq!(
                (b.state("VI_1"), b.state("VI_2")),
                ("backup".into(), "master".into()),
                "{}",
                logs(lab, &[lb01, lb02])
            );
            assert!(b.instance("VI_2").split_brain.is_none());
        }
    }
}

fn split_brain(daemon: Daemon) -> SplitBrain {
    let lab = seed_lab();
    let (lb01, mut lb02) = start_pair(&lab, "seed-split-brain", daemon);
    // Before the cut lb02 holds no VIP of lb01's: the check leaves it be.
    let (_, moved) = watch(&lab, &held(&["lb01"], &["lb02"]), INTERVAL + MARGIN, || false);
    assert!(
        moved.is_empty(),
        "{daemon:?}: moved before the cut: {moved:?}{}",
        logs(&lab, &[&lb01, &lb02])
    );
    let (stepped_down_after, dual_for) = split_and_resolve(&lab, &lb01, &mut lb02, daemon);
    lb02_stepped_down(&lab, &lb01, &lb02, daemon);
    // lb01, deaf to lb02, claims VI_2 too after its Master_Down_Interval.
    let vi2_dual = lab::wait_until(MDI_100 + MARGIN, Duration::from_millis(20), || {
        holders(&lab).1.contains(&"lb01".to_string())
    });
    assert!(
        vi2_dual,
        "{daemon:?}: lb01 did not claim VI_2: {:?}",
        holders(&lab)
    );
    let resolved = holders(&lab);
    lab.unblock_vrrp("lb02").expect("VRRP flows again");
    // A few adverts: lb01 hears lb02's VI_2 again, if anything still sends it.
    std::thread::sleep(Duration::from_secs(4));
    SplitBrain {
        stepped_down_after,
        dual_for,
        resolved,
        rejoined: holders(&lab),
    }
}

#[test]
fn check_brain_steps_lb02_down_with_keepalived_and_baton() {
    if !require_root("check_brain_steps_lb02_down_with_keepalived_and_baton") {
        return;
    }
    let _serial = serial();
    let ka = split_brain(Daemon::Keepalived);
    let baton = split_brain(Daemon::Baton);
    note(&format!(
        "*** seed-split-brain (check_brain.sh, interval 5 s, VRRP cut at lb02): lb02 steps down from \
         192.0.2.3 after keepalived {} / Baton {} from the cut; both nodes held it for keepalived {} / \
         Baton {}; then keepalived {:?} / Baton {:?}; VRRP back: keepalived {:?} / Baton {:?}",
        ms(Some(ka.stepped_down_after)),
        ms(Some(baton.stepped_down_after)),
        ms(ka.dual_for),
        ms(baton.dual_for),
        ka.resolved,
        baton.resolved,
        ka.rejoined,
        baton.rejoined,
    ));
    // keepalived: lb02 claims after its Master_Down_Interval and its
    // script, within an interval, sees lb01 serving and stops it.
    let dual = ka.dual_for.expect("keepalived: the seed's split brain");
    assert!(
        dual < INTERVAL + MARGIN,
        "keepalived: both held 192.0.2.3 for {dual:?}"
    );
    // Baton probes before the claim: no dual master at all.
    assert_eq!(baton.dual_for, None, "Baton: both held 192.0.2.3");
    for (who, r) in [("keepalived", &ka), ("Baton", &baton)] {
        assert!(
            r.stepped_down_after < MDI_100 + INTERVAL + MARGIN,
            "{who}: stepped down {:?} after the cut",
            r.stepped_down_after
        );
    }
    // The intended difference: keepalived's lb02 gave VI_2 up with the
    // whole daemon (lb01 serves it alone) and does not come back; Baton's
    // lb02 kept VI_2 (lb01, deaf to it, claims it too while VRRP is cut),
    // and the pair is as before once VRRP flows again.
    assert_eq!(ka.resolved, held(&["lb01"], &["lb01"]));
    assert_eq!(ka.rejoined, held(&["lb01"], &["lb01"]));
    assert_eq!(baton.resolved, held(&["lb01"], &["lb01", "lb02"]));
    assert_eq!(baton.rejoined, held(&["lb01"], &["lb02"]));
}
