//! Healthy when an HTTP GET of `url` answers status `expect` (and, with
//! `body-contains`, a body that contains that text within its first
//! `max-body` bytes).
//!
//! Settings: `url` (required, http://), `expect` (default 200), `timeout-ms`
//! (default 200), `body-contains` (optional), `max-body` (default 4096, used
//! only with `body-contains`).

use baton_guest::{Facts, Policy, Result, Settings, Verdict, failed, healthy, probe};

struct HttpStatus;

impl Policy for HttpStatus {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let url = settings.require("url")?;
        let expect = settings.get_u16("expect")?.unwrap_or(200);
        let timeout_ms = settings.get_u32("timeout-ms")?.unwrap_or(200);
        let needle = settings.get("body-contains");
        let max_body = if needle.is_some() {
            settings.get_u32("max-body")?.unwrap_or(4096)
        } else {
            0
        };

        let response = match probe::http_get(url, timeout_ms, max_body) {
            Ok(response) => response,
            Err(e) => return Ok(failed(format!("GET {url}: {}", baton_guest::Error::from(e)))),
        };
        if response.status != expect {
            return Ok(failed(format!(
                "GET {url}: status {} (expected {expect})",
                response.status
            )));
        }
        if let Some(needle) = needle
            && !contains(&response.body, needle.as_bytes())
        {
            return Ok(failed(format!("GET {url}: body does not contain {needle:?}")));
        }
        Ok(healthy())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

baton_guest::export_health!(HttpStatus);
