//! A virtual LAN of whole nodes: each [`Node`] runs with its effects carried
//! out on a simulated host (addresses, firewall, sockets, checks answered
//! from scripted health) and its adverts delivered, with loss and delay, to
//! the other nodes, all on a virtual clock. Invariants are checked as it
//! runs:
//!
//! - a VIP is held (in status) only once the host has it, and the host has
//!   no VIP that no instance accounts for;
//! - VIPs are held exactly while Master: a non-Master holds none, a Master
//!   misses none but those whose add failed and is being retried;
//! - a new Master announces the VIPs it holds before its first advert, and
//!   announces nothing it does not hold;
//! - a reload causes no transition on an unchanged instance and neither
//!   skips nor adds an advert there (its next advert time stays);
//! - after a quiet spell, each VRID has exactly one Master, the one that
//!   outranks the others, and its VIPs are on that node only.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::{Duration, Instant};

pub use baton_vrrp::sim::Rng;
use baton_vrrp::wire::{self, ParseOptions};
use baton_vrrp::{Family, RxMeta, State};

use crate::effect::{
    CheckKey, CheckResult, Decision, Effect, Event, InstanceId, Job, RunId, SocketKey, VipAnswer, VipOp,
};
use crate::node::{Node, PresentAddr, Primaries};
use crate::vips::VipState;
use baton_config::EMAIL_SINK;
use baton_notify::{CommandOutcome, Route};

/// A test host's address on the LAN.
pub fn host_addr(family: Family, node: usize) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10 + node as u8)),
        Family::V6 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 10 + node as u16)),
    }
}

/// Node `k`'s MAC address on the simulated LAN.
pub fn sim_mac(k: usize) -> [u8; 6] {
    [2, 0, 0, 0, 0, k as u8]
}

/// One instance as every node of the LAN configures it (priorities per node).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimInstance {
    pub name: String,
    pub vrid: u8,
    pub family: Family,
    /// Per node; 0: the node does not run it.
    pub priorities: Vec<u8>,
    pub advert_ms: u64,
    pub vips: Vec<IpAddr>,
    pub accept: bool,
    /// (check name, weight, rise, fall)
    pub tracks: Vec<(String, i32, u32, u32)>,
    /// `[instance.split_brain]` with builtin:split-brain-arp every 200 ms
    /// (the simulated policy says stay; probes and claims are real).
    pub split_brain: bool,
}

/// The LAN-wide config: node-level checks (by name; each its own policy)
/// and the instances.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimConfig {
    pub checks: Vec<String>,
    pub check_ms: u64,
    pub instances: Vec<SimInstance>,
    /// The body of a `[notify]` table (TOML), if not empty; every
    /// instance then has `notify = "log"` when it names a command `log`.
    pub notify: String,
    /// More keys of an instance, by name (`track_interfaces = [..]`).
    pub instance_extra: BTreeMap<String, String>,
    /// `[[sync_group]]`s: (name, members, tracking_weight).
    pub sync_groups: Vec<(String, Vec<String>, bool)>,
}

impl SimConfig {
    /// The TOML config of node `k`, parsed by the real front end.
    pub fn toml(&self, k: usize) -> String {
        let mut s =
            format!("router_id = \"node{k}\"\n[garp]\ndelay = \"0s\"\nrepeat = 2\ninterval = \"10ms\"\n");
        if !self.notify.is_empty() {
            let _ = writeln!(s, "[notify]\n{}", self.notify);
        }
        if self.instances.iter().any(|i| i.split_brain) {
            s.push_str("[[policy]]\nname = \"brain\"\nsource = \"builtin:split-brain-arp\"\n");
        }
        for c in &self.checks {
            let _ = write!(
                s,
                "[[policy]]\nname = \"{c}\"\nsource = \"builtin:interface-up\"\nconfig = {{ interface = \"eth0\" }}\n[[check]]\nname = \"{c}\"\npolicy = \"{c}\"\ninterval = \"{}ms\"\n",
                self.check_ms
            );
        }
        for i in &self.instances {
            let p = i.priorities.get(k).copied().unwrap_or(0);
            if p == 0 {
                continue;
            }
            let vips: Vec<String> = i.vips.iter().map(|v| format!("\"{v}\"")).collect();
            let _ = write!(
                s,
                "[[instance]]\nname = \"{}\"\ninterface = \"eth0\"\nvrid = {}\npriority = {p}\nversion = 3\nadvert_interval = \"{}ms\"\naccept = {}\nvips = [{}]\n",
                i.name,
                i.vrid,
                i.advert_ms,
                i.accept,
                vips.join(", ")
            );
            if self.notify.contains("name = \"log\"") {
                s.push_str("notify = \"log\"\n");
            }
            if let Some(extra) = self.instance_extra.get(&i.name) {
                let _ = writeln!(s, "{extra}");
            }
            if i.split_brain {
                s.push_str("[instance.split_brain]\npolicy = \"brain\"\ninterval = \"200ms\"\n");
            }
            for (c, w, rise, fall) in &i.tracks {
                let _ = write!(
                    s,
                    "[[instance.track]]\ncheck = \"{c}\"\nweight = {w}\nrise = {rise}\nfall = {fall}\n"
                );
            }
        }
        for (name, members, weights) in &self.sync_groups {
            // Only the members this node runs (a mutation may drop some).
            let runs = |m: &&String| {
                let i = self.instances.iter().find(|i| i.name == **m);
                i.is_some_and(|i| i.priorities.get(k).copied().unwrap_or(0) > 0)
            };
            let members: Vec<String> = members.iter().filter(runs).map(|m| format!("\"{m}\"")).collect();
            if members.len() < 2 {
                continue;
            }
            let _ = write!(
                s,
                "[[sync_group]]\nname = \"{name}\"\ninstances = [{}]\ntracking_weight = {weights}\n",
                members.join(", ")
            );
        }
        s
    }

    pub fn config(&self, k: usize) -> baton_config::Config {
        let text = self.toml(k);
        baton_config::parse(&text, Path::new("/sim/node.toml")).unwrap_or_else(|d| {
            let msgs: Vec<String> = d.iter().map(ToString::to_string).collect();
            panic!("sim config does not parse:\n{}\n{text}", msgs.join("\n"))
        })
    }

    pub fn primaries(&self, k: usize) -> Primaries {
        self.instances
            .iter()
            .filter(|i| i.priorities.get(k).copied().unwrap_or(0) > 0)
            .map(|i| (i.name.clone(), host_addr(i.family, k)))
            .collect()
    }
}

/// What one simulated host has.
#[derive(Debug, Default)]
pub struct Host {
    /// (dev, addr, prefix)
    pub addrs: BTreeSet<(String, IpAddr, u8)>,
    pub firewall: Vec<IpAddr>,
    pub sockets: BTreeSet<SocketKey>,
    /// Adds of these addresses fail.
    pub refuse_add: BTreeSet<IpAddr>,
    /// Health by check name (missing: healthy).
    pub unhealthy: BTreeSet<String>,
    /// Left by a run whose config named them, not in the config of this
    /// one: nobody's business now (as on a real host).
    pub foreign: BTreeSet<(String, IpAddr, u8)>,
    pub link_up: bool,
    /// Links besides eth0 that are down (the others the config tracks are up).
    pub links_down: BTreeSet<String>,
    /// A firewall drops the VRRP it would receive (the seed's split brain).
    pub drop_vrrp_in: bool,
}

#[derive(Debug)]
pub struct SimNode {
    pub node: Option<Node>,
    pub host: Host,
    /// Evaluations in flight: (due, run, key).
    checks: Vec<(Instant, RunId, CheckKey)>,
    /// Instances that became Master and have not advertised yet, with the
    /// VIPs they announced since.
    awaiting_advert: BTreeMap<InstanceId, BTreeSet<IpAddr>>,
    pub evaluations: u64,
    /// The notify jobs it started (each answered as delivered at once).
    pub notified: Vec<(Instant, Job)>,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Packet {
    at: Instant,
    seq: u64,
    to: usize,
    src: IpAddr,
    dst: IpAddr,
    iface: String,
    bytes: Vec<u8>,
}

/// The LAN and its nodes.
#[derive(Debug)]
pub struct Lan {
    pub now: Instant,
    start: Instant,
    pub nodes: Vec<SimNode>,
    pub cfg: SimConfig,
    queue: BinaryHeap<Reverse<Packet>>,
    seq: u64,
    pub rng: Rng,
    /// Per mille of packets lost.
    pub loss: u64,
    pub delay: Duration,
    pub violations: Vec<String>,
    pub transitions: u64,
    /// Keep a trace of what happened (for a failing scenario's replay).
    pub tracing: bool,
    pub trace: Vec<String>,
}

impl Lan {
    pub fn new(seed: u64, cfg: SimConfig, nodes: usize) -> Lan {
        let now = Instant::now();
        let mut lan = Lan {
            now,
            start: now,
            nodes: Vec::new(),
            cfg,
            queue: BinaryHeap::new(),
            seq: 0,
            rng: Rng::new(seed),
            loss: 0,
            delay: Duration::from_micros(200),
            violations: Vec::new(),
            transitions: 0,
            tracing: true,
            trace: Vec::new(),
        };
        for _ in 0..nodes {
            lan.nodes.push(SimNode {
                node: None,
                host: Host {
                    link_up: true,
                    ..Host::default()
                },
                checks: Vec::new(),
                awaiting_advert: BTreeMap::new(),
                evaluations: 0,
                notified: Vec::new(),
            });
        }
        for k in 0..nodes {
            lan.boot(k);
        }
        lan
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn note(&mut self, msg: impl FnOnce() -> String) {
        if self.tracing && self.trace.len() < 20_000 {
            let msg = msg();
            let t = self.elapsed().as_secs_f64() * 1000.0;
            self.trace.push(format!("{t:9.3} ms {msg}"));
        }
    }

    fn violation(&mut self, msg: String) {
        let t = self.elapsed().as_secs_f64() * 1000.0;
        self.note(|| format!("VIOLATION {msg}"));
        self.violations.push(format!("at {t:.3} ms: {msg}"));
    }

    /// Starts (or restarts after a crash) node `k` on what its host has.
    pub fn boot(&mut self, k: usize) {
        let cfg = self.cfg.config(k);
        let primaries = self.cfg.primaries(k);
        let mut node = Node::new(cfg, &primaries).expect("sim config builds");
        let now = self.now;
        node.handle_link(now, "eth0", self.nodes[k].host.link_up);
        let extra: BTreeSet<String> = node
            .config()
            .instances
            .iter()
            .flat_map(|i| i.track_interfaces.iter().map(|t| t.name.clone()))
            .collect();
        for l in extra {
            node.handle_link(now, &l, !self.nodes[k].host.links_down.contains(&l));
        }
        let present: Vec<PresentAddr> = self.nodes[k]
            .host
            .addrs
            .iter()
            .map(|(dev, addr, prefix_len)| PresentAddr {
                dev: dev.clone(),
                addr: *addr,
                prefix_len: *prefix_len,
            })
            .collect();
        let configured: BTreeSet<(String, IpAddr, u8)> = node
            .all_instances()
            .flat_map(|i| i.cfg.vips.iter().map(|v| (v.dev.clone(), v.addr, v.prefix_len)))
            .collect();
        self.nodes[k].host.foreign = self.nodes[k]
            .host
            .addrs
            .difference(&configured)
            .cloned()
            .collect();
        node.start(now, &present);
        self.nodes[k].node = Some(node);
        self.nodes[k].checks.clear();
        self.nodes[k].awaiting_advert.clear();
        self.drain(k);
    }

    /// The node dies: its host keeps whatever addresses it had.
    pub fn crash(&mut self, k: usize) {
        self.note(|| format!("node{k} crashes"));
        self.nodes[k].node = None;
        self.nodes[k].host.sockets.clear();
    }

    /// Clean stop: resign, remove VIPs.
    pub fn stop(&mut self, k: usize) {
        let now = self.now;
        if let Some(n) = self.nodes[k].node.as_mut() {
            n.shutdown(now);
        }
        self.drain(k);
        let settled = self.nodes[k].node.as_ref().is_some_and(Node::is_settled);
        if !settled {
            self.violation(format!("node{k}: not settled after a clean stop"));
        }
        if !self.nodes[k].host.addrs.is_empty() {
            let left = format!("{:?}", self.nodes[k].host.addrs);
            self.violation(format!("node{k}: addresses left after a clean stop: {left}"));
        }
        self.nodes[k].node = None;
    }

    pub fn set_link(&mut self, k: usize, up: bool) {
        self.note(|| format!("node{k} link {}", if up { "up" } else { "down" }));
        self.nodes[k].host.link_up = up;
        let now = self.now;
        if let Some(n) = self.nodes[k].node.as_mut() {
            n.handle_link(now, "eth0", up);
        }
        self.drain(k);
    }

    /// Link `name` (not eth0: adverts still flow) of node `k` goes up or down.
    pub fn set_iface(&mut self, k: usize, name: &str, up: bool) {
        self.note(|| format!("node{k} {name} {}", if up { "up" } else { "down" }));
        if up {
            self.nodes[k].host.links_down.remove(name);
        } else {
            self.nodes[k].host.links_down.insert(name.to_string());
        }
        let now = self.now;
        if let Some(n) = self.nodes[k].node.as_mut() {
            n.handle_link(now, name, up);
        }
        self.drain(k);
    }

    /// Applies `new` as node `k`'s config, checking that instances the plan
    /// leaves unchanged notice nothing.
    pub fn reload(&mut self, k: usize, new: &SimConfig) {
        let cfg = new.config(k);
        let primaries = new.primaries(k);
        let now = self.now;
        let Some(node) = self.nodes[k].node.as_mut() else {
            return;
        };
        let before: BTreeMap<String, (State, Option<Instant>, u64)> = node
            .instances()
            .map(|i| {
                let v = &i.vrrp;
                (
                    i.cfg.name.clone(),
                    (v.state(), v.poll_timeout(), v.counters().adverts_tx),
                )
            })
            .collect();
        let plan = match node.reload(now, cfg, &primaries) {
            Ok(p) => p,
            Err(e) => {
                self.violation(format!("node{k}: reload refused: {e}"));
                return;
            }
        };
        let summary = plan.to_string();
        self.note(|| format!("node{k} reload: {summary}"));
        self.drain(k);
        let node = self.nodes[k].node.as_ref().expect("node");
        let mut bad = Vec::new();
        for name in &plan.unchanged {
            let Some(i) = node.instance_by_name(name) else {
                continue;
            };
            let v = &i.vrrp;
            let after = (v.state(), v.poll_timeout(), v.counters().adverts_tx);
            if before.get(name) != Some(&after) {
                bad.push(format!(
                    "node{k}: reload touched unchanged instance {name}: {:?} -> {after:?}",
                    before.get(name)
                ));
            }
        }
        for b in bad {
            self.violation(b);
        }
    }

    /// Carries out node `k`'s effects until it has none, answering each.
    fn drain(&mut self, k: usize) {
        loop {
            let now = self.now;
            let Some(effect) = self.nodes[k].node.as_mut().and_then(Node::poll_effect) else {
                break;
            };
            self.execute(k, effect, now);
        }
        self.check_node(k);
    }

    fn execute(&mut self, k: usize, effect: Effect, now: Instant) {
        // A probe reads the other hosts: answered before node k is borrowed.
        if let Effect::Probe {
            instance,
            vips,
            purpose,
            ..
        } = &effect
        {
            let answers = self.probe_answers(k, vips);
            if let Some(node) = self.nodes[k].node.as_mut() {
                node.handle_probe_result(now, *instance, *purpose, Ok(answers));
            }
            return;
        }
        let sn = &mut self.nodes[k];
        let Some(node) = sn.node.as_mut() else { return };
        match effect {
            Effect::OpenSocket { key, .. } => {
                sn.host.sockets.insert(key.clone());
                node.handle_socket_result(now, &key, Ok(()));
            }
            Effect::CloseSocket { key } => {
                sn.host.sockets.remove(&key);
            }
            Effect::Send {
                instance,
                socket,
                dst,
                packet,
            } => self.send(k, instance, socket, dst, packet),
            Effect::AddVip { instance, vip } => {
                let r = if sn.host.refuse_add.contains(&vip.addr) {
                    Err("Operation not permitted (sim)".to_string())
                } else {
                    sn.host.addrs.insert((vip.dev.clone(), vip.addr, vip.prefix_len));
                    Ok(())
                };
                node.handle_vip_result(now, instance, &vip, VipOp::Add, r);
            }
            Effect::RemoveVip { instance, vip } => {
                sn.host.addrs.remove(&(vip.dev.clone(), vip.addr, vip.prefix_len));
                node.handle_vip_result(now, instance, &vip, VipOp::Remove, Ok(()));
            }
            Effect::Announce { instance, vip, .. } => {
                let held = sn
                    .host
                    .addrs
                    .contains(&(vip.dev.clone(), vip.addr, vip.prefix_len));
                if let Some(set) = sn.awaiting_advert.get_mut(&instance) {
                    set.insert(vip.addr);
                }
                if !held {
                    self.violation(format!(
                        "node{k}: announced {} which the host does not have",
                        vip.addr
                    ));
                }
            }
            Effect::SetFirewall { drop } => {
                sn.host.firewall = drop;
                node.handle_firewall_result(now, Ok(()));
            }
            // Routes and macvlans always succeed on the simulated host.
            Effect::AddRoute { instance, route } => {
                node.handle_route_result(now, instance, &route, VipOp::Add, Ok(()))
            }
            Effect::RemoveRoute { instance, route } => {
                node.handle_route_result(now, instance, &route, VipOp::Remove, Ok(()))
            }
            Effect::CreateVmac { .. } | Effect::DeleteVmac { .. } => {}
            Effect::Probe { .. } => {}
            // The simulated policy always says stay: the sim checks the
            // machinery (probes, claims, holds), not a policy.
            Effect::RunSplitBrain(run) => {
                node.handle_brain_result(now, run.instance, run.run, Ok(Decision::Stay));
            }
            Effect::RunCheck(run) => {
                sn.evaluations += 1;
                let due = now + Duration::from_micros(300);
                sn.checks.push((due, run.run, run.key));
            }
            Effect::Notify(job) => {
                match &job {
                    Job::Mail(m) => node.handle_notify_delivery(now, EMAIL_SINK, m.id, Ok(())),
                    Job::Post(p) => node.handle_notify_delivery(now, &p.sink, p.id, Ok(())),
                    Job::Command(c) => node.handle_notify_command(
                        now,
                        &c.run.instance,
                        c.run.id,
                        &c.run.name,
                        CommandOutcome::Exited(0),
                    ),
                    Job::Hook(h) => node.handle_notify_hook(now, h.id, Ok(Route::Default)),
                }
                sn.notified.push((now, job));
            }
            Effect::Event(ev) => self.event(k, ev),
        }
    }

    /// Who else answers for `vips` as node `k` probes: every other host on
    /// the LAN that holds one, by its MAC (02:00:00:00:00:NODE).
    fn probe_answers(&self, k: usize, vips: &[IpAddr]) -> Vec<VipAnswer> {
        let me = &self.nodes[k].host;
        vips.iter()
            .map(|vip| VipAnswer {
                vip: *vip,
                others: if me.link_up {
                    self.nodes
                        .iter()
                        .enumerate()
                        .filter(|(j, n)| {
                            *j != k && n.host.link_up && n.host.addrs.iter().any(|a| a.1 == *vip)
                        })
                        .map(|(j, _)| sim_mac(j))
                        .collect()
                } else {
                    Vec::new()
                },
            })
            .collect()
    }

    fn event(&mut self, k: usize, ev: Event) {
        if let Event::Transition {
            instance, to, from, ..
        } = &ev
        {
            self.transitions += 1;
            let id = self.nodes[k]
                .node
                .as_ref()
                .and_then(|n| n.instance_by_name(instance))
                .map(|i| i.id);
            if let Some(id) = id {
                if *to == State::Master {
                    self.nodes[k].awaiting_advert.insert(id, BTreeSet::new());
                } else {
                    self.nodes[k].awaiting_advert.remove(&id);
                }
            }
            self.note(|| format!("node{k} {instance}: {from} -> {to}"));
        } else if matches!(
            ev,
            Event::Reloaded { .. } | Event::VipFailed { .. } | Event::Track { .. }
        ) {
            self.note(|| format!("node{k} {ev}"));
        }
    }

    fn send(&mut self, k: usize, instance: InstanceId, socket: SocketKey, dst: IpAddr, bytes: Vec<u8>) {
        let meta = RxMeta {
            src: socket.source,
            dst,
            ttl: 255,
        };
        let priority = wire::parse(&bytes, &meta, &ParseOptions::default()).map_or(0, |a| a.priority);
        if priority != 0
            && let Some(announced) = self.nodes[k].awaiting_advert.remove(&instance)
        {
            let held: Vec<IpAddr> = self.nodes[k]
                .node
                .as_ref()
                .and_then(|n| n.instance(instance))
                .map(|i| i.vips.held().map(|v| v.addr).collect())
                .unwrap_or_default();
            let missing: Vec<&IpAddr> = held.iter().filter(|a| !announced.contains(a)).collect();
            if !missing.is_empty() {
                self.violation(format!(
                    "node{k}: first advert of a new Master before announcing {missing:?}"
                ));
            }
        }
        if !self.nodes[k].host.link_up {
            return;
        }
        let multicast = dst == socket.family.multicast_group();
        for to in 0..self.nodes.len() {
            if to == k || !self.nodes[to].host.link_up || self.nodes[to].host.drop_vrrp_in {
                continue;
            }
            if !multicast && host_addr(socket.family, to) != dst {
                continue;
            }
            if self.rng.below(1000) < self.loss {
                continue;
            }
            self.seq += 1;
            self.queue.push(Reverse(Packet {
                at: self.now + self.delay,
                seq: self.seq,
                to,
                src: socket.source,
                dst,
                iface: socket.interface.clone(),
                bytes: bytes.clone(),
            }));
        }
    }

    /// The VIP invariants of node `k`, once its effects are all carried out.
    fn check_node(&mut self, k: usize) {
        let sn = &self.nodes[k];
        let Some(node) = sn.node.as_ref() else { return };
        let mut bad = Vec::new();
        let mut accounted: BTreeSet<(String, IpAddr, u8)> = BTreeSet::new();
        for inst in node.all_instances() {
            let master = inst.vrrp.state() == State::Master && !inst.removed;
            for e in inst.vips.all() {
                let key = (e.vip.dev.clone(), e.vip.addr, e.vip.prefix_len);
                if e.state.maybe_configured() {
                    accounted.insert(key.clone());
                }
                if e.state == VipState::Held && !sn.host.addrs.contains(&key) {
                    bad.push(format!(
                        "{}: status holds {} which the host does not have",
                        inst.cfg.name, e.vip.addr
                    ));
                }
                if !master && matches!(e.state, VipState::Held | VipState::Adding) {
                    bad.push(format!(
                        "{} is {} but holds {}",
                        inst.cfg.name,
                        inst.vrrp.state(),
                        e.vip.addr
                    ));
                }
                if master && !e.retired && e.state == VipState::Absent {
                    bad.push(format!("{} is Master without {}", inst.cfg.name, e.vip.addr));
                }
            }
        }
        for (name, indexed, actual) in node.timer_mismatches() {
            let at = |t: Option<Instant>| t.map(|t| t.saturating_duration_since(self.start));
            bad.push(format!(
                "{name}: timer index says {:?}, the instance {:?}",
                at(indexed),
                at(actual)
            ));
        }
        for a in &sn.host.addrs {
            if !accounted.contains(a) && !sn.host.foreign.contains(a) {
                bad.push(format!("the host has {} which no instance accounts for", a.1));
            }
        }
        for b in bad {
            self.violation(format!("node{k}: {b}"));
        }
    }

    fn next_event(&self) -> Option<Instant> {
        let packets = self.queue.peek().map(|Reverse(p)| p.at);
        let nodes = self.nodes.iter().flat_map(|n| {
            let t = n.node.as_ref().and_then(Node::poll_timeout);
            let c = n.checks.iter().map(|c| c.0).min();
            [t, c]
        });
        packets.into_iter().chain(nodes.flatten()).min()
    }

    /// Runs the LAN for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.next_event().filter(|t| *t <= end) {
            self.now = self.now.max(t);
            self.step();
        }
        self.now = end;
    }

    fn step(&mut self) {
        let now = self.now;
        while self.queue.peek().is_some_and(|Reverse(p)| p.at <= now) {
            let Some(Reverse(p)) = self.queue.pop() else { break };
            let to = p.to;
            if !self.nodes[to].host.link_up {
                continue;
            }
            if let Some(node) = self.nodes[to].node.as_mut() {
                let key = SocketKey {
                    interface: p.iface.clone(),
                    family: Family::of(&p.src),
                    source: host_addr(Family::of(&p.src), to),
                };
                let meta = RxMeta {
                    src: p.src,
                    dst: p.dst,
                    ttl: 255,
                };
                node.handle_packet(now, &key, &p.bytes, &meta);
            }
            self.drain(to);
        }
        for k in 0..self.nodes.len() {
            let due: Vec<(Instant, RunId, CheckKey)> = {
                let sn = &mut self.nodes[k];
                let (due, later) = sn.checks.drain(..).partition(|c| c.0 <= now);
                sn.checks = later;
                due
            };
            for (_, run, key) in due {
                let healthy = match &key {
                    CheckKey::Node(name) => !self.nodes[k].host.unhealthy.contains(name),
                    CheckKey::Track { policy, .. } => !self.nodes[k].host.unhealthy.contains(policy),
                };
                let r = CheckResult {
                    healthy,
                    reason: (!healthy).then(|| "service down (sim)".to_string()),
                    elapsed: Duration::from_micros(300),
                    ..CheckResult::default()
                };
                if let Some(node) = self.nodes[k].node.as_mut() {
                    node.handle_check_result(now, run, &key, r);
                }
                self.drain(k);
            }
            if let Some(node) = self.nodes[k].node.as_mut()
                && node.poll_timeout().is_some_and(|t| t <= now)
            {
                node.handle_timeout(now);
                self.drain(k);
            }
        }
    }

    /// After a quiet spell: per VRID one Master, the one that outranks the
    /// others (priority, then address), holding its VIPs alone.
    pub fn check_converged(&mut self) {
        for b in self.convergence() {
            self.violation(format!("not converged: {b}"));
        }
    }

    /// Runs until converged, at most `limit`; true when it did.
    pub fn settle(&mut self, limit: Duration) -> bool {
        let end = self.now + limit;
        let mut streak = 0;
        while self.now < end {
            self.run_for(Duration::from_millis(250));
            // Converged, and still so a while later.
            streak = if self.convergence().is_empty() {
                streak + 1
            } else {
                0
            };
            if streak == 2 {
                return true;
            }
        }
        false
    }

    fn convergence(&self) -> Vec<String> {
        let mut bad = Vec::new();
        for si in &self.cfg.instances {
            let mut masters = Vec::new();
            let mut ranked: Vec<(u8, usize)> = Vec::new();
            for (k, sn) in self.nodes.iter().enumerate() {
                let Some(node) = sn.node.as_ref() else { continue };
                if !sn.host.link_up {
                    continue;
                }
                let Some(inst) = node.instance_by_name(&si.name) else {
                    continue;
                };
                if inst.vrrp.state() == State::Fault {
                    continue;
                }
                // A sync group holds it Backup while another member is.
                if inst.vrrp.held() && node.config().sync_group_of(&si.name).is_some() {
                    continue;
                }
                ranked.push((inst.vrrp.effective_priority(), k));
                if inst.vrrp.state() == State::Master {
                    masters.push(k);
                }
            }
            let Some(top) = ranked.iter().map(|r| r.0).max() else {
                continue;
            };
            // A Backup does not preempt a Master of equal priority (RFC 9568
            // §6.4.2): among equals, whoever is Master stays.
            let best: Vec<usize> = ranked.iter().filter(|r| r.0 == top).map(|r| r.1).collect();
            if masters.len() != 1 || !best.contains(&masters[0]) {
                bad.push(format!(
                    "{}: masters {masters:?}, expected one of nodes {best:?} (priority {top})",
                    si.name
                ));
                continue;
            }
            for v in &si.vips {
                let holders: Vec<usize> = (0..self.nodes.len())
                    .filter(|k| self.nodes[*k].host.addrs.iter().any(|a| a.1 == *v))
                    .collect();
                if holders != masters {
                    bad.push(format!("{}: VIP {v} on nodes {holders:?}", si.name));
                }
            }
        }
        bad
    }
}

/// One random scenario's outcome.
#[derive(Debug)]
pub struct ScenarioReport {
    pub seed: u64,
    pub violations: Vec<String>,
    pub transitions: u64,
    pub reloads: u32,
    pub vip_failures: u32,
    pub trace: String,
}

fn random_config(rng: &mut Rng, nodes: usize) -> SimConfig {
    let n_checks = rng.below(3) as usize;
    let checks: Vec<String> = (0..n_checks).map(|c| format!("chk{c}")).collect();
    let n = rng.range(1, 5) as usize;
    let mut cfg = SimConfig {
        checks,
        check_ms: [10, 20, 50][rng.below(3) as usize],
        instances: Vec::new(),
        // Half the LANs notify: the notifier runs beside every scenario.
        notify: if rng.below(2) == 0 {
            "[[notify.webhook]]\nurl = \"http://192.0.2.80/\"\n[[notify.command]]\nname = \"log\"\ncommand = [\"/bin/true\"]".to_string()
        } else {
            String::new()
        },
        ..SimConfig::default()
    };
    for i in 0..n {
        cfg.instances
            .push(random_instance(rng, &cfg.checks, nodes, i as u8 + 1));
    }
    cfg
}

/// A third of the LANs sync their first two instances (weights apply).
/// Its own draw, so that the other scenarios stay what their seeds were.
fn random_sync_group(seed: u64, cfg: &mut SimConfig) {
    let mut rng = Rng::new(seed ^ 0x5ec7_0000);
    if cfg.instances.len() >= 2 && rng.chance(0.33) {
        let members = cfg.instances[..2].iter().map(|i| i.name.clone()).collect();
        cfg.sync_groups.push(("G".to_string(), members, true));
        same_preference(cfg);
    }
}

/// A group's members prefer the same node, as any working sync group
/// does: crossed priorities make the nodes take the group from each other
/// for ever (keepalived's too).
fn same_preference(cfg: &mut SimConfig) {
    let Some((_, members, _)) = cfg.sync_groups.first() else {
        return;
    };
    let prios = |name: &String| {
        cfg.instances
            .iter()
            .find(|i| i.name == *name)
            .map(|i| i.priorities.clone())
    };
    let Some(first) = members.first().and_then(prios) else {
        return;
    };
    let members = members.clone();
    for i in cfg.instances.iter_mut().filter(|i| members.contains(&i.name)) {
        for (p, f) in i.priorities.iter_mut().zip(&first) {
            // A member a node does not run stays not run there.
            if *p > 0 && *f > 0 {
                *p = *f;
            }
        }
    }
}

fn random_instance(rng: &mut Rng, checks: &[String], nodes: usize, vrid: u8) -> SimInstance {
    let family = if rng.chance(0.25) { Family::V6 } else { Family::V4 };
    let mut prios: Vec<u8> = (0..nodes).map(|k| 200 - 40 * k as u8).collect();
    // Shuffle who is preferred.
    for k in (1..nodes).rev() {
        let j = rng.below(k as u64 + 1) as usize;
        prios.swap(k, j);
    }
    let n_vips = rng.range(1, 3);
    let vips = (0..n_vips).map(|j| sim_vip(family, vrid, j as u8)).collect();
    let mut tracks = Vec::new();
    for c in checks {
        if rng.chance(0.5) {
            let w = if rng.chance(0.3) {
                0
            } else {
                -60 - 10 * rng.below(4) as i32
            };
            tracks.push((c.clone(), w, rng.range(1, 3) as u32, rng.range(1, 3) as u32));
        }
    }
    SimInstance {
        name: format!("VI_{vrid}"),
        vrid,
        family,
        priorities: prios,
        advert_ms: [10, 20, 50, 100][rng.below(4) as usize],
        vips,
        accept: rng.chance(0.7),
        tracks,
        split_brain: rng.chance(0.3),
    }
}

fn sim_vip(family: Family, vrid: u8, j: u8) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::new(198, 51, 100, vrid.wrapping_mul(4).wrapping_add(j))),
        Family::V6 => IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            1,
            0,
            0,
            0,
            u16::from(vrid),
            u16::from(j) + 1,
        )),
    }
}

/// A mutation an operator might make, applied to every node in turn.
fn mutate(rng: &mut Rng, cfg: &SimConfig, nodes: usize) -> SimConfig {
    let mut new = cfg.clone();
    let pick = |rng: &mut Rng, n: usize| rng.below(n as u64) as usize;
    match rng.below(8) {
        0 if !new.instances.is_empty() => {
            let i = pick(rng, new.instances.len());
            let k = pick(rng, nodes);
            let p = &mut new.instances[i].priorities[k];
            if *p > 0 {
                *p = rng.range(1, 254) as u8;
            }
        }
        1 if !new.instances.is_empty() => {
            let i = pick(rng, new.instances.len());
            let inst = &mut new.instances[i];
            let j = rng.range(1, 4) as u8 + inst.vips.len() as u8;
            if rng.chance(0.5) && inst.vips.len() > 1 {
                inst.vips.remove(0);
            } else {
                inst.vips.push(sim_vip(inst.family, inst.vrid, j % 4));
                inst.vips.dedup();
                let mut seen = BTreeSet::new();
                inst.vips.retain(|v| seen.insert(*v));
            }
        }
        2 if new.instances.len() < 6 => {
            // Names and VIPs follow the VRID, and a VRID change keeps both.
            let used: BTreeSet<String> = new.instances.iter().map(|i| i.name.clone()).collect();
            let vrids: BTreeSet<u8> = new.instances.iter().map(|i| i.vrid).collect();
            if let Some(vrid) = (1..=6u8).find(|v| !used.contains(&format!("VI_{v}")) && !vrids.contains(v)) {
                let inst = random_instance(rng, &new.checks, nodes, vrid);
                new.instances.push(inst);
            }
        }
        3 if new.instances.len() > 1 => {
            let i = pick(rng, new.instances.len());
            new.instances.remove(i);
        }
        4 if !new.instances.is_empty() => {
            let i = pick(rng, new.instances.len());
            new.instances[i].advert_ms = [10, 20, 50, 100][rng.below(4) as usize];
        }
        5 if !new.instances.is_empty() => {
            let i = pick(rng, new.instances.len());
            new.instances[i].accept = !new.instances[i].accept;
            let checks = new.checks.clone();
            if let Some(c) = checks.first() {
                let t = &mut new.instances[i].tracks;
                if t.is_empty() {
                    t.push((c.clone(), -60, 1, 1));
                } else {
                    t.clear();
                }
            }
        }
        // A VRID change: another virtual router for the same VIPs.
        6 if !new.instances.is_empty() => {
            let used: BTreeSet<u8> = new.instances.iter().map(|i| i.vrid).collect();
            if let Some(vrid) = (7..=12u8).find(|v| !used.contains(v)) {
                let i = pick(rng, new.instances.len());
                new.instances[i].vrid = vrid;
            }
        }
        // The same config again: nothing may notice.
        _ => {}
    }
    new
}

/// One seeded scenario: random instances on 2-3 nodes, then random loss,
/// link flaps, VIP add failures, health flips, crashes, clean stops and
/// reloads, then a quiet spell and the convergence check.
pub fn random_scenario(seed: u64) -> ScenarioReport {
    let r = run_scenario(seed, false);
    if r.violations.is_empty() {
        return r;
    }
    // Once more, deterministically, with the trace.
    run_scenario(seed, true)
}

fn run_scenario(seed: u64, tracing: bool) -> ScenarioReport {
    let mut rng = Rng::new(seed);
    let nodes = rng.range(2, 3) as usize;
    let mut cfg = random_config(&mut rng, nodes);
    random_sync_group(seed, &mut cfg);
    let mut lan = Lan::new(seed ^ 0x5eed, cfg, nodes);
    lan.tracing = tracing;
    lan.run_for(Duration::from_millis(400));
    let mut reloads = 0;
    let mut vip_failures = 0;
    for _ in 0..rng.range(3, 8) {
        let k = rng.below(nodes as u64) as usize;
        match rng.below(9) {
            0 => lan.loss = rng.range(100, 500),
            1 => lan.loss = 0,
            2 => {
                let up = !lan.nodes[k].host.link_up;
                lan.set_link(k, up);
            }
            3 => {
                let vips: Vec<IpAddr> = lan.cfg.instances.iter().flat_map(|i| i.vips.clone()).collect();
                if !vips.is_empty() {
                    let v = vips[rng.below(vips.len() as u64) as usize];
                    lan.nodes[k].host.refuse_add.insert(v);
                    vip_failures += 1;
                }
            }
            4 => {
                let name = lan.cfg.checks.first().cloned();
                if let Some(c) = name {
                    let h = &mut lan.nodes[k].host.unhealthy;
                    if !h.remove(&c) {
                        h.insert(c);
                    }
                }
            }
            5 => {
                if lan.nodes[k].node.is_some() {
                    if rng.chance(0.5) {
                        lan.crash(k);
                    } else {
                        lan.stop(k);
                    }
                } else {
                    lan.boot(k);
                }
            }
            _ => {
                let mut new = mutate(&mut rng, &lan.cfg, nodes);
                same_preference(&mut new);
                reloads += 1;
                for j in 0..nodes {
                    lan.reload(j, &new);
                    lan.run_for(Duration::from_micros(rng.range(0, 3000)));
                }
                lan.cfg = new;
            }
        }
        lan.run_for(Duration::from_millis(rng.range(20, 400)));
    }
    // Quiet: everything heals, then the LAN must settle.
    lan.loss = 0;
    for k in 0..nodes {
        lan.nodes[k].host.refuse_add.clear();
        lan.nodes[k].host.unhealthy.clear();
        if !lan.nodes[k].host.link_up {
            lan.set_link(k, true);
        }
        if lan.nodes[k].node.is_none() {
            lan.boot(k);
        }
    }
    // Long enough for a VIP fault's cooldown (up to 30 s) to end.
    if !lan.settle(Duration::from_secs(40)) {
        lan.check_converged();
    }
    ScenarioReport {
        seed,
        violations: std::mem::take(&mut lan.violations),
        transitions: lan.transitions,
        reloads,
        vip_failures,
        trace: lan.trace.join("\n"),
    }
}
