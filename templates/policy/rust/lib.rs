//! {{name}}: healthy when an HTTP GET of `url` answers status `expect`
//! (default 200) within `timeout-ms` (default 200).

use baton_guest::{Facts, Policy, Result, Settings, Verdict, failed, healthy, probe};

struct Check;

impl Policy for Check {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let url = settings.require("url")?;
        let expect = settings.get_u16("expect")?.unwrap_or(200);
        let timeout_ms = settings.get_u32("timeout-ms")?.unwrap_or(200);
        match probe::http_get(url, timeout_ms, 0) {
            Ok(r) if r.status == expect => Ok(healthy()),
            Ok(r) => Ok(failed(format!("GET {url}: status {} (expected {expect})", r.status))),
            Err(e) => Ok(failed(format!("GET {url}: {}", baton_guest::Error::from(e)))),
        }
    }
}

baton_guest::export_health!(Check);
