//! Helpers shared by Baton's end-to-end tests and benchmarks: the root gate
//! and the path of the `baton` binary here; the daemon in a lab host
//! ([`baton`]); what the daemon scenarios share ([`scenario`]); forged
//! adverts ([`inject`]); the benchmarks' daemon under test ([`bench`]); the
//! SMTP and webhook servers of the notification tests ([`servers`]); an OCI
//! registry of its own ([`registry`]). The
//! lab itself is the baton-lab crate.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The cargo target directory: `CARGO_TARGET_DIR` if set, else `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                workspace_root().join(d)
            }
        }
        None => workspace_root().join("target"),
    }
}

/// The `baton` binary: `BATON_BIN` if set, else built once per process with
/// `cargo build -p baton --bin baton` and taken from `<target>/debug/baton`.
///
/// # Panics
/// If the build fails.
pub fn baton_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("BATON_BIN") {
            return PathBuf::from(p);
        }
        cargo_build(&["-p", "baton", "--bin", "baton"]);
        let bin = target_dir().join("debug").join("baton");
        assert!(bin.exists(), "{} does not exist after the build", bin.display());
        bin
    })
    .clone()
}

/// `cargo build ARGS` in the workspace, with the cargo that runs the tests.
///
/// # Panics
/// If the build fails.
fn cargo_build(args: &[&str]) {
    let cargo = std::env::var_os("CARGO")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("cargo"));
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .arg("build")
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("running cargo build {}: {e}", args.join(" ")));
    assert!(
        status.success(),
        "cargo build {} failed: {status}",
        args.join(" ")
    );
}

/// The directory of the lab's helper programs (`baton-lab-init`,
/// `baton-lab-httpd`), for [`baton_lab::LabSpec::isolated`]:
/// `BATON_LAB_HELPERS` if set, else built once per process with `cargo build
/// -p baton-lab --bins` and taken from `<target>/debug`.
///
/// # Panics
/// If the build fails.
pub fn lab_helpers() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(p) = std::env::var_os("BATON_LAB_HELPERS") {
            return PathBuf::from(p);
        }
        cargo_build(&["-p", "baton-lab", "--bins"]);
        let dir = target_dir().join("debug");
        for bin in ["baton-lab-init", "baton-lab-httpd"] {
            assert!(
                dir.join(bin).exists(),
                "{} does not exist after the build",
                dir.join(bin).display()
            );
        }
        dir
    })
    .clone()
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Gate for tests that need root (namespaces, nftables, keepalived): true if
/// root. Otherwise, under `CI=true` it panics (CI must run them); elsewhere it
/// prints a loud SKIPPED line to stderr and returns false, and the test
/// should return.
pub fn require_root(test: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: needs root, and CI=true: end-to-end tests must run in CI");
    }
    // Straight to the process's stderr: eprintln! would be captured by the test harness.
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED (needs root): {test} ***\n");
    false
}

/// Prints a line straight to the process's stderr, past the test harness's
/// capture, so measured numbers show in a plain `cargo test` run.
pub fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// Whether `program` is on PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
        || Path::new("/usr/sbin").join(program).is_file()
}

pub use baton_lab::{GapMeasurement, measure_gap};

/// The value after `--name` on a benchmark's command line, parsed.
pub fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

pub mod baton;
pub mod bench;
pub mod inject;
pub mod registry;
pub mod scenario;
pub mod servers;

/// A reference policy in another language (`python`, `js`) built from
/// source by `scripts/guest-build-LANG NAME` into
/// `<target>/guest-policies/LANG/NAME.wasm`. None, after a loud SKIPPED
/// line, when that language's toolchain is not installed (scripts/setup
/// installs it); under `CI=true` that is a failure instead.
///
/// # Panics
/// If the build fails, or the toolchain is missing under `CI=true`.
pub fn guest_policy(lang: &str, name: &str, test: &str) -> Option<PathBuf> {
    let root = workspace_root();
    let tool = match lang {
        "python" => root.join(".tools/python/bin/componentize-py"),
        _ => root.join(".tools/node/node_modules/.bin/componentize-js"),
    };
    if !tool.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: {} is missing under CI=true (scripts/setup installs it)",
            tool.display()
        );
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED (no {lang} toolchain at {}; run scripts/setup): {test} ***\n",
            tool.display()
        );
        return None;
    }
    let out = Command::new(root.join(format!("scripts/guest-build-{lang}")))
        .arg(name)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap_or_else(|e| panic!("scripts/guest-build-{lang}: {e}"));
    assert!(
        out.status.success(),
        "scripts/guest-build-{lang} {name} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let wasm = target_dir().join(format!("guest-policies/{lang}/{name}.wasm"));
    assert!(wasm.is_file(), "{} was not built", wasm.display());
    Some(wasm)
}

/// Compiles `wasm` into the daemon's compile cache (`baton policy test`
/// loads it; its verdict does not matter), so that a daemon started next
/// loads it from the cache: a Python or JavaScript component's first compile
/// takes longer than a daemon start is given.
///
/// # Panics
/// If the policy does not load (exit status 2).
pub fn warm_compile_cache(wasm: &Path) {
    let out = Command::new(baton_bin())
        .args(["policy", "test"])
        .arg(wasm)
        .output()
        .unwrap_or_else(|e| panic!("baton policy test {}: {e}", wasm.display()));
    assert_ne!(
        out.status.code(),
        Some(2),
        "{} does not load:\n{}{}",
        wasm.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
