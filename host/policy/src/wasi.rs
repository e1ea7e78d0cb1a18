//! The WASI a guest gets: everything a standard toolchain's component imports,
//! with nothing granted.
//!
//! Ordinary toolchains make components import WASI 0.2 interfaces even when the
//! policy never touches a file or a socket: Rust's std imports `wasi:io` and
//! `wasi:cli` (its panic hook prints to stderr), componentize-py and
//! componentize-js also import `wasi:filesystem` and `wasi:sockets` for their
//! runtimes' standard libraries. So all of WASI 0.2 is linked, with a `WasiCtx`
//! that grants nothing:
//!
//! | interface | what the guest gets |
//! | --- | --- |
//! | `wasi:io/{error,poll,streams}` | streams for the stdio below |
//! | `wasi:cli/{stdout,stderr}` | captured into the evaluation's log, 4 KiB each (and the last line kept, for a traceback's message) |
//! | `wasi:cli/stdin` | empty |
//! | `wasi:cli/{environment,exit}` | no env vars, no args, no cwd; exit traps |
//! | `wasi:cli/terminal-*` | not a terminal |
//! | `wasi:clocks/{wall-clock,monotonic-clock}` | the host clocks; a timer (`subscribe-duration`, `subscribe-instant`) ends by the evaluation's deadline at the latest |
//! | `wasi:random/{random,insecure,insecure-seed}` | host randomness (hash seeds) |
//! | `wasi:filesystem/{types,preopens}` | no preopened directory: no path can be opened |
//! | `wasi:sockets/*` | every operation refused: no TCP, no UDP, no name lookup, no address allowed |
//!
//! Not linked: `wasi:http/*` and anything else (a component importing it is
//! refused at load time with the missing import named). Network and files go
//! through Baton's own capabilities, which check the grants.
//!
//! ## Waits end at the deadline
//!
//! A guest that sleeps through WASI (Rust's `std::thread::sleep`, Python's
//! `time.sleep`, a JS timer) subscribes to a monotonic-clock timer and blocks
//! in `wasi:io/poll`: inside the host, where epoch interruption cannot stop
//! it. So [`add_to_linker`] shadows wasmtime-wasi's `subscribe-duration` and
//! `subscribe-instant` with versions that cut the timer to the time left
//! until the evaluation's [`Deadline`] (then delegate to wasmtime-wasi's own),
//! and its `poll` and `pollable.block` with versions that trap as the epoch
//! does ([`Trap::Interrupt`], reported as deadline exceeded) when the wait
//! returns past the deadline, without waiting for the guest's next epoch
//! check. A `time.sleep(3)` under a 100 ms budget ends the evaluation after
//! about 100 ms, as deadline exceeded; a short sleep is a sleep.
//!
//! With a script, a timer runs on the script's clock: waiting on it passes
//! no real time but moves the script's clock to the timer's end (as
//! `clock.sleep-ms` does), so a scripted test that sleeps is instant and the
//! same every run. (A poll on several scripted timers at once moves the
//! clock to the end of the latest, not the earliest.)

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use wasmtime::Trap;
use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::clocks::WasiClocksView as _;
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock::Host as _;
use wasmtime_wasi::p2::bindings::sync::io::poll::{Host as _, HostPollable as _};
use wasmtime_wasi::p2::{DynPollable, OutputStream, Pollable, StreamError};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::epoch::Deadline;
use crate::script::{Script, ScriptedClocks};

/// Bytes of stdout and of stderr kept per evaluation.
pub const STDIO_CAP: usize = 4096;

/// The instances whose functions [`add_to_linker`] shadows, named exactly as
/// wasmtime-wasi 48 registers them (its WIT is WASI 0.2.12; a guest's import
/// of any 0.2.x resolves to these). Under another name the shadows would be
/// a second instance that guests never see: the sleeper tests would fail.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";
const POLL: &str = "wasi:io/poll@0.2.12";

/// Links all of WASI 0.2 (synchronous), which [`ctx`] then grants nothing of,
/// with its timers and waits bound by the deadline of the [`WasiState`] that
/// `get` finds in the store data (see the module's doc).
pub fn add_to_linker<T: WasiView + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut WasiState,
) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(l)?;
    l.allow_shadowing(true);
    let shadowed = shadow_waits(l, get);
    l.allow_shadowing(false);
    shadowed
}

/// What a guest's timer waits for.
#[derive(Debug, Clone, Copy)]
enum Timer {
    /// `subscribe-duration`: nanoseconds from now.
    For(u64),
    /// `subscribe-instant`: a monotonic-clock reading, in nanoseconds.
    Until(u64),
}

fn shadow_waits<T: WasiView + 'static>(
    l: &mut Linker<T>,
    get: fn(&mut T) -> &mut WasiState,
) -> wasmtime::Result<()> {
    {
        let mut clock = l.instance(MONOTONIC_CLOCK)?;
        clock.func_wrap("subscribe-duration", move |mut store, (ns,): (u64,)| {
            Ok((subscribe(store.data_mut(), get, Timer::For(ns))?,))
        })?;
        clock.func_wrap("subscribe-instant", move |mut store, (when,): (u64,)| {
            Ok((subscribe(store.data_mut(), get, Timer::Until(when))?,))
        })?;
    }
    let mut poll = l.instance(POLL)?;
    poll.func_wrap(
        "poll",
        move |mut store, (pollables,): (Vec<Resource<DynPollable>>,)| {
            let data = store.data_mut();
            let ready = data.ctx().table.poll(pollables)?;
            within_deadline(get(data))?;
            Ok((ready,))
        },
    )?;
    poll.func_wrap(
        "[method]pollable.block",
        move |mut store, (pollable,): (Resource<DynPollable>,)| {
            let data = store.data_mut();
            data.ctx().table.block(pollable)?;
            within_deadline(get(data))
        },
    )?;
    Ok(())
}

/// A timer cut to the deadline (wasmtime-wasi's own pollable), or one on the
/// script's clock.
fn subscribe<T: WasiView>(
    data: &mut T,
    get: fn(&mut T) -> &mut WasiState,
    timer: Timer,
) -> wasmtime::Result<Resource<DynPollable>> {
    let state = get(data);
    let (deadline, script) = (state.deadline, state.script.clone());
    let mut clocks = data.clocks();
    if let Some(script) = script {
        let until = match timer {
            Timer::For(ns) => script.monotonic_ns().saturating_add(ns),
            Timer::Until(when) => when,
        };
        let timer = clocks.table.push(ScriptedTimer { script, until })?;
        return wasmtime_wasi::p2::subscribe(clocks.table, timer);
    }
    let wanted = match timer {
        Timer::For(ns) => ns,
        Timer::Until(when) => when.saturating_sub(clocks.now()?),
    };
    let left = u64::try_from(deadline.remaining().as_nanos()).unwrap_or(u64::MAX);
    clocks.subscribe_duration(wanted.min(left))
}

/// After a wait: past the deadline, the evaluation ends as the epoch would
/// end it at the guest's next check.
fn within_deadline(state: &WasiState) -> wasmtime::Result<()> {
    if state.deadline.remaining().is_zero() {
        return Err(Trap::Interrupt.into());
    }
    Ok(())
}

/// A timer on a script's monotonic clock: ready when polled, which moves the
/// script's clock to its end (if it is not there yet).
struct ScriptedTimer {
    script: Arc<Script>,
    until: u64,
}

#[wasmtime_wasi::async_trait]
impl Pollable for ScriptedTimer {
    async fn ready(&mut self) {
        self.script.advance_to(self.until);
    }
}

/// A WASI context that grants nothing: no preopened directory, no socket of
/// any kind, no name lookup; stdout and stderr go to capped buffers. With a
/// script, its clocks are the script's.
pub fn ctx(stdout: &CappedPipe, stderr: &CappedPipe, script: Option<&Arc<Script>>) -> WasiCtx {
    let mut b = WasiCtxBuilder::new();
    b.stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }));
    if let Some(s) = script {
        b.wall_clock(ScriptedClocks(s.clone()))
            .monotonic_clock(ScriptedClocks(s.clone()));
    }
    b.build()
}

/// The WASI side of one evaluation's store: a context that grants nothing, its
/// resource table, the captured stdout and stderr, and what bounds its
/// timers (the evaluation's deadline, or the script's clock).
pub struct WasiState {
    pub stdout: CappedPipe,
    pub stderr: CappedPipe,
    ctx: WasiCtx,
    table: ResourceTable,
    deadline: Deadline,
    script: Option<Arc<Script>>,
}

impl std::fmt::Debug for WasiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiState")
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl WasiState {
    /// For an evaluation that ends at `deadline`; with a script, the guest's
    /// clocks (and timers) are the script's.
    pub fn new(script: Option<&Arc<Script>>, deadline: Deadline) -> Self {
        let stdout = CappedPipe::new(STDIO_CAP);
        let stderr = CappedPipe::new(STDIO_CAP);
        let ctx = ctx(&stdout, &stderr, script);
        WasiState {
            stdout,
            stderr,
            ctx,
            table: ResourceTable::new(),
            deadline,
            script: script.cloned(),
        }
    }
}

impl WasiState {
    /// What [`WasiView::ctx`] of a store data that holds this returns.
    pub fn view(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// An output stream that keeps the first `cap` bytes and silently drops the rest
/// (a guest that prints a lot is neither trapped nor blocked).
///
/// The last [`TAIL_CAP`] bytes are kept as well: a Python traceback's message
/// is its last line, however long the traceback.
#[derive(Debug, Clone)]
pub struct CappedPipe {
    cap: usize,
    inner: Arc<Mutex<Captured>>,
}

/// Bytes kept from the end of a stream.
pub const TAIL_CAP: usize = 1024;

#[derive(Debug, Default)]
struct Captured {
    head: Vec<u8>,
    cut: bool,
    tail: std::collections::VecDeque<u8>,
}

impl CappedPipe {
    pub fn new(cap: usize) -> Self {
        CappedPipe {
            cap,
            inner: Arc::new(Mutex::new(Captured::default())),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let room = self.cap.saturating_sub(g.head.len());
        if bytes.len() > room {
            g.cut = true;
        }
        g.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        let keep = &bytes[bytes.len().saturating_sub(TAIL_CAP)..];
        let over = (g.tail.len() + keep.len()).saturating_sub(TAIL_CAP);
        g.tail.drain(..over);
        g.tail.extend(keep);
    }

    /// What was kept so far (lossy UTF-8), leaving it in place.
    pub fn snapshot(&self) -> String {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&g.head).into_owned()
    }

    /// The last [`TAIL_CAP`] bytes written so far (lossy UTF-8).
    pub fn tail(&self) -> String {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (a, b) = g.tail.as_slices();
        String::from_utf8_lossy(&[a, b].concat()).into_owned()
    }

    /// What was kept (lossy UTF-8), and whether anything was dropped.
    pub fn take(&self) -> (String, bool) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let s = String::from_utf8_lossy(&g.head).into_owned();
        let cut = g.cut;
        *g = Captured::default();
        (s, cut)
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for CappedPipe {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_pipe_keeps_prefix() {
        let mut p = CappedPipe::new(8);
        OutputStream::write(&mut p, bytes::Bytes::from_static(b"hello ")).unwrap();
        OutputStream::write(&mut p, bytes::Bytes::from_static(b"world")).unwrap();
        assert_eq!(p.tail(), "hello world");
        assert_eq!(p.take(), ("hello wo".to_string(), true));
        assert_eq!(p.take(), (String::new(), false));
        assert_eq!(p.tail(), "");
    }

    #[test]
    fn capped_pipe_keeps_the_last_bytes_of_a_long_stream() {
        let mut p = CappedPipe::new(8);
        let long = "x".repeat(3 * TAIL_CAP);
        OutputStream::write(&mut p, bytes::Bytes::from(long)).unwrap();
        OutputStream::write(&mut p, bytes::Bytes::from_static(b"\nValueError: bad port\n")).unwrap();
        let tail = p.tail();
        assert_eq!(tail.len(), TAIL_CAP);
        assert!(tail.ends_with("\nValueError: bad port\n"), "{tail}");
    }
}
