//! A tiny HTTP server on a thread inside a lab host's namespace: the
//! "service" (the seed's nginx) that health checks and the HTTP prober hit.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Lab, enter_netns};

/// Answers every request with `200 OK` and the body `<host>\n` until
/// stopped; stopping closes the listening socket (connections are then
/// refused, as when the service dies).
#[derive(Debug)]
pub struct HttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Listens on `addr` (e.g. `0.0.0.0:80`, or a VIP: the lab sets
    /// `ip_nonlocal_bind`) inside `host`.
    pub fn start(lab: &Lab, host: &str, addr: SocketAddr) -> io::Result<HttpServer> {
        let netns = lab.host(host)?.netns.clone();
        let body = format!("{host}\n");
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicU64::new(0));
        let (tx, rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let thread = {
            let stop = stop.clone();
            let served = served.clone();
            std::thread::Builder::new()
                .name("baton-lab-http-server".into())
                .spawn(move || {
                    let listener = enter_netns(&netns).and_then(|()| {
                        let l = TcpListener::bind(addr)?;
                        l.set_nonblocking(true)?;
                        Ok(l)
                    });
                    let listener = match listener {
                        Ok(l) => {
                            let _ = tx.send(Ok(()));
                            l
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    while !stop.load(Ordering::SeqCst) {
                        match listener.accept() {
                            Ok((conn, _)) => {
                                if serve(conn, &body).is_ok() {
                                    served.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                std::thread::sleep(Duration::from_millis(1));
                            }
                            Err(_) => std::thread::sleep(Duration::from_millis(5)),
                        }
                    }
                })?
        };
        match rx.recv() {
            Ok(Ok(())) => Ok(HttpServer {
                addr,
                stop,
                served,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(io::Error::other("http server thread died during setup")),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests answered so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Closes the listener ("the service died").
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads the request head, answers `200 OK` with `body` (none to a HEAD),
/// closes: the lab's HTTP service, on a thread here and as baton-lab-httpd.
pub fn serve(mut conn: TcpStream, body: &str) -> io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_millis(500)))?;
    conn.set_write_timeout(Some(Duration::from_millis(500)))?;
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16 * 1024 {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        req.extend_from_slice(&buf[..n]);
    }
    let head = req.starts_with(b"HEAD ");
    let resp = format!(
        "HTTP/1.0 200 OK\r\nServer: baton-lab-httpd\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        if head { "" } else { body }
    );
    conn.write_all(resp.as_bytes())
}
