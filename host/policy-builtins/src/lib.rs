//! Baton's reference policies, built from `policies/` for wasm32-wasip2 when
//! this crate is built, and embedded so the daemon can load them as
//! `builtin:NAME`, with the example transition hook.
//!
//! [`NAMES`] is every `builtin:NAME`, as baton-config's `Builtin::ALL` spells
//! them: the health policies ([`HEALTH_NAMES`], for `PolicyEngine::load`),
//! then the split-brain policies ([`SPLIT_BRAIN_NAMES`], for
//! `PolicyEngine::load_split_brain`). [`is_split_brain`] tells them apart.
//!
//! ```
//! for name in baton_policy_builtins::NAMES {
//!     assert!(baton_policy_builtins::builtin(name).is_some());
//! }
//! assert!(baton_policy_builtins::is_split_brain("split-brain-arp"));
//! assert!(!baton_policy_builtins::is_split_brain("http-status"));
//! ```
//!
//! [`example`] serves components of the other worlds, which are not
//! `builtin:NAME` health policies: `route-alerts`, a transition hook
//! (`policies/route-alerts`) that pages on chosen transitions and mutes chosen
//! notice kinds.
//!
//! ```
//! for name in baton_policy_builtins::EXAMPLE_NAMES {
//!     assert!(baton_policy_builtins::example(name).is_some());
//! }
//! assert!(baton_policy_builtins::builtin("route-alerts").is_none());
//! ```
//!
//! With the feature `hostile` (tests only), [`hostile`] also serves the test
//! policies of `policies/hostile/`: infinite loop, memory bomb, deep
//! recursion, panic, denied capability, huge log, slow capability, std
//! files and sockets, a WASI sleep, and `compat-0.1.0` (a guest of `baton:policy@0.1.0` as
//! released, for the compatibility test);
//! `hostile_hook` the test transition hooks: a loop in `route`, an answer the
//! host must refuse; and `hostile_split_brain` the test split-brain policy: a
//! loop in `decide`.

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

mod examples {
    include!(concat!(env!("OUT_DIR"), "/examples.rs"));

    pub(crate) fn get(name: &str) -> Option<&'static [u8]> {
        EXAMPLES.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
    }
}

pub use examples::EXAMPLE_NAMES;

/// The component (wasm32-wasip2, component-model binary) of builtin `name`,
/// a health or a split-brain policy (see [`is_split_brain`]).
pub fn builtin(name: &str) -> Option<&'static [u8]> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
}

/// Whether builtin `name` is a split-brain policy (world `split-brain`), not
/// a health check: what to load it with.
pub fn is_split_brain(name: &str) -> bool {
    SPLIT_BRAIN_NAMES.contains(&name)
}

/// The component of example `name` (see [`EXAMPLE_NAMES`]): a transition hook.
pub fn example(name: &str) -> Option<&'static [u8]> {
    examples::get(name)
}

#[cfg(feature = "hostile")]
mod hostile_table {
    include!(concat!(env!("OUT_DIR"), "/hostile.rs"));

    pub(crate) fn get(name: &str) -> Option<&'static [u8]> {
        HOSTILE.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
    }

    pub(crate) fn get_hook(name: &str) -> Option<&'static [u8]> {
        HOSTILE_HOOKS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bytes)| *bytes)
    }

    pub(crate) fn get_split_brain(name: &str) -> Option<&'static [u8]> {
        HOSTILE_SPLIT_BRAIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bytes)| *bytes)
    }
}

#[cfg(feature = "hostile")]
pub use hostile_table::{HOSTILE_HOOK_NAMES, HOSTILE_NAMES, HOSTILE_SPLIT_BRAIN_NAMES};

/// The component of hostile test policy `name` (see [`HOSTILE_NAMES`]).
#[cfg(feature = "hostile")]
pub fn hostile(name: &str) -> Option<&'static [u8]> {
    hostile_table::get(name)
}

/// The component of hostile test transition hook `name` (see [`HOSTILE_HOOK_NAMES`]).
#[cfg(feature = "hostile")]
pub fn hostile_hook(name: &str) -> Option<&'static [u8]> {
    hostile_table::get_hook(name)
}

/// The component of hostile test split-brain policy `name` (see
/// [`HOSTILE_SPLIT_BRAIN_NAMES`]).
#[cfg(feature = "hostile")]
pub fn hostile_split_brain(name: &str) -> Option<&'static [u8]> {
    hostile_table::get_split_brain(name)
}

/// Sizes of the embedded components and the time of the inner build that
/// produced them, one `name: N bytes` a line.
pub const BUILD_REPORT: &str = include_str!(concat!(env!("OUT_DIR"), "/sizes.txt"));

#[cfg(test)]
mod tests {
    /// `\0asm` then the component-model version/layer (0x0d 0x00, layer 0x01 0x00).
    const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

    /// The hook world's types, which only hooks import (build.rs builds them apart).
    const NOTICES: &[u8] = b"baton:policy/notices@";
    /// The split-brain world's types, which only split-brain policies import.
    const BRAIN: &[u8] = b"baton:policy/brain@";

    fn names(bytes: &[u8], interface: &[u8]) -> bool {
        bytes.windows(interface.len()).any(|w| w == interface)
    }

    fn imports_notices(bytes: &[u8]) -> bool {
        names(bytes, NOTICES)
    }

    fn imports_brain(bytes: &[u8]) -> bool {
        names(bytes, BRAIN)
    }

    fn assert_component(name: &str, bytes: Option<&[u8]>) {
        let bytes = bytes.unwrap_or_else(|| panic!("{name} does not resolve"));
        assert!(bytes.len() > COMPONENT_HEADER.len(), "{name} is empty");
        assert_eq!(bytes[..8], COMPONENT_HEADER, "{name} is not a component");
    }

    #[test]
    fn every_builtin_is_a_component() {
        assert_eq!(
            super::NAMES,
            [
                "process-alive",
                "tcp-port",
                "http-status",
                "file",
                "interface-up",
                "exec",
                "split-brain-peer-http",
                "split-brain-arp"
            ]
        );
        assert_eq!(
            [super::HEALTH_NAMES, super::SPLIT_BRAIN_NAMES].concat(),
            super::NAMES
        );
        for name in super::NAMES {
            assert_component(name, super::builtin(name));
            let bytes = super::builtin(name).unwrap();
            assert!(!imports_notices(bytes), "{name}");
            // Health builtins come out as they were: without the split-brain world's types.
            assert_eq!(imports_brain(bytes), super::is_split_brain(name), "{name}");
        }
        assert!(super::builtin("nope").is_none());
        assert!(!super::is_split_brain("nope"));
        eprint!("{}", super::BUILD_REPORT);
    }

    #[test]
    fn every_example_is_a_component_and_no_builtin() {
        assert_eq!(super::EXAMPLE_NAMES, ["route-alerts"]);
        for name in super::EXAMPLE_NAMES {
            assert_component(name, super::example(name));
            assert!(imports_notices(super::example(name).unwrap()), "{name}");
            assert!(!imports_brain(super::example(name).unwrap()), "{name}");
            assert!(super::builtin(name).is_none(), "{name} is also a builtin");
        }
        assert!(super::example("process-alive").is_none());
    }

    #[cfg(feature = "hostile")]
    #[test]
    fn every_hostile_is_a_component() {
        assert_eq!(super::HOSTILE_NAMES.len(), 10);
        for name in super::HOSTILE_NAMES {
            assert_component(name, super::hostile(name));
            assert!(!imports_notices(super::hostile(name).unwrap()), "{name}");
            assert!(!imports_brain(super::hostile(name).unwrap()), "{name}");
        }
        assert!(super::hostile("process-alive").is_none());
        assert_eq!(super::HOSTILE_HOOK_NAMES, ["hook-loop", "hook-bad-answer"]);
        for name in super::HOSTILE_HOOK_NAMES {
            assert_component(name, super::hostile_hook(name));
            assert!(super::hostile(name).is_none(), "{name} is also a hostile policy");
        }
        assert_eq!(super::HOSTILE_SPLIT_BRAIN_NAMES, ["brain-loop"]);
        for name in super::HOSTILE_SPLIT_BRAIN_NAMES {
            assert_component(name, super::hostile_split_brain(name));
            let bytes = super::hostile_split_brain(name).unwrap();
            assert!(imports_brain(bytes) && !imports_notices(bytes), "{name}");
            assert!(super::hostile(name).is_none(), "{name} is also a hostile policy");
        }
    }
}
