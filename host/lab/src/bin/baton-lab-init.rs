//! baton-lab-init: a PID namespace, with a mount namespace and a /proc of its
//! own, for one lab host, so that what runs on the host sees only the host's
//! processes (`ps -C nginx`, `pidof`, `killall -0`, anything that reads /proc).
//!
//! * `baton-lab-init hold [--private-tmp KEEP]`: makes the namespace. Its
//!   child is the namespace's PID 1: it mounts a fresh /proc (and with
//!   `--private-tmp`, a tmpfs on /tmp with the directory KEEP, which lives
//!   under /tmp, bound back in at its place: each host has its own /tmp, as
//!   separate machines do), reaps every orphan (a zombie nginx still matches
//!   `ps -C nginx`) and exits on SIGTERM, SIGINT or SIGHUP, whereupon the
//!   kernel kills everything left in the namespace. Once PID 1 is ready,
//!   `hold` prints PID 1's pid (as seen from outside) on one line of stdout,
//!   forwards the signals it gets to it and exits with its status.
//! * `baton-lab-init enter PID -- CMD [ARG]...`: runs CMD in the network,
//!   mount and PID namespaces of process PID (a holder's PID 1), forwards the
//!   signals it gets to CMD and exits as CMD exits (the same code, or killed
//!   by the same signal): to whoever started it, it behaves as CMD does. CMD
//!   gets SIGKILL if this process dies first.
//!
//! Not util-linux: `unshare --fork` (2.38.1) blocks SIGTERM and SIGINT in the
//! parent it leaves behind, so signalling it does nothing, and `nsenter`
//! forwards no signal to the process it forks.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::signal::{SigSet, Signal, kill, raise};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpid, getppid};

/// What a parent passes on to its child: everything a daemon is told with.
const FORWARDED: [Signal; 9] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGWINCH,
    Signal::SIGCONT,
];

fn main() {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mode = args.first().and_then(|a| a.to_str()).unwrap_or("");
    let result = match (mode, args.get(1..).unwrap_or_default()) {
        ("hold", keep) if keep_arg(keep).is_some() => hold(keep),
        ("pid1", keep) if keep_arg(keep).is_some() => pid1(keep_arg(keep).flatten()),
        ("enter", [pid, dashes, cmd @ ..]) if dashes == "--" && !cmd.is_empty() => enter(pid, cmd),
        ("child", [dashes, cmd @ ..]) if dashes == "--" && !cmd.is_empty() => child(cmd),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "usage: baton-lab-init hold [--private-tmp DIR] | baton-lab-init enter PID -- CMD [ARG]...",
        )),
    };
    if let Err(e) = result {
        let _ = writeln!(io::stderr(), "baton-lab-init {mode}: {e}");
        std::process::exit(127);
    }
}

/// `[--private-tmp DIR]`: Some(None) without it, Some(Some(DIR)) with it,
/// None for anything else.
fn keep_arg(args: &[OsString]) -> Option<Option<&Path>> {
    match args {
        [] => Some(None),
        [flag, dir] if flag == "--private-tmp" => Some(Some(Path::new(dir))),
        _ => None,
    }
}

/// The signals a forwarder waits for: the forwarded ones and SIGCHLD.
fn forwarder_mask() -> SigSet {
    let mut set = SigSet::empty();
    for s in FORWARDED {
        set.add(s);
    }
    set.add(Signal::SIGCHLD);
    set
}

/// `hold`: a new PID namespace whose PID 1 is `pid1`.
fn hold(keep: &[OsString]) -> io::Result<()> {
    let exe = std::env::current_exe()?;
    // Blocked before the child exists, so that no signal is lost. The child
    // inherits the mask (std does not clear it) and sets its own.
    let mask = forwarder_mask();
    mask.thread_block()?;
    unshare(CloneFlags::CLONE_NEWPID)?;
    let mut child = Command::new(exe)
        .arg("pid1")
        .args(keep)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut ready = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut ready)?;
    }
    if ready.trim() != "ready" {
        let status = child.wait()?;
        return Err(io::Error::other(format!("PID 1 did not come up ({status})")));
    }
    let mut stdout = io::stdout();
    writeln!(stdout, "{}", child.id())?;
    stdout.flush()?;
    forward_until_exit(child, &mask)
}

/// `pid1`: PID 1 of the namespace: a /proc of its own, then reap until told
/// to stop.
fn pid1(keep: Option<&Path>) -> io::Result<()> {
    if getpid().as_raw() != 1 {
        return Err(io::Error::other("not PID 1 of a new PID namespace"));
    }
    // Should `hold` die, the namespace goes with it.
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
    unshare(CloneFlags::CLONE_NEWNS)?;
    // Private, so the new /proc never propagates to the root namespace.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )?;
    if let Some(keep) = keep {
        private_tmp(keep)?;
    }
    let mut mask = SigSet::empty();
    for s in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        mask.add(s);
    }
    // Blocked signals reach PID 1 even without a handler; the rest of what
    // `hold` blocked is let through again.
    mask.thread_set_mask()?;
    let mut stdout = io::stdout();
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    loop {
        match mask.wait()? {
            Signal::SIGCHLD => reap_all(),
            // Exiting kills the namespace: every process left gets SIGKILL.
            _ => return Ok(()),
        }
    }
}

/// A tmpfs on /tmp, with `keep` (the lab's directory, under /tmp) bound
/// back at its place, reached through a descriptor opened before the tmpfs
/// hides it.
fn private_tmp(keep: &Path) -> io::Result<()> {
    let inside = keep.strip_prefix("/tmp").map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("--private-tmp {}: not under /tmp", keep.display()),
        )
    })?;
    let dir = File::open(keep)?;
    mount(
        Some("tmpfs"),
        "/tmp",
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=1777"),
    )?;
    let target = Path::new("/tmp").join(inside);
    std::fs::create_dir_all(&target)?;
    let source = format!("/proc/self/fd/{}", dir.as_raw_fd());
    mount(
        Some(source.as_str()),
        &target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )?;
    Ok(())
}

/// Reaps every child that has exited (orphans are re-parented to PID 1).
fn reap_all() {
    while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

/// `enter PID -- CMD...`: CMD in PID's namespaces, as a child that dies with us.
fn enter(pid: &OsString, cmd: &[OsString]) -> io::Result<()> {
    let pid = pid
        .to_str()
        .and_then(|p| p.parse::<u32>().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "PID must be a number"))?;
    // Everything from the root /proc first: after entering the mount
    // namespace, /proc is the host's and shows neither PID nor us.
    let exe = std::env::current_exe()?;
    let cwd = std::env::current_dir()?;
    let ns = |kind: &str| File::open(Path::new("/proc").join(pid.to_string()).join("ns").join(kind));
    let (net, pidns, mnt) = (ns("net")?, ns("pid")?, ns("mnt")?);
    setns(&net, CloneFlags::CLONE_NEWNET)?;
    setns(&pidns, CloneFlags::CLONE_NEWPID)?;
    setns(&mnt, CloneFlags::CLONE_NEWNS)?;
    // Entering a mount namespace moves to its root directory.
    std::env::set_current_dir(&cwd)?;
    let mask = forwarder_mask();
    mask.thread_block()?;
    let child = Command::new(exe).arg("child").arg("--").args(cmd).spawn()?;
    forward_until_exit(child, &mask)
}

/// `child -- CMD...`: inside the namespace, exec CMD so that it dies with
/// the `enter` process that started it.
fn child(cmd: &[OsString]) -> io::Result<()> {
    // The mask survives exec: CMD must not start with the forwarder's.
    SigSet::empty().thread_set_mask()?;
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
    // The parent is outside the namespace (ppid 0); 1 means it is gone.
    if getppid().as_raw() != 0 {
        return Err(io::Error::other("the enter process died before the exec"));
    }
    let err = Command::new(&cmd[0]).args(&cmd[1..]).exec();
    Err(io::Error::new(
        err.kind(),
        format!("exec {}: {err}", cmd[0].to_string_lossy()),
    ))
}

/// Passes every signal in `mask` but SIGCHLD on to `child` until it exits,
/// then exits the same way.
fn forward_until_exit(mut child: Child, mask: &SigSet) -> io::Result<()> {
    let pid = Pid::from_raw(i32::try_from(child.id()).map_err(io::Error::other)?);
    loop {
        match mask.wait()? {
            Signal::SIGCHLD => {
                if let Some(status) = child.try_wait()? {
                    exit_like(status);
                }
            }
            sig => {
                let _ = kill(pid, sig);
            }
        }
    }
}

/// Exits with `status`'s code, or dies of its signal.
fn exit_like(status: ExitStatus) -> ! {
    if let Some(code) = status.code() {
        std::process::exit(code);
    }
    let sig = status.signal().unwrap_or(0);
    if let Ok(s) = Signal::try_from(sig) {
        // No handler was ever installed: unblocked, the default action runs.
        let mut set = SigSet::empty();
        set.add(s);
        let _ = set.thread_unblock();
        let _ = raise(s);
    }
    std::process::exit(128 + sig);
}
