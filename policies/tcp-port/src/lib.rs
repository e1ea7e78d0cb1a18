//! Healthy when a TCP connection to `host`:`port` opens within `timeout-ms`.
//!
//! Settings: `host` (default 127.0.0.1), `port` (required), `timeout-ms`
//! (default 200). The config's `allow` must permit the target.

use baton_guest::{Facts, Policy, Result, Settings, Verdict, failed, healthy, probe};

struct TcpPort;

impl Policy for TcpPort {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let host = settings.get_or("host", "127.0.0.1");
        let port: u16 = settings.require_parse("port")?;
        let timeout_ms = settings.get_u32("timeout-ms")?.unwrap_or(200);
        match probe::tcp_connect(host, port, timeout_ms) {
            Ok(_) => Ok(healthy()),
            Err(e) => Ok(failed(format!(
                "tcp {host}:{port}: {}",
                baton_guest::Error::from(e)
            ))),
        }
    }
}

baton_guest::export_health!(TcpPort);
