//! `system.read-file`: exact allowlisted paths only, regular files only, bounded read.

use std::fs::File;
use std::io::{ErrorKind, Read};

use super::CapError;
use crate::grants::Grants;

/// Largest `max-bytes` honoured.
pub const MAX_READ_CAP: u32 = 1 << 20;

/// Reads at most `max_bytes` (capped at 1 MiB) of `path` if the grants list it
/// exactly. `Ok(None)` if it does not exist. Only regular files are read (a FIFO or a
/// device could block past any timeout).
pub fn read(grants: &Grants, path: &str, max_bytes: u32) -> Result<Option<Vec<u8>>, CapError> {
    if !grants.file_allowed(path) {
        return Err(CapError::Denied(format!("{path}: not in allow-files")));
    }
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
