//! Hostile: grows its memory 1 MiB at a time (touching every page) until the
//! host refuses. If a grow is refused rather than trapped, it reports
//! `failed("memory grow refused after N MiB")`.
//!
//! Settings: `chunk-kib` (default 1024).

use baton_guest::{Facts, Policy, Result, Settings, Verdict, failed};
use std::hint::black_box;

struct MemoryBomb;

impl Policy for MemoryBomb {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let chunk = settings.parse_or("chunk-kib", 1024usize)?.max(1) * 1024;
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut block = Vec::new();
            if block.try_reserve_exact(chunk).is_err() || hoard.try_reserve(1).is_err() {
                let mib = hoard.len() * chunk / (1024 * 1024);
                return Ok(failed(format!("memory grow refused after {mib} MiB")));
            }
            block.resize(chunk, 0xa5);
            hoard.push(black_box(block));
        }
    }
}

baton_guest::export_health!(MemoryBomb);
