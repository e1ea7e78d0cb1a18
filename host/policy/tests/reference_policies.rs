//! Each reference policy (policies/, embedded by baton-policy-builtins) evaluated in
//! the real host.

mod common;

use std::time::Duration;

use baton_policy::{EvalContext, Grants, Health};
use common::{HttpServer, builtin, closed_port, facts, own_comm, service_starter, sh_remedy};

fn ctx(settings: &[(&str, &str)], grants: Grants) -> EvalContext {
    EvalContext::new(facts())
        .with_settings(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .with_grants(grants)
        .with_budget(Duration::from_secs(2))
}

fn reason(ev: &baton_policy::Evaluation) -> String {
    ev.failure_reason().unwrap_or_default()
}

#[test]
fn http_status_against_a_local_server() {
    let server = HttpServer::start();
    let p = builtin("http-status");
    let grants = Grants::default()
        .allow_net(&format!("127.0.0.1:{}", server.port))
        .unwrap();
    let ok = format!("http://127.0.0.1:{}/ok", server.port);
    let ev = p.evaluate(ctx(&[("url", &ok)], grants.clone()));
    assert!(ev.is_healthy(), "{ev:?}");
    let ev = p.evaluate(ctx(&[("url", &ok), ("body-contains", "good")], grants.clone()));
    assert!(ev.is_healthy(), "{ev:?}");
    let bad = format!("http://127.0.0.1:{}/bad", server.port);
    let ev = p.evaluate(ctx(&[("url", &bad)], grants.clone()));
    assert!(!ev.is_healthy());
    assert!(reason(&ev).contains("503"), "{ev:?}");
    let ev = p.evaluate(ctx(&[("url", &bad), ("expect", "503")], grants.clone()));
    assert!(ev.is_healthy(), "{ev:?}");
    drop(server);
    let ev = p.evaluate(ctx(&[("url", &ok)], grants));
    assert!(!ev.is_healthy(), "server gone: {ev:?}");
    println!("http-status: {:?}, fuel {}", ev.elapsed, ev.fuel_consumed);
}

#[test]
fn tcp_port_open_and_closed() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let open = l.local_addr().unwrap().port();
    let closed = closed_port();
    let p = builtin("tcp-port");
    let grants = Grants::default().allow_net("127.0.0.1:*").unwrap();
    let ev = p.evaluate(ctx(&[("port", &open.to_string())], grants.clone()));
    assert!(ev.is_healthy(), "{ev:?}");
    let ev = p.evaluate(ctx(&[("port", &closed.to_string())], grants));
    assert!(!ev.is_healthy(), "{ev:?}");
    assert!(reason(&ev).contains(&closed.to_string()), "{ev:?}");
}

#[test]
fn process_alive_present_and_absent() {
    let p = builtin("process-alive");
    let comm = own_comm();
    let ev = p.evaluate(ctx(&[("name", &comm)], Grants::default()));
    assert!(ev.is_healthy(), "{comm}: {ev:?}");
    let ev = p.evaluate(ctx(&[("name", "baton-nosuchp")], Grants::default()));
    assert!(!ev.is_healthy());
    assert!(reason(&ev).contains("not running"), "{ev:?}");
}

/// The seed's check_web.sh: the process is dead, restart it once; if that does not
/// bring it back, fail and do not restart again until it has been healthy.
#[test]
fn process_alive_runs_its_remedy_once() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("remedy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("runs");
    let _ = std::fs::remove_file(&marker);
    let script = format!("echo ran >> {}", marker.display());
    let grants = sh_remedy("restart-web", script);
    let p = builtin("process-alive");
    let settings = [
        ("name", "baton-deadweb"),
        ("remedy", "restart-web"),
        ("settle-ms", "60"),
        ("settle-step-ms", "20"),
    ];
    // First failure (previous evaluation healthy): the remedy runs once.
    let mut c = ctx(&settings, grants.clone());
    c.facts.last_healthy = Some(true);
    let ev = p.evaluate(c);
    assert!(!ev.is_healthy(), "{ev:?}");
    assert!(reason(&ev).contains("after restart-web"), "{ev:?}");
    assert_eq!(std::fs::read_to_string(&marker).unwrap().lines().count(), 1);
    // Still failing: not again.
    let mut c = ctx(&settings, grants.clone());
    c.facts.last_healthy = Some(false);
    let ev = p.evaluate(c);
    assert!(!ev.is_healthy());
    assert!(reason(&ev).contains("already tried"), "{ev:?}");
    assert_eq!(std::fs::read_to_string(&marker).unwrap().lines().count(), 1);

    // A remedy that really brings the process back: a copy of `sleep` named like
    // the service, started in the background, recording its pid.
    let (grants, pidfile) = service_starter(&dir, "start-webd", "baton-webd");
    let settings = [
        ("name", "baton-webd"),
        ("remedy", "start-webd"),
        ("settle-ms", "1000"),
        ("settle-step-ms", "20"),
    ];
    let ev = p.evaluate(ctx(&settings, grants));
    let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
    assert!(ev.is_healthy(), "{ev:?}");
    assert!(
        ev.logs.iter().any(|(_, m)| m.contains("running again")),
        "{:?}",
        ev.logs
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn file_present_absent_and_value() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state");
    let ps = path.to_str().unwrap();
    let grants = Grants::default().allow_file(ps).unwrap();
    let p = builtin("file");
    let _ = std::fs::remove_file(&path);
    assert!(!p.evaluate(ctx(&[("path", ps)], grants.clone())).is_healthy());
    assert!(
        p.evaluate(ctx(&[("path", ps), ("exists", "false")], grants.clone()))
            .is_healthy()
    );
    std::fs::write(&path, "MASTER\n").unwrap();
    assert!(p.evaluate(ctx(&[("path", ps)], grants.clone())).is_healthy());
    assert!(
        p.evaluate(ctx(&[("path", ps), ("expect", "MASTER")], grants.clone()))
            .is_healthy()
    );
    let ev = p.evaluate(ctx(&[("path", ps), ("expect", "BACKUP")], grants.clone()));
    assert!(!ev.is_healthy());
    assert!(reason(&ev).contains("BACKUP"), "{ev:?}");
    std::fs::write(&path, "-20").unwrap();
    let ev = p.evaluate(ctx(
        &[("path", ps), ("weight-from-content", "true")],
        grants.clone(),
    ));
    let v = ev.outcome.as_ref().unwrap();
    assert_eq!(v.weight, Some(-20));
    assert!(matches!(v.health, Health::Failed(_)));
    // Not in allow-files: denied, so failed whatever the policy says.
    let ev = p.evaluate(ctx(&[("path", "/etc/hostname")], grants));
    assert!(
        matches!(ev.outcome, Err(baton_policy::EvalError::CapabilityDenied(_))),
        "{ev:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interface_up_for_loopback() {
    let p = builtin("interface-up");
    let ev = p.evaluate(ctx(&[("interface", "lo")], Grants::default()));
    assert!(ev.is_healthy(), "{ev:?}");
    let ev = p.evaluate(ctx(&[("interface", "nosuchif0")], Grants::default()));
    assert!(!ev.is_healthy(), "{ev:?}");
}
