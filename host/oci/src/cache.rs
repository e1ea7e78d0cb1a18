//! The policy cache: components by digest, and the digest each reference
//! last resolved to.
//!
//! ```text
//! <dir>/sha256/<hex>.wasm   the component whose sha256 is <hex>
//! <dir>/refs.json           {"oci://HOST/REPO:TAG": "sha256:<hex>", ...}
//! ```
//!
//! Files are written to a temporary name in the same directory and renamed,
//! so a reader sees a whole file or none; a component is hashed again when
//! it is read, and one whose bytes are not its name is no hit.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use baton_config::{OciRef, digest_string};

use crate::{OciError, hex, parse_digest, sha256};

/// A policy cache directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the component with `digest` is (or would be) kept.
    pub fn path(&self, digest: &[u8; 32]) -> PathBuf {
        self.dir.join("sha256").join(format!("{}.wasm", hex(digest)))
    }

    fn refs_path(&self) -> PathBuf {
        self.dir.join("refs.json")
    }

    /// The cached component with `digest`, if there is one and its bytes
    /// still hash to it (a damaged copy is removed and is no hit).
    pub fn get(&self, digest: &[u8; 32]) -> Option<Vec<u8>> {
        let path = self.path(digest);
        let bytes = fs::read(&path).ok()?;
        if sha256(&bytes) == *digest {
            return Some(bytes);
        }
        tracing::warn!(
            path = %path.display(),
            "cached policy does not hash to {}: removed",
            digest_string(digest)
        );
        let _ = fs::remove_file(&path);
        None
    }

    /// Keeps `bytes` under its digest (which must be `digest`) and returns the path.
    pub fn put(&self, digest: &[u8; 32], bytes: &[u8]) -> Result<PathBuf, OciError> {
        let path = self.path(digest);
        if sha256(bytes) != *digest {
            return Err(OciError::Cache {
                path,
                cause: format!(
                    "refusing to cache bytes that do not hash to {}",
                    digest_string(digest)
                ),
            });
        }
        write_atomically(&path, bytes)?;
        Ok(path)
    }

    /// The digest `r` last resolved to, if remembered.
    pub fn lookup(&self, r: &OciRef) -> Option<[u8; 32]> {
        self.refs().get(&r.to_string()).and_then(|d| parse_digest(d))
    }

    /// Remembers that `r` resolved to `digest`.
    pub fn remember(&self, r: &OciRef, digest: &[u8; 32]) -> Result<(), OciError> {
        let mut refs = self.refs();
        refs.insert(r.to_string(), digest_string(digest));
        let json = serde_json::to_vec_pretty(&refs).map_err(|e| OciError::Cache {
            path: self.refs_path(),
            cause: e.to_string(),
        })?;
        write_atomically(&self.refs_path(), &json)
    }

    fn refs(&self) -> BTreeMap<String, String> {
        fs::read(self.refs_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), OciError> {
    let err = |cause: std::io::Error| OciError::Cache {
        path: path.to_path_buf(),
        cause: cause.to_string(),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(err)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("baton-oci-cache-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn put_then_get_by_digest() {
        let dir = temp_dir("put");
        let cache = Cache::new(&dir);
        let bytes = b"\0asm component bytes";
        let d = sha256(bytes);
        assert_eq!(cache.get(&d), None);
        let path = cache.put(&d, bytes).unwrap();
        assert_eq!(path, dir.join("sha256").join(format!("{}.wasm", hex(&d))));
        assert_eq!(cache.get(&d).as_deref(), Some(&bytes[..]));
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.join("sha256")).unwrap().collect();
        assert_eq!(names.len(), 1);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn refuses_bytes_that_are_not_the_digest() {
        let dir = temp_dir("refuse");
        let cache = Cache::new(&dir);
        let e = cache.put(&sha256(b"one"), b"two").unwrap_err();
        assert!(e.to_string().contains("do not hash to"), "{e}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_damaged_copy_is_no_hit() {
        let dir = temp_dir("damaged");
        let cache = Cache::new(&dir);
        let d = sha256(b"good");
        let path = cache.put(&d, b"good").unwrap();
        fs::write(&path, b"evil").unwrap();
        assert_eq!(cache.get(&d), None);
        assert!(!path.exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn remembers_references() {
        let dir = temp_dir("refs");
        let cache = Cache::new(&dir);
        let r = OciRef::parse("oci://127.0.0.1:5000/baton/web:1").unwrap();
        assert_eq!(cache.lookup(&r), None);
        let d = sha256(b"x");
        cache.remember(&r, &d).unwrap();
        assert_eq!(cache.lookup(&r), Some(d));
        let _ = fs::remove_dir_all(&dir);
    }
}
