//! One virtual router instance: the VRRP state machine of RFC 3768 §6 (v2) and
//! RFC 9568 §6 (v3), driven by the caller.
//!
//! Feed it `handle_command`, `handle_packet` and `handle_timeout` with the
//! current time, then drain `poll_transmit` and `poll_action`, and call
//! `handle_timeout` again at `poll_timeout`. It never reads a clock.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::DropReason;
use crate::auth::Hmac;
use crate::counters::Counters;
use crate::wire::{
    AUTH_DATA_LEN, AUTH_NONE, AUTH_PASS, Advert, Family, V3_MAX_INTERVAL_CS, V3Checksum, Version,
};

/// Priority of the address owner (RFC 9568 §5.2.4): never adjusted, always preempts.
pub const PRIORITY_OWNER: u8 = 255;
/// Priority a Master sends when it stops being Master (RFC 9568 §5.2.4).
pub const PRIORITY_RESIGN: u8 = 0;

/// v2 authentication (RFC 3768 §5.3.6 keeps only "no authentication"; keepalived
/// and the seed still use RFC 2338's simple text password).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Auth {
    #[default]
    None,
    /// Up to 8 octets, zero padded on the wire.
    Pass([u8; AUTH_DATA_LEN]),
    /// HMAC-SHA256 trailers ([`crate::auth`]), v2 and v3; v2 sends Auth
    /// Type 0. The trailer is the node's to write and check.
    Hmac(Hmac),
}

impl Auth {
    /// A simple text password of at most 8 octets.
    pub fn pass(password: &str) -> Result<Auth, ConfigError> {
        let bytes = password.as_bytes();
        if bytes.is_empty() || bytes.len() > AUTH_DATA_LEN {
            return Err(ConfigError::BadPassword(bytes.len()));
        }
        let mut data = [0u8; AUTH_DATA_LEN];
        data[..bytes.len()].copy_from_slice(bytes);
        Ok(Auth::Pass(data))
    }

    /// Whether adverts must prove who sent them (HMAC; a v2 password is
    /// readable by anyone on the wire, so it does not).
    pub fn authenticates(&self) -> bool {
        matches!(self, Auth::Hmac(_))
    }

    /// The HMAC settings, if any.
    pub fn hmac(&self) -> Option<&Hmac> {
        match self {
            Auth::Hmac(h) => Some(h),
            _ => None,
        }
    }

    fn wire(&self) -> (u8, [u8; AUTH_DATA_LEN]) {
        match self {
            Auth::None | Auth::Hmac(_) => (AUTH_NONE, [0; AUTH_DATA_LEN]),
            Auth::Pass(d) => (AUTH_PASS, *d),
        }
    }
}

/// Static configuration of one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub vrid: u8,
    pub version: Version,
    /// Base priority: 1..=254, or 255 for the address owner.
    pub priority: u8,
    /// v2: whole seconds, 1..=255 s. v3: a multiple of 10 ms, 10 ms..=40.95 s.
    pub advert_interval: Duration,
    pub preempt: bool,
    /// Wait this long after first seeing a lower-priority Master before preempting it.
    pub preempt_delay: Duration,
    /// Accept packets for the virtual addresses when not their owner (RFC 9568 §6.1).
    pub accept_mode: bool,
    /// The virtual addresses, all of one family, as advertised.
    pub vips: Vec<IpAddr>,
    /// This router's primary address on the interface: advert source and tie-breaker.
    pub primary_addr: IpAddr,
    pub auth: Auth,
    pub v3_ipv4_checksum: V3Checksum,
    /// Drop adverts whose address list differs from ours (keepalived's default;
    /// `vrrp_skip_check_adv_addr` turns it off).
    pub check_adv_addr: bool,
    /// Before becoming Master on its own timer, ask the driver to probe the
    /// VIPs ([`Action::ProbeVips`]) and wait for [`Command::Claim`] (Baton's
    /// split-brain extension; RFC 5227-style conflict detection).
    pub probe_before_claim: bool,
    /// Accept adverts only from these sources (empty: from any): a unicast
    /// instance's peers, so that an on-link spoofer is dropped as
    /// [`DropReason::NotAPeer`] (keepalived's `check_unicast_src`).
    pub allowed_sources: Vec<IpAddr>,
}

impl Config {
    /// A config with RFC defaults: v3, priority 100, 1 s, preempt, no delay.
    pub fn new(vrid: u8, primary_addr: IpAddr, vips: Vec<IpAddr>) -> Config {
        Config {
            vrid,
            version: Version::V3,
            priority: 100,
            advert_interval: Duration::from_secs(1),
            preempt: true,
            preempt_delay: Duration::ZERO,
            accept_mode: false,
            vips,
            primary_addr,
            auth: Auth::None,
            v3_ipv4_checksum: V3Checksum::PseudoHeader,
            check_adv_addr: true,
            probe_before_claim: false,
            allowed_sources: Vec::new(),
        }
    }

    pub fn family(&self) -> Family {
        Family::of(&self.primary_addr)
    }

    /// Checks everything the wire and the state machine rely on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.vrid == 0 {
            return Err(ConfigError::Vrid);
        }
        if self.priority == 0 {
            return Err(ConfigError::Priority);
        }
        if self.vips.is_empty() {
            return Err(ConfigError::NoVips);
        }
        if self.vips.len() > 255 {
            return Err(ConfigError::TooManyVips(self.vips.len()));
        }
        let family = self.family();
        if self.vips.iter().any(|v| Family::of(v) != family) {
            return Err(ConfigError::MixedFamilies);
        }
        match self.version {
            Version::V2 => {
                if family == Family::V6 {
                    return Err(ConfigError::V2Ipv6);
                }
                let i = self.advert_interval;
                if i.subsec_nanos() != 0 || i.as_secs() == 0 || i.as_secs() > 255 {
                    return Err(ConfigError::Interval(self.version, i));
                }
            }
            Version::V3 => {
                let i = self.advert_interval;
                let cs = i.as_millis() / 10;
                if !i.as_nanos().is_multiple_of(10_000_000) || cs == 0 || cs > u128::from(V3_MAX_INTERVAL_CS)
                {
                    return Err(ConfigError::Interval(self.version, i));
                }
                if matches!(self.auth, Auth::Pass(_)) {
                    return Err(ConfigError::V3Auth);
                }
            }
        }
        if let Auth::Hmac(h) = &self.auth {
            h.validate().map_err(ConfigError::Hmac)?;
        }
        Ok(())
    }

    /// The advert interval in wire units (v2 seconds, v3 centiseconds).
    fn wire_interval(&self) -> u16 {
        match self.version {
            Version::V2 => self.advert_interval.as_secs() as u16,
            Version::V3 => (self.advert_interval.as_millis() / 10) as u16,
        }
    }
}

/// Why a config cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    Vrid,
    Priority,
    NoVips,
    TooManyVips(usize),
    MixedFamilies,
    V2Ipv6,
    V3Auth,
    Hmac(String),
    Interval(Version, Duration),
    BadPassword(usize),
    /// A reconfiguration changed the VRID or the family.
    Identity,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Vrid => write!(f, "vrid must be 1..=255"),
            ConfigError::Priority => write!(f, "priority must be 1..=255 (0 is reserved for resigning)"),
            ConfigError::NoVips => write!(f, "at least one virtual address is needed"),
            ConfigError::TooManyVips(n) => write!(f, "{n} virtual addresses; one advert carries at most 255"),
            ConfigError::MixedFamilies => {
                write!(
                    f,
                    "virtual addresses and the primary address must be of one family"
                )
            }
            ConfigError::V2Ipv6 => write!(f, "VRRPv2 is IPv4 only; use version 3 for IPv6"),
            ConfigError::V3Auth => write!(f, "VRRPv3 has no authentication (RFC 9568 §9)"),
            ConfigError::Hmac(e) => write!(f, "auth (hmac): {e}"),
            ConfigError::Interval(Version::V2, d) => {
                write!(f, "advert interval {d:?}: VRRPv2 takes whole seconds 1..=255")
            }
            ConfigError::Interval(Version::V3, d) => {
                write!(
                    f,
                    "advert interval {d:?}: VRRPv3 takes multiples of 10ms from 10ms to 40.95s"
                )
            }
            ConfigError::BadPassword(n) => write!(f, "password of {n} bytes: it must be 1..=8"),
            ConfigError::Identity => write!(f, "the VRID and the address family cannot change in place"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// RFC 9568 §6.4: Initialize, Backup, Master; plus keepalived's Fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Initialize,
    Backup,
    Master,
    /// Down for a reason outside VRRP (link down, failed tracker with weight 0).
    Fault,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Initialize => "initialize",
            State::Backup => "backup",
            State::Master => "master",
            State::Fault => "fault",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a transition happened: each carries the evidence for it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Started, not the owner: Backup, waiting Master_Down_Interval.
    Startup,
    /// Started (or fault cleared) as the address owner (priority 255).
    Owner,
    /// No advert from a Master for Master_Down_Interval.
    MasterDown,
    /// The Master resigned (priority 0) and nobody took over within Skew_Time.
    MasterResigned { master: IpAddr },
    /// Preempted a lower-priority Master whose adverts we discarded.
    Preempt { master: IpAddr, priority: u8 },
    /// A Master with higher priority (or equal and higher address) advertised.
    HigherPriority { master: IpAddr, priority: u8 },
    /// A fault cause was raised.
    Fault { cause: String },
    /// The last fault cause cleared.
    FaultCleared,
    /// Stopped by command.
    Shutdown,
    /// A hold was raised (a split-brain demotion) while Master.
    Demoted { cause: String },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Startup => write!(f, "startup"),
            Reason::Owner => write!(f, "address owner (priority 255)"),
            Reason::MasterDown => write!(f, "master down: no advert for Master_Down_Interval"),
            Reason::MasterResigned { master } => write!(f, "master {master} resigned (priority 0)"),
            Reason::Preempt { master, priority } => {
                write!(
                    f,
                    "preempted lower-priority master {master} (priority {priority})"
                )
            }
            Reason::HigherPriority { master, priority } => {
                write!(f, "master {master} with priority {priority} wins the election")
            }
            Reason::Fault { cause } => write!(f, "fault: {cause}"),
            Reason::FaultCleared => write!(f, "fault cleared"),
            Reason::Shutdown => write!(f, "shutdown"),
            Reason::Demoted { cause } => write!(f, "demoted: {cause}"),
        }
    }
}

/// A state change and its cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub at: Instant,
    pub from: State,
    pub to: State,
    pub reason: Reason,
}

/// What the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The state changed.
    StateChanged(Transition),
    /// Configure the virtual addresses and announce them (gratuitous ARP /
    /// unsolicited NA). `accept`: deliver packets addressed to them locally.
    AddVips { accept: bool },
    /// About to become Master (`probe_before_claim`): probe who answers for
    /// the VIPs and answer with [`Command::Claim`].
    ProbeVips,
    /// Remove the virtual addresses.
    RemoveVips,
    /// Announce the (held) virtual addresses again: another router claimed them.
    AnnounceVips,
}

/// An advert to send from the primary address (to the multicast group or the
/// configured unicast peers: the driver's choice).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub src: IpAddr,
    pub advert: Advert,
}

/// The Master this instance last heard, or itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MasterInfo {
    pub addr: IpAddr,
    pub priority: u8,
    /// When its last advert was accepted (or sent, if it is us).
    pub last_seen: Instant,
}

/// Operational commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Leave Initialize (RFC 9568 §6.4.1 "Startup event").
    Start,
    /// Resign and return to Initialize (§6.4.3 "Shutdown event").
    Shutdown,
    /// Raise or clear a named fault cause; Fault while any is raised.
    SetFault { cause: String, active: bool },
    /// Set the weight a named tracker currently contributes (0 when none).
    SetWeight { source: String, weight: i32 },
    /// Change the base priority (reload).
    SetPriority(u8),
    /// Raise or clear a named hold (a split-brain demotion): while any is
    /// raised the instance is a listening Backup that never becomes Master;
    /// a Master resigns. When the last clears, its timers decide again.
    SetHold { cause: String, active: bool },
    /// The answer to [`Action::ProbeVips`]: `clear` when no live holder that
    /// outranks us answered for the VIPs. Not clear: stay Backup for another
    /// Master_Down_Interval.
    Claim { clear: bool },
}

/// How long a claim waits for [`Command::Claim`] before it goes ahead: a
/// prober that never answers must not stop a failover.
pub const CLAIM_TIMEOUT: Duration = Duration::from_millis(100);

/// A VRRP virtual router instance.
#[derive(Debug)]
pub struct Instance {
    cfg: Config,
    state: State,
    /// Between Start and Shutdown.
    running: bool,
    faults: BTreeSet<String>,
    holds: BTreeSet<String>,
    /// A claim waiting for [`Command::Claim`]: why, and until when.
    claiming: Option<(Reason, Instant)>,
    /// A claim a hold stopped (why it would be Master): it wants to be
    /// Master until it accepts a Master's advert or its state changes.
    held_claim: Option<Reason>,
    weights: BTreeMap<String, i32>,
    /// Master_Adver_Interval: learnt from the Master in v3, ours in v2.
    master_adver_interval: Duration,
    master_down_at: Option<Instant>,
    adver_at: Option<Instant>,
    /// The Master resigned; the running Master_Down_Timer is the short one.
    resigned_by: Option<IpAddr>,
    /// When the preempt delay for the current lower-priority Master ends.
    preempt_deadline: Option<Instant>,
    /// The last lower-priority Master whose advert we discarded to preempt it.
    discarded_lower: Option<(IpAddr, u8)>,
    /// When this Master last answered another Master's advert.
    last_reassert: Option<Instant>,
    /// Routers whose adverts a Backup accepted (priority >= its own), and
    /// when it last did: any of them heard within a Master_Down_Interval is alive.
    accepted_from: Vec<(IpAddr, Instant)>,
    master: Option<MasterInfo>,
    last_transition: Option<Transition>,
    transmits: VecDeque<Transmit>,
    actions: VecDeque<Action>,
    counters: Counters,
}

impl Instance {
    pub fn new(cfg: Config) -> Result<Instance, ConfigError> {
        cfg.validate()?;
        Ok(Instance {
            master_adver_interval: cfg.advert_interval,
            cfg,
            state: State::Initialize,
            running: false,
            faults: BTreeSet::new(),
            holds: BTreeSet::new(),
            claiming: None,
            held_claim: None,
            weights: BTreeMap::new(),
            master_down_at: None,
            adver_at: None,
            resigned_by: None,
            preempt_deadline: None,
            discarded_lower: None,
            last_reassert: None,
            accepted_from: Vec::new(),
            master: None,
            last_transition: None,
            transmits: VecDeque::new(),
            actions: VecDeque::new(),
            counters: Counters::default(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn last_transition(&self) -> Option<&Transition> {
        self.last_transition.as_ref()
    }

    /// The current Master as far as this instance knows: itself when Master.
    pub fn master(&self) -> Option<MasterInfo> {
        self.master
    }

    pub fn faults(&self) -> impl Iterator<Item = &str> {
        self.faults.iter().map(String::as_str)
    }

    pub fn is_owner(&self) -> bool {
        self.cfg.priority == PRIORITY_OWNER
    }

    /// clamp(base + sum of weights, 1, 254); the owner stays 255.
    pub fn effective_priority(&self) -> u8 {
        if self.is_owner() {
            return PRIORITY_OWNER;
        }
        let sum: i64 = self.weights.values().map(|w| i64::from(*w)).sum();
        (i64::from(self.cfg.priority) + sum).clamp(1, 254) as u8
    }

    /// Master_Adver_Interval in force (learnt from the Master in v3).
    pub fn master_adver_interval(&self) -> Duration {
        self.master_adver_interval
    }

    /// Skew_Time: RFC 3768 §6.1 ((256 - Priority) / 256 s) and RFC 9568 §6.1
    /// (((256 - Priority) * Master_Adver_Interval) / 256).
    pub fn skew_time(&self) -> Duration {
        let weight = 256 - u64::from(self.effective_priority());
        let base = match self.cfg.version {
            Version::V2 => Duration::from_secs(1),
            Version::V3 => self.master_adver_interval,
        };
        Duration::from_nanos((base.as_nanos() as u64) * weight / 256)
    }

    /// Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time.
    pub fn master_down_interval(&self) -> Duration {
        3 * self.master_adver_interval + self.skew_time()
    }

    /// When `handle_timeout` must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.master_down_at,
            self.adver_at,
            self.claiming.as_ref().map(|c| c.1),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub fn handle_command(&mut self, now: Instant, cmd: Command) {
        match cmd {
            Command::Start => {
                if self.running {
                    return;
                }
                self.running = true;
                if let Some(cause) = self.faults.iter().next().cloned() {
                    self.enter_fault(now, cause);
                } else {
                    self.leave_initialize(now, None);
                }
            }
            Command::Shutdown => {
                if !self.running {
                    return;
                }
                self.running = false;
                // RFC 9568 §6.4.2/§6.4.3 Shutdown: a Master sends priority 0 first.
                if self.state == State::Master {
                    self.resign();
                }
                self.stop_timers();
                self.transition(now, State::Initialize, Reason::Shutdown);
            }
            Command::SetFault { cause, active } => {
                if active {
                    let new = self.faults.insert(cause.clone());
                    if new && self.running && self.state != State::Fault {
                        self.enter_fault(now, cause);
                    }
                } else if self.faults.remove(&cause)
                    && self.faults.is_empty()
                    && self.running
                    && self.state == State::Fault
                {
                    self.leave_initialize(now, Some(Reason::FaultCleared));
                }
            }
            Command::SetWeight { source, weight } => {
                let before = self.effective_priority();
                if weight == 0 {
                    self.weights.remove(&source);
                } else {
                    self.weights.insert(source, weight);
                }
                self.priority_changed(now, before);
            }
            Command::SetPriority(p) => {
                if p != 0 {
                    let before = self.effective_priority();
                    self.cfg.priority = p;
                    self.priority_changed(now, before);
                }
            }
            Command::SetHold { cause, active } => {
                if !active {
                    // Its timer fired while held and no Master was heard
                    // since: it claims now rather than a whole interval later.
                    if self.holds.remove(&cause)
                        && self.holds.is_empty()
                        && self.state == State::Backup
                        && let Some(reason) = self.held_claim.take()
                    {
                        self.claim(now, reason);
                    }
                } else if self.holds.insert(cause.clone()) {
                    if let Some((reason, _)) = self.claiming.take() {
                        self.master_down_at = Some(now + self.master_down_interval());
                        // Still a wish to be Master, kept for when the hold clears.
                        self.held_claim = Some(reason);
                    }
                    if self.state == State::Master {
                        self.resign();
                        self.adver_at = None;
                        self.transition(now, State::Backup, Reason::Demoted { cause });
                        self.master_down_at = Some(now + self.master_down_interval());
                    }
                }
            }
            Command::Claim { clear } => {
                let Some((reason, _)) = self.claiming.take() else {
                    return;
                };
                // An advert since the probe re-armed the timer: it decides.
                if self.state != State::Backup || self.master_down_at.is_some() {
                    return;
                }
                if clear && self.holds.is_empty() {
                    self.become_master(now, reason);
                } else {
                    self.counters.claims_refused += 1;
                    self.master_down_at = Some(now + self.master_down_interval());
                }
            }
        }
    }

    /// Whether a hold (a split-brain demotion) keeps it from becoming Master.
    pub fn held(&self) -> bool {
        !self.holds.is_empty()
    }

    /// A Backup about to be Master: waiting for its probe's answer, or held
    /// when its timer fired and has accepted no Master's advert since: it
    /// would be Master but for the hold (keepalived's `wantstate ==
    /// MASTER`, what a sync group waits for).
    pub fn wants_master(&self) -> bool {
        self.held_claim.is_some() || self.claiming.is_some()
    }

    /// The Master_Down_Timer fired (or the Master may be preempted): become
    /// Master, unless held, or first probe the VIPs when configured to.
    fn claim(&mut self, now: Instant, reason: Reason) {
        if !self.holds.is_empty() {
            // A listening Backup: keep listening, decide again later.
            self.master_down_at = Some(now + self.master_down_interval());
            self.held_claim = Some(reason);
        } else if self.cfg.probe_before_claim {
            self.master_down_at = None;
            self.claiming = Some((reason, now + CLAIM_TIMEOUT));
            self.actions.push_back(Action::ProbeVips);
        } else {
            self.become_master(now, reason);
        }
    }

    /// Applies a reloaded config in place. Nothing happens that the change
    /// itself does not call for: no transition, and no advert beyond the one a
    /// Master sends at once when its priority changes (as for
    /// [`Command::SetPriority`]). A new advert interval takes effect from the
    /// next advert (Master) or the next Master_Down_Interval (Backup). The VRID
    /// and family must stay: changing them makes another virtual router.
    pub fn reconfigure(&mut self, now: Instant, cfg: Config) -> Result<(), ConfigError> {
        cfg.validate()?;
        if cfg.vrid != self.cfg.vrid || cfg.family() != self.cfg.family() {
            return Err(ConfigError::Identity);
        }
        let before = self.effective_priority();
        let interval_changed = cfg.advert_interval != self.cfg.advert_interval;
        self.cfg = cfg;
        if interval_changed {
            match self.state {
                State::Master => {
                    self.master_adver_interval = self.cfg.advert_interval;
                    let next = now + self.cfg.advert_interval;
                    self.adver_at = Some(self.adver_at.map_or(next, |t| t.min(next)));
                }
                // v3 keeps the interval it learnt from the Master it hears.
                State::Backup if self.cfg.version == Version::V2 || self.master.is_none() => {
                    self.master_adver_interval = self.cfg.advert_interval;
                }
                _ => {}
            }
        }
        self.priority_changed(now, before);
        Ok(())
    }

    /// A Backup that was about to preempt a lower-priority Master may no longer
    /// outrank it: then that Master's last advert counts as accepted, so the
    /// Backup does not grab the VIPs only to hand them straight back.
    fn priority_changed(&mut self, now: Instant, before: u8) {
        if self.state == State::Master && self.effective_priority() != before {
            // Tell the Backups now, not at the next advert: one that outranks us
            // can then preempt within its Skew_Time.
            self.send_advert(self.effective_priority());
            self.adver_at = Some(now + self.cfg.advert_interval);
            self.touch_self_master(now);
            return;
        }
        if self.state != State::Backup {
            return;
        }
        if let (Some((addr, prio)), Some(m)) = (self.discarded_lower, self.master)
            && m.addr == addr
            && prio >= self.effective_priority()
        {
            self.discarded_lower = None;
            self.preempt_deadline = None;
            self.master_down_at = Some(m.last_seen + self.master_down_interval());
        }
    }

    /// An advert received for this instance's VRID from `src` (already through
    /// [`crate::wire::parse`]). Checks what only the instance can check, then
    /// runs the state's receive rules. A drop is counted and returned.
    pub fn handle_packet(&mut self, now: Instant, src: IpAddr, advert: &Advert) -> Result<(), DropReason> {
        if let Err(reason) = self.check(src, advert) {
            self.counters.drops.count(reason);
            return Err(reason);
        }
        self.counters.adverts_rx += 1;
        if advert.priority == PRIORITY_RESIGN {
            self.counters.priority_zero_rx += 1;
        }
        match self.state {
            State::Initialize | State::Fault => {}
            State::Backup => self.backup_rx(now, src, advert),
            State::Master => self.master_rx(now, src, advert),
        }
        Ok(())
    }

    /// Counts a packet for this instance that failed before it could be
    /// handed over (codec errors once the VRID is known).
    pub fn count_drop(&mut self, reason: DropReason) {
        self.counters.drops.count(reason);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Backup => {
                if self.master_down_at.is_some_and(|t| t <= now) {
                    // RFC 9568 §6.4.2 "If the Master_Down_Timer fires".
                    let reason = if let Some(master) = self.resigned_by {
                        Reason::MasterResigned { master }
                    } else if let Some((master, priority)) = self.discarded_lower {
                        Reason::Preempt { master, priority }
                    } else {
                        Reason::MasterDown
                    };
                    self.claim(now, reason);
                } else if let Some((reason, _)) = self.claiming.take_if(|c| c.1 <= now) {
                    // No answer to the probe in time: fail open.
                    self.counters.claim_timeouts += 1;
                    self.become_master(now, reason);
                }
            }
            State::Master => {
                if let Some(t) = self.adver_at.filter(|t| *t <= now) {
                    // RFC 9568 §6.4.3 "If the Adver_Timer fires": keep the
                    // cadence, unless the driver fell a whole interval behind.
                    self.send_advert(self.effective_priority());
                    let next = t + self.cfg.advert_interval;
                    self.adver_at = Some(if next <= now {
                        now + self.cfg.advert_interval
                    } else {
                        next
                    });
                    self.touch_self_master(now);
                }
            }
            State::Initialize | State::Fault => {}
        }
    }

    /// RFC 3768 §7.1 / RFC 9568 §7.1 receive checks that need the config.
    fn check(&self, src: IpAddr, advert: &Advert) -> Result<(), DropReason> {
        if advert.version != self.cfg.version {
            return Err(DropReason::BadVersion);
        }
        if advert.vrid != self.cfg.vrid {
            return Err(DropReason::UnknownVrid);
        }
        if Family::of(&src) != self.cfg.family() || advert.family() != Some(self.cfg.family()) {
            return Err(DropReason::BadSource);
        }
        if src == self.cfg.primary_addr {
            return Err(DropReason::SelfOriginated);
        }
        if !self.cfg.allowed_sources.is_empty() && !self.cfg.allowed_sources.contains(&src) {
            return Err(DropReason::NotAPeer);
        }
        if self.cfg.version == Version::V2 {
            let (auth_type, auth_data) = self.cfg.auth.wire();
            // RFC 3768 §7.1: auth type must match; RFC 2338 §7.1 for the password.
            if advert.auth_type != auth_type || (auth_type == AUTH_PASS && advert.auth_data != auth_data) {
                return Err(DropReason::AuthMismatch);
            }
            // RFC 3768 §7.1: "MUST verify that the Adver Interval ... is the same".
            if advert.interval != self.cfg.wire_interval() {
                return Err(DropReason::IntervalMismatch);
            }
        }
        // RFC 3768 §7.1 / RFC 9568 §7.1: a mismatch MUST be dropped unless the
        // owner sent it.
        if self.cfg.check_adv_addr
            && advert.priority != PRIORITY_OWNER
            && !same_set(&advert.addrs, &self.cfg.vips)
        {
            return Err(DropReason::AddressListMismatch);
        }
        Ok(())
    }

    /// RFC 9568 §6.4.2 (RFC 3768 §6.4.2): an advert while Backup.
    fn backup_rx(&mut self, now: Instant, src: IpAddr, advert: &Advert) {
        if advert.priority == PRIORITY_RESIGN {
            // "Set the Master_Down_Timer to Skew_Time".
            self.master_down_at = Some(now + self.skew_time());
            self.resigned_by = Some(src);
            self.accepted_from.retain(|(from, _)| *from != src);
            self.master = None;
            return;
        }
        let ours = self.effective_priority();
        // The owner always preempts, whatever Preempt_Mode says (§6.1).
        let preempt = self.cfg.preempt || self.is_owner();
        let lower = advert.priority < ours;
        let delay_holds = lower && preempt && self.preempt_delay_holds(now);
        if !preempt || !lower || delay_holds {
            if !lower {
                self.preempt_deadline = None;
            }
            if self.cfg.version == Version::V3 {
                // "Set Master_Adver_Interval to Adver Interval contained in the ADVERTISEMENT".
                self.master_adver_interval = advert.interval_duration();
            }
            self.master_down_at = Some(now + self.master_down_interval());
            self.held_claim = None;
            if !lower {
                self.note_accepted(now, src);
            }
            self.resigned_by = None;
            self.discarded_lower = None;
        } else {
            // RFC 9568 §6.4.2: "Discard the ADVERTISEMENT", and the Master_Down_Timer
            // runs out. We discard it too, but the Master is alive and outranked, and
            // preemption is on: waiting a whole Master_Down_Interval only delays a
            // certain outcome (a failed health check would cost 3 adverts more).
            // So take over after Skew_Time, as after a resignation: among several
            // preempting Backups the highest priority still fires first and its
            // advert holds the others back.
            self.discarded_lower = Some((src, advert.priority));
            // Unless a router that outranks this Master has advertised within a
            // Master_Down_Interval: it is alive and will take over; its timer stands.
            // (This Master itself, before its priority fell, does not count.)
            let mdi = self.master_down_interval();
            let outranked_recently = self
                .accepted_from
                .iter()
                .any(|(from, t)| *from != src && now < *t + mdi);
            let soon = now + self.skew_time();
            if !outranked_recently && self.master_down_at.is_none_or(|t| t > soon) {
                self.master_down_at = Some(soon);
            }
        }
        self.master = Some(MasterInfo {
            addr: src,
            priority: advert.priority,
            last_seen: now,
        });
    }

    fn note_accepted(&mut self, now: Instant, src: IpAddr) {
        let mdi = self.master_down_interval();
        self.accepted_from
            .retain(|(from, t)| *from != src && now < *t + mdi);
        self.accepted_from.push((src, now));
    }

    /// keepalived's preempt_delay: after first seeing a lower-priority Master,
    /// keep accepting it for the delay.
    fn preempt_delay_holds(&mut self, now: Instant) -> bool {
        if self.cfg.preempt_delay.is_zero() {
            return false;
        }
        let deadline = *self.preempt_deadline.get_or_insert(now + self.cfg.preempt_delay);
        now < deadline
    }

    /// RFC 9568 §6.4.3 (RFC 3768 §6.4.3): an advert while Master.
    fn master_rx(&mut self, now: Instant, src: IpAddr, advert: &Advert) {
        if advert.priority == PRIORITY_RESIGN {
            // "Send an ADVERTISEMENT; Reset the Adver_Timer to Advertisement_Interval".
            self.send_advert(self.effective_priority());
            self.adver_at = Some(now + self.cfg.advert_interval);
            self.touch_self_master(now);
            return;
        }
        let ours = self.effective_priority();
        let wins = advert.priority > ours || (advert.priority == ours && addr_gt(src, self.cfg.primary_addr));
        if !wins {
            // RFC 9568 §6.4.3 says discard: they will hear us and step down.
            // Only a Master advertises, so another router believes it is
            // Master (a partition healed, a forged resignation) and has sent
            // gratuitous ARPs the LAN now follows. Like keepalived ("forcing
            // new election"), answer at once and re-announce the VIPs; at
            // most once per interval, so a flood cannot make us flood.
            if self
                .last_reassert
                .is_none_or(|t| now >= t + self.cfg.advert_interval)
            {
                self.last_reassert = Some(now);
                self.send_advert(ours);
                self.adver_at = Some(now + self.cfg.advert_interval);
                self.touch_self_master(now);
                self.actions.push_back(Action::AnnounceVips);
            }
            return;
        }
        self.adver_at = None;
        if self.cfg.version == Version::V3 {
            self.master_adver_interval = advert.interval_duration();
        }
        self.master = Some(MasterInfo {
            addr: src,
            priority: advert.priority,
            last_seen: now,
        });
        self.resigned_by = None;
        self.discarded_lower = None;
        self.preempt_deadline = None;
        self.transition(
            now,
            State::Backup,
            Reason::HigherPriority {
                master: src,
                priority: advert.priority,
            },
        );
        self.master_down_at = Some(now + self.master_down_interval());
        self.note_accepted(now, src);
        self.actions.push_back(Action::RemoveVips);
    }

    /// RFC 9568 §6.4.1: Startup; also used when a fault clears.
    fn leave_initialize(&mut self, now: Instant, reason: Option<Reason>) {
        self.claiming = None;
        if self.is_owner() && self.holds.is_empty() {
            self.become_master(now, reason.unwrap_or(Reason::Owner));
        } else {
            self.master_adver_interval = self.cfg.advert_interval;
            self.resigned_by = None;
            self.discarded_lower = None;
            self.preempt_deadline = None;
            self.master = None;
            self.transition(now, State::Backup, reason.unwrap_or(Reason::Startup));
            self.master_down_at = Some(now + self.master_down_interval());
        }
    }

    fn become_master(&mut self, now: Instant, reason: Reason) {
        self.master_down_at = None;
        self.resigned_by = None;
        self.discarded_lower = None;
        self.preempt_deadline = None;
        self.master_adver_interval = self.cfg.advert_interval;
        self.transition(now, State::Master, reason);
        self.counters.became_master += 1;
        // "Send an ADVERTISEMENT; broadcast a gratuitous ARP / send unsolicited NA".
        self.send_advert(self.effective_priority());
        self.actions.push_back(Action::AddVips {
            // §6.1: the owner always accepts.
            accept: self.cfg.accept_mode || self.is_owner(),
        });
        self.adver_at = Some(now + self.cfg.advert_interval);
        self.touch_self_master(now);
    }

    fn enter_fault(&mut self, now: Instant, cause: String) {
        if self.state == State::Master {
            self.resign();
        }
        self.stop_timers();
        self.master = None;
        self.transition(now, State::Fault, Reason::Fault { cause });
    }

    /// Leave Master: priority 0 advert, addresses removed.
    fn resign(&mut self) {
        self.send_advert(PRIORITY_RESIGN);
        self.counters.priority_zero_tx += 1;
        self.actions.push_back(Action::RemoveVips);
        self.master = None;
    }

    fn stop_timers(&mut self) {
        self.master_down_at = None;
        self.adver_at = None;
        self.claiming = None;
    }

    fn touch_self_master(&mut self, now: Instant) {
        self.master = Some(MasterInfo {
            addr: self.cfg.primary_addr,
            priority: self.effective_priority(),
            last_seen: now,
        });
    }

    fn send_advert(&mut self, priority: u8) {
        let (auth_type, auth_data) = match self.cfg.version {
            Version::V2 => self.cfg.auth.wire(),
            Version::V3 => (0, [0; AUTH_DATA_LEN]),
        };
        self.counters.adverts_tx += 1;
        self.transmits.push_back(Transmit {
            src: self.cfg.primary_addr,
            advert: Advert {
                version: self.cfg.version,
                vrid: self.cfg.vrid,
                priority,
                interval: self.cfg.wire_interval(),
                auth_type,
                auth_data,
                addrs: self.cfg.vips.clone(),
            },
        });
    }

    fn transition(&mut self, now: Instant, to: State, reason: Reason) {
        let t = Transition {
            at: now,
            from: self.state,
            to,
            reason,
        };
        self.state = to;
        self.held_claim = None;
        self.counters.transitions += 1;
        self.last_transition = Some(t.clone());
        self.actions.push_back(Action::StateChanged(t));
    }
}

/// RFC 9568 §6.4.3: "the primary IPvX address of the sender is greater than the
/// local primary IPvX address", compared as unsigned integers in network order.
pub fn addr_gt(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => u32::from(a) > u32::from(b),
        (IpAddr::V6(a), IpAddr::V6(b)) => u128::from(a) > u128::from(b),
        _ => false,
    }
}

fn same_set(a: &[IpAddr], b: &[IpAddr]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}
