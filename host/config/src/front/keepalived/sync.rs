//! `vrrp_sync_group NAME { group { VI_1 VI_2 } notify_* "..." smtp_alert
//! track_script { .. } track_interface { .. } }`: the group, its notify
//! scripts, and its tracks, which apply to every member (a failed one puts
//! the whole group in FAULT, as keepalived does without
//! `sync_group_tracking_weight`).

use super::Reader;
use super::read::{Arity, split_lines};
use super::tree::Stmt;
use crate::origin::{FieldPath, Item};
use crate::schema::{instance, sync_group};
use crate::{InstanceNotify, SyncGroup};

pub(super) const SYNC_GROUP_ARITY: Arity = &[
    ("group", 0),
    ("notify_master", usize::MAX),
    ("notify_backup", usize::MAX),
    ("notify_fault", usize::MAX),
    ("notify_stop", usize::MAX),
    ("notify", usize::MAX),
    ("smtp_alert", 1),
    ("track_script", 0),
    ("track_interface", 0),
    ("track_file", 0),
    ("track_process", 0),
    ("global_tracking", 0),
    ("notify_priority_changes", 0),
    ("track_bfd", 0),
    ("sync_group_tracking_weight", 0),
];

impl Reader<'_> {
    /// The group's name, members and notify keys (its tracks wait for the
    /// instances: [`Reader::sync_group_tracks`]).
    pub(super) fn sync_group(&mut self, s: &Stmt) {
        let g = self.sync_groups.len();
        let item = Item::SyncGroup(g);
        let name = self.named(s, item, &sync_group::NAME);
        let mut sg = SyncGroup {
            name,
            instances: Vec::new(),
            notify: InstanceNotify::default(),
            tracking_weight: false,
        };
        if let Some(b) = self.block(s) {
            for k in split_lines(&b.stmts, SYNC_GROUP_ARITY) {
                self.sync_group_key(&k, g, &mut sg);
            }
        }
        self.sync_groups.push(sg);
    }

    fn sync_group_key(&mut self, k: &Stmt, g: usize, sg: &mut SyncGroup) {
        let item = Item::SyncGroup(g);
        let key = k.key.text.as_str();
        match key {
            "group" => {
                self.place(item, &sync_group::INSTANCES, k.key.at, "group");
                for line in self.items(k) {
                    self.no_more(line, 0);
                    let path = FieldPath::index(item, &sync_group::INSTANCES, sg.instances.len());
                    self.origins.place(path.clone(), line.key.at);
                    self.origins.name(path, "group");
                    sg.instances.push(line.key.text.clone());
                }
            }
            "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" | "notify" => {
                self.group_notify_script(k, g, sg)
            }
            "notify_priority_changes" => self.err(
                k.key.at,
                "`notify_priority_changes` is not supported: notices carry the priority of each transition",
            ),
            "track_bfd" => self.err(k.key.at, "`track_bfd`: BFD is not part of Baton"),
            "smtp_alert" => {
                self.place(item, &instance::SMTP_ALERT, k.key.at, key);
                sg.notify.smtp_alert = self.opt_bool(k);
            }
            // Read once the instances are known.
            "track_script" | "track_interface" | "track_file" | "track_process" => {}
            // `global_tracking` is its older name.
            "global_tracking" | "sync_group_tracking_weight" => {
                self.flag(k);
                self.place(item, &sync_group::TRACKING_WEIGHT, k.key.at, key);
                sg.tracking_weight = true;
            }
            _ => self.unknown(k, "vrrp_sync_group", SYNC_GROUP_ARITY),
        }
    }

    /// `notify_master "/path/script args"` of a group: a `[[notify.command]]`.
    fn group_notify_script(&mut self, k: &Stmt, g: usize, sg: &mut SyncGroup) {
        let name = sg.name.clone();
        self.notify_command(k, Item::SyncGroup(g), &name, &mut sg.notify);
    }

    /// Group `g`'s `track_*` blocks, given to each member that exists
    /// unless it tracks the same thing itself; then, without
    /// `sync_group_tracking_weight`, every member's weights are 0 (FAULT),
    /// as keepalived makes them.
    pub(super) fn sync_group_tracks(&mut self, s: &Stmt, g: usize) {
        let Some(sg) = self.sync_groups.get(g).cloned() else {
            return;
        };
        let idx: Vec<usize> = sg
            .instances
            .iter()
            .filter_map(|m| self.instances.iter().position(|i| i.name == *m))
            .collect();
        if let Some(b) = s.block.as_ref() {
            for k in split_lines(&b.stmts, SYNC_GROUP_ARITY) {
                match k.key.text.as_str() {
                    "track_interface" => {
                        let links = self.group_links(&k);
                        for &i in &idx {
                            self.add_group_links(i, &links);
                        }
                    }
                    "track_script" | "track_file" | "track_process" => {
                        for &i in &idx {
                            self.add_group_tracks(&k, i);
                        }
                    }
                    _ => {}
                }
            }
        }
        if !sg.tracking_weight {
            for &i in &idx {
                self.zero_weights(i, &sg.name);
            }
        }
    }

    /// A group's `track_interface` lines: (link, weight, where).
    fn group_links(&mut self, k: &Stmt) -> Vec<(String, i32, usize)> {
        let mut out = Vec::new();
        for line in self.items(k) {
            let weight = match line.args.first().map(|w| w.text.as_str()) {
                None => 0,
                Some("weight") => {
                    self.no_more(line, 2);
                    match line.args.get(1).and_then(|w| self.int(w, "weight", -254, 254)) {
                        Some(n) => n as i32,
                        None => continue,
                    }
                }
                Some(other) => {
                    let at = line.args[0].at;
                    self.err(at, format!("`{other}`: expected `weight N` after the interface"));
                    continue;
                }
            };
            out.push((line.key.text.clone(), weight, line.key.at));
        }
        out
    }

    fn add_group_links(&mut self, i: usize, links: &[(String, i32, usize)]) {
        for (name, weight, at) in links {
            let inst = &self.instances[i];
            if inst.track_interfaces.iter().any(|t| t.name == *name) {
                continue;
            }
            let k = inst.track_interfaces.len();
            let path = FieldPath::index(Item::Instance(i), &instance::TRACK_INTERFACES, k);
            self.origins.place(path.clone(), *at);
            self.origins.name(path, "track_interface");
            self.instances[i].track_interfaces.push(crate::TrackInterface {
                name: name.clone(),
                weight: *weight,
            });
        }
    }

    fn add_group_tracks(&mut self, k: &Stmt, i: usize) {
        let mut inst = self.instances[i].clone();
        let before = inst.tracks.len();
        self.tracks(k, i, &mut inst);
        let mut added = inst.tracks.split_off(before);
        added.retain(|t| !inst.tracks.iter().any(|o| o.name() == t.name()));
        inst.tracks.extend(added);
        self.instances[i] = inst;
    }

    /// keepalived ignores a sync group member's weights (without
    /// `sync_group_tracking_weight`): a failed track faults the group.
    fn zero_weights(&mut self, i: usize, group: &str) {
        let inst = &mut self.instances[i];
        let mut moved = Vec::new();
        for t in inst.track_interfaces.iter_mut().filter(|t| t.weight != 0) {
            moved.push(format!("track_interface {} (weight {})", t.name, t.weight));
            t.weight = 0;
        }
        for t in inst.tracks.iter_mut().filter(|t| t.weight != 0) {
            moved.push(format!("{} (weight {})", t.name(), t.weight));
            t.weight = 0;
        }
        if !moved.is_empty() {
            let note = format!(
                "{}: in sync group {group} without sync_group_tracking_weight, keepalived ignores the weights \
                 of {}: a failure puts the whole group in FAULT",
                inst.name,
                moved.join(", ")
            );
            self.notes.push((Item::Instance(i), note));
        }
    }
}
