//! When health checks run, and what their results did. A check is either a
//! node-level `[[check]]`, evaluated once per interval however many instances
//! track it (keepalived's vrrp_script), or an instance's own track. Each
//! tracking instance applies a result through its own tracker (weight, rise,
//! fall): see `instance.rs`.
//!
//! Scheduling: the first evaluation is due when the check appears, the next
//! `interval` after the previous one completed; never two in flight. An
//! evaluation the runner had no room for (many checks due at once, as at a
//! start with a hundred tracks) did not run: it is tried again every
//! `BUSY_RETRY` and counts as a failure only once the check has been turned
//! away for its whole `timeout`, so a saturated runner still shows.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use baton_config::{Config, Track};

use crate::effect::{CheckKey, CheckResult, RunId};

/// What the evaluations of one check have been.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckStats {
    pub runs: u64,
    pub last_healthy: Option<bool>,
    /// Why the last evaluation failed (`None` when it was healthy).
    pub last_reason: Option<String>,
    pub last_elapsed: Duration,
    pub last_fuel: u64,
    pub last_cpu: Duration,
    pub cpu_total: Duration,
    pub last_at: Option<Instant>,
    /// Evaluations the runner turned away (busy) and that were tried again.
    pub busy_retries: u64,
}

/// How soon an evaluation the runner turned away is tried again.
pub const BUSY_RETRY: Duration = Duration::from_millis(5);

/// One check's schedule and settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub policy: String,
    pub settings: Vec<(String, String)>,
    pub interval: Duration,
    pub timeout: Duration,
    next: Instant,
    running: Option<RunId>,
    /// Since when the runner has been turning this check away.
    busy_since: Option<Instant>,
    pub stats: CheckStats,
}

impl Schedule {
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    fn due(&self) -> Option<Instant> {
        self.running.is_none().then_some(self.next)
    }
}

/// What a completed evaluation changed in its check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completed {
    /// Healthy <-> failed, another failure reason, or the first result.
    pub result_changed: bool,
    pub first: bool,
}

/// Every check of the node, by key.
#[derive(Debug, Default)]
pub struct Schedules {
    map: BTreeMap<CheckKey, Schedule>,
    next_run: u64,
}

/// The key a track's results come under.
pub fn track_key(instance: &str, t: &Track) -> CheckKey {
    match &t.check {
        Some(name) => CheckKey::Node(name.clone()),
        None => CheckKey::Track {
            instance: instance.to_string(),
            policy: t.policy.clone(),
        },
    }
}

/// The settings an evaluation gets: the policy's `config` with the track's
/// or check's merged over it, in key order.
fn settings(cfg: &Config, policy: &str, over: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let base = cfg.policy(policy).map(|p| p.config.clone()).unwrap_or_default();
    baton_config::merge_settings(&base, over).into_iter().collect()
}

struct Wanted {
    policy: String,
    settings: Vec<(String, String)>,
    interval: Duration,
    timeout: Duration,
}

/// The checks a config runs: node-level ones only while some instance tracks them.
fn wanted(cfg: &Config) -> BTreeMap<CheckKey, Wanted> {
    let mut out = BTreeMap::new();
    for ic in &cfg.instances {
        for t in &ic.tracks {
            let key = track_key(&ic.name, t);
            let w = match &t.check {
                Some(name) => {
                    let Some(c) = cfg.check(name) else { continue };
                    Wanted {
                        policy: c.policy.clone(),
                        settings: settings(cfg, &c.policy, &c.config),
                        interval: c.interval,
                        timeout: c.timeout,
                    }
                }
                None => Wanted {
                    policy: t.policy.clone(),
                    settings: settings(cfg, &t.policy, &t.config),
                    interval: t.interval,
                    timeout: t.timeout,
                },
            };
            out.entry(key).or_insert(w);
        }
    }
    out
}

impl Schedules {
    /// Brings the set in line with `cfg`: new checks are due now; kept ones
    /// keep their statistics and their evaluation in flight, and an idle one
    /// is not pushed later than `now + interval`.
    pub fn sync(&mut self, cfg: &Config, now: Instant) {
        let wanted = wanted(cfg);
        self.map.retain(|k, _| wanted.contains_key(k));
        for (key, w) in wanted {
            match self.map.get_mut(&key) {
                Some(s) => {
                    if s.policy != w.policy {
                        s.stats = CheckStats::default();
                    }
                    s.policy = w.policy;
                    s.settings = w.settings;
                    s.timeout = w.timeout;
                    s.interval = w.interval;
                    if s.running.is_none() {
                        s.next = s.next.min(now + w.interval);
                    }
                }
                None => {
                    self.map.insert(
                        key,
                        Schedule {
                            policy: w.policy,
                            settings: w.settings,
                            interval: w.interval,
                            timeout: w.timeout,
                            next: now,
                            running: None,
                            busy_since: None,
                            stats: CheckStats::default(),
                        },
                    );
                }
            }
        }
    }

    pub fn get(&self, key: &CheckKey) -> Option<&Schedule> {
        self.map.get(key)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Marks every due check as running and returns them.
    pub fn start_due(&mut self, now: Instant) -> Vec<(RunId, CheckKey)> {
        let mut out = Vec::new();
        for (key, s) in &mut self.map {
            if s.due().is_some_and(|t| t <= now) {
                self.next_run += 1;
                let run = RunId(self.next_run);
                s.running = Some(run);
                out.push((run, key.clone()));
            }
        }
        out
    }

    /// The runner turned evaluation `run` away: `true` when it is to be
    /// tried again in `BUSY_RETRY` (and not applied), `false` when it is not
    /// current or the check has been turned away for its whole `timeout`, so
    /// that it is recorded as the failure it now is.
    pub fn defer_busy(&mut self, run: RunId, key: &CheckKey, now: Instant) -> bool {
        let Some(s) = self.map.get_mut(key) else {
            return false;
        };
        if s.running != Some(run) {
            return false;
        }
        let since = *s.busy_since.get_or_insert(now);
        if now.saturating_duration_since(since) >= s.timeout {
            return false;
        }
        s.running = None;
        s.next = now + BUSY_RETRY;
        s.stats.busy_retries += 1;
        true
    }

    /// Records a result; `None` when it is for an evaluation no longer
    /// current (its check was removed or replaced by a reload).
    pub fn complete(
        &mut self,
        run: RunId,
        key: &CheckKey,
        r: &CheckResult,
        now: Instant,
    ) -> Option<Completed> {
        let s = self.map.get_mut(key)?;
        if s.running != Some(run) {
            return None;
        }
        s.running = None;
        s.busy_since = None;
        s.next = now + s.interval;
        let st = &mut s.stats;
        let first = st.runs == 0;
        st.runs += 1;
        st.last_elapsed = r.elapsed;
        st.last_fuel = r.fuel;
        st.last_cpu = r.cpu;
        st.cpu_total += r.cpu;
        st.last_at = Some(now);
        let reason = if r.healthy { None } else { r.reason.clone() };
        let result_changed = st.last_healthy != Some(r.healthy) || st.last_reason != reason;
        st.last_healthy = Some(r.healthy);
        st.last_reason = reason;
        Some(Completed {
            result_changed,
            first,
        })
    }

    pub fn next(&self) -> Option<Instant> {
        self.map.values().filter_map(Schedule::due).min()
    }
}
