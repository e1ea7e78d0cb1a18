//! Hostile transition hook: spins forever in `route` without calling the
//! host. Only the epoch deadline can stop it.

use baton_guest::{Hook, InstanceStatus, Notice, Result, Route, Settings};
use std::hint::black_box;

struct HookLoop;

impl Hook for HookLoop {
    fn route(_settings: &Settings, notice: &Notice, _instances: &[InstanceStatus]) -> Result<Route> {
        let mut x = black_box(notice.at_unix_ms);
        loop {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

baton_guest::export_hook!(HookLoop);
