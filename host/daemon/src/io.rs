//! Executes the node's effects on Linux and answers them: raw VRRP sockets
//! (each read by a task of its own), VIPs over netlink, gratuitous ARP /
//! unsolicited NA, the accept-mode nftables table, policy evaluations on the
//! worker pool. Nothing here decides anything: a failure is handed back to
//! the node, which does.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_net::{Link, LinkEvent, NeighProber, Netlink, RecvError, SharedProber, VrrpSocket};
use baton_node::{
    BrainRun, CheckKey, CheckResult, CheckRun, Decision, Effect, Event, InstanceFacts, InstanceId, Level,
    Node, ProbePurpose, RunId, SocketKey, VipAnswer, VipOp,
};
use baton_policy::{
    EvalContext, Evaluation, Evidence, Facts, Grants, InstanceStatus as PolicyInstance, Peer, PeerPath,
    PolicyRunner, VipAnswer as PolicyVipAnswer, VrrpState,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::checks::{self, Brains, Components, Loaded};
use crate::config::{Builtin, Config, PolicySource, Vip};
use crate::sinks::{Done, Sinks};

/// What the I/O side reports back to the loop.
#[derive(Debug)]
pub enum Input {
    /// A packet and when it arrived (taken before the channel hop, so the
    /// Master_Down_Timer restarts from the arrival, not from our processing).
    Packet(SocketKey, Instant, Result<baton_net::Received, RecvError>),
    /// An evaluation ended.
    Check {
        run: RunId,
        key: CheckKey,
        result: Box<CheckResult>,
    },
    /// A notify job ended.
    Notify(Box<Done>),
    /// A split-brain evaluation decided (or failed).
    Brain {
        instance: InstanceId,
        run: u64,
        result: Result<Decision, String>,
    },
    /// A probe of an instance's VIPs ended.
    Probe {
        instance: InstanceId,
        purpose: ProbePurpose,
        result: Result<Vec<VipAnswer>, String>,
    },
}

struct OpenSocket {
    socket: Arc<VrrpSocket>,
    reader: JoinHandle<()>,
}

/// The executor.
pub struct Io {
    pub nl: Netlink,
    sockets: HashMap<SocketKey, OpenSocket>,
    /// Links by name, kept current from link events.
    links: HashMap<String, Link>,
    announcer: baton_net::Announcer,
    runner: PolicyRunner,
    /// The loaded policies of the config in force, by name.
    pub policies: Loaded,
    /// Its split-brain policies.
    brains: Brains,
    /// The config in force (grants come from it).
    pub cfg: Config,
    /// Grants per check, built on first use after each reload.
    grants: HashMap<CheckKey, Arc<Grants>>,
    packets: mpsc::Sender<Input>,
    results: mpsc::UnboundedSender<Input>,
    /// Mail, webhooks, notify commands, the hook.
    pub sinks: Sinks,
    /// ARP / ND probers by interface.
    probers: HashMap<String, SharedProber>,
    /// The `use_vmac` macvlans made, and the base settings to put back.
    vmacs: baton_net::Vmacs,
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io")
            .field("sockets", &self.sockets.len())
            .finish()
    }
}

impl Io {
    pub fn new(
        nl: Netlink,
        links: Vec<Link>,
        runner: PolicyRunner,
        components: Components,
        cfg: Config,
        packets: mpsc::Sender<Input>,
        results: mpsc::UnboundedSender<Input>,
    ) -> Io {
        Io {
            nl,
            sockets: HashMap::new(),
            links: links.into_iter().map(|l| (l.name.clone(), l)).collect(),
            announcer: baton_net::Announcer::new(),
            runner,
            policies: components.policies,
            brains: components.brains,
            cfg,
            grants: HashMap::new(),
            packets,
            sinks: Sinks::new(results.clone(), components.hook),
            results,
            probers: HashMap::new(),
            vmacs: baton_net::Vmacs::new(),
        }
    }

    /// The macvlans' bookkeeping to use (one that keeps a journal).
    pub fn with_vmacs(mut self, vmacs: baton_net::Vmacs) -> Io {
        self.vmacs = vmacs;
        self
    }

    /// A reload was applied: its policies and grants from now on.
    pub fn swap(&mut self, cfg: Config, components: Components) {
        self.cfg = cfg;
        self.policies = components.policies;
        self.brains = components.brains;
        self.grants.clear();
        self.sinks.hook = components.hook;
    }

    /// Keeps the link table current and tells the node, except the last
    /// events of a macvlan Baton deleted itself (to make it again: the new
    /// one is known).
    pub fn link_event(&mut self, ev: &LinkEvent, node: &mut Node) {
        match ev {
            LinkEvent::Changed(l) if self.vmacs.deleted_by_us(l.index, false) => {}
            LinkEvent::Removed { index, .. } if self.vmacs.deleted_by_us(*index, true) => {}
            LinkEvent::Changed(l) => {
                self.links.insert(l.name.clone(), l.clone());
                node.handle_link(Instant::now(), &l.name, l.up);
            }
            LinkEvent::Removed { name, .. } => {
                self.links.remove(name);
                node.handle_link_removed(Instant::now(), name);
            }
        }
    }

    async fn link(&mut self, name: &str) -> Result<Link, String> {
        if let Some(l) = self.links.get(name) {
            return Ok(l.clone());
        }
        let l = self.nl.link_by_name(name).await.map_err(|e| e.to_string())?;
        self.links.insert(name.to_string(), l.clone());
        Ok(l)
    }

    /// Carries out every effect the node has, in order, answering those that
    /// can fail at once.
    pub async fn execute(&mut self, node: &mut Node) {
        while let Some(effect) = node.poll_effect() {
            match effect {
                Effect::OpenSocket { key, multicast } => {
                    let r = self.open_socket(&key, multicast).await;
                    node.handle_socket_result(Instant::now(), &key, r);
                }
                Effect::CloseSocket { key } => {
                    if let Some(s) = self.sockets.remove(&key) {
                        s.reader.abort();
                    }
                }
                Effect::Send {
                    socket, dst, packet, ..
                } => {
                    if let Some(s) = self.sockets.get(&socket)
                        && let Err(e) = s.socket.send(&packet, dst).await
                    {
                        tracing::debug!("sending advert on {socket} to {dst}: {e}");
                    }
                }
                Effect::AddVip { instance, vip } => {
                    let t0 = Instant::now();
                    let r = self.add_vip(&vip).await;
                    tracing::debug!("VIP {vip} added in {:?}", t0.elapsed());
                    node.handle_vip_result(Instant::now(), instance, &vip, VipOp::Add, r);
                }
                Effect::RemoveVip { instance, vip } => {
                    let r = self.remove_vip(&vip).await;
                    node.handle_vip_result(Instant::now(), instance, &vip, VipOp::Remove, r);
                }
                Effect::Announce { vip, source, .. } => self.announce(&vip, source).await,
                Effect::SetFirewall { drop } => {
                    let r = baton_net::firewall::set_no_accept(&drop).map_err(|e| e.to_string());
                    node.handle_firewall_result(Instant::now(), r);
                }
                Effect::RunCheck(run) => self.run_check(*run),
                Effect::Probe {
                    instance,
                    interface,
                    vips,
                    purpose,
                } => self.probe(instance, &interface, vips, purpose).await,
                Effect::RunSplitBrain(run) => self.run_brain(*run),
                Effect::Notify(job) => self
                    .sinks
                    .start(job, || node.instances().map(|i| i.facts()).collect()),
                Effect::Event(ev) => log_event(&ev),
                Effect::AddRoute { instance, route } => {
                    let r = self.route(&route, true).await;
                    node.handle_route_result(Instant::now(), instance, &route, VipOp::Add, r);
                }
                Effect::RemoveRoute { instance, route } => {
                    let r = self.route(&route, false).await;
                    node.handle_route_result(Instant::now(), instance, &route, VipOp::Remove, r);
                }
                Effect::CreateVmac { instance, vmac } => {
                    let r = self.create_vmac(&vmac).await;
                    node.handle_vmac_result(Instant::now(), instance, &vmac, true, r);
                }
                Effect::DeleteVmac { instance, vmac } => {
                    self.links.remove(&vmac.name);
                    self.probers.remove(&vmac.name);
                    let r = self
                        .vmacs
                        .delete(&self.nl, &vmac.name)
                        .await
                        .map_err(|e| e.to_string());
                    node.handle_vmac_result(Instant::now(), instance, &vmac, false, r);
                }
            }
        }
    }

    /// Probes `vips` on `interface` on a task of its own, alongside any other
    /// probe in flight there (a claim never waits for a policy's evidence);
    /// the answers come back as an [`Input::Probe`].
    async fn probe(
        &mut self,
        instance: InstanceId,
        interface: &str,
        vips: Vec<IpAddr>,
        purpose: ProbePurpose,
    ) {
        let tx = self.results.clone();
        let prober = match self.prober(interface).await {
            Ok(p) => p,
            Err(result) => {
                let _ = tx.send(Input::Probe {
                    instance,
                    purpose,
                    result: Err(result),
                });
                return;
            }
        };
        tokio::spawn(async move {
            let result = prober
                .probe(&vips, baton_node::brain::PROBE_WAIT)
                .await
                .map(|answers| {
                    answers
                        .into_iter()
                        .map(|a| VipAnswer {
                            vip: a.vip,
                            // A holder that named no MAC is still a holder.
                            others: a
                                .others
                                .into_iter()
                                .chain(a.unnamed.iter().map(|_| [0u8; 6]))
                                .collect(),
                        })
                        .collect()
                })
                .map_err(|e| e.to_string());
            let _ = tx.send(Input::Probe {
                instance,
                purpose,
                result,
            });
        });
    }

    /// Runs a split-brain evaluation on a blocking thread (bounded by its
    /// budget); the decision comes back as an [`Input::Brain`]. A
    /// peer-http policy may reach each peer at its `port` (default 80).
    fn run_brain(&mut self, run: BrainRun) {
        let tx = self.results.clone();
        let fail = |e: String| Input::Brain {
            instance: run.instance,
            run: run.run,
            result: Err(e),
        };
        let (Some(brain), Some(p)) = (
            self.brains.get(&run.policy).cloned(),
            self.cfg.policy(&run.policy),
        ) else {
            let _ = tx.send(fail(format!("split-brain policy {} is not loaded", run.policy)));
            return;
        };
        let mut grants = match checks::grants(p, &p.config, &self.cfg) {
            Ok(g) => g,
            Err(e) => {
                let _ = tx.send(fail(e));
                return;
            }
        };
        if matches!(p.source, PolicySource::Builtin(b) if b == Builtin::SplitBrainPeerHttp) {
            let port = p.config.get("port").map_or("80", String::as_str);
            for peer in &run.peers {
                let target = match peer.address {
                    IpAddr::V4(a) => format!("{a}:{port}"),
                    IpAddr::V6(a) => format!("[{a}]:{port}"),
                };
                match grants.clone().allow_net(&target) {
                    Ok(g) => grants = g,
                    Err(e) => tracing::warn!("split brain {}: peer {target}: {e}", run.name),
                }
            }
        }
        let own_mac = self
            .links
            .get(&run.facts.interface)
            .and_then(|l| l.mac)
            .map(|m| baton_node::brain::mac_string(&m))
            .unwrap_or_default();
        let evidence = evidence(&run, own_mac);
        let ctx = EvalContext::new(Facts {
            router_id: self.cfg.router_id.clone(),
            instance: policy_instance(&run.facts),
            run: run.run,
            last_healthy: None,
        })
        .with_settings(p.config.iter().map(|(k, v)| (k.clone(), v.clone())))
        .with_grants(Arc::new(grants))
        .with_budget(run.timeout);
        let (instance, id, name) = (run.instance, run.run, run.name);
        tokio::task::spawn_blocking(move || {
            let ev = brain.decide(ctx, &evidence);
            for (level, msg) in &ev.logs {
                tracing::debug!("split brain {name}: [{level:?}] {msg}");
            }
            let result = ev.result.map(decision).map_err(|e| e.to_string());
            let _ = tx.send(Input::Brain {
                instance,
                run: id,
                result,
            });
        });
    }

    /// The prober of `interface`, opened on first use.
    async fn prober(&mut self, interface: &str) -> Result<SharedProber, String> {
        if let Some(p) = self.probers.get(interface) {
            return Ok(p.clone());
        }
        let link = self.link(interface).await?;
        let mac = link
            .mac
            .ok_or_else(|| format!("{interface} has no MAC address"))?;
        let p = NeighProber::open(link.index, &link.name, mac).map_err(|e| e.to_string())?;
        let p = SharedProber::spawn(p);
        self.probers.insert(interface.to_string(), p.clone());
        Ok(p)
    }

    async fn open_socket(&mut self, key: &SocketKey, multicast: bool) -> Result<(), String> {
        if let Some(old) = self.sockets.remove(key) {
            old.reader.abort();
        }
        let link = self.link(&key.interface).await?;
        let socket = VrrpSocket::open(link.index, &link.name, key.family, key.source, multicast)
            .map_err(|e| e.to_string())?;
        let socket = Arc::new(socket);
        let sock = socket.clone();
        let tx = self.packets.clone();
        let k = key.clone();
        let reader = tokio::spawn(async move {
            loop {
                let r = sock.recv().await;
                let at = Instant::now();
                // A socket error (a downed link, say) is reported and retried,
                // never fatal: the link may come back.
                let pause = matches!(r, Err(RecvError::Io(_)));
                if tx.send(Input::Packet(k.clone(), at, r)).await.is_err() {
                    break;
                }
                if pause {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        self.sockets.insert(key.clone(), OpenSocket { socket, reader });
        Ok(())
    }

    async fn add_vip(&mut self, vip: &Vip) -> Result<(), String> {
        let link = self.link(&vip.dev).await?;
        self.nl
            .add_address_with(
                link.index,
                vip.addr,
                vip.prefix_len,
                vip.label.as_deref(),
                vip.brd,
                vip.scope,
            )
            .await
            .map_err(|e| e.to_string())
    }

    /// Adds or removes a route; its `dev` must exist to add it.
    async fn route(&mut self, r: &baton_config::Route, add: bool) -> Result<(), String> {
        let oif = match &r.dev {
            None => None,
            Some(d) => match self.link(d).await {
                Ok(l) => Some(l.index),
                // A device that is gone took its routes with it.
                Err(_) if !add => return Ok(()),
                Err(e) => return Err(e),
            },
        };
        let spec = baton_net::RouteSpec {
            dst: r.dst,
            prefix_len: r.prefix_len,
            blackhole: r.blackhole,
            src: r.src,
            via: r.via,
            oif,
            scope: r.scope,
            table: r.table,
            metric: r.metric,
        };
        let res = if add {
            self.nl.add_route(&spec).await
        } else {
            self.nl.del_route(&spec).await
        };
        res.map_err(|e| e.to_string())
    }

    /// Makes the macvlan and knows it at once (its socket opens next).
    async fn create_vmac(&mut self, v: &baton_node::VmacSpec) -> Result<(), String> {
        self.links.remove(&v.name);
        self.probers.remove(&v.name);
        let spec = baton_net::VmacLink {
            name: &v.name,
            base: &v.base,
            mac: v.mac,
            v6: v.family == baton_vrrp::Family::V6,
            ipv6: v.ipv6,
        };
        let link = self
            .vmacs
            .create(&self.nl, &spec)
            .await
            .map_err(|e| e.to_string())?;
        self.links.insert(link.name.clone(), link);
        Ok(())
    }

    async fn remove_vip(&mut self, vip: &Vip) -> Result<(), String> {
        // A device that is gone took its addresses with it.
        let Ok(link) = self.link(&vip.dev).await else {
            return Ok(());
        };
        self.nl
            .del_address(link.index, vip.addr, vip.prefix_len)
            .await
            .map_err(|e| e.to_string())
    }

    async fn announce(&mut self, vip: &Vip, source: IpAddr) {
        let Ok(link) = self.link(&vip.dev).await else {
            return;
        };
        let Some(mac) = link.mac else { return };
        let r = match (vip.addr, source) {
            (IpAddr::V4(v), _) => self.announcer.garp(link.index, mac, v),
            (IpAddr::V6(v), IpAddr::V6(src)) => self.announcer.na(link.index, src, mac, v, true),
            // An excluded IPv6 address of an IPv4 instance: from itself.
            (IpAddr::V6(v), IpAddr::V4(_)) => self.announcer.na(link.index, v, mac, v, true),
        };
        if let Err(e) = r {
            tracing::debug!("announcing {}: {e}", vip.addr);
        }
    }

    fn run_check(&mut self, run: CheckRun) {
        let Some(policy) = self.policies.get(&run.policy).cloned() else {
            // The node only runs checks of a config whose policies loaded.
            let result = CheckResult {
                reason: Some(format!("policy {} is not loaded", run.policy)),
                ..CheckResult::default()
            };
            let _ = self.results.send(Input::Check {
                run: run.run,
                key: run.key,
                result: Box::new(result),
            });
            return;
        };
        let grants = match self.grants.get(&run.key) {
            Some(g) => g.clone(),
            None => match checks::grants_for(&self.cfg, &run.policy, &run.settings) {
                Ok(g) => {
                    let g = Arc::new(g);
                    self.grants.insert(run.key.clone(), g.clone());
                    g
                }
                Err(e) => {
                    tracing::error!("{}: {e}", run.key);
                    Arc::new(Grants::default())
                }
            },
        };
        let instances = Arc::new(run.instances.iter().map(policy_instance).collect());
        let facts = Facts {
            router_id: run.router_id.clone(),
            instance: run.instance.as_ref().map(policy_instance).unwrap_or_default(),
            run: run.runs,
            last_healthy: run.last_healthy,
        };
        let ctx = EvalContext::new(facts)
            .with_settings(run.settings.iter().cloned())
            .with_grants(grants)
            .with_instances(instances)
            .with_budget(run.timeout);
        let tx = self.results.clone();
        let (id, key) = (run.run, run.key);
        self.runner.submit(policy, ctx, move |ev| {
            let _ = tx.send(Input::Check {
                run: id,
                key,
                result: Box::new(check_result(&ev)),
            });
        });
    }
}

/// What a split-brain policy is told.
fn evidence(run: &BrainRun, own_mac: String) -> Evidence {
    let ms = |d: Duration| d.as_millis() as u64;
    Evidence {
        instance: policy_instance(&run.facts),
        own_mac,
        peers: run
            .peers
            .iter()
            .map(|p| Peer {
                address: p.address.to_string(),
                last_priority: p.last_priority,
                last_heard_ms_ago: p.last_heard_ago.map(ms),
                paths: p
                    .paths
                    .iter()
                    .map(|(path, ago)| PeerPath {
                        path: path.clone(),
                        last_heard_ms_ago: Some(ms(*ago)),
                    })
                    .collect(),
            })
            .collect(),
        answers: run
            .answers
            .iter()
            .map(|a| PolicyVipAnswer {
                vip: a.vip.to_string(),
                others: a.others.clone(),
                probed_ms_ago: a.probed_ago.map(ms),
            })
            .collect(),
        run: run.run,
        last_decision: run.last_decision.clone(),
    }
}

fn decision(d: baton_policy::Decision) -> Decision {
    match d {
        baton_policy::Decision::Stay => Decision::Stay,
        baton_policy::Decision::Demote(r) => Decision::Demote(r),
        baton_policy::Decision::Fault(r) => Decision::Fault(r),
        baton_policy::Decision::Alert(r) => Decision::Alert(r),
    }
}

/// What a policy sees of an instance.
pub(crate) fn policy_instance(f: &InstanceFacts) -> PolicyInstance {
    PolicyInstance {
        name: f.name.clone(),
        interface: f.interface.clone(),
        vrid: f.vrid,
        state: match f.state {
            Some(baton_vrrp::State::Backup) => VrrpState::Backup,
            Some(baton_vrrp::State::Master) => VrrpState::Master,
            Some(baton_vrrp::State::Fault) => VrrpState::Fault,
            Some(baton_vrrp::State::Initialize) | None => VrrpState::Initialize,
        },
        base_priority: f.base_priority,
        effective_priority: f.effective_priority,
        master: f.master.map(|m| m.to_string()),
        vips: f.vips.clone(),
        holding_vips: f.holding_vips,
    }
}

/// An evaluation's outcome as the node takes it.
pub fn check_result(ev: &Evaluation) -> CheckResult {
    use baton_node::LogLevel as L;
    CheckResult {
        healthy: ev.is_healthy(),
        reason: ev.failure_reason(),
        weight: ev.outcome.as_ref().ok().and_then(|v| v.weight),
        elapsed: ev.elapsed,
        cpu: ev.cpu,
        fuel: ev.fuel_consumed,
        busy: matches!(ev.outcome, Err(baton_policy::EvalError::Busy)),
        logs: ev
            .logs
            .iter()
            .map(|(level, msg)| {
                let l = match level {
                    baton_policy::LogLevel::Trace | baton_policy::LogLevel::Debug => L::Debug,
                    baton_policy::LogLevel::Info => L::Info,
                    baton_policy::LogLevel::Warn => L::Warn,
                    baton_policy::LogLevel::Error => L::Error,
                };
                (l, msg.clone())
            })
            .collect(),
    }
}

pub fn log_event(ev: &Event) {
    match ev.level() {
        Level::Debug => tracing::debug!("{ev}"),
        Level::Info => tracing::info!("{ev}"),
        Level::Warn => tracing::warn!("{ev}"),
        Level::Error => tracing::error!("{ev}"),
    }
}
