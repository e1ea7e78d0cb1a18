//! The worlds of `baton:policy` this host serves, one module each: what a
//! component for the world must export and how it is called, which
//! capabilities it may import, the store data that holds their states, and how
//! its answer becomes a result of this crate.
//!
//! - [`health`]: `check(settings, facts) -> verdict`, [`crate::LoadedPolicy`].
//! - [`brain`]: `split-brain`, `decide(settings, evidence) -> decision`,
//!   [`crate::LoadedSplitBrain`].
//! - [`hook`]: `transition-hook`, `route(settings, notice, instances) -> route`,
//!   [`crate::LoadedHook`].
//!
//! A new world is a module beside these: it implements
//! [`crate::engine::World`] and links the capabilities it imports from
//! [`crate::caps`]; the engine and the capabilities stay as they are. What
//! every world's evaluation does the same way (trap classification, CPU clock,
//! logs) is here.

use std::time::Duration;

use wasmtime::Trap;

use crate::caps::log::{LogSink, truncate};
use crate::context::{EvalError, LogLevel};
use crate::error::chain;
use crate::wasi::{CappedPipe, WasiState};

pub mod brain;
pub mod health;
pub mod hook;

/// This thread's CPU time so far.
pub(crate) fn thread_cpu() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map_or(Duration::ZERO, Duration::from)
}

/// The panic message a Rust guest printed to stderr, if any (one line).
fn panic_message(stderr: &str) -> Option<String> {
    let i = stderr.find("panicked at")?;
    let msg: Vec<&str> = stderr[i..]
        .lines()
        .filter(|l| !l.starts_with("note:") && !l.trim().is_empty())
        .collect();
    Some(truncate(msg.join(" "), 512))
}

/// Why instantiating (`instantiating`) or calling a guest failed.
pub(crate) fn classify(
    e: &wasmtime::Error,
    limit_hit: Option<&str>,
    stderr: &CappedPipe,
    instantiating: bool,
    budget: Duration,
    fuel: u64,
) -> EvalError {
    if let Some(hit) = limit_hit {
        return EvalError::MemoryLimit(hit.to_string());
    }
    let stderr = stderr.snapshot();
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => EvalError::DeadlineExceeded(budget),
        Some(Trap::OutOfFuel) => EvalError::OutOfFuel(fuel),
        Some(t) => {
            let what = match t {
                Trap::StackOverflow => "stack overflow (call stack exhausted)".to_string(),
                Trap::MemoryOutOfBounds => {
                    "out of bounds memory access (a guest bug, or its shadow stack overflowed)".to_string()
                }
                Trap::UnreachableCodeReached => "guest aborted (`unreachable`: a panic or abort)".to_string(),
                t => t.to_string(),
            };
            match panic_message(&stderr) {
                Some(p) => EvalError::Trap(format!("{what}: {p}")),
                None => EvalError::Trap(what),
            }
        }
        None if instantiating => EvalError::Instantiate(chain(e)),
        None => match panic_message(&stderr) {
            Some(p) => EvalError::Trap(format!("{}: {p}", chain(e))),
            None => EvalError::Trap(chain(e)),
        },
    }
}

/// What the guest logged, then what it wrote to stdout (at `Info`) and stderr
/// (at `Warn`), within the log's caps.
pub(crate) fn logs(mut logs: LogSink, wasi: &WasiState) -> Vec<(LogLevel, String)> {
    let (out, out_cut) = wasi.stdout.take();
    let (err, err_cut) = wasi.stderr.take();
    for (text, cut, level, stream) in [
        (out, out_cut, LogLevel::Info, "stdout"),
        (err, err_cut, LogLevel::Warn, "stderr"),
    ] {
        if !text.is_empty() {
            let suffix = if cut { " [...]" } else { "" };
            logs.push(level, format!("{stream}: {}{suffix}", text.trim_end()));
        }
    }
    logs.finish()
}
