//! Hostile: logs one 10 MiB message (the host cuts it to 4 KiB), then a
//! burst of `lines` (default 1000) ordinary ones, then is healthy.
//!
//! Settings: `bytes` (default 10485760), `lines` (default 1000).

use baton_guest::{Facts, Policy, Result, Settings, Verdict, healthy, log};

struct HugeLog;

impl Policy for HugeLog {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let bytes = settings.parse_or("bytes", 10usize << 20)?;
        let lines = settings.parse_or("lines", 1000u32)?;
        let message = "A".repeat(bytes);
        log::log(log::Level::Error, &message);
        for i in 0..lines {
            baton_guest::info!("huge-log line {i}");
        }
        Ok(healthy())
    }
}

baton_guest::export_health!(HugeLog);
