//! Hostile policies (policies/hostile/) are contained within their deadline and
//! limits, and every failure is a value with a reason.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use baton_policy::{EvalContext, EvalError, Grants};
use common::{facts, hostile};

fn ctx(settings: &[(&str, &str)], grants: Grants, budget: Duration) -> EvalContext {
    EvalContext::new(facts())
        .with_settings(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .with_grants(grants)
        .with_budget(budget)
}

#[test]
fn infinite_loop_stops_at_its_deadline() {
    let p = hostile("infinite-loop");
    for budget in [Duration::from_millis(20), Duration::from_millis(200)] {
        let ev = p.evaluate(ctx(&[], Grants::default(), budget));
        assert_eq!(ev.outcome, Err(EvalError::DeadlineExceeded(budget)), "{ev:?}");
        assert!(ev.elapsed >= budget, "{:?}", ev.elapsed);
        assert!(
            ev.elapsed < budget + Duration::from_millis(50),
            "{:?} for {budget:?}",
            ev.elapsed
        );
        assert!(ev.fuel_consumed > 0);
        println!(
            "infinite-loop, budget {budget:?}: stopped after {:?}, fuel {}",
            ev.elapsed, ev.fuel_consumed
        );
    }
}

#[test]
fn memory_bomb_is_stopped_by_the_limit() {
    let p = hostile("memory-bomb");
    let ev = p.evaluate(ctx(&[], Grants::default(), Duration::from_secs(5)));
    match &ev.outcome {
        Err(EvalError::MemoryLimit(why)) => assert!(why.contains("limit"), "{why}"),
        other => panic!("expected a memory limit failure, got {other:?}"),
    }
    println!("memory-bomb: {:?} after {:?}", ev.outcome, ev.elapsed);
}

#[test]
fn deep_recursion_traps() {
    let p = hostile("deep-recursion");
    let ev = p.evaluate(ctx(&[], Grants::default(), Duration::from_secs(5)));
    match &ev.outcome {
        Err(EvalError::Trap(why)) => assert!(why.contains("stack") || why.contains("out of bounds"), "{why}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    println!("deep-recursion: {:?} after {:?}", ev.outcome, ev.elapsed);
    // A bounded recursion is fine.
    let ev = p.evaluate(ctx(&[("depth", "10")], Grants::default(), Duration::from_secs(5)));
    assert!(ev.is_healthy(), "{ev:?}");
}

#[test]
fn panic_is_a_failed_check_with_its_message() {
    let p = hostile("panic");
    let ev = p.evaluate(ctx(&[], Grants::default(), Duration::from_secs(5)));
    match &ev.outcome {
        Err(EvalError::Trap(why)) => assert!(why.contains("panics on purpose"), "{why}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(!ev.is_healthy());
    println!("panic: {}", ev.failure_reason().unwrap());
    // The same compiled policy works again afterwards (fresh store per evaluation).
    let ev = p.evaluate(ctx(&[], Grants::default(), Duration::from_secs(5)));
    assert!(matches!(ev.outcome, Err(EvalError::Trap(_))));
}

#[test]
fn denied_capability_fails_without_any_connection() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    let other = if port == 65535 { port - 1 } else { port + 1 };
    let grants = Grants::default()
        .allow_net(&format!("127.0.0.1:{other}"))
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/");
    let p = hostile("denied-capability");
    let ev = p.evaluate(ctx(&[("url", &url)], grants.clone(), Duration::from_secs(1)));
    match &ev.outcome {
        Err(EvalError::CapabilityDenied(why)) => assert!(why.contains(&port.to_string()), "{why}"),
        other => panic!("expected a denial, got {other:?}"),
    }
    assert_eq!(ev.denials.len(), 1);
    assert!(l.accept().is_err(), "a connection reached the listener");
    // Its default target (outside every allowlist) is denied too, never dialled.
    let ev = p.evaluate(ctx(&[], grants, Duration::from_secs(1)));
    assert!(
        matches!(ev.outcome, Err(EvalError::CapabilityDenied(_))),
        "{ev:?}"
    );
}

#[test]
fn huge_log_is_capped() {
    let p = hostile("huge-log");
    let ev = p.evaluate(ctx(&[], Grants::default(), Duration::from_secs(5)));
    assert!(ev.is_healthy(), "{:?}", ev.outcome);
    assert!(
        ev.logs.len() <= baton_policy::caps::log::COUNT_CAP + 3,
        "{}",
        ev.logs.len()
    );
    assert!(
        ev.logs
            .iter()
            .all(|(_, m)| m.len() <= baton_policy::caps::log::MESSAGE_CAP + 16)
    );
    let total: usize = ev.logs.iter().map(|(_, m)| m.len()).sum();
    assert!(total <= baton_policy::caps::log::TOTAL_CAP + 8192, "{total}");
    assert!(
        ev.logs.last().unwrap().1.contains("dropped"),
        "{:?}",
        ev.logs.last()
    );
    println!(
        "huge-log: {} lines kept, {total} bytes, {:?}",
        ev.logs.len(),
        ev.elapsed
    );
}

/// A loopback listener whose accept queue is full: further connects hang (the
/// kernel drops their SYNs), like a blackholed peer, without leaving this machine.
fn blackhole() -> (socket2::Socket, Vec<TcpStream>, u16) {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into()).unwrap();
    s.listen(0).unwrap();
    let port = s.local_addr().unwrap().as_socket().unwrap().port();
    let mut fill = Vec::new();
    for _ in 0..4 {
        if let Ok(c) = TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_millis(100),
        ) {
            fill.push(c);
        }
    }
    (s, fill, port)
}

#[test]
fn slow_capability_is_capped_by_the_budget() {
    let (_listener, _fill, port) = blackhole();
    // Check the blackhole really hangs.
    let t0 = Instant::now();
    let hang = TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(100),
    );
    assert!(
        hang.is_err() && t0.elapsed() >= Duration::from_millis(90),
        "blackhole did not hang: {hang:?}"
    );

    let grants = Grants::default().allow_net(&format!("127.0.0.1:{port}")).unwrap();
    let p = hostile("slow-capability");
    let budget = Duration::from_millis(150);
    let port_s = port.to_string();
    let ev = p.evaluate(ctx(&[("host", "127.0.0.1"), ("port", &port_s)], grants, budget));
    assert!(!ev.is_healthy(), "{ev:?}");
    assert!(
        ev.elapsed < budget + Duration::from_millis(50),
        "{:?}",
        ev.elapsed
    );
    println!(
        "slow-capability: {:?} after {:?}",
        ev.failure_reason(),
        ev.elapsed
    );
}

/// A component built the ordinary way imports wasi:filesystem and
/// wasi:sockets (Rust's std here; componentize-py and componentize-js do
/// too): it loads, and gains nothing: no file opens, no socket connects.
#[test]
fn std_files_and_sockets_link_and_refuse_everything() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let target = l.local_addr().unwrap().to_string();
    let p = hostile("std-io");
    let ev = p.evaluate(ctx(
        &[("path", "/etc/hostname"), ("target", &target)],
        Grants::default().allow_net(&target).unwrap(),
        Duration::from_secs(2),
    ));
    let reason = ev.failure_reason().expect("every attempt failed");
    assert!(reason.starts_with("open /etc/hostname: "), "{reason}");
    assert!(reason.contains(&format!("connect {target}: ")), "{reason}");
    assert!(reason.contains("read_dir /: "), "{reason}");
    assert!(l.accept().is_err(), "a connection reached the listener");
    assert!(
        ev.logs
            .iter()
            .any(|(_, m)| m.contains("stdout: std-io: every attempt failed")),
        "{:?}",
        ev.logs
    );
    println!("std-io: {reason}");
}
