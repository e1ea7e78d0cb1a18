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

/// What a guest that died said about it on stderr, if anything (one line):
/// a Rust panic's message, or the last line of a Python traceback (the
/// exception and its message). `head` is what stderr kept from its start,
/// `tail` its last bytes.
fn guest_message(head: &str, tail: &str) -> Option<String> {
    if let Some(i) = head.find("panicked at") {
        let msg: Vec<&str> = head[i..]
            .lines()
            .filter(|l| !l.starts_with("note:") && !l.trim().is_empty())
            .collect();
        return Some(truncate(msg.join(" "), 512));
    }
    if head.contains("Traceback (most recent call last):") {
        let last = tail.lines().rev().find(|l| !l.trim().is_empty())?;
        return Some(truncate(last.trim().to_string(), 512));
    }
    None
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
    let said = guest_message(&stderr.snapshot(), &stderr.tail());
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => EvalError::DeadlineExceeded(budget),
        Some(Trap::OutOfFuel) => EvalError::OutOfFuel(fuel),
        Some(t) => {
            let what = match t {
                Trap::StackOverflow => "stack overflow (call stack exhausted)".to_string(),
                Trap::MemoryOutOfBounds => {
                    "out of bounds memory access (a guest bug, or its shadow stack overflowed)".to_string()
                }
                Trap::UnreachableCodeReached => {
                    "guest aborted (`unreachable`: a panic, an uncaught exception or an abort)".to_string()
                }
                t => t.to_string(),
            };
            match said {
                Some(p) => EvalError::Trap(format!("{what}: {p}")),
                None => EvalError::Trap(what),
            }
        }
        None if instantiating => EvalError::Instantiate(chain(e)),
        None => match said {
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

#[cfg(test)]
mod tests {
    use super::guest_message;

    #[test]
    fn a_rust_panic_and_a_python_traceback_say_why() {
        let rust =
            "thread '<unnamed>' panicked at src/lib.rs:3:5:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            guest_message(rust, rust).as_deref(),
            Some("panicked at src/lib.rs:3:5: boom")
        );
        let head = "Traceback (most recent call last):\n  File \"app.py\", line 9, in check\n";
        let tail =
            "    port = int(settings['port'])\nValueError: invalid literal for int() with base 10: 'x'\n\n";
        assert_eq!(
            guest_message(head, tail).as_deref(),
            Some("ValueError: invalid literal for int() with base 10: 'x'")
        );
        assert_eq!(guest_message("just a log line\n", "just a log line\n"), None);
    }
}
