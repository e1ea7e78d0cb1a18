//! Baton's reference policies, built from `policies/` for wasm32-wasip2 when
//! this crate is built, and embedded so the daemon can load them as
//! `builtin:NAME`.
//!
//! ```
//! for name in baton_policy_builtins::NAMES {
//!     assert!(baton_policy_builtins::builtin(name).is_some());
//! }
//! ```
//!
//! With the feature `hostile` (tests only), [`hostile`] also serves the test
//! policies of `policies/hostile/`: infinite loop, memory bomb, deep
//! recursion, panic, denied capability, huge log, slow capability.

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// The component (wasm32-wasip2, component-model binary) of builtin `name`.
pub fn builtin(name: &str) -> Option<&'static [u8]> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
}

#[cfg(feature = "hostile")]
mod hostile_table {
    include!(concat!(env!("OUT_DIR"), "/hostile.rs"));

    pub(crate) fn get(name: &str) -> Option<&'static [u8]> {
        HOSTILE.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
    }
}

#[cfg(feature = "hostile")]
pub use hostile_table::HOSTILE_NAMES;

/// The component of hostile test policy `name` (see [`HOSTILE_NAMES`]).
#[cfg(feature = "hostile")]
pub fn hostile(name: &str) -> Option<&'static [u8]> {
    hostile_table::get(name)
}

/// Sizes of the embedded components and the time of the inner build that
/// produced them, one `name: N bytes` a line.
pub const BUILD_REPORT: &str = include_str!(concat!(env!("OUT_DIR"), "/sizes.txt"));

#[cfg(test)]
mod tests {
    /// `\0asm` then the component-model version/layer (0x0d 0x00, layer 0x01 0x00).
    const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    fn assert_component(name: &str, bytes: Option<&[u8]>) {
        let bytes = bytes.unwrap_or_else(|| panic!("{name} does not resolve"));
        assert!(bytes.len() > COMPONENT_HEADER.len(), "{name} is empty");
        assert_eq!(bytes[..8], COMPONENT_HEADER, "{name} is not a component");
    }

    #[test]
    fn every_builtin_is_a_component() {
        assert_eq!(
            super::NAMES,
            ["process-alive", "tcp-port", "http-status", "file", "interface-up"]
        );
        for name in super::NAMES {
            assert_component(name, super::builtin(name));
        }
        assert!(super::builtin("nope").is_none());
        eprint!("{}", super::BUILD_REPORT);
    }

    #[cfg(feature = "hostile")]
    #[test]
    fn every_hostile_is_a_component() {
        assert_eq!(super::HOSTILE_NAMES.len(), 7);
        for name in super::HOSTILE_NAMES {
            assert_component(name, super::hostile(name));
        }
        assert!(super::hostile("process-alive").is_none());
    }
}
