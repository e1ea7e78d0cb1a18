//! Host capabilities: one module per imported WIT interface, each with its own
//! state, its own allowlist check, the `Host` impl of its interface and an
//! `add_to_linker`, and tests of its own.
//!
//! | module | interface | state | what bounds it |
//! | --- | --- | --- | --- |
//! | [`log`] | `log` | [`log::LogSink`] | message, count and byte caps |
//! | [`clock`] | `clock` | [`clock::ClockState`] | sleeps end before the budget |
//! | [`probe`] (tcp, http) | `probe` | [`probe::ProbeState`] | `allow` network patterns |
//! | [`system`] (process, address, interface, file) | `system` | [`system::SystemState`] | `allow-files` for read-file |
//! | [`vrrp`] | `vrrp` | [`vrrp::VrrpStatus`] | read-only view of this node |
//! | [`remedy`] | `remedy` | [`remedy::RemedyState`] | remedies named in the config |
//!
//! A world's store data holds the states of the interfaces it imports side by
//! side, plus one `Audit`: the capabilities that check an allowlist reach
//! their state through a `CapView` that also records refusals there, in the
//! order they happened, since a denial fails the evaluation.
//!
//! Every capability that can block takes a [`Deadline`] (the evaluation's
//! wall-clock end) and bounds its own wait by `min(requested timeout, remaining
//! budget)`: epoch interruption stops guest code, never a host call that blocks.

use std::io;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{HasData, Linker};

use crate::bindings::{brain, notices, types};

pub use crate::epoch::Deadline;

pub mod clock;
pub mod log;
pub mod probe;
pub mod remedy;
pub mod system;
pub mod vrrp;

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

// The capability side of a deadline: a host call's own timeout.
impl Deadline {
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

/// The refusals of one evaluation, in order, and the policy they belong to.
#[derive(Debug)]
pub(crate) struct Audit {
    policy: Arc<str>,
    denials: Vec<String>,
}

impl Audit {
    pub fn new(policy: Arc<str>) -> Self {
        Audit {
            policy,
            denials: Vec::new(),
        }
    }

    /// The policy's name (for the daemon's log).
    pub fn policy(&self) -> &str {
        &self.policy
    }

    pub fn denials(&self) -> &[String] {
        &self.denials
    }

    pub fn take_denials(&mut self) -> Vec<String> {
        std::mem::take(&mut self.denials)
    }

    /// A capability's answer as the guest sees it; a denial is also recorded
    /// (it fails the evaluation) and logged.
    pub fn note<T>(&mut self, what: &str, r: Result<T, CapError>) -> Result<T, types::ProbeError> {
        match r {
            Ok(v) => Ok(v),
            Err(CapError::Denied(why)) => {
                let msg = format!("{what}: {why}");
                tracing::debug!(policy = %self.policy, "capability denied: {msg}");
                self.denials.push(msg.clone());
                Err(types::ProbeError::Denied(msg))
            }
            Err(CapError::Timeout) => Err(types::ProbeError::Timeout),
            Err(CapError::Refused) => Err(types::ProbeError::Refused),
            Err(CapError::Failed(s)) => Err(types::ProbeError::Failed(s)),
        }
    }
}

/// One capability's state and the evaluation's [`Audit`], borrowed together
/// from the store data: what the `Host` impl of an allowlisted interface sees.
#[derive(Debug)]
pub(crate) struct CapView<'a, S> {
    pub state: &'a mut S,
    pub audit: &'a mut Audit,
}

impl<'a, S> CapView<'a, S> {
    pub fn new(state: &'a mut S, audit: &'a mut Audit) -> Self {
        CapView { state, audit }
    }
}

/// The [`HasData`] of a [`CapView`] over `S`, for the generated `add_to_linker`s.
#[derive(Debug)]
pub(crate) struct HasCapView<S>(PhantomData<fn() -> S>);

impl<S: 'static> HasData for HasCapView<S> {
    type Data<'a> = CapView<'a, S>;
}

/// How a world's linker reaches a capability's [`CapView`] in its store data.
pub(crate) type CapGetter<T, S> = fn(&mut T) -> CapView<'_, S>;

/// `types`, `notices` and `brain` have no functions, only the types the other
/// interfaces and the worlds use; a component still imports them, so they are
/// linked (with no state).
struct NoState;

impl HasData for NoState {
    type Data<'a> = NoState;
}

impl types::Host for NoState {}

impl notices::Host for NoState {}

impl brain::Host for NoState {}

/// Links `baton:policy/types`.
pub(crate) fn add_types_to_linker<T: 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    types::add_to_linker::<T, NoState>(linker, |_| NoState)
}

/// Links `baton:policy/notices` (the types of the `transition-hook` world).
pub(crate) fn add_notices_to_linker<T: 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    notices::add_to_linker::<T, NoState>(linker, |_| NoState)
}

/// Links `baton:policy/brain` (the types of the `split-brain` world).
pub(crate) fn add_brain_to_linker<T: 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    brain::add_to_linker::<T, NoState>(linker, |_| NoState)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::Instant;

    pub(crate) fn audit() -> Audit {
        Audit::new("test".into())
    }

    /// A store data with every capability's state, as a world would hold them.
    struct All {
        audit: Audit,
        log: log::LogSink,
        clock: clock::ClockState,
        probe: probe::ProbeState,
        system: system::SystemState,
        vrrp: vrrp::VrrpStatus,
        remedy: remedy::RemedyState,
    }

    /// Each capability links on its own, into a linker that has nothing else:
    /// a world imports only the ones it names.
    #[test]
    fn each_capability_links_alone() {
        let engine = wasmtime::Engine::default();
        let linker = || Linker::<All>::new(&engine);
        add_types_to_linker(&mut linker()).unwrap();
        add_notices_to_linker(&mut linker()).unwrap();
        add_brain_to_linker(&mut linker()).unwrap();
        log::add_to_linker(&mut linker(), |s| &mut s.log).unwrap();
        clock::add_to_linker(&mut linker(), |s| &mut s.clock).unwrap();
        probe::add_to_linker(&mut linker(), |s| CapView::new(&mut s.probe, &mut s.audit)).unwrap();
        system::add_to_linker(&mut linker(), |s| CapView::new(&mut s.system, &mut s.audit)).unwrap();
        vrrp::add_to_linker(&mut linker(), |s| &mut s.vrrp).unwrap();
        remedy::add_to_linker(&mut linker(), |s| CapView::new(&mut s.remedy, &mut s.audit)).unwrap();
    }

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

    #[test]
    fn audit_records_denials_only_in_order() {
        let mut a = audit();
        assert!(matches!(a.note("x", Ok::<_, CapError>(1)), Ok(1)));
        assert!(matches!(
            a.note::<()>("t", Err(CapError::Timeout)),
            Err(types::ProbeError::Timeout)
        ));
        assert!(matches!(
            a.note::<()>("r", Err(CapError::Refused)),
            Err(types::ProbeError::Refused)
        ));
        assert!(matches!(
            a.note::<()>("f", Err(CapError::Failed("boom".into()))),
            Err(types::ProbeError::Failed(s)) if s == "boom"
        ));
        assert!(matches!(
            a.note::<()>("first", Err(CapError::Denied("no".into()))),
            Err(types::ProbeError::Denied(s)) if s == "first: no"
        ));
        let _ = a.note::<()>("second", Err(CapError::Denied("no".into())));
        assert_eq!(a.denials(), ["first: no", "second: no"]);
        assert_eq!(a.take_denials().len(), 2);
        assert!(a.denials().is_empty());
    }
}
