//! CPU cost of one health evaluation: Baton's `builtin:http-status` policy in
//! the real wasmtime host vs what keepalived does for a `vrrp_script`: fork and
//! exec the seed's kind of check script (`curl` through `/bin/sh`), in one run
//! against the same local HTTP server.
//!
//! CPU is counted where the checker spends it: for the policy, the evaluating
//! thread (instantiation, guest code and its host calls, all on that thread);
//! for the script, the parent thread's fork/exec/wait plus the children's CPU.
//! The HTTP server's own CPU is left out of both. Usage:
//! `policy-bench [--evals N]` (default 2000 policy evaluations, 200 scripts).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_policy::{EvalContext, Facts, Grants, PolicyEngine};
use nix::sys::resource::{UsageWho, getrusage};

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

fn serve(listener: TcpListener) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let evals: u32 = args
        .iter()
        .position(|a| a == "--evals")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let scripts = (evals / 10).max(20);
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("policy-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    serve(listener);
    let url = format!("http://127.0.0.1:{port}/");

    // Baton: one engine, the builtin compiled once, a fresh store per evaluation.
    let engine = match PolicyEngine::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("policy-bench: engine: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let Some(bytes) = baton_policy_builtins::builtin("http-status") else {
        eprintln!("policy-bench: builtin:http-status missing");
        return std::process::ExitCode::FAILURE;
    };
    let t = Instant::now();
    let policy = match engine.load("web", bytes, None) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("policy-bench: load: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let load_time = t.elapsed();
    let grants = match Grants::default().allow_net(&format!("127.0.0.1:{port}")) {
        Ok(g) => Arc::new(g),
        Err(e) => {
            eprintln!("policy-bench: grants: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let ctx = EvalContext::new(Facts::default())
        .with_settings([("url", url.as_str()), ("expect", "200")])
        .with_grants(grants)
        .with_budget(Duration::from_secs(1));
    // Warm up (the first call pays for lazy initialisation).
    for _ in 0..20 {
        let ev = policy.evaluate(ctx.clone());
        if !ev.is_healthy() {
            eprintln!("policy-bench: policy says {:?}", ev.failure_reason());
            return std::process::ExitCode::FAILURE;
        }
    }
    // The floor: a policy that makes no system call (interface-up reads sysfs,
    // so this is near it), to separate the sandbox's cost from the probe's.
    let floor = match baton_policy_builtins::builtin("interface-up").map(|b| engine.load("lo", b, None)) {
        Some(Ok(p)) => {
            let ctx = EvalContext::new(Facts::default()).with_settings([("interface", "lo")]);
            for _ in 0..20 {
                let _ = p.evaluate(ctx.clone());
            }
            let c = cpu(UsageWho::RUSAGE_THREAD);
            for _ in 0..evals {
                let _ = p.evaluate(ctx.clone());
            }
            Some((cpu(UsageWho::RUSAGE_THREAD) - c) / evals)
        }
        _ => None,
    };
    let mut fuel = 0;
    let c0 = cpu(UsageWho::RUSAGE_THREAD);
    let w0 = Instant::now();
    for _ in 0..evals {
        let ev = policy.evaluate(ctx.clone());
        fuel = ev.fuel_consumed;
        assert!(ev.is_healthy(), "{:?}", ev.failure_reason());
    }
    let wall_policy = w0.elapsed() / evals;
    let cpu_policy = (cpu(UsageWho::RUSAGE_THREAD) - c0) / evals;

    // The same GET in native Rust, no sandbox: what the probe itself costs.
    let native = {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let get = || -> std::io::Result<()> {
            let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
            s.set_read_timeout(Some(Duration::from_secs(1)))?;
            s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
            let mut buf = [0u8; 512];
            while s.read(&mut buf)? > 0 {}
            Ok(())
        };
        let c = cpu(UsageWho::RUSAGE_THREAD);
        for _ in 0..evals {
            let _ = get();
        }
        (cpu(UsageWho::RUSAGE_THREAD) - c) / evals
    };

    // keepalived's way: fork/exec a shell script that runs curl.
    let dir = std::env::temp_dir().join(format!("baton-policy-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let script = dir.join("check_web.sh");
    let body = format!(
        "#!/bin/sh\ncode=$(curl -s -o /dev/null -m 1 -w '%{{http_code}}' {url})\n[ \"$code\" = 200 ] || exit 1\n"
    );
    if std::fs::write(&script, body).is_err()
        || Command::new("chmod").arg("+x").arg(&script).status().is_err()
    {
        eprintln!("policy-bench: cannot write {}", script.display());
        return std::process::ExitCode::FAILURE;
    }
    let run = || {
        Command::new(&script)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !run() {
        eprintln!("policy-bench: the script check fails (is curl installed? scripts/setup installs it)");
        return std::process::ExitCode::FAILURE;
    }
    let p0 = cpu(UsageWho::RUSAGE_THREAD);
    let k0 = cpu(UsageWho::RUSAGE_CHILDREN);
    let w0 = Instant::now();
    for _ in 0..scripts {
        assert!(run(), "script check failed");
    }
    let wall_script = w0.elapsed() / scripts;
    let cpu_script = ((cpu(UsageWho::RUSAGE_THREAD) - p0) + (cpu(UsageWho::RUSAGE_CHILDREN) - k0)) / scripts;

    // The seed's own check_web.sh: is nginx running? (`ps -C nginx | wc -l`),
    // against builtin:process-alive, for a process named `sleep` here.
    let mut target = match Command::new("sleep").arg("600").spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("policy-bench: sleep: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Between fork and exec its name is still ours.
    std::thread::sleep(Duration::from_millis(100));
    let proc_rows = process_rows(&engine, evals, scripts, &dir);
    let _ = target.kill();
    let _ = target.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("\nCPU per health evaluation, HTTP GET of a local server answering 200\n");
    println!("| check | runs | CPU per check (µs) | wall per check (µs) |");
    println!("|---|---:|---:|---:|");
    println!(
        "| Baton builtin:http-status (wasmtime, fresh store per call; {fuel} fuel) | {evals} | {:.1} | {:.1} |",
        us(cpu_policy),
        us(wall_policy)
    );
    println!(
        "| keepalived-style vrrp_script: fork/exec sh + curl | {scripts} | {:.1} | {:.1} |",
        us(cpu_script),
        us(wall_script)
    );
    println!(
        "| the same HTTP GET in native Rust, no sandbox (the probe's own cost) | {evals} | {:.1} | |",
        us(native)
    );
    if let Some(f) = floor {
        println!(
            "| Baton builtin:interface-up (no network: the sandbox's own cost) | {evals} | {:.1} | |",
            us(f)
        );
    }
    let mut proc_ratio = None;
    if let Some((p, sc)) = proc_rows {
        println!(
            "| Baton builtin:process-alive (scan /proc) | {evals} | {:.1} | |",
            us(p)
        );
        println!(
            "| the seed's check_web.sh: fork/exec sh + `ps -C NAME --no-header \\| wc -l` | {scripts} | {:.1} | |",
            us(sc)
        );
        proc_ratio = Some(sc.as_secs_f64() / p.as_secs_f64().max(1e-9));
    }
    if let Some(r) = proc_ratio {
        println!("\nprocess check: script / policy CPU: {r:.0}x");
    }
    let ratio = cpu_script.as_secs_f64() / cpu_policy.as_secs_f64().max(1e-9);
    println!(
        "HTTP check: script / policy CPU: {ratio:.0}x (policy compiled once in {:.0} ms)",
        load_time.as_secs_f64() * 1000.0
    );
    if ratio < 100.0 {
        println!("below the 100x target");
        return std::process::ExitCode::from(3);
    }
    std::process::ExitCode::SUCCESS
}

/// CPU per check of builtin:process-alive vs the seed's `ps -C` script, for a
/// running process named `sleep`.
fn process_rows(
    engine: &PolicyEngine,
    evals: u32,
    scripts: u32,
    dir: &std::path::Path,
) -> Option<(Duration, Duration)> {
    let policy = engine
        .load("alive", baton_policy_builtins::builtin("process-alive")?, None)
        .ok()?;
    let ctx = EvalContext::new(Facts::default()).with_settings([("name", "sleep")]);
    for _ in 0..20 {
        if !policy.evaluate(ctx.clone()).is_healthy() {
            eprintln!("policy-bench: process-alive does not see `sleep`");
            return None;
        }
    }
    let c0 = cpu(UsageWho::RUSAGE_THREAD);
    for _ in 0..evals {
        let _ = policy.evaluate(ctx.clone());
    }
    let per_policy = (cpu(UsageWho::RUSAGE_THREAD) - c0) / evals;
    let script = dir.join("check_proc.sh");
    let body = "#!/bin/sh\nn=$(ps -C sleep --no-header | wc -l)\n[ \"$n\" -gt 0 ] || exit 1\n";
    std::fs::write(&script, body).ok()?;
    Command::new("chmod").arg("+x").arg(&script).status().ok()?;
    let p0 = cpu(UsageWho::RUSAGE_THREAD);
    let k0 = cpu(UsageWho::RUSAGE_CHILDREN);
    for _ in 0..scripts {
        if !Command::new(&script)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
        {
            eprintln!("policy-bench: the ps script does not see `sleep`");
            return None;
        }
    }
    let per_script = ((cpu(UsageWho::RUSAGE_THREAD) - p0) + (cpu(UsageWho::RUSAGE_CHILDREN) - k0)) / scripts;
    Some((per_policy, per_script))
}
