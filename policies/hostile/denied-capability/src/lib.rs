//! Hostile: asks for an HTTP GET of a URL outside the allowlist, ignores the
//! host's `denied` answer and claims to be healthy. A host that lets a policy
//! swallow a denial would report it healthy; Baton's must fail the check.
//!
//! Settings: `url` (default http://198.51.100.1/).

use baton_guest::{Facts, Policy, Result, Settings, Verdict, healthy, probe};

struct DeniedCapability;

impl Policy for DeniedCapability {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let url = settings.get_or("url", "http://198.51.100.1/");
        let answer = probe::http_get(url, 1000, 1024);
        baton_guest::info!("GET {url}: {:?} (ignored)", answer.map(|r| r.status));
        Ok(healthy())
    }
}

baton_guest::export_health!(DeniedCapability);
