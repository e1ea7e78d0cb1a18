//! What a component says about itself, read with wasmparser without
//! compiling it: the Baton world it implements and the WIT version, what it
//! imports (the capabilities it asks for), its size and digest, and the
//! `producers` custom sections (language, toolchain) of the component and
//! the modules inside it.

use std::collections::BTreeMap;
use std::fmt;

use baton_config::digest_string;
use wasmparser::{KnownCustom, Parser, Payload};

use crate::sha256;

/// The Baton worlds, by the function each exports (`wit/policy.wit`).
const WORLDS: &[(&str, &str)] = &[
    ("check", "health"),
    ("decide", "split-brain"),
    ("route", "transition-hook"),
];

/// The package of Baton's WIT.
const PACKAGE: &str = "baton:policy";

/// A component's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub size: usize,
    pub sha256: [u8; 32],
    /// `health`, `split-brain` or `transition-hook`, by what it exports.
    pub world: Option<&'static str>,
    /// `baton:policy@0.1.1`: the package and version of the Baton
    /// interfaces it imports.
    pub package: Option<String>,
    /// The component's own exports and imports (interfaces and functions,
    /// not types), as named in it (`check`, `baton:policy/probe@0.1.1`,
    /// `wasi:io/streams@0.2.6`).
    pub exports: Vec<String>,
    pub imports: Vec<String>,
    /// `producers` fields (`language`, `processed-by`, `sdk`) and their
    /// `NAME VERSION` values, of the component and every module in it.
    pub producers: BTreeMap<String, Vec<String>>,
}

/// Reads `bytes` as a component.
pub fn inspect(bytes: &[u8]) -> Result<Inspection, String> {
    let mut depth = 0usize;
    let mut component = false;
    let mut exports = Vec::new();
    let mut imports = Vec::new();
    let mut producers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| format!("not a valid WebAssembly binary: {e}"))?;
        match payload {
            Payload::Version { encoding, .. } => {
                if depth == 0 {
                    component = matches!(encoding, wasmparser::Encoding::Component);
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(s) if depth == 1 => {
                for i in s {
                    let i = i.map_err(|e| e.to_string())?;
                    // Interfaces and functions: what it asks of the host
                    // (not the types its signatures name).
                    if !matches!(i.ty, wasmparser::ComponentTypeRef::Type(_)) {
                        imports.push(i.name.name.to_string());
                    }
                }
            }
            Payload::ComponentExportSection(s) if depth == 1 => {
                for e in s {
                    exports.push(e.map_err(|e| e.to_string())?.name.name.to_string());
                }
            }
            Payload::CustomSection(c) => {
                if let KnownCustom::Producers(r) = c.as_known() {
                    for field in r.into_iter().flatten() {
                        let values = producers.entry(field.name.to_string()).or_default();
                        for v in field.values.into_iter().flatten() {
                            let s = format!("{} {}", v.name, v.version).trim().to_string();
                            if !values.contains(&s) {
                                values.push(s);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if !component {
        return Err("a core module, not a component (build it for wasm32-wasip2 or componentize it)".into());
    }
    let world = WORLDS
        .iter()
        .find(|(f, _)| exports.iter().any(|e| e == f))
        .map(|(_, w)| *w);
    let package = imports.iter().find_map(|i| {
        let rest = i.strip_prefix(PACKAGE)?.strip_prefix('/')?;
        let version = rest.split_once('@').map(|(_, v)| v);
        Some(match version {
            Some(v) => format!("{PACKAGE}@{v}"),
            None => PACKAGE.to_string(),
        })
    });
    Ok(Inspection {
        size: bytes.len(),
        sha256: sha256(bytes),
        world,
        package,
        exports,
        imports,
        producers,
    })
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let world = match (self.world, &self.package) {
            (Some(w), Some(p)) => format!("{w} of {p}"),
            (Some(w), None) => {
                format!("{w} of {PACKAGE} (version not shown: it imports no {PACKAGE} interface)")
            }
            (None, Some(p)) => format!("none of {p}'s (exports {})", self.exports.join(", ")),
            (None, None) => format!("not a Baton policy (exports {})", self.exports.join(", ")),
        };
        writeln!(f, "world:      {world}")?;
        writeln!(f, "exports:    {}", self.exports.join(", "))?;
        writeln!(f, "imports:    {}", self.imports.len())?;
        for i in &self.imports {
            writeln!(f, "  {i}")?;
        }
        writeln!(f, "size:       {} bytes", self.size)?;
        writeln!(f, "sha256:     {}", digest_string(&self.sha256))?;
        if self.producers.is_empty() {
            writeln!(f, "producers:  none recorded")?;
        } else {
            writeln!(f, "producers:")?;
            if !self.producers.contains_key("language") {
                writeln!(f, "  language: not recorded")?;
            }
            for (field, values) in &self.producers {
                writeln!(f, "  {field}: {}", values.join(", "))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builtin_is_a_health_policy_of_the_current_wit() {
        let bytes = baton_policy_builtins::builtin("http-status").expect("builtin");
        let i = inspect(bytes).unwrap();
        assert_eq!(i.world, Some("health"));
        assert_eq!(i.package.as_deref(), Some("baton:policy@0.1.1"));
        assert!(i.exports.iter().any(|e| e == "check"), "{:?}", i.exports);
        assert!(
            i.imports.iter().any(|e| e.starts_with("baton:policy/probe@")),
            "{:?}",
            i.imports
        );
        assert!(i.producers.contains_key("processed-by"), "{:?}", i.producers);
        assert_eq!(i.sha256, sha256(bytes));
        let text = i.to_string();
        assert!(
            text.contains("world:      health of baton:policy@0.1.1"),
            "{text}"
        );
    }

    #[test]
    fn a_split_brain_policy_is_told_apart() {
        let bytes = baton_policy_builtins::builtin("split-brain-arp").expect("builtin");
        assert_eq!(inspect(bytes).unwrap().world, Some("split-brain"));
    }

    #[test]
    fn a_core_module_is_no_component() {
        let e = inspect(b"\0asm\x01\0\0\0").unwrap_err();
        assert!(e.contains("core module"), "{e}");
        assert!(inspect(b"nonsense").is_err());
    }
}
