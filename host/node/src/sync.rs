//! Sync groups (keepalived's `vrrp_sync_group`, vrrp_sync.c): instances
//! of one node that change state together, so that the VIPs of two
//! networks (say a LAN side and a WAN side) stay on one router.
//!
//! The rules, applied by [`Node::settle_sync`] after anything that may
//! change a member's state:
//!
//! - FAULT together: while a member has a fault of its own, every other
//!   member has [`FaultCause::SyncGroup`] (keepalived's `vrrp_sync_fault`).
//! - BACKUP together: a member that is neither Master nor wanting to be
//!   one (it hears a better Master, or just started) holds every other
//!   member: a held Master resigns (priority 0), a held Backup stays one
//!   (`vrrp_sync_backup`).
//! - MASTER together: a member becomes Master only when every other one is
//!   Master or wants to be (its Master_Down_Timer fired while held, and it
//!   has accepted no Master's advert since): the last to want it releases
//!   the others, which claim at once (`vrrp_sync_can_goto_master`). A
//!   member with `preempt = false` that accepts a lower-priority Master
//!   does not want to be Master, so the group stays Backup: as keepalived,
//!   preemption is as each member decides it.
//!
//! The group's own state (FAULT if a member is in FAULT, MASTER if all
//! are, else BACKUP) is reported as [`Event::SyncGroup`] when it changes;
//! the group's notify commands follow it.

use baton_vrrp::{Command, State};
use std::time::Instant;

use crate::effect::{Effect, Event, FaultCause, InstanceId};
use crate::node::Node;

/// The hold cause a group puts on its members.
pub fn hold_cause(group: &str) -> String {
    format!("sync group {group}")
}

/// One group as the node runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRun {
    pub name: String,
    pub members: Vec<String>,
    /// The group's state last reported (none before the first).
    pub state: Option<State>,
}

impl GroupRun {
    pub fn of(cfg: &baton_config::Config) -> Vec<GroupRun> {
        cfg.sync_groups
            .iter()
            .map(|g| GroupRun {
                name: g.name.clone(),
                members: g.instances.clone(),
                state: None,
            })
            .collect()
    }
}

/// What one member contributes to the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Member {
    id: InstanceId,
    own_fault: bool,
    /// Master, or would be but for a hold.
    wants_master: bool,
    state: State,
}

/// The group's state from its members'.
fn group_state(members: &[(State, bool)]) -> Option<State> {
    if members.iter().all(|(s, _)| *s == State::Initialize) {
        None
    } else if members.iter().any(|(s, _)| *s == State::Fault) {
        Some(State::Fault)
    } else if members.iter().all(|(s, _)| *s == State::Master) {
        Some(State::Master)
    } else {
        Some(State::Backup)
    }
}

impl Node {
    fn sync_members(&self, g: usize) -> Vec<Member> {
        let group = &self.sync[g].name;
        self.sync[g]
            .members
            .iter()
            .filter_map(|name| self.by_name.get(name))
            .filter_map(|id| self.instances.get(id))
            .filter(|i| !i.removed)
            .map(|i| Member {
                id: i.id,
                own_fault: i
                    .faults
                    .iter()
                    .any(|c| !matches!(c, FaultCause::SyncGroup(n) if n == group)),
                wants_master: i.vrrp.state() == State::Master || i.vrrp.wants_master(),
                state: i.vrrp.state(),
            })
            .collect()
    }

    /// Applies the rules to every group until nothing changes (a released
    /// member that becomes Master may release the others).
    pub(crate) fn settle_sync(&mut self, now: Instant) {
        if !self.running {
            return;
        }
        // Each round can only move members towards the group's outcome;
        // the bound is a guard, not a tuning.
        for _ in 0..8 {
            let mut changed = false;
            for g in 0..self.sync.len() {
                changed |= self.settle_group(g, now);
            }
            if !changed {
                break;
            }
        }
        for g in 0..self.sync.len() {
            self.report_group(g);
            for m in self.sync_members(g) {
                self.touch(m.id);
            }
        }
    }

    /// One round for group `g`: whether any member's state changed.
    fn settle_group(&mut self, g: usize, now: Instant) -> bool {
        let members = self.sync_members(g);
        let group = self.sync[g].name.clone();
        let cause = hold_cause(&group);
        let mut changed = false;
        for m in &members {
            let others = members.iter().filter(|o| o.id != m.id);
            let fault = others.clone().any(|o| o.own_fault);
            let hold = others.clone().any(|o| !o.wants_master);
            let Some(inst) = self.instances.get_mut(&m.id) else {
                continue;
            };
            inst.set_fault(
                FaultCause::SyncGroup(group.clone()),
                fault,
                now,
                &mut self.effects,
            );
            inst.vrrp.handle_command(
                now,
                Command::SetHold {
                    cause: cause.clone(),
                    active: hold,
                },
            );
            inst.drain(now, &mut self.effects);
            changed |= inst.vrrp.state() != m.state;
        }
        changed
    }

    fn report_group(&mut self, g: usize) {
        let states: Vec<(State, bool)> = self
            .sync_members(g)
            .iter()
            .map(|m| (m.state, m.wants_master))
            .collect();
        let state = group_state(&states);
        let run = &mut self.sync[g];
        if state == run.state {
            return;
        }
        let from = std::mem::replace(&mut run.state, state);
        if let Some(to) = state {
            self.effects.push_back(Effect::Event(Event::SyncGroup {
                group: run.name.clone(),
                from,
                to,
            }));
        }
    }

    /// A reload's groups: members that left a group lose its fault and
    /// hold; the groups are settled again.
    pub(crate) fn resync(&mut self, now: Instant) {
        let new = GroupRun::of(&self.cfg);
        let old = std::mem::take(&mut self.sync);
        for g in &old {
            for name in &g.members {
                let still = new.iter().any(|n| n.name == g.name && n.members.contains(name));
                let Some(inst) = self.by_name.get(name).and_then(|id| self.instances.get_mut(id)) else {
                    continue;
                };
                if still {
                    continue;
                }
                inst.set_fault(
                    FaultCause::SyncGroup(g.name.clone()),
                    false,
                    now,
                    &mut self.effects,
                );
                inst.vrrp.handle_command(
                    now,
                    Command::SetHold {
                        cause: hold_cause(&g.name),
                        active: false,
                    },
                );
                inst.drain(now, &mut self.effects);
            }
        }
        self.sync = new
            .into_iter()
            .map(|mut n| {
                n.state = old.iter().find(|o| o.name == n.name).and_then(|o| o.state);
                n
            })
            .collect();
        self.settle_sync(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_in_fault_if_any_member_is_master_if_all_are_else_backup() {
        use State::*;
        assert_eq!(group_state(&[(Initialize, false), (Initialize, false)]), None);
        assert_eq!(group_state(&[(Master, true), (Fault, false)]), Some(Fault));
        assert_eq!(group_state(&[(Master, true), (Master, true)]), Some(Master));
        assert_eq!(group_state(&[(Master, true), (Backup, true)]), Some(Backup));
        assert_eq!(group_state(&[(Backup, false), (Initialize, false)]), Some(Backup));
    }
}
