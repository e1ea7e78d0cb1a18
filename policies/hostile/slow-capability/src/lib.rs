//! Hostile: a TCP connect with a 60 s timeout to a blackhole address; the
//! host must cap it to the evaluation's budget. Reports what came back.
//!
//! Settings: `host` (default 192.0.2.1, TEST-NET-1), `port` (default 9),
//! `timeout-ms` (default 60000). The test config must allow the target.

use baton_guest::{Facts, Policy, Result, Settings, Verdict, failed, healthy, probe};

struct SlowCapability;

impl Policy for SlowCapability {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let host = settings.get_or("host", "192.0.2.1");
        let port = settings.get_u16("port")?.unwrap_or(9);
        let timeout_ms = settings.get_u32("timeout-ms")?.unwrap_or(60_000);
        Ok(match probe::tcp_connect(host, port, timeout_ms) {
            Ok(_) => healthy(),
            Err(e) => failed(format!("tcp {host}:{port}: {}", baton_guest::Error::from(e))),
        })
    }
}

baton_guest::export_health!(SlowCapability);
