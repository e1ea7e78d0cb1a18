//! The sysctls a run changed and must put back, kept in a file beside the
//! control socket: a run that ends without putting them back (SIGKILL,
//! the OOM killer, a crash) leaves the file, and the next start puts them
//! back before it changes anything. keepalived leaves them changed; with
//! `all.rp_filter` lifted for a macvlan that weakens every interface's
//! reverse-path filter until reboot.
//!
//! The file is written before a change (so it is never missing one) and
//! removed once everything is put back. It names the network namespace it
//! belongs to: sysctls under net/ are per namespace, and a file from
//! another one is not ours to apply. /run is a tmpfs, so a reboot (which
//! puts every sysctl back anyway) clears it.

use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::context;

const HEADER: &str = "# baton: sysctls to put back (written by `baton run`, removed when it stops)";
/// Only network sysctls: the file is never a way to write anything else.
const ROOT: &str = "/proc/sys/net/";

/// One sysctl to put back: its /proc/sys path and the value it had.
pub(crate) type Entry = (String, String);

/// The journal's file, or none (nothing is kept).
#[derive(Debug, Default)]
pub(crate) struct Journal {
    path: Option<PathBuf>,
}

/// This process's network namespace, as /proc names it (`net:[4026531840]`).
fn netns() -> io::Result<String> {
    let link =
        std::fs::read_link("/proc/self/ns/net").map_err(|e| context(e, "reading /proc/self/ns/net"))?;
    Ok(link.to_string_lossy().into_owned())
}

impl Journal {
    pub(crate) fn at(path: PathBuf) -> Journal {
        Journal { path: Some(path) }
    }

    /// Writes `entries` (replacing the file whole), or removes the file
    /// when there are none.
    pub(crate) fn write(&self, entries: &[Entry]) -> io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let what = || format!("writing {}", path.display());
        if entries.is_empty() {
            return match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    Err(context(e, format!("removing {}", path.display())))
                }
                _ => Ok(()),
            };
        }
        let mut text = format!("{HEADER}\nnetns {}\n", netns()?);
        for (key, value) in entries {
            text.push_str(&format!("{key} {value}\n"));
        }
        let tmp = path.with_extension("new");
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| context(e, what()))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| context(e, what()))?;
        std::fs::rename(&tmp, path).map_err(|e| context(e, what()))
    }

    /// Puts back what an earlier run left in the file and removes it.
    /// Returns `KEY=VALUE` for each sysctl put back; a key whose interface
    /// is gone is skipped (it took its settings with it).
    ///
    /// # Errors
    /// A file that others may write or another user owns, from another
    /// network namespace, or not in the journal's format: it is left as it
    /// is and nothing is applied.
    pub(crate) fn recover(&self) -> io::Result<Vec<String>> {
        let Some(path) = &self.path else {
            return Ok(Vec::new());
        };
        let text = match read_own(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let bad =
            |why: String| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {why}", path.display()));
        let entries = parse(&text, &netns()?).map_err(bad)?;
        let mut done = Vec::new();
        for (key, value) in &entries {
            match std::fs::write(key, value) {
                Ok(()) => done.push(format!("{}={value}", dotted(key))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(context(e, format!("writing {value} to {key}"))),
            }
        }
        self.write(&[])?;
        Ok(done)
    }
}

/// The file's text, if this process's user owns it and nobody else may
/// write it.
fn read_own(path: &Path) -> io::Result<String> {
    let meta = std::fs::symlink_metadata(path)?;
    let me = nix::unistd::geteuid().as_raw();
    if !meta.is_file() || meta.uid() != me || meta.mode() & 0o022 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{}: not a regular file of uid {me} that only it may write (uid {}, mode {:o}): not applied",
                path.display(),
                meta.uid(),
                meta.mode() & 0o7777
            ),
        ));
    }
    std::fs::read_to_string(path).map_err(|e| context(e, format!("reading {}", path.display())))
}

/// The entries of a journal written in network namespace `ns`.
fn parse(text: &str, ns: &str) -> Result<Vec<Entry>, String> {
    let mut lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    match lines.next().and_then(|l| l.strip_prefix("netns ")) {
        Some(theirs) if theirs == ns => {}
        Some(theirs) => {
            return Err(format!(
                "written in network namespace {theirs}, this is {ns}: not applied"
            ));
        }
        None => return Err("no netns line: not applied".to_string()),
    }
    lines
        .map(|l| {
            let (key, value) = l
                .rsplit_once(' ')
                .ok_or_else(|| format!("{l:?}: not `PATH VALUE`"))?;
            let inside = key
                .strip_prefix(ROOT)
                .ok_or_else(|| format!("{key}: not under {ROOT}"))?;
            if inside.split('/').any(|c| c.is_empty() || c == "." || c == "..") || value.is_empty() {
                return Err(format!("{l:?}: not a sysctl and its value"));
            }
            Ok((key.to_string(), value.to_string()))
        })
        .collect()
}

/// `/proc/sys/net/ipv4/conf/all/rp_filter` as sysctl names it
/// (`net.ipv4.conf.all.rp_filter`; a dot in an interface name is a slash).
fn dotted(key: &str) -> String {
    key.trim_start_matches("/proc/sys/")
        .split('/')
        .map(|c| c.replace('.', "/"))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "net:[4026531840]";

    #[test]
    fn a_journal_reads_back_in_its_own_namespace_only() {
        let text = format!(
            "{HEADER}\nnetns {NS}\n/proc/sys/net/ipv4/conf/all/rp_filter 2\n/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore 0\n"
        );
        assert_eq!(
            parse(&text, NS).unwrap(),
            vec![
                (
                    "/proc/sys/net/ipv4/conf/all/rp_filter".to_string(),
                    "2".to_string()
                ),
                (
                    "/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore".to_string(),
                    "0".to_string()
                ),
            ]
        );
        let other = parse(&text, "net:[4026532000]").unwrap_err();
        assert!(
            other.contains("written in network namespace net:[4026531840]"),
            "{other}"
        );
        assert!(
            parse("/proc/sys/net/x 1\n", NS)
                .unwrap_err()
                .contains("no netns line")
        );
    }

    #[test]
    fn a_journal_writes_network_sysctls_only() {
        for line in [
            "/proc/sys/kernel/core_pattern |sh",
            "/proc/sys/net/../kernel/x 1",
            "/proc/sys/net/ipv4//x 1",
            "/etc/passwd x",
            "nospace",
        ] {
            let text = format!("netns {NS}\n{line}\n");
            assert!(parse(&text, NS).is_err(), "{line}");
        }
    }

    #[test]
    fn keys_read_as_sysctl_names_them() {
        assert_eq!(
            dotted("/proc/sys/net/ipv4/conf/all/rp_filter"),
            "net.ipv4.conf.all.rp_filter"
        );
        assert_eq!(
            dotted("/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore"),
            "net.ipv4.conf.vrrp/51.arp_ignore"
        );
    }

    #[test]
    fn written_then_recovered_it_is_gone() {
        let dir = std::env::temp_dir().join(format!("baton-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let j = Journal::at(dir.join("j.sysctls"));
        // A key under /proc/sys/net whose interface does not exist: skipped.
        let gone = (
            "/proc/sys/net/ipv4/conf/baton-no-such-if/rp_filter".to_string(),
            "1".to_string(),
        );
        j.write(std::slice::from_ref(&gone)).unwrap();
        let text = std::fs::read_to_string(dir.join("j.sysctls")).unwrap();
        assert!(
            text.starts_with(HEADER) && text.ends_with(&format!("{} 1\n", gone.0)),
            "{text}"
        );
        assert_eq!(j.recover().unwrap(), Vec::<String>::new());
        assert!(!dir.join("j.sysctls").exists());
        // Nothing to recover is no error.
        assert_eq!(j.recover().unwrap(), Vec::<String>::new());
        // Writable by others: refused and left alone.
        j.write(&[gone]).unwrap();
        std::fs::set_permissions(
            dir.join("j.sysctls"),
            std::os::unix::fs::PermissionsExt::from_mode(0o666),
        )
        .unwrap();
        let e = j.recover().unwrap_err().to_string();
        assert!(e.contains("mode 666"), "{e}");
        assert!(dir.join("j.sysctls").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
