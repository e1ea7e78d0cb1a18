//! The `split-brain` world: `decide(settings, evidence) -> decision`, evaluated
//! every `interval` per instance that names it in `[instance.split_brain]`.
//! Imports log, clock, probe and vrrp (and the WASI subset of [`crate::wasi`]):
//! the same capabilities, under the same grants and deadline, as a health
//! check has, less the ones that look at or change this machine (system,
//! remedy). A split-brain policy weighs what the node saw and may ask the
//! peers; acting on its decision is the daemon's.
//!
//! Here: the world's prepared form ([`BrainPre`]: the `InstancePre` and the
//! index of `decide`), the store data of one evaluation ([`BrainHost`]),
//! [`PolicyEngine::load_split_brain`], and [`LoadedSplitBrain::decide`], which
//! maps the answer (or the failure) to a [`BrainEvaluation`].
//!
//! As for `health`, the world is not bound with `bindgen!`: its imports and its
//! types are the shared interface bindings of [`crate::bindings`] (`brain`
//! among them), and `decide` is called through a typed function with those.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::Store;
use wasmtime::component::{ComponentExportIndex, Instance, InstancePre, Linker, TypedFunc};
use wasmtime_wasi::{WasiCtxView, WasiView};

use crate::bindings::brain;
use crate::caps::clock::ClockState;
use crate::caps::log::{LogSink, truncate};
use crate::caps::probe::ProbeState;
use crate::caps::vrrp::VrrpStatus;
use crate::caps::{self, Audit, CapView, Deadline};
use crate::context::{BrainEvaluation, Decision, EvalContext, EvalError, Evidence};
use crate::engine::{PolicyEngine, Sandbox, World, hex};
use crate::error::{PolicyError, chain};
use crate::wasi::{self, WasiState};

/// The signature of the `decide` export: `func(settings, evidence) -> decision`.
type DecideParams<'a> = (&'a [(String, String)], &'a brain::Evidence);
type DecideResults = (brain::Decision,);

/// Longest reason or message kept (bytes), as for a log line: it is logged
/// and notified.
pub(crate) const REASON_CAP: usize = caps::log::MESSAGE_CAP;

/// The store data of one `split-brain` evaluation: the states of the
/// capabilities the world imports, side by side, and the WASI subset.
#[derive(Debug)]
pub(crate) struct BrainHost {
    audit: Audit,
    log: LogSink,
    clock: ClockState,
    probe: ProbeState,
    vrrp: VrrpStatus,
    wasi: WasiState,
}

impl BrainHost {
    fn new(policy: Arc<str>, deadline: Deadline, ctx: &EvalContext) -> Self {
        BrainHost {
            audit: Audit::new(policy),
            log: LogSink::default(),
            clock: ClockState {
                deadline,
                script: ctx.script.clone(),
            },
            probe: ProbeState {
                grants: ctx.grants.clone(),
                deadline,
                script: ctx.script.clone(),
            },
            vrrp: VrrpStatus {
                instances: ctx.instances.clone(),
            },
            wasi: WasiState::new(ctx.script.as_ref(), deadline),
        }
    }
}

impl WasiView for Sandbox<BrainHost> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.host.wasi.view()
    }
}

/// A component prepared for the `split-brain` world: shared by every
/// [`LoadedSplitBrain`] with the same digest.
pub(crate) struct BrainPre {
    pre: InstancePre<Sandbox<BrainHost>>,
    decide: ComponentExportIndex,
}

impl BrainPre {
    fn store(&self, engine: &PolicyEngine, policy: Arc<str>, ctx: &EvalContext) -> Store<Sandbox<BrainHost>> {
        engine.store(ctx.budget, |deadline| BrainHost::new(policy, deadline, ctx))
    }

    fn decide<'a>(
        &self,
        store: &mut Store<Sandbox<BrainHost>>,
        instance: &Instance,
    ) -> wasmtime::Result<TypedFunc<DecideParams<'a>, DecideResults>> {
        instance.get_typed_func::<DecideParams<'_>, DecideResults>(store, &self.decide)
    }
}

impl World for BrainPre {
    const NAME: &'static str = "split-brain";
    const EXPORTS: &'static [&'static str] = &["decide"];
    type Host = BrainHost;

    fn link(l: &mut Linker<Sandbox<BrainHost>>) -> wasmtime::Result<()> {
        wasi::add_to_linker(l, |s| &mut s.host.wasi)?;
        caps::add_types_to_linker(l)?;
        caps::add_brain_to_linker(l)?;
        caps::log::add_to_linker(l, |s| &mut s.host.log)?;
        caps::clock::add_to_linker(l, |s| &mut s.host.clock)?;
        caps::probe::add_to_linker(l, |s| CapView::new(&mut s.host.probe, &mut s.host.audit))?;
        caps::vrrp::add_to_linker(l, |s| &mut s.host.vrrp)?;
        Ok(())
    }

    fn prepare(
        engine: &PolicyEngine,
        name: &str,
        pre: InstancePre<Sandbox<BrainHost>>,
    ) -> Result<Self, String> {
        let decide = pre
            .component()
            .get_export_index(None, "decide")
            .ok_or("it does not export `decide`")?;
        let prepared = BrainPre { pre, decide };
        // Type-check `decide` now, as `health` does `check`: one bounded trial
        // instantiation and a typed lookup.
        let ctx = EvalContext::default().with_budget(Duration::from_secs(5));
        let mut store = prepared.store(engine, name.into(), &ctx);
        let instance = prepared
            .pre
            .instantiate(&mut store)
            .map_err(|e| format!("trial instantiation: {}", chain(&e)))?;
        prepared
            .decide(&mut store, &instance)
            .map_err(|e| format!("`decide` has the wrong type: {}", chain(&e)))?;
        Ok(prepared)
    }
}

// The `split-brain` world's loads; the engine itself knows no world.
impl PolicyEngine {
    /// Verifies the pin, compiles (once per content digest) and type-checks a
    /// component against the `split-brain` world as this host provides it. A
    /// health policy or a hook is refused here with the export it lacks, as a
    /// split-brain policy is by [`PolicyEngine::load`] and
    /// [`PolicyEngine::load_hook`].
    pub fn load_split_brain(
        &self,
        name: &str,
        bytes: &[u8],
        expected_sha256: Option<[u8; 32]>,
    ) -> Result<Arc<LoadedSplitBrain>, PolicyError> {
        let (digest, compiled) = self.load_world::<BrainPre>(name, bytes, expected_sha256)?;
        Ok(Arc::new(LoadedSplitBrain {
            name: name.into(),
            digest,
            compiled,
            engine: self.clone(),
        }))
    }
}

/// A loaded, type-checked split-brain policy. Evaluate it as often as you
/// like, from any thread.
pub struct LoadedSplitBrain {
    name: Arc<str>,
    digest: [u8; 32],
    compiled: Arc<BrainPre>,
    engine: PolicyEngine,
}

impl fmt::Debug for LoadedSplitBrain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedSplitBrain")
            .field("name", &self.name)
            .field("sha256", &self.sha256_hex())
            .finish()
    }
}

impl LoadedSplitBrain {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn sha256(&self) -> [u8; 32] {
        self.digest
    }

    pub fn sha256_hex(&self) -> String {
        hex(&self.digest)
    }

    /// Whether both share one compiled component and `InstancePre`.
    pub fn shares_code_with(&self, other: &LoadedSplitBrain) -> bool {
        Arc::ptr_eq(&self.compiled, &other.compiled)
    }

    /// Runs `decide` once in a fresh store with `ctx`'s settings, grants (for
    /// probes), instances (for `vrrp.instances`) and budget, as
    /// [`LoadedPolicy::evaluate`](crate::LoadedPolicy::evaluate) does; `ctx.facts`
    /// is not used (`evidence.instance` is the instance). Blocking; never
    /// panics; every failure is an [`EvalError`], a denied capability too, even
    /// if the policy went on to decide.
    pub fn decide(&self, ctx: EvalContext, evidence: &Evidence) -> BrainEvaluation {
        let start = Instant::now();
        let cpu_start = super::thread_cpu();
        let mut store = self.compiled.store(&self.engine, self.name.clone(), &ctx);
        let fuel = self.engine.options().fuel;
        let evidence = brain::Evidence::from(evidence);
        let result = self
            .compiled
            .pre
            .instantiate(&mut store)
            .map_err(|e| (true, e))
            .and_then(|instance| {
                let f = self
                    .compiled
                    .decide(&mut store, &instance)
                    .map_err(|e| (true, e))?;
                f.call(&mut store, (&ctx.settings, &evidence))
                    .map_err(|e| (false, e))
            });
        let elapsed = start.elapsed();
        let fuel_consumed = fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let limit_hit = store.data().limit_hit().map(str::to_owned);
        let host = &mut store.data_mut().host;
        let result = match result {
            // As for a check: a denial or a refused memory growth is a visible
            // misconfiguration or misbehaviour, whatever the policy made of it.
            Ok(_) if !host.audit.denials().is_empty() => {
                Err(EvalError::CapabilityDenied(host.audit.take_denials().join("; ")))
            }
            Ok((d,)) => match &limit_hit {
                Some(hit) => Err(EvalError::MemoryLimit(format!(
                    "{hit}; the policy then decided {}",
                    convert_decision(d).kind()
                ))),
                None => Ok(convert_decision(d)),
            },
            Err((instantiating, e)) => Err(super::classify(
                &e,
                limit_hit.as_deref(),
                &host.wasi.stderr,
                instantiating,
                ctx.budget,
                fuel,
            )),
        };
        let logs = super::logs(std::mem::take(&mut host.log), &host.wasi);
        if let Err(e) = &result {
            tracing::debug!(policy = %self.name, ?elapsed, "split-brain evaluation failed: {e}");
        }
        BrainEvaluation {
            result,
            logs,
            elapsed,
            cpu: super::thread_cpu().saturating_sub(cpu_start),
            fuel_consumed,
        }
    }
}

/// The guest's decision with its text within [`REASON_CAP`] and never empty:
/// a demotion or an alert is notified, and must say something.
fn convert_decision(d: brain::Decision) -> Decision {
    let text = |kind: &str, r: String| {
        if r.trim().is_empty() {
            format!("{kind} (no reason given)")
        } else {
            truncate(r, REASON_CAP)
        }
    };
    match d {
        brain::Decision::Stay => Decision::Stay,
        brain::Decision::Demote(r) => Decision::Demote(text("demote", r)),
        brain::Decision::Fault(r) => Decision::Fault(text("fault", r)),
        brain::Decision::Alert(r) => Decision::Alert(text("alert", r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_bounded() {
        assert_eq!(convert_decision(brain::Decision::Stay), Decision::Stay);
        assert_eq!(
            convert_decision(brain::Decision::Demote(" ".into())),
            Decision::Demote("demote (no reason given)".into())
        );
        assert_eq!(
            convert_decision(brain::Decision::Alert(String::new())),
            Decision::Alert("alert (no reason given)".into())
        );
        let long = convert_decision(brain::Decision::Fault("é".repeat(REASON_CAP)));
        let Decision::Fault(r) = &long else {
            panic!("{long:?}")
        };
        // Cut on a char boundary, and marked.
        assert!(r.len() <= REASON_CAP + 6 && r.ends_with(" [...]"), "{}", r.len());
        let kept = "x".repeat(REASON_CAP);
        assert_eq!(
            convert_decision(brain::Decision::Alert(kept.clone())),
            Decision::Alert(kept)
        );
    }
}
