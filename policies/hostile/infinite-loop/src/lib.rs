//! Hostile: spins forever without calling the host. Only the epoch deadline
//! can stop it.

use baton_guest::{Facts, Policy, Result, Settings, Verdict};
use std::hint::black_box;

struct InfiniteLoop;

impl Policy for InfiniteLoop {
    fn check(_settings: &Settings, facts: &Facts) -> Result<Verdict> {
        let mut x = black_box(facts.run);
        loop {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

baton_guest::export_health!(InfiniteLoop);
