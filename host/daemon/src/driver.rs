//! The daemon loop: wires the sans-IO instances (baton-vrrp) to Linux
//! (baton-net). One task owns every instance, so an instance is never touched
//! concurrently and its timers are exact; sockets are read by their own tasks
//! and handed over through a channel.
//!
//! Health checks (`[[instance.track]]`) run their policies on a small worker
//! pool ([`PolicyRunner`]): the loop only hands an evaluation over and gets
//! the result back as an [`Event::Check`], so a slow or hostile policy never
//! delays an advert. SIGHUP reloads the config (see [`Daemon::begin_reload`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use baton_net::{LinkEvent, Netlink, RecvError, VrrpSocket};
use baton_policy::{Evaluation, InstanceStatus as PolicyInstance, LogLevel, PolicyEngine, PolicyRunner};
use baton_vrrp::wire::{self, ParseOptions};
use baton_vrrp::{Action, Command, DropCounters, DropReason, Family, Instance, State};
use tokio::sync::mpsc;

use crate::checks::{self, Loaded, TrackRun};
use crate::config::{self, Config, Garp, InstanceConfig, Vip};
use crate::control::{self, Request};
use crate::status::{
    CounterStatus, InstanceStatus, MasterStatus, SocketStatus, Status, TrackStatus, TransitionStatus,
};

/// Policy evaluations run on this many threads...
const POLICY_WORKERS: usize = 2;
/// ...with at most this many waiting (more answer "busy" at once).
const POLICY_QUEUE: usize = 64;

/// Sockets are shared by every instance on one interface, family and source.
type SocketKey = (u32, Family, IpAddr);

struct Socket {
    ifname: String,
    socket: Arc<VrrpSocket>,
    /// Drops before an instance is known (bad IP header, unknown VRID).
    drops: DropCounters,
}

/// Where a VIP lives.
struct PlacedVip {
    vip: Vip,
    ifindex: u32,
    mac: Option<[u8; 6]>,
}

struct Inst {
    cfg: InstanceConfig,
    vrrp: Instance,
    socket: SocketKey,
    primary: IpAddr,
    /// Multicast group, or the unicast peers.
    destinations: Vec<IpAddr>,
    vips: Vec<PlacedVip>,
    holding: bool,
    /// Planned gratuitous ARP / NA announcements while Master.
    announce: VecDeque<Instant>,
    refresh_at: Option<Instant>,
    /// Interfaces whose link state puts this instance in FAULT.
    tracked_links: Vec<String>,
    /// Its `[[instance.track]]`s.
    tracks: Vec<TrackRun>,
}

impl Inst {
    /// The VIPs as `ADDR/PREFIX`, for status and policy facts.
    fn vip_strings(&self) -> Vec<String> {
        self.vips
            .iter()
            .map(|p| format!("{}/{}", p.vip.addr, p.vip.prefix_len))
            .collect()
    }
}

/// The running daemon.
struct Daemon {
    cfg: Config,
    nl: Netlink,
    insts: Vec<Inst>,
    sockets: HashMap<SocketKey, Socket>,
    /// (ifindex, family, vrid) -> instance index.
    demux: HashMap<(u32, Family, u8), usize>,
    announcer: baton_net::Announcer,
    started: Instant,
    /// The one wasmtime engine; every policy is loaded into it.
    engine: PolicyEngine,
    /// The loaded policies by name.
    policies: Loaded,
    runner: PolicyRunner,
    /// Where evaluations and reloads report back (never blocks the sender).
    events: mpsc::UnboundedSender<Event>,
    next_track_id: u64,
    /// A reload is loading policies.
    reloading: bool,
}

enum Event {
    /// A packet and when it arrived (taken before the channel hop, so the
    /// Master_Down_Timer restarts from the arrival, not from our processing).
    Packet(SocketKey, Instant, Result<baton_net::Received, RecvError>),
    /// An evaluation of track `id` ended.
    Check { id: u64, eval: Box<Evaluation> },
    /// A reload's config, and its policies loaded (off the loop) or why not.
    Reloaded {
        cfg: Box<Config>,
        policies: Result<Loaded, String>,
    },
}

/// Runs the daemon until SIGTERM / SIGINT. `socket` overrides the config's.
pub async fn run(cfg: Config, socket: Option<PathBuf>) -> anyhow::Result<()> {
    // Policies first: a policy that does not load is a startup error.
    let engine = PolicyEngine::new().map_err(|e| anyhow::anyhow!("{e}"))?;
    let t0 = Instant::now();
    let policies = checks::load_policies(&engine, &cfg).map_err(|e| anyhow::anyhow!("{e}"))?;
    if !policies.is_empty() {
        tracing::info!(
            "loaded {} polic{} in {:?} ({} compiled; cache {})",
            policies.len(),
            if policies.len() == 1 { "y" } else { "ies" },
            t0.elapsed(),
            engine.compilations(),
            engine
                .cache_dir()
                .map_or_else(|| "off".to_string(), |d| d.display().to_string())
        );
    }
    for name in checks::runnable_policies(&cfg).1 {
        tracing::warn!("policy {name}: split-brain policies are not run yet; not loaded");
    }
    let (chk_tx, mut chk_rx) = mpsc::unbounded_channel::<Event>();
    let (nl, mut link_events) = Netlink::new().await.context("opening netlink")?;
    let mut daemon = Daemon::build(cfg, nl, engine, policies, chk_tx).await?;
    let (ev_tx, mut ev_rx) = mpsc::channel::<Event>(4096);
    for (key, s) in &daemon.sockets {
        let sock = s.socket.clone();
        let key = *key;
        let tx = ev_tx.clone();
        tokio::spawn(async move {
            loop {
                let r = sock.recv().await;
                let at = Instant::now();
                // A socket error (a downed link, say) is reported and retried,
                // never fatal: the link may come back.
                let pause = matches!(r, Err(RecvError::Io(_)));
                if tx.send(Event::Packet(key, at, r)).await.is_err() {
                    break;
                }
                if pause {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
    }
    let (ctl_tx, mut ctl_rx) = mpsc::channel::<Request>(16);
    let sock_path = socket.unwrap_or_else(|| daemon.cfg.socket.clone());
    let _control = control::serve(&sock_path, ctl_tx).context("control socket")?;

    use tokio::signal::unix::{SignalKind, signal};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sighup = signal(SignalKind::hangup())?;

    let timer = baton_net::Timer::new().context("timerfd")?;
    let no_accept: Vec<IpAddr> = daemon
        .cfg
        .instances
        .iter()
        .flat_map(|i| i.no_accept_vips())
        .collect();
    if no_accept.is_empty() {
        // Only a leftover of an earlier run to remove, if nft is here at all.
        if let Err(e) = baton_net::firewall::set_no_accept(&[]) {
            tracing::debug!("no accept = false instances; {e}");
        }
    } else {
        baton_net::firewall::set_no_accept(&no_accept).context("accept = false")?;
        tracing::info!(
            "accept = false: dropping traffic to {} VIP(s) in nftables table {}",
            no_accept.len(),
            baton_net::firewall::TABLE
        );
    }
    daemon.start().await;
    tracing::info!(
        "baton {} running {} instance(s); control socket {}",
        env!("CARGO_PKG_VERSION"),
        daemon.insts.len(),
        sock_path.display()
    );
    loop {
        let wake = daemon.next_wake();
        let sleep = timer.sleep_until(wake.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)));
        tokio::select! {
            biased;
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
            _ = sighup.recv() => daemon.begin_reload(),
            Some(ev) = ev_rx.recv() => daemon.on_event(ev).await,
            Some(ev) = chk_rx.recv() => daemon.on_event(ev).await,
            r = sleep => {
                if let Err(e) = r {
                    tracing::error!("timer: {e}");
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                daemon.on_timers().await
            }
            Some(ev) = link_events.recv() => daemon.on_link(ev).await,
            Some(req) = ctl_rx.recv() => match req {
                Request::Status(reply) => { let _ = reply.send(daemon.status()); }
            },
        }
    }
    tracing::info!("stopping: resigning mastership and removing VIPs");
    daemon.shutdown().await;
    if !no_accept.is_empty()
        && let Err(e) = baton_net::firewall::set_no_accept(&[])
    {
        tracing::error!("removing nftables table {}: {e}", baton_net::firewall::TABLE);
    }
    Ok(())
}

impl Daemon {
    async fn build(
        cfg: Config,
        nl: Netlink,
        engine: PolicyEngine,
        policies: Loaded,
        events: mpsc::UnboundedSender<Event>,
    ) -> anyhow::Result<Daemon> {
        let runner = PolicyRunner::new(POLICY_WORKERS, POLICY_QUEUE).context("policy worker threads")?;
        let mut next_track_id = 0;
        let mut insts = Vec::new();
        let mut sockets: HashMap<SocketKey, Socket> = HashMap::new();
        let mut demux = HashMap::new();
        for ic in &cfg.instances {
            let link = nl
                .link_by_name(&ic.interface)
                .await
                .with_context(|| format!("instance {}: interface {}", ic.name, ic.interface))?;
            let family = ic.family();
            let vip_addrs: Vec<IpAddr> = ic.vips.iter().map(|v| v.addr).collect();
            let primary = match ic.unicast_src {
                Some(a) => a,
                None => primary_address(&nl, link.index, family, &vip_addrs)
                    .await
                    .with_context(|| {
                        format!(
                            "instance {}: no {} address on {} to send adverts from",
                            ic.name,
                            family_name(family),
                            ic.interface
                        )
                    })?,
            };
            let key = (link.index, family, primary);
            let multicast = ic.unicast_peers.is_empty();
            if let Some(s) = sockets.get(&key) {
                // Shared socket: it must have joined the group if anyone needs it.
                if multicast && !s.socket.is_multicast() {
                    bail!(
                        "instance {}: mixing unicast and multicast instances on one source address",
                        ic.name
                    );
                }
            } else {
                let socket = VrrpSocket::open(link.index, &link.name, family, primary, multicast)
                    .with_context(|| format!("instance {}: VRRP socket on {}", ic.name, ic.interface))?;
                sockets.insert(
                    key,
                    Socket {
                        ifname: link.name.clone(),
                        socket: Arc::new(socket),
                        drops: DropCounters::default(),
                    },
                );
            }
            if demux.insert((link.index, family, ic.vrid), insts.len()).is_some() {
                bail!(
                    "instance {}: VRID {} is already served on {}",
                    ic.name,
                    ic.vrid,
                    ic.interface
                );
            }
            let mut vips = Vec::new();
            for v in &ic.vips {
                let l = if v.dev == link.name {
                    link.clone()
                } else {
                    nl.link_by_name(&v.dev)
                        .await
                        .with_context(|| format!("instance {}: VIP {} dev {}", ic.name, v.addr, v.dev))?
                };
                vips.push(PlacedVip {
                    vip: v.clone(),
                    ifindex: l.index,
                    mac: l.mac,
                });
            }
            let vrrp = Instance::new(ic.vrrp_config(primary))
                .map_err(|e| anyhow::anyhow!("instance {}: {e}", ic.name))?;
            let mut tracked_links = vec![ic.interface.clone()];
            tracked_links.extend(ic.track_interfaces.iter().cloned());
            tracked_links.dedup();
            let destinations = if multicast {
                vec![family.multicast_group()]
            } else {
                ic.unicast_peers.clone()
            };
            let tracks = new_tracks(&cfg, ic, &policies, &mut next_track_id, Instant::now())?;
            insts.push(Inst {
                tracks,
                cfg: ic.clone(),
                vrrp,
                socket: key,
                primary,
                destinations,
                vips,
                holding: false,
                announce: VecDeque::new(),
                refresh_at: None,
                tracked_links,
            });
        }
        Ok(Daemon {
            cfg,
            nl,
            insts,
            sockets,
            demux,
            announcer: baton_net::Announcer::new(),
            started: Instant::now(),
            engine,
            policies,
            runner,
            events,
            next_track_id,
            reloading: false,
        })
    }

    /// Reconciles leftovers of a crash, reads link state, starts every instance.
    async fn start(&mut self) {
        let present = self.nl.addresses(None).await.unwrap_or_else(|e| {
            tracing::warn!("listing addresses: {e}");
            Vec::new()
        });
        for i in 0..self.insts.len() {
            // A previous run that was killed may have left its VIPs behind:
            // an instance starts as non-Master, so they must go before it joins.
            for pv in &self.insts[i].vips {
                let left = present.iter().any(|a| {
                    a.index == pv.ifindex && a.addr == pv.vip.addr && a.prefix_len == pv.vip.prefix_len
                });
                if left {
                    tracing::warn!(
                        "instance {}: removing VIP {}/{} left on {} by an earlier run",
                        self.insts[i].cfg.name,
                        pv.vip.addr,
                        pv.vip.prefix_len,
                        pv.vip.dev
                    );
                    if let Err(e) = self
                        .nl
                        .del_address(pv.ifindex, pv.vip.addr, pv.vip.prefix_len)
                        .await
                    {
                        tracing::error!("removing leftover VIP {}: {e}", pv.vip.addr);
                    }
                }
            }
            let now = Instant::now();
            for name in self.insts[i].tracked_links.clone() {
                let up = match self.nl.link_by_name(&name).await {
                    Ok(l) => l.up,
                    Err(e) => {
                        tracing::warn!(
                            "instance {}: tracked interface {name}: {e}",
                            self.insts[i].cfg.name
                        );
                        false
                    }
                };
                if !up {
                    self.insts[i].vrrp.handle_command(
                        now,
                        Command::SetFault {
                            cause: link_cause(&name),
                            active: true,
                        },
                    );
                }
            }
            // Trackers start good (bad with init_fail): a positive weight
            // counts from the start, as does an init_fail one's penalty.
            let cmds: Vec<Command> = self.insts[i]
                .tracks
                .iter()
                .flat_map(|t| t.tracker.commands())
                .collect();
            for c in cmds {
                self.insts[i].vrrp.handle_command(now, c);
            }
            self.insts[i].vrrp.handle_command(now, Command::Start);
            self.drain(i).await;
        }
        self.run_due_checks(Instant::now());
    }

    async fn shutdown(&mut self) {
        for i in 0..self.insts.len() {
            self.insts[i]
                .vrrp
                .handle_command(Instant::now(), Command::Shutdown);
            self.drain(i).await;
        }
    }

    fn next_wake(&self) -> Option<Instant> {
        self.insts
            .iter()
            .flat_map(|i| {
                [i.vrrp.poll_timeout(), i.announce.front().copied(), i.refresh_at]
                    .into_iter()
                    .chain(i.tracks.iter().map(|t| t.schedule.due()))
            })
            .flatten()
            .min()
    }

    async fn on_timers(&mut self) {
        let now = Instant::now();
        for i in 0..self.insts.len() {
            if self.insts[i].vrrp.poll_timeout().is_some_and(|t| t <= now) {
                self.insts[i].vrrp.handle_timeout(now);
                self.drain(i).await;
            }
            let mut due = false;
            while self.insts[i].announce.front().is_some_and(|t| *t <= now) {
                self.insts[i].announce.pop_front();
                due = true;
            }
            if let Some(t) = self.insts[i].refresh_at.filter(|t| *t <= now) {
                due = true;
                self.insts[i].refresh_at = Some(t + self.insts[i].cfg.garp.refresh);
            }
            if due && self.insts[i].holding {
                self.announce(i);
            }
        }
        self.run_due_checks(now);
    }

    async fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Packet(key, at, r) => self.on_packet(key, at, r).await,
            Event::Check { id, eval } => self.on_check(id, *eval).await,
            Event::Reloaded { cfg, policies } => self.finish_reload(*cfg, policies).await,
        }
    }

    /// What a policy sees of instance `i`.
    fn policy_instance(&self, i: usize) -> PolicyInstance {
        let inst = &self.insts[i];
        let v = &inst.vrrp;
        PolicyInstance {
            name: inst.cfg.name.clone(),
            interface: inst.cfg.interface.clone(),
            vrid: inst.cfg.vrid,
            state: checks::vrrp_state(v.state()),
            base_priority: v.config().priority,
            effective_priority: v.effective_priority(),
            master: v.master().map(|m| m.addr.to_string()),
            vips: inst.vip_strings(),
            holding_vips: inst.holding,
        }
    }

    /// Hands every due evaluation to the runner (never waits for one).
    fn run_due_checks(&mut self, now: Instant) {
        let mut snapshot: Option<Arc<Vec<PolicyInstance>>> = None;
        for i in 0..self.insts.len() {
            for t in 0..self.insts[i].tracks.len() {
                if !self.insts[i].tracks[t].schedule.is_due(now) {
                    continue;
                }
                let instances = snapshot
                    .get_or_insert_with(|| {
                        Arc::new((0..self.insts.len()).map(|k| self.policy_instance(k)).collect())
                    })
                    .clone();
                let me = instances[i].clone();
                let track = &mut self.insts[i].tracks[t];
                let ctx = track.context(&self.cfg.router_id, me, instances);
                track.schedule.started();
                let id = track.id;
                let tx = self.events.clone();
                self.runner.submit(track.policy.clone(), ctx, move |ev| {
                    let _ = tx.send(Event::Check {
                        id,
                        eval: Box::new(ev),
                    });
                });
            }
        }
    }

    /// A finished evaluation: rise/fall, and the instance follows its trackers.
    async fn on_check(&mut self, id: u64, ev: Evaluation) {
        let Some((i, t)) = self
            .insts
            .iter()
            .enumerate()
            .find_map(|(i, inst)| inst.tracks.iter().position(|t| t.id == id).map(|t| (i, t)))
        else {
            // A track removed by a reload while its evaluation ran.
            return;
        };
        let inst_name = self.insts[i].cfg.name.clone();
        let track = &mut self.insts[i].tracks[t];
        let done = track.complete(&ev, Instant::now());
        // A policy's warnings reach the log when its result changes (or on its
        // first run); every 10 ms otherwise, a chatty or hostile policy would
        // flood it. The rest go to debug.
        let loud = done.result_changed || track.runs <= 1;
        for (level, msg) in &ev.logs {
            match level {
                LogLevel::Error if loud => {
                    tracing::error!("instance {inst_name}: policy {}: {msg}", track.name())
                }
                LogLevel::Warn if loud => {
                    tracing::warn!("instance {inst_name}: policy {}: {msg}", track.name())
                }
                _ => tracing::debug!("instance {inst_name}: policy {}: {msg}", track.name()),
            }
        }
        if done.result_changed {
            match &done.reason {
                Some(r) => tracing::info!(
                    "instance {inst_name}: check {} failed: {r} (run {}, {:?})",
                    track.name(),
                    track.runs,
                    ev.elapsed
                ),
                None => tracing::info!(
                    "instance {inst_name}: check {} healthy (run {}, {:?})",
                    track.name(),
                    track.runs,
                    ev.elapsed
                ),
            }
        }
        if !done.effect_changed {
            return;
        }
        let effect = track.effect_text();
        if track.tracker.is_good() {
            tracing::info!(
                "instance {inst_name}: track {} is good again; effect: {effect}",
                track.name()
            );
        } else {
            tracing::warn!(
                "instance {inst_name}: track {} is bad: {}; effect: {effect}",
                track.name(),
                track.tracker.last_reason().unwrap_or("failed")
            );
        }
        let cmds = track.tracker.commands();
        let now = Instant::now();
        for c in cmds {
            self.insts[i].vrrp.handle_command(now, c);
        }
        self.drain(i).await;
    }

    /// SIGHUP: re-reads and checks the config here, then loads its policies
    /// on a blocking thread (compiling may take a while); the result comes
    /// back as [`Event::Reloaded`]. On any error the running configuration
    /// stays as it is.
    fn begin_reload(&mut self) {
        if self.reloading {
            tracing::warn!("SIGHUP: a reload is already in progress; ignored");
            return;
        }
        let path = self.cfg.path.clone();
        tracing::info!("SIGHUP: reloading {}", path.display());
        let cfg = match crate::config::load(&path) {
            Ok(c) => c,
            Err(diags) => {
                for d in &diags {
                    tracing::error!("reload: {d}");
                }
                tracing::error!(
                    "reload refused: {} error(s) in {}; keeping the running configuration",
                    diags.len(),
                    path.display()
                );
                return;
            }
        };
        let refusals = checks::reload_refusals(&self.cfg.instances, &cfg.instances);
        if !refusals.is_empty() {
            for r in &refusals {
                tracing::error!("reload: {r}: restart needed");
            }
            tracing::error!(
                "reload refused: changing, adding or removing VRRP instances needs a restart; keeping the running configuration"
            );
            return;
        }
        self.reloading = true;
        let engine = self.engine.clone();
        let tx = self.events.clone();
        tokio::task::spawn_blocking(move || {
            let policies = checks::load_policies(&engine, &cfg);
            let _ = tx.send(Event::Reloaded {
                cfg: Box::new(cfg),
                policies,
            });
        });
    }

    /// Swaps in a reloaded config whose policies all loaded: tracks in place
    /// (a tracker with the same policy, weight, rise, fall and init_fail keeps
    /// its state), base priorities with `SetPriority`. Nothing else changes, so
    /// a reload alone never moves an instance.
    async fn finish_reload(&mut self, cfg: Config, policies: Result<Loaded, String>) {
        self.reloading = false;
        let policies = match policies {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("reload refused: {e}; keeping the running configuration and policies");
                return;
            }
        };
        // The instances may have changed meanwhile only by another reload,
        // which cannot run concurrently; check again all the same.
        let refusals = checks::reload_refusals(&self.cfg.instances, &cfg.instances);
        if !refusals.is_empty() {
            tracing::error!("reload refused: {}: restart needed", refusals.join("; "));
            return;
        }
        let now = Instant::now();
        // Build every new track set first: nothing changes on an error.
        let mut plans = Vec::new();
        for i in 0..self.insts.len() {
            let Some(nic) = cfg.instance(&self.insts[i].cfg.name) else {
                continue;
            };
            let mut fresh = Vec::new();
            for tr in &nic.tracks {
                let (Some(p), Some(loaded)) = (cfg.policy(&tr.policy), policies.get(&tr.policy)) else {
                    tracing::error!("reload refused: track {}: policy not loaded", tr.policy);
                    return;
                };
                match checks::grants(p, &config::merge_settings(&p.config, &tr.config), &cfg) {
                    Ok(g) => fresh.push((tr.clone(), p.clone(), loaded.clone(), Arc::new(g))),
                    Err(e) => {
                        tracing::error!("reload refused: {e}");
                        return;
                    }
                }
            }
            plans.push((i, nic.clone(), fresh));
        }
        let (mut kept, mut reset, mut added, mut removed) = (0, 0, 0, 0);
        for (i, nic, fresh) in plans {
            let mut old: Vec<TrackRun> = std::mem::take(&mut self.insts[i].tracks);
            let mut tracks = Vec::new();
            let mut cmds: Vec<Command> = Vec::new();
            for (tr, p, loaded, grants) in fresh {
                match old.iter().position(|o| o.cfg.policy == tr.policy) {
                    Some(k) => {
                        let mut run = old.remove(k);
                        if !checks::keeps_state(&run.cfg, &tr) {
                            run.tracker =
                                baton_vrrp::track::Tracker::new(tr.policy.clone(), checks::track_config(&tr));
                            cmds.extend(run.tracker.commands());
                            reset += 1;
                        } else {
                            kept += 1;
                        }
                        // The schedule (and an evaluation in flight) carries on.
                        run.schedule.set_interval(tr.interval, now);
                        run.settings = checks::merge_settings(&p.config, &tr.config);
                        run.policy = loaded;
                        run.grants = grants;
                        run.cfg = tr;
                        tracks.push(run);
                    }
                    None => {
                        self.next_track_id += 1;
                        let run = TrackRun::new(self.next_track_id, tr, &p, loaded, grants, now);
                        cmds.extend(run.tracker.commands());
                        tracks.push(run);
                        added += 1;
                    }
                }
            }
            for gone in old {
                cmds.extend(checks::clear_commands(gone.name()));
                removed += 1;
            }
            let inst = &mut self.insts[i];
            if nic.priority != inst.cfg.priority {
                tracing::info!(
                    "instance {}: base priority {} -> {}",
                    nic.name,
                    inst.cfg.priority,
                    nic.priority
                );
                cmds.push(Command::SetPriority(nic.priority));
            }
            inst.tracks = tracks;
            inst.cfg = nic;
            for c in cmds {
                inst.vrrp.handle_command(now, c);
            }
            self.drain(i).await;
        }
        if cfg.socket != self.cfg.socket || cfg.log_file != self.cfg.log_file {
            tracing::warn!("reload: `socket` and `log_file` take effect at the next restart");
        }
        let before = self.engine.compilations();
        self.policies = policies;
        self.cfg = cfg;
        tracing::info!(
            "reload done: {} polic{}, tracks: {kept} kept, {reset} reset, {added} added, {removed} removed (engine compilations so far: {before})",
            self.policies.len(),
            if self.policies.len() == 1 { "y" } else { "ies" },
        );
        self.run_due_checks(Instant::now());
    }

    async fn on_packet(&mut self, key: SocketKey, at: Instant, r: Result<baton_net::Received, RecvError>) {
        let rx = match r {
            Ok(rx) => rx,
            Err(RecvError::Drop(reason)) => {
                if let Some(s) = self.sockets.get_mut(&key) {
                    s.drops.count(reason);
                }
                return;
            }
            Err(RecvError::Io(e)) => {
                tracing::debug!("receive on {:?}: {e}", key);
                return;
            }
        };
        let family = key.1;
        let Some(&vrid) = rx.payload.get(1) else {
            self.count_socket_drop(key, DropReason::Truncated);
            return;
        };
        let Some(&i) = self.demux.get(&(key.0, family, vrid)) else {
            // Check the packet first: garbage is counted as what it is.
            let reason = match wire::parse(&rx.payload, &rx.meta, &ParseOptions::default()) {
                Ok(_) => DropReason::UnknownVrid,
                Err(r) => r,
            };
            self.count_socket_drop(key, reason);
            return;
        };
        let opts = ParseOptions {
            v3_ipv4_checksum: self.insts[i].cfg.v3_checksum,
        };
        match wire::parse(&rx.payload, &rx.meta, &opts) {
            Ok(advert) => {
                self.insts[i].vrrp.handle_packet(at, rx.meta.src, &advert);
                self.drain(i).await;
            }
            Err(reason) => self.insts[i].vrrp.count_drop(reason),
        }
    }

    fn count_socket_drop(&mut self, key: SocketKey, reason: DropReason) {
        if let Some(s) = self.sockets.get_mut(&key) {
            s.drops.count(reason);
        }
    }

    async fn on_link(&mut self, ev: LinkEvent) {
        let (name, up) = match &ev {
            LinkEvent::Changed(l) => (l.name.clone(), l.up),
            LinkEvent::Removed { name, .. } => (name.clone(), false),
        };
        for i in 0..self.insts.len() {
            if !self.insts[i].tracked_links.contains(&name) {
                continue;
            }
            let cmd = Command::SetFault {
                cause: link_cause(&name),
                active: !up,
            };
            self.insts[i].vrrp.handle_command(Instant::now(), cmd);
            self.drain(i).await;
        }
    }

    /// Carries out what an instance asked for. A new Master configures and
    /// announces its VIPs before its first advert goes out: the advert makes
    /// the old Master drop them, and by then the LAN already follows us. A
    /// resigning Master sends priority 0 before removing them, for the same
    /// reason the other way round.
    async fn drain(&mut self, i: usize) {
        let mut actions: Vec<Action> = std::iter::from_fn(|| self.insts[i].vrrp.poll_action()).collect();
        if let Some(pos) = actions.iter().position(|a| matches!(a, Action::AddVips { .. }))
            && let Action::AddVips { accept } = actions.remove(pos)
        {
            self.add_vips(i, accept).await;
        }
        while let Some(tx) = self.insts[i].vrrp.poll_transmit() {
            let inst = &self.insts[i];
            let Some(sock) = self.sockets.get(&inst.socket) else {
                continue;
            };
            for dst in &inst.destinations {
                match tx.advert.emit(tx.src, *dst, inst.cfg.v3_checksum) {
                    Ok(bytes) => {
                        if let Err(e) = sock.socket.send(&bytes, *dst).await {
                            tracing::debug!("instance {}: sending advert to {dst}: {e}", inst.cfg.name);
                        }
                    }
                    Err(e) => tracing::error!("instance {}: cannot build advert: {e}", inst.cfg.name),
                }
            }
        }
        for action in actions {
            match action {
                Action::AddVips { accept } => self.add_vips(i, accept).await,
                Action::RemoveVips => self.remove_vips(i).await,
                Action::AnnounceVips => {
                    let inst = &mut self.insts[i];
                    tracing::info!(
                        "instance {}: another router claims to be master: re-announcing the VIPs",
                        inst.cfg.name
                    );
                    if inst.holding {
                        let now = Instant::now();
                        let mut plan = plan_announcements(&inst.cfg.garp, now);
                        // Once more shortly after, in case the other router's
                        // announcements cross ours on the wire.
                        plan.push_back(now + inst.cfg.advert_interval.min(Duration::from_millis(100)));
                        plan.make_contiguous().sort();
                        inst.announce = plan;
                        self.announce_due(i, now);
                    }
                }
                Action::StateChanged(t) => {
                    let inst = &self.insts[i];
                    let level_warn = t.to == State::Fault || t.from == State::Master;
                    let msg = format!(
                        "instance {} (vrid {} on {}): {} -> {}: {}",
                        inst.cfg.name,
                        inst.cfg.vrid,
                        inst.cfg.interface,
                        t.from.as_str().to_uppercase(),
                        t.to.as_str().to_uppercase(),
                        t.reason
                    );
                    if level_warn {
                        tracing::warn!("{msg}");
                    } else {
                        tracing::info!("{msg}");
                    }
                }
            }
        }
    }

    /// (Accept_Mode needs nothing here: the nftables rule set at start drops
    /// traffic to the VIPs of non-accepting instances in every state.)
    async fn add_vips(&mut self, i: usize, _accept: bool) {
        let started = Instant::now();
        let inst = &self.insts[i];
        for pv in &inst.vips {
            if let Err(e) = self
                .nl
                .add_address(
                    pv.ifindex,
                    pv.vip.addr,
                    pv.vip.prefix_len,
                    pv.vip.label.as_deref(),
                )
                .await
            {
                tracing::error!("instance {}: adding VIP {}: {e}", inst.cfg.name, pv.vip.addr);
            }
        }
        let now = Instant::now();
        let inst = &mut self.insts[i];
        inst.holding = true;
        inst.announce = plan_announcements(&inst.cfg.garp, now);
        inst.refresh_at = (!inst.cfg.garp.refresh.is_zero()).then(|| now + inst.cfg.garp.refresh);
        self.announce_due(i, now);
        tracing::debug!(
            "instance {}: VIPs added in {:?}, announced after {:?}",
            self.insts[i].cfg.name,
            now - started,
            started.elapsed()
        );
    }

    async fn remove_vips(&mut self, i: usize) {
        let inst = &mut self.insts[i];
        inst.holding = false;
        inst.announce.clear();
        inst.refresh_at = None;
        for pv in &inst.vips {
            if let Err(e) = self
                .nl
                .del_address(pv.ifindex, pv.vip.addr, pv.vip.prefix_len)
                .await
            {
                tracing::error!("instance {}: removing VIP {}: {e}", inst.cfg.name, pv.vip.addr);
            }
        }
    }

    /// Sends every planned announcement that is due, back to back (a burst
    /// with `interval = 0` goes out whole, before anything else happens), and
    /// always at least one.
    fn announce_due(&mut self, i: usize, now: Instant) {
        let inst = &mut self.insts[i];
        let mut n = 0;
        while inst.announce.front().is_some_and(|t| *t <= now) {
            inst.announce.pop_front();
            n += 1;
        }
        for _ in 0..n.max(1) {
            self.announce(i);
        }
    }

    /// One gratuitous ARP / unsolicited NA per VIP.
    fn announce(&self, i: usize) {
        let inst = &self.insts[i];
        for pv in &inst.vips {
            let Some(mac) = pv.mac else { continue };
            let r = match (pv.vip.addr, inst.primary) {
                (IpAddr::V4(v), _) => self.announcer.garp(pv.ifindex, mac, v),
                (IpAddr::V6(v), IpAddr::V6(src)) => self.announcer.na(pv.ifindex, src, mac, v, true),
                (IpAddr::V6(_), IpAddr::V4(_)) => continue,
            };
            if let Err(e) = r {
                tracing::debug!("instance {}: announcing {}: {e}", inst.cfg.name, pv.vip.addr);
            }
        }
    }

    fn status(&self) -> Status {
        let now = Instant::now();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let instances = self
            .insts
            .iter()
            .map(|inst| {
                let v = &inst.vrrp;
                let c = v.counters();
                InstanceStatus {
                    name: inst.cfg.name.clone(),
                    interface: inst.cfg.interface.clone(),
                    vrid: inst.cfg.vrid,
                    version: inst.cfg.version.number(),
                    family: family_name(inst.cfg.family()).to_string(),
                    state: v.state().as_str().to_string(),
                    base_priority: v.config().priority,
                    effective_priority: v.effective_priority(),
                    primary_address: inst.primary.to_string(),
                    master: v.master().map(|m| MasterStatus {
                        address: m.addr.to_string(),
                        priority: m.priority,
                        is_self: m.addr == inst.primary && v.state() == State::Master,
                        last_seen_ms_ago: now.saturating_duration_since(m.last_seen).as_millis() as u64,
                    }),
                    vips: inst.vip_strings(),
                    holding_vips: inst.holding,
                    accepts_vip_traffic: inst.cfg.accepts_vip_traffic(),
                    advert_interval_ms: ms(inst.cfg.advert_interval),
                    master_down_interval_ms: ms(v.master_down_interval()),
                    last_transition: v.last_transition().map(|t| TransitionStatus {
                        from: t.from.as_str().into(),
                        to: t.to.as_str().into(),
                        reason: t.reason.to_string(),
                        ms_ago: now.saturating_duration_since(t.at).as_millis() as u64,
                    }),
                    faults: v.faults().map(String::from).collect(),
                    tracks: inst
                        .tracks
                        .iter()
                        .map(|t| {
                            let effect = t.tracker.effect();
                            TrackStatus {
                                name: t.name().to_string(),
                                policy: t.cfg.policy.clone(),
                                sha256: t.policy.sha256_hex(),
                                good: t.tracker.is_good(),
                                effect: checks::effect_text(effect),
                                weight: match effect {
                                    baton_vrrp::track::Effect::Weight(w) => w,
                                    baton_vrrp::track::Effect::Fault => 0,
                                },
                                configured_weight: t.cfg.weight,
                                rise: t.cfg.rise,
                                fall: t.cfg.fall,
                                interval_ms: ms(t.cfg.interval),
                                timeout_ms: ms(t.cfg.timeout),
                                runs: t.runs,
                                last_healthy: t.last_healthy,
                                last_reason: t.last_reason.clone(),
                                last_failure: t.tracker.last_reason().map(String::from),
                                last_elapsed_us: t.last_elapsed.as_micros() as u64,
                                last_cpu_us: t.last_cpu.as_micros() as u64,
                                mean_cpu_us: (t.cpu_total.as_micros() / u128::from(t.runs.max(1))) as u64,
                                last_fuel: t.last_fuel,
                                last_ms_ago: t
                                    .last_at
                                    .map(|a| now.saturating_duration_since(a).as_millis() as u64),
                                running: t.schedule.is_running(),
                            }
                        })
                        .collect(),
                    counters: CounterStatus {
                        adverts_rx: c.adverts_rx,
                        adverts_tx: c.adverts_tx,
                        priority_zero_rx: c.priority_zero_rx,
                        priority_zero_tx: c.priority_zero_tx,
                        became_master: c.became_master,
                        transitions: c.transitions,
                        drops: drops_map(&c.drops),
                    },
                }
            })
            .collect();
        let mut sockets: Vec<SocketStatus> = self
            .sockets
            .iter()
            .map(|(k, s)| SocketStatus {
                interface: s.ifname.clone(),
                family: family_name(k.1).into(),
                source: k.2.to_string(),
                drops: drops_map(&s.drops),
            })
            .collect();
        sockets.sort_by(|a, b| (&a.interface, &a.family).cmp(&(&b.interface, &b.family)));
        Status {
            router_id: self.cfg.router_id.clone(),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_ms: now.duration_since(self.started).as_millis() as u64,
            instances,
            sockets,
        }
    }
}

/// Announcement times for a new Master: a burst of `repeat` spaced by
/// `interval` now, and the same again after `delay` (keepalived's
/// vrrp_garp_master_delay / _repeat / vrrp_garp_interval).
pub fn plan_announcements(g: &Garp, now: Instant) -> VecDeque<Instant> {
    let mut plan = VecDeque::new();
    let repeat = g.repeat.max(1);
    for k in 0..repeat {
        plan.push_back(now + g.interval * k);
    }
    if !g.delay.is_zero() {
        for k in 0..repeat {
            plan.push_back(now + g.delay + g.interval * k);
        }
    }
    plan.make_contiguous().sort();
    plan
}

/// The interface's primary address; an IPv6 link-local still in duplicate
/// address detection is waited for (up to 5 s) rather than refused.
async fn primary_address(nl: &Netlink, index: u32, family: Family, exclude: &[IpAddr]) -> io::Result<IpAddr> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match baton_net::primary_address(nl, index, family, exclude).await {
            Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            r => return r,
        }
    }
}

/// The tracks of instance `ic` under `cfg`, with fresh ids.
fn new_tracks(
    cfg: &Config,
    ic: &InstanceConfig,
    policies: &Loaded,
    next_id: &mut u64,
    now: Instant,
) -> anyhow::Result<Vec<TrackRun>> {
    let mut out = Vec::new();
    for tr in &ic.tracks {
        let (Some(p), Some(loaded)) = (cfg.policy(&tr.policy), policies.get(&tr.policy)) else {
            bail!("instance {}: track {}: policy not loaded", ic.name, tr.policy);
        };
        let grants = checks::grants(p, &config::merge_settings(&p.config, &tr.config), cfg)
            .map_err(|e| anyhow::anyhow!("instance {}: {e}", ic.name))?;
        *next_id += 1;
        out.push(TrackRun::new(
            *next_id,
            tr.clone(),
            p,
            loaded.clone(),
            Arc::new(grants),
            now,
        ));
    }
    Ok(out)
}

fn link_cause(name: &str) -> String {
    format!("link {name} down")
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    }
}

fn drops_map(d: &DropCounters) -> BTreeMap<String, u64> {
    d.iter().map(|(r, n)| (r.as_str().to_string(), n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_follow_keepalived_garp_settings() {
        let now = Instant::now();
        let g = Garp {
            delay: Duration::from_secs(5),
            repeat: 3,
            interval: Duration::from_millis(10),
            refresh: Duration::ZERO,
        };
        let plan: Vec<Duration> = plan_announcements(&g, now).iter().map(|t| *t - now).collect();
        let ms = Duration::from_millis;
        assert_eq!(plan, vec![ms(0), ms(10), ms(20), ms(5000), ms(5010), ms(5020)]);
        let once = Garp {
            delay: Duration::ZERO,
            repeat: 1,
            interval: Duration::ZERO,
            refresh: Duration::ZERO,
        };
        assert_eq!(plan_announcements(&once, now).len(), 1);
    }
}
