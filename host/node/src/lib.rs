//! baton-node: everything one Baton node decides above single VRRP
//! instances, sans IO.
//!
//! It owns the instances of a host by stable id, the demultiplexing of
//! received adverts, which VIPs are really held (VIP by VIP, with retries and
//! a FAULT when an instance cannot serve; with them its excluded addresses
//! and routes, and the `use_vmac` macvlan they live on, made before its
//! socket and deleted after its last advert), when they are announced (GARP /
//! unsolicited NA plans and refreshes), link faults as typed causes, health
//! checks and what their results do to each tracking instance (node-level
//! `[[check]]`s run once however many instances track them), the accept-mode
//! firewall state, and reloads that apply every change with the least
//! disruption; split brain ([`brain`]: peers per path, who answers for the
//! VIPs, probe before claim, the split-brain policy's decisions); sync
//! groups ([`sync`]: instances that change state together, as keepalived's
//! `vrrp_sync_group`); and what it tells people: its events as notices,
//! routed, queued, retried and
//! coalesced by the notifier it owns (baton-notify),
//! whose jobs (mail, webhooks, notify commands, the transition hook) leave
//! as effects like any other.
//!
//! Like the protocol core (baton-vrrp) it reads no clock and does no I/O:
//! `Node::handle_*(now, ...)` in, then `poll_effect()` until `None`, and call
//! `handle_timeout` at `poll_timeout()`. An effect that can fail (open a
//! socket, add or remove a VIP, set the firewall, run a check) is answered
//! with its `handle_*_result`; the node decides what a failure means. The
//! daemon (host/daemon) executes effects on Linux; the simulator
//! ([`sim`]) executes them on a virtual LAN and checks invariants.

pub mod announce;
pub mod brain;
pub mod checks;
pub mod effect;
pub mod firewall;
pub mod instance;
mod node;
mod notices;
pub mod reload;
pub mod sim;
pub mod spoof;
pub mod status;
pub mod sync;
mod timers;
pub mod vips;

pub use effect::{
    AnswerFacts, BrainRun, CheckKey, CheckResult, CheckRun, Decision, Effect, Event, FaultCause,
    InstanceFacts, InstanceId, Job, Level, LogLevel, PeerFacts, ProbePurpose, RunId, SocketKey, SuspectKind,
    SuspectNews, VipAnswer, VipOp, VmacSpec, WeightSource,
};
pub use node::{Node, PresentAddr, Primaries};
pub use reload::{Change, InstancePlan, ReloadPlan};
pub use status::Status;
