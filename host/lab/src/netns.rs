//! Entering a named network namespace from a thread.

use std::fs::File;
use std::io;
use std::path::PathBuf;

use nix::sched::{CloneFlags, setns};

/// Where `ip netns add NAME` pins the namespace.
pub fn netns_path(name: &str) -> PathBuf {
    PathBuf::from("/run/netns").join(name)
}

/// Moves the *calling thread* into the named network namespace (one made by
/// `ip netns add`). Sockets the thread creates afterwards live there. Use it
/// on a dedicated thread: the rest of the process stays where it was.
pub fn enter_netns(name: &str) -> io::Result<()> {
    let file = File::open(netns_path(name))?;
    setns(&file, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)
}
