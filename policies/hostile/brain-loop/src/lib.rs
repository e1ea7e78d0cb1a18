//! Hostile split-brain policy: spins forever in `decide` without calling the
//! host. Only the epoch deadline can stop it.

use baton_guest::{Decision, Evidence, Result, Settings, SplitBrain};
use std::hint::black_box;

struct BrainLoop;

impl SplitBrain for BrainLoop {
    fn decide(_settings: &Settings, evidence: &Evidence) -> Result<Decision> {
        let mut x = black_box(evidence.run);
        loop {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

baton_guest::export_split_brain!(BrainLoop);
