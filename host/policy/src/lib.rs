//! Baton's WebAssembly policy engine: the wasmtime host for health checks,
//! split-brain policies and transition hooks.
//!
//! This crate owns, one module each:
//! - `engine`: [`PolicyEngine`], one wasmtime [`Engine`](wasmtime::Engine) with the
//!   component model, the pooling allocator, fuel, epoch interruption and memory/table
//!   limits for every store; an on-disk compile cache; loading (an optional sha256
//!   pin, one compilation per world and content digest: the same bytes loaded twice
//!   share one `Component` and `InstancePre`) and type-checking against a world. It
//!   knows no world and no capability by name.
//! - `epoch`: the wall-clock [`Deadline`](caps::Deadline) of an evaluation and the
//!   ticker thread that advances the epoch only while an evaluation runs.
//! - `worlds`: one module per world of `wit/policy.wit` (`baton:policy@0.1.1`).
//!   `worlds::health`: [`PolicyEngine::load`] for the `health` world and
//!   [`LoadedPolicy::evaluate`], one evaluation in a fresh store with a wall-clock
//!   deadline and a finite fuel limit. Whatever happens in the guest (trap, deadline,
//!   fuel, memory limit, denied capability), the result is an [`Evaluation`] value,
//!   never a panic. `worlds::brain`: [`PolicyEngine::load_split_brain`] for the
//!   `split-brain` world and [`LoadedSplitBrain::decide`], one evaluation of an
//!   [`Evidence`] under the same limits, grants and capabilities (less system and
//!   remedy), whose answer is a [`Decision`]. `worlds::hook`:
//!   [`PolicyEngine::load_hook`] for the `transition-hook` world and
//!   [`LoadedHook::route`], one call per notice under the same limits, whose
//!   answer (a [`Route`]) is checked before it is returned.
//! - [`caps`]: the host capabilities, one module per imported interface, each with
//!   its own state, allowlist check against the [`Grants`], timeout
//!   `min(requested, remaining budget)` and `add_to_linker`: log, clock, probe
//!   (tcp-connect, http-get), system (process-count/running, address-held,
//!   interface-up, read-file), vrrp, remedy (as a [`RunAs`] user when the config
//!   names one). A world's store data holds the states of
//!   the ones it imports.
//! - `bindings`: the WIT interfaces bound once, for every world and capability.
//! - [`wasi`]: all of WASI 0.2, which standard toolchains' components import
//!   (Rust's std, componentize-py, componentize-js), with nothing granted (no
//!   socket, no preopened directory, no env); stdout and stderr go to the log.
//! - [`script`]: scripted capability answers and clock for an
//!   [`EvalContext`] (the offline test kit): the same grant checks, answers
//!   from the script instead of the network and the system.
//! - `runner`: [`PolicyRunner`], a fixed worker pool with a bounded queue; evaluations
//!   are blocking, and a full queue answers "busy" at once instead of blocking.
//! - `context`, [`grants`], `error`: what goes into an evaluation (or a hook's call)
//!   and comes out of it, the allowlists, load errors.
//!
//! Dependencies run one way: worlds use engine, caps, bindings and wasi; caps use
//! bindings, grants, context and the epoch's `Deadline`, never the engine or a
//! world; the engine uses only epoch and error.
//!
//! Not here: keepalived tracking semantics (rise/fall/weight), reload, and the config
//! format, which belong to the daemon.

mod bindings;
pub mod caps;
mod context;
mod engine;
mod epoch;
mod error;
pub mod grants;
mod runner;
pub mod script;
pub mod wasi;
mod worlds;

pub use context::{
    BrainEvaluation, Decision, EvalContext, EvalError, Evaluation, Evidence, Facts, Health, HookEvaluation,
    HookNotice, InstanceStatus, LogLevel, NoticeKind, Outgoing, Peer, PeerPath, Route, Verdict, VipAnswer,
    VrrpState,
};
pub use engine::{EngineOptions, PolicyEngine, parse_sha256};
pub use error::PolicyError;
pub use grants::{Grants, NetPattern, Remedy, RunAs};
pub use runner::{PolicyRunner, Submit};
pub use worlds::brain::LoadedSplitBrain;
pub use worlds::health::LoadedPolicy;
pub use worlds::hook::LoadedHook;
