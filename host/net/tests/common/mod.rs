//! A two-namespace lab for baton-net's root tests: namespaces A and B joined by
//! a veth pair `va` (in A) / `vb` (in B), with fixed MACs and addresses:
//!
//! | side | MAC               | IPv4          | IPv6 link-local |
//! |------|-------------------|---------------|-----------------|
//! | A    | 02:00:00:00:00:0a | 192.0.2.1/24  | fe80::a/64      |
//! | B    | 02:00:00:00:00:0b | 192.0.2.2/24  | fe80::b/64      |
//!
//! Link-locals are set by hand (addrgenmode none, nodad) so they are known and
//! usable at once. The namespaces are deleted on drop, also when a test panics;
//! the root namespace is never touched.

#![allow(dead_code)]

use std::fs::File;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};
use socket2::{Domain, Protocol, Socket, Type};

pub const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
pub const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
pub const V4_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const V4_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
pub const LL_A: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xa);
pub const LL_B: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xb);

static SEQ: AtomicU32 = AtomicU32::new(0);

pub struct Lab {
    pub a: String,
    pub b: String,
}

/// The lab, or None (after saying so loudly) when not root. Under CI=true not
/// being root is a failure: CI must run these.
pub fn lab(test: &str) -> Option<Lab> {
    if !is_root() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{test}: needs root (CI=true, so this is a failure, not a skip)");
        }
        // Straight to stderr, not eprintln!: libtest captures the latter.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED (needs root): baton-net {test}: namespaces and raw sockets need root ***\n"
        );
        return None;
    }
    Some(Lab::new())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Runs `ip ARGS`; panics with its stderr if it fails. Returns stdout.
pub fn ip(args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running ip {args:?}: {e} (is iproute2 installed? scripts/setup)"));
    assert!(
        out.status.success(),
        "ip {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Lab {
    fn new() -> Lab {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let base = format!("btnet{}-{n}", std::process::id());
        let lab = Lab {
            a: format!("{base}-a"),
            b: format!("{base}-b"),
        };
        // The guard exists before the first namespace: a failing step cleans up.
        ip(&["netns", "add", &lab.a]);
        ip(&["netns", "add", &lab.b]);
        ip(&[
            "-n", &lab.a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", &lab.b,
        ]);
        for (ns, dev, mac, v4, ll) in [
            (&lab.a, "va", "02:00:00:00:00:0a", "192.0.2.1/24", "fe80::a/64"),
            (&lab.b, "vb", "02:00:00:00:00:0b", "192.0.2.2/24", "fe80::b/64"),
        ] {
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            ip(&[
                "-n",
                ns,
                "link",
                "set",
                dev,
                "address",
                mac,
                "addrgenmode",
                "none",
            ]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "addr", "add", v4, "dev", dev]);
            ip(&["-n", ns, "addr", "add", ll, "dev", dev, "nodad"]);
        }
        lab
    }

    /// Moves the calling thread into namespace `ns` (sockets opened afterwards
    /// belong to it; those opened before stay where they are).
    pub fn enter(&self, ns: &str) {
        let f = File::open(format!("/var/run/netns/{ns}")).unwrap_or_else(|e| panic!("open netns {ns}: {e}"));
        setns(f, CloneFlags::CLONE_NEWNET).unwrap_or_else(|e| panic!("setns {ns}: {e}"));
    }

    /// Runs `fut` on a fresh thread that starts in namespace A, on a
    /// current_thread runtime built there. Panics propagate to the caller.
    pub fn block_on<F>(&self, fut: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        std::thread::scope(|s| {
            s.spawn(|| {
                self.enter(&self.a);
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                rt.block_on(fut)
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// Interface index of `dev` in `ns`, from `ip -o link`.
    pub fn ifindex(&self, ns: &str, dev: &str) -> u32 {
        let out = ip(&["-n", ns, "-o", "link", "show", "dev", dev]);
        out.split(':')
            .next()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no ifindex in {out:?}"))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// An AF_PACKET capture of EtherType `ethertype` in namespace B (leaves the
/// thread in A).
pub fn capture(lab: &Lab, ethertype: u16) -> Socket {
    lab.enter(&lab.b);
    let s = Socket::new(
        Domain::PACKET,
        Type::RAW,
        Some(Protocol::from(i32::from(ethertype.to_be()))),
    )
    .expect("AF_PACKET capture socket");
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    lab.enter(&lab.a);
    s
}

/// The first captured frame `want` accepts, within 3 s.
pub fn next_frame(cap: &Socket, what: &str, want: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut buf = vec![0u8; 2048];
    while Instant::now() < deadline {
        if let Ok(n) = (&*cap).read(&mut buf)
            && want(&buf[..n])
        {
            return buf[..n].to_vec();
        }
    }
    panic!("no {what} captured within 3 s");
}
