//! What can go wrong getting a policy from a registry, each with the
//! reference it was about.

use std::fmt;
use std::path::PathBuf;

use baton_config::digest_string;

/// Why a policy could not be pushed, pulled or cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OciError {
    /// The registry served a component (or a manifest naming one) whose
    /// digest is not the pin. Nothing was used or cached.
    Mismatch {
        reference: String,
        served: [u8; 32],
        pin: [u8; 32],
    },
    /// The registry could not be reached, and the cache has no copy.
    Unreachable {
        reference: String,
        cause: String,
        /// The cache that was looked in, and the digest looked for.
        cache: PathBuf,
        pin: Option<[u8; 32]>,
    },
    /// The registry answered that it has no such tag, manifest or blob.
    NotFound { reference: String, cause: String },
    /// The manifest is not a WebAssembly artifact of one component.
    NotAPolicy { reference: String, why: String },
    /// Any other answer of the registry (refused push, bad response).
    Registry { reference: String, cause: String },
    /// Reading or writing the cache.
    Cache { path: PathBuf, cause: String },
}

impl fmt::Display for OciError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OciError::Mismatch {
                reference,
                served,
                pin,
            } => write!(
                f,
                "registry served {} for {reference}, the pin is {}; refused",
                digest_string(served),
                digest_string(pin)
            ),
            OciError::Unreachable {
                reference,
                cause,
                cache,
                pin,
            } => {
                write!(f, "registry unreachable for {reference} ({cause}), and ")?;
                match pin {
                    Some(d) => write!(f, "no cached copy of {} in {}", digest_string(d), cache.display()),
                    None => write!(f, "no digest of it remembered in {}", cache.display()),
                }
            }
            OciError::NotFound { reference, cause } => {
                write!(f, "{reference}: not found in the registry ({cause})")
            }
            OciError::NotAPolicy { reference, why } => {
                write!(f, "{reference} is not a WebAssembly policy: {why}")
            }
            OciError::Registry { reference, cause } => write!(f, "{reference}: {cause}"),
            OciError::Cache { path, cause } => write!(f, "policy cache {}: {cause}", path.display()),
        }
    }
}

impl std::error::Error for OciError {}
