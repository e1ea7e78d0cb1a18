//! Loading: sha256 pins, one compilation per content digest, type checks against the
//! `health` world, and the cost of compiling and evaluating.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_policy::{EngineOptions, EvalContext, PolicyEngine, PolicyError, parse_sha256};
use common::{engine, facts, median};
use sha2::{Digest, Sha256};

fn bytes(name: &str) -> &'static [u8] {
    baton_policy_builtins::builtin(name).unwrap()
}

#[test]
fn sha256_pin_is_enforced() {
    let b = bytes("tcp-port");
    let good: [u8; 32] = Sha256::digest(b).into();
    let p = engine().load("tcp-port", b, Some(good)).unwrap();
    assert_eq!(p.sha256(), good);
    let hex = p.sha256_hex();
    assert_eq!(parse_sha256(&hex).unwrap(), good);
    let mut bad = good;
    bad[0] ^= 1;
    match engine().load("tcp-port", b, Some(bad)) {
        Err(PolicyError::DigestMismatch { expected, actual, .. }) => {
            assert_eq!(actual, hex);
            assert_ne!(expected, hex);
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
    assert!(parse_sha256("abc").is_err());
}

#[test]
fn same_bytes_compile_once() {
    // A fresh engine without disk cache, so the first load is a real compilation.
    let e = PolicyEngine::with_options(EngineOptions {
        disk_cache: false,
        ..Default::default()
    })
    .unwrap();
    let b = bytes("http-status");
    let t0 = Instant::now();
    let a = e.load("web-a", b, None).unwrap();
    let first = t0.elapsed();
    let t1 = Instant::now();
    let b2 = e.load("web-b", b, None).unwrap();
    let second = t1.elapsed();
    assert_eq!(e.compilations(), 1);
    assert!(a.shares_code_with(&b2));
    assert_eq!(a.name(), "web-a");
    assert_eq!(b2.name(), "web-b");
    assert!(second * 10 < first, "second load {second:?} vs first {first:?}");
    println!(
        "load http-status ({} bytes): compile {first:?}, same digest again {second:?}",
        b.len()
    );
    // Another policy is another compilation.
    let c = e.load("tcp", bytes("tcp-port"), None).unwrap();
    assert!(!c.shares_code_with(&a));
    assert_eq!(e.compilations(), 2);
    // Once every user is gone, the code is released; loading again compiles again.
    drop((a, b2));
    let _again = e.load("web-c", b, None).unwrap();
    assert_eq!(e.compilations(), 3);
}

#[test]
fn disk_cache_serves_a_second_engine() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = EngineOptions {
        cache_dir: Some(dir.clone()),
        ..Default::default()
    };
    let b = bytes("file");
    let e1 = PolicyEngine::with_options(opts.clone()).unwrap();
    assert_eq!(e1.cache_dir(), Some(dir.as_path()));
    let t0 = Instant::now();
    e1.load("file", b, None).unwrap();
    let cold = t0.elapsed();
    drop(e1);
    let e2 = PolicyEngine::with_options(opts).unwrap();
    let t0 = Instant::now();
    e2.load("file", b, None).unwrap();
    let warm = t0.elapsed();
    println!("load file: cold {cold:?}, from the disk cache {warm:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unwritable_cache_dir_falls_back() {
    let e = PolicyEngine::with_options(EngineOptions {
        cache_dir: Some("/proc/baton-no-such-dir".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(e.cache_dir(), None);
    assert!(e.load("interface-up", bytes("interface-up"), None).is_ok());
}

#[test]
fn not_a_component_or_wrong_world_is_refused() {
    match engine().load("junk", b"\0asm junk", None) {
        Err(PolicyError::Compile { .. }) => {}
        other => panic!("{other:?}"),
    }
    // A core module is not a component.
    let core = wat::parse_str("(module)").unwrap();
    assert!(matches!(
        engine().load("core", &core, None),
        Err(PolicyError::Compile { .. })
    ));
    // A component without `check`.
    let empty = wat::parse_str("(component)").unwrap();
    match engine().load("empty", &empty, None) {
        Err(PolicyError::Incompatible { world, reason, .. }) => {
            assert_eq!(world, "health");
            assert!(reason.contains("`check` (it exports nothing)"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // `check` with the wrong signature.
    let wrong = wat::parse_str(
        r#"(component
            (core module $m (func (export "f") (result i32) i32.const 1))
            (core instance $i (instantiate $m))
            (func (export "check") (result u32) (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    match engine().load("wrong", &wrong, None) {
        Err(PolicyError::Incompatible { reason, .. }) => assert!(reason.contains("wrong type"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Importing sockets (not linked: the network is only reachable through probes).
    // Each exports a `check`, since a missing export is reported first.
    let sockets = wat::parse_str(
        r#"(component
            (import "wasi:sockets/tcp-create-socket@0.2.0" (instance
                (export "create-tcp-socket" (func (param "a" u8) (result u32)))))
            (core module $m (func (export "f") (result i32) i32.const 1))
            (core instance $i (instantiate $m))
            (func (export "check") (result u32) (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    match engine().load("sockets", &sockets, None) {
        Err(PolicyError::Incompatible { reason, .. }) => assert!(reason.contains("wasi:sockets"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Nor the filesystem (files only through `system.read-file` and allow-files).
    let fs = wat::parse_str(
        r#"(component
            (import "wasi:filesystem/preopens@0.2.0" (instance
                (export "get-directories" (func (result u32)))))
            (core module $m (func (export "f") (result i32) i32.const 1))
            (core instance $i (instantiate $m))
            (func (export "check") (result u32) (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    match engine().load("fs", &fs, None) {
        Err(PolicyError::Incompatible { reason, .. }) => {
            assert!(reason.contains("wasi:filesystem"), "{reason}");
            println!("refused: {reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_builtin_and_hostile_loads() {
    for name in baton_policy_builtins::NAMES {
        if baton_policy_builtins::is_split_brain(name) {
            engine().load_split_brain(name, bytes(name), None).unwrap();
        } else {
            engine().load(name, bytes(name), None).unwrap();
        }
    }
    for name in baton_policy_builtins::HOSTILE_NAMES {
        engine()
            .load(name, baton_policy_builtins::hostile(name).unwrap(), None)
            .unwrap();
    }
}

/// A warm evaluation (fresh store, instantiate, call) of a trivial policy costs
/// microseconds.
#[test]
fn warm_evaluation_cost() {
    let p = engine()
        .load("interface-up", bytes("interface-up"), None)
        .unwrap();
    let ctx = EvalContext::new(facts())
        .with_settings([("interface", "lo")])
        .with_budget(Duration::from_secs(1));
    for _ in 0..50 {
        assert!(p.evaluate(ctx.clone()).is_healthy());
    }
    let mut wall = Vec::new();
    let mut inner = Vec::new();
    let mut fuel = 0;
    for _ in 0..1000 {
        let t0 = Instant::now();
        let ev = p.evaluate(ctx.clone());
        wall.push(t0.elapsed());
        inner.push(ev.elapsed);
        fuel = ev.fuel_consumed;
    }
    let (wall, inner) = (median(wall), median(inner));
    println!("interface-up (lo) warm evaluation: median {wall:?} (in evaluate {inner:?}), fuel {fuel}");
    assert!(wall < Duration::from_millis(1), "{wall:?}");
    // Without any host call: the policy fails at once on a missing setting.
    let trivial = EvalContext::new(facts()).with_budget(Duration::from_secs(1));
    let mut v = Vec::new();
    for _ in 0..1000 {
        let t0 = Instant::now();
        let ev = p.evaluate(trivial.clone());
        v.push(t0.elapsed());
        assert!(!ev.is_healthy());
    }
    println!(
        "interface-up (no setting, no host call) warm evaluation: median {:?}",
        median(v)
    );
    let _ = Arc::clone(&p);
}
