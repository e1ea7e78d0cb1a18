//! `remedy.run`: a command the config names, run without a shell, in its own process
//! group, killed (the whole group) when its timeout or the budget runs out; as the
//! remedy's user and group when it names one (std's `uid` also clears the
//! supplementary groups, with `setgroups(0)`, before `setuid`).
//!
//! State: the grants and the deadline ([`RemedyState`]). The allowlist check is
//! [`allowed`]: a policy gives a name, never a command line.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::Linker;

use super::{CapError, CapGetter, CapView, Deadline, HasCapView};
use crate::bindings::{remedy as wit, types};
use crate::grants::{Grants, Remedy};

/// The remedy the config names `name`, if any.
pub fn allowed<'g>(grants: &'g Grants, name: &str) -> Result<&'g Remedy, CapError> {
    grants
        .remedies
        .get(name)
        .ok_or_else(|| CapError::Denied(format!("no remedy named {name:?} in the config")))
}

/// Runs remedy `name`; returns its exit code (128+signal if killed by a signal).
pub fn run(grants: &Grants, deadline: Deadline, name: &str) -> Result<i32, CapError> {
    let remedy = allowed(grants, name)?;
    let timeout = remedy.timeout.min(deadline.remaining());
    if timeout.is_zero() {
        return Err(CapError::Timeout);
    }
    let end = Instant::now() + timeout;
    let mut cmd = Command::new(&remedy.argv[0]);
    cmd.args(&remedy.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if let Some(r) = remedy.run_as {
        cmd.uid(r.uid).gid(r.gid);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| CapError::Failed(format!("spawn {:?}: {e}", remedy.argv[0])))?;
    let pgid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let mut pause = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                use std::os::unix::process::ExitStatusExt;
                return Ok(status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)));
            }
            Ok(None) => {}
            Err(e) => return Err(CapError::Failed(e.to_string())),
        }
        let now = Instant::now();
        if now >= end {
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.kill();
            let _ = child.wait();
            return Err(CapError::Timeout);
        }
        std::thread::sleep(pause.min(end - now));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

/// The `remedy` of one evaluation.
#[derive(Debug)]
pub struct RemedyState {
    pub grants: Arc<Grants>,
    pub deadline: Deadline,
    /// Answers instead of running the remedy, after the same checks.
    pub script: Option<Arc<crate::script::Script>>,
}

impl wit::Host for CapView<'_, RemedyState> {
    fn run(&mut self, name: String) -> Result<i32, types::ProbeError> {
        let t0 = Instant::now();
        if let Some(s) = &self.state.script {
            let r = allowed(&self.state.grants, &name).and_then(|_| s.remedy(&name));
            return self.audit.note(&format!("remedy {name}"), r);
        }
        let r = run(&self.state.grants, self.state.deadline, &name);
        tracing::info!(policy = %self.audit.policy(), remedy = %name, result = ?r, elapsed = ?t0.elapsed(), "remedy run");
        self.audit.note(&format!("remedy {name}"), r)
    }
}

/// Links `baton:policy/remedy` to the [`RemedyState`] `get` finds in the store data.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: CapGetter<T, RemedyState>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasCapView<RemedyState>>(linker, get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wit::Host as _;

    fn grants() -> Grants {
        Grants::default()
            .remedy("ok", vec!["true".into()], Duration::from_secs(5))
            .unwrap()
            .remedy(
                "exit3",
                vec!["sh".into(), "-c".into(), "exit 3".into()],
                Duration::from_secs(5),
            )
            .unwrap()
            .remedy(
                "hang",
                vec!["sleep".into(), "10".into()],
                Duration::from_millis(100),
            )
            .unwrap()
            .remedy(
                "missing",
                vec!["/nonexistent/baton-remedy".into()],
                Duration::from_secs(1),
            )
            .unwrap()
    }

    #[test]
    fn exit_codes() {
        let d = Deadline::after(Duration::from_secs(5));
        assert_eq!(run(&grants(), d, "ok"), Ok(0));
        assert_eq!(run(&grants(), d, "exit3"), Ok(3));
        assert!(matches!(run(&grants(), d, "missing"), Err(CapError::Failed(_))));
    }

    #[test]
    fn unnamed_is_denied() {
        let d = Deadline::after(Duration::from_secs(5));
        assert!(matches!(run(&grants(), d, "rm -rf /"), Err(CapError::Denied(_))));
    }

    /// Only names from the config; a command line or a near miss is no name.
    #[test]
    fn allowlist_is_by_exact_name() {
        let g = grants();
        assert_eq!(allowed(&g, "ok").unwrap().argv, ["true"]);
        for n in ["", "OK", "ok ", "true", "/bin/true", "sh -c 'exit 3'"] {
            assert!(matches!(allowed(&g, n), Err(CapError::Denied(_))), "{n:?}");
        }
        assert!(matches!(
            allowed(&Grants::default(), "ok"),
            Err(CapError::Denied(_))
        ));
    }

    /// A guest asking for an unknown remedy gets `denied`, recorded, and
    /// nothing runs.
    #[test]
    fn unknown_name_from_a_guest_is_audited() {
        let mut state = RemedyState {
            grants: Arc::new(grants()),
            deadline: Deadline::after(Duration::from_secs(5)),
            script: None,
        };
        let mut audit = crate::caps::tests::audit();
        let mut v = CapView::new(&mut state, &mut audit);
        assert!(matches!(v.run("ok".into()), Ok(0)));
        assert!(matches!(
            v.run("reboot".into()),
            Err(types::ProbeError::Denied(_))
        ));
        assert_eq!(
            audit.denials(),
            [r#"remedy reboot: no remedy named "reboot" in the config"#]
        );
    }

    #[test]
    fn killed_on_timeout_and_budget() {
        let t0 = Instant::now();
        assert_eq!(
            run(&grants(), Deadline::after(Duration::from_secs(5)), "hang"),
            Err(CapError::Timeout)
        );
        assert!(t0.elapsed() < Duration::from_millis(500));
        let g = Grants::default()
            .remedy("hang", vec!["sleep".into(), "10".into()], Duration::from_secs(60))
            .unwrap();
        let t0 = Instant::now();
        assert_eq!(
            run(&g, Deadline::after(Duration::from_millis(50)), "hang"),
            Err(CapError::Timeout)
        );
        assert!(t0.elapsed() < Duration::from_millis(300));
    }
}
