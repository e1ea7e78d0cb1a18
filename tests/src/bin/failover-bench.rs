//! Client-visible failover gap, Baton vs keepalived 2.2.7, in one run over the
//! same namespace lab.
//!
//! For each advert setting (VRRPv2 1 s, VRRPv3 100 ms, VRRPv3 10 ms) and each
//! implementation, a pair (lb01 priority 150, lb02 priority 100) serves one
//! VIP while the client pings it every 10 ms; then:
//!
//! - link down: lb01's eth0 goes down right after one of its adverts was seen
//!   on the wire, so both implementations start from the same phase (the gap
//!   is then close to Master_Down_Interval, the protocol's floor);
//! - return: lb01's link comes back and it preempts;
//! - stop: lb01's daemon gets SIGTERM (it sends priority 0).
//!
//! The gap is the longest time between two ping replies around the event,
//! pinging every `--ping-ms` (default 2 ms, so a gap is known to 2 ms).
//! Each row is the median over `--runs` runs. Usage:
//! `failover-bench [--runs N] [--only v2-1s|v3-100ms|v3-10ms] [--ping-ms N]`

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use baton_e2e::bench::BenchDaemon as Daemon;
use baton_lab::{self as lab, KaInstance, Keepalived, Lab, LabProcess, LabSpec, Pinger};
use socket2::{Domain, Protocol, Socket, Type};

const VIP: &str = "192.0.2.100";

#[derive(Clone, Copy, Debug)]
struct Setting {
    label: &'static str,
    version: u8,
    interval: Duration,
}

const SETTINGS: [Setting; 3] = [
    Setting {
        label: "v2-1s",
        version: 2,
        interval: Duration::from_secs(1),
    },
    Setting {
        label: "v3-100ms",
        version: 3,
        interval: Duration::from_millis(100),
    },
    Setting {
        label: "v3-10ms",
        version: 3,
        interval: Duration::from_millis(10),
    },
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Impl {
    Baton,
    Keepalived,
}

fn baton_conf(host: &str, prio: u8, s: Setting, dir: &std::path::Path) -> String {
    let auth = if s.version == 2 {
        "auth = { type = \"pass\", password = \"1111\" }\n"
    } else {
        ""
    };
    format!(
        "router_id = \"{host}\"\nsocket = \"{sock}\"\n\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\n\
         vrid = 51\npriority = {prio}\nversion = {v}\nadvert_interval = \"{ms}ms\"\n{auth}\
         vips = [\"{VIP}/24 dev eth0 label eth0:1\"]\n",
        sock = dir.join(format!("{host}.sock")).display(),
        v = s.version,
        ms = s.interval.as_millis(),
    )
}

fn start(
    lab: &Lab,
    imp: Impl,
    host: &str,
    prio: u8,
    s: Setting,
    bin: &std::path::Path,
) -> std::io::Result<Daemon> {
    match imp {
        Impl::Baton => {
            let conf = lab.dir().join(format!("{host}.toml"));
            std::fs::write(&conf, baton_conf(host, prio, s, lab.dir()))?;
            let log = lab.dir().join(format!("{host}-baton.log"));
            let args = [
                bin.as_os_str(),
                "run".as_ref(),
                "--config".as_ref(),
                conf.as_os_str(),
            ];
            Ok(Daemon::Baton {
                proc: LabProcess::start(lab, host, &args, &log)?,
                socket: lab.dir().join(format!("{host}.sock")),
            })
        }
        Impl::Keepalived => {
            let mut k = KaInstance::new("VI_1", 51, prio, if prio == 150 { "MASTER" } else { "BACKUP" });
            k.version = s.version;
            k.advert_int = s.interval.as_secs_f64();
            if s.version == 2 {
                k.auth_pass = Some("1111".into());
            }
            k.vips = vec![format!("{VIP}/24 dev eth0 label eth0:1")];
            Ok(Daemon::Keepalived(Keepalived::start(
                lab,
                host,
                &lab::keepalived_conf(&k),
            )?))
        }
    }
}

/// Blocks until an advert from `from` is seen from the client's namespace.
fn advert_watcher(lab: &Lab) -> std::io::Result<std::sync::mpsc::Receiver<(Ipv4Addr, Instant)>> {
    let ns = lab.netns_name(lab::CLIENT);
    let (tx, rx) = std::sync::mpsc::channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let setup = || -> std::io::Result<Socket> {
            lab::enter_netns(&ns)?;
            let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112)))?;
            let ifindex = nix::net::if_::if_nametoindex("eth0").map_err(std::io::Error::from)?;
            s.join_multicast_v4_n(
                &Ipv4Addr::new(224, 0, 0, 18),
                &socket2::InterfaceIndexOrAddress::Index(ifindex),
            )?;
            s.set_read_timeout(Some(Duration::from_millis(100)))?;
            Ok(s)
        };
        let sock = match setup() {
            Ok(s) => {
                let _ = ready_tx.send(Ok(()));
                s
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 2048];
        loop {
            match sock.recv_from(&mut buf) {
                Ok((n, addr)) if n >= 20 => {
                    let src = addr.as_socket_ipv4().map(|a: SocketAddrV4| *a.ip());
                    if let Some(src) = src
                        && tx.send((src, Instant::now())).is_err()
                    {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return,
            }
        }
    });
    ready_rx
        .recv()
        .map_err(|_| std::io::Error::other("advert watcher died"))??;
    Ok(rx)
}

fn wait_for<F: FnMut() -> bool>(what: &str, limit: Duration, f: F) -> std::io::Result<()> {
    if lab::wait_until(limit, Duration::from_millis(5), f) {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("timed out waiting for {what}")))
    }
}

/// One run: [link down, return, stop] gaps.
fn run_once(imp: Impl, s: Setting, bin: &std::path::Path, ping: Duration) -> std::io::Result<[Duration; 3]> {
    let lab = Lab::new(LabSpec::new(2))?;
    let vip: IpAddr = VIP.parse().map_err(std::io::Error::other)?;
    let lb01_addr = lab.ipv4("lb01");
    let mut lb01 = start(&lab, imp, "lb01", 150, s, bin)?;
    let lb02 = start(&lab, imp, "lb02", 100, s, bin)?;
    let mdi = 4 * s.interval + Duration::from_secs(2);
    // keepalived needs ~3-4 s before its first election even at fast adverts.
    let boot = Duration::from_secs(12) + 4 * mdi;
    let res = (|| {
        wait_for("lb01 to hold the VIP", boot, || {
            lab.holder(vip).as_deref() == Some("lb01")
        })?;
        let pinger = Pinger::start(&lab, lab::CLIENT, vip, ping)?;
        let t0 = pinger.started();
        let flowing = |p: &Pinger| p.since_last_reply() < ping * 3 + Duration::from_millis(5);
        wait_for("replies", Duration::from_secs(5), || flowing(&pinger))?;
        std::thread::sleep(Duration::from_millis(300));
        let adverts = advert_watcher(&lab)?;
        let settle = Duration::from_millis(300) + 2 * s.interval;

        // Link down, in phase with lb01's adverts.
        while adverts.try_recv().is_ok() {}
        loop {
            let (src, _) = adverts
                .recv_timeout(Duration::from_secs(5))
                .map_err(|_| std::io::Error::other("no advert seen"))?;
            if src == lb01_addr {
                break;
            }
        }
        let a = t0.elapsed();
        lab.link_down("lb01")?;
        wait_for("lb02 to take over", mdi + Duration::from_secs(5), || {
            lab.holder(vip).as_deref() == Some("lb02") && flowing(&pinger)
        })?;
        std::thread::sleep(settle);
        let b = t0.elapsed();
        lab.link_up("lb01")?;
        wait_for("lb01 to preempt", mdi + Duration::from_secs(8), || {
            lab.holder(vip).as_deref() == Some("lb01") && flowing(&pinger)
        })?;
        std::thread::sleep(settle);
        let c = t0.elapsed();
        lb01.stop()?;
        wait_for(
            "lb02 to take over after the stop",
            mdi + Duration::from_secs(5),
            || lab.holder(vip).as_deref() == Some("lb02") && flowing(&pinger),
        )?;
        std::thread::sleep(settle);
        let d = t0.elapsed();
        let report = pinger.stop();
        Ok([
            report.gap_ending_in(a, b),
            report.gap_ending_in(b, c),
            report.gap_ending_in(c, d),
        ])
    })();
    if res.is_err() {
        eprintln!("--- lb01 log\n{}\n--- lb02 log\n{}", lb01.log(), lb02.log());
    }
    drop(lb02);
    drop(lb01);
    lab.teardown()?;
    res
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = baton_e2e::arg(&args, "--runs").unwrap_or(3);
    let ping = Duration::from_millis(baton_e2e::arg(&args, "--ping-ms").unwrap_or(2));
    let only: Option<String> = baton_e2e::arg(&args, "--only");
    if !nix::unistd::geteuid().is_root() {
        eprintln!("failover-bench: needs root (network namespaces)");
        return std::process::ExitCode::FAILURE;
    }
    let bin = std::env::var_os("BATON_BIN").map_or_else(baton_e2e::baton_bin, PathBuf::from);
    let _ = lab::install_signal_cleanup();
    let events = ["master link down", "master return (preempt)", "master clean stop"];
    let mut rows = Vec::new();
    let mut worse = false;
    for s in SETTINGS {
        if only.as_deref().is_some_and(|o| o != s.label) {
            continue;
        }
        let mut per: Vec<[Vec<Duration>; 3]> = vec![Default::default(), Default::default()];
        for run in 0..runs {
            for (k, imp) in [Impl::Baton, Impl::Keepalived].into_iter().enumerate() {
                match run_once(imp, s, &bin, ping) {
                    Ok(g) => {
                        eprintln!(
                            "{} {:?} run {}: link down {} ms, return {} ms, stop {} ms",
                            s.label,
                            imp,
                            run + 1,
                            ms(g[0]),
                            ms(g[1]),
                            ms(g[2])
                        );
                        for e in 0..3 {
                            per[k][e].push(g[e]);
                        }
                    }
                    Err(e) => {
                        eprintln!("{} {imp:?} run {}: failed: {e}", s.label, run + 1);
                        return std::process::ExitCode::FAILURE;
                    }
                }
            }
        }
        for (e, name) in events.iter().enumerate() {
            let b = median(per[0][e].clone());
            let k = median(per[1][e].clone());
            let ratio = b.as_secs_f64() / k.as_secs_f64().max(1e-9);
            // A gap is sampled once per ping at each end, so two gaps that
            // differ by less than two ping intervals are a tie.
            if b > k + 2 * ping {
                worse = true;
            }
            rows.push((s, *name, b, k, ratio));
        }
    }
    println!(
        "\nClient-visible failover gap (ping every {} ms; median of {runs} run(s); lb01 150 / lb02 100)\n",
        ping.as_millis()
    );
    println!("| advert | event | Baton (ms) | keepalived 2.2.7 (ms) | Baton/keepalived |");
    println!("|---|---|---:|---:|---:|");
    for (s, name, b, k, ratio) in &rows {
        let adv = format!("v{} {}", s.version, humanize(s.interval));
        println!("| {adv} | {name} | {} | {} | {ratio:.2} |", ms(*b), ms(*k));
    }
    if worse {
        println!(
            "\nBaton was slower than keepalived (beyond the two-sample resolution) on at least one row."
        );
        return std::process::ExitCode::from(3);
    }
    std::process::ExitCode::SUCCESS
}

fn humanize(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}
