//! The control socket: a Unix stream socket, mode 0600 (root only) from
//! its creation, that answers only root or the daemon's own user (checked
//! by the peer's credentials too); one request line in, one JSON document
//! out.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use crate::notify_cmd::TestResult;
use crate::status::Status;

/// A request from a client, with the channel to answer on.
#[derive(Debug)]
pub enum Request {
    Status(oneshot::Sender<Status>),
    /// `baton notify test`: every sink's outcome.
    NotifyTest(oneshot::Sender<Vec<TestResult>>),
}

/// Binds the socket (replacing a stale one), restricts it to its owner and
/// serves requests by forwarding them to the daemon loop.
pub fn serve(path: &Path, to_daemon: mpsc::Sender<Request>) -> io::Result<ControlSocket> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("creating {}: {e}", dir.display())))?;
    }
    if path.exists() {
        // A live daemon answers; a stale socket from a crash does not.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{} is in use: is another baton running?", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    // No moment in which others could connect: the umask covers the bind.
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let bound = UnixListener::bind(path);
    nix::sys::stat::umask(old);
    let listener = bound.map_err(|e| io::Error::new(e.kind(), format!("binding {}: {e}", path.display())))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            if let Err(e) = allowed(&stream) {
                tracing::warn!("control socket: {e}");
                continue;
            }
            let tx = to_daemon.clone();
            tokio::spawn(async move {
                if let Err(e) = handle(stream, tx).await {
                    tracing::debug!("control client: {e}");
                }
            });
        }
    });
    Ok(ControlSocket {
        path: path.to_path_buf(),
    })
}

/// Removes the socket file when the daemon stops.
#[derive(Debug)]
pub struct ControlSocket {
    path: PathBuf,
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Only root and the user the daemon runs as may ask.
fn allowed(stream: &UnixStream) -> io::Result<()> {
    let cred = stream.peer_cred()?;
    let me = nix::unistd::geteuid().as_raw();
    if cred.uid() == 0 || cred.uid() == me {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("refused a client of uid {} (pid {:?})", cred.uid(), cred.pid()),
        ))
    }
}

async fn handle(stream: UnixStream, tx: mpsc::Sender<Request>) -> io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut line = String::new();
    BufReader::new(r.take(4096)).read_line(&mut line).await?;
    let reply = match line.trim() {
        "status" => {
            let (otx, orx) = oneshot::channel();
            tx.send(Request::Status(otx))
                .await
                .map_err(|_| io::Error::other("daemon is stopping"))?;
            let status = orx.await.map_err(|_| io::Error::other("daemon is stopping"))?;
            serde_json::to_string(&status).map_err(io::Error::other)?
        }
        "notify-test" => {
            let (otx, orx) = oneshot::channel();
            tx.send(Request::NotifyTest(otx))
                .await
                .map_err(|_| io::Error::other("daemon is stopping"))?;
            let results = orx.await.map_err(|_| io::Error::other("daemon is stopping"))?;
            serde_json::to_string(&results).map_err(io::Error::other)?
        }
        other => serde_json::json!({ "error": format!("unknown request {other:?}") }).to_string(),
    };
    w.write_all(reply.as_bytes()).await?;
    w.write_all(b"\n").await?;
    w.shutdown().await
}

/// Client side: asks a running daemon for its status.
pub fn query_status(path: &Path) -> anyhow::Result<Status> {
    query(path, "status", std::time::Duration::from_secs(5))
}

/// Client side: has a running daemon send a test notice through every sink.
pub fn query_notify_test(path: &Path) -> anyhow::Result<Vec<TestResult>> {
    // Each sink gets one attempt; an SMTP connect may take its timeout.
    query(path, "notify-test", std::time::Duration::from_secs(120))
}

fn query<T: serde::de::DeserializeOwned>(
    path: &Path,
    request: &str,
    timeout: std::time::Duration,
) -> anyhow::Result<T> {
    use std::io::{BufRead, Write};
    let mut s = std::os::unix::net::UnixStream::connect(path)
        .map_err(|e| anyhow::anyhow!("connecting to {}: {e} (is baton running?)", path.display()))?;
    s.set_read_timeout(Some(timeout))?;
    s.write_all(format!("{request}\n").as_bytes())?;
    let mut line = String::new();
    std::io::BufReader::new(s).read_line(&mut line)?;
    serde_json::from_str(&line).map_err(|e| anyhow::anyhow!("bad reply from the daemon: {e}: {line}"))
}
