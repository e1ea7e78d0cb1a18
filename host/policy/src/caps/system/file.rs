//! `system.read-file`: exact allowlisted paths only, regular files only, bounded read.
//!
//! The allowlist check ([`allowed`]) comes before the path is touched at all.

use std::fs::File;
use std::io::{ErrorKind, Read};

use crate::caps::CapError;
use crate::grants::Grants;

/// Largest `max-bytes` honoured.
pub const MAX_READ_CAP: u32 = 1 << 20;

/// Whether `path` is listed in `allow-files`, exactly as written (no
/// normalisation: `/run/x/` or `/run/./x` are other paths).
pub fn allowed(grants: &Grants, path: &str) -> Result<(), CapError> {
    if grants.file_allowed(path) {
        Ok(())
    } else {
        Err(CapError::Denied(format!("{path}: not in allow-files")))
    }
}

/// Reads at most `max_bytes` (capped at 1 MiB) of `path` if the grants list it
/// exactly. `Ok(None)` if it does not exist. Only regular files are read (a FIFO or a
/// device could block past any timeout).
pub fn read(grants: &Grants, path: &str, max_bytes: u32) -> Result<Option<Vec<u8>>, CapError> {
    allowed(grants, path)?;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CapError::Failed(e.to_string())),
    };
    if !meta.is_file() {
        return Err(CapError::Failed(format!("{path}: not a regular file")));
    }
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CapError::Failed(e.to_string())),
    };
    let mut out = Vec::new();
    f.take(u64::from(max_bytes.min(MAX_READ_CAP)))
        .read_to_end(&mut out)
        .map_err(|e| CapError::Failed(e.to_string()))?;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_granted_paths_are_allowed() {
        let g = Grants::default().allow_file("/run/baton-test/state").unwrap();
        assert_eq!(allowed(&g, "/run/baton-test/state"), Ok(()));
        for p in [
            "/run/baton-test/state/",
            "/run/baton-test/./state",
            "/run/baton-test//state",
            "/run/baton-test",
            "/etc/passwd",
            "",
        ] {
            assert!(matches!(allowed(&g, p), Err(CapError::Denied(_))), "{p:?}");
        }
        // Refused before the file is looked at: a granted-lookalike directory
        // that does not exist is still a denial, not "absent".
        assert!(matches!(
            read(&g, "/nonexistent-baton/state", 10),
            Err(CapError::Denied(_))
        ));
    }

    #[test]
    fn allowlisted_present_absent_bounded() {
        let dir = std::env::temp_dir().join(format!("baton-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("state");
        let ps = p.to_str().unwrap().to_string();
        let g = Grants::default().allow_file(&ps).unwrap();
        assert_eq!(read(&g, &ps, 10), Ok(None));
        std::fs::write(&p, "MASTER and more").unwrap();
        assert_eq!(read(&g, &ps, 6), Ok(Some(b"MASTER".to_vec())));
        assert!(matches!(read(&g, "/etc/passwd", 10), Err(CapError::Denied(_))));
        let g2 = Grants::default().allow_file(dir.to_str().unwrap()).unwrap();
        assert!(matches!(
            read(&g2, dir.to_str().unwrap(), 10),
            Err(CapError::Failed(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
