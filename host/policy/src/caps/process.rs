//! `system.process-count`: processes whose `comm` is a given name, from /proc.

use std::fs;
use std::io::Read;
use std::path::Path;

use super::Deadline;

/// The kernel keeps at most 15 bytes of a command name.
const COMM_LEN: usize = 15;

/// Counts processes under `proc_root` (normally `/proc`) whose comm equals `name`
/// (compared as the kernel stores it: the first 15 bytes). Stops early, with the
/// count so far, if the budget runs out.
pub fn count_in(proc_root: &Path, name: &str, deadline: Deadline) -> u32 {
    if name.is_empty() {
        return 0;
    }
    let want = &name.as_bytes()[..name.len().min(COMM_LEN)];
    let Ok(dir) = fs::read_dir(proc_root) else {
        return 0;
    };
    let mut n = 0u32;
    for entry in dir.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str() else { continue };
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if deadline.remaining().is_zero() {
            break;
        }
        // One open and one read into a stack buffer: fs::read would also
        // stat the file and read twice, and this loop runs for every process.
        let mut buf = [0u8; 64];
        let Ok(mut f) = fs::File::open(entry.path().join("comm")) else {
            continue;
        };
        let Ok(len) = f.read(&mut buf) else { continue };
        let comm = &buf[..len];
        let comm = comm.strip_suffix(b"\n").unwrap_or(comm);
        if comm == want {
            n = n.saturating_add(1);
        }
    }
    n
}

pub fn count(name: &str, deadline: Deadline) -> u32 {
    count_in(Path::new("/proc"), name, deadline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn own_comm() -> String {
        fs::read_to_string("/proc/self/comm")
            .unwrap()
            .trim_end()
            .to_string()
    }

    #[test]
    fn finds_this_process() {
        let d = Deadline::after(Duration::from_secs(5));
        assert!(count(&own_comm(), d) >= 1);
        assert_eq!(count("no-such-process-baton", d), 0);
        assert_eq!(count("", d), 0);
    }

    #[test]
    fn long_names_compare_truncated() {
        let dir = std::env::temp_dir().join(format!("baton-proc-{}", std::process::id()));
        fs::create_dir_all(dir.join("42")).unwrap();
        fs::create_dir_all(dir.join("self")).unwrap();
        fs::write(dir.join("42/comm"), "a-very-long-nam\n").unwrap();
        fs::write(dir.join("self/comm"), "a-very-long-nam\n").unwrap();
        let d = Deadline::after(Duration::from_secs(5));
        assert_eq!(count_in(&dir, "a-very-long-name-indeed", d), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
