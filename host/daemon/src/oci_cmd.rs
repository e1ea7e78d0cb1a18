//! `baton policy push`, `pull` and `inspect`: policies in OCI registries
//! (baton-oci), from the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use baton_oci::{Cache, OciRef, Resolver, Source, Transport, component, digest_string};

/// How the CLI reaches a registry and where it caches.
#[derive(clap::Args, Debug, Clone)]
pub struct RegistryArgs {
    /// The policy cache (a config's `policy_cache`).
    #[arg(long, value_name = "DIR", default_value = baton_config::DEFAULT_POLICY_CACHE)]
    pub cache: PathBuf,
    /// Speak plain HTTP to the registry (as a config's `insecure_registries`).
    #[arg(long)]
    pub insecure: bool,
}

impl RegistryArgs {
    pub fn resolver(&self) -> Resolver {
        Resolver::new(
            Cache::new(&self.cache),
            Transport {
                insecure: Vec::new(),
                all_insecure: self.insecure,
            },
        )
    }
}

/// `baton policy push FILE oci://HOST/REPO:TAG`.
#[derive(clap::Args, Debug)]
pub struct PushArgs {
    /// The component (.wasm).
    pub file: PathBuf,
    /// Where to push it: oci://HOST[:PORT]/REPO:TAG.
    pub reference: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `baton policy pull REF`.
#[derive(clap::Args, Debug)]
pub struct PullArgs {
    /// oci://HOST[:PORT]/REPO@sha256:DIGEST, or REPO:TAG.
    pub reference: String,
    /// The digest the component must have (with a tag).
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `baton policy inspect FILE|REF`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// A component file, builtin:NAME, or an oci:// reference.
    pub policy: String,
    /// The digest the component must have (with a tag).
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

fn fail(cmd: &str, msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("baton policy {cmd}: {msg}");
    ExitCode::from(2)
}

fn parse_ref(s: &str) -> Result<OciRef, String> {
    OciRef::parse(s)
}

fn parse_pin(s: Option<&str>) -> Result<Option<[u8; 32]>, String> {
    s.map(|h| baton_config::parse_sha256(h.strip_prefix("sha256:").unwrap_or(h)))
        .transpose()
        .map_err(|e| format!("--sha256: {e}"))
}

/// Pushes a component; prints the reference by digest to put in a config.
pub fn push_command(a: &PushArgs) -> ExitCode {
    let r = match parse_ref(&a.reference) {
        Ok(r) => r,
        Err(e) => return fail("push", e),
    };
    let wasm = match std::fs::read(&a.file) {
        Ok(b) => b,
        Err(e) => return fail("push", format!("reading {}: {e}", a.file.display())),
    };
    match a.registry.resolver().push(&r, &wasm) {
        Ok(p) => {
            println!("{}", p.reference);
            eprintln!(
                "pushed {} ({} bytes) to {r}; manifest {}",
                a.file.display(),
                wasm.len(),
                p.manifest_digest
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail("push", e),
    }
}

/// Pulls into the cache; prints the reference by digest and the cached path.
pub fn pull_command(a: &PullArgs) -> ExitCode {
    let r = match parse_ref(&a.reference) {
        Ok(r) => r,
        Err(e) => return fail("pull", e),
    };
    let pin = match parse_pin(a.sha256.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail("pull", e),
    };
    match a.registry.resolver().resolve(&r, pin) {
        Ok(got) => {
            println!("{}", r.at_digest(got.digest));
            println!("{}", got.path.display());
            let from = match got.source {
                Source::Cache => "already cached",
                Source::Registry => "pulled from the registry",
            };
            eprintln!(
                "{} ({} bytes): {from}",
                digest_string(&got.digest),
                got.bytes.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail("pull", e),
    }
}

/// Prints what a component says about itself.
pub fn inspect_command(a: &InspectArgs) -> ExitCode {
    let (label, bytes) = match policy_arg(&a.policy, a.sha256.as_deref(), &a.registry) {
        Ok(x) => x,
        Err(e) => return fail("inspect", e),
    };
    match component::inspect(&bytes) {
        Ok(i) => {
            println!("policy:     {label}");
            print!("{i}");
            ExitCode::SUCCESS
        }
        Err(e) => fail("inspect", format!("{label}: {e}")),
    }
}

/// The bytes a policy argument names: `builtin:NAME`, an `oci://`
/// reference (resolved through the cache), or a file.
pub fn policy_arg(policy: &str, pin: Option<&str>, reg: &RegistryArgs) -> Result<(String, Vec<u8>), String> {
    if let Some(name) = policy.strip_prefix("builtin:") {
        return baton_policy_builtins::builtin(name)
            .map(|b| (policy.to_string(), b.to_vec()))
            .ok_or_else(|| {
                format!(
                    "no builtin policy `{name}` (available: {})",
                    baton_policy_builtins::NAMES.join(", ")
                )
            });
    }
    if policy.starts_with(OciRef::SCHEME) {
        let r = parse_ref(policy)?;
        let pin = parse_pin(pin)?;
        let got = reg.resolver().resolve(&r, pin).map_err(|e| e.to_string())?;
        return Ok((r.at_digest(got.digest).to_string(), got.bytes));
    }
    std::fs::read(Path::new(policy))
        .map(|b| (policy.to_string(), b))
        .map_err(|e| format!("reading {policy}: {e}"))
}
