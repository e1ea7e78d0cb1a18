//! `baton policy new`: a project made for each language builds with its
//! public toolchain (build.sh, as a user runs it) and passes the scenarios
//! it comes with under `baton policy test --scenario`.

use std::path::PathBuf;
use std::process::Command;

use baton_e2e::{baton_bin, have, note, target_dir};

fn fresh_dir(lang: &str) -> PathBuf {
    let d = target_dir().join(format!("scaffold-test-{lang}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Makes, builds and tests a project in `lang`; `env` is the build's extra
/// environment.
fn made_built_and_passing(lang: &str, env: &[(&str, PathBuf)]) {
    let dir = fresh_dir(lang);
    let name = format!("web-check-{lang}");
    let out = Command::new(baton_bin())
        .args(["policy", "new", &name, "--lang", lang, "--dir"])
        .arg(&dir)
        .output()
        .expect("baton policy new");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let project = dir.join(&name);
    for f in [
        "README.md",
        "build.sh",
        "wit/policy.wit",
        "scenarios/status-503.toml",
    ] {
        assert!(project.join(f).is_file(), "{f} missing");
    }
    // A second time is refused, and writes nothing.
    let again = Command::new(baton_bin())
        .args(["policy", "new", &name, "--lang", lang, "--dir"])
        .arg(&dir)
        .output()
        .expect("baton policy new");
    assert_eq!(again.status.code(), Some(2));
    let t = std::time::Instant::now();
    let mut build = Command::new(project.join("build.sh"));
    for (k, v) in env {
        build.env(k, v);
    }
    let out = build.output().expect("build.sh");
    assert!(
        out.status.success(),
        "build.sh failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let wasm = project.join(format!("{name}.wasm"));
    note(&format!(
        "scaffold {lang}: built {} ({} bytes) in {:?}",
        wasm.display(),
        std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0),
        t.elapsed()
    ));
    let out = Command::new(baton_bin())
        .args(["policy", "test"])
        .arg(&wasm)
        .arg("--scenario")
        .arg(project.join("scenarios"))
        .output()
        .expect("baton policy test");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    let n = std::fs::read_dir(project.join("scenarios"))
        .expect("scenarios")
        .count();
    assert!(n >= 16, "{n} scenarios");
    assert!(report.contains(&format!("{n} passed, 0 failed")), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_new_rust_policy_builds_and_passes_its_scenarios() {
    // Its own target dir, kept between runs: the SDK's dependencies build once.
    made_built_and_passing(
        "rust",
        &[("CARGO_TARGET_DIR", target_dir().join("scaffold-rust"))],
    );
}

/// Whether `program` is installed; without it a scaffold test skips loudly,
/// except under `CI=true`, where scripts/setup has installed it.
fn toolchain(program: &str, test: &str) -> bool {
    if have(program) {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: {program} is missing under CI=true (scripts/setup installs it)"
    );
    note(&format!(
        "\n*** SKIPPED (no {program}; run scripts/setup): {test} ***\n"
    ));
    false
}

#[test]
fn a_new_python_policy_builds_with_componentize_py_from_pypi_and_passes_its_scenarios() {
    if toolchain("python3", "scaffold python") {
        made_built_and_passing("python", &[]);
    }
}

#[test]
fn a_new_js_policy_builds_with_componentize_js_from_npm_and_passes_its_scenarios() {
    if toolchain("npm", "scaffold js") {
        made_built_and_passing("js", &[]);
    }
}
