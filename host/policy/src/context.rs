//! What goes into an evaluation ([`EvalContext`]) and what comes out ([`Evaluation`]);
//! what a split-brain policy is told ([`Evidence`]) and decides ([`Decision`], in a
//! [`BrainEvaluation`]); what a transition hook is told ([`HookNotice`]) and answers
//! ([`Route`], in a [`HookEvaluation`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::grants::Grants;
use crate::script::Script;

/// VRRP state of an instance on this node (mirrors `baton:policy/types.vrrp-state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VrrpState {
    #[default]
    Initialize,
    Backup,
    Master,
    Fault,
}

/// What this node knows of one VRRP instance (mirrors `baton:policy/types.instance-status`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstanceStatus {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub state: VrrpState,
    pub base_priority: u8,
    pub effective_priority: u8,
    /// Address of the current master, if known (this node's own when master).
    pub master: Option<String>,
    pub vips: Vec<String>,
    pub holding_vips: bool,
}

/// Facts handed to every evaluation (mirrors `baton:policy/types.facts`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    pub router_id: String,
    /// The instance this evaluation is for.
    pub instance: InstanceStatus,
    /// Evaluations of this check for this instance before this one.
    pub run: u64,
    /// Whether the previous evaluation was healthy (`None` on the first).
    pub last_healthy: Option<bool>,
}

/// Everything one evaluation needs. Cheap to clone: the shared parts are `Arc`s.
#[derive(Debug, Clone)]
pub struct EvalContext {
    /// The policy's `config` table merged with the instance's, as strings.
    pub settings: Vec<(String, String)>,
    pub facts: Facts,
    /// What the policy may touch: network targets, files, remedies.
    pub grants: Arc<Grants>,
    /// Every instance of this node, for `vrrp.instances`.
    pub instances: Arc<Vec<InstanceStatus>>,
    /// Wall-clock budget for the whole evaluation (instantiation, guest code and
    /// every host call). Counted from the moment the evaluation starts running.
    pub budget: Duration,
    /// Scripted capability answers instead of the network and the system
    /// (the offline test kit).
    pub script: Option<Arc<Script>>,
}

impl EvalContext {
    /// A context with no settings, default facts, no grants, no instances and a 1 s budget.
    pub fn new(facts: Facts) -> Self {
        EvalContext {
            settings: Vec::new(),
            facts,
            grants: Arc::new(Grants::default()),
            instances: Arc::new(Vec::new()),
            budget: Duration::from_secs(1),
            script: None,
        }
    }

    /// Answers capability calls from `script` (and its clock) only.
    pub fn with_script(mut self, script: Arc<Script>) -> Self {
        self.script = Some(script);
        self
    }

    pub fn with_settings<K: Into<String>, V: Into<String>>(
        mut self,
        settings: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.settings = settings.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        self
    }

    pub fn with_grants(mut self, grants: impl Into<Arc<Grants>>) -> Self {
        self.grants = grants.into();
        self
    }

    pub fn with_instances(mut self, instances: impl Into<Arc<Vec<InstanceStatus>>>) -> Self {
        self.instances = instances.into();
        self
    }

    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }
}

impl Default for EvalContext {
    fn default() -> Self {
        EvalContext::new(Facts::default())
    }
}

/// Health as the policy decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Failed(String),
}

/// A policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub health: Health,
    /// Overrides the configured weight for this evaluation, if set.
    pub weight: Option<i32>,
}

impl Verdict {
    pub fn is_healthy(&self) -> bool {
        self.health == Health::Healthy
    }
}

/// Why an evaluation produced no verdict (or a hook no route). Every one of these
/// counts as a failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// The wall-clock budget ran out (epoch deadline, or a host call hit it).
    DeadlineExceeded(Duration),
    /// The fuel limit (a bound on executed instructions) ran out.
    OutOfFuel(u64),
    /// The guest tried to grow memory (or a table) past the store's limit.
    MemoryLimit(String),
    /// The guest trapped (panic, `unreachable`, stack overflow, bad memory access...).
    Trap(String),
    /// The policy asked for a capability the grants do not allow. The evaluation is
    /// failed even if the policy went on to say "healthy": an allowlist mismatch is a
    /// configuration error that must be visible.
    CapabilityDenied(String),
    /// The guest could not be instantiated (limits, start function trap...).
    Instantiate(String),
    /// The runner's queue was full; the evaluation did not run.
    Busy,
    /// The guest answered something the host does not accept (a hook's route
    /// to an empty sink name, with too many messages, or an oversized one).
    BadAnswer(String),
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::DeadlineExceeded(b) => write!(f, "deadline exceeded (budget {b:?})"),
            EvalError::OutOfFuel(n) => write!(f, "out of fuel ({n} units)"),
            EvalError::MemoryLimit(s) => write!(f, "memory limit: {s}"),
            EvalError::Trap(s) => write!(f, "trap: {s}"),
            EvalError::CapabilityDenied(s) => write!(f, "capability denied: {s}"),
            EvalError::Instantiate(s) => write!(f, "instantiation failed: {s}"),
            EvalError::Busy => write!(f, "busy: the policy runner's queue is full"),
            EvalError::BadAnswer(s) => write!(f, "bad answer: {s}"),
        }
    }
}

/// Log levels (mirrors `baton:policy/log.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// The result of one evaluation. Always produced; never a panic.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub outcome: Result<Verdict, EvalError>,
    /// Wall time from start to end of the evaluation (instantiate + call).
    pub elapsed: Duration,
    /// CPU time the evaluating thread spent on it (instantiation, guest code,
    /// host calls; not the time it slept or waited on a probe).
    pub cpu: Duration,
    /// Fuel consumed by guest code: roughly a count of executed wasm instructions.
    /// Exact when the guest returned; when it trapped (deadline, panic...) it can be
    /// an undercount, as wasmtime keeps the running count in a register between
    /// calls and does not write it back on a trap.
    pub fuel_consumed: u64,
    /// Bytes of linear memory the evaluation's instances held at the end
    /// (memories only grow: their peak).
    pub memory: usize,
    /// What the policy logged (and what it wrote to stdout/stderr, at `Info`/`Warn`),
    /// capped per message and in total.
    pub logs: Vec<(LogLevel, String)>,
    /// Capability requests the grants refused (also reflected in `outcome`).
    pub denials: Vec<String>,
}

impl Evaluation {
    /// Healthy verdict?
    pub fn is_healthy(&self) -> bool {
        matches!(&self.outcome, Ok(v) if v.is_healthy())
    }

    /// The failure reason, if the check failed (by verdict or by error).
    pub fn failure_reason(&self) -> Option<String> {
        match &self.outcome {
            Ok(Verdict {
                health: Health::Healthy,
                ..
            }) => None,
            Ok(Verdict {
                health: Health::Failed(r),
                ..
            }) => Some(r.clone()),
            Err(e) => Some(e.to_string()),
        }
    }

    pub(crate) fn failed(err: EvalError) -> Self {
        Evaluation {
            outcome: Err(err),
            elapsed: Duration::ZERO,
            cpu: Duration::ZERO,
            fuel_consumed: 0,
            memory: 0,
            logs: Vec::new(),
            denials: Vec::new(),
        }
    }
}

/// One path a peer's adverts arrive on (mirrors `baton:policy/brain.peer-path`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerPath {
    /// e.g. `eth0 multicast`, `eth1 unicast`.
    pub path: String,
    /// `None`: never heard on this path.
    pub last_heard_ms_ago: Option<u64>,
}

/// A peer of an instance, heard in adverts or configured as a unicast peer
/// (mirrors `baton:policy/brain.peer`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Peer {
    /// Its primary (advert source) address.
    pub address: String,
    /// Its last advertised priority, remembered while it is silent (`None`: never heard).
    pub last_priority: Option<u8>,
    /// Since any path delivered an advert from it (`None`: never).
    pub last_heard_ms_ago: Option<u64>,
    pub paths: Vec<PeerPath>,
}

/// Who else answered an ARP probe or neighbour solicitation for one VIP
/// (mirrors `baton:policy/brain.vip-answer`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VipAnswer {
    pub vip: String,
    /// MACs other than this node's that answered (`aa:bb:cc:dd:ee:ff`).
    pub others: Vec<String>,
    /// When the probe was made (`None`: not probed yet).
    pub probed_ms_ago: Option<u64>,
}

/// What a split-brain policy is told about one instance (mirrors
/// `baton:policy/brain.evidence`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    /// The instance as it is now.
    pub instance: InstanceStatus,
    /// This node's MAC on the instance's interface.
    pub own_mac: String,
    pub peers: Vec<Peer>,
    pub answers: Vec<VipAnswer>,
    /// Evaluations of this instance's policy before this one.
    pub run: u64,
    /// The previous decision's [`Decision::kind`] (`None` on the first).
    pub last_decision: Option<String>,
}

/// What a split-brain policy decided (mirrors `baton:policy/brain.decision`).
/// Reasons and messages are never empty and at most 4 KiB (the host cuts them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go on as VRRP says.
    Stay,
    /// Give up the VIPs and stay a listening Backup until a later decision says stay.
    Demote(String),
    /// FAULT with this reason until a later decision says stay.
    Fault(String),
    /// Go on as VRRP says, and notify this message.
    Alert(String),
}

impl Decision {
    /// The WIT case name (`stay`, `demote`, `fault`, `alert`): what the next
    /// [`Evidence::last_decision`] says.
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Stay => "stay",
            Decision::Demote(_) => "demote",
            Decision::Fault(_) => "fault",
            Decision::Alert(_) => "alert",
        }
    }

    /// The reason or message, if the decision has one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Decision::Stay => None,
            Decision::Demote(r) | Decision::Fault(r) | Decision::Alert(r) => Some(r),
        }
    }
}

/// The result of one split-brain evaluation. Always produced; never a panic.
#[derive(Debug, Clone)]
pub struct BrainEvaluation {
    /// A failure (trap, deadline, denied capability...) decides nothing: the
    /// caller keeps what it was doing.
    pub result: Result<Decision, EvalError>,
    /// What the policy logged (and wrote to stdout/stderr), capped as for a check.
    pub logs: Vec<(LogLevel, String)>,
    /// Wall time from start to end of the evaluation (instantiate + call).
    pub elapsed: Duration,
    /// CPU time the evaluating thread spent on it.
    pub cpu: Duration,
    /// Fuel consumed by guest code, as in [`Evaluation::fuel_consumed`].
    pub fuel_consumed: u64,
}

/// What a notice is about (mirrors `baton:policy/notices.notice-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    Transition,
    Track,
    DaemonStart,
    DaemonStop,
    Reload,
    Test,
}

/// One notice as a transition hook is told it (mirrors
/// `baton:policy/notices.notice`): the webhook document `baton.notice/1`,
/// typed, and the document itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookNotice {
    pub kind: NoticeKind,
    pub router_id: String,
    /// Wall-clock milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    pub instance: Option<String>,
    pub from: Option<VrrpState>,
    pub to: Option<VrrpState>,
    /// Why, with its evidence.
    pub reason: Option<String>,
    pub base_priority: Option<u8>,
    pub effective_priority: Option<u8>,
    /// `ADDR/PREFIX`.
    pub vips: Vec<String>,
    pub track: Option<String>,
    /// The track is good (track); the reload applied (reload).
    pub ok: Option<bool>,
    pub detail: Option<String>,
    /// The whole notice as its JSON document (schema `baton.notice/1`), so
    /// fields the schema gains reach hooks before the WIT has them.
    pub json: String,
}

impl HookNotice {
    /// A notice of `kind` with only the fields every notice has (and an empty `json`).
    pub fn new(kind: NoticeKind, router_id: impl Into<String>, at_unix_ms: u64) -> Self {
        HookNotice {
            kind,
            router_id: router_id.into(),
            at_unix_ms,
            instance: None,
            from: None,
            to: None,
            reason: None,
            base_priority: None,
            effective_priority: None,
            vips: Vec::new(),
            track: None,
            ok: None,
            detail: None,
            json: String::new(),
        }
    }
}

/// One message a hook sends (mirrors `baton:policy/notices.outgoing`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// A sink by name: `email`, a `[[notify.webhook]]` or a `[[notify.command]]` name.
    pub sink: String,
    /// Mail subject (webhooks and commands ignore it); `None`: Baton's default.
    pub subject: Option<String>,
    /// Mail body, or the webhook's payload as sent; `None`: Baton's default.
    pub body: Option<String>,
}

/// Where a notice goes, as a hook decided it (mirrors `baton:policy/notices.route`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Send what Baton sends without a hook.
    Default,
    /// Send exactly these; an empty list sends nothing.
    Send(Vec<Outgoing>),
}

/// The result of one call of a hook's `route`. Always produced; never a panic.
#[derive(Debug, Clone)]
pub struct HookEvaluation {
    pub result: Result<Route, EvalError>,
    /// What the hook logged (and wrote to stdout/stderr), capped as for a check.
    pub logs: Vec<(LogLevel, String)>,
    /// Wall time from start to end of the call (instantiate + call).
    pub elapsed: Duration,
    /// CPU time the calling thread spent on it.
    pub cpu: Duration,
}
