//! baton-oci: policies shared through an OCI registry.
//!
//! - The layout is wasm-pkg-tools' (`wkg oci push`): an OCI image manifest
//!   whose config has the media type `application/vnd.wasm.config.v0+json`
//!   and whose one layer is the component, `application/wasm`
//!   ([`registry`]).
//! - A policy's digest is the component's: the sha256 of the `.wasm` bytes,
//!   which is the layer's digest and what a `sha256` pin pins. A reference
//!   `oci://HOST/REPO@sha256:X` names that digest (not the manifest's) and
//!   is fetched as the blob `X` of REPO; `oci://HOST/REPO:TAG` is resolved
//!   through its manifest, whose layer digest must be the pin before
//!   anything is downloaded. The bytes are hashed before they are used or
//!   cached either way: a registry that serves other bytes is refused
//!   ([`OciError::Mismatch`]).
//! - The cache ([`Cache`]) keeps each component at
//!   `<dir>/sha256/<hex>.wasm`, written atomically, and the digest each
//!   reference last resolved to in `<dir>/refs.json`. [`Resolver`] looks in
//!   the cache first and asks the registry only on a miss, so a daemon with
//!   a warm cache starts while the registry is down.
//! - [`component::inspect`]: a component's world and version, imports,
//!   size, digest and producers, for `baton policy inspect` and the
//!   manifest's config.
//!
//! The registry is spoken to anonymously, over HTTPS except for the
//! registries listed as insecure (plain HTTP).

pub mod cache;
pub mod component;
mod error;
pub mod registry;
mod resolve;

pub use baton_config::{OciRef, OciTarget, digest_string};
pub use cache::Cache;
pub use error::OciError;
pub use registry::{Pushed, Registry, Transport};
pub use resolve::{Resolved, Resolver, Source};

use sha2::{Digest as _, Sha256};

/// The sha256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `HEX` (64 lower-case hexadecimal digits).
pub fn hex(d: &[u8; 32]) -> String {
    digest_string(d)["sha256:".len()..].to_string()
}

/// Parses `sha256:HEX`.
pub fn parse_digest(s: &str) -> Option<[u8; 32]> {
    s.strip_prefix("sha256:")
        .and_then(|h| baton_config::parse_sha256(h).ok())
}
