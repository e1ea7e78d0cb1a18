//! `remedy.run`: a command the config names, run without a shell, in its own process
//! group, killed (the whole group) when its timeout or the budget runs out.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{CapError, Deadline};
use crate::grants::Grants;

/// Runs remedy `name`; returns its exit code (128+signal if killed by a signal).
pub fn run(grants: &Grants, deadline: Deadline, name: &str) -> Result<i32, CapError> {
    let remedy = grants
        .remedies
        .get(name)
        .ok_or_else(|| CapError::Denied(format!("no remedy named {name:?} in the config")))?;
    let timeout = remedy.timeout.min(deadline.remaining());
    if timeout.is_zero() {
        return Err(CapError::Timeout);
    }
    let end = Instant::now() + timeout;
    let mut child = Command::new(&remedy.argv[0])
        .args(&remedy.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
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

#[cfg(test)]
mod tests {
    use super::*;

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
