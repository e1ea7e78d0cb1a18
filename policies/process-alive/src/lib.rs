//! Healthy while at least `min` processes named `name` run (the seed's
//! check_web.sh). With `remedy`, a dead process is restarted once per
//! failure episode: the remedy runs when the previous evaluation was healthy
//! (or on the first), then the process is counted again, waiting up to
//! `settle-ms` for it in steps of `settle-step-ms`; if it is still missing
//! the check fails and the remedy is not run again until it has been healthy.
//!
//! Settings: `name` (required), `min` (default 1), `remedy` (optional),
//! `settle-ms` (default 1000), `settle-step-ms` (default 50).

use baton_guest::clock::{self, Instant};
use baton_guest::{Facts, Policy, Result, Settings, Verdict, failed, healthy, remedy, system};
use std::time::Duration;

struct ProcessAlive;

impl Policy for ProcessAlive {
    fn check(settings: &Settings, facts: &Facts) -> Result<Verdict> {
        let name = settings.require("name")?;
        let min = settings.parse_or("min", 1u32)?;
        if system::process_running(name, min) {
            return Ok(healthy());
        }
        let Some(remedy_name) = settings.get("remedy") else {
            return Ok(failed(format!("{name} not running")));
        };
        if facts.last_healthy == Some(false) {
            return Ok(failed(format!(
                "{name} not running (remedy {remedy_name:?} already tried)"
            )));
        }

        baton_guest::warn!("{name} not running: running remedy {remedy_name:?}");
        match remedy::run(remedy_name) {
            Ok(0) => {}
            Ok(code) => baton_guest::warn!("remedy {remedy_name:?} exited with {code}"),
            Err(e) => {
                return Ok(failed(format!(
                    "{name} not running; remedy {remedy_name:?}: {}",
                    baton_guest::Error::from(e)
                )));
            }
        }

        let settle = Duration::from_millis(settings.parse_or("settle-ms", 1000u64)?);
        let step_ms = settings.parse_or("settle-step-ms", 50u32)?.max(1);
        // Bounded by a count as well as the clock: the host may cut sleeps short.
        let max_steps = settle.as_millis() / u128::from(step_ms) + 1;
        let started = Instant::now();
        let mut steps = 0;
        loop {
            if system::process_running(name, min) {
                baton_guest::info!("{name} running again after remedy {remedy_name:?}");
                return Ok(healthy());
            }
            let elapsed = started.elapsed();
            if elapsed >= settle || steps >= max_steps {
                return Ok(failed(format!("{name} not running after {remedy_name}")));
            }
            let left = (settle - elapsed).as_millis().min(u128::from(step_ms));
            clock::sleep_ms(left as u32);
            steps += 1;
        }
    }
}

baton_guest::export_health!(ProcessAlive);
