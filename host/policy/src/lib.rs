//! Baton's WebAssembly policy engine: the wasmtime host for health checks.
//!
//! This crate owns:
//! - [`PolicyEngine`]: one wasmtime [`Engine`](wasmtime::Engine) with the component
//!   model, epoch interruption (a 1 ms ticker thread) and fuel; an on-disk compile
//!   cache; [`PolicyEngine::load`], which checks an optional sha256 pin, compiles once
//!   per content digest (the same bytes loaded twice share one `Component` and
//!   `InstancePre`) and type-checks the component against the `health` world of
//!   `wit/policy.wit` (`baton:policy@0.1.0`).
//! - [`LoadedPolicy::evaluate`]: one evaluation in a fresh `Store` with memory/table
//!   limits, a wall-clock deadline (epoch) and a finite fuel limit. Whatever happens in
//!   the guest (trap, deadline, fuel, memory limit, denied capability), the result is
//!   an [`Evaluation`] value, never a panic.
//! - The host capabilities of the WIT imports, one module each under [`caps`], each
//!   with its own timeout `min(requested, remaining budget)` and allowlist check
//!   against the [`Grants`]: log, clock, probe (tcp-connect, http-get), system
//!   (process-count, address-held, interface-up, read-file), vrrp, remedy.
//! - The WASI a Rust `wasm32-wasip2` guest needs to instantiate, with nothing granted
//!   (see [`wasi`] for the exact list; no sockets, no preopens, no env).
//! - [`PolicyRunner`]: a fixed worker pool with a bounded queue; evaluations are
//!   blocking, and a full queue answers "busy" at once instead of blocking.
//!
//! Not here: keepalived tracking semantics (rise/fall/weight), reload, and the config
//! format, which belong to the daemon.

pub mod caps;
mod context;
mod engine;
mod error;
pub mod grants;
mod host;
mod runner;
pub mod wasi;

pub use context::{
    EvalContext, EvalError, Evaluation, Facts, Health, InstanceStatus, LogLevel, Verdict, VrrpState,
};
pub use engine::{EngineOptions, LoadedPolicy, PolicyEngine, parse_sha256};
pub use error::PolicyError;
pub use grants::{Grants, NetPattern, Remedy};
pub use runner::{PolicyRunner, Submit};
