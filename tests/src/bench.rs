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
