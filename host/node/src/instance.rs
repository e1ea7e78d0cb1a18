//! One instance as the node runs it: the protocol state machine
//! (baton-vrrp) plus what only the node knows: where its adverts go, which
//! VIPs are really held, when they are announced, its trackers and its typed
//! fault causes. It turns the state machine's actions into effects, in the
//! order that keeps the LAN following the right router: a new Master adds
//! and announces its VIPs before its first advert; a resigning one sends
//! priority 0 before it removes them.

use std::collections::{BTreeSet, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use baton_config::InstanceConfig;
use baton_vrrp::auth::Msg;
use baton_vrrp::track::{Effect as TrackEffect, TrackConfig, Tracker};
use baton_vrrp::wire::Parsed;
use baton_vrrp::{Action, Advert, Command, DropReason, HmacState, Instance, State, Transmit};

use crate::announce::Announcements;
use crate::brain::{Brain, Decision, Phase, VipAnswer, mac_string};
use crate::effect::{
    AnswerFacts, BrainRun, CheckKey, CheckResult, Effect, Event, FaultCause, InstanceFacts, InstanceId,
    PeerFacts, ProbePurpose, SocketKey, VipOp, WeightSource,
};
use crate::notices::WallClock;
use crate::spoof::{SuspectKind, Suspects};
use crate::vips::{ADD_ATTEMPTS_BEFORE_FAULT, VipRequest, VipSet};

/// How long an instance whose VIPs cannot be added stays in FAULT before it
/// tries again: 1 s, doubling up to 30 s while it keeps failing.
pub fn vip_fault_cooldown(strikes: u32) -> Duration {
    Duration::from_secs(1u64 << strikes.saturating_sub(1).min(5)).min(Duration::from_secs(30))
}

/// One track of an instance: its tracker applies the check's results with
/// this instance's weight, rise and fall.
#[derive(Clone, Debug)]
pub struct InstTrack {
    pub cfg: baton_config::Track,
    pub key: CheckKey,
    pub tracker: Tracker,
}

pub fn track_config(t: &baton_config::Track) -> TrackConfig {
    TrackConfig {
        weight: t.weight,
        rise: t.rise,
        fall: t.fall,
        init_fail: t.init_fail,
    }
}

impl InstTrack {
    pub fn new(instance: &str, cfg: baton_config::Track) -> InstTrack {
        InstTrack {
            key: crate::checks::track_key(instance, &cfg),
            tracker: Tracker::new(cfg.name(), track_config(&cfg)),
            cfg,
        }
    }
}

/// Counters the protocol core does not keep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeCounters {
    pub send_errors: u64,
    pub announcements: u64,
    pub vip_fault_strikes: u32,
}

#[derive(Debug)]
pub struct NodeInstance {
    pub id: InstanceId,
    pub cfg: InstanceConfig,
    pub vrrp: Instance,
    pub primary: IpAddr,
    pub socket: SocketKey,
    pub vips: VipSet,
    /// `routes`, wanted exactly when the VIPs are.
    pub routes: VipSet<baton_config::Route>,
    pub announce: Announcements,
    pub tracks: Vec<InstTrack>,
    pub faults: BTreeSet<FaultCause>,
    /// Adverts waiting for VIP adds to be answered.
    held_tx: VecDeque<Transmit>,
    /// When a VIP-add fault is lifted, to try again.
    vip_fault_until: Option<Instant>,
    pub counters: NodeCounters,
    /// Removed by a reload: kept only until its VIPs are gone.
    pub removed: bool,
    /// Its peers, who answers for its VIPs, its split-brain decisions.
    pub brain: Brain,
    /// Sources of lying adverts.
    pub suspects: Suspects,
    /// HMAC sequence numbers sent and replay marks of what was accepted.
    pub hmac: HmacState,
    /// The node's wall clock: HMAC sequence numbers are UTC.
    pub(crate) wall: Option<WallClock>,
    /// Its `[[instance.heartbeat]]` paths.
    pub heartbeat: Vec<HeartbeatPath>,
}

/// One `[[instance.heartbeat]]` as the node runs it: adverts also go to
/// `peer` on `socket`, and the peer's adverts there count as from `primary`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatPath {
    pub socket: SocketKey,
    pub peer: IpAddr,
    pub primary: IpAddr,
}

/// Where a multicast or unicast instance sends its adverts.
pub fn destinations(cfg: &InstanceConfig) -> Vec<IpAddr> {
    if cfg.unicast_peers.is_empty() {
        vec![cfg.family().multicast_group()]
    } else {
        cfg.unicast_peers.clone()
    }
}

pub fn socket_key(cfg: &InstanceConfig, primary: IpAddr) -> SocketKey {
    SocketKey {
        interface: cfg.advert_interface().to_string(),
        family: cfg.family(),
        source: primary,
    }
}

/// Where an advert came from: the address it came from on the wire, the
/// peer it stands for (its main-path address, for a heartbeat path), the
/// interface, and whether it came by multicast.
#[derive(Clone, Copy, Debug)]
pub struct Heard<'a> {
    pub wire_src: IpAddr,
    pub src: IpAddr,
    pub interface: &'a str,
    pub multicast: bool,
}

impl NodeInstance {
    pub fn new(
        id: InstanceId,
        cfg: InstanceConfig,
        primary: IpAddr,
        heartbeat: Vec<HeartbeatPath>,
    ) -> Result<NodeInstance, String> {
        let vrrp =
            Instance::new(cfg.vrrp_config(primary)).map_err(|e| format!("instance {}: {e}", cfg.name))?;
        let tracks = cfg
            .tracks
            .iter()
            .map(|t| InstTrack::new(&cfg.name, t.clone()))
            .collect();
        Ok(NodeInstance {
            id,
            socket: socket_key(&cfg, primary),
            vips: VipSet::new(&cfg.held_addresses()),
            routes: VipSet::new(&cfg.held_routes()),
            primary,
            vrrp,
            announce: Announcements::default(),
            tracks,
            faults: BTreeSet::new(),
            held_tx: VecDeque::new(),
            vip_fault_until: None,
            counters: NodeCounters::default(),
            removed: false,
            brain: Brain::new(&cfg.unicast_peers),
            suspects: Suspects::default(),
            hmac: HmacState::default(),
            wall: None,
            heartbeat: Vec::new(),
            cfg,
        }
        .with_heartbeat(heartbeat))
    }

    fn with_heartbeat(mut self, paths: Vec<HeartbeatPath>) -> NodeInstance {
        self.set_heartbeat(paths);
        self
    }

    /// Its heartbeat paths (a reload may change them): each peer is expected
    /// on its path and on the main one, so that a path never heard is
    /// reported too.
    pub fn set_heartbeat(&mut self, paths: Vec<HeartbeatPath>) {
        let main = (self.cfg.interface.clone(), self.cfg.unicast_peers.is_empty());
        self.brain.unexpect_paths(|peer, x| {
            (x.interface == main.0 && x.multicast == main.1 && paths.iter().any(|h| h.primary == peer))
                || paths
                    .iter()
                    .any(|h| h.primary == peer && !x.multicast && x.interface == h.socket.interface)
        });
        for h in &paths {
            self.brain.expect_path(h.primary, &main.0, main.1);
            self.brain.expect_path(h.primary, &h.socket.interface, false);
        }
        self.heartbeat = paths;
    }

    /// An advert (already through the codec): authenticated first when
    /// the instance has a key, then the protocol core checks and takes it.
    /// A liar's advert is dropped and its source becomes a suspect; an
    /// honest one is heard.
    pub fn receive(
        &mut self,
        now: Instant,
        from: &Heard<'_>,
        parsed: &Parsed,
        payload: &[u8],
        out: &mut VecDeque<Effect>,
    ) {
        let advert = &parsed.advert;
        let master = match self.vrrp.state() {
            State::Master => Some(self.vrrp.effective_priority()),
            _ => self.vrrp.master().map(|m| m.priority),
        };
        let quiet = crate::spoof::forget_after(self.vrrp.master_down_interval());
        self.suspects.expire(now, quiet);
        let verdict = self
            .authenticate(now, from, parsed, payload)
            .and_then(|()| self.vrrp.handle_packet(now, from.src, advert));
        let news = match verdict {
            Ok(()) => {
                self.heard(now, from, advert, out);
                // Only where anyone may speak can a stranger be a liar.
                let open = self.vrrp.config().allowed_sources.is_empty() && !self.cfg.auth.authenticates();
                open.then(|| self.suspects.accepted(now, from.src, advert.priority, master))
                    .flatten()
            }
            Err(reason) => match SuspectKind::of_drop(reason) {
                Some(_) => self.suspects.dropped(now, from.src, reason, advert.priority),
                None => {
                    // A misconfigured peer is still a peer heard.
                    if advert.vrid == self.cfg.vrid && from.src != self.primary {
                        self.heard(now, from, advert, out);
                    }
                    None
                }
            },
        };
        if let Some(news) = news {
            out.push_back(Effect::Event(Event::Spoof {
                instance: self.cfg.name.clone(),
                news,
            }));
        }
    }

    /// The HMAC check (none without a key): a unicast instance spends no
    /// work on a stranger; the tag is over the address the packet came from.
    /// A drop is counted here.
    fn authenticate(
        &mut self,
        now: Instant,
        from: &Heard<'_>,
        parsed: &Parsed,
        payload: &[u8],
    ) -> Result<(), DropReason> {
        let Some(h) = self.cfg.auth.hmac() else {
            return Ok(());
        };
        let allowed = &self.vrrp.config().allowed_sources;
        let r = if !allowed.is_empty() && !allowed.contains(&from.src) {
            Err(DropReason::NotAPeer)
        } else {
            let msg = &payload[..parsed.msg_len.min(payload.len())];
            let utc = self.utc_ns(now);
            let m = Msg {
                version: self.cfg.version,
                vrid: self.cfg.vrid,
                src: from.wire_src,
                bytes: msg,
            };
            self.hmac.verify(h, &m, parsed.trailer.as_ref(), utc)
        };
        if let Err(reason) = r {
            self.vrrp.count_drop(reason);
        }
        r
    }

    /// UTC nanoseconds at `now` (0 before the driver told the wall clock).
    fn utc_ns(&self, now: Instant) -> u64 {
        self.wall.map_or(0, |w| w.unix_ms(now).saturating_mul(1_000_000))
    }

    /// An advert of peer `src` came on `interface`: the peer and its paths
    /// are remembered; a path that went silent or came back is an event.
    fn heard(&mut self, now: Instant, from: &Heard<'_>, advert: &Advert, out: &mut VecDeque<Effect>) {
        let silence = self.vrrp.master_down_interval();
        for news in self.brain.heard(
            now,
            from.src,
            advert.priority,
            from.interface,
            from.multicast,
            silence,
        ) {
            out.push_back(Effect::Event(Event::Path {
                instance: self.cfg.name.clone(),
                news,
            }));
        }
    }

    /// The links it tracks, with their weights (0: FAULT while down): its
    /// interface (unless `track_primary = false`), and `track_interfaces`.
    pub fn tracked_links(&self) -> impl Iterator<Item = (&str, i32)> {
        let own = self.cfg.track_primary.then_some((self.cfg.interface.as_str(), 0));
        own.into_iter().chain(
            self.cfg
                .track_interfaces
                .iter()
                .map(|t| (t.name.as_str(), t.weight)),
        )
    }

    /// Link `name` (tracked with `weight`) is up or down: a weight-0 link
    /// down is a FAULT, a weighted one moves the priority while down.
    pub fn apply_link(
        &mut self,
        name: &str,
        weight: i32,
        up: bool,
        now: Instant,
        out: &mut VecDeque<Effect>,
    ) {
        let (fault, weight) = match weight {
            0 => (!up, 0),
            w => (false, if up { 0 } else { w }),
        };
        self.vrrp.handle_command(
            now,
            Command::SetWeight {
                source: WeightSource::Link(name.to_string()).to_string(),
                weight,
            },
        );
        self.set_fault(FaultCause::LinkDown(name.to_string()), fault, now, out);
        self.drain(now, out);
    }

    /// Raises or clears a fault cause.
    pub fn set_fault(&mut self, cause: FaultCause, active: bool, now: Instant, out: &mut VecDeque<Effect>) {
        let changed = if active {
            self.faults.insert(cause.clone())
        } else {
            self.faults.remove(&cause)
        };
        if changed {
            self.vrrp.handle_command(
                now,
                Command::SetFault {
                    cause: cause.to_string(),
                    active,
                },
            );
            self.drain(now, out);
        }
    }

    /// Makes the state machine reflect track `i`'s effect (weight or FAULT).
    pub fn apply_track(&mut self, i: usize, now: Instant, out: &mut VecDeque<Effect>) {
        let t = &self.tracks[i];
        let name = t.cfg.name().to_string();
        let (weight, fault) = match t.tracker.effect() {
            TrackEffect::Weight(w) => (w, false),
            TrackEffect::Fault => (0, true),
        };
        self.vrrp.handle_command(
            now,
            Command::SetWeight {
                source: WeightSource::Track(name.clone()).to_string(),
                weight,
            },
        );
        self.set_fault(FaultCause::Track(name), fault, now, out);
        self.drain(now, out);
    }

    /// Takes a track's weight and fault off the instance (track removed).
    pub fn clear_track(&mut self, name: &str, now: Instant, out: &mut VecDeque<Effect>) {
        self.vrrp.handle_command(
            now,
            Command::SetWeight {
                source: WeightSource::Track(name.to_string()).to_string(),
                weight: 0,
            },
        );
        self.set_fault(FaultCause::Track(name.to_string()), false, now, out);
        self.drain(now, out);
    }

    /// A result of check `key`: each of this instance's tracks that follows it records it.
    pub fn check_result(
        &mut self,
        key: &CheckKey,
        r: &CheckResult,
        now: Instant,
        out: &mut VecDeque<Effect>,
    ) {
        for i in 0..self.tracks.len() {
            if self.tracks[i].key != *key {
                continue;
            }
            let t = &mut self.tracks[i];
            if !t.tracker.record(r.healthy, r.reason.clone(), r.weight) {
                continue;
            }
            out.push_back(Effect::Event(Event::Track {
                instance: self.cfg.name.clone(),
                track: t.cfg.name().to_string(),
                good: t.tracker.is_good(),
                effect: t.tracker.effect(),
                reason: t.tracker.last_reason().map(String::from),
            }));
            self.apply_track(i, now, out);
        }
    }

    /// Carries out what the state machine asked for, in order.
    pub fn drain(&mut self, now: Instant, out: &mut VecDeque<Effect>) {
        let actions: Vec<Action> = std::iter::from_fn(|| self.vrrp.poll_action()).collect();
        let mut txs: VecDeque<Transmit> = std::iter::from_fn(|| self.vrrp.poll_transmit()).collect();
        for action in actions {
            match action {
                Action::StateChanged(t) => out.push_back(Effect::Event(Event::Transition {
                    instance: self.cfg.name.clone(),
                    vrid: self.cfg.vrid,
                    interface: self.cfg.interface.clone(),
                    from: t.from,
                    to: t.to,
                    reason: t.reason,
                    priority: self.vrrp.effective_priority(),
                })),
                Action::AddVips { .. } => {
                    let reqs = self.vips.set_wanted(true, now);
                    self.request(reqs, out);
                    // After the addresses a route may take as its source.
                    let reqs = self.routes.set_wanted(true, now);
                    self.request_routes(reqs, out);
                }
                Action::RemoveVips => {
                    // Priority 0 first: the Backup takes over while we still answer.
                    self.held_tx.clear();
                    while let Some(tx) = txs.pop_front() {
                        self.send(now, &tx, out);
                    }
                    self.announce.stop();
                    let reqs = self.routes.set_wanted(false, now);
                    self.request_routes(reqs, out);
                    let reqs = self.vips.set_wanted(false, now);
                    self.request(reqs, out);
                }
                Action::ProbeVips => {
                    self.brain.claim_probe_at = Some(now);
                    out.push_back(self.probe(ProbePurpose::Claim));
                }
                Action::AnnounceVips => {
                    out.push_back(Effect::Event(Event::Reannounce {
                        instance: self.cfg.name.clone(),
                    }));
                    if self.vips.held().next().is_some() {
                        self.announce
                            .restart(&self.cfg.garp, self.cfg.advert_interval, now);
                        self.announce_due(now, out);
                    }
                }
            }
        }
        if self.vips.adding() {
            self.held_tx.extend(txs);
        } else {
            for tx in txs {
                self.send(now, &tx, out);
            }
        }
    }

    fn request(&mut self, reqs: Vec<VipRequest>, out: &mut VecDeque<Effect>) {
        for r in reqs {
            out.push_back(match r {
                VipRequest::Add(vip) => Effect::AddVip {
                    instance: self.id,
                    vip,
                },
                VipRequest::Remove(vip) => Effect::RemoveVip {
                    instance: self.id,
                    vip,
                },
            });
        }
    }

    pub(crate) fn request_routes(
        &self,
        reqs: Vec<VipRequest<baton_config::Route>>,
        out: &mut VecDeque<Effect>,
    ) {
        for r in reqs {
            out.push_back(match r {
                VipRequest::Add(route) => Effect::AddRoute {
                    instance: self.id,
                    route,
                },
                VipRequest::Remove(route) => Effect::RemoveRoute {
                    instance: self.id,
                    route,
                },
            });
        }
    }

    /// An add or remove of a route was answered: a failure is retried with
    /// backoff, and never faults the instance (the VIPs still serve).
    pub fn route_result(
        &mut self,
        route: &baton_config::Route,
        op: VipOp,
        r: Result<(), String>,
        now: Instant,
        out: &mut VecDeque<Effect>,
    ) {
        if let Err(e) = &r {
            let verb = if op == VipOp::Add { "adding" } else { "removing" };
            out.push_back(Effect::Event(Event::NetFailed {
                instance: self.cfg.name.clone(),
                what: format!("{verb} route {route}"),
                error: e.clone(),
            }));
        }
        self.routes.result(route, op == VipOp::Add, r, now);
        let reqs = self.routes.requests(now);
        self.request_routes(reqs, out);
    }

    fn send(&mut self, now: Instant, tx: &Transmit, out: &mut VecDeque<Effect>) {
        // One sequence number for every copy of this advert.
        let hmac = self.cfg.auth.hmac().filter(|h| h.signs()).cloned();
        let utc = self.utc_ns(now);
        let seq = hmac.as_ref().map(|h| self.hmac.next_seq(h, utc));
        let emit = |src: IpAddr, dst: IpAddr| match (&hmac, seq) {
            (Some(h), Some(seq)) => tx.advert.emit_signed(src, dst, self.cfg.v3_checksum, h, seq),
            _ => tx.advert.emit(src, dst, self.cfg.v3_checksum),
        };
        for dst in destinations(&self.cfg) {
            match emit(tx.src, dst) {
                Ok(packet) => out.push_back(Effect::Send {
                    instance: self.id,
                    socket: self.socket.clone(),
                    dst,
                    packet,
                }),
                // Only a config the protocol core validated gets here.
                Err(_) => self.counters.send_errors += 1,
            }
        }
        for h in &self.heartbeat {
            match emit(h.socket.source, h.peer) {
                Ok(packet) => out.push_back(Effect::Send {
                    instance: self.id,
                    socket: h.socket.clone(),
                    dst: h.peer,
                    packet,
                }),
                Err(_) => self.counters.send_errors += 1,
            }
        }
    }

    /// An add or remove of a VIP was answered.
    pub fn vip_result(
        &mut self,
        vip: &baton_config::Vip,
        op: VipOp,
        r: Result<(), String>,
        now: Instant,
        out: &mut VecDeque<Effect>,
    ) {
        if let Err(e) = &r {
            let attempt = self
                .vips
                .all()
                .iter()
                .find(|x| x.vip == *vip)
                .map_or(1, |x| x.failures + 1);
            out.push_back(Effect::Event(Event::VipFailed {
                instance: self.cfg.name.clone(),
                vip: vip.clone(),
                op,
                error: e.clone(),
                attempt,
            }));
        }
        let outcome = self.vips.result(vip, op == VipOp::Add, r, now);
        if outcome.add_failures >= ADD_ATTEMPTS_BEFORE_FAULT && self.vrrp.state() == State::Master {
            // It cannot serve: FAULT lets a Backup take over; retry later.
            self.counters.vip_fault_strikes += 1;
            self.vip_fault_until = Some(now + vip_fault_cooldown(self.counters.vip_fault_strikes));
            self.set_fault(FaultCause::VipAdd { addr: vip.addr }, true, now, out);
        }
        if outcome.now_held && self.vips.all_held() {
            self.counters.vip_fault_strikes = 0;
        }
        if !self.vips.adding() {
            if self.vips.wanted()
                && self.vips.held().next().is_some()
                && (outcome.now_held || !self.held_tx.is_empty())
            {
                self.announce.start(&self.cfg.garp, now);
                self.announce_due(now, out);
            }
            while let Some(tx) = self.held_tx.pop_front() {
                self.send(now, &tx, out);
            }
        }
        let reqs = self.vips.requests(now);
        self.request(reqs, out);
    }

    /// Sends the announcements due at `now` (at least one).
    fn announce_due(&mut self, now: Instant, out: &mut VecDeque<Effect>) {
        let n = self.announce.due(&self.cfg.garp, now).max(1);
        self.announce_held(n, out);
    }

    fn announce_held(&mut self, times: usize, out: &mut VecDeque<Effect>) {
        for _ in 0..times {
            for vip in self.vips.held() {
                out.push_back(Effect::Announce {
                    instance: self.id,
                    vip: vip.clone(),
                    source: self.primary,
                });
                self.counters.announcements += 1;
            }
        }
    }

    fn probe(&self, purpose: ProbePurpose) -> Effect {
        Effect::Probe {
            instance: self.id,
            interface: self.cfg.interface.clone(),
            vips: self.cfg.vips.iter().map(|v| v.addr).collect(),
            purpose,
        }
    }

    /// Starts split-brain evaluations (when it has a policy), the first after one interval.
    pub fn start_brain(&mut self, now: Instant) {
        self.brain.next_at = self.cfg.split_brain.as_ref().map(|sb| now + sb.interval);
        self.brain.phase = Phase::Idle;
    }

    /// A probe's answers: evidence kept, and a waiting claim decided.
    pub fn probe_result(
        &mut self,
        purpose: ProbePurpose,
        r: Result<Vec<VipAnswer>, String>,
        now: Instant,
        out: &mut VecDeque<Effect>,
    ) {
        let ok = match r {
            Ok(answers) => {
                self.brain.answers = answers;
                self.brain.answered_at = Some(now);
                true
            }
            Err(e) => {
                self.brain.probe_failures += 1;
                self.brain.last_error = Some(format!("probe: {e}"));
                false
            }
        };
        match purpose {
            ProbePurpose::Claim => {
                if let Some(t) = self.brain.claim_probe_at.take() {
                    self.brain.last_claim_wait = Some(now.saturating_duration_since(t));
                }
                let mdi = self.vrrp.master_down_interval();
                let master = self
                    .vrrp
                    .master()
                    .filter(|m| m.addr != self.primary && now.saturating_duration_since(m.last_seen) <= mdi)
                    .map(|m| (m.addr, m.priority));
                let refusal = ok
                    .then(|| {
                        self.brain
                            .claim_refusal(self.vrrp.effective_priority(), self.primary, master)
                    })
                    .flatten();
                if let Some(reason) = &refusal {
                    self.brain.claims_refused += 1;
                    out.push_back(Effect::Event(Event::ClaimRefused {
                        instance: self.cfg.name.clone(),
                        reason: reason.clone(),
                    }));
                }
                self.vrrp.handle_command(
                    now,
                    Command::Claim {
                        clear: refusal.is_none(),
                    },
                );
                self.drain(now, out);
            }
            ProbePurpose::Evidence if self.brain.phase == Phase::Probing => {
                let run = self.brain.runs + 1;
                self.brain.phase = Phase::Deciding(run);
                out.push_back(Effect::RunSplitBrain(Box::new(self.brain_run(run, now))));
            }
            ProbePurpose::Evidence => {}
        }
    }

    fn brain_run(&self, run: u64, now: Instant) -> BrainRun {
        let sb = self.cfg.split_brain.as_ref();
        let ago = |t: Instant| now.saturating_duration_since(t);
        BrainRun {
            instance: self.id,
            name: self.cfg.name.clone(),
            policy: sb.map(|s| s.policy.clone()).unwrap_or_default(),
            run,
            timeout: sb.map_or(Duration::from_millis(100), |s| s.interval),
            facts: self.facts(),
            peers: self
                .brain
                .peers
                .iter()
                .map(|(a, p)| PeerFacts {
                    address: *a,
                    last_priority: p.last_priority,
                    last_heard_ago: p.last_heard.map(ago),
                    paths: p
                        .paths
                        .iter()
                        .filter_map(|x| Some((x.name(), ago(x.last?))))
                        .collect(),
                })
                .collect(),
            answers: self
                .brain
                .answers
                .iter()
                .map(|a| AnswerFacts {
                    vip: a.vip,
                    others: a.others.iter().map(mac_string).collect(),
                    probed_ago: self.brain.answered_at.map(ago),
                })
                .collect(),
            last_decision: self.brain.last_decision.as_ref().map(|d| d.kind().to_string()),
        }
    }

    /// A split-brain evaluation's decision (an error counts as stay).
    pub fn brain_result(
        &mut self,
        run: u64,
        r: Result<Decision, String>,
        now: Instant,
        out: &mut VecDeque<Effect>,
    ) {
        if self.brain.phase != Phase::Deciding(run) {
            return;
        }
        self.brain.phase = Phase::Idle;
        self.brain.runs = run;
        self.brain.next_at = self.cfg.split_brain.as_ref().map(|sb| now + sb.interval);
        let decision = match r {
            Ok(d) => d,
            Err(e) => {
                self.brain.last_error = Some(e);
                Decision::Stay
            }
        };
        self.vrrp.handle_command(
            now,
            Command::SetHold {
                cause: crate::brain::CAUSE.to_string(),
                active: matches!(decision, Decision::Demote(_)),
            },
        );
        self.drain(now, out);
        self.set_fault(
            FaultCause::SplitBrain,
            matches!(decision, Decision::Fault(_)),
            now,
            out,
        );
        if self.brain.last_decision.as_ref() != Some(&decision) {
            // The first evaluation's "stay" is no news.
            if !(self.brain.last_decision.is_none() && decision == Decision::Stay) {
                out.push_back(Effect::Event(Event::SplitBrain {
                    instance: self.cfg.name.clone(),
                    decision: decision.clone(),
                }));
            }
            self.brain.last_decision = Some(decision);
        }
    }

    /// The split-brain policy is gone (reload): its hold and fault with it.
    pub fn brain_result_cleared(&mut self, now: Instant, out: &mut VecDeque<Effect>) {
        self.vrrp.handle_command(
            now,
            Command::SetHold {
                cause: crate::brain::CAUSE.to_string(),
                active: false,
            },
        );
        self.set_fault(FaultCause::SplitBrain, false, now, out);
        self.brain.last_decision = None;
        self.drain(now, out);
    }

    /// Timers: the protocol's, announcements, VIP retries, a VIP fault's end.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut VecDeque<Effect>) {
        if self.brain.next_at.is_some_and(|t| t <= now) && self.brain.phase == Phase::Idle {
            self.brain.next_at = None;
            self.brain.phase = Phase::Probing;
            out.push_back(self.probe(ProbePurpose::Evidence));
        }
        if self.vrrp.poll_timeout().is_some_and(|t| t <= now) {
            self.vrrp.handle_timeout(now);
            self.drain(now, out);
        }
        if self.announce.next().is_some_and(|t| t <= now) {
            let n = self.announce.due(&self.cfg.garp, now);
            if self.vrrp.state() == State::Master {
                self.announce_held(n, out);
            }
        }
        if self.vips.next_retry().is_some_and(|t| t <= now) {
            let reqs = self.vips.requests(now);
            self.request(reqs, out);
        }
        if self.routes.next_retry().is_some_and(|t| t <= now) {
            let reqs = self.routes.requests(now);
            self.request_routes(reqs, out);
        }
        if self.vip_fault_until.is_some_and(|t| t <= now) {
            self.vip_fault_until = None;
            let causes: Vec<FaultCause> = self
                .faults
                .iter()
                .filter(|c| matches!(c, FaultCause::VipAdd { .. }))
                .cloned()
                .collect();
            for c in causes {
                self.set_fault(c, false, now, out);
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.vrrp.poll_timeout(),
            self.announce.next(),
            self.vips.next_retry(),
            self.routes.next_retry(),
            self.vip_fault_until,
            self.brain.next_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// `ADDR/PREFIX` of each configured VIP.
    pub fn vip_strings(&self) -> Vec<String> {
        self.cfg
            .vips
            .iter()
            .map(|v| format!("{}/{}", v.addr, v.prefix_len))
            .collect()
    }

    pub fn facts(&self) -> InstanceFacts {
        InstanceFacts {
            name: self.cfg.name.clone(),
            interface: self.cfg.interface.clone(),
            vrid: self.cfg.vrid,
            state: Some(self.vrrp.state()),
            base_priority: self.vrrp.config().priority,
            effective_priority: self.vrrp.effective_priority(),
            master: self.vrrp.master().map(|m| m.addr),
            vips: self.vip_strings(),
            holding_vips: self.vips.all_held(),
        }
    }
}
