//! A simulated LAN of VRRP routers on a virtual clock.
//!
//! Every router runs a real [`Instance`]; every advert goes through the real
//! codec (emit, then parse) on its way; the LAN can lose, delay and partition
//! packets, and routers can crash, restart, stop, fault and change weight. The
//! simulator checks, while it runs:
//!
//! - every transition has a cause that really happened (the packet, timer or
//!   command its [`Reason`] names);
//! - a router holds its VIPs exactly while it is Master;
//! - after a Master crashes or stops on a loss-free LAN, another router of its
//!   partition is Master within Master_Down_Interval + one advert (+ delay);
//!
//! and on request ([`Sim::check_converged`]) that each connected partition has
//! exactly one Master, the one with the highest priority when all preempt.
//! [`random_scenario`] builds and runs one seeded random scenario.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use crate::instance::{Action, Command, Config, Instance, PRIORITY_OWNER, Reason, State, addr_gt};
use crate::wire::{self, Advert, Family, ParseOptions, RxMeta, VRRP_TTL, Version};

/// Index of a router in the simulation.
pub type NodeId = usize;

/// A small deterministic PRNG (SplitMix64): seeds must replay exactly.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn duration(&mut self, lo: Duration, hi: Duration) -> Duration {
        let lo_n = lo.as_nanos() as u64;
        let hi_n = hi.as_nanos() as u64;
        Duration::from_nanos(self.range(lo_n, hi_n.max(lo_n)))
    }
}

/// An invariant that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Virtual time since the simulation began.
    pub at: Duration,
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {:?}: {}", self.at, self.what)
    }
}

/// What a router heard, for checking the causes of its transitions.
#[derive(Clone, Debug)]
struct Heard {
    at: Instant,
    src: IpAddr,
    priority: u8,
    interval: Duration,
    /// Under the RFC rules this advert restarted the Master_Down_Timer.
    resets_timer: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Cmd {
    Start,
    Shutdown,
    FaultRaised,
    FaultCleared,
    HoldRaised,
}

#[derive(Debug)]
struct Node {
    cfg: Config,
    inst: Instance,
    up: bool,
    group: u32,
    holds_vips: bool,
    heard: VecDeque<Heard>,
    /// When the router last entered Backup (its timer then starts afresh).
    backup_since: Option<Instant>,
    last_cmd: Option<(Instant, Cmd)>,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Delivery {
    to: NodeId,
    bytes: Vec<u8>,
    src: IpAddr,
}

/// A pending "someone must be Master by then" check.
#[derive(Debug, Clone)]
struct FailoverCheck {
    deadline: Instant,
    candidates: Vec<NodeId>,
    cause: String,
}

/// The simulated LAN.
#[derive(Debug)]
pub struct Sim {
    start: Instant,
    now: Instant,
    rng: Rng,
    nodes: Vec<Node>,
    queue: BinaryHeap<Reverse<(Instant, u64, Delivery)>>,
    seq: u64,
    /// Last scheduled arrival per (sender, receiver): a LAN does not reorder.
    last_arrival: std::collections::HashMap<(NodeId, NodeId), Instant>,
    loss: f64,
    delay: (Duration, Duration),
    failover: Vec<FailoverCheck>,
    violations: Vec<Violation>,
    trace: VecDeque<String>,
    /// Transitions seen, for tests: (node, time since start, from, to, reason).
    pub transitions: Vec<(NodeId, Duration, State, State, Reason)>,
    /// Packets delivered and processed.
    pub delivered: u64,
}

const TRACE_LINES: usize = 60;

impl Sim {
    pub fn new(seed: u64) -> Sim {
        // The only clock read in this crate: an arbitrary origin for the virtual
        // clock. Nothing depends on its value, so runs replay exactly.
        let start = Instant::now();
        Sim {
            start,
            now: start,
            rng: Rng::new(seed),
            nodes: Vec::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            last_arrival: std::collections::HashMap::new(),
            loss: 0.0,
            delay: (Duration::ZERO, Duration::ZERO),
            failover: Vec::new(),
            violations: Vec::new(),
            trace: VecDeque::new(),
            transitions: Vec::new(),
            delivered: 0,
        }
    }

    /// Adds a router (not started).
    pub fn add_node(&mut self, cfg: Config) -> NodeId {
        let inst = Instance::new(cfg.clone()).expect("simulated configs are valid");
        self.nodes.push(Node {
            cfg,
            inst,
            up: true,
            group: 0,
            holds_vips: false,
            heard: VecDeque::new(),
            backup_since: None,
            last_cmd: None,
        });
        self.nodes.len() - 1
    }

    /// Virtual time since the simulation began.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    pub fn instance(&self, id: NodeId) -> &Instance {
        &self.nodes[id].inst
    }

    pub fn state(&self, id: NodeId) -> State {
        self.nodes[id].inst.state()
    }

    pub fn is_up(&self, id: NodeId) -> bool {
        self.nodes[id].up
    }

    pub fn holds_vips(&self, id: NodeId) -> bool {
        self.nodes[id].holds_vips
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Up routers that are Master.
    pub fn masters(&self) -> Vec<NodeId> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].up && self.nodes[i].inst.state() == State::Master)
            .collect()
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The last lines of the event trace, for a failure report.
    pub fn trace(&self) -> String {
        self.trace.iter().fold(String::new(), |mut s, l| {
            let _ = writeln!(s, "{l}");
            s
        })
    }

    pub fn set_loss(&mut self, p: f64) {
        self.disturbed();
        self.loss = p.clamp(0.0, 1.0);
        self.log(format!("loss {p:.2}"));
    }

    pub fn set_delay(&mut self, min: Duration, max: Duration) {
        self.delay = (min, max.max(min));
    }

    /// Splits the LAN: each node in `groups[i]` can reach only its group.
    /// Nodes not named keep group 0.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        self.disturbed();
        for n in &mut self.nodes {
            n.group = 0;
        }
        for (g, members) in groups.iter().enumerate() {
            for &m in members {
                self.nodes[m].group = g as u32;
            }
        }
        self.log(format!("partition {groups:?}"));
    }

    pub fn heal(&mut self) {
        self.disturbed();
        for n in &mut self.nodes {
            n.group = 0;
        }
        self.log("heal".to_string());
    }

    /// Sends `cmd` to a router now.
    pub fn command(&mut self, id: NodeId, cmd: Command) {
        if !self.nodes[id].up {
            return;
        }
        let kind = match &cmd {
            Command::Start => Some(Cmd::Start),
            Command::Shutdown => Some(Cmd::Shutdown),
            Command::SetFault { active: true, .. } => Some(Cmd::FaultRaised),
            Command::SetFault { active: false, .. } => Some(Cmd::FaultCleared),
            Command::SetHold { active: true, .. } => Some(Cmd::HoldRaised),
            Command::SetWeight { .. }
            | Command::SetPriority(_)
            | Command::SetHold { .. }
            | Command::Claim { .. } => None,
        };
        let was_master = self.nodes[id].inst.state() == State::Master;
        if kind != Some(Cmd::Start) {
            self.disturbed();
        }
        self.log(format!("n{id} <- {cmd:?}"));
        self.nodes[id].last_cmd = kind.clone().map(|k| (self.now, k));
        let now = self.now;
        self.nodes[id].inst.handle_command(now, cmd);
        self.drain(id);
        // A Master that resigns (priority 0) hands over within Skew_Time.
        let resigned = was_master && self.nodes[id].inst.state() != State::Master;
        if resigned && matches!(kind, Some(Cmd::Shutdown | Cmd::FaultRaised | Cmd::HoldRaised)) {
            let bound = self.max_advert_interval() + self.delay.1;
            self.expect_failover(id, bound, "master resigned");
        }
    }

    pub fn start(&mut self, id: NodeId) {
        self.command(id, Command::Start);
    }

    /// The router vanishes: no resign, no packets, timers gone.
    pub fn crash(&mut self, id: NodeId) {
        if !self.nodes[id].up {
            return;
        }
        self.disturbed();
        let was_master = self.nodes[id].inst.state() == State::Master;
        self.nodes[id].up = false;
        self.nodes[id].holds_vips = false;
        self.log(format!("n{id} crashed"));
        if was_master {
            let bound = self.max_mdi(id) + self.max_advert_interval() + self.delay.1;
            self.expect_failover(id, bound, "master crashed");
        }
    }

    /// A crashed router comes back with a fresh instance and starts.
    pub fn restart(&mut self, id: NodeId) {
        if self.nodes[id].up {
            return;
        }
        self.disturbed();
        let node = &mut self.nodes[id];
        node.inst = Instance::new(node.cfg.clone()).expect("simulated configs are valid");
        node.up = true;
        node.heard.clear();
        node.backup_since = None;
        self.log(format!("n{id} restarted"));
        self.start(id);
    }

    /// Runs the LAN for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        loop {
            let next_packet = self.queue.peek().map(|Reverse((t, _, _))| *t);
            let next_timer = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.up)
                .filter_map(|(i, n)| n.inst.poll_timeout().map(|t| (t, i)))
                .min();
            let next_check = self.failover.iter().map(|c| c.deadline).min();
            let t_packet = next_packet.unwrap_or(until + Duration::from_secs(1));
            let t_timer = next_timer.map_or(until + Duration::from_secs(1), |(t, _)| t);
            let t_check = next_check.unwrap_or(until + Duration::from_secs(1));
            let t = t_packet.min(t_timer).min(t_check);
            if t > until {
                break;
            }
            self.now = self.now.max(t);
            if t_check <= t_packet && t_check <= t_timer {
                self.run_failover_checks();
            } else if t_packet <= t_timer {
                if let Some(Reverse((_, _, d))) = self.queue.pop() {
                    self.deliver(d);
                }
            } else if let Some((_, id)) = next_timer {
                let now = self.now;
                self.nodes[id].inst.handle_timeout(now);
                if self.nodes[id].inst.poll_timeout().is_some_and(|t| t <= now) {
                    self.violation(format!("n{id}: timer did not advance past {:?}", self.elapsed()));
                    return;
                }
                self.drain(id);
            }
        }
        self.now = until;
    }

    /// Up, non-faulted routers grouped by partition.
    pub fn components(&self) -> Vec<Vec<NodeId>> {
        let mut groups: Vec<(u32, Vec<NodeId>)> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if !n.up || n.inst.state() == State::Fault || n.inst.state() == State::Initialize {
                continue;
            }
            match groups.iter_mut().find(|(g, _)| *g == n.group) {
                Some((_, v)) => v.push(i),
                None => groups.push((n.group, vec![i])),
            }
        }
        groups.into_iter().map(|(_, v)| v).collect()
    }

    /// Exactly one Master per connected partition; with everyone preempting,
    /// it has the highest priority of its partition.
    pub fn check_converged(&mut self) {
        for comp in self.components() {
            let masters: Vec<NodeId> = comp
                .iter()
                .copied()
                .filter(|&i| self.nodes[i].inst.state() == State::Master)
                .collect();
            if masters.len() != 1 {
                self.violation(format!(
                    "partition {comp:?} has masters {masters:?}, want exactly one"
                ));
                continue;
            }
            let all_preempt = comp.iter().all(|&i| self.nodes[i].cfg.preempt);
            let best = comp
                .iter()
                .map(|&i| self.nodes[i].inst.effective_priority())
                .max();
            let got = self.nodes[masters[0]].inst.effective_priority();
            if all_preempt && Some(got) != best {
                self.violation(format!(
                    "partition {comp:?}: master n{} has priority {got}, highest is {best:?}",
                    masters[0]
                ));
            }
        }
    }

    /// Settling time after the last disturbance: the slowest Master_Down_Interval,
    /// an advert, and delays.
    pub fn settle_time(&self) -> Duration {
        let i = self.max_advert_interval();
        4 * i + i + 2 * i + 2 * self.delay.1 + Duration::from_millis(1)
    }

    fn max_advert_interval(&self) -> Duration {
        self.nodes
            .iter()
            .map(|n| n.cfg.advert_interval)
            .max()
            .unwrap_or_default()
    }

    /// The longest Master_Down_Interval among the routers that could take over from `gone`.
    fn max_mdi(&self, gone: NodeId) -> Duration {
        let group = self.nodes[gone].group;
        self.nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| *i != gone && n.up && n.group == group)
            .map(|(_, n)| n.inst.master_down_interval())
            .max()
            .unwrap_or_default()
    }

    fn expect_failover(&mut self, gone: NodeId, bound: Duration, cause: &str) {
        if self.loss > 0.0 {
            return;
        }
        let group = self.nodes[gone].group;
        // Any router of the partition that runs VRRP may be (or become) the Master.
        let candidates: Vec<NodeId> = (0..self.nodes.len())
            .filter(|&i| i != gone && self.nodes[i].up && self.nodes[i].group == group)
            .filter(|&i| matches!(self.nodes[i].inst.state(), State::Backup | State::Master))
            .collect();
        if candidates.is_empty() {
            return;
        }
        self.failover.push(FailoverCheck {
            deadline: self.now + bound,
            candidates,
            cause: format!("{cause} (n{gone})"),
        });
    }

    /// Something changed: pending failover bounds no longer apply.
    fn disturbed(&mut self) {
        self.failover.clear();
    }

    fn run_failover_checks(&mut self) {
        let now = self.now;
        let (due, rest): (Vec<_>, Vec<_>) = self.failover.drain(..).partition(|c| c.deadline <= now);
        self.failover = rest;
        for c in due {
            // A router started since counts too: any Master of the partition will do.
            let group = c.candidates.first().map(|&i| self.nodes[i].group);
            let ok = self
                .nodes
                .iter()
                .any(|n| n.up && Some(n.group) == group && n.inst.state() == State::Master);
            if !ok {
                self.violation(format!(
                    "{}: no master among {:?} by the deadline",
                    c.cause, c.candidates
                ));
            }
        }
    }

    fn deliver(&mut self, d: Delivery) {
        let id = d.to;
        if !self.nodes[id].up {
            return;
        }
        let dst = Family::of(&d.src).multicast_group();
        let meta = RxMeta {
            src: d.src,
            dst,
            ttl: VRRP_TTL,
        };
        let opts = ParseOptions {
            v3_ipv4_checksum: self.nodes[id].cfg.v3_ipv4_checksum,
            ..ParseOptions::default()
        };
        let advert = match wire::parse(&d.bytes, &meta, &opts) {
            Ok(a) => a,
            Err(e) => {
                self.violation(format!("n{id}: a packet a router emitted did not parse: {e}"));
                return;
            }
        };
        self.delivered += 1;
        self.record_heard(id, d.src, &advert);
        let now = self.now;
        // Drops are counted by the instance; the sim checks its counters.
        let _ = self.nodes[id].inst.handle_packet(now, d.src, &advert);
        self.drain(id);
    }

    fn record_heard(&mut self, id: NodeId, src: IpAddr, advert: &Advert) {
        let node = &mut self.nodes[id];
        let ours = node.inst.effective_priority();
        let preempt = node.cfg.preempt || node.cfg.priority == PRIORITY_OWNER;
        let resets_timer = advert.priority != 0
            && match node.inst.state() {
                State::Backup => !preempt || advert.priority >= ours,
                State::Master => {
                    advert.priority > ours || (advert.priority == ours && addr_gt(src, node.cfg.primary_addr))
                }
                _ => false,
            };
        node.heard.push_back(Heard {
            at: self.now,
            src,
            priority: advert.priority,
            interval: advert.interval_duration(),
            resets_timer,
        });
        if node.heard.len() > 256 {
            node.heard.pop_front();
        }
    }

    fn drain(&mut self, id: NodeId) {
        while let Some(tx) = self.nodes[id].inst.poll_transmit() {
            let dst = Family::of(&tx.src).multicast_group();
            let bytes = match tx.advert.emit(tx.src, dst, self.nodes[id].cfg.v3_ipv4_checksum) {
                Ok(b) => b,
                Err(e) => {
                    self.violation(format!("n{id}: could not emit its own advert: {e}"));
                    continue;
                }
            };
            for to in 0..self.nodes.len() {
                if to == id || !self.nodes[to].up || self.nodes[to].group != self.nodes[id].group {
                    continue;
                }
                if self.loss > 0.0 && self.rng.chance(self.loss) {
                    continue;
                }
                let delay = self.rng.duration(self.delay.0, self.delay.1);
                let last = self.last_arrival.entry((id, to)).or_insert(self.now);
                let arrival = (self.now + delay).max(*last);
                *last = arrival;
                self.seq += 1;
                let d = Delivery {
                    to,
                    bytes: bytes.clone(),
                    src: tx.src,
                };
                self.queue.push(Reverse((arrival, self.seq, d)));
            }
        }
        while let Some(action) = self.nodes[id].inst.poll_action() {
            match action {
                Action::AddVips { .. } => self.nodes[id].holds_vips = true,
                Action::RemoveVips => self.nodes[id].holds_vips = false,
                // The simulated routers do not probe before they claim.
                Action::ProbeVips => self.violation(format!("n{id} probes without probe_before_claim")),
                Action::AnnounceVips => {
                    if !self.nodes[id].holds_vips {
                        self.violation(format!("n{id} re-announces VIPs it does not hold"));
                    }
                }
                Action::StateChanged(t) => {
                    self.log(format!("n{id} {} -> {} ({})", t.from, t.to, t.reason));
                    self.check_cause(id, &t.reason, t.from, t.to);
                    if t.to == State::Backup {
                        self.nodes[id].backup_since = Some(self.now);
                    }
                    let at = self.elapsed();
                    self.transitions.push((id, at, t.from, t.to, t.reason));
                }
            }
        }
        let n = &self.nodes[id];
        if n.up && n.holds_vips != (n.inst.state() == State::Master) {
            let msg = format!("n{id} in {} holds VIPs: {}", n.inst.state(), n.holds_vips);
            self.violation(msg);
        }
    }

    /// "No transition without a cause": the evidence a reason names must exist.
    fn check_cause(&mut self, id: NodeId, reason: &Reason, from: State, to: State) {
        let now = self.now;
        let node = &self.nodes[id];
        let cmd_now = |k: Cmd| node.last_cmd.as_ref().is_some_and(|(t, c)| *t == now && *c == k);
        let ours = node.inst.effective_priority();
        let problem: Option<String> = match reason {
            Reason::Startup => (!(cmd_now(Cmd::Start) && from == State::Initialize && to == State::Backup))
                .then(|| "startup without a start command".into()),
            Reason::Owner => (!(cmd_now(Cmd::Start) && node.cfg.priority == PRIORITY_OWNER))
                .then(|| "owner start without a start command or not owner".into()),
            Reason::Fault { .. } => (!(cmd_now(Cmd::FaultRaised) || cmd_now(Cmd::Start))
                || to != State::Fault)
                .then(|| "fault without a fault command".into()),
            Reason::FaultCleared => (!cmd_now(Cmd::FaultCleared) || from != State::Fault)
                .then(|| "fault cleared without a command".into()),
            Reason::Shutdown => (!cmd_now(Cmd::Shutdown)).then(|| "shutdown without a command".into()),
            Reason::Demoted { .. } => {
                (!cmd_now(Cmd::HoldRaised) || from != State::Master || to != State::Backup)
                    .then(|| "demoted without a hold".into())
            }
            Reason::HigherPriority { master, priority } => {
                let heard = node.heard.iter().any(|h| {
                    h.at == now
                        && h.src == *master
                        && h.priority == *priority
                        && (*priority > ours
                            || (*priority == ours && addr_gt(*master, node.cfg.primary_addr)))
                });
                (!heard || from != State::Master).then(|| format!("no winning advert from {master} now"))
            }
            Reason::MasterDown | Reason::Preempt { .. } => {
                // A preempting Backup takes over Skew_Time after hearing the
                // lower Master, however recently it entered Backup.
                // The preempted Master's own earlier adverts (from before it fell
                // below us) do not hold us back either.
                let preempted = match reason {
                    Reason::Preempt { master, .. } => Some(*master),
                    _ => None,
                };
                let mut p = self.timer_expiry_problem(id, from, preempted);
                if let Reason::Preempt { master, priority } = reason {
                    let window = 4 * node.cfg.advert_interval.max(node.inst.master_adver_interval());
                    let seen = node.heard.iter().any(|h| {
                        h.src == *master
                            && h.priority == *priority
                            && *priority < ours
                            && now - h.at <= window
                    });
                    if !seen {
                        p = Some(format!("preempted {master} without hearing it lower"));
                    }
                }
                p
            }
            Reason::MasterResigned { master } => {
                let heard = node.heard.iter().any(|h| {
                    h.src == *master
                        && h.priority == 0
                        && h.at <= now
                        && now - h.at <= h.interval.max(node.cfg.advert_interval)
                });
                (!heard || from != State::Backup)
                    .then(|| format!("no priority 0 from {master} within Skew_Time"))
            }
        };
        if let Some(p) = problem {
            self.violation(format!("n{id} {from} -> {to} ({reason}): {p}"));
        }
    }

    /// A Master_Down_Timer expiry is legitimate only if no advert that restarts
    /// the timer came within its 3 * interval (a lower bound of the interval).
    fn timer_expiry_problem(&self, id: NodeId, from: State, preempted: Option<IpAddr>) -> Option<String> {
        let node = &self.nodes[id];
        let now = self.now;
        if from != State::Backup {
            return Some(format!("timer expiry from {from}"));
        }
        if let Some(t) = node.backup_since
            && preempted.is_none()
            && now < t + 3 * node.cfg.advert_interval
        {
            return Some(format!("fired {:?} after entering Backup", now - t));
        }
        node.heard
            .iter()
            .rev()
            .find(|h| {
                // A router heard since below us (its latest advert lower) no
                // longer holds the timer: it is being preempted too.
                let fell = preempted.is_some()
                    && node.heard.iter().any(|l| {
                        l.src == h.src
                            && l.at >= h.at
                            && (l.priority == 0 || l.priority < node.inst.effective_priority())
                    });
                h.resets_timer && Some(h.src) != preempted && !fell && now < h.at + 3 * h.interval
            })
            .map(|h| {
                format!(
                    "{} (priority {}) was heard {:?} ago",
                    h.src,
                    h.priority,
                    now - h.at
                )
            })
    }

    fn violation(&mut self, what: String) {
        self.log(format!("VIOLATION {what}"));
        self.violations.push(Violation {
            at: self.elapsed(),
            what,
        });
    }

    fn log(&mut self, line: String) {
        let at = self.elapsed();
        self.trace.push_back(format!("{at:>12.6?} {line}"));
        if self.trace.len() > TRACE_LINES {
            self.trace.pop_front();
        }
    }
}

/// Address of router `i` in a simulated LAN of the given family.
pub fn node_addr(family: Family, i: usize) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1 + i as u8)),
        Family::V6 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1 + i as u16)),
    }
}

/// The VIP of the simulated virtual router.
pub fn vip(family: Family) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
        Family::V6 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100)),
    }
}

/// What one random scenario did.
#[derive(Debug)]
pub struct ScenarioReport {
    pub seed: u64,
    pub nodes: usize,
    pub version: Version,
    pub interval: Duration,
    pub steps: Vec<String>,
    pub transitions: usize,
    pub delivered: u64,
    pub violations: Vec<Violation>,
    /// The simulator's trace tail, when something went wrong.
    pub trace: String,
}

/// Builds and runs one random scenario from `seed`: 2..=5 routers, v2 or v3,
/// IPv4 or IPv6, random priorities (sometimes equal, sometimes an owner),
/// preempt or not; then random crashes, restarts, clean stops, faults, weight
/// changes, partitions and lossy spells; then a quiet spell in which the LAN
/// must converge and stay put.
pub fn random_scenario(seed: u64) -> ScenarioReport {
    let mut rng = Rng::new(seed ^ 0x5eed_0000_0000_0000);
    let mut sim = Sim::new(seed);
    let version = if rng.chance(0.3) { Version::V2 } else { Version::V3 };
    let family = if version == Version::V3 && rng.chance(0.3) {
        Family::V6
    } else {
        Family::V4
    };
    let interval = match version {
        Version::V2 => Duration::from_secs(rng.range(1, 2)),
        Version::V3 => Duration::from_millis([10, 20, 50, 100, 1000][rng.below(5) as usize]),
    };
    let n = rng.range(2, 5) as usize;
    let owner = if rng.chance(0.1) {
        Some(rng.below(n as u64) as usize)
    } else {
        None
    };
    let auth = if version == Version::V2 && rng.chance(0.5) {
        crate::Auth::pass("1111").expect("valid password")
    } else {
        crate::Auth::None
    };
    for i in 0..n {
        let mut cfg = Config::new(42, node_addr(family, i), vec![vip(family)]);
        cfg.version = version;
        cfg.advert_interval = interval;
        cfg.priority = if Some(i) == owner {
            PRIORITY_OWNER
        } else if rng.chance(0.2) {
            100
        } else {
            rng.range(1, 254) as u8
        };
        cfg.preempt = !rng.chance(0.2);
        cfg.auth = auth.clone();
        sim.add_node(cfg);
    }
    // Delays up to a quarter interval, capped at 5 ms (a LAN).
    let max_delay = (interval / 4).min(Duration::from_millis(5));
    sim.set_delay(Duration::ZERO, rng.duration(Duration::ZERO, max_delay));

    let mut steps = Vec::new();
    for i in 0..n {
        sim.start(i);
        sim.run_for(rng.duration(Duration::ZERO, interval));
    }
    let wait = |rng: &mut Rng| rng.duration(interval / 2, 12 * interval);
    sim.run_for(wait(&mut rng));
    let nsteps = rng.range(3, 8);
    for _ in 0..nsteps {
        let target = rng.below(n as u64) as usize;
        let step = match rng.below(9) {
            0 => {
                sim.crash(target);
                format!("crash n{target}")
            }
            1 => {
                sim.restart(target);
                format!("restart n{target}")
            }
            2 => {
                // Crash whoever is Master: the failover bound is checked.
                let m = sim.masters();
                match m.first() {
                    Some(&m) => {
                        sim.crash(m);
                        format!("crash master n{m}")
                    }
                    None => "no master to crash".into(),
                }
            }
            3 => {
                if sim.instance(target).state() == State::Initialize && sim.is_up(target) {
                    sim.start(target);
                    format!("start n{target}")
                } else {
                    sim.command(target, Command::Shutdown);
                    format!("stop n{target}")
                }
            }
            4 => {
                let active = rng.chance(0.5);
                sim.command(
                    target,
                    Command::SetFault {
                        cause: "link".into(),
                        active,
                    },
                );
                format!("fault n{target} {active}")
            }
            5 => {
                let w = rng.range(0, 200) as i32 - 100;
                sim.command(
                    target,
                    Command::SetWeight {
                        source: "check".into(),
                        weight: w,
                    },
                );
                format!("weight n{target} {w}")
            }
            6 => {
                let groups: Vec<Vec<NodeId>> = {
                    let mut a = Vec::new();
                    let mut b = Vec::new();
                    for i in 0..n {
                        if rng.chance(0.5) { a.push(i) } else { b.push(i) }
                    }
                    vec![a, b]
                };
                let s = format!("partition {groups:?}");
                sim.partition(&groups);
                s
            }
            7 => {
                sim.heal();
                "heal".into()
            }
            _ => {
                let p = rng.range(5, 60) as f64 / 100.0;
                sim.set_loss(p);
                sim.run_for(wait(&mut rng));
                sim.set_loss(0.0);
                format!("loss {p:.2} for a while")
            }
        };
        steps.push(step);
        sim.run_for(wait(&mut rng));
    }
    // Quiet: no loss, no change. It must converge and then not move.
    sim.set_loss(0.0);
    if rng.chance(0.7) {
        sim.heal();
        steps.push("heal".into());
    }
    sim.run_for(sim.settle_time());
    sim.check_converged();
    let before = sim.transitions.len();
    sim.run_for(10 * interval);
    if sim.transitions.len() != before {
        let extra: Vec<_> = sim.transitions[before..].to_vec();
        sim.violation(format!("transitions on a quiet, converged LAN: {extra:?}"));
    }
    sim.check_converged();
    let violations = sim.violations().to_vec();
    ScenarioReport {
        seed,
        nodes: n,
        version,
        interval,
        steps,
        transitions: sim.transitions.len(),
        delivered: sim.delivered,
        trace: if violations.is_empty() {
            String::new()
        } else {
            sim.trace()
        },
        violations,
    }
}
