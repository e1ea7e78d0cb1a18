//! `system.process-count` and `system.process-running`: live processes whose
//! `comm` is a given name, from /proc.
//!
//! A full count opens /proc/PID/comm for every process (hundreds of µs on a
//! busy host). Health checks mostly ask "is nginx still there", so the
//! [`ProcessTable`] keeps the /proc/PID/stat file of each process it found and
//! answers `process-running` by re-reading those (one `pread` each): the open
//! file belongs to that process, so a reused pid reads as gone, and the read
//! gives both the name (which an exec changes) and the state (a zombie is not
//! running). Only when the remembered processes are not enough does it scan.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::caps::Deadline;

/// The kernel keeps at most 15 bytes of a command name.
const COMM_LEN: usize = 15;
/// Processes remembered per name (each holds one open file).
const KEEP_PER_NAME: usize = 16;
/// Names remembered; beyond it the table forgets one to make room.
const KEEP_NAMES: usize = 64;

/// One process found by a scan: its open /proc/PID/stat.
#[derive(Debug)]
struct Known {
    stat: File,
}

/// What /proc/PID/stat says about a process.
#[derive(Debug, PartialEq, Eq)]
struct Stat<'a> {
    comm: &'a [u8],
    state: u8,
}

/// `PID (COMM) S ...`: COMM may hold spaces and parentheses, so it ends at
/// the last `)`.
fn parse_stat(buf: &[u8]) -> Option<Stat<'_>> {
    let open = buf.iter().position(|&b| b == b'(')?;
    let close = buf.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let state = *buf.get(close + 2)?;
    Some(Stat {
        comm: &buf[open + 1..close],
        state,
    })
}

/// Zombie (`Z`) and dead (`X`, `x`) processes have exited.
fn live(state: u8) -> bool {
    !matches!(state, b'Z' | b'X' | b'x')
}

fn want(name: &str) -> &[u8] {
    &name.as_bytes()[..name.len().min(COMM_LEN)]
}

/// Whether the process behind `stat` still runs under the name `want`.
fn still(stat: &File, want: &[u8]) -> bool {
    let mut buf = [0u8; 512];
    match stat.read_at(&mut buf, 0) {
        Ok(n) => parse_stat(&buf[..n]).is_some_and(|s| s.comm == want && live(s.state)),
        Err(_) => false,
    }
}

/// Processes by name, shared by every evaluation of an engine.
#[derive(Debug)]
pub struct ProcessTable {
    root: PathBuf,
    known: Mutex<HashMap<Vec<u8>, Vec<Known>>>,
}

impl Default for ProcessTable {
    fn default() -> Self {
        Self::new(Path::new("/proc"))
    }
}

impl ProcessTable {
    /// A table over `root` (normally `/proc`).
    pub fn new(root: &Path) -> Self {
        ProcessTable {
            root: root.to_path_buf(),
            known: Mutex::new(HashMap::new()),
        }
    }

    /// Whether at least `at_least` live processes named `name` (compared as
    /// the kernel stores it: the first 15 bytes) run. Re-reads the processes
    /// found last time first; scans /proc only when they are not enough.
    pub fn running(&self, name: &str, at_least: u32, deadline: Deadline) -> bool {
        if at_least == 0 {
            return true;
        }
        if name.is_empty() {
            return false;
        }
        let want = want(name);
        // Taken out so a scan does not hold the lock; another evaluation that
        // asks meanwhile scans for itself.
        let mut known = self.lock().remove(want).unwrap_or_default();
        known.retain(|k| still(&k.stat, want));
        if known.len() >= at_least as usize {
            self.remember(want, known);
            return true;
        }
        self.count(name, deadline) >= at_least
    }

    /// Counts live processes named `name`, scanning all of /proc (stops early,
    /// with the count so far, if the budget runs out), and remembers them.
    pub fn count(&self, name: &str, deadline: Deadline) -> u32 {
        if name.is_empty() {
            return 0;
        }
        let want = want(name);
        let Ok(dir) = fs::read_dir(&self.root) else {
            return 0;
        };
        let mut n = 0u32;
        let mut found = Vec::new();
        for entry in dir.flatten() {
            let file_name = entry.file_name();
            let Some(pid) = file_name.to_str() else { continue };
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if deadline.remaining().is_zero() {
                break;
            }
            // One open and one read into a stack buffer (fs::read would also
            // stat the file and read twice): this runs for every process.
            let path = entry.path();
            let mut buf = [0u8; 64];
            let Ok(mut f) = File::open(path.join("comm")) else {
                continue;
            };
            let Ok(len) = f.read(&mut buf) else { continue };
            let comm = &buf[..len];
            if comm.strip_suffix(b"\n").unwrap_or(comm) != want {
                continue;
            }
            // The name matches: is it alive (not a zombie)? Keep the file.
            let Ok(stat) = File::open(path.join("stat")) else {
                continue;
            };
            if still(&stat, want) {
                n = n.saturating_add(1);
                if found.len() < KEEP_PER_NAME {
                    found.push(Known { stat });
                }
            }
        }
        self.remember(want, found);
        n
    }

    fn remember(&self, want: &[u8], known: Vec<Known>) {
        let mut table = self.lock();
        if known.is_empty() {
            table.remove(want);
            return;
        }
        if table.len() >= KEEP_NAMES
            && !table.contains_key(want)
            && let Some(victim) = table.keys().next().cloned()
        {
            table.remove(&victim);
        }
        table.insert(want.to_vec(), known);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Vec<Known>>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Processes remembered for `name` (tests).
    #[cfg(test)]
    fn remembered(&self, name: &str) -> usize {
        self.lock().get(want(name)).map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command};
    use std::time::Duration;

    fn d() -> Deadline {
        Deadline::after(Duration::from_secs(5))
    }

    fn own_comm() -> String {
        fs::read_to_string("/proc/self/comm")
            .unwrap()
            .trim_end()
            .to_string()
    }

    /// A child process that has exec'd and runs under `name` (a copy of sleep).
    fn spawn_named(dir: &Path, name: &str) -> Child {
        let exe = dir.join(name);
        if !exe.exists() {
            fs::copy("/bin/sleep", &exe).unwrap();
        }
        let mut child = Command::new(&exe).arg("60").spawn().unwrap();
        // Between fork and exec the child still has our name.
        let want = &name.as_bytes()[..name.len().min(COMM_LEN)];
        for _ in 0..200 {
            if let Ok(c) = fs::read(format!("/proc/{}/comm", child.id()))
                && c.strip_suffix(b"\n") == Some(want)
            {
                return child;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("{name} did not start");
    }

    fn tmp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("baton-proc-{tag}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn finds_this_process() {
        let t = ProcessTable::default();
        assert!(t.count(&own_comm(), d()) >= 1);
        assert!(t.running(&own_comm(), 1, d()));
        assert_eq!(t.count("no-such-process-baton", d()), 0);
        assert!(!t.running("no-such-process-baton", 1, d()));
        assert_eq!(t.count("", d()), 0);
        assert!(t.running("", 0, d()));
        assert!(!t.running("", 1, d()));
    }

    #[test]
    fn stat_lines_parse() {
        let s = parse_stat(b"42 (a (b) c) S 1 2 3").unwrap();
        assert_eq!((s.comm, s.state), (&b"a (b) c"[..], b'S'));
        assert_eq!(parse_stat(b"42 (x) Z 1").unwrap().state, b'Z');
        assert_eq!(parse_stat(b"42 x) S"), None);
        assert_eq!(parse_stat(b"42 (x)"), None);
        assert!(live(b'S') && live(b'R') && live(b'D') && !live(b'Z') && !live(b'X'));
    }

    #[test]
    fn long_names_compare_truncated() {
        let dir = tmp("fake");
        fs::create_dir_all(dir.join("42")).unwrap();
        fs::create_dir_all(dir.join("self")).unwrap();
        fs::write(dir.join("42/comm"), "a-very-long-nam\n").unwrap();
        fs::write(dir.join("42/stat"), "42 (a-very-long-nam) S 1 1 1\n").unwrap();
        fs::write(dir.join("self/comm"), "a-very-long-nam\n").unwrap();
        fs::create_dir_all(dir.join("43")).unwrap();
        fs::write(dir.join("43/comm"), "a-very-long-nam\n").unwrap();
        fs::write(dir.join("43/stat"), "43 (a-very-long-nam) Z 1 1 1\n").unwrap();
        let t = ProcessTable::new(&dir);
        // 43 is a zombie; `self` is not a pid.
        assert_eq!(t.count("a-very-long-name-indeed", d()), 1);
        assert!(t.running("a-very-long-name-indeed", 1, d()));
        assert!(!t.running("a-very-long-name-indeed", 2, d()));
        fs::remove_dir_all(&dir).unwrap();
    }

    /// The remembered processes answer without a scan while they live; a
    /// death, a zombie, or an exec into another name is seen at once; a new
    /// process is found by the scan that follows.
    #[test]
    fn remembered_processes_are_rechecked() {
        let dir = tmp("real");
        let name = format!("bt-{}", std::process::id() % 100_000);
        let t = ProcessTable::default();
        assert!(!t.running(&name, 1, d()));
        let mut a = spawn_named(&dir, &name);
        assert!(t.running(&name, 1, d()));
        assert_eq!(t.remembered(&name), 1);
        let mut b = spawn_named(&dir, &name);
        // One remembered process is enough for 1 without a scan...
        assert!(t.running(&name, 1, d()));
        assert_eq!(t.remembered(&name), 1);
        // ...and 2 scans and finds the second.
        assert!(t.running(&name, 2, d()));
        assert_eq!(t.remembered(&name), 2);
        // A zombie (killed, not yet reaped) does not count.
        a.kill().unwrap();
        for _ in 0..200 {
            if !t.running(&name, 2, d()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!t.running(&name, 2, d()));
        assert!(t.running(&name, 1, d()));
        a.wait().unwrap();
        b.kill().unwrap();
        b.wait().unwrap();
        assert!(!t.running(&name, 1, d()));
        assert_eq!(t.count(&name, d()), 0);
        assert_eq!(t.remembered(&name), 0);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn exec_into_another_name_is_seen() {
        let dir = tmp("exec");
        let name = format!("bx-{}", std::process::id() % 100_000);
        let exe = dir.join(&name);
        fs::copy("/bin/sh", &exe).unwrap();
        let mut c = Command::new(&exe)
            .args(["-c", "read _ ; exec /bin/sleep 60"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let t = ProcessTable::default();
        let mut seen = false;
        for _ in 0..200 {
            if t.running(&name, 1, d()) {
                seen = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(seen, "{name} not found");
        assert_eq!(t.remembered(&name), 1);
        // Let it exec: the same process now runs as `sleep`.
        use std::io::Write;
        c.stdin.take().unwrap().write_all(b"go\n").unwrap();
        let mut gone = false;
        for _ in 0..200 {
            if !t.running(&name, 1, d()) {
                gone = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(gone, "{name} still reported after exec");
        assert!(
            fs::read_to_string(format!("/proc/{}/comm", c.id()))
                .unwrap()
                .starts_with("sleep")
        );
        c.kill().unwrap();
        c.wait().unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }
}
