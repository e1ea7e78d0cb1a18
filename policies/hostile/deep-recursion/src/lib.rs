//! Hostile: recurses without bound, with a 1 KiB frame, until the wasm call
//! stack or the shadow stack is exhausted (a trap).
//!
//! Settings: `depth` (default: unbounded).

use baton_guest::{Facts, Policy, Result, Settings, Verdict, healthy};
use std::hint::black_box;

struct DeepRecursion;

#[inline(never)]
fn dive(depth: u64, limit: u64) -> u64 {
    let frame = black_box([depth as u8; 1024]);
    if depth >= limit {
        return u64::from(frame[0]);
    }
    let below = dive(black_box(depth + 1), limit);
    below.wrapping_add(u64::from(black_box(frame)[(depth % 1024) as usize]))
}

impl Policy for DeepRecursion {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let limit = settings.parse_or("depth", u64::MAX)?;
        black_box(dive(0, black_box(limit)));
        Ok(healthy())
    }
}

baton_guest::export_health!(DeepRecursion);
