//! The conformance suite: the same scenario files (policies/conformance/NAME)
//! run with `baton policy test --scenario` against every version of a
//! reference policy, in the real host with scripted capability answers. The
//! Rust builtins here; the Python and JavaScript versions, built from source
//! by scripts/guest-build-python and scripts/guest-build-js, beside them.

use std::path::PathBuf;
use std::process::Command;

use baton_e2e::{baton_bin, note, workspace_root};

const POLICIES: [&str; 3] = ["http-status", "tcp-port", "process-alive"];

/// Runs NAME's scenarios against `policy` (builtin:NAME or a file); panics
/// with the report unless every one passed.
fn conform(name: &str, policy: &str) {
    let dir = workspace_root().join("policies/conformance").join(name);
    let out = Command::new(baton_bin())
        .args(["policy", "test", policy, "--scenario"])
        .arg(&dir)
        .output()
        .expect("running baton policy test");
    let report = String::from_utf8_lossy(&out.stdout);
    note(&format!(
        "conformance {name} ({policy}): {}",
        report.lines().last().unwrap_or("")
    ));
    assert!(
        out.status.success(),
        "{policy} against {}:\n{report}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let passed = report.lines().filter(|l| l.starts_with("ok ")).count();
    assert!(passed >= 3, "only {passed} scenarios for {name}:\n{report}");
}

#[test]
fn the_rust_reference_policies_pass_their_scenarios() {
    for name in POLICIES {
        conform(name, &format!("builtin:{name}"));
    }
}

/// The Python and JavaScript versions, built from source, against the
/// same scenarios.
fn guest_conforms(lang: &str, test: &str) {
    for name in POLICIES {
        let Some(wasm) = baton_e2e::guest_policy(lang, name, test) else {
            return;
        };
        conform(name, &wasm.display().to_string());
    }
}

#[test]
fn the_python_reference_policies_pass_the_same_scenarios() {
    guest_conforms("python", "the_python_reference_policies_pass_the_same_scenarios");
}

#[test]
fn the_js_reference_policies_pass_the_same_scenarios() {
    guest_conforms("js", "the_js_reference_policies_pass_the_same_scenarios");
}

/// A scenario that expects the wrong thing fails, and says what differed.
#[test]
fn a_wrong_expectation_fails_and_says_why() {
    let dir = tempdir();
    let path = dir.join("wrong.toml");
    std::fs::write(
        &path,
        r#"
[settings]
url = "http://192.0.2.11/health"
[[http_get]]
url = "http://192.0.2.11/health"
status = 503
[expect]
healthy = true
"#,
    )
    .expect("write scenario");
    let out = Command::new(baton_bin())
        .args(["policy", "test", "builtin:http-status", "--scenario"])
        .arg(&path)
        .output()
        .expect("running baton policy test");
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("healthy = false, expected true") && report.contains("status 503 (expected 200)"),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
