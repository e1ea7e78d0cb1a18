//! Errors of loading and configuring policies. (Evaluation failures are values:
//! [`crate::EvalError`].)

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The engine could not be built.
    Engine(String),
    /// The artifact's sha256 is not the pinned one.
    DigestMismatch {
        name: String,
        expected: String,
        actual: String,
    },
    /// Not a valid component (or not compilable).
    Compile { name: String, reason: String },
    /// The component does not export what `world` (e.g. `health`'s `check`)
    /// exports, with the right signature, or imports something the host does not
    /// provide to that world.
    Incompatible {
        name: String,
        world: &'static str,
        reason: String,
    },
    /// A grant (allowlist entry, remedy) is malformed.
    Grant(String),
    /// The runner is shut down.
    Closed,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Engine(s) => write!(f, "policy engine: {s}"),
            PolicyError::DigestMismatch {
                name,
                expected,
                actual,
            } => {
                write!(
                    f,
                    "policy {name}: sha256 mismatch: expected {expected}, got {actual}"
                )
            }
            PolicyError::Compile { name, reason } => {
                write!(f, "policy {name}: not a valid component: {reason}")
            }
            PolicyError::Incompatible { name, world, reason } => write!(
                f,
                "policy {name}: does not fit world baton:policy/{world}@0.1.1 as this host provides it: {reason}"
            ),
            PolicyError::Grant(s) => write!(f, "grant: {s}"),
            PolicyError::Closed => write!(f, "policy runner is shut down"),
        }
    }
}

impl std::error::Error for PolicyError {}

/// Formats a wasmtime error with its whole cause chain on one line.
pub(crate) fn chain(e: &wasmtime::Error) -> String {
    format!("{e:#}")
}
