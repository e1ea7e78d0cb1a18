//! Split-brain policies: the [`SplitBrain`] trait,
//! [`export_split_brain!`](crate::export_split_brain), VRRP's election order
//! ([`outranks`]) and helpers on the `brain` types ([`Evidence::claims_vips`],
//! [`Evidence::contested`], [`Decision::kind`]...).

use std::net::IpAddr;

use crate::brain_bindings;
use crate::{Decision, Evidence, Result, Settings, VrrpState};

/// What a split-brain policy implements. `decide` is called every `interval`
/// for each instance that names the policy in `[instance.split_brain]`, in a
/// fresh instance (nothing survives between calls; use [`Evidence::run`] and
/// [`Evidence::last_decision`] for history).
pub trait SplitBrain {
    /// Decides what this instance does about another holder of its VIPs.
    ///
    /// `Err(e)` is logged at warn and decides [`Decision::Stay`]: a policy
    /// that cannot decide (a bad setting, say) never takes the VIPs away.
    fn decide(settings: &Settings, evidence: &Evidence) -> Result<Decision>;
}

impl<T: SplitBrain> brain_bindings::Guest for T {
    fn decide(settings: Vec<(String, String)>, evidence: Evidence) -> Decision {
        let settings = Settings::from(settings);
        T::decide(&settings, &evidence).unwrap_or_else(|e| {
            crate::warn!("{e}; staying as VRRP says");
            Decision::Stay
        })
    }
}

/// Exports a [`SplitBrain`] implementation as this component's `decide`
/// (world `split-brain`).
///
/// ```rust
/// use baton_guest::{Decision, Evidence, Result, Settings, SplitBrain};
///
/// /// Alerts (never demotes) while another MAC answers for a VIP we hold.
/// struct Watch;
///
/// impl SplitBrain for Watch {
///     fn decide(_settings: &Settings, evidence: &Evidence) -> Result<Decision> {
///         if !evidence.claims_vips() {
///             return Ok(Decision::Stay);
///         }
///         Ok(match evidence.contested().next() {
///             Some((vip, macs)) => Decision::Alert(format!("VIP {vip} also answered by {}", macs.join(", "))),
///             None => Decision::Stay,
///         })
///     }
/// }
///
/// baton_guest::export_split_brain!(Watch);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_split_brain {
    ($ty:ident) => {
        $crate::brain_bindings::__export_split_brain_bindings!($ty with_types_in $crate::brain_bindings);
    };
}

/// VRRP's election order (RFC 5798 section 6.4.3): whether a router with
/// `priority` and primary `address` wins against one with `other_priority` and
/// `other_address`. The higher priority wins; on a tie, the numerically higher
/// primary address. `None` for a tie the addresses cannot break: one is
/// unknown or not an IP address, they are of different families, or the same.
pub fn outranks(
    priority: u8,
    address: Option<&str>,
    other_priority: u8,
    other_address: Option<&str>,
) -> Option<bool> {
    if priority != other_priority {
        return Some(priority > other_priority);
    }
    let ip = |a: Option<&str>| {
        a.and_then(|a| {
            a.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok()
        })
    };
    match (ip(address), ip(other_address)) {
        (Some(IpAddr::V4(a)), Some(IpAddr::V4(b))) if a != b => Some(a > b),
        (Some(IpAddr::V6(a)), Some(IpAddr::V6(b))) if a != b => Some(a > b),
        _ => None,
    }
}

impl Evidence {
    /// Whether this instance claims the VIPs: it is Master, or holds them.
    pub fn claims_vips(&self) -> bool {
        self.instance.state == VrrpState::Master || self.instance.holding_vips
    }

    /// Whether the previous decision was `kind` (`stay`, `demote`, `fault`,
    /// `alert`; see [`Decision::kind`]).
    pub fn last_decided(&self, kind: &str) -> bool {
        self.last_decision.as_deref() == Some(kind)
    }

    /// This instance's primary address, if known: `instance.master` while it
    /// is Master (the host names this node there then).
    pub fn own_address(&self) -> Option<&str> {
        match self.instance.state {
            VrrpState::Master => self.instance.master.as_deref(),
            _ => None,
        }
    }

    /// Each VIP that a MAC other than this node's answers for, with those MACs
    /// (`own_mac` is left out in any case, and so are empty entries).
    pub fn contested(&self) -> impl Iterator<Item = (&str, Vec<&str>)> {
        self.answers.iter().filter_map(|a| {
            let macs: Vec<&str> = a
                .others
                .iter()
                .map(|m| m.trim())
                .filter(|m| !m.is_empty() && !m.eq_ignore_ascii_case(self.own_mac.trim()))
                .collect();
            (!macs.is_empty()).then_some((a.vip.as_str(), macs))
        })
    }
}

impl Decision {
    /// The WIT case name: `stay`, `demote`, `fault` or `alert` (what the next
    /// evaluation's [`Evidence::last_decision`] says).
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Stay => "stay",
            Decision::Demote(_) => "demote",
            Decision::Fault(_) => "fault",
            Decision::Alert(_) => "alert",
        }
    }

    /// The reason or message, if the decision has one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Decision::Stay => None,
            Decision::Demote(r) | Decision::Fault(r) | Decision::Alert(r) => Some(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{InstanceStatus, VipAnswer};

    fn evidence(state: VrrpState, holding: bool) -> Evidence {
        Evidence {
            instance: InstanceStatus {
                name: "VI_1".into(),
                interface: "eth0".into(),
                vrid: 50,
                state,
                base_priority: 100,
                effective_priority: 100,
                master: Some("192.0.2.11".into()),
                vips: vec!["192.0.2.3/24".into()],
                holding_vips: holding,
            },
            own_mac: "00:00:5E:00:01:32".into(),
            peers: Vec::new(),
            answers: vec![
                VipAnswer {
                    vip: "192.0.2.3".into(),
                    others: vec!["00:00:5e:00:01:32".into(), "aa:bb:cc:dd:ee:ff".into()],
                    probed_ms_ago: Some(10),
                },
                VipAnswer {
                    vip: "192.0.2.4".into(),
                    others: vec![" ".into()],
                    probed_ms_ago: Some(10),
                },
            ],
            run: 3,
            last_decision: Some("demote".into()),
        }
    }

    #[test]
    fn election_order_is_priority_then_address() {
        assert_eq!(outranks(150, None, 100, None), Some(true));
        assert_eq!(outranks(100, Some("192.0.2.12"), 150, None), Some(false));
        assert_eq!(
            outranks(100, Some("192.0.2.12"), 100, Some("192.0.2.11")),
            Some(true)
        );
        // Numerically, not as text.
        assert_eq!(
            outranks(100, Some("192.0.2.9"), 100, Some("192.0.2.10")),
            Some(false)
        );
        assert_eq!(
            outranks(100, Some("[2001:db8::2]"), 100, Some("2001:db8::1")),
            Some(true)
        );
        for (a, b) in [
            (None, Some("192.0.2.1")),
            (Some("lb01"), Some("192.0.2.1")),
            (Some("2001:db8::1"), Some("192.0.2.1")),
            (Some("192.0.2.1"), Some("192.0.2.1")),
        ] {
            assert_eq!(outranks(100, a, 100, b), None, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn evidence_helpers() {
        let e = evidence(VrrpState::Master, true);
        assert!(e.claims_vips());
        assert!(evidence(VrrpState::Backup, true).claims_vips());
        assert!(!evidence(VrrpState::Backup, false).claims_vips());
        assert!(e.last_decided("demote") && !e.last_decided("stay"));
        assert_eq!(e.own_address(), Some("192.0.2.11"));
        assert_eq!(evidence(VrrpState::Backup, false).own_address(), None);
        let contested: Vec<_> = e.contested().collect();
        assert_eq!(contested, [("192.0.2.3", vec!["aa:bb:cc:dd:ee:ff"])]);
    }

    #[test]
    fn decision_kinds() {
        assert_eq!(Decision::Stay.kind(), "stay");
        assert_eq!(Decision::Stay.reason(), None);
        let d = Decision::Demote("peer outranks us".into());
        assert_eq!((d.kind(), d.reason()), ("demote", Some("peer outranks us")));
        assert_eq!(Decision::Fault("x".into()).kind(), "fault");
        assert_eq!(Decision::Alert("x".into()).kind(), "alert");
    }
}
