//! A PID namespace per lab host ([`crate::LabSpec::helpers`]): each node's
//! PID 1 is `baton-lab-init hold` (src/bin/baton-lab-init.rs), which gives
//! the host a /proc and a /tmp of its own and reaps its orphans, and every
//! command for the host enters it with `baton-lab-init enter`, a forwarder
//! that passes signals on and exits as the command does. So what runs on one
//! host (a daemon, its scripts, the host's nginx) sees that host's processes
//! only, and [`crate::LabProcess`] stops, signals and kills it as before.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// The init's file name in the helpers' directory.
pub(crate) const INIT: &str = "baton-lab-init";

/// Starts `baton-lab-init hold` in network namespace `netns`, with a private
/// /tmp that keeps `keep` (the lab's directory); returns the holder and the
/// pid of the namespace's PID 1 (as this process sees it) once PID 1 is ready.
pub(crate) fn start_init(helpers: &Path, netns: &str, keep: &Path) -> io::Result<(Child, u32)> {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", netns])
        .arg(helpers.join(INIT))
        .arg("hold");
    // Without /tmp in its path the lab's directory cannot be kept.
    if keep.starts_with("/tmp") {
        cmd.arg("--private-tmp").arg(keep);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    match line.trim().parse::<u32>() {
        Ok(pid) => Ok((child, pid)),
        Err(_) => {
            let _ = child.kill();
            let status = child.wait()?;
            Err(io::Error::other(format!(
                "{} hold in {netns} did not come up ({status}): {line:?}",
                helpers.join(INIT).display()
            )))
        }
    }
}

/// `baton-lab-init enter PID1 -- args...`: `args` inside the host whose PID 1
/// is `pid1`.
pub(crate) fn enter_command<S: AsRef<OsStr>>(helpers: &Path, pid1: u32, args: &[S]) -> Command {
    let mut cmd = Command::new(helpers.join(INIT));
    cmd.arg("enter").arg(pid1.to_string()).arg("--").args(args);
    cmd
}

/// Stops a holder: SIGTERM (PID 1 exits and the kernel kills the namespace),
/// SIGKILL to its group after 2 s, then reaps it.
pub(crate) fn stop_init(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = child.wait();
}

/// The processes of process group `pgid` other than its leader, from /proc.
///
/// Killing an `enter` forwarder together with its command would hand the
/// command's corpse to the root namespace's init (its parent is outside the
/// host's namespace), where it lingers as a zombie that `ps -C` still counts
/// for a while; killing these first lets the forwarder reap it and exit.
pub(crate) fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != pgid && stat_pgrp(pid) == Some(pgid))
        .collect()
}

/// Field 5 of /proc/PID/stat (`PID (COMM) STATE PPID PGRP ...`).
fn stat_pgrp(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_s_members_are_found_without_its_leader() {
        let mut leader = Command::new("sh")
            .args(["-c", "sleep 5 & wait"])
            .process_group(0)
            .spawn()
            .expect("sh");
        let pgid = leader.id();
        let found = crate::wait_until(Duration::from_secs(2), Duration::from_millis(5), || {
            !group_members(pgid).is_empty()
        });
        let members = group_members(pgid);
        let _ = killpg(Pid::from_raw(pgid as i32), Signal::SIGKILL);
        let _ = leader.wait();
        assert!(found, "the sleep in group {pgid} was not found");
        assert!(!members.contains(&pgid), "{members:?} holds the leader");
        assert_eq!(members.len(), 1, "{members:?}");
        assert_eq!(stat_pgrp(std::process::id()).map(|g| g == pgid), Some(false));
    }
}
