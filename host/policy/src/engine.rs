//! [`PolicyEngine`] (one wasmtime engine, the epoch ticker, the compile cache and the
//! digest-keyed table of compiled policies) and [`LoadedPolicy`] (evaluation).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker};
use wasmtime::{Config, Engine, Store, Trap, UpdateDeadline};

use crate::caps::Deadline;
use crate::context::{EvalContext, EvalError, Evaluation, Health, LogLevel, Verdict};
use crate::error::{PolicyError, chain};
use crate::host::{self, CheckParams, CheckResults, HostState, Limiter, WitHealth};

/// Engine-wide settings. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Where compiled code is cached on disk. `None`: `$XDG_CACHE_HOME/baton`, else
    /// `/var/cache/baton`. If the directory cannot be created or written, the engine
    /// runs without a disk cache (and says so in [`PolicyEngine::cache_dir`]).
    pub cache_dir: Option<PathBuf>,
    /// Turn the disk cache off entirely.
    pub disk_cache: bool,
    /// Limit of each linear memory of an evaluation (a Rust component has one; at
    /// most 16 memories per store). Default 64 MiB.
    pub memory_limit: usize,
    /// Table elements limit per table. Default 100 000.
    pub table_elements: usize,
    /// Fuel per evaluation: finite, so even a policy that yields to every epoch check
    /// ends. Default 10^10.
    pub fuel: u64,
    /// Epoch tick period (deadline resolution). Default 1 ms.
    pub tick: Duration,
    /// Wasm stack limit. Default 512 KiB.
    pub max_wasm_stack: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            cache_dir: None,
            disk_cache: true,
            memory_limit: 64 << 20,
            table_elements: 100_000,
            fuel: 10_000_000_000,
            tick: Duration::from_millis(1),
            max_wasm_stack: 512 << 10,
        }
    }
}

/// A compiled policy, shared by every [`LoadedPolicy`] with the same digest.
struct Compiled {
    pre: InstancePre<HostState>,
    check: ComponentExportIndex,
}

/// What the epoch thread and the evaluations share. The thread advances the
/// epoch every tick only while a store is alive (`active > 0`) and sleeps
/// parked otherwise: an idle daemon should not wake a thousand times a second.
#[derive(Debug, Default)]
struct TickerShared {
    active: AtomicUsize,
    stop: AtomicBool,
    thread: std::sync::OnceLock<std::thread::Thread>,
    /// The thread's kernel id (for tests that count its wake-ups).
    tid: std::sync::atomic::AtomicI32,
}

/// Keeps the epoch ticking while it lives (one per store).
#[derive(Debug)]
pub(crate) struct Ticking(Arc<TickerShared>);

impl Ticking {
    fn new(shared: &Arc<TickerShared>) -> Self {
        if shared.active.fetch_add(1, Ordering::AcqRel) == 0
            && let Some(t) = shared.thread.get()
        {
            t.unpark();
        }
        Ticking(shared.clone())
    }
}

impl Drop for Ticking {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Inner {
    engine: Engine,
    linker: Linker<HostState>,
    options: EngineOptions,
    cache_dir: Option<PathBuf>,
    compiled: Mutex<HashMap<[u8; 32], Weak<Compiled>>>,
    compilations: AtomicU64,
    processes: Arc<crate::caps::process::ProcessTable>,
    ticker_shared: Arc<TickerShared>,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.ticker_shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.ticker_shared.thread.get() {
            t.unpark();
        }
        if let Some(h) = self.ticker.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
    }
}

/// One wasmtime engine for all policies. Cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct PolicyEngine {
    inner: Arc<Inner>,
}

impl fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("options", &self.inner.options)
            .field("cache_dir", &self.inner.cache_dir)
            .field("compilations", &self.compilations())
            .finish()
    }
}

fn default_cache_dir() -> PathBuf {
    match std::env::var_os("XDG_CACHE_HOME") {
        Some(x) if !x.is_empty() => PathBuf::from(x).join("baton"),
        _ => PathBuf::from("/var/cache/baton"),
    }
}

/// Creates `dir` and proves it writable; `None` (with a warning) otherwise.
fn usable_cache_dir(dir: &Path) -> Option<PathBuf> {
    let probe = dir.join(format!(".baton-write-test-{}", std::process::id()));
    let ok = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b""))
        .is_ok();
    let _ = std::fs::remove_file(&probe);
    if ok {
        Some(dir.to_path_buf())
    } else {
        tracing::warn!(dir = %dir.display(), "policy compile cache disabled: directory not writable");
        None
    }
}

/// Instances that can be alive at once (evaluations in flight plus load-time
/// trials); beyond it an instantiation fails and the check with it.
const POOL_INSTANCES: u32 = 64;
/// Bytes of each memory slot kept resident between instances.
const KEEP_RESIDENT: usize = 128 << 10;
/// Bytes of each table slot kept resident between instances.
const TABLE_KEEP_RESIDENT: usize = 64 << 10;

impl PolicyEngine {
    /// An engine with the default options.
    pub fn new() -> Result<Self, PolicyError> {
        Self::with_options(EngineOptions::default())
    }

    pub fn with_options(options: EngineOptions) -> Result<Self, PolicyError> {
        let err = |e: wasmtime::Error| PolicyError::Engine(chain(&e));
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.consume_fuel(true);
        config.max_wasm_stack(options.max_wasm_stack);
        // A fresh instance per evaluation: the pooling allocator keeps memory
        // and table slots mapped between instances instead of mmap/munmap per
        // call, which is most of an evaluation's cost otherwise.
        let mut pool = wasmtime::PoolingAllocationConfig::default();
        pool.total_component_instances(POOL_INSTANCES)
            .total_core_instances(POOL_INSTANCES * 8)
            .total_memories(POOL_INSTANCES * 2)
            .total_tables(POOL_INSTANCES * 4)
            .max_memory_size(options.memory_limit)
            // Reset the first pages of a slot with memset instead of madvise:
            // they hold a policy's stack and data (policies/ links a 64 KiB
            // stack), so the next instance takes no page faults there and the
            // reset costs no TLB shootdown.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            // Same for tables: a policy's function tables are a few KiB.
            .table_keep_resident(TABLE_KEEP_RESIDENT);
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        let mut cache_dir = None;
        if options.disk_cache {
            let dir = options.cache_dir.clone().unwrap_or_else(default_cache_dir);
            if let Some(dir) = usable_cache_dir(&dir) {
                let mut cc = wasmtime::CacheConfig::new();
                cc.with_directory(&dir);
                match wasmtime::Cache::new(cc) {
                    Ok(cache) => {
                        config.cache(Some(cache));
                        cache_dir = Some(dir);
                    }
                    Err(e) => tracing::warn!("policy compile cache disabled: {e:#}"),
                }
            }
        }
        let engine = Engine::new(&config).map_err(err)?;
        let mut linker = Linker::new(&engine);
        crate::wasi::add_to_linker(&mut linker).map_err(err)?;
        host::add_to_linker(&mut linker).map_err(err)?;

        let ticker_shared = Arc::new(TickerShared::default());
        let ticker = {
            let engine = engine.clone();
            let shared = ticker_shared.clone();
            let tick = options.tick;
            std::thread::Builder::new()
                .name("baton-epoch".into())
                .spawn(move || {
                    shared
                        .tid
                        .store(nix::unistd::gettid().as_raw(), Ordering::Release);
                    while !shared.stop.load(Ordering::Acquire) {
                        if shared.active.load(Ordering::Acquire) == 0 {
                            // Woken by the next store (or spuriously: look again).
                            std::thread::park();
                            continue;
                        }
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| PolicyError::Engine(format!("epoch thread: {e}")))?
        };
        let _ = ticker_shared.thread.set(ticker.thread().clone());
        Ok(PolicyEngine {
            inner: Arc::new(Inner {
                engine,
                linker,
                options,
                cache_dir,
                compiled: Mutex::new(HashMap::new()),
                compilations: AtomicU64::new(0),
                processes: Default::default(),
                ticker_shared,
                ticker: Mutex::new(Some(ticker)),
            }),
        })
    }

    /// The disk cache directory in use, if any.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.inner.cache_dir.as_deref()
    }

    /// How many times a component was compiled (or fetched from the disk cache) by
    /// this engine: loads of an already loaded digest do not count.
    pub fn compilations(&self) -> u64 {
        self.inner.compilations.load(Ordering::Relaxed)
    }

    pub fn options(&self) -> &EngineOptions {
        &self.inner.options
    }

    /// Verifies the pin, compiles (once per content digest) and type-checks a policy
    /// against the `health` world as this host provides it.
    pub fn load(
        &self,
        name: &str,
        bytes: &[u8],
        expected_sha256: Option<[u8; 32]>,
    ) -> Result<Arc<LoadedPolicy>, PolicyError> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(expected) = expected_sha256
            && expected != digest
        {
            return Err(PolicyError::DigestMismatch {
                name: name.to_string(),
                expected: hex(&expected),
                actual: hex(&digest),
            });
        }
        let mut table = self.inner.compiled.lock().unwrap_or_else(|p| p.into_inner());
        let compiled = match table.get(&digest).and_then(Weak::upgrade) {
            Some(c) => c,
            None => {
                let c = Arc::new(self.compile(name, bytes)?);
                table.retain(|_, w| w.strong_count() > 0);
                table.insert(digest, Arc::downgrade(&c));
                c
            }
        };
        drop(table);
        Ok(Arc::new(LoadedPolicy {
            name: name.into(),
            digest,
            compiled,
            engine: self.inner.clone(),
        }))
    }

    fn compile(&self, name: &str, bytes: &[u8]) -> Result<Compiled, PolicyError> {
        let t0 = Instant::now();
        self.inner.compilations.fetch_add(1, Ordering::Relaxed);
        let component = Component::new(&self.inner.engine, bytes).map_err(|e| PolicyError::Compile {
            name: name.to_string(),
            reason: chain(&e),
        })?;
        let incompatible = |reason: String| PolicyError::Incompatible {
            name: name.to_string(),
            reason,
        };
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| incompatible(chain(&e)))?;
        let check = component
            .get_export_index(None, "check")
            .ok_or_else(|| incompatible("it does not export `check`".into()))?;
        // Type-check `check` now rather than at the first evaluation: instantiate
        // once (runs no guest code unless the component has a start function, which
        // is bounded like an evaluation) and look the function up with its type.
        let compiled = Compiled { pre, check };
        let mut store = self.store(
            name.into(),
            &EvalContext::default().with_budget(Duration::from_secs(5)),
        );
        let instance = compiled
            .pre
            .instantiate(&mut store)
            .map_err(|e| incompatible(format!("trial instantiation: {}", chain(&e))))?;
        instance
            .get_typed_func::<CheckParams<'_>, CheckResults>(&mut store, &compiled.check)
            .map_err(|e| incompatible(format!("`check` has the wrong type: {}", chain(&e))))?;
        tracing::debug!(policy = name, elapsed = ?t0.elapsed(), "policy compiled");
        Ok(compiled)
    }

    fn store(&self, policy: Arc<str>, ctx: &EvalContext) -> Store<HostState> {
        let o = &self.inner.options;
        let deadline = Deadline::after(ctx.budget);
        let limiter = Limiter {
            memory_bytes: o.memory_limit,
            table_elements: o.table_elements,
            hit: None,
        };
        let state = HostState::new(
            policy,
            deadline,
            ctx.grants.clone(),
            ctx.instances.clone(),
            self.inner.processes.clone(),
            Ticking::new(&self.inner.ticker_shared),
            limiter,
        );
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        // Fuel is on in the config, so this cannot fail.
        let _ = store.set_fuel(o.fuel);
        let tick = o.tick;
        let ticks = move |d: Duration| {
            u64::try_from(d.as_nanos() / tick.as_nanos().max(1)).unwrap_or(u64::MAX / 2) + 1
        };
        // Ticks run late under load (a 1 ms sleep is often 1.05-1.1 ms), so aim at half
        // the remaining time and re-check the wall clock on every expiry: the trap
        // lands within about one tick of the real deadline.
        let half = move |d: Duration| (ticks(d) / 2).max(1);
        store.set_epoch_deadline(half(ctx.budget));
        store.epoch_deadline_callback(move |cx| {
            let left = cx.data().deadline.remaining();
            if left.is_zero() {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Continue(half(left)))
            }
        });
        store
    }
}

/// A loaded, type-checked policy. Evaluate it as often as you like, from any thread.
pub struct LoadedPolicy {
    name: Arc<str>,
    digest: [u8; 32],
    compiled: Arc<Compiled>,
    engine: Arc<Inner>,
}

impl fmt::Debug for LoadedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedPolicy")
            .field("name", &self.name)
            .field("sha256", &self.sha256_hex())
            .finish()
    }
}

/// Cut long failure reasons from a guest.
const REASON_CAP: usize = 1024;
/// Weights beyond this are meaningless for priorities 1..254.
const WEIGHT_MAX: i32 = 254;

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
        let cpu_start = thread_cpu();
        let engine = PolicyEngine {
            inner: self.engine.clone(),
        };
        let mut store = engine.store(self.name.clone(), &ctx);
        let fuel = self.engine.options.fuel;
        let facts = host::facts_to_wit(&ctx.facts);
        let result = self
            .compiled
            .pre
            .instantiate(&mut store)
            .map_err(|e| (true, e))
            .and_then(|instance| {
                let f = instance
                    .get_typed_func::<CheckParams<'_>, CheckResults>(&mut store, &self.compiled.check)
                    .map_err(|e| (true, e))?;
                f.call(&mut store, (&ctx.settings, &facts))
                    .map_err(|e| (false, e))
            });
        let elapsed = start.elapsed();
        let fuel_consumed = fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.data_mut();
        let outcome = match result {
            // A denial or a refused memory growth fails the check even if the policy
            // coped with it: both are visible misconfigurations or misbehaviour.
            Ok(_) if !state.denials.is_empty() => Err(EvalError::CapabilityDenied(state.denials.join("; "))),
            Ok((v,)) => match &state.limiter.hit {
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
            Err((instantiating, e)) => Err(classify(&e, state, instantiating, ctx.budget, fuel)),
        };
        let (out, out_cut) = state.stdout.take();
        let (err, err_cut) = state.stderr.take();
        let mut logs = std::mem::take(&mut state.logs);
        for (text, cut, level, stream) in [
            (out, out_cut, LogLevel::Info, "stdout"),
            (err, err_cut, LogLevel::Warn, "stderr"),
        ] {
            if !text.is_empty() {
                let suffix = if cut { " [...]" } else { "" };
                logs.push(level, format!("{stream}: {}{suffix}", text.trim_end()));
            }
        }
        let logs = logs.finish();
        let denials = std::mem::take(&mut state.denials);
        if let Err(e) = &outcome {
            tracing::debug!(policy = %self.name, ?elapsed, "evaluation failed: {e}");
        }
        Evaluation {
            outcome,
            elapsed,
            cpu: thread_cpu().saturating_sub(cpu_start),
            fuel_consumed,
            logs,
            denials,
        }
    }
}

/// This thread's CPU time so far.
fn thread_cpu() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map_or(Duration::ZERO, Duration::from)
}

fn convert_verdict(v: host::WitVerdict) -> Verdict {
    let health = match v.health {
        WitHealth::Healthy => Health::Healthy,
        WitHealth::Failed(r) if r.trim().is_empty() => Health::Failed("failed (no reason given)".into()),
        WitHealth::Failed(r) => Health::Failed(crate::caps::log::truncate(r, REASON_CAP)),
    };
    Verdict {
        health,
        weight: v.weight.map(|w| w.clamp(-WEIGHT_MAX, WEIGHT_MAX)),
    }
}

/// The panic message a Rust guest printed to stderr, if any (one line).
fn panic_message(stderr: &str) -> Option<String> {
    let i = stderr.find("panicked at")?;
    let msg: Vec<&str> = stderr[i..]
        .lines()
        .filter(|l| !l.starts_with("note:") && !l.trim().is_empty())
        .collect();
    Some(crate::caps::log::truncate(msg.join(" "), 512))
}

fn classify(
    e: &wasmtime::Error,
    state: &HostState,
    instantiating: bool,
    budget: Duration,
    fuel: u64,
) -> EvalError {
    if let Some(hit) = &state.limiter.hit {
        return EvalError::MemoryLimit(hit.clone());
    }
    let stderr = state.stderr.snapshot();
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

pub(crate) fn hex(d: &[u8]) -> String {
    use std::fmt::Write;
    d.iter().fold(String::with_capacity(d.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Parses a 64-hex-digit sha256 (as written in a config's `sha256 = "..."`).
pub fn parse_sha256(s: &str) -> Result<[u8; 32], PolicyError> {
    baton_config::parse_sha256(s).map_err(PolicyError::Grant)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Voluntary context switches of the engine's epoch thread so far.
    fn ticker_wakeups(e: &PolicyEngine) -> u64 {
        let tid = e.inner.ticker_shared.tid.load(Ordering::Acquire);
        let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap()
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
        while e.inner.ticker_shared.tid.load(Ordering::Acquire) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(50));
        let idle0 = ticker_wakeups(&e);
        std::thread::sleep(Duration::from_millis(300));
        let idle = ticker_wakeups(&e) - idle0;
        assert!(idle <= 2, "{idle} wake-ups in 300 ms idle");

        let budget = Duration::from_millis(200);
        let t = Instant::now();
        let ev = p.evaluate(EvalContext::new(Default::default()).with_budget(budget));
        let took = t.elapsed();
        let busy = ticker_wakeups(&e) - idle0 - idle;
        assert!(
            matches!(ev.outcome, Err(EvalError::DeadlineExceeded(_))),
            "{:?}",
            ev.outcome
        );
        assert!(took < budget + Duration::from_millis(50), "{took:?}");
        // One per 1 ms tick, give or take a loaded machine.
        assert!(busy >= 50, "{busy} wake-ups in a {budget:?} evaluation");

        std::thread::sleep(Duration::from_millis(20));
        let after0 = ticker_wakeups(&e);
        std::thread::sleep(Duration::from_millis(300));
        let after = ticker_wakeups(&e) - after0;
        assert!(after <= 2, "{after} wake-ups in 300 ms after the evaluation");
    }
}
