//! Cache first, registry on a miss: how the daemon and the CLI get a
//! policy's bytes from its `oci://` reference. Synchronous: the registry is
//! asked on a thread of its own with a small tokio runtime, so this works
//! from plain code, from a blocking task and from inside an async context.

use std::path::PathBuf;

use baton_config::OciRef;

use crate::registry::{Fetched, Pushed, Registry, Transport};
use crate::{Cache, OciError};

/// Where resolved bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The cache had them: the registry was not asked.
    Cache,
    /// Fetched from the registry (and now cached).
    Registry,
}

/// A policy's bytes, checked against its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub bytes: Vec<u8>,
    pub digest: [u8; 32],
    /// Where it is kept in the cache.
    pub path: PathBuf,
    pub source: Source,
}

/// A cache and the way to its registries.
#[derive(Debug, Clone)]
pub struct Resolver {
    cache: Cache,
    transport: Transport,
}

impl Resolver {
    pub fn new(cache: Cache, transport: Transport) -> Resolver {
        Resolver { cache, transport }
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The component `r` names, pinned to `pin` (a config's `sha256`; a
    /// reference by digest pins itself). From the cache when it has the
    /// digest wanted; else from the registry, verified, then cached. A tag
    /// without a pin (the CLI's) always asks the registry, and falls back to
    /// the digest it last resolved to only when the registry is unreachable.
    pub fn resolve(&self, r: &OciRef, pin: Option<[u8; 32]>) -> Result<Resolved, OciError> {
        let want = pin.or_else(|| r.digest());
        if let Some(d) = want
            && let Some(bytes) = self.cache.get(&d)
        {
            return Ok(self.resolved(bytes, d, Source::Cache));
        }
        match self.fetch(r, pin) {
            Ok(f) => {
                let path = self.cache.put(&f.digest, &f.bytes)?;
                self.cache.remember(r, &f.digest)?;
                Ok(Resolved {
                    bytes: f.bytes,
                    digest: f.digest,
                    path,
                    source: Source::Registry,
                })
            }
            Err(OciError::Unreachable { reference, cause, .. }) => {
                if want.is_none()
                    && let Some(d) = self.cache.lookup(r)
                    && let Some(bytes) = self.cache.get(&d)
                {
                    tracing::warn!(
                        "{reference}: registry unreachable ({cause}); using the digest it last resolved to"
                    );
                    return Ok(self.resolved(bytes, d, Source::Cache));
                }
                Err(OciError::Unreachable {
                    reference,
                    cause,
                    cache: self.cache.dir().to_path_buf(),
                    pin: want,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Pushes `wasm` to `r` (a tag).
    pub fn push(&self, r: &OciRef, wasm: &[u8]) -> Result<Pushed, OciError> {
        let registry = Registry::new(&self.transport);
        block_on(registry.push(r, wasm))
    }

    fn fetch(&self, r: &OciRef, pin: Option<[u8; 32]>) -> Result<Fetched, OciError> {
        let registry = Registry::new(&self.transport);
        block_on(registry.fetch(r, pin))
    }

    fn resolved(&self, bytes: Vec<u8>, digest: [u8; 32], source: Source) -> Resolved {
        Resolved {
            path: self.cache.path(&digest),
            bytes,
            digest,
            source,
        }
    }
}

/// Runs `f` to completion on a new thread with a current-thread runtime.
fn block_on<T: Send>(f: impl Future<Output = Result<T, OciError>> + Send) -> Result<T, OciError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| OciError::Registry {
                    reference: String::new(),
                    cause: format!("starting a runtime: {e}"),
                })?;
            rt.block_on(f)
        })
        .join()
        .unwrap_or_else(|_| {
            Err(OciError::Registry {
                reference: String::new(),
                cause: "the registry client panicked".into(),
            })
        })
    })
}
