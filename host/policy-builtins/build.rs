//! Builds the reference policies, the split-brain policies and the example
//! hook (the separate cargo workspace `policies/`) for wasm32-wasip2 and
//! generates the tables that embed them.
//!
//! The inner build uses its own target directory (`<target>/policies`, or
//! `$BATON_POLICIES_TARGET_DIR`), so it never waits on the outer build's lock,
//! and `--locked` against `policies/Cargo.lock`; health policies, split-brain
//! policies and hooks are three invocations. It re-runs only when a file under
//! policies/, guest-sdk/ or wit/ changes.

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const TARGET: &str = "wasm32-wasip2";

/// builtin name -> (cargo package, artifact stem): the health policies.
const BUILTINS: &[(&str, &str, &str)] = &[
    ("process-alive", "process-alive", "process_alive"),
    ("tcp-port", "tcp-port", "tcp_port"),
    ("http-status", "http-status", "http_status"),
    ("file", "file", "file"),
    ("interface-up", "interface-up", "interface_up"),
    ("exec", "exec", "exec"),
];

/// The builtins of the `split-brain` world, after [`BUILTINS`] in the
/// config's order (baton-config's `Builtin::ALL`).
const SPLIT_BRAIN: &[(&str, &str, &str)] = &[
    (
        "split-brain-peer-http",
        "split-brain-peer-http",
        "split_brain_peer_http",
    ),
    ("split-brain-arp", "split-brain-arp", "split_brain_arp"),
];

/// Example components of other worlds than `health` (transition hooks):
/// always built, never a `builtin:NAME`.
const EXAMPLES: &[(&str, &str, &str)] = &[("route-alerts", "route-alerts", "route_alerts")];

/// Test-only policies (feature `hostile`).
const HOSTILE: &[(&str, &str, &str)] = &[
    ("infinite-loop", "hostile-infinite-loop", "hostile_infinite_loop"),
    ("memory-bomb", "hostile-memory-bomb", "hostile_memory_bomb"),
    (
        "deep-recursion",
        "hostile-deep-recursion",
        "hostile_deep_recursion",
    ),
    ("panic", "hostile-panic", "hostile_panic"),
    (
        "denied-capability",
        "hostile-denied-capability",
        "hostile_denied_capability",
    ),
    ("huge-log", "hostile-huge-log", "hostile_huge_log"),
    (
        "slow-capability",
        "hostile-slow-capability",
        "hostile_slow_capability",
    ),
    ("std-io", "hostile-std-io", "hostile_std_io"),
    ("sleeper", "hostile-sleeper", "hostile_sleeper"),
    // Not hostile: a guest of baton:policy@0.1.0 as released, which every
    // host of the 0.1 line must keep loading.
    (
        "compat-0.1.0",
        "compat-v0-1-0-http-status",
        "compat_v0_1_0_http_status",
    ),
];

/// Test-only transition hooks (feature `hostile`), apart from [`HOSTILE`] so
/// that every name there stays a loadable health policy.
const HOSTILE_HOOKS: &[(&str, &str, &str)] = &[
    ("hook-loop", "hostile-hook-loop", "hostile_hook_loop"),
    (
        "hook-bad-answer",
        "hostile-hook-bad-answer",
        "hostile_hook_bad_answer",
    ),
];

/// Test-only split-brain policies (feature `hostile`).
const HOSTILE_SPLIT_BRAIN: &[(&str, &str, &str)] =
    &[("brain-loop", "hostile-brain-loop", "hostile_brain_loop")];

/// Cargo settings from the user's environment that the inner build may keep.
const KEEP_CARGO_VARS: &[&str] = &["CARGO_HOME", "CARGO_TERM_COLOR"];
const KEEP_CARGO_PREFIXES: &[&str] = &[
    "CARGO_NET_",
    "CARGO_HTTP_",
    "CARGO_REGISTRIES_",
    "CARGO_REGISTRY_",
];
/// Non-CARGO_ variables the outer build sets that would leak into the inner one.
const DROP_VARS: &[&str] = &[
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "OUT_DIR",
    "TARGET",
    "HOST",
    "PROFILE",
    "OPT_LEVEL",
    "DEBUG",
    "NUM_JOBS",
    "RUSTC_LINKER",
    "MAKEFLAGS",
    "MFLAGS",
];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("../..").canonicalize().expect("workspace root");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let hostile = env::var_os("CARGO_FEATURE_HOSTILE").is_some();

    for dir in ["policies", "guest-sdk", "wit"] {
        watch(&root.join(dir));
    }
    println!("cargo:rerun-if-env-changed=BATON_POLICIES_TARGET_DIR");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    check_target_installed(&rustc);

    let target_dir = match env::var_os("BATON_POLICIES_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => match env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => root.join(dir).join("policies"),
            None => root.join("target").join("policies"),
        },
    };

    // Health policies, split-brain policies and hooks in three invocations:
    // in one, baton-guest's features would unify and every component would
    // import the other worlds' types (its features `brain` and `hook`).
    let health: Vec<_> = BUILTINS
        .iter()
        .chain(if hostile { HOSTILE } else { &[] })
        .collect();
    let brains: Vec<_> = SPLIT_BRAIN
        .iter()
        .chain(if hostile { HOSTILE_SPLIT_BRAIN } else { &[] })
        .collect();
    let hooks: Vec<_> = EXAMPLES
        .iter()
        .chain(if hostile { HOSTILE_HOOKS } else { &[] })
        .collect();
    let started = Instant::now();
    for wanted in [&health, &brains, &hooks] {
        build_policies(&root, &target_dir, wanted);
    }
    let built_in = started.elapsed();

    let artifacts = target_dir.join(TARGET).join("release");
    let mut sizes = format!("inner build: {:.1} s\n", built_in.as_secs_f64());
    let mut table = |list: &[(&str, &str, &str)], names_doc: &str, names_const: &str, table_static: &str| {
        let mut code = format!("/// {names_doc}\npub const {names_const}: &[&str] = &[");
        for (name, _, _) in list {
            code.push_str(&format!("{name:?}, "));
        }
        code.push_str(&format!("];\n\nstatic {table_static}: &[(&str, &[u8])] = &[\n"));
        for (name, package, stem) in list {
            let built = artifacts.join(format!("{stem}.wasm"));
            let bytes = fs::read(&built)
                .unwrap_or_else(|e| panic!("policy {package}: no artifact {}: {e}", built.display()));
            let copy = out_dir.join(format!("{name}.wasm"));
            write_if_changed(&copy, &bytes);
            sizes.push_str(&format!("{name}: {} bytes\n", bytes.len()));
            code.push_str(&format!(
                "    ({name:?}, include_bytes!({:?})),\n",
                copy.display().to_string()
            ));
        }
        code.push_str("];\n");
        code
    };
    let every: Vec<_> = BUILTINS.iter().chain(SPLIT_BRAIN).copied().collect();
    let mut builtins = table(
        &every,
        "Names, as in `builtin:NAME`: the health policies, then the split-brain policies.",
        "NAMES",
        "BUILTINS",
    );
    for (list, doc, name) in [
        (BUILTINS, "Names of the builtin health policies.", "HEALTH_NAMES"),
        (
            SPLIT_BRAIN,
            "Names of the builtin split-brain policies.",
            "SPLIT_BRAIN_NAMES",
        ),
    ] {
        let names: Vec<String> = list.iter().map(|(n, _, _)| format!("{n:?}")).collect();
        builtins.push_str(&format!(
            "\n/// {doc}\npub const {name}: &[&str] = &[{}];\n",
            names.join(", ")
        ));
    }
    write_if_changed(&out_dir.join("builtins.rs"), builtins.as_bytes());
    let examples = table(
        EXAMPLES,
        "Names of the example components (transition hooks).",
        "EXAMPLE_NAMES",
        "EXAMPLES",
    );
    write_if_changed(&out_dir.join("examples.rs"), examples.as_bytes());
    if hostile {
        let mut hostile = table(
            HOSTILE,
            "Names of the hostile health policies.",
            "HOSTILE_NAMES",
            "HOSTILE",
        );
        hostile.push('\n');
        hostile.push_str(&table(
            HOSTILE_HOOKS,
            "Names of the hostile transition hooks.",
            "HOSTILE_HOOK_NAMES",
            "HOSTILE_HOOKS",
        ));
        hostile.push('\n');
        hostile.push_str(&table(
            HOSTILE_SPLIT_BRAIN,
            "Names of the hostile split-brain policies.",
            "HOSTILE_SPLIT_BRAIN_NAMES",
            "HOSTILE_SPLIT_BRAIN",
        ));
        write_if_changed(&out_dir.join("hostile.rs"), hostile.as_bytes());
    }
    write_if_changed(&out_dir.join("sizes.txt"), sizes.as_bytes());
}

/// Builds `wanted` (name, package, stem) of the policies workspace into `target_dir`.
fn build_policies(root: &Path, target_dir: &Path, wanted: &[&(&str, &str, &str)]) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args([
        "build",
        "--release",
        "--locked",
        "--target",
        TARGET,
        "--manifest-path",
    ])
    .arg(root.join("policies/Cargo.toml"))
    .arg("--target-dir")
    .arg(target_dir);
    for (_, package, _) in wanted {
        cmd.args(["-p", package]);
    }
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let keep_cargo =
            KEEP_CARGO_VARS.contains(&key) || KEEP_CARGO_PREFIXES.iter().any(|p| key.starts_with(p));
        if (key.starts_with("CARGO_") && !keep_cargo) || key == "CARGO" || DROP_VARS.contains(&key) {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(root.join("policies")).stdin(Stdio::null());

    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo:?}: {e}"));
    if !output.status.success() {
        fail(&format!(
            "building the policies workspace for {TARGET} failed ({}):\n{:?}\n{}{}",
            output.status,
            cmd,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        ));
    }
}

/// Fails with a clear message when the wasm32-wasip2 standard library is not
/// installed for this toolchain.
fn check_target_installed(rustc: &OsStr) {
    let libdir = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = libdir
        .as_deref()
        .and_then(|dir| fs::read_dir(dir).ok())
        .is_some_and(|mut entries| {
            entries.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
        });
    if !installed {
        fail(&format!(
            "the Rust target {TARGET} is not installed for this toolchain ({rustc:?}).\n\
             Run scripts/setup (it runs `rustup target add {TARGET}`), then build again."
        ));
    }
}

/// Emits rerun-if-changed for every file under `dir`, skipping `target`
/// directories and dotfiles (a policies/target from a manual build must not
/// trigger rebuilds).
fn watch(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name == "target" || (name.to_string_lossy().starts_with('.') && name != ".cargo") {
            continue;
        }
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            watch(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

fn write_if_changed(path: &Path, bytes: &[u8]) {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Stops the build with `message` (no panic backtrace to wade through).
fn fail(message: &str) -> ! {
    eprintln!("\nerror: baton-policy-builtins: {message}\n");
    std::process::exit(1);
}
