//! The node: every instance of one host, the sockets they share, their
//! checks, the firewall state and reloads. `handle_*` in, `poll_effect` /
//! `poll_timeout` out; the caller executes effects in order and answers
//! those that can fail.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_config::{Config, InstanceConfig, Vip};
use baton_vrrp::wire::{self, ParseOptions};
use baton_vrrp::{Command, DropCounters, DropReason, Family, RxMeta};

use crate::checks::Schedules;
use crate::effect::{
    CheckKey, CheckResult, CheckRun, Decision, Effect, Event, FaultCause, InstanceId, LogLevel, ProbePurpose,
    RunId, SocketKey, VipAnswer, VipOp, VmacSpec,
};
use crate::firewall::{self, Firewall};
use crate::instance::Heard;
use crate::instance::{HeartbeatPath, InstTrack, NodeInstance, socket_key, track_config};
use crate::notices::WallClock;
use crate::reload::{self, ReloadPlan};
use crate::timers::TimerIndex;
use baton_notify::{Kind, Notifier};

/// Advert sources: what only the host can tell. Each instance's primary
/// address (its interface's, or `unicast_src`), and the source on each of
/// its heartbeat interfaces that has no `source`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Primaries {
    instances: BTreeMap<String, IpAddr>,
    /// (instance, interface)
    paths: BTreeMap<(String, String), IpAddr>,
}

impl Primaries {
    pub fn new() -> Primaries {
        Primaries::default()
    }

    pub fn insert(&mut self, instance: String, addr: IpAddr) {
        self.instances.insert(instance, addr);
    }

    pub fn get(&self, instance: &str) -> Option<IpAddr> {
        self.instances.get(instance).copied()
    }

    /// The source of `instance`'s adverts on heartbeat `interface`.
    pub fn insert_path(&mut self, instance: String, interface: String, addr: IpAddr) {
        self.paths.insert((instance, interface), addr);
    }

    pub fn path(&self, instance: &str, interface: &str) -> Option<IpAddr> {
        self.paths
            .get(&(instance.to_string(), interface.to_string()))
            .copied()
    }
}

impl FromIterator<(String, IpAddr)> for Primaries {
    fn from_iter<I: IntoIterator<Item = (String, IpAddr)>>(iter: I) -> Primaries {
        Primaries {
            instances: iter.into_iter().collect(),
            paths: BTreeMap::new(),
        }
    }
}

/// Heartbeat paths by interface, then (family, VRID): (the peer's address
/// there, the instance).
type HeartbeatDemux = HashMap<String, HashMap<(Family, u8), Vec<(IpAddr, InstanceId)>>>;

/// An address present on the host, for reconciling leftovers at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresentAddr {
    pub dev: String,
    pub addr: IpAddr,
    pub prefix_len: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SocketOpen {
    Opening,
    Open,
    Failed {
        retry_at: Instant,
        streak: u32,
        error: String,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct SocketState {
    pub multicast: bool,
    pub open: SocketOpen,
    pub drops: DropCounters,
}

#[derive(Clone, Debug)]
pub(crate) struct LastReload {
    pub at: Instant,
    pub result: Result<String, String>,
}

/// One Baton node, sans IO.
#[derive(Debug)]
pub struct Node {
    pub(crate) cfg: Config,
    pub(crate) instances: BTreeMap<InstanceId, NodeInstance>,
    pub(crate) by_name: BTreeMap<String, InstanceId>,
    /// Interface -> (family, VRID) -> instance: looked up by `&str`, no
    /// allocation per packet.
    demux: HashMap<String, HashMap<(Family, u8), InstanceId>>,
    /// Looked up first: an advert from a heartbeat peer on its path.
    heartbeat_demux: HeartbeatDemux,
    timers: TimerIndex,
    pub(crate) sockets: BTreeMap<SocketKey, SocketState>,
    links: BTreeMap<String, bool>,
    /// Links deleted (by others) and not seen since: a macvlan deleted
    /// while its base was down is made again when the base comes up.
    gone: BTreeSet<String>,
    pub(crate) checks: Schedules,
    pub(crate) firewall: Firewall,
    pub(crate) effects: VecDeque<Effect>,
    next_id: u32,
    pub(crate) started_at: Option<Instant>,
    pub(crate) running: bool,
    pub(crate) generation: u64,
    pub(crate) last_reload: Option<LastReload>,
    pub(crate) reloads: u64,
    pub(crate) notifier: Notifier,
    /// The latest time the caller gave (none before the first call):
    /// notices and notify jobs are made when effects are polled, right after.
    pub(crate) now: Option<Instant>,
    pub(crate) wall: Option<WallClock>,
    /// `[[sync_group]]`s.
    pub(crate) sync: Vec<crate::sync::GroupRun>,
}

/// The sockets (multicast or not) a set of instances needs, or why it cannot
/// run: a VRID served twice on an interface, unicast and multicast mixed on
/// one source, a protocol config that does not validate.
type Layout = BTreeMap<SocketKey, bool>;

fn layout(cfg: &Config, primaries: &Primaries) -> Result<Layout, String> {
    let mut sockets: BTreeMap<SocketKey, bool> = BTreeMap::new();
    let mut demux = HashMap::new();
    let mut heartbeat_peers = std::collections::HashSet::new();
    for ic in &cfg.instances {
        let primary = primary_of(ic, primaries)?;
        let key = socket_key(ic, primary);
        let multicast = ic.unicast_peers.is_empty();
        if let Some(m) = sockets.get(&key)
            && *m != multicast
        {
            return Err(format!(
                "instance {}: mixing unicast and multicast instances on one source address ({key})",
                ic.name
            ));
        }
        sockets.insert(key, multicast);
        if demux
            .insert((ic.interface.clone(), ic.family(), ic.vrid), ic.name.clone())
            .is_some()
        {
            return Err(format!(
                "instance {}: VRID {} is already served on {}",
                ic.name, ic.vrid, ic.interface
            ));
        }
        baton_vrrp::Instance::new(ic.vrrp_config(primary))
            .map_err(|e| format!("instance {}: {e}", ic.name))?;
        for h in heartbeat_paths(ic, primaries)? {
            if sockets.get(&h.socket) == Some(&true) {
                return Err(format!(
                    "instance {}: heartbeat {} is unicast, and a multicast instance uses {}",
                    ic.name, h.socket.interface, h.socket
                ));
            }
            sockets.insert(h.socket.clone(), false);
            if !heartbeat_peers.insert((h.socket.interface, ic.family(), ic.vrid, h.peer)) {
                return Err(format!(
                    "instance {}: heartbeat peer {} on VRID {} is another instance's",
                    ic.name, h.peer, ic.vrid
                ));
            }
        }
    }
    Ok(sockets)
}

fn primary_of(ic: &InstanceConfig, primaries: &Primaries) -> Result<IpAddr, String> {
    primaries.get(&ic.name).ok_or_else(|| {
        format!(
            "instance {}: no address to send adverts from on {}",
            ic.name, ic.interface
        )
    })
}

/// An instance's heartbeat paths, with their sources.
fn heartbeat_paths(ic: &InstanceConfig, primaries: &Primaries) -> Result<Vec<HeartbeatPath>, String> {
    ic.heartbeat
        .iter()
        .map(|h| {
            let source = h
                .source
                .or_else(|| primaries.path(&ic.name, &h.interface))
                .ok_or_else(|| {
                    format!(
                        "instance {}: no address to send heartbeat adverts from on {}",
                        ic.name, h.interface
                    )
                })?;
            Ok(HeartbeatPath {
                socket: SocketKey {
                    interface: h.interface.clone(),
                    family: ic.family(),
                    source,
                },
                peer: h.peer,
                primary: h.primary,
            })
        })
        .collect()
}

impl Node {
    /// A node for `cfg`; nothing happens before [`Node::start`].
    pub fn new(cfg: Config, primaries: &Primaries) -> Result<Node, String> {
        let sockets = layout(&cfg, primaries)?;
        let mut node = Node {
            instances: BTreeMap::new(),
            by_name: BTreeMap::new(),
            demux: HashMap::new(),
            heartbeat_demux: HashMap::new(),
            timers: TimerIndex::default(),
            sockets: sockets
                .into_iter()
                .map(|(k, multicast)| {
                    (
                        k,
                        SocketState {
                            multicast,
                            open: SocketOpen::Opening,
                            drops: DropCounters::default(),
                        },
                    )
                })
                .collect(),
            links: BTreeMap::new(),
            gone: BTreeSet::new(),
            checks: Schedules::default(),
            firewall: Firewall::default(),
            effects: VecDeque::new(),
            next_id: 0,
            started_at: None,
            running: false,
            generation: 1,
            last_reload: None,
            reloads: 0,
            notifier: Notifier::new(&cfg),
            now: None,
            wall: None,
            sync: crate::sync::GroupRun::of(&cfg),
            cfg: cfg.clone(),
        };
        for ic in &cfg.instances {
            let primary = primary_of(ic, primaries)?;
            let paths = heartbeat_paths(ic, primaries)?;
            node.insert_instance(ic.clone(), primary, paths)?;
        }
        node.index_heartbeat();
        Ok(node)
    }

    /// Rebuilds the heartbeat demux from the instances (after any change).
    fn index_heartbeat(&mut self) {
        self.heartbeat_demux.clear();
        for inst in self.instances.values().filter(|i| !i.removed) {
            for h in &inst.heartbeat {
                self.heartbeat_demux
                    .entry(h.socket.interface.clone())
                    .or_default()
                    .entry((inst.cfg.family(), inst.cfg.vrid))
                    .or_default()
                    .push((h.peer, inst.id));
            }
        }
    }

    fn insert_instance(
        &mut self,
        ic: InstanceConfig,
        primary: IpAddr,
        paths: Vec<HeartbeatPath>,
    ) -> Result<InstanceId, String> {
        self.next_id += 1;
        let id = InstanceId(self.next_id);
        let mut inst = NodeInstance::new(id, ic, primary, paths)?;
        inst.wall = self.wall;
        self.demux
            .entry(inst.cfg.advert_interface().to_string())
            .or_default()
            .insert((inst.cfg.family(), inst.cfg.vrid), id);
        self.by_name.insert(inst.cfg.name.clone(), id);
        self.instances.insert(id, inst);
        Ok(id)
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn instance(&self, id: InstanceId) -> Option<&NodeInstance> {
        self.instances.get(&id)
    }

    pub fn instance_by_name(&self, name: &str) -> Option<&NodeInstance> {
        self.by_name.get(name).and_then(|id| self.instances.get(id))
    }

    /// The instances in service (not those a reload removed that still
    /// have VIPs to give back).
    pub fn instances(&self) -> impl Iterator<Item = &NodeInstance> {
        self.instances.values().filter(|i| !i.removed)
    }

    /// Every instance, removed ones still giving back VIPs included.
    pub fn all_instances(&self) -> impl Iterator<Item = &NodeInstance> {
        self.instances.values()
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Link state, before or after start (unknown links count as down).
    pub fn handle_link(&mut self, now: Instant, name: &str, up: bool) {
        self.now = Some(now);
        if up {
            self.gone.remove(name);
        }
        let before = self.links.insert(name.to_string(), up);
        if !self.running || before == Some(up) {
            return;
        }
        for inst in self.instances.values_mut().filter(|i| !i.removed) {
            let weight = inst.tracked_links().find(|(l, _)| *l == name).map(|(_, w)| w);
            if let Some(w) = weight {
                inst.apply_link(name, w, up, now, &mut self.effects);
            }
        }
        match (up, before) {
            (false, Some(true)) => self.vmac_lost(now, name),
            (true, _) => {
                self.vmac_back(now, name);
                self.remake_gone_vmacs(now, name);
            }
            _ => {}
        }
        self.settle_sync(now);
        self.touch_all();
    }

    /// A link was deleted: down, and remembered as gone until seen again.
    pub fn handle_link_removed(&mut self, now: Instant, name: &str) {
        self.gone.insert(name.to_string());
        self.handle_link(now, name, false);
    }

    /// Base `base` is up: our macvlans on it that were deleted while it was
    /// down (so no event of theirs says "down while the base is up") are
    /// made again, as [`Node::vmac_lost`] does.
    fn remake_gone_vmacs(&mut self, now: Instant, base: &str) {
        let lost: BTreeSet<String> = self
            .instances
            .values()
            .filter(|i| !i.removed)
            .filter_map(|i| VmacSpec::of(&i.cfg))
            .filter(|v| v.base == base && self.gone.contains(&v.name))
            .map(|v| v.name)
            .collect();
        for name in lost {
            self.vmac_lost(now, &name);
        }
    }

    /// One of our macvlans went down or away (by hand: `ip link del`) while
    /// its base is up: as keepalived does, it is made again. A socket on it
    /// fails now, which faults the instances on it, and the socket's retry
    /// makes the macvlan first and opens the socket on it again. An
    /// instance whose adverts leave from the base (`vmac_xmit_base`) is in
    /// FAULT until the new macvlan is up, which puts its VIPs back.
    fn vmac_lost(&mut self, now: Instant, name: &str) {
        let owners: Vec<(InstanceId, VmacSpec)> = self
            .instances
            .values()
            .filter(|i| !i.removed)
            .filter_map(|i| Some((i.id, VmacSpec::of(&i.cfg)?)))
            .filter(|(_, v)| v.name == name && self.link_up(&v.base))
            .collect();
        if owners.is_empty() {
            return;
        }
        let keys: Vec<SocketKey> = self
            .sockets
            .keys()
            .filter(|k| k.interface == name)
            .cloned()
            .collect();
        for key in &keys {
            let error = format!("macvlan {name} went down or away: making it again");
            self.socket_failed(now, key, error, 0);
        }
        for (id, vmac) in owners {
            let Some(inst) = self.instances.get_mut(&id) else {
                continue;
            };
            if inst.socket.interface == name {
                continue;
            }
            self.effects.push_back(Effect::Event(Event::NetFailed {
                instance: inst.cfg.name.clone(),
                what: format!("macvlan {name}"),
                error: "went down or away: making it again".to_string(),
            }));
            inst.set_fault(
                FaultCause::LinkDown(name.to_string()),
                true,
                now,
                &mut self.effects,
            );
            self.effects.push_back(Effect::CreateVmac { instance: id, vmac });
        }
    }

    /// A macvlan made again is up: out of the FAULT [`Node::vmac_lost`] put
    /// its instance in.
    fn vmac_back(&mut self, now: Instant, name: &str) {
        for inst in self.instances.values_mut().filter(|i| !i.removed) {
            if VmacSpec::of(&inst.cfg).is_some_and(|v| v.name == name) {
                inst.set_fault(
                    FaultCause::LinkDown(name.to_string()),
                    false,
                    now,
                    &mut self.effects,
                );
            }
        }
    }

    pub(crate) fn link_up(&self, name: &str) -> bool {
        self.links.get(name).copied().unwrap_or(false)
    }

    /// Opens the sockets, removes VIPs left by an earlier run, applies the
    /// accept rules, and starts every instance and check.
    pub fn start(&mut self, now: Instant, present: &[PresentAddr]) {
        self.now = Some(now);
        let n = self.notice(Kind::DaemonStart, now);
        self.notifier.submit(now, n);
        self.started_at = Some(now);
        self.running = true;
        // Macvlans first: their sockets open on them.
        for inst in self.instances.values() {
            if let Some(vmac) = VmacSpec::of(&inst.cfg) {
                self.effects.push_back(Effect::CreateVmac {
                    instance: inst.id,
                    vmac,
                });
            }
        }
        for (key, s) in &self.sockets {
            self.effects.push_back(Effect::OpenSocket {
                key: key.clone(),
                multicast: s.multicast,
            });
        }
        if let Some(drop) = self.firewall.want(firewall::desired(&self.cfg)) {
            self.effects.push_back(Effect::SetFirewall { drop });
        }
        let ids: Vec<InstanceId> = self.instances.keys().copied().collect();
        for id in ids {
            self.reconcile_leftovers(id, present, now);
            self.start_instance(id, now);
        }
        self.checks.sync(&self.cfg, now);
        self.run_due_checks(now);
        self.settle_sync(now);
        self.touch_all();
    }

    /// A killed earlier run may have left VIPs behind; an instance starts
    /// as non-Master, so they go before it joins.
    fn reconcile_leftovers(&mut self, id: InstanceId, present: &[PresentAddr], now: Instant) {
        let Some(inst) = self.instances.get_mut(&id) else {
            return;
        };
        let left: Vec<Vip> = inst
            .cfg
            .held_addresses()
            .iter()
            .filter(|v| {
                present
                    .iter()
                    .any(|p| p.dev == v.dev && p.addr == v.addr && p.prefix_len == v.prefix_len)
            })
            .cloned()
            .collect();
        for v in left {
            if inst.vips.mark_leftover(&v) {
                self.effects.push_back(Effect::Event(Event::Leftover {
                    instance: inst.cfg.name.clone(),
                    vip: v,
                }));
            }
        }
        let reqs = inst.vips.set_wanted(false, now);
        for r in reqs {
            if let crate::vips::VipRequest::Remove(vip) = r {
                self.effects.push_back(Effect::RemoveVip { instance: id, vip });
            }
        }
    }

    /// Link faults, tracker effects (a positive weight counts from the
    /// start, as does an init_fail one's penalty), then Start.
    fn start_instance(&mut self, id: InstanceId, now: Instant) {
        let links: Vec<(String, i32, bool)> = {
            let inst = &self.instances[&id];
            inst.tracked_links()
                .map(|(l, w)| (l.to_string(), w, self.link_up(l)))
                .collect()
        };
        let socket_failed = self
            .sockets
            .get(&self.instances[&id].socket)
            .is_some_and(|s| matches!(s.open, SocketOpen::Failed { .. }));
        let inst = self.instances.get_mut(&id).expect("instance");
        for (name, weight, up) in links {
            if !up {
                inst.apply_link(&name, weight, false, now, &mut self.effects);
            }
        }
        if socket_failed {
            let ifname = inst.cfg.interface.clone();
            inst.set_fault(FaultCause::NoSocket(ifname), true, now, &mut self.effects);
        }
        for i in 0..inst.tracks.len() {
            inst.apply_track(i, now, &mut self.effects);
        }
        inst.start_brain(now);
        inst.vrrp.handle_command(now, Command::Start);
        inst.drain(now, &mut self.effects);
    }

    /// Resigns every instance (priority 0 from a Master), removes the VIPs
    /// and the accept rules.
    pub fn shutdown(&mut self, now: Instant) {
        self.now = Some(now);
        let n = self.notice(Kind::DaemonStop, now);
        self.notifier.submit(now, n);
        self.running = false;
        for inst in self.instances.values_mut() {
            inst.vrrp.handle_command(now, Command::Shutdown);
            inst.drain(now, &mut self.effects);
            // After the priority-0 advert it sends from the macvlan.
            if let Some(vmac) = VmacSpec::of(&inst.cfg) {
                self.effects.push_back(Effect::DeleteVmac {
                    instance: inst.id,
                    vmac,
                });
            }
        }
        if let Some(drop) = self.firewall.want(Vec::new()) {
            self.effects.push_back(Effect::SetFirewall { drop });
        }
        self.touch_all();
    }

    /// After [`Node::shutdown`]: nothing is held or in flight any more.
    pub fn is_settled(&self) -> bool {
        self.effects.is_empty()
            && self
                .instances
                .values()
                .all(|i| i.vips.settled_absent() && i.routes.settled_absent())
    }

    pub fn poll_effect(&mut self) -> Option<Effect> {
        let now = self.now?;
        if let Some(e) = self.effects.pop_front() {
            if let Effect::Event(ev) = &e
                && let Some(n) = self.notice_of(ev, now)
            {
                self.notifier.submit(now, n);
            }
            return Some(e);
        }
        if let Some(w) = self.notifier.poll_warning() {
            return Some(Effect::Event(Event::Notify { message: w }));
        }
        self.notifier.poll_job(now).map(Effect::Notify)
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let sockets = self.sockets.values().filter_map(|s| match s.open {
            SocketOpen::Failed { retry_at, .. } => Some(retry_at),
            _ => None,
        });
        self.timers
            .first()
            .into_iter()
            .chain(sockets)
            .chain(self.checks.next())
            .chain(self.firewall.next())
            .chain(self.notifier.poll_timeout())
            .min()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        for id in self.timers.due(now) {
            if let Some(inst) = self.instances.get_mut(&id) {
                inst.handle_timeout(now, &mut self.effects);
            }
            self.touch(id);
        }
        self.settle_sync(now);
        for (key, s) in &mut self.sockets {
            if let SocketOpen::Failed { retry_at, .. } = s.open
                && retry_at <= now
            {
                s.open = SocketOpen::Opening;
                // A socket on a macvlan that could not be made: make it again first.
                for inst in self.instances.values().filter(|i| !i.removed) {
                    if let Some(vmac) = VmacSpec::of(&inst.cfg).filter(|v| v.name == key.interface) {
                        self.effects.push_back(Effect::CreateVmac {
                            instance: inst.id,
                            vmac,
                        });
                    }
                }
                self.effects.push_back(Effect::OpenSocket {
                    key: key.clone(),
                    multicast: s.multicast,
                });
            }
        }
        if let Some(drop) = self.firewall.handle_timeout(now) {
            self.effects.push_back(Effect::SetFirewall { drop });
        }
        self.reap_removed();
        if self.running {
            self.run_due_checks(now);
        }
    }

    /// An advert received on `socket` at `now`: demultiplexed by interface,
    /// family and VRID, parsed with that instance's options.
    pub fn handle_packet(&mut self, now: Instant, socket: &SocketKey, payload: &[u8], meta: &RxMeta) {
        self.now = Some(now);
        let Some(&vrid) = payload.get(1) else {
            self.handle_socket_drop(socket, DropReason::Truncated);
            return;
        };
        if let Some(id) = self.heartbeat_peer(socket, vrid, meta.src) {
            self.handle_heartbeat(now, id, socket, payload, meta);
            return;
        }
        let id = self
            .demux
            .get(socket.interface.as_str())
            .and_then(|m| m.get(&(socket.family, vrid)))
            .copied();
        let Some(inst) = id.and_then(|id| self.instances.get_mut(&id)) else {
            // Check the packet first: garbage is counted as what it is.
            let reason = match wire::parse(payload, meta, &ParseOptions::default()) {
                Ok(_) => DropReason::UnknownVrid,
                Err(r) => r,
            };
            self.handle_socket_drop(socket, reason);
            return;
        };
        let opts = ParseOptions {
            v3_ipv4_checksum: inst.cfg.v3_checksum,
            hmac_trailer: inst.cfg.auth.authenticates(),
        };
        match wire::parse_ext(payload, meta, &opts) {
            Ok(parsed) => {
                let multicast = self.sockets.get(socket).is_some_and(|s| s.multicast);
                let from = Heard {
                    wire_src: meta.src,
                    src: meta.src,
                    interface: &socket.interface,
                    multicast,
                };
                inst.receive(now, &from, &parsed, payload, &mut self.effects);
                inst.drain(now, &mut self.effects);
                let id = inst.id;
                self.touch(id);
                self.settle_sync(now);
            }
            Err(reason) => inst.vrrp.count_drop(reason),
        }
    }

    /// The instance whose heartbeat peer `src` is, on `socket`'s interface.
    fn heartbeat_peer(&self, socket: &SocketKey, vrid: u8, src: IpAddr) -> Option<InstanceId> {
        self.heartbeat_demux
            .get(socket.interface.as_str())?
            .get(&(socket.family, vrid))?
            .iter()
            .find(|(peer, _)| *peer == src)
            .map(|(_, id)| *id)
    }

    /// An advert from a heartbeat peer: checked as it came (the checksum
    /// covers its real addresses), then taken as from the peer's main-path
    /// address, so that the state machine sees one peer, whichever path
    /// delivers.
    fn handle_heartbeat(
        &mut self,
        now: Instant,
        id: InstanceId,
        socket: &SocketKey,
        payload: &[u8],
        meta: &RxMeta,
    ) {
        let Some(inst) = self.instances.get_mut(&id) else {
            return;
        };
        let Some(primary) = inst
            .heartbeat
            .iter()
            .find(|h| h.socket.interface == socket.interface && h.peer == meta.src)
            .map(|h| h.primary)
        else {
            return;
        };
        let opts = ParseOptions {
            v3_ipv4_checksum: inst.cfg.v3_checksum,
            hmac_trailer: inst.cfg.auth.authenticates(),
        };
        match wire::parse_ext(payload, meta, &opts) {
            Ok(parsed) => {
                let from = Heard {
                    wire_src: meta.src,
                    src: primary,
                    interface: &socket.interface,
                    multicast: false,
                };
                inst.receive(now, &from, &parsed, payload, &mut self.effects);
                inst.drain(now, &mut self.effects);
                self.touch(id);
                self.settle_sync(now);
            }
            Err(reason) => inst.vrrp.count_drop(reason),
        }
    }

    /// Re-reads instance `id`'s next deadline after anything touched it.
    pub(crate) fn touch(&mut self, id: InstanceId) {
        let next = self.instances.get(&id).and_then(NodeInstance::poll_timeout);
        self.timers.set(id, next);
    }

    /// The same for every instance (after what may touch many).
    fn touch_all(&mut self) {
        self.timers.clear();
        for (id, inst) in &self.instances {
            self.timers.set(*id, inst.poll_timeout());
        }
    }

    /// Where the timer index disagrees with the instances (for the
    /// simulator): (instance, indexed, actual).
    pub fn timer_mismatches(&self) -> Vec<(String, Option<Instant>, Option<Instant>)> {
        self.instances
            .values()
            .filter(|i| self.timers.get(i.id) != i.poll_timeout())
            .map(|i| (i.cfg.name.clone(), self.timers.get(i.id), i.poll_timeout()))
            .collect()
    }

    /// A packet the socket refused before it had a VRID (bad IP header...).
    pub fn handle_socket_drop(&mut self, socket: &SocketKey, reason: DropReason) {
        if let Some(s) = self.sockets.get_mut(socket) {
            s.drops.count(reason);
        }
    }

    pub fn handle_socket_result(&mut self, now: Instant, key: &SocketKey, r: Result<(), String>) {
        self.now = Some(now);
        let Some(s) = self.sockets.get_mut(key) else {
            return;
        };
        match r {
            Ok(()) => {
                s.open = SocketOpen::Open;
                self.socket_fault(now, key, false);
            }
            Err(error) => {
                let streak = match &s.open {
                    SocketOpen::Failed { streak, .. } => streak + 1,
                    _ => 1,
                };
                self.socket_failed(now, key, error, streak);
            }
        }
        self.settle_sync(now);
        self.touch_all();
    }

    /// The socket is not open: tried again at once (`streak` 0) or after a
    /// backoff that doubles with each failure in a row; its instances are
    /// in FAULT until it is.
    fn socket_failed(&mut self, now: Instant, key: &SocketKey, error: String, streak: u32) {
        let Some(s) = self.sockets.get_mut(key) else {
            return;
        };
        let backoff = match streak {
            0 => Duration::ZERO,
            n => Duration::from_millis(100u64 << n.min(8)).min(Duration::from_secs(30)),
        };
        s.open = SocketOpen::Failed {
            retry_at: now + backoff,
            streak,
            error: error.clone(),
        };
        self.effects.push_back(Effect::Event(Event::SocketFailed {
            key: key.clone(),
            error,
        }));
        self.socket_fault(now, key, true);
    }

    fn socket_fault(&mut self, now: Instant, key: &SocketKey, fault: bool) {
        for inst in self
            .instances
            .values_mut()
            .filter(|i| i.socket == *key && !i.removed)
        {
            let ifname = inst.cfg.interface.clone();
            inst.set_fault(FaultCause::NoSocket(ifname), fault, now, &mut self.effects);
        }
    }

    pub fn handle_vip_result(
        &mut self,
        now: Instant,
        id: InstanceId,
        vip: &Vip,
        op: VipOp,
        r: Result<(), String>,
    ) {
        if let Some(inst) = self.instances.get_mut(&id) {
            inst.vip_result(vip, op, r, now, &mut self.effects);
        }
        self.touch(id);
        self.settle_sync(now);
        self.reap_removed();
    }

    pub fn handle_firewall_result(&mut self, now: Instant, r: Result<(), String>) {
        self.now = Some(now);
        let asked = self.firewall.wanted().len();
        let failed = r.as_ref().err().cloned();
        let next = self.firewall.result(r, now);
        if asked > 0 {
            self.effects.push_back(Effect::Event(Event::Firewall {
                drop: asked,
                error: failed,
            }));
        }
        if let Some(drop) = next {
            self.effects.push_back(Effect::SetFirewall { drop });
        }
    }

    /// A probe of instance `id`'s VIPs was answered (or failed).
    pub fn handle_probe_result(
        &mut self,
        now: Instant,
        id: InstanceId,
        purpose: ProbePurpose,
        r: Result<Vec<VipAnswer>, String>,
    ) {
        self.now = Some(now);
        if let Some(inst) = self.instances.get_mut(&id) {
            inst.probe_result(purpose, r, now, &mut self.effects);
            self.touch(id);
            self.settle_sync(now);
        }
    }

    /// Instance `id`'s split-brain evaluation `run` decided (or failed).
    pub fn handle_brain_result(
        &mut self,
        now: Instant,
        id: InstanceId,
        run: u64,
        r: Result<Decision, String>,
    ) {
        self.now = Some(now);
        if let Some(inst) = self.instances.get_mut(&id) {
            inst.brain_result(run, r, now, &mut self.effects);
            self.touch(id);
            self.settle_sync(now);
        }
    }

    /// An evaluation ended: the check's statistics, then every instance
    /// tracking it applies the result with its own weight, rise and fall.
    pub fn handle_check_result(&mut self, now: Instant, run: RunId, key: &CheckKey, r: CheckResult) {
        self.now = Some(now);
        if r.busy && self.checks.defer_busy(run, key, now) {
            return;
        }
        let Some(done) = self.checks.complete(run, key, &r, now) else {
            return;
        };
        // A policy's warnings reach the log when its result changes (or on
        // its first run); every 10 ms otherwise, a chatty policy would flood it.
        let loud = done.result_changed || done.first;
        for (level, message) in r.logs.iter().cloned() {
            let level = if loud { level } else { LogLevel::Debug };
            self.effects.push_back(Effect::Event(Event::PolicyLog {
                key: key.clone(),
                level,
                message,
            }));
        }
        if done.result_changed {
            self.effects.push_back(Effect::Event(Event::CheckResult {
                key: key.clone(),
                healthy: r.healthy,
                reason: r.reason.clone(),
                run: self.checks.get(key).map_or(0, |s| s.stats.runs),
                elapsed: r.elapsed,
            }));
        }
        for inst in self.instances.values_mut().filter(|i| !i.removed) {
            inst.check_result(key, &r, now, &mut self.effects);
        }
        self.settle_sync(now);
        self.touch_all();
        if self.running {
            self.run_due_checks(now);
        }
    }

    fn run_due_checks(&mut self, now: Instant) {
        let due = self.checks.start_due(now);
        if due.is_empty() {
            return;
        }
        let all = Arc::new(self.instances().map(NodeInstance::facts).collect::<Vec<_>>());
        for (run, key) in due {
            let Some(s) = self.checks.get(&key) else { continue };
            let instance = match &key {
                CheckKey::Node(_) => None,
                CheckKey::Track { instance, .. } => all.iter().find(|f| f.name == *instance).cloned(),
            };
            self.effects.push_back(Effect::RunCheck(Box::new(CheckRun {
                run,
                key: key.clone(),
                policy: s.policy.clone(),
                settings: s.settings.clone(),
                timeout: s.timeout,
                router_id: self.cfg.router_id.clone(),
                instance,
                instances: all.clone(),
                runs: s.stats.runs,
                last_healthy: s.stats.last_healthy,
            })));
        }
    }

    /// Drops instances a reload removed once they hold nothing any more.
    fn reap_removed(&mut self) {
        let timers = &mut self.timers;
        self.instances.retain(|id, i| {
            let keep = !(i.removed && i.vips.settled_absent() && i.routes.settled_absent());
            if !keep {
                timers.set(*id, None);
            }
            keep
        });
    }

    /// A reload that could not even be read (syntax, validation, a policy
    /// that does not load): nothing changes; status says why.
    pub fn reload_failed(&mut self, now: Instant, error: String) {
        self.now = Some(now);
        self.effects
            .push_back(Effect::Event(Event::ReloadFailed { error: error.clone() }));
        self.reloads += 1;
        self.last_reload = Some(LastReload {
            at: now,
            result: Err(error),
        });
    }

    /// Applies a new config. An unchanged instance notices nothing; a
    /// changed one changes in place with the least disruption; an identity
    /// change is a resignation plus a new instance. On error nothing changes.
    pub fn reload(&mut self, now: Instant, cfg: Config, primaries: &Primaries) -> Result<ReloadPlan, String> {
        self.now = Some(now);
        let sockets = match layout(&cfg, primaries) {
            Ok(s) => s,
            Err(e) => {
                self.reload_failed(now, e.clone());
                return Err(e);
            }
        };
        let plan = reload::plan(&self.cfg, &cfg);
        // Everything that can fail is checked above; from here on it applies.
        for name in plan.removed.iter().chain(plan.replaced.iter().map(|(n, _)| n)) {
            self.retire(name, now);
        }
        for (name, _) in &plan.changed {
            let (Some(new), Some(&id)) = (cfg.instance(name), self.by_name.get(name)) else {
                continue;
            };
            // layout() resolved both.
            let (Some(primary), Ok(paths)) = (primaries.get(name), heartbeat_paths(new, primaries)) else {
                continue;
            };
            self.change_instance(id, new.clone(), primary, paths, now);
        }
        for name in plan.added.iter().chain(plan.replaced.iter().map(|(n, _)| n)) {
            let Some(ic) = cfg.instance(name) else { continue };
            let (Some(primary), Ok(paths)) = (primaries.get(name), heartbeat_paths(ic, primaries)) else {
                continue;
            };
            match self.insert_instance(ic.clone(), primary, paths) {
                Ok(id) => {
                    self.effects.push_back(Effect::Event(Event::InstanceAdded {
                        instance: name.clone(),
                    }));
                    if let Some(vmac) = VmacSpec::of(ic).filter(|_| self.running) {
                        self.effects.push_back(Effect::CreateVmac { instance: id, vmac });
                    }
                    if self.running {
                        self.start_instance(id, now);
                    }
                }
                // layout() built every instance already.
                Err(e) => self
                    .effects
                    .push_back(Effect::Event(Event::ReloadFailed { error: e })),
            }
        }
        self.index_heartbeat();
        self.notifier.reconfigure(now, &cfg);
        self.cfg = cfg;
        self.sync_sockets(sockets);
        self.reopen_on_recreated(&plan);
        self.checks.sync(&self.cfg, now);
        if let Some(drop) = self.firewall.want(firewall::desired(&self.cfg)) {
            self.effects.push_back(Effect::SetFirewall { drop });
        }
        self.resync(now);
        self.generation += 1;
        let summary = plan.to_string();
        self.effects.push_back(Effect::Event(Event::Reloaded {
            generation: self.generation,
            summary: summary.clone(),
        }));
        self.reloads += 1;
        self.last_reload = Some(LastReload {
            at: now,
            result: Ok(summary),
        });
        self.touch_all();
        self.reap_removed();
        if self.running {
            self.run_due_checks(now);
        }
        Ok(plan)
    }

    /// A removed instance resigns (priority 0 if Master) and gives its VIPs back.
    fn retire(&mut self, name: &str, now: Instant) {
        let Some(id) = self.by_name.remove(name) else {
            return;
        };
        let Some(inst) = self.instances.get_mut(&id) else {
            return;
        };
        inst.removed = true;
        inst.vrrp.handle_command(now, Command::Shutdown);
        inst.drain(now, &mut self.effects);
        if let Some(vmac) = VmacSpec::of(&inst.cfg) {
            self.effects.push_back(Effect::DeleteVmac { instance: id, vmac });
        }
        for m in self.demux.values_mut() {
            m.retain(|_, v| *v != id);
        }
        self.effects.push_back(Effect::Event(Event::InstanceRemoved {
            instance: name.to_string(),
        }));
    }

    fn change_instance(
        &mut self,
        id: InstanceId,
        new: InstanceConfig,
        primary: IpAddr,
        paths: Vec<HeartbeatPath>,
        now: Instant,
    ) {
        let Some(inst) = self.instances.get_mut(&id) else {
            return;
        };
        let out = &mut self.effects;
        let old = std::mem::replace(&mut inst.cfg, new.clone());
        if old.priority != new.priority {
            out.push_back(Effect::Event(Event::PriorityChanged {
                instance: new.name.clone(),
                from: old.priority,
                to: new.priority,
            }));
        }
        // layout() validated this config.
        let _ = inst.vrrp.reconfigure(now, new.vrrp_config(primary));
        inst.primary = primary;
        inst.socket = socket_key(&new, primary);
        inst.announce
            .reconfigure(&new.garp, now, inst.vips.held().next().is_some());
        let reqs = inst.vips.reconfigure(&new.held_addresses(), now);
        for r in reqs {
            out.push_back(match r {
                crate::vips::VipRequest::Add(vip) => Effect::AddVip { instance: id, vip },
                crate::vips::VipRequest::Remove(vip) => Effect::RemoveVip { instance: id, vip },
            });
        }
        let reqs = inst.routes.reconfigure(&new.held_routes(), now);
        inst.request_routes(reqs, out);
        // Links: faults and weights for what is tracked now, none for what is not.
        let tracked: Vec<(String, i32)> = inst.tracked_links().map(|(l, w)| (l.to_string(), w)).collect();
        let before = old.track_interfaces.iter().map(|t| t.name.clone());
        for l in before.chain(std::iter::once(old.interface.clone())) {
            if !tracked.iter().any(|(t, _)| *t == l) {
                inst.apply_link(&l, 0, true, now, out);
            }
        }
        for (l, w) in tracked {
            let up = self.links.get(&l).copied().unwrap_or(false);
            // Sets both the fault and the weight: a weight that changed
            // to or from 0 leaves nothing of the other behind.
            inst.apply_link(&l, w, up, now, out);
        }
        // Tracks: same name and tracker settings keep their state.
        let mut old_tracks = std::mem::take(&mut inst.tracks);
        let mut tracks = Vec::new();
        let mut fresh = Vec::new();
        for t in &new.tracks {
            match old_tracks.iter().position(|o| o.cfg.name() == t.name()) {
                Some(k) => {
                    let mut kept = old_tracks.remove(k);
                    if track_config(&kept.cfg) != track_config(t) || kept.cfg.policy != t.policy {
                        kept = InstTrack::new(&new.name, t.clone());
                        fresh.push(tracks.len());
                    } else {
                        kept.key = crate::checks::track_key(&new.name, t);
                        kept.cfg = t.clone();
                    }
                    tracks.push(kept);
                }
                None => {
                    fresh.push(tracks.len());
                    tracks.push(InstTrack::new(&new.name, t.clone()));
                }
            }
        }
        inst.tracks = tracks;
        for gone in old_tracks {
            inst.clear_track(gone.cfg.name(), now, out);
        }
        for i in fresh {
            inst.apply_track(i, now, out);
        }
        if old.split_brain != new.split_brain {
            if new.split_brain.is_none() {
                inst.brain_result_cleared(now, out);
            }
            inst.start_brain(now);
        }
        for p in &new.unicast_peers {
            inst.brain.peers.entry(*p).or_default();
        }
        inst.set_heartbeat(paths);
        inst.drain(now, out);
        for m in self.demux.values_mut() {
            m.retain(|_, v| *v != id);
        }
        self.demux
            .entry(new.advert_interface().to_string())
            .or_default()
            .insert((new.family(), new.vrid), id);
    }

    /// A replaced instance's macvlan was deleted and created again: a
    /// socket kept on it is bound to the old link, so it opens again.
    fn reopen_on_recreated(&mut self, plan: &ReloadPlan) {
        if !self.running {
            return;
        }
        let names: Vec<String> = plan
            .replaced
            .iter()
            .filter_map(|(n, _)| self.cfg.instance(n))
            .filter_map(|ic| ic.vmac.as_ref().map(|v| v.name.clone()))
            .collect();
        for (key, s) in self.sockets.iter_mut() {
            if names.contains(&key.interface) && !matches!(s.open, SocketOpen::Opening) {
                s.open = SocketOpen::Opening;
                self.effects.push_back(Effect::CloseSocket { key: key.clone() });
                self.effects.push_back(Effect::OpenSocket {
                    key: key.clone(),
                    multicast: s.multicast,
                });
            }
        }
    }

    /// A route add or remove was answered.
    pub fn handle_route_result(
        &mut self,
        now: Instant,
        id: InstanceId,
        route: &baton_config::Route,
        op: VipOp,
        r: Result<(), String>,
    ) {
        self.now = Some(now);
        if let Some(inst) = self.instances.get_mut(&id) {
            inst.route_result(route, op, r, now, &mut self.effects);
        }
        self.touch(id);
        self.reap_removed();
    }

    /// A macvlan create or delete was answered. A failed create shows as
    /// the socket on it failing too (FAULT); the socket's retry makes it again.
    pub fn handle_vmac_result(
        &mut self,
        now: Instant,
        id: InstanceId,
        vmac: &VmacSpec,
        create: bool,
        r: Result<(), String>,
    ) {
        self.now = Some(now);
        if create && r.is_ok() {
            self.gone.remove(&vmac.name);
        }
        let (Err(error), Some(inst)) = (r, self.instances.get(&id)) else {
            return;
        };
        let verb = if create { "creating" } else { "deleting" };
        self.effects.push_back(Effect::Event(Event::NetFailed {
            instance: inst.cfg.name.clone(),
            what: format!("{verb} macvlan {} on {}", vmac.name, vmac.base),
            error,
        }));
    }

    /// Opens sockets the config needs now, closes those it does not.
    fn sync_sockets(&mut self, wanted: Layout) {
        let gone: Vec<SocketKey> = self
            .sockets
            .keys()
            .filter(|k| !wanted.contains_key(*k))
            .cloned()
            .collect();
        for key in gone {
            self.sockets.remove(&key);
            self.effects.push_back(Effect::CloseSocket { key });
        }
        for (key, multicast) in wanted {
            match self.sockets.get(&key) {
                Some(s) if s.multicast == multicast => continue,
                // Unicast <-> multicast: reopen it to join or leave the group.
                Some(_) => self.effects.push_back(Effect::CloseSocket { key: key.clone() }),
                None => {}
            }
            self.sockets.insert(
                key.clone(),
                SocketState {
                    multicast,
                    open: SocketOpen::Opening,
                    drops: DropCounters::default(),
                },
            );
            if self.running {
                self.effects.push_back(Effect::OpenSocket { key, multicast });
            }
        }
    }
}
