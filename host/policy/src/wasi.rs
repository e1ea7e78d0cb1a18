//! The WASI a Rust `wasm32-wasip2` guest needs to instantiate, and nothing more.
//!
//! Rust's std (through wasi-libc) makes such a component import WASI 0.2 interfaces
//! even when the policy never touches a file or the environment: the reference
//! policies import `wasi:io/{poll,error,streams}` and `wasi:cli/{environment,exit,
//! stdin,stdout,stderr,terminal-*}` (std's panic hook prints to stderr and reads
//! `RUST_BACKTRACE`, `abort` exits). So wasmtime-wasi is linked, but only these
//! interfaces, and with a `WasiCtx` that grants nothing:
//!
//! | interface | what the guest gets |
//! | --- | --- |
//! | `wasi:io/{error,poll,streams}` | streams for the stdio below |
//! | `wasi:cli/{stdout,stderr}` | captured into the evaluation's log, 4 KiB each |
//! | `wasi:cli/stdin` | empty |
//! | `wasi:cli/{environment,exit}` | no env vars, no args, no cwd; exit traps |
//! | `wasi:cli/terminal-*` | not a terminal |
//! | `wasi:clocks/{wall-clock,monotonic-clock}` | the host clocks |
//! | `wasi:random/{random,insecure,insecure-seed}` | host randomness (std's HashMap seeds) |
//!
//! Clocks and randomness are not needed by the reference policies but are what
//! ordinary Rust code (`HashMap`, `Instant`) pulls in, and they have no side effect.
//!
//! Not linked: `wasi:filesystem/*` and `wasi:sockets/*` (a component that imports
//! them, e.g. by using `std::fs` or `std::net`, is refused at load time with the
//! missing import named), `wasi:http/*`, and everything else. Network and files go
//! through Baton's own capabilities, which check the grants.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream, WasiCli, WasiCliView as _};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView as _};
use wasmtime_wasi::p2::bindings::{cli, clocks, random, sync};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Bytes of stdout and of stderr kept per evaluation.
pub const STDIO_CAP: usize = 4096;

struct HasTable;

impl HasData for HasTable {
    type Data<'a> = &'a mut ResourceTable;
}

/// Links the WASI subset described in the module docs.
pub fn add_to_linker<T: WasiView + 'static>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::bindings::io::error::add_to_linker::<T, HasTable>(l, |t| t.ctx().table)?;
    sync::io::poll::add_to_linker::<T, HasTable>(l, |t| t.ctx().table)?;
    sync::io::streams::add_to_linker::<T, HasTable>(l, |t| t.ctx().table)?;
    clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)?;
    clocks::monotonic_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)?;
    random::random::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())?;
    random::insecure::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())?;
    random::insecure_seed::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())?;
    cli::exit::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::environment::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    Ok(())
}

/// A WASI context that grants nothing; stdout and stderr go to capped buffers.
pub fn ctx(stdout: &CappedPipe, stderr: &CappedPipe) -> WasiCtx {
    WasiCtxBuilder::new()
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .build()
}

/// The WASI side of one evaluation's store: a context that grants nothing, its
/// resource table, and the captured stdout and stderr.
pub struct WasiState {
    pub stdout: CappedPipe,
    pub stderr: CappedPipe,
    ctx: WasiCtx,
    table: ResourceTable,
}

impl std::fmt::Debug for WasiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiState")
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish_non_exhaustive()
    }
}

impl Default for WasiState {
    fn default() -> Self {
        let stdout = CappedPipe::new(STDIO_CAP);
        let stderr = CappedPipe::new(STDIO_CAP);
        let ctx = ctx(&stdout, &stderr);
        WasiState {
            stdout,
            stderr,
            ctx,
            table: ResourceTable::new(),
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
#[derive(Debug, Clone)]
pub struct CappedPipe {
    cap: usize,
    inner: Arc<Mutex<(Vec<u8>, bool)>>,
}

impl CappedPipe {
    pub fn new(cap: usize) -> Self {
        CappedPipe {
            cap,
            inner: Arc::new(Mutex::new((Vec::new(), false))),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let room = self.cap.saturating_sub(g.0.len());
        if bytes.len() > room {
            g.1 = true;
        }
        g.0.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// What was kept so far (lossy UTF-8), leaving it in place.
    pub fn snapshot(&self) -> String {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&g.0).into_owned()
    }

    /// What was kept (lossy UTF-8), and whether anything was dropped.
    pub fn take(&self) -> (String, bool) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let s = String::from_utf8_lossy(&g.0).into_owned();
        let cut = g.1;
        g.0.clear();
        g.1 = false;
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
        assert_eq!(p.take(), ("hello wo".to_string(), true));
        assert_eq!(p.take(), (String::new(), false));
    }
}
