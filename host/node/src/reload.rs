//! What a reload changes: the old config against the new, field by field.
//! Both configs are destructured without `..`, so a field added to the model
//! and not handled here does not compile.

use std::fmt;

use baton_config::{Config, InstanceConfig, SyncGroup};

/// One changed setting of an instance that keeps its identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Priority {
        from: u8,
        to: u8,
    },
    Vips,
    AdvertInterval,
    Version,
    Preempt,
    PreemptDelay,
    Accept,
    Auth,
    UnicastSrc,
    UnicastPeers,
    CheckUnicastSrc,
    TrackInterfaces,
    V3Checksum,
    CheckAdvAddr,
    Garp,
    Tracks,
    SplitBrain,
    Heartbeat,
    /// `smtp_alert` or a `notify_*` command: the notifier's, nothing here.
    Notify,
    /// Whether its own interface going down means FAULT.
    TrackPrimary,
    /// Its `[[sync_group]]` (membership, or the group's settings).
    SyncGroup,
    /// `excluded_vips`: added before the retired ones go, like VIPs.
    ExcludedVips,
    /// `routes`: new ones added (when Master) before retired ones go.
    Routes,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Change::Priority { from, to } => return write!(f, "priority {from} -> {to}"),
            Change::Vips => "vips",
            Change::AdvertInterval => "advert_interval",
            Change::Version => "version",
            Change::Preempt => "preempt",
            Change::PreemptDelay => "preempt_delay",
            Change::Accept => "accept",
            Change::Auth => "auth",
            Change::UnicastSrc => "unicast_src",
            Change::UnicastPeers => "unicast_peers",
            Change::CheckUnicastSrc => "check_unicast_src",
            Change::TrackInterfaces => "track_interfaces",
            Change::V3Checksum => "v3_checksum",
            Change::CheckAdvAddr => "check_adv_addr",
            Change::Garp => "garp",
            Change::Tracks => "tracks",
            Change::SplitBrain => "split_brain",
            Change::Heartbeat => "heartbeat",
            Change::Notify => "notify",
            Change::TrackPrimary => "track_primary",
            Change::SyncGroup => "sync_group",
            Change::ExcludedVips => "excluded_vips",
            Change::Routes => "routes",
        };
        f.write_str(s)
    }
}

/// What happens to one instance that is in both configs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstancePlan {
    Unchanged,
    /// Changed in place, with the least disruption.
    Changed(Vec<Change>),
    /// Its identity (interface, VRID, family) changed: it is another virtual
    /// router. The old one resigns (priority 0), the new one starts.
    Replace(&'static str),
}

/// The instance-level diff.
pub fn diff_instance(old: &InstanceConfig, new: &InstanceConfig) -> InstancePlan {
    let InstanceConfig {
        name: _,
        interface,
        vrid,
        priority,
        advert_interval,
        version,
        preempt,
        preempt_delay,
        accept,
        vips,
        auth,
        auth_keys,
        unicast_src,
        unicast_peers,
        check_unicast_src,
        track_interfaces,
        v3_checksum,
        check_adv_addr,
        garp,
        tracks,
        split_brain,
        heartbeat,
        notify,
        track_primary,
        excluded_vips,
        routes,
        vmac,
    } = new;
    if *interface != old.interface {
        return InstancePlan::Replace("interface");
    }
    // The macvlan is made once per instance: another one is another router
    // (its sockets and VIPs move to the new link).
    if *vmac != old.vmac {
        return InstancePlan::Replace("use_vmac");
    }
    if *vrid != old.vrid {
        return InstancePlan::Replace("vrid");
    }
    if new.family() != old.family() {
        return InstancePlan::Replace("address family");
    }
    let mut c = Vec::new();
    if *priority != old.priority {
        c.push(Change::Priority {
            from: old.priority,
            to: *priority,
        });
    }
    let flags = [
        (*vips != old.vips, Change::Vips),
        (*advert_interval != old.advert_interval, Change::AdvertInterval),
        (*version != old.version, Change::Version),
        (*preempt != old.preempt, Change::Preempt),
        (*preempt_delay != old.preempt_delay, Change::PreemptDelay),
        (*accept != old.accept, Change::Accept),
        (*auth != old.auth || *auth_keys != old.auth_keys, Change::Auth),
        (*unicast_src != old.unicast_src, Change::UnicastSrc),
        (*unicast_peers != old.unicast_peers, Change::UnicastPeers),
        (
            *check_unicast_src != old.check_unicast_src,
            Change::CheckUnicastSrc,
        ),
        (*track_interfaces != old.track_interfaces, Change::TrackInterfaces),
        (*v3_checksum != old.v3_checksum, Change::V3Checksum),
        (*check_adv_addr != old.check_adv_addr, Change::CheckAdvAddr),
        (*garp != old.garp, Change::Garp),
        (*tracks != old.tracks, Change::Tracks),
        (*split_brain != old.split_brain, Change::SplitBrain),
        (*heartbeat != old.heartbeat, Change::Heartbeat),
        (*notify != old.notify, Change::Notify),
        (*track_primary != old.track_primary, Change::TrackPrimary),
        (*excluded_vips != old.excluded_vips, Change::ExcludedVips),
        (*routes != old.routes, Change::Routes),
    ];
    c.extend(
        flags
            .into_iter()
            .filter(|(changed, _)| *changed)
            .map(|(_, ch)| ch),
    );
    if c.is_empty() {
        InstancePlan::Unchanged
    } else {
        InstancePlan::Changed(c)
    }
}

/// A whole reload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReloadPlan {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// (name, what changed its identity)
    pub replaced: Vec<(String, &'static str)>,
    pub changed: Vec<(String, Vec<Change>)>,
    pub unchanged: Vec<String>,
    /// Settings that take effect only at the next start.
    pub restart_needed: Vec<&'static str>,
    /// Policies, checks or remedies differ: checks are brought in line.
    pub checks_changed: bool,
    /// `[notify]` differs (the notifier's; the node has nothing to do).
    pub notify_changed: bool,
    pub router_id_changed: bool,
    /// `[[sync_group]]`s added, removed or changed (members or notify
    /// keys): the groups are settled again with their new members.
    pub sync_groups_changed: Vec<String>,
}

pub fn plan(old: &Config, new: &Config) -> ReloadPlan {
    let Config {
        path: _,
        format: _,
        router_id,
        socket,
        log_file,
        // Waited for once, at the start.
        startup_delay: _,
        // Where and how `oci://` policies are fetched: the components are
        // loaded from the new config at each reload anyway.
        policy_cache: _,
        insecure_registries: _,
        // Merged into each instance's own `garp`, compared there.
        garp: _,
        policies,
        checks,
        remedies,
        notify,
        instances,
        sync_groups,
    } = new;
    let mut p = ReloadPlan {
        router_id_changed: *router_id != old.router_id,
        checks_changed: *policies != old.policies || *checks != old.checks || *remedies != old.remedies,
        notify_changed: *notify != old.notify,
        ..ReloadPlan::default()
    };
    if *socket != old.socket {
        p.restart_needed.push("socket");
    }
    if *log_file != old.log_file {
        p.restart_needed.push("log_file");
    }
    p.sync_groups_changed = changed_groups(&old.sync_groups, sync_groups);
    let regrouped: Vec<&String> = old
        .sync_groups
        .iter()
        .chain(sync_groups)
        .filter(|g| p.sync_groups_changed.contains(&g.name))
        .flat_map(|g| &g.instances)
        .collect();
    for o in &old.instances {
        if !instances.iter().any(|n| n.name == o.name) {
            p.removed.push(o.name.clone());
        }
    }
    for n in instances {
        match old.instances.iter().find(|o| o.name == n.name) {
            None => p.added.push(n.name.clone()),
            Some(o) => match diff_instance(o, n) {
                InstancePlan::Unchanged if regrouped.contains(&&n.name) => {
                    p.changed.push((n.name.clone(), vec![Change::SyncGroup]));
                }
                InstancePlan::Unchanged => p.unchanged.push(n.name.clone()),
                InstancePlan::Changed(mut c) => {
                    if regrouped.contains(&&n.name) {
                        c.push(Change::SyncGroup);
                    }
                    p.changed.push((n.name.clone(), c));
                }
                InstancePlan::Replace(why) => p.replaced.push((n.name.clone(), why)),
            },
        }
    }
    group_peers_changed(&mut p, old, new);
    p
}

/// A member that changes (or comes or goes) may move the rest of its sync
/// group: those are not unchanged.
fn group_peers_changed(p: &mut ReloadPlan, old: &Config, new: &Config) {
    let touched: Vec<&String> = p
        .added
        .iter()
        .chain(&p.removed)
        .chain(p.replaced.iter().map(|(n, _)| n))
        .chain(p.changed.iter().map(|(n, _)| n))
        .collect();
    let moved: Vec<String> = old
        .sync_groups
        .iter()
        .chain(&new.sync_groups)
        .filter(|g| g.instances.iter().any(|m| touched.contains(&m)))
        .flat_map(|g| g.instances.iter().cloned())
        .collect();
    let (moved, kept): (Vec<String>, Vec<String>) = std::mem::take(&mut p.unchanged)
        .into_iter()
        .partition(|n| moved.contains(n));
    p.unchanged = kept;
    p.changed
        .extend(moved.into_iter().map(|n| (n, vec![Change::SyncGroup])));
}

/// The names of the groups that are new, gone or different, in order.
fn changed_groups(old: &[SyncGroup], new: &[SyncGroup]) -> Vec<String> {
    let gone = old.iter().filter(|o| !new.iter().any(|n| n.name == o.name));
    let changed = new.iter().filter(|n| !old.contains(n));
    gone.chain(changed).map(|g| g.name.clone()).collect()
}

impl fmt::Display for ReloadPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.added.is_empty() {
            parts.push(format!("added {}", self.added.join(", ")));
        }
        if !self.removed.is_empty() {
            parts.push(format!("removed {}", self.removed.join(", ")));
        }
        for (name, why) in &self.replaced {
            parts.push(format!("{name} replaced ({why} changed)"));
        }
        for (name, changes) in &self.changed {
            let c: Vec<String> = changes.iter().map(ToString::to_string).collect();
            parts.push(format!("{name}: {}", c.join(", ")));
        }
        if !self.sync_groups_changed.is_empty() {
            parts.push(format!(
                "sync groups {} updated",
                self.sync_groups_changed.join(", ")
            ));
        }
        if self.checks_changed {
            parts.push("policies/checks updated".to_string());
        }
        if self.notify_changed {
            parts.push("notify updated".to_string());
        }
        parts.push(format!("{} unchanged", self.unchanged.len()));
        if !self.restart_needed.is_empty() {
            parts.push(format!(
                "{} take effect at the next restart",
                self.restart_needed.join(", ")
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(extra: &str) -> InstanceConfig {
        let text = format!(
            "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\nvips = [\"192.0.2.3/24\"]\n{extra}\n"
        );
        let cfg = baton_config::parse(&text, std::path::Path::new("baton.toml")).expect("config");
        cfg.instances[0].clone()
    }

    #[test]
    fn a_changed_macvlan_replaces_the_instance() {
        let old = parsed("");
        assert_eq!(
            diff_instance(&old, &parsed("use_vmac = true")),
            InstancePlan::Replace("use_vmac")
        );
        let vmac = parsed("use_vmac = true");
        assert_eq!(
            diff_instance(&vmac, &parsed("use_vmac = \"vip51\"")),
            InstancePlan::Replace("use_vmac")
        );
        assert_eq!(
            diff_instance(&vmac, &parsed("use_vmac = true\nvmac_xmit_base = true")),
            InstancePlan::Replace("use_vmac")
        );
        assert_eq!(
            diff_instance(&vmac, &parsed("use_vmac = true")),
            InstancePlan::Unchanged
        );
    }

    #[test]
    fn routes_and_excluded_vips_change_in_place() {
        let old = parsed("");
        let new = parsed("routes = [\"198.51.100.0/24 via 192.0.2.1\"]\nexcluded_vips = [\"2001:db8::3\"]");
        assert_eq!(
            diff_instance(&old, &new),
            InstancePlan::Changed(vec![Change::ExcludedVips, Change::Routes])
        );
        assert_eq!(Change::Routes.to_string(), "routes");
    }
}
