//! Hostile: reaches for files and the network through Rust's std (so the
//! component imports wasi:filesystem and wasi:sockets, as ordinary
//! toolchains' output does). Every attempt must fail: it reports what each
//! one answered, and is healthy only if something got through.

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use baton_guest::{Facts, Policy, Result, Settings, Verdict, failed, healthy};

struct StdIo;

impl Policy for StdIo {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let path = settings.get_or("path", "/etc/hostname");
        let target = settings.get_or("target", "127.0.0.1:22");
        let file = match std::fs::File::open(path) {
            Ok(mut f) => {
                let mut s = String::new();
                let _ = f.read_to_string(&mut s);
                return Ok(healthy());
            }
            Err(e) => format!("open {path}: {e}"),
        };
        let addr = target
            .parse()
            .map_err(|e| baton_guest::Error::new(format!("target {target}: {e}")))?;
        let net = match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(_) => return Ok(healthy()),
            Err(e) => format!("connect {target}: {e}"),
        };
        let dir = match std::fs::read_dir("/") {
            Ok(_) => return Ok(healthy()),
            Err(e) => format!("read_dir /: {e}"),
        };
        println!("std-io: every attempt failed");
        Ok(failed(format!("{file}; {net}; {dir}")))
    }
}

baton_guest::export_health!(StdIo);
