//! What the benchmarks share: the daemon under test on a lab host, Baton or
//! keepalived, behind one type.

use std::path::PathBuf;
use std::time::Duration;

use ::baton::status::Status;
use baton_lab::{Keepalived, LabProcess};

/// One node's daemon.
#[derive(Debug)]
pub enum BenchDaemon {
    /// `baton run`, answering on `socket`.
    Baton {
        proc: LabProcess,
        socket: PathBuf,
    },
    Keepalived(Keepalived),
}

impl BenchDaemon {
    /// Its output so far.
    pub fn log(&self) -> String {
        match self {
            BenchDaemon::Baton { proc, .. } => proc.log(),
            BenchDaemon::Keepalived(k) => k.log(),
        }
    }

    /// Baton's status over its control socket (keepalived: none).
    pub fn status(&self) -> Option<Status> {
        match self {
            BenchDaemon::Baton { socket, .. } => ::baton::control::query_status(socket).ok(),
            BenchDaemon::Keepalived(_) => None,
        }
    }

    /// Every process of it (keepalived: its parent and its VRRP child).
    pub fn pids(&self) -> Vec<u32> {
        match self {
            BenchDaemon::Baton { proc, .. } => proc.pid().into_iter().collect(),
            BenchDaemon::Keepalived(k) => {
                let mut v: Vec<u32> = k.pid().into_iter().collect();
                if let Some(c) = std::fs::read_to_string(k.dir().join("vrrp.pid"))
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                {
                    v.push(c);
                }
                v
            }
        }
    }

    /// SIGTERM and wait (Baton resigns with priority 0; so does keepalived).
    pub fn stop(&mut self) -> std::io::Result<()> {
        match self {
            BenchDaemon::Baton { proc, .. } => proc.stop().map(|_| ()),
            BenchDaemon::Keepalived(k) => k.stop(),
        }
    }
}

/// CPU time of `pids`, every thread, to the nanosecond: the first field of
/// /proc/PID/task/TID/schedstat (/proc/PID/stat counts 10 ms ticks, too
/// coarse for a daemon that is mostly asleep). Threads that have exited by
/// the second reading drop out of it; these daemons do not start any.
pub fn process_cpu(pids: &[u32]) -> Duration {
    let mut ns = 0u64;
    for pid in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            if let Some(v) = std::fs::read_to_string(t.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            {
                ns += v;
            }
        }
    }
    Duration::from_nanos(ns)
}

/// Resident memory (VmRSS) of a process, `"self"` or a pid, in bytes; 0 if
/// it cannot be read.
pub fn rss_bytes(pid: &str) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Answers every connection on `listener` with `200 OK` and the body `ok`,
/// on a thread of its own: the HTTP service a benchmark's check GETs.
pub fn serve_ok(listener: std::net::TcpListener) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
}
