//! keepalived's `vrrp_script`, run as keepalived runs it: the `[[remedy]]`
//! named by `remedy` is the script (its argv, its timeout, its user), run
//! once per evaluation; healthy iff it exits 0. A non-zero exit, a kill by a
//! signal (128+N), the host's timeout (which kills the process group) and a
//! command that cannot start are failures, each with its reason.
//!
//! The way out of shell scripts, not the way in: `baton convert` and
//! `--allow-exec` use it for scripts that match no other builtin.
//!
//! Settings: `remedy` (required).

use baton_guest::clock::Instant;
use baton_guest::{Facts, Policy, ProbeError, Result, Settings, Verdict, failed, healthy, remedy};

struct Exec;

impl Policy for Exec {
    fn check(settings: &Settings, _facts: &Facts) -> Result<Verdict> {
        let name = settings.require("remedy")?;
        let started = Instant::now();
        Ok(match remedy::run(name) {
            Ok(0) => healthy(),
            Ok(code) => failed(format!("{name}: exit code {code}")),
            // The host kills the process group at the remedy's timeout (or
            // the evaluation's budget, whichever comes first).
            Err(ProbeError::Timeout) => {
                let ms = started.elapsed().as_millis();
                failed(format!("{name}: timed out after {ms} ms (killed)"))
            }
            Err(e) => failed(format!("{name}: {}", baton_guest::Error::from(e))),
        })
    }
}

baton_guest::export_health!(Exec);
