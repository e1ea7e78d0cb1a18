//! `clock`: monotonic nanoseconds, and a sleep bounded by the budget.
//!
//! State: the evaluation's [`Deadline`]. Nothing to allow or deny: a sleep never
//! runs into the last part of the budget.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::component::{HasSelf, Linker};

use super::Deadline;
use crate::bindings::clock as wit;
use crate::script::Script;

/// Monotonic nanoseconds since an arbitrary process-wide origin.
pub fn monotonic_ns() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(Instant::now);
    u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Sleeps up to `ms`, but never into the last quarter of the remaining budget (at
/// least 2 ms are kept), so the policy can still finish. Returns how long it slept.
pub fn sleep_ms(ms: u32, deadline: Deadline) -> Duration {
    let remaining = deadline.remaining();
    let keep = (remaining / 4).max(Duration::from_millis(2));
    let d = Duration::from_millis(u64::from(ms)).min(remaining.saturating_sub(keep));
    if !d.is_zero() {
        std::thread::sleep(d);
    }
    d
}

/// The `clock` of one evaluation.
#[derive(Debug, Clone)]
pub struct ClockState {
    pub deadline: Deadline,
    /// The script's clock instead of the host's (sleeps pass no real time).
    pub script: Option<Arc<Script>>,
}

impl wit::Host for ClockState {
    fn monotonic_ns(&mut self) -> u64 {
        match &self.script {
            Some(s) => s.monotonic_ns(),
            None => monotonic_ns(),
        }
    }

    fn sleep_ms(&mut self, ms: u32) {
        match &self.script {
            Some(s) => s.sleep(Duration::from_millis(u64::from(ms))),
            None => {
                sleep_ms(ms, self.deadline);
            }
        }
    }
}

/// Links `baton:policy/clock` to the [`ClockState`] `get` finds in the store data.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut ClockState,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasSelf<ClockState>>(linker, get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic() {
        let a = monotonic_ns();
        std::thread::sleep(Duration::from_millis(1));
        assert!(monotonic_ns() >= a + 1_000_000);
    }

    #[test]
    fn sleep_is_capped_by_budget() {
        let d = Deadline::after(Duration::from_millis(40));
        let t0 = Instant::now();
        let slept = sleep_ms(10_000, d);
        assert!(slept <= Duration::from_millis(30));
        assert!(t0.elapsed() < Duration::from_millis(40));
        assert_eq!(
            sleep_ms(5, Deadline::after(Duration::from_secs(1))),
            Duration::from_millis(5)
        );
    }

    /// The guest's sleep is the budget-bound one.
    #[test]
    fn guest_sleep_keeps_part_of_the_budget() {
        use wit::Host as _;
        let mut c = ClockState {
            deadline: Deadline::after(Duration::from_millis(40)),
            script: None,
        };
        let t0 = Instant::now();
        c.sleep_ms(10_000);
        assert!(t0.elapsed() < Duration::from_millis(35), "{:?}", t0.elapsed());
    }
}
