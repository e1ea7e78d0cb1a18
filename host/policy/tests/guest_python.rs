//! The Python reference policies (policies/python/, built with componentize-py
//! and the SDK guest-sdk/python) in the real host, beside the Rust builtins
//! they port: for the same situation (an HTTP server on 127.0.0.1, a refused
//! port, a process that runs or not, bad settings, a denied target) both give
//! the same verdict, the same reason and the same log. Also what an exception,
//! print(), a loop, a memory bomb or a time.sleep in a Python policy become, and which WASI
//! interfaces a componentize-py component imports.
//!
//! The components are built by scripts/guest-build-python with the
//! componentize-py that scripts/setup pins into .tools/python. Without that
//! toolchain these tests say so loudly and pass; under CI (CI=true) it must
//! be there.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use baton_policy::{EvalContext, EvalError, Evaluation, Grants, Health, LoadedPolicy, LogLevel};
use common::{HttpServer, builtin, closed_port, engine, facts, own_comm, service_starter, sh_remedy};

/// The Python policies these tests build: the reference ports and a test policy.
const POLICIES: &[&str] = &["http-status", "process-alive", "tcp-port", "hostile/misbehave"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// This test's target directory: the build script is told to use it.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn component_path(name: &str) -> PathBuf {
    target_dir()
        .join("guest-policies/python")
        .join(format!("{name}.wasm"))
}

/// Whether the pinned toolchain is installed; under CI its absence is a failure.
fn toolchain() -> bool {
    let tool = root().join(".tools/python/bin/componentize-py");
    if tool.exists() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but componentize-py is not installed at {}: scripts/setup installs it",
        tool.display()
    );
    eprintln!(
        "\n*** SKIPPED: the Python policy tests need componentize-py in {} (run scripts/setup) ***\n",
        tool.display()
    );
    false
}

/// Builds the Python policies once per test binary (the script skips the
/// up-to-date ones); `false` when the toolchain is missing.
fn built() -> bool {
    static BUILT: OnceLock<bool> = OnceLock::new();
    *BUILT.get_or_init(|| {
        if !toolchain() {
            return false;
        }
        let started = Instant::now();
        let status = Command::new(root().join("scripts/guest-build-python"))
            .args(POLICIES)
            .env("CARGO_TARGET_DIR", target_dir())
            .status()
            .expect("run scripts/guest-build-python");
        assert!(status.success(), "scripts/guest-build-python failed: {status}");
        eprintln!("python policies built (or up to date) in {:?}", started.elapsed());
        true
    })
}

/// The Python policy `name`, loaded once per test binary; `None` without the toolchain.
fn python(name: &str) -> Option<Arc<LoadedPolicy>> {
    static LOADED: OnceLock<Mutex<HashMap<String, Arc<LoadedPolicy>>>> = OnceLock::new();
    if !built() {
        return None;
    }
    // A failed load panics one test; the others still get the lock and say why.
    let mut loaded = LOADED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(p) = loaded.get(name) {
        return Some(p.clone());
    }
    let path = component_path(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let started = Instant::now();
    let p = engine().load(name, &bytes, None).unwrap_or_else(|e| {
        panic!(
            "loading the Python policy {name} failed: {e}\n(a componentize-py component imports \
             wasi:filesystem, wasi:sockets and more: the host must link them)"
        )
    });
    eprintln!(
        "python {name}: {} bytes, loaded (compiled or from the cache) in {:?}",
        bytes.len(),
        started.elapsed()
    );
    loaded.insert(name.to_string(), p.clone());
    Some(p)
}

fn ctx(settings: &[(&str, &str)], grants: &Grants) -> EvalContext {
    EvalContext::new(facts())
        .with_settings(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .with_grants(grants.clone())
        .with_budget(Duration::from_secs(2))
}

/// What must be the same in both languages: health, reason, weight.
fn verdict(ev: &Evaluation) -> (bool, Option<String>, Option<i32>) {
    let weight = ev.outcome.as_ref().ok().and_then(|v| v.weight);
    (ev.is_healthy(), ev.failure_reason(), weight)
}

/// Evaluates the Rust builtin and the Python port with the same context;
/// asserts the same verdict; returns both.
fn both(rust: &LoadedPolicy, py: &LoadedPolicy, c: EvalContext) -> (Evaluation, Evaluation) {
    let r = rust.evaluate(c.clone());
    let p = py.evaluate(c.clone());
    assert_eq!(
        verdict(&r),
        verdict(&p),
        "settings {:?}:\n  rust   {r:?}\n  python {p:?}",
        c.settings
    );
    (r, p)
}

/// Settings, and the reason the Rust builtin must give (`None`: whatever it
/// is, the Python port must give the same).
type Case<'a> = (Vec<(&'a str, &'a str)>, Option<String>);

fn reason(ev: &Evaluation) -> String {
    ev.failure_reason().unwrap_or_default()
}

#[test]
fn http_status_as_the_rust_builtin() {
    let Some(py) = python("http-status") else { return };
    let rust = builtin("http-status");
    let server = HttpServer::start();
    // Accepts (the kernel's backlog) and never answers: a timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let closed = closed_port();
    let grants = Grants::default().allow_net("127.0.0.1:*").unwrap();
    let ok = format!("http://127.0.0.1:{}/ok", server.port);
    let bad = format!("http://127.0.0.1:{}/bad", server.port);
    let refused = format!("http://127.0.0.1:{closed}/");
    let mute = format!("http://127.0.0.1:{silent_port}/");

    let cases: Vec<Case> = vec![
        (vec![("url", &ok)], None),
        (vec![("url", &ok), ("body-contains", "good")], None),
        (
            vec![("url", &ok), ("body-contains", "say \"bad\"")],
            Some(format!("GET {ok}: body does not contain \"say \\\"bad\\\"\"")),
        ),
        (
            vec![("url", &bad)],
            Some(format!("GET {bad}: status 503 (expected 200)")),
        ),
        (vec![("url", &bad), ("expect", "503")], None),
        (
            vec![("url", &ok), ("expect", " +204 ")],
            Some(format!("GET {ok}: status 200 (expected 204)")),
        ),
        (vec![("url", &ok), ("max-body", "4k")], None),
        (vec![("expect", "200")], Some("missing setting `url`".into())),
        (
            vec![("url", &ok), ("expect", "x1")],
            Some("setting `expect` = \"x1\": expected u16: invalid digit found in string".into()),
        ),
        (
            vec![("url", &ok), ("expect", "70000")],
            Some("setting `expect` = \"70000\": expected u16: number too large to fit in target type".into()),
        ),
        (
            vec![("url", &ok), ("expect", "")],
            Some("setting `expect` = \"\": expected u16: cannot parse integer from empty string".into()),
        ),
        (vec![("url", &ok), ("timeout-ms", "-5")], None),
        (vec![("url", &ok), ("timeout-ms", "1.5")], None),
        (
            vec![("url", &ok), ("body-contains", "x"), ("max-body", "4k")],
            None,
        ),
        (vec![("url", &ok), ("expect", "\u{1f}\t\"é\u{301}\u{a0}")], None),
        (vec![("url", &refused)], Some(format!("GET {refused}: refused"))),
        (
            vec![("url", &mute), ("timeout-ms", "100")],
            Some(format!("GET {mute}: timed out")),
        ),
        (vec![("url", "https://127.0.0.1/")], None),
        (vec![("url", "http://web.example/health")], None),
    ];
    for (settings, want) in &cases {
        let (r, p) = both(&rust, &py, ctx(settings, &grants));
        if let Some(want) = want {
            assert_eq!(&reason(&r), want, "{settings:?}");
        }
        assert_eq!(r.logs, p.logs, "{settings:?}");
    }
    // Outside the grants: denied, so failed whatever the policy answers.
    let (r, _) = both(&rust, &py, ctx(&[("url", &ok)], &Grants::default()));
    assert!(matches!(r.outcome, Err(EvalError::CapabilityDenied(_))), "{r:?}");
    let (r, _) = both(&rust, &py, ctx(&[("url", "http://web.example/health")], &grants));
    assert_eq!(
        reason(&r),
        "capability denied: http-get http://web.example/health: web.example: only literal IP \
         addresses and localhost are allowed (no DNS)"
    );
    drop(server);
    let (r, p) = both(&rust, &py, ctx(&[("url", &ok)], &grants));
    assert_eq!(reason(&r), format!("GET {ok}: refused"));
    println!(
        "http-status, refused: rust {:?} (fuel {}), python {:?} (fuel {})",
        r.elapsed, r.fuel_consumed, p.elapsed, p.fuel_consumed
    );
}

#[test]
fn tcp_port_as_the_rust_builtin() {
    let Some(py) = python("tcp-port") else { return };
    let rust = builtin("tcp-port");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port().to_string();
    let closed = closed_port().to_string();
    let padded = format!(" +{open} ");
    let grants = Grants::default()
        .allow_net("127.0.0.1:*")
        .unwrap()
        .allow_net("[::1]:*")
        .unwrap();
    let cases: Vec<Case> = vec![
        (vec![("port", &open)], None),
        (vec![("host", "localhost"), ("port", &open)], None),
        (vec![("port", &padded), ("timeout-ms", "500")], None),
        (
            vec![("port", &closed)],
            Some(format!("tcp 127.0.0.1:{closed}: refused")),
        ),
        (vec![("host", "::1"), ("port", &closed)], None),
        (vec![("host", "127.0.0.1")], Some("missing setting `port`".into())),
        (
            vec![("port", "http")],
            Some("setting `port` = \"http\": expected u16: invalid digit found in string".into()),
        ),
        (
            vec![("port", "65536")],
            Some("setting `port` = \"65536\": expected u16: number too large to fit in target type".into()),
        ),
        (vec![("port", " ")], None),
        (vec![("port", &open), ("timeout-ms", "-1")], None),
        (vec![("port", &open), ("timeout-ms", "4294967296")], None),
        // Denied: not in the grants; a host name (no DNS).
        (vec![("host", "127.0.0.2"), ("port", &open)], None),
        (
            vec![("host", "db.example"), ("port", "5432")],
            Some(
                "capability denied: tcp-connect db.example:5432: db.example: only literal IP addresses \
                 and localhost are allowed (no DNS)"
                    .into(),
            ),
        ),
    ];
    for (settings, want) in &cases {
        let (r, p) = both(&rust, &py, ctx(settings, &grants));
        if let Some(want) = want {
            assert_eq!(&reason(&r), want, "{settings:?}");
        }
        assert_eq!(r.logs, p.logs, "{settings:?}");
    }
    let (r, p) = both(&rust, &py, ctx(&[("port", &open)], &grants));
    assert!(r.is_healthy());
    println!(
        "tcp-port, open: rust {:?} (fuel {}), python {:?} (fuel {})",
        r.elapsed, r.fuel_consumed, p.elapsed, p.fuel_consumed
    );
}

/// Whether a live (not zombie) process named `comm` exists.
fn process_exists(comm: &str) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.filter_map(Result::ok).any(|e| {
        let p = e.path();
        let name = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'));
        name.trim_end() == comm && !zombie
    })
}

#[test]
fn process_alive_as_the_rust_builtin() {
    let Some(py) = python("process-alive") else { return };
    let rust = builtin("process-alive");
    let comm = own_comm();
    let none = Grants::default();
    let cases: Vec<Case> = vec![
        (vec![("name", &comm)], None),
        (
            vec![("name", &comm), ("min", "1000")],
            Some(format!("{comm} not running")),
        ),
        (
            vec![("name", "baton-nosuchp")],
            Some("baton-nosuchp not running".into()),
        ),
        (vec![("min", "1")], Some("missing setting `name`".into())),
        (
            vec![("name", &comm), ("min", "many")],
            Some("setting `min` = \"many\": expected u32: invalid digit found in string".into()),
        ),
        (vec![("name", &comm), ("min", "-1")], None),
        // Not running, the remedy not in the grants: denied.
        (vec![("name", "baton-nosuchp"), ("remedy", "nope")], None),
    ];
    for (settings, want) in &cases {
        let (r, p) = both(&rust, &py, ctx(settings, &none));
        if let Some(want) = want {
            assert_eq!(&reason(&r), want, "{settings:?}");
        }
        assert_eq!(r.logs, p.logs, "{settings:?}");
    }

    // The remedy runs once per failure episode, in both, with the same reasons and logs.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("py-remedy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("runs");
    let script = format!("echo ran >> {}; exit 3", marker.display());
    let grants = sh_remedy("restart-web", script);
    let settings = [
        ("name", "baton-deadweb"),
        ("remedy", "restart-web"),
        ("settle-ms", "60"),
        ("settle-step-ms", "20"),
    ];
    for (policy, runs) in [(&rust, 1), (&py, 2)] {
        let mut c = ctx(&settings, &grants);
        c.facts.last_healthy = Some(true);
        let ev = policy.evaluate(c);
        assert_eq!(
            reason(&ev),
            "baton-deadweb not running after restart-web",
            "{ev:?}"
        );
        assert_eq!(
            ev.logs,
            [
                (
                    LogLevel::Warn,
                    "baton-deadweb not running: running remedy \"restart-web\"".to_string()
                ),
                (LogLevel::Warn, "remedy \"restart-web\" exited with 3".to_string()),
            ]
        );
        let mut c = ctx(&settings, &grants);
        c.facts.last_healthy = Some(false);
        let ev = policy.evaluate(c);
        assert_eq!(
            reason(&ev),
            "baton-deadweb not running (remedy \"restart-web\" already tried)"
        );
        assert_eq!(std::fs::read_to_string(&marker).unwrap().lines().count(), runs);
    }
    // A settle-ms that does not parse fails after the remedy, as in Rust.
    let bad_settle = [
        ("name", "baton-deadweb"),
        ("remedy", "restart-web"),
        ("settle-ms", "1s"),
    ];
    both(&rust, &py, ctx(&bad_settle, &grants));

    // A remedy that brings the process back: a copy of `sleep` named like the service.
    let (grants, pidfile) = service_starter(&dir, "start-webd", "baton-webd");
    let settings = [
        ("name", "baton-webd"),
        ("remedy", "start-webd"),
        ("settle-ms", "1000"),
        ("settle-step-ms", "20"),
    ];
    let mut evs = Vec::new();
    for policy in [&rust, &py] {
        let ev = policy.evaluate(ctx(&settings, &grants));
        let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
        let _ = Command::new("kill").arg(pid.to_string()).status();
        let gone = Instant::now();
        while process_exists("baton-webd") && gone.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(ev.is_healthy(), "{ev:?}");
        evs.push(ev);
    }
    assert_eq!(evs[0].logs, evs[1].logs);
    assert!(
        evs[1].logs.iter().any(|(_, m)| m.contains("running again")),
        "{:?}",
        evs[1].logs
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn misbehave(mode: &str, budget: Duration) -> Option<Evaluation> {
    let p = python("hostile/misbehave")?;
    let c = EvalContext::new(facts())
        .with_settings([("mode", mode)])
        .with_budget(budget);
    Some(p.evaluate(c))
}

#[test]
fn a_python_exception_fails_the_check_with_its_message() {
    let Some(ev) = misbehave("raise", Duration::from_secs(2)) else {
        return;
    };
    assert_eq!(reason(&ev), "ValueError: bad value in VI_1", "{ev:?}");
    // Its traceback is in the log (stderr, at warn).
    assert!(
        ev.logs.iter().any(|(level, m)| *level == LogLevel::Warn
            && m.starts_with("stderr: Traceback")
            && m.contains("ValueError: bad value in VI_1")),
        "{:?}",
        ev.logs
    );
    let ev = misbehave("error", Duration::from_secs(2)).unwrap();
    assert_eq!(reason(&ev), "the policy's own reason", "{ev:?}");
    assert!(ev.logs.is_empty(), "{:?}", ev.logs);
    let ev = misbehave("none", Duration::from_secs(2)).unwrap();
    assert!(
        reason(&ev).starts_with("check returned NoneType, not a Verdict"),
        "{ev:?}"
    );
    let ev = misbehave("recursion", Duration::from_secs(5)).unwrap();
    assert!(reason(&ev).starts_with("RecursionError: "), "{ev:?}");
    let ev = misbehave("weight", Duration::from_secs(2)).unwrap();
    let v = ev.outcome.as_ref().unwrap();
    assert_eq!(v.health, Health::Failed("degraded".into()));
    assert_eq!(v.weight, Some(-30));
}

#[test]
fn print_reaches_the_evaluations_log() {
    let Some(ev) = misbehave("print", Duration::from_secs(2)) else {
        return;
    };
    assert!(ev.is_healthy(), "{ev:?}");
    assert_eq!(
        ev.logs,
        [
            (LogLevel::Info, "through the log interface".to_string()),
            (LogLevel::Info, "stdout: to stdout lb01".to_string()),
            (LogLevel::Warn, "stderr: to stderr".to_string()),
        ]
    );
}

#[test]
fn a_python_loop_or_memory_bomb_is_contained() {
    let budget = Duration::from_millis(300);
    let Some(ev) = misbehave("loop", budget) else {
        return;
    };
    assert_eq!(ev.outcome, Err(EvalError::DeadlineExceeded(budget)), "{ev:?}");
    assert!(
        ev.elapsed < budget + Duration::from_millis(100),
        "{:?}",
        ev.elapsed
    );
    let ev = misbehave("memory", Duration::from_secs(10)).unwrap();
    assert!(matches!(ev.outcome, Err(EvalError::MemoryLimit(_))), "{ev:?}");
    println!("memory bomb: {:?} after {:?}", ev.outcome, ev.elapsed);
}

/// `time.sleep` is a WASI wait (a monotonic-clock timer polled in the
/// host): the host ends it at the deadline, and the evaluation with it; a
/// short one is a plain sleep, on the same loaded policy.
#[test]
fn a_python_time_sleep_ends_at_the_deadline() {
    let Some(p) = python("hostile/misbehave") else {
        return;
    };
    let budget = Duration::from_millis(300);
    let sleep = |seconds: &str, budget: Duration| {
        let c = EvalContext::new(facts())
            .with_settings([("mode", "sleep"), ("seconds", seconds)])
            .with_budget(budget);
        let t0 = Instant::now();
        let ev = p.evaluate(c);
        (ev, t0.elapsed())
    };
    let (ev, took) = sleep("3", budget);
    assert_eq!(ev.outcome, Err(EvalError::DeadlineExceeded(budget)), "{ev:?}");
    assert!(took < budget + Duration::from_millis(100), "{took:?}");
    println!("time.sleep(3) under {budget:?}: deadline exceeded after {took:?}");
    let (ev, took) = sleep("0.02", Duration::from_secs(2));
    assert!(ev.is_healthy(), "{ev:?}");
    assert!(took >= Duration::from_millis(20), "{took:?}");
}

/// A component's top-level imports (component-model binary: the import
/// section, id 10, of the outer component), in order.
fn component_imports(bytes: &[u8]) -> Vec<String> {
    fn leb(b: &[u8], i: &mut usize) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let byte = b[*i];
            *i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    }
    assert_eq!(&bytes[..8], b"\0asm\x0d\x00\x01\x00", "not a component");
    let mut out = Vec::new();
    let mut i = 8;
    while i < bytes.len() {
        let id = bytes[i];
        i += 1;
        let size = leb(bytes, &mut i) as usize;
        let end = i + size;
        if id == 10 {
            let mut j = i;
            for _ in 0..leb(bytes, &mut j) {
                // importname': 0x00 len name
                assert_eq!(bytes[j], 0x00, "unknown import name form");
                j += 1;
                let len = leb(bytes, &mut j) as usize;
                out.push(String::from_utf8_lossy(&bytes[j..j + len]).into_owned());
                j += len;
                // externdesc: a sort, then an index (for a core module after
                // 0x11; for a value or type bound after its tag; none for
                // `(sub resource)`).
                match (bytes[j], bytes[j + 1]) {
                    (0x03, 0x01) => j += 2,
                    (0x00 | 0x02 | 0x03, _) => {
                        j += 2;
                        leb(bytes, &mut j);
                    }
                    _ => {
                        j += 1;
                        leb(bytes, &mut j);
                    }
                }
            }
        }
        i = end;
    }
    out
}

/// The version of `package baton:policy@X;` in wit/policy.wit (what the components are built against).
fn wit_version() -> String {
    let wit = std::fs::read_to_string(root().join("wit/policy.wit")).unwrap();
    let line = wit
        .lines()
        .find_map(|l| l.trim().strip_prefix("package baton:policy@"))
        .expect("package line");
    line.trim_end_matches(';').to_string()
}

#[test]
fn python_components_import_wasi_0_2_and_the_baton_interfaces() {
    if !built() {
        return;
    }
    let mut all: Vec<String> = Vec::new();
    for name in POLICIES {
        let bytes = std::fs::read(component_path(name)).unwrap();
        let imports = component_imports(&bytes);
        println!("{name} ({} bytes) imports:", bytes.len());
        for i in &imports {
            println!("  {i}");
            // Interfaces: WASI 0.2 and Baton's; plain names are the world's
            // own types (`settings`, `facts`, `health`, `verdict`).
            let wasi_0_2 = i.starts_with("wasi:") && i.contains("@0.2.");
            assert!(
                wasi_0_2 || i.starts_with("baton:policy/") || !i.contains(':'),
                "{name} imports {i}"
            );
            if !all.contains(i) {
                all.push(i.clone());
            }
        }
        for iface in ["types", "log", "clock", "probe", "system", "vrrp", "remedy"] {
            let want = format!("baton:policy/{iface}@{}", wit_version());
            assert!(imports.contains(&want), "{name} lacks {want}");
        }
    }
    all.sort();
    println!("every Python policy together imports:\n  {}", all.join("\n  "));
}

#[test]
fn python_sdk_unit_tests() {
    if !toolchain() {
        return;
    }
    let out = Command::new(root().join(".tools/python/bin/python"))
        .args(["-B", "-m", "unittest", "discover", "-s", "guest-sdk/python/tests"])
        .current_dir(root())
        .output()
        .expect("run the SDK's unit tests");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "guest-sdk/python unit tests failed:\n{text}"
    );
    println!("{}", text.lines().last().unwrap_or_default());
}
