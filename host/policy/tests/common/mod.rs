//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use baton_policy::{
    EngineOptions, Facts, Grants, InstanceStatus, LoadedHook, LoadedPolicy, LoadedSplitBrain, PolicyEngine,
    VrrpState,
};

/// One engine per test binary, caching compiled code under the target dir.
pub fn engine() -> &'static PolicyEngine {
    static ENGINE: OnceLock<PolicyEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("baton-policy-cache");
        PolicyEngine::with_options(EngineOptions {
            cache_dir: Some(dir),
            ..Default::default()
        })
        .unwrap()
    })
}

pub fn builtin(name: &str) -> Arc<LoadedPolicy> {
    let bytes = baton_policy_builtins::builtin(name).unwrap_or_else(|| panic!("no builtin {name}"));
    engine().load(name, bytes, None).unwrap()
}

pub fn hostile(name: &str) -> Arc<LoadedPolicy> {
    let bytes = baton_policy_builtins::hostile(name).unwrap_or_else(|| panic!("no hostile {name}"));
    engine().load(name, bytes, None).unwrap()
}

/// A builtin split-brain policy.
pub fn split_brain(name: &str) -> Arc<LoadedSplitBrain> {
    let bytes = baton_policy_builtins::builtin(name).unwrap_or_else(|| panic!("no builtin {name}"));
    engine().load_split_brain(name, bytes, None).unwrap()
}

pub fn hostile_split_brain(name: &str) -> Arc<LoadedSplitBrain> {
    let bytes = baton_policy_builtins::hostile_split_brain(name)
        .unwrap_or_else(|| panic!("no hostile split-brain policy {name}"));
    engine().load_split_brain(name, bytes, None).unwrap()
}

/// An example component of baton-policy-builtins, as a transition hook.
pub fn example_hook(name: &str) -> Arc<LoadedHook> {
    let bytes = baton_policy_builtins::example(name).unwrap_or_else(|| panic!("no example {name}"));
    engine().load_hook(name, bytes, None).unwrap()
}

pub fn hostile_hook(name: &str) -> Arc<LoadedHook> {
    let bytes = baton_policy_builtins::hostile_hook(name).unwrap_or_else(|| panic!("no hostile hook {name}"));
    engine().load_hook(name, bytes, None).unwrap()
}

pub fn facts() -> Facts {
    Facts {
        router_id: "lb01".into(),
        instance: InstanceStatus {
            name: "VI_1".into(),
            interface: "lo".into(),
            vrid: 50,
            state: VrrpState::Master,
            base_priority: 150,
            effective_priority: 150,
            master: Some("127.0.0.1".into()),
            vips: vec!["192.0.2.3/24".into()],
            holding_vips: true,
        },
        run: 0,
        last_healthy: None,
    }
}

/// This process's comm (what process-count compares).
pub fn own_comm() -> String {
    std::fs::read_to_string("/proc/self/comm")
        .unwrap()
        .trim_end()
        .to_string()
}

/// A tiny HTTP server on 127.0.0.1: `/ok` answers 200, anything else 503. Serves
/// until dropped (bounded: at most 1000 connections).
pub struct HttpServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl HttpServer {
    pub fn start() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        l.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut served = 0;
            while !s.load(Ordering::Relaxed) && served < 1000 {
                let Ok((mut c, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                };
                served += 1;
                c.set_nonblocking(false).unwrap();
                c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let mut req = Vec::new();
                let mut b = [0u8; 1024];
                while !req.ends_with(b"\r\n\r\n") {
                    match c.read(&mut b) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&b[..n]),
                    }
                }
                let ok = req.starts_with(b"GET /ok ");
                let (status, body) = if ok {
                    ("200 OK", "all good")
                } else {
                    ("503 Service Unavailable", "down")
                };
                let _ = write!(
                    c,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        HttpServer {
            port,
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A port on 127.0.0.1 with nothing listening (bound, then closed).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Grants that let a policy run the remedy `name`: `sh -c script`, at most 2 s.
pub fn sh_remedy(name: &str, script: String) -> Grants {
    Grants::default()
        .remedy(
            name,
            vec!["sh".into(), "-c".into(), script],
            Duration::from_secs(2),
        )
        .expect("remedy grant")
}

/// A remedy `name` that really brings the service `service` back: it starts
/// a copy of `sleep` of that name in `dir`, in the background, for 30 s, and
/// writes its pid to the file returned.
pub fn service_starter(dir: &std::path::Path, name: &str, service: &str) -> (Grants, PathBuf) {
    let fake = dir.join(service);
    std::fs::copy("/bin/sleep", &fake).expect("copy /bin/sleep");
    let pidfile = dir.join("pid");
    let script = format!("{} 30 & echo $! > {}", fake.display(), pidfile.display());
    (sh_remedy(name, script), pidfile)
}
