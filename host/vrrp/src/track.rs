//! keepalived's tracking semantics (vrrp_script / track_script), sans IO: a
//! check result goes in, what it means for the instance comes out.
//!
//! - A tracker is Good or Bad. It starts Good (keepalived's default; `init_fail`
//!   starts it Bad), turns Bad after `fall` consecutive failures and Good after
//!   `rise` consecutive successes.
//! - Weight > 0 adds to the priority while Good; weight < 0 subtracts while Bad;
//!   weight 0 means FAULT while Bad.
//! - A check may override the configured weight for one result (a policy that
//!   grades health); the override takes effect with that result.

use crate::instance::Command;

/// Static settings of one tracker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackConfig {
    pub weight: i32,
    pub rise: u32,
    pub fall: u32,
    pub init_fail: bool,
}

impl Default for TrackConfig {
    fn default() -> Self {
        TrackConfig {
            weight: 0,
            rise: 1,
            fall: 1,
            init_fail: false,
        }
    }
}

/// What a tracker contributes to its instance now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Add this to the base priority (0: nothing).
    Weight(i32),
    /// Hold the instance in FAULT.
    Fault,
}

/// One tracker's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracker {
    name: String,
    cfg: TrackConfig,
    good: bool,
    /// Consecutive results against the current state.
    streak: u32,
    weight: i32,
    last_reason: Option<String>,
}

impl Tracker {
    pub fn new(name: impl Into<String>, cfg: TrackConfig) -> Tracker {
        Tracker {
            name: name.into(),
            good: !cfg.init_fail,
            streak: 0,
            weight: cfg.weight,
            cfg,
            last_reason: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_good(&self) -> bool {
        self.good
    }

    /// Why the last failed result failed.
    pub fn last_reason(&self) -> Option<&str> {
        self.last_reason.as_deref()
    }

    pub fn effect(&self) -> Effect {
        match (self.weight, self.good) {
            (0, false) => Effect::Fault,
            (0, true) => Effect::Weight(0),
            (w, true) if w > 0 => Effect::Weight(w),
            (w, false) if w < 0 => Effect::Weight(w),
            _ => Effect::Weight(0),
        }
    }

    /// Feeds one check result; returns true when the effect changed.
    /// `weight` overrides the configured weight from this result on.
    pub fn record(&mut self, healthy: bool, reason: Option<String>, weight: Option<i32>) -> bool {
        let before = self.effect();
        if let Some(w) = weight {
            self.weight = w.clamp(-253, 253);
        }
        if !healthy {
            self.last_reason = reason;
        }
        if healthy == self.good {
            self.streak = 0;
        } else {
            self.streak += 1;
            let needed = if healthy { self.cfg.rise } else { self.cfg.fall };
            if self.streak >= needed.max(1) {
                self.good = healthy;
                self.streak = 0;
            }
        }
        self.effect() != before
    }

    /// The commands that make an instance reflect this tracker's effect.
    pub fn commands(&self) -> [Command; 2] {
        let (weight, fault) = match self.effect() {
            Effect::Weight(w) => (w, false),
            Effect::Fault => (0, true),
        };
        [
            Command::SetWeight {
                source: self.name.clone(),
                weight,
            },
            Command::SetFault {
                cause: format!("track {} failed", self.name),
                active: fault,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(weight: i32, rise: u32, fall: u32) -> Tracker {
        Tracker::new(
            "web",
            TrackConfig {
                weight,
                rise,
                fall,
                init_fail: false,
            },
        )
    }

    #[test]
    fn starts_good_unless_init_fail() {
        assert!(t(-60, 1, 1).is_good());
        let bad = Tracker::new(
            "web",
            TrackConfig {
                init_fail: true,
                weight: -60,
                ..TrackConfig::default()
            },
        );
        assert!(!bad.is_good());
        assert_eq!(bad.effect(), Effect::Weight(-60));
    }

    #[test]
    fn fall_consecutive_failures_make_it_bad_and_rise_successes_good() {
        let mut tr = t(-60, 2, 3);
        assert!(!tr.record(false, Some("down".into()), None));
        assert!(!tr.record(false, None, None));
        // A success in between restarts the count.
        assert!(!tr.record(true, None, None));
        assert!(!tr.record(false, None, None));
        assert!(!tr.record(false, None, None));
        assert!(tr.record(false, Some("still down".into()), None));
        assert!(!tr.is_good());
        assert_eq!(tr.last_reason(), Some("still down"));
        assert!(!tr.record(true, None, None));
        assert!(tr.record(true, None, None));
        assert!(tr.is_good());
    }

    #[test]
    fn weight_sign_rules_match_keepalived() {
        // Negative: subtracts while bad, nothing while good.
        let mut neg = t(-60, 1, 1);
        assert_eq!(neg.effect(), Effect::Weight(0));
        neg.record(false, None, None);
        assert_eq!(neg.effect(), Effect::Weight(-60));
        // Positive: adds while good, nothing while bad.
        let mut pos = t(50, 1, 1);
        assert_eq!(pos.effect(), Effect::Weight(50));
        pos.record(false, None, None);
        assert_eq!(pos.effect(), Effect::Weight(0));
        // Zero: FAULT while bad.
        let mut zero = t(0, 1, 1);
        assert_eq!(zero.effect(), Effect::Weight(0));
        zero.record(false, None, None);
        assert_eq!(zero.effect(), Effect::Fault);
        let [w, f] = zero.commands();
        assert_eq!(
            w,
            Command::SetWeight {
                source: "web".into(),
                weight: 0
            }
        );
        assert_eq!(
            f,
            Command::SetFault {
                cause: "track web failed".into(),
                active: true
            }
        );
    }

    #[test]
    fn a_result_can_override_the_weight() {
        let mut tr = t(50, 1, 1);
        assert!(tr.record(true, None, Some(20)));
        assert_eq!(tr.effect(), Effect::Weight(20));
        assert!(!tr.record(true, None, Some(20)));
        assert!(tr.record(true, None, Some(999)));
        assert_eq!(tr.effect(), Effect::Weight(253));
    }
}
