//! CPU cost of one health evaluation: Baton's builtin policies in the real
//! wasmtime host vs what keepalived does for a `vrrp_script`: fork and exec a
//! check script, in one run.
//!
//! Two checks, each against its script twin:
//! - HTTP: `builtin:http-status` vs `sh` + `curl` (the same local server);
//! - the seed's check_web.sh, "is nginx running": `builtin:process-alive` vs
//!   `sh` + `ps -C NAME --no-header | wc -l` (for a process named `sleep`).
//!
//! CPU is counted where the checker spends it: for a policy, the evaluating
//! thread (instantiation, guest code and its host calls all run on it); for a
//! script, the forking thread plus its children. The HTTP server's own CPU is
//! left out of both. The rows are measured in rounds, one after the other, and
//! each row reports the median over the rounds (and the range), so a burst of
//! load on the machine shifts one round of every row, not one row.
//!
//! Each check is measured two ways: back to back (caches warm: the cost of
//! the work itself) and paced, one every 20 ms as a daemon with a 20 ms
//! check interval runs it (caches gone cold in between: what such a daemon
//! really pays on this machine).
//!
//! Usage: `policy-bench [--evals N] [--rounds R] [--only ROW]`: N policy
//! evaluations per row and round back to back (default 2000; scripts run
//! N/10; paced rows run 100), R rounds (default 5). `--only ROW` loops one row and prints it (for `perf record`);
//! ROW is one of the row keys printed by `--list`.
//! Exit status 3 if a ratio is below the 100x target.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Duration;

use baton_e2e::arg;
use baton_e2e::bench::serve_ok;
use baton_policy::{EvalContext, Facts, Grants, LoadedPolicy, PolicyEngine};
use nix::sys::resource::{UsageWho, getrusage};
use nix::time::{ClockId, clock_gettime};

const TARGET: f64 = 100.0;

fn cpu(who: UsageWho) -> Duration {
    match getrusage(who) {
        Ok(u) => {
            let t = |tv: nix::sys::time::TimeVal| {
                Duration::from_secs(tv.tv_sec() as u64) + Duration::from_micros(tv.tv_usec() as u64)
            };
            t(u.user_time()) + t(u.system_time())
        }
        Err(_) => Duration::ZERO,
    }
}

/// This thread's CPU time, to the nanosecond (getrusage's thread time can be
/// tick-sampled).
fn thread_cpu() -> Duration {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map_or(Duration::ZERO, Duration::from)
}

/// CPU per call of `f`, over `n` calls, on this thread and its children.
fn per_call(n: u32, mut f: impl FnMut() -> Result<(), String>) -> Result<Duration, String> {
    let t0 = thread_cpu();
    let c0 = cpu(UsageWho::RUSAGE_CHILDREN);
    for _ in 0..n {
        f()?;
    }
    let used = (thread_cpu() - t0) + (cpu(UsageWho::RUSAGE_CHILDREN) - c0);
    Ok(used / n.max(1))
}

/// Calls per round of a paced row.
const PACED_CALLS: u32 = 100;

/// CPU per call of `f`, one call every `pace`, counting only the calls.
fn paced(n: u32, pace: Duration, mut f: impl FnMut() -> Result<(), String>) -> Result<Duration, String> {
    let mut used = Duration::ZERO;
    for _ in 0..n {
        std::thread::sleep(pace);
        let (t0, c0) = (thread_cpu(), cpu(UsageWho::RUSAGE_CHILDREN));
        f()?;
        used += (thread_cpu() - t0) + (cpu(UsageWho::RUSAGE_CHILDREN) - c0);
    }
    Ok(used / n.max(1))
}

/// A policy evaluation that must come out healthy (or, with `fail`, failed).
fn eval(p: &LoadedPolicy, ctx: &EvalContext, healthy: bool) -> Result<(), String> {
    let ev = p.evaluate(ctx.clone());
    if ev.is_healthy() == healthy {
        Ok(())
    } else {
        Err(format!(
            "{}: expected {}, got {:?}",
            p.name(),
            if healthy { "healthy" } else { "failed" },
            ev.failure_reason()
        ))
    }
}

/// Runs an executable script that must exit 0 (or non-zero, with `ok` false).
fn script(path: &Path, ok: bool) -> Result<(), String> {
    match Command::new(path).status() {
        Ok(s) if s.success() == ok => Ok(()),
        Ok(s) => Err(format!("{}: {s}", path.display())),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn write_script(dir: &Path, name: &str, body: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, body).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The native GET: what the probe itself costs without any sandbox.
fn native_get(addr: SocketAddr) -> Result<(), String> {
    let go = || -> std::io::Result<()> {
        let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
        s.set_read_timeout(Some(Duration::from_secs(1)))?;
        s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
        let mut buf = [0u8; 512];
        while s.read(&mut buf)? > 0 {}
        Ok(())
    };
    go().map_err(|e| format!("native GET: {e}"))
}

struct Row {
    key: &'static str,
    label: &'static str,
    /// Scripts are slow: they run a tenth as often.
    script: bool,
    /// Run as a daemon runs it: one call every this long (100 per round),
    /// caches gone cold in between, instead of back to back.
    pace: Option<Duration>,
    run: Box<dyn Fn() -> Result<(), String>>,
    samples: Vec<Duration>,
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("policy-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let args: Vec<String> = std::env::args().collect();
    let evals: u32 = arg(&args, "--evals").unwrap_or(2000).max(1);
    let rounds: u32 = arg(&args, "--rounds").unwrap_or(5).max(1);
    let only: Option<String> = arg(&args, "--only");
    let scripts = (evals / 10).max(20);

    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    serve_ok(listener);
    let url = format!("http://{addr}/");

    let engine = PolicyEngine::new().map_err(|e| format!("engine: {e}"))?;
    let load = |name: &str| -> Result<Arc<LoadedPolicy>, String> {
        let bytes = baton_policy_builtins::builtin(name).ok_or(format!("builtin:{name} missing"))?;
        engine
            .load(name, bytes, None)
            .map_err(|e| format!("load {name}: {e}"))
    };
    let grants = Arc::new(
        Grants::default()
            .allow_net(&addr.to_string())
            .map_err(|e| e.to_string())?,
    );
    let budget = Duration::from_secs(1);
    let http = load("http-status")?;
    let http_ctx = EvalContext::new(Facts::default())
        .with_settings([("url", url.as_str()), ("expect", "200")])
        .with_grants(grants)
        .with_budget(budget);
    let alive = load("process-alive")?;
    let alive_ctx = EvalContext::new(Facts::default())
        .with_settings([("name", "sleep")])
        .with_budget(budget);
    let missing_ctx = EvalContext::new(Facts::default())
        .with_settings([("name", "baton-no-such")])
        .with_budget(budget);
    // interface-up without its setting fails at once, before any host call:
    // instantiate, call, verdict, i.e. what the sandbox itself costs.
    let floor = load("interface-up")?;
    let floor_ctx = EvalContext::new(Facts::default()).with_budget(budget);

    let dir = std::env::temp_dir().join(format!("baton-policy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let curl = write_script(
        &dir,
        "check_web.sh",
        &format!(
            "#!/bin/sh\ncode=$(curl -s -o /dev/null -m 1 -w '%{{http_code}}' {url})\n[ \"$code\" = 200 ] || exit 1\n"
        ),
    )?;
    let ps = write_script(
        &dir,
        "check_proc.sh",
        "#!/bin/sh\nn=$(ps -C sleep --no-header | wc -l)\n[ \"$n\" -gt 0 ] || exit 1\n",
    )?;
    // The process the process checks look for.
    let mut target = Command::new("sleep")
        .arg("3600")
        .spawn()
        .map_err(|e| format!("sleep: {e}"))?;
    // Between fork and exec its name is still ours.
    std::thread::sleep(Duration::from_millis(100));

    let (curl_p, ps_p) = (curl.clone(), ps.clone());
    let (http_paced, http_ctx_paced) = (http.clone(), http_ctx.clone());
    let (alive_paced, alive_ctx_paced) = (alive.clone(), alive_ctx.clone());
    let mut rows = vec![
        Row {
            key: "http-policy",
            label: "Baton builtin:http-status (fresh wasmtime store per check)",
            script: false,
            pace: None,
            run: Box::new(move || eval(&http, &http_ctx, true)),
            samples: vec![],
        },
        Row {
            key: "http-script",
            label: "keepalived-style vrrp_script: fork/exec sh + curl",
            script: true,
            pace: None,
            run: Box::new(move || script(&curl, true)),
            samples: vec![],
        },
        Row {
            key: "http-native",
            label: "the same GET in native Rust, no sandbox (the probe's own cost)",
            script: false,
            pace: None,
            run: Box::new(move || native_get(addr)),
            samples: vec![],
        },
        Row {
            key: "proc-policy",
            label: "Baton builtin:process-alive, process running",
            script: false,
            pace: None,
            run: Box::new({
                let alive = alive.clone();
                move || eval(&alive, &alive_ctx, true)
            }),
            samples: vec![],
        },
        Row {
            key: "proc-script",
            label: "the seed's check_web.sh: fork/exec sh + `ps -C NAME --no-header | wc -l`",
            script: true,
            pace: None,
            run: Box::new(move || script(&ps, true)),
            samples: vec![],
        },
        Row {
            key: "proc-missing",
            label: "Baton builtin:process-alive, process missing (scans /proc)",
            script: false,
            pace: None,
            run: Box::new(move || eval(&alive, &missing_ctx, false)),
            samples: vec![],
        },
        Row {
            key: "http-paced",
            label: "Baton builtin:http-status, one check every 20 ms (as a daemon runs it)",
            script: false,
            pace: Some(Duration::from_millis(20)),
            run: Box::new(move || eval(&http_paced, &http_ctx_paced, true)),
            samples: vec![],
        },
        Row {
            key: "proc-paced",
            label: "Baton builtin:process-alive, one check every 20 ms",
            script: false,
            pace: Some(Duration::from_millis(20)),
            run: Box::new(move || eval(&alive_paced, &alive_ctx_paced, true)),
            samples: vec![],
        },
        Row {
            key: "http-script-paced",
            label: "keepalived-style vrrp_script sh + curl, one run every 20 ms",
            script: true,
            pace: Some(Duration::from_millis(20)),
            run: Box::new(move || script(&curl_p, true)),
            samples: vec![],
        },
        Row {
            key: "proc-script-paced",
            label: "the seed's check_web.sh (ps), one run every 20 ms",
            script: true,
            pace: Some(Duration::from_millis(20)),
            run: Box::new(move || script(&ps_p, true)),
            samples: vec![],
        },
        Row {
            key: "floor",
            label: "Baton sandbox alone: instantiate, call, verdict, no host call",
            script: false,
            pace: None,
            run: Box::new(move || eval(&floor, &floor_ctx, false)),
            samples: vec![],
        },
    ];
    if args.iter().any(|a| a == "--list") {
        for r in &rows {
            println!("{:14} {}", r.key, r.label);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(key) = only {
        rows.retain(|r| r.key == key);
        if rows.is_empty() {
            return Err(format!("no row {key:?} (see --list)"));
        }
    }

    let result = (|| -> Result<(), String> {
        // Warm up: the first calls pay for lazy initialisation.
        for r in &rows {
            for _ in 0..if r.script { 2 } else { 20 } {
                (r.run)()?;
            }
        }
        for _ in 0..rounds {
            for r in &mut rows {
                let d = match r.pace {
                    Some(p) => paced(PACED_CALLS, p, &r.run)?,
                    None => per_call(if r.script { scripts } else { evals }, &r.run)?,
                };
                r.samples.push(d);
            }
        }
        Ok(())
    })();
    let _ = target.kill();
    let _ = target.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result?;

    println!(
        "\nCPU per health check: median over {rounds} rounds of {evals} policy evaluations / {scripts} script runs\n"
    );
    println!("| check | CPU per check, median (µs) | range over rounds (µs) |");
    println!("|---|---:|---:|");
    for r in &rows {
        let min = r.samples.iter().min().copied().unwrap_or_default();
        let max = r.samples.iter().max().copied().unwrap_or_default();
        println!(
            "| {} | {:.1} | {:.1}-{:.1} |",
            r.label.replace('|', "\\|"),
            us(median(&r.samples)),
            us(min),
            us(max)
        );
    }
    let get = |key: &str| rows.iter().find(|r| r.key == key).map(|r| r.samples.clone());
    let mut below = false;
    println!();
    for (what, policy, script) in [
        ("HTTP check, back to back", "http-policy", "http-script"),
        (
            "process check (the seed's), back to back",
            "proc-policy",
            "proc-script",
        ),
        ("HTTP check, one every 20 ms", "http-paced", "http-script-paced"),
        (
            "process check (the seed's), one every 20 ms",
            "proc-paced",
            "proc-script-paced",
        ),
    ] {
        let (Some(p), Some(s)) = (get(policy), get(script)) else {
            continue;
        };
        let ratio = median(&s).as_secs_f64() / median(&p).as_secs_f64().max(1e-9);
        // Per round, script over policy of the same round.
        let per_round: Vec<f64> = p
            .iter()
            .zip(&s)
            .map(|(p, s)| s.as_secs_f64() / p.as_secs_f64().max(1e-9))
            .collect();
        let lo = per_round.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = per_round.iter().copied().fold(0.0, f64::max);
        let mark = if ratio < TARGET { " (below the target)" } else { "" };
        println!("{what}: script / policy CPU = {ratio:.0}x (per round {lo:.0}x-{hi:.0}x){mark}");
        below |= ratio < TARGET;
    }
    if below {
        println!("a ratio is below the {TARGET:.0}x target");
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
