//! baton-lab-httpd: the lab's stand-in for the seed's nginx. It answers every
//! request (any method, any target, proxy form included: `curl -x ADDR:80
//! http://blog.example.org/`) with `200 OK` and a one-line body. Started
//! through a link named `nginx`, its process name is `nginx`, which is what
//! the seed's check_web.sh (`ps -C nginx`) and Baton's process-alive look for.
//!
//! usage: baton-lab-httpd [--daemon] [--body TEXT] ADDR:PORT...
//!
//! With `--daemon` it binds every address, then goes to the background (a
//! new session, stdio on /dev/null) and the foreground process exits 0, as
//! nginx does: `systemctl start` returns once the service is up, and fails
//! (exit 1) when an address cannot be bound.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};

use baton_lab::serve_http as serve;
use std::time::Duration;

fn main() {
    if let Err(e) = run() {
        let _ = writeln!(io::stderr(), "baton-lab-httpd: {e}");
        std::process::exit(1);
    }
}

fn run() -> io::Result<()> {
    let mut daemon = false;
    let mut body = String::from("ok");
    let mut addrs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--daemon" => daemon = true,
            "--body" => body = args.next().ok_or_else(|| invalid("--body needs a value"))?,
            _ => addrs.push(
                a.parse::<SocketAddr>()
                    .map_err(|e| invalid(&format!("{a}: {e}")))?,
            ),
        }
    }
    if addrs.is_empty() {
        return Err(invalid(
            "usage: baton-lab-httpd [--daemon] [--body TEXT] ADDR:PORT...",
        ));
    }
    let listeners = addrs
        .iter()
        .map(|a| {
            let l = TcpListener::bind(a).map_err(|e| io::Error::new(e.kind(), format!("bind {a}: {e}")))?;
            l.set_nonblocking(true)?;
            Ok(l)
        })
        .collect::<io::Result<Vec<_>>>()?;
    if daemon {
        nix::unistd::daemon(true, false)?;
    }
    let body = format!("{body}\n");
    loop {
        let mut idle = true;
        for l in &listeners {
            match l.accept() {
                Ok((conn, _)) => {
                    idle = false;
                    let _ = serve(conn, &body);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => {}
            }
        }
        if idle {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_string())
}
