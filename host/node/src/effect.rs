//! What the node asks of the world (effects), what it is told back (results)
//! and what it reports (events, for logs and, next, notifications).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use baton_config::{Route, Vip};

pub use crate::brain::{Decision, PathNews, ProbePurpose, VipAnswer};
pub use crate::spoof::{SuspectKind, SuspectNews};
pub use baton_notify::Job;
use baton_vrrp::{Family, Reason, State};

/// An instance, stable for the node's lifetime: a reload that keeps an
/// instance's identity (name, interface, VRID, family) keeps its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(pub u32);

/// One raw VRRP socket: shared by every instance on one interface, family and
/// source address.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketKey {
    pub interface: String,
    pub family: Family,
    pub source: IpAddr,
}

impl fmt::Display for SocketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} from {}",
            self.interface,
            family_name(self.family),
            self.source
        )
    }
}

/// Which check an evaluation is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckKey {
    /// A `[[check]]`: once per node, whatever tracks it.
    Node(String),
    /// An instance's own `[[instance.track]]` with `policy = ...`.
    Track { instance: String, policy: String },
}

impl fmt::Display for CheckKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckKey::Node(name) => write!(f, "check {name}"),
            CheckKey::Track { instance, policy } => write!(f, "instance {instance}: check {policy}"),
        }
    }
}

/// One evaluation handed out; its result names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub u64);

/// What a policy sees of one instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceFacts {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub state: Option<State>,
    pub base_priority: u8,
    pub effective_priority: u8,
    pub master: Option<IpAddr>,
    /// `ADDR/PREFIX`.
    pub vips: Vec<String>,
    pub holding_vips: bool,
}

/// One peer in a split-brain evaluation's evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerFacts {
    pub address: IpAddr,
    pub last_priority: Option<u8>,
    pub last_heard_ago: Option<Duration>,
    /// (`eth0 multicast`, since it last delivered)
    pub paths: Vec<(String, Duration)>,
}

/// Who else answered for one VIP, in a split-brain evaluation's evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerFacts {
    pub vip: IpAddr,
    /// `aa:bb:cc:dd:ee:ff`.
    pub others: Vec<String>,
    pub probed_ago: Option<Duration>,
}

/// A split-brain evaluation to run: the policy and the evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrainRun {
    pub instance: InstanceId,
    /// The instance's name.
    pub name: String,
    pub policy: String,
    pub run: u64,
    pub timeout: Duration,
    pub facts: InstanceFacts,
    pub peers: Vec<PeerFacts>,
    pub answers: Vec<AnswerFacts>,
    /// The previous decision's kind.
    pub last_decision: Option<String>,
}

/// An evaluation to run.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRun {
    pub run: RunId,
    pub key: CheckKey,
    pub policy: String,
    /// The policy's `config` with the track's or check's merged over it.
    pub settings: Vec<(String, String)>,
    pub timeout: Duration,
    pub router_id: String,
    /// The tracking instance; `None` for a node-level check.
    pub instance: Option<InstanceFacts>,
    /// Every instance of the node (the `vrrp` capability).
    pub instances: Arc<Vec<InstanceFacts>>,
    /// Evaluations of this check completed so far.
    pub runs: u64,
    pub last_healthy: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// How an evaluation ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckResult {
    pub healthy: bool,
    /// Why it failed.
    pub reason: Option<String>,
    /// A weight the policy asked for with this result.
    pub weight: Option<i32>,
    pub elapsed: Duration,
    pub cpu: Duration,
    pub fuel: u64,
    /// The policy's own log lines.
    pub logs: Vec<(LogLevel, String)>,
    /// The runner had no room for it: it did not run (see
    /// `Checks::defer_busy`).
    pub busy: bool,
}

/// Asks of the world. Executed in the order given; each that can fail is
/// answered with the matching `Node::handle_*_result`.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Open a raw VRRP socket (`multicast`: join the group). Answer:
    /// `handle_socket_result`.
    OpenSocket { key: SocketKey, multicast: bool },
    /// Close it (no instance uses it any more).
    CloseSocket { key: SocketKey },
    /// Send one advert (already encoded: VRRP header and payload).
    Send {
        instance: InstanceId,
        socket: SocketKey,
        dst: IpAddr,
        packet: Vec<u8>,
    },
    /// Configure a VIP. Answer: `handle_vip_result`.
    AddVip { instance: InstanceId, vip: Vip },
    /// Remove a VIP (absent already counts as done). Answer: `handle_vip_result`.
    RemoveVip { instance: InstanceId, vip: Vip },
    /// One gratuitous ARP (IPv4) or unsolicited NA (IPv6, from `source`) for a held VIP.
    Announce {
        instance: InstanceId,
        vip: Vip,
        source: IpAddr,
    },
    /// Make traffic to exactly these addresses be dropped (Accept_Mode
    /// false); empty removes the rules. Answer: `handle_firewall_result`.
    SetFirewall { drop: Vec<IpAddr> },
    /// Evaluate a policy. Answer: `handle_check_result`.
    RunCheck(Box<CheckRun>),
    /// Ask who else answers for these VIPs on `interface` (ARP probe / DAD
    /// neighbour solicitation), collecting for [`crate::brain::PROBE_WAIT`].
    /// Answer: `handle_probe_result`.
    Probe {
        instance: InstanceId,
        interface: String,
        vips: Vec<IpAddr>,
        purpose: ProbePurpose,
    },
    /// Evaluate an instance's split-brain policy. Answer: `handle_brain_result`.
    RunSplitBrain(Box<BrainRun>),
    /// Something worth telling: log it (the node has already made its
    /// notice, if it makes one).
    Event(Event),
    /// Send a mail or a webhook, run a notify command, ask the transition
    /// hook. Answer: `handle_notify_delivery` / `_command` / `_hook`.
    Notify(Job),
    /// Configure a route held while Master (after the VIPs it may use as
    /// source). Answer: `handle_route_result`.
    AddRoute { instance: InstanceId, route: Route },
    /// Remove it (absent already counts as done). Answer: `handle_route_result`.
    RemoveRoute { instance: InstanceId, route: Route },
    /// Create the instance's macvlan (replacing a leftover one of ours),
    /// before its socket opens. Answer: `handle_vmac_result`.
    CreateVmac { instance: InstanceId, vmac: VmacSpec },
    /// Delete it, after the instance's last advert (it takes its VIPs along).
    DeleteVmac { instance: InstanceId, vmac: VmacSpec },
}

/// A `use_vmac` macvlan as the world makes it: mode private on `base`, with
/// the virtual MAC.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VmacSpec {
    pub name: String,
    pub base: String,
    pub mac: [u8; 6],
    pub family: Family,
    /// IPv6 runs on it: an IPv6 instance, or IPv6 excluded addresses on it.
    /// Else it is off, so the macvlan sends nothing (router solicitations,
    /// MLD) from the virtual MAC while Backup.
    pub ipv6: bool,
}

impl VmacSpec {
    /// The macvlan of an instance with `use_vmac`.
    pub fn of(cfg: &baton_config::InstanceConfig) -> Option<VmacSpec> {
        let v = cfg.vmac.as_ref()?;
        let ipv6 = cfg
            .held_addresses()
            .iter()
            .any(|a| a.dev == v.name && a.addr.is_ipv6());
        Some(VmacSpec {
            name: v.name.clone(),
            base: cfg.interface.clone(),
            mac: cfg.virtual_mac(),
            family: cfg.family(),
            ipv6,
        })
    }
}

/// Why an instance is in FAULT.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultCause {
    /// Its interface or a `track_interfaces` link is down (or missing).
    LinkDown(String),
    /// A weight-0 track is bad.
    Track(String),
    /// A VIP could not be configured, again and again: it cannot serve.
    VipAdd { addr: IpAddr },
    /// Its VRRP socket could not be opened.
    NoSocket(String),
    /// Its split-brain policy said fault.
    SplitBrain,
    /// Another member of its sync group is in FAULT.
    SyncGroup(String),
}

impl fmt::Display for FaultCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultCause::LinkDown(name) => write!(f, "link {name} down"),
            FaultCause::Track(name) => write!(f, "track {name} failed"),
            FaultCause::VipAdd { addr } => write!(f, "VIP {addr} cannot be added"),
            FaultCause::NoSocket(ifname) => write!(f, "no VRRP socket on {ifname}"),
            FaultCause::SplitBrain => f.write_str(crate::brain::CAUSE),
            FaultCause::SyncGroup(group) => write!(f, "sync group {group}: a member is in FAULT"),
        }
    }
}

/// Who adds to an instance's priority.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WeightSource {
    /// A track, by its name (its check's or policy's).
    Track(String),
    /// A weighted `track_interfaces` link that is down.
    Link(String),
}

impl fmt::Display for WeightSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightSource::Track(name) => f.write_str(name),
            WeightSource::Link(name) => write!(f, "link {name}"),
        }
    }
}

/// A VIP operation, for results and events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VipOp {
    Add,
    Remove,
}

/// How loud an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// What happened, with its evidence.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A sync group as a whole changed state (FAULT if a member is, MASTER
    /// if all are, else BACKUP).
    SyncGroup {
        group: String,
        from: Option<State>,
        to: State,
    },
    Transition {
        instance: String,
        vrid: u8,
        interface: String,
        from: State,
        to: State,
        reason: Reason,
        priority: u8,
    },
    /// A track's effect on its instance changed.
    Track {
        instance: String,
        track: String,
        good: bool,
        effect: baton_vrrp::track::Effect,
        reason: Option<String>,
    },
    /// A check's result differs from its previous one.
    CheckResult {
        key: CheckKey,
        healthy: bool,
        reason: Option<String>,
        run: u64,
        elapsed: Duration,
    },
    PolicyLog {
        key: CheckKey,
        level: LogLevel,
        message: String,
    },
    /// Another router claims mastership: we announce again.
    Reannounce {
        instance: String,
    },
    VipFailed {
        instance: String,
        vip: Vip,
        op: VipOp,
        error: String,
        attempt: u32,
    },
    /// A VIP left configured by an earlier run, being removed.
    Leftover {
        instance: String,
        vip: Vip,
    },
    SocketFailed {
        key: SocketKey,
        error: String,
    },
    Firewall {
        drop: usize,
        error: Option<String>,
    },
    PriorityChanged {
        instance: String,
        from: u8,
        to: u8,
    },
    InstanceAdded {
        instance: String,
    },
    InstanceRemoved {
        instance: String,
    },
    Reloaded {
        generation: u64,
        summary: String,
    },
    ReloadFailed {
        error: String,
    },
    /// A delivery failed, a hook erred, a notify command failed.
    Notify {
        message: String,
    },
    /// A split-brain decision that differs from the one before (or a new alert).
    SplitBrain {
        instance: String,
        decision: Decision,
    },
    /// A probe before claim found the VIPs held by a live router that outranks us.
    ClaimRefused {
        instance: String,
        reason: String,
    },
    /// A heartbeat path of a peer went silent while another delivers, or
    /// came back.
    Path {
        instance: String,
        news: PathNews,
    },
    /// A source sends adverts that lie (not a peer, failing
    /// authentication, replayed) or, unknown, outranks the Master.
    Spoof {
        instance: String,
        news: SuspectNews,
    },
    /// A route or macvlan operation failed (`what`: "adding route ..").
    NetFailed {
        instance: String,
        what: String,
        error: String,
    },
}

impl Event {
    pub fn level(&self) -> Level {
        match self {
            Event::Transition { from, to, .. } => {
                if *to == State::Fault || *from == State::Master {
                    Level::Warn
                } else {
                    Level::Info
                }
            }
            Event::Track { good, .. } => {
                if *good {
                    Level::Info
                } else {
                    Level::Warn
                }
            }
            Event::CheckResult { .. } => Level::Info,
            Event::PolicyLog { level, .. } => match level {
                LogLevel::Error => Level::Error,
                LogLevel::Warn => Level::Warn,
                LogLevel::Info | LogLevel::Debug => Level::Debug,
            },
            Event::Reannounce { .. } => Level::Info,
            Event::VipFailed { .. }
            | Event::SocketFailed { .. }
            | Event::ReloadFailed { .. }
            | Event::NetFailed { .. } => Level::Error,
            Event::Notify { .. } | Event::ClaimRefused { .. } | Event::Spoof { .. } => Level::Warn,
            Event::Path { news, .. } => {
                if news.silent {
                    Level::Warn
                } else {
                    Level::Info
                }
            }
            Event::SplitBrain { decision, .. } => {
                if *decision == Decision::Stay {
                    Level::Info
                } else {
                    Level::Warn
                }
            }
            Event::Leftover { .. } => Level::Warn,
            Event::Firewall { error, .. } => {
                if error.is_some() {
                    Level::Error
                } else {
                    Level::Info
                }
            }
            Event::PriorityChanged { .. }
            | Event::InstanceAdded { .. }
            | Event::InstanceRemoved { .. }
            | Event::Reloaded { .. } => Level::Info,
            Event::SyncGroup { to, .. } => {
                if *to == State::Fault {
                    Level::Warn
                } else {
                    Level::Info
                }
            }
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::SyncGroup { group, from, to } => write!(
                f,
                "sync group {group}: {} -> {}",
                from.map_or("-", |s| s.as_str()).to_uppercase(),
                to.as_str().to_uppercase()
            ),
            Event::Transition {
                instance,
                vrid,
                interface,
                from,
                to,
                reason,
                priority,
            } => write!(
                f,
                "instance {instance} (vrid {vrid} on {interface}): {} -> {}: {reason} (priority {priority})",
                from.as_str().to_uppercase(),
                to.as_str().to_uppercase()
            ),
            Event::Track {
                instance,
                track,
                good,
                effect,
                reason,
            } => {
                let effect = effect_text(*effect);
                if *good {
                    write!(
                        f,
                        "instance {instance}: track {track} is good again; effect: {effect}"
                    )
                } else {
                    let why = reason.as_deref().unwrap_or("failed");
                    write!(
                        f,
                        "instance {instance}: track {track} is bad: {why}; effect: {effect}"
                    )
                }
            }
            Event::CheckResult {
                key,
                healthy,
                reason,
                run,
                elapsed,
            } => match (healthy, reason) {
                (false, r) => write!(
                    f,
                    "{key} failed: {} (run {run}, {elapsed:?})",
                    r.as_deref().unwrap_or("failed")
                ),
                (true, _) => write!(f, "{key} healthy (run {run}, {elapsed:?})"),
            },
            Event::PolicyLog { key, message, .. } => write!(f, "{key}: policy: {message}"),
            Event::Reannounce { instance } => write!(
                f,
                "instance {instance}: another router claims to be master: re-announcing the VIPs"
            ),
            Event::VipFailed {
                instance,
                vip,
                op,
                error,
                attempt,
            } => {
                let verb = match op {
                    VipOp::Add => "adding",
                    VipOp::Remove => "removing",
                };
                write!(
                    f,
                    "instance {instance}: {verb} VIP {vip}: {error} (attempt {attempt})"
                )
            }
            Event::Leftover { instance, vip } => {
                write!(
                    f,
                    "instance {instance}: removing VIP {}/{} left on {} by an earlier run",
                    vip.addr, vip.prefix_len, vip.dev
                )
            }
            Event::SocketFailed { key, error } => write!(f, "VRRP socket on {key}: {error}"),
            Event::Firewall { drop, error: None } => {
                write!(f, "accept = false: dropping traffic to {drop} VIP(s)")
            }
            Event::Firewall { drop, error: Some(e) } => {
                write!(f, "accept = false: cannot set the rules for {drop} VIP(s): {e}")
            }
            Event::PriorityChanged { instance, from, to } => {
                write!(f, "instance {instance}: base priority {from} -> {to}")
            }
            Event::InstanceAdded { instance } => write!(f, "instance {instance}: added"),
            Event::InstanceRemoved { instance } => write!(f, "instance {instance}: removed"),
            Event::Reloaded { generation, summary } => {
                write!(f, "reload applied (generation {generation}): {summary}")
            }
            Event::ReloadFailed { error } => {
                write!(f, "reload refused: {error}; keeping the running configuration")
            }
            Event::Notify { message } => f.write_str(message),
            Event::SplitBrain { instance, decision } => {
                write!(f, "instance {instance}: split brain: {decision}")
            }
            Event::ClaimRefused { instance, reason } => {
                write!(f, "instance {instance}: stays Backup, does not claim: {reason}")
            }
            Event::Spoof { instance, news } => write!(f, "instance {instance}: {news}"),
            Event::Path { instance, news } => match news.silent_for {
                Some(d) if news.silent => write!(
                    f,
                    "instance {instance}: peer {} is silent on {} for {:.1} s while another path delivers",
                    news.peer,
                    news.path,
                    d.as_secs_f64()
                ),
                _ => write!(
                    f,
                    "instance {instance}: peer {} delivers on {} again",
                    news.peer, news.path
                ),
            },
            Event::NetFailed {
                instance,
                what,
                error,
            } => write!(f, "instance {instance}: {what}: {error}"),
        }
    }
}

/// An effect in words: "weight -60", "FAULT", "none".
pub fn effect_text(e: baton_vrrp::track::Effect) -> String {
    match e {
        baton_vrrp::track::Effect::Fault => "FAULT".to_string(),
        baton_vrrp::track::Effect::Weight(0) => "none".to_string(),
        baton_vrrp::track::Effect::Weight(w) => format!("weight {w:+}"),
    }
}

pub fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    }
}
