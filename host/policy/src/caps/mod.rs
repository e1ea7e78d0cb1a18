//! Host capabilities: one module each, plain Rust, unit-tested on their own.
//!
//! Every capability that can block takes a [`Deadline`] (the evaluation's wall-clock
//! end) and bounds its own wait by `min(requested timeout, remaining budget)`: epoch
//! interruption stops guest code, never a host call that blocks.

use std::io;
use std::time::{Duration, Instant};

pub mod address;
pub mod clock;
pub mod file;
pub mod http;
pub mod interface;
pub mod log;
pub mod process;
pub mod remedy;
pub mod tcp;

/// Why a capability call did not give an answer (the host side of `probe-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapError {
    /// Not allowed by the grants.
    Denied(String),
    /// The host-enforced timeout passed.
    Timeout,
    /// Connection refused / no such thing.
    Refused,
    /// Anything else.
    Failed(String),
}

impl CapError {
    pub(crate) fn from_io(e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => CapError::Timeout,
            io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound => CapError::Refused,
            _ => CapError::Failed(e.to_string()),
        }
    }
}

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

    /// `min(requested, remaining)`; `requested_ms == 0` means "as long as the budget
    /// allows". `Err(Timeout)` if nothing is left.
    pub fn timeout(&self, requested_ms: u32) -> Result<Duration, CapError> {
        let remaining = self.remaining();
        let t = if requested_ms == 0 {
            remaining
        } else {
            remaining.min(Duration::from_millis(u64::from(requested_ms)))
        };
        if t.is_zero() {
            Err(CapError::Timeout)
        } else {
            Ok(t)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_bounds_requested_timeout() {
        let d = Deadline::after(Duration::from_millis(50));
        let t = d.timeout(10_000).unwrap();
        assert!(t <= Duration::from_millis(50));
        assert_eq!(d.timeout(5).unwrap(), Duration::from_millis(5));
        assert!(d.timeout(0).unwrap() <= Duration::from_millis(50));
        let past = Deadline(Instant::now() - Duration::from_millis(1));
        assert_eq!(past.timeout(100), Err(CapError::Timeout));
    }
}
