//! Service death to VIP moved, as a client sees it: Baton (the
//! `builtin:http-status` policy every 20 ms) vs keepalived 2.2.7 (a `curl`
//! `vrrp_script` every 1 s, fall 1), in one run over the same namespace lab.
//!
//! Each run builds a fresh lab: lb01 (priority 150) and lb02 (100) serve VI_1
//! (VRRPv3, 100 ms adverts for both implementations) for 192.0.2.100/24, and
//! each runs the "service": an HTTP server answering 200 on 127.0.0.1:80 (what
//! the health check probes) and on the VIP's port 80 (what the client GETs;
//! the lab sets `ip_nonlocal_bind`, so the backup can listen before it holds
//! the VIP). Both trackers: weight -60, fall 1, rise 2, so a failed check
//! takes lb01 to 90, below lb02's 100.
//!
//! - Baton: `[[instance.track]]` of `builtin:http-status` on
//!   `http://127.0.0.1:80/`, `allow = ["127.0.0.1:80"]`, interval 20 ms,
//!   evaluation budget 20 ms, the probe's own timeout 15 ms.
//! - keepalived: `vrrp_script` running a script file
//!   (`#!/bin/sh` + `curl -s -o /dev/null -m 1 -w '%{http_code}'
//!   http://127.0.0.1/ | grep -q 200`), interval 1, in `track_script`.
//!
//! Once lb01 holds the VIP, its checks pass and the client's GETs (every
//! 10 ms, 20 ms timeout each) have been answered steadily for 300 ms, the
//! bench waits for one health check to be answered by lb01's check server (so
//! it knows the check schedule's phase), sleeps a random phase drawn
//! uniformly from [0, check interval) by a seeded RNG, and stops lb01's
//! service (both listeners: connections are refused from then on). The
//! client-visible outage is from that stop to the first 200 the client gets
//! after the longest hole that ends after the stop; the VIP move is when
//! `ip addr` first shows the VIP on lb02 (polled, a few ms of resolution).
//!
//! Usage: `service-bench [--runs N] [--seed S] [--only baton|keepalived]
//! [--stratified]` (default 5 runs, a seed from the clock, printed; phases are
//! independent uniform draws, or with `--stratified` one draw in each of N
//! equal slices of the interval, in random order, for a steadier median). Exit status 3 when Baton's
//! median outage is 100 ms or more, or keepalived's median is less than 10x
//! Baton's.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use baton::lab::{
    self, HttpProber, HttpServer, KaInstance, KaScript, Keepalived, Lab, LabProcess, LabSpec, ProbeReport,
};
use baton::status::{Status, TrackStatus};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
/// The client's GET period.
const PROBE_EVERY: Duration = Duration::from_millis(10);
/// Each GET's timeout (connect, then the whole response).
const PROBE_TIMEOUT: Duration = Duration::from_millis(20);
/// Baton's target for the median outage.
const BATON_TARGET: Duration = Duration::from_millis(100);
/// keepalived's median over Baton's must be at least this.
const RATIO_TARGET: f64 = 10.0;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Impl {
    Baton,
    Keepalived,
}

impl Impl {
    fn check_interval(self) -> Duration {
        match self {
            Impl::Baton => Duration::from_millis(20),
            Impl::Keepalived => Duration::from_secs(1),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Impl::Baton => "Baton",
            Impl::Keepalived => "keepalived",
        }
    }
}

/// SplitMix64: small, seedable, good enough to draw phases.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

enum Daemon {
    Baton { proc: LabProcess, socket: PathBuf },
    Keepalived(Keepalived),
}

impl Daemon {
    fn log(&self) -> String {
        match self {
            Daemon::Baton { proc, .. } => proc.log(),
            Daemon::Keepalived(k) => k.log(),
        }
    }

    fn status(&self) -> Option<Status> {
        match self {
            Daemon::Baton { socket, .. } => baton::control::query_status(socket).ok(),
            Daemon::Keepalived(_) => None,
        }
    }

    fn track(&self) -> Option<TrackStatus> {
        self.status()?
            .instances
            .into_iter()
            .next()?
            .tracks
            .into_iter()
            .find(|t| t.name == "web")
    }

    fn stop(&mut self) {
        match self {
            Daemon::Baton { proc, .. } => {
                let _ = proc.stop();
            }
            Daemon::Keepalived(k) => {
                let _ = k.stop();
            }
        }
    }
}

/// One node: its daemon and its service (two listeners).
struct Node {
    host: &'static str,
    daemon: Daemon,
    /// 127.0.0.1:80, what the health check probes.
    check_srv: HttpServer,
    /// VIP:80, what the client GETs.
    vip_srv: HttpServer,
}

fn baton_conf(host: &str, prio: u8, dir: &Path) -> String {
    format!(
        "# Generated by service-bench.\nrouter_id = {host:?}\nsocket = {sock:?}\n\n\
         [[policy]]\nname = \"web\"\nsource = \"builtin:http-status\"\n\
         config = {{ expect = 200, timeout-ms = 15 }}\nallow = [\"127.0.0.1:80\"]\n\n\
         [[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\npriority = {prio}\nversion = 3\n\
         advert_interval = \"100ms\"\npreempt = true\nvips = [\"{VIP}/24 dev eth0\"]\n\n\
         [[instance.track]]\npolicy = \"web\"\ninterval = \"20ms\"\ntimeout = \"20ms\"\nweight = -60\n\
         fall = 1\nrise = 2\nconfig = {{ url = \"http://127.0.0.1:80/\" }}\n",
        sock = dir.join(format!("{host}.sock")).display().to_string(),
    )
}

/// The check script keepalived runs; written once per lab, root-owned, 0755.
fn ka_script(lab: &Lab) -> std::io::Result<PathBuf> {
    let path = lab.dir().join("check_web.sh");
    std::fs::write(
        &path,
        "#!/bin/sh\ncurl -s -o /dev/null -m 1 -w '%{http_code}' http://127.0.0.1/ | grep -q 200\n",
    )?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(path)
}

fn start_node(lab: &Lab, imp: Impl, host: &'static str, prio: u8, bin: &Path) -> std::io::Result<Node> {
    let check_srv = HttpServer::start(lab, host, SocketAddr::from((Ipv4Addr::LOCALHOST, 80)))?;
    let vip_srv = HttpServer::start(lab, host, SocketAddr::from((VIP, 80)))?;
    let daemon = match imp {
        Impl::Baton => {
            let conf = lab.dir().join(format!("{host}.toml"));
            std::fs::write(&conf, baton_conf(host, prio, lab.dir()))?;
            let socket = lab.dir().join(format!("{host}.sock"));
            let log = lab.dir().join(format!("{host}-baton.log"));
            let args = [
                "env".as_ref(),
                "NO_COLOR=1".as_ref(),
                bin.as_os_str(),
                "run".as_ref(),
                "--config".as_ref(),
                conf.as_os_str(),
            ];
            let proc = LabProcess::start(lab, host, &args, &log)?;
            Daemon::Baton { proc, socket }
        }
        Impl::Keepalived => {
            let script = ka_script(lab)?;
            let s = KaScript {
                name: "chk_web".into(),
                script: script.display().to_string(),
                interval: imp.check_interval().as_secs_f64(),
                timeout: None,
                weight: -60,
                fall: 1,
                rise: 2,
            };
            let mut k = KaInstance::new("VI_1", 51, prio, if prio == 150 { "MASTER" } else { "BACKUP" });
            k.version = 3;
            k.advert_int = 0.1;
            k.vips = vec![format!("{VIP}/24 dev eth0")];
            k.track_scripts = vec!["chk_web".into()];
            let conf = lab::keepalived_conf_multi(&format!("bench-{host}"), &[s], &[k]);
            Daemon::Keepalived(Keepalived::start(lab, host, &conf)?)
        }
    };
    Ok(Node {
        host,
        daemon,
        check_srv,
        vip_srv,
    })
}

fn wait_for<F: FnMut() -> bool>(what: &str, limit: Duration, f: F) -> std::io::Result<()> {
    if lab::wait_until(limit, Duration::from_millis(5), f) {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "timed out after {limit:?} waiting for {what}"
        )))
    }
}

/// Both nodes' health checks are passing (and have run a few times).
fn checks_good(nodes: &[Node]) -> bool {
    nodes.iter().all(|n| match &n.daemon {
        Daemon::Baton { .. } => n
            .daemon
            .track()
            .is_some_and(|t| t.good && t.runs >= 3 && t.last_healthy == Some(true)),
        // keepalived runs the script every second and logs its changes.
        Daemon::Keepalived(k) => {
            let log = k.log();
            n.check_srv.served() >= 2
                && log.contains("VRRP_Script(chk_web) succeeded")
                && !log.contains("VRRP_Script(chk_web) failed")
        }
    })
}

/// What one run measured.
#[derive(Debug, Clone)]
struct RunResult {
    /// Random delay between a health check being answered and the stop.
    phase: Duration,
    /// Stop to the first 200 after the outage.
    outage: Duration,
    /// Stop to the VIP seen on lb02.
    moved: Duration,
    /// Baton only: lb01's track before the stop (last evaluation: healthy).
    track_before: Option<TrackStatus>,
    /// Baton only: lb01's track after the move (last evaluation: failed).
    track_after: Option<TrackStatus>,
    report: ProbeReport,
}

/// From `stop` (an offset in the report) to the later end of the longest
/// hole between answers that ends after `stop` (the hole counted from `stop`
/// if the last answer before it came earlier).
fn outage_after(r: &ProbeReport, stop: Duration) -> Option<Duration> {
    let mut best: Option<(Duration, Duration)> = None;
    let mut prev: Option<Duration> = None;
    for &t in &r.reply_times {
        if t > stop {
            let from = prev.map_or(stop, |p| p.max(stop));
            let len = t - from;
            if best.is_none_or(|(l, _)| len > l) {
                best = Some((len, t));
            }
        }
        prev = Some(t);
    }
    best.map(|(_, end)| end - stop)
}

/// One run; `frac` in [0, 1) places the stop within the check interval.
fn run_once(imp: Impl, bin: &Path, frac: f64) -> std::io::Result<RunResult> {
    let lab = Lab::new(LabSpec::new(2))?;
    let res = (|| -> std::io::Result<RunResult> {
        let vip = IpAddr::V4(VIP);
        let mut nodes = vec![start_node(&lab, imp, "lb01", 150, bin)?];
        nodes.push(start_node(&lab, imp, "lb02", 100, bin)?);
        let out = (|| -> std::io::Result<RunResult> {
            // keepalived needs a few seconds before its first election.
            wait_for("lb01 to hold the VIP", Duration::from_secs(20), || {
                lab.holders(vip) == ["lb01"]
            })?;
            wait_for("both health checks to pass", Duration::from_secs(10), || {
                checks_good(&nodes)
            })?;
            let prober = HttpProber::start_with_timeout(
                &lab,
                lab::CLIENT,
                SocketAddr::new(vip, 80),
                PROBE_EVERY,
                PROBE_TIMEOUT,
            )?;
            // Steady: answered for 300 ms without a hole over 50 ms.
            wait_for("steady 200s from the VIP", Duration::from_secs(10), || {
                prober.steady(Duration::from_millis(300), Duration::from_millis(50))
            })?;
            if lab.holders(vip) != ["lb01"] {
                return Err(std::io::Error::other("the VIP left lb01 before the stop"));
            }
            let track_before = nodes[0].daemon.track();

            // Phase: a health check of lb01 was just answered; then a random
            // fraction of the check interval.
            let phase = imp.check_interval().mul_f64(frac);
            let served = nodes[0].check_srv.served();
            let limit = Instant::now() + imp.check_interval() * 3 + Duration::from_secs(1);
            while nodes[0].check_srv.served() == served {
                if Instant::now() > limit {
                    return Err(std::io::Error::other("no health check reached lb01's service"));
                }
                std::thread::sleep(Duration::from_micros(100));
            }
            std::thread::sleep(phase);

            // The service dies: the client's listener first, then the check's.
            let stop_at = Instant::now();
            let stop = stop_at - prober.started();
            let n = &mut nodes[0];
            n.vip_srv.stop();
            n.check_srv.stop();

            let mut moved = None;
            wait_for("the VIP on lb02", Duration::from_secs(5), || {
                if lab.holders(vip).iter().any(|h| h == "lb02") {
                    moved = Some(stop_at.elapsed());
                    true
                } else {
                    false
                }
            })?;
            let moved = moved.unwrap_or_default();
            // Let the client see lb02 answer for a while.
            let got = prober.received();
            wait_for("answers from lb02", Duration::from_secs(5), || {
                prober.received() >= got + 30
            })?;
            let report = prober.stop();
            if lab.holders(vip) != ["lb02"] {
                return Err(std::io::Error::other(format!(
                    "the VIP is on {:?} after the move, not only lb02",
                    lab.holders(vip)
                )));
            }
            let outage = outage_after(&report, stop)
                .ok_or_else(|| std::io::Error::other(format!("no answer after the stop: {report}")))?;
            let track_after = nodes[0].daemon.track();
            Ok(RunResult {
                phase,
                outage,
                moved,
                track_before,
                track_after,
                report,
            })
        })();
        if out.is_err() {
            for n in &nodes {
                eprintln!("--- {} log\n{}", n.host, n.daemon.log());
            }
        }
        for n in &mut nodes {
            n.daemon.stop();
        }
        drop(nodes);
        out
    })();
    let torn = lab.teardown();
    let r = res?;
    torn?;
    Ok(r)
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = arg(&args, "--runs").unwrap_or(5).max(1);
    let seed: u64 = arg(&args, "--seed").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let only: Option<String> = arg(&args, "--only");
    if !nix::unistd::geteuid().is_root() {
        eprintln!("service-bench: needs root (network namespaces)");
        return ExitCode::FAILURE;
    }
    let bin = std::env::var_os("BATON_BIN").map_or_else(baton_e2e::baton_bin, PathBuf::from);
    let _ = lab::install_signal_cleanup();
    let imps: Vec<Impl> = [Impl::Baton, Impl::Keepalived]
        .into_iter()
        .filter(|i| only.as_deref().is_none_or(|o| o.eq_ignore_ascii_case(i.label())))
        .collect();
    if imps.is_empty() {
        eprintln!("service-bench: --only takes baton or keepalived");
        return ExitCode::FAILURE;
    }
    let stratified = args.iter().any(|a| a == "--stratified");
    // Phases as fractions of the check interval, drawn up front per
    // implementation: independent uniform draws, or with --stratified one
    // uniform draw in each of `runs` equal slices of the interval, in a
    // random order (each still uniform over the interval, the median far
    // less noisy).
    println!(
        "service-bench: {runs} run(s) per implementation, {} phases, seed {seed} (rerun with --seed {seed}{})",
        if stratified {
            "stratified"
        } else {
            "independent uniform"
        },
        if stratified { " --stratified" } else { "" }
    );
    let mut rng = Rng(seed);
    let fracs: Vec<Vec<f64>> = imps
        .iter()
        .map(|_| {
            if stratified {
                let mut slots: Vec<usize> = (0..runs).collect();
                for i in (1..runs).rev() {
                    let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                    slots.swap(i, j);
                }
                slots
                    .into_iter()
                    .map(|s| (s as f64 + rng.unit()) / runs as f64)
                    .collect()
            } else {
                (0..runs).map(|_| rng.unit()).collect()
            }
        })
        .collect();
    let mut results: Vec<Vec<RunResult>> = vec![Vec::new(); imps.len()];
    for run in 0..runs {
        for ((k, &imp), frac) in imps.iter().enumerate().zip(fracs.iter().map(|f| f[run])) {
            match run_once(imp, &bin, frac) {
                Ok(r) => {
                    let cost = r
                        .track_before
                        .as_ref()
                        .map(|t| {
                            format!(
                                ", last evaluation {} us / {} fuel",
                                t.last_elapsed_us, t.last_fuel
                            )
                        })
                        .unwrap_or_default();
                    println!(
                        "{:<10} run {}: phase {:>6} ms of {} ms, VIP on lb02 after {:>6} ms, client outage {:>6} ms{cost}; client: {}",
                        imp.label(),
                        run + 1,
                        ms(r.phase),
                        imp.check_interval().as_millis(),
                        ms(r.moved),
                        ms(r.outage),
                        r.report
                    );
                    results[k].push(r);
                }
                Err(e) => {
                    eprintln!("service-bench: {} run {}: failed: {e}", imp.label(), run + 1);
                    return ExitCode::FAILURE;
                }
            }
        }
    }

    println!(
        "\nService death on the master to VIP moved, as a client GETting http://{VIP}/ every {} ms sees it \
         ({runs} run(s), service stopped at a random phase of the check interval{}, seed {seed})\n",
        PROBE_EVERY.as_millis(),
        if stratified { " (stratified)" } else { "" }
    );
    println!(
        "| implementation | check | outage median (ms) | min | max | VIP moved median (ms) | min | max |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut medians = Vec::new();
    for (k, imp) in imps.iter().enumerate() {
        let o: Vec<Duration> = results[k].iter().map(|r| r.outage).collect();
        let m: Vec<Duration> = results[k].iter().map(|r| r.moved).collect();
        let check = match imp {
            Impl::Baton => "builtin:http-status, interval 20 ms, fall 1",
            Impl::Keepalived => "vrrp_script sh+curl, interval 1 s, fall 1",
        };
        let (omin, omax) = (
            o.iter().min().copied().unwrap_or_default(),
            o.iter().max().copied().unwrap_or_default(),
        );
        let (mmin, mmax) = (
            m.iter().min().copied().unwrap_or_default(),
            m.iter().max().copied().unwrap_or_default(),
        );
        println!(
            "| {} | {check} | {} | {} | {} | {} | {} | {} |",
            imp.label(),
            ms(median(&o)),
            ms(omin),
            ms(omax),
            ms(median(&m)),
            ms(mmin),
            ms(mmax)
        );
        medians.push((*imp, median(&o)));
    }
    let baton = medians.iter().find(|(i, _)| *i == Impl::Baton).map(|(_, d)| *d);
    let ka = medians
        .iter()
        .find(|(i, _)| *i == Impl::Keepalived)
        .map(|(_, d)| *d);
    if let (Some(b), Some(k)) = (baton, ka) {
        let moved = |i: Impl| {
            let k = imps.iter().position(|x| *x == i).unwrap_or(0);
            median(&results[k].iter().map(|r| r.moved).collect::<Vec<_>>())
        };
        let (mb, mk) = (moved(Impl::Baton), moved(Impl::Keepalived));
        println!(
            "| keepalived/Baton (medians) | | {:.1}x | | | {:.1}x | | |",
            k.as_secs_f64() / b.as_secs_f64().max(1e-9),
            mk.as_secs_f64() / mb.as_secs_f64().max(1e-9)
        );
    }
    if let Some(k) = results.first().filter(|_| imps[0] == Impl::Baton) {
        let before: Vec<&TrackStatus> = k.iter().filter_map(|r| r.track_before.as_ref()).collect();
        let after: Vec<&TrackStatus> = k.iter().filter_map(|r| r.track_after.as_ref()).collect();
        if !before.is_empty() {
            let us = |v: &[&TrackStatus]| {
                median(
                    &v.iter()
                        .map(|t| Duration::from_micros(t.last_elapsed_us))
                        .collect::<Vec<_>>(),
                )
            };
            let fuel = |v: &[&TrackStatus]| {
                let mut f: Vec<u64> = v.iter().map(|t| t.last_fuel).collect();
                f.sort_unstable();
                f[f.len() / 2]
            };
            print!(
                "\nBaton's evaluation cost (lb01, `baton status --json` tracks, median over runs): \
                 healthy {:.0} us / {} fuel",
                us(&before).as_secs_f64() * 1e6,
                fuel(&before)
            );
            if !after.is_empty() {
                print!(
                    "; failed (connection refused) {:.0} us / {} fuel",
                    us(&after).as_secs_f64() * 1e6,
                    fuel(&after)
                );
            }
            println!();
        }
    }
    let mut fail = false;
    if let Some(b) = baton {
        let ok = b < BATON_TARGET;
        println!(
            "\nBaton median outage: {} ms (target < {} ms): {}",
            ms(b),
            BATON_TARGET.as_millis(),
            if ok { "met" } else { "MISSED" }
        );
        fail |= !ok;
    }
    if let (Some(b), Some(k)) = (baton, ka) {
        let ratio = k.as_secs_f64() / b.as_secs_f64().max(1e-9);
        let ok = ratio >= RATIO_TARGET;
        println!(
            "keepalived/Baton ratio of the medians: {ratio:.1}x (target >= {RATIO_TARGET:.0}x): {}",
            if ok { "met" } else { "MISSED" }
        );
        fail |= !ok;
    }
    if fail {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}
