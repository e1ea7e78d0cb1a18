//! `[[sync_group]]` and `track_interfaces` weights: the rules keepalived
//! only warns about are errors here (a group of one, an instance in two
//! groups, a member that does not exist).

use std::collections::HashMap;

use super::{Validator, did_you_mean};
use crate::origin::{FieldPath, Item};
use crate::schema::{instance, sync_group, track, track_interface};
use crate::vip::ifname_problem;
use crate::{InstanceConfig, Notify, SyncGroup};

impl Validator<'_, '_> {
    /// `track_interfaces`: names, no repeats, weights in range.
    pub(super) fn track_interface_links(&mut self, i: usize, inst: &InstanceConfig) {
        let item = Item::Instance(i);
        let mut seen: Vec<&str> = Vec::new();
        for (k, t) in inst.track_interfaces.iter().enumerate() {
            let at = FieldPath::index(item, &instance::TRACK_INTERFACES, k);
            if let Some(p) = ifname_problem(&t.name) {
                self.say(at, p);
                continue;
            } else if seen.contains(&t.name.as_str()) {
                self.say(at, format!("`{}` is listed twice", t.name));
                continue;
            } else if t.name != inst.interface {
                // The instance's own interface is always tracked.
                seen.push(&t.name);
            }
            self.int_range(
                Item::TrackInterface(i, k),
                &track_interface::WEIGHT,
                i64::from(t.weight),
            );
        }
    }

    /// Each group: a name of its own, at least two members, each an
    /// instance that is in no other group; its notify commands declared.
    pub(super) fn sync_groups(
        &mut self,
        groups: &[SyncGroup],
        instances: &[InstanceConfig],
        n: &Notify,
        commands: &[&str],
    ) {
        let names = groups
            .iter()
            .enumerate()
            .map(|(g, sg)| (Item::SyncGroup(g), &sync_group::NAME, sg.name.as_str()));
        let names: Vec<_> = names.collect();
        for (item, key, name) in &names {
            self.word(*item, key, name);
        }
        self.unique(names.into_iter(), "sync group");
        let known: Vec<&str> = instances.iter().map(|i| i.name.as_str()).collect();
        let mut member_of: HashMap<&str, (usize, usize)> = HashMap::new();
        for (g, sg) in groups.iter().enumerate() {
            let item = Item::SyncGroup(g);
            let list = FieldPath::key(item, &sync_group::INSTANCES);
            if !self.good(&list) {
                continue;
            }
            for (k, name) in sg.instances.iter().enumerate() {
                let at = FieldPath::index(item, &sync_group::INSTANCES, k);
                if !known.contains(&name.as_str()) {
                    let hint = did_you_mean(name, &known);
                    self.say(at, format!("no [[instance]] named `{name}`{hint}"));
                } else if let Some((first, fk)) = member_of.get(name.as_str()) {
                    let line = self.line(&FieldPath::index(
                        Item::SyncGroup(*first),
                        &sync_group::INSTANCES,
                        *fk,
                    ));
                    let what = if *first == g {
                        format!("`{name}` is listed twice")
                    } else {
                        format!(
                            "`{name}` is already in sync group `{}` (line {line}); an instance can be in one group only",
                            groups[*first].name
                        )
                    };
                    self.say(at, what);
                } else {
                    member_of.insert(name, (g, k));
                }
            }
            if sg.instances.len() < 2 {
                self.say(
                    list,
                    "a sync group needs at least two instances (one alone is not synced with anything)",
                );
            }
            self.group_notify(item, sg, n, commands);
            if !sg.tracking_weight {
                self.member_weights(sg, instances);
            }
        }
    }

    /// Without `tracking_weight`, a member's failed track faults the whole
    /// group: a weight there would not do what it says.
    fn member_weights(&mut self, sg: &SyncGroup, instances: &[InstanceConfig]) {
        let why = format!(
            "instance is in sync group `{}`, whose members fault together: use weight 0, or set \
             tracking_weight = true in the group",
            sg.name
        );
        for (i, inst) in instances.iter().enumerate() {
            if !sg.instances.contains(&inst.name) {
                continue;
            }
            for (k, t) in inst.track_interfaces.iter().enumerate() {
                let item = Item::TrackInterface(i, k);
                if t.weight != 0 && self.given(item, &track_interface::WEIGHT) {
                    self.say(FieldPath::key(item, &track_interface::WEIGHT), &why);
                } else if t.weight != 0 {
                    self.say(
                        FieldPath::index(Item::Instance(i), &instance::TRACK_INTERFACES, k),
                        &why,
                    );
                }
            }
            for (j, t) in inst.tracks.iter().enumerate() {
                if t.weight != 0 {
                    self.say(FieldPath::key(Item::Track(i, j), &track::WEIGHT), &why);
                }
            }
        }
    }

    fn group_notify(&mut self, item: Item, sg: &SyncGroup, n: &Notify, commands: &[&str]) {
        self.notify_keys(item, &sg.notify, n, commands);
    }
}
