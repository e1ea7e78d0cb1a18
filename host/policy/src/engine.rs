//! [`PolicyEngine`]: one wasmtime engine for every policy and every world, with the
//! sandbox's limits (pooling allocator, fuel, epoch deadline, memory and tables), the
//! on-disk compile cache and the table of compiled policies by (world, sha256).
//!
//! The engine knows no world and no capability: a world module
//! ([`crate::worlds`]) implements [`World`] (what to link, how to type-check the
//! exports) and puts its host state in the store as [`Sandbox::host`]. So the
//! loads of a world live in its module too (`load` for `health`,
//! `load_split_brain` for `split-brain`, `load_hook` for `transition-hook`).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Config, Engine, ResourceLimiter, Store, UpdateDeadline};

use crate::epoch::{Deadline, Ticker, Ticking};
use crate::error::{PolicyError, chain};

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

/// What the engine needs of a world to load a component for it. Implemented
/// by the world's prepared form of a component (its `InstancePre` and export
/// indices), which the engine keeps per digest.
pub(crate) trait World: Send + Sync + Sized + 'static {
    /// The world's name in wit/policy.wit (for the log and load errors).
    const NAME: &'static str;
    /// The functions the world exports. Checked before the imports, so a
    /// component written for another world is told what it lacks rather than
    /// which of its imports this world does not provide.
    const EXPORTS: &'static [&'static str];
    /// The world's part of the store data of one evaluation.
    type Host: Send + 'static;
    /// Links everything the world lets a component import.
    fn link(linker: &mut Linker<Sandbox<Self::Host>>) -> wasmtime::Result<()>;
    /// Type-checks the exports (the imports already were, by the linker) and
    /// keeps what an evaluation needs; `Err` says what does not fit.
    fn prepare(
        engine: &PolicyEngine,
        name: &str,
        pre: InstancePre<Sandbox<Self::Host>>,
    ) -> Result<Self, String>;
}

/// The data of every store: a world's host state inside the sandbox's own.
pub(crate) struct Sandbox<T> {
    pub host: T,
    limiter: Limiter,
    deadline: Deadline,
    /// The epoch advances while this store lives.
    _ticking: Ticking,
}

impl<T> Sandbox<T> {
    /// The memory or table growth the limits refused, if any: a trap that
    /// follows (Rust aborts on allocation failure) is reported as this.
    pub fn limit_hit(&self) -> Option<&str> {
        self.limiter.hit.as_deref()
    }

    /// Bytes of linear memory the store's instances hold (memories only grow,
    /// so this is also their peak).
    pub fn memory_used(&self) -> usize {
        self.limiter.used
    }
}

/// Memory/table/instance limits of one store; remembers whether a limit was hit.
#[derive(Debug)]
struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
    hit: Option<String>,
    /// Linear memory granted so far, every memory of the store together.
    used: usize,
}

impl Limiter {
    /// Whether growing to `desired` stays within `limit`; if not, remembers `why`.
    fn allow(&mut self, desired: usize, limit: usize, why: impl FnOnce() -> String) -> bool {
        if desired > limit {
            self.hit = Some(why());
            return false;
        }
        true
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let limit = self.memory_bytes;
        let ok = self.allow(desired, limit, || {
            format!("memory growth from {current} to {desired} bytes refused (limit {limit} bytes)")
        });
        if ok {
            self.used += desired.saturating_sub(current);
        }
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let limit = self.table_elements;
        Ok(self.allow(desired, limit, || {
            format!("table growth from {current} to {desired} elements refused (limit {limit})")
        }))
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}

/// A compiled world artifact (e.g. the `health` world's `InstancePre`), shared
/// by every load of the same bytes for the same world while one is alive.
type CompiledEntry = Weak<dyn Any + Send + Sync>;

struct Inner {
    engine: Engine,
    options: EngineOptions,
    cache_dir: Option<PathBuf>,
    compiled: Mutex<HashMap<(TypeId, [u8; 32]), CompiledEntry>>,
    compilations: AtomicU64,
    /// Capability state kept for the engine's lifetime, one per type.
    shared: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    ticker: Ticker,
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
        let ticker = Ticker::start(engine.clone(), options.tick)
            .map_err(|e| PolicyError::Engine(format!("epoch thread: {e}")))?;
        Ok(PolicyEngine {
            inner: Arc::new(Inner {
                engine,
                options,
                cache_dir,
                compiled: Mutex::new(HashMap::new()),
                compilations: AtomicU64::new(0),
                shared: Mutex::new(HashMap::new()),
                ticker,
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

    /// Verifies the pin, then compiles (once per world and content digest: the
    /// same bytes loaded twice share one artifact) and type-checks a component
    /// against world `W`. Returns the digest with the artifact.
    pub(crate) fn load_world<W: World>(
        &self,
        name: &str,
        bytes: &[u8],
        expected_sha256: Option<[u8; 32]>,
    ) -> Result<([u8; 32], Arc<W>), PolicyError> {
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
        let key = (TypeId::of::<W>(), digest);
        // Held while compiling: a second load of the same bytes waits and shares.
        let mut table = self.inner.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = table.get(&key).and_then(Weak::upgrade)
            && let Ok(c) = c.downcast::<W>()
        {
            return Ok((digest, c));
        }
        let c = Arc::new(self.compile::<W>(name, bytes)?);
        table.retain(|_, w| w.strong_count() > 0);
        let entry: Arc<dyn Any + Send + Sync> = c.clone();
        table.insert(key, Arc::downgrade(&entry));
        Ok((digest, c))
    }

    fn compile<W: World>(&self, name: &str, bytes: &[u8]) -> Result<W, PolicyError> {
        let t0 = Instant::now();
        self.inner.compilations.fetch_add(1, Ordering::Relaxed);
        let component = Component::new(&self.inner.engine, bytes).map_err(|e| PolicyError::Compile {
            name: name.to_string(),
            reason: chain(&e),
        })?;
        let incompatible = |reason: String| PolicyError::Incompatible {
            name: name.to_string(),
            world: W::NAME,
            reason,
        };
        missing_exports::<W>(&self.inner.engine, &component).map_err(incompatible)?;
        // Linked per compilation, which is rare and costs far more than this.
        let mut linker = Linker::new(&self.inner.engine);
        W::link(&mut linker).map_err(|e| PolicyError::Engine(chain(&e)))?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| incompatible(chain(&e)))?;
        let compiled = W::prepare(self, name, pre).map_err(incompatible)?;
        tracing::debug!(policy = name, world = W::NAME, elapsed = ?t0.elapsed(), "policy compiled");
        Ok(compiled)
    }

    /// State a capability keeps for the engine's lifetime (the process table),
    /// one per type, made on first use.
    pub(crate) fn shared<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut shared = self.inner.shared.lock().unwrap_or_else(|p| p.into_inner());
        let entry = shared
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        match entry.clone().downcast::<T>() {
            Ok(t) => t,
            // Keyed by its own TypeId: cannot be another type.
            Err(_) => unreachable!("shared state of the wrong type"),
        }
    }

    /// A fresh store for one evaluation (or a load-time trial) with the
    /// sandbox's limits: `budget` of wall-clock time from now (epoch deadline),
    /// the fuel limit, memory and table limits. `host` makes the world's state
    /// for the evaluation's deadline.
    pub(crate) fn store<T>(&self, budget: Duration, host: impl FnOnce(Deadline) -> T) -> Store<Sandbox<T>> {
        let o = &self.inner.options;
        let deadline = Deadline::after(budget);
        let data = Sandbox {
            host: host(deadline),
            limiter: Limiter {
                memory_bytes: o.memory_limit,
                table_elements: o.table_elements,
                hit: None,
                used: 0,
            },
            deadline,
            _ticking: self.inner.ticker.ticking(),
        };
        let mut store = Store::new(&self.inner.engine, data);
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
        store.set_epoch_deadline(half(budget));
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

    /// The epoch thread's kernel id (tests count its wake-ups).
    #[cfg(test)]
    pub(crate) fn epoch_tid(&self) -> i32 {
        self.inner.ticker.tid()
    }
}

/// `Err` naming the first export of `W` the component lacks, and the functions
/// and instances it does export (what it was written for).
fn missing_exports<W: World>(engine: &Engine, component: &Component) -> Result<(), String> {
    let Some(missing) = W::EXPORTS
        .iter()
        .find(|e| component.get_export_index(None, e).is_none())
    else {
        return Ok(());
    };
    let ty = component.component_type();
    let has: Vec<String> = ty
        .exports(engine)
        .filter(|(_, e)| {
            matches!(
                e.ty,
                ComponentItem::ComponentFunc(_) | ComponentItem::ComponentInstance(_)
            )
        })
        .map(|(n, _)| format!("`{n}`"))
        .collect();
    let has = if has.is_empty() {
        "nothing".to_string()
    } else {
        has.join(", ")
    };
    Err(format!("it does not export `{missing}` (it exports {has})"))
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
