//! The store's data ([`HostState`]) and the glue from the WIT imports of
//! `baton:policy@0.1.0` to the capability modules in [`crate::caps`].

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{ComponentType, HasSelf, Lift, Linker, Lower, ResourceTable};
use wasmtime::{ResourceLimiter, Result};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::caps::{self, CapError, Deadline};
use crate::context::{self, LogLevel};
use crate::grants::Grants;
use crate::wasi::{self, CappedPipe};

/// Host-side bindings of the imported interfaces.
///
/// The world itself is not bound with `bindgen!`: its name (`health`) and its
/// `health` variant would both become `Health` in Rust. The interfaces are bound here
/// and the `check` export is called through a typed function with [`Verdict`].
#[allow(unsafe_code, missing_debug_implementations, clippy::all)]
pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        interfaces: "
            import baton:policy/types@0.1.0;
            import baton:policy/log@0.1.0;
            import baton:policy/clock@0.1.0;
            import baton:policy/probe@0.1.0;
            import baton:policy/system@0.1.0;
            import baton:policy/vrrp@0.1.0;
            import baton:policy/remedy@0.1.0;
        ",
    });
}

use bindings::baton::policy::{clock, log, probe, remedy, system, types, vrrp};

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
pub(crate) type CheckParams<'a> = (&'a [(String, String)], &'a types::Facts);
pub(crate) type CheckResults = (WitVerdict,);

/// Memory/table/instance limits of one store; remembers whether a limit was hit so a
/// trap that follows (Rust aborts on allocation failure) is reported as such.
#[derive(Debug)]
pub(crate) struct Limiter {
    pub memory_bytes: usize,
    pub table_elements: usize,
    pub hit: Option<String>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        if desired > self.memory_bytes {
            self.hit = Some(format!(
                "memory growth from {current} to {desired} bytes refused (limit {} bytes)",
                self.memory_bytes
            ));
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        if desired > self.table_elements {
            self.hit = Some(format!(
                "table growth from {current} to {desired} elements refused (limit {})",
                self.table_elements
            ));
            return Ok(false);
        }
        Ok(true)
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

/// Everything one evaluation's store holds.
pub(crate) struct HostState {
    pub policy: Arc<str>,
    pub deadline: Deadline,
    pub grants: Arc<Grants>,
    pub instances: Arc<Vec<context::InstanceStatus>>,
    pub processes: Arc<caps::process::ProcessTable>,
    /// The epoch advances while this store lives.
    _ticking: crate::engine::Ticking,
    pub logs: caps::log::LogSink,
    pub denials: Vec<String>,
    pub limiter: Limiter,
    pub stdout: CappedPipe,
    pub stderr: CappedPipe,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("policy", &self.policy)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl HostState {
    pub fn new(
        policy: Arc<str>,
        deadline: Deadline,
        grants: Arc<Grants>,
        instances: Arc<Vec<context::InstanceStatus>>,
        processes: Arc<caps::process::ProcessTable>,
        ticking: crate::engine::Ticking,
        limiter: Limiter,
    ) -> Self {
        let stdout = CappedPipe::new(wasi::STDIO_CAP);
        let stderr = CappedPipe::new(wasi::STDIO_CAP);
        let wasi = wasi::ctx(&stdout, &stderr);
        HostState {
            policy,
            deadline,
            grants,
            instances,
            processes,
            _ticking: ticking,
            logs: Default::default(),
            denials: Vec::new(),
            limiter,
            stdout,
            stderr,
            wasi,
            table: ResourceTable::new(),
        }
    }

    /// Records a denial (it fails the evaluation) and logs it.
    fn note<T>(&mut self, what: &str, r: Result<T, CapError>) -> Result<T, types::ProbeError> {
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

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Adds Baton's interfaces (the WASI subset comes from [`crate::wasi`]).
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    types::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    log::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    clock::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    probe::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    system::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    vrrp::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    remedy::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    Ok(())
}

impl types::Host for HostState {}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) {
        let level = match level {
            log::Level::Trace => LogLevel::Trace,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Error => LogLevel::Error,
        };
        self.logs.push(level, message);
    }
}

impl clock::Host for HostState {
    fn monotonic_ns(&mut self) -> u64 {
        caps::clock::monotonic_ns()
    }

    fn sleep_ms(&mut self, ms: u32) {
        caps::clock::sleep_ms(ms, self.deadline);
    }
}

impl probe::Host for HostState {
    fn tcp_connect(&mut self, host: String, port: u16, timeout_ms: u32) -> Result<u64, types::ProbeError> {
        let r = caps::tcp::connect(&self.grants, self.deadline, &host, port, timeout_ms);
        self.note(&format!("tcp-connect {host}:{port}"), r)
    }

    fn http_get(
        &mut self,
        url: String,
        timeout_ms: u32,
        max_body: u32,
    ) -> Result<probe::HttpResponse, types::ProbeError> {
        let r = caps::http::get(&self.grants, self.deadline, &url, timeout_ms, max_body).map(|r| {
            probe::HttpResponse {
                status: r.status,
                body: r.body,
            }
        });
        self.note(&format!("http-get {url}"), r)
    }
}

impl system::Host for HostState {
    fn process_count(&mut self, name: String) -> u32 {
        self.processes.count(&name, self.deadline)
    }

    fn process_running(&mut self, name: String, at_least: u32) -> bool {
        self.processes.running(&name, at_least, self.deadline)
    }

    fn address_held(&mut self, address: String) -> bool {
        caps::address::held(&address)
    }

    fn interface_up(&mut self, name: String) -> Result<bool, types::ProbeError> {
        let r = caps::interface::up(&name);
        self.note(&format!("interface-up {name}"), r)
    }

    fn read_file(&mut self, path: String, max_bytes: u32) -> Result<Option<Vec<u8>>, types::ProbeError> {
        let r = caps::file::read(&self.grants, &path, max_bytes);
        self.note(&format!("read-file {path}"), r)
    }
}

impl vrrp::Host for HostState {
    fn instances(&mut self) -> Vec<types::InstanceStatus> {
        self.instances.iter().map(instance_to_wit).collect()
    }
}

impl remedy::Host for HostState {
    fn run(&mut self, name: String) -> Result<i32, types::ProbeError> {
        let t0 = Instant::now();
        let r = caps::remedy::run(&self.grants, self.deadline, &name);
        tracing::info!(policy = %self.policy, remedy = %name, result = ?r, elapsed = ?t0.elapsed(), "remedy run");
        self.note(&format!("remedy {name}"), r)
    }
}

pub(crate) fn instance_to_wit(i: &context::InstanceStatus) -> types::InstanceStatus {
    types::InstanceStatus {
        name: i.name.clone(),
        interface: i.interface.clone(),
        vrid: i.vrid,
        state: match i.state {
            context::VrrpState::Initialize => types::VrrpState::Initialize,
            context::VrrpState::Backup => types::VrrpState::Backup,
            context::VrrpState::Master => types::VrrpState::Master,
            context::VrrpState::Fault => types::VrrpState::Fault,
        },
        base_priority: i.base_priority,
        effective_priority: i.effective_priority,
        master: i.master.clone(),
        vips: i.vips.clone(),
        holding_vips: i.holding_vips,
    }
}

pub(crate) fn facts_to_wit(f: &context::Facts) -> types::Facts {
    types::Facts {
        router_id: f.router_id.clone(),
        instance: instance_to_wit(&f.instance),
        run: f.run,
        last_healthy: f.last_healthy,
    }
}
