//! When a Master announces its VIPs (gratuitous ARP / unsolicited NA):
//! keepalived's vrrp_garp_master_delay / _repeat / vrrp_garp_interval /
//! vrrp_garp_master_refresh.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use baton_config::Garp;

/// Announcement times of one instance while Master.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Announcements {
    plan: VecDeque<Instant>,
    refresh_at: Option<Instant>,
}

/// A burst of `repeat` spaced by `interval` now, and the same again after
/// `delay`.
pub fn plan(g: &Garp, now: Instant) -> VecDeque<Instant> {
    let mut plan = VecDeque::new();
    let repeat = g.repeat.max(1);
    for k in 0..repeat {
        plan.push_back(now + g.interval * k);
    }
    if !g.delay.is_zero() {
        for k in 0..repeat {
            plan.push_back(now + g.delay + g.interval * k);
        }
    }
    plan.make_contiguous().sort();
    plan
}

impl Announcements {
    /// A new plan from `now` (VIPs just held).
    pub fn start(&mut self, g: &Garp, now: Instant) {
        self.plan = plan(g, now);
        self.refresh_at = (!g.refresh.is_zero()).then(|| now + g.refresh);
    }

    /// Another router claimed mastership: the plan again, and once more
    /// shortly after in case its announcements cross ours.
    pub fn restart(&mut self, g: &Garp, advert: Duration, now: Instant) {
        let refresh = self.refresh_at;
        self.start(g, now);
        self.refresh_at = refresh.or(self.refresh_at);
        self.plan.push_back(now + advert.min(Duration::from_millis(100)));
        self.plan.make_contiguous().sort();
    }

    /// A reload's settings: the refresh follows at once; a burst under way keeps its times.
    pub fn reconfigure(&mut self, g: &Garp, now: Instant, active: bool) {
        self.refresh_at = (active && !g.refresh.is_zero()).then(|| now + g.refresh);
    }

    pub fn stop(&mut self) {
        self.plan.clear();
        self.refresh_at = None;
    }

    /// How many announcements are due at `now` (a burst with interval 0 goes
    /// out whole); refreshes count as one.
    pub fn due(&mut self, g: &Garp, now: Instant) -> usize {
        let mut n = 0;
        while self.plan.front().is_some_and(|t| *t <= now) {
            self.plan.pop_front();
            n += 1;
        }
        if let Some(t) = self.refresh_at.filter(|t| *t <= now) {
            n = n.max(1);
            let next = t + g.refresh;
            self.refresh_at = Some(if next <= now { now + g.refresh } else { next });
        }
        n
    }

    pub fn next(&self) -> Option<Instant> {
        [self.plan.front().copied(), self.refresh_at]
            .into_iter()
            .flatten()
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_follow_keepalived_garp_settings() {
        let now = Instant::now();
        let g = Garp {
            delay: Duration::from_secs(5),
            repeat: 3,
            interval: Duration::from_millis(10),
            refresh: Duration::ZERO,
        };
        let p: Vec<Duration> = plan(&g, now).iter().map(|t| *t - now).collect();
        let ms = Duration::from_millis;
        assert_eq!(p, vec![ms(0), ms(10), ms(20), ms(5000), ms(5010), ms(5020)]);
        let once = Garp {
            delay: Duration::ZERO,
            repeat: 1,
            interval: Duration::ZERO,
            refresh: Duration::ZERO,
        };
        assert_eq!(plan(&once, now).len(), 1);
    }

    #[test]
    fn a_zero_interval_burst_is_due_at_once_and_refresh_repeats() {
        let now = Instant::now();
        let g = Garp {
            delay: Duration::ZERO,
            repeat: 3,
            interval: Duration::ZERO,
            refresh: Duration::from_secs(1),
        };
        let mut a = Announcements::default();
        a.start(&g, now);
        assert_eq!(a.due(&g, now), 3);
        assert_eq!(a.next(), Some(now + Duration::from_secs(1)));
        assert_eq!(a.due(&g, now + Duration::from_secs(1)), 1);
        assert_eq!(a.next(), Some(now + Duration::from_secs(2)));
    }
}
