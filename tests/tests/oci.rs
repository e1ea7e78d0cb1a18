//! End to end: policies shared through a real OCI registry (Debian's
//! docker-registry, started by each test on 127.0.0.1 at a free port with
//! storage of its own; nothing else is contacted).
//!
//! - `push_then_pull_by_digest_gives_the_same_bytes`: `baton policy push`
//!   prints the reference by digest (the component's sha256); `baton policy
//!   pull` of it into an empty cache gives the same bytes, a second pull
//!   does not ask the registry.
//! - `a_config_naming_a_digest_loads_and_runs`: `baton check` passes a
//!   config whose policy is `oci://127.0.0.1:PORT/...@sha256:...`; the
//!   daemon's loading path loads it (pulling it into `policy_cache`), and
//!   `baton policy test` of the reference runs it: healthy.
//! - `a_warm_cache_starts_without_the_registry`: the registry stopped, the
//!   same config still loads and the policy runs, from the cache.
//! - `a_cold_cache_without_the_registry_is_a_clear_error`: the loading
//!   error and `baton run`'s exit say the registry is unreachable and no
//!   copy is cached.
//! - `another_component_under_the_pinned_tag_is_refused`: the tag now
//!   names another component; a config (and `baton policy pull`) naming the
//!   tag with the old pin is refused with the mismatch, nothing cached.
//! - `a_corrupted_blob_is_refused`: the blob's bytes changed in the
//!   registry's storage; a pull by digest is refused, nothing cached.
//! - `inspect_shows_world_imports_and_producers`: `baton policy inspect` of
//!   a file and of a reference.
//!
//! Without docker-registry these print SKIPPED and pass, except under
//! CI=true where they fail (scripts/setup installs it).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use baton_e2e::registry::Registry;
use baton_e2e::{baton_bin, note};
use baton_policy::PolicyEngine;

/// The component the tests push: builtin tcp-port, as a file.
const POLICY: &str = "tcp-port";

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn baton(args: &[&str]) -> Out {
    let out = Command::new(baton_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running baton");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    baton_oci::hex(&baton_oci::sha256(bytes))
}

/// A builtin's component written to `dir/NAME.wasm`.
fn component(dir: &Path, name: &str) -> (PathBuf, Vec<u8>) {
    let bytes = baton_policy_builtins::builtin(name).expect("builtin").to_vec();
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, &bytes).expect("write component");
    (path, bytes)
}

/// `baton policy push FILE oci://ADDR/REPO:TAG`; the reference by digest it printed.
fn push(reg: &Registry, file: &Path, repo_tag: &str) -> String {
    let to = format!("oci://{}/{repo_tag}", reg.addr());
    let t0 = Instant::now();
    let out = baton(&["policy", "push", &file.to_string_lossy(), &to, "--insecure"]);
    assert_eq!(out.code, Some(0), "push: {}{}", out.stdout, out.stderr);
    note(&format!("baton policy push {to}: {:?}", t0.elapsed()));
    out.stdout.lines().next().unwrap_or_default().to_string()
}

/// A health target that is up: a listener of the test's.
fn target() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = l.local_addr().expect("addr").port();
    (l, port)
}

/// A daemon config tracking the component at `source` (with `extra` policy
/// lines), its cache in `dir/cache`.
fn write_config(dir: &Path, reg: &Registry, source: &str, extra: &str, port: u16) -> PathBuf {
    let path = dir.join("baton.toml");
    std::fs::write(
        &path,
        format!(
            "policy_cache = \"cache\"\n\
             insecure_registries = [\"{addr}\"]\n\
             socket = \"baton.sock\"\n\
             [[policy]]\n\
             name = \"port\"\n\
             source = \"{source}\"\n\
             {extra}\n\
             config = {{ host = \"127.0.0.1\", port = {port} }}\n\
             allow = [\"127.0.0.1:{port}\"]\n\
             [[instance]]\n\
             name = \"VI_1\"\n\
             interface = \"bt-oci-none0\"\n\
             vrid = 50\n\
             vips = [\"192.0.2.3\"]\n\
             [[instance.track]]\n\
             policy = \"port\"\n",
            addr = reg.addr()
        ),
    )
    .expect("write config");
    path
}

/// What the daemon does first at start and at each reload: load every component.
fn load(config: &Path) -> Result<Duration, String> {
    let cfg = baton::config::load(config).map_err(|d| format!("{d:?}"))?;
    let engine = PolicyEngine::new().map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let c = baton::checks::load_components(&engine, &cfg)?;
    assert_eq!(c.policies.len(), 1);
    Ok(t0.elapsed())
}

/// `baton policy test REF` against the up target.
fn policy_test(reference: &str, cache: &Path, port: u16) -> Out {
    baton(&[
        "policy",
        "test",
        reference,
        "--cache",
        &cache.to_string_lossy(),
        "--insecure",
        "--config",
        "host=127.0.0.1",
        "--config",
        &format!("port={port}"),
        "--allow",
        &format!("127.0.0.1:{port}"),
    ])
}

fn cached_files(cache: &Path) -> Vec<String> {
    std::fs::read_dir(cache.join("sha256"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn push_then_pull_by_digest_gives_the_same_bytes() {
    let Some(reg) = Registry::start("push_then_pull_by_digest_gives_the_same_bytes") else {
        return;
    };
    let (file, bytes) = component(reg.dir(), POLICY);
    let reference = push(&reg, &file, "baton/tcp-port:1");
    let hex = sha256_hex(&bytes);
    assert_eq!(
        reference,
        format!("oci://{}/baton/tcp-port@sha256:{hex}", reg.addr())
    );
    let cache = reg.dir().join("cache");
    let cache_s = cache.to_string_lossy().into_owned();
    let t0 = Instant::now();
    let out = baton(&["policy", "pull", &reference, "--cache", &cache_s, "--insecure"]);
    let pull_time = t0.elapsed();
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], reference);
    let path = cache.join("sha256").join(format!("{hex}.wasm"));
    assert_eq!(Path::new(lines[1]), path);
    assert_eq!(std::fs::read(&path).expect("cached"), bytes);
    assert!(out.stderr.contains("pulled from the registry"), "{}", out.stderr);
    // By tag, unpinned: the same digest.
    let tag = format!("oci://{}/baton/tcp-port:1", reg.addr());
    let out = baton(&["policy", "pull", &tag, "--cache", &cache_s, "--insecure"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout.lines().next(), Some(reference.as_str()));
    // Again by digest: from the cache.
    let out = baton(&["policy", "pull", &reference, "--cache", &cache_s, "--insecure"]);
    assert!(out.stderr.contains("already cached"), "{}", out.stderr);
    note(&format!(
        "baton policy pull by digest ({} bytes, cold cache): {pull_time:?}",
        bytes.len()
    ));
}

#[test]
fn a_config_naming_a_digest_loads_and_runs() {
    let Some(reg) = Registry::start("a_config_naming_a_digest_loads_and_runs") else {
        return;
    };
    let (file, _) = component(reg.dir(), POLICY);
    let reference = push(&reg, &file, "baton/tcp-port:1");
    let (_up, port) = target();
    let config = write_config(reg.dir(), &reg, &reference, "", port);
    let out = baton(&["check", &config.to_string_lossy()]);
    assert_eq!(out.code, Some(0), "baton check: {}{}", out.stdout, out.stderr);
    let took = load(&config).expect("the config's policy loads");
    note(&format!(
        "daemon load of {reference} (cold cache, pulled): {took:?}"
    ));
    assert_eq!(cached_files(&reg.dir().join("cache")).len(), 1);
    let out = policy_test(&reference, &reg.dir().join("cache"), port);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("decision:     healthy"), "{}", out.stdout);
    assert!(out.stdout.contains(&reference), "{}", out.stdout);
}

#[test]
fn a_warm_cache_starts_without_the_registry() {
    let Some(mut reg) = Registry::start("a_warm_cache_starts_without_the_registry") else {
        return;
    };
    let (file, _) = component(reg.dir(), POLICY);
    let reference = push(&reg, &file, "baton/tcp-port:1");
    let (_up, port) = target();
    let config = write_config(reg.dir(), &reg, &reference, "", port);
    load(&config).expect("loads with the registry up");
    reg.stop();
    let took = load(&config).expect("loads from the cache with the registry down");
    note(&format!(
        "daemon load with the registry down (warm cache): {took:?}"
    ));
    let out = policy_test(&reference, &reg.dir().join("cache"), port);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("decision:     healthy"), "{}", out.stdout);
    // A tag pinned to the cached digest resolves offline too.
    let tag = format!("oci://{}/baton/tcp-port:1", reg.addr());
    let hex = reference.rsplit(':').next().unwrap_or_default().to_string();
    let config = write_config(reg.dir(), &reg, &tag, &format!("sha256 = \"{hex}\""), port);
    load(&config).expect("a pinned tag loads from the cache");
}

#[test]
fn a_cold_cache_without_the_registry_is_a_clear_error() {
    let Some(mut reg) = Registry::start("a_cold_cache_without_the_registry_is_a_clear_error") else {
        return;
    };
    let (file, bytes) = component(reg.dir(), POLICY);
    let reference = push(&reg, &file, "baton/tcp-port:1");
    reg.stop();
    let (_up, port) = target();
    let config = write_config(reg.dir(), &reg, &reference, "", port);
    let e = load(&config).expect_err("no registry, no cache");
    let want = format!(
        "policy port: registry unreachable for {reference} ({}: ",
        reg.addr()
    );
    assert!(e.starts_with(&want), "{e}");
    let cache = reg.dir().join("cache");
    assert!(
        e.ends_with(&format!(
            "and no cached copy of sha256:{} in {}",
            sha256_hex(&bytes),
            cache.display()
        )),
        "{e}"
    );
    // The daemon refuses to start with that message (before it touches
    // any interface: policies load first).
    let t0 = Instant::now();
    let out = baton(&["run", "--config", &config.to_string_lossy()]);
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("registry unreachable for"), "{}", out.stderr);
    assert!(
        out.stderr.contains("and no cached copy of sha256:"),
        "{}",
        out.stderr
    );
    note(&format!(
        "baton run, registry down and cold cache: exit 1 after {:?}",
        t0.elapsed()
    ));
    let out = policy_test(&reference, &cache, port);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("registry unreachable"), "{}", out.stderr);
}

#[test]
fn another_component_under_the_pinned_tag_is_refused() {
    let Some(reg) = Registry::start("another_component_under_the_pinned_tag_is_refused") else {
        return;
    };
    let (file, bytes) = component(reg.dir(), POLICY);
    push(&reg, &file, "baton/web:1");
    let (other, other_bytes) = component(reg.dir(), "http-status");
    push(&reg, &other, "baton/web:1");
    let tag = format!("oci://{}/baton/web:1", reg.addr());
    let (_up, port) = target();
    let pin = sha256_hex(&bytes);
    let config = write_config(reg.dir(), &reg, &tag, &format!("sha256 = \"{pin}\""), port);
    let e = load(&config).expect_err("the tag moved");
    let want = format!(
        "policy port: registry served sha256:{} for {tag}, the pin is sha256:{pin}; refused",
        sha256_hex(&other_bytes)
    );
    assert_eq!(e, want);
    assert!(cached_files(&reg.dir().join("cache")).is_empty());
    let out = baton(&[
        "policy",
        "pull",
        &tag,
        "--sha256",
        &pin,
        "--cache",
        &reg.dir().join("cache").to_string_lossy(),
        "--insecure",
    ]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("the pin is sha256:") && out.stderr.contains("refused"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_corrupted_blob_is_refused() {
    let Some(reg) = Registry::start("a_corrupted_blob_is_refused") else {
        return;
    };
    let (file, bytes) = component(reg.dir(), POLICY);
    let reference = push(&reg, &file, "baton/tcp-port:1");
    let hex = sha256_hex(&bytes);
    let blob = reg.blob_path(&hex);
    let mut evil = std::fs::read(&blob).expect("the blob in the registry's storage");
    assert_eq!(evil, bytes);
    let mid = evil.len() / 2;
    evil[mid] ^= 0xff;
    std::fs::write(&blob, &evil).expect("tamper");
    let (_up, port) = target();
    let config = write_config(reg.dir(), &reg, &reference, "", port);
    let e = load(&config).expect_err("tampered");
    assert_eq!(
        e,
        format!(
            "policy port: registry served sha256:{} for {reference}, the pin is sha256:{hex}; refused",
            sha256_hex(&evil)
        )
    );
    assert!(cached_files(&reg.dir().join("cache")).is_empty());
}

#[test]
fn inspect_shows_world_imports_and_producers() {
    let Some(reg) = Registry::start("inspect_shows_world_imports_and_producers") else {
        return;
    };
    let (file, bytes) = component(reg.dir(), "http-status");
    let out = baton(&["policy", "inspect", &file.to_string_lossy()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let text = out.stdout;
    for want in [
        "world:      health of baton:policy@0.1.1".to_string(),
        "exports:    check".to_string(),
        "  baton:policy/probe@0.1.1".to_string(),
        "  wasi:cli/environment@".to_string(),
        format!("size:       {} bytes", bytes.len()),
        format!("sha256:     sha256:{}", sha256_hex(&bytes)),
        "producers:".to_string(),
        "  processed-by: wit-component ".to_string(),
        // The builtins are built stripped of rustc's own section.
        "  language: ".to_string(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }
    note(&format!("baton policy inspect {}:\n{text}", file.display()));
    let reference = push(&reg, &file, "baton/http-status:1");
    let cache = reg.dir().join("cache");
    let out = baton(&[
        "policy",
        "inspect",
        &reference,
        "--cache",
        &cache.to_string_lossy(),
        "--insecure",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!("policy:     {reference}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("world:      health of baton:policy@0.1.1"),
        "{}",
        out.stdout
    );
    // A split-brain policy is told apart; a core module is no policy.
    let out = baton(&["policy", "inspect", "builtin:split-brain-arp"]);
    assert!(
        out.stdout
            .contains("world:      split-brain of baton:policy@0.1.1"),
        "{}",
        out.stdout
    );
    let core = reg.dir().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").expect("write");
    let out = baton(&["policy", "inspect", &core.to_string_lossy()]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("a core module, not a component"),
        "{}",
        out.stderr
    );
    // Nor can it be pushed.
    let out = baton(&[
        "policy",
        "push",
        &core.to_string_lossy(),
        &format!("oci://{}/baton/core:1", reg.addr()),
        "--insecure",
    ]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("is not a WebAssembly policy"),
        "{}",
        out.stderr
    );
}
