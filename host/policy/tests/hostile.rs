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

fn slept_log(ev: &baton_policy::Evaluation) -> Option<u64> {
    ev.logs
        .iter()
        .find_map(|(_, m)| m.strip_prefix("slept ")?.strip_suffix(" ms")?.parse().ok())
}

/// A guest that sleeps through WASI (`std::thread::sleep`, or
/// `clock_nanosleep` to an absolute time: a monotonic-clock timer, then a
/// wait in wasi:io/poll, inside the host where the epoch cannot reach) is
/// stopped at its deadline, not at the end of its sleep; so is one that
/// sleeps in many short waits. The same loaded policy then evaluates again,
/// and a sleep within the budget is a real sleep.
#[test]
fn a_wasi_sleep_ends_at_the_deadline() {
    let p = hostile("sleeper");
    let budget = Duration::from_millis(100);
    let cases: [&[(&str, &str)]; 3] = [&[], &[("clock", "instant")], &[("ms", "1"), ("times", "1000000")]];
    for settings in cases {
        let t0 = Instant::now();
        let ev = p.evaluate(ctx(settings, Grants::default(), budget));
        let took = t0.elapsed();
        assert_eq!(
            ev.outcome,
            Err(EvalError::DeadlineExceeded(budget)),
            "{settings:?}: {ev:?}"
        );
        assert_eq!(
            ev.failure_reason().as_deref(),
            Some("deadline exceeded (budget 100ms)")
        );
        assert!(ev.elapsed >= budget, "{settings:?}: {:?}", ev.elapsed);
        assert!(
            took < Duration::from_millis(150),
            "{settings:?}: {took:?} for a {budget:?} budget"
        );
        println!("sleeper {settings:?}, budget {budget:?}: deadline exceeded after {took:?}");
    }
    for settings in [
        [("ms", "20"), ("clock", "duration")],
        [("ms", "20"), ("clock", "instant")],
    ] {
        let t0 = Instant::now();
        let ev = p.evaluate(ctx(&settings, Grants::default(), Duration::from_secs(1)));
        let took = t0.elapsed();
        assert!(ev.is_healthy(), "{settings:?}: {ev:?}");
        assert!(took >= Duration::from_millis(20), "{settings:?}: {took:?}");
        assert!(slept_log(&ev).is_some_and(|ms| ms >= 20), "{:?}", ev.logs);
    }
}

/// Under a script the guest's WASI sleeps pass the script's time, not real
/// time: a 3 s sleep under a 100 ms budget is instant and healthy, and the
/// script's clock (the guest's too) has moved by the sleeps.
#[test]
fn a_wasi_sleep_under_a_script_passes_script_time() {
    use baton_policy::script::{Script, ScriptClock};
    let p = hostile("sleeper");
    for clock in ["duration", "instant"] {
        let script = Script::new([], ScriptClock::default());
        let start = script.monotonic_ns();
        let c = ctx(
            &[("ms", "3000"), ("times", "2"), ("clock", clock)],
            Grants::default(),
            Duration::from_millis(100),
        )
        .with_script(script.clone());
        let t0 = Instant::now();
        let ev = p.evaluate(c);
        let took = t0.elapsed();
        assert!(ev.is_healthy(), "{clock}: {ev:?}");
        assert!(took < Duration::from_millis(100), "{clock}: {took:?}");
        assert_eq!(slept_log(&ev), Some(6000), "{clock}: {:?}", ev.logs);
        assert_eq!(script.monotonic_ns() - start, 6_000_000_000, "{clock}");
        assert!(script.problems().is_empty(), "{:?}", script.problems());
    }
}
