//! Accept-mode firewall state: the VIPs whose traffic must be dropped
//! (Accept_Mode false, not the owner), what the world last applied, and
//! retries when applying failed. Recomputed from the config at start and at
//! every reload, so a changed `accept` or owner priority is never stale.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use baton_config::Config;

/// The addresses to drop traffic to under `cfg`, sorted.
pub fn desired(cfg: &Config) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = cfg.instances.iter().flat_map(|i| i.no_accept_vips()).collect();
    v.sort();
    v.dedup();
    v
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Firewall {
    /// What the world confirmed; `None` before the first answer.
    pub applied: Option<Vec<IpAddr>>,
    /// Asked for, not answered yet.
    in_flight: Option<Vec<IpAddr>>,
    wanted: Vec<IpAddr>,
    pub failures: u64,
    pub last_error: Option<String>,
    retry_at: Option<Instant>,
    streak: u32,
}

impl Firewall {
    pub fn wanted(&self) -> &[IpAddr] {
        &self.wanted
    }

    /// Sets what should be dropped; returns the set to apply now, if any.
    pub fn want(&mut self, drop: Vec<IpAddr>) -> Option<Vec<IpAddr>> {
        self.wanted = drop;
        self.retry_at = None;
        self.request()
    }

    fn request(&mut self) -> Option<Vec<IpAddr>> {
        if self.in_flight.is_some() || self.applied.as_ref() == Some(&self.wanted) {
            return None;
        }
        self.in_flight = Some(self.wanted.clone());
        self.in_flight.clone()
    }

    /// The answer to the last request; returns a set to apply next (the
    /// wanted set moved on meanwhile).
    pub fn result(&mut self, r: Result<(), String>, now: Instant) -> Option<Vec<IpAddr>> {
        let asked = self.in_flight.take()?;
        match r {
            Ok(()) => {
                self.applied = Some(asked);
                self.streak = 0;
                self.last_error = None;
                self.request()
            }
            // Nothing to enforce: no rules is as good as rules removed
            // (nft may not even be installed).
            Err(e) if asked.is_empty() => {
                self.applied = Some(asked);
                self.last_error = Some(e);
                self.request()
            }
            Err(e) => {
                self.failures += 1;
                self.streak += 1;
                self.last_error = Some(e);
                let secs = 1u64 << self.streak.saturating_sub(1).min(5);
                self.retry_at = Some(now + Duration::from_secs(secs).min(Duration::from_secs(30)));
                None
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) -> Option<Vec<IpAddr>> {
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            return self.request();
        }
        None
    }

    pub fn next(&self) -> Option<Instant> {
        self.retry_at
    }

    pub fn in_force(&self) -> bool {
        self.applied.as_ref() == Some(&self.wanted)
    }
}
