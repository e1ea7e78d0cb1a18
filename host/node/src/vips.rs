//! The VIPs of one instance, each with what is really configured: a VIP is
//! held only once the world said it was added, and a failed add or remove is
//! retried with backoff. The instance says what it wants (`set_wanted`), and
//! this decides which adds and removes to ask for, in which order: on a
//! reload, new VIPs are added before retired ones are removed. The same
//! bookkeeping holds an instance's `routes` (`VipSet<Route>`).

use std::time::{Duration, Instant};

use baton_config::Vip;
use serde::{Deserialize, Serialize};

/// Consecutive failed adds of one VIP after which its instance cannot serve.
pub const ADD_ATTEMPTS_BEFORE_FAULT: u32 = 3;

/// What is known of one VIP on this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VipState {
    Absent,
    /// Asked for, not answered yet.
    Adding,
    Held,
    Removing,
    /// The last add failed; retried at `retry_at`.
    AddFailed,
    /// The last remove failed; it may still be configured. Retried.
    RemoveFailed,
}

impl VipState {
    /// Configured on the host, or possibly so.
    pub fn maybe_configured(self) -> bool {
        matches!(
            self,
            VipState::Held | VipState::Removing | VipState::RemoveFailed | VipState::Adding
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VipEntry<T = Vip> {
    pub vip: T,
    pub state: VipState,
    /// Consecutive failures of the current operation.
    pub failures: u32,
    pub last_error: Option<String>,
    pub retry_at: Option<Instant>,
    /// Not in the config any more: removed once nothing is being added.
    pub retired: bool,
}

impl<T> VipEntry<T> {
    fn new(vip: T) -> VipEntry<T> {
        VipEntry {
            vip,
            state: VipState::Absent,
            failures: 0,
            last_error: None,
            retry_at: None,
            retired: false,
        }
    }
}

/// An add or remove to ask the world for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VipRequest<T = Vip> {
    Add(T),
    Remove(T),
}

/// What a result changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VipOutcome {
    /// The VIP is now held (announce it).
    pub now_held: bool,
    /// This many adds of it in a row failed.
    pub add_failures: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VipSet<T = Vip> {
    entries: Vec<VipEntry<T>>,
    wanted: bool,
    pub add_failures: u64,
    pub remove_failures: u64,
}

impl<T> Default for VipSet<T> {
    fn default() -> VipSet<T> {
        VipSet {
            entries: Vec::new(),
            wanted: false,
            add_failures: 0,
            remove_failures: 0,
        }
    }
}

/// Backoff between retries: 10 ms, 40 ms, 160 ms, ... at most 5 s.
pub fn retry_backoff(failures: u32) -> Duration {
    let ms = 10u64.saturating_mul(4u64.saturating_pow(failures.saturating_sub(1).min(8)));
    Duration::from_millis(ms.min(5000))
}

impl<T: Clone + PartialEq> VipSet<T> {
    pub fn new(vips: &[T]) -> VipSet<T> {
        VipSet {
            entries: vips.iter().cloned().map(VipEntry::new).collect(),
            ..VipSet::default()
        }
    }

    pub fn entries(&self) -> impl Iterator<Item = &VipEntry<T>> {
        self.entries.iter().filter(|e| !e.retired)
    }

    /// Every entry, retired ones included.
    pub fn all(&self) -> &[VipEntry<T>] {
        &self.entries
    }

    pub fn wanted(&self) -> bool {
        self.wanted
    }

    /// The VIPs really held now.
    pub fn held(&self) -> impl Iterator<Item = &T> {
        self.entries
            .iter()
            .filter(|e| e.state == VipState::Held)
            .map(|e| &e.vip)
    }

    /// Every configured VIP is held.
    pub fn all_held(&self) -> bool {
        let mut any = false;
        for e in self.entries() {
            if e.state != VipState::Held {
                return false;
            }
            any = true;
        }
        any
    }

    /// An add is outstanding: adverts and removals of retired VIPs wait.
    pub fn adding(&self) -> bool {
        self.entries.iter().any(|e| e.state == VipState::Adding)
    }

    /// Nothing is or may be configured, and nothing is in flight.
    pub fn settled_absent(&self) -> bool {
        self.entries
            .iter()
            .all(|e| matches!(e.state, VipState::Absent | VipState::AddFailed))
    }

    /// Held (Master) or not; returns what to ask for now.
    pub fn set_wanted(&mut self, wanted: bool, now: Instant) -> Vec<VipRequest<T>> {
        self.wanted = wanted;
        if !wanted {
            for e in &mut self.entries {
                if e.state == VipState::AddFailed {
                    e.state = VipState::Absent;
                    e.retry_at = None;
                }
            }
        }
        self.requests(now)
    }

    /// A reload's VIP list: kept entries keep their state, new ones start
    /// absent, gone ones retire.
    pub fn reconfigure(&mut self, vips: &[T], now: Instant) -> Vec<VipRequest<T>> {
        for e in &mut self.entries {
            e.retired = !vips.contains(&e.vip);
        }
        for v in vips {
            if !self.entries.iter().any(|e| e.vip == *v) {
                self.entries.push(VipEntry::new(v.clone()));
            }
        }
        // Keep config order for what stays; retired ones go last.
        let order = |e: &VipEntry<T>| vips.iter().position(|v| *v == e.vip).unwrap_or(usize::MAX);
        self.entries.sort_by_key(order);
        self.requests(now)
    }

    /// What to ask for: adds while wanted (failed ones when their retry is
    /// due), removes of what is not wanted (retired ones only once no add is
    /// outstanding), and drops retired entries that are gone.
    pub fn requests(&mut self, now: Instant) -> Vec<VipRequest<T>> {
        let mut out = Vec::new();
        for e in &mut self.entries {
            let keep = self.wanted && !e.retired;
            let due = e.retry_at.is_none_or(|t| t <= now);
            match e.state {
                VipState::Absent if keep => {
                    e.state = VipState::Adding;
                    out.push(VipRequest::Add(e.vip.clone()));
                }
                VipState::AddFailed if keep && due => {
                    e.state = VipState::Adding;
                    e.retry_at = None;
                    out.push(VipRequest::Add(e.vip.clone()));
                }
                VipState::AddFailed if !keep => {
                    e.state = VipState::Absent;
                    e.retry_at = None;
                }
                _ => {}
            }
        }
        let adding = self.adding();
        for e in &mut self.entries {
            let keep = self.wanted && !e.retired;
            let due = e.retry_at.is_none_or(|t| t <= now);
            let may_remove = !e.retired || !adding;
            match e.state {
                VipState::Held if !keep && may_remove => {
                    e.state = VipState::Removing;
                    out.push(VipRequest::Remove(e.vip.clone()));
                }
                VipState::RemoveFailed if !keep && due && may_remove => {
                    e.state = VipState::Removing;
                    e.retry_at = None;
                    out.push(VipRequest::Remove(e.vip.clone()));
                }
                // Wanted again before a failed remove was retried: it is
                // probably still there, but add it to be sure.
                VipState::RemoveFailed if keep => {
                    e.state = VipState::Adding;
                    e.retry_at = None;
                    out.push(VipRequest::Add(e.vip.clone()));
                }
                _ => {}
            }
        }
        self.entries
            .retain(|e| !(e.retired && e.state == VipState::Absent));
        out
    }

    /// A VIP left on the host by an earlier run: known configured, to be removed.
    pub fn mark_leftover(&mut self, vip: &T) -> bool {
        match self.entries.iter_mut().find(|e| e.vip == *vip) {
            Some(e) if e.state == VipState::Absent => {
                e.state = VipState::Held;
                true
            }
            _ => false,
        }
    }

    /// The world's answer to an add or remove of `vip`.
    pub fn result(&mut self, vip: &T, added: bool, r: Result<(), String>, now: Instant) -> VipOutcome {
        let Some(e) = self.entries.iter_mut().find(|e| e.vip == *vip) else {
            return VipOutcome::default();
        };
        let mut out = VipOutcome::default();
        match (added, e.state, r) {
            (true, VipState::Adding, Ok(())) => {
                e.state = VipState::Held;
                e.failures = 0;
                e.last_error = None;
                out.now_held = true;
            }
            (true, VipState::Adding, Err(err)) => {
                e.failures += 1;
                self.add_failures += 1;
                e.state = VipState::AddFailed;
                e.retry_at = Some(now + retry_backoff(e.failures));
                e.last_error = Some(err);
                out.add_failures = e.failures;
            }
            (false, VipState::Removing, Ok(())) => {
                e.state = VipState::Absent;
                e.failures = 0;
                e.last_error = None;
            }
            (false, VipState::Removing, Err(err)) => {
                e.failures += 1;
                self.remove_failures += 1;
                e.state = VipState::RemoveFailed;
                e.retry_at = Some(now + retry_backoff(e.failures));
                e.last_error = Some(err);
            }
            // An answer to an operation no longer current: ignore it.
            _ => {}
        }
        out
    }

    /// When a failed operation is next retried.
    pub fn next_retry(&self) -> Option<Instant> {
        self.entries.iter().filter_map(|e| e.retry_at).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip(s: &str) -> Vip {
        baton_config::parse_vip(s, "eth0").expect("vip")
    }

    #[test]
    fn held_only_once_the_add_succeeded() {
        let now = Instant::now();
        let mut set = VipSet::new(&[vip("192.0.2.3/24")]);
        let reqs = set.set_wanted(true, now);
        assert_eq!(reqs, vec![VipRequest::Add(vip("192.0.2.3/24"))]);
        assert_eq!(set.held().count(), 0);
        set.result(&vip("192.0.2.3/24"), true, Err("EPERM".into()), now);
        assert_eq!(set.held().count(), 0);
        assert!(!set.all_held());
        // Retried after the backoff, not before.
        assert!(set.requests(now).is_empty());
        let later = now + retry_backoff(1);
        assert_eq!(set.requests(later), vec![VipRequest::Add(vip("192.0.2.3/24"))]);
        let o = set.result(&vip("192.0.2.3/24"), true, Ok(()), later);
        assert!(o.now_held);
        assert!(set.all_held());
        assert_eq!(set.add_failures, 1);
    }

    #[test]
    fn reload_adds_new_vips_before_removing_old() {
        let now = Instant::now();
        let (a, b) = (vip("192.0.2.3/24"), vip("192.0.2.4/24"));
        let mut set = VipSet::new(std::slice::from_ref(&a));
        set.set_wanted(true, now);
        set.result(&a, true, Ok(()), now);
        let reqs = set.reconfigure(std::slice::from_ref(&b), now);
        assert_eq!(reqs, vec![VipRequest::Add(b.clone())], "the old one waits");
        set.result(&b, true, Ok(()), now);
        assert_eq!(set.requests(now), vec![VipRequest::Remove(a.clone())]);
        set.result(&a, false, Ok(()), now);
        set.requests(now);
        assert_eq!(set.all().len(), 1);
        assert!(set.all_held());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(retry_backoff(1), Duration::from_millis(10));
        assert_eq!(retry_backoff(2), Duration::from_millis(40));
        assert_eq!(retry_backoff(3), Duration::from_millis(160));
        assert_eq!(retry_backoff(50), Duration::from_secs(5));
    }
}
