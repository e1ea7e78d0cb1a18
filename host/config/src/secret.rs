//! Files that must stay the administrator's: HMAC key files (root's alone:
//! no one else may read or write them) and the config files themselves (no
//! one else may write them: a config can run commands and name keys).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use baton_vrrp::HmacKey;

use crate::{KeyLine, KeyValue};

/// Longest key file read: a keyring of a few 64-byte keys.
const KEY_FILE_MAX: u64 = 16 * 1024;

/// The user Baton runs as, who may own its key and config files (besides
/// root): the effective uid of /proc/self/status (this crate makes no
/// system calls of its own beyond reading files); root if unreadable.
fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?.to_string();
            line.split_whitespace().nth(2)?.parse().ok()
        })
        .unwrap_or(0)
}

/// `path` is a regular file owned by the user Baton runs as (or root),
/// and no one else may write it (nor, with `private`, read it).
pub fn check_owner_and_mode(path: &Path, what: &str, private: bool) -> Result<fs::Metadata, String> {
    let md = fs::metadata(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    if !md.is_file() {
        return Err(format!("{what} {} is not a regular file", path.display()));
    }
    let mode = md.mode() & 0o7777;
    let me = euid();
    if md.uid() != me && md.uid() != 0 {
        return Err(format!(
            "{what} {} belongs to uid {}, not to root or the user Baton runs as (uid {me})",
            path.display(),
            md.uid()
        ));
    }
    let (mask, may) = if private {
        (0o077, "read or write")
    } else {
        (0o022, "write")
    };
    if mode & mask != 0 {
        return Err(format!(
            "{what} {} has mode {mode:04o}: others may {may} it (chmod {} {})",
            path.display(),
            if private { "600" } else { "go-w" },
            path.display()
        ));
    }
    Ok(md)
}

/// The keys of an HMAC key file: one hex key (id 1), or lines `ID HEX`
/// (`#` comments and blank lines allowed). The file must be private.
pub fn read_key_file(path: &Path) -> Result<Vec<HmacKey>, String> {
    let text = read_private(path, KEY_FILE_MAX)?;
    parse_keys(&text).map_err(|e| format!("key file {}: {e}", path.display()))
}

/// A private file's text, of at most `max` bytes.
pub fn read_private(path: &Path, max: u64) -> Result<String, String> {
    let md = check_owner_and_mode(path, "key file", true)?;
    if md.len() > max {
        return Err(format!(
            "key file {} is {} bytes: more than the {max} a key file may hold",
            path.display(),
            md.len()
        ));
    }
    fs::read_to_string(path).map_err(|e| format!("key file {}: {e}", path.display()))
}

/// The most a keepalived key file holds: `hex:`, 64 bytes in hex, a line end.
pub const KEEPALIVED_KEY_MAX: u64 = 138;

/// keepalived's key VALUE (`key ID VALUE` of `auth_hmac`): `hex:` and hex
/// digits, or else the key's bytes as they are written.
pub fn keepalived_key(id: u8, value: &str) -> Result<HmacKey, String> {
    match value.strip_prefix("hex:") {
        Some(hex) => HmacKey::from_hex(id, hex),
        None => HmacKey::new(id, value.as_bytes().to_vec()),
    }
}

/// A `key ID VALUE` line's key: inline, or from its file (keepalived's
/// syntax, one key, line ends stripped) through `read`.
pub fn key_of(line: &KeyLine, read: &dyn Fn(&Path) -> Result<String, String>) -> Result<HmacKey, String> {
    match &line.value {
        KeyValue::Inline { text, .. } => keepalived_key(line.id, text),
        KeyValue::File(path) => {
            let text = read(path)?;
            keepalived_key(line.id, text.trim_end_matches(['\r', '\n']))
                .map_err(|e| format!("key file {}: {e}", path.display()))
        }
    }
}

/// `ID VALUE` (TOML `keys`) or keepalived's `key ID VALUE` split: the id
/// (1 to 255) and the value, `file:PATH` relative to `dir`.
pub fn key_line(id: &str, value: &str, dir: &Path, file: &Path) -> Result<KeyLine, String> {
    let id = id
        .parse::<u8>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| format!("`{id}` is no key id (1 to 255)"))?;
    let value = match value.strip_prefix("file:") {
        Some("") => return Err(format!("key {id}: `file:` names no file")),
        Some(p) => KeyValue::File(dir.join(p)),
        None => KeyValue::Inline {
            text: value.to_string(),
            file: file.to_path_buf(),
        },
    };
    Ok(KeyLine { id, value })
}

/// [`read_key_file`]'s content.
pub fn parse_keys(text: &str) -> Result<Vec<HmacKey>, String> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(n, l)| (n + 1, l.split('#').next().unwrap_or("").trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    let mut keys: Vec<HmacKey> = Vec::new();
    for (n, line) in &lines {
        let mut words = line.split_whitespace();
        let (id, hex) = match (words.next(), words.next(), words.next()) {
            (Some(hex), None, None) if lines.len() == 1 => (1, hex),
            (Some(id), Some(hex), None) => {
                let id = id
                    .parse::<u8>()
                    .ok()
                    .filter(|i| *i > 0)
                    .ok_or_else(|| format!("line {n}: `{id}` is no key id (1 to 255)"))?;
                (id, hex)
            }
            _ => {
                return Err(format!(
                    "line {n}: expected `ID HEX` (or one hex key alone in the file)"
                ));
            }
        };
        let key = HmacKey::from_hex(id, hex).map_err(|e| format!("line {n}: {e}"))?;
        if keys.iter().any(|k| k.id == id) {
            return Err(format!("line {n}: key id {id} is given twice"));
        }
        keys.push(key);
    }
    if keys.is_empty() {
        return Err("no key in it".into());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn one_key_or_a_keyring() {
        let k = "ab".repeat(32);
        assert_eq!(parse_keys(&format!("{k}\n")).unwrap()[0].id, 1);
        let ring = parse_keys(&format!("# rotation\n1 {k}\n\n2 hex:{}\n", "cd".repeat(40))).unwrap();
        assert_eq!(ring.iter().map(|k| k.id).collect::<Vec<_>>(), vec![1, 2]);
        assert!(
            parse_keys(&format!("1 {k}\n1 {k}\n"))
                .unwrap_err()
                .contains("twice")
        );
        assert!(parse_keys(&format!("0 {k}\n")).unwrap_err().contains("no key id"));
        assert!(parse_keys(&format!("{k}\n{k}\n")).unwrap_err().contains("ID HEX"));
        assert!(parse_keys("# nothing\n").unwrap_err().contains("no key"));
        assert!(parse_keys("abcd\n").unwrap_err().contains("32 to 64 bytes"));
    }

    #[test]
    fn a_key_file_others_may_read_is_refused() {
        let dir = std::env::temp_dir().join(format!("baton-secret-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("vrrp.key");
        fs::write(&p, "ab".repeat(32)).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_key_file(&p).unwrap_err();
        assert!(
            e.contains("has mode 0644: others may read or write it (chmod 600"),
            "{e}"
        );
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_key_file(&p).unwrap().len(), 1);
        // A config others may write is refused; one they may read is fine.
        let c = dir.join("baton.toml");
        fs::write(&c, "").unwrap();
        fs::set_permissions(&c, fs::Permissions::from_mode(0o666)).unwrap();
        assert!(
            check_owner_and_mode(&c, "config", false)
                .unwrap_err()
                .contains("others may write")
        );
        fs::set_permissions(&c, fs::Permissions::from_mode(0o644)).unwrap();
        check_owner_and_mode(&c, "config", false).unwrap();
        assert!(
            read_key_file(&dir.join("missing"))
                .unwrap_err()
                .contains("No such file")
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
