//! The same health check, http-status, written in Rust, Python and
//! JavaScript, in the real host: component size, compile time cold (empty
//! compile cache) and cached (from the cache, as a daemon restart loads it),
//! the process memory one loaded policy adds, the linear memory an
//! evaluation uses, and CPU and wall time per evaluation, back to back and
//! paced one every 20 ms (as a daemon with a 20 ms interval runs it).
//!
//! Each load is measured in a child process of its own (`--child`), so the
//! memory it adds is not hidden by what an earlier load left behind, and a
//! cold compile is really cold. The GET goes to a server on 127.0.0.1 in this
//! process, on its own thread; its CPU is not counted (CPU is the evaluating
//! thread's).
//!
//! Usage: `lang-bench [--evals N] [--rounds R] [--python FILE] [--js FILE]`
//! (scripts/bench-langs builds the two guest components and passes them).
//! N evaluations back to back per round (default 500), 50 paced ones per
//! round, R rounds (default 5): each figure is the median over the rounds.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_e2e::arg;
use baton_e2e::bench::{rss_bytes, serve_ok};
use baton_policy::{EngineOptions, EvalContext, Facts, Grants, LoadedPolicy, PolicyEngine};

const PACED: u32 = 50;
const PACE: Duration = Duration::from_millis(20);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = if args.get(1).map(String::as_str) == Some("--child") {
        child(&args[2..]).map(|line| println!("{line}"))
    } else {
        parent(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lang-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    serve_ok(listener);
    Ok(addr.to_string())
}

fn engine(cache: &Path) -> Result<PolicyEngine, String> {
    PolicyEngine::with_options(EngineOptions {
        cache_dir: Some(cache.to_path_buf()),
        ..EngineOptions::default()
    })
    .map_err(|e| format!("engine: {e}"))
}

/// One evaluation that must be healthy; (CPU, wall, linear memory).
fn eval(p: &LoadedPolicy, ctx: &EvalContext) -> Result<(Duration, Duration, usize), String> {
    let ev = p.evaluate(ctx.clone());
    if !ev.is_healthy() {
        return Err(format!("{}: {:?}", p.name(), ev.failure_reason()));
    }
    Ok((ev.cpu, ev.elapsed, ev.memory))
}

/// `--child COMPONENT CACHE_DIR ROUNDS EVALS`: loads the component (timing the
/// load, whatever the cache holds), then evaluates it; prints one line of
/// `key=value` pairs.
fn child(args: &[String]) -> Result<String, String> {
    let [path, cache, rounds, evals] = args else {
        return Err("--child COMPONENT CACHE_DIR ROUNDS EVALS".into());
    };
    let rounds: u32 = rounds.parse().map_err(|_| "rounds")?;
    let evals: u32 = evals.parse().map_err(|_| "evals")?;
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let addr = serve()?;
    let engine = engine(Path::new(cache))?;
    let rss0 = rss_bytes("self");
    let t = Instant::now();
    let policy: Arc<LoadedPolicy> = engine
        .load("http-status", &bytes, None)
        .map_err(|e| format!("load {path}: {e}"))?;
    let load = t.elapsed();
    let rss_loaded = rss_bytes("self");
    let ctx = EvalContext::new(Facts::default())
        .with_settings([("url", format!("http://{addr}/")), ("expect", "200".into())])
        .with_grants(Grants::default().allow_net(&addr).map_err(|e| e.to_string())?)
        .with_budget(Duration::from_secs(1));
    let (_, first_wall, _) = eval(&policy, &ctx)?;
    for _ in 0..20 {
        eval(&policy, &ctx)?;
    }
    let (mut cpu, mut wall, mut pcpu, mut pwall) = (vec![], vec![], vec![], vec![]);
    let mut memory = 0;
    for _ in 0..rounds {
        let (mut c, mut w) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..evals {
            let (ec, ew, m) = eval(&policy, &ctx)?;
            c += ec;
            w += ew;
            memory = memory.max(m);
        }
        cpu.push(c / evals);
        wall.push(w / evals);
        let (mut c, mut w) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..PACED {
            std::thread::sleep(PACE);
            let (ec, ew, _) = eval(&policy, &ctx)?;
            c += ec;
            w += ew;
        }
        pcpu.push(c / PACED);
        pwall.push(w / PACED);
    }
    let rss_after = rss_bytes("self");
    Ok(format!(
        "load_us={} first_wall_us={} rss_loaded={} rss_after={} memory={} cpu_us={:.1} wall_us={:.1} paced_cpu_us={:.1} paced_wall_us={:.1}",
        load.as_micros(),
        first_wall.as_micros(),
        rss_loaded.saturating_sub(rss0),
        rss_after.saturating_sub(rss0),
        memory,
        median_us(&cpu),
        median_us(&wall),
        median_us(&pcpu),
        median_us(&pwall),
    ))
}

fn median_us(v: &[Duration]) -> f64 {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

/// The child's `key=value` line as a lookup.
fn field(line: &str, key: &str) -> Result<f64, String> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no {key} in {line:?}"))
}

fn run_child(component: &Path, cache: &Path, rounds: u32, evals: u32) -> Result<String, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(me)
        .arg("--child")
        .arg(component)
        .arg(cache)
        .args([rounds.to_string(), evals.to_string()])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            component.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
}

fn parent(args: &[String]) -> Result<(), String> {
    let evals: u32 = arg(args, "--evals").unwrap_or(500).max(1);
    let rounds: u32 = arg(args, "--rounds").unwrap_or(5).max(1);
    let work = std::env::temp_dir().join(format!("baton-lang-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let rust = work.join("http-status.wasm");
    let bytes = baton_policy_builtins::builtin("http-status").ok_or("builtin:http-status missing")?;
    std::fs::write(&rust, bytes).map_err(|e| e.to_string())?;
    let mut langs: Vec<(&str, PathBuf)> = vec![("Rust", rust)];
    for (lang, flag) in [("Python", "--python"), ("JavaScript", "--js")] {
        match arg::<PathBuf>(args, flag) {
            Some(p) => langs.push((lang, p)),
            None => eprintln!("lang-bench: no {flag} FILE: {lang} left out"),
        }
    }
    println!(
        "http-status in the real host: {rounds} rounds of {evals} evaluations back to back and {PACED} paced (one every 20 ms); medians over rounds\n"
    );
    println!(
        "| language | component | compile, cold | load, cached | memory added by the loaded policy | linear memory per evaluation | CPU / evaluation | wall / evaluation | CPU / evaluation, every 20 ms | wall, every 20 ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let result = (|| -> Result<(), String> {
        for (lang, path) in &langs {
            let size = std::fs::metadata(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .len();
            let cache = work.join(format!("cache-{lang}"));
            let cold = run_child(path, &cache, 1, 10)?;
            let warm = run_child(path, &cache, rounds, evals)?;
            println!(
                "| {lang} | {:.1} MB | {:.2} s | {:.0} ms | {} | {} | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs |",
                size as f64 / 1e6,
                field(&cold, "load_us")? / 1e6,
                field(&warm, "load_us")? / 1e3,
                mib(field(&warm, "rss_after")?),
                mib(field(&warm, "memory")?),
                field(&warm, "cpu_us")?,
                field(&warm, "wall_us")?,
                field(&warm, "paced_cpu_us")?,
                field(&warm, "paced_wall_us")?,
            );
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}
