//! Notify commands (keepalived's notify_master / notify_backup /
//! notify_fault / notify_stop / notify): for one instance they run one at a
//! time, in event order, each with a timeout the runner enforces; instances
//! do not wait for each other. keepalived forks them fire-and-forget, so a
//! slow notify_backup may still be running when notify_master starts.

use std::collections::{BTreeMap, VecDeque};

use crate::notice::{Kind, Notice};

/// One command to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRun {
    pub id: u64,
    /// The instance whose queue it is in.
    pub instance: String,
    /// The `[[notify.command]]` name, for logs.
    pub name: String,
    pub argv: Vec<String>,
}

/// Per-instance queues of commands.
#[derive(Debug, Default)]
pub struct Commands {
    queues: BTreeMap<String, VecDeque<CommandRun>>,
    running: BTreeMap<String, u64>,
    next_id: u64,
    pub started: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// keepalived's arguments for a transition: `INSTANCE NAME STATE PRIORITY`.
pub fn keepalived_args(n: &Notice) -> Vec<String> {
    if n.kind == Kind::SyncGroup {
        // keepalived's group notify: GROUP NAME STATE 0.
        return vec![
            "GROUP".to_string(),
            n.instance.clone().unwrap_or_default(),
            n.to.clone().unwrap_or_default().to_uppercase(),
            "0".to_string(),
        ];
    }
    if n.kind != Kind::Transition {
        return Vec::new();
    }
    vec![
        "INSTANCE".to_string(),
        n.instance.clone().unwrap_or_default(),
        n.to.clone().unwrap_or_default().to_uppercase(),
        n.effective_priority.map(|p| p.to_string()).unwrap_or_default(),
    ]
}

impl Commands {
    /// Queues `argv` (run as `name`) behind whatever `instance` has queued.
    pub fn push(&mut self, instance: &str, name: &str, argv: Vec<String>) {
        self.next_id += 1;
        self.queues
            .entry(instance.to_string())
            .or_default()
            .push_back(CommandRun {
                id: self.next_id,
                instance: instance.to_string(),
                name: name.to_string(),
                argv,
            });
    }

    /// The commands that may start now: the head of each idle instance's queue.
    pub fn poll_runs(&mut self) -> Vec<CommandRun> {
        let mut out = Vec::new();
        for (inst, q) in &mut self.queues {
            if self.running.contains_key(inst) {
                continue;
            }
            if let Some(run) = q.pop_front() {
                self.running.insert(inst.clone(), run.id);
                self.started += 1;
                out.push(run);
            }
        }
        self.queues.retain(|_, q| !q.is_empty());
        out
    }

    /// A command ended (`ok`: exit status 0 within its timeout).
    pub fn done(&mut self, instance: &str, id: u64, ok: bool) {
        if self.running.get(instance) == Some(&id) {
            self.running.remove(instance);
            if ok {
                self.succeeded += 1;
            } else {
                self.failed += 1;
            }
        }
    }

    pub fn queued(&self) -> usize {
        self.queues.values().map(VecDeque::len).sum()
    }

    /// Waiting (not running) for `instance`.
    pub fn queued_for(&self, instance: &str) -> usize {
        self.queues.get(instance).map_or(0, VecDeque::len)
    }

    /// Nothing queued or running.
    pub fn idle(&self) -> bool {
        self.queues.is_empty() && self.running.is_empty()
    }

    /// Forgets what has not started; returns how many.
    pub fn clear_queued(&mut self) -> usize {
        let n = self.queued();
        self.queues.clear();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instance_runs_in_order_one_at_a_time_others_do_not_wait() {
        let mut c = Commands::default();
        c.push("VI_1", "notify_backup", vec!["slow".into()]);
        c.push("VI_1", "notify_master", vec!["fast".into()]);
        c.push("VI_2", "notify_master", vec!["other".into()]);
        let first = c.poll_runs();
        let names: Vec<(&str, &str)> = first
            .iter()
            .map(|r| (r.instance.as_str(), r.argv[0].as_str()))
            .collect();
        assert_eq!(names, [("VI_1", "slow"), ("VI_2", "other")]);
        assert!(c.poll_runs().is_empty(), "VI_1's next waits for the slow one");
        c.done("VI_1", first[0].id, true);
        let next = c.poll_runs();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].argv, ["fast"]);
        c.done("VI_1", next[0].id, false);
        assert_eq!((c.started, c.succeeded, c.failed), (3, 1, 1));
    }

    #[test]
    fn keepalived_arguments_for_a_transition() {
        let mut n = Notice::transition("lb01", 0, "VI_1", "backup", "master", "x");
        n.effective_priority = Some(150);
        assert_eq!(keepalived_args(&n), ["INSTANCE", "VI_1", "MASTER", "150"]);
    }
}
