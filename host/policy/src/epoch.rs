//! Wall-clock budgets: the [`Deadline`] of one evaluation, and the [`Ticker`]
//! thread that advances the engine's epoch so that guest code notices it.
//!
//! The ticker increments the epoch every tick only while a store is alive (a
//! [`Ticking`] guard is held) and sleeps parked otherwise: an idle daemon should
//! not wake a thousand times a second. Epochs stop guest code only; a host call
//! that blocks is bounded by the capability itself, against the same deadline
//! (WASI's timers and waits by [`crate::wasi`]).

use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use wasmtime::Engine;

/// The end of the evaluation's wall-clock budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub Instant);

impl Deadline {
    pub fn after(budget: Duration) -> Self {
        Deadline(Instant::now() + budget)
    }

    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
}

/// What the thread and the guards share.
#[derive(Debug, Default)]
struct Shared {
    /// Live [`Ticking`] guards.
    active: AtomicUsize,
    stop: AtomicBool,
    thread: OnceLock<Thread>,
    /// The thread's kernel id (for tests that count its wake-ups).
    tid: AtomicI32,
}

/// The epoch thread of one engine; stopped and joined on drop.
#[derive(Debug)]
pub(crate) struct Ticker {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Ticker {
    /// Starts the thread, which ticks `engine`'s epoch every `tick` while a
    /// [`Ticking`] guard lives.
    pub fn start(engine: Engine, tick: Duration) -> io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("baton-epoch".into())
                .spawn(move || {
                    shared
                        .tid
                        .store(nix::unistd::gettid().as_raw(), Ordering::Release);
                    while !shared.stop.load(Ordering::Acquire) {
                        if shared.active.load(Ordering::Acquire) == 0 {
                            // Woken by the next guard (or spuriously: look again).
                            std::thread::park();
                            continue;
                        }
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })?
        };
        let _ = shared.thread.set(thread.thread().clone());
        Ok(Ticker {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// A guard that keeps the epoch ticking while it lives (one per store).
    pub fn ticking(&self) -> Ticking {
        if self.shared.active.fetch_add(1, Ordering::AcqRel) == 0
            && let Some(t) = self.shared.thread.get()
        {
            t.unpark();
        }
        Ticking(self.shared.clone())
    }

    /// The thread's kernel id, 0 until it has started.
    #[cfg(test)]
    pub fn tid(&self) -> i32 {
        self.shared.tid.load(Ordering::Acquire)
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.shared.thread.get() {
            t.unpark();
        }
        if let Some(h) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
    }
}

/// Keeps the epoch ticking while it lives.
#[derive(Debug)]
pub(crate) struct Ticking(Arc<Shared>);

impl Drop for Ticking {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Voluntary context switches of thread `tid` of this process so far.
#[cfg(test)]
pub(crate) fn wakeups(tid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

/// Wake-ups of thread `tid` while `f` runs.
#[cfg(test)]
pub(crate) fn wakeups_during(tid: i32, f: impl FnOnce()) -> u64 {
    let before = wakeups(tid);
    f();
    wakeups(tid) - before
}

/// Wake-ups of thread `tid` in `ms` of doing nothing, after 50 ms to settle
/// (a tick in flight, the park that follows).
#[cfg(test)]
pub(crate) fn idle_wakeups(tid: i32, ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(50));
    wakeups_during(tid, || std::thread::sleep(Duration::from_millis(ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parked with no guard, ticking with one, parked again once it is dropped.
    #[test]
    fn ticks_only_while_a_guard_lives() {
        let engine = Engine::new(wasmtime::Config::new().epoch_interruption(true)).unwrap();
        let t = Ticker::start(engine, Duration::from_millis(1)).unwrap();
        while t.tid() == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let tid = t.tid();
        let idle = idle_wakeups(tid, 200);
        assert!(idle <= 2, "{idle} wake-ups in 200 ms idle");
        let busy = wakeups_during(tid, || {
            let (a, b) = (t.ticking(), t.ticking());
            std::thread::sleep(Duration::from_millis(100));
            drop(a);
            std::thread::sleep(Duration::from_millis(100));
            drop(b);
        });
        assert!(busy >= 50, "{busy} wake-ups in 200 ms with a guard");
        let after = idle_wakeups(tid, 200);
        assert!(after <= 2, "{after} wake-ups in 200 ms after the last guard");
    }

    #[test]
    fn deadline_remaining_saturates() {
        let d = Deadline::after(Duration::from_millis(50));
        assert!(d.remaining() <= Duration::from_millis(50));
        assert_eq!(Deadline(Instant::now()).remaining(), Duration::ZERO);
    }
}
