//! Hostile: panics (which, on wasm32-wasip2, aborts: a trap for the host).

use baton_guest::{Facts, Policy, Result, Settings, Verdict};

struct Panic;

impl Policy for Panic {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        panic!("hostile policy panics on purpose ({} settings)", settings.len());
    }
}

baton_guest::export_health!(Panic);
