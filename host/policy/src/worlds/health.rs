//! The `health` world: `check(settings, facts) -> verdict`, evaluated every
//! `interval` per instance that tracks it. Imports log, clock, probe, system,
//! vrrp and remedy (and the WASI subset of [`crate::wasi`]).
//!
//! Here: the world's own types, its prepared form ([`HealthPre`]: the
//! `InstancePre` and the index of `check`), the store data of one evaluation
//! ([`HealthHost`]), [`PolicyEngine::load`], and [`LoadedPolicy::evaluate`],
//! which maps the answer (or the failure) to an [`Evaluation`].
//!
//! The world is not bound with `bindgen!`: its name (`health`) and its `health`
//! variant would both become `Health` in Rust. Its imports are the shared
//! interface bindings of [`crate::bindings`]; `check` is called through a typed
//! function with the records below.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::Store;
use wasmtime::component::{
    ComponentExportIndex, ComponentType, Instance, InstancePre, Lift, Linker, Lower, TypedFunc,
};
use wasmtime_wasi::{WasiCtxView, WasiView};

use crate::bindings::types;
use crate::caps::clock::ClockState;
use crate::caps::log::LogSink;
use crate::caps::probe::ProbeState;
use crate::caps::remedy::RemedyState;
use crate::caps::system::{ProcessTable, SystemState};
use crate::caps::vrrp::VrrpStatus;
use crate::caps::{self, Audit, CapView, Deadline};
use crate::context::{EvalContext, EvalError, Evaluation, Health, Verdict};
use crate::engine::{PolicyEngine, Sandbox, World, hex};
use crate::error::{PolicyError, chain};
use crate::wasi::{self, WasiState};

/// `variant health { healthy, failed(string) }` of the `health` world.
#[derive(ComponentType, Lift, Lower, Debug, Clone, PartialEq, Eq)]
#[component(variant)]
pub(crate) enum WitHealth {
    #[component(name = "healthy")]
    Healthy,
    #[component(name = "failed")]
    Failed(String),
}

/// `record verdict { health: health, weight: option<s32> }` of the `health` world.
#[derive(ComponentType, Lift, Lower, Debug, Clone, PartialEq, Eq)]
#[component(record)]
pub(crate) struct WitVerdict {
    pub health: WitHealth,
    pub weight: Option<i32>,
}

/// The signature of the `check` export: `func(settings, facts) -> verdict`.
type CheckParams<'a> = (&'a [(String, String)], &'a types::Facts);
type CheckResults = (WitVerdict,);

/// Cut long failure reasons from a guest.
const REASON_CAP: usize = 1024;
/// Weights beyond this are meaningless for priorities 1..254.
const WEIGHT_MAX: i32 = 254;

/// The store data of one `health` evaluation: the states of the capabilities
/// the world imports, side by side, and the WASI subset.
#[derive(Debug)]
pub(crate) struct HealthHost {
    audit: Audit,
    log: LogSink,
    clock: ClockState,
    probe: ProbeState,
    system: SystemState,
    vrrp: VrrpStatus,
    remedy: RemedyState,
    wasi: WasiState,
}

impl HealthHost {
    fn new(policy: Arc<str>, deadline: Deadline, ctx: &EvalContext, processes: Arc<ProcessTable>) -> Self {
        HealthHost {
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
            system: SystemState {
                processes,
                grants: ctx.grants.clone(),
                deadline,
                script: ctx.script.clone(),
            },
            vrrp: VrrpStatus {
                instances: ctx.instances.clone(),
            },
            remedy: RemedyState {
                grants: ctx.grants.clone(),
                deadline,
                script: ctx.script.clone(),
            },
            wasi: WasiState::new(ctx.script.as_ref(), deadline),
        }
    }
}

impl WasiView for Sandbox<HealthHost> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.host.wasi.view()
    }
}

/// A component prepared for the `health` world: shared by every
/// [`LoadedPolicy`] with the same digest.
pub(crate) struct HealthPre {
    pre: InstancePre<Sandbox<HealthHost>>,
    check: ComponentExportIndex,
}

impl HealthPre {
    fn store(
        &self,
        engine: &PolicyEngine,
        policy: Arc<str>,
        ctx: &EvalContext,
        processes: Arc<ProcessTable>,
    ) -> Store<Sandbox<HealthHost>> {
        engine.store(ctx.budget, |deadline| {
            HealthHost::new(policy, deadline, ctx, processes)
        })
    }

    fn check<'a>(
        &self,
        store: &mut Store<Sandbox<HealthHost>>,
        instance: &Instance,
    ) -> wasmtime::Result<TypedFunc<CheckParams<'a>, CheckResults>> {
        instance.get_typed_func::<CheckParams<'_>, CheckResults>(store, &self.check)
    }
}

impl World for HealthPre {
    const NAME: &'static str = "health";
    const EXPORTS: &'static [&'static str] = &["check"];
    type Host = HealthHost;

    fn link(l: &mut Linker<Sandbox<HealthHost>>) -> wasmtime::Result<()> {
        wasi::add_to_linker(l, |s| &mut s.host.wasi)?;
        caps::add_types_to_linker(l)?;
        caps::log::add_to_linker(l, |s| &mut s.host.log)?;
        caps::clock::add_to_linker(l, |s| &mut s.host.clock)?;
        caps::probe::add_to_linker(l, |s| CapView::new(&mut s.host.probe, &mut s.host.audit))?;
        caps::system::add_to_linker(l, |s| CapView::new(&mut s.host.system, &mut s.host.audit))?;
        caps::vrrp::add_to_linker(l, |s| &mut s.host.vrrp)?;
        caps::remedy::add_to_linker(l, |s| CapView::new(&mut s.host.remedy, &mut s.host.audit))?;
        Ok(())
    }

    fn prepare(
        engine: &PolicyEngine,
        name: &str,
        pre: InstancePre<Sandbox<HealthHost>>,
    ) -> Result<Self, String> {
        let check = pre
            .component()
            .get_export_index(None, "check")
            .ok_or("it does not export `check`")?;
        let prepared = HealthPre { pre, check };
        // Type-check `check` now rather than at the first evaluation: instantiate
        // once (runs no guest code unless the component has a start function, which
        // is bounded like an evaluation) and look the function up with its type.
        let ctx = EvalContext::default().with_budget(Duration::from_secs(5));
        let mut store = prepared.store(engine, name.into(), &ctx, engine.shared());
        let instance = prepared
            .pre
            .instantiate(&mut store)
            .map_err(|e| format!("trial instantiation: {}", chain(&e)))?;
        prepared
            .check(&mut store, &instance)
            .map_err(|e| format!("`check` has the wrong type: {}", chain(&e)))?;
        Ok(prepared)
    }
}

// The `health` world's loads; the engine itself knows no world.
impl PolicyEngine {
    /// Verifies the pin, compiles (once per content digest) and type-checks a policy
    /// against the `health` world as this host provides it.
    pub fn load(
        &self,
        name: &str,
        bytes: &[u8],
        expected_sha256: Option<[u8; 32]>,
    ) -> Result<Arc<LoadedPolicy>, PolicyError> {
        let (digest, compiled) = self.load_world::<HealthPre>(name, bytes, expected_sha256)?;
        Ok(Arc::new(LoadedPolicy {
            name: name.into(),
            digest,
            compiled,
            processes: self.shared(),
            engine: self.clone(),
        }))
    }
}

/// A loaded, type-checked policy. Evaluate it as often as you like, from any thread.
pub struct LoadedPolicy {
    name: Arc<str>,
    digest: [u8; 32],
    compiled: Arc<HealthPre>,
    processes: Arc<ProcessTable>,
    engine: PolicyEngine,
}

impl fmt::Debug for LoadedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedPolicy")
            .field("name", &self.name)
            .field("sha256", &self.sha256_hex())
            .finish()
    }
}

impl LoadedPolicy {
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
    pub fn shares_code_with(&self, other: &LoadedPolicy) -> bool {
        Arc::ptr_eq(&self.compiled, &other.compiled)
    }

    /// Runs `check` once in a fresh store. Blocking (guest code and host calls run on
    /// this thread, for at most about `ctx.budget`); never panics; every failure is
    /// an [`EvalError`].
    pub fn evaluate(&self, ctx: EvalContext) -> Evaluation {
        let start = Instant::now();
        let cpu_start = super::thread_cpu();
        let mut store = self
            .compiled
            .store(&self.engine, self.name.clone(), &ctx, self.processes.clone());
        let fuel = self.engine.options().fuel;
        let facts = types::Facts::from(&ctx.facts);
        let result = self
            .compiled
            .pre
            .instantiate(&mut store)
            .map_err(|e| (true, e))
            .and_then(|instance| {
                let f = self
                    .compiled
                    .check(&mut store, &instance)
                    .map_err(|e| (true, e))?;
                f.call(&mut store, (&ctx.settings, &facts))
                    .map_err(|e| (false, e))
            });
        let elapsed = start.elapsed();
        let fuel_consumed = fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let limit_hit = store.data().limit_hit().map(str::to_owned);
        let memory = store.data().memory_used();
        let host = &mut store.data_mut().host;
        let outcome = match result {
            // A denial or a refused memory growth fails the check even if the policy
            // coped with it: both are visible misconfigurations or misbehaviour.
            Ok(_) if !host.audit.denials().is_empty() => {
                Err(EvalError::CapabilityDenied(host.audit.denials().join("; ")))
            }
            Ok((v,)) => match &limit_hit {
                Some(hit) => {
                    let answer = match convert_verdict(v).health {
                        Health::Healthy => "healthy".to_string(),
                        Health::Failed(r) => format!("failed: {r}"),
                    };
                    Err(EvalError::MemoryLimit(format!(
                        "{hit}; the policy then answered {answer}"
                    )))
                }
                None => Ok(convert_verdict(v)),
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
        let denials = host.audit.take_denials();
        if let Err(e) = &outcome {
            tracing::debug!(policy = %self.name, ?elapsed, "evaluation failed: {e}");
        }
        Evaluation {
            outcome,
            elapsed,
            cpu: super::thread_cpu().saturating_sub(cpu_start),
            fuel_consumed,
            memory,
            logs,
            denials,
        }
    }
}

fn convert_verdict(v: WitVerdict) -> Verdict {
    let health = match v.health {
        WitHealth::Healthy => Health::Healthy,
        WitHealth::Failed(r) if r.trim().is_empty() => Health::Failed("failed (no reason given)".into()),
        WitHealth::Failed(r) => Health::Failed(caps::log::truncate(r, REASON_CAP)),
    };
    Verdict {
        health,
        weight: v.weight.map(|w| w.clamp(-WEIGHT_MAX, WEIGHT_MAX)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineOptions;
    use crate::epoch::{idle_wakeups, wakeups_during};

    #[test]
    fn verdicts_are_bounded() {
        let v = convert_verdict(WitVerdict {
            health: WitHealth::Failed("  ".into()),
            weight: Some(1000),
        });
        assert_eq!(v.health, Health::Failed("failed (no reason given)".into()));
        assert_eq!(v.weight, Some(WEIGHT_MAX));
        let v = convert_verdict(WitVerdict {
            health: WitHealth::Failed("x".repeat(5000)),
            weight: Some(-1000),
        });
        assert!(matches!(&v.health, Health::Failed(r) if r.len() <= REASON_CAP + 6));
        assert_eq!(v.weight, Some(-WEIGHT_MAX));
        let v = convert_verdict(WitVerdict {
            health: WitHealth::Healthy,
            weight: None,
        });
        assert!(v.is_healthy() && v.weight.is_none());
    }

    /// The epoch thread sleeps while no evaluation runs, ticks while one does,
    /// and the deadline it serves still lands.
    #[test]
    fn epoch_ticks_only_while_evaluating() {
        let e = PolicyEngine::with_options(EngineOptions {
            disk_cache: false,
            ..Default::default()
        })
        .unwrap();
        let p = e
            .load(
                "loop",
                baton_policy_builtins::hostile("infinite-loop").unwrap(),
                None,
            )
            .unwrap();
        while e.epoch_tid() == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let tid = e.epoch_tid();
        let idle = idle_wakeups(tid, 300);
        assert!(idle <= 2, "{idle} wake-ups in 300 ms idle");

        let budget = Duration::from_millis(200);
        let t = Instant::now();
        let mut ev = None;
        let busy = wakeups_during(tid, || {
            ev = Some(p.evaluate(EvalContext::new(Default::default()).with_budget(budget)));
        });
        let took = t.elapsed();
        let ev = ev.unwrap();
        assert!(
            matches!(ev.outcome, Err(EvalError::DeadlineExceeded(_))),
            "{:?}",
            ev.outcome
        );
        assert!(took < budget + Duration::from_millis(50), "{took:?}");
        // One per 1 ms tick, give or take a loaded machine.
        assert!(busy >= 50, "{busy} wake-ups in a {budget:?} evaluation");

        let after = idle_wakeups(tid, 300);
        assert!(after <= 2, "{after} wake-ups in 300 ms after the evaluation");
    }
}
