//! A long-running program inside a lab host, with its output in a log file:
//! keepalived, the `baton` daemon, a service. On an isolated host the
//! process this holds is the `baton-lab-init enter` forwarder, which passes
//! signals on and exits as the program does, so nothing here changes but
//! the order of a kill (see [`LabProcess::kill`]).

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use super::{Lab, pidns, wait_until};

/// A program started with [`LabProcess::start`]: it leads its own process
/// group (so its children go with it), its stdout and stderr go to a log
/// file, and it is killed when dropped (and when the lab is).
#[derive(Debug)]
pub struct LabProcess {
    host: String,
    log: PathBuf,
    child: Option<Child>,
    /// Started through a forwarder into the host's PID namespace.
    isolated: bool,
}

impl LabProcess {
    /// Runs `args` in `host`, stdout and stderr appended to `log`.
    pub fn start<S: AsRef<OsStr>>(lab: &Lab, host: &str, args: &[S], log: &Path) -> io::Result<LabProcess> {
        let child = lab.spawn_logged(host, args, log)?;
        Ok(LabProcess {
            host: host.to_string(),
            log: log.to_path_buf(),
            child: Some(child),
            isolated: lab.is_isolated(host),
        })
    }

    /// The host it runs in.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Its pid (also its process group id; on an isolated host, the
    /// forwarder's); None once stopped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether it still runs.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Its log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Everything it wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, Duration::from_millis(20), || self.log().contains(needle))
    }

    /// Sends `sig` to the process (not its group).
    pub fn signal(&self, sig: Signal) -> io::Result<()> {
        let Some(child) = self.child.as_ref() else {
            return Err(io::Error::new(io::ErrorKind::NotFound, "process already stopped"));
        };
        kill(pid_of(child)?, sig).map_err(io::Error::from)
    }

    /// Clean stop: SIGTERM, wait up to `grace`, then SIGKILL the process
    /// group (an error says it had to). Either way the whole group is gone
    /// afterwards. Returns the exit status.
    pub fn stop_within(&mut self, grace: Duration) -> io::Result<std::process::ExitStatus> {
        let Some(mut child) = self.child.take() else {
            return Err(io::Error::new(io::ErrorKind::NotFound, "process already stopped"));
        };
        let pid = pid_of(&child)?;
        if matches!(child.try_wait(), Ok(None)) {
            let _ = kill(pid, Signal::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                // The leader is gone; make sure its children are too.
                let _ = killpg(pid, Signal::SIGKILL);
                return Ok(status);
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.kill_group(&mut child)?;
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("process did not stop within {grace:?} of SIGTERM; killed"),
        ))
    }

    /// [`LabProcess::stop_within`] 5 s.
    pub fn stop(&mut self) -> io::Result<std::process::ExitStatus> {
        self.stop_within(Duration::from_secs(5))
    }

    /// Crash: SIGKILL to the whole process group, then reap. On an isolated
    /// host the program and its group go first and the forwarder, which
    /// reaps the program and then exits, last.
    pub fn kill(&mut self) -> io::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        self.kill_group(&mut child)
    }

    fn kill_group(&self, child: &mut Child) -> io::Result<()> {
        let pid = pid_of(child)?;
        if self.isolated {
            for member in pidns::group_members(child.id()) {
                if let Ok(p) = i32::try_from(member) {
                    let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
                }
            }
            wait_until(Duration::from_secs(1), Duration::from_millis(2), || {
                matches!(child.try_wait(), Ok(Some(_)))
            });
        }
        let _ = killpg(pid, Signal::SIGKILL);
        child.wait()?;
        Ok(())
    }
}

impl Drop for LabProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

fn pid_of(child: &Child) -> io::Result<Pid> {
    Ok(Pid::from_raw(
        i32::try_from(child.id()).map_err(io::Error::other)?,
    ))
}
