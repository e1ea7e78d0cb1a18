//! The `transition-hook` world: `route(settings, notice, instances) -> route`,
//! called once per notice on the daemon's notification task (never on the VRRP
//! path) to decide which sinks get it and what they say. Imports only log and
//! clock (and the WASI subset of [`crate::wasi`]): a hook decides, it does not
//! probe, so it has no allowlist to check.
//!
//! Here: the world's prepared form ([`HookPre`]: the `InstancePre` and the index
//! of `route`), the store data of one call ([`HookHost`]),
//! [`PolicyEngine::load_hook`], and [`LoadedHook::route`], which checks the
//! answer against the limits below and maps it (or the failure) to a
//! [`HookEvaluation`].
//!
//! As for `health`, the world is not bound with `bindgen!`: its imports and its
//! types are the shared interface bindings of [`crate::bindings`] (`notices`
//! among them), and `route` is called through a typed function with those.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::Store;
use wasmtime::component::{ComponentExportIndex, Instance, InstancePre, Linker, TypedFunc};
use wasmtime_wasi::{WasiCtxView, WasiView};

use crate::bindings::{notices, types};
use crate::caps::clock::ClockState;
use crate::caps::log::{LogSink, truncate};
use crate::caps::{self, Deadline};
use crate::context::{EvalError, HookEvaluation, HookNotice, InstanceStatus, Outgoing, Route};
use crate::engine::{PolicyEngine, Sandbox, World, hex};
use crate::error::{PolicyError, chain};
use crate::wasi::{self, WasiState};

/// The signature of the `route` export: `func(settings, notice, instances) -> route`.
type RouteParams<'a> = (
    &'a [(String, String)],
    &'a notices::Notice,
    &'a [types::InstanceStatus],
);
type RouteResults = (notices::Route,);

/// Most messages one notice may fan out to: a hook is a router, not a mailer.
pub(crate) const OUTGOING_MAX: usize = 64;
/// Longest subject or body a hook may give (bytes): a sink's queue holds them.
pub(crate) const TEXT_MAX: usize = 64 * 1024;

/// The store data of one `route` call: the log, the clock and the WASI subset.
#[derive(Debug)]
pub(crate) struct HookHost {
    log: LogSink,
    clock: ClockState,
    wasi: WasiState,
}

impl HookHost {
    fn new(deadline: Deadline) -> Self {
        HookHost {
            log: LogSink::default(),
            clock: ClockState {
                deadline,
                script: None,
            },
            wasi: WasiState::new(None, deadline),
        }
    }
}

impl WasiView for Sandbox<HookHost> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.host.wasi.view()
    }
}

/// A component prepared for the `transition-hook` world: shared by every
/// [`LoadedHook`] with the same digest.
pub(crate) struct HookPre {
    pre: InstancePre<Sandbox<HookHost>>,
    route: ComponentExportIndex,
}

impl HookPre {
    fn store(&self, engine: &PolicyEngine, budget: Duration) -> Store<Sandbox<HookHost>> {
        engine.store(budget, HookHost::new)
    }

    fn route<'a>(
        &self,
        store: &mut Store<Sandbox<HookHost>>,
        instance: &Instance,
    ) -> wasmtime::Result<TypedFunc<RouteParams<'a>, RouteResults>> {
        instance.get_typed_func::<RouteParams<'_>, RouteResults>(store, &self.route)
    }
}

impl World for HookPre {
    const NAME: &'static str = "transition-hook";
    const EXPORTS: &'static [&'static str] = &["route"];
    type Host = HookHost;

    fn link(l: &mut Linker<Sandbox<HookHost>>) -> wasmtime::Result<()> {
        wasi::add_to_linker(l, |s| &mut s.host.wasi)?;
        caps::add_types_to_linker(l)?;
        caps::add_notices_to_linker(l)?;
        caps::log::add_to_linker(l, |s| &mut s.host.log)?;
        caps::clock::add_to_linker(l, |s| &mut s.host.clock)?;
        Ok(())
    }

    fn prepare(
        engine: &PolicyEngine,
        _name: &str,
        pre: InstancePre<Sandbox<HookHost>>,
    ) -> Result<Self, String> {
        let route = pre
            .component()
            .get_export_index(None, "route")
            .ok_or("it does not export `route`")?;
        let prepared = HookPre { pre, route };
        // Type-check `route` now, as `health` does `check`: one bounded trial
        // instantiation and a typed lookup.
        let mut store = prepared.store(engine, Duration::from_secs(5));
        let instance = prepared
            .pre
            .instantiate(&mut store)
            .map_err(|e| format!("trial instantiation: {}", chain(&e)))?;
        prepared
            .route(&mut store, &instance)
            .map_err(|e| format!("`route` has the wrong type: {}", chain(&e)))?;
        Ok(prepared)
    }
}

// The `transition-hook` world's loads; the engine itself knows no world.
impl PolicyEngine {
    /// Verifies the pin, compiles (once per content digest) and type-checks a
    /// component against the `transition-hook` world as this host provides it. A
    /// health policy is refused here, as a hook is by [`PolicyEngine::load`].
    pub fn load_hook(
        &self,
        name: &str,
        bytes: &[u8],
        expected_sha256: Option<[u8; 32]>,
    ) -> Result<Arc<LoadedHook>, PolicyError> {
        let (digest, compiled) = self.load_world::<HookPre>(name, bytes, expected_sha256)?;
        Ok(Arc::new(LoadedHook {
            name: name.into(),
            digest,
            compiled,
            engine: self.clone(),
        }))
    }
}

/// A loaded, type-checked transition hook. Call it as often as you like, from any thread.
pub struct LoadedHook {
    name: Arc<str>,
    digest: [u8; 32],
    compiled: Arc<HookPre>,
    engine: PolicyEngine,
}

impl fmt::Debug for LoadedHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedHook")
            .field("name", &self.name)
            .field("sha256", &self.sha256_hex())
            .finish()
    }
}

impl LoadedHook {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn sha256(&self) -> [u8; 32] {
        self.digest
    }

    pub fn sha256_hex(&self) -> String {
        hex(&self.digest)
    }

    /// Runs `route` once in a fresh store, within `budget` of wall-clock time and
    /// the engine's fuel and memory limits. Blocking; never panics; every failure
    /// is an [`EvalError`], and so is an answer with an empty sink name, more than
    /// 64 messages, or a subject or body over 64 KiB ([`EvalError::BadAnswer`]).
    pub fn route(
        &self,
        settings: &[(String, String)],
        notice: &HookNotice,
        instances: &[InstanceStatus],
        budget: Duration,
    ) -> HookEvaluation {
        let start = Instant::now();
        let cpu_start = super::thread_cpu();
        let mut store = self.compiled.store(&self.engine, budget);
        let fuel = self.engine.options().fuel;
        let notice = notices::Notice::from(notice);
        let instances: Vec<types::InstanceStatus> = instances.iter().map(Into::into).collect();
        let result = self
            .compiled
            .pre
            .instantiate(&mut store)
            .map_err(|e| (true, e))
            .and_then(|instance| {
                let f = self
                    .compiled
                    .route(&mut store, &instance)
                    .map_err(|e| (true, e))?;
                f.call(&mut store, (settings, &notice, &instances))
                    .map_err(|e| (false, e))
            });
        let elapsed = start.elapsed();
        let limit_hit = store.data().limit_hit().map(str::to_owned);
        let host = &mut store.data_mut().host;
        let result = match result {
            // As for a check: a refused memory growth is misbehaviour even if
            // the hook coped with it.
            Ok((r,)) => match &limit_hit {
                Some(hit) => Err(EvalError::MemoryLimit(format!(
                    "{hit}; the hook then answered anyway"
                ))),
                None => convert_route(r),
            },
            Err((instantiating, e)) => Err(super::classify(
                &e,
                limit_hit.as_deref(),
                &host.wasi.stderr,
                instantiating,
                budget,
                fuel,
            )),
        };
        let logs = super::logs(std::mem::take(&mut host.log), &host.wasi);
        if let Err(e) = &result {
            tracing::debug!(hook = %self.name, ?elapsed, "hook failed: {e}");
        }
        HookEvaluation {
            result,
            logs,
            elapsed,
            cpu: super::thread_cpu().saturating_sub(cpu_start),
        }
    }
}

/// The hook's answer, if the host accepts it: every message to a named sink,
/// at most [`OUTGOING_MAX`] of them, no subject or body over [`TEXT_MAX`].
fn convert_route(r: notices::Route) -> Result<Route, EvalError> {
    let list = match r {
        notices::Route::Default => return Ok(Route::Default),
        notices::Route::Send(list) => list,
    };
    let bad = |s: String| Err(EvalError::BadAnswer(s));
    if list.len() > OUTGOING_MAX {
        return bad(format!(
            "{} outgoing messages (at most {OUTGOING_MAX})",
            list.len()
        ));
    }
    for (i, o) in list.iter().enumerate() {
        if o.sink.trim().is_empty() {
            return bad(format!("outgoing message {i} has an empty sink name"));
        }
        for (field, text) in [("subject", &o.subject), ("body", &o.body)] {
            if let Some(t) = text
                && t.len() > TEXT_MAX
            {
                return bad(format!(
                    "outgoing message {i} (to {:?}): {field} of {} bytes (at most {TEXT_MAX})",
                    truncate(o.sink.clone(), 64),
                    t.len()
                ));
            }
        }
    }
    Ok(Route::Send(
        list.into_iter()
            .map(|o| Outgoing {
                sink: o.sink,
                subject: o.subject,
                body: o.body,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(sink: &str) -> notices::Outgoing {
        notices::Outgoing {
            sink: sink.into(),
            subject: None,
            body: None,
        }
    }

    #[test]
    fn answers_within_the_limits_pass() {
        assert_eq!(convert_route(notices::Route::Default), Ok(Route::Default));
        assert_eq!(
            convert_route(notices::Route::Send(vec![])),
            Ok(Route::Send(vec![]))
        );
        let full = notices::Outgoing {
            subject: Some("s".repeat(TEXT_MAX)),
            body: Some("b".repeat(TEXT_MAX)),
            ..to("pager")
        };
        let mut list = vec![to("email"); OUTGOING_MAX - 1];
        list.push(full);
        let Ok(Route::Send(sent)) = convert_route(notices::Route::Send(list)) else {
            panic!("a full answer within the limits is refused");
        };
        assert_eq!(sent.len(), OUTGOING_MAX);
        assert_eq!(sent[OUTGOING_MAX - 1].sink, "pager");
    }

    #[test]
    fn answers_beyond_the_limits_say_why() {
        let why = |r| match convert_route(r) {
            Err(EvalError::BadAnswer(why)) => why,
            other => panic!("expected a bad answer, got {other:?}"),
        };
        let e = why(notices::Route::Send(vec![to("email"), to(" ")]));
        assert!(e.contains("message 1 has an empty sink name"), "{e}");
        let e = why(notices::Route::Send(vec![to("email"); OUTGOING_MAX + 1]));
        assert!(e.contains("65 outgoing messages (at most 64)"), "{e}");
        let e = why(notices::Route::Send(vec![notices::Outgoing {
            body: Some("x".repeat(TEXT_MAX + 1)),
            ..to("pager")
        }]));
        assert!(e.contains("(to \"pager\"): body of 65537 bytes"), "{e}");
        let e = why(notices::Route::Send(vec![notices::Outgoing {
            subject: Some("x".repeat(TEXT_MAX + 1)),
            ..to("pager")
        }]));
        assert!(e.contains("subject of"), "{e}");
    }
}
