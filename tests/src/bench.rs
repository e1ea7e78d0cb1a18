//! What the benchmarks share: the daemon under test on a lab host, Baton or
//! keepalived, behind one type.

use std::path::PathBuf;

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
